// The deploy engine against a scripted provider and a recording host: the
// failover, rollback, idempotency and secret-handling rules of the deploy lifecycle,
// without a network.
#include "berth/deploy/deploy.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <condition_variable>
#include <set>
#include <thread>

#include "berth/common/cancel.h"
#include "berth/deploy/deploy_status.h"
#include "support/temp_dir.h"

using namespace berth;

namespace {

Offer offer(const std::string& provider, const std::string& id, double price) {
  Offer o;
  o.provider = provider;
  o.id = id;
  o.region = "us-east-1";
  o.price_per_hour = price;
  return o;
}

// A provider whose launches follow a script: an error kind, or an instance
// that walks through a list of states on each get().
class ScriptedProvider : public Provider {
 public:
  struct Launch {
    std::optional<ProviderError::Kind> error;
    bool creates_anyway = false;  // the error came after the instance was made
    bool names_it = false;        // ...and the error says which (created_instance)
    std::vector<InstanceState> states{InstanceState::kRunning};
  };
  ScriptedProvider(std::string name, std::string type = "lambda", bool native = false)
      : name_(std::move(name)), type_(std::move(type)), native_(native) {
    // As the real adapters of these types state it.
    if (type_ == "ssh") caps.runs = Capabilities::Runs::kHost;
    if (type_ == "local") caps.runs = Capabilities::Runs::kThisMachine;
  }

  std::deque<Launch> script;
  std::map<std::string, Instance> instances;  // every one ever created, by id
  std::map<std::string, std::vector<InstanceState>> pending;
  std::vector<std::string> launched_names;
  std::vector<std::string> terminated;
  int next_id = 1;
  bool terminate_is_lazy = false;  // reports "stopping" once before gone
  bool report_progress = true;     // false: nothing moves while it boots

  const std::string& name() const override { return name_; }
  std::string type() const override { return type_; }
  Capabilities capabilities() const override {
    Capabilities c = caps;
    if (native_) {
      c.runs = Capabilities::Runs::kPod;
      c.logs = Capabilities::Logs::kApi;
    }
    return c;
  }
  Capabilities caps = [] {
    Capabilities c;
    c.labels = true;
    return c;
  }();
  std::vector<WorkloadSpec> containers;  // what each launch was asked to start
  Expected<std::vector<Offer>, ProviderError> list_offers(const OfferQuery&) override { return std::vector<Offer>{}; }

  // The replicas of one deploy run on threads of their own.
  std::recursive_mutex mutex;

  Expected<Instance, ProviderError> launch(const LaunchRequest& req) override {
    std::lock_guard lock(mutex);
    launched_names.push_back(req.name);
    if (req.container) containers.push_back(*req.container);
    Launch step = script.empty() ? Launch{} : script.front();
    if (!script.empty()) script.pop_front();
    if (step.error && !step.creates_anyway)
      return unexpected(ProviderError{*step.error, "scripted " + to_string(*step.error), {}});
    Instance i;
    i.provider = name_;
    i.id = name_ + "-" + std::to_string(next_id++);
    i.name = req.name;
    i.region = req.offer.region;
    i.offer_id = req.offer.id;
    i.price_per_hour = req.offer.price_per_hour;
    i.labels = req.labels;
    i.state = InstanceState::kProvisioning;
    instances[i.id] = i;
    pending[i.id] = step.states;
    if (step.error) {
      ProviderError e{*step.error, "scripted after create", {}};
      if (step.names_it) e.created_instance = i.id;
      return unexpected(e);
    }
    return i;
  }
  Expected<Instance, ProviderError> get(const std::string& id) override {
    std::lock_guard lock(mutex);
    auto it = instances.find(id);
    if (it == instances.end()) return unexpected(ProviderError{ProviderError::Kind::kNotFound, "no", {}});
    auto& states = pending[id];
    if (!states.empty() && it->second.state != InstanceState::kTerminated &&
        it->second.state != InstanceState::kStopping) {
      it->second.state = states.front();
      if (report_progress) it->second.progress = std::to_string(states.size());
      if (states.size() > 1) states.erase(states.begin());
      if (it->second.state == InstanceState::kRunning) it->second.host = "10.0.0." + id.substr(id.size() - 1);
    }
    if (it->second.state == InstanceState::kStopping) {
      Instance copy = it->second;
      it->second.state = InstanceState::kTerminated;
      return copy;
    }
    return it->second;
  }
  Expected<std::vector<Instance>, ProviderError> list() override {
    std::lock_guard lock(mutex);
    std::vector<Instance> out;
    for (auto& [id, i] : instances)
      if (i.state != InstanceState::kTerminated) out.push_back(i);
    return out;
  }
  Expected<void, ProviderError> terminate(const std::string& id) override {
    std::lock_guard lock(mutex);
    terminated.push_back(id);
    auto it = instances.find(id);
    if (it != instances.end())
      it->second.state = terminate_is_lazy ? InstanceState::kStopping : InstanceState::kTerminated;
    return {};
  }
  Expected<void, ProviderError> check_credentials() override { return {}; }
  // A pod's log through the API (Capabilities::Logs::kApi when native).
  std::vector<std::string> log_lines;
  std::vector<int> logs_asked;  // the tail of each logs() call
  Expected<std::vector<std::string>, ProviderError> logs(const std::string&, int tail) override {
    std::lock_guard lock(mutex);
    logs_asked.push_back(tail);
    return log_lines;
  }

  std::vector<Instance> alive() {
    auto l = list();
    return *l;
  }

 private:
  std::string name_, type_;
  bool native_;
};

// Records every command; answers the few whose output the engine reads.
class RecordingHost : public Host {
 public:
  std::vector<HostCommand> commands;
  bool start_fails = false;
  bool container_running = true;
  bool image_present = false;
  std::string addr = "10.0.0.9";
  std::string log_text = "loading\nCUDA out of memory\n";
  std::string labels_json = "{}";  // the container's labels, as inspect shows them

  std::string address() const override { return addr; }
  std::mutex mutex;
  Expected<ProcessResult, std::string> run(const HostCommand& c) override {
    {
      std::lock_guard lock(mutex);
      commands.push_back(c);
    }
    ProcessResult r;
    r.exit_code = 0;
    const auto& a = c.argv;
    if (a.size() > 2 && a[0] == "sh" && a[2].find("pwd") != std::string::npos)
      r.out = "/home/u/.berth/" + a.back() + "\n";
    // The start in the private directory: sh -c SCRIPT sh INSTANCE FILES
    // STALE CHECK_IMAGE RUNTIME ARGV...; with CHECK_IMAGE and the image
    // absent, it starts nothing and says so.
    if (a.size() > 8 && a[0] == "sh" && a[2].find(kImageMissing) != std::string::npos &&
        !a[7].empty() && !image_present) {
      r.out = std::string(kImageMissing) + "\n";
      return r;
    }
    // The log read after a failure: sh -c '"$@" 2>&1 | tail -c N' sh RUNTIME logs ...
    if (a.size() > 5 && a[0] == "sh" && a[4] != "" && a[5] == "logs")
      r.out = log_text;
    if (a.size() > 1 && a[1] == "inspect")
      r.out = std::string(R"([{"Id":"c1","Name":"x","State":{"Status":")") +
              (container_running ? "running\",\"Running\":true" : "exited\",\"Running\":false,\"ExitCode\":3") +
              R"(,"StartedAt":"2026-01-01T00:00:00Z"},"Config":{"Labels":)" + labels_json + "}}]";
    bool is_run = std::find(a.begin(), a.end(), "run") != a.end() &&
                  std::find(a.begin(), a.end(), "-d") != a.end();
    if (is_run && start_fails) {
      r.exit_code = 125;
      r.err = "Error: port already in use\n";
    }
    return r;
  }
  Expected<int, std::string> login_shell() override { return 0; }

  bool ran(const std::string& word) const {
    for (const auto& c : commands)
      for (const auto& a : c.argv)
        if (a == word) return true;
    return false;
  }
};

class FixedConnector : public HostConnector {
 public:
  explicit FixedConnector(std::shared_ptr<RecordingHost> h) : host(std::move(h)) {}
  std::shared_ptr<RecordingHost> host;
  std::atomic<int> connects{0};
  std::optional<HostError> fail;
  /// Hosts that never answer: connecting to these fails as unreachable.
  std::set<std::string> dead;
  Expected<std::shared_ptr<Host>, HostError> connect(const Instance& i, const std::string&) override {
    ++connects;
    if (fail) return unexpected(*fail);
    if (dead.count(i.host))
      return unexpected(HostError{HostError::Kind::kUnreachable, "Connection refused", ""});
    return std::shared_ptr<Host>(host);
  }
};

LaunchTemplate workload(const std::string& hash = "abc123def456") {
  LaunchTemplate w;
  w.name = "demo";
  w.hash = hash;
  w.image = {"registry.example/demo:1", false};
  w.env = {{"PLAIN", {"hello", false}}, {"TOKEN", {"s3cret-$(touch /tmp/x)", true}}};
  w.ports = {PortMapping{8080, std::nullopt, "tcp"}};
  return w;
}

struct Harness {
  std::map<std::string, std::unique_ptr<ScriptedProvider>> providers;
  std::shared_ptr<RecordingHost> host = std::make_shared<RecordingHost>();
  FixedConnector connector{host};
  std::vector<DeployEvent> events;
  std::atomic<bool> cancel{false};
  DeployContext ctx;
  int plans = 0;

  Harness() {
    ctx.provider = [this](const std::string& n) -> Provider* {
      auto it = providers.find(n);
      return it == providers.end() ? nullptr : it->second.get();
    };
    ctx.hosts = &connector;
    ctx.local = &connector;
    ctx.runtime = ContainerRuntime{ContainerRuntime::Kind::kPodman, "podman"};
    ctx.cancel = &cancel;
    ctx.events = [this](const DeployEvent& e) { events.push_back(e); };
    ctx.options.poll_initial = Duration{1};
    ctx.options.poll_max = Duration{2};
    ctx.options.confirm_timeout = Duration{500};
    ctx.options.running_check = Duration{1};
    ctx.options.connect_timeout = Duration{50};
  }
  ScriptedProvider& add(const std::string& name, const std::string& type = "lambda", bool native = false) {
    providers[name] = std::make_unique<ScriptedProvider>(name, type, native);
    return *providers[name];
  }
  PlanFunction plan_of(std::vector<Offer> offers) {
    return [this, offers](const std::vector<int>& replicas) -> Expected<Plan, Failure> {
      ++plans;
      Plan p;
      for (int r : replicas) {
        ReplicaPlacement rp;
        rp.replica = r;
        rp.offer = offers.front();
        rp.fallbacks.assign(offers.begin() + 1, offers.end());
        p.placement.push_back(rp);
      }
      return p;
    };
  }
  std::size_t alive_everywhere() {
    std::size_t n = 0;
    for (auto& [name, p] : providers) n += p->alive().size();
    return n;
  }
};

using K = ProviderError::Kind;

}  // namespace

TEST_CASE("deploy fails over from a capacity error to the next offer and reports both", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  auto& b = h.add("runpod");
  a.script.push_back({K::kNoCapacity});
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "gpu_1x_a10", 0.75), offer("runpod", "A40", 0.9)}), h.ctx);
  REQUIRE(r);
  REQUIRE(r->attempts.size() == 2);
  CHECK(r->attempts[0].result == "no-capacity");
  CHECK(r->attempts[0].provider == "lambda");
  CHECK(r->attempts[1].result == "launched");
  CHECK(r->replicas.size() == 1);
  CHECK(r->replicas[0].instance.provider == "runpod");
  CHECK(r->replicas[0].state == ReplicaState::kRunning);
  CHECK(b.launched_names == std::vector<std::string>{"berth-demo-0-abc123def456"});
  REQUIRE(r->replicas[0].endpoints.size() == 1);
  CHECK(r->replicas[0].endpoints[0].port == 8080);
  auto j = to_json(*r);
  CHECK(j["attempts"].size() == 2);
  CHECK(j["replicas"][0]["instance_id"] == "runpod-1");
}

TEST_CASE("an offer above max_price is never launched, whatever the plan says", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  auto& b = h.add("runpod");
  a.script.push_back({K::kNoCapacity});
  auto w = workload();
  w.placement.max_price = 1.0;
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.75), offer("runpod", "b", 1.5)}), h.ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().failure.code == ExitCode::kProviderFailed);
  CHECK(b.launched_names.empty());
}

TEST_CASE("a launch with an unknown effect is followed by an orphan sweep", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  h.add("runpod");
  a.script.push_back({K::kTransient, true});
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5), offer("runpod", "b", 0.6)}), h.ctx);
  REQUIRE(r);
  CHECK(a.terminated == std::vector<std::string>{"lambda-1"});
  CHECK(a.alive().empty());
  CHECK(r->replicas[0].instance.provider == "runpod");
}

TEST_CASE("every attempt failing is exit 6; only credential failures are exit 4", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  a.script.push_back({K::kNoCapacity});
  a.script.push_back({K::kTransient});
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5), offer("lambda", "b", 0.6)}), h.ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().failure.code == ExitCode::kProviderFailed);
  CHECK(r.error().attempts.size() == 2);

  Harness h2;
  auto& c = h2.add("lambda");
  c.script.push_back({K::kAuth});
  auto r2 = deploy(w, std::nullopt, h2.plan_of({offer("lambda", "a", 0.5), offer("lambda", "b", 0.6)}), h2.ctx);
  REQUIRE_FALSE(r2);
  CHECK(r2.error().failure.code == ExitCode::kAuth);
  CHECK(c.launched_names.size() == 1);  // the provider is not asked again after auth
}

TEST_CASE("a slow boot that keeps changing is waited for; a stuck one is replaced", "[deploy]") {
  Harness h;
  h.ctx.options.stall_timeout = Duration{40};
  auto& a = h.add("lambda");
  auto& b = h.add("runpod");
  // Many distinct progress values: never stalls, however long it takes.
  ScriptedProvider::Launch slow;
  slow.states.assign(30, InstanceState::kBooting);
  slow.states.push_back(InstanceState::kRunning);
  a.script.push_back(slow);
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5), offer("runpod", "b", 0.6)}), h.ctx);
  REQUIRE(r);
  CHECK(r->replicas[0].instance.provider == "lambda");

  Harness h2;
  h2.ctx.options.stall_timeout = Duration{20};
  auto& c = h2.add("lambda");
  auto& d = h2.add("runpod");
  ScriptedProvider::Launch stuck;
  stuck.states = {InstanceState::kBooting};  // forever the same
  c.script.push_back(stuck);
  auto r2 = deploy(w, std::nullopt, h2.plan_of({offer("lambda", "a", 0.5), offer("runpod", "b", 0.6)}), h2.ctx);
  REQUIRE(r2);
  CHECK(r2->replicas[0].instance.provider == "runpod");
  CHECK(c.alive().empty());
  CHECK(r2->attempts[0].result == "failed");
  (void)b;
  (void)d;
}

TEST_CASE("a container that does not start rolls everything back: exit 7", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  a.terminate_is_lazy = true;
  h.host->start_fails = true;
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().failure.code == ExitCode::kWorkloadFailed);
  CHECK(r.error().failure.message.find("port already in use") != std::string::npos);
  CHECK(a.alive().empty());
  CHECK(r.error().leaked.empty());
}

TEST_CASE("keep-on-failure keeps the instance", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  h.host->start_fails = true;
  h.ctx.options.keep_on_failure = true;
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE_FALSE(r);
  CHECK(a.alive().size() == 1);
}

TEST_CASE("a container that exits is a workload failure", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  h.host->container_running = false;
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().failure.code == ExitCode::kWorkloadFailed);
  CHECK(a.alive().empty());
}

TEST_CASE("an interrupt while booting terminates the instance and exits 130", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  ScriptedProvider::Launch slow;
  slow.states.assign(1000, InstanceState::kBooting);
  for (std::size_t i = 0; i < slow.states.size(); ++i) slow.states[i] = InstanceState::kBooting;
  a.script.push_back(slow);
  int phases = 0;
  h.ctx.events = [&](const DeployEvent& e) {
    if (e.kind == DeployEvent::Kind::kPhase && ++phases == 5) h.cancel = true;
  };
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().failure.code == ExitCode::kInterrupted);
  CHECK(a.alive().empty());
  CHECK(a.terminated.size() == 1);
}

TEST_CASE("up: --timeout after the instance exists rolls back exactly as an interrupt", "[deploy]") {
  // The real chain: CommandDeadline sets the process-wide cancel flag.
  reset_cancel();
  for (bool keep : {false, true}) {
    Harness h;
    h.ctx.cancel = &cancel_flag();
    h.ctx.options.keep_on_failure = keep;
    auto& a = h.add("lambda");
    ScriptedProvider::Launch slow;
    slow.states.assign(100000, InstanceState::kBooting);
    a.script.push_back(slow);
    auto w = workload();
    Expected<DeployResult, DeployFailure> r = unexpected(DeployFailure{});
    {
      CommandDeadline deadline(Duration{100});
      r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
      CHECK(deadline.expired());
    }
    reset_cancel();
    REQUIRE_FALSE(r);
    CHECK(r.error().failure.code == ExitCode::kInterrupted);
    CHECK(r.error().leaked.empty());
    REQUIRE(a.launched_names.size() == 1);
    if (keep) {
      CHECK(a.alive().size() == 1);  // --keep-on-failure keeps it, as on ^C
      CHECK(a.terminated.empty());
    } else {
      CHECK(a.alive().empty());  // terminated and confirmed gone
      CHECK(a.terminated.size() == 1);
    }
  }
}

TEST_CASE("down's deadline ends the waits for confirmation, never the terminate requests",
          "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  a.terminate_is_lazy = true;  // each instance reads "stopping" once before it is gone
  auto w = workload();
  w.replicas = 2;
  REQUIRE(deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx));
  auto d = group_deployments(a.alive());
  REQUIRE(d.size() == 1);
  h.ctx.options.confirm_timeout = Duration{600'000};
  h.ctx.options.poll_initial = Duration{1'000};
  h.ctx.options.confirm_deadline = std::chrono::steady_clock::now();
  auto start = std::chrono::steady_clock::now();
  auto t = teardown(d[0], h.ctx);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(a.terminated.size() == 2);  // both asked, though the time was up
  CHECK(t.terminated.empty());
  REQUIRE(t.leaked.size() == 2);  // not seen gone: reported, never claimed
  REQUIRE(t.errors.size() == 2);
  CHECK(t.errors[0].find("not confirmed gone by the deadline") != std::string::npos);
}

TEST_CASE("a changed host key is refused at once, and the instance removed", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  h.connector.fail = HostError{HostError::Kind::kHostKeyChanged, "host key changed", "check it"};
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().failure.message.find("host key changed") != std::string::npos);
  CHECK(h.connector.connects == 1);
  CHECK(a.alive().empty());
}

TEST_CASE("secrets reach the host only through stdin, never an argv", "[deploy]") {
  Harness h;
  h.add("lambda");
  auto w = workload();
  w.registry_auth = RegistryAuth{{"robot", true}, {"hunter2-pass", true}};
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE(r);
  bool env_via_stdin = false, auth_via_stdin = false;
  for (const auto& c : h.host->commands) {
    for (const auto& arg : c.argv) {
      CHECK(arg.find("s3cret") == std::string::npos);
      CHECK(arg.find("hunter2") == std::string::npos);
      CHECK(arg.find("robot") == std::string::npos);
    }
    if (c.stdin_data && c.stdin_data->find("TOKEN=s3cret-$(touch /tmp/x)") != std::string::npos)
      env_via_stdin = true;
    if (c.stdin_data && c.stdin_data->find("auths") != std::string::npos) auth_via_stdin = true;
  }
  CHECK(env_via_stdin);
  CHECK(auth_via_stdin);
  CHECK(h.host->ran("pull"));
}

TEST_CASE("a pinned image already on the host is not pulled again; latest always is", "[deploy]") {
  Harness h;
  h.add("lambda");
  h.host->image_present = true;
  auto w = workload();  // registry.example/demo:1
  REQUIRE(deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx));
  CHECK_FALSE(h.host->ran("pull"));

  Harness h2;
  h2.add("lambda");
  h2.host->image_present = true;
  auto latest = workload();
  latest.image = {"registry.example:5000/demo", false};
  REQUIRE(deploy(latest, std::nullopt, h2.plan_of({offer("lambda", "a", 0.5)}), h2.ctx));
  CHECK(h2.host->ran("pull"));
}

TEST_CASE("a pinned image on the host starts in one remote command, secrets on its stdin",
          "[deploy]") {
  Harness h;
  h.add("lambda");
  h.host->image_present = true;
  auto w = workload();
  REQUIRE(deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx));
  // The start, then the check that the container keeps running: no work
  // dir, file, image or stale-container round trips before the start.
  REQUIRE(h.host->commands.size() == 2);
  const auto& start = h.host->commands.front();
  CHECK(std::find(start.argv.begin(), start.argv.end(), "run") != start.argv.end());
  CHECK(std::find(start.argv.begin(), start.argv.end(), "--pull=never") != start.argv.end());
  REQUIRE(start.stdin_data);
  CHECK(start.stdin_data->find("TOKEN=s3cret-$(touch /tmp/x)") != std::string::npos);
  CHECK_FALSE(h.host->ran("pull"));
  CHECK(h.host->commands.back().argv[1] == "inspect");
}

TEST_CASE("a stale container on a host that outlives instances is replaced by the start itself",
          "[deploy]") {
  for (auto kind : {ContainerRuntime::Kind::kPodman, ContainerRuntime::Kind::kDocker}) {
    Harness h;
    h.add("lab", "ssh");
    h.host->image_present = true;
    h.ctx.runtime =
        ContainerRuntime{kind, kind == ContainerRuntime::Kind::kDocker ? "docker" : "podman"};
    auto w = workload();
    REQUIRE(deploy(w, std::nullopt, h.plan_of({offer("lab", "a", 0.5)}), h.ctx));
    // The start and the running check: no separate `rm`.
    REQUIRE(h.host->commands.size() == 2);
    const auto& a = h.host->commands.front().argv;
    if (kind == ContainerRuntime::Kind::kPodman) {
      CHECK(std::find(a.begin(), a.end(), "--replace") != a.end());
      CHECK(a[6].empty());  // nothing to remove first
    } else {
      CHECK(a[6] == "berth-demo-0-abc123def456");  // removed in the same command
    }
  }
}

TEST_CASE("a secret in the command is refused before anything is created", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  auto w = workload();
  w.command = ContainerCommand{false, {{"--token", false}, {"xyz", true}}};
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().failure.code == ExitCode::kInvalidInput);
  CHECK(a.launched_names.empty());
}

TEST_CASE("up is idempotent and replaces a changed template one replica at a time", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  auto w = workload("aaaaaaaaaaaa");
  w.replicas = 2;
  auto first = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE(first);
  CHECK(a.alive().size() == 2);
  auto existing = group_deployments(a.alive());
  REQUIRE(existing.size() == 1);

  auto again = deploy(w, existing[0], h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE(again);
  CHECK(again->unchanged);
  CHECK(h.plans == 1);

  auto changed = workload("bbbbbbbbbbbb");
  changed.replicas = 2;
  auto replaced = deploy(changed, existing[0], h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE(replaced);
  CHECK(replaced->replaced.size() == 2);
  auto now = a.alive();
  REQUIRE(now.size() == 2);
  for (const auto& i : now) CHECK(i.name.find("bbbbbbbbbbbb") != std::string::npos);
  // The old replicas went once both new ones ran.
  CHECK(a.terminated.size() == 2);
}

TEST_CASE("container-native providers get no host commands", "[deploy]") {
  Harness h;
  auto& a = h.add("runpod", "runpod", true);
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("runpod", "a", 0.5)}), h.ctx);
  REQUIRE(r);
  CHECK(h.host->commands.empty());
  CHECK(a.alive().size() == 1);
}

TEST_CASE("teardown removes every replica and confirms", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  a.terminate_is_lazy = true;
  auto w = workload();
  w.replicas = 2;
  REQUIRE(deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx));
  auto d = group_deployments(a.alive());
  REQUIRE(d.size() == 1);
  auto t = teardown(d[0], h.ctx);
  CHECK(t.terminated.size() == 2);
  CHECK(t.leaked.empty());
  CHECK(a.alive().empty());
}

TEST_CASE("a 429 on launch is waited out and the same offer tried again", "[deploy]") {
  Harness h;
  auto& a = h.add("vast");
  a.caps.pacing = {Duration{0}, Duration{20}};
  a.script.push_back({K::kRateLimited});
  a.script.push_back({K::kRateLimited});
  auto w = workload();
  auto r = deploy(w, std::nullopt,
                  h.plan_of({offer("vast", "first", 0.5), offer("vast", "second", 0.6)}), h.ctx);
  REQUIRE(r);
  // No candidate was spent on a 429: the first offer launched on its third try.
  REQUIRE(r->attempts.size() == 1);
  CHECK(r->attempts[0].offer_id == "first");
  CHECK(r->attempts[0].result == "launched");
  CHECK(a.launched_names.size() == 3);
  int waits = 0;
  for (const auto& e : h.events)
    if (e.text.find("refused the launch as too frequent (429): waiting") != std::string::npos) ++waits;
  CHECK(waits == 2);
}

TEST_CASE("launches to one provider keep its documented interval", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  a.caps.pacing = {Duration{150}, Duration{150}};
  a.script.push_back({K::kNoCapacity});
  a.script.push_back({K::kNoCapacity});
  auto w = workload();
  auto start = std::chrono::steady_clock::now();
  auto r = deploy(w, std::nullopt,
                  h.plan_of({offer("lambda", "a", 0.5), offer("lambda", "b", 0.6),
                             offer("lambda", "c", 0.7)}),
                  h.ctx);
  REQUIRE(r);
  CHECK(r->attempts.size() == 3);
  CHECK(r->attempts[2].result == "launched");
  // Three launches, two intervals between them (a lower bound: never sooner).
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
  bool said = false;
  for (const auto& e : h.events)
    said = said || e.text.find("before launching at lambda (its launch rate limit)") !=
                       std::string::npos;
  CHECK(said);
}

TEST_CASE("a refused launch that made an instance anyway has it removed", "[deploy]") {
  Harness h;
  auto& a = h.add("vast");
  ScriptedProvider::Launch made_anyway;
  made_anyway.error = K::kInvalidRequest;
  made_anyway.creates_anyway = true;
  made_anyway.names_it = true;
  a.script.push_back(made_anyway);
  auto w = workload();
  auto r = deploy(w, std::nullopt,
                  h.plan_of({offer("vast", "a", 0.5), offer("vast", "b", 0.6)}), h.ctx);
  REQUIRE(r);
  CHECK(r->attempts[0].result == "invalid-request");
  REQUIRE_FALSE(a.terminated.empty());
  CHECK(a.terminated.front() == "vast-1");
  CHECK(a.alive().size() == 1);  // only the replica that runs
}

TEST_CASE("a boot waits for the provider's own deadline, or the template's", "[deploy]") {
  // A boot that shows no progress for longer than a short limit: the
  // provider's default decides, and placement.boot_timeout overrides it.
  auto run_with = [](Duration provider_limit, std::optional<Duration> template_limit) {
    Harness h;
    auto& a = h.add("lambda");
    auto& b = h.add("runpod");
    a.caps.boot_timeout = provider_limit;
    a.report_progress = false;
    ScriptedProvider::Launch slow;
    slow.states.assign(40, InstanceState::kBooting);
    slow.states.push_back(InstanceState::kRunning);
    a.script.push_back(slow);
    auto w = workload();
    w.placement.boot_timeout = template_limit;
    auto r = deploy(w, std::nullopt,
                    h.plan_of({offer("lambda", "a", 0.5), offer("runpod", "b", 0.6)}), h.ctx);
    REQUIRE(r);
    (void)b;
    return r->replicas[0].instance.provider;
  };
  CHECK(run_with(Duration{60'000}, std::nullopt) == "lambda");
  CHECK(run_with(Duration{60'000}, Duration{1}) == "runpod");
  CHECK(run_with(Duration{1}, Duration{60'000}) == "lambda");
}

TEST_CASE("Lambda's unhealthy while booting is still booting", "[deploy]") {
  Harness h;
  auto& a = h.add("lambda");
  ScriptedProvider::Launch wobbly;
  wobbly.states = {InstanceState::kBooting, InstanceState::kUnhealthy, InstanceState::kUnhealthy,
                   InstanceState::kRunning};
  a.script.push_back(wobbly);
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE(r);
  CHECK(r->attempts.size() == 1);
  CHECK(r->attempts[0].result == "launched");
}

TEST_CASE("every launch carries the container the core resolved", "[deploy]") {
  Harness h;
  auto& a = h.add("runpod", "runpod", true);
  auto w = workload();
  w.command = ContainerCommand{false, {{"--port", false}, {"8080", false}}};
  auto r = deploy(w, std::nullopt, h.plan_of({offer("runpod", "a", 0.5)}), h.ctx);
  REQUIRE(r);
  REQUIRE(a.containers.size() == 1);
  CHECK(a.containers[0].command == std::vector<std::string>{"--port", "8080"});
  CHECK(a.containers[0].image == "registry.example/demo:1");
}

TEST_CASE("a provider that starts the process itself gets the image's, read once", "[deploy]") {
  Harness h;
  auto& a = h.add("vast", "vastai", true);
  a.caps.starts_process = true;
  a.script.push_back({K::kNoCapacity});
  int reads = 0;
  h.ctx.read_image = [&reads](const WorkloadSpec&) -> Expected<ImageProcess, Failure> {
    ++reads;
    return ImageProcess{{"/entry"}, {"--default"}, "/w"};
  };
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("vast", "a", 0.5), offer("vast", "b", 0.6)}),
                  h.ctx);
  REQUIRE(r);
  CHECK(reads == 1);
  REQUIRE(a.containers.size() == 2);
  REQUIRE(a.containers[1].image_process);
  CHECK(*a.containers[1].process() == std::vector<std::string>{"/entry", "--default"});

  // When the image cannot be read, nothing is launched: exit 6.
  Harness h2;
  auto& b = h2.add("vast", "vastai", true);
  b.caps.starts_process = true;
  h2.ctx.read_image = [](const WorkloadSpec&) -> Expected<ImageProcess, Failure> {
    return unexpected(Failure{ExitCode::kProviderFailed,
                              "registry 127.0.0.1:5000 answered 401 for the manifest", ""});
  };
  auto r2 = deploy(w, std::nullopt, h2.plan_of({offer("vast", "a", 0.5)}), h2.ctx);
  REQUIRE_FALSE(r2);
  CHECK(r2.error().failure.code == ExitCode::kProviderFailed);
  CHECK(r2.error().failure.message.find("answered 401") != std::string::npos);
  CHECK(b.launched_names.empty());
}

TEST_CASE("a one-file volume whose name reads like an option is copied as a file", "[deploy]") {
  // Without "--", tar would take "--to-command=..." (or "-v.txt") as options.
  berth::testing::TempDir dir;
  for (std::string name : {"--to-command=touch pwned", "-v.txt"}) {
    INFO(name);
    dir.write(name, "payload of " + name + "\n");
    Harness h;
    h.add("lambda");
    auto w = workload();
    w.source = dir.path() / "template.yaml";
    Volume v;
    v.kind = Volume::Kind::kBind;
    v.source = name;
    v.path = "/data/" + std::string("file");
    w.volumes = {v};
    auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
    REQUIRE(r);
    bool copied = false;
    for (const auto& c : h.host->commands)
      if (c.stdin_data && c.stdin_data->find("payload of " + name) != std::string::npos &&
          c.argv.size() > 2 && c.argv[2].find("tar -C") != std::string::npos)
        copied = true;
    CHECK(copied);
    CHECK_FALSE(std::filesystem::exists(dir.path() / "pwned"));
  }
}

// The failed container's last lines come before anything is rolled back, in
// one delimited event; the hint names only what works once it is gone.
TEST_CASE("a container that exits: its last 50 log lines are shown, then it is removed",
          "[deploy][logs]") {
  Harness h;
  auto& a = h.add("lambda");
  h.host->container_running = false;
  auto w = workload();
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().failure.code == ExitCode::kWorkloadFailed);
  CHECK(r.error().failure.hint.find("berth logs") == std::string::npos);
  std::optional<std::size_t> log_at, gone_at;
  for (std::size_t i = 0; i < h.events.size(); ++i) {
    if (h.events[i].kind == DeployEvent::Kind::kContainerLog) log_at = i;
    if (h.events[i].kind == DeployEvent::Kind::kTerminated && !gone_at) gone_at = i;
  }
  REQUIRE(log_at);
  REQUIRE(gone_at);
  CHECK(*log_at < *gone_at);
  const auto& e = h.events[*log_at];
  CHECK(e.lines == std::vector<std::string>{"loading", "CUDA out of memory"});
  CHECK(e.text.find("  | CUDA out of memory\n") != std::string::npos);
  bool asked_50 = false;
  for (const auto& c : h.host->commands)
    for (std::size_t i = 0; i + 1 < c.argv.size(); ++i)
      if (c.argv[i] == "--tail" && c.argv[i + 1] == "50") asked_50 = true;
  CHECK(asked_50);
  CHECK(a.alive().empty());
}

TEST_CASE("a pod whose container exits: its log from the provider's API, a workload failure, "
          "kept on request with its price",
          "[deploy][logs]") {
  for (bool keep : {false, true}) {
    Harness h;
    h.ctx.options.keep_on_failure = keep;
    auto& pod = h.add("runpod", "runpod", true);
    pod.log_lines = {"starting", "CUDA out of memory"};
    ScriptedProvider::Launch exits;
    exits.states = {InstanceState::kExited};
    pod.script.push_back(exits);
    auto w = workload();
    auto r = deploy(w, std::nullopt,
                    h.plan_of({offer("runpod", "a", 0.44), offer("runpod", "b", 0.5)}), h.ctx);
    REQUIRE_FALSE(r);
    // The workload fails on any offer: the next one is not tried.
    CHECK(r.error().failure.code == ExitCode::kWorkloadFailed);
    CHECK(pod.launched_names.size() == 1);
    CHECK(pod.logs_asked == std::vector<int>{kFailedLogLines});
    bool shown = false;
    std::string warnings;
    for (const auto& e : h.events) {
      if (e.kind == DeployEvent::Kind::kContainerLog)
        shown = e.lines == std::vector<std::string>{"starting", "CUDA out of memory"};
      if (e.kind == DeployEvent::Kind::kWarning) warnings += e.text + "\n";
    }
    CHECK(shown);
    if (keep) {
      CHECK(pod.alive().size() == 1);
      CHECK(warnings.find("$0.44/h") != std::string::npos);
      CHECK(warnings.find("'berth down demo'") != std::string::npos);
      CHECK(r.error().failure.hint.find("'berth logs demo'") != std::string::npos);
    } else {
      CHECK(pod.alive().empty());
      CHECK(r.error().failure.hint.find("berth logs") == std::string::npos);
    }
  }
}

namespace {

// Each launch waits (up to 5 s) until `expected` launches have arrived: met
// only when they are in flight at the same time.
class RendezvousProvider : public ScriptedProvider {
 public:
  RendezvousProvider(std::string name, int expected)
      : ScriptedProvider(std::move(name)), expected_(expected) {}
  std::atomic<bool> met{true};
  Expected<Instance, ProviderError> launch(const LaunchRequest& req) override {
    {
      std::unique_lock lock(wait_mutex_);
      ++arrived_;
      arrived_cv_.notify_all();
      if (!arrived_cv_.wait_for(lock, std::chrono::seconds(5),
                                [&] { return arrived_ >= expected_; }))
        met = false;
    }
    return ScriptedProvider::launch(req);
  }

 private:
  int expected_;
  int arrived_ = 0;
  std::mutex wait_mutex_;
  std::condition_variable arrived_cv_;
};

// A plan that sends each replica to its own list of offers.
PlanFunction plan_per_replica(std::map<int, std::vector<Offer>> offers) {
  return [offers](const std::vector<int>& replicas) -> Expected<Plan, Failure> {
    Plan p;
    for (int r : replicas) {
      const auto& o = offers.at(r);
      ReplicaPlacement rp;
      rp.replica = r;
      rp.offer = o.front();
      rp.fallbacks.assign(o.begin() + 1, o.end());
      p.placement.push_back(rp);
    }
    return p;
  };
}

}  // namespace

TEST_CASE("replicas are launched at once, not one after another", "[deploy][replicas]") {
  Harness h;
  auto provider = std::make_unique<RendezvousProvider>("lambda", 3);
  auto& a = *provider;
  h.providers["lambda"] = std::move(provider);
  auto w = workload();
  w.replicas = 3;
  auto r = deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx);
  REQUIRE(r);
  CHECK(a.met);  // all three launches were in flight together
  REQUIRE(r->replicas.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(r->replicas[static_cast<std::size_t>(i)].replica == i);
  CHECK(a.alive().size() == 3);
}

TEST_CASE("one replica failing stops the others and removes everything the run made",
          "[deploy][replicas]") {
  Harness h;
  auto& a = h.add("lambda");
  auto& b = h.add("runpod");
  b.script.push_back({K::kNoCapacity});
  // Replica 0 boots slowly; replica 1's only offer has no capacity.
  ScriptedProvider::Launch slow;
  slow.states.assign(200, InstanceState::kProvisioning);
  slow.states.push_back(InstanceState::kRunning);
  a.script.push_back(slow);
  auto w = workload();
  w.replicas = 2;
  auto r = deploy(w, std::nullopt,
                  plan_per_replica({{0, {offer("lambda", "a", 0.5)}}, {1, {offer("runpod", "b", 0.4)}}}),
                  h.ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().failure.code == ExitCode::kProviderFailed);
  CHECK(r.error().failure.message.find("replica 1") != std::string::npos);
  CHECK(r.error().leaked.empty());
  // Replica 0 was stopped while booting and its instance removed, confirmed.
  CHECK(h.alive_everywhere() == 0);
  CHECK(a.terminated.size() == 1);
  CHECK(h.host->commands.empty());  // never got as far as its host
}

TEST_CASE("a failed update leaves the old replicas running", "[deploy][replicas]") {
  Harness h;
  auto& a = h.add("lambda");
  auto& b = h.add("runpod");
  auto w = workload("aaaaaaaaaaaa");
  w.replicas = 2;
  REQUIRE(deploy(w, std::nullopt, h.plan_of({offer("lambda", "a", 0.5)}), h.ctx));
  auto existing = group_deployments(a.alive());
  REQUIRE(existing.size() == 1);

  auto changed = workload("bbbbbbbbbbbb");
  changed.replicas = 2;
  b.script.push_back({K::kQuota});
  auto r = deploy(changed, existing[0],
                  plan_per_replica({{0, {offer("lambda", "a", 0.5)}}, {1, {offer("runpod", "b", 0.4)}}}),
                  h.ctx);
  REQUIRE_FALSE(r);
  // Replica 0's successor ran, but is removed again: both old ones still run.
  auto now = a.alive();
  REQUIRE(now.size() == 2);
  for (const auto& i : now) CHECK(i.name.find("aaaaaaaaaaaa") != std::string::npos);
  CHECK(b.alive().empty());
}

TEST_CASE("an instance whose SSH never answers is given up after ssh_timeout; the next offer runs",
          "[deploy][replicas]") {
  Harness h;
  auto& a = h.add("lambda");
  h.connector.dead = {"10.0.0.1"};  // the first instance's address
  auto w = workload();
  w.placement.ssh_timeout = Duration{30};
  auto r = deploy(w, std::nullopt,
                  h.plan_of({offer("lambda", "a", 0.5), offer("lambda", "b", 0.6)}), h.ctx);
  REQUIRE(r);
  REQUIRE(r->attempts.size() == 2);
  CHECK(r->attempts[0].result == "unreachable");
  CHECK(r->attempts[0].message.find("no SSH within") != std::string::npos);
  CHECK(r->attempts[0].message.find("Connection refused") != std::string::npos);
  CHECK(r->attempts[1].result == "launched");
  CHECK(a.terminated == std::vector<std::string>{"lambda-1"});
  REQUIRE(r->replicas.size() == 1);
  CHECK(r->replicas[0].instance.id == "lambda-2");
  CHECK(h.connector.connects >= 2);

  // With nowhere left to go, the replica fails and names the bound.
  Harness none;
  none.add("lambda");
  none.connector.dead = {"10.0.0.1"};
  auto failed = deploy(w, std::nullopt, none.plan_of({offer("lambda", "a", 0.5)}), none.ctx);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().failure.code == ExitCode::kProviderFailed);
  CHECK(failed.error().failure.hint.find("placement.ssh_timeout") != std::string::npos);
  CHECK(none.alive_everywhere() == 0);
}

TEST_CASE("status: each replica checked by the check its container records, the deployment summed up",
          "[deploy][status]") {
  Harness h;
  h.add("lambda");
  const auto now = std::chrono::system_clock::now();
  auto replica = [&](int index, std::string hash, InstanceState state) {
    DeployedReplica r;
    r.replica = index;
    r.hash = hash;
    r.instance.provider = "lambda";
    r.instance.id = "i-" + std::to_string(index);
    r.instance.name = instance_name("demo", index, hash);
    r.instance.state = state;
    r.instance.host = "127.0.0.1";
    r.instance.ssh_user = "ubuntu";
    r.instance.ssh_port = 22;
    r.instance.price_per_hour = 1.5;
    r.instance.created = now - std::chrono::hours(2);
    return r;
  };
  Deployment d;
  d.name = "demo";
  d.template_hash = "abc123def456";
  d.replicas = {replica(0, "abc123def456", InstanceState::kRunning),
                replica(1, "abc123def456", InstanceState::kBooting)};

  // The recorded http check probes the recorded published port: 127.0.0.1:1 refuses.
  h.host->labels_json = R"({"berth.health":"http:8080:/ready","berth.ports":"1:8080"})";
  auto s = deployment_status(d, std::nullopt, h.ctx, now, {});
  REQUIRE(s);
  REQUIRE(s->replicas.size() == 2);
  const auto& r0 = s->replicas[0];
  CHECK(r0.health == "unhealthy");
  REQUIRE(r0.endpoints.size() == 1);
  CHECK(r0.endpoints[0].container_port == 8080);
  CHECK(r0.endpoints[0].port == 1);
  CHECK(r0.ssh == "ubuntu@127.0.0.1:22");
  CHECK(r0.age_seconds == 7200);
  CHECK(r0.cost_so_far == Approx(3.0));
  CHECK(r0.uptime_seconds.has_value());
  CHECK(s->replicas[1].health == "booting");  // the instance's own state until it runs
  CHECK(s->running == 0);
  CHECK(s->wanted == 2);  // inferred from the highest replica of the template
  CHECK_FALSE(s->wanted_from_template);
  CHECK(s->health == "down");
  CHECK(s->price_per_hour == Approx(3.0));
  CHECK(s->cost_so_far == Approx(6.0));
  CHECK(s->age_seconds == 7200);

  // An exec check (its command is not recorded): running is all that is said.
  h.host->labels_json = R"({"berth.health":"exec","berth.ports":""})";
  s = deployment_status(d, std::nullopt, h.ctx, now, {});
  REQUIRE(s);
  CHECK(s->replicas[0].health == "running");
  CHECK(s->running == 1);
  CHECK(s->health == "degraded");
  // The template says how many it wants.
  s = deployment_status(d, 1, h.ctx, now, {});
  REQUIRE(s);
  CHECK(s->wanted == 1);
  CHECK(s->wanted_from_template);
  CHECK(s->health == "healthy");

  // Labels berth did not write are not guessed at.
  h.host->labels_json = R"({"berth.health":"http:0:/","berth.ports":"8080"})";
  s = deployment_status(d, std::nullopt, h.ctx, now, {});
  REQUIRE(s);
  CHECK(s->replicas[0].health == "unknown");
  CHECK(s->replicas[0].endpoints.empty());

  // A deadline that runs out stops the walk: no half-checked deployment.
  CHECK_FALSE(deployment_status(d, std::nullopt, h.ctx, now, [] { return true; }));
}
