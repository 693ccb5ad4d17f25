#include "http/http_retry.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <string>

#include "berth/common/text.h"

namespace berth::http_retry {

bool should_retry(Outcome outcome, bool idempotent) {
  switch (outcome) {
    case Outcome::kRateLimited:
    case Outcome::kNotConnected:
      return true;
    case Outcome::kServerError:
    case Outcome::kTimedOut:
      return idempotent;
    case Outcome::kSuccess:
    case Outcome::kFatal:
      return false;
  }
  return false;
}

namespace {

// The three date formats RFC 9110 §5.6.7 says a recipient must accept.
std::optional<std::time_t> parse_http_date(const std::string& text) {
  static const char* const kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate (the one senders use)
      "%A, %d-%b-%y %H:%M:%S GMT",  // obsolete RFC 850
      "%a %b %d %H:%M:%S %Y",       // obsolete asctime()
  };
  for (const char* format : kFormats) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end != nullptr && *end == '\0') return timegm(&tm);
  }
  return std::nullopt;
}

}  // namespace

std::optional<Duration> parse_retry_after(std::string_view value,
                                          std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    long long seconds = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || ptr != value.data() + value.size()) return std::nullopt;
    seconds = std::min<long long>(seconds, kMaxRetryAfterSeconds);
    return Duration{seconds * 1000};
  }
  auto when = parse_http_date(std::string(value));
  if (!when) return std::nullopt;
  // In seconds, before any conversion: system_clock counts nanoseconds in 64
  // bits, which end in 2262, and a date may be any year strptime reads.
  const std::time_t now_s = std::chrono::system_clock::to_time_t(now);
  if (*when <= now_s) return Duration{0};
  if (*when - now_s >= kMaxRetryAfterSeconds) return Duration{kMaxRetryAfterSeconds * 1000};
  auto target = std::chrono::system_clock::from_time_t(*when);
  if (target <= now) return Duration{0};
  return std::chrono::duration_cast<Duration>(target - now);
}

Duration backoff_delay(int retry, Duration base, Duration cap, double unit_random) {
  double ceiling = static_cast<double>(base.count());
  for (int i = 0; i < retry && ceiling < static_cast<double>(cap.count()); ++i) ceiling *= 2;
  ceiling = std::min(ceiling, static_cast<double>(cap.count()));
  unit_random = std::clamp(unit_random, 0.0, 1.0);
  return Duration{static_cast<Duration::rep>(ceiling * unit_random)};
}

}  // namespace berth::http_retry
