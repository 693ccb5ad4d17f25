#include "berth/placement/placement.h"

#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <random>
#include <set>

using namespace berth;

namespace {

constexpr std::uint64_t kGB = 1'000'000'000ull;

LaunchTemplate gpu_workload() {
  LaunchTemplate w;
  w.name = "chat";
  w.resources.gpu.count = {1, 1};
  return w;
}

Offer offer(std::string provider, std::string id, double price, std::string model = "H100",
            double vram = 80, int count = 1) {
  Offer o;
  o.provider = std::move(provider);
  o.id = std::move(id);
  o.region = "us-east";
  o.gpu.model = std::move(model);
  o.gpu.count = count;
  o.gpu.vram_gb = vram;
  o.gpu.compute_capability = 9.0;
  o.vcpus = 16;
  o.memory_gb = 128;
  o.disk_gb = 500;
  o.price_per_hour = price;
  o.cuda = 12.4;
  return o;
}

std::vector<std::string> ids(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& p : plan.placement) out.push_back(p.offer.provider + "/" + p.offer.id);
  return out;
}

const Rejection* find_rejection(const Plan& plan, const std::string& constraint) {
  for (const auto& r : plan.rejections)
    if (r.constraint == constraint) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("an offer meeting every constraint is accepted", "[placement]") {
  auto w = gpu_workload();
  w.resources.gpu.vram = {80 * kGB, std::nullopt};
  w.resources.gpu.total_vram = {80 * kGB, std::nullopt};
  w.resources.gpu.compute_capability = {8.0, std::nullopt};
  w.resources.gpu.models = {"H100", "A100-80GB"};
  w.resources.gpu.exclude_models = {"V100"};
  w.resources.cuda = {12.1, std::nullopt};
  w.resources.cpus = {8, std::nullopt};
  w.resources.memory = {64 * kGB, std::nullopt};
  w.resources.disk = {100 * kGB, std::nullopt};
  w.placement.providers = {"lamb*", "runpod"};
  w.placement.exclude_providers = {"vast"};
  w.placement.regions = {"us-*"};
  w.placement.max_price = 3.50;
  CHECK_FALSE(unmet_constraint(w, offer("lambda", "a", 3.50)));
}

TEST_CASE("each constraint rejects with its own name", "[placement]") {
  auto w = gpu_workload();
  auto o = offer("lambda", "a", 2.0);

  SECTION("gpu.count") {
    w.resources.gpu.count = {2, 8};
    CHECK(unmet_constraint(w, o) == "gpu.count");
    o.gpu.count = 8;
    CHECK_FALSE(unmet_constraint(w, o));
    o.gpu.count = 9;
    CHECK(unmet_constraint(w, o) == "gpu.count");
  }
  SECTION("gpu.count 0..0 is CPU-only offers only") {
    w.resources.gpu.count = {0, 0};
    CHECK(unmet_constraint(w, o) == "gpu.count");
    o.gpu.count = 0;
    o.gpu.model.clear();
    o.gpu.vram_gb.reset();
    CHECK_FALSE(unmet_constraint(w, o));
  }
  SECTION("gpu.vram compares with nominal GB: 80GB matches an 80 GB H100, 80GiB does not") {
    w.resources.gpu.vram = {80 * kGB, std::nullopt};
    CHECK_FALSE(unmet_constraint(w, o));
    w.resources.gpu.vram = {80ull * 1024 * 1024 * 1024, std::nullopt};
    CHECK(unmet_constraint(w, o) == "gpu.vram");
    w.resources.gpu.vram = {std::nullopt, 48 * kGB};
    CHECK(unmet_constraint(w, o) == "gpu.vram");
  }
  SECTION("gpu.vram unknown is rejected") {
    w.resources.gpu.vram = {24 * kGB, std::nullopt};
    o.gpu.vram_gb.reset();
    CHECK(unmet_constraint(w, o) == "gpu.vram");
  }
  SECTION("gpu.total_vram") {
    w.resources.gpu.count = {1, 8};
    w.resources.gpu.total_vram = {160 * kGB, std::nullopt};
    CHECK(unmet_constraint(w, o) == "gpu.total_vram");
    o.gpu.count = 2;
    CHECK_FALSE(unmet_constraint(w, o));
    o.gpu.vram_gb.reset();
    CHECK(unmet_constraint(w, o) == "gpu.total_vram");
  }
  SECTION("gpu.compute_capability, unknown rejected") {
    w.resources.gpu.compute_capability = {8.0, 8.9};
    CHECK(unmet_constraint(w, o) == "gpu.compute_capability");
    o.gpu.compute_capability = 8.9;
    CHECK_FALSE(unmet_constraint(w, o));
    o.gpu.compute_capability.reset();
    CHECK(unmet_constraint(w, o) == "gpu.compute_capability");
  }
  SECTION("gpu.models allow-list; unknown models are not on it") {
    w.resources.gpu.models = {"A100-80GB"};
    CHECK(unmet_constraint(w, o) == "gpu.models");
    o.gpu.model = "unknown:Mystery 9000";
    CHECK(unmet_constraint(w, o) == "gpu.models");
    o.gpu.model = "A100-80GB";
    CHECK_FALSE(unmet_constraint(w, o));
  }
  SECTION("gpu.exclude_models") {
    w.resources.gpu.exclude_models = {"H100"};
    CHECK(unmet_constraint(w, o) == "gpu.exclude_models");
  }
  SECTION("gpu.vendor") {
    w.resources.gpu.vendor = GpuVendor::kAmd;
    CHECK(unmet_constraint(w, o) == "gpu.vendor");
    o.gpu.vendor = GpuVendor::kAmd;
    CHECK_FALSE(unmet_constraint(w, o));
  }
  // Unknown is not too small: an unreported host fact passes, and rejects
  // only under placement.strict; a settable one passes either way.
  SECTION("cuda, unknown passes unless strict") {
    w.resources.cuda = {12.6, std::nullopt};
    CHECK(unmet_constraint(w, o) == "cuda");
    o.cuda = 12.6;
    CHECK_FALSE(unmet_constraint(w, o));
    o.cuda.reset();
    CHECK_FALSE(unmet_constraint(w, o));
    w.placement.strict = true;
    CHECK(unmet_constraint(w, o) == "cuda");
  }
  SECTION("cpus, unknown passes unless strict") {
    w.resources.cpus = {32, std::nullopt};
    CHECK(unmet_constraint(w, o) == "cpus");
    o.vcpus.reset();
    w.resources.cpus = {1, std::nullopt};
    CHECK_FALSE(unmet_constraint(w, o));
    w.placement.strict = true;
    CHECK(unmet_constraint(w, o) == "cpus");
  }
  SECTION("memory, unknown passes unless strict") {
    w.resources.memory = {256 * kGB, std::nullopt};
    CHECK(unmet_constraint(w, o) == "memory");
    w.resources.memory = {128 * kGB, std::nullopt};
    CHECK_FALSE(unmet_constraint(w, o));
    o.memory_gb.reset();
    CHECK_FALSE(unmet_constraint(w, o));
    w.placement.strict = true;
    CHECK(unmet_constraint(w, o) == "memory");
  }
  SECTION("disk, unknown passes unless strict; settable passes always") {
    w.resources.disk = {1000 * kGB, std::nullopt};
    CHECK(unmet_constraint(w, o) == "disk");
    o.disk_gb.reset();
    w.resources.disk = {1 * kGB, std::nullopt};
    CHECK_FALSE(unmet_constraint(w, o));
    w.placement.strict = true;
    CHECK(unmet_constraint(w, o) == "disk");
    o.settable = fact_bit(HostFact::kDisk);
    w.resources.disk = {2000 * kGB, std::nullopt};
    CHECK_FALSE(unmet_constraint(w, o));
  }
  SECTION("a known value that does not fit rejects even when others are settable") {
    o.settable = fact_bit(HostFact::kDisk);
    w.resources.disk = {1000 * kGB, std::nullopt};
    CHECK(unmet_constraint(w, o) == "disk");
  }
  SECTION("placement.providers globs") {
    w.placement.providers = {"run*", "vast"};
    CHECK(unmet_constraint(w, o) == "placement.providers");
    w.placement.providers = {"l?mbda"};
    CHECK_FALSE(unmet_constraint(w, o));
  }
  SECTION("placement.exclude_providers globs") {
    w.placement.exclude_providers = {"lam*"};
    CHECK(unmet_constraint(w, o) == "placement.exclude_providers");
  }
  SECTION("placement.regions globs") {
    w.placement.regions = {"eu-*"};
    CHECK(unmet_constraint(w, o) == "placement.regions");
    w.placement.regions = {"eu-*", "us-*"};
    CHECK_FALSE(unmet_constraint(w, o));
  }
  SECTION("placement.max_price is a hard cap, equal is fine") {
    w.placement.max_price = 1.99;
    CHECK(unmet_constraint(w, o) == "placement.max_price");
    w.placement.max_price = 2.0;
    CHECK_FALSE(unmet_constraint(w, o));
  }
  SECTION("placement.spot policies") {
    o.spot = true;
    CHECK(unmet_constraint(w, o) == "placement.spot");  // default never
    w.placement.spot = SpotPolicy::kAllow;
    CHECK_FALSE(unmet_constraint(w, o));
    w.placement.spot = SpotPolicy::kOnly;
    CHECK_FALSE(unmet_constraint(w, o));
    o.spot = false;
    CHECK(unmet_constraint(w, o) == "placement.spot");
  }
  SECTION("available 0 is believed, unknown is not a limit") {
    o.available = 0;
    CHECK(unmet_constraint(w, o) == "available");
    o.available.reset();
    CHECK_FALSE(unmet_constraint(w, o));
  }
}

TEST_CASE("the first failing constraint is the one charged", "[placement]") {
  auto w = gpu_workload();
  w.resources.gpu.vram = {80 * kGB, std::nullopt};
  w.placement.max_price = 1.0;
  auto o = offer("vast", "x", 5.0, "RTX4090", 24);
  CHECK(unmet_constraint(w, o) == "gpu.vram");
}

TEST_CASE("cheapest offer wins; ties break by headroom, provider, then id", "[placement]") {
  auto w = gpu_workload();
  std::vector<Offer> offers = {offer("runpod", "b", 2.0), offer("lambda", "z", 2.0),
                               offer("lambda", "a", 2.0), offer("vast", "c", 2.5)};
  auto plan = solve_placement(w, offers);
  REQUIRE(plan.placement.size() == 1);
  CHECK(ids(plan) == std::vector<std::string>{"lambda/a"});
  CHECK(plan.total_price_per_hour == 2.0);
  CHECK(plan.offers_considered == 4);
  CHECK(plan.offers_matching == 4);

  // More headroom beats a name earlier in the alphabet.
  offers[0].memory_gb = 512;
  plan = solve_placement(w, offers);
  CHECK(ids(plan) == std::vector<std::string>{"runpod/b"});
  // Fallbacks follow the same ranking.
  std::vector<std::string> fb;
  for (const auto& f : plan.placement[0].fallbacks) fb.push_back(f.provider + "/" + f.id);
  CHECK(fb == std::vector<std::string>{"lambda/a", "lambda/z", "vast/c"});
}

TEST_CASE("the plan does not depend on the order of the offers", "[placement]") {
  auto w = gpu_workload();
  w.replicas = 3;
  w.spread = Spread::kRegion;
  std::vector<Offer> offers;
  for (int i = 0; i < 40; ++i) {
    auto o = offer(i % 3 == 0   ? "lambda"
                   : i % 3 == 1 ? "runpod"
                                : "vast",
                   "o" + std::to_string(i), 1.0 + (i % 5) * 0.5);
    o.region = "r" + std::to_string(i % 4);
    offers.push_back(o);
  }
  auto reference = to_json(solve_placement(w, offers));
  std::mt19937 rng(7);
  for (int k = 0; k < 20; ++k) {
    std::shuffle(offers.begin(), offers.end(), rng);
    CHECK(to_json(solve_placement(w, offers)) == reference);
  }
}

TEST_CASE("a listing screened in parts plans as one pass", "[placement]") {
  // 40,000 offers: past the size from which solve_placement screens parts
  // on threads of their own, and a saved listing is screened in parts as it
  // is read; the counts, the nearest misses and the choice must not depend
  // on which part an offer is in, nor on how the offers are held.
  auto w = gpu_workload();
  w.resources.gpu.vram = {80 * kGB, std::nullopt};
  w.placement.max_price = 2.0;
  w.replicas = 2;
  w.spread = Spread::kProvider;
  const char* providers[] = {"lambda", "runpod", "vast"};
  std::vector<Offer> offers;
  std::mt19937 rng(11);
  int matching = 0, vram = 0, price = 0;
  std::map<std::string, std::string> cheapest;  // constraint -> "provider/id"
  std::map<std::string, std::tuple<double, std::string, std::string>> best;
  auto note = [&](const std::string& c, const Offer& o) {
    auto key = std::make_tuple(o.price_per_hour, o.provider, o.id);
    if (!best.count(c) || key < best[c]) best[c] = key, cheapest[c] = o.provider + "/" + o.id;
  };
  for (int i = 0; i < 40000; ++i) {
    const bool big = rng() % 2 == 0;
    auto o = offer(providers[rng() % 3], "o" + std::to_string(i),
                   0.5 + static_cast<double>(rng() % 400) / 100.0, big ? "H100" : "RTX4090",
                   big ? 80 : 24);
    if (!big) {
      ++vram;
      if (o.price_per_hour <= 2.0) note("gpu.vram", o);
    } else if (o.price_per_hour > 2.0 + 1e-9) {
      ++price;
      note("placement.max_price", o);
    } else {
      ++matching;
    }
    offers.push_back(std::move(o));
  }
  auto plan = solve_placement(w, offers);
  CHECK(plan.offers_considered == offers.size());
  CHECK(plan.offers_matching == static_cast<std::size_t>(matching));
  REQUIRE(plan.rejections.size() == 2);
  for (const auto& r : plan.rejections) {
    INFO(r.constraint);
    CHECK(r.count == (r.constraint == "gpu.vram" ? vram : price));
    REQUIRE(r.nearest);
    CHECK(r.nearest->provider + "/" + r.nearest->id == cheapest[r.constraint]);
  }
  REQUIRE(plan.placement.size() == 2);
  const auto reference = to_json(plan);

  // Screens over parts cut anywhere (an empty one too), joined in order.
  const PlacementOptions options;
  for (std::vector<std::size_t> cuts :
       {std::vector<std::size_t>{0, 1, 20000, 39999}, std::vector<std::size_t>{7, 7, 31000}}) {
    cuts.push_back(offers.size());
    Screen whole(w, options);
    std::size_t from = 0;
    for (std::size_t k = 0; k < cuts.size(); ++k) {
      Screen part(w, options);
      for (std::size_t i = from; i < cuts[k]; ++i) part.take(offers[i]);
      from = cuts[k];
      if (k == 0)
        whole = std::move(part);
      else
        whole.join(std::move(part));
    }
    CHECK(whole.screened() == offers.size());
    CHECK(to_json(solve_placement(w, whole, options)) == reference);
  }
  // The same offers held in runs (empty ones included).
  std::vector<std::vector<Offer>> runs(5);
  for (std::size_t i = 0; i < offers.size(); ++i)
    runs[i < 100 ? 0 : i < 30000 ? 2 : 3].push_back(offers[i]);
  CHECK(to_json(solve_placement(w, OfferView(runs))) == reference);

  for (int k = 0; k < 3; ++k) {
    std::shuffle(offers.begin(), offers.end(), rng);
    CHECK(to_json(solve_placement(w, offers)) == reference);
  }
}

TEST_CASE("an offer view walks its runs as one sequence", "[placement]") {
  std::vector<std::vector<Offer>> runs(4);
  for (int i = 0; i < 7; ++i)
    runs[i < 3 ? 1 : 3].push_back(offer("lambda", "o" + std::to_string(i), 1.0));
  const OfferView view(runs);
  REQUIRE(view.size() == 7);
  CHECK(view.front().id == "o0");
  CHECK(view.back().id == "o6");
  std::vector<std::string> ids;
  for (const auto& o : view) ids.push_back(o.id);
  CHECK(ids == std::vector<std::string>{"o0", "o1", "o2", "o3", "o4", "o5", "o6"});
  for (std::size_t i = 0; i < view.size(); ++i) CHECK(view[i].id == "o" + std::to_string(i));
  std::vector<std::string> some;
  view.each(2, 5, [&](const Offer& o, std::size_t at) {
    CHECK(o.id == "o" + std::to_string(at));
    some.push_back(o.id);
  });
  CHECK(some == std::vector<std::string>{"o2", "o3", "o4"});
  const OfferView none;
  CHECK(none.empty());
  CHECK(none.begin() == none.end());
}

TEST_CASE("many providers: ties still break by provider name, spread still by provider",
          "[placement]") {
  // Past the handful of providers the solver numbers by a look along a list
  // (16), names go into a map: the order and the groups are the same.
  auto w = gpu_workload();
  w.replicas = 3;
  w.spread = Spread::kProvider;
  std::vector<Offer> offers;
  for (int i = 40; i-- > 0;) {
    const std::string name = fmt::format("p{:02}", (i * 7) % 40);
    offers.push_back(offer(name, "a", 1.0));
    offers.push_back(offer(name, "b", 1.0));
  }
  auto plan = solve_placement(w, offers);
  CHECK(ids(plan) == std::vector<std::string>{"p00/a", "p01/a", "p02/a"});
  std::reverse(offers.begin(), offers.end());
  CHECK(to_json(solve_placement(w, offers)) == to_json(plan));
}

TEST_CASE("replicas share an offer up to its available count", "[placement]") {
  auto w = gpu_workload();
  w.replicas = 3;
  auto a = offer("lambda", "a", 1.0);
  a.available = 2;
  auto b = offer("runpod", "b", 1.5);
  auto plan = solve_placement(w, {b, a});
  CHECK(ids(plan) == std::vector<std::string>{"lambda/a", "lambda/a", "runpod/b"});
  CHECK(plan.total_price_per_hour == Approx(3.5));
  // Replica 0 may move to b, which has no limit.
  REQUIRE(plan.placement[0].fallbacks.size() == 1);
  CHECK(plan.placement[0].fallbacks[0].id == "b");
  // Replica 2 (on b) may move to a only if a has room beside replicas 0 and 1: it has not.
  CHECK(plan.placement[2].fallbacks.empty());
}

TEST_CASE("unknown availability is no limit", "[placement]") {
  auto w = gpu_workload();
  w.replicas = 4;
  auto plan = solve_placement(w, {offer("lambda", "a", 1.0)});
  CHECK(ids(plan) == std::vector<std::string>(4, "lambda/a"));
}

TEST_CASE("spread provider puts replicas on distinct providers", "[placement]") {
  auto w = gpu_workload();
  w.replicas = 2;
  w.spread = Spread::kProvider;
  auto plan = solve_placement(w, {offer("lambda", "a", 1.0), offer("lambda", "b", 1.1),
                                  offer("runpod", "c", 3.0), offer("vast", "d", 2.0)});
  CHECK(ids(plan) == std::vector<std::string>{"lambda/a", "vast/d"});
  // Replica 0 stays off vast (replica 1's provider); replica 1 stays off lambda.
  std::vector<std::string> fb0, fb1;
  for (const auto& f : plan.placement[0].fallbacks) fb0.push_back(f.id);
  for (const auto& f : plan.placement[1].fallbacks) fb1.push_back(f.id);
  CHECK(fb0 == std::vector<std::string>{"b", "c"});
  CHECK(fb1 == std::vector<std::string>{"c"});
}

TEST_CASE("spread region counts each provider's region separately", "[placement]") {
  auto w = gpu_workload();
  w.replicas = 2;
  w.spread = Spread::kRegion;
  auto a = offer("lambda", "a", 1.0);
  auto b = offer("lambda", "b", 1.1);
  auto c = offer("lambda", "c", 1.2);
  c.region = "eu-west";
  auto d = offer("runpod", "d", 1.15);  // same region name, another provider
  auto plan = solve_placement(w, {a, b, c, d});
  CHECK(ids(plan) == std::vector<std::string>{"lambda/a", "runpod/d"});
}

TEST_CASE("spread that cannot be met is no placement, with the reason", "[placement]") {
  auto w = gpu_workload();
  w.replicas = 3;
  w.spread = Spread::kProvider;
  auto plan = solve_placement(w, {offer("lambda", "a", 1.0), offer("runpod", "b", 1.0)});
  CHECK(plan.placement.empty());
  REQUIRE_FALSE(plan.rejections.empty());
  CHECK(plan.rejections[0].constraint == "spread");
  CHECK(plan.rejections[0].count == 1);
  CHECK(plan.rejections[0].detail ==
        "3 replicas with spread: provider need 3 distinct providers with a matching offer; "
        "found 2");
}

TEST_CASE("not enough capacity is no placement", "[placement]") {
  auto w = gpu_workload();
  w.replicas = 2;
  auto a = offer("lambda", "a", 1.0);
  a.available = 1;
  auto plan = solve_placement(w, {a});
  CHECK(plan.placement.empty());
  REQUIRE(plan.rejections.size() == 1);
  CHECK(plan.rejections[0].constraint == "replicas");
  CHECK(plan.rejections[0].detail ==
        "2 replicas need 2 instances; the matching offers have 1 left");
}

TEST_CASE("options: a subset of replicas around occupied offers", "[placement]") {
  auto w = gpu_workload();
  w.replicas = 3;
  w.spread = Spread::kProvider;
  PlacementOptions options;
  options.replicas = {1};
  options.occupied = {offer("lambda", "a", 1.0), offer("vast", "gone", 0.5)};
  auto plan = solve_placement(
      w, {offer("lambda", "a", 1.0), offer("vast", "v", 1.1), offer("runpod", "r", 2.0)}, options);
  REQUIRE(plan.placement.size() == 1);
  CHECK(plan.placement[0].replica == 1);
  CHECK(plan.placement[0].offer.id == "r");
  CHECK(plan.placement[0].fallbacks.empty());
  CHECK(plan.total_price_per_hour == 2.0);
}

TEST_CASE("options: occupied offers use up their available count", "[placement]") {
  auto w = gpu_workload();
  auto a = offer("lambda", "a", 1.0);
  a.available = 1;
  PlacementOptions options;
  options.replicas = {0};
  options.occupied = {a};
  auto plan = solve_placement(w, {a, offer("runpod", "b", 2.0)}, options);
  CHECK(ids(plan) == std::vector<std::string>{"runpod/b"});
}

TEST_CASE("options: excluded offers sit out a cooldown and are counted", "[placement]") {
  auto w = gpu_workload();
  auto host = offer("lab", "root@10.0.0.5:22", 0.0);
  host.region = "local";
  host.launch_data = {{"host", "10.0.0.5"}};
  PlacementOptions options;
  options.excluded = {"lambda/a", "lab/local/10.0.0.5"};
  auto plan =
      solve_placement(w, {offer("lambda", "a", 1.0), host, offer("runpod", "b", 2.0)}, options);
  CHECK(ids(plan) == std::vector<std::string>{"runpod/b"});
  auto* r = find_rejection(plan, "cooldown");
  REQUIRE(r);
  CHECK(r->count == 2);
  CHECK(r->nearest->id == "root@10.0.0.5:22");
}

TEST_CASE("options: max_fallbacks bounds the list", "[placement]") {
  auto w = gpu_workload();
  std::vector<Offer> offers;
  for (int i = 0; i < 30; ++i) offers.push_back(offer("lambda", fmt::format("{:02}", i), 1.0 + i));
  PlacementOptions options;
  options.max_fallbacks = 3;
  auto plan = solve_placement(w, offers, options);
  REQUIRE(plan.placement.size() == 1);
  REQUIRE(plan.placement[0].fallbacks.size() == 3);
  CHECK(plan.placement[0].fallbacks[2].id == "03");
  CHECK(solve_placement(w, offers).placement[0].fallbacks.size() == 10);
}

TEST_CASE("rejections count first failures and name the nearest miss", "[placement]") {
  auto w = gpu_workload();
  w.resources.gpu.vram = {80 * kGB, std::nullopt};
  w.placement.max_price = 3.50;
  std::vector<Offer> offers = {
      offer("runpod", "h100", 4.10),                // only max_price
      offer("lambda", "h100", 4.50),                // only max_price, pricier
      offer("vast", "4090", 0.40, "RTX4090", 24),   // only vram
      offer("vast", "4090x", 5.00, "RTX4090", 24),  // vram and max_price: charged to vram
  };
  auto plan = solve_placement(w, offers);
  CHECK(plan.placement.empty());
  CHECK(plan.offers_matching == 0);
  REQUIRE(plan.rejections.size() == 2);
  // Equal counts keep check order: hardware before price.
  CHECK(plan.rejections[0].constraint == "gpu.vram");
  CHECK(plan.rejections[0].count == 2);
  REQUIRE(plan.rejections[0].nearest);
  CHECK(plan.rejections[0].nearest->id == "4090");
  CHECK(plan.rejections[0].detail ==
        "cheapest offer otherwise matching: 0.40/h on vast (RTX4090×1, us-east), "
        "24 GB VRAM per GPU, needs ≥80 GB");
  CHECK(plan.rejections[1].constraint == "placement.max_price");
  CHECK(plan.rejections[1].count == 2);
  REQUIRE(plan.rejections[1].nearest);
  CHECK(plan.rejections[1].nearest->provider == "runpod");
  CHECK(plan.rejections[1].detail ==
        "cheapest offer with ≥80 GB VRAM: 4.10/h on runpod (H100×1, us-east), above max_price "
        "3.50");
}

TEST_CASE("a rejection without a single-constraint miss still shows an example", "[placement]") {
  auto w = gpu_workload();
  w.resources.cpus = {64, std::nullopt};
  w.resources.memory = {512 * kGB, std::nullopt};
  auto plan = solve_placement(w, {offer("lambda", "a", 1.0)});
  REQUIRE(plan.rejections.size() == 1);
  CHECK(plan.rejections[0].constraint == "cpus");
  CHECK_FALSE(plan.rejections[0].nearest);
  CHECK(plan.rejections[0].detail ==
        "1 offer rejected, none failing only this; cheapest: 1.00/h on lambda (H100×1, us-east), "
        "16 vCPUs, needs ≥64");
}

TEST_CASE("every rejection reason explains itself", "[placement]") {
  struct Case {
    std::string constraint;
    std::function<void(LaunchTemplate&, Offer&)> setup;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"placement.providers", [](auto& w, auto&) { w.placement.providers = {"runpod"}; },
       "provider lambda is not in placement.providers [runpod]"},
      {"placement.exclude_providers",
       [](auto& w, auto&) { w.placement.exclude_providers = {"lam*"}; },
       "provider lambda is excluded by placement.exclude_providers [lam*]"},
      {"placement.regions", [](auto& w, auto&) { w.placement.regions = {"eu-*"}; },
       "region us-east does not match placement.regions [eu-*]"},
      {"gpu.count",
       [](auto& w, auto&) {
         w.resources.gpu.count = {2, 8};
       },
       "1 GPU, needs 2..8"},
      {"gpu.vendor", [](auto& w, auto&) { w.resources.gpu.vendor = GpuVendor::kAmd; },
       "nvidia GPUs, needs amd"},
      {"gpu.models",
       [](auto& w, auto&) {
         w.resources.gpu.models = {"A100-80GB", "H200"};
       },
       "H100 is not in gpu.models [A100-80GB, H200]"},
      {"gpu.exclude_models", [](auto& w, auto&) { w.resources.gpu.exclude_models = {"H100"}; },
       "H100 is excluded by gpu.exclude_models"},
      {"gpu.vram",
       [](auto& w, auto&) {
         w.resources.gpu.vram = {24 * kGB, 48 * kGB};
       },
       "80 GB VRAM per GPU, needs 24 GB..48 GB"},
      {"gpu.vram",
       [](auto& w, auto& o) {
         w.resources.gpu.vram = {24 * kGB, std::nullopt};
         o.gpu.vram_gb.reset();
       },
       "VRAM not reported"},
      {"gpu.total_vram",
       [](auto& w, auto&) {
         w.resources.gpu.total_vram = {160 * kGB, {}};
       },
       "80 GB VRAM in total, needs ≥160 GB"},
      {"gpu.compute_capability",
       [](auto& w, auto&) {
         w.resources.gpu.compute_capability = {10.0, std::nullopt};
       },
       "compute capability 9, needs ≥10"},
      {"cuda",
       [](auto& w, auto& o) {
         w.resources.cuda = {12.1, {}};
         w.placement.strict = true;
         o.cuda.reset();
       },
       "host CUDA version not reported (placement.strict)"},
      {"cpus",
       [](auto& w, auto& o) {
         w.resources.cpus = {8, {}};
         w.placement.strict = true;
         o.vcpus.reset();
       },
       "vCPU count not reported (placement.strict)"},
      {"cuda",
       [](auto& w, auto&) {
         w.resources.cuda = {12.6, {}};
       },
       "CUDA 12.4, needs ≥12.6"},
      {"cpus",
       [](auto& w, auto&) {
         w.resources.cpus = {4, 8};
       },
       "16 vCPUs, needs 4..8"},
      {"memory",
       [](auto& w, auto&) {
         w.resources.memory = {std::nullopt, 64 * kGB};
       },
       "128 GB RAM, needs ≤64 GB"},
      {"disk",
       [](auto& w, auto&) {
         w.resources.disk = {1000 * kGB, std::nullopt};
       },
       "500 GB disk, needs ≥1000 GB"},
      {"placement.spot", [](auto&, auto& o) { o.spot = true; },
       "a spot offer, placement.spot is never"},
      {"available", [](auto&, auto& o) { o.available = 0; }, "none available now"},
      {"placement.max_price", [](auto& w, auto&) { w.placement.max_price = 0.5; },
       "above max_price 0.50"},
  };
  for (const auto& c : cases) {
    auto w = gpu_workload();
    auto o = offer("lambda", "a", 1.0);
    c.setup(w, o);
    INFO(c.constraint << ": " << c.reason);
    CHECK(unmet_constraint(w, o) == c.constraint);
    auto plan = solve_placement(w, {o});
    CHECK(plan.placement.empty());
    REQUIRE(plan.rejections.size() == 1);
    CHECK(plan.rejections[0].constraint == c.constraint);
    CHECK(plan.rejections[0].count == 1);
    REQUIRE(plan.rejections[0].nearest);
    auto tail = ", " + c.reason;
    CHECK(plan.rejections[0].detail.size() > tail.size());
    CHECK(plan.rejections[0].detail.substr(plan.rejections[0].detail.size() - tail.size()) == tail);
  }
}

TEST_CASE("CPU-only workloads skip per-GPU checks", "[placement]") {
  LaunchTemplate w;
  w.name = "batch";
  w.resources.gpu.count = {0, 0};
  w.resources.cpus = {4, std::nullopt};
  Offer cpu = offer("here", "local", 0.0);
  cpu.gpu = {};
  auto plan = solve_placement(w, {cpu, offer("lambda", "a", 1.0)});
  CHECK(ids(plan) == std::vector<std::string>{"here/local"});
  CHECK(find_rejection(plan, "gpu.count")->count == 1);
}

TEST_CASE("headroom measures surplus over the minimums", "[placement]") {
  auto w = gpu_workload();
  w.resources.memory = {64 * kGB, std::nullopt};
  auto base = offer("lambda", "a", 1.0);
  auto more = base;
  more.memory_gb = 256;
  CHECK(offer_headroom(w, more) > offer_headroom(w, base));
  // 128 GB of RAM where 64 GB were asked: +1.0 for memory.
  auto ram_only = Offer{};
  ram_only.memory_gb = 128;
  CHECK(offer_headroom(w, ram_only) == Approx(1.0));
}

TEST_CASE("plan JSON has the documented shape", "[placement]") {
  auto w = gpu_workload();
  w.placement.max_price = 3.0;
  auto plan = solve_placement(
      w, {offer("lambda", "a", 1.0), offer("runpod", "b", 2.0), offer("vast", "c", 4.0)});
  auto j = to_json(plan);
  CHECK(j["deployment"] == "chat");
  REQUIRE(j["placement"].size() == 1);
  CHECK(j["placement"][0]["replica"] == 0);
  CHECK(j["placement"][0]["offer"]["id"] == "a");
  CHECK(j["placement"][0]["offer"]["gpu"]["model"] == "H100");
  CHECK(j["placement"][0]["fallbacks"][0]["id"] == "b");
  CHECK(j["total_price_per_hour"] == 1.0);
  REQUIRE(j["rejections"].size() == 1);
  CHECK(j["rejections"][0]["constraint"] == "placement.max_price");
  CHECK(j["rejections"][0]["count"] == 1);
  CHECK(j["rejections"][0]["nearest"]["id"] == "c");
  CHECK(j["rejections"][0]["detail"].is_string());
  CHECK(j["offers_considered"] == 3);
  CHECK(j["offers_matching"] == 2);
  auto none = to_json(solve_placement(w, {}));
  CHECK(none["placement"].empty());
  CHECK(none["rejections"].empty());
}

TEST_CASE("an offer whose provider cannot honour the container is rejected, saying why",
          "[placement]") {
  auto w = gpu_workload();
  w.ports = {PortMapping{5000, std::nullopt, "udp"}};
  Offer pod = offer("runpod", "pod", 0.5);
  pod.honours = kAllFeatures & ~feature_bit(WorkloadFeature::kUdpPort);
  Offer vm = offer("lambda", "vm", 0.9);
  auto plan = solve_placement(w, {pod, vm}, {});
  CHECK(ids(plan) == std::vector<std::string>{"lambda/vm"});
  CHECK(unmet_constraint(w, pod) == "workload");
  CHECK_FALSE(unmet_constraint(w, vm));

  // Alone, the pod cannot be placed, and plan says what it cannot do.
  auto alone = solve_placement(w, {pod}, {});
  REQUIRE(alone.placement.empty());
  const auto* r = find_rejection(alone, "workload");
  REQUIRE(r);
  CHECK(r->count == 1);
  CHECK(r->detail.find("runpod: cannot publish a UDP port") != std::string::npos);

  // A template that asks nothing special places there.
  w.ports = {PortMapping{5000, std::nullopt, "tcp"}};
  CHECK(ids(solve_placement(w, {pod, vm}, {})) == std::vector<std::string>{"runpod/pod"});
}

TEST_CASE("what an offer's provider cannot do survives a saved listing", "[placement]") {
  Offer pod = offer("runpod", "pod", 0.5);
  pod.honours = kAllFeatures & ~(feature_bit(WorkloadFeature::kHostPort) |
                                 feature_bit(WorkloadFeature::kBindVolume));
  auto j = to_json(pod);
  CHECK(j["cannot"] == nlohmann::json::array({"bind_volume", "host_port"}));
  auto back = offer_from_json(j);
  REQUIRE(back);
  CHECK(back->honours == pod.honours);
  CHECK_FALSE(to_json(offer("lambda", "vm", 1)).contains("cannot"));
  j["cannot"] = {"teleport"};
  CHECK_FALSE(offer_from_json(j));
}

TEST_CASE("the chosen offer's unreported host facts are warnings in the plan, not rejections",
          "[placement]") {
  auto w = gpu_workload();
  w.resources.cpus = {8, std::nullopt};
  w.resources.memory = {32 * kGB, std::nullopt};
  w.resources.disk = {100 * kGB, std::nullopt};
  w.resources.cuda = {12.1, std::nullopt};
  Offer pod = offer("runpod", "pod", 0.5);
  pod.vcpus.reset();
  pod.memory_gb.reset();
  pod.disk_gb.reset();
  pod.settable = fact_bit(HostFact::kDisk);
  Offer vm = offer("lambda", "vm", 0.9);
  vm.cuda.reset();

  auto plan = solve_placement(w, {pod, vm});
  REQUIRE(plan.placement.size() == 1);
  CHECK(plan.placement[0].offer.id == "pod");
  const auto& u = plan.placement[0].unverified;
  REQUIRE(u.size() == 2);  // disk is set at launch: not a warning
  CHECK(u[0].constraint == "cpus");
  CHECK(u[0].detail == "runpod does not report the vCPU count; the template needs ≥8");
  CHECK(u[1].constraint == "memory");
  CHECK(u[1].detail == "runpod does not report the RAM; the template needs ≥32 GB");
  auto j = to_json(plan);
  CHECK(j["placement"][0]["unverified"][0]["constraint"] == "cpus");
  CHECK(j["placement"][0]["offer"]["unknown"] == nlohmann::json({"vcpus", "memory_gb"}));
  CHECK(j["placement"][0]["offer"]["settable"] == nlohmann::json({"disk_gb"}));

  // Strict: the pod is rejected for what it does not report, the VM for its CUDA.
  w.placement.strict = true;
  auto strict = solve_placement(w, {pod, vm});
  CHECK(strict.placement.empty());
  REQUIRE(strict.rejections.size() == 2);
  std::set<std::string> rejected{strict.rejections[0].constraint, strict.rejections[1].constraint};
  CHECK(rejected == std::set<std::string>{"cuda", "cpus"});

  // A saved listing keeps what is settable; "unknown" is derived again.
  auto back = offer_from_json(to_json(pod));
  REQUIRE(back);
  CHECK(back->settable == fact_bit(HostFact::kDisk));
  CHECK(back->unknown_facts() == (fact_bit(HostFact::kCpus) | fact_bit(HostFact::kMemory)));
  auto bad = to_json(pod);
  bad["settable"] = {"gpus"};
  CHECK_FALSE(offer_from_json(bad));
}

TEST_CASE("placement.offers pins the deployment to offers by id or provider/id", "[placement]") {
  auto w = gpu_workload();
  Offer cheap = offer("vast", "4242", 0.5);
  Offer pinned = offer("runpod", "NVIDIA H100 80GB HBM3/secure/US-TX-3/x1", 2.99);
  Offer same_id = offer("lambda", "4242", 0.4);

  w.placement.offers = {"runpod/*/secure/*"};
  auto plan = solve_placement(w, {cheap, pinned, same_id});
  REQUIRE(plan.placement.size() == 1);
  CHECK(plan.placement[0].offer.provider == "runpod");
  REQUIRE(plan.rejections.size() == 1);
  CHECK(plan.rejections[0].constraint == "placement.offers");
  CHECK(plan.rejections[0].count == 2);
  CHECK(plan.rejections[0].detail.find("offer lambda/4242 is not in placement.offers "
                                       "[runpod/*/secure/*]") != std::string::npos);

  // A bare id matches that id on every provider; provider/id only one.
  w.placement.offers = {"4242"};
  CHECK_FALSE(unmet_constraint(w, cheap));
  CHECK_FALSE(unmet_constraint(w, same_id));
  CHECK(unmet_constraint(w, pinned) == "placement.offers");
  w.placement.offers = {"vast/4242"};
  CHECK_FALSE(unmet_constraint(w, cheap));
  CHECK(unmet_constraint(w, same_id) == "placement.offers");
}

TEST_CASE("marketplace quality floors reject low offers and pass those that report nothing",
          "[placement]") {
  auto w = gpu_workload();
  w.placement.min_reliability = 0.98;
  w.placement.min_inet_mbps = 500;
  Offer flaky = offer("vast", "1", 0.3);
  flaky.reliability = 0.91;
  flaky.inet_down_mbps = 900;
  Offer slow = offer("vast", "2", 0.4);
  slow.reliability = 0.995;
  slow.inet_down_mbps = 120;
  Offer good = offer("vast", "3", 0.6);
  good.reliability = 0.98;
  good.inet_down_mbps = 500;
  Offer vm = offer("lambda", "vm", 0.5);  // reports neither: passes

  CHECK(unmet_constraint(w, flaky) == "placement.min_reliability");
  CHECK(unmet_constraint(w, slow) == "placement.min_inet_mbps");
  CHECK_FALSE(unmet_constraint(w, good));
  CHECK_FALSE(unmet_constraint(w, vm));
  auto plan = solve_placement(w, {flaky, slow, good, vm});
  REQUIRE(plan.placement.size() == 1);
  CHECK(plan.placement[0].offer.id == "vm");
  std::map<std::string, std::string> detail;
  for (const auto& r : plan.rejections) detail[r.constraint] = r.detail;
  CHECK(detail["placement.min_reliability"].find("reliability 0.91, needs ≥0.98") !=
        std::string::npos);
  CHECK(detail["placement.min_inet_mbps"].find("120 Mbps down, needs ≥500") != std::string::npos);

  auto back = offer_from_json(to_json(good));
  REQUIRE(back);
  CHECK(back->reliability == Approx(0.98));
  CHECK(back->inet_down_mbps == Approx(500));
}

TEST_CASE("offers where the template's provider volumes live rank first", "[placement][volumes]") {
  auto w = gpu_workload();
  w.volumes = {Volume{Volume::Kind::kNamed, "models", "", "/models", false, 100 * kGB}};
  Offer cheap = offer("runpod", "cheap", 1.0);
  cheap.region = "EU-RO-1";
  Offer home = offer("runpod", "home", 2.5);
  home.region = "US-KS-2";
  Offer other_provider = offer("lambda", "same-region-name", 0.5);
  other_provider.region = "US-KS-2";

  // No volume yet: the cheapest, which makes it there.
  Plan first = solve_placement(w, {cheap, home, other_provider});
  REQUIRE(ids(first) == std::vector<std::string>{"lambda/same-region-name"});
  CHECK(first.placement[0].new_volumes == std::vector<std::string>{"models"});

  // The volume lives at runpod US-KS-2: that offer wins over cheaper ones,
  // and nothing new is made; the rest stay ranked by price behind it.
  PlacementOptions options;
  options.volume_homes = {{"models", "runpod", "US-KS-2", "vol1", 100, ""}};
  Plan kept = solve_placement(w, {cheap, home, other_provider}, options);
  REQUIRE(ids(kept) == std::vector<std::string>{"runpod/home"});
  CHECK(kept.placement[0].new_volumes.empty());
  REQUIRE(kept.placement[0].fallbacks.size() == 2);
  CHECK(kept.placement[0].fallbacks[0].id == "same-region-name");
  CHECK(to_json(kept)["volumes"][0]["region"] == "US-KS-2");
  CHECK(to_json(kept)["placement"][0]["new_volumes"] == nlohmann::json::array());

  // placement.volumes: require: only where it lives; the others are
  // rejected, and the rejection says where the volume is.
  w.placement.volumes_required = true;
  Plan required = solve_placement(w, {cheap, home, other_provider}, options);
  REQUIRE(ids(required) == std::vector<std::string>{"runpod/home"});
  CHECK(required.placement[0].fallbacks.empty());
  REQUIRE(required.rejections.size() == 1);
  CHECK(required.rejections[0].constraint == "placement.volumes");
  CHECK(required.rejections[0].count == 2);
  CHECK(required.rejections[0].detail.find(
            "volume models lives at runpod in US-KS-2 (placement.volumes: require)") !=
        std::string::npos);
  // Nowhere to go but away from it: no placement, and that is the reason.
  Plan stuck = solve_placement(w, {cheap, other_provider}, options);
  CHECK(stuck.placement.empty());
  REQUIRE_FALSE(stuck.rejections.empty());
  CHECK(stuck.rejections[0].constraint == "placement.volumes");
  // A volume that lives nowhere yet may be made anywhere, required or not.
  Plan fresh = solve_placement(w, {cheap, home, other_provider});
  REQUIRE(ids(fresh) == std::vector<std::string>{"lambda/same-region-name"});
  w.placement.volumes_required = false;

  // A volume without size: is the host's own: no homes, no preference.
  w.volumes[0].size_bytes.reset();
  Plan plain = solve_placement(w, {cheap, home, other_provider}, options);
  REQUIRE(ids(plain) == std::vector<std::string>{"lambda/same-region-name"});
  CHECK(plain.placement[0].new_volumes.empty());
}
