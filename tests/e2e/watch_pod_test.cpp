// Watch mode through the real binary: a RunPod mock whose pods are real
// containers on the e2e hosts (the launch hook starts them with podman), and
// faults injected at the mock (instance lost, API down, capacity) and in the
// containers (health answering 404). After each test: exactly the expected
// instances run at the mock, none leaked.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <thread>

#include "berth/ssh.h"
#include "e2e/watch_support.h"
#include "support/e2e_env.h"
#include "support/mock_server.h"

using namespace berth::e2e;
using berth::testing::MockServer;
using berth::testing::WatchProcess;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

struct PodRig {
  const Environment& env;
  std::unique_ptr<MockServer> mock;
  Scratch scratch;
  std::vector<std::string> berth_env;
  std::filesystem::path tmpl;

  PodRig(const Environment& e, const std::string& name, const std::string& extra_template)
      : env(e) {
    std::string hook = std::string(BERTH_TEST_DIR) + "/e2e/deploy_pod_hook.py";
    std::string env_json = (env.root / "env.json").string();
    std::vector<std::string> args;
    for (const char* h : {"h2", "h3", "h4"}) {
      const auto& host = env.host(h);
      args.insert(args.end(), {"--ssh-host", host.address + ":" + std::to_string(host.port)});
    }
    args.insert(args.end(), {"--on-launch-cmd", hook + " launch " + env_json, "--on-terminate-cmd",
                             hook + " terminate " + env_json});
    mock = std::make_unique<MockServer>("runpod", args);
    auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
    REQUIRE(key);
    env.authorize(key->public_key);
    for (const auto& [k, v] : scratch.env({{"RUNPOD_KEY", mock->api_key()}}))
      berth_env.push_back(k + "=" + v);
    auto config = scratch.write("config.yaml",
                                "providers:\n  runpod: {type: runpod, api_key: "
                                "\"${RUNPOD_KEY}\", base_url: \"" +
                                    mock->url() + "\"}\nruntime: docker\n");
    berth_env.push_back("BERTH_CONFIG=" + config.string());
    tmpl = scratch.write(name + ".yaml", "name: " + name + R"(
image: localhost/berth-demo:1
ports: [{container: 8000, host: 8000}]
health: {http: {port: 8000, path: /health}, interval: 1s, timeout: 2s, failures: 2, grace: 30s}
resources: {gpu: {count: 1}}
placement: {providers: [runpod]}
)" + extra_template);
  }

  ~PodRig() {
    // Whatever a failed test left: the mock's pods and their containers.
    if (!mock) return;
    for (const auto& i : mock->instances())
      if (!i.value("terminated", false)) {
        std::string host = i.value("ssh_host", "");
        for (const auto& h : env.hosts)
          if (h.address == host)
            env.runtime(h.name, {"rm", "-f", "--time", "0", i["name"].get<std::string>()});
      }
  }

  WatchProcess watch(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"watch", tmpl.string(), "-o", "json", "--down-on-exit"};
    args.insert(args.end(), extra.begin(), extra.end());
    return WatchProcess(args, berth_env);
  }

  std::vector<json> live() {
    std::vector<json> out;
    for (const auto& i : mock->instances())
      if (!i.value("terminated", false)) out.push_back(i);
    return out;
  }

  // Makes the replica's health endpoint answer 404, inside its container.
  void break_health(const std::string& instance_id) {
    for (const auto& i : mock->instances())
      if (i["id"] == instance_id)
        for (const auto& h : env.hosts)
          if (h.address == i["ssh_host"]) {
            auto r =
                env.runtime(h.name, {"exec", i["name"].get<std::string>(), "rm", "/www/health"});
            INFO(r.out << r.err);
            REQUIRE(r.exit_code == 0);
            return;
          }
    FAIL("no instance " << instance_id << " at the mock");
  }
};

const milliseconds kDeploy = seconds(120);
const milliseconds kReact = seconds(60);

}  // namespace

TEST_CASE("watch e2e: an unhealthy replica is replaced, the other is never touched", "[e2e][watch]") {
  BERTH_E2E_ENV(env);
  PodRig rig(*env, "w-two", "replicas: 2\nspread: region\n");
  auto w = rig.watch();
  REQUIRE(w.wait_event("healthy", kDeploy, 0));
  REQUIRE(w.wait_event("healthy", kDeploy, 1));
  auto deployed = w.events_named("deployed");
  REQUIRE(deployed.size() == 2);
  std::string keep = deployed[0]["instance_id"].get<std::string>();
  std::string broken = deployed[1]["instance_id"].get<std::string>();
  rig.break_health(broken);
  auto failure = w.wait_event("failure", kReact);
  INFO(w.transcript());
  REQUIRE(failure);
  CHECK((*failure)["reason"] == "unhealthy");
  CHECK((*failure)["replica"] == 1);
  CHECK((*failure)["instance_id"] == broken);
  REQUIRE(w.wait_event("terminated", kReact, 1));
  auto redeployed = w.wait_event("redeployed", kDeploy, 1);
  REQUIRE(redeployed);
  REQUIRE(w.wait_event("healthy", kDeploy, 1));
  CHECK((*redeployed)["instance_id"] != broken);
  auto live = rig.live();
  REQUIRE(live.size() == 2);
  std::set<std::string> ids{live[0]["id"].get<std::string>(), live[1]["id"].get<std::string>()};
  CHECK(ids.count(keep) == 1);
  CHECK(ids.count((*redeployed)["instance_id"].get<std::string>()) == 1);
  for (const auto& e : w.events())
    if (e["event"] == "failure" || e["event"] == "terminated" || e["event"] == "redeployed")
      CHECK(e["replica"] == 1);
  CHECK(w.terminate() == 130);
  CHECK(rig.live().empty());  // --down-on-exit
}

TEST_CASE("watch e2e: instance lost at the provider, and capacity errors during the redeploy",
          "[e2e][watch]") {
  BERTH_E2E_ENV(env);
  PodRig rig(*env, "w-lost", "");
  auto w = rig.watch();
  auto healthy = w.wait_event("healthy", kDeploy, 0);
  REQUIRE(healthy);
  std::string first = (*healthy)["instance_id"].get<std::string>();
  // The next launch finds no capacity: the redeploy moves to the next offer.
  rig.mock->fault({{"op", "launch"},
                   {"status", 400},
                   {"times", 1},
                   {"body",
                    {{"title", "Bad Request"},
                     {"status", 400},
                     {"detail",
                      "There are no longer any instances available with the requested "
                      "specifications. Please refresh and try again."}}}});
  rig.mock->set_state(first, "TERMINATED");
  auto failure = w.wait_event("failure", kReact);
  INFO(w.transcript());
  REQUIRE(failure);
  CHECK((*failure)["reason"] == "instance-lost");
  REQUIRE(w.wait_event("redeployed", kDeploy, 0));
  REQUIRE(w.wait_event("healthy", kDeploy, 0));
  auto attempts = w.events_named("attempt");
  REQUIRE(attempts.size() >= 3);  // the first deploy, then no-capacity, then launched
  CHECK(attempts[attempts.size() - 2]["reason"] == "no-capacity");
  CHECK(attempts.back()["reason"] == "launched");
  CHECK(rig.live().size() == 1);
  CHECK(w.terminate() == 130);
  CHECK(rig.live().empty());
}

TEST_CASE("watch e2e: a provider API outage is said once and redeploys nothing", "[e2e][watch]") {
  BERTH_E2E_ENV(env);
  PodRig rig(*env, "w-outage", "");
  auto w = rig.watch();
  auto healthy = w.wait_event("healthy", kDeploy, 0);
  REQUIRE(healthy);
  rig.mock->fault({{"op", "list"},
                   {"status", 503},
                   {"times", 8},  // two polls: the HTTP client tries each request 4 times
                   {"body", {{"title", "Service Unavailable"}, {"status", 503}}}});
  auto down = w.wait_event("provider-unavailable", kReact);
  INFO(w.transcript());
  REQUIRE(down);
  CHECK((*down)["provider"] == "runpod");
  auto up = w.wait_event("provider-available", seconds(180));
  REQUIRE(up);
  CHECK(w.events_named("provider-unavailable").size() == 1);
  CHECK(w.events_named("failure").empty());
  CHECK(w.events_named("redeployed").empty());
  auto live = rig.live();
  REQUIRE(live.size() == 1);
  CHECK(live[0]["id"] == (*healthy)["instance_id"]);
  CHECK(w.terminate() == 130);
  CHECK(rig.live().empty());
}

TEST_CASE("watch e2e: max_restarts exhausted ends with exit 7 and a summary", "[e2e][watch]") {
  BERTH_E2E_ENV(env);
  PodRig rig(*env, "w-giveup", "restart: {max_restarts: 0}\n");
  auto w = rig.watch();
  auto healthy = w.wait_event("healthy", kDeploy, 0);
  REQUIRE(healthy);
  rig.break_health((*healthy)["instance_id"].get<std::string>());
  int code = w.wait_exit(kReact);
  INFO(w.transcript());
  CHECK(code == 7);
  REQUIRE(w.events_named("giving-up").size() == 1);
  CHECK(w.events_named("giving-up")[0]["reason"] == "unhealthy");
  auto stopped = w.events_named("stopped");
  REQUIRE(stopped.size() == 1);
  CHECK(stopped[0]["reason"] == "gave-up");
  bool summary = false;
  for (const auto& l : w.other_lines())
    summary = summary || l.find("no replica of 'w-giveup' is healthy") != std::string::npos;
  CHECK(summary);
  CHECK(rig.live().empty());
}
