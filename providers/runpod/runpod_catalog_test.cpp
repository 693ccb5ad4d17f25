// RunPod's catalog answer read as a stream (providers/runpod/runpod_catalog.h):
// the offers a tier and count make, what is skipped before it can fail, the
// shapes that fail the answer, and the limit on a hostile catalog.
#include "providers/runpod/runpod_catalog.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace berth;
using nlohmann::json;

namespace {

json h100() {
  return {{"id", "NVIDIA H100 80GB HBM3"},
          {"name", "H100 SXM"},
          {"manufacturer", "Nvidia"},
          {"memory", 80},
          {"secure", true},
          {"community", false},
          {"price", {{"secure", 2.99}, {"community", nullptr}}},
          {"maxCount", {{"secure", 8}, {"community", 0}}},
          {"cudaVersions", json::array({{{"version", "12.4"}, {"available", true}},
                                        {{"version", 12.8}},
                                        {{"version", 13.0}, {"available", false}}})},
          {"dataCenters", json::array({{{"id", "US-KS-2"}, {"availability", "HIGH"}},
                                       {{"id", "EU-RO-1"}, {"availability", "NONE"}},
                                       {{"id", "CA-MTL-1"}, {"availability", "LOW"}}})}};
}

Expected<std::vector<Offer>, std::string> read(const json& gpus, const std::string& cloud = "secure",
                                               int count = 2, std::size_t max = 100) {
  return runpod::catalog_offers(json{{"gpus", gpus}}.dump(2), "runpod", cloud, count, max);
}

}  // namespace

TEST_CASE("runpod catalog: a data center with stock for the tier and count is an offer",
          "[runpod][catalog]") {
  auto offers = read(json::array({h100()}));
  REQUIRE(offers);
  REQUIRE(offers->size() == 2);  // NONE is no stock
  const Offer& o = (*offers)[0];
  CHECK(o.id == "NVIDIA H100 80GB HBM3/secure/US-KS-2/x2");
  CHECK(o.region == "US-KS-2");
  CHECK(o.location.country == "us");
  CHECK(o.gpu.model == "H100");
  CHECK(o.gpu.count == 2);
  CHECK(o.price_per_hour == Approx(5.98));  // the catalog prices one GPU
  CHECK(o.stock == "high");
  CHECK(o.cuda == 12.8);  // the newest available; 13.0 is not
  CHECK(o.launch_data == json({{"gpu_id", "NVIDIA H100 80GB HBM3"},
                               {"count", 2},
                               {"cloud", "SECURE"},
                               {"data_center", "US-KS-2"}}));
  CHECK((*offers)[1].stock == "low");
  // The community tier: flagged off, so nothing, whatever else is there.
  auto community = read(json::array({h100()}), "community");
  REQUIRE(community);
  CHECK(community->empty());
  // Above maxCount for the tier: nothing.
  auto nine = read(json::array({h100()}), "secure", 9);
  REQUIRE(nine);
  CHECK(nine->empty());
}

TEST_CASE("runpod catalog: what is skipped is skipped before its shape can fail the answer",
          "[runpod][catalog]") {
  // No price for the tier, or no dataCenters: nothing to rent, and the odd
  // data center list of such an entry does not matter.
  json no_price = h100();
  no_price["price"] = nullptr;
  no_price["dataCenters"] = "everywhere";
  json no_tier_price = h100();
  no_tier_price["price"] = {{"community", 0.5}};
  json no_dcs = h100();
  no_dcs.erase("dataCenters");
  json off = h100();
  off["secure"] = false;
  off["dataCenters"] = json::array({7});
  auto offers = read(json::array({no_price, no_tier_price, no_dcs, off}));
  REQUIRE(offers);
  CHECK(offers->empty());
  // A price written as a string is a price.
  json text_price = h100();
  text_price["price"]["secure"] = "2.5";
  auto priced = read(json::array({text_price}), "secure", 1);
  REQUIRE(priced);
  REQUIRE(priced->size() == 2);
  CHECK((*priced)[0].price_per_hour == 2.5);
}

TEST_CASE("runpod catalog: a shape it does not understand fails the answer, never 'no offers'",
          "[runpod][catalog]") {
  auto fails = [](const json& gpus, const std::string& part) {
    auto r = read(gpus);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(part));
  };
  json g = h100();
  g["dataCenters"] = {{"id", "US-KS-2"}};
  fails(json::array({g}), "'dataCenters' should be an array");
  g = h100();
  g["price"]["secure"] = 2e44;
  fails(json::array({g}), "'price' should be a number");
  g = h100();
  g["id"] = 42;
  fails(json::array({g}), "'id' should be a string");
  g = h100();
  g["dataCenters"][0].erase("id");
  fails(json::array({g}), "'dataCenters[].id' is missing");
  fails(json::array({"H100"}), "'gpus' should hold objects");
  auto no_gpus = runpod::catalog_offers("{\"data\": []}", "runpod", "secure", 1, 10);
  REQUIRE_FALSE(no_gpus);
  CHECK(no_gpus.error() == "'gpus' is missing");
  // Not JSON, or cut short: an error, never a partial listing.
  auto cut = runpod::catalog_offers(json{{"gpus", json::array({h100()})}}.dump().substr(0, 200),
                                    "runpod", "secure", 1, 10);
  CHECK_FALSE(cut);
  CHECK_FALSE(runpod::catalog_offers("{\"gpus\": [}", "runpod", "secure", 1, 10));
}

TEST_CASE("runpod catalog: a hostile catalog yields at most the limit", "[runpod][catalog]") {
  json g = h100();
  json dcs = json::array();
  for (int i = 0; i < 40000; ++i)
    dcs.push_back({{"id", "XX-" + std::to_string(i)}, {"availability", "HIGH"}});
  g["dataCenters"] = dcs;
  auto offers = read(json::array({g, h100()}), "secure", 1, 11);
  REQUIRE(offers);
  CHECK(offers->size() == 11);
  CHECK(offers->back().region == "XX-10");
  // A bad entry past the limit does not matter: those are not read.
  json bad = h100();
  bad["id"] = nullptr;
  auto capped = read(json::array({g, bad}), "secure", 1, 11);
  REQUIRE(capped);
  CHECK(capped->size() == 11);
}

TEST_CASE("runpod catalog: stock words", "[runpod][catalog]") {
  CHECK(runpod::stock_word("LOW") == "low");
  CHECK(runpod::stock_word("MEDIUM") == "medium");
  CHECK(runpod::stock_word("HIGH") == "high");
  CHECK(runpod::stock_word("NONE").empty());
  CHECK(runpod::stock_word("high").empty());
}

TEST_CASE("runpod catalog: bytes that are not UTF-8 fail the answer, never the reader",
          "[runpod][catalog]") {
  // A document parser calls such an answer malformed, and so does the stream
  // reader, in every place such a string can stand (a value read as a
  // number, an id, a key skipped).
  const std::string answers[] = {
      "{\"gpus\":[{\"id\":\"A\",\"price\":{\"secure\":\"\xFF\"}}]}",
      "{\"gpus\":[{\"id\":\"A\xC3\",\"price\":{\"secure\":1}}]}",
      "{\"\xFE\":1,\"gpus\":[]}",
  };
  for (const auto& body : answers) {
    INFO(body);
    auto offers = runpod::catalog_offers(body, "runpod", "secure", 1, 100);
    REQUIRE_FALSE(offers);
    CHECK(offers.error().find("UTF-8") != std::string::npos);
  }
}
