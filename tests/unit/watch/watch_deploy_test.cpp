// Watch's real probes against a scripted host and provider: what a runtime's
// inspect, an SSH failure and a restart policy mean to the watch loop.
#include "berth/watch/watch_deploy.h"

#include <catch2/catch.hpp>
#include <deque>
#include <map>

using namespace berth;

namespace {

class ScriptedHost : public Host {
 public:
  std::deque<Expected<ProcessResult, std::string>> answers;  // one per run()
  std::vector<std::vector<std::string>> commands;

  std::string address() const override { return "127.0.0.21"; }
  Expected<ProcessResult, std::string> run(const HostCommand& c) override {
    commands.push_back(c.argv);
    if (answers.empty()) return ProcessResult{0, 0, false, false, "", ""};
    auto a = answers.front();
    answers.pop_front();
    return a;
  }
  Expected<int, std::string> login_shell() override { return 0; }
};

class ScriptedConnector : public HostConnector {
 public:
  std::shared_ptr<ScriptedHost> host = std::make_shared<ScriptedHost>();
  std::optional<HostError> refuse;
  Expected<std::shared_ptr<Host>, HostError> connect(const Instance&, const std::string&) override {
    if (refuse) return unexpected(*refuse);
    return std::shared_ptr<Host>(host);
  }
};

class ScriptedProvider : public Provider {
 public:
  explicit ScriptedProvider(std::string name, bool native = false)
      : name_(std::move(name)), native_(native) {}
  std::vector<Instance> instances;
  std::vector<std::string> terminated;

  const std::string& name() const override { return name_; }
  std::string type() const override { return native_ ? "runpod" : "lambda"; }
  Capabilities capabilities() const override {
    Capabilities c;
    if (native_) c.runs = Capabilities::Runs::kPod;
    return c;
  }
  Expected<std::vector<Offer>, ProviderError> list_offers(const OfferQuery&) override {
    return std::vector<Offer>{};
  }
  Expected<Instance, ProviderError> launch(const LaunchRequest&) override {
    return unexpected(ProviderError{ProviderError::Kind::kNoCapacity, "none", {}});
  }
  Expected<Instance, ProviderError> get(const std::string& id) override {
    for (const auto& i : instances)
      if (i.id == id) return i;
    return unexpected(ProviderError{ProviderError::Kind::kNotFound, "gone", {}});
  }
  Expected<std::vector<Instance>, ProviderError> list() override { return instances; }
  Expected<void, ProviderError> terminate(const std::string& id) override {
    terminated.push_back(id);
    instances.erase(std::remove_if(instances.begin(), instances.end(),
                                   [&](const Instance& i) { return i.id == id; }),
                    instances.end());
    return {};
  }
  Expected<void, ProviderError> check_credentials() override { return {}; }

 private:
  std::string name_;
  bool native_;
};

ProcessResult result(int code, std::string out, std::string err = "") {
  ProcessResult r;
  r.exit_code = code;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

std::string inspect_json(bool running, int exit_code, int restarts) {
  return nlohmann::json::array({{{"Id", "abc"},
                                 {"Name", "berth-app-0-0123456789ab"},
                                 {"RestartCount", restarts},
                                 {"State",
                                  {{"Status", running ? "running" : "exited"},
                                   {"Running", running},
                                   {"ExitCode", exit_code}}}}})
      .dump();
}

struct Setup {
  LaunchTemplate workload;
  ScriptedProvider vm{"lab"};
  ScriptedProvider native{"pods", true};
  ScriptedConnector ssh;
  DeployContext ctx;
  Instance instance;

  Setup() {
    workload.name = "app";
    workload.hash = "0123456789ab";
    ctx.provider = [this](const std::string& n) -> Provider* {
      if (n == "lab") return &vm;
      if (n == "pods") return &native;
      return nullptr;
    };
    ctx.hosts = &ssh;
    ctx.runtime = ContainerRuntime{ContainerRuntime::Kind::kPodman, "podman"};
    ctx.options.poll_initial = Duration{1};
    ctx.options.poll_max = Duration{1};
    ctx.options.confirm_timeout = Duration{2'000};
    instance.provider = "lab";
    instance.id = "i-1";
    instance.name = "berth-app-0-0123456789ab";
    instance.host = "127.0.0.21";
    instance.state = InstanceState::kRunning;
    vm.instances.push_back(instance);
  }
};

}  // namespace

TEST_CASE("watch probes: a running container is running", "[watch]") {
  Setup s;
  auto probe = make_host_probe(s.workload, s.ctx, Duration{5'000});
  s.ssh.host->answers.push_back(result(0, inspect_json(true, 0, 0)));
  auto status = probe->container(s.instance);
  REQUIRE(status);
  CHECK(status->running);
  CHECK_FALSE(status->restarted);
  REQUIRE(s.ssh.host->commands.size() == 1);
  CHECK(s.ssh.host->commands[0] == inspect_argv(s.ctx.runtime, "berth-app-0-0123456789ab"));
}

TEST_CASE("watch probes: an exited container brings its exit code and last log lines", "[watch]") {
  Setup s;
  auto probe = make_host_probe(s.workload, s.ctx, Duration{5'000});
  s.ssh.host->answers.push_back(result(0, inspect_json(false, 3, 0)));
  s.ssh.host->answers.push_back(result(0, "line 1\nline 2\n", "oops\n"));
  auto status = probe->container(s.instance);
  REQUIRE(status);
  CHECK_FALSE(status->running);
  CHECK(status->exit_code == 3);
  CHECK(status->log_tail == "line 1\nline 2\noops");
}

TEST_CASE("watch probes: a restart by the runtime's policy is noticed", "[watch]") {
  Setup s;
  auto probe = make_host_probe(s.workload, s.ctx, Duration{5'000});
  s.ssh.host->answers.push_back(result(0, inspect_json(true, 0, 0)));
  REQUIRE(probe->container(s.instance)->running);
  s.ssh.host->answers.push_back(result(0, inspect_json(true, 1, 1)));
  s.ssh.host->answers.push_back(result(0, "crashed\n"));
  auto status = probe->container(s.instance);
  REQUIRE(status);
  CHECK(status->restarted);
  CHECK(status->exit_code == 1);
  s.ssh.host->answers.push_back(result(0, inspect_json(true, 1, 1)));
  CHECK_FALSE(probe->container(s.instance)->restarted);  // once per restart
}

TEST_CASE("watch probes: SSH failing is unreachable, a missing container is not running",
          "[watch]") {
  Setup s;
  auto probe = make_host_probe(s.workload, s.ctx, Duration{5'000});
  s.ssh.host->answers.push_back(
      result(255, "", "ssh: connect to host 127.0.0.21 port 2222: Connection refused\n"));
  auto status = probe->container(s.instance);
  REQUIRE_FALSE(status);
  CHECK(status.error() == "ssh: connect to host 127.0.0.21 port 2222: Connection refused");

  s.ssh.refuse = HostError{HostError::Kind::kUnreachable, "Connection timed out", ""};
  REQUIRE_FALSE(probe->container(s.instance));
  s.ssh.refuse.reset();

  s.ssh.host->answers.push_back(result(125, "[]", "Error: no such container\n"));
  status = probe->container(s.instance);
  REQUIRE(status);
  CHECK_FALSE(status->running);
  CHECK(status->log_tail.find("no such container") != std::string::npos);
}

TEST_CASE("watch probes: container-native instances are not reached over SSH", "[watch]") {
  Setup s;
  auto probe = make_host_probe(s.workload, s.ctx, Duration{5'000});
  Instance pod = s.instance;
  pod.provider = "pods";
  auto status = probe->container(pod);
  REQUIRE(status);
  CHECK(status->running);
  CHECK(s.ssh.host->commands.empty());
}

TEST_CASE(
    "watch probes: an exited container-native instance brings its exit code when its "
    "runtime can be reached",
    "[watch]") {
  Setup s;
  auto probe = make_host_probe(s.workload, s.ctx, Duration{5'000});
  Instance pod = s.instance;
  pod.provider = "pods";
  pod.state = InstanceState::kExited;
  pod.raw_state = "EXITED";
  s.ssh.host->answers.push_back(result(0, inspect_json(false, 3, 0)));
  s.ssh.host->answers.push_back(result(0, "", "fatal: CUDA error: out of memory\n"));
  auto status = probe->container(pod);
  REQUIRE(status);
  CHECK_FALSE(status->running);
  CHECK(status->exit_code == 3);
  CHECK(status->log_tail == "fatal: CUDA error: out of memory");
  CHECK_FALSE(status->restarted);
  REQUIRE(s.ssh.host->commands.size() == 2);
  CHECK(s.ssh.host->commands[0] == inspect_argv(s.ctx.runtime, "berth-app-0-0123456789ab"));

  // Inside a real pod there is no runtime to ask: no details, not a status.
  s.ssh.host->answers.push_back(result(127, "", "sh: docker: not found\n"));
  auto unknown = probe->container(pod);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().find("does not know it") != std::string::npos);
  s.ssh.refuse = HostError{HostError::Kind::kUnreachable, "Connection refused", ""};
  REQUIRE_FALSE(probe->container(pod));
  pod.host.clear();
  s.ssh.refuse.reset();
  auto commands = s.ssh.host->commands.size();
  REQUIRE_FALSE(probe->container(pod));  // no SSH endpoint at all
  CHECK(s.ssh.host->commands.size() == commands);
}

TEST_CASE("watch probes: exec health checks run in the container", "[watch]") {
  Setup s;
  s.workload.health.kind = HealthCheck::Kind::kExec;
  s.workload.health.exec = {"cat", "/www/health"};
  auto probe = make_host_probe(s.workload, s.ctx, Duration{5'000});
  s.ssh.host->answers.push_back(result(0, "ok\n"));
  CHECK(probe->health(s.instance).ok);
  CHECK(s.ssh.host->commands.back() ==
        exec_argv(s.ctx.runtime, "berth-app-0-0123456789ab", {"cat", "/www/health"}, false, false));
  s.ssh.host->answers.push_back(result(1, ""));
  auto h = probe->health(s.instance);
  CHECK_FALSE(h.ok);
  CHECK(h.detail == "exit code 1");
}

TEST_CASE("watch probes: terminate confirms the instance gone", "[watch]") {
  Setup s;
  auto probe = make_instance_probe(s.workload, s.ctx);
  auto listed = probe->list("lab");
  REQUIRE(listed);
  CHECK(listed->size() == 1);
  REQUIRE(probe->terminate(s.instance));
  CHECK(s.vm.terminated == std::vector<std::string>{"i-1"});
  CHECK(s.vm.instances.empty());
  auto unknown = probe->list("nowhere");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().kind == ProviderError::Kind::kInvalidRequest);
}
