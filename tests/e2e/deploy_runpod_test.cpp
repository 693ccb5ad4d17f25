// The container-native path: RunPod gets image, env and ports in the create
// call; the mock's launch hook makes the pod a real container on a test host.
#include "berth/host/ssh.h"
#include "e2e/deploy_fixture.h"
#include "support/mock_server.h"

using namespace berth::e2e;
using nlohmann::json;

TEST_CASE("runpod: up, status, logs, exec, down without host setup", "[e2e][deploy]") {
  BERTH_E2E_ENV(env);
  const auto& h4 = env->host("h4");
  std::string hook = std::string(BERTH_TEST_DIR) + "/e2e/deploy_pod_hook.py";
  std::string env_json = (env->root / "env.json").string();
  berth::testing::MockServer mock(
      "runpod", {"--ssh-host", h4.address + ":" + std::to_string(h4.port), "--on-launch-cmd",
                 hook + " launch " + env_json, "--on-terminate-cmd", hook + " terminate " + env_json});
  Scratch scratch;
  auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(key);
  env->authorize(key->public_key);
  auto e = scratch.env({{"RUNPOD_KEY", mock.api_key()}, {"TOKEN", "pod-secret-value"}});
  e["BERTH_CONFIG"] = scratch.write("config.yaml",
                                    "providers:\n  runpod: {type: runpod, api_key: \"${RUNPOD_KEY}\", "
                                    "base_url: \"" + mock.url() + "\"}\nruntime: docker\n").string();
  auto tmpl = scratch.write("pod.yaml", R"(name: e2e-pod
image: localhost/berth-demo:1
ports: [8000]
env: {TOKEN: "${TOKEN}"}
health: {http: {port: 8000, path: /health}, interval: 1s, timeout: 2s, grace: 30s}
resources: {gpu: {count: 1}}
placement: {providers: [runpod]}
)");
  DeploymentGuard guard(*env, "e2e-pod", e, {"h4"});
  // The best offer has no capacity when launched: berth says so and moves on.
  mock.fault({{"op", "launch"}, {"status", 400}, {"times", 1},
              {"content_type", "application/problem+json"},
              {"body", {{"title", "Bad Request"}, {"status", 400},
                        {"detail", "There are no longer any instances available with the "
                                   "requested specifications. Please refresh and try again."}}}});
  auto up = run_berth({"up", "--yes", tmpl.string(), "-o", "json"}, e);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto j = parse_json(up.out);
  REQUIRE(j["attempts"].size() == 2);
  CHECK(j["attempts"][0]["result"] == "no-capacity");
  CHECK(j["attempts"][1]["result"] == "launched");
  CHECK(j["attempts"][0]["offer_id"] != j["attempts"][1]["offer_id"]);
  CHECK(up.err.find("no-capacity") != std::string::npos);
  CHECK(j["attempts"][1]["price_per_hour"].get<double>() >= j["attempts"][0]["price_per_hour"].get<double>());
  auto ep = j["replicas"][0]["endpoints"][0];
  CHECK(ep["host"] == h4.address);
  CHECK(ep["port"] == 8000);
  CHECK(http_get(ep["host"], ep["port"]) == "hello from berth\n");
  // The create call carried the container: image, env, ports.
  auto launched = mock.instances();
  REQUIRE(launched.size() == 1);  // the failed launch created nothing
  CHECK(launched[0]["request"]["image"] == "localhost/berth-demo:1");
  CHECK(launched[0]["request"]["env"]["TOKEN"] == "pod-secret-value");
  // And berth ran nothing on the host to start it.
  CHECK(slurp(h4.runtime_log).find("pull") == std::string::npos);
  CHECK(up.err.find("pod-secret-value") == std::string::npos);

  auto status = run_berth({"status", "e2e-pod", "-o", "json"}, e);
  INFO(status.err);
  CHECK(status.exit_code == 0);
  auto s = parse_json(status.out);
  REQUIRE(s["deployments"].size() == 1);
  CHECK(s["deployments"][0]["replicas"][0]["provider"] == "runpod");
  // The pod's GPU as the API reports it, through the catalog.
  CHECK(s["deployments"][0]["replicas"][0]["gpu"].is_string());
  CHECK(s["deployments"][0]["replicas"][0]["gpu"].get<std::string>().find(" ×1") != std::string::npos);
  // Age and cost from the pod's createdAt; SSH apart from the workload's ports.
  const auto& pod = s["deployments"][0]["replicas"][0];
  REQUIRE(pod["age_seconds"].is_number_integer());
  CHECK(pod["age_seconds"].get<long long>() < 600);
  REQUIRE(pod["cost_so_far"].is_number());
  CHECK(pod["cost_so_far"].get<double>() ==
        Approx(pod["price_per_hour"].get<double>() * pod["age_seconds"].get<double>() / 3600)
            .margin(1e-6));
  REQUIRE(pod["ssh"].is_string());
  for (const auto& ep : pod["endpoints"]) CHECK(ep["container_port"] != 22);
  CHECK(s["deployments"][0]["running"] == 1);
  CHECK(s["deployments"][0]["wanted"] == 1);
  // The pod is the container: no runtime inside it to ask. Its log comes
  // from RunPod's API (the SSE endpoint; this mock makes its lines up), and
  // berth runs no `docker logs` anywhere for it.
  auto log_before = slurp(h4.runtime_log).size();  // the file is the whole environment's
  auto logs = run_berth({"logs", "e2e-pod", "--tail", "20"}, e);
  INFO(logs.err);
  CHECK(logs.exit_code == 0);
  CHECK(logs.out.find("[runpod mock] berth-e2e-pod-0-") != std::string::npos);
  CHECK(mock.violations() == json::array());
  auto follow = run_berth({"logs", "e2e-pod", "-f"}, e);
  CHECK(follow.exit_code == 2);
  CHECK(follow.err.find("--follow is not available") != std::string::npos);
  auto runtime_log = slurp(h4.runtime_log).substr(log_before);
  CHECK(runtime_log.find("docker logs") == std::string::npos);
  CHECK(runtime_log.find("podman logs") == std::string::npos);
  auto exec = run_berth({"exec", "e2e-pod", "--", "echo", "inside"}, e);
  CHECK(exec.out == "inside\n");

  auto down = run_berth({"down", "e2e-pod"}, e);
  INFO(down.err);
  CHECK(down.exit_code == 0);
  for (const auto& i : mock.instances()) CHECK(i["terminated"] == true);
  CHECK(eventually([&] { return env->berth_containers("h4", "e2e-pod").empty(); }));
}

TEST_CASE("a host key that changed is refused", "[e2e][deploy]") {
  BERTH_E2E_ENV(env);
  const auto& h3 = env->host("h3");
  std::string hook = std::string(BERTH_TEST_DIR) + "/e2e/deploy_pod_hook.py";
  std::string env_json = (env->root / "env.json").string();
  berth::testing::MockServer mock(
      "runpod", {"--ssh-host", h3.address + ":" + std::to_string(h3.port), "--on-launch-cmd",
                 hook + " launch " + env_json, "--on-terminate-cmd", hook + " terminate " + env_json});
  Scratch scratch;
  auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(key);
  env->authorize(key->public_key);
  auto e = scratch.env({{"RUNPOD_KEY", mock.api_key()}});
  e["BERTH_CONFIG"] = scratch.write("config.yaml",
                                    "providers:\n  runpod: {type: runpod, api_key: \"${RUNPOD_KEY}\", "
                                    "base_url: \"" + mock.url() + "\"}\nruntime: docker\n").string();
  auto tmpl = scratch.write("pod.yaml", R"(name: e2e-rekey
image: localhost/berth-demo:1
resources: {gpu: {count: 1}}
placement: {providers: [runpod]}
)");
  DeploymentGuard guard(*env, "e2e-rekey", e, {"h3"});
  auto up = run_berth({"up", "--yes", tmpl.string()}, e);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto first = run_berth({"exec", "e2e-rekey", "--", "true"}, e);  // pins the key
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  env->rekey("h3");
  auto exec = run_berth({"exec", "e2e-rekey", "--", "true"}, e);
  INFO(exec.err);
  CHECK(exec.exit_code != 0);
  CHECK(exec.err.find("host key") != std::string::npos);
  // Taking it down needs only the provider's API.
  auto down = run_berth({"down", "e2e-rekey"}, e);
  CHECK(down.exit_code == 0);
  for (const auto& i : mock.instances()) CHECK(i["terminated"] == true);
}
