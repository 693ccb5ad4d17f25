// How a deployment stands now (`status`, docs/json.md "status"): per replica
// its health by the check the deploy recorded on the container, uptime, age
// and cost so far, endpoints with SSH apart; per deployment replicas running
// against wanted, health, $/h and cost so far. The CLI only formats this.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "berth/deploy/deploy.h"
#include "berth/deploy/deployments.h"

namespace berth {

struct ReplicaStatus {
  const DeployedReplica* replica = nullptr;
  /// "healthy" / "unhealthy" (the recorded check), "running" (no check, an
  /// exec check, or a pod), "exited (N)", "unreachable", "no-container",
  /// the instance's state when it is not running, "unknown".
  std::string health = "unknown";
  std::string since;                // when the container started (RFC 3339), if known
  std::vector<Endpoint> endpoints;  // the workload's services; never the SSH port
  std::optional<std::string> ssh;   // USER@HOST:PORT, where berth reaches it over SSH
  std::optional<long long> uptime_seconds;  // since the container started
  std::optional<long long> age_seconds;     // since the provider made it, else as uptime
  std::optional<double> cost_so_far;        // price x age
};

struct DeploymentStatus {
  const Deployment* deployment = nullptr;
  std::vector<ReplicaStatus> replicas;
  int running = 0;  // replicas below `wanted` whose health serves
  int wanted = 0;
  bool wanted_from_template = false;  // else inferred from the highest replica
  std::string health;                 // "healthy" | "degraded" | "down"
  std::optional<long long> age_seconds;
  double price_per_hour = 0;
  std::optional<double> cost_so_far;
};

/// Checks every replica of `d` (one SSH round trip each where a host runs the
/// container). `wanted`: the template's replica count, when known. `stop`
/// is asked before each replica; true (a --timeout ran out) ends the walk
/// early and the result is nullopt: a half-checked deployment is not shown.
std::optional<DeploymentStatus> deployment_status(const Deployment& d, std::optional<int> wanted,
                                                  DeployContext& ctx,
                                                  std::chrono::system_clock::time_point now,
                                                  const std::function<bool()>& stop);

}  // namespace berth
