// berth's own overhead for `up`: a zero-latency in-process provider, a real
// sshd host with a real podman (the e2e environment's h1), the demo image
// already on the host. Reports per-phase medians over several runs and the
// SSH handshakes each run made (one master per host is the goal).
//
//   BERTH_E2E_ROOT=... build/deploy_bench [RUNS]
//
// The pull phase is reported but not counted as overhead: its time is the
// registry's and the network's, not berth's.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/deploy/deploy.h"
#include "berth/host/ssh.h"
#include "berth/host/ssh_host.h"

using namespace berth;
using Clock = std::chrono::steady_clock;

namespace {

// Answers at once: launch returns a running instance on the benchmark host.
class InstantProvider : public Provider {
 public:
  InstantProvider(std::string host, int port, std::string user)
      : host_(std::move(host)), port_(port), user_(std::move(user)) {}
  const std::string& name() const override { return name_; }
  std::string type() const override { return "ssh"; }  // a declared host: it outlives the instance
  Capabilities capabilities() const override { return {}; }
  Expected<std::vector<Offer>, ProviderError> list_offers(const OfferQuery&) override {
    return std::vector<Offer>{};
  }
  Expected<Instance, ProviderError> launch(const LaunchRequest& r) override {
    Instance i;
    i.provider = name_;
    i.id = "bench-" + std::to_string(++counter_);
    i.name = r.name;
    i.state = InstanceState::kRunning;
    i.host = host_;
    i.ssh_port = port_;
    i.ssh_user = user_;
    live_[i.id] = i;
    return i;
  }
  Expected<Instance, ProviderError> get(const std::string& id) override {
    auto it = live_.find(id);
    if (it == live_.end()) return unexpected(ProviderError{ProviderError::Kind::kNotFound, "", {}});
    return it->second;
  }
  Expected<std::vector<Instance>, ProviderError> list() override {
    std::vector<Instance> out;
    for (auto& [id, i] : live_) out.push_back(i);
    return out;
  }
  Expected<void, ProviderError> terminate(const std::string& id) override {
    live_.erase(id);
    return {};
  }
  Expected<void, ProviderError> check_credentials() override { return {}; }

 private:
  std::string name_ = "bench", host_;
  int port_;
  std::string user_;
  int counter_ = 0;
  std::map<std::string, Instance> live_;
};

std::string phase_of(const std::string& text) {
  for (const auto& [prefix, phase] :
       std::vector<std::pair<std::string, std::string>>{{"launching", "provision"},
                                                        {"instance ", "provision"},
                                                        {"connecting", "ssh connect"},
                                                        {"copying", "volumes"},
                                                        {"pulling", "pull (excluded)"},
                                                        {"starting", "start"},
                                                        {"checking", "health"},
                                                        {"waiting for the health", "health"},
                                                        {"planning", "plan"}})
    if (text.rfind(prefix, 0) == 0) return phase;
  return "other";
}

// Time spent inside host commands and connections, by kind, so berth's own
// share can be told apart from sshd's and the container runtime's.
struct HostTimes {
  std::map<std::string, double> ms;
  void add(const std::string& k, Clock::time_point since) {
    ms[k] += std::chrono::duration<double, std::milli>(Clock::now() - since).count();
  }
};

std::string command_kind(const std::vector<std::string>& argv) {
  if (argv.empty()) return "remote: other";
  auto has = [&](const char* word) {
    return std::find(argv.begin(), argv.end(), word) != argv.end();
  };
  if (argv[0] == "podman" || argv[0] == "docker")
    return "runtime: " + (argv.size() > 1 ? argv[1] : std::string()) +
           (argv.size() > 2 && argv[1] == "image" ? " " + argv[2] : "");
  // sh -c SCRIPT sh INSTANCE ... RUNTIME ARGV: one command in the private
  // directory (secret files from stdin, stale container, then the argv).
  if (argv[0] == "sh" && argv.size() > 2 && argv[2].find(kImageMissing) != std::string::npos)
    return has("run")    ? "start: private dir + env files + run, one command"
           : has("pull") ? "pull (excluded)"
                         : "private dir: other";
  if (argv[0] == "sh" && has("rm")) return "remove (teardown)";
  if (argv[0] == "sh") return "remote: sh";
  return "remote: " + argv[0];
}

class TimingHost : public Host {
 public:
  TimingHost(std::shared_ptr<Host> inner, HostTimes& t) : inner_(std::move(inner)), t_(t) {}
  std::string address() const override { return inner_->address(); }
  Expected<ProcessResult, std::string> run(const HostCommand& c) override {
    auto start = Clock::now();
    auto r = inner_->run(c);
    t_.add(command_kind(c.argv), start);
    return r;
  }
  Expected<int, std::string> login_shell() override { return inner_->login_shell(); }

 private:
  std::shared_ptr<Host> inner_;
  HostTimes& t_;
};

class TimingConnector : public HostConnector {
 public:
  TimingConnector(std::unique_ptr<HostConnector> inner, HostTimes& t)
      : inner_(std::move(inner)), t_(t) {}
  Expected<std::shared_ptr<Host>, HostError> connect(const Instance& i,
                                                     const std::string& d) override {
    auto start = Clock::now();
    auto h = inner_->connect(i, d);
    t_.add("ssh: connect (handshake)", start);
    if (!h) return h;
    return std::shared_ptr<Host>(std::make_shared<TimingHost>(*h, t_));
  }
  int handshakes() const override { return inner_->handshakes(); }
  void close_all() override { inner_->close_all(); }

 private:
  std::unique_ptr<HostConnector> inner_;
  HostTimes& t_;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const char* root = std::getenv("BERTH_E2E_ROOT");
  if (!root) {
    std::fprintf(stderr, "deploy_bench: set BERTH_E2E_ROOT (tests/e2e/env.sh start)\n");
    return 2;
  }
  int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  auto env = nlohmann::json::parse(std::ifstream(std::filesystem::path(root) / "env.json"));
  auto h = env["hosts"][0];
  auto state = std::filesystem::temp_directory_path() / "berth-deploy-bench";
  std::filesystem::remove_all(state);
  std::filesystem::create_directories(state);
  auto key = ensure_ssh_key(state, std::nullopt);
  if (!key) {
    std::fprintf(stderr, "deploy_bench: %s\n", key.error().c_str());
    return 1;
  }
  std::ofstream(env["authorized_keys"].get<std::string>(), std::ios::app) << key->public_key << "\n";

  LaunchTemplate w;
  w.name = "bench";
  w.hash = "0123456789ab";
  w.image = {env["demo_image"].get<std::string>(), false};
  w.ports = {PortMapping{8000, 18700, "tcp"}};
  w.env = {{"MODE", {"bench", false}}};
  w.health.kind = HealthCheck::Kind::kTcp;
  w.health.port = 8000;
  w.health.interval = Duration{1000};

  InstantProvider provider(h["address"], h.value("port", 22), h.value("user", "root"));
  std::map<std::string, std::vector<double>> phases;
  std::vector<double> totals, overheads, own;
  std::map<std::string, std::vector<double>> commands;
  std::vector<int> handshakes;
  for (int run = 0; run < runs; ++run) {
    SshHostOptions o;
    o.state_dir = state;
    o.identity = key->private_key;
    o.config_file = "/dev/null";
    HostTimes times;
    auto ssh = std::make_unique<TimingConnector>(make_ssh_host_connector(o), times);
    DeployContext ctx;
    ctx.provider = [&](const std::string&) -> Provider* { return &provider; };
    ctx.hosts = ssh.get();
    ctx.runtime = *container_runtime("podman");
    ctx.ssh_public_key = key->public_key;
    std::map<std::string, double> spent;
    std::string current = "plan";
    auto mark = Clock::now();
    const auto start = mark;
    ctx.events = [&](const DeployEvent& e) {
      if (e.kind != DeployEvent::Kind::kPhase) return;
      auto now = Clock::now();
      spent[current] += std::chrono::duration<double, std::milli>(now - mark).count();
      current = phase_of(e.text);
      mark = now;
    };
    PlanFunction plan = [&](const std::vector<int>& replicas) -> Expected<Plan, Failure> {
      Plan p;
      for (int r : replicas) {
        ReplicaPlacement rp;
        rp.replica = r;
        rp.offer.provider = "bench";
        rp.offer.id = "bench-host";
        p.placement.push_back(rp);
      }
      return p;
    };
    auto result = deploy(w, std::nullopt, plan, ctx);
    auto end = Clock::now();
    spent[current] += std::chrono::duration<double, std::milli>(end - mark).count();
    if (!result) {
      std::fprintf(stderr, "deploy_bench: deploy failed: %s\n", result.error().failure.message.c_str());
      return 1;
    }
    double total = std::chrono::duration<double, std::milli>(end - start).count();
    totals.push_back(total);
    double outside = 0;
    for (auto& [k, v] : times.ms) {
      commands[k].push_back(v);
      outside += v;
    }
    overheads.push_back(total - spent["pull (excluded)"]);
    own.push_back(total - outside);
    handshakes.push_back(ssh->handshakes());
    for (auto& [k, v] : spent) phases[k].push_back(v);
    Deployment d;
    d.name = w.name;
    for (const auto& r : result->replicas) d.replicas.push_back({r.replica, w.hash, r.instance});
    teardown(d, ctx);
    ssh->close_all();
  }
  std::printf("deploy_bench: %d runs of up (1 replica) against an instant provider and %s:%d\n",
              runs, h["address"].get<std::string>().c_str(), h.value("port", 22));
  std::printf("%-18s %10s\n", "phase", "median ms");
  for (const auto& [k, v] : phases) std::printf("%-18s %10.1f\n", k.c_str(), median(v));
  std::printf("%-18s %10.1f\n", "total", median(totals));
  std::printf("%-18s %10.1f  (goal < 2000)\n", "total minus pull", median(overheads));
  std::printf("\nwhere the time went (median ms per up)\n");
  for (const auto& [k, v] : commands) std::printf("%-30s %10.1f\n", k.c_str(), median(v));
  std::printf("%-30s %10.1f\n", "berth itself (the rest)", median(own));
  std::printf("ssh handshakes per up: %d..%d (goal: exactly 1 per host)\n",
              *std::min_element(handshakes.begin(), handshakes.end()),
              *std::max_element(handshakes.begin(), handshakes.end()));
  bool ok = median(overheads) < 2000 &&
            std::all_of(handshakes.begin(), handshakes.end(), [](int n) { return n == 1; });
  return ok ? 0 : 1;
}
