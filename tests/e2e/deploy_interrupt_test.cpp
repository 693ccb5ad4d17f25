// SIGINT in every phase of `up` leaves nothing behind: no instance at the
// mock provider, no container on any host, exit 130. Slow phases come from
// the mock's slow state transitions and from a runtime shim on PATH that
// sleeps around `pull` or `run` (the `local` provider calls the runtime with
// berth's own environment).
#include <csignal>

#include "e2e/deploy_fixture.h"
#include "support/mock_server.h"

using namespace berth::e2e;
using nlohmann::json;

namespace {

int unterminated(berth::testing::MockServer& mock) {
  int n = 0;
  for (const auto& i : mock.instances())
    if (!i.value("terminated", false)) ++n;
  return n;
}

std::string lambda_config(const berth::testing::MockServer& mock) {
  return "providers:\n  lambda: {type: lambda, api_key: \"${LAMBDA_KEY}\", base_url: \"" + mock.url() +
         "/api/v1\"}\nruntime: podman\n";
}

const char* kGpuTemplate = R"(name: e2e-intr
image: localhost/berth-demo:1
ports: [8000]
resources: {gpu: {count: 1}}
placement: {providers: [lambda]}
)";

// Interrupts `up` once its stderr shows `phase`, and checks the cleanup.
void interrupt_at(const std::string& phase, const std::vector<std::string>& mock_args) {
  BERTH_E2E_ENV(env);
  berth::testing::MockServer mock("lambda", mock_args);
  Scratch scratch;
  auto e = scratch.env({{"LAMBDA_KEY", mock.api_key()}});
  e["BERTH_CONFIG"] = scratch.write("config.yaml", lambda_config(mock)).string();
  auto tmpl = scratch.write("t.yaml", kGpuTemplate);
  BackgroundBerth up(scratch.path(), {"up", "-v", tmpl.string()}, e);
  INFO(phase);
  REQUIRE(up.wait_for_stderr(phase));
  up.signal(SIGINT);
  int code = up.wait();
  INFO(up.err());
  CHECK(code == 130);
  CHECK(unterminated(mock) == 0);
  CHECK(mock.instances().size() == 1);
}

}  // namespace

TEST_CASE("interrupt while provisioning", "[e2e][deploy][interrupt]") {
  interrupt_at("provisioning", {"--provision-seconds", "60"});
}

TEST_CASE("interrupt while booting", "[e2e][deploy][interrupt]") {
  interrupt_at("booting", {"--boot-seconds", "60"});
}

TEST_CASE("interrupt while connecting over SSH", "[e2e][deploy][interrupt]") {
  // Nothing listens there: berth keeps retrying, as for a host whose sshd is not up yet.
  interrupt_at("connecting to", {"--ssh-host", "127.0.0.29:2222"});
}

TEST_CASE("SIGTERM is an interrupt too", "[e2e][deploy][interrupt]") {
  BERTH_E2E_ENV(env);
  berth::testing::MockServer mock("lambda", {"--boot-seconds", "60"});
  Scratch scratch;
  auto e = scratch.env({{"LAMBDA_KEY", mock.api_key()}});
  e["BERTH_CONFIG"] = scratch.write("config.yaml", lambda_config(mock)).string();
  auto tmpl = scratch.write("t.yaml", kGpuTemplate);
  BackgroundBerth up(scratch.path(), {"up", "-v", tmpl.string()}, e);
  REQUIRE(up.wait_for_stderr("booting"));
  up.signal(SIGTERM);
  CHECK(up.wait() == 130);
  CHECK(unterminated(mock) == 0);
}

namespace {

// A runtime that is slow at one step, then does the real thing.
void write_shim(const Scratch& scratch, const Environment& env) {
  auto bin = scratch.path() / "shim";
  std::filesystem::create_directories(bin);
  std::string script = "#!/bin/sh\n"
                       "case \"$1:$BERTH_TEST_SLOW\" in\n"
                       "  pull:pull) sleep 60 ;;\n"
                       "  run:start) \"" + (env.bin_dir / "podman").string() + "\" \"$@\"; sleep 60; exit 0 ;;\n"
                       "esac\n"
                       "exec \"" + (env.bin_dir / "podman").string() + "\" \"$@\"\n";
  for (const char* name : {"podman", "docker"}) {
    auto p = bin / name;
    std::ofstream(p) << script;
    std::filesystem::permissions(p, std::filesystem::perms::owner_all);
  }
}

void interrupt_local(const std::string& slow, const std::string& phase, const std::string& name,
                     const std::string& health) {
  BERTH_E2E_ENV(env);
  Scratch scratch;
  write_shim(scratch, *env);
  auto e = scratch.env(env->local_runtime_env());
  e["PATH"] = (scratch.path() / "shim").string() + ":" + e["PATH"];
  e["BERTH_TEST_SLOW"] = slow;
  e["BERTH_CONFIG"] = scratch.write("config.yaml", "providers:\n  here: {type: local}\nruntime: podman\n").string();
  // Without a pinned tag berth always pulls, so the slow pull is reached.
  std::string image = slow == "pull" ? "localhost/berth-demo" : "localhost/berth-demo:1";
  auto tmpl = scratch.write("t.yaml", "name: " + name + "\nimage: " + image + "\n"
                                      "ports: [{container: 8000, host: 18631}]\n" + health +
                                      "resources: {gpu: {count: 0}}\n");
  DeploymentGuard guard(*env, name, e, {"local"});
  BackgroundBerth up(scratch.path(), {"up", "-v", tmpl.string()}, e);
  INFO(phase);
  REQUIRE(up.wait_for_stderr(phase));
  if (slow == "start")  // the container exists before berth hears back from the runtime
    REQUIRE(eventually([&] { return !env->berth_containers("local", name).empty(); }));
  up.signal(SIGINT);
  int code = up.wait();
  INFO(up.err());
  CHECK(code == 130);
  CHECK(env->berth_containers("local", name).empty());
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
