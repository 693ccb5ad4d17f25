// docs/ci.md's pipeline step, run as written (the ```sh ci-step block) with
// bash, jq and curl against this machine's `local` provider: plan, a preview
// deployment that answers, its status, and down from the trap.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "berth/common/process.h"
#include "e2e/deploy_fixture.h"

using namespace berth::e2e;
namespace fs = std::filesystem;

namespace {

// The fenced block whose info string is "sh ci-step".
std::string ci_step() {
  std::ifstream in(fs::path(BERTH_TEST_DIR) / ".." / "docs" / "ci.md");
  std::string line, block;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```sh ci-step") {
      inside = true;
    } else if (inside && line == "```") {
      return block;
    } else if (inside) {
      block += line + "\n";
    }
  }
  return "";
}

}  // namespace

TEST_CASE("docs/ci.md: the pipeline step plans, deploys a preview, checks it and takes it down",
          "[e2e][deploy][ci]") {
  BERTH_E2E_ENV(env);
  const std::string step = ci_step();
  REQUIRE_FALSE(step.empty());
  Scratch scratch;
  auto script = scratch.write("berth.sh", step);
  fs::create_directories(scratch.path() / "templates");
  fs::copy_file(fs::path(BERTH_TEST_DIR) / ".." / "templates" / "hello.yaml",
                scratch.path() / "templates" / "hello.yaml");
  auto e = scratch.env(env->local_runtime_env());
  e["BERTH_CONFIG"] = scratch.write("config.yaml", kLocalConfig).string();
  e["PATH"] = fs::path(BERTH_BINARY).parent_path().string() + ":" + e["PATH"];
  e["PR_NUMBER"] = "17";
  DeploymentGuard guard(*env, "hello-pr-17", e, {"local"});

  auto r = berth::system_process_runner().run(
      {.argv = {"sh", "-c", "cd \"$1\" && exec bash \"$2\"", "sh", scratch.path().string(),
                script.string()},
       .extra_env = e,
       .timeout = berth::Duration{300'000}});
  REQUIRE(r);
  INFO("stdout: " << r->out << "\nstderr: " << r->err);
  REQUIRE_FALSE(r->timed_out);
  CHECK(r->exit_code == 0);
  // The plan's line, then what the preview served.
  CHECK(r->out.find("replica 0: here ") != std::string::npos);
  CHECK(r->out.find("hello from berth") != std::string::npos);
  // The trap took it down: nothing of it is left.
  auto down = nlohmann::json::parse(std::ifstream(scratch.path() / "down.json"));
  CHECK(down["deployment"] == "hello-pr-17");
  CHECK(env->berth_containers("local", "hello-pr-17").empty());
}
