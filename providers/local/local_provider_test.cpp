#include "providers/local/local_provider.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>

#include "berth/config/config.h"
#include "berth/host/container_runtime.h"
#include "providers/local/nvidia_smi.h"

using namespace berth;

namespace {

/// Answers by the program name; records every argv.
class FakeRunner : public ProcessRunner {
 public:
  using Handler = std::function<Expected<ProcessResult, std::string>(const ProcessSpec&)>;
  std::map<std::string, Handler> handlers;
  std::vector<std::vector<std::string>> calls;

  Expected<ProcessResult, std::string> run(const ProcessSpec& spec) override {
    std::lock_guard<std::mutex> lock(mutex_);
    calls.push_back(spec.argv);
    auto it = handlers.find(spec.argv.at(0));
    if (it == handlers.end()) return unexpected(std::string("No such file or directory"));
    return it->second(spec);
  }

 private:
  std::mutex mutex_;
};

ProcessResult ok(std::string out) {
  ProcessResult r;
  r.exit_code = 0;
  r.out = std::move(out);
  return r;
}

ProcessResult failed(int code, std::string err) {
  ProcessResult r;
  r.exit_code = code;
  r.err = std::move(err);
  return r;
}

std::filesystem::path meminfo_fixture() {
  auto path = std::filesystem::temp_directory_path() / "berth-test-meminfo";
  std::ofstream(path) << "MemTotal:       16384000 kB\nMemFree:         1000 kB\n";
  return path;
}

LocalProvider make(FakeRunner& runner) {
  LocalMachine m;
  m.meminfo = meminfo_fixture();
  m.disk = std::filesystem::temp_directory_path() / "berth-no-such-dir" / "state";
  m.cpus = 6;
  return LocalProvider("here", ContainerRuntime{ContainerRuntime::Kind::kPodman, "podman"}, runner,
                       m);
}

const char* kPodmanPs = R"json([
  {"Id": "c1", "Names": ["berth-chat-0-abc123"], "Image": "img", "State": "running",
   "Status": "Up 3 minutes",
   "Labels": {"berth.deployment": "chat", "berth.replica": "0", "berth.hash": "abc123",
              "berth.instance": "berth-chat-0-abc123", "other": "x"}},
  {"Id": "c2", "Names": ["berth-web-1-def456"], "Image": "img", "State": "exited",
   "Status": "Exited (1)",
   "Labels": {"berth.deployment": "web", "berth.replica": "1", "berth.hash": "def456",
              "berth.instance": "berth-web-1-def456"}}
])json";

}  // namespace

TEST_CASE("local offer without nvidia-smi is this machine, CPU-only", "[local]") {
  FakeRunner runner;
  auto p = make(runner);
  auto offers = p.list_offers({});
  REQUIRE(offers);
  REQUIRE(offers->size() == 1);
  const Offer& o = offers->front();
  CHECK(o.provider == "here");
  CHECK(o.id == "local");
  CHECK(o.region == "local");
  CHECK(o.gpu.count == 0);
  CHECK(o.vcpus == 6);
  REQUIRE(o.memory_gb);
  CHECK(*o.memory_gb == Approx(16384000.0 * 1024 / 1e9));
  REQUIRE(o.disk_gb);  // statvfs of the nearest existing ancestor
  CHECK(*o.disk_gb > 0);
  CHECK(o.price_per_hour == 0);
  CHECK(o.available == 1);
  CHECK_FALSE(o.cuda);
  CHECK(runner.calls.at(0) == nvidia_smi_query_argv());
}

TEST_CASE("local offer reads GPUs and CUDA from nvidia-smi", "[local]") {
  FakeRunner runner;
  runner.handlers["nvidia-smi"] =
      [](const ProcessSpec& spec) -> Expected<ProcessResult, std::string> {
    if (spec.argv.size() > 1)
      return ok(
          "NVIDIA H100 80GB HBM3, 81559, 9.0, 550.54.15\n"
          "NVIDIA H100 80GB HBM3, 81559, 9.0, 550.54.15\n");
    return ok("| NVIDIA-SMI 550.54.15   Driver Version: 550.54.15   CUDA Version: 12.4     |\n");
  };
  auto p = make(runner);
  auto offers = p.list_offers({});
  REQUIRE(offers);
  const Offer& o = offers->front();
  CHECK(o.gpu.model == "H100");
  CHECK(o.gpu.count == 2);
  CHECK(o.gpu.vram_gb == 80);
  CHECK(o.gpu.compute_capability == 9.0);
  CHECK(o.cuda == 12.4);
}

TEST_CASE("local offer is CPU-only when nvidia-smi finds no driver", "[local]") {
  FakeRunner runner;
  runner.handlers["nvidia-smi"] = [](const ProcessSpec&) -> Expected<ProcessResult, std::string> {
    return failed(9, "NVIDIA-SMI has failed because it couldn't communicate with the driver");
  };
  auto p = make(runner);
  auto offers = p.list_offers({});
  REQUIRE(offers);
  CHECK(offers->front().gpu.count == 0);
}

TEST_CASE("nvidia-smi output parsing", "[local]") {
  SECTION("unknown models keep their name and reported memory") {
    auto g = parse_nvidia_smi_gpus("Mystery Accelerator 9000, 16384, [N/A], 550.1\n");
    REQUIRE(g);
    CHECK(g->model == "unknown:Mystery Accelerator 9000");
    CHECK(g->count == 1);
    CHECK(g->vram_gb == Approx(17.2));
    CHECK_FALSE(g->compute_capability);
  }
  SECTION("a mixed machine is offered as its largest group") {
    auto g = parse_nvidia_smi_gpus(
        "NVIDIA GeForce RTX 4090, 24564, 8.9, 550\nNVIDIA GeForce RTX 4090, 24564, 8.9, 550\n"
        "NVIDIA A100 80GB PCIe, 81920, 8.0, 550\n");
    REQUIRE(g);
    CHECK(g->model == "RTX4090");
    CHECK(g->count == 2);
    CHECK(g->vram_gb == 24);
  }
  SECTION("the A100's memory picks its variant") {
    auto g = parse_nvidia_smi_gpus("NVIDIA A100-SXM4-40GB, 40960, 8.0, 550\n");
    REQUIRE(g);
    CHECK(g->model == "A100-40GB");
  }
  SECTION("empty output is no GPUs; garbage is an error") {
    auto none = parse_nvidia_smi_gpus("\n");
    REQUIRE(none);
    CHECK(none->count == 0);
    CHECK_FALSE(parse_nvidia_smi_gpus("nonsense\n"));
  }
  SECTION("CUDA version from the header") {
    CHECK(parse_nvidia_smi_cuda("... CUDA Version: 12.6 |") == 12.6);
    CHECK_FALSE(parse_nvidia_smi_cuda("no header"));
  }
}

TEST_CASE("local instances are berth's labelled containers", "[local]") {
  FakeRunner runner;
  runner.handlers["podman"] = [](const ProcessSpec&) -> Expected<ProcessResult, std::string> {
    return ok(kPodmanPs);
  };
  auto p = make(runner);
  auto list = p.list();
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  const Instance& a = (*list)[0];
  CHECK(a.provider == "here");
  CHECK(a.id == "berth-chat-0-abc123");
  CHECK(a.name == "berth-chat-0-abc123");
  CHECK(a.state == InstanceState::kRunning);
  CHECK(a.host == "127.0.0.1");
  CHECK(a.ssh_port == 0);
  CHECK(a.labels.at("berth.deployment") == "chat");
  CHECK(a.labels.count("other") == 0);
  CHECK((*list)[1].raw_state == "berth-web-1-def456 exited");
  auto rt = ContainerRuntime{ContainerRuntime::Kind::kPodman, "podman"};
  CHECK(runner.calls.back() == ps_argv(rt, {{"berth.deployment", ""}}));
}

TEST_CASE("local get finds one instance or says not found", "[local]") {
  FakeRunner runner;
  std::string answer = kPodmanPs;
  runner.handlers["podman"] = [&](const ProcessSpec&) -> Expected<ProcessResult, std::string> {
    return ok(answer);
  };
  auto p = make(runner);
  auto got = p.get("berth-web-1-def456");
  REQUIRE(got);
  CHECK(got->name == "berth-web-1-def456");
  auto rt = ContainerRuntime{ContainerRuntime::Kind::kPodman, "podman"};
  CHECK(runner.calls.back() ==
        ps_argv(rt, {{"berth.deployment", ""}, {"berth.instance", "berth-web-1-def456"}}));
  answer = "[]";
  auto gone = p.get("berth-web-1-def456");
  REQUIRE_FALSE(gone);
  CHECK(gone.error().kind == ProviderError::Kind::kNotFound);
}

TEST_CASE("local terminate removes the instance's containers and is idempotent", "[local]") {
  FakeRunner runner;
  std::string answer = R"([{"Id": "c1", "Names": ["berth-chat-0-abc123"], "State": "running",
    "Labels": {"berth.deployment": "chat", "berth.instance": "berth-chat-0-abc123"}}])";
  runner.handlers["podman"] = [&](const ProcessSpec& spec) -> Expected<ProcessResult, std::string> {
    if (spec.argv.at(1) == "rm") return ok("c1\n");
    return ok(answer);
  };
  auto p = make(runner);
  REQUIRE(p.terminate("berth-chat-0-abc123"));
  CHECK(runner.calls.back() ==
        remove_argv(ContainerRuntime{ContainerRuntime::Kind::kPodman, "podman"}, {"c1"}));
  answer = "[]";
  runner.calls.clear();
  REQUIRE(p.terminate("berth-chat-0-abc123"));
  CHECK(runner.calls.size() == 1);  // only the ps: nothing left to remove
}

TEST_CASE("local runtime failures are typed", "[local]") {
  FakeRunner runner;
  auto p = make(runner);
  auto missing = p.list();  // podman cannot be started at all
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ProviderError::Kind::kInvalidRequest);
  runner.handlers["podman"] = [](const ProcessSpec&) -> Expected<ProcessResult, std::string> {
    return failed(125, "Error: cannot connect to the engine\n");
  };
  auto broken = p.list();
  REQUIRE_FALSE(broken);
  CHECK(broken.error().kind == ProviderError::Kind::kTransient);
  CHECK(broken.error().message ==
        "'podman ps' failed (exit 125): Error: cannot connect to the engine");
  runner.handlers["podman"] = [](const ProcessSpec&) -> Expected<ProcessResult, std::string> {
    return ok("{not json");
  };
  auto garbled = p.list();
  REQUIRE_FALSE(garbled);
  CHECK(garbled.error().kind == ProviderError::Kind::kBadResponse);
  CHECK_FALSE(p.check_credentials());
}

TEST_CASE("local launch hands deploy this machine", "[local]") {
  FakeRunner runner;
  auto p = make(runner);
  LaunchRequest req;
  req.name = "berth-chat-0-abc123";
  req.labels = {{"berth-deployment", "chat"}};
  req.offer.id = "local";
  auto i = p.launch(req);
  REQUIRE(i);
  CHECK(i->id == "berth-chat-0-abc123");
  CHECK(i->state == InstanceState::kRunning);
  CHECK(i->host == "127.0.0.1");
  CHECK(i->ssh_port == 0);
  CHECK(i->offer_id == "local");
  CHECK(runner.calls.empty());
  CHECK_FALSE(p.capabilities().in_pod());
  CHECK(p.capabilities().runs == Capabilities::Runs::kThisMachine);
}

TEST_CASE("local is registered and picks an installed runtime", "[local]") {
  const ProviderType* t = find_provider_type("local");
  REQUIRE(t);
  CHECK(t->keys.empty());
  CHECK(t->api_key_env.empty());
  FakeRunner runner;
  ProviderContext ctx;
  ctx.processes = &runner;
  ctx.runtime = "podman";
  ProviderConfig pc;
  pc.name = "here";
  pc.type = "local";
  auto p = t->create(pc, ctx);
  REQUIRE(p);
  CHECK((*p)->name() == "here");
  CHECK((*p)->type() == "local");
  CHECK(runtime_for_this_machine("podman") == "podman");
  if (find_program("podman"))
    CHECK(runtime_for_this_machine("berth-no-such-runtime") == "podman");
  else
    CHECK(runtime_for_this_machine("berth-no-such-runtime") == "berth-no-such-runtime");
  // A docker client with no engine behind it must not win over podman.
  if (find_program("docker") && find_program("podman") && !std::getenv("DOCKER_HOST") &&
      !std::filesystem::exists("/var/run/docker.sock"))
    CHECK(runtime_for_this_machine("docker") == "podman");
}
