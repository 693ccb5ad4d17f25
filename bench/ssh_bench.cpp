// What the multiplexed SSH connection buys: the cost of the one handshake
// (SshSession::open), of a command over the master, and of a command that
// makes its own connection, against a real sshd of the end-to-end
// environment. Run with the environment up:
//
//   BERTH_E2E_ROOT=/tmp/e2e tests/e2e/env.sh start
//   cmake --build build --target ssh_bench && BERTH_E2E_ROOT=/tmp/e2e build/ssh_bench
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "berth/host/ssh.h"

using namespace berth;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  const char* root = std::getenv("BERTH_E2E_ROOT");
  if (!root) {
    std::fprintf(stderr, "ssh_bench: set BERTH_E2E_ROOT to a running e2e environment\n");
    return 2;
  }
  std::ifstream in(fs::path(root) / "env.json");
  if (!in) {
    std::fprintf(stderr, "ssh_bench: no env.json under %s\n", root);
    return 2;
  }
  auto env = nlohmann::json::parse(in);
  const auto& h = env["hosts"][0];
  SshTarget target{h["address"].get<std::string>(), h["port"].get<int>(), "root"};

  fs::path state = fs::temp_directory_path() / ("berth-ssh-bench-" + std::to_string(getpid()));
  auto key = ensure_ssh_key(state, std::nullopt);
  if (!key) {
    std::fprintf(stderr, "ssh_bench: %s\n", key.error().c_str());
    return 1;
  }
  {
    std::ofstream keys(env["authorized_keys"].get<std::string>(), std::ios::app);
    keys << key->public_key << "\n";
  }
  SshOptions o;
  o.state_dir = state;
  o.identity = key->private_key;
  o.config_file = "/dev/null";

  const int n = 20;
  std::vector<double> opens, muxed, fresh;
  for (int round = 0; round < 5; ++round) {
    o.deployment = "bench-" + std::to_string(round);
    SshSession s(target, o);
    auto t = Clock::now();
    if (!s.open()) return 1;
    opens.push_back(ms_since(t));
    for (int i = 0; i < n; ++i) {
      t = Clock::now();
      if (!s.run({"true"})) return 1;
      muxed.push_back(ms_since(t));
    }
    s.close();
  }
  // A connection per command: what berth would pay without the master.
  o.deployment = "bench-fresh";
  for (int i = 0; i < n; ++i) {
    SshSession s(target, o);
    auto t = Clock::now();
    if (!s.open() || !s.run({"true"})) return 1;
    fresh.push_back(ms_since(t));
    s.close();
  }
  std::printf("ssh to %s:%d (median of runs)\n", target.host.c_str(), target.port);
  std::printf("  handshake (open a master)      %7.1f ms\n", median(opens));
  std::printf("  command over the master        %7.1f ms\n", median(muxed));
  std::printf("  command with its own handshake %7.1f ms\n", median(fresh));
  std::printf("  a 12-command up: %.0f ms multiplexed vs %.0f ms without\n",
              median(opens) + 12 * median(muxed), 12 * median(fresh));
  fs::remove_all(state);
  return 0;
}
