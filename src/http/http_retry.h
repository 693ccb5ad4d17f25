// When the HTTP client sends a request again, and how long it waits first.
// Kept apart from the transfer loop so the policy is testable without a
// network and readable in one place.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "berth/common/units.h"

namespace berth::http_retry {

/// What one attempt ended with, as far as retrying is concerned.
enum class Outcome {
  kSuccess,       // any final answer: 2xx, 3xx, 4xx other than 429
  kRateLimited,   // 429: always safe to send again, the server did nothing
  kServerError,   // 5xx: the request may have had an effect
  kNotConnected,  // never reached the server (refused, DNS, connect timeout)
  kTimedOut,      // sent, then no complete answer in time
  kFatal,         // TLS, size cap, cancel, malformed URL: sending again cannot help
};

/// Connection failures and 429 are retried for every request; timeouts and
/// 5xx only when the request is idempotent (a launch that timed out may have
/// launched, and sending it again could start a second paid instance).
bool should_retry(Outcome outcome, bool idempotent);

/// A day is longer than any budget berth has: a longer wait is this long.
inline constexpr long long kMaxRetryAfterSeconds = 86'400;

/// Retry-After is either delta-seconds ("120") or an HTTP-date
/// ("Wed, 21 Oct 2015 07:28:00 GMT"). A date in the past means now (0); a
/// wait is at most kMaxRetryAfterSeconds, whatever the date's year.
/// nullopt when absent or unparseable.
std::optional<Duration> parse_retry_after(std::string_view value,
                                          std::chrono::system_clock::time_point now);

/// "Full jitter" exponential backoff: uniform in [0, min(cap, base * 2^retry)],
/// where `unit_random` is in [0, 1). Jitter spreads the retries of many
/// clients hitting the same rate limit instead of synchronising them.
Duration backoff_delay(int retry, Duration base, Duration cap, double unit_random);

}  // namespace berth::http_retry
