// The container-native clouds end to end, on the strict mocks: each pod is
// started by the launch hook the way the real provider starts it (RunPod:
// the image's ENTRYPOINT with the `args` start command; Vast.ai's SSH
// runtype: only `onstart`), so a workload answers only when berth asked for
// exactly what docker would run. The entry image (host/entry-serve.sh)
// serves the arguments it was started with.
#include "berth/host/ssh.h"
#include "e2e/lambda_fixture.h"
#include "e2e/watch_support.h"
#include "support/mock_server.h"

using namespace berth::e2e;
using nlohmann::json;

namespace {

// One cloud's mock launching onto hosts h3 and h4 in turn (a replacement
// runs beside its predecessor, and both publish port 8000, so they need a
// host each), a config naming only it, and berth's key authorized there.
struct CloudRig {
  CloudRig(const Environment& env, const std::string& type, std::vector<std::string> extra = {})
      : env(env),
        type(type),
        mock(type, [&] {
          const auto& h3 = env.host("h3");
          const auto& h4 = env.host("h4");
          std::string hook = std::string(BERTH_TEST_DIR) + "/e2e/deploy_pod_hook.py";
          std::string env_json = (env.root / "env.json").string();
          std::vector<std::string> args = {"--ssh-host", h4.address + ":" + std::to_string(h4.port),
                                           "--ssh-host", h3.address + ":" + std::to_string(h3.port),
                                           "--on-launch-cmd", hook + " launch " + env_json,
                                           "--on-terminate-cmd", hook + " terminate " + env_json};
          args.insert(args.end(), extra.begin(), extra.end());
          return args;
        }()) {
    auto key = berth::ensure_ssh_key(scratch.state_dir(), std::nullopt);
    REQUIRE(key);
    env.authorize(key->public_key);
    vars = scratch.env({{"CLOUD_KEY", mock.api_key()},
                        {"REG_USER", env.registry.username},
                        {"REG_PASS", env.registry.password}});
    vars["BERTH_CONFIG"] =
        scratch
            .write("config.yaml", "providers:\n  cloud: {type: " + type +
                                      ", api_key: \"${CLOUD_KEY}\", base_url: \"" + mock.url() +
                                      "\"}\nruntime: docker\n")
            .string();
  }

  // A template for the private entry image; `extra` adds keys.
  std::filesystem::path entry_template(const std::string& name, const std::string& extra) {
    return scratch.write(name + ".yaml", "name: " + name + "\n" + entry_template_body(env, extra));
  }

  std::string served(const json& up) {
    auto ep = up["replicas"][0]["endpoints"][0];
    return http_get(ep["host"], ep["port"]);
  }

  const Environment& env;
  std::string type;
  berth::testing::MockServer mock;
  Scratch scratch;
  std::map<std::string, std::string> vars;
};

int requests_to(berth::testing::MockServer& mock, const std::string& method,
                const std::string& path_part) {
  int n = 0;
  for (const auto& r : mock.requests())
    if (r["method"] == method && r["path"].get<std::string>().find(path_part) != std::string::npos)
      ++n;
  return n;
}

}  // namespace

TEST_CASE("runpod: the image's ENTRYPOINT runs with the template's arguments, or its CMD; "
          "private images through a registry credential",
          "[e2e][deploy][clouds]") {
  BERTH_E2E_ENV(env);
  CloudRig rig(*env, "runpod");
  DeploymentGuard guard(*env, "e2e-rp-entry", rig.vars, {"h3", "h4"});
  auto with_args = rig.entry_template(
      "e2e-rp-entry", "command: [--port, \"8000\", --say, \"two words, 'quoted' and $HOME\"]\n");
  auto up = run_berth({"up", "--yes", with_args.string(), "-o", "json"}, rig.vars);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto j = parse_json(up.out);
  CHECK(rig.served(j) == "two words, 'quoted' and $HOME\n");
  CHECK(rig.mock.violations() == json::array());
  // One credential, named for the deployment's template; the pod names it.
  CHECK(requests_to(rig.mock, "POST", "/v2/registries") == 1);
  json pods;
  for (const auto& i : rig.mock.instances()) pods.push_back(i["request"]);
  REQUIRE(pods.size() == 1);
  CHECK(pods[0]["registry"].is_string());
  CHECK(up.err.find(env->registry.password) == std::string::npos);

  // Without a command: the image's own CMD. A new template hash, a new
  // credential; the old one goes with the replica it served.
  auto without = rig.entry_template("e2e-rp-entry", "");
  auto up2 = run_berth({"up", "--yes", without.string(), "-o", "json"}, rig.vars);
  INFO(up2.err);
  REQUIRE(up2.exit_code == 0);
  auto j2 = parse_json(up2.out);
  CHECK(rig.served(j2) == "hello from the image CMD\n");
  CHECK(rig.mock.violations() == json::array());

  auto down = run_berth({"down", "e2e-rp-entry"}, rig.vars);
  INFO(down.err);
  CHECK(down.exit_code == 0);
  for (const auto& i : rig.mock.instances()) CHECK(i["terminated"] == true);
  // Every credential berth made is gone with the deployment.
  CHECK(requests_to(rig.mock, "DELETE", "/v2/registries/") ==
        requests_to(rig.mock, "POST", "/v2/registries"));
  CHECK(eventually([&] {
    return env->berth_containers("h3", "e2e-rp-entry").empty() &&
           env->berth_containers("h4", "e2e-rp-entry").empty();
  }));
}

TEST_CASE("vastai: berth starts the image's ENTRYPOINT and CMD itself, read from the private "
          "registry",
          "[e2e][deploy][clouds]") {
  BERTH_E2E_ENV(env);
  CloudRig rig(*env, "vastai");
  DeploymentGuard guard(*env, "e2e-vast-entry", rig.vars, {"h3", "h4"});
  auto with_args =
      rig.entry_template("e2e-vast-entry", "command: [--port, \"8000\", --say, \"vast: $(id) ok\"]\n");
  auto up = run_berth({"up", "--yes", with_args.string(), "-o", "json"}, rig.vars);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto j = parse_json(up.out);
  CHECK(rig.served(j) == "vast: $(id) ok\n");
  CHECK(rig.mock.violations() == json::array());
  CHECK(up.err.find(env->registry.password) == std::string::npos);

  // Without a command: the image's CMD, in the image's WORKDIR.
  auto without = rig.entry_template("e2e-vast-entry", "");
  auto up2 = run_berth({"up", "--yes", without.string(), "-o", "json"}, rig.vars);
  INFO(up2.err);
  REQUIRE(up2.exit_code == 0);
  CHECK(rig.served(parse_json(up2.out)) == "hello from the image CMD\n");

  auto down = run_berth({"down", "e2e-vast-entry"}, rig.vars);
  CHECK(down.exit_code == 0);
  for (const auto& i : rig.mock.instances()) CHECK(i["terminated"] == true);
}

TEST_CASE("vastai: an image whose config cannot be read launches nothing (exit 6)",
          "[e2e][deploy][clouds]") {
  BERTH_E2E_ENV(env);
  CloudRig rig(*env, "vastai");
  DeploymentGuard guard(*env, "e2e-vast-noimg", rig.vars, {"h3", "h4"});
  // The private image without its credentials: the registry says 401.
  auto tmpl = rig.scratch.write("noimg.yaml", "name: e2e-vast-noimg\nimage: " +
                                                  env->registry.entry_image +
                                                  "\nresources: {gpu: {count: 1}}\n");
  auto up = run_berth({"up", "--yes", tmpl.string()}, rig.vars);
  INFO(up.err);
  CHECK(up.exit_code == 6);
  CHECK(up.err.find(env->registry.address) != std::string::npos);
  CHECK(up.err.find("401") != std::string::npos);
  CHECK(rig.mock.instances().empty());
  CHECK(requests_to(rig.mock, "PUT", "/api/v0/asks/") == 0);
}

TEST_CASE("vastai: a refused rental that made an instance anyway has it destroyed",
          "[e2e][deploy][clouds]") {
  BERTH_E2E_ENV(env);
  CloudRig rig(*env, "vastai");
  DeploymentGuard guard(*env, "e2e-vast-contract", rig.vars, {"h3", "h4"});
  rig.mock.fault({{"op", "launch"}, {"create_anyway", true}, {"status", 400}, {"times", 1}});
  auto tmpl = rig.entry_template("e2e-vast-contract", "");
  auto up = run_berth({"up", "--yes", tmpl.string(), "-o", "json"}, rig.vars);
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto j = parse_json(up.out);
  REQUIRE(j["attempts"].size() == 2);
  CHECK(j["attempts"][0]["result"] == "invalid-request");
  CHECK(up.err.find("created anyway") != std::string::npos);
  auto all = rig.mock.instances();
  REQUIRE(all.size() == 2);
  CHECK(all[0]["terminated"] == true);  // the one the refusal made, destroyed
  CHECK(all[1]["terminated"] == false);
  CHECK(run_berth({"down", "e2e-vast-contract"}, rig.vars).exit_code == 0);
}

TEST_CASE("failover past two capacity misses under enforced rate limits spends no candidate "
          "on a 429",
          "[e2e][deploy][clouds]") {
  BERTH_E2E_ENV(env);
  struct Case {
    const char* type;
    std::vector<std::string> mock_args;
    json capacity_fault;
  };
  const json runpod_capacity = {
      {"op", "launch"}, {"status", 400}, {"content_type", "application/problem+json"},
      {"body", {{"title", "Bad Request"}, {"status", 400},
                {"detail", "There are no longer any instances available with the requested "
                           "specifications. Please refresh and try again."}}}};
  const json vast_capacity = {{"op", "launch"}, {"status", 404},
                              {"body", {{"success", false}, {"error", "invalid_args"},
                                        {"msg", "error 404/3603: no_such_ask  Instance type by "
                                                "id 1001 is not available."}}}};
  for (const Case& c :
       {Case{"runpod", {"--rate-limit", "launch=2:3"}, runpod_capacity},
        Case{"vastai", {"--rate-limit", "launch=4.5:12"}, vast_capacity}}) {
    INFO(c.type);
    CloudRig rig(*env, c.type, c.mock_args);
    std::string name = std::string("e2e-rl-") + c.type;
    DeploymentGuard guard(*env, name, rig.vars, {"h3", "h4"});
    json fault = c.capacity_fault;
    fault["times"] = 2;
    rig.mock.fault(fault);
    auto tmpl = rig.scratch.write(name + ".yaml", "name: " + name + "\nimage: " +
                                                      env->demo_image +
                                                      "\nentrypoint: [httpd]\ncommand: [-f, -p, "
                                                      "\"8000\", -h, /www]\nports: [8000]\n"
                                                      "resources: {gpu: {count: 1}}\n");
    auto up = run_berth({"up", "--yes", tmpl.string(), "-o", "json"}, rig.vars);
    INFO(up.err);
    REQUIRE(up.exit_code == 0);
    auto j = parse_json(up.out);
    REQUIRE(j["attempts"].size() == 3);
    CHECK(j["attempts"][0]["result"] == "no-capacity");
    CHECK(j["attempts"][1]["result"] == "no-capacity");
    CHECK(j["attempts"][2]["result"] == "launched");
    for (const auto& a : j["attempts"]) CHECK(a["result"] != "rate-limited");
    CHECK(rig.mock.violations() == json::array());
    CHECK(run_berth({"down", name}, rig.vars).exit_code == 0);
  }
}

TEST_CASE("up --dry-run sends nothing and shows what each cloud would be sent",
          "[e2e][deploy][clouds]") {
  BERTH_E2E_ENV(env);
  for (const char* type : {"runpod", "vastai", "lambda"}) {
    INFO(type);
    CloudRig rig(*env, type);
    if (std::string(type) == "lambda")
      rig.vars["BERTH_CONFIG"] =
          rig.scratch
              .write("config.yaml", "providers:\n  cloud: {type: lambda, api_key: \"${CLOUD_KEY}\", "
                                    "base_url: \"" + rig.mock.url() + "/api/v1\"}\nruntime: docker\n")
              .string();
    auto tmpl = rig.entry_template("e2e-dry", "command: [--say, \"dry $HOME\"]\n");
    auto dry = run_berth({"up", tmpl.string(), "--dry-run", "-o", "json"}, rig.vars);
    INFO(dry.err);
    REQUIRE(dry.exit_code == 0);
    auto j = parse_json(dry.out);
    CHECK(j["dry_run"] == true);
    REQUIRE(j["replicas"].size() == 1);
    const auto& r = j["replicas"][0];
    REQUIRE_FALSE(r["requests"].empty());
    // Nothing that creates anything reached the provider: reads only (Vast's
    // offer search is a POST that changes nothing).
    for (const auto& q : rig.mock.requests())
      CHECK((q["method"] == "GET" || q["path"] == "/api/v0/bundles/"));
    CHECK(rig.mock.instances().empty());
    CHECK(dry.out.find(env->registry.password) == std::string::npos);
    if (std::string(type) == "vastai")  // the image was read: the whole process is known
      CHECK(r["process"] == json::array({"/bin/entry-serve", "--say", "dry $HOME"}));
    else
      CHECK(r["process_text"] == "<the image's ENTRYPOINT> '--say' 'dry $HOME'");
    auto text = run_berth({"up", tmpl.string(), "--dry-run"}, rig.vars);
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("# dry run: nothing was sent") != std::string::npos);
    CHECK(text.out.find("# the container runs: ") != std::string::npos);
  }
}

// The old rule gave up on any instance whose status had not changed for 10
// minutes. A boot now waits for the provider's own deadline (30 minutes on
// Lambda and Vast.ai, 20 on RunPod: unit-tested in deploy_test.cpp) or the
// template's placement.boot_timeout. Scaled down here: a 4 s boot with no
// progress at all, under a 12 s deadline, is waited for; under 1 s it is not.
TEST_CASE("a boot that shows no progress is waited for until the boot deadline",
          "[e2e][deploy][clouds]") {
  BERTH_E2E_ENV(env);
  const std::string slow_boot = "placement: {boot_timeout: 12s}\n";
  for (const char* type : {"runpod", "vastai"}) {
    INFO(type);
    CloudRig rig(*env, type, {"--boot-seconds", "4"});
    std::string name = std::string("e2e-boot-") + type;
    DeploymentGuard guard(*env, name, rig.vars, {"h3", "h4"});
    auto tmpl = rig.entry_template(name, slow_boot);
    auto started = std::chrono::steady_clock::now();
    auto up = run_berth({"up", "--yes", tmpl.string(), "-o", "json"}, rig.vars);
    INFO(up.err);
    REQUIRE(up.exit_code == 0);
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::seconds(4));
    auto j = parse_json(up.out);
    REQUIRE(j["attempts"].size() == 1);
    CHECK(rig.served(j) == "hello from the image CMD\n");
    CHECK(run_berth({"down", name}, rig.vars).exit_code == 0);
  }
  {
    // Lambda reports `unhealthy` while this VM boots: still booting.
    LambdaRig rig(*env, {.hosts = {"h2"}, .mock_args = {"--boot-seconds", "4", "--unhealthy-boot"}});
    DeploymentGuard guard(*env, "e2e-boot-lambda", rig.env(), {"h2"});
    auto tmpl = rig.write_template("e2e-boot-lambda",
                                   "image: " + env->demo_image +
                                       "\nports: [8000]\nresources: {gpu: {count: 1}}\n" +
                                       slow_boot);
    auto up = run_berth({"up", "--yes", tmpl.string(), "-o", "json"}, rig.env());
    INFO(up.err);
    REQUIRE(up.exit_code == 0);
    REQUIRE(parse_json(up.out)["attempts"].size() == 1);
    CHECK(run_berth({"down", "e2e-boot-lambda"}, rig.env()).exit_code == 0);
  }
  {
    CloudRig rig(*env, "runpod", {"--boot-seconds", "4"});
    DeploymentGuard guard(*env, "e2e-boot-short", rig.vars, {"h3", "h4"});
    auto tmpl = rig.entry_template("e2e-boot-short",
                                   "placement: {boot_timeout: 1s, max_price: 0.5}\n");
    auto up = run_berth({"up", "--yes", tmpl.string(), "-o", "json"}, rig.vars);
    INFO(up.err);
    CHECK(up.exit_code == 6);
    CHECK(up.err.find("no progress for 1s") != std::string::npos);
    for (const auto& i : rig.mock.instances()) CHECK(i["terminated"] == true);
  }
}

TEST_CASE("regions: a continent word moves the placement off the cheapest offer on RunPod and "
          "Vast.ai, read from each one's own data-center facts",
          "[e2e][deploy][clouds][regions]") {
  BERTH_E2E_ENV(env);
  for (const std::string type : {"runpod", "vastai"}) {
    DYNAMIC_SECTION(type) {
      CloudRig rig(*env, type);
      const std::string name = "e2e-region-" + type;
      DeploymentGuard guard(*env, name, rig.vars, {"h3", "h4"});
      // Where the cheapest offer is, and the other continent asked for instead.
      auto anywhere = run_berth({"plan", rig.entry_template(name, "").string(), "-o", "json"},
                                rig.vars);
      REQUIRE(anywhere.exit_code == 0);
      const std::string cheapest =
          parse_json(anywhere.out)["placement"][0]["offer"]["location"]["continent"];
      const std::string wanted = cheapest == "eu" ? "na" : "eu";
      const std::string word = wanted == "eu" ? "EU" : "us";  // any case
      auto tmpl = rig.entry_template(name, "placement: {regions: [" + word + "]}\n");
      auto plan = run_berth({"plan", tmpl.string(), "-o", "json"}, rig.vars);
      INFO(plan.err);
      REQUIRE(plan.exit_code == 0);
      auto chosen = parse_json(plan.out)["placement"][0]["offer"];
      CHECK(chosen["location"]["continent"] == wanted);
      auto up = run_berth({"up", tmpl.string(), "-o", "json", "--yes"}, rig.vars);
      INFO(up.err);
      REQUIRE(up.exit_code == 0);
      auto j = parse_json(up.out);
      CHECK(j["attempts"].back()["offer_id"] == chosen["id"]);
      CHECK(j["attempts"].back()["result"] == "launched");
      if (type == "runpod") {
        auto pods = rig.mock.instances();
        REQUIRE(pods.size() == 1);
        CHECK(pods[0]["request"]["dataCenterIds"][0].get<std::string>().rfind(
                  wanted == "eu" ? "EU-" : "US-", 0) == 0);
      }
      CHECK(rig.served(j) == "hello from the image CMD\n");
      CHECK(run_berth({"down", name}, rig.vars).exit_code == 0);
      CHECK(rig.mock.violations() == json::array());
    }
  }
}

TEST_CASE("arch: an x86_64 image never lands on Lambda's cheaper arm64 GH200, and arm64 asks for it",
          "[e2e][deploy][clouds][arch]") {
  BERTH_E2E_ENV(env);
  berth::testing::MockServer mock("lambda");
  Scratch scratch;
  auto vars = scratch.env({{"LAMBDA_KEY", mock.api_key()},
                           {"REG_USER", env->registry.username},
                           {"REG_PASS", env->registry.password}});
  vars["BERTH_CONFIG"] =
      scratch
          .write("config.yaml", "providers:\n  lambda: {type: lambda, api_key: \"${LAMBDA_KEY}\", "
                                "base_url: \"" + mock.url() + "/api/v1\"}\n")
          .string();
  // The private entry image is built for this machine's platform, linux/amd64:
  // berth reads that from its registry, as `up` does.
  auto tmpl = scratch.write(
      "arch.yaml", "name: e2e-arch\nimage: " + env->registry.entry_image +
                       "\nregistry_auth: {username: \"${REG_USER}\", password: \"${REG_PASS}\"}\n"
                       "resources: {gpu: {count: 1, vram: 80GB}}\n");
  auto plan = run_berth({"plan", tmpl.string(), "-o", "json"}, vars);
  INFO(plan.err);
  REQUIRE(plan.exit_code == 0);
  auto j = parse_json(plan.out);
  CHECK(j["placement"][0]["offer"]["id"] == "gpu_1x_h100_pcie@us-west-3");
  CHECK(j["placement"][0]["offer"]["arch"] == "x86_64");
  bool arch_rejected = false;
  for (const auto& r : j["rejections"])
    if (r["constraint"] == "arch") {
      arch_rejected = true;
      CHECK(r["nearest"]["id"] == "gpu_1x_gh200@us-east-3");
    }
  CHECK(arch_rejected);

  auto arm = scratch.write(
      "arm.yaml", "name: e2e-arch\nimage: busybox\nresources: {arch: arm64, gpu: {vram: 80GB}}\n");
  plan = run_berth({"plan", arm.string(), "-o", "json"}, vars);
  INFO(plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK(parse_json(plan.out)["placement"][0]["offer"]["id"] == "gpu_1x_gh200@us-east-3");
}

TEST_CASE("vastai spot: watch rents an interruptible instance with a bid under max_price, "
          "outbid, it is preempted and rented again",
          "[e2e][watch][clouds][spot]") {
  BERTH_E2E_ENV(env);
  CloudRig rig(*env, "vastai");
  DeploymentGuard guard(*env, "e2e-spot", rig.vars, {"h3", "h4"});
  auto tmpl = rig.entry_template("e2e-spot", "placement: {spot: only, max_price: 5}\n");
  auto plan = run_berth({"plan", tmpl.string(), "-o", "json"}, rig.vars);
  INFO(plan.err);
  REQUIRE(plan.exit_code == 0);
  auto chosen = parse_json(plan.out)["placement"][0]["offer"];
  CHECK(chosen["spot"] == true);

  std::vector<std::string> vars;
  for (const auto& [k, v] : rig.vars) vars.push_back(k + "=" + v);
  berth::testing::WatchProcess w(
      {"watch", tmpl.string(), "-o", "json", "--down-on-exit", "--yes"}, vars);
  auto healthy = w.wait_event("healthy", std::chrono::seconds(120), 0);
  INFO(w.transcript());
  REQUIRE(healthy);
  std::string first = (*healthy)["instance_id"];
  json rented;
  for (const auto& i : rig.mock.instances())
    if (i["id"] == first) rented = i;
  REQUIRE(rented.is_object());
  // An interruptible rental: a bid, and never above the template's cap.
  REQUIRE(rented["request"].contains("price"));
  CHECK(rented["request"]["price"].get<double>() <= 5.0);

  // Outbid: Vast stops the contract the renter did not stop.
  rig.mock.set_state_fields(first, {{"status", "exited"},
                                    {"cur_state", "stopped"},
                                    {"status_msg", "outbid"}});
  auto failure = w.wait_event("failure", std::chrono::seconds(60));
  REQUIRE(failure);
  CHECK((*failure)["reason"] == "preempted");
  CHECK((*failure)["instance_id"] == first);
  auto redeployed = w.wait_event("redeployed", std::chrono::seconds(120), 0);
  REQUIRE(redeployed);
  CHECK((*redeployed)["reason"] == "preempted");
  CHECK((*redeployed)["instance_id"] != first);
  CHECK(w.terminate() == 130);
  for (const auto& i : rig.mock.instances()) CHECK(i["terminated"] == true);
  CHECK(rig.mock.violations() == json::array());
}
