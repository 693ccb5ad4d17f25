// With -o json, `up` and `watch` write nothing on stderr but JSON lines (the
// events of docs/watch-events.md), so a log pipeline can take all of it:
// through the real binary, for a failing up (attempts, a provider that does
// not answer, -vv traces, the error) and for up --watch, whose redeploys
// used to mix the deploy's text progress into watch's JSON lines.
#include "e2e/deploy_fixture.h"
#include "e2e/watch_support.h"
#include "support/mock_server.h"

using namespace berth::e2e;
using berth::testing::MockServer;
using berth::testing::WatchProcess;
using nlohmann::json;

namespace {

// Every line is one JSON object with exactly the seven keys of the schema.
std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    INFO("stderr line: " << line);
    auto j = json::parse(line, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j.size() == 7);
    for (const char* key :
         {"time", "event", "replica", "provider", "instance_id", "reason", "detail"})
      CHECK(j.contains(key));
    out.push_back(j);
  }
  return out;
}

std::vector<json> named(const std::vector<json>& events, const std::string& name) {
  std::vector<json> out;
  for (const auto& e : events)
    if (e["event"] == name) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("up -o json: stderr carries only JSON lines, the failure included", "[e2e][deploy]") {
  MockServer mock("lambda", {});
  mock.fault({{"op", "launch"},
              {"status", 400},
              {"times", 20},
              {"body",
               {{"error",
                 {{"code", "instance-operations/launch/insufficient-capacity"},
                  {"message", "Not enough capacity to fulfill launch request."}}}}}});
  Scratch scratch;
  auto e = scratch.env({{"LAMBDA_KEY", mock.api_key()}});
  // A second provider that never answers: a warning, as JSON too.
  e["BERTH_CONFIG"] =
      scratch
          .write("config.yaml",
                 "providers:\n  lambda: {type: lambda, api_key: \"${LAMBDA_KEY}\", base_url: \"" +
                     mock.url() +
                     "/api/v1\"}\n  gone: {type: lambda, api_key: \"${LAMBDA_KEY}\", base_url: "
                     "\"http://127.0.0.1:9/api/v1\"}\nruntime: podman\n")
          .string();
  auto tmpl = scratch.write("t.yaml",
                            "name: e2e-json\nimage: localhost/berth-demo:1\n"
                            "resources: {gpu: {count: 1}}\n");
  auto up = run_berth({"up", "--yes", "-o", "json", "-vv", tmpl.string()}, e);
  INFO(up.err);
  CHECK(up.exit_code == 6);
  auto out = parse_json(up.out);
  CHECK(out["error"]["exit_code"] == 6);
  REQUIRE(out["attempts"].size() >= 1);

  auto events = json_lines(up.err);
  auto attempts = named(events, "attempt");
  REQUIRE(attempts.size() == out["attempts"].size());
  for (const auto& a : attempts) {
    CHECK(a["reason"] == "no-capacity");
    CHECK(a["provider"] == "lambda");
    CHECK(a["replica"] == 0);
  }
  auto unavailable = named(events, "provider-unavailable");
  REQUIRE_FALSE(unavailable.empty());
  CHECK(unavailable[0]["provider"] == "gone");
  CHECK_FALSE(named(events, "trace").empty());  // -vv
  auto errors = named(events, "error");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["reason"] == "provider-failed");
  CHECK(errors.back() == events.back());
  CHECK(up.err.find(mock.api_key()) == std::string::npos);

  // A template error, before anything else happens, is a JSON line as well.
  auto bad = scratch.write("bad.yaml", "name: e2e-json\nimage: x\nreplicas: many\n");
  auto invalid = run_berth({"up", "--yes", "-o", "json", bad.string()}, e);
  INFO(invalid.err);
  CHECK(invalid.exit_code == 3);
  auto lines = json_lines(invalid.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["event"] == "error");
  CHECK(lines[0]["reason"] == "invalid-input");
  CHECK(lines[0]["detail"].get<std::string>().find("bad.yaml:3:") != std::string::npos);
}

TEST_CASE("up --watch -o json: a redeploy adds JSON lines only, --timeout ends it with 0",
          "[e2e][deploy]") {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  const std::string name = "e2e-json-watch";
  auto e = scratch.env(env->local_runtime_env());
  e["BERTH_CONFIG"] =
      scratch.write("config.yaml", kLocalConfig).string();
  auto tmpl = scratch.write("t.yaml", "name: " + name +
                                          "\nimage: localhost/berth-demo:1\n"
                                          "ports: [{container: 8000, host: 18633}]\n"
                                          "health: {http: {port: 8000, path: /health}, interval: "
                                          "1s, failures: 2, grace: 30s}\n"
                                          "restart: {backoff: 1s..1s}\n"
                                          "resources: {gpu: {count: 0}}\n");
  DeploymentGuard guard(*env, name, e, {"local"});
  std::vector<std::string> env_list;
  for (const auto& [k, v] : e) env_list.push_back(k + "=" + v);
  // -v: the deploy engine's progress is reported too, which is what used
  // to arrive as text.
  WatchProcess up({"up", "--yes", tmpl.string(), "--watch", "-o", "json", "-v", "--timeout", "25s"},
                  env_list);
  auto healthy = up.wait_event("healthy", std::chrono::seconds(40));
  INFO(up.transcript());
  REQUIRE(healthy);
  auto containers = env->berth_containers("local", name);
  REQUIRE(containers.size() == 1);
  // The container dies: watch notices, removes it and redeploys the replica.
  env->runtime("local", {"rm", "-f", "--time", "0", containers[0]});
  auto redeployed = up.wait_event("redeployed", std::chrono::seconds(40));
  INFO(up.transcript());
  CHECK(redeployed);
  CHECK(up.wait_exit(std::chrono::seconds(90)) == 0);
  CHECK(up.other_lines().empty());  // nothing but JSON lines on stderr
  CHECK_FALSE(up.events_named("progress").empty());
  auto stopped = up.events_named("stopped");
  REQUIRE(stopped.size() == 1);
  CHECK(stopped[0]["reason"] == "time-limit");
  for (const auto& ev : up.events()) CHECK(ev.size() == 7);
}
