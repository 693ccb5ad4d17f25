// The end-to-end environment that tests/e2e/env.sh started, as the tests see
// it: sshd hosts on loopback addresses with their own podman, a registry with
// htpasswd auth, the demo image, and helpers to run berth against them.
//
// Without BERTH_E2E_ROOT the [e2e] tests are skipped (with a warning); with it
// set but the environment not running, they fail: CI must never pass by
// skipping them.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/process.h"

namespace berth::e2e {

struct TestHost {
  std::string name;     // h1..h4, or "local"
  std::string address;  // 127.0.0.21.., the address its ports are published on
  int port = 22;        // sshd
  std::string user = "root";
  /// Where VM providers (Lambda: an IP only, ubuntu@IP:22) reach this host;
  /// unset when port 22 was taken on this machine (see env.sh).
  std::optional<int> vm_port;
  std::string vm_user = "ubuntu";
  std::filesystem::path dir;
  std::filesystem::path sshd_log;
  std::filesystem::path pid_file;
  std::filesystem::path host_key;     // public host key
  std::filesystem::path runtime_log;  // argv of every runtime call on this host
  std::filesystem::path gpu_log;      // GPU flags the runtime wrapper dropped
};

struct TestRegistry {
  std::string address;  // 127.0.0.1:PORT
  std::string username;
  std::string password;
  std::string image;  // the demo image, private: ADDRESS/berth/demo:1
  /// localhost/berth-entry:1, private: ADDRESS/berth/entry:1. Its ENTRYPOINT
  /// serves the --say text of its arguments (host/entry-serve.sh); its CMD
  /// says "hello from the image CMD"; its WORKDIR is /www.
  std::string entry_image;
};

class Environment {
 public:
  /// The running environment, or nullptr when BERTH_E2E_ROOT is unset (the
  /// caller skips). Fails the current test when it is set but unusable.
  static const Environment* get();

  std::filesystem::path root;
  std::filesystem::path script;   // env.sh
  std::filesystem::path bin_dir;  // docker/podman wrappers
  std::filesystem::path authorized_keys;
  std::vector<TestHost> hosts;
  TestHost local;
  TestRegistry registry;
  std::string demo_image;  // localhost/berth-demo:1, present in every host's store

  const TestHost& host(const std::string& name) const;

  /// Lets `public_key` log in to every host (idempotent).
  void authorize(const std::string& public_key) const;
  /// A new host key for the host, sshd restarted: what a MITM looks like.
  void rekey(const std::string& host) const;
  /// Stops the host's sshd and drops its connections (a lost or unreachable
  /// machine; its containers keep running), and starts it again.
  void stop_host(const std::string& host) const;
  void start_host(const std::string& host) const;
  /// "ADDRESS:22" for a VM provider mock's --ssh-host; fails the test when
  /// the environment could not listen on port 22.
  std::string vm_endpoint(const std::string& host) const;
  /// Lines of the host's sshd log containing `needle` ("Accepted publickey").
  int count_in_sshd_log(const std::string& host, const std::string& needle) const;
  /// Runs the host's container runtime (podman) with argv, as the host would.
  ProcessResult runtime(const std::string& host, const std::vector<std::string>& args) const;
  /// Runtime calls still running for the host (the wrapper, or a sleep of
  /// its slow steps), as command lines: none once a command has ended or
  /// been stopped.
  std::vector<std::string> runtime_processes(const std::string& host) const;
  /// Containers on the host (any state) with the berth.deployment label.
  std::vector<std::string> berth_containers(const std::string& host,
                                            const std::string& deployment = "") const;
  /// Environment for a berth process so its `local` provider uses the test
  /// store: PATH with the wrappers first.
  std::map<std::string, std::string> local_runtime_env() const;
  /// An `ssh` provider config (YAML) with these hosts, berth's runtime set.
  std::string ssh_provider_config(const std::vector<std::string>& host_names,
                                  const std::string& runtime = "docker",
                                  const std::string& provider_name = "lab") const;
};

/// A scratch directory for one test: berth's state and config live here
/// (XDG_STATE_HOME, XDG_CONFIG_HOME), so tests never share known_hosts or keys.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path state_dir() const { return path_ / "state" / "berth"; }
  /// Writes a file under the scratch directory; returns its path.
  std::filesystem::path write(const std::string& name, const std::string& content) const;
  /// XDG_STATE_HOME/XDG_CONFIG_HOME pointing here (plus extra).
  std::map<std::string, std::string> env(std::map<std::string, std::string> extra = {}) const;

 private:
  std::filesystem::path path_;
};

struct BerthRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs the built berth binary with argv (no shell), bounded by `timeout`.
BerthRun run_berth(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env = {},
                   Duration timeout = Duration{300'000});

}  // namespace berth::e2e

/// Skips the test (with a warning) when no e2e environment was requested.
#define BERTH_E2E_ENV(var)                                                     \
  const ::berth::e2e::Environment* var = ::berth::e2e::Environment::get();     \
  if (!var) {                                                                  \
    WARN(                                                                      \
        "BERTH_E2E_ROOT is not set: end-to-end test skipped (scripts/test.sh " \
        "starts the environment)");                                            \
    return;                                                                    \
  }
