// The container every provider launches, resolved from the template: what
// runs follows docker's rules for ENTRYPOINT and CMD, and what the workload
// asks of a provider is named so the planner can refuse what it cannot do.
#include <catch2/catch.hpp>

#include "berth/deploy/launch_pacer.h"
#include "berth/template/workload_spec.h"

using namespace berth;

namespace {

LaunchTemplate base() {
  LaunchTemplate t;
  t.name = "w";
  t.image.value = "vllm/vllm-openai:v0.6.3";
  return t;
}

ContainerCommand list(std::vector<std::string> words) {
  ContainerCommand c;
  for (auto& w : words) c.argv.push_back({w, false});
  return c;
}

const ImageProcess kImage{{"python3", "-m", "vllm.entrypoints.openai.api_server"},
                          {"--help"},
                          "/workspace"};

}  // namespace

TEST_CASE("workload: what runs is what docker run would run", "[workload]") {
  SECTION("no overrides: the image's ENTRYPOINT and CMD") {
    auto s = resolve_workload(base());
    CHECK_FALSE(s.process());  // not known until the image is read
    s.image_process = kImage;
    CHECK(*s.process() == std::vector<std::string>{"python3", "-m",
                                                   "vllm.entrypoints.openai.api_server", "--help"});
  }
  SECTION("a list command replaces CMD and keeps ENTRYPOINT") {
    auto t = base();
    t.command = list({"--model", "Qwen/Qwen2.5-7B-Instruct"});
    auto s = resolve_workload(t);
    s.image_process = kImage;
    CHECK(*s.process() == std::vector<std::string>{"python3", "-m",
                                                   "vllm.entrypoints.openai.api_server",
                                                   "--model", "Qwen/Qwen2.5-7B-Instruct"});
  }
  SECTION("an entrypoint override clears the image's CMD") {
    auto t = base();
    t.entrypoint = std::vector<TemplateString>{{"tini", false}, {"--", false}};
    auto s = resolve_workload(t);
    s.image_process = kImage;
    CHECK(*s.process() == std::vector<std::string>{"tini", "--"});
  }
  SECTION("entrypoint and command: known without the image") {
    auto t = base();
    t.entrypoint = std::vector<TemplateString>{{"/bin/serve", false}};
    t.command = list({"a b", "$HOME", "line\nbreak"});
    auto s = resolve_workload(t);
    CHECK(*s.process() == std::vector<std::string>{"/bin/serve", "a b", "$HOME", "line\nbreak"});
  }
  SECTION("a string command is a script for sh, not for the image's ENTRYPOINT") {
    auto t = base();
    t.command = ContainerCommand{true, {{"echo $HOME && sleep 1", false}}};
    auto s = resolve_workload(t);
    CHECK(*s.process() == std::vector<std::string>{"sh", "-c", "echo $HOME && sleep 1"});
    t.entrypoint = std::vector<TemplateString>{{"tini", false}, {"--", false}};
    s = resolve_workload(t);
    CHECK(*s.process() == std::vector<std::string>{"tini", "--", "sh", "-c",
                                                   "echo $HOME && sleep 1"});
  }
  SECTION("an image with nothing to run is an error, not an empty process") {
    auto s = resolve_workload(base());
    s.image_process = ImageProcess{};
    auto p = s.process();
    REQUIRE_FALSE(p);
    CHECK(p.error().find("no entrypoint or command") != std::string::npos);
  }
}

TEST_CASE("workload: the features it asks of a provider", "[workload]") {
  auto t = base();
  CHECK(resolve_workload(t).features() == 0);
  t.entrypoint = std::vector<TemplateString>{{"x", false}};
  t.registry_auth = RegistryAuth{{"u", false}, {"p", true}};
  t.ports = {PortMapping{8000, std::nullopt, "tcp"}, PortMapping{9000, 19000, "udp"}};
  t.volumes = {Volume{Volume::Kind::kNamed, "a", "", "/a", true},
               Volume{Volume::Kind::kNamed, "b", "", "/b", false},
               Volume{Volume::Kind::kBind, "", "./data", "/data", true}};
  t.env = {{"LONG", {std::string(257, 'x'), false}}};
  auto f = resolve_workload(t).features();
  for (auto want : {WorkloadFeature::kEntrypoint, WorkloadFeature::kRegistryAuth,
                    WorkloadFeature::kNamedVolume, WorkloadFeature::kNamedVolumes,
                    WorkloadFeature::kBindVolume, WorkloadFeature::kReadonlyVolume,
                    WorkloadFeature::kUdpPort,
                    WorkloadFeature::kHostPort, WorkloadFeature::kLongEnvValue})
    CHECK((f & feature_bit(want)) != 0);
  for (auto feature : features_in(kAllFeatures))
    CHECK(feature_from_name(feature_name(feature)) == feature);
  CHECK_FALSE(feature_from_name("teleport"));
}

TEST_CASE("workload: secrets are every value that came from ${VAR}", "[workload]") {
  auto t = base();
  t.image = {"registry.example.com/private/app:1", true};
  t.env = {{"PLAIN", {"visible", false}}, {"TOKEN", {"hf_abc", true}}};
  t.command = ContainerCommand{false, {{"--key", false}, {"sk-123", true}}};
  t.registry_auth = RegistryAuth{{"robot", false}, {"pass word", true}};
  auto s = resolve_workload(t);
  auto secrets = s.secrets();
  for (const char* want : {"registry.example.com/private/app:1", "hf_abc", "sk-123", "pass word"})
    CHECK(std::find(secrets.begin(), secrets.end(), want) != secrets.end());
  CHECK(std::find(secrets.begin(), secrets.end(), "visible") == secrets.end());
  CHECK(s.registry->registry == "registry.example.com");
  CHECK(s.disk_gb(50) == 50);
  s.disk_bytes = 100'000'000'001ull;
  CHECK(s.disk_gb(50) == 101);  // rounded up: never less than asked
}

TEST_CASE("launch pacer: launches to one provider are spaced; a 429 pushes the next back",
          "[workload]") {
  LaunchPacer pacer;
  using namespace std::chrono;
  auto t0 = LaunchPacer::Clock::time_point{} + hours(1);
  LaunchPacing lambda{Duration{12'000}, Duration{12'000}};
  CHECK(pacer.reserve("lambda", lambda, t0) == Duration{0});
  CHECK(pacer.reserve("lambda", lambda, t0 + seconds(2)) == Duration{10'000});
  // The next one queues behind the one just booked.
  CHECK(pacer.reserve("lambda", lambda, t0 + seconds(2)) == Duration{22'000});
  // Other providers are not held up.
  CHECK(pacer.reserve("runpod", LaunchPacing{}, t0) == Duration{0});
  CHECK(pacer.reserve("runpod", LaunchPacing{}, t0) == Duration{0});
  pacer.refused("runpod", Duration{5'000}, t0);
  CHECK(pacer.reserve("runpod", LaunchPacing{}, t0 + seconds(1)) == Duration{4'000});
}
