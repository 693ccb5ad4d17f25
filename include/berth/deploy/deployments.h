// Deployments as the providers see them. berth keeps no state: a deployment
// is the set of instances, at any provider, whose names (and labels, where
// the API has them) say berth-<deployment>-<replica>-<hash>. Any machine with
// the same config finds the same deployments.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "berth/config/provider_set.h"
#include "berth/provider/instance.h"

namespace berth {

// Labels berth puts on every instance where the API has labels or tags.
inline constexpr const char* kInstanceLabelDeployment = "berth-deployment";
inline constexpr const char* kInstanceLabelReplica = "berth-replica";
inline constexpr const char* kInstanceLabelHash = "berth-hash";

struct DeployedReplica {
  int replica = 0;
  std::string hash;  // the template hash it was launched from
  Instance instance;
};

struct Deployment {
  std::string name;
  /// The hash most replicas run (mid-replacement both exist); ties go to the
  /// replica launched last, i.e. the highest-numbered one's.
  std::string template_hash;
  std::vector<DeployedReplica> replicas;  // by replica index, then hash
};

/// Which deployment an instance belongs to: its name first, labels second
/// (for providers that shorten or rewrite names). nullopt for strangers.
std::optional<DeployedReplica> deployed_replica(const Instance& instance);

/// Groups berth's instances into deployments, sorted by name. Terminated
/// instances are left out: they are gone and cost nothing.
std::vector<Deployment> group_deployments(const std::vector<Instance>& instances);

struct DeploymentListing {
  std::vector<Deployment> deployments;
  std::vector<ProviderReport> reports;  // a failed provider may hide replicas: say so
};

/// From what every provider listed (ProviderSet::list_instances, which asks
/// them all at once); `name` narrows the result to one deployment.
DeploymentListing find_deployments(const InstanceListing& listing,
                                   const std::optional<std::string>& name = std::nullopt);

}  // namespace berth
