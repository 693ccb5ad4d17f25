// The VM path: a Lambda mock whose instances are real sshd hosts with podman.
// Failover from a capacity error, the whole lifecycle, one SSH handshake per
// host for a whole `up`, and a changed host key refused.
//
// Hidden ([.]) for now: Lambda's API reports no SSH port and its adapter logs
// in as ubuntu@IP:22, while the e2e hosts' sshd listen on another port and
// have no ubuntu user, so these cannot reach a host yet. Run them by name
// once the environment offers port 22 and that user (or the adapter takes an
// SSH port/user setting). Failover and the container-native lifecycle are
// covered by deploy_runpod_test.cpp, the SSH lifecycle by deploy_ssh_test.cpp.
#include "berth/ssh.h"
#include "e2e/deploy_fixture.h"
#include "support/mock_server.h"

using namespace berth::e2e;
using nlohmann::json;

namespace {

std::string lambda_config(const berth::testing::MockServer& mock) {
  return "providers:\n  lambda: {type: lambda, api_key: \"${LAMBDA_KEY}\", base_url: \"" + mock.url() +
         "/api/v1\"}\nruntime: docker\n";
}

std::string ssh_endpoint(const Environment& env, const std::string& host) {
  const auto& h = env.host(host);
  return h.address + ":" + std::to_string(h.port);
}

int unterminated(berth::testing::MockServer& mock) {
  int n = 0;
  for (const auto& i : mock.instances())
    if (!i.value("terminated", false)) ++n;
  return n;
}

}  // namespace

TEST_CASE("lambda: capacity failover, up, status, logs, exec, down", "[e2e][deploy][.]") {
  BERTH_E2E_ENV(env);
  berth::testing::MockServer mock("lambda", {"--ssh-host", ssh_endpoint(*env, "h2"), "--boot-seconds", "1"});
  Scratch scratch;
  auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(key);
  env->authorize(key->public_key);
  auto e = scratch.env({{"LAMBDA_KEY", mock.api_key()}});
  e["BERTH_CONFIG"] = scratch.write("config.yaml", lambda_config(mock)).string();
  auto tmpl = scratch.write("vm.yaml", R"(name: e2e-vm
image: localhost/berth-demo:1
ports: [{container: 8000, host: 18641}]
env: {MESSAGE: "from the vm"}
health: {http: {port: 8000, path: /}, interval: 1s, timeout: 2s, grace: 30s}
resources: {gpu: {count: 1}}
placement: {providers: [lambda]}
)");
  DeploymentGuard guard(*env, "e2e-vm", e, {"h2"});
  // The best offer has no capacity when launched: berth must say so and move on.
  mock.fault({{"op", "launch"}, {"status", 400}, {"times", 1},
              {"body", {{"error", {{"code", "instance-operations/launch/insufficient-capacity"},
                                   {"message", "Not enough capacity to fulfill launch request."}}}}}});
  int accepted_before = env->count_in_sshd_log("h2", "Accepted publickey");
  auto up = run_berth({"up", tmpl.string(), "-o", "json"}, e);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto j = parse_json(up.out);
  REQUIRE(j["attempts"].size() >= 2);
  CHECK(j["attempts"][0]["result"] == "no-capacity");
  CHECK(j["attempts"].back()["result"] == "launched");
  CHECK(up.err.find("no-capacity") != std::string::npos);
  CHECK(env->count_in_sshd_log("h2", "Accepted publickey") - accepted_before == 1);
  auto ep = j["replicas"][0]["endpoints"][0];
  CHECK(http_get(ep["host"], ep["port"]) == "hello from berth\n");

  auto status = run_berth({"status", "-o", "json"}, e);
  INFO(status.err);
  REQUIRE(status.exit_code == 0);
  auto s = parse_json(status.out);
  REQUIRE(s["deployments"].size() == 1);
  CHECK(s["deployments"][0]["replicas"][0]["provider"] == "lambda");
  CHECK(s["deployments"][0]["replicas"][0]["health"] == "healthy");

  CHECK(run_berth({"logs", "e2e-vm"}, e).exit_code == 0);
  auto exec = run_berth({"exec", "e2e-vm", "--", "sh", "-c", "echo \"$MESSAGE\""}, e);
  CHECK(exec.out == "from the vm\n");

  auto down = run_berth({"down", "e2e-vm"}, e);
  INFO(down.err);
  CHECK(down.exit_code == 0);
  CHECK(unterminated(mock) == 0);
}

TEST_CASE("lambda: a host key that changed is refused", "[e2e][deploy][.]") {
  BERTH_E2E_ENV(env);
  berth::testing::MockServer mock("lambda", {"--ssh-host", ssh_endpoint(*env, "h3")});
  Scratch scratch;
  auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(key);
  env->authorize(key->public_key);
  auto e = scratch.env({{"LAMBDA_KEY", mock.api_key()}});
  e["BERTH_CONFIG"] = scratch.write("config.yaml", lambda_config(mock)).string();
  auto tmpl = scratch.write("vm.yaml", R"(name: e2e-rekey
image: localhost/berth-demo:1
resources: {gpu: {count: 1}}
placement: {providers: [lambda]}
)");
  DeploymentGuard guard(*env, "e2e-rekey", e, {"h3"});
  auto up = run_berth({"up", tmpl.string()}, e);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  env->rekey("h3");
  auto exec = run_berth({"exec", "e2e-rekey", "--", "true"}, e);
  INFO(exec.err);
  CHECK(exec.exit_code != 0);
  CHECK(exec.err.find("host key") != std::string::npos);
  // The deployment can still be taken down: terminating needs only the API.
  auto down = run_berth({"down", "e2e-rekey"}, e);
  CHECK(down.exit_code == 0);
  CHECK(unterminated(mock) == 0);
}
