// `ssh`: declared hosts reached over real sshd, a private image from the real
// registry with htpasswd auth, hostile environment values, and secrets that
// must never reach a command line or berth's output.
#include <atomic>
#include <mutex>
#include <set>

#include "berth/host/ssh.h"
#include "e2e/deploy_fixture.h"

using namespace berth::e2e;
using nlohmann::json;

namespace {

// Every command line on this machine, sampled while `running` holds.
class ArgvWatcher {
 public:
  ArgvWatcher() : thread_([this] { loop(); }) {}
  ~ArgvWatcher() { stop(); }
  void stop() {
    if (!stop_.exchange(true)) thread_.join();
  }
  std::set<std::string> lines() {
    std::lock_guard<std::mutex> l(mutex_);
    return lines_;
  }

 private:
  void loop() {
    while (!stop_) {
      auto r = berth::system_process_runner().run({.argv = {"ps", "-eo", "args"}});
      if (r && r->ok()) {
        std::lock_guard<std::mutex> l(mutex_);
        std::istringstream in(r->out);
        for (std::string line; std::getline(in, line);) lines_.insert(line);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::set<std::string> lines_;
  std::thread thread_;
};

std::string exec_value(const std::map<std::string, std::string>& e, const std::string& name) {
  auto r = run_berth({"exec", "e2e-ssh", "--", "sh", "-c", "printf '%s' \"$" + name + "\""}, e);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  return r.out;
}

}  // namespace

TEST_CASE("ssh: private image, hostile env, secrets off every command line", "[e2e][deploy]") {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(key);
  env->authorize(key->public_key);
  std::filesystem::remove("/tmp/berth-e2e-pwned");
  std::filesystem::remove("/tmp/berth-e2e-pwned2");

  const std::string secret = "S3cr3t-" + std::to_string(::getpid()) + "-value";
  auto e = scratch.env({{"REG_USER", env->registry.username},
                        {"REG_PASS", env->registry.password},
                        {"IMG", env->registry.image},
                        {"SECRET_VALUE", secret}});
  e["BERTH_CONFIG"] = scratch.write("config.yaml", env->ssh_provider_config({"h1"}, "docker")).string();
  auto data = scratch.path() / "data";
  std::filesystem::create_directories(data);
  scratch.write("data/file.txt", "from the volume\n");
  // The image is written as it is: a ${VAR} image would be a secret on a
  // command line, which berth refuses.
  auto tmpl = scratch.write("ssh.yaml", "name: e2e-ssh\nimage: " + env->registry.image + R"YAML(
registry_auth: {username: "${REG_USER}", password: "${REG_PASS}"}
ports: [{container: 8000, host: 18621}]
volumes:
  - {source: ./data, path: /data, readonly: true}
env:
  HOSTILE1: "$(touch /tmp/berth-e2e-pwned)"
  HOSTILE2: "`touch /tmp/berth-e2e-pwned2`; echo done"
  QUOTES: "it's \"quoted\" ; echo nope | cat"
  MULTI: "line one\nline two"
  UNI: "héllo ✓ 日本"
  SECRET: "${SECRET_VALUE}"
health: {tcp: 8000, interval: 1s, timeout: 2s, failures: 3, grace: 30s}
resources: {gpu: {count: 0}}
)YAML");
  DeploymentGuard guard(*env, "e2e-ssh", e, {"h1"});
  env->runtime("h1", {"rmi", "-f", env->registry.image});  // so the private pull happens

  ArgvWatcher watcher;
  auto up = run_berth({"up", "--yes", tmpl.string(), "-o", "json"}, e);
  watcher.stop();
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto j = parse_json(up.out);
  auto ep = j["replicas"][0]["endpoints"][0];
  CHECK(ep["host"] == env->host("h1").address);
  CHECK(http_get(ep["host"], ep["port"]) == "hello from berth\n");

  for (const auto& line : watcher.lines()) {
    INFO(line);
    CHECK(line.find(secret) == std::string::npos);
    CHECK(line.find(env->registry.password) == std::string::npos);
  }
  std::string runtime_log = slurp(env->host("h1").runtime_log);
  CHECK(runtime_log.find(secret) == std::string::npos);
  CHECK(runtime_log.find(env->registry.password) == std::string::npos);
  CHECK(up.out.find(secret) == std::string::npos);
  CHECK(up.err.find(secret) == std::string::npos);
  CHECK(up.err.find(env->registry.password) == std::string::npos);

  CHECK(exec_value(e, "HOSTILE1") == "$(touch /tmp/berth-e2e-pwned)");
  CHECK(exec_value(e, "HOSTILE2") == "`touch /tmp/berth-e2e-pwned2`; echo done");
  CHECK(exec_value(e, "QUOTES") == "it's \"quoted\" ; echo nope | cat");
  CHECK(exec_value(e, "MULTI") == "line one\nline two");
  CHECK(exec_value(e, "UNI") == "héllo ✓ 日本");
  CHECK(exec_value(e, "SECRET") == secret);
  CHECK_FALSE(std::filesystem::exists("/tmp/berth-e2e-pwned"));
  CHECK_FALSE(std::filesystem::exists("/tmp/berth-e2e-pwned2"));
  auto vol = run_berth({"exec", "e2e-ssh", "--", "cat", "/data/file.txt"}, e);
  INFO(vol.err);
  INFO(run_berth({"exec", "e2e-ssh", "--", "ls", "-la", "/data"}, e).out);
  CHECK(vol.out == "from the volume\n");
  // The private files that carried secrets are gone from the host.
  auto leftovers = run_berth({"exec", "e2e-ssh", "--", "sh", "-c", "env | grep -c S3cr3t || true"}, e);
  CHECK(leftovers.exit_code == 0);

  auto status = run_berth({"status", "-o", "json"}, e);
  INFO(status.err);
  CHECK(status.exit_code == 0);
  CHECK(status.out.find(secret) == std::string::npos);
  auto logs = run_berth({"logs", "e2e-ssh"}, e);
  CHECK(logs.exit_code == 0);

  auto down = run_berth({"down", "e2e-ssh"}, e);
  INFO(down.err);
  CHECK(down.exit_code == 0);
  CHECK(env->berth_containers("h1", "e2e-ssh").empty());
  auto home = env->runtime("h1", {"ps", "-a"});
  (void)home;
}

TEST_CASE("ssh: a wrong registry password fails the workload and leaves nothing", "[e2e][deploy]") {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(key);
  env->authorize(key->public_key);
  auto e = scratch.env({{"REG_USER", env->registry.username},
                        {"REG_PASS", "wrong-password-123"},
                        {"IMG", env->registry.address + "/berth/never-pushed:1"}});
  e["BERTH_CONFIG"] = scratch.write("config.yaml", env->ssh_provider_config({"h2"}, "docker")).string();
  auto tmpl = scratch.write("bad.yaml", "name: e2e-badauth\nimage: " + env->registry.address +
                                           R"(/berth/never-pushed:1
registry_auth: {username: "${REG_USER}", password: "${REG_PASS}"}
resources: {gpu: {count: 0}}
)");
  DeploymentGuard guard(*env, "e2e-badauth", e, {"h2"});
  auto up = run_berth({"up", "--yes", tmpl.string()}, e);
  INFO(up.err);
  CHECK(up.exit_code == 7);
  CHECK(up.err.find("wrong-password-123") == std::string::npos);
  CHECK(env->berth_containers("h2", "e2e-badauth").empty());
}
