// One region vocabulary: each adapter's reading of its provider's places, the
// rule placement.regions globs follow, and offers' CPU architecture.
#include <catch2/catch.hpp>

#include <filesystem>

#include "placement/placement_filter.h"
#include "berth/placement/offer_search.h"
#include "berth/placement/planning.h"
#include "berth/provider/offer.h"
#include "berth/template/location.h"
#include "providers/common/catalog_gpu.h"
#include "providers/lambda/lambda_provider.h"
#include "providers/runpod/runpod_provider.h"
#include "providers/vastai/vastai_offers.h"
#include "support/adapter_fixture.h"

using namespace berth;
using namespace berth::testing;
namespace fs = std::filesystem;

namespace {

Location loc(std::string country, std::string continent, std::string subregion = "") {
  return Location{std::move(country), std::move(continent), std::move(subregion)};
}

Offer located(std::string region, Location l, CpuArch arch = CpuArch::kUnknown) {
  Offer o;
  o.provider = "p";
  o.id = region;
  o.region = std::move(region);
  o.location = std::move(l);
  o.arch = arch;
  o.gpu.model = "GH200";
  o.gpu.count = 1;
  o.gpu.vram_gb = 96;
  o.price_per_hour = 1;
  return o;
}

LaunchTemplate regions_only(std::vector<std::string> regions) {
  LaunchTemplate w;
  w.name = "r";
  w.resources.gpu.count = {1, 1};
  w.placement.regions = std::move(regions);
  return w;
}

}  // namespace

TEST_CASE("the location vocabulary: countries, continents, sub-regions", "[location][region]") {
  CHECK(continent_of("de") == "eu");
  CHECK(continent_of("US") == "na");
  CHECK(continent_of("jp") == "as");
  CHECK(continent_of("au") == "oc");
  CHECK(continent_of("br") == "sa");
  CHECK(continent_of("za") == "af");
  CHECK(continent_of("eu") == "");
  CHECK(continent_of("") == "");
  CHECK(location_of_country("us", "tx") == loc("us", "na", "us-tx"));
  CHECK(location_of_country("US", "Texas") == loc("us", "na", "us-tx"));
  CHECK(location_of_country("se", "tx") == loc("se", "eu"));  // no sub-regions known there
  CHECK(location_of_country("zz") == Location{});
  CHECK(country_code("Sweden") == "se");
  CHECK(country_code(" USA ") == "us");
  CHECK(country_code("Atlantis") == "");
  CHECK(location_from_word("eu-de") == loc("de", "eu"));
  CHECK(location_from_word("na-de") == Location{});  // Germany is not in North America
  CHECK(location_from_word("us-ks") == loc("us", "na", "us-ks"));
  CHECK(location_from_word("us-zz") == Location{});
  CHECK(is_location_word("eu"));
  CHECK(is_location_word("DE"));
  CHECK(is_location_word("us-tx"));
  CHECK_FALSE(is_location_word("mars"));
  CHECK(location_summary(loc("us", "na", "us-tx")) == "us-tx");
  CHECK(location_summary(loc("", "eu")) == "eu");
  CHECK(location_summary({}) == "-");
}

TEST_CASE("Lambda regions: the code, refined by its description", "[location][region][lambda]") {
  using lambda::region_location;
  CHECK(region_location("us-west-1", "California, USA") == loc("us", "na", "us-ca"));
  CHECK(region_location("us-south-1", "Texas, USA") == loc("us", "na", "us-tx"));
  CHECK(region_location("us-east-3", "Washington DC, USA") == loc("us", "na", "us-dc"));
  CHECK(region_location("us-east-1", "") == loc("us", "na"));
  CHECK(region_location("europe-central-1", "Germany") == loc("de", "eu"));
  CHECK(region_location("europe-central-1", "") == loc("", "eu"));
  CHECK(region_location("asia-northeast-1", "Tokyo, Japan") == loc("jp", "as"));
  CHECK(region_location("australia-east-1", "Sydney, Australia") == loc("au", "oc"));
  CHECK(region_location("me-west-1", "<location text>") == loc("", "as"));
  // A description that contradicts the code is not believed.
  CHECK(region_location("us-west-1", "Germany") == loc("us", "na"));
  CHECK(region_location("europe-central-1", "Texas, USA") == loc("", "eu"));
  // Codes berth does not know stay unknown, whatever the description says.
  CHECK(region_location("mars-1", "Texas, USA") == Location{});
  CHECK(region_location("", "") == Location{});
  CHECK(lambda::region_codes().size() == 17);
}

TEST_CASE("Lambda: GH200 types are arm64, the rest x86_64", "[location][arch][lambda]") {
  OfferGpu gh200;
  gh200.model = "GH200";
  gh200.count = 1;
  CHECK(lambda::type_arch(gh200) == CpuArch::kArm64);
  OfferGpu a10;
  a10.model = "A10";
  a10.count = 1;
  CHECK(lambda::type_arch(a10) == CpuArch::kX86_64);
  CHECK(arch_of_gpu(a10) == CpuArch::kUnknown);
  CHECK(arch_of_gpu(gh200) == CpuArch::kArm64);

  AdapterFixture f("lambda");
  auto offers = f.adapter->list_offers({});
  REQUIRE(offers);
  bool saw_gh200 = false;
  for (const auto& o : *offers) {
    INFO(o.id);
    if (o.id.rfind("gpu_1x_gh200@", 0) == 0) {
      saw_gh200 = true;
      CHECK(o.arch == CpuArch::kArm64);
      CHECK(o.location == loc("us", "na", "us-dc"));  // "Washington DC, USA"
    } else {
      CHECK(o.arch == CpuArch::kX86_64);
    }
    if (o.region == "europe-central-1") CHECK(o.location == loc("de", "eu"));  // "Germany"
    if (o.region == "us-west-1") CHECK(o.location == loc("us", "na", "us-ca"));
  }
  CHECK(saw_gh200);
}

TEST_CASE("RunPod data centers: a table, then the id's scheme", "[location][region][runpod]") {
  using runpod::data_center_location;
  CHECK(data_center_location("US-KS-2") == loc("us", "na", "us-ks"));
  CHECK(data_center_location("US-TX-3") == loc("us", "na", "us-tx"));
  CHECK(data_center_location("US-CA-2") == loc("us", "na", "us-ca"));  // California, not Canada
  CHECK(data_center_location("EU-RO-1") == loc("ro", "eu"));
  CHECK(data_center_location("CA-MTL-1") == loc("ca", "na", "ca-qc"));
  CHECK(data_center_location("us-ks-2") == loc("us", "na", "us-ks"));  // any case
  CHECK(data_center_location("US-GA-1") == loc("us", "na", "us-ga"));
  CHECK(data_center_location("EUR-IS-1") == loc("is", "eu"));
  CHECK(data_center_location("EU-SE-1") == loc("se", "eu"));
  CHECK(data_center_location("AP-JP-1") == loc("jp", "as"));
  CHECK(data_center_location("OC-AU-1") == loc("au", "oc"));
  // Unknown or inconsistent ids stay unknown.
  CHECK(data_center_location("EU-US-1") == Location{});  // the US is not in Europe
  CHECK(data_center_location("US-ZZ-1") == Location{});
  CHECK(data_center_location("US-KS") == Location{});
  CHECK(data_center_location("US-KS-x") == Location{});
  CHECK(data_center_location("") == Location{});
  CHECK(data_center_location("garbage") == Location{});
  CHECK(data_center_location("---") == Location{});

  AdapterFixture f("runpod");
  auto offers = f.adapter->list_offers({});
  REQUIRE(offers);
  for (const auto& o : *offers) {
    INFO(o.id);
    CHECK(o.location == data_center_location(o.region));
    CHECK_FALSE(o.location.country.empty());
    CHECK(o.arch == CpuArch::kUnknown);  // RunPod does not say
  }
}

TEST_CASE("Vast.ai geolocations: City, ST, CC and its variants", "[location][region][vastai]") {
  using vastai::location_from_geolocation;
  CHECK(location_from_geolocation("Texas, US") == loc("us", "na", "us-tx"));
  CHECK(location_from_geolocation("Dallas, TX, US") == loc("us", "na", "us-tx"));
  CHECK(location_from_geolocation("Quebec, CA") == loc("ca", "na", "ca-qc"));
  CHECK(location_from_geolocation("Sweden, SE") == loc("se", "eu"));
  CHECK(location_from_geolocation("SE") == loc("se", "eu"));
  CHECK(location_from_geolocation("se") == loc("se", "eu"));
  CHECK(location_from_geolocation("Sweden") == loc("se", "eu"));
  CHECK(location_from_geolocation("sweden, se") == loc("se", "eu"));
  CHECK(location_from_geolocation("Poland, PL") == loc("pl", "eu"));
  CHECK(location_from_geolocation("  Oregon ,  US ") == loc("us", "na", "us-or"));
  CHECK(location_from_geolocation("Atlantis, AT") == loc("at", "eu"));  // the document's example
  CHECK(location_from_geolocation("Springfield, US") == loc("us", "na"));  // no state: none guessed
  CHECK(location_from_geolocation("") == Location{});
  CHECK(location_from_geolocation(",") == Location{});
  CHECK(location_from_geolocation("Texas") == Location{});  // no country given
  CHECK(location_from_geolocation("Nowhere, ZZ") == Location{});
  CHECK(location_from_geolocation("\x01\xff, \x02") == Location{});

  AdapterFixture f("vastai");
  auto offers = f.adapter->list_offers({});
  REQUIRE(offers);
  for (const auto& o : *offers) {
    INFO(o.id);
    if (o.id == "1001") CHECK(o.location == loc("us", "na", "us-tx"));
    if (o.id == "1004") CHECK(o.location == loc("se", "eu"));
    CHECK(o.region != "");  // the raw region is kept as it was
  }
}

TEST_CASE("placement.regions globs match any form of an offer's place, ignoring case",
          "[location][region][placement]") {
  const Location kansas = loc("us", "na", "us-ks");
  const Location romania = loc("ro", "eu");
  const Location us_only = loc("us", "na");
  const Location unknown;
  auto m = [](const char* glob, const char* raw, const Location& l) {
    return region_glob_matches(glob, raw, l);
  };
  // The raw region, now without regard to case.
  CHECK(m("US-KS-2", "US-KS-2", kansas));
  CHECK(m("us-ks-*", "US-KS-2", kansas));
  CHECK(m("local", "local", unknown));
  // Country, continent, sub-region, continent-country.
  CHECK(m("us", "US-KS-2", kansas));
  CHECK(m("na", "US-KS-2", kansas));
  CHECK(m("us-ks", "US-KS-2", kansas));
  CHECK(m("na-us", "US-KS-2", kansas));
  CHECK(m("ro", "EU-RO-1", romania));
  CHECK(m("eu", "EU-RO-1", romania));
  CHECK(m("eu-ro", "EU-RO-1", romania));
  CHECK(m("EU-*", "se-sweden", loc("se", "eu")));
  CHECK(m("eu-*", "europe-central-1", loc("", "eu")));  // the country unknown: "eu-"
  CHECK_FALSE(m("eu-de", "europe-central-1", loc("", "eu")));
  CHECK(m("europe-*", "europe-central-1", loc("", "eu")));  // the raw region
  // us-* takes a US offer whose state is unknown.
  CHECK(m("us-*", "us", us_only));
  CHECK(m("us-*", "Texas", loc("us", "na", "us-tx")));
  // Near misses.
  CHECK_FALSE(m("eu", "US-KS-2", kansas));
  CHECK_FALSE(m("us-tx", "US-KS-2", kansas));
  CHECK_FALSE(m("de", "EU-RO-1", romania));
  CHECK_FALSE(m("us", "somewhere", unknown));
  CHECK_FALSE(m("*", "", unknown));  // nothing at all is known
}

TEST_CASE("unknown plain words in placement.regions are found", "[location][region]") {
  CHECK(unknown_region_words({"us", "eu-*", "mars", "us-tx", "Moon-1", "local"}, {"local"}) ==
        std::vector<std::string>{"mars", "Moon-1"});
  CHECK(unknown_region_words({"us-east-1"}, {"US-EAST-1"}).empty());

  auto w = regions_only({"mars"});
  auto planning = plan_from_offers(w, {located("US-KS-2", loc("us", "na", "us-ks"))});
  REQUIRE(planning.failure);
  CHECK(planning.failure->hint.find("placement.regions 'mars' names no country, continent or "
                                    "sub-region berth knows") != std::string::npos);
  // A word that is some offer's region is no typo.
  w = regions_only({"lab-b"});
  Offer two_gpus = located("lab-b", {});
  two_gpus.gpu.count = 2;  // fails gpu.count, not the region
  planning = plan_from_offers(w, {two_gpus});
  REQUIRE(planning.failure);
  CHECK(planning.failure->hint.find("names no country") == std::string::npos);
}

TEST_CASE("an offer of another arch is rejected, an unknown one passes", "[location][arch]") {
  LaunchTemplate w = regions_only({});
  const Offer arm = located("us-east-3", loc("us", "na"), CpuArch::kArm64);
  const Offer x86 = located("us-east-1", loc("us", "na"), CpuArch::kX86_64);
  const Offer unknown = located("US-KS-2", loc("us", "na"));
  CHECK(unmet_constraint(w, arm) == "arch");  // the default is x86_64
  CHECK_FALSE(unmet_constraint(w, x86));
  CHECK_FALSE(unmet_constraint(w, unknown));
  placement::ConstraintChecker checker(w);
  CHECK(checker.explain(placement::Constraint::kArch, arm) ==
        "GH200 offer is arm64, the template needs x86_64");
  w.resources.arch = CpuArch::kArm64;
  CHECK_FALSE(unmet_constraint(w, arm));
  CHECK(unmet_constraint(w, x86) == "arch");
  CHECK_FALSE(unmet_constraint(w, unknown));

  auto planning = plan_from_offers(regions_only({}), {arm});
  REQUIRE(planning.failure);
  CHECK(planning.failure->hint.rfind("relax arch: ", 0) == 0);
  CHECK(planning.failure->hint.find("GH200 offer is arm64, the template needs x86_64") !=
        std::string::npos);
}

TEST_CASE("offer JSON carries the location and arch, and reads them back", "[location][offers]") {
  Offer o = located("US-KS-2", loc("us", "na", "us-ks"), CpuArch::kArm64);
  auto j = to_json(o);
  CHECK(j["location"] == nlohmann::json{{"country", "us"}, {"continent", "na"}, {"subregion", "us-ks"}});
  CHECK(j["arch"] == "arm64");
  auto back = offer_from_json(j);
  REQUIRE(back);
  CHECK(back->location == o.location);
  CHECK(back->arch == CpuArch::kArm64);

  Offer u = located("somewhere", {});
  j = to_json(u);
  CHECK(j["location"] == nlohmann::json{{"country", nullptr}, {"continent", nullptr},
                                        {"subregion", nullptr}});
  CHECK(j["arch"].is_null());
  // A listing saved before these fields existed still reads.
  j.erase("location");
  j.erase("arch");
  back = offer_from_json(j);
  REQUIRE(back);
  CHECK(back->location == Location{});
  CHECK(back->arch == CpuArch::kUnknown);
  j["arch"] = "sparc";
  CHECK_FALSE(offer_from_json(j));
}

TEST_CASE("sglang's regions take the US and Europe on every cloud, and nothing else",
          "[location][region][clouds]") {
  const auto env = Environment::from_map({{"HF_TOKEN", "hf_test_token"}});
  auto sglang = load_template(fs::path(BERTH_TEST_DIR) / ".." / "templates" / "sglang.yaml", env);
  REQUIRE(sglang);
  // Its placement, with resources any mock offer meets: where, not what.
  LaunchTemplate w = regions_only(sglang->placement.regions);
  for (const char* cloud : {"lambda", "runpod", "vastai"}) {
    INFO(cloud);
    AdapterFixture f(cloud);
    auto offers = f.adapter->list_offers({});
    REQUIRE(offers);
    placement::ConstraintChecker checker(w);
    int in_region = 0;
    for (const auto& o : *offers) {
      INFO(o.id << " " << o.region);
      const bool us_or_eu = o.location.country == "us" || o.location.continent == "eu";
      const bool passes = (checker.failures(o) & placement::bit(placement::Constraint::kRegions)) == 0;
      CHECK(passes == us_or_eu);
      in_region += passes;
    }
    CHECK(in_region > 0);
    auto planning = plan_from_offers(w, *offers);
    REQUIRE_FALSE(planning.failure);
    REQUIRE(planning.plan.placement.size() == 1);
    const auto& placed = planning.plan.placement.front().offer;
    CHECK((placed.location.country == "us" || placed.location.continent == "eu"));
  }
}

TEST_CASE("an ssh host's region word is its location", "[location][region][ssh]") {
  CHECK(location_from_word("EU") == loc("", "eu"));
  CHECK(location_from_word("de") == loc("de", "eu"));
  CHECK(location_from_word("lab-b") == Location{});
  CHECK(location_from_word("local") == Location{});
  CHECK(location_from_word("") == Location{});
}

TEST_CASE("resources.arch: x86_64 or arm64, an error at its position otherwise",
          "[location][arch][template]") {
  const auto env = Environment::from_map({});
  auto ok = parse_template("name: app\nimage: x\nresources:\n  arch: arm64\n", "t.yaml", env);
  REQUIRE(ok);
  CHECK(ok->resources.arch == CpuArch::kArm64);
  auto none = parse_template("name: app\nimage: x\n", "t.yaml", env);
  REQUIRE(none);
  CHECK_FALSE(none->resources.arch);
  auto x86 = parse_template("name: app\nimage: x\nresources:\n  arch: x86_64\n", "t.yaml", env);
  REQUIRE(x86);
  CHECK(x86->resources.arch == CpuArch::kX86_64);
  CHECK(x86->hash != none->hash);  // it changes what is deployed

  auto bad = parse_template("name: app\nimage: x\nresources:\n  arch: amd64\n", "t.yaml", env);
  REQUIRE_FALSE(bad);
  REQUIRE(bad.error().size() == 1);
  const auto& d = bad.error().front();
  CHECK(d.file == "t.yaml");
  CHECK(d.line == 4);
  CHECK(d.column == 9);
  CHECK(d.message.find("resources.arch") != std::string::npos);
  CHECK(format_diagnostic(d).find("x86_64") != std::string::npos);
}

TEST_CASE("arch names", "[location][arch]") {
  CHECK(cpu_arch_from_name("x86_64") == CpuArch::kX86_64);
  CHECK(cpu_arch_from_name("arm64") == CpuArch::kArm64);
  CHECK_FALSE(cpu_arch_from_name("amd64"));
  CHECK_FALSE(cpu_arch_from_name(""));
  CHECK(cpu_arch_from_oci("amd64") == CpuArch::kX86_64);
  CHECK(cpu_arch_from_oci("arm64") == CpuArch::kArm64);
  CHECK_FALSE(cpu_arch_from_oci("arm"));
  CHECK(to_string(CpuArch::kUnknown) == "unknown");
}

TEST_CASE("offers without a template list every architecture; with one, its arch filters",
          "[location][arch][offers]") {
  const Offer arm = located("us-east-3", loc("us", "na"), CpuArch::kArm64);
  auto flags_only = OfferFilter::create({});
  REQUIRE(flags_only);
  CHECK_FALSE(flags_only->unmet(arm));
  auto with_template = OfferFilter::create({}, regions_only({}));
  REQUIRE(with_template);
  CHECK(with_template->unmet(arm) == "arch");
}
