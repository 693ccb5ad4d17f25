// The RunPod (REST v2) adapter against the RunPod mock over real HTTP.
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <fstream>

#include "berth/config/config.h"
#include "berth/provider/provider.h"
#include "support/adapter_fixture.h"

using namespace berth;
using namespace berth::testing;
using Kind = ProviderError::Kind;
using nlohmann::json;

namespace {

LaunchTemplate workload() {
  LaunchTemplate t;
  t.name = "chat";
  t.image = {"vllm/vllm-openai:v0.6.3", false};
  t.command = ContainerCommand{false, {{"--model", false}, {"Qwen/Qwen2.5-7B", false}}};
  t.env = {{"MODEL", {"Qwen/Qwen2.5-7B", false}},
           {"HF_TOKEN", {"hf_secret value with $(reboot) and \"quotes\"", true}}};
  t.ports = {PortMapping{8000, std::nullopt, "tcp"}};
  t.resources.disk.min = 100'000'000'000ull;
  return t;
}

// The RunPod mock and the adapter under test.
struct RunpodTest : AdapterFixture {
  explicit RunpodTest(AdapterOptions options = {}) : AdapterFixture("runpod", std::move(options)) {}
  std::unique_ptr<Provider>& runpod = adapter;
};

// Pods stay provisioning for a minute unless the test moves them on, and
// report an SSH host once running.
struct SlowPodRunpod : RunpodTest {
  SlowPodRunpod()
      : RunpodTest({.mock_args = {"--provision-seconds", "60", "--boot-seconds", "60", "--ssh-host",
                                  "127.0.0.31:2201"}}) {}
};

// A client that gives up on a hung answer after 1.5 s.
struct ImpatientRunpod : RunpodTest {
  ImpatientRunpod() : RunpodTest({.total_timeout_ms = 1500}) {}
};

}  // namespace

TEST_CASE_METHOD(RunpodTest, "runpod: catalog offers per GPU count, cloud and data center",
                 "[runpod][adapter]") {
  auto offers = runpod->list_offers({});
  REQUIRE(offers);
  // Per-GPU price times the count.
  const Offer* one = find_offer(*offers, "NVIDIA GeForce RTX 4090/secure/US-KS-2/x1");
  const Offer* four = find_offer(*offers, "NVIDIA GeForce RTX 4090/secure/US-KS-2/x4");
  REQUIRE(one);
  REQUIRE(four);
  CHECK(one->price_per_hour == Approx(0.69));
  CHECK(four->price_per_hour == Approx(2.76));
  CHECK(four->gpu.count == 4);
  CHECK(one->gpu.model == "RTX4090");
  CHECK(one->gpu.vram_gb == Approx(24));
  CHECK(one->region == "US-KS-2");
  CHECK_FALSE(one->available);  // RunPod reports a level, never a count
  CHECK(one->stock == "high");
  CHECK(one->cuda == Approx(12.8));
  CHECK(one->launch_data["cloud"] == "SECURE");
  CHECK(one->launch_data["gpu_id"] == "NVIDIA GeForce RTX 4090");

  // Stock per tier and count, as the catalog reports it for exactly that
  // pair: community 4090s only in EU-RO-1 and only up to 2, secure ones only
  // in US-KS-2. No cheap community offer where only secure stock is.
  CHECK_FALSE(find_offer(*offers, "NVIDIA GeForce RTX 4090/community/US-KS-2/x1"));
  CHECK_FALSE(find_offer(*offers, "NVIDIA GeForce RTX 4090/secure/EU-RO-1/x1"));
  const Offer* community = find_offer(*offers, "NVIDIA GeForce RTX 4090/community/EU-RO-1/x2");
  REQUIRE(community);
  CHECK(community->stock == "low");
  CHECK(community->price_per_hour == Approx(0.68));
  CHECK_FALSE(find_offer(*offers, "NVIDIA GeForce RTX 4090/community/EU-RO-1/x4"));
  CHECK_FALSE(find_offer(*offers, "NVIDIA GeForce RTX 4090/community/EU-RO-1/x8"));

  // Data centers and types with availability NONE are not offered; no
  // community price means no community offers.
  CHECK_FALSE(find_offer(*offers, "NVIDIA H100 80GB HBM3/secure/CA-MTL-1/x1"));
  CHECK_FALSE(find_offer(*offers, "NVIDIA H100 80GB HBM3/community/US-TX-3/x1"));
  CHECK_FALSE(find_offer(*offers, "NVIDIA L4/secure/US-KS-2/x1"));
  const Offer* h100 = find_offer(*offers, "NVIDIA H100 80GB HBM3/secure/US-TX-3/x8");
  REQUIRE(h100);
  CHECK(h100->gpu.model == "H100");
  CHECK(h100->price_per_hour == Approx(23.92));

  // String-typed numbers.
  const Offer* a100 = find_offer(*offers, "NVIDIA A100 80GB PCIe/secure/US-KS-2/x2");
  REQUIRE(a100);
  CHECK(a100->gpu.model == "A100-80GB");
  CHECK(a100->price_per_hour == Approx(3.28));

  // AMD and unknown models.
  const Offer* mi = find_offer(*offers, "AMD Instinct MI300X OAM/secure/EU-RO-1/x1");
  REQUIRE(mi);
  CHECK(mi->gpu.vendor == GpuVendor::kAmd);
  const Offer* zz = find_offer(*offers, "NVIDIA ZZ9000/secure/US-KS-2/x1");
  REQUIRE(zz);
  CHECK(zz->gpu.model == "unknown:NVIDIA ZZ9000");
  CHECK(zz->gpu.vram_gb == Approx(48));

  // One catalog call per tier and count, each asking for availability (the
  // API requires product with it) for exactly that pair.
  std::set<std::string> asked;
  for (const json& req : mock.requests()) {
    REQUIRE(req["path"] == "/v2/catalog/gpus");
    CHECK(req["query"]["include"] == "AVAILABILITY");
    CHECK(req["query"]["product"] == "POD");
    asked.insert(req["query"]["cloud"].get<std::string>() + "/" +
                 req["query"]["count"].get<std::string>());
  }
  CHECK(asked == std::set<std::string>{"SECURE/1", "SECURE/2", "SECURE/4", "SECURE/8",
                                       "COMMUNITY/1", "COMMUNITY/2", "COMMUNITY/4",
                                       "COMMUNITY/8"});
  CHECK(mock.violations() == json::array());

  // Every offer listed launches: no capacity error the catalog contradicts.
  LaunchTemplate t = workload();
  WorkloadSpec spec = resolve_workload(t);
  for (const char* id : {"NVIDIA GeForce RTX 4090/community/EU-RO-1/x2",
                         "NVIDIA GeForce RTX 4090/secure/US-KS-2/x8"}) {
    INFO(id);
    auto pod = runpod->launch(request_for(*find_offer(*offers, id), spec,
                                          "berth-chat-0-abc123def456"));
    REQUIRE(pod);
    REQUIRE(runpod->terminate(pod->id));
  }
  // The tier and count the catalog had no stock for are refused, as RunPod does.
  Offer ghost = *find_offer(*offers, "NVIDIA GeForce RTX 4090/community/EU-RO-1/x2");
  ghost.launch_data["count"] = 4;
  ghost.gpu.count = 4;
  auto refused = runpod->launch(request_for(ghost, spec, "berth-chat-0-abc123def456"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == Kind::kNoCapacity);
}

TEST_CASE_METHOD(RunpodTest, "runpod: the cloud setting and the count filter narrow offers",
                 "[runpod][adapter]") {
  auto community = adapter_with({{"cloud", "community"}});
  OfferQuery q;
  q.gpu_count = Range<int>{2, 2};
  auto offers = community->list_offers(q);
  REQUIRE(offers);
  REQUIRE_FALSE(offers->empty());
  for (const auto& o : *offers) {
    CHECK(o.launch_data["cloud"] == "COMMUNITY");
    CHECK(o.gpu.count == 2);
  }

  ProviderConfig bad;
  bad.name = "rp";
  bad.type = "runpod";
  bad.api_key = "k";
  bad.settings = {{"cloud", "moon"}};
  ProviderContext ctx;
  ctx.http = http.get();
  auto made = find_provider_type("runpod")->create(bad, ctx);
  REQUIRE_FALSE(made);
  CHECK(made.error().find("secure, community or all") != std::string::npos);
}

TEST_CASE_METHOD(SlowPodRunpod,
                 "runpod: create carries image, env, key and ports; pods run then terminate",
                 "[runpod][adapter]") {
  auto offers = runpod->list_offers({});
  REQUIRE(offers);
  const Offer* offer = find_offer(*offers, "NVIDIA GeForce RTX 4090/secure/US-KS-2/x2");
  REQUIRE(offer);
  LaunchTemplate w = workload();

  auto pod = runpod->launch(request_for(*offer, w, "berth-chat-0-abc123"));
  REQUIRE(pod);
  CHECK(pod->state == InstanceState::kProvisioning);
  CHECK(pod->host.empty());  // ssh.direct is null until running

  json body = mock.instances()[0]["request"];
  CHECK(body["name"] == "berth-chat-0-abc123");
  CHECK(body["image"] == "vllm/vllm-openai:v0.6.3");
  CHECK(body["gpu"] == json({{"id", "NVIDIA GeForce RTX 4090"}, {"count", 2}}));
  CHECK(body["cloud"] == "SECURE");
  CHECK(body["dataCenterIds"] == json::array({"US-KS-2"}));
  CHECK(body["ports"] == json::array({"8000/tcp", "22/tcp"}));
  CHECK(body["disk"] == 100);
  // args is a string: the start command as a JSON object, each argument whole.
  REQUIRE(body["args"].is_string());
  CHECK(json::parse(body["args"].get<std::string>()) ==
        json({{"cmd", {"--model", "Qwen/Qwen2.5-7B"}}}));
  CHECK_FALSE(body.contains("entrypoint"));
  // Values travel as JSON strings, byte for byte.
  CHECK(body["env"]["HF_TOKEN"] == "hf_secret value with $(reboot) and \"quotes\"");
  CHECK(body["env"]["PUBLIC_KEY"] ==
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBerthTestKey berth@test");

  mock.set_state(pod->id, "RUNNING");
  auto running = runpod->get(pod->id);
  REQUIRE(running);
  CHECK(running->state == InstanceState::kRunning);
  // When the provider made it, for status's age and cost: just now.
  REQUIRE(running->created);
  CHECK(std::chrono::abs(std::chrono::system_clock::now() - *running->created) <
        std::chrono::minutes(10));
  CHECK(running->host == "127.0.0.31");
  CHECK(running->ssh_port == 2201);
  CHECK(running->ssh_user == "root");
  CHECK(running->public_ports.at(8000) == 8000);
  CHECK(running->public_ports.at(22) == 2201);
  CHECK(running->region == "US-KS-2");
  CHECK(running->price_per_hour == Approx(1.38));

  const std::pair<const char*, InstanceState> cases[] = {
      {"PROVISIONING", InstanceState::kProvisioning},
      {"STARTING", InstanceState::kBooting},
      {"EXITED", InstanceState::kExited},
      {"ERROR", InstanceState::kFailed},
      {"TERMINATED", InstanceState::kTerminated},
  };
  for (const auto& [word, state] : cases) {
    mock.set_state(pod->id, word);
    auto got = runpod->get(pod->id);
    REQUIRE(got);
    CHECK(got->state == state);
    CHECK(got->raw_state == word);
  }
  mock.set_state(pod->id, nullptr);

  auto listed = runpod->list();
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].id == pod->id);

  REQUIRE(runpod->terminate(pod->id));  // 204, empty body
  REQUIRE(runpod->terminate(pod->id));  // 404: already gone
  CHECK(runpod->get(pod->id).error().kind == Kind::kNotFound);
  auto all = mock.instances();
  CHECK(all[0]["terminated"] == true);
}

TEST_CASE_METHOD(ImpatientRunpod, "runpod: problem+json errors map to typed errors",
                 "[runpod][adapter]") {
  auto offers = runpod->list_offers({});
  REQUIRE(offers);
  LaunchTemplate w = workload();

  // Capacity: a 400 whose only signal is the detail text, produced by the
  // mock itself for a data center with availability NONE.
  Offer gone = *find_offer(*offers, "NVIDIA H100 80GB HBM3/secure/US-TX-3/x1");
  gone.launch_data["data_center"] = "CA-MTL-1";
  auto capacity = runpod->launch(request_for(gone, w, "berth-chat-0-abc123"));
  REQUIRE_FALSE(capacity);
  CHECK(capacity.error().kind == Kind::kNoCapacity);

  Offer ok = *find_offer(*offers, "NVIDIA GeForce RTX 4090/secure/US-KS-2/x1");
  auto launch_error = [&](json fault) {
    fault["op"] = "launch";
    mock.fault(fault);
    auto r = runpod->launch(request_for(ok, w, "berth-chat-0-abc123"));
    REQUIRE_FALSE(r);
    return r.error();
  };
  auto problem = [](int status, const char* detail) {
    return json{{"title", "x"}, {"status", status}, {"detail", detail}};
  };
  CHECK(launch_error({{"status", 400},
                      {"body", problem(400,
                                       "this GPU and data center combination could not be "
                                       "placed")}})
            .kind == Kind::kNoCapacity);
  CHECK(launch_error({{"status", 400}, {"body", problem(400, "name must be unique")}}).kind ==
        Kind::kInvalidRequest);
  CHECK(launch_error({{"status", 402}, {"body", problem(402, "insufficient balance")}}).kind ==
        Kind::kQuota);
  auto invalid = launch_error({{"status", 422},
                               {"body",
                                {{"title", "Unprocessable"},
                                 {"status", 422},
                                 {"detail", "violates"},
                                 {"errors", {"ports: bad"}}}}});
  CHECK(invalid.kind == Kind::kInvalidRequest);
  CHECK(invalid.message.find("ports: bad") != std::string::npos);
  auto limited = launch_error({{"status", 429},
                               {"body", problem(429, "rate limit exceeded for the minute window")},
                               {"headers", {{"Retry-After", "7"}}}});
  CHECK(limited.kind == Kind::kRateLimited);
  REQUIRE(limited.retry_after);
  CHECK(limited.retry_after->count() == 7000);
  CHECK(
      launch_error({{"status", 502}, {"body", "upstream"}, {"content_type", "text/plain"}}).kind ==
      Kind::kTransient);

  // 403 on create: no access to that GPU pool. The next candidate may do.
  auto pool = launch_error({{"status", 403}, {"body", problem(403, "no access to pool")}});
  CHECK(pool.kind == Kind::kNoCapacity);
  CHECK(pool.message.find("no access to this GPU pool") != std::string::npos);

  // The real 422 from the mock's own validation against the document's
  // schema (a GPU count that is not an integer).
  Offer bad = ok;
  bad.launch_data["count"] = "two";
  auto rejected = runpod->launch(request_for(bad, w, "berth-chat-0-abc123"));
  REQUIRE_FALSE(rejected);
  CHECK(rejected.error().kind == Kind::kInvalidRequest);
  CHECK(rejected.error().message.find("gpu.count") != std::string::npos);
  REQUIRE(mock.violations().size() == 1);
  CHECK(mock.violations()[0]["op"] == "launch");

  // Auth, shapes, hangs.
  auto wrong = adapter_with(json::object(), "nope");
  CHECK(wrong->list().error().kind == Kind::kAuth);
  CHECK(wrong->check_credentials().error().kind == Kind::kAuth);
  CHECK(runpod->check_credentials());
  mock.fault({{"op", "list"}, {"status", 200}, {"body", json::array()}});
  CHECK(runpod->list().error().kind == Kind::kBadResponse);
  mock.fault({{"op", "list"}, {"status", 200}, {"body", {{"pods", nullptr}}}});
  CHECK(runpod->list().error().kind == Kind::kBadResponse);
  mock.fault({{"op", "offers"}, {"truncate", true}});
  CHECK(runpod->list_offers({}).error().kind == Kind::kBadResponse);
  mock.fault({{"op", "offers"}, {"status", 200}, {"body", {{"gpus", {{{"name", "x"}}}}}}});
  CHECK(runpod->list_offers({}).error().kind == Kind::kBadResponse);
  mock.fault({{"op", "get"}, {"hang", true}, {"hang_seconds", 4}});
  CHECK(runpod->get("abc").error().kind == Kind::kTransient);
  mock.fault({{"op", "terminate"}, {"status", 409}, {"body", problem(409, "pod is in a cluster")}});
  CHECK(runpod->terminate("abc").error().kind == Kind::kInvalidRequest);
}

TEST_CASE("runpod: launch and terminate hooks get the pod as JSON", "[runpod][adapter]") {
  char tmpl[] = "/tmp/berth-hook-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  std::string dir = tmpl;
  std::string launched = dir + "/launched.json", terminated = dir + "/terminated.json";
  {
    // tee writes its stdin to the file: the hook runs without a shell.
    RunpodTest hooked(
        {.mock_args = {"--ssh-host", "127.0.0.31:2201", "--on-launch-cmd", "tee " + launched,
                       "--on-terminate-cmd", "tee " + terminated}});
    auto& runpod = hooked.runpod;
    auto offers = runpod->list_offers({});
    REQUIRE(offers);
    LaunchTemplate w = workload();
    auto pod = runpod->launch(
        request_for(*find_offer(*offers, "NVIDIA GeForce RTX 4090/secure/US-KS-2/x1"), w,
                    "berth-chat-0-abc123"));
    REQUIRE(pod);
    REQUIRE(runpod->terminate(pod->id));

    std::ifstream l(launched), t(terminated);
    json on_launch = json::parse(l), on_terminate = json::parse(t);
    CHECK(on_launch["id"] == pod->id);
    CHECK(on_launch["ssh_host"] == "127.0.0.31");
    CHECK(on_launch["ssh_port"] == 2201);
    CHECK(on_launch["request"]["image"] == "vllm/vllm-openai:v0.6.3");
    CHECK(on_launch["request"]["env"]["PUBLIC_KEY"].get<std::string>().rfind("ssh-ed25519", 0) ==
          0);
    CHECK(on_terminate["id"] == pod->id);
    CHECK(on_terminate["name"] == "berth-chat-0-abc123");
  }
  std::filesystem::remove_all(dir);
}

// The mock asks --container-status-cmd whether a pod's container still runs,
// and an answer of "exited" sticks (the pod reads EXITED, as RunPod follows
// its container). A list that came while the launch hook was still making the
// container read the pod as exited for good, and an e2e redeploy then failed
// for no reason of berth's: a container not made yet is not asked about.
TEST_CASE("runpod mock: a pod whose container is still being made is not read as exited",
          "[runpod][adapter]") {
  char tmpl[] = "/tmp/berth-hook-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  const std::string made = std::string(tmpl) + "/made";
  {
    RunpodTest hooked(
        {.mock_args = {"--ssh-host", "127.0.0.31:2201", "--on-launch-cmd",
                       "sh -c 'cat >/dev/null; sleep 1; touch " + made + "'",
                       "--container-status-cmd",
                       "sh -c 'cat >/dev/null; if [ -e " + made +
                           " ]; then echo running; else echo exited; fi'"}});
    auto offers = hooked.runpod->list_offers({});
    REQUIRE(offers);
    auto lister = hooked.adapter_with({});
    std::atomic<bool> launched{false};
    Expected<Instance, ProviderError> pod = unexpected(ProviderError{});
    std::thread launch([&] {
      pod = hooked.runpod->launch(request_for(
          *find_offer(*offers, "NVIDIA GeForce RTX 4090/secure/US-KS-2/x1"), workload(),
          "berth-chat-0-abc123"));
      launched = true;
    });
    int lists = 0;
    while (!launched) {  // lists while the hook is making the container
      REQUIRE(lister->list());
      ++lists;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    launch.join();
    REQUIRE(pod);
    CHECK(lists > 1);
    auto got = hooked.runpod->get(pod->id);
    REQUIRE(got);
    CHECK(got->state == InstanceState::kRunning);
    REQUIRE(hooked.runpod->terminate(pod->id));
  }
  std::filesystem::remove_all(tmpl);
}

TEST_CASE_METHOD(RunpodTest, "runpod: a pod's log through the SSE endpoint, the stream ended "
                             "when it goes quiet", "[runpod][adapter][logs]") {
  auto offers = runpod->list_offers({});
  REQUIRE(offers);
  auto inst = runpod->launch(request_for(offers->front(), workload(), "berth-chat-0-abc123"));
  REQUIRE(inst);
  mock.set_logs(inst->id, {{"text", "starting\nCUDA out of memory\n\x1b[31mred\x1b[0m\n"}});
  auto started = std::chrono::steady_clock::now();
  auto lines = runpod->logs(inst->id, 2);
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(lines);
  CHECK(*lines == std::vector<std::string>{"CUDA out of memory", "\x1b[31mred\x1b[0m"});
  // The mock holds the stream open (keep-alive comments) for 30 s.
  CHECK(took < std::chrono::seconds(10));
  json sent;
  for (const auto& r : mock.requests())
    if (r["path"].get<std::string>().find("/logs") != std::string::npos) sent = r;
  CHECK(sent["method"] == "GET");
  CHECK(sent["query"]["tail"] == "2");
  CHECK(sent["query"]["source"] == "container");
  CHECK(mock.violations() == json::array());
  // More than the API's maximum is never asked for.
  REQUIRE(runpod->logs(inst->id, 100000));
  CHECK(mock.violations() == json::array());

  // A hostile stream: malformed events, a huge line, control characters.
  mock.set_logs(inst->id, {{"raw", "data: {\"line\": \"ok\", \"source\": \"container\"}\n\n"
                                   "data: {broken\n\n:\n\ndata: {\"line\": \"" +
                                       std::string(5'000'000, 'Z') + "\"}\n\n"}});
  auto hostile = runpod->logs(inst->id, 50);
  REQUIRE(hostile);
  for (const auto& l : *hostile) CHECK(l.size() <= kMaxLogLineBytes + 64);

  auto gone = runpod->logs("nosuchpod", 10);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().kind == Kind::kNotFound);
}

TEST_CASE_METHOD(RunpodTest, "runpod: network volumes are made in the offer's data center and "
                             "mounted by id", "[runpod][adapter][volumes]") {
  REQUIRE(runpod->capabilities().volumes);
  auto offers = runpod->list_offers({});
  REQUIRE(offers);
  const Offer* kansas = find_offer(*offers, "NVIDIA GeForce RTX 4090/secure/US-KS-2/x1");
  const Offer* romania = find_offer(*offers, "NVIDIA GeForce RTX 4090/community/EU-RO-1/x1");
  REQUIRE(kansas);
  REQUIRE(romania);

  auto made = runpod->create_volume("berth-chat-models", 99.5, *kansas);
  REQUIRE(made);
  CHECK(made->region == "US-KS-2");
  CHECK(made->size_gb == std::optional<double>(100));  // whole GB, rounded up
  json sent;
  for (const auto& r : mock.requests())
    if (r["path"] == "/v2/network-volumes" && r["method"] == "POST") sent = r["body"];
  CHECK(sent == json{{"name", "berth-chat-models"}, {"size", 100}, {"dataCenter", "US-KS-2"}});

  LaunchTemplate t = workload();
  t.volumes = {Volume{Volume::Kind::kNamed, "models", "", "/models", false, 100'000'000'000ull}};
  WorkloadSpec spec = resolve_workload(t);
  LaunchRequest req = request_for(*kansas, spec, "berth-chat-0-abc123");
  req.volumes = {{"models", made->id, "/models", ""}};
  auto pod = runpod->launch(req);
  REQUIRE(pod);
  json body;
  for (const auto& r : mock.requests())
    if (r["path"] == "/v2/pods" && r["method"] == "POST") body = r["body"];
  CHECK(body["mounts"] ==
        json{{"network", json::array({{{"volumeId", made->id}, {"path", "/models"}}})}});
  // A pod elsewhere cannot mount it: RunPod refuses.
  LaunchRequest away = request_for(*romania, spec, "berth-chat-1-abc123");
  away.volumes = req.volumes;
  REQUIRE_FALSE(runpod->launch(away));

  auto listed = runpod->list_volumes();
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().name == "berth-chat-models");
  REQUIRE_FALSE(runpod->delete_volume(made->id));  // in use by the pod
  REQUIRE(runpod->terminate(pod->id));
  REQUIRE(runpod->delete_volume(made->id));
  REQUIRE(runpod->delete_volume(made->id));  // gone already: success
  CHECK(runpod->list_volumes()->empty());
  // An out-of-range size is the vendor's 422, recorded as a violation.
  REQUIRE_FALSE(runpod->create_volume("berth-chat-huge", 5000, *kansas));
  CHECK(mock.violations().size() == 1);
}

TEST_CASE_METHOD(RunpodTest, "runpod: shm_size and ipc: host are refused, saying why",
                 "[runpod][adapter]") {
  const FeatureSet h = runpod->capabilities().honours;
  CHECK_FALSE(h & feature_bit(WorkloadFeature::kShmSize));
  CHECK_FALSE(h & feature_bit(WorkloadFeature::kIpcHost));
  CHECK(std::string(describe(WorkloadFeature::kShmSize)) ==
        "set the container's shared memory size (shm_size)");
}
