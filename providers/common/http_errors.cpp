#include "providers/common/http_errors.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <ctime>

#include "berth/common/redact.h"
#include "berth/common/text.h"
#include "berth/http/http.h"
#include "http/http_retry.h"

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
  // The client's own reading (src/http/http_retry.h): seconds or any of the three
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

namespace {

// The text between <tag ...> and </tag>, its own tags dropped and its
// whitespace collapsed; empty when there is none.
std::string element_text(const std::string& body, const std::string& lowered,
                         const std::string& tag) {
  std::size_t open = lowered.find("<" + tag);
  while (open != std::string::npos) {
    const char next = open + 1 + tag.size() < lowered.size() ? lowered[open + 1 + tag.size()] : 0;
    if (next == '>' || next == ' ' || next == '\t' || next == '\n') break;
    open = lowered.find("<" + tag, open + 1);
  }
  if (open == std::string::npos) return "";
  const std::size_t start = lowered.find('>', open);
  if (start == std::string::npos) return "";
  std::size_t end = lowered.find("</" + tag, start);
  if (end == std::string::npos) end = std::min(body.size(), start + 1 + 1024);
  std::string text;
  bool in_tag = false, space = false;
  for (std::size_t i = start + 1; i < end; ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    if (c == '<') in_tag = true;
    if (in_tag) {
      if (c == '>') in_tag = false;
      continue;
    }
    if (std::isspace(c) || c < 0x20 || c == 0x7f) {
      space = !text.empty();
      continue;
    }
    if (space) text += ' ';
    space = false;
    text += static_cast<char>(c);
  }
  return text;
}

}  // namespace

bool looks_like_html(const std::string& body) {
  std::size_t i = 0;
  while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
  const std::string head = ascii_lower(std::string_view(body).substr(i, 512));
  return head.rfind("<!doctype html", 0) == 0 || head.rfind("<html", 0) == 0 ||
         (head.rfind("<", 0) == 0 && head.find("<html") != std::string::npos);
}

std::string html_summary(const std::string& body, std::size_t limit) {
  // The head of a page is enough to find its title (and the first heading).
  const std::string part = body.substr(0, 64u << 10);
  const std::string lowered = ascii_lower(part);
  std::string what = element_text(part, lowered, "title");
  if (what.empty()) what = element_text(part, lowered, "h1");
  what = redact(std::move(what), {});
  if (what.size() > limit) what = what.substr(0, limit) + "...";
  return what.empty() ? "an HTML page" : "an HTML page: " + what;
}

std::string excerpt(const std::string& body, std::size_t limit) {
  // An error page of a proxy or load balancer is summed up, never pasted.
  if (looks_like_html(body)) return html_summary(body, limit);
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
