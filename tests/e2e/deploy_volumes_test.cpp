// Provider volumes (volumes with size:) on RunPod: made where the replica
// lands, an unused one made for a failed launch deleted again, the data kept
// across down and up, the next placement drawn back to where the volume is,
// and `berth volumes` listing and deleting it.
#include "berth/host/ssh.h"
#include "e2e/deploy_fixture.h"
#include "support/mock_server.h"

using namespace berth::e2e;
using nlohmann::json;

namespace {

json volumes_of(const std::map<std::string, std::string>& e) {
  auto listed = run_berth({"volumes", "-o", "json"}, e);
  INFO(listed.err);
  REQUIRE(listed.exit_code == 0);
  return parse_json(listed.out)["volumes"];
}

}  // namespace

TEST_CASE("runpod: a provider volume keeps its data across down and up", "[e2e][deploy][volumes]") {
  BERTH_E2E_ENV(env);
  const auto& h4 = env->host("h4");
  std::string hook = std::string(BERTH_TEST_DIR) + "/e2e/deploy_pod_hook.py";
  std::string env_json = (env->root / "env.json").string();
  Scratch scratch;
  berth::testing::MockServer mock(
      "runpod", {"--ssh-host", h4.address + ":" + std::to_string(h4.port), "--on-launch-cmd",
                 hook + " launch " + env_json, "--on-terminate-cmd", hook + " terminate " + env_json,
                 "--volume-dir", (scratch.path() / "volumes").string()});
  auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(key);
  env->authorize(key->public_key);
  auto e = scratch.env({{"RUNPOD_KEY", mock.api_key()}});
  e["BERTH_CONFIG"] = scratch.write("config.yaml",
                                    "providers:\n  runpod: {type: runpod, api_key: \"${RUNPOD_KEY}\", "
                                    "base_url: \"" + mock.url() + "\"}\nruntime: docker\n").string();
  auto tmpl = scratch.write("vol.yaml", R"(name: e2e-vol
image: localhost/berth-demo:1
ports: [8000]
volumes: [{name: data, path: /data, size: 20GB}]
health: {http: {port: 8000, path: /health}, interval: 1s, timeout: 2s, grace: 30s}
resources: {gpu: {count: 1, models: [RTX4090]}}
placement: {providers: [runpod]}
)");
  DeploymentGuard guard(*env, "e2e-vol", e, {"h4"});

  // The cheapest offer has no capacity when launched: its volume, made for
  // it, is deleted again once the replica runs elsewhere.
  auto plan = run_berth({"plan", tmpl.string(), "-o", "json"}, e);
  REQUIRE(plan.exit_code == 0);
  auto planned = parse_json(plan.out);
  CHECK(planned["volumes"] == json::array());
  CHECK(planned["placement"][0]["new_volumes"] == json::array({"data"}));
  const std::string cheapest_region = planned["placement"][0]["offer"]["region"];
  mock.fault({{"op", "launch"}, {"status", 400}, {"times", 1},
              {"content_type", "application/problem+json"},
              {"body", {{"title", "Bad Request"}, {"status", 400},
                        {"detail", "There are no longer any instances available with the "
                                   "requested specifications. Please refresh and try again."}}}});
  auto up = run_berth({"up", tmpl.string(), "-o", "json", "--yes"}, e);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto launched = mock.instances();
  REQUIRE(launched.size() == 1);
  const std::string region = launched[0]["request"]["dataCenterIds"][0];
  CHECK(region != cheapest_region);
  auto listed = volumes_of(e);
  REQUIRE(listed.size() == 1);  // the one made for the failed launch is gone
  CHECK(listed[0]["name"] == "berth-e2e-vol-data");
  CHECK(listed[0]["region"] == region);
  CHECK(listed[0]["size_gb"] == 20);
  const std::string id = listed[0]["id"];
  CHECK(launched[0]["request"]["mounts"]["network"][0]["volumeId"] == id);
  CHECK(up.err.find("deleted the unused volume") != std::string::npos);

  // (The pod's SSH endpoint here is the test host itself, so the container
  // is reached with the host's runtime.)
  auto containers = env->berth_containers("h4", "e2e-vol");
  REQUIRE(containers.size() == 1);
  auto wrote = env->runtime("h4", {"exec", containers[0], "sh", "-c", "echo kept > /data/f"});
  REQUIRE(wrote.exit_code == 0);
  auto down = run_berth({"down", "e2e-vol"}, e);
  INFO(down.err);
  REQUIRE(down.exit_code == 0);
  CHECK(eventually([&] { return env->berth_containers("h4", "e2e-vol").empty(); }));
  CHECK(volumes_of(e).size() == 1);  // down keeps it

  // Next time the plan goes back to the volume, though cheaper offers are
  // elsewhere, and the container sees what the last one wrote.
  plan = run_berth({"plan", tmpl.string()}, e);
  CHECK(plan.out.find("data: at runpod in " + region) != std::string::npos);
  up = run_berth({"up", tmpl.string(), "-o", "json", "--yes"}, e);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  launched = mock.instances();
  REQUIRE(launched.size() == 2);
  CHECK(launched[1]["request"]["dataCenterIds"][0] == region);
  containers = env->berth_containers("h4", "e2e-vol");
  REQUIRE(containers.size() == 1);
  auto read = env->runtime("h4", {"exec", containers[0], "cat", "/data/f"});
  CHECK(read.out == "kept\n");

  // In use: the provider refuses to delete it, and berth says why.
  auto busy = run_berth({"volumes", "rm", "berth-e2e-vol-data", "--yes"}, e);
  CHECK(busy.exit_code == 6);
  CHECK(busy.err.find("in use") != std::string::npos);
  REQUIRE(run_berth({"down", "e2e-vol"}, e).exit_code == 0);
  // Without a terminal, deleting needs --yes; an unknown volume is exit 8.
  auto unasked = run_berth({"volumes", "rm", "runpod/" + id}, e);
  CHECK(unasked.exit_code == 2);
  CHECK(unasked.err.find("--yes") != std::string::npos);
  CHECK(run_berth({"volumes", "rm", "nope", "--yes"}, e).exit_code == 8);
  auto removed = run_berth({"volumes", "rm", "runpod/" + id, "--yes"}, e);
  INFO(removed.err);
  CHECK(removed.exit_code == 0);
  CHECK(volumes_of(e).empty());
  CHECK(mock.violations() == json::array());
}
