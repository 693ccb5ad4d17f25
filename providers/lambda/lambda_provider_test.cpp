// The Lambda adapter against the Lambda mock over real HTTP.
#include <algorithm>
#include <catch2/catch.hpp>

#include "berth/provider/provider.h"
#include "support/adapter_fixture.h"

using namespace berth;
using namespace berth::testing;
using Kind = ProviderError::Kind;
using nlohmann::json;

namespace {

// The Lambda mock and the adapter under test.
struct LambdaTest : AdapterFixture {
  explicit LambdaTest(AdapterOptions options = {}) : AdapterFixture("lambda", std::move(options)) {}
  std::unique_ptr<Provider>& lambda = adapter;
};

// Instances boot in 0.3 s and report an SSH host.
struct BootingLambda : LambdaTest {
  BootingLambda()
      : LambdaTest({.mock_args = {"--boot-seconds", "0.3", "--ssh-host", "127.0.0.21:22"}}) {}
};

// A client that gives up on a hung answer after 1.5 s.
struct ImpatientLambda : LambdaTest {
  ImpatientLambda() : LambdaTest({.total_timeout_ms = 1500}) {}
};

// A client that retries: three attempts within 5 s.
struct RetryingLambda : LambdaTest {
  RetryingLambda() : LambdaTest({.max_attempts = 3, .total_timeout_ms = 5000}) {}
};

// Launches at most one a minute, answered by Lambda's own 429.
struct LaunchLimitedLambda : LambdaTest {
  LaunchLimitedLambda() : LambdaTest({.mock_args = {"--min-interval", "launch=60"}}) {}
};

}  // namespace

TEST_CASE_METHOD(LambdaTest, "lambda: offers from the instance-type map, in USD and GB",
                 "[lambda][adapter]") {
  auto offers = lambda->list_offers({});
  REQUIRE(offers);
  // One offer per (type, region with capacity); the A100 type has none.
  CHECK(offers->size() == 6);
  CHECK(find_offer(*offers, "gpu_1x_a100_sxm4@us-east-1") == nullptr);

  const Offer* h100 = find_offer(*offers, "gpu_8x_h100_sxm5@us-south-1");
  REQUIRE(h100);
  CHECK(h100->provider == "my-lambda");
  CHECK(h100->region == "us-south-1");
  CHECK(h100->gpu.model == "H100");
  CHECK(h100->gpu.count == 8);
  CHECK(h100->gpu.vram_gb == Approx(80));
  CHECK(h100->price_per_hour == Approx(23.92));  // 2392 cents
  CHECK(h100->vcpus == 208);
  CHECK(*h100->memory_gb == Approx(1800 * 1.073741824));  // GiB -> GB
  CHECK(*h100->disk_gb == Approx(24780 * 1.073741824));
  CHECK_FALSE(h100->available.has_value());  // Lambda gives no counts
  CHECK(h100->launch_data["instance_type"] == "gpu_8x_h100_sxm5");

  CHECK(find_offer(*offers, "gpu_1x_a10@us-east-1"));
  CHECK(find_offer(*offers, "gpu_1x_a10@us-west-1"));

  // Unknown models are kept, marked, with the VRAM the description reports;
  // a string-typed price still converts.
  const Offer* zz = find_offer(*offers, "gpu_1x_zz9000@europe-central-1");
  REQUIRE(zz);
  CHECK(zz->gpu.model == "unknown:ZZ9000 (48 GB)");
  CHECK(zz->gpu.vram_gb == Approx(48));
  CHECK(zz->price_per_hour == Approx(2.50));

  // Bearer auth on the wire.
  auto reqs = mock.requests();
  CHECK(reqs.back()["auth_scheme"] == "Bearer");
}

TEST_CASE_METHOD(BootingLambda, "lambda: launch registers the key once, then get, list, terminate",
                 "[lambda][adapter]") {
  auto offers = lambda->list_offers({});
  REQUIRE(offers);
  const Offer* a10 = find_offer(*offers, "gpu_1x_a10@us-east-1");
  REQUIRE(a10);

  auto inst = lambda->launch(request_for(*a10, "berth-chat-0-abc123"));
  REQUIRE(inst);
  CHECK(inst->state == InstanceState::kProvisioning);
  CHECK(inst->ssh_user == "ubuntu");
  auto second = lambda->launch(request_for(*a10, "berth-chat-1-abc123"));
  REQUIRE(second);

  // The key was registered once and reused by name.
  int key_posts = 0;
  json launch_body;
  for (const auto& r : mock.requests()) {
    if (r["method"] == "POST" && r["path"] == "/api/v1/ssh-keys") ++key_posts;
    if (r["path"] == "/api/v1/instance-operations/launch") launch_body = r["body"];
  }
  CHECK(key_posts == 1);
  CHECK(launch_body["region_name"] == "us-east-1");
  CHECK(launch_body["instance_type_name"] == "gpu_1x_a10");
  CHECK(launch_body["name"] == "berth-chat-1-abc123");
  CHECK(launch_body["ssh_key_names"].size() == 1);
  CHECK(launch_body["tags"].size() == 2);

  // Booting until active with an IP: the mock moves on after 0.3 s.
  auto booting = lambda->get(inst->id);
  REQUIRE(booting);
  InstanceState seen = booting->state;
  CHECK((seen == InstanceState::kBooting || seen == InstanceState::kRunning));
  mock.set_state(inst->id, "active");
  auto running = lambda->get(inst->id);
  REQUIRE(running);
  CHECK(running->state == InstanceState::kRunning);
  CHECK(running->host == "127.0.0.21");
  CHECK(running->ssh_port == 22);
  CHECK(running->region == "us-east-1");
  CHECK(running->price_per_hour == Approx(0.75));
  CHECK(running->labels.at("berth-deployment") == "chat");

  auto listed = lambda->list();
  REQUIRE(listed);
  CHECK(listed->size() == 2);

  REQUIRE(lambda->terminate(inst->id));
  // Idempotent: already gone is success.
  REQUIRE(lambda->terminate(inst->id));
  REQUIRE(lambda->terminate("0000000000000000000000000000dead"));
  auto after = lambda->list();
  REQUIRE(after);
  CHECK(after->size() == 1);
  auto leaked = mock.instances();
  CHECK(std::count_if(leaked.begin(), leaked.end(),
                      [](const json& i) { return !i["terminated"].get<bool>(); }) == 1);
}

TEST_CASE_METHOD(LambdaTest, "lambda: list keeps only berth's instances", "[lambda][adapter]") {
  auto offers = lambda->list_offers({});
  REQUIRE(offers);
  const Offer* a10 = find_offer(*offers, "gpu_1x_a10@us-west-1");
  REQUIRE(a10);
  REQUIRE(lambda->launch(request_for(*a10, "berth-chat-0-abc123")));
  REQUIRE(lambda->launch(request_for(*a10, "someone-elses-box")));
  auto listed = lambda->list();
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].name == "berth-chat-0-abc123");
}

TEST_CASE_METHOD(LambdaTest, "lambda: states, including preemption", "[lambda][adapter]") {
  auto offers = lambda->list_offers({});
  REQUIRE(offers);
  auto inst = lambda->launch(
      request_for(*find_offer(*offers, "gpu_1x_a10@us-east-1"), "berth-chat-0-abc123"));
  REQUIRE(inst);
  const std::pair<const char*, InstanceState> cases[] = {
      // unhealthy: the core decides (booting until the deadline, lost once running).
      {"booting", InstanceState::kBooting},      {"unhealthy", InstanceState::kUnhealthy},
      {"terminating", InstanceState::kStopping}, {"terminated", InstanceState::kTerminated},
      {"preempted", InstanceState::kPreempted},
  };
  for (const auto& [word, state] : cases) {
    mock.set_state(inst->id, word);
    auto got = lambda->get(inst->id);
    REQUIRE(got);
    CHECK(got->raw_state == word);
    CHECK(got->state == state);
    // watch polls the list, which must say the same.
    auto listed = lambda->list();
    REQUIRE(listed);
    REQUIRE(listed->size() == 1);
    CHECK((*listed)[0].state == state);
  }
  // active without an ip yet is still booting.
  json no_ip = {{"data",
                 {{"id", inst->id},
                  {"status", "active"},
                  {"name", "berth-chat-0-abc123"},
                  {"region", {{"name", "us-east-1"}}},
                  {"ssh_key_names", json::array()},
                  {"file_system_names", json::array()},
                  {"actions", json::object()},
                  {"instance_type", {{"name", "gpu_1x_a10"}, {"price_cents_per_hour", 75}}}}}};
  mock.fault({{"op", "get"}, {"status", 200}, {"body", no_ip}});
  auto early = lambda->get(inst->id);
  REQUIRE(early);
  CHECK(early->state == InstanceState::kBooting);
  CHECK(lambda->get("no-such-instance").error().kind == Kind::kNotFound);
}

TEST_CASE_METHOD(LambdaTest, "lambda: error codes map to typed errors", "[lambda][adapter]") {
  auto offers = lambda->list_offers({});
  REQUIRE(offers);
  Offer a10 = *find_offer(*offers, "gpu_1x_a10@us-east-1");

  auto launch_error = [&](json fault) {
    fault["op"] = "launch";
    mock.fault(fault);
    auto r = lambda->launch(request_for(a10, "berth-chat-0-abc123"));
    REQUIRE_FALSE(r);
    return r.error();
  };
  auto envelope = [](const char* code) {
    return json{{"error", {{"code", code}, {"message", "m"}}}};
  };

  CHECK(launch_error({{"status", 400},
                      {"body", envelope("instance-operations/launch/insufficient-capacity")}})
            .kind == Kind::kNoCapacity);
  CHECK(launch_error({{"status", 400}, {"body", envelope("global/quota-exceeded")}}).kind ==
        Kind::kQuota);
  CHECK(launch_error({{"status", 403}, {"body", envelope("global/account-inactive")}}).kind ==
        Kind::kAuth);
  CHECK(launch_error({{"status", 400}, {"body", envelope("global/invalid-parameters")}}).kind ==
        Kind::kInvalidRequest);
  auto limited = launch_error({{"status", 429},
                               {"body", "Too Many Requests"},
                               {"content_type", "text/plain"},
                               {"headers", {{"Retry-After", "12"}}}});
  CHECK(limited.kind == Kind::kRateLimited);
  REQUIRE(limited.retry_after);
  CHECK(limited.retry_after->count() == 12000);
  CHECK(launch_error({{"status", 429}, {"body", ""}}).kind == Kind::kRateLimited);
  CHECK(launch_error(
            {{"status", 503}, {"body", "<html>bad gateway</html>"}, {"content_type", "text/html"}})
            .kind == Kind::kTransient);
  CHECK(launch_error({{"status", 500}, {"body", envelope("global/internal-error")}}).kind ==
        Kind::kTransient);
}

TEST_CASE_METHOD(ImpatientLambda, "lambda: bad keys, broken and hung answers",
                 "[lambda][adapter]") {
  auto wrong = adapter_with(json::object(), "not-the-key");
  auto denied = wrong->list_offers({});
  REQUIRE_FALSE(denied);
  CHECK(denied.error().kind == Kind::kAuth);
  CHECK(denied.error().message.find("not-the-key") == std::string::npos);
  CHECK(wrong->check_credentials().error().kind == Kind::kAuth);
  CHECK(lambda->check_credentials());

  mock.fault({{"op", "offers"}, {"truncate", true}});
  auto truncated = lambda->list_offers({});
  REQUIRE_FALSE(truncated);
  CHECK(truncated.error().kind == Kind::kBadResponse);

  mock.fault({{"op", "offers"}, {"status", 200}, {"body", "{\"data\": [1, 2"}});
  CHECK(lambda->list_offers({}).error().kind == Kind::kBadResponse);

  // The map turned into a list: an unexpected shape, not "no offers".
  mock.fault({{"op", "offers"}, {"status", 200}, {"body", {{"data", json::array()}}}});
  CHECK(lambda->list_offers({}).error().kind == Kind::kBadResponse);

  mock.fault({{"op", "list"}, {"status", 200}, {"body", {{"instances", json::array()}}}});
  CHECK(lambda->list().error().kind == Kind::kBadResponse);

  mock.fault({{"op", "offers"}, {"hang", true}, {"hang_seconds", 4}});
  CHECK(lambda->list_offers({}).error().kind == Kind::kTransient);

  mock.fault({{"op", "offers"}, {"cut", true}});
  auto cut = lambda->list_offers({});
  REQUIRE_FALSE(cut);
  CHECK((cut.error().kind == Kind::kTransient || cut.error().kind == Kind::kBadResponse));
}

TEST_CASE_METHOD(RetryingLambda, "lambda: the core's retries absorb one 500 and a slow answer",
                 "[lambda][adapter]") {
  mock.fault({{"op", "offers"},
              {"status", 500},
              {"body", {{"error", {{"code", "global/internal-error"}, {"message", "oops"}}}}}});
  mock.fault({{"op", "offers"}, {"delay", 0.2}});
  auto offers = lambda->list_offers({});
  REQUIRE(offers);
  CHECK(offers->size() == 6);
}

TEST_CASE_METHOD(LaunchLimitedLambda, "lambda: the launch rate limit is its own 429",
                 "[lambda][adapter]") {
  auto offers = lambda->list_offers({});
  REQUIRE(offers);
  const Offer* a10 = find_offer(*offers, "gpu_1x_a10@us-east-1");
  REQUIRE(a10);
  REQUIRE(lambda->launch(request_for(*a10, "berth-chat-0-abc123")));
  auto second = lambda->launch(request_for(*a10, "berth-chat-1-abc123"));
  REQUIRE_FALSE(second);
  CHECK(second.error().kind == Kind::kRateLimited);
  CHECK(lambda->list());  // other calls are not limited by it
}

TEST_CASE_METHOD(LambdaTest, "lambda: filesystems are made, found, attached in their region, "
                             "and deleted", "[lambda][adapter][volumes]") {
  REQUIRE(lambda->capabilities().volumes);
  auto offers = lambda->list_offers({});
  REQUIRE(offers);
  const Offer* a10 = find_offer(*offers, "gpu_1x_a10@us-east-1");
  REQUIRE(a10);
  const Offer* elsewhere = nullptr;
  for (const auto& o : *offers)
    if (o.region != a10->region) elsewhere = &o;
  REQUIRE(elsewhere);

  auto listed = lambda->list_volumes();
  REQUIRE(listed);
  CHECK(listed->empty());
  auto made = lambda->create_volume("berth-chat-models", 100, *a10);
  REQUIRE(made);
  CHECK(made->name == "berth-chat-models");
  CHECK(made->region == a10->region);
  CHECK(made->host_path == "/lambda/nfs/berth-chat-models");
  CHECK_FALSE(made->size_gb);  // Lambda's filesystems have no size
  // A name Lambda cannot take is refused before anything is sent.
  auto bad = lambda->create_volume("berth-chat-hf_cache", 100, *a10);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind == Kind::kInvalidRequest);
  CHECK_THAT(bad.error().message, Catch::Contains("letters, digits and '-'"));

  // Attached at its mount point in the launch body, in its region only.
  LaunchRequest req = request_for(*a10, "berth-chat-0-abc123");
  req.volumes = {{"models", made->id, "/models", made->host_path}};
  auto inst = lambda->launch(req);
  REQUIRE(inst);
  json body;
  for (const auto& r : mock.requests())
    if (r["path"] == "/api/v1/instance-operations/launch") body = r["body"];
  CHECK(body["file_system_mounts"] ==
        json::array({{{"mount_point", "/lambda/nfs/berth-chat-models"},
                      {"file_system_id", made->id}}}));
  LaunchRequest wrong = request_for(*elsewhere, "berth-chat-1-abc123");
  wrong.volumes = req.volumes;
  auto refused = lambda->launch(wrong);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == Kind::kInvalidRequest);

  listed = lambda->list_volumes();
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().id == made->id);
  CHECK(listed->front().in_use == std::optional<bool>(true));
  // In use: Lambda refuses, and says so.
  auto busy = lambda->delete_volume(made->id);
  REQUIRE_FALSE(busy);
  CHECK_THAT(busy.error().message, Catch::Contains("filesystem-in-use"));
  REQUIRE(lambda->terminate(inst->id));
  REQUIRE(lambda->delete_volume(made->id));
  REQUIRE(lambda->delete_volume(made->id));  // gone already: success
  CHECK(lambda->list_volumes()->empty());
  CHECK(mock.violations() == json::array());
}

TEST_CASE_METHOD(LambdaTest, "lambda: an HTML error page is summed up, a 404 says what answered",
                 "[lambda][adapter]") {
  const std::string page =
      "<!DOCTYPE html>\n<html><head><style>body{}</style>\n<title>503 Service\n  Temporarily "
      "Unavailable</title></head><body><h1>Service Temporarily Unavailable</h1><hr>"
      "<center>nginx</center></body></html>";
  mock.fault({{"op", "offers"}, {"status", 503}, {"body", page}, {"content_type", "text/html"},
              {"times", 10}});
  auto busy = lambda->list_offers({});
  REQUIRE_FALSE(busy);
  CHECK(busy.error().kind == Kind::kTransient);
  CHECK(busy.error().message ==
        "an HTML page: 503 Service Temporarily Unavailable (HTTP 503)");
  mock.reset();
  // A base URL without /api/v1 reaches some other page: a 404, said as one,
  // with what answered (never "could not be reached").
  mock.fault({{"op", "offers"}, {"status", 404},
              {"body", "<html><body><h1>Not <b>Found</b></h1><p>nope</p></body></html>"},
              {"content_type", "text/html"}});
  auto missing = lambda->list_offers({});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == Kind::kNotFound);
  CHECK(missing.error().message == "not found: an HTML page: Not Found (HTTP 404)");
  CHECK(missing.error().http_status == 404);
}
