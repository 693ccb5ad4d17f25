// A container that fails: `up` shows its last log lines (delimited, before
// the rollback) and leaves nothing; with --keep-on-failure the failed
// replica stays, `logs` shows the same lines and `down` removes it. On this
// machine (local), an SSH host, and a RunPod pod whose log comes from the
// mock's SSE endpoint, which reads the real container's log on its host.
#include "berth/host/ssh.h"
#include "e2e/deploy_fixture.h"
#include "support/mock_server.h"

using namespace berth::e2e;
using nlohmann::json;

namespace {

const char* kCrash = "command: [\"sh\", \"-c\", \"echo loading weights; "
                     "echo CUDA out of memory >&2; exit 3\"]\n";

std::string crash_template(const std::string& name, const std::string& image,
                           const std::string& extra) {
  return "name: " + name + "\nimage: " + image + "\n" + kCrash + extra;
}

// What every provider kind must do with the crashing template: `up` fails
// with exit 7 and shows the container's own message inside the log block,
// then nothing of it remains; kept, `logs` shows it and `down` removes it.
void check_failure_logs(const std::string& name, const std::filesystem::path& tmpl,
                        const std::map<std::string, std::string>& e,
                        const std::function<bool()>& nothing_left) {
  auto up = run_berth({"up", "--yes", tmpl.string()}, e);
  INFO(up.err);
  CHECK(up.exit_code == 7);
  auto block = up.err.find("----- last ");
  REQUIRE(block != std::string::npos);
  auto message = up.err.find("  | CUDA out of memory\n", block);
  auto end = up.err.find("----- end of the log -----", block);
  CHECK(message != std::string::npos);
  CHECK(end != std::string::npos);
  CHECK(message < end);
  // Shown before the rollback, and no hint names a command that cannot work now.
  auto error = up.err.find("berth: error:");
  CHECK(error > end);
  CHECK(up.err.find("'berth logs") == std::string::npos);
  auto status = run_berth({"status", name, "-o", "json"}, e);
  INFO(status.err);
  CHECK(status.exit_code == 0);
  CHECK(parse_json(status.out)["deployments"] == json::array());
  CHECK(nothing_left());

  auto kept = run_berth({"up", "--yes", "--keep-on-failure", tmpl.string()}, e);
  INFO(kept.err);
  CHECK(kept.exit_code == 7);  // still the documented failure
  CHECK(kept.err.find("  | CUDA out of memory") != std::string::npos);
  CHECK(kept.err.find("--keep-on-failure") != std::string::npos);
  CHECK(kept.err.find("/h until removed") != std::string::npos);
  CHECK(kept.err.find("'berth down " + name + "'") != std::string::npos);
  auto listed = run_berth({"status", name, "-o", "json"}, e);
  CHECK(parse_json(listed.out)["deployments"].size() == 1);
  auto logs = run_berth({"logs", name}, e);
  INFO(logs.err);
  CHECK(logs.exit_code == 0);
  CHECK((logs.out + logs.err).find("CUDA out of memory") != std::string::npos);
  CHECK((logs.out + logs.err).find("loading weights") != std::string::npos);
  auto down = run_berth({"down", name}, e);
  INFO(down.err);
  CHECK(down.exit_code == 0);
  CHECK(eventually(nothing_left));
  auto after = run_berth({"status", name, "-o", "json"}, e);
  CHECK(parse_json(after.out)["deployments"] == json::array());
}

}  // namespace

TEST_CASE("local: a crashing container's log is shown, kept on request",
          "[e2e][failure-logs]") {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  auto e = scratch.env(env->local_runtime_env());
  e["BERTH_CONFIG"] = scratch.write("config.yaml", kLocalConfig).string();
  DeploymentGuard guard(*env, "e2e-crashlog", e, {"local"});
  auto tmpl = scratch.write("crash.yaml", crash_template("e2e-crashlog", "localhost/berth-demo:1",
                                                         "resources: {gpu: {count: 0}}\n"));
  check_failure_logs("e2e-crashlog", tmpl, e,
                     [&] { return env->berth_containers("local", "e2e-crashlog").empty(); });
}

TEST_CASE("ssh: a crashing container's log comes over SSH, kept on request",
          "[e2e][failure-logs]") {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(key);
  env->authorize(key->public_key);
  auto e = scratch.env({});
  e["BERTH_CONFIG"] =
      scratch.write("config.yaml", env->ssh_provider_config({"h2"}, "docker")).string();
  DeploymentGuard guard(*env, "e2e-sshcrash", e, {"h2"});
  auto tmpl = scratch.write("crash.yaml", crash_template("e2e-sshcrash", "localhost/berth-demo:1",
                                                         "resources: {gpu: {count: 0}}\n"));
  check_failure_logs("e2e-sshcrash", tmpl, e,
                     [&] { return env->berth_containers("h2", "e2e-sshcrash").empty(); });
}

TEST_CASE("runpod: a crashing pod's log comes from the API, kept on request",
          "[e2e][failure-logs]") {
  BERTH_E2E_ENV(env);
  const auto& h4 = env->host("h4");
  std::string hook = std::string(BERTH_TEST_DIR) + "/e2e/deploy_pod_hook.py";
  std::string env_json = (env->root / "env.json").string();
  berth::testing::MockServer mock(
      "runpod", {"--ssh-host", h4.address + ":" + std::to_string(h4.port), "--on-launch-cmd",
                 hook + " launch " + env_json, "--on-terminate-cmd", hook + " terminate " + env_json,
                 "--container-status-cmd", hook + " status " + env_json, "--container-logs-cmd",
                 hook + " logs " + env_json});
  Scratch scratch;
  auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(key);
  env->authorize(key->public_key);
  auto e = scratch.env({{"RUNPOD_KEY", mock.api_key()}});
  e["BERTH_CONFIG"] = scratch.write("config.yaml",
                                    "providers:\n  runpod: {type: runpod, api_key: \"${RUNPOD_KEY}\", "
                                    "base_url: \"" + mock.url() + "\"}\nruntime: docker\n").string();
  DeploymentGuard guard(*env, "e2e-podcrash", e, {"h4"});
  auto tmpl = scratch.write(
      "crash.yaml", crash_template("e2e-podcrash", "localhost/berth-demo:1",
                                   "resources: {gpu: {count: 1}}\nplacement: {providers: [runpod]}\n"));
  check_failure_logs("e2e-podcrash", tmpl, e, [&] {
    for (const auto& i : mock.instances())
      if (i["terminated"] != true) return false;
    return env->berth_containers("h4", "e2e-podcrash").empty();
  });
  CHECK(mock.violations() == json::array());
}

TEST_CASE("vastai: logs reads the workload's output through Vast's request_logs and its URL",
          "[e2e][failure-logs]") {
  BERTH_E2E_ENV(env);
  const auto& h3 = env->host("h3");
  std::string hook = std::string(BERTH_TEST_DIR) + "/e2e/deploy_pod_hook.py";
  std::string env_json = (env->root / "env.json").string();
  berth::testing::MockServer mock(
      "vastai", {"--ssh-host", h3.address + ":" + std::to_string(h3.port), "--on-launch-cmd",
                 hook + " launch " + env_json, "--on-terminate-cmd", hook + " terminate " + env_json,
                 "--container-logs-cmd", hook + " logs " + env_json, "--log-upload-seconds", "0.6"});
  Scratch scratch;
  auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(key);
  env->authorize(key->public_key);
  auto e = scratch.env({{"VAST_KEY", mock.api_key()}});
  e["BERTH_CONFIG"] = scratch.write("config.yaml",
                                    "providers:\n  vast: {type: vastai, api_key: \"${VAST_KEY}\", "
                                    "base_url: \"" + mock.url() + "\"}\nruntime: docker\n").string();
  DeploymentGuard guard(*env, "e2e-vastlog", e, {"h3"});
  // Both set: the image's own process need not be read from a registry.
  auto tmpl = scratch.write("vast.yaml", R"(name: e2e-vastlog
image: localhost/berth-demo:1
entrypoint: [sh, -c]
command: ['echo vast says hello; echo CUDA out of memory >&2; printf "\033[2Jcleared\n"; sleep 3600']
resources: {gpu: {count: 1}}
placement: {providers: [vast]}
)");
  auto up = run_berth({"up", "--yes", tmpl.string()}, e);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  BerthRun logs;
  CHECK(eventually([&] {
    logs = run_berth({"logs", "e2e-vastlog", "--tail", "50"}, e);
    return logs.out.find("CUDA out of memory") != std::string::npos;
  }));
  INFO(logs.err);
  CHECK(logs.exit_code == 0);
  CHECK(logs.out.find("vast says hello\n") != std::string::npos);
  // The escape sequence arrives as text, not as a command to the terminal.
  CHECK(logs.out.find('\x1b') == std::string::npos);
  CHECK(logs.out.find("\\x1b[2Jcleared") != std::string::npos);
  CHECK(mock.violations() == json::array());
  auto down = run_berth({"down", "e2e-vastlog"}, e);
  CHECK(down.exit_code == 0);
  for (const auto& i : mock.instances()) CHECK(i["terminated"] == true);
}
