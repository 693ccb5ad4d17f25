// The VM path for end-to-end tests: a Lambda mock whose instances are the e2e
// hosts. Lambda's API reports only an IP; berth logs in as ubuntu@IP:22, where
// each host's sshd also listens (see env.sh). Launches are handed the hosts
// round-robin. A terminated VM takes its containers with it: the mock's
// terminate hook removes the instance's container from its host, as the end
// of a real VM would (berth itself does not, and need not, for a VM).
#pragma once

#include <memory>

#include "berth/host/ssh.h"
#include "e2e/deploy_fixture.h"
#include "support/mock_server.h"

namespace berth::e2e {

class LambdaRig {
 public:
  struct Options {
    std::vector<std::string> hosts = {"h2"};  // handed out round-robin
    std::vector<std::string> mock_args;       // --boot-seconds, ...
    bool vm_end_hook = true;                  // terminate removes the VM's containers
  };

  LambdaRig(const Environment& env, Options options) : env_(env), options_(std::move(options)) {
    std::vector<std::string> args;
    for (const auto& h : options_.hosts) args.insert(args.end(), {"--ssh-host", endpoint(h)});
    if (options_.vm_end_hook) {
      std::string hook = std::string(BERTH_TEST_DIR) + "/e2e/deploy_pod_hook.py";
      args.insert(args.end(),
                  {"--on-terminate-cmd", hook + " terminate " + (env.root / "env.json").string()});
    }
    args.insert(args.end(), options_.mock_args.begin(), options_.mock_args.end());
    mock_ = std::make_unique<berth::testing::MockServer>("lambda", args);
    auto key = berth::ensure_ssh_key(scratch_.state_dir(), std::nullopt);
    REQUIRE(key);
    env.authorize(key->public_key);
    env_vars_ = scratch_.env({{"LAMBDA_KEY", mock_->api_key()}});
    env_vars_["BERTH_CONFIG"] =
        scratch_
            .write("config.yaml",
                   "providers:\n  lambda: {type: lambda, api_key: \"${LAMBDA_KEY}\", "
                   "base_url: \"" +
                       mock_->url() + "/api/v1\"}\nruntime: docker\n")
            .string();
  }

  /// Whatever a failed test left on the hosts: the containers of every
  /// instance the mock ever launched.
  ~LambdaRig() {
    if (!mock_) return;
    try {
      for (const auto& i : mock_->instances())
        for (const auto& h : env_.hosts)
          if (h.address == i.value("ssh_host", "") && i["name"].is_string())
            env_.runtime(h.name, {"rm", "-f", "--time", "0", i["name"].get<std::string>()});
    } catch (...) {
    }
  }
  LambdaRig(const LambdaRig&) = delete;
  LambdaRig& operator=(const LambdaRig&) = delete;

  /// ADDRESS:22 of a host, or, for a name that is not one, an address of the
  /// hosts' /24 where nothing listens.
  std::string endpoint(const std::string& host) const {
    for (const auto& h : env_.hosts)
      if (h.name == host) return env_.vm_endpoint(host);
    const std::string& a = env_.hosts.front().address;
    return a.substr(0, a.rfind('.')) + ".29:22";
  }

  berth::testing::MockServer& mock() { return *mock_; }
  const Scratch& scratch() const { return scratch_; }
  const std::map<std::string, std::string>& env() const { return env_vars_; }
  std::vector<std::string> env_list() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : env_vars_) out.push_back(k + "=" + v);
    return out;
  }
  std::filesystem::path write_template(const std::string& name, const std::string& body) const {
    return scratch_.write(name + ".yaml", "name: " + name + "\n" + body);
  }

  /// Instances at the mock that were never terminated.
  std::vector<nlohmann::json> live() {
    std::vector<nlohmann::json> out;
    for (const auto& i : mock_->instances())
      if (!i.value("terminated", false)) out.push_back(i);
    return out;
  }
  /// The name of the e2e host an instance runs on.
  std::string host_of(const nlohmann::json& instance) const {
    for (const auto& h : env_.hosts)
      if (h.address == instance.value("ssh_host", "")) return h.name;
    return "";
  }

 private:
  const Environment& env_;
  Options options_;
  Scratch scratch_;
  std::unique_ptr<berth::testing::MockServer> mock_;
  std::map<std::string, std::string> env_vars_;
};

/// Stops a host's sshd for as long as it lives (or until start()); the
/// host is always running again afterwards, for the tests that follow.
class StoppedHost {
 public:
  StoppedHost(const Environment& env, std::string host) : env_(env), host_(std::move(host)) {
    env_.stop_host(host_);
  }
  ~StoppedHost() {
    try {
      start();
    } catch (...) {
    }
  }
  void start() {
    if (stopped_) env_.start_host(host_);
    stopped_ = false;
  }
  StoppedHost(const StoppedHost&) = delete;
  StoppedHost& operator=(const StoppedHost&) = delete;

 private:
  const Environment& env_;
  std::string host_;
  bool stopped_ = true;
};

}  // namespace berth::e2e
