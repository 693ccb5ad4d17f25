// The VM path end to end, through the real binary: a Lambda mock whose
// instances are the e2e hosts, reached as ubuntu@IP:22 like a Lambda VM
// (lambda_fixture.h). Capacity failover with Lambda's own error envelope,
// the whole lifecycle up → status → logs → exec → down, and SIGINT in every
// phase of `up` leaving nothing behind.
#include "e2e/lambda_fixture.h"

using namespace berth::e2e;
using nlohmann::json;

namespace {

// What Lambda sends when an instance type has no capacity left in a region,
// even one that instance-types listed a moment ago (providers/lambda/lambda_provider.h).
json insufficient_capacity() {
  return {{"op", "launch"},
          {"status", 400},
          {"times", 1},
          {"body",
           {{"error",
             {{"code", "instance-operations/launch/insufficient-capacity"},
              {"message", "Not enough capacity to fulfill launch request."},
              {"suggestion",
               "Choose an instance type with more availability, or try again later."}}}}}};
}

int launches(berth::testing::MockServer& mock) {
  int n = 0;
  for (const auto& r : mock.requests())
    if (r["method"] == "POST" && r["path"] == "/api/v1/instance-operations/launch") ++n;
  return n;
}

}  // namespace

TEST_CASE("lambda: capacity failover, then up, status, logs, exec, down on a VM", "[e2e][deploy]") {
  BERTH_E2E_ENV(env);
  const auto& h2 = env->host("h2");
  LambdaRig rig(*env, {.hosts = {"h2"}, .mock_args = {"--boot-seconds", "1"}});
  auto tmpl = rig.write_template("e2e-vm", R"(image: localhost/berth-demo:1
command: ["sh", "-c", "echo serving from the vm; exec httpd -f -p 8000 -h /www"]
ports: [{container: 8000, host: 18641}]
env: {MESSAGE: "from the vm"}
health: {http: {port: 8000, path: /health}, interval: 1s, timeout: 2s, grace: 30s}
resources: {gpu: {count: 1}}
placement: {providers: [lambda]}
)");
  DeploymentGuard guard(*env, "e2e-vm", rig.env(), {"h2"});
  // The cheapest offer is listed with capacity, but the launch finds none.
  rig.mock().fault(insufficient_capacity());
  int as_ubuntu = env->count_in_sshd_log("h2", "Accepted publickey for ubuntu ");
  int as_root = env->count_in_sshd_log("h2", "Accepted publickey for root ");
  auto up = run_berth({"up", "--yes", tmpl.string(), "-o", "json"}, rig.env());
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto j = parse_json(up.out);
  REQUIRE(j["attempts"].size() == 2);
  CHECK(j["attempts"][0]["result"] == "no-capacity");
  CHECK(j["attempts"][0]["offer_id"] == "gpu_1x_a10@us-east-1");
  CHECK(j["attempts"][0]["message"].get<std::string>().find(
            "instance-operations/launch/insufficient-capacity") != std::string::npos);
  CHECK(j["attempts"][1]["result"] == "launched");
  CHECK(j["attempts"][1]["offer_id"] == "gpu_1x_a10@us-west-1");
  // Never a silent move to a pricier offer: this one costs the same.
  CHECK(j["attempts"][1]["price_per_hour"] == j["attempts"][0]["price_per_hour"]);
  CHECK(up.err.find("no-capacity") != std::string::npos);
  CHECK(launches(rig.mock()) == 2);
  auto launched = rig.mock().instances();
  REQUIRE(launched.size() == 1);  // the refused launch created nothing
  CHECK(launched[0]["request"]["region_name"] == "us-west-1");

  const auto& replica = j["replicas"][0];
  CHECK(replica["provider"] == "lambda");
  CHECK(replica["host"] == h2.address);
  CHECK(replica["ssh_port"] == 22);
  auto ep = replica["endpoints"][0];
  CHECK(ep["host"] == h2.address);
  CHECK(ep["port"] == 18641);
  CHECK(http_get(ep["host"], ep["port"]) == "hello from berth\n");
  // berth came in as Lambda's user, on port 22, with one handshake for the whole up.
  CHECK(env->count_in_sshd_log("h2", "Accepted publickey for ubuntu ") - as_ubuntu == 1);
  CHECK(env->count_in_sshd_log("h2", "Accepted publickey for root ") == as_root);
  CHECK(env->berth_containers("h2", "e2e-vm").size() == 1);

  auto status = run_berth({"status", "e2e-vm", "-o", "json"}, rig.env());
  INFO(status.err);
  REQUIRE(status.exit_code == 0);
  auto s = parse_json(status.out);
  REQUIRE(s["deployments"].size() == 1);
  REQUIRE(s["deployments"][0]["replicas"].size() == 1);
  CHECK(s["deployments"][0]["replicas"][0]["provider"] == "lambda");
  CHECK(s["deployments"][0]["replicas"][0]["instance_id"] == replica["instance_id"]);
  CHECK(s["deployments"][0]["replicas"][0]["health"] == "healthy");

  auto logs = run_berth({"logs", "e2e-vm", "--tail", "5"}, rig.env());
  INFO(logs.err);
  CHECK(logs.exit_code == 0);
  CHECK(logs.out.find("serving from the vm") != std::string::npos);
  auto exec = run_berth({"exec", "e2e-vm", "--", "sh", "-c", "echo \"$MESSAGE\""}, rig.env());
  INFO(exec.err);
  CHECK(exec.exit_code == 0);
  CHECK(exec.out == "from the vm\n");

  auto down = run_berth({"down", "e2e-vm"}, rig.env());
  INFO(down.err);
  CHECK(down.exit_code == 0);
  CHECK(rig.live().empty());
  CHECK(eventually([&] { return env->berth_containers("h2", "e2e-vm").empty(); }));
  // Gone for `status` too: found statelessly at the provider.
  auto after = run_berth({"status", "-o", "json"}, rig.env());
  CHECK(after.exit_code == 0);
  CHECK(parse_json(after.out)["deployments"].empty());
}

namespace {

// SIGINT once `up` shows `phase` on a Lambda VM. The mock has no terminate
// hook here, so no container is removed for berth: its own rollback must.
struct VmInterrupt {
  std::string phase;                   // the progress line to wait for
  std::vector<std::string> mock_args;  // slow provisioning or boot
  std::string host = "h1";             // where the VM is; another name: nothing listens
  std::string slow;                    // the runtime step that hangs on the host
  std::string health;                  // template lines
};

void interrupt_on_vm(const VmInterrupt& c) {
  BERTH_E2E_ENV(env);
  LambdaRig rig(*env, {.hosts = {c.host}, .mock_args = c.mock_args, .vm_end_hook = false});
  bool real_host = c.host != "nowhere";
  std::optional<SlowRuntime> slow;
  if (real_host) slow.emplace(*env, c.host, c.slow);
  // Without a pinned tag berth always pulls, so a slow pull is reached.
  std::string image = c.slow == "pull" ? "localhost/berth-demo" : "localhost/berth-demo:1";
  const std::string name = "e2e-vm-intr";
  auto tmpl = rig.write_template(name, "image: " + image + R"(
ports: [{container: 8000, host: 18651}]
resources: {gpu: {count: 1}}
placement: {providers: [lambda]}
)" + c.health);
  auto result = interrupt_up(rig.scratch(), rig.env(), tmpl, c.phase, SIGINT, [&] {
    // The container exists before the runtime answers berth.
    if (c.slow == "start")
      REQUIRE(eventually([&] { return !env->berth_containers(c.host, name).empty(); }));
  });
  INFO(c.phase << "\n" << result.err);
  CHECK(result.exit_code == 130);
  CHECK(rig.mock().instances().size() == 1);
  CHECK(rig.live().empty());
  if (!real_host) return;
  CHECK(env->berth_containers(c.host, name).empty());
  // Nor does anything berth ran there go on (a pull, a `run` still starting).
  CHECK(
      eventually([&] { return env->runtime_processes(c.host).empty(); }, std::chrono::seconds(5)));
  for (const auto& p : env->runtime_processes(c.host))
    FAIL_CHECK("still running on the host: " << p);
}

}  // namespace

TEST_CASE("lambda: interrupt while provisioning", "[e2e][deploy][interrupt]") {
  interrupt_on_vm({.phase = "provisioning", .mock_args = {"--provision-seconds", "60"}});
}

TEST_CASE("lambda: interrupt while booting", "[e2e][deploy][interrupt]") {
  interrupt_on_vm({.phase = "booting", .mock_args = {"--boot-seconds", "60"}});
}

TEST_CASE("lambda: interrupt while connecting over SSH", "[e2e][deploy][interrupt]") {
  // Nothing listens there: berth keeps retrying, as for a VM whose sshd is not up yet.
  interrupt_on_vm({.phase = "connecting to", .host = "nowhere"});
}

TEST_CASE("lambda: interrupt while pulling", "[e2e][deploy][interrupt]") {
  interrupt_on_vm({.phase = "pulling", .slow = "pull"});
}

TEST_CASE("lambda: interrupt while starting the container", "[e2e][deploy][interrupt]") {
  interrupt_on_vm({.phase = "starting the container", .slow = "start"});
}

TEST_CASE("lambda: interrupt while waiting for health", "[e2e][deploy][interrupt]") {
  interrupt_on_vm(
      {.phase = "waiting for the health check",
       .health = "health: {http: {port: 8000, path: /never}, interval: 1s, grace: 10m}\n"});
}

TEST_CASE("lambda: the private entry image runs its ENTRYPOINT with the template's arguments, "
          "or its CMD, on the VM",
          "[e2e][deploy][clouds]") {
  BERTH_E2E_ENV(env);
  LambdaRig rig(*env, {.hosts = {"h2", "h1"}});
  auto e = rig.env();
  e["REG_USER"] = env->registry.username;
  e["REG_PASS"] = env->registry.password;
  auto write = [&](const std::string& extra) {
    return rig.write_template("e2e-vm-entry", entry_template_body(*env, extra));
  };
  DeploymentGuard guard(*env, "e2e-vm-entry", e, {"h1", "h2"});
  auto up = run_berth({"up", "--yes", write("command: [--port, \"8000\", --say, \"vm: 'q' $HOME\"]\n").string(),
                       "-o", "json"},
                      e);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto ep = parse_json(up.out)["replicas"][0]["endpoints"][0];
  CHECK(http_get(ep["host"], ep["port"]) == "vm: 'q' $HOME\n");
  CHECK(up.err.find(env->registry.password) == std::string::npos);
  CHECK(rig.mock().violations() == json::array());

  auto up2 = run_berth({"up", "--yes", write("").string(), "-o", "json"}, e);
  INFO(up2.err);
  REQUIRE(up2.exit_code == 0);
  auto ep2 = parse_json(up2.out)["replicas"][0]["endpoints"][0];
  CHECK(http_get(ep2["host"], ep2["port"]) == "hello from the image CMD\n");
  CHECK(run_berth({"down", "e2e-vm-entry"}, e).exit_code == 0);
  CHECK(rig.live().empty());
}

TEST_CASE("lambda: failover past two capacity misses under its one-launch-per-12-s limit "
          "spends no candidate on a 429",
          "[e2e][deploy][clouds]") {
  BERTH_E2E_ENV(env);
  LambdaRig rig(*env, {.hosts = {"h2"}, .mock_args = {"--min-interval", "launch=12"}});
  auto capacity = insufficient_capacity();
  capacity["times"] = 2;
  rig.mock().fault(capacity);
  auto tmpl = rig.write_template("e2e-vm-paced", "image: " + env->demo_image +
                                                     "\nports: [8000]\n"
                                                     "resources: {gpu: {count: 1}}\n");
  DeploymentGuard guard(*env, "e2e-vm-paced", rig.env(), {"h2"});
  auto up = run_berth({"up", "--yes", tmpl.string(), "-o", "json"}, rig.env());
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto j = parse_json(up.out);
  REQUIRE(j["attempts"].size() == 3);
  CHECK(j["attempts"][0]["result"] == "no-capacity");
  CHECK(j["attempts"][1]["result"] == "no-capacity");
  CHECK(j["attempts"][2]["result"] == "launched");
  CHECK(launches(rig.mock()) == 3);  // no launch was refused as too frequent
  CHECK(up.err.find("its launch rate limit") != std::string::npos);
  CHECK(rig.mock().violations() == json::array());
  CHECK(run_berth({"down", "e2e-vm-paced"}, rig.env()).exit_code == 0);
}
