// The `local` provider: this machine, its container runtime called directly.
// No provider-side lifecycle exists here, so berth's instances on it are the
// containers it labelled (see container_instances.h); `launch` only hands
// deploy the machine.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "../common/provider_adapter.h"
#include "berth/common/process.h"
#include "berth/config/config.h"
#include "berth/host/container_runtime.h"
#include "berth/provider/provider.h"
#include "container_instances.h"

namespace berth {

/// Where the local offer's numbers come from: seams for tests.
struct LocalMachine {
  std::filesystem::path meminfo = "/proc/meminfo";
  std::filesystem::path disk;  // statvfs of this path's filesystem (free space)
  std::optional<int> cpus;     // nullopt = sched_getaffinity
};

class LocalProvider final : public ProviderAdapter {
 public:
  LocalProvider(std::string name, ContainerRuntime runtime, ProcessRunner& processes,
                LocalMachine machine);

  Expected<std::vector<Offer>, ProviderError> list_offers(const OfferQuery& query) override;
  Expected<Instance, ProviderError> launch(const LaunchRequest& request) override;
  Expected<Instance, ProviderError> get(const std::string& instance_id) override;
  Expected<std::vector<Instance>, ProviderError> list() override;
  Expected<void, ProviderError> terminate(const std::string& instance_id) override;
  Expected<void, ProviderError> check_credentials() override;

 private:
  Expected<ProcessResult, ProviderError> run_runtime(const std::vector<std::string>& argv);
  Expected<std::vector<ContainerSummary>, ProviderError> containers(
      const std::map<std::string, std::string>& filter);
  HostIdentity identity() const;

  ContainerRuntime runtime_;
  ProcessRunner& processes_;
  LocalMachine machine_;
};

ProviderType local_provider_type();

}  // namespace berth
