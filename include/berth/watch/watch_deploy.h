// Watch mode's seams, made real: providers through their adapters, hosts
// through the deploy engine's connectors (one SSH master per host, reused
// every poll), redeploys through the deploy engine itself, so a redeploy walks
// offers, waits for progress and rolls back exactly as `up` does.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "berth/config/provider_set.h"
#include "berth/deploy/deploy.h"
#include "berth/placement/placement.h"
#include "berth/watch/watch.h"

namespace berth {

struct WatchPlanRequest {
  std::vector<int> replicas;       // the replicas to place
  std::set<std::string> excluded;  // placement keys in cooldown
  std::vector<Instance> occupied;  // the other replicas' instances
};

/// Plans replicas from live offers. Fails (exit 4/6) only when no provider
/// answered; an empty placement means no placement (exit 5).
using WatchPlanner = std::function<Expected<Plan, Failure>(const WatchPlanRequest&)>;

/// Asks the template's providers for offers (the search `plan` uses), then
/// solves placement locally.
WatchPlanner make_watch_planner(const LaunchTemplate& workload, ProviderSet& providers);

/// One `list` per provider; terminate removes the container where the host
/// outlives the instance, terminates, and confirms the instance is gone.
std::unique_ptr<InstanceProbe> make_instance_probe(const LaunchTemplate& workload,
                                                   DeployContext& context);

/// Container state with the runtime's `inspect` over the host's connection
/// (bounded by `command_timeout`); health checks as `up` runs them.
std::unique_ptr<HostProbe> make_host_probe(const LaunchTemplate& workload, DeployContext& context,
                                           Duration command_timeout);

/// Adopts or deploys through deploy(); redeploys one replica at a time.
std::unique_ptr<ReplicaDeployer> make_replica_deployer(const LaunchTemplate& workload,
                                                       ProviderSet& providers,
                                                       DeployContext& context,
                                                       WatchPlanner planner);

/// The defaults for a template: poll at its health interval.
WatchOptions default_watch_options(const LaunchTemplate& workload);

/// `berth watch` and `berth up --watch`: adopts or deploys, then watches
/// until a signal (exit 130), the time limit (0) or giving up (7). Events go
/// to `events`; the returned Failure's message is empty for 0 and 130.
Failure watch_deployment(const LaunchTemplate& workload, ProviderSet& providers,
                         DeployContext& context, const WatchOptions& options,
                         const EventSink& events);

}  // namespace berth
