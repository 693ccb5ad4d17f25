// What an HTTP exchange means when a provider's own dialect says nothing more:
// transport failures, status classes, Retry-After. Adapters check their API's
// error codes first and fall back to these.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "berth/http/http.h"
#include "berth/provider/provider.h"

namespace berth::http_errors {

/// Connection refused, timeouts, TLS: the request may never have reached the
/// provider, so the core may try again (transient); an oversized answer is a
/// response we cannot use (bad-response).
ProviderError from_failure(const HttpFailure& failure);

/// Seconds ("120") or an HTTP date, at most a day; nullopt when absent or
/// unreadable.
std::optional<std::chrono::milliseconds> retry_after(const HttpResponse& response);

/// By status alone: 401/403 auth, 404/410 not-found, 429 rate-limited (with
/// Retry-After), 5xx transient, other 4xx invalid-request, anything else
/// bad-response. `message` is what the provider said, if anything. Here and
/// in with_kind and excerpt, the provider's words pass through redact():
/// whatever in them looks like a credential never reaches a message.
ProviderError from_status(const HttpResponse& response, std::string message);

/// What an adapter decided from its API's own error envelope: `kind`, with
/// the provider's words and the status ("no_such_ask (HTTP 410)").
ProviderError with_kind(ProviderError::Kind kind, const std::string& message,
                        const HttpResponse& response);

/// The start of a body on one line, for messages about answers we could not
/// read (never the whole body: it may be megabytes). An HTML page (a proxy's
/// or load balancer's error page) is summed up as html_summary does instead.
std::string excerpt(const std::string& body, std::size_t limit = 160);

/// Whether a body is an HTML page (<!DOCTYPE html>, <html ...>).
bool looks_like_html(const std::string& body);
/// "an HTML page: 503 Service Temporarily Unavailable": the page's <title>,
/// else its first <h1>, as one line of at most `limit` bytes, redacted.
std::string html_summary(const std::string& body, std::size_t limit = 160);

ProviderError bad_response(std::string what, const HttpResponse& response);

bool is_success(const HttpResponse& response);

}  // namespace berth::http_errors
