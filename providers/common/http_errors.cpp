#include "providers/common/http_errors.h"

#include <cctype>
#include <ctime>

#include "berth/http.h"
#include "http_retry.h"

namespace berth::http_errors {

ProviderError from_failure(const HttpFailure& failure) {
  ProviderError e;
  e.message = failure.message.empty() ? "request failed" : failure.message;
  switch (failure.kind) {
    case HttpFailure::Kind::kTooLarge:
      e.kind = ProviderError::Kind::kBadResponse;
      break;
    default:
      e.kind = ProviderError::Kind::kTransient;
      break;
  }
  return e;
}

std::optional<std::chrono::milliseconds> retry_after(const HttpResponse& response) {
  // The client's own reading (src/http_retry.h): seconds or any of the three
  // date forms, a day at the most, whatever the year.
  return http_retry::parse_retry_after(response.header("retry-after"),
                                       std::chrono::system_clock::now());
}

ProviderError from_status(const HttpResponse& response, std::string message) {
  ProviderError e;
  message = redact(std::move(message), {});  // the provider's words: remote text
  long s = response.status;
  if (message.empty())
    message = "HTTP " + std::to_string(s);
  else
    message += " (HTTP " + std::to_string(s) + ")";
  e.message = std::move(message);
  e.http_status = s;
  if (s == 401 || s == 403)
    e.kind = ProviderError::Kind::kAuth;
  else if (s == 404 || s == 410)
    e.kind = ProviderError::Kind::kNotFound;
  else if (s == 429) {
    e.kind = ProviderError::Kind::kRateLimited;
    e.retry_after = retry_after(response);
  } else if (s >= 500 && s <= 599)
    e.kind = ProviderError::Kind::kTransient;
  else if (s >= 400 && s <= 499)
    e.kind = ProviderError::Kind::kInvalidRequest;
  else
    e.kind = ProviderError::Kind::kBadResponse;
  return e;
}

ProviderError with_kind(ProviderError::Kind kind, const std::string& message,
                        const HttpResponse& response) {
  return {kind, redact(message, {}) + " (HTTP " + std::to_string(response.status) + ")",
          std::nullopt, response.status};
}

std::string excerpt(const std::string& body, std::size_t limit) {
  // Redacted before it is cut: a credential cut in half would no longer
  // look like one.
  std::string head = body.substr(0, limit * 4);
  for (auto& c : head) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  head = redact(std::move(head), {});  // a body may echo a credential back
  if (head.size() <= limit && body.size() <= limit * 4) return head;
  return head.substr(0, limit) + "...";
}

ProviderError bad_response(std::string what, const HttpResponse& response) {
  ProviderError e;
  e.kind = ProviderError::Kind::kBadResponse;
  e.message = "unexpected response (HTTP " + std::to_string(response.status) + "): " + what;
  if (!response.body.empty()) e.message += ": " + excerpt(response.body);
  return e;
}

bool is_success(const HttpResponse& response) {
  return response.status >= 200 && response.status <= 299;
}

}  // namespace berth::http_errors
