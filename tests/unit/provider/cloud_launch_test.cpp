// Every shipped template, launched on each cloud's mock as the core would
// launch it: the mocks validate each request body against the vendor's own
// document, so zero violations means the real API would take it; and what
// the request tells the provider to start is exactly the process docker
// would run for that template.
#include <catch2/catch.hpp>

#include <filesystem>

#include "berth/common/shell_quote.h"
#include "berth/placement/placement.h"
#include "berth/template/launch_template.h"
#include "berth/template/workload_spec.h"
#include "support/adapter_fixture.h"

using namespace berth;
using namespace berth::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> shipped_templates() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(BERTH_TEST_DIR) / ".." / "templates"))
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// The image's own process, as the registry would report it (what the core
// reads for providers that start the process themselves).
const ImageProcess kImage{{"/opt/entry", "--from-image"}, {"--image-cmd"}, "/workspace"};

json last_body(MockServer& mock, const std::string& method, const std::string& path_part) {
  json found;
  for (const auto& r : mock.requests())
    if (r["method"] == method && r["path"].get<std::string>().find(path_part) != std::string::npos)
      found = r["body"];
  return found;
}

}  // namespace

TEST_CASE("every shipped template, planned on every cloud's strict mock, launches what docker would",
          "[adapter][clouds]") {
  const auto env = Environment::from_map({{"HF_TOKEN", "hf_test_token"}});
  const auto templates = shipped_templates();
  REQUIRE(templates.size() >= 6);
  for (const char* cloud : {"lambda", "runpod", "vastai"}) {
    AdapterFixture f(cloud);
    auto offers = f.adapter->list_offers({});
    REQUIRE(offers);
    REQUIRE_FALSE(offers->empty());
    int n = 0;
    for (const auto& path : templates) {
      INFO(cloud << " " << path.filename().string());
      auto t = load_template(path, env);
      REQUIRE(t);
      WorkloadSpec spec = resolve_workload(*t);
      const Capabilities caps = f.adapter->capabilities();
      // Nothing a shipped template asks for is beyond any cloud.
      CHECK((spec.features() & ~caps.honours) == 0);
      if (caps.starts_process) spec.image_process = kImage;
      auto process = spec.process();

      // The offer berth would choose on this cloud alone: nothing a cloud
      // does not report (RunPod's vCPUs and RAM, Lambda's host CUDA) may
      // keep a template off it.
      auto plan = solve_placement(*t, *offers, PlacementOptions{{0}, {}, {}, 10});
      INFO("rejections: " << to_json(plan)["rejections"].dump());
      if (t->resources.gpu.count.max == 0) {
        // CPU-only (hello.yaml): the clouds list GPU machines, and say so.
        REQUIRE(plan.placement.empty());
        CHECK(plan.rejections.at(0).constraint == "gpu.count");
        continue;
      }
      REQUIRE(plan.placement.size() == 1);
      const Offer& chosen = plan.placement[0].offer;
      std::string name = "berth-" + t->name + "-" + std::to_string(n++) + "-abc123";
      auto launched = f.adapter->launch(request_for(chosen, spec, name));
      REQUIRE(launched);
      CHECK(f.mock.violations() == json::array());

      if (std::string(cloud) == "runpod") {
        json body = last_body(f.mock, "POST", "/v2/pods");
        if (!spec.entrypoint && !spec.command) {
          CHECK_FALSE(body.contains("args"));  // the image's ENTRYPOINT and CMD
        } else {
          json args = json::parse(body["args"].get<std::string>());
          if (spec.entrypoint) CHECK(args["entrypoint"] == *spec.entrypoint);
          else CHECK_FALSE(args.contains("entrypoint"));
          CHECK(args["cmd"] == spec.command.value_or(std::vector<std::string>{}));
        }
      } else if (std::string(cloud) == "vastai") {
        REQUIRE(process);
        json body = last_body(f.mock, "PUT", "/api/v0/asks/");
        CHECK(body["runtype"] == "ssh_direct");
        CHECK(body["onstart"].get<std::string>().find("(exec " + shell_join(*process) + ")") !=
              std::string::npos);
      } else {
        // A VM: the container starts over SSH later; the launch is the VM's.
        json body = last_body(f.mock, "POST", "/instance-operations/launch");
        CHECK(body["name"] == name);
      }
      REQUIRE(f.adapter->terminate(launched->id));
      f.mock.reset();  // a marketplace ask, once rented, is gone: start afresh
    }
  }
}

TEST_CASE("an argv with spaces, quotes, $ and newlines reaches RunPod and Vast.ai whole",
          "[adapter][clouds]") {
  LaunchTemplate t;
  t.name = "argv";
  t.image = {"localhost/berth-entry:1", false};
  const std::vector<std::string> words = {"--say", "two words", "it's \"quoted\"", "$HOME $(id)",
                                          "line one\nline two", ""};
  ContainerCommand c;
  for (const auto& w : words) c.argv.push_back({w, false});
  t.command = c;
  t.entrypoint = std::vector<TemplateString>{{"/bin/entry-serve", false}};

  AdapterFixture runpod("runpod");
  auto offers = runpod.adapter->list_offers({});
  REQUIRE(offers);
  REQUIRE(runpod.adapter->launch(request_for(offers->front(), t, "berth-argv-0-abc123")));
  json body = last_body(runpod.mock, "POST", "/v2/pods");
  json args = json::parse(body["args"].get<std::string>());
  CHECK(args["entrypoint"] == json::array({"/bin/entry-serve"}));
  CHECK(args["cmd"] == words);
  CHECK(runpod.mock.violations() == json::array());

  AdapterFixture vast("vastai");
  auto vast_offers = vast.adapter->list_offers({});
  REQUIRE(vast_offers);
  REQUIRE(vast.adapter->launch(request_for(vast_offers->front(), t, "berth-argv-0-abc123")));
  json rent = last_body(vast.mock, "PUT", "/api/v0/asks/");
  std::string onstart = rent["onstart"].get<std::string>();
  // sh reads the script back into exactly these words.
  std::vector<std::string> argv = {"/bin/entry-serve"};
  argv.insert(argv.end(), words.begin(), words.end());
  CHECK(onstart.find("(exec " + shell_join(argv) + ")") != std::string::npos);
  CHECK(vast.mock.violations() == json::array());
}

TEST_CASE("up --dry-run's requests are what the vendors' schemas accept", "[adapter][clouds]") {
  const auto env = Environment::from_map({{"HF_TOKEN", "hf_test_token"}});
  auto t = load_template(fs::path(BERTH_TEST_DIR) / ".." / "templates" / "vllm.yaml", env);
  REQUIRE(t);
  const std::map<std::string, std::string> operation = {
      {"/v2/pods", "createPod"},           {"/v2/registries", "createRegistry"},
      {"/instance-operations/launch", "launchInstance"},
      {"/ssh-keys", "addSSHKey"},          {"/api/v0/asks/", "createInstance"},
      {"/api/v0/ssh/", "createSshKey"}};
  for (const char* cloud : {"lambda", "runpod", "vastai"}) {
    INFO(cloud);
    AdapterFixture f(cloud);
    auto offers = f.adapter->list_offers({});
    REQUIRE(offers);
    WorkloadSpec spec = resolve_workload(*t);
    spec.registry = RegistryLogin{"docker.io", "robot", "hunter2"};
    if (f.adapter->capabilities().starts_process) spec.image_process = kImage;
    auto before = f.mock.requests().size();
    auto planned = f.adapter->plan_launch(request_for(offers->front(), spec, "berth-v-0-abc123"));
    REQUIRE(planned);
    REQUIRE_FALSE(planned->empty());
    CHECK(f.mock.requests().size() == before);  // nothing was sent
    for (const auto& q : *planned) {
      INFO(q.method << " " << q.url);
      std::string op;
      for (const auto& [part, name] : operation)
        if (q.url.find(part) != std::string::npos) op = name;
      REQUIRE_FALSE(op.empty());
      CHECK(f.mock.check(op, q.body) == json::array());
    }
  }
}
