// Watch mode on the VM path through the real binary: a Lambda mock whose
// instances are the e2e hosts h2 and h3 (handed out in turn), reached as
// ubuntu@IP:22. Faults come from the mock (an instance terminated or
// preempted, in Lambda's own words) and from the hosts (sshd stopped, while
// the mock still says active). After each test: exactly the expected
// instances run at the mock, none leaked, and the JSON event lines carry the
// failure class.
#include <catch2/catch.hpp>
#include <thread>

#include "e2e/lambda_fixture.h"
#include "e2e/watch_support.h"

using namespace berth::e2e;
using berth::testing::WatchProcess;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const milliseconds kDeploy = seconds(120);
const milliseconds kReact = seconds(60);

struct VmWatch {
  const Environment& env;
  LambdaRig rig;
  std::string name;
  std::filesystem::path tmpl;

  VmWatch(const Environment& e, std::string deployment, const std::string& extra_template = "")
      : env(e), rig(e, {.hosts = {"h2", "h3"}}), name(std::move(deployment)) {
    tmpl = rig.write_template(name, R"(image: localhost/berth-demo:1
ports: [{container: 8000, host: 8000}]
health: {http: {port: 8000, path: /health}, interval: 1s, timeout: 2s, failures: 2, grace: 30s}
resources: {gpu: {count: 1}}
placement: {providers: [lambda]}
)" + extra_template);
  }

  WatchProcess watch(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"watch", "--yes", tmpl.string(), "-o", "json", "--down-on-exit"};
    args.insert(args.end(), extra.begin(), extra.end());
    return WatchProcess(args, rig.env_list());
  }

  /// Waits for the first deploy; the instance id, which runs on h2.
  std::string deployed(WatchProcess& w) {
    auto healthy = w.wait_event("healthy", kDeploy, 0);
    INFO(w.transcript());
    REQUIRE(healthy);
    auto live = rig.live();
    REQUIRE(live.size() == 1);
    REQUIRE(rig.host_of(live[0]) == "h2");
    REQUIRE((*healthy)["instance_id"] == live[0]["id"]);
    return live[0]["id"].get<std::string>();
  }

  /// After a failure of class `reason`: terminated, redeployed elsewhere,
  /// healthy; exactly one instance runs, on h3, serving. Its id.
  std::string replaced(WatchProcess& w, const std::string& reason, const std::string& first) {
    INFO(w.transcript());
    auto terminated = w.wait_event("terminated", kReact, 0);
    REQUIRE(terminated);
    CHECK((*terminated)["reason"] == reason);
    CHECK((*terminated)["instance_id"] == first);
    auto redeployed = w.wait_event("redeployed", kDeploy, 0);
    REQUIRE(redeployed);
    CHECK((*redeployed)["reason"] == reason);
    CHECK((*redeployed)["provider"] == "lambda");
    CHECK((*redeployed)["instance_id"] != first);
    REQUIRE(w.wait_event("healthy", kDeploy, 0));
    auto live = rig.live();
    REQUIRE(live.size() == 1);
    CHECK(live[0]["id"] == (*redeployed)["instance_id"]);
    CHECK(rig.host_of(live[0]) == "h3");
    CHECK(rig.mock().instances().size() == 2);
    CHECK(http_get(env.host("h3").address, 8000) == "hello from berth\n");
    // The failed VM is gone, and its container with it.
    CHECK(env.berth_containers("h2", name).empty());
    return live[0]["id"].get<std::string>();
  }

  /// SIGTERM with --down-on-exit: nothing left at the mock or on the hosts.
  void stop(WatchProcess& w) {
    CHECK(w.terminate() == 130);
    INFO(w.transcript());
    CHECK(rig.live().empty());
    CHECK(eventually([&] { return env.berth_containers("h3", name).empty(); }));
    CHECK(env.berth_containers("h2", name).empty());
  }

  int list_calls() {
    int n = 0;
    for (const auto& r : rig.mock().requests())
      if (r["method"] == "GET" && r["path"] == "/api/v1/instances") ++n;
    return n;
  }
};

}  // namespace

TEST_CASE("watch vm: the host is lost and Lambda reports the instance terminated", "[e2e][watch]") {
  BERTH_E2E_ENV(env);
  VmWatch v(*env, "wv-lost");
  auto w = v.watch();
  std::string first = v.deployed(w);
  // The machine goes away: no SSH, and the API says terminated.
  StoppedHost lost(*env, "h2");
  v.rig.mock().set_state(first, "terminated");
  auto failure = w.wait_event("failure", kReact);
  INFO(w.transcript());
  REQUIRE(failure);
  CHECK((*failure)["reason"] == "instance-lost");
  CHECK((*failure)["replica"] == 0);
  CHECK((*failure)["provider"] == "lambda");
  CHECK((*failure)["instance_id"] == first);
  CHECK((*failure)["detail"].get<std::string>().find("terminated") != std::string::npos);
  v.replaced(w, "instance-lost", first);
  v.stop(w);
}

TEST_CASE("watch vm: a spot preemption reported by Lambda is classified preempted",
          "[e2e][watch]") {
  BERTH_E2E_ENV(env);
  VmWatch v(*env, "wv-preempt");
  auto w = v.watch();
  std::string first = v.deployed(w);
  v.rig.mock().set_state(first, "preempted");
  auto failure = w.wait_event("failure", kReact);
  INFO(w.transcript());
  REQUIRE(failure);
  CHECK((*failure)["reason"] == "preempted");
  CHECK((*failure)["instance_id"] == first);
  CHECK((*failure)["detail"].get<std::string>().find("(preempted)") != std::string::npos);
  v.replaced(w, "preempted", first);
  CHECK(w.events_named("failure").size() == 1);
  v.stop(w);
}

TEST_CASE(
    "watch vm: SSH down while Lambda says active: a blip within the grace is waited out, "
    "a lasting outage redeploys",
    "[e2e][watch]") {
  BERTH_E2E_ENV(env);
  const auto grace = seconds(6);
  // unreachable is not in restart.on by default: opted in.
  VmWatch v(*env, "wv-ssh",
            "restart: {on: [instance-lost, preempted, container-exit, unhealthy, unreachable]}\n");
  auto w = v.watch({"--unreachable-grace", "6s"});
  std::string first = v.deployed(w);

  // A blip shorter than the grace, polled through (the mock says active, so
  // each poll goes on to the host over SSH).
  int logins = env->count_in_sshd_log("h2", "Accepted publickey for ubuntu ");
  {
    StoppedHost blip(*env, "h2");
    int polls = v.list_calls();
    std::this_thread::sleep_for(milliseconds(2500));
    CHECK(v.list_calls() - polls >= 2);
    blip.start();
  }
  INFO(w.transcript());
  CHECK_FALSE(w.wait_event("failure", grace + seconds(2)));
  // watch came back over SSH, and nothing moved.
  CHECK(env->count_in_sshd_log("h2", "Accepted publickey for ubuntu ") > logins);
  CHECK(w.events_named("terminated").empty());
  CHECK(w.events_named("redeployed").empty());
  auto live = v.rig.live();
  REQUIRE(live.size() == 1);
  CHECK(live[0]["id"] == first);
  CHECK(v.rig.mock().instances().size() == 1);

  // An outage that outlasts the grace: unreachable, then replaced.
  // Taken before the host stops (env.sh returns some time after the kill).
  auto stopped_at = std::chrono::steady_clock::now();
  StoppedHost outage(*env, "h2");
  auto failure = w.wait_event("failure", kReact);
  REQUIRE(failure);
  auto after = std::chrono::steady_clock::now() - stopped_at;
  CHECK((*failure)["reason"] == "unreachable");
  CHECK((*failure)["instance_id"] == first);
  CHECK((*failure)["detail"].get<std::string>().find("while the provider says running") !=
        std::string::npos);
  CHECK(after >= grace);
  v.replaced(w, "unreachable", first);
  CHECK(w.events_named("failure").size() == 1);
  v.stop(w);
}
