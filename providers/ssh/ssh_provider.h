// The `ssh` provider: machines the user already has, declared in the config.
// Each host is one offer; berth's instances on a host are the containers it
// labelled there, listed over SSH (see providers/local/container_instances.h).
// `launch` reserves a host that runs no other berth instance, nor one that
// this process reserved for another replica and has not started yet (the
// replicas of one `up` launch at once).
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "../common/provider_adapter.h"
#include "../local/container_instances.h"
#include "berth/common/process.h"
#include "berth/config/config.h"
#include "berth/host/container_runtime.h"
#include "berth/host/ssh.h"
#include "berth/provider/provider.h"

namespace berth {

/// "user@address:port": the offer id, and the prefix of instance ids.
std::string host_key(const SshHostConfig& host);

/// SSH goes through the core's SshSession (BatchMode, ConnectTimeout=10,
/// accept-new host keys in berth's own known_hosts). `ssh.identity` empty =
/// berth's own key, created on first use (ensure_ssh_key), the one deploy uses.
class SshProvider final : public ProviderAdapter {
 public:
  SshProvider(std::string name, std::vector<SshHostConfig> hosts, ContainerRuntime runtime,
              ProcessRunner& processes, SshOptions ssh);

  Expected<std::vector<Offer>, ProviderError> list_offers(const OfferQuery& query) override;
  Expected<Instance, ProviderError> launch(const LaunchRequest& request) override;
  Expected<Instance, ProviderError> get(const std::string& instance_id) override;
  Expected<std::vector<Instance>, ProviderError> list() override;
  Expected<void, ProviderError> terminate(const std::string& instance_id) override;
  Expected<void, ProviderError> check_credentials() override;

 private:
  Expected<SshOptions, ProviderError> session_options();
  Expected<ProcessResult, ProviderError> run_remote(const SshHostConfig& host,
                                                    const std::vector<std::string>& argv,
                                                    bool must_succeed = true);
  Expected<Offer, ProviderError> probe(const SshHostConfig& host);
  Expected<std::vector<ContainerSummary>, ProviderError> containers(
      const SshHostConfig& host, const std::map<std::string, std::string>& filter);
  Expected<std::vector<Instance>, ProviderError> host_instances(const SshHostConfig& host);
  const SshHostConfig* find_host(const std::string& key) const;
  HostIdentity identity(const SshHostConfig& host) const;
  void release_reservation(const std::string& key, const std::string& name);

  std::vector<SshHostConfig> hosts_;
  ContainerRuntime runtime_;
  ProcessRunner& processes_;
  SshOptions ssh_;
  std::mutex key_mutex_;
  std::mutex launch_mutex_;
  std::map<std::string, std::string> reserved_;  // host key -> instance name, this process
  bool state_dir_ready_ = false;
  std::optional<std::string> key_error_;
};

/// The `hosts:` of an ssh entry in the config, each error at its position.
void read_ssh_settings(const ProviderSettings& settings, ProviderConfig& out);

ProviderType ssh_provider_type();

}  // namespace berth
