#include "providers/local/container_instances.h"

#include <map>

namespace berth {

std::vector<Instance> instances_from_containers(const std::vector<ContainerSummary>& containers,
                                                const HostIdentity& host) {
  std::map<std::string, Instance> by_name;
  for (const auto& c : containers) {
    auto it = c.labels.find(kLabelInstance);
    std::string name = it != c.labels.end() && !it->second.empty() ? it->second : c.name;
    auto [slot, fresh] = by_name.try_emplace(name);
    Instance& i = slot->second;
    if (fresh) {
      i.provider = host.provider;
      i.id = host.id_prefix + name;
      i.name = name;
      i.region = host.region;
      i.state = InstanceState::kRunning;
      i.host = host.host;
      i.ssh_port = host.ssh_port;
      i.ssh_user = host.ssh_user;
      i.price_per_hour = host.price_per_hour;
      i.offer_id = host.offer_id;
    }
    for (const auto& [k, v] : c.labels)
      if (k.rfind("berth.", 0) == 0) i.labels[k] = v;
    if (auto g = c.labels.find(kLabelGpu); g != c.labels.end()) i.gpu = g->second;
    std::string state = c.name + " " + (c.state.empty() ? c.status : c.state);
    i.raw_state += (i.raw_state.empty() ? "" : ", ") + state;
  }
  std::vector<Instance> out;
  for (auto& [name, i] : by_name) out.push_back(std::move(i));
  return out;
}

std::map<std::string, std::string> berth_container_filter() { return {{kLabelDeployment, ""}}; }

std::map<std::string, std::string> instance_container_filter(const std::string& instance_name) {
  return {{kLabelDeployment, ""}, {kLabelInstance, instance_name}};
}

}  // namespace berth
