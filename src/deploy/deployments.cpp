#include "berth/deploy/deployments.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace berth {
namespace {

std::optional<int> parse_index(const std::string& s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  return std::stoi(s);
}

std::string label(const Instance& i, const char* dash_key) {
  // Container runtimes spell the keys with dots (berth.deployment).
  std::string dotted = dash_key;
  std::replace(dotted.begin(), dotted.end(), '-', '.');
  for (const auto& key : {std::string(dash_key), dotted}) {
    auto it = i.labels.find(key);
    if (it != i.labels.end()) return it->second;
  }
  return {};
}

}  // namespace

std::optional<DeployedReplica> deployed_replica(const Instance& instance) {
  if (auto parts = parse_instance_name(instance.name))
    return DeployedReplica{parts->replica, parts->hash, instance};
  std::string deployment = label(instance, kInstanceLabelDeployment);
  auto replica = parse_index(label(instance, kInstanceLabelReplica));
  std::string hash = label(instance, kInstanceLabelHash);
  if (deployment.empty() || !replica || hash.empty()) return std::nullopt;
  return DeployedReplica{*replica, hash, instance};
}

std::vector<Deployment> group_deployments(const std::vector<Instance>& instances) {
  std::map<std::string, Deployment> by_name;
  for (const auto& inst : instances) {
    if (inst.state == InstanceState::kTerminated) continue;
    auto r = deployed_replica(inst);
    if (!r) continue;
    std::string name;
    if (auto parts = parse_instance_name(inst.name)) name = parts->deployment;
    else name = label(inst, kInstanceLabelDeployment);
    auto& d = by_name[name];
    d.name = name;
    d.replicas.push_back(std::move(*r));
  }
  std::vector<Deployment> out;
  for (auto& [name, d] : by_name) {
    std::sort(d.replicas.begin(), d.replicas.end(), [](const auto& a, const auto& b) {
      return std::tie(a.replica, a.hash, a.instance.provider, a.instance.id) <
             std::tie(b.replica, b.hash, b.instance.provider, b.instance.id);
    });
    std::map<std::string, int> votes;
    for (const auto& r : d.replicas) ++votes[r.hash];
    int best = -1;
    for (const auto& r : d.replicas) {  // later replicas win ties: they were launched last
      if (votes[r.hash] >= best) {
        best = votes[r.hash];
        d.template_hash = r.hash;
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

DeploymentListing find_deployments(const InstanceListing& listing,
                                   const std::optional<std::string>& name) {
  DeploymentListing result;
  result.reports = listing.reports;
  for (auto& d : group_deployments(listing.instances))
    if (!name || d.name == *name) result.deployments.push_back(std::move(d));
  return result;
}


}  // namespace berth
