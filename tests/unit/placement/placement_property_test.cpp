// The solver against brute force: on thousands of small random instances
// (seeded, so every run checks the same ones), enumerate every assignment of
// replicas to offers and compare the optimum with what solve_placement found.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "berth/placement/placement.h"

using namespace berth;

namespace {

struct Instance {
  LaunchTemplate workload;
  std::vector<Offer> offers;
  PlacementOptions options;
};

Instance random_instance(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  Instance in;
  in.workload.name = "prop";
  in.workload.resources.gpu.count = {1, 2};
  in.workload.resources.memory = {64'000'000'000ull, std::nullopt};
  in.workload.placement.max_price = 2.5;
  in.workload.replicas = 1 + pick(3);
  in.workload.spread = static_cast<Spread>(pick(3));
  const char* providers[] = {"a", "b", "c"};
  const char* regions[] = {"r1", "r2"};
  const double prices[] = {1.0, 1.25, 1.5, 2.0, 3.0};  // 3.0 is above max_price
  const int n = 1 + pick(6);
  for (int i = 0; i < n; ++i) {
    Offer o;
    o.provider = providers[pick(3)];
    o.id = "o" + std::to_string(i);
    o.region = regions[pick(2)];
    o.gpu.model = "H100";
    o.gpu.count = 1 + pick(3);  // 3 fails gpu.count
    o.gpu.vram_gb = 80;
    o.vcpus = 8 * (1 + pick(2));
    o.memory_gb = 32.0 * (1 + pick(4));  // 32 fails memory
    o.price_per_hour = prices[pick(5)];
    o.spot = pick(8) == 0;  // fails the default spot: never
    int avail = pick(4);
    if (avail < 3) o.available = avail;
    in.offers.push_back(o);
  }
  // Sometimes watch re-places some replicas around the others' offers.
  if (pick(3) == 0 && in.workload.replicas > 1) {
    in.options.replicas = {0};
    int held = 1 + pick(2);
    for (int k = 0; k < held; ++k) {
      if (pick(2) == 0) {
        in.options.occupied.push_back(in.offers[pick(n)]);
      } else {
        Offer away;
        away.provider = providers[pick(3)];
        away.id = "elsewhere";
        away.region = regions[pick(2)];
        in.options.occupied.push_back(away);
      }
    }
  }
  if (pick(5) == 0) in.options.excluded.insert(in.offers[pick(n)].provider + "/o0");
  in.options.max_fallbacks = 1 + pick(4);
  return in;
}

std::string group(const Instance& in, const Offer& o) {
  switch (in.workload.spread) {
    case Spread::kNone:
      return "";
    case Spread::kProvider:
      return o.provider;
    case Spread::kRegion:
      return o.provider + "/" + o.region;
  }
  return "";
}

bool usable(const Instance& in, const Offer& o) {
  return !unmet_constraint(in.workload, o) && !in.options.excluded.count(o.provider + "/" + o.id);
}

/// The definition of a feasible assignment, written independently of the solver.
bool feasible(const Instance& in, const std::vector<const Offer*>& chosen) {
  std::map<std::string, int> uses;
  std::set<std::string> groups;
  for (const auto& o : in.options.occupied) {
    ++uses[o.provider + "/" + o.id];
    if (in.workload.spread != Spread::kNone) groups.insert(group(in, o));
  }
  for (const Offer* o : chosen) {
    if (!usable(in, *o)) return false;
    int used = ++uses[o->provider + "/" + o->id];
    if (o->available && used > *o->available) return false;
    if (in.workload.spread != Spread::kNone && !groups.insert(group(in, *o)).second) return false;
  }
  return true;
}

struct Score {
  double price = 0;
  double headroom = 0;
};

Score score(const Instance& in, const std::vector<const Offer*>& chosen) {
  Score s;
  for (const Offer* o : chosen) {
    s.price += o->price_per_hour;
    s.headroom += offer_headroom(in.workload, *o);
  }
  return s;
}

constexpr double kEps = 1e-9;

bool better(const Score& a, const Score& b) {
  if (std::abs(a.price - b.price) > kEps) return a.price < b.price;
  return a.headroom > b.headroom + kEps;
}

std::optional<Score> brute_force(const Instance& in, std::size_t replicas) {
  std::optional<Score> best;
  const std::size_t n = in.offers.size();
  std::vector<std::size_t> pick(replicas, 0);
  while (true) {
    std::vector<const Offer*> chosen;
    for (auto i : pick) chosen.push_back(&in.offers[i]);
    if (feasible(in, chosen)) {
      Score s = score(in, chosen);
      if (!best || better(s, *best)) best = s;
    }
    std::size_t k = 0;
    while (k < replicas && ++pick[k] == n) pick[k++] = 0;
    if (k == replicas) break;
  }
  return best;
}

}  // namespace

TEST_CASE("the solver finds the brute-force optimum on random small instances",
          "[placement][property]") {
  std::mt19937 rng(20261130);
  int feasible_cases = 0;
  int with_spread = 0;
  for (int round = 0; round < 3000; ++round) {
    Instance in = random_instance(rng);
    std::size_t replicas =
        in.options.replicas.empty() ? in.workload.replicas : in.options.replicas.size();
    INFO("round " << round);
    Plan plan = solve_placement(in.workload, in.offers, in.options);
    auto best = brute_force(in, replicas);

    REQUIRE(plan.placement.empty() == !best.has_value());
    if (!best) continue;
    ++feasible_cases;
    if (in.workload.spread != Spread::kNone) ++with_spread;

    REQUIRE(plan.placement.size() == replicas);
    std::vector<const Offer*> chosen;
    for (const auto& p : plan.placement) chosen.push_back(&p.offer);
    REQUIRE(feasible(in, chosen));
    Score got = score(in, chosen);
    CHECK(got.price == Approx(best->price).margin(kEps));
    CHECK(got.headroom == Approx(best->headroom).margin(kEps));
    CHECK(plan.total_price_per_hour == Approx(best->price).margin(kEps));

    // Fallbacks: exactly the best offers each replica could move to while the
    // others stay, in rank order, up to max_fallbacks.
    for (std::size_t i = 0; i < plan.placement.size(); ++i) {
      const auto& own = plan.placement[i].offer;
      std::vector<const Offer*> eligible;
      for (const auto& f : in.offers) {
        if (f.provider == own.provider && f.id == own.id) continue;
        auto moved = chosen;
        moved[i] = &f;
        if (feasible(in, moved)) eligible.push_back(&f);
      }
      const auto& fallbacks = plan.placement[i].fallbacks;
      CHECK(fallbacks.size() == std::min(eligible.size(), in.options.max_fallbacks));
      for (std::size_t k = 0; k < fallbacks.size(); ++k) {
        auto moved = chosen;
        moved[i] = &fallbacks[k];
        CHECK(feasible(in, moved));
        if (k > 0) CHECK_FALSE(better(score(in, {&fallbacks[k]}), score(in, {&fallbacks[k - 1]})));
      }
      // Nothing better was left out.
      if (!fallbacks.empty() && fallbacks.size() < eligible.size()) {
        for (const Offer* e : eligible) {
          bool listed = false;
          for (const auto& f : fallbacks) listed |= f.provider == e->provider && f.id == e->id;
          if (!listed) CHECK_FALSE(better(score(in, {e}), score(in, {&fallbacks.back()})));
        }
      }
    }
  }
  // The generator must exercise both outcomes and the spread cases.
  CHECK(feasible_cases > 1000);
  CHECK(with_spread > 400);
}
