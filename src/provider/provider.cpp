#include "berth/provider/provider.h"

#include <cctype>

#include "berth/provider/instance.h"

namespace berth {

std::string to_string(ProviderError::Kind k) {
  switch (k) {
    case ProviderError::Kind::kAuth: return "auth";
    case ProviderError::Kind::kNoCapacity: return "no-capacity";
    case ProviderError::Kind::kQuota: return "quota";
    case ProviderError::Kind::kRateLimited: return "rate-limited";
    case ProviderError::Kind::kTransient: return "transient";
    case ProviderError::Kind::kInvalidRequest: return "invalid-request";
    case ProviderError::Kind::kBadResponse: return "bad-response";
    case ProviderError::Kind::kNotFound: return "not-found";
  }
  return "unknown";
}

std::string to_string(InstanceState s) {
  switch (s) {
    case InstanceState::kProvisioning: return "provisioning";
    case InstanceState::kBooting: return "booting";
    case InstanceState::kRunning: return "running";
    case InstanceState::kStopping: return "stopping";
    case InstanceState::kTerminated: return "terminated";
    case InstanceState::kPreempted: return "preempted";
    case InstanceState::kFailed: return "failed";
    case InstanceState::kUnhealthy: return "unhealthy";
    case InstanceState::kExited: return "exited";
    case InstanceState::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string provider_volume_name(const std::string& deployment, const std::string& name) {
  return "berth-" + deployment + "-" + name;
}

bool is_berth_volume(const std::string& provider_name) {
  return provider_name.rfind("berth-", 0) == 0;
}

std::string instance_name(const std::string& deployment, int replica, const std::string& hash) {
  return "berth-" + deployment + "-" + std::to_string(replica) + "-" + hash;
}

// Deployment names match ^[a-z][a-z0-9-]{0,38}$ and may contain dashes, so the
// name is split from the right: the last field is the hash, the one before it
// the replica index.
std::optional<InstanceNameParts> parse_instance_name(const std::string& name) {
  const std::string prefix = "berth-";
  if (name.rfind(prefix, 0) != 0) return std::nullopt;
  auto last = name.rfind('-');
  if (last == std::string::npos || last + 1 >= name.size() || last <= prefix.size())
    return std::nullopt;
  auto prev = name.rfind('-', last - 1);
  if (prev == std::string::npos || prev < prefix.size() || prev + 1 >= last) return std::nullopt;
  InstanceNameParts parts;
  parts.deployment = name.substr(prefix.size(), prev - prefix.size());
  std::string replica = name.substr(prev + 1, last - prev - 1);
  parts.hash = name.substr(last + 1);
  if (parts.deployment.empty() || replica.size() > 4) return std::nullopt;
  for (char c : replica)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  for (char c : parts.hash)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
  parts.replica = std::stoi(replica);
  return parts;
}

}  // namespace berth
