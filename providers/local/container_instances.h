// Hosts without a provider-side lifecycle (this machine, SSH hosts) have no
// instance API: berth's "instances" there are the containers it started,
// found by their labels. Shared by the local and ssh providers.
#pragma once

#include <string>
#include <vector>

#include "berth/host/container_runtime.h"
#include "berth/provider/instance.h"
#include "berth/provider/provider.h"

namespace berth {

/// What the local and ssh adapters can do: their instances are found by
/// their containers' labels.
inline constexpr Capabilities kContainerHostCapabilities{.runs = Capabilities::Runs::kHost,
                                                         .labels = true};

struct HostIdentity {
  std::string provider;  // config name
  std::string region;
  std::string host;  // what deploy connects to
  int ssh_port = 0;  // 0: no SSH, deploy runs the runtime directly
  std::string ssh_user;
  double price_per_hour = 0;
  std::string offer_id;
  std::string id_prefix;  // instance id = id_prefix + instance name
};

/// One Instance per distinct berth.instance label (containers without it
/// are named after the container), sorted by name. The machine runs, so the
/// state is running; raw_state lists the containers' own states.
std::vector<Instance> instances_from_containers(const std::vector<ContainerSummary>& containers,
                                                const HostIdentity& host);

/// The `ps` filter for every berth container on a host.
std::map<std::string, std::string> berth_container_filter();
/// The `ps` filter for one instance's containers.
std::map<std::string, std::string> instance_container_filter(const std::string& instance_name);

}  // namespace berth
