// An instance berth launched at a provider, as the provider reports it now.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace berth {

enum class InstanceState {
  kProvisioning,  // accepted, not yet booting (queued, pending, creating)
  kBooting,       // starting up: not failed, just slow
  kRunning,       // provider says it runs and the SSH endpoint is known
  kStopping,      // terminating / deleting
  kTerminated,    // gone
  kPreempted,     // spot interruption reported by the provider
  kFailed,        // error at the provider
  kUnhealthy,     // the provider's own health check fails: may still be booting
  kExited,        // container-native: the instance is its container, and that exited
  kUnknown,
};

std::string to_string(InstanceState s);

struct Instance {
  std::string provider;  // config name
  std::string id;
  std::string name;      // berth-<deployment>-<replica>-<hash>
  std::string region;
  InstanceState state = InstanceState::kUnknown;
  std::string raw_state;  // the provider's own word, for messages
  std::string host;       // SSH host (IP or name); empty until known
  int ssh_port = 22;
  std::string ssh_user = "root";
  double price_per_hour = 0;
  std::string offer_id;
  std::string gpu;  // gpu_summary() of what the instance has ("H100 ×8"); empty: none or unknown
  std::map<std::string, std::string> labels;  // where the API has labels/tags
  std::map<int, int> public_ports;            // container port -> public port (container-native)
  std::string progress;  // anything that moves while booting (status message, percent)
  /// When the provider made it, where its API says (RunPod's createdAt,
  /// Vast.ai's start_date): `status` counts age and cost from here. nullopt
  /// where it does not (Lambda, hosts): then from the container's start.
  std::optional<std::chrono::system_clock::time_point> created;
};

}  // namespace berth
