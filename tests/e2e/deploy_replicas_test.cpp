// Replicas through the real binary: deployed at once (each with its own
// failover), and an instance whose SSH never answers given up after
// placement.ssh_timeout for the next offer (docs/templates.md).
#include <sstream>

#include "berth/host/ssh.h"
#include "e2e/deploy_fixture.h"
#include "e2e/lambda_fixture.h"

using namespace berth::e2e;
using nlohmann::json;

namespace {

// The replica of each -o json event line on stderr, in order (-1: none).
std::vector<int> event_replicas(const std::string& err) {
  std::vector<int> out;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    auto e = json::parse(line, nullptr, false);
    if (e.is_discarded() || !e.is_object()) continue;
    out.push_back(e["replica"].is_number_integer() ? e["replica"].get<int>() : -1);
  }
  return out;
}

}  // namespace

TEST_CASE("ssh: two replicas are deployed at once, one per host", "[e2e][deploy][replicas]") {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(key);
  env->authorize(key->public_key);
  auto e = scratch.env({});
  e["BERTH_CONFIG"] =
      scratch.write("config.yaml", env->ssh_provider_config({"h1", "h3"}, "docker")).string();
  // Each container takes 4 s to serve: one after the other, replica 1
  // would not start before replica 0 is healthy.
  auto tmpl = scratch.write("replicas.yaml", "name: e2e-replicas\nimage: " + env->demo_image + R"(
command: ["sh", "-c", "sleep 4; exec httpd -f -p 8000 -h /www"]
ports: [{container: 8000, host: 18671}]
health: {http: {port: 8000, path: /health}, interval: 1s, timeout: 2s, grace: 60s}
replicas: 2
resources: {gpu: {count: 0}}
)");
  DeploymentGuard guard(*env, "e2e-replicas", e, {"h1", "h3"});
  auto up = run_berth({"up", "--yes", "-v", tmpl.string(), "-o", "json"}, e);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto j = parse_json(up.out);
  REQUIRE(j["replicas"].size() == 2);
  std::set<std::string> hosts;
  for (const auto& r : j["replicas"]) {
    hosts.insert(r["host"].get<std::string>());
    auto ep = r["endpoints"][0];
    CHECK(http_get(ep["host"], ep["port"]) == "hello from berth\n");
  }
  CHECK(hosts.size() == 2);
  // Their progress interleaves: a replica 1 event comes before replica 0's last.
  auto order = event_replicas(up.err);
  auto last0 = std::find(order.rbegin(), order.rend(), 0);
  auto first1 = std::find(order.begin(), order.end(), 1);
  REQUIRE(last0 != order.rend());
  REQUIRE(first1 != order.end());
  CHECK(first1 - order.begin() < order.rend() - last0 - 1);

  // status: 2/2 from the template, the SSH address apart from the endpoints.
  auto status = run_berth({"status", tmpl.string(), "-o", "json"}, e);
  INFO(status.err);
  REQUIRE(status.exit_code == 0);
  auto d = parse_json(status.out)["deployments"];
  REQUIRE(d.size() == 1);
  CHECK(d[0]["running"] == 2);
  CHECK(d[0]["wanted"] == 2);
  CHECK(d[0]["wanted_from"] == "template");
  CHECK(d[0]["health"] == "healthy");
  CHECK(d[0]["price_per_hour"] == 0.0);  // hosts declared without a price
  CHECK(d[0]["cost_so_far"] == 0.0);
  REQUIRE(d[0]["age_seconds"].is_number_integer());
  CHECK(d[0]["age_seconds"].get<long long>() < 600);
  std::string lost_host;
  for (const auto& r : d[0]["replicas"]) {
    REQUIRE(r["ssh"].is_string());
    CHECK(r["ssh"].get<std::string>().find("@" + r["host"].get<std::string>() + ":") !=
          std::string::npos);
    REQUIRE(r["endpoints"].size() == 1);
    CHECK(r["endpoints"][0]["container_port"] == 8000);
    if (r["replica"] == 1) lost_host = r["host"];
  }
  auto table = run_berth({"status", "e2e-replicas"}, e);
  CHECK(table.exit_code == 0);
  CHECK(table.out.find("2/2") != std::string::npos);
  CHECK(table.out.find("SSH") != std::string::npos);

  // Replica 1's container goes: the template still wants 2; the name alone
  // infers 1 from what is left (documented).
  for (const auto& h : env->hosts)
    if (h.address == lost_host)
      for (const auto& c : env->berth_containers(h.name, "e2e-replicas"))
        env->runtime(h.name, {"rm", "-f", c});
  auto degraded = parse_json(run_berth({"status", tmpl.string(), "-o", "json"}, e).out);
  CHECK(degraded["deployments"][0]["running"] == 1);
  CHECK(degraded["deployments"][0]["wanted"] == 2);
  CHECK(degraded["deployments"][0]["health"] == "degraded");
  auto by_name = parse_json(run_berth({"status", "e2e-replicas", "-o", "json"}, e).out);
  CHECK(by_name["deployments"][0]["wanted"] == 1);
  CHECK(by_name["deployments"][0]["wanted_from"] == "replicas");

  auto down = run_berth({"down", "e2e-replicas"}, e);
  INFO(down.err);
  CHECK(down.exit_code == 0);
  CHECK(env->berth_containers("h1", "e2e-replicas").empty());
  CHECK(env->berth_containers("h3", "e2e-replicas").empty());
}

TEST_CASE("lambda: a VM whose SSH never answers is given up after ssh_timeout, the next offer runs",
          "[e2e][deploy][replicas]") {
  BERTH_E2E_ENV(env);
  // The first VM gets an address where nothing listens, the second a host.
  LambdaRig rig(*env, {.hosts = {"nowhere", "h2"}, .mock_args = {"--boot-seconds", "1"}});
  auto tmpl = rig.write_template("e2e-vm-nossh", "image: " + env->demo_image + R"(
ports: [{container: 8000, host: 18672}]
resources: {gpu: {count: 1}}
placement: {providers: [lambda], ssh_timeout: 5s}
)");
  DeploymentGuard guard(*env, "e2e-vm-nossh", rig.env(), {"h2"});
  auto up = run_berth({"up", "--yes", tmpl.string(), "-o", "json"}, rig.env());
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto j = parse_json(up.out);
  REQUIRE(j["attempts"].size() == 2);
  CHECK(j["attempts"][0]["result"] == "unreachable");
  CHECK(j["attempts"][0]["message"].get<std::string>().find("no SSH within") != std::string::npos);
  CHECK(j["attempts"][1]["result"] == "launched");
  // The unreachable VM was terminated, confirmed; only the second bills.
  CHECK(rig.mock().instances().size() == 2);
  CHECK(rig.live().size() == 1);
  auto ep = j["replicas"][0]["endpoints"][0];
  CHECK(http_get(ep["host"], ep["port"]) == "hello from berth\n");
  CHECK(rig.mock().violations() == json::array());
  CHECK(run_berth({"down", "e2e-vm-nossh"}, rig.env()).exit_code == 0);
}
