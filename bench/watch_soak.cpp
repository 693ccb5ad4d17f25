// Watch soak: the real watch loop for N poll cycles (default 10,000) against
// the Lambda mock (providers/lambda/mock.py) through the real adapter and
// HTTP client: one list call per poll, a spot preemption injected every
// 1,000 polls (terminate, confirm, redeploy). Hosts answer from memory, so
// what is measured is berth's own cost per poll, not sshd's or podman's.
//
// Prints resident memory after warm-up and at the end, and CPU time per poll.
//
//   cmake --build build --target watch_soak && build/watch_soak [CYCLES]
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "berth/config/config.h"
#include "berth/config/provider_set.h"
#include "berth/deploy/deploy.h"
#include "berth/template/workload_spec.h"
#include "berth/watch/watch_deploy.h"

extern char** environ;

using namespace berth;

namespace {

long rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Virtual time: sleeping costs nothing, so polls follow each other at once.
class InstantClock : public WatchClock {
 public:
  TimePoint now() const override { return now_; }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::now();
  }
  bool sleep_until(TimePoint t) override {
    now_ = std::max(now_, t);
    return true;
  }
  bool cancelled() const override { return false; }

 private:
  TimePoint now_ = std::chrono::steady_clock::now();
};

class HealthyHosts : public HostProbe {
 public:
  Expected<ContainerStatus, std::string> container(const Instance&) override {
    return ContainerStatus{true, std::nullopt, "", false};
  }
  HealthResult health(const Instance&) override { return HealthResult{true, "ok"}; }
};

// Launches straight through the adapter: the soak is about the loop.
class AdapterDeployer : public ReplicaDeployer {
 public:
  AdapterDeployer(const LaunchTemplate& w, Provider& p, Offer offer)
      : workload_(w), container_(resolve_workload(w)), provider_(p), offer_(std::move(offer)) {}
  Expected<std::vector<LiveReplica>, Failure> ensure(const AttemptSink&) override {
    std::vector<LiveReplica> out;
    for (int r = 0; r < workload_.replicas; ++r) {
      auto i = launch(r);
      if (!i) return unexpected(i.error());
      out.push_back(LiveReplica{r, *i, false, true});
    }
    return out;
  }
  Expected<LiveReplica, Failure> redeploy(const RedeployRequest& request,
                                          const AttemptSink&) override {
    auto i = launch(request.replica);
    if (!i) return unexpected(i.error());
    return LiveReplica{request.replica, *i, false, true};
  }
  Expected<void, Failure> tear_down() override { return {}; }

 private:
  Expected<Instance, Failure> launch(int replica) {
    LaunchRequest req;
    req.name = instance_name(workload_.name, replica, workload_.hash);
    req.offer = offer_;
    req.ssh_public_key =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchBenchBenchBenchBenchBenchBench bench";
    req.container = &container_;
    auto i = provider_.launch(req);
    if (!i) return unexpected(Failure{ExitCode::kProviderFailed, i.error().message, ""});
    // The mock answers "booting" first; the soak wants running replicas.
    for (int k = 0; k < 100; ++k) {
      auto g = provider_.get(i->id);
      if (g && g->state == InstanceState::kRunning) return *g;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return unexpected(Failure{ExitCode::kProviderFailed, "instance never ran", ""});
  }
  const LaunchTemplate& workload_;
  WorkloadSpec container_;
  Provider& provider_;
  Offer offer_;
};

struct Mock {
  pid_t pid = -1;
  int port = 0;
  ~Mock() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      int st = 0;
      waitpid(pid, &st, 0);
    }
  }
};

bool start_mock(Mock& m, const std::filesystem::path& dir) {
  std::string script = std::string(BERTH_SOURCE_DIR) + "/providers/lambda/mock.py";
  std::string port_file = (dir / "port").string();
  std::vector<std::string> args{"python3", script, "--port", "0", "--port-file", port_file};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawnp(&m.pid, "python3", nullptr, nullptr, argv.data(), environ) != 0) return false;
  for (int i = 0; i < 200 && m.port == 0; ++i) {
    std::ifstream f(port_file);
    f >> m.port;
    if (m.port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return m.port != 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int cycles = argc > 1 ? std::atoi(argv[1]) : 10'000;
  auto dir =
      std::filesystem::temp_directory_path() / ("berth-watch-soak-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  Mock mock;
  if (!start_mock(mock, dir)) {
    std::fprintf(stderr, "watch_soak: the Lambda mock did not start\n");
    return 1;
  }
  std::string config_text =
      "providers:\n  lambda:\n    type: lambda\n    api_key: ${LAMBDA_API_KEY}\n"
      "    base_url: http://127.0.0.1:" +
      std::to_string(mock.port) + "/api/v1\n";
  auto config = parse_config(config_text, "soak-config.yaml",
                             Environment::from_map({{"LAMBDA_API_KEY", "test-key"}}));
  if (!config) {
    for (const auto& d : config.error()) std::fprintf(stderr, "%s", format_diagnostic(d).c_str());
    return 1;
  }
  auto set = ProviderSet::create(*config, HttpOptions{});
  if (!set) {
    std::fprintf(stderr, "watch_soak: %s\n", set.error().c_str());
    return 1;
  }
  Provider* lambda = set->find("lambda");
  auto offers = lambda->list_offers(OfferQuery{});
  if (!offers || offers->empty()) {
    std::fprintf(stderr, "watch_soak: no offers from the mock\n");
    return 1;
  }

  LaunchTemplate workload;
  workload.name = "soak";
  workload.hash = "0123456789ab";
  workload.replicas = 2;
  workload.health.kind = HealthCheck::Kind::kHttp;
  workload.health.port = 8000;
  workload.restart.max_restarts = 1'000'000;
  workload.restart.backoff = Range<Duration>{Duration{0}, Duration{0}};

  DeployContext ctx;
  ctx.provider = [&](const std::string& n) { return set->find(n); };
  ctx.options.poll_initial = Duration{5};
  ctx.options.poll_max = Duration{50};
  InstantClock clock;
  auto instances = make_instance_probe(workload, ctx);
  HealthyHosts hosts;
  AdapterDeployer deployer(workload, *lambda, offers->front());
  std::size_t events = 0, failures = 0;
  WatchOptions options;
  options.interval = Duration{1'000};
  options.exclusion_cooldown = Duration{60'000};
  WatchServices services{&clock, instances.get(), &hosts, &deployer, [&](const Event& e) {
                           ++events;
                           if (e.type == EventType::kFailure) ++failures;
                         }};
  Watcher watcher(workload, options, services);
  if (!watcher.start()) {
    std::fprintf(stderr, "watch_soak: %s\n", watcher.failure().message.c_str());
    return 1;
  }
  auto client = make_curl_http_client(HttpOptions{});
  auto preempt = [&](const std::string& id) {
    HttpRequest r;
    r.method = "POST";
    r.url = "http://127.0.0.1:" + std::to_string(mock.port) + "/_mock/instances/" + id + "/state";
    r.body = R"({"status": "preempted"})";
    r.headers = {{"Content-Type", "application/json"}};
    (void)client->send(r);
  };

  const int warmup = std::min(100, cycles);
  for (int i = 0; i < warmup; ++i) {
    clock.sleep_until(watcher.next_wake());
    watcher.poll();
  }
  long rss_start = rss_kib();
  double cpu_start = cpu_seconds();
  auto wall_start = std::chrono::steady_clock::now();
  for (int i = 0; i < cycles; ++i) {
    if (i % 1000 == 500 && watcher.replicas()[0].instance)
      preempt(watcher.replicas()[0].instance->id);
    clock.sleep_until(watcher.next_wake());
    watcher.poll();
  }
  double cpu = cpu_seconds() - cpu_start;
  double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  long rss_end = rss_kib();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);

  std::printf("watch soak: %d poll cycles, 2 replicas, Lambda mock over HTTP\n", cycles);
  std::printf("  preemptions injected/handled: %d / %zu failures, %zu events\n", cycles / 1000,
              failures, events);
  std::printf("  RSS after warm-up: %ld KiB, at the end: %ld KiB (%+ld KiB)\n", rss_start, rss_end,
              rss_end - rss_start);
  std::printf("  CPU per poll: %.1f us (user+sys, %.2f s total)\n", cpu / cycles * 1e6, cpu);
  std::printf("  wall per poll: %.2f ms (includes the mock's answer)\n", wall / cycles * 1e3);
  return failures == static_cast<std::size_t>(cycles / 1000) ? 0 : 1;
}
