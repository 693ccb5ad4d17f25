// The Vast.ai adapter against the Vast mock over real HTTP.
#include <algorithm>
#include <catch2/catch.hpp>

#include "berth/placement/placement.h"
#include "berth/provider/provider.h"
#include "providers/vastai/vastai_offers.h"
#include "providers/vastai/vastai_provider.h"
#include "support/adapter_fixture.h"

using namespace berth;
using namespace berth::testing;
using Kind = ProviderError::Kind;
using nlohmann::json;

namespace {

LaunchTemplate workload() {
  LaunchTemplate t;
  t.name = "chat";
  t.image = {"registry.example.com:5000/team/app:1", false};
  t.command = ContainerCommand{false, {{"serve", false}, {"--name=$(reboot); rm -rf /", false}}};
  t.env = {{"MODEL", {"Qwen/Qwen2.5 7B", false}},
           {"TOKEN", {"a=b -e EVIL=1 'q' \"dq\" $(reboot)", true}}};
  t.ports = {PortMapping{8000, std::nullopt, "tcp"}};
  t.resources.disk.min = 64'000'000'000ull;
  return t;
}

// The launch the core makes: the template resolved, and the image's own
// process read from its registry (Vast's SSH runtype runs only onstart).
WorkloadSpec container() {
  WorkloadSpec s = resolve_workload(workload());
  s.image_process = ImageProcess{{"/usr/bin/entry"}, {"default-arg"}, "/app"};
  return s;
}

json last_request(MockServer& mock, const std::string& path) {
  json found;
  for (const auto& r : mock.requests())
    if (r["path"] == path) found = r;
  return found;
}

// The Vast mock and the adapter under test.
struct VastTest : AdapterFixture {
  explicit VastTest(AdapterOptions options = {}) : AdapterFixture("vastai", std::move(options)) {}
  std::unique_ptr<Provider>& vast = adapter;
};

// Unverified hosts too, and at most 50 offers a query.
struct UnverifiedVast : VastTest {
  UnverifiedVast() : VastTest({.settings = {{"verified_only", false}, {"limit", 50}}}) {}
};

// Instances provision and boot in 0.2 s each, on two SSH hosts.
struct BootingVast : VastTest {
  BootingVast()
      : VastTest({.mock_args = {"--provision-seconds", "0.2", "--boot-seconds", "0.2", "--ssh-host",
                                "127.0.0.41:2241", "--ssh-host", "127.0.0.42:2242"}}) {}
};

// A client that gives up on a hung answer after 1.5 s.
struct ImpatientVast : VastTest {
  ImpatientVast() : VastTest({.total_timeout_ms = 1500}) {}
};

// Offer searches at most one a minute, answered by Vast's plain-text 429.
struct SearchLimitedVast : VastTest {
  SearchLimitedVast() : VastTest({.mock_args = {"--min-interval", "offers=60"}}) {}
};

}  // namespace

TEST_CASE_METHOD(VastTest, "vastai: offers with unit conversion and a server-side query",
                 "[vastai][adapter]") {
  auto offers = vast->list_offers({});
  REQUIRE(offers);
  // Verified, rentable, not rented: 1005 is unverified and 1007 is rented.
  CHECK(offers->size() == 5);
  CHECK_FALSE(find_offer(*offers, "1005"));
  CHECK_FALSE(find_offer(*offers, "1007"));
  // Ordered by dph_total, server-side.
  CHECK((*offers)[0].id == "1001");

  const Offer* o = find_offer(*offers, "1001");
  REQUIRE(o);
  CHECK(o->gpu.model == "RTX4090");
  CHECK(o->gpu.count == 1);
  CHECK(o->gpu.vram_gb == Approx(24));
  CHECK(*o->gpu.compute_capability == Approx(8.9));
  CHECK(o->vcpus == 8);
  CHECK(*o->memory_gb == Approx(128.0 * 8 / 32));  // machine RAM, our share of the cores
  CHECK(*o->disk_gb == Approx(150.5));
  CHECK(o->price_per_hour == Approx(0.35));
  CHECK(*o->cuda == Approx(12.4));
  CHECK(o->region == "us-texas");
  CHECK(o->available == 1);
  CHECK(o->launch_data["ask_id"] == "1001");

  // Numbers sent as strings.
  const Offer* s = find_offer(*offers, "1002");
  REQUIRE(s);
  CHECK(s->price_per_hour == Approx(0.71));
  CHECK(s->vcpus == 32);
  CHECK(s->region == "ca-quebec");

  const Offer* h100 = find_offer(*offers, "1003");
  REQUIRE(h100);
  CHECK(h100->gpu.model == "H100");
  CHECK(h100->gpu.vram_gb == Approx(80));  // 81559 MB reported, nominal 80
  CHECK(h100->gpu.count == 8);
  CHECK(find_offer(*offers, "1004")->region == "sweden");
  CHECK(find_offer(*offers, "1004")->gpu.model == "A100-80GB");

  const Offer* zz = find_offer(*offers, "1006");
  REQUIRE(zz);
  CHECK(zz->gpu.model == "unknown:ZZ 9000");
  CHECK(zz->gpu.vram_gb == Approx(49.1));
  CHECK(*zz->gpu.compute_capability == Approx(9.5));

  json q = last_request(mock, "/api/v0/bundles/")["body"];
  CHECK(q["verified"] == json({{"eq", true}}));
  CHECK(q["rentable"] == json({{"eq", true}}));
  CHECK(q["rented"] == json({{"eq", false}}));
  CHECK(q["type"] == "on-demand");
  CHECK(q["order"] == json::array({json::array({"dph_total", "asc"})}));
  CHECK(q["limit"] == 2000);  // the default limit (docs/config.md)

  // Escaped strings decode; nested values and unknown fields are skipped.
  mock.set_catalog({{"offers",
                     {{{"id", "77"},
                       {"gpu_name", "ZZ \"9000\" \u00e9"},
                       {"num_gpus", 1},
                       {"dph_total", 0.5},
                       {"search", {{"nested", {1, 2, {{"x", nullptr}}}}}},
                       {"geolocation", nullptr},
                       {"verified", true},
                       {"rentable", true},
                       {"rented", false},
                       {"direct_port_count", 4}}}}});
  auto escaped = vast->list_offers({});
  REQUIRE(escaped);
  REQUIRE(escaped->size() == 1);
  CHECK((*escaped)[0].gpu.model == "unknown:ZZ \"9000\" \u00e9");
  CHECK((*escaped)[0].region == "unknown");
}

TEST_CASE_METHOD(UnverifiedVast, "vastai: the template's constraints become operator objects",
                 "[vastai][adapter]") {
  OfferQuery query;
  query.gpu_count = Range<int>{1, 2};
  query.min_vram_gb = 24;
  query.models = {"RTX4090", "RTX3090"};
  query.max_price = 0.5;
  query.min_cuda = 12.2;
  auto offers = vast->list_offers(query);
  REQUIRE(offers);
  json q = last_request(mock, "/api/v0/bundles/")["body"];
  CHECK(q["num_gpus"] == json({{"gte", 1}, {"lte", 2}}));
  CHECK(q["gpu_ram"]["gte"].get<double>() == Approx(22320));
  CHECK(q["dph_total"] == json({{"lte", 0.5}}));
  CHECK(q["cuda_max_good"] == json({{"gte", 12.2}}));
  CHECK(q["limit"] == 50);
  CHECK_FALSE(q.contains("verified"));
  auto names = q["gpu_name"]["in"];
  CHECK(std::find(names.begin(), names.end(), "RTX 4090") != names.end());
  CHECK(std::find(names.begin(), names.end(), "RTX 3090") != names.end());
  // Filtered on the server: the unverified 3090 (0.18) and the 4090 (0.35).
  REQUIRE(offers->size() == 2);
  CHECK((*offers)[0].id == "1005");
  CHECK((*offers)[1].id == "1001");

  // A model the adapter cannot spell the Vast way is left to the core.
  query.models = {"RTX4090", "NoSuchGpu"};
  REQUIRE(vast->list_offers(query));
  CHECK_FALSE(last_request(mock, "/api/v0/bundles/")["body"].contains("gpu_name"));
  // Marketplace quality floors go to the server too; offers carry the figures.
  OfferQuery quality;
  quality.min_reliability = 0.99;
  quality.min_inet_mbps = 850;
  auto rated = vast->list_offers(quality);
  REQUIRE(rated);
  json rq = last_request(mock, "/api/v0/bundles/")["body"];
  CHECK(rq["reliability"] == json({{"gte", 0.99}}));
  CHECK(rq["inet_down"] == json({{"gte", 850.0}}));
  CHECK(mock.violations() == json::array());
  REQUIRE_FALSE(rated->empty());
  CHECK(rated->front().reliability == Approx(0.993));
  CHECK(rated->front().inet_down_mbps == Approx(900.7));
  quality.min_inet_mbps = 1000;  // every mock host has 900.7 down
  auto none = vast->list_offers(quality);
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE_METHOD(BootingVast, "vastai: rent, poll to running, list, destroy", "[vastai][adapter]") {
  auto offers = vast->list_offers({});
  REQUIRE(offers);
  LaunchTemplate t = workload();
  t.registry_auth = RegistryAuth{{"robot", false}, {"s3cret-pass", true}};
  // The core read the image's own process from its registry (Vast's SSH
  // runtype runs only onstart).
  WorkloadSpec w = resolve_workload(t);
  w.image_process = ImageProcess{{"/usr/bin/entry"}, {"default-arg"}, "/app"};

  auto inst = vast->launch(request_for(*find_offer(*offers, "1001"), w, "berth-chat-0-abc123"));
  REQUIRE(inst);
  CHECK(inst->id == "9000001");
  CHECK(inst->state == InstanceState::kProvisioning);

  json key = last_request(mock, "/api/v0/ssh/")["body"];
  CHECK(key["ssh_key"] == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBerthTestKey berth@test");
  json rent = last_request(mock, "/api/v0/asks/1001/")["body"];
  CHECK(rent["image"] == "registry.example.com:5000/team/app:1");
  CHECK(rent["label"] == "berth-chat-0-abc123");
  CHECK(rent["runtype"] == "ssh_direct");
  CHECK(rent["disk"] == 64);
  CHECK(rent["image_login"] == "-u robot -p s3cret-pass registry.example.com:5000");
  // env as Vast's object form: values exactly as written, never re-split.
  CHECK(rent["env"]["TOKEN"] == "a=b -e EVIL=1 'q' \"dq\" $(reboot)");
  CHECK(rent["env"]["MODEL"] == "Qwen/Qwen2.5 7B");
  CHECK(rent["env"]["-p 8000:8000"] == "1");
  CHECK_FALSE(rent["env"].contains("EVIL"));
  // onstart starts what docker would run: the image's entrypoint with the
  // template's command in place of its CMD, in its working directory; run by
  // sh in the instance, so every argument is quoted.
  CHECK(rent["onstart"] ==
        "mkdir -p /var/log; cd '/app' || exit 1; (exec '/usr/bin/entry' 'serve' "
        "'--name=$(reboot); rm -rf /') </dev/null 2>&1 | (tee /var/log/berth-workload.log "
        ">/proc/1/fd/1 2>/dev/null || cat >>/var/log/berth-workload.log) &");
  CHECK(mock.violations().empty());

  // A second launch finds the registered key and does not add it again.
  auto second = vast->launch(request_for(*find_offer(*offers, "1002"), w, "berth-chat-1-abc123"));
  REQUIRE(second);
  int key_posts = 0;
  for (const auto& r : mock.requests())
    if (r["method"] == "POST" && r["path"] == "/api/v0/ssh/") ++key_posts;
  CHECK(key_posts == 1);
  // When the listing fails, adding is still tried, and "already exists" is fine.
  mock.fault({{"op", "ssh-keys"}, {"status", 500}, {"body", ""}});
  REQUIRE(vast->launch(request_for(*find_offer(*offers, "1003"), w, "berth-chat-2-abc123")));

  mock.set_state(inst->id, "running");
  auto running = vast->get(inst->id);
  REQUIRE(running);
  CHECK(running->state == InstanceState::kRunning);
  // When the provider made it, for status's age and cost: just now.
  REQUIRE(running->created);
  CHECK(std::chrono::abs(std::chrono::system_clock::now() - *running->created) <
        std::chrono::minutes(10));
  CHECK(running->host == "127.0.0.41");  // trailing newline trimmed
  CHECK(running->ssh_port == 2241);      // from the string HostPort
  CHECK(running->ssh_user == "root");
  CHECK(running->public_ports.at(8000) == 8000);
  CHECK(running->name == "berth-chat-0-abc123");

  const std::pair<const char*, InstanceState> cases[] = {
      {"loading", InstanceState::kBooting},
      {"exited", InstanceState::kExited},
      {"offline", InstanceState::kFailed},
  };
  for (const auto& [word, state] : cases) {
    mock.set_state(inst->id, word);
    auto got = vast->get(inst->id);
    REQUIRE(got);
    CHECK(got->state == state);
  }
  mock.set_state(inst->id, nullptr);

  auto listed = vast->list();
  REQUIRE(listed);
  CHECK(listed->size() == 3);

  REQUIRE(vast->terminate(inst->id));
  REQUIRE(vast->terminate(inst->id));  // 404 not_found: already gone
  CHECK(vast->get(inst->id).error().kind == Kind::kNotFound);
  REQUIRE(vast->terminate(second->id));
  auto remaining = vast->list();  // held: a range-for over .value() of a temporary dangles
  REQUIRE(remaining);
  for (const auto& i : *remaining) REQUIRE(vast->terminate(i.id));
  auto all = mock.instances();
  for (const auto& i : all) CHECK(i["terminated"] == true);
}

TEST_CASE_METHOD(VastTest, "vastai: listing follows pages and keeps only berth's labels",
                 "[vastai][adapter]") {
  // 51 offers to rent, so the listing spans three pages of 25.
  json catalog = {{"offers", json::array()}};
  for (int i = 0; i < 51; ++i)
    catalog["offers"].push_back({{"id", 5000 + i},
                                 {"gpu_name", "RTX 4090"},
                                 {"num_gpus", 1},
                                 {"gpu_ram", 24564},
                                 {"dph_total", 0.4},
                                 {"rentable", true},
                                 {"rented", false},
                                 {"verified", true},
                                 {"direct_port_count", 10},
                                 {"geolocation", "Texas, US"}});
  mock.set_catalog(catalog);
  auto offers = vast->list_offers({});
  REQUIRE(offers);
  REQUIRE(offers->size() == 51);
  WorkloadSpec w = container();
  for (int i = 0; i < 51; ++i) {
    std::string name =
        i % 3 == 0 ? "other-" + std::to_string(i) : "berth-chat-" + std::to_string(i) + "-abc123";
    REQUIRE(vast->launch(request_for((*offers)[i], w, name)));
  }
  auto listed = vast->list();
  REQUIRE(listed);
  CHECK(listed->size() == 34);
  int pages = 0;
  for (const auto& r : mock.requests())
    if (r["path"] == "/api/v1/instances/") ++pages;  // with the slash: no redirect
  CHECK(pages == 3);
}

TEST_CASE_METHOD(ImpatientVast,
                 "vastai: errors map to typed errors, shapes are never 'no instances'",
                 "[vastai][adapter]") {
  auto offers = vast->list_offers({});
  REQUIRE(offers);
  WorkloadSpec w = container();

  // The mock's own answers: an ask that never existed (404 invalid_args with
  // no_such_ask in msg) and one rented meanwhile (410 no_such_ask).
  Offer missing = *find_offer(*offers, "1001");
  missing.launch_data["ask_id"] = "424242";
  CHECK(vast->launch(request_for(missing, w, "berth-chat-0-abc123")).error().kind ==
        Kind::kNoCapacity);
  REQUIRE(vast->launch(request_for(*find_offer(*offers, "1001"), w, "berth-chat-0-abc123")));
  auto taken = vast->launch(request_for(*find_offer(*offers, "1001"), w, "berth-chat-1-abc123"));
  REQUIRE_FALSE(taken);
  CHECK(taken.error().kind == Kind::kNoCapacity);

  // 429 as plain text without Retry-After.
  mock.fault({{"op", "offers"},
              {"status", 429},
              {"body", "API requests too frequent endpoint threshold=4.5"},
              {"content_type", "text/plain"}});
  auto limited = vast->list_offers({});
  REQUIRE_FALSE(limited);
  CHECK(limited.error().kind == Kind::kRateLimited);
  CHECK_FALSE(limited.error().retry_after);
  CHECK(limited.error().message.find("too frequent") != std::string::npos);

  mock.fault({{"op", "offers"}, {"status", 500}, {"body", ""}});
  CHECK(vast->list_offers({}).error().kind == Kind::kTransient);
  mock.fault({{"op", "offers"}, {"truncate", true}});
  CHECK(vast->list_offers({}).error().kind == Kind::kBadResponse);
  mock.fault({{"op", "offers"}, {"status", 200}, {"body", {{"bundles", json::array()}}}});
  CHECK(vast->list_offers({}).error().kind == Kind::kBadResponse);
  mock.fault({{"op", "offers"}, {"status", 200}, {"body", {{"offers", {{{"id", 1}}}}}}});
  CHECK(vast->list_offers({}).error().kind == Kind::kBadResponse);
  mock.fault({{"op", "offers"}, {"hang", true}, {"hang_seconds", 4}});
  CHECK(vast->list_offers({}).error().kind == Kind::kTransient);
  mock.fault({{"op", "offers"}, {"status", 200}, {"body", "{\"offers\": [{\"id\": 1,}]}"}});
  CHECK(vast->list_offers({}).error().kind == Kind::kBadResponse);
  mock.fault({{"op", "offers"}, {"status", 200}, {"body", "{\"offers\": []} trailing"}});
  CHECK(vast->list_offers({}).error().kind == Kind::kBadResponse);
  mock.fault({{"op", "offers"}, {"status", 200}, {"body", {{"offers", nullptr}}}});
  CHECK(vast->list_offers({}).error().kind == Kind::kBadResponse);
  mock.fault(
      {{"op", "offers"},
       {"status", 200},
       {"body",
        {{"offers",
          {{{"id", 7}, {"gpu_name", "RTX 4090"}, {"num_gpus", 1}, {"dph_total", "cheap"}}}}}}});
  CHECK(vast->list_offers({}).error().kind == Kind::kBadResponse);

  // An API change that hides instances is an error, not an empty list.
  mock.fault(
      {{"op", "list"}, {"status", 200}, {"body", {{"success", true}, {"results", json::array()}}}});
  CHECK(vast->list().error().kind == Kind::kBadResponse);
  mock.fault({{"op", "get"}, {"status", 200}, {"body", {{"instances", json::array()}}}});
  CHECK(vast->get("9000001").error().kind == Kind::kBadResponse);

  mock.fault({{"op", "launch"},
              {"status", 400},
              {"body", {{"success", false}, {"error", "invalid_price"}, {"msg", "bad price"}}}});
  CHECK(vast->launch(request_for(*find_offer(*offers, "1002"), w, "berth-chat-2-abc123"))
            .error()
            .kind == Kind::kInvalidRequest);
  mock.fault({{"op", "terminate"},
              {"status", 404},
              {"body", {{"success", false}, {"error", "no_such_instance"}, {"msg", "gone"}}}});
  CHECK(vast->terminate("9000001"));

  auto wrong = adapter_with(json::object(), "nope");
  CHECK(wrong->list_offers({}).error().kind == Kind::kAuth);
  CHECK(wrong->check_credentials().error().kind == Kind::kAuth);
  CHECK(vast->check_credentials());

  // Registry credentials with whitespace cannot be expressed in image_login.
  w.registry = RegistryLogin{"docker.io", "robot", "two words"};
  auto before = mock.requests().size();
  CHECK(vast->launch(request_for(*find_offer(*offers, "1002"), w, "berth-chat-3-abc123"))
            .error()
            .kind == Kind::kInvalidRequest);
  CHECK(mock.requests().size() == before);  // refused before anything was sent
}

TEST_CASE_METHOD(SearchLimitedVast,
                 "vastai: a per-endpoint minimum interval answers plain-text 429s",
                 "[vastai][adapter]") {
  REQUIRE(vast->list_offers({}));
  auto again = vast->list_offers({});
  REQUIRE_FALSE(again);
  CHECK(again.error().kind == Kind::kRateLimited);
  CHECK_FALSE(again.error().retry_after);
}

TEST_CASE_METHOD(VastTest, "vastai: a refused rental names the instance it made anyway; "
                           "a container that cannot be created is a failure",
                 "[vastai][adapter]") {
  auto offers = vast->list_offers({});
  REQUIRE(offers);
  mock.fault({{"op", "launch"}, {"create_anyway", true}, {"status", 400}});
  auto refused = vast->launch(request_for(*find_offer(*offers, "1001"), container(),
                                          "berth-chat-0-abc123"));
  REQUIRE_FALSE(refused);
  REQUIRE_FALSE(refused.error().created_instance.empty());
  // It exists and bills until someone destroys it (the core does).
  auto made = vast->get(refused.error().created_instance);
  REQUIRE(made);
  REQUIRE(vast->terminate(refused.error().created_instance));

  auto inst = vast->launch(request_for(*find_offer(*offers, "1002"), container(),
                                       "berth-chat-1-abc123"));
  REQUIRE(inst);
  mock.set_state(inst->id, "created",
                 "Error response from daemon: OCI runtime create failed: unable to start "
                 "container process");
  auto got = vast->get(inst->id);
  REQUIRE(got);
  CHECK(got->state == InstanceState::kFailed);
  CHECK(got->progress.find("OCI runtime create failed") != std::string::npos);
  CHECK(mock.violations() == json::array());
}

TEST_CASE("vastai: an answer with more offers than the search asked for is refused", "[vastai]") {
  // Each offer kept costs ~10 times its text: the count is what bounds it.
  auto answer = [](int n) {
    std::string body = "{\"offers\": [";
    for (int i = 0; i < n; ++i)
      body += std::string(i ? "," : "") + "{\"id\": " + std::to_string(i) +
              ", \"gpu_name\": \"RTX 4090\", \"num_gpus\": 1, \"dph_total\": 0.5}";
    return body + "]}";
  };
  auto fits = vastai::parse_offers(answer(3), "vast", 3);
  REQUIRE(fits);
  CHECK(fits->size() == 3);
  auto over = vastai::parse_offers(answer(4), "vast", 3);
  REQUIRE_FALSE(over);
  CHECK(over.error().find("more than the 3 offers asked for") != std::string::npos);
  CHECK_FALSE(vastai::parse_offers(answer(vastai::kMaxOffers + 1), "vast"));
}

TEST_CASE("vastai: an offer whose numbers are out of any range is refused, not converted",
          "[vastai]") {
  // Found by fuzz/fuzz_vast_offers.cpp: "id": 2e44 converted to long long.
  for (std::string offer :
       {R"({"id": 2e44, "gpu_name": "RTX 4090", "num_gpus": 1, "dph_total": 0.5})",
        R"({"id": 1, "gpu_name": "RTX 4090", "num_gpus": 1e300, "dph_total": 0.5})",
        R"({"id": 1, "gpu_name": "RTX 4090", "num_gpus": "-5e20", "dph_total": 0.5})",
        R"({"id": 1, "gpu_name": "RTX 4090", "num_gpus": 1, "cpu_cores": 1e12, "dph_total": 1})"}) {
    INFO(offer);
    auto r = vastai::parse_offers("{\"offers\": [" + offer + "]}", "vast");
    REQUIRE_FALSE(r);
    CHECK((r.error().find("out of range") != std::string::npos ||
           r.error().find("should be an integer") != std::string::npos));
  }
}

// The log is uploaded a moment after it is asked for.
struct SlowLogVast : VastTest {
  SlowLogVast() : VastTest({.mock_args = {"--log-upload-seconds", "0.7"}}) {}
};

TEST_CASE_METHOD(SlowLogVast, "vastai: a log is requested, then fetched from the URL named",
                 "[vastai][adapter][logs]") {
  auto offers = vast->list_offers({});
  REQUIRE(offers);
  auto inst = vast->launch(request_for(*find_offer(*offers, "1001"), container(),
                                       "berth-chat-0-abc123"));
  REQUIRE(inst);
  mock.set_logs(inst->id, {{"text", "one\ntwo\nCUDA out of memory\n"}});
  auto lines = vast->logs(inst->id, 2);
  REQUIRE(lines);
  CHECK(*lines == std::vector<std::string>{"two", "CUDA out of memory"});
  json asked = last_request(mock, "/api/v0/instances/request_logs/" + inst->id);
  CHECK(asked["method"] == "PUT");
  CHECK(asked["body"] == json{{"tail", "2"}});
  CHECK(mock.violations() == json::array());
  // The URL is fetched without the API key.
  for (const auto& r : mock.requests())
    if (r["path"].get<std::string>().rfind("/instance_logs/", 0) == 0)
      CHECK(r["auth_scheme"] == "");

  // Hostile text: one huge line, escape sequences; bounded and kept as data.
  mock.set_logs(inst->id, {{"raw", std::string(6'000'000, 'x') + "\n\x1b[2Jlast\n"}});
  auto hostile = vast->logs(inst->id, 50);
  REQUIRE(hostile);
  REQUIRE_FALSE(hostile->empty());
  CHECK(hostile->back() == "\x1b[2Jlast");
  for (const auto& l : *hostile) CHECK(l.size() <= kMaxLogLineBytes + 64);

  auto unknown = vast->logs("424242", 10);
  REQUIRE_FALSE(unknown);
}

TEST_CASE("vastai: request_logs answers", "[vastai][logs]") {
  CHECK(vastai::log_request_body(50) == json{{"tail", "50"}});
  CHECK(vastai::log_url({{"success", true}, {"result_url", "https://s3.example/x.log"}}) ==
        "https://s3.example/x.log");
  CHECK_THROWS(vastai::log_url({{"success", true}}));
  CHECK_THROWS(vastai::log_url({{"result_url", "file:///etc/passwd"}}));
}

TEST_CASE_METHOD(VastTest, "vastai: spot searches interruptible asks at their minimum bid",
                 "[vastai][adapter][spot]") {
  auto bundle_searches = [&] {
    std::vector<json> out;
    for (const auto& r : mock.requests())
      if (r["path"] == "/api/v0/bundles/") out.push_back(r["body"]);
    return out;
  };
  SECTION("never: one on-demand search, as before") {
    auto offers = vast->list_offers({});
    REQUIRE(offers);
    auto searches = bundle_searches();
    REQUIRE(searches.size() == 1);
    CHECK(searches[0]["type"] == "on-demand");
    for (const auto& o : *offers) CHECK_FALSE(o.spot);
  }
  SECTION("only: one bid search; offers priced at the bid") {
    OfferQuery q;
    q.spot = SpotPolicy::kOnly;
    auto offers = vast->list_offers(q);
    REQUIRE(offers);
    auto searches = bundle_searches();
    REQUIRE(searches.size() == 1);
    CHECK(searches[0]["type"] == "bid");
    CHECK(offers->size() == 5);
    for (const auto& o : *offers) CHECK(o.spot);
    const Offer* o = find_offer(*offers, "1001-bid");
    REQUIRE(o);
    // min_bid 0.175, plus the ask's storage share (dph_total - dph_base).
    CHECK(o->launch_data["ask_id"] == "1001");
    CHECK(o->launch_data["bid"].get<double>() == Approx(0.175));
    CHECK(o->price_per_hour == Approx(0.175 + 0.35 - 0.3255));
    CHECK(o->price_per_hour >= o->launch_data["bid"].get<double>());
  }
  SECTION("only, with max_price: no bid above it") {
    OfferQuery q;
    q.spot = SpotPolicy::kOnly;
    q.max_price = 0.25;
    auto offers = vast->list_offers(q);
    REQUIRE(offers);
    REQUIRE(offers->size() == 1);
    CHECK((*offers)[0].id == "1001-bid");
  }
  SECTION("allow: both, the on-demand search unchanged") {
    OfferQuery q;
    q.spot = SpotPolicy::kAllow;
    auto offers = vast->list_offers(q);
    REQUIRE(offers);
    auto searches = bundle_searches();
    REQUIRE(searches.size() == 2);
    CHECK(searches[0]["type"] == "on-demand");
    CHECK(searches[1]["type"] == "bid");
    json same = searches[1];
    same["type"] = "on-demand";
    CHECK(same == searches[0]);
    CHECK(offers->size() == 10);
    REQUIRE(find_offer(*offers, "1001"));
    CHECK_FALSE(find_offer(*offers, "1001")->spot);
    REQUIRE(find_offer(*offers, "1001-bid"));
    CHECK(find_offer(*offers, "1001-bid")->spot);
  }
}

TEST_CASE_METHOD(BootingVast, "vastai: a spot launch bids; an outbid instance is preempted",
                 "[vastai][adapter][spot]") {
  OfferQuery q;
  q.spot = SpotPolicy::kAllow;
  auto offers = vast->list_offers(q);
  REQUIRE(offers);
  const Offer* bid = find_offer(*offers, "1004-bid");
  REQUIRE(bid);
  auto inst = vast->launch(request_for(*bid, container(), "berth-chat-0-abc123"));
  REQUIRE(inst);
  json put = last_request(mock, "/api/v0/asks/1004/")["body"];
  CHECK(put["price"].get<double>() == Approx(0.525));  // 1004's min_bid
  CHECK(mock.violations().empty());
  CHECK(inst->offer_id == "1004-bid");

  // The on-demand launch sends no price.
  auto demand = vast->launch(request_for(*find_offer(*offers, "1001"), container(),
                                         "berth-chat-1-abc123"));
  REQUIRE(demand);
  CHECK_FALSE(last_request(mock, "/api/v0/asks/1001/")["body"].contains("price"));

  // How Vast shows an outbid interruptible: its contract stopped while its
  // renter still wants it running.
  json outbid = {{"status", "exited"}, {"cur_state", "stopped"}, {"status_msg", "stopped"}};
  mock.set_state_fields(inst->id, outbid);
  auto got = vast->get(inst->id);
  REQUIRE(got);
  CHECK(got->state == InstanceState::kPreempted);
  CHECK(got->raw_state == "exited, outbid");
  auto listed = vast->list();
  REQUIRE(listed);
  for (const auto& i : *listed)
    if (i.id == inst->id) CHECK(i.state == InstanceState::kPreempted);

  // The same on an on-demand instance is not an interruption.
  mock.set_state_fields(demand->id, outbid);
  auto exited = vast->get(demand->id);
  REQUIRE(exited);
  CHECK(exited->state == InstanceState::kExited);
  // Nor is a bid instance its renter stopped.
  mock.set_state_fields(inst->id, {{"status", "exited"},
                                   {"cur_state", "stopped"},
                                   {"intended_status", "stopped"}});
  CHECK(vast->get(inst->id)->state == InstanceState::kStopping);

  REQUIRE(vast->terminate(inst->id));
  REQUIRE(vast->terminate(demand->id));
}

TEST_CASE_METHOD(VastTest, "vastai: a bid below the ask's minimum is refused as no capacity",
                 "[vastai][adapter][spot]") {
  OfferQuery q;
  q.spot = SpotPolicy::kOnly;
  auto offers = vast->list_offers(q);
  REQUIRE(offers);
  Offer low = *find_offer(*offers, "1001-bid");
  low.launch_data["bid"] = 0.1;  // the minimum rose to 0.175 since
  auto r = vast->launch(request_for(low, container(), "berth-chat-0-abc123"));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == Kind::kNoCapacity);
  CHECK(r.error().http_status == 400);
  CHECK(mock.violations().empty());  // a vendor refusal, not a malformed body
  CHECK(mock.instances().empty());
}

TEST_CASE_METHOD(VastTest, "vastai: a volume kept across redeploys is refused with the reason",
                 "[vastai][adapter][volumes]") {
  const Capabilities c = vast->capabilities();
  CHECK_FALSE(c.volumes);
  CHECK_FALSE(c.honours & feature_bit(WorkloadFeature::kProviderVolume));
  CHECK(c.honours & feature_bit(WorkloadFeature::kNamedVolume));  // on the instance's own disk

  LaunchTemplate w;
  w.name = "train";
  w.image = {"busybox", false};
  w.volumes = {Volume{Volume::Kind::kNamed, "ckpt", "", "/ckpt", false, 100'000'000'000ull}};
  auto offers = vast->list_offers({});
  REQUIRE(offers);
  REQUIRE_FALSE(offers->empty());
  Offer o = offers->front();
  o.honours = c.honours;  // as the core sets it when listing
  auto plan = solve_placement(w, {o});
  REQUIRE(plan.placement.empty());
  REQUIRE_FALSE(plan.rejections.empty());
  CHECK(plan.rejections[0].constraint == "workload");
  CHECK_THAT(plan.rejections[0].detail,
             Catch::Contains("cannot keep a volume across redeploys (volumes with size:)"));
}
