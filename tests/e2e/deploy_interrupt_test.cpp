// SIGINT in every phase of `up` leaves nothing behind: no instance at the
// provider, no container on any host, exit 130. Here for the `local`
// provider, and SIGTERM; the same on a Lambda VM is in deploy_lambda_test.cpp.
// Slow phases come from the mock's slow state transitions and from the test
// hosts' runtime, which hangs at one step on request (SlowRuntime).
#include <csignal>

#include "e2e/lambda_fixture.h"

using namespace berth::e2e;
using nlohmann::json;

TEST_CASE("SIGTERM is an interrupt too", "[e2e][deploy][interrupt]") {
  BERTH_E2E_ENV(env);
  LambdaRig rig(*env, {.mock_args = {"--boot-seconds", "60"}});
  auto tmpl = rig.write_template("e2e-intr", R"(image: localhost/berth-demo:1
ports: [8000]
resources: {gpu: {count: 1}}
placement: {providers: [lambda]}
)");
  auto result = interrupt_up(rig.scratch(), rig.env(), tmpl, "booting", SIGTERM);
  INFO(result.err);
  CHECK(result.exit_code == 130);
  CHECK(rig.mock().instances().size() == 1);
  CHECK(rig.live().empty());
}

namespace {

void interrupt_local(const std::string& slow, const std::string& phase, const std::string& name,
                     const std::string& health) {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  SlowRuntime slow_step(*env, "local", slow);
  auto e = scratch.env(env->local_runtime_env());
  e["BERTH_CONFIG"] = scratch.write("config.yaml", kLocalConfig).string();
  // Without a pinned tag berth always pulls, so the slow pull is reached.
  std::string image = slow == "pull" ? "localhost/berth-demo" : "localhost/berth-demo:1";
  auto tmpl = scratch.write("t.yaml", "name: " + name + "\nimage: " + image + "\n"
                                      "ports: [{container: 8000, host: 18631}]\n" + health +
                                      "resources: {gpu: {count: 0}}\n");
  DeploymentGuard guard(*env, name, e, {"local"});
  auto result = interrupt_up(scratch, e, tmpl, phase, SIGINT, [&] {
    // The container exists before berth hears back from the runtime.
    if (slow == "start")
      REQUIRE(eventually([&] { return !env->berth_containers("local", name).empty(); }));
  });
  INFO(phase << "\n" << result.err);
  CHECK(result.exit_code == 130);
  CHECK(env->berth_containers("local", name).empty());
  CHECK(eventually([&] { return env->runtime_processes("local").empty(); }, std::chrono::seconds(5)));
  for (const auto& p : env->runtime_processes("local")) FAIL_CHECK("still running: " << p);
}

}  // namespace

TEST_CASE("interrupt while pulling", "[e2e][deploy][interrupt]") {
  interrupt_local("pull", "pulling", "e2e-intr-pull", "");
}

TEST_CASE("interrupt while starting the container", "[e2e][deploy][interrupt]") {
  interrupt_local("start", "starting the container", "e2e-intr-start", "");
}

TEST_CASE("interrupt while waiting for health", "[e2e][deploy][interrupt]") {
  interrupt_local("", "waiting for the health check", "e2e-intr-health",
                  "health: {http: {port: 8000, path: /never}, interval: 1s, grace: 10m}\n");
}

// --timeout ends `up` as ^C does: what the run created is terminated and
// confirmed gone, exit 130; only the message says why.
TEST_CASE("up: --timeout while booting removes the instance, exit 130", "[e2e][deploy][interrupt]") {
  BERTH_E2E_ENV(env);
  LambdaRig rig(*env, {.mock_args = {"--boot-seconds", "60"}});
  auto tmpl = rig.write_template("e2e-timeout", R"(image: localhost/berth-demo:1
ports: [8000]
resources: {gpu: {count: 1}}
placement: {providers: [lambda]}
)");
  auto start = std::chrono::steady_clock::now();
  auto up = run_berth({"up", "--yes", "--timeout", "3s", tmpl.string()}, rig.env());
  auto took = std::chrono::steady_clock::now() - start;
  INFO(up.err);
  CHECK(up.exit_code == 130);
  CHECK(up.err.find("berth: error: timed out after 3s (--timeout); everything this run "
                    "created was removed") != std::string::npos);
  CHECK(rig.mock().instances().size() == 1);
  CHECK(rig.live().empty());
  CHECK(took < std::chrono::seconds(30));  // not the 60 s boot
}

TEST_CASE("up: --timeout while waiting for health removes the container, exit 130",
          "[e2e][deploy][interrupt]") {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  auto e = scratch.env(env->local_runtime_env());
  e["BERTH_CONFIG"] =
      scratch.write("config.yaml", kLocalConfig).string();
  const std::string name = "e2e-timeout-health";
  auto tmpl = scratch.write("t.yaml", "name: " + name +
                                          "\nimage: localhost/berth-demo:1\n"
                                          "ports: [{container: 8000, host: 18632}]\n"
                                          "health: {http: {port: 8000, path: /never}, interval: "
                                          "1s, grace: 10m}\n"
                                          "resources: {gpu: {count: 0}}\n");
  DeploymentGuard guard(*env, name, e, {"local"});
  auto up = run_berth({"up", "--yes", "-o", "json", "--timeout", "15s", tmpl.string()}, e);
  INFO(up.err);
  CHECK(up.exit_code == 130);
  auto j = parse_json(up.out);
  CHECK(j["error"]["exit_code"] == 130);
  CHECK(j["error"]["message"] == "timed out after 15s (--timeout)");
  CHECK(env->berth_containers("local", name).empty());
}
