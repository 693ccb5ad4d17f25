#include "berth/config/provider_set.h"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <limits>
#include <mutex>

#include "berth/common/cancel.h"
#include "berth/common/process.h"
#include "berth/placement/offer_search.h"
#include "support/fake_provider.h"
#include "support/loopback_server.h"

using namespace berth;
using namespace berth::testing;
using namespace std::chrono_literals;

namespace {

Config config_from(const std::string& yaml, std::map<std::string, std::string> vars = {}) {
  auto c = parse_config(yaml, "test.yaml", Environment::from_map(std::move(vars)),
                        fake_provider_types());
  if (!c) {
    std::string all;
    for (const auto& d : c.error()) all += format_diagnostic(d);
    FAIL(all);
  }
  return *c;
}

std::string offers_json(const std::string& provider, int n) {
  auto array = nlohmann::json::array();
  for (int i = 0; i < n; ++i)
    array.push_back(
        to_json(make_offer(provider, provider + "-" + std::to_string(i), "H100", 1, 80, 2.0 + i)));
  return array.dump();
}

}  // namespace

TEST_CASE("provider set builds providers through the registry it is given", "[provider_set]") {
  auto config = config_from("providers:\n  a: {type: fake}\n  b: {type: fake}\n");
  auto set = ProviderSet::create(config, HttpOptions{}, fake_provider_types());
  REQUIRE(set);
  REQUIRE(set->all().size() == 2);
  CHECK(set->find("b")->name() == "b");
  CHECK(set->find("zzz") == nullptr);

  Config unknown;
  unknown.providers.push_back(ProviderConfig{"x", "nosuch", "", "", {}, {}});
  auto bad = ProviderSet::create(unknown, HttpOptions{}, fake_provider_types());
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == "provider 'x': unknown type 'nosuch'");

  Config no_url;
  no_url.providers.push_back(ProviderConfig{"h", "fakehttp", "k", "", {}, {}});
  auto refused = ProviderSet::create(no_url, HttpOptions{}, fake_provider_types());
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == "provider 'h': base_url is required");
}

TEST_CASE("provider set reports each provider: offers, latency or a typed error",
          "[provider_set]") {
  auto good = nlohmann::json::array({to_json(make_offer("ignored", "o1", "H100", 1, 80, 2.5))});
  Config config;
  config.providers = {
      ProviderConfig{"ok", "fake", "", "", {}, {{"offers", good}}},
      ProviderConfig{"denied", "fake", "", "", {}, {{"error", "auth"}}},
      ProviderConfig{"buggy", "fake", "", "", {}, {{"throws", true}}},
  };
  auto set = ProviderSet::create(config, HttpOptions{}, fake_provider_types());
  REQUIRE(set);
  auto listing = set->list_offers({});
  REQUIRE(listing.reports.size() == 3);
  CHECK(listing.reports[0].provider == "ok");
  CHECK(listing.reports[0].ok());
  CHECK(listing.reports[0].count == 1);
  CHECK(listing.reports[1].error->kind == ProviderError::Kind::kAuth);
  CHECK(listing.reports[2].error->kind == ProviderError::Kind::kBadResponse);
  CHECK(listing.reports[2].error->message.find("adapter bug") != std::string::npos);
  REQUIRE(listing.offers.size() == 1);
  CHECK(listing.offers[0].provider == "ok");  // the config name, not what the adapter said

  auto only = set->list_offers({}, {"o*"});
  CHECK(only.reports.size() == 1);

  auto instances = set->list_instances({"ok", "denied"});
  REQUIRE(instances.reports.size() == 2);
  CHECK(instances.instances.size() == 1);
  CHECK(instances.instances[0].provider == "ok");

  auto checks = set->check_credentials();
  REQUIRE(checks.size() == 3);
  CHECK(checks[0].ok());
  CHECK(checks[1].error->kind == ProviderError::Kind::kAuth);
}

TEST_CASE("provider set asks every provider at once over one HTTP client", "[provider_set]") {
  // The server holds every request until all five providers have asked: a
  // fan-out that waited for one provider before asking the next would stall.
  constexpr int kProviders = 5;
  std::mutex m;
  std::condition_variable cv;
  int inside = 0;
  bool all_arrived = false;
  LoopbackServer server([&](const ReceivedRequest& req) {
    {
      std::unique_lock lock(m);
      if (++inside == kProviders) all_arrived = true;
      cv.notify_all();
      cv.wait_for(lock, 10s, [&] { return all_arrived; });
    }
    std::string who = req.target.substr(1, req.target.find('/', 1) - 1);
    if (req.headers.at("authorization") != "Bearer key-" + who) return ScriptedReply{401, {}, "{}"};
    return ScriptedReply{200, {}, offers_json(who, 2)};
  });
  std::string yaml = "providers:\n";
  std::map<std::string, std::string> vars;
  for (int i = 0; i < kProviders; ++i) {
    std::string n = "p" + std::to_string(i);
    yaml += "  " + n + ": {type: fakehttp, api_key: ${KEY_" + n +
            "}, base_url: " + server.url("/" + n) + "}\n";
    vars["KEY_" + n] = "key-" + n;
  }
  auto set = ProviderSet::create(config_from(yaml, vars), HttpOptions{}, fake_provider_types());
  REQUIRE(set);
  auto listing = set->list_offers({});
  CHECK(all_arrived);
  REQUIRE(listing.reports.size() == kProviders);
  for (const auto& r : listing.reports) {
    INFO(r.provider << ": " << (r.error ? r.error->message : "ok"));
    CHECK(r.ok());
    CHECK(r.count == 2);
  }
  CHECK(listing.offers.size() == 2 * kProviders);
  CHECK(listing.offers.front().provider == "p0");  // config order, whatever answered first
  CHECK(listing.offers.back().provider == "p4");
}

TEST_CASE("provider set redacts every configured credential in traces", "[provider_set]") {
  LoopbackServer server([](const ReceivedRequest&) { return ScriptedReply{200, {}, "[]"}; });
  std::vector<std::string> lines;
  std::mutex m;
  HttpOptions options;
  options.trace_level = 3;
  options.trace_sink = [&](const std::string& l) {
    std::lock_guard lock(m);
    lines.push_back(l);
  };
  auto config = config_from(
      "providers:\n  h: {type: fakehttp, api_key: ${K}, base_url: " + server.url("/h") + "}\n",
      {{"K", "very-secret-key-42"}});
  auto set = ProviderSet::create(config, options, fake_provider_types());
  REQUIRE(set);
  auto listing = set->list_offers({});
  REQUIRE(listing.reports[0].ok());
  REQUIRE_FALSE(lines.empty());
  for (const auto& l : lines) CHECK(l.find("very-secret-key-42") == std::string::npos);
}

TEST_CASE("provider set hands adapters the runtime, state directory and SSH key",
          "[provider_set]") {
  auto config =
      config_from("providers:\n  a: {type: fake}\nssh: {key: /keys/id_test}\nruntime: podman\n");
  auto set = ProviderSet::create(config, HttpOptions{}, fake_provider_types());
  REQUIRE(set);
  auto listing = set->list_instances();
  REQUIRE(listing.instances.size() == 1);
  const auto& labels = listing.instances[0].labels;
  CHECK(labels.at("runtime") == "podman");
  CHECK(labels.at("ssh_key") == "/keys/id_test");
  CHECK(labels.at("state_dir") == state_dir(Environment::process()).string());
}

TEST_CASE("offers with impossible values never reach placement: dropped, counted, said once",
          "[provider_set]") {
  auto good = make_offer("x", "fine", "H100", 1, 80, 2.5);
  auto hostile = nlohmann::json::array({to_json(good)});
  auto add = [&](auto change) {
    Offer o = make_offer("x", "bad-" + std::to_string(hostile.size()), "H100", 1, 80, 2.5);
    change(o);
    hostile.push_back(to_json(o));
  };
  add([](Offer& o) { o.price_per_hour = -3; });  // would be "cheapest"
  add([](Offer& o) { o.gpu.count = -8; });
  add([](Offer& o) { o.gpu.count = 1000; });
  add([](Offer& o) { o.disk_gb = -1e300; });
  add([](Offer& o) { o.gpu.vram_gb = 1e12; });
  add([](Offer& o) { o.vcpus = 0; });
  add([](Offer& o) { o.memory_gb = -1; });
  add([](Offer& o) { o.cuda = 1e9; });
  add([](Offer& o) { o.available = -2; });
  add([](Offer& o) { o.id = ""; });
  add([](Offer& o) { o.id = std::string(600, 'x'); });
  Config config;
  config.providers = {ProviderConfig{"market", "fake", "", "", {}, {{"offers", hostile}}}};
  auto set = ProviderSet::create(config, HttpOptions{}, fake_provider_types());
  REQUIRE(set);
  auto listing = set->list_offers({});
  REQUIRE(listing.reports.size() == 1);
  CHECK(listing.reports[0].count == 1);
  CHECK(listing.reports[0].dropped == 11);
  CHECK(listing.reports[0].dropped_reason == "price -3/h is impossible");
  REQUIRE(listing.offers.size() == 1);
  CHECK(listing.offers[0].id == "fine");
  CHECK(describe_report(listing.reports[0], {}).find(
            "dropped 11 with impossible values (first: price -3/h is impossible)") !=
        std::string::npos);

  CHECK_FALSE(offer_insanity(good));
  Offer nan = good;
  nan.price_per_hour = std::numeric_limits<double>::quiet_NaN();
  CHECK(offer_insanity(nan) == std::string("price nan/h is impossible"));
  Offer free = good;
  free.price_per_hour = 0;  // own machines cost nothing
  CHECK_FALSE(offer_insanity(free));
}

TEST_CASE("a provider late with its offers is reported by name; the others are not held up",
          "[provider_set][deadline]") {
  LoopbackServer server([](const ReceivedRequest& req) {
    if (req.target.rfind("/slow", 0) == 0) return ScriptedReply{200, {}, "[]", 0ms, true};
    return ScriptedReply{200, {}, offers_json("fast", 2)};
  });
  auto config = config_from("providers:\n"
                            "  slow: {type: fakehttp, api_key: ${K}, base_url: " +
                                server.url("/slow") +
                                ", offers_timeout: 300ms}\n"
                                "  fast: {type: fakehttp, api_key: ${K}, base_url: " +
                                server.url("/fast") + "}\n",
                            {{"K", "key"}});
  auto set = ProviderSet::create(config, HttpOptions{}, fake_provider_types());
  REQUIRE(set);
  CHECK(set->offers_timeout(*set->find("slow")) == 300ms);
  // Without offers_timeout: the adapter's own default, which every provider has.
  CHECK(set->offers_timeout(*set->find("fast")) == Capabilities{}.offers_timeout);
  CHECK(Capabilities{}.offers_timeout == 30s);
  const auto started = std::chrono::steady_clock::now();
  auto listing = set->list_offers({});
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took < 5s);  // the client's own budget is 60 s
  REQUIRE(listing.reports.size() == 2);
  REQUIRE(listing.reports[0].error);
  CHECK(listing.reports[0].provider == "slow");
  CHECK(listing.reports[0].error->kind == ProviderError::Kind::kTransient);
  CHECK(listing.reports[0].error->message ==
        "no offers within 300ms (its offers deadline; offers_timeout in the config sets another)");
  CHECK(describe_report(listing.reports[0], {}).rfind("slow: failed (transient) after ", 0) == 0);
  CHECK(listing.reports[1].ok());
  CHECK(listing.offers.size() == 2);
}

TEST_CASE("a call deadline ends this thread's requests and subprocesses, and nests",
          "[provider_set][deadline]") {
  LoopbackServer server([](const ReceivedRequest&) { return ScriptedReply{200, {}, "", 0ms, true}; });
  auto http = make_curl_http_client(HttpOptions{});
  HttpRequest req;
  req.url = server.url("/hang");
  {
    ScopedCallDeadline outer(std::chrono::steady_clock::now() + 10s);
    ScopedCallDeadline inner(std::chrono::steady_clock::now() + 200ms);  // the earlier one wins
    const auto started = std::chrono::steady_clock::now();
    auto r = http->send(req);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == HttpFailure::Kind::kTimeout);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    auto p = system_process_runner().run({.argv = {"sleep", "20"}});
    REQUIRE(p);
    CHECK(p->timed_out);
  }
  CHECK_FALSE(call_deadline());  // restored when the scopes end
  {
    ScopedCallDeadline later(std::nullopt);
    CHECK_FALSE(call_deadline());
  }
}
