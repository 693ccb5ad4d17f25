// The watch loop against fakes and a fake clock: every decision (classify,
// terminate, redeploy, back off, give up, stop) without a network or a wait.
// Redeploys run on the watcher's worker thread even here; tick() waits for
// them, so only the tests about a redeploy in flight see it running.
#include "berth/watch/watch.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace berth;
using namespace std::chrono_literals;

namespace {

class FakeClock : public WatchClock {
 public:
  TimePoint now() const override { return now_; }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::time_point(std::chrono::hours(490'000)) +
           (now_ - TimePoint{});
  }
  bool sleep_until(TimePoint t) override {
    if (cancelled_) return false;
    if (stop_at_ && t >= *stop_at_) {
      now_ = std::max(now_, *stop_at_);
      cancelled_ = true;
      return false;
    }
    now_ = std::max(now_, t);
    if (on_wake) on_wake(elapsed());
    return !cancelled_;
  }
  bool cancelled() const override { return cancelled_; }

  void advance(Duration d) { now_ += d; }
  Duration elapsed() const { return std::chrono::duration_cast<Duration>(now_ - TimePoint{}); }
  void cancel_at(Duration d) { stop_at_ = TimePoint{} + d; }
  void cancel() { cancelled_ = true; }

  std::function<void(Duration)> on_wake;  // scripts the world by time

 private:
  TimePoint now_{};
  std::optional<TimePoint> stop_at_;
  std::atomic<bool> cancelled_{false};  // read by a redeploy's thread, as the signal flag is
};

Instance make_instance(const std::string& provider, const std::string& id,
                       const std::string& host) {
  Instance i;
  i.provider = provider;
  i.id = id;
  i.name = "berth-app-0-abc";
  i.region = "r1";
  i.state = InstanceState::kRunning;
  i.raw_state = "active";
  i.host = host;
  i.offer_id = "offer-" + host;
  i.price_per_hour = 1.5;
  return i;
}

class FakeProviders : public InstanceProbe {
 public:
  std::map<std::string, std::vector<Instance>> instances;
  std::set<std::string> down;  // providers whose API fails
  std::optional<std::chrono::milliseconds> retry_after;
  bool terminate_fails = false;
  std::map<std::string, int> list_calls;
  std::vector<std::string> terminated;

  // A real provider's API takes calls from the loop and from a redeploy's
  // thread at once; so does this one.
  Expected<std::vector<Instance>, ProviderError> list(const std::string& provider) override {
    std::lock_guard lock(mutex);
    ++list_calls[provider];
    if (down.count(provider))
      return unexpected(ProviderError{ProviderError::Kind::kTransient, "HTTP 503", retry_after});
    return instances[provider];
  }
  void add(const Instance& i) {
    std::lock_guard lock(mutex);
    instances[i.provider].push_back(i);
  }
  Expected<void, ProviderError> terminate(const Instance& instance) override {
    std::lock_guard lock(mutex);
    if (terminate_fails)
      return unexpected(ProviderError{ProviderError::Kind::kTransient, "timeout", {}});
    auto& v = instances[instance.provider];
    v.erase(
        std::remove_if(v.begin(), v.end(), [&](const Instance& i) { return i.id == instance.id; }),
        v.end());
    terminated.push_back(instance.id);
    return {};
  }
  void set_state(const std::string& id, InstanceState s, const std::string& raw) {
    for (auto& [p, v] : instances)
      for (auto& i : v)
        if (i.id == id) {
          i.state = s;
          i.raw_state = raw;
        }
  }
  void remove(const std::string& id) {
    for (auto& [p, v] : instances)
      v.erase(std::remove_if(v.begin(), v.end(), [&](const Instance& i) { return i.id == id; }),
              v.end());
  }
  std::size_t count() const {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& [p, v] : instances) n += v.size();
    return n;
  }
  mutable std::mutex mutex;
};

class FakeHosts : public HostProbe {
 public:
  std::map<std::string, ContainerStatus> containers;  // by instance id; default running
  std::set<std::string> unreachable;
  std::map<std::string, HealthResult> health_results;  // default ok
  std::atomic<int> container_calls{0};
  // A rendezvous: each probe of these instances waits (bounded, real time)
  // until all of them are being probed at once, as a host that does not
  // answer holds its probe. Probes one after another never all meet.
  std::set<std::string> meet;
  std::atomic<int> most_at_once{0};

  // Hosts that do not answer (a probe blocks, up to 10 s real time) until
  // release().
  std::set<std::string> hang;
  void release() {
    {
      std::lock_guard lock(meet_mutex_);
      released_ = true;
    }
    met_.notify_all();
  }
  int calls_for(const std::string& id) {
    std::lock_guard lock(meet_mutex_);
    return calls_[id];
  }

  Expected<ContainerStatus, std::string> container(const Instance& i) override {
    ++container_calls;
    {
      std::unique_lock lock(meet_mutex_);
      ++calls_[i.id];
      if (hang.count(i.id))
        met_.wait_for(lock, std::chrono::seconds(10), [&] { return released_; });
    }
    if (meet.count(i.id)) rendezvous();
    if (unreachable.count(i.id)) return unexpected(std::string("ssh: connect: Connection refused"));
    auto it = containers.find(i.id);
    if (it != containers.end()) return it->second;
    return ContainerStatus{true, std::nullopt, ""};
  }
  HealthResult health(const Instance& i) override {
    auto it = health_results.find(i.id);
    return it != health_results.end() ? it->second : HealthResult{true, "HTTP 200"};
  }

 private:
  void rendezvous() {
    std::unique_lock lock(meet_mutex_);
    ++meeting_;
    if (meeting_ > most_at_once) most_at_once = meeting_;
    if (meeting_ >= static_cast<int>(meet.size())) all_met_ = true;
    met_.notify_all();
    met_.wait_for(lock, std::chrono::seconds(5), [&] { return all_met_; });
    --meeting_;
  }
  std::mutex meet_mutex_;
  std::condition_variable met_;
  int meeting_ = 0;
  bool all_met_ = false;
  bool released_ = false;
  std::map<std::string, int> calls_;
};

class FakeDeployer : public ReplicaDeployer {
 public:
  FakeDeployer(FakeProviders& providers, FakeHosts& hosts) : providers_(providers), hosts_(hosts) {}

  int replicas = 1;
  std::string provider = "lab";
  std::vector<Failure> redeploy_failures;  // consumed in order before succeeding
  std::function<void(const Instance&)> on_redeployed;
  std::vector<RedeployRequest> requests;
  int tear_downs = 0;
  bool fail_when_excluded_nonempty = false;

  // Holds the redeploy of replica `hold`, after one no-capacity attempt,
  // until release() or until `clock` is cancelled (then it removes what it
  // "created", as the deploy engine does, and fails as interrupted).
  int hold = -1;
  const WatchClock* clock = nullptr;
  std::atomic<bool> holding{false};
  bool rolled_back = false;  // read only after the watcher has settled
  void release() {
    {
      std::lock_guard lock(gate_);
      open_ = true;
    }
    opened_.notify_all();
  }
  bool wait_holding() const {  // real time, bounded
    for (int i = 0; i < 500 && !holding; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return holding;
  }

  Expected<std::vector<LiveReplica>, Failure> ensure(const AttemptSink&) override {
    std::vector<LiveReplica> out;
    for (int r = 0; r < replicas; ++r) out.push_back(LiveReplica{r, launch(r), false, false});
    return out;
  }
  Expected<LiveReplica, Failure> redeploy(const RedeployRequest& request,
                                          const AttemptSink& attempts) override {
    requests.push_back(request);
    if (request.replica == hold) {
      attempts(Attempt{request.replica, provider, "offer-z", 1.5, "no-capacity", "sold out"});
      holding = true;
      std::unique_lock lock(gate_);
      while (!open_ && !(clock && clock->cancelled()))
        opened_.wait_for(lock, std::chrono::milliseconds(5));
      holding = false;
      if (!open_) {
        rolled_back = true;
        return unexpected(Failure{ExitCode::kInterrupted, "interrupted", ""});
      }
    }
    if (fail_when_excluded_nonempty && !request.excluded.empty())
      return unexpected(Failure{ExitCode::kNoPlacement, "no offer satisfies the template", ""});
    if (!redeploy_failures.empty()) {
      auto f = redeploy_failures.front();
      redeploy_failures.erase(redeploy_failures.begin());
      attempts(Attempt{request.replica, provider, "offer-x", 1.5, "no-capacity", f.message});
      return unexpected(f);
    }
    attempts(Attempt{request.replica, provider, "offer-y", 1.5, "launched", ""});
    auto i = launch(request.replica);
    if (on_redeployed) on_redeployed(i);
    return LiveReplica{request.replica, i, false, false};
  }
  Expected<void, Failure> tear_down() override {
    ++tear_downs;
    providers_.instances.clear();
    return {};
  }

  int launched = 0;

 private:
  Instance launch(int replica) {
    ++launched;
    auto i =
        make_instance(provider, "i-" + std::to_string(launched), "h-" + std::to_string(launched));
    i.name = "berth-app-" + std::to_string(replica) + "-abc";
    providers_.add(i);
    (void)hosts_;
    return i;
  }
  FakeProviders& providers_;
  FakeHosts& hosts_;
  std::mutex gate_;
  std::condition_variable opened_;
  bool open_ = false;
};

LaunchTemplate make_template() {
  LaunchTemplate t;
  t.name = "app";
  t.health.kind = HealthCheck::Kind::kHttp;
  t.health.port = 8000;
  t.health.path = "/health";
  t.health.interval = 1s;
  t.health.failures = 2;
  t.health.grace = 0ms;
  t.restart.max_restarts = 3;
  t.restart.window = 1h;
  t.restart.backoff = Range<Duration>{Duration{10'000}, Duration{60'000}};
  return t;
}

struct Rig {
  FakeClock clock;
  FakeProviders providers;
  FakeHosts hosts;
  FakeDeployer deployer{providers, hosts};
  std::vector<Event> events;
  LaunchTemplate workload = make_template();
  WatchOptions options;

  Rig() {
    options.interval = 1s;
    options.unreachable_grace = 5s;
    options.exclusion_cooldown = 10min;
  }
  Watcher make() {
    WatchServices s;
    s.clock = &clock;
    s.instances = &providers;
    s.hosts = &hosts;
    s.deployer = &deployer;
    s.events = [this](const Event& e) { events.push_back(e); };
    return Watcher(workload, options, s);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(to_string(e.type));
    return out;
  }
  std::vector<Event> of(EventType t) const {
    std::vector<Event> out;
    for (const auto& e : events)
      if (e.type == t) out.push_back(e);
    return out;
  }
  // Polls, each time waiting for a redeploy the poll started to end.
  void tick(Watcher& w, int polls = 1) {
    for (int i = 0; i < polls; ++i) {
      clock.sleep_until(w.next_wake());
      w.poll();
      w.settle();
    }
  }
  // Polls and leaves a redeploy in flight.
  void tick_only(Watcher& w, int polls = 1) {
    for (int i = 0; i < polls; ++i) {
      clock.sleep_until(w.next_wake());
      w.poll();
    }
  }
};

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("watch: a healthy deployment only reports deployed and healthy", "[watch]") {
  Rig rig;
  rig.deployer.replicas = 2;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.tick(w, 5);
  CHECK(rig.names() == Names{"deployed", "deployed", "healthy", "healthy"});
  // One batched list call per provider per poll, however many replicas it holds.
  CHECK(rig.providers.list_calls["lab"] == 5);
  CHECK(rig.hosts.container_calls == 10);
  CHECK(rig.events[0].reason == "new");
  CHECK(rig.events[0].instance_id == "i-1");
  CHECK(rig.events[0].provider == "lab");
}

TEST_CASE("watch: a container exit is terminated, the host excluded, the replica redeployed",
          "[watch]") {
  Rig rig;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.tick(w);
  rig.hosts.containers["i-1"] =
      ContainerStatus{false, 3, "loading model\nCUDA error: out of memory\n"};
  rig.tick(w);
  CHECK(rig.names() ==
        Names{"deployed", "healthy", "failure", "terminated", "attempt", "redeployed"});
  auto failure = rig.of(EventType::kFailure).at(0);
  CHECK(failure.reason == "container-exit");
  CHECK(failure.instance_id == "i-1");
  CHECK(failure.detail.find("exited with code 3") != std::string::npos);
  CHECK(failure.detail.find("CUDA error: out of memory") != std::string::npos);
  CHECK(rig.providers.terminated == std::vector<std::string>{"i-1"});
  REQUIRE(rig.deployer.requests.size() == 1);
  CHECK(rig.deployer.requests[0].excluded == std::set<std::string>{"lab/offer-h-1", "lab/r1/h-1"});
  CHECK(rig.of(EventType::kRedeployed).at(0).instance_id == "i-2");
  rig.tick(w);
  CHECK(rig.names().back() == "healthy");
  CHECK(rig.events.back().instance_id == "i-2");
  CHECK(rig.events.back().detail.find("after the failure") != std::string::npos);
  CHECK(rig.providers.count() == 1);
}

TEST_CASE("watch: unhealthy needs `failures` in a row, and not during grace", "[watch]") {
  Rig rig;
  rig.workload.health.failures = 3;
  rig.workload.health.grace = 5s;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.hosts.health_results["i-1"] = HealthResult{false, "HTTP 503"};
  rig.tick(w, 4);  // t = 1..4s: within grace, never healthy yet
  CHECK(rig.of(EventType::kFailure).empty());
  rig.tick(w, 2);  // t = 5, 6: two failures counted
  CHECK(rig.of(EventType::kFailure).empty());
  rig.hosts.health_results["i-1"] = HealthResult{true, "HTTP 200"};
  rig.tick(w);  // a success resets the count
  rig.hosts.health_results["i-1"] = HealthResult{false, "HTTP 500"};
  rig.tick(w, 2);
  CHECK(rig.of(EventType::kFailure).empty());
  rig.tick(w);
  auto failures = rig.of(EventType::kFailure);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].reason == "unhealthy");
  CHECK(failures[0].detail == "the health check failed 3 times in a row: HTTP 500");
}

TEST_CASE("watch: instance lost and preempted come from the provider listing", "[watch]") {
  Rig rig;
  rig.deployer.replicas = 2;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.tick(w);
  rig.providers.remove("i-1");
  rig.providers.set_state("i-2", InstanceState::kPreempted, "preempted");
  rig.tick(w);
  auto failures = rig.of(EventType::kFailure);
  REQUIRE(failures.size() == 2);
  CHECK(failures[0].reason == "instance-lost");
  CHECK(failures[0].detail == "the provider no longer lists the instance");
  CHECK(failures[1].reason == "preempted");
  CHECK(rig.of(EventType::kRedeployed).size() == 2);
  CHECK(rig.providers.count() == 2);
}

TEST_CASE("watch: a terminated state at the provider is instance-lost", "[watch]") {
  Rig rig;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.providers.set_state("i-1", InstanceState::kTerminated, "terminated");
  rig.tick(w);
  auto failures = rig.of(EventType::kFailure);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].reason == "instance-lost");
  CHECK(failures[0].detail == "the provider reports the instance terminated");
}

TEST_CASE("watch: SSH failing within the grace period is not a failure", "[watch]") {
  Rig rig;
  rig.workload.restart.on.insert(FailureClass::kUnreachable);
  auto w = rig.make();
  REQUIRE(w.start());
  rig.tick(w);
  rig.hosts.unreachable.insert("i-1");
  rig.tick(w, 4);  // unreachable since t=2, now t=5: 3s < 5s
  CHECK(rig.of(EventType::kFailure).empty());
  rig.hosts.unreachable.clear();
  rig.tick(w);
  rig.hosts.unreachable.insert("i-1");
  rig.tick(w, 5);  // the grace restarts from the new outage
  CHECK(rig.of(EventType::kFailure).empty());
  rig.tick(w);
  auto failures = rig.of(EventType::kFailure);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].reason == "unreachable");
  CHECK(failures[0].detail.find("SSH has failed for 5.0s") == 0);
  CHECK(rig.of(EventType::kRedeployed).size() == 1);
}

TEST_CASE("watch: a failure outside restart.on is reported once and left alone", "[watch]") {
  Rig rig;  // the default restart.on has no `unreachable`
  auto w = rig.make();
  REQUIRE(w.start());
  rig.hosts.unreachable.insert("i-1");
  rig.tick(w, 20);
  auto failures = rig.of(EventType::kFailure);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].detail.find("restart.on does not include unreachable") != std::string::npos);
  CHECK(rig.providers.terminated.empty());
  CHECK(rig.deployer.requests.empty());
  rig.hosts.unreachable.clear();
  rig.tick(w);
  CHECK(rig.names().back() == "healthy");
}

TEST_CASE("watch: a provider outage is said once, backs off, and never redeploys", "[watch]") {
  Rig rig;
  rig.options.provider_backoff_max = 8s;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.tick(w);
  rig.providers.down.insert("lab");
  rig.hosts.unreachable.insert("i-1");  // the whole region is down, say
  int before = rig.providers.list_calls["lab"];
  rig.tick(w, 40);
  int during = rig.providers.list_calls["lab"] - before;
  CHECK(during < 10);  // 1, 2, 4, 8, 8, 8 ... seconds apart rather than every second
  CHECK(rig.of(EventType::kProviderUnavailable).size() == 1);
  CHECK(rig.of(EventType::kProviderUnavailable)[0].reason == "transient");
  CHECK(rig.of(EventType::kProviderUnavailable)[0].provider == "lab");
  CHECK(rig.of(EventType::kFailure).empty());
  rig.providers.down.clear();
  rig.hosts.unreachable.clear();
  rig.tick(w, 10);
  CHECK(rig.of(EventType::kProviderAvailable).size() == 1);
  CHECK(rig.of(EventType::kFailure).empty());
  CHECK(rig.deployer.requests.empty());
}

TEST_CASE("watch: Retry-After stretches a provider's backoff", "[watch]") {
  Rig rig;
  rig.providers.retry_after = std::chrono::milliseconds(30'000);
  auto w = rig.make();
  REQUIRE(w.start());
  rig.providers.down.insert("lab");
  rig.tick(w, 29);
  CHECK(rig.providers.list_calls["lab"] == 1);
  rig.tick(w, 2);
  CHECK(rig.providers.list_calls["lab"] == 2);
}

TEST_CASE("watch: redeploys back off exponentially and give up after max_restarts", "[watch]") {
  Rig rig;
  rig.workload.restart.max_restarts = 3;
  rig.workload.restart.backoff = Range<Duration>{Duration{10'000}, Duration{15'000}};
  // Every container exits as soon as it is deployed.
  rig.deployer.on_redeployed = [&](const Instance& i) {
    rig.hosts.containers[i.id] = ContainerStatus{false, 1, "boom"};
  };
  rig.hosts.containers["i-1"] = ContainerStatus{false, 1, "boom"};
  auto w = rig.make();
  REQUIRE(w.start());
  std::vector<Duration> redeploys;
  while (!w.exhausted() && rig.clock.elapsed() < 10min) {
    rig.tick(w);
    for (std::size_t i = redeploys.size(); i < rig.of(EventType::kRedeployed).size(); ++i)
      redeploys.push_back(rig.clock.elapsed());
  }
  REQUIRE(w.exhausted());
  // Detected at 1s and redeployed at once; then 10s, then 20s capped at 15s.
  CHECK(redeploys == std::vector<Duration>{1s, 11s, 26s});
  auto giving_up = rig.of(EventType::kGivingUp);
  REQUIRE(giving_up.size() == 1);
  CHECK(giving_up[0].reason == "container-exit");
  CHECK(giving_up[0].detail.find("3 restarts within 1h00m reached restart.max_restarts") == 0);
  CHECK(rig.providers.count() == 0);  // the last failed instance was terminated too
}

TEST_CASE("watch: run() exits 7 with a summary when no replica is left", "[watch]") {
  Rig rig;
  rig.workload.restart.max_restarts = 1;
  rig.deployer.on_redeployed = [&](const Instance& i) {
    rig.hosts.containers[i.id] = ContainerStatus{false, 2, ""};
  };
  rig.hosts.containers["i-1"] = ContainerStatus{false, 2, ""};
  auto w = rig.make();
  auto result = w.run();
  CHECK(result.code == ExitCode::kWorkloadFailed);
  CHECK(result.message == "no replica of 'app' is healthy and watch gave up");
  INFO(result.hint);
  CHECK(result.hint.find("replica 0: given up, 1 restart; last failure container-exit: "
                         "the container exited with code 2") == 0);
  CHECK(rig.names().back() == "stopped");
  CHECK(rig.events.back().reason == "gave-up");
  CHECK(rig.deployer.tear_downs == 0);
}

TEST_CASE("watch: restarts older than the window no longer count", "[watch]") {
  Rig rig;
  rig.workload.restart.max_restarts = 2;
  rig.workload.restart.window = 1min;
  auto w = rig.make();
  REQUIRE(w.start());
  for (int round = 0; round < 6; ++round) {
    auto id = w.replicas()[0].instance->id;
    rig.hosts.containers[id] = ContainerStatus{false, 1, ""};
    rig.tick(w);
    rig.tick(w, 61);  // healthy for longer than the window
  }
  CHECK(rig.of(EventType::kGivingUp).empty());
  CHECK(rig.of(EventType::kRedeployed).size() == 6);
  CHECK(w.replicas()[0].restarts.size() <= 2);
}

TEST_CASE("watch: replicas' hosts are probed side by side, so a silent host delays only its own",
          "[watch]") {
  Rig rig;
  rig.deployer.replicas = 3;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.hosts.meet = {"i-1", "i-2", "i-3"};
  rig.tick(w);
  CHECK(rig.hosts.most_at_once == 3);
  // And each replica is still judged on its own report, in replica order.
  CHECK(rig.names() == Names{"deployed", "deployed", "deployed", "healthy", "healthy", "healthy"});
  auto healthy = rig.of(EventType::kHealthy);
  for (int r = 0; r < 3; ++r) CHECK(healthy[r].replica == r);
}

TEST_CASE("watch: a host that does not answer holds up no other replica's failure", "[watch]") {
  Rig rig;
  rig.deployer.replicas = 2;
  rig.options.interval = 50ms;  // also how long a poll waits for its hosts (real time)
  auto w = rig.make();
  REQUIRE(w.start());
  rig.tick(w);
  REQUIRE(rig.of(EventType::kHealthy).size() == 2);
  rig.hosts.hang = {"i-1"};  // replica 0's host drops packets, say
  rig.hosts.health_results["i-2"] = HealthResult{false, "HTTP 500"};
  rig.tick(w, 3);
  // Replica 1 failed, was terminated and replaced while replica 0's host
  // still had not answered its one probe (never sent again meanwhile).
  auto failures = rig.of(EventType::kFailure);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].replica == 1);
  CHECK(failures[0].reason == "unhealthy");
  REQUIRE(rig.of(EventType::kRedeployed).size() == 1);
  CHECK(rig.hosts.calls_for("i-1") == 2);  // the first poll's, and the one still out
  rig.hosts.release();
  rig.tick(w, 2);
  CHECK(rig.hosts.calls_for("i-1") >= 3);  // answered, judged, probed again
  CHECK(rig.of(EventType::kFailure).size() == 1);
  CHECK(w.replicas()[0].instance->id == "i-1");
}

TEST_CASE("watch: with two replicas only the failed one moves", "[watch]") {
  Rig rig;
  rig.deployer.replicas = 2;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.tick(w);
  rig.hosts.health_results["i-2"] = HealthResult{false, "HTTP 500"};
  rig.tick(w, 2);
  CHECK(rig.providers.terminated == std::vector<std::string>{"i-2"});
  REQUIRE(rig.deployer.requests.size() == 1);
  CHECK(rig.deployer.requests[0].replica == 1);
  REQUIRE(rig.deployer.requests[0].others.size() == 1);
  CHECK(rig.deployer.requests[0].others[0].id == "i-1");
  CHECK(w.replicas()[0].instance->id == "i-1");
  CHECK(w.replicas()[1].instance->id == "i-3");
  for (const auto& e : rig.events)
    if (e.type != EventType::kDeployed && e.type != EventType::kHealthy)
      CHECK(e.replica == 1);
}

TEST_CASE("watch: an instance that cannot be terminated is retried, never abandoned", "[watch]") {
  Rig rig;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.providers.terminate_fails = true;
  rig.hosts.containers["i-1"] = ContainerStatus{false, 1, ""};
  rig.tick(w, 10);
  CHECK(rig.deployer.requests.empty());
  CHECK(rig.of(EventType::kTerminated).empty());
  CHECK(rig.of(EventType::kProviderUnavailable).size() == 1);
  rig.providers.terminate_fails = false;
  rig.tick(w, 20);
  CHECK(rig.of(EventType::kTerminated).size() == 1);
  CHECK(rig.deployer.requests.size() == 1);
  CHECK(rig.providers.count() == 1);
}

TEST_CASE("watch: a failed redeploy is reported and retried after the backoff", "[watch]") {
  Rig rig;
  rig.deployer.redeploy_failures = {
      Failure{ExitCode::kProviderFailed, "every offer failed: no capacity", ""}};
  auto w = rig.make();
  REQUIRE(w.start());
  rig.hosts.containers["i-1"] = ContainerStatus{false, 1, ""};
  rig.tick(w);
  auto failures = rig.of(EventType::kFailure);
  REQUIRE(failures.size() == 2);
  CHECK(failures[1].reason == "redeploy-failed");
  CHECK(rig.of(EventType::kAttempt).at(0).reason == "no-capacity");
  rig.tick(w, 9);
  CHECK(rig.deployer.requests.size() == 1);
  rig.tick(w);
  CHECK(rig.deployer.requests.size() == 2);
  CHECK(rig.of(EventType::kRedeployed).size() == 1);
}

TEST_CASE("watch: when only excluded hosts fit, the failed host is used again", "[watch]") {
  Rig rig;
  rig.deployer.fail_when_excluded_nonempty = true;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.hosts.containers["i-1"] = ContainerStatus{false, 1, ""};
  rig.tick(w);
  REQUIRE(rig.deployer.requests.size() == 2);
  CHECK(rig.deployer.requests[1].excluded.empty());
  auto redeployed = rig.of(EventType::kRedeployed);
  REQUIRE(redeployed.size() == 1);
  CHECK(redeployed[0].detail.find("excluded one is used again") != std::string::npos);
}

TEST_CASE("watch: exclusions expire after the cooldown", "[watch]") {
  Rig rig;
  rig.options.exclusion_cooldown = 30s;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.hosts.containers["i-1"] = ContainerStatus{false, 1, ""};
  rig.tick(w);
  CHECK(w.exclusions().size() == 2);
  rig.tick(w, 30);
  CHECK(w.exclusions().empty());
}

TEST_CASE("watch: a signal stops watching and leaves the deployment running", "[watch]") {
  Rig rig;
  rig.clock.cancel_at(10s);
  auto w = rig.make();
  auto result = w.run();
  CHECK(result.code == ExitCode::kInterrupted);
  CHECK(rig.deployer.tear_downs == 0);
  CHECK(rig.providers.count() == 1);
  CHECK(rig.names().back() == "stopped");
  CHECK(rig.events.back().reason == "interrupted");
  CHECK(rig.events.back().detail.find("left running ('berth down app' removes it)") !=
        std::string::npos);
}

TEST_CASE("watch: --down-on-exit tears the deployment down on a signal", "[watch]") {
  Rig rig;
  rig.options.down_on_exit = true;
  rig.clock.cancel_at(10s);
  auto w = rig.make();
  auto result = w.run();
  CHECK(result.code == ExitCode::kInterrupted);
  CHECK(rig.deployer.tear_downs == 1);
  CHECK(rig.providers.count() == 0);
  CHECK(rig.events.back().detail.find("torn down") != std::string::npos);
}

TEST_CASE("watch: the time limit stops watching with exit 0", "[watch]") {
  Rig rig;
  rig.options.deadline = WatchClock::TimePoint{} + 30s;
  auto w = rig.make();
  auto result = w.run();
  CHECK(result.code == ExitCode::kOk);
  CHECK(rig.clock.elapsed() == 30s);
  CHECK(rig.events.back().reason == "time-limit");
}

TEST_CASE("watch: the deadline counts from the command's start, the initial deploy included",
          "[watch]") {
  struct SlowDeploy : FakeDeployer {
    SlowDeploy(FakeProviders& p, FakeHosts& h, FakeClock& c) : FakeDeployer(p, h), clock(c) {}
    FakeClock& clock;
    Expected<std::vector<LiveReplica>, Failure> ensure(const AttemptSink& a) override {
      clock.advance(20s);  // a slow boot
      return FakeDeployer::ensure(a);
    }
  };
  Rig rig;
  SlowDeploy deployer(rig.providers, rig.hosts, rig.clock);
  rig.options.deadline = WatchClock::TimePoint{} + 30s;
  WatchServices s{&rig.clock, &rig.providers, &rig.hosts, &deployer, {}};
  std::vector<Event> events;
  s.events = [&](const Event& e) { events.push_back(e); };
  Watcher w(rig.workload, rig.options, s);
  auto result = w.run();
  CHECK(result.code == ExitCode::kOk);
  CHECK(rig.clock.elapsed() == 30s);
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().reason == "time-limit");
}

TEST_CASE("watch: a deadline that cancels a redeploy ends as the time limit, not a signal",
          "[watch]") {
  Rig rig;
  rig.deployer.replicas = 2;
  rig.deployer.hold = 1;
  rig.deployer.clock = &rig.clock;
  rig.options.deadline = WatchClock::TimePoint{} + 5s;
  // At the deadline the command's CommandDeadline cancels as a signal would.
  rig.clock.cancel_at(5s);
  rig.hosts.containers["i-2"] = ContainerStatus{false, 1, "boom"};
  auto w = rig.make();
  auto result = w.run();
  CHECK(result.code == ExitCode::kOk);
  CHECK_FALSE(w.redeploying());
  CHECK(rig.deployer.rolled_back);  // the redeploy removed what it had created
  CHECK(rig.of(EventType::kRedeployed).empty());
  for (const auto& f : rig.of(EventType::kFailure)) CHECK(f.reason != "redeploy-failed");
  CHECK(rig.names().back() == "stopped");
  CHECK(rig.events.back().reason == "time-limit");
}

TEST_CASE("watch: a failed initial deploy is returned as it is", "[watch]") {
  struct NoDeploy : FakeDeployer {
    using FakeDeployer::FakeDeployer;
    Expected<std::vector<LiveReplica>, Failure> ensure(const AttemptSink&) override {
      return unexpected(Failure{ExitCode::kNoPlacement, "no offer satisfies the template", ""});
    }
  };
  Rig rig;
  NoDeploy deployer(rig.providers, rig.hosts);
  WatchServices s{&rig.clock, &rig.providers, &rig.hosts, &deployer, {}};
  Watcher w(rig.workload, rig.options, s);
  auto result = w.run();
  CHECK(result.code == ExitCode::kNoPlacement);
}

TEST_CASE("watch: memory stays bounded over many failures", "[watch]") {
  Rig rig;
  rig.workload.restart.max_restarts = 1000000;
  rig.workload.restart.backoff = Range<Duration>{Duration{0}, Duration{0}};
  rig.workload.restart.window = 1min;
  rig.options.exclusion_cooldown = 20s;
  rig.deployer.on_redeployed = [&](const Instance& i) {
    if (i.id.size() % 2) rig.hosts.containers[i.id] = ContainerStatus{false, 1, "x"};
  };
  std::size_t events = 0;
  WatchServices s{&rig.clock, &rig.providers, &rig.hosts, &rig.deployer,
                  [&](const Event&) { ++events; }};
  Watcher w(rig.workload, rig.options, s);
  REQUIRE(w.start());
  std::size_t max_restarts = 0, max_exclusions = 0;
  for (int i = 0; i < 10'000; ++i) {
    rig.tick(w);
    if (i % 7 == 0 && w.replicas()[0].instance)
      rig.hosts.containers[w.replicas()[0].instance->id] = ContainerStatus{false, 1, "x"};
    max_restarts = std::max(max_restarts, w.replicas()[0].restarts.size());
    max_exclusions = std::max(max_exclusions, w.exclusions().size());
  }
  CHECK(events > 1000);
  CHECK(max_restarts <= 60);    // one window's worth at one poll per second
  CHECK(max_exclusions <= 42);  // two keys per failure within one cooldown
  CHECK(rig.providers.count() == 1);
  rig.hosts.containers.clear();
}

TEST_CASE("watch events: JSON lines carry every documented field", "[watch]") {
  Event e;
  e.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'796'000'000'123));
  e.type = EventType::kFailure;
  e.replica = 0;
  e.provider = "lambda";
  e.instance_id = "i-1";
  e.reason = "container-exit";
  e.detail = "exited with code 1";
  auto j = to_json(e);
  CHECK(j.dump() == R"({"detail":"exited with code 1","event":"failure","instance_id":"i-1",)"
                    R"("provider":"lambda","reason":"container-exit","replica":0,)"
                    R"("time":"2026-11-30T00:53:20.123Z"})");
  Event p;
  p.time = e.time;
  p.type = EventType::kProviderUnavailable;
  p.provider = "runpod";
  auto k = to_json(p);
  CHECK(k["replica"].is_null());
  CHECK(k["instance_id"].is_null());
  CHECK(k.size() == 7);
}

TEST_CASE("watch events: a text event is one line, with remote text defused", "[watch]") {
  Event e;
  e.time = std::chrono::system_clock::time_point(std::chrono::seconds(0));
  e.type = EventType::kFailure;
  e.replica = 1;
  e.provider = "lab";
  e.instance_id = "h1";
  e.reason = "container-exit";
  e.detail = "exited with code 1; last log lines:\nboom\x1b[31m\r\nend\n";
  CHECK(format_event_line(e) ==
        "1970-01-01T00:00:00.000Z failure replica=1 provider=lab instance=h1 "
        "reason=container-exit: exited with code 1; last log lines: | boom\\x1b[31m | end");
  Event s;
  s.time = e.time;
  s.type = EventType::kStopped;
  CHECK(format_event_line(s) == "1970-01-01T00:00:00.000Z stopped");
}

TEST_CASE("watch: every event type has its documented name", "[watch]") {
  using T = EventType;
  CHECK(to_string(T::kDeployed) == "deployed");
  CHECK(to_string(T::kHealthy) == "healthy");
  CHECK(to_string(T::kFailure) == "failure");
  CHECK(to_string(T::kTerminated) == "terminated");
  CHECK(to_string(T::kAttempt) == "attempt");
  CHECK(to_string(T::kRedeployed) == "redeployed");
  CHECK(to_string(T::kProviderUnavailable) == "provider-unavailable");
  CHECK(to_string(T::kProviderAvailable) == "provider-available");
  CHECK(to_string(T::kGivingUp) == "giving-up");
  CHECK(to_string(T::kStopped) == "stopped");
}

TEST_CASE("watch: a container the runtime restarted counts as an exit", "[watch]") {
  Rig rig;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.tick(w);
  rig.hosts.containers["i-1"] = ContainerStatus{true, 137, "killed", true};
  rig.tick(w);
  auto failures = rig.of(EventType::kFailure);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].reason == "container-exit");
  CHECK(failures[0].detail ==
        "the container exited with code 137 (the runtime restarted it); last log lines:\nkilled");
}

TEST_CASE("watch: a container-native instance the provider reports exited is a container exit",
          "[watch]") {
  Rig rig;
  rig.deployer.replicas = 2;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.tick(w);
  rig.providers.set_state("i-1", InstanceState::kExited, "EXITED");
  rig.hosts.containers["i-1"] = ContainerStatus{false, 3, "fatal: CUDA error: out of memory"};
  rig.providers.set_state("i-2", InstanceState::kExited, "EXITED");
  rig.hosts.unreachable.insert("i-2");  // its runtime cannot be asked: the provider's word stands
  rig.tick(w);
  auto failures = rig.of(EventType::kFailure);
  REQUIRE(failures.size() == 2);
  CHECK(failures[0].reason == "container-exit");
  CHECK(failures[0].detail ==
        "the container exited with code 3 (the provider reports it EXITED); last log lines:\n"
        "fatal: CUDA error: out of memory");
  CHECK(failures[1].reason == "container-exit");
  CHECK(failures[1].detail == "the container exited (the provider reports it EXITED)");
  CHECK(rig.providers.terminated == std::vector<std::string>{"i-1", "i-2"});
  CHECK(rig.of(EventType::kRedeployed).size() == 2);
}

TEST_CASE("watch: another replica's failure is detected while a redeploy is in flight", "[watch]") {
  Rig rig;
  rig.deployer.replicas = 2;
  rig.deployer.hold = 0;
  rig.deployer.clock = &rig.clock;
  auto w = rig.make();
  REQUIRE(w.start());
  rig.tick(w);
  rig.hosts.containers["i-1"] = ContainerStatus{false, 1, "boom"};
  rig.tick_only(w);
  REQUIRE(w.redeploying());
  REQUIRE(rig.deployer.wait_holding());
  CHECK(w.replicas()[0].phase == ReplicaWatch::Phase::kRedeploying);

  // Replica 0's redeploy hangs (a slow boot, say); replica 1 fails meanwhile.
  rig.hosts.health_results["i-2"] = HealthResult{false, "HTTP 500"};
  int lists = rig.providers.list_calls["lab"];
  int probes = rig.hosts.container_calls;
  rig.tick_only(w, 2);
  CHECK(rig.providers.list_calls["lab"] - lists == 2);  // polling went on, once per interval
  CHECK(rig.hosts.container_calls - probes == 2);       // replica 1 only: 0 has no instance
  auto failures = rig.of(EventType::kFailure);
  REQUIRE(failures.size() == 2);
  CHECK(failures[1].reason == "unhealthy");
  CHECK(failures[1].replica == 1);
  CHECK(failures[1].instance_id == "i-2");
  CHECK(rig.providers.terminated == std::vector<std::string>{"i-1", "i-2"});
  // What the redeploy in flight reported so far is out already.
  auto attempts = rig.of(EventType::kAttempt);
  REQUIRE(attempts.size() == 1);
  CHECK(attempts[0].reason == "no-capacity");
  CHECK(attempts[0].replica == 0);
  // One redeploy at a time: replica 1 waits for its turn.
  CHECK(w.redeploying());
  CHECK(rig.deployer.requests.size() == 1);
  CHECK(w.replicas()[1].phase == ReplicaWatch::Phase::kWaiting);
  CHECK(rig.of(EventType::kRedeployed).empty());

  // When it ends, replica 1's starts at once.
  rig.deployer.release();
  w.settle();
  auto redeployed = rig.of(EventType::kRedeployed);
  REQUIRE(redeployed.size() == 2);
  CHECK(redeployed[0].replica == 0);
  CHECK(redeployed[0].instance_id == "i-3");
  CHECK(redeployed[1].replica == 1);
  CHECK(redeployed[1].instance_id == "i-4");
  // Its placement saw replica 0's new instance, not the hole it left.
  REQUIRE(rig.deployer.requests.size() == 2);
  REQUIRE(rig.deployer.requests[1].others.size() == 1);
  CHECK(rig.deployer.requests[1].others[0].id == "i-3");
  CHECK(rig.deployer.requests[1].excluded.count("lab/r1/h-2") == 1);
  CHECK(rig.providers.count() == 2);
}

TEST_CASE(
    "watch: a signal during a redeploy lets it remove what it created, and leaves the "
    "other replica running",
    "[watch]") {
  Rig rig;
  rig.deployer.replicas = 2;
  rig.deployer.hold = 1;
  rig.deployer.clock = &rig.clock;
  rig.clock.cancel_at(5s);
  rig.hosts.containers["i-2"] = ContainerStatus{false, 1, "boom"};
  auto w = rig.make();
  auto result = w.run();
  CHECK(result.code == ExitCode::kInterrupted);
  CHECK_FALSE(w.redeploying());
  CHECK(rig.deployer.rolled_back);
  CHECK(rig.deployer.tear_downs == 0);
  // Replica 0 was polled all along and is left as it was.
  CHECK(rig.providers.list_calls["lab"] >= 4);
  CHECK(rig.providers.count() == 1);
  CHECK(rig.providers.instances["lab"].at(0).id == "i-1");
  CHECK(rig.of(EventType::kRedeployed).empty());
  for (const auto& f : rig.of(EventType::kFailure)) CHECK(f.reason != "redeploy-failed");
  CHECK(rig.names().back() == "stopped");
  CHECK(rig.events.back().reason == "interrupted");
}

TEST_CASE("watch: --down-on-exit waits for a redeploy in flight and tears its instance down too",
          "[watch]") {
  Rig rig;
  rig.options.down_on_exit = true;
  rig.options.deadline = WatchClock::TimePoint{} + 3s;
  rig.deployer.replicas = 2;
  rig.deployer.hold = 1;
  rig.hosts.containers["i-2"] = ContainerStatus{false, 1, "boom"};
  bool in_flight_at_deadline = false;
  Watcher* watcher = nullptr;
  rig.clock.on_wake = [&](Duration t) {
    if (t < 3s) return;
    in_flight_at_deadline = watcher->redeploying();
    rig.deployer.release();  // it ends after the time limit came
  };
  auto w = rig.make();
  watcher = &w;
  auto result = w.run();
  CHECK(result.code == ExitCode::kOk);
  CHECK(in_flight_at_deadline);
  CHECK_FALSE(w.redeploying());
  CHECK(rig.of(EventType::kRedeployed).size() == 1);
  CHECK(rig.deployer.tear_downs == 1);
  CHECK(rig.providers.count() == 0);
}

TEST_CASE("watch: --for takes the deployment down at the end and exits 0", "[watch]") {
  Rig rig;
  rig.options.run_until = WatchClock::TimePoint{} + 45s;
  auto w = rig.make();
  auto result = w.run();
  CHECK(result.code == ExitCode::kOk);
  CHECK(rig.clock.elapsed() == 45s);
  CHECK(rig.deployer.tear_downs == 1);  // without --down-on-exit
  CHECK(rig.providers.count() == 0);
  CHECK(rig.names().back() == "stopped");
  CHECK(rig.events.back().reason == "duration");
  CHECK(rig.events.back().detail.find("torn down") != std::string::npos);
}

TEST_CASE("watch: --budget takes the deployment down once its replicas cost that much",
          "[watch]") {
  Rig rig;
  // One replica at 1.50 USD/h: 0.25 USD are spent after 10 minutes.
  rig.options.budget_usd = 0.25;
  auto w = rig.make();
  auto result = w.run();
  CHECK(result.code == ExitCode::kOk);
  CHECK(rig.clock.elapsed() >= 10min);
  CHECK(rig.clock.elapsed() <= 10min + 1s);
  CHECK(rig.deployer.tear_downs == 1);
  CHECK(rig.events.back().reason == "budget");
  CHECK(rig.events.back().detail.find("budget of 0.25 USD is spent") != std::string::npos);
}
