// The template's health check (docs/templates.md, `health`): the probes berth runs from
// its own side against a published endpoint, and the rule that turns a series
// of probe results into healthy / unhealthy (interval, consecutive failures,
// start-period grace). Exec checks run inside the container; deploy and watch
// hand their result to the same tracker.
#pragma once

#include <chrono>
#include <string>

#include "berth/expected.h"
#include "berth/launch_template.h"
#include "berth/units.h"

namespace berth {

enum class HealthState { kStarting, kHealthy, kUnhealthy };
std::string to_string(HealthState s);  // "starting" | "healthy" | "unhealthy"

/// GET http://host:port/path; healthy on a 2xx or 3xx status. The message says
/// why not (connection refused, timeout, status 503).
Expected<void, std::string> probe_http(const std::string& host, int port, const std::string& path,
                                       Duration timeout);
/// A TCP connection that opens within `timeout`.
Expected<void, std::string> probe_tcp(const std::string& host, int port, Duration timeout);

/// Pure bookkeeping, so the rule is tested without a clock: failures before
/// the first success count only after `grace` has passed since the start, and
/// `failures` consecutive ones make the check unhealthy. A success resets the
/// count.
class HealthTracker {
 public:
  using Clock = std::chrono::steady_clock;
  HealthTracker(const HealthCheck& check, Clock::time_point started);

  HealthState record(bool ok, Clock::time_point now, std::string detail = {});
  HealthState state() const { return state_; }
  int consecutive_failures() const { return failures_; }
  const std::string& last_detail() const { return detail_; }
  bool ever_healthy() const { return ever_healthy_; }

 private:
  HealthCheck check_;
  Clock::time_point started_;
  HealthState state_ = HealthState::kStarting;
  int failures_ = 0;
  bool ever_healthy_ = false;
  std::string detail_;
};

}  // namespace berth
