// At most `limit` offers per provider (docs/config.md): read by the core for
// every type, applied by each adapter while it reads an answer, and by the
// core to whatever an adapter returns.
#include <catch2/catch.hpp>

#include "berth/config/config.h"
#include "berth/config/provider_set.h"
#include "berth/placement/offer_search.h"
#include "support/fake_provider.h"
#include "support/loopback_server.h"

using namespace berth;
using namespace berth::testing;
using nlohmann::json;

namespace {

std::string all_errors(const Diagnostics& ds) {
  std::string all;
  for (const auto& d : ds) all += format_diagnostic(d);
  return all;
}

json fake_offers(int n) {
  json list = json::array();
  for (int i = 0; i < n; ++i)
    list.push_back(to_json(make_offer("x", "o" + std::to_string(i), "H100", 1, 80, 2.0 + i)));
  return list;
}

// A RunPod catalog answer (GET /v2/catalog/gpus) of one GPU in `dcs` data
// centers, each with stock: one offer per data center. Hostile in size, not
// in shape.
std::string runpod_catalog(int dcs) {
  static const char* kPlaces[] = {"US-KS-2", "US-TX-3", "EU-RO-1", "CA-MTL-1", "US-CA-2"};
  std::string centers;
  for (int i = 0; i < dcs; ++i) {
    if (i) centers += ",";
    centers += std::string(R"({"id":")") + kPlaces[i % 5] + "-rack-0000000000000000-" +
               std::to_string(i) + R"(","availability":"HIGH"})";
  }
  return R"({"gpus":[{"id":"NVIDIA H100 80GB HBM3","name":"H100 SXM","memory":80,)"
         R"("secure":true,"community":true,"price":{"secure":2.99,"community":1.99},)"
         R"("maxCount":{"secure":8,"community":8},"dataCenters":[)" +
         centers + "]}]}";
}

Config config_of(const std::string& yaml, const Environment& env) {
  auto c = parse_config(yaml, "limit.yaml", env);
  if (!c) FAIL(all_errors(c.error()));
  return *c;
}

}  // namespace

TEST_CASE("limit: every provider type takes it, checked once at its position, default 2000",
          "[limit][config]") {
  const auto env = Environment::from_map({{"K", "key"}});
  auto bad = parse_config(
      "providers:\n"
      "  rp: {type: runpod, api_key: ${K}, limit: 0}\n"
      "  lam: {type: lambda, api_key: ${K}, limit: 100001}\n"
      "  box: {type: ssh, hosts: [{address: gpu1}], limit: many}\n",
      "limit.yaml", env);
  REQUIRE_FALSE(bad);
  const auto all = all_errors(bad.error());
  INFO(all);
  CHECK_THAT(all, Catch::Contains("limit.yaml:2:44: error: limit must be a whole number from 1 to "
                                  "100000, not '0'"));
  CHECK_THAT(all, Catch::Contains("limit.yaml:3:45: error: limit must be a whole number from 1 to "
                                  "100000, not '100001'"));
  CHECK_THAT(all, Catch::Contains("limit.yaml:4:53: error: limit must be a whole number"));
  CHECK(bad.error().size() == 3);

  auto good = config_of(
      "providers:\n"
      "  rp: {type: runpod, api_key: ${K}, limit: 7}\n"
      "  lam: {type: lambda, api_key: ${K}, limit: \"12\"}\n"
      "  vast: {type: vastai, api_key: ${K}, limit: 50}\n"
      "  lab: {type: ssh, hosts: [{address: gpu1}]}\n",
      env);
  REQUIRE(good.providers.size() == 4);
  CHECK(offer_limit(good.providers[0]) == 7);
  CHECK(offer_limit(good.providers[1]) == 12);
  CHECK(offer_limit(good.providers[2]) == 50);
  CHECK(good.providers[2].settings["limit"] == 50);
  CHECK(offer_limit(good.providers[3]) == 2000);
  CHECK(kDefaultOfferLimit == 2000);
}

TEST_CASE("limit: the core keeps at most limit offers of a provider and says so once",
          "[limit][provider_set]") {
  Config config;
  config.providers = {
      ProviderConfig{"many", "fake", "", "", {}, {{"offers", fake_offers(10)}, {"limit", 4}}},
      ProviderConfig{"exact", "fake", "", "", {}, {{"offers", fake_offers(4)}, {"limit", 4}}},
      ProviderConfig{"few", "fake", "", "", {}, {{"offers", fake_offers(3)}}},
  };
  auto set = ProviderSet::create(config, HttpOptions{}, fake_provider_types());
  REQUIRE(set);
  auto listing = set->list_offers({});
  REQUIRE(listing.reports.size() == 3);
  CHECK(listing.reports[0].count == 4);
  CHECK(listing.reports[0].cut_at == 4);
  CHECK(listing.reports[1].count == 4);
  CHECK(listing.reports[1].cut_at == 0);
  CHECK(listing.reports[2].count == 3);
  CHECK(listing.reports[2].cut_at == 0);
  CHECK(listing.offers.size() == 11);
  // The first ones of the answer are kept.
  CHECK(listing.offers[0].id == "o0");
  CHECK(listing.offers[3].id == "o3");
  CHECK(listing.offers[4].provider == "exact");
  const auto said = describe_report(listing.reports[0], {});
  CHECK_THAT(said, Catch::Contains("many: 4 offers"));
  CHECK_THAT(said, Catch::Contains("more than its limit of 4 offers"));
  CHECK(describe_report(listing.reports[1], {}).find("limit") == std::string::npos);
}

TEST_CASE("limit: a hostile 2.8 MB RunPod catalog is capped while it is read",
          "[limit][runpod][adapter]") {
  // ~41,500 data centers with stock in every answer (each tier and count),
  // within what an answer read as a document may hold (250,000 values):
  // without the limit, 41,500 offers per answer and eight answers.
  const std::string body = runpod_catalog(41'500);
  REQUIRE(body.size() > 2'700'000);
  REQUIRE(body.size() < 2'900'000);
  LoopbackServer server([&](const ReceivedRequest&) {
    ScriptedReply r;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = body;
    return r;
  });
  const auto env = Environment::from_map({{"K", "key"}});
  SECTION("the default limit") {
    auto config = config_of(
        "providers:\n  rp: {type: runpod, api_key: ${K}, base_url: " + server.url() + "}\n", env);
    auto set = ProviderSet::create(config, HttpOptions{});
    REQUIRE(set);
    auto listing = set->list_offers({});
    REQUIRE(listing.reports.size() == 1);
    INFO(describe_report(listing.reports[0], {}));
    REQUIRE(listing.reports[0].ok());
    CHECK(listing.offers.size() == 2000);
    CHECK(listing.reports[0].count == 2000);
    CHECK(listing.reports[0].cut_at == 2000);
    // The adapter itself stopped one past the limit.
    auto adapter = set->find("rp")->list_offers({});
    REQUIRE(adapter);
    CHECK(adapter->size() == 2001);
  }
  SECTION("a configured limit") {
    auto config = config_of("providers:\n  rp: {type: runpod, api_key: ${K}, limit: 25, base_url: " +
                                server.url() + "}\n",
                            env);
    auto set = ProviderSet::create(config, HttpOptions{});
    REQUIRE(set);
    auto listing = set->list_offers({});
    REQUIRE(listing.reports[0].ok());
    CHECK(listing.offers.size() == 25);
    CHECK(listing.reports[0].cut_at == 25);
    CHECK(listing.offers[0].id == "NVIDIA H100 80GB HBM3/secure/US-KS-2-rack-0000000000000000-0/x1");
  }
}

TEST_CASE("limit: Lambda's instance types beyond the limit are not read", "[limit][lambda][adapter]") {
  json regions = json::array();
  for (int i = 0; i < 50; ++i)
    regions.push_back({{"name", "us-east-" + std::to_string(i)}, {"description", "Virginia, USA"}});
  json data = {{"gpu_1x_h100_sxm5",
                {{"instance_type",
                  {{"name", "gpu_1x_h100_sxm5"},
                   {"description", "1x H100 (80 GB SXM5)"},
                   {"gpu_description", "H100 (80 GB SXM5)"},
                   {"price_cents_per_hour", 329},
                   {"specs", {{"vcpus", 26}, {"memory_gib", 225}, {"storage_gib", 2750}, {"gpus", 1}}}}},
                 {"regions_with_capacity_available", regions}}}};
  const std::string body = json{{"data", data}}.dump();
  LoopbackServer server([&](const ReceivedRequest&) {
    ScriptedReply r;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = body;
    return r;
  });
  auto config = config_of("providers:\n  lam: {type: lambda, api_key: ${K}, limit: 10, base_url: " +
                              server.url() + "}\n",
                          Environment::from_map({{"K", "key"}}));
  auto set = ProviderSet::create(config, HttpOptions{});
  REQUIRE(set);
  auto adapter = set->find("lam")->list_offers({});
  REQUIRE(adapter);
  CHECK(adapter->size() == 11);
  auto listing = set->list_offers({});
  REQUIRE(listing.reports[0].ok());
  CHECK(listing.offers.size() == 10);
  CHECK(listing.reports[0].cut_at == 10);
}
