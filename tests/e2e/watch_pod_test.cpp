// Watch mode through the real binary: a RunPod mock whose pods are real
// containers on the e2e hosts (the launch hook starts them with podman, and
// the mock reads a pod as EXITED once its container stops), and faults
// injected at the mock (instance lost, API down, capacity) and in the
// containers (killed, exiting with an error, health answering 404). After
// each test: exactly the expected pods run at the mock, with exactly their
// containers on the hosts; none leaked.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "berth/host/ssh.h"
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
  std::map<std::string, std::string> berth_env_map;
  std::filesystem::path tmpl;

  std::string deployment;

  PodRig(const Environment& e, const std::string& name, const std::string& extra_template)
      : env(e), deployment(name) {
    std::string hook = std::string(BERTH_TEST_DIR) + "/e2e/deploy_pod_hook.py";
    std::string env_json = (env.root / "env.json").string();
    std::vector<std::string> args;
    for (const char* h : {"h2", "h3", "h4"}) {
      const auto& host = env.host(h);
      args.insert(args.end(), {"--ssh-host", host.address + ":" + std::to_string(host.port)});
    }
    args.insert(args.end(), {"--on-launch-cmd", hook + " launch " + env_json, "--on-terminate-cmd",
                             hook + " terminate " + env_json, "--container-status-cmd",
                             hook + " status " + env_json});
    mock = std::make_unique<MockServer>("runpod", args);
    auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
    REQUIRE(key);
    env.authorize(key->public_key);
    berth_env_map = scratch.env({{"RUNPOD_KEY", mock->api_key()}});
    auto config = scratch.write("config.yaml",
                                "providers:\n  runpod: {type: runpod, api_key: "
                                "\"${RUNPOD_KEY}\", base_url: \"" +
                                    mock->url() + "\"}\nruntime: docker\n");
    berth_env_map["BERTH_CONFIG"] = config.string();
    for (const auto& [k, v] : berth_env_map) berth_env.push_back(k + "=" + v);
    tmpl = scratch.write(name + ".yaml", "name: " + name + R"(
image: localhost/berth-demo:1
ports: [8000]  # RunPod picks the public port: a fixed host port cannot be honoured
health: {http: {port: 8000, path: /cgi-bin/health}, interval: 1s, timeout: 2s, failures: 2, grace: 30s}
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

  WatchProcess watch(std::vector<std::string> extra = {}, bool down_on_exit = true) {
    std::vector<std::string> args{"watch", "--yes", tmpl.string(), "-o", "json"};
    if (down_on_exit) args.push_back("--down-on-exit");
    args.insert(args.end(), extra.begin(), extra.end());
    return WatchProcess(args, berth_env);
  }

  std::vector<json> live() {
    std::vector<json> out;
    for (const auto& i : mock->instances())
      if (!i.value("terminated", false)) out.push_back(i);
    return out;
  }

  // The mock's record of a pod (its request, SSH host, status).
  json pod(const std::string& id) {
    for (const auto& i : mock->instances())
      if (i["id"] == id) return i;
    FAIL("no instance " << id << " at the mock");
    return {};
  }

  // The e2e host that runs a pod's container.
  const TestHost& host_of(const std::string& id) {
    auto p = pod(id);
    for (const auto& h : env.hosts)
      if (h.address == p["ssh_host"]) return h;
    FAIL("pod " << id << " is on no e2e host (" << p["ssh_host"] << ")");
    return env.hosts.front();
  }

  // The pod's host runtime with `args` and the pod's container last.
  berth::ProcessResult runtime_on(const std::string& id, std::vector<std::string> args) {
    args.push_back(pod(id)["name"].get<std::string>());
    return env.runtime(host_of(id).name, args);
  }

  // When the pod's container last started, as its runtime says.
  std::string started_at(const std::string& id) {
    auto r = runtime_on(id, {"inspect", "--format", "{{.State.StartedAt}}"});
    INFO("podman inspect of pod " << id << " exited " << r.exit_code << ": " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }

  // Exactly `ids` live at the mock, and on the hosts exactly their
  // containers (this deployment's), each in `state`: nothing leaked.
  void expect_pods(const std::set<std::string>& ids, const std::string& state = "running") {
    std::set<std::string> live_ids, expected;
    for (const auto& i : live()) {
      live_ids.insert(i["id"].get<std::string>());
      if (ids.count(i["id"].get<std::string>()))
        expected.insert(host_of(i["id"].get<std::string>()).name + " " +
                        i["name"].get<std::string>() + " " + state);
    }
    CHECK(live_ids == ids);
    std::set<std::string> found;
    for (const auto& h : env.hosts) {
      auto r = env.runtime(h.name, {"ps", "-a", "--filter", "label=berth.deployment=" + deployment,
                                    "--format", "json"});
      INFO(r.out << r.err);
      REQUIRE(r.exit_code == 0);
      for (const auto& c : json::parse(r.out))
        for (const auto& name : c["Names"])
          found.insert(h.name + " " + name.get<std::string>() + " " +
                       c["State"].get<std::string>());
    }
    CHECK(found == expected);
  }

  // Makes the replica's health endpoint answer 500 (the demo image's
  // /cgi-bin/health does while /tmp/unhealthy exists), inside its container.
  void break_health(const std::string& instance_id) {
    auto r = env.runtime(host_of(instance_id).name,
                         {"exec", pod(instance_id)["name"].get<std::string>(), "touch", "/tmp/unhealthy"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
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
  CHECK((*failure)["detail"].get<std::string>().find("HTTP 500") != std::string::npos);
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
  rig.expect_pods({keep, (*redeployed)["instance_id"].get<std::string>()});
  CHECK(w.terminate() == 130);
  rig.expect_pods({});  // --down-on-exit
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
  auto redeployed = w.events_named("redeployed");
  REQUIRE(redeployed.size() == 1);
  rig.expect_pods({redeployed[0]["instance_id"].get<std::string>()});
  CHECK(w.terminate() == 130);
  rig.expect_pods({});
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
  rig.expect_pods({(*healthy)["instance_id"].get<std::string>()});
  CHECK(w.terminate() == 130);
  rig.expect_pods({});
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
  // The summary is the last event, an error, as JSON like every line (-o json).
  auto errors = w.events_named("error");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["reason"] == "workload-failed");
  CHECK(errors[0]["detail"].get<std::string>().find("no replica of 'w-giveup' is healthy") !=
        std::string::npos);
  CHECK(errors[0]["detail"].get<std::string>().find("replica 0: given up") != std::string::npos);
  CHECK(w.events().back() == errors[0]);
  CHECK(w.other_lines().empty());
  rig.expect_pods({});
}

// The pod's container dies on its host (SIGKILL through the host's runtime):
// the provider reads it EXITED, which is a container exit (docs/watch-events.md), with the
// exit code from the runtime; the pod is replaced by a new one.
TEST_CASE("watch e2e: a pod's container killed on its host is a container exit, and replaced",
          "[e2e][watch]") {
  BERTH_E2E_ENV(env);
  PodRig rig(*env, "w-kill", "");
  auto w = rig.watch();
  auto healthy = w.wait_event("healthy", kDeploy, 0);
  INFO(w.transcript());
  REQUIRE(healthy);
  std::string first = (*healthy)["instance_id"].get<std::string>();
  auto killed = rig.runtime_on(first, {"kill"});
  INFO(killed.err);
  REQUIRE(killed.exit_code == 0);
  auto failure = w.wait_event("failure", kReact);
  INFO(w.transcript());
  REQUIRE(failure);
  CHECK((*failure)["reason"] == "container-exit");
  CHECK((*failure)["replica"] == 0);
  CHECK((*failure)["instance_id"] == first);
  std::string detail = (*failure)["detail"].get<std::string>();
  CHECK(detail.find("the container exited with code 137") == 0);
  CHECK(detail.find("(the provider reports it EXITED)") != std::string::npos);
  REQUIRE(w.wait_event("terminated", kReact, 0));
  auto redeployed = w.wait_event("redeployed", kDeploy, 0);
  REQUIRE(redeployed);
  CHECK((*redeployed)["reason"] == "container-exit");
  std::string second = (*redeployed)["instance_id"].get<std::string>();
  CHECK(second != first);
  REQUIRE(w.wait_event("healthy", kDeploy, 0));
  rig.expect_pods({second});
  CHECK(w.terminate() == 130);
  rig.expect_pods({});
}

// The workload gives up by itself: on SIGUSR1 (sent through the host's
// runtime, no exec needed) it logs a fatal error and exits 3.
TEST_CASE(
    "watch e2e: a pod's container exiting with an error reports its code and last log "
    "lines, and is replaced",
    "[e2e][watch]") {
  BERTH_E2E_ENV(env);
  PodRig rig(
      *env, "w-exit",
      R"(command: ["sh", "-c", "httpd -p 8000 -h /www; trap 'echo fatal: CUDA error: out of memory >&2; exit 3' USR1; echo model loaded; while :; do sleep 1 & wait $!; done"]
)");
  auto w = rig.watch();
  auto healthy = w.wait_event("healthy", kDeploy, 0);
  INFO(w.transcript());
  REQUIRE(healthy);
  std::string first = (*healthy)["instance_id"].get<std::string>();
  auto signalled = rig.runtime_on(first, {"kill", "--signal", "USR1"});
  INFO(signalled.err);
  REQUIRE(signalled.exit_code == 0);
  auto failure = w.wait_event("failure", kReact);
  INFO(w.transcript());
  REQUIRE(failure);
  CHECK((*failure)["reason"] == "container-exit");
  CHECK((*failure)["instance_id"] == first);
  std::string detail = (*failure)["detail"].get<std::string>();
  CHECK(detail.find("the container exited with code 3 ") == 0);
  CHECK(detail.find("last log lines:\nmodel loaded\nfatal: CUDA error: out of memory") !=
        std::string::npos);
  REQUIRE(w.wait_event("terminated", kReact, 0));
  auto redeployed = w.wait_event("redeployed", kDeploy, 0);
  REQUIRE(redeployed);
  std::string second = (*redeployed)["instance_id"].get<std::string>();
  CHECK(second != first);
  REQUIRE(w.wait_event("healthy", kDeploy, 0));
  rig.expect_pods({second});
  CHECK(w.terminate() == 130);
  rig.expect_pods({});
}

TEST_CASE(
    "watch e2e: of two replicas only the failed one moves, off its offer and host, and "
    "the other is never touched",
    "[e2e][watch]") {
  BERTH_E2E_ENV(env);
  PodRig rig(*env, "w-pair", "replicas: 2\nspread: region\n");
  auto w = rig.watch();
  REQUIRE(w.wait_event("healthy", kDeploy, 0));
  REQUIRE(w.wait_event("healthy", kDeploy, 1));
  INFO(w.transcript());
  auto deployed = w.events_named("deployed");
  REQUIRE(deployed.size() == 2);
  std::string keep = deployed[0]["instance_id"].get<std::string>();
  std::string broken = deployed[1]["instance_id"].get<std::string>();
  const std::string keep_started = rig.started_at(keep);
  const json broken_pod = rig.pod(broken);
  const std::string broken_host = rig.host_of(broken).name;
  std::size_t seen = w.events().size();
  REQUIRE(rig.runtime_on(broken, {"kill"}).exit_code == 0);
  auto failure = w.wait_event("failure", kReact);
  INFO(w.transcript());
  REQUIRE(failure);
  CHECK((*failure)["replica"] == 1);
  CHECK((*failure)["instance_id"] == broken);
  CHECK((*failure)["reason"] == "container-exit");
  auto redeployed = w.wait_event("redeployed", kDeploy, 1);
  REQUIRE(redeployed);
  REQUIRE(w.wait_event("healthy", kDeploy, 1));
  std::string moved = (*redeployed)["instance_id"].get<std::string>();
  CHECK(moved != broken);
  // The cooldown exclusion: neither the failed offer nor the failed host.
  const json moved_pod = rig.pod(moved);
  CHECK(rig.host_of(moved).name != broken_host);
  auto offer = [](const json& p) {
    return json{p["request"]["gpu"]["id"], p["request"]["cloud"], p["request"]["dataCenterIds"]};
  };
  CHECK(offer(moved_pod) != offer(broken_pod));
  // Replica 0 never touched: same pod, same container, never restarted.
  CHECK(rig.started_at(keep) == keep_started);
  for (std::size_t i = seen; i < w.events().size(); ++i) {
    INFO(w.events()[i].dump());
    CHECK(w.events()[i]["replica"] == 1);
  }
  rig.expect_pods({keep, moved});
  CHECK(w.terminate() == 130);
  rig.expect_pods({});
}

TEST_CASE("watch e2e: a failure class outside restart.on is reported and left as it is",
          "[e2e][watch]") {
  BERTH_E2E_ENV(env);
  PodRig rig(*env, "w-left", "restart: {on: [instance-lost, preempted, unhealthy]}\n");
  auto w = rig.watch();
  auto healthy = w.wait_event("healthy", kDeploy, 0);
  INFO(w.transcript());
  REQUIRE(healthy);
  std::string only = (*healthy)["instance_id"].get<std::string>();
  REQUIRE(rig.runtime_on(only, {"kill"}).exit_code == 0);
  auto failure = w.wait_event("failure", kReact);
  INFO(w.transcript());
  REQUIRE(failure);
  CHECK((*failure)["reason"] == "container-exit");
  CHECK((*failure)["detail"].get<std::string>().find(
            "(restart.on does not include container-exit: left as it is)") != std::string::npos);
  // Several polls later: nothing terminated, nothing tried, said only once.
  auto acted = w.wait_for(
      [](const json& e) {
        return e["event"] == "terminated" || e["event"] == "attempt" ||
               e["event"] == "redeployed" || e["event"] == "failure";
      },
      seconds(3));
  CHECK_FALSE(acted);
  CHECK(rig.pod(only)["status"] == "EXITED");
  rig.expect_pods({only}, "exited");
  CHECK(w.terminate() == 130);
  rig.expect_pods({});  // --down-on-exit removes the exited pod too
}

// The pod being redeployed takes seconds to provision: meanwhile watch polls
// on, and SIGTERM makes the redeploy remove the pod it was making, confirmed,
// while the running replica is left exactly as it was.
TEST_CASE(
    "watch e2e: SIGTERM during a redeploy removes the half-made pod and leaves the "
    "running replica alone",
    "[e2e][watch]") {
  BERTH_E2E_ENV(env);
  PodRig rig(*env, "w-sigterm", "replicas: 2\nspread: region\n");
  auto w = rig.watch({}, /*down_on_exit=*/false);
  REQUIRE(w.wait_event("healthy", kDeploy, 0));
  REQUIRE(w.wait_event("healthy", kDeploy, 1));
  INFO(w.transcript());
  auto deployed = w.events_named("deployed");
  REQUIRE(deployed.size() == 2);
  std::string keep = deployed[0]["instance_id"].get<std::string>();
  std::string broken = deployed[1]["instance_id"].get<std::string>();
  const std::string keep_started = rig.started_at(keep);
  rig.mock->set_timing(4, 0);  // the replacement provisions for 4 s
  REQUIRE(rig.runtime_on(broken, {"kill"}).exit_code == 0);
  REQUIRE(w.wait_event("terminated", kReact, 1));
  // The replacement pod exists and provisions.
  std::string half;
  auto until = std::chrono::steady_clock::now() + seconds(30);
  while (half.empty() && std::chrono::steady_clock::now() < until) {
    for (const auto& i : rig.live())
      if (i["id"] != keep && i["id"] != broken) half = i["id"].get<std::string>();
    if (half.empty()) std::this_thread::sleep_for(milliseconds(100));
  }
  REQUIRE_FALSE(half.empty());
  auto lists = [&] {
    int n = 0;
    for (const auto& r : rig.mock->requests())
      if (r["method"] == "GET" && r["path"] == "/v2/pods") ++n;
    return n;
  };
  int before = lists();
  std::this_thread::sleep_for(milliseconds(2500));
  CHECK(lists() - before >= 2);  // replica 0 is still polled, every second
  REQUIRE(rig.pod(half)["status"] == "PROVISIONING");
  CHECK(w.terminate() == 130);
  INFO(w.transcript());
  CHECK(w.events_named("redeployed").empty());
  auto stopped = w.events_named("stopped");
  REQUIRE(stopped.size() == 1);
  CHECK(stopped[0]["reason"] == "interrupted");
  CHECK(rig.pod(half)["terminated"] == true);  // removed by the interrupted redeploy
  CHECK(rig.started_at(keep) == keep_started);
  rig.expect_pods({keep});
  auto down = berth::e2e::run_berth({"down", "w-sigterm"}, rig.berth_env_map);
  INFO(down.err);
  CHECK(down.exit_code == 0);
  rig.expect_pods({});
}
