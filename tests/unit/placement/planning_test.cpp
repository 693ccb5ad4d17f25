// The one planning function of `plan`, `up` and `watch`: the providers asked,
// the plan solved over everything they offered, one rule for the exit code.
#include "berth/placement/planning.h"

#include <catch2/catch.hpp>

#include "support/fake_provider.h"

using namespace berth;
using namespace berth::testing;

namespace {

ProviderSet providers_from(const std::string& yaml) {
  auto c = parse_config(yaml, "test.yaml", Environment::from_map({}), fake_provider_types());
  REQUIRE(c);
  auto set = ProviderSet::create(*c, HttpOptions{}, fake_provider_types());
  REQUIRE(set);
  return std::move(*set);
}

std::string offers(const std::string& provider, double price) {
  return nlohmann::json::array({to_json(make_offer(provider, provider + "-1", "H100", 1, 80, price))})
      .dump();
}

LaunchTemplate gpu_workload() {
  LaunchTemplate w;
  w.name = "chat";
  w.resources.gpu.count = {1, 1};
  return w;
}

}  // namespace

TEST_CASE("planning asks only the providers the template allows", "[planning]") {
  // "cheap" would win, but placement.providers leaves it out: it is not even
  // asked (its error would otherwise show).
  auto set = providers_from("providers:\n  cheap: {type: fake, offers: " + offers("cheap", 0.5) +
                            ", error: transient}\n  ok: {type: fake, offers: " +
                            offers("ok", 2.0) + "}\n");
  auto w = gpu_workload();
  w.placement.providers = {"ok"};
  auto planning = plan_deployment(w, set);
  REQUIRE_FALSE(planning.failure);
  REQUIRE(planning.reports.size() == 1);
  CHECK(planning.reports[0].provider == "ok");
  REQUIRE(planning.plan.placement.size() == 1);
  CHECK(planning.plan.placement[0].offer.provider == "ok");

  w.placement.providers = {"nobody-*"};
  auto none = plan_deployment(w, set);
  REQUIRE(none.failure);
  CHECK(none.failure->code == ExitCode::kNoPlacement);
  CHECK(none.reports.empty());
}

TEST_CASE("one rule decides the exit code when there is no placement", "[planning]") {
  auto w = gpu_workload();
  SECTION("every provider refused the credentials: 4") {
    auto set = providers_from("providers:\n  a: {type: fake, error: auth}\n  b: {type: fake, error: auth}\n");
    auto p = plan_deployment(w, set);
    REQUIRE(p.failure);
    CHECK(p.failure->code == ExitCode::kAuth);
  }
  SECTION("some refused, some failed otherwise: 6, not 4") {
    auto set = providers_from("providers:\n  a: {type: fake, error: auth}\n  b: {type: fake, error: transient}\n");
    auto p = plan_deployment(w, set);
    REQUIRE(p.failure);
    CHECK(p.failure->code == ExitCode::kProviderFailed);
  }
  SECTION("one answered and nothing fits: 5 with what to relax") {
    auto set = providers_from("providers:\n  a: {type: fake, error: auth}\n  b: {type: fake, offers: " +
                              offers("b", 9.0) + "}\n");
    w.placement.max_price = 1.0;
    auto p = plan_deployment(w, set);
    REQUIRE(p.failure);
    CHECK(p.failure->code == ExitCode::kNoPlacement);
    CHECK(p.failure->hint.find("relax placement.max_price") != std::string::npos);
    // The same offers from a saved listing: the same verdict.
    auto saved = plan_from_offers(w, {make_offer("b", "b-1", "H100", 1, 80, 9.0)});
    REQUIRE(saved.failure);
    CHECK(saved.failure->code == p.failure->code);
    CHECK(saved.failure->hint == p.failure->hint);
  }
}

TEST_CASE("replicas that stay count against the offers they use", "[planning]") {
  auto set = providers_from("providers:\n  a: {type: fake, offers: " + offers("a", 1.0) + "}\n");
  auto w = gpu_workload();
  w.replicas = 2;
  w.spread = Spread::kProvider;
  Instance running;
  running.provider = "a";
  running.offer_id = "a-1";
  auto p = plan_deployment(w, set, PlanRequest{{1}, {}, {running}});
  // Replica 0 holds the only provider: replica 1 cannot spread anywhere.
  REQUIRE(p.failure);
  CHECK(p.failure->code == ExitCode::kNoPlacement);
}

TEST_CASE("without resources.arch the image's platform decides, asked only when it could matter",
          "[planning][arch]") {
  Offer arm = make_offer("p", "grace", "GH200", 1, 96, 0.5);
  arm.arch = CpuArch::kArm64;
  Offer x86 = make_offer("p", "x86", "H100", 1, 80, 2.0);
  x86.arch = CpuArch::kX86_64;
  auto set = providers_from("providers:\n  p: {type: fake, offers: " +
                            nlohmann::json::array({to_json(arm), to_json(x86)}).dump() + "}\n");
  auto w = gpu_workload();
  int asked = 0;
  PlanRequest request;
  request.image_arch = [&asked]() -> std::optional<CpuArch> {
    ++asked;
    return CpuArch::kArm64;
  };
  auto arm_image = plan_deployment(w, set, request);
  REQUIRE_FALSE(arm_image.failure);
  CHECK(arm_image.plan.placement.front().offer.id == "grace");
  CHECK(asked == 1);

  // An x86_64 image (or a registry that cannot say): the default.
  request.image_arch = []() -> std::optional<CpuArch> { return std::nullopt; };
  auto unknown = plan_deployment(w, set, request);
  REQUIRE_FALSE(unknown.failure);
  CHECK(unknown.plan.placement.front().offer.id == "x86");

  // The template's own arch is never second-guessed.
  w.resources.arch = CpuArch::kX86_64;
  request.image_arch = [&asked]() -> std::optional<CpuArch> {
    ++asked;
    return CpuArch::kArm64;
  };
  auto written = plan_deployment(w, set, request);
  REQUIRE_FALSE(written.failure);
  CHECK(written.plan.placement.front().offer.id == "x86");
  CHECK(asked == 1);

  // No offer of another arch: the registry is not asked at all.
  auto only_x86 = providers_from("providers:\n  p: {type: fake, offers: " +
                                 nlohmann::json::array({to_json(x86)}).dump() + "}\n");
  w.resources.arch.reset();
  auto plain = plan_deployment(w, only_x86, request);
  REQUIRE_FALSE(plain.failure);
  CHECK(asked == 1);
}

TEST_CASE("placement.spot only names each provider whose API has no spot instances",
          "[planning][placement]") {
  nlohmann::json spot_offer = to_json(make_offer("market", "m-1", "H100", 1, 80, 1.0));
  spot_offer["spot"] = true;
  // A provider without spot lists nothing under spot: only (as Lambda does).
  auto set = providers_from("providers:\n  lambda: {type: fake, offers: []}\n"
                            "  market: {type: fake, spot: true, offers: [" +
                            spot_offer.dump() + "]}\n");
  auto w = gpu_workload();
  w.placement.spot = SpotPolicy::kOnly;
  auto p = plan_deployment(w, set);
  REQUIRE_FALSE(p.failure);
  CHECK(p.plan.placement.at(0).offer.provider == "market");
  // The provider without spot is named, the one with spot is not.
  std::vector<std::string> details;
  for (const auto& r : p.plan.rejections)
    if (r.constraint == "placement.spot") details.push_back(r.detail);
  CHECK(std::count(details.begin(), details.end(), "lambda: its API has no spot instances") == 1);
  for (const auto& d : details) CHECK(d.find("market:") == std::string::npos);

  SECTION("with nothing offered at all, the hint says why") {
    w.placement.providers = {"lambda"};
    auto none = plan_deployment(w, set);
    REQUIRE(none.failure);
    CHECK(none.failure->code == ExitCode::kNoPlacement);
    CHECK(none.failure->hint.find("lambda: its API has no spot instances") != std::string::npos);
  }
  SECTION("spot allow and never say nothing of it") {
    for (auto policy : {SpotPolicy::kAllow, SpotPolicy::kNever}) {
      w.placement.spot = policy;
      auto q = plan_deployment(w, set);
      for (const auto& r : q.plan.rejections)
        CHECK(r.detail.find("no spot instances") == std::string::npos);
    }
  }
}
