// `local`: the whole lifecycle against this machine's real podman (through
// the e2e environment's runtime wrapper), through the real binary.
#include "berth/common/process.h"
#include "berth/common/shell_quote.h"
#include "e2e/deploy_fixture.h"

using namespace berth::e2e;
using nlohmann::json;

namespace {

std::string web_template(const std::string& name, int port, const std::string& extra = "") {
  return "name: " + name +
         "\n"
         "image: localhost/berth-demo:1\n"
         "ports: [{container: 8000, host: " +
         std::to_string(port) +
         "}]\n"
         "env: {GREETING: \"hi there\"}\n"
         "health: {http: {port: 8000, path: /health}, interval: 1s, timeout: 2s, failures: 3, "
         "grace: 30s}\n"
         "resources: {gpu: {count: 0}}\n" +
         extra;
}

}  // namespace

TEST_CASE("local: up, status, logs, exec, up again, down", "[e2e][deploy]") {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  auto e = scratch.env(env->local_runtime_env());
  e["BERTH_CONFIG"] = scratch.write("config.yaml", kLocalConfig).string();
  auto tmpl = scratch.write("web.yaml", web_template("e2e-local", 18611));
  DeploymentGuard guard(*env, "e2e-local", e, {"local"});

  auto up = run_berth({"up", tmpl.string(), "-o", "json"}, e);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto j = parse_json(up.out);
  CHECK(j["deployment"] == "e2e-local");
  REQUIRE(j["replicas"].size() == 1);
  CHECK(j["replicas"][0]["provider"] == "here");
  CHECK(j["replicas"][0]["state"] == "healthy");
  auto ep = j["replicas"][0]["endpoints"][0];
  CHECK(ep["port"] == 18611);
  CHECK(http_get(ep["host"], ep["port"]) == "hello from berth\n");
  CHECK(env->berth_containers("local", "e2e-local").size() == 1);

  auto status = run_berth({"status", "e2e-local", "-o", "json"}, e);
  INFO(status.err);
  REQUIRE(status.exit_code == 0);
  auto s = parse_json(status.out);
  REQUIRE(s["deployments"].size() == 1);
  CHECK(s["deployments"][0]["template_hash"] == j["template_hash"]);
  CHECK(s["deployments"][0]["replicas"][0]["health"] == "healthy");
  // Uptime counts from the container's start: a few seconds, never negative.
  auto uptime = s["deployments"][0]["replicas"][0]["uptime_seconds"];
  REQUIRE(uptime.is_number_integer());
  CHECK(uptime.get<long long>() >= 0);
  CHECK(uptime.get<long long>() < 600);
  CHECK(s["deployments"][0]["replicas"][0]["gpu"].is_null());  // a CPU-only placement

  auto table = run_berth({"status"}, e);
  CHECK(table.exit_code == 0);
  CHECK(table.out.find("e2e-local") != std::string::npos);
  CHECK(table.out.find("UPTIME") != std::string::npos);

  auto logs = run_berth({"logs", "e2e-local", "--tail", "5"}, e);
  CHECK(logs.exit_code == 0);

  auto exec = run_berth({"exec", "e2e-local", "--", "sh", "-c", "echo \"$GREETING\""}, e);
  INFO(exec.err);
  CHECK(exec.exit_code == 0);
  CHECK(exec.out == "hi there\n");
  // No command: a shell in the container, here reading its commands from stdin.
  auto shell = berth::system_process_runner().run(
      {.argv = {BERTH_BINARY, "exec", "e2e-local"},
       .stdin_data = std::string("echo \"in the shell: $GREETING\"\nexit 3\n"),
       .extra_env = e,
       .timeout = berth::Duration{60'000}});
  REQUIRE(shell);
  INFO(shell->err);
  CHECK(shell->out == "in the shell: hi there\n");
  CHECK(shell->exit_code == 3);  // the shell's own exit code
  auto fails = run_berth({"exec", "e2e-local", "--", "sh", "-c", "exit 3"}, e);
  CHECK(fails.exit_code == 3);

  // Same template: nothing to do, same endpoint, exit 0.
  auto again = run_berth({"up", tmpl.string()}, e);
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("already runs") != std::string::npos);
  CHECK(again.out == "127.0.0.1:18611\n");
  CHECK(env->berth_containers("local", "e2e-local").size() == 1);

  auto down = run_berth({"down", "e2e-local"}, e);
  INFO(down.err);
  CHECK(down.exit_code == 0);
  CHECK(env->berth_containers("local", "e2e-local").empty());
  auto nothing = run_berth({"down", "e2e-local"}, e);
  CHECK(nothing.exit_code == 0);
  CHECK(nothing.err.find("nothing to do") != std::string::npos);
  auto gone = run_berth({"logs", "e2e-local"}, e);
  CHECK(gone.exit_code != 0);
}

TEST_CASE("local: a changed template replaces the replica after the new one is healthy",
          "[e2e][deploy]") {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  auto e = scratch.env(env->local_runtime_env());
  e["BERTH_CONFIG"] = scratch.write("config.yaml", kLocalConfig).string();
  DeploymentGuard guard(*env, "e2e-replace", e, {"local"});
  auto v1 = scratch.write("v1.yaml", web_template("e2e-replace", 18612));
  auto first = run_berth({"up", v1.string(), "-o", "json"}, e);
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  auto v2 = scratch.write("v2.yaml", web_template("e2e-replace", 18613));
  auto second = run_berth({"up", v2.string(), "-o", "json"}, e);
  INFO(second.err);
  REQUIRE(second.exit_code == 0);
  auto a = parse_json(first.out), b = parse_json(second.out);
  CHECK(a["template_hash"] != b["template_hash"]);
  auto containers = env->berth_containers("local", "e2e-replace");
  REQUIRE(containers.size() == 1);
  CHECK(containers[0].find(b["template_hash"].get<std::string>()) != std::string::npos);
  CHECK(http_get("127.0.0.1", 18613) == "hello from berth\n");
}

TEST_CASE("local: a container that never gets healthy is removed, exit 7", "[e2e][deploy]") {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  auto e = scratch.env(env->local_runtime_env());
  e["BERTH_CONFIG"] = scratch.write("config.yaml", kLocalConfig).string();
  DeploymentGuard guard(*env, "e2e-sick", e, {"local"});
  auto tmpl = scratch.write("sick.yaml", R"(name: e2e-sick
image: localhost/berth-demo:1
ports: [{container: 8000, host: 18614}]
health: {http: {port: 8000, path: /missing}, interval: 500ms, timeout: 1s, failures: 2}
resources: {gpu: {count: 0}}
)");
  auto up = run_berth({"up", tmpl.string()}, e);
  INFO(up.err);
  CHECK(up.exit_code == 7);
  CHECK(up.err.find("health check failed") != std::string::npos);
  CHECK(env->berth_containers("local", "e2e-sick").empty());

  auto crash = scratch.write("crash.yaml", R"(name: e2e-sick
image: localhost/berth-demo:1
command: ["sh", "-c", "echo about to fail; exit 4"]
resources: {gpu: {count: 0}}
)");
  auto up2 = run_berth({"up", crash.string()}, e);
  INFO(up2.err);
  CHECK(up2.exit_code == 7);
  CHECK(env->berth_containers("local", "e2e-sick").empty());
}

TEST_CASE("local: progress on a terminal, none without one", "[e2e][deploy]") {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  auto e = scratch.env(env->local_runtime_env());
  e["BERTH_CONFIG"] = scratch.write("config.yaml", kLocalConfig).string();
  auto tmpl = scratch.write("web.yaml", web_template("e2e-tty", 18615));
  DeploymentGuard guard(*env, "e2e-tty", e, {"local"});

  // stderr on a pseudo-terminal (script(1)), stdout to a file: phases with
  // their elapsed time reach the terminal, endpoints stay data.
  auto out_file = scratch.path() / "stdout.txt";
  std::string command = berth::shell_join({BERTH_BINARY, "up", tmpl.string()}) + " 2>&1 >" +
                        berth::shell_quote(out_file.string());
  auto r = berth::system_process_runner().run(
      {.argv = {"script", "-qec", command, "/dev/null"}, .extra_env = e, .timeout = berth::Duration{300'000}});
  REQUIRE(r);
  INFO(r->out);
  REQUIRE(r->exit_code == 0);
  CHECK(r->out.find("s] replica 0: ") != std::string::npos);
  CHECK(r->out.find("health") != std::string::npos);
  CHECK(slurp(out_file) == "127.0.0.1:18615\n");

  // Unchanged, without a terminal: no phase lines, only the outcome.
  auto again = run_berth({"up", tmpl.string()}, e);
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("s] ") == std::string::npos);
  CHECK(again.out == "127.0.0.1:18615\n");

  CHECK(run_berth({"down", "e2e-tty"}, e).exit_code == 0);
}

TEST_CASE("local: a deployment or replica that does not exist is exit 8", "[e2e][deploy]") {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  auto e = scratch.env(env->local_runtime_env());
  e["BERTH_CONFIG"] = scratch.write("config.yaml", kLocalConfig).string();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"logs", "e2e-nope"}, {"exec", "e2e-nope", "--", "true"}, {"ssh", "e2e-nope"}}) {
    auto r = run_berth(args, e);
    INFO(args[0] << ": " << r.err);
    CHECK(r.exit_code == 8);
    CHECK(r.err.find("no deployment named 'e2e-nope'") != std::string::npos);
  }
}
