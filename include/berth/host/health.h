// The template's health check (docs/templates.md, `health`): the probes berth runs from
// its own side against a published endpoint, and the rule that turns a series
// of probe results into healthy / unhealthy (interval, consecutive failures,
// start-period grace). Exec checks run inside the container. Deploy, watch
// and `status` run the check through the one check_health below.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "berth/common/expected.h"
#include "berth/common/units.h"
#include "berth/host/container_runtime.h"
#include "berth/host/host.h"
#include "berth/template/launch_template.h"

namespace berth {

enum class HealthState { kStarting, kHealthy, kUnhealthy };
std::string to_string(HealthState s);  // "starting" | "healthy" | "unhealthy"

/// GET http://host:port/path; healthy on a 2xx or 3xx status. The message says
/// why not (connection refused, timeout, status 503).
Expected<void, std::string> probe_http(const std::string& host, int port, const std::string& path,
                                       Duration timeout);
/// A TCP connection that opens within `timeout`.
Expected<void, std::string> probe_tcp(const std::string& host, int port, Duration timeout);

/// Where one replica's check goes: the address its ports are published on,
/// the published port of each container port, and (for exec checks) the
/// host, runtime and container to run the command in.
struct HealthTarget {
  std::string address;
  std::map<int, int> published;  // container port -> published port
  Host* host = nullptr;          // nullptr: no runtime reaches the container
  const ContainerRuntime* runtime = nullptr;
  std::string container;

  /// The published port of `container_port`, else the port itself.
  int port_for(int container_port) const;
};

/// One run of `check` against `target`: http and tcp probe from berth's
/// side, as a client of the endpoint would; exec runs in the container.
/// The value says what passed ("ok", "exit code 0", "no health check");
/// the error says why not ("HTTP 503", "connection refused", "timed out"). An exec check where no runtime reaches
/// the container passes as "not checked".
Expected<std::string, std::string> check_health(const HealthCheck& check, const HealthTarget& target);

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

 private:
  HealthCheck check_;
  Clock::time_point started_;
  HealthState state_ = HealthState::kStarting;
  int failures_ = 0;
  bool ever_healthy_ = false;
  std::string detail_;
};

}  // namespace berth
