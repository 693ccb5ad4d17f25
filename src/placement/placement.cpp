// The placement solver (docs/templates.md, placement).
//
// Why the greedy choice below is exact. Every replica of a deployment asks for
// the same thing, so an assignment is just a multiset of R offers. Expand each
// matching offer into as many identical copies as it has instances left
// (`available` minus what other replicas already hold; unknown = no limit, see
// below). The feasible multisets are then the independent sets of size R of:
//   - spread none: the uniform matroid over the copies;
//   - spread provider|region: the partition matroid "at most one copy per
//     group" (groups already held by other replicas are removed),
// each truncated to rank R, and a truncated matroid is still a matroid. On a
// matroid, taking elements in order of weight and keeping each one that stays
// independent yields a minimum-weight basis (Rado–Edmonds). Our weight is
// lexicographic — fewer provider volumes elsewhere, then price, then less
// headroom — which equals a scalar weight away·M² + price·M − headroom for a
// large enough M, so the greedy basis keeps replicas where their volumes
// live first, then has the lowest total price and the most total headroom. Provider name and
// offer id only order equal-weight copies, making the answer deterministic.
// tests/unit/placement/placement_property_test.cpp checks this against brute force.
//
// `available == nullopt` (unknown) places no limit: the offer docs (docs/json.md) treat the
// count as a hint, the instance types of VM clouds report none, and deploy
// walks the fallbacks when a launch meets no capacity. A provider that says 0
// is believed (the "available" constraint).
//
// Cost: one pass over the offers to filter them, a heap built in O(n), and
// only as many pops as the choice and the fallbacks need, so a million offers
// are never fully sorted.
#include "berth/placement/placement.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <climits>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "placement/placement_filter.h"

namespace berth {
namespace {

using placement::bit;
using placement::Constraint;
using placement::ConstraintChecker;
using placement::ConstraintMask;

constexpr int kConstraintCount = static_cast<int>(Constraint::kCount_);
constexpr int kUnlimited = INT_MAX;
// Screening a listing in memory (solve_placement) takes a thread more for
// every so many offers, up to so many threads.
constexpr std::size_t kFilterThreadOffers = 16384;
constexpr std::size_t kFilterThreads = 8;

struct Candidate {
  int away;  // provider volumes not where the offer is (volumes_away)
  double price;
  double headroom;
  int provider_rank;    // the screen's id for the provider, then its rank by name
  int cap;              // instances available (Offer::available), kUnlimited when unknown
  std::uint32_t index;  // the offer's place in the listing
  const Offer* offer;
};

/// True when `a` ranks before `b`: fewer volumes away, cheaper, then more headroom, then
/// provider name, then offer id (then input position, for exact duplicates).
bool ranks_before(const Candidate& a, const Candidate& b) {
  if (a.away != b.away) return a.away < b.away;
  if (a.price != b.price) return a.price < b.price;
  if (a.headroom != b.headroom) return a.headroom > b.headroom;
  if (a.provider_rank != b.provider_rank) return a.provider_rank < b.provider_rank;
  if (int c = a.offer->id.compare(b.offer->id); c != 0) return c < 0;
  return a.index < b.index;
}

/// Pops candidates best-first without sorting them all.
class CandidateQueue {
 public:
  explicit CandidateQueue(std::vector<Candidate> items) : heap_(std::move(items)) {
    std::make_heap(heap_.begin(), heap_.end(), worse);
  }
  bool empty() const { return heap_.empty(); }
  Candidate pop() {
    std::pop_heap(heap_.begin(), heap_.end(), worse);
    Candidate c = heap_.back();
    heap_.pop_back();
    return c;
  }

 private:
  static bool worse(const Candidate& a, const Candidate& b) { return ranks_before(b, a); }
  std::vector<Candidate> heap_;
};

std::string offer_key(const std::string& provider, const std::string& id) {
  return provider + '\n' + id;
}

bool is_excluded(const Offer& o, const std::set<std::string>& excluded) {
  if (excluded.empty()) return false;
  if (excluded.count(o.provider + "/" + o.id)) return true;
  if (auto h = o.launch_data.find("host");
      o.launch_data.is_object() && h != o.launch_data.end() && h->is_string())
    return excluded.count(o.provider + "/" + o.region + "/" + h->get<std::string>()) > 0;
  return false;
}

/// Small numbers for provider names, in the order first seen. A listing
/// names a handful: each is found by a look along those seen (the last one
/// first), without hashing it; past 16 names, in a map.
class ProviderIds {
 public:
  int of(const std::string& name) {
    if (last_ < names_.size() && names_[last_] == name) return static_cast<int>(last_);
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == name) return static_cast<int>(last_ = i);
    if (names_.size() < kListed) {
      names_.push_back(name);
      return static_cast<int>(last_ = names_.size() - 1);
    }
    const int next = static_cast<int>(kListed + more_.size());
    return more_.emplace(name, next).first->second;
  }
  /// Each name's id, by name.
  std::vector<std::pair<std::string, int>> sorted() const {
    std::vector<std::pair<std::string, int>> out;
    for (std::size_t i = 0; i < names_.size(); ++i)
      out.emplace_back(names_[i], static_cast<int>(i));
    for (const auto& [name, id] : more_) out.emplace_back(name, id);
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  static constexpr std::size_t kListed = 16;
  std::vector<std::string> names_;
  std::unordered_map<std::string, int> more_;
  std::size_t last_ = 0;
};

/// Spread groups of spread: region: one id per provider and region.
class RegionGroups {
 public:
  int of(const Offer& o) {
    const auto p = static_cast<std::size_t>(providers_.of(o.provider));
    if (regions_.size() <= p) regions_.resize(p + 1);
    auto& regions = regions_[p];
    auto it = regions.find(o.region);
    if (it == regions.end()) it = regions.emplace(o.region, next_++).first;
    return it->second;
  }

 private:
  ProviderIds providers_;
  std::vector<std::unordered_map<std::string, int>> regions_;  // by provider id
  int next_ = 0;
};

std::string offer_brief(const Offer& o) {
  if (o.gpu.count == 0) return "no GPU";
  return fmt::format("{}×{}", o.gpu.model, o.gpu.count);
}

std::string offer_summary(const Offer& o) {
  return fmt::format("{:.2f}/h on {} ({}{}{})", o.price_per_hour, o.provider, offer_brief(o),
                     o.region.empty() ? "" : ", ", o.region);
}

/// What the template chiefly asks for, to say "cheapest offer with ≥80 GB VRAM".
std::string requirement_phrase(const LaunchTemplate& w) {
  const auto& g = w.resources.gpu;
  std::vector<std::string> parts;
  if (g.count.max && *g.count.max == 0) {
    parts.push_back("no GPU");
  } else {
    if (g.vram.min) parts.push_back(fmt::format("≥{:g} GB VRAM", bytes_to_gb(*g.vram.min)));
    if (!g.models.empty()) parts.push_back(fmt::format("{}", fmt::join(g.models, "/")));
  }
  if (parts.empty()) return "meeting every other constraint";
  return "with " + fmt::format("{}", fmt::join(parts, ", "));
}

bool is_hardware(Constraint c) {
  switch (c) {
    case Constraint::kProviders:
    case Constraint::kExcludeProviders:
    case Constraint::kRegions:
    case Constraint::kOffers:
    case Constraint::kMinReliability:
    case Constraint::kMinInet:
    case Constraint::kSpot:
    case Constraint::kAvailable:
    case Constraint::kMaxPrice:
    case Constraint::kVolumes:
    case Constraint::kCooldown:
      return false;
    default:
      return true;
  }
}

/// An offer and its place in the listing.
struct Pick {
  std::uint32_t index;
  const Offer* offer;
};

/// Per constraint: how many offers it rejected first, the cheapest offer it
/// rejected first (an example), and the cheapest offer failing only it.
struct RejectionTally {
  std::array<int, kConstraintCount> count{};
  std::array<std::optional<Pick>, kConstraintCount> example;
  std::array<std::optional<Pick>, kConstraintCount> nearest;
};

bool cheaper(const Pick& a, const Pick& b) {
  const Offer& x = *a.offer;
  const Offer& y = *b.offer;
  if (x.price_per_hour != y.price_per_hour) return x.price_per_hour < y.price_per_hour;
  if (x.provider != y.provider) return x.provider < y.provider;
  if (x.id != y.id) return x.id < y.id;
  return a.index < b.index;
}

// True when `p` is kept.
bool keep_cheapest(std::optional<Pick>& slot, const Pick& p) {
  if (slot && !cheaper(p, *slot)) return false;
  slot = p;
  return true;
}

// True when `p` is kept as an example or a nearest miss.
bool tally(RejectionTally& t, const Pick& p, ConstraintMask mask) {
  int first = static_cast<int>(placement::first_constraint(mask));
  ++t.count[first];
  bool kept = keep_cheapest(t.example[first], p);
  if ((mask & (mask - 1)) == 0) kept = keep_cheapest(t.nearest[first], p) || kept;
  return kept;
}

/// Adds what `from` counted over other offers of the same listing into `t`.
void merge(RejectionTally& t, const RejectionTally& from) {
  for (int i = 0; i < kConstraintCount; ++i) {
    t.count[i] += from.count[i];
    if (from.example[i]) keep_cheapest(t.example[i], *from.example[i]);
    if (from.nearest[i]) keep_cheapest(t.nearest[i], *from.nearest[i]);
  }
}

std::vector<Rejection> rejections_from(const RejectionTally& t, const LaunchTemplate& w,
                                       const ConstraintChecker& checker) {
  std::vector<Rejection> out;
  for (int i = 0; i < kConstraintCount; ++i) {
    if (t.count[i] == 0) continue;
    auto c = static_cast<Constraint>(i);
    Rejection r;
    r.constraint = placement::constraint_name(c);
    r.count = t.count[i];
    if (t.nearest[i]) {
      const Offer& o = *t.nearest[i]->offer;
      r.nearest = o;
      r.detail = fmt::format("cheapest offer {}: {}, {}",
                             is_hardware(c) ? "otherwise matching" : requirement_phrase(w),
                             offer_summary(o), checker.explain(c, o));
    } else {
      const Offer& o = *t.example[i]->offer;
      r.detail =
          fmt::format("{} offer{} rejected, none failing only this; cheapest: {}, {}", r.count,
                      r.count == 1 ? "" : "s", offer_summary(o), checker.explain(c, o));
    }
    out.push_back(std::move(r));
  }
  // Most rejections first: the constraint to relax leads. Ties keep check order.
  std::stable_sort(out.begin(), out.end(),
                   [](const Rejection& a, const Rejection& b) { return a.count > b.count; });
  return out;
}

const char* spread_unit(Spread s) { return s == Spread::kProvider ? "provider" : "region"; }

}  // namespace

struct Screen::State {
  State(const LaunchTemplate& w, const PlacementOptions& o) : workload(w), options(o), checker(w) {
    checker.set_volume_homes(&options.volume_homes);
  }
  const LaunchTemplate& workload;
  const PlacementOptions& options;
  ConstraintChecker checker;
  RejectionTally tally;
  std::vector<Candidate> candidates;
  ProviderIds providers;  // the candidates' providers (Candidate::provider_rank)
  std::uint32_t screened = 0;
  // The checkers of screens joined into this one: what they saw of regions
  // is asked of them only if regions() is.
  std::vector<ConstraintChecker> joined;
};

Screen::Screen(const LaunchTemplate& workload, const PlacementOptions& options)
    : s_(std::make_unique<State>(workload, options)) {}
Screen::~Screen() = default;
Screen::Screen(Screen&&) noexcept = default;
Screen& Screen::operator=(Screen&&) noexcept = default;

bool Screen::take(const Offer& o) {
  State& s = *s_;
  const std::uint32_t i = s.screened++;
  const auto& w = s.workload;
  const auto& homes = s.options.volume_homes;
  ConstraintMask mask = s.checker.failures(o);
  if (mask == 0 && w.placement.volumes_required && volumes_elsewhere(w, homes, o) > 0)
    mask = bit(Constraint::kVolumes);
  if (mask == 0 && is_excluded(o, s.options.excluded)) mask = bit(Constraint::kCooldown);
  if (mask != 0) return tally(s.tally, Pick{i, &o}, mask);
  // What the solver needs of the offer, taken while it is at hand.
  int away = homes.empty() ? 0 : volumes_away(w, homes, o);
  s.candidates.push_back({away, o.price_per_hour, s.checker.headroom(o), s.providers.of(o.provider),
                          o.available ? *o.available : kUnlimited, i, &o});
  return true;
}

void Screen::join(Screen&& next) {
  State& s = *s_;
  State& n = *next.s_;
  const std::uint32_t base = s.screened;
  std::vector<int> provider;  // next's provider ids -> this screen's
  for (const auto& [name, id] : n.providers.sorted()) {
    if (provider.size() <= static_cast<std::size_t>(id)) provider.resize(static_cast<std::size_t>(id) + 1);
    provider[static_cast<std::size_t>(id)] = s.providers.of(name);
  }
  for (auto& c : n.candidates) {
    c.index += base;
    c.provider_rank = provider[static_cast<std::size_t>(c.provider_rank)];
  }
  for (auto* picks : {&n.tally.example, &n.tally.nearest})
    for (auto& p : *picks)
      if (p) p->index += base;
  s.candidates.insert(s.candidates.end(), n.candidates.begin(), n.candidates.end());
  merge(s.tally, n.tally);
  s.screened += n.screened;
  s.joined.push_back(std::move(n.checker));
  for (auto& c : n.joined) s.joined.push_back(std::move(c));
}

std::size_t Screen::screened() const { return s_->screened; }

std::vector<std::string> Screen::regions() const {
  std::vector<std::string> out = s_->checker.regions_seen();
  for (const auto& c : s_->joined) {
    auto more = c.regions_seen();
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

Plan solve_placement(const LaunchTemplate& workload, const OfferView& offers,
                     const PlacementOptions& options) {
  const std::size_t n = offers.size();
  const std::size_t threads =
      std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1,
                              std::min<std::size_t>(kFilterThreads, n / kFilterThreadOffers + 1));
  // A large listing (a saved one of 100,000 offers and more) is screened in
  // equal parts, each but the first on a thread of its own.
  auto part = [&](std::size_t k) { return n * k / threads; };
  std::vector<Screen> screens;
  for (std::size_t k = 0; k < threads; ++k) screens.emplace_back(workload, options);
  auto screen = [&](std::size_t k) {
    offers.each(part(k), part(k + 1), [&](const Offer& o, std::size_t) { screens[k].take(o); });
  };
  std::vector<std::thread> others;
  for (std::size_t k = 1; k < threads; ++k) others.emplace_back(screen, k);
  screen(0);
  for (auto& t : others) t.join();
  for (std::size_t k = 1; k < threads; ++k) screens[0].join(std::move(screens[k]));
  return solve_placement(workload, screens[0], options);
}

Plan solve_placement(const LaunchTemplate& workload, Screen& screened,
                     const PlacementOptions& options) {
  Plan plan;
  plan.deployment = workload.name;
  plan.offers_considered = screened.screened();
  plan.volume_homes = options.volume_homes;

  std::vector<int> replicas = options.replicas;
  if (replicas.empty())
    for (int r = 0; r < workload.replicas; ++r) replicas.push_back(r);
  std::sort(replicas.begin(), replicas.end());
  replicas.erase(std::unique(replicas.begin(), replicas.end()), replicas.end());
  const std::size_t wanted = replicas.size();
  const Spread spread = workload.spread;

  Screen::State& screen = *screened.s_;
  const ConstraintChecker& checker = screen.checker;
  std::vector<Candidate> candidates = std::move(screen.candidates);
  plan.offers_matching = candidates.size();
  plan.rejections = rejections_from(screen.tally, workload, checker);

  // Provider ranks (by name) replace string comparisons in the hot
  // comparator; with spread: provider, they are the spread groups. The
  // providers of offers other replicas hold are numbered too.
  ProviderIds& ids = screen.providers;
  for (const auto& o : options.occupied) ids.of(o.provider);
  std::vector<int> rank;
  {
    const auto names = ids.sorted();
    rank.resize(names.size());
    for (std::size_t r = 0; r < names.size(); ++r)
      rank[static_cast<std::size_t>(names[r].second)] = static_cast<int>(r);
    for (auto& c : candidates) c.provider_rank = rank[static_cast<std::size_t>(c.provider_rank)];
  }
  RegionGroups regions;
  auto group_of_offer = [&](const Offer& o, int provider_rank) {
    return spread == Spread::kNone       ? 0
           : spread == Spread::kProvider ? provider_rank
                                         : regions.of(o);
  };

  // What other replicas already hold: capacity used per offer, groups taken.
  std::unordered_map<std::string, int> held;
  std::unordered_set<int> blocked_groups;
  for (const auto& o : options.occupied) {
    ++held[offer_key(o.provider, o.id)];
    if (spread != Spread::kNone)
      blocked_groups.insert(group_of_offer(o, rank[static_cast<std::size_t>(ids.of(o.provider))]));
  }

  // Per candidate: spread group and instances left. Candidates that cannot
  // take a replica at all never enter the queue. The offers themselves are
  // not looked at again here unless other replicas hold some, or spread is
  // by region.
  std::vector<int> group_of(plan.offers_considered, 0);
  std::vector<int> left(plan.offers_considered, 0);
  std::vector<Candidate> usable;
  usable.reserve(candidates.size());
  for (const auto& c : candidates) {
    int cap = c.cap;
    if (!held.empty())
      if (auto it = held.find(offer_key(c.offer->provider, c.offer->id)); it != held.end())
        cap = cap == kUnlimited ? cap : cap - it->second;
    if (cap <= 0) continue;
    const int g = group_of_offer(*c.offer, c.provider_rank);
    if (!blocked_groups.empty() && blocked_groups.count(g)) continue;
    group_of[c.index] = g;
    left[c.index] = cap;
    usable.push_back(c);
  }
  candidates.clear();
  candidates.shrink_to_fit();

  CandidateQueue queue(std::move(usable));
  std::vector<Candidate> popped;  // in rank order

  // Greedy: best first, keep what stays feasible.
  std::vector<Candidate> chosen;
  std::unordered_set<int> used_groups;
  while (chosen.size() < wanted && !queue.empty()) {
    Candidate c = queue.pop();
    popped.push_back(c);
    if (spread != Spread::kNone) {
      if (!used_groups.insert(group_of[c.index]).second) continue;
      chosen.push_back(c);
    } else {
      std::size_t take = std::min<std::size_t>(left[c.index], wanted - chosen.size());
      for (std::size_t k = 0; k < take; ++k) chosen.push_back(c);
    }
  }

  if (chosen.size() < wanted) {
    // With no matching offer at all, the constraint rejections say it all.
    if (plan.offers_matching == 0) return plan;
    Rejection r;
    if (spread == Spread::kNone) {
      r.constraint = "replicas";
      r.detail = fmt::format("{} replica{} need{} {} instance{}; the matching offers have {} left",
                             wanted, wanted == 1 ? "" : "s", wanted == 1 ? "s" : "", wanted,
                             wanted == 1 ? "" : "s", chosen.size());
    } else {
      r.constraint = "spread";
      r.detail = fmt::format(
          "{} replicas with spread: {} need {} distinct {}s with a matching offer; found {}",
          wanted, spread_unit(spread), wanted, spread_unit(spread), chosen.size());
      if (!blocked_groups.empty())
        r.detail += fmt::format(" (besides {} held by other replicas)", blocked_groups.size());
    }
    r.count = static_cast<int>(wanted - chosen.size());
    plan.rejections.insert(plan.rejections.begin(), std::move(r));
    return plan;
  }

  // Ranked fallbacks per replica: offers it could move to while every other
  // replica keeps its choice (spread and capacity still hold).
  std::vector<std::vector<Offer>> fallbacks(wanted);
  std::size_t full = options.max_fallbacks == 0 ? wanted : 0;
  auto consider = [&](const Candidate& f) {
    for (std::size_t i = 0; i < wanted && full < wanted; ++i) {
      auto& list = fallbacks[i];
      if (list.size() >= options.max_fallbacks) continue;
      if (f.index == chosen[i].index) continue;
      int others_using = 0;
      bool group_taken = false;
      for (std::size_t j = 0; j < wanted; ++j) {
        if (j == i) continue;
        if (chosen[j].index == f.index) ++others_using;
        if (spread != Spread::kNone && group_of[chosen[j].index] == group_of[f.index])
          group_taken = true;
      }
      if (group_taken) continue;
      if (left[f.index] != kUnlimited && left[f.index] - others_using < 1) continue;
      list.push_back(*f.offer);
      if (list.size() == options.max_fallbacks) ++full;
    }
  };
  for (const auto& c : popped) consider(c);
  while (full < wanted && !queue.empty()) consider(queue.pop());

  for (std::size_t i = 0; i < wanted; ++i) {
    ReplicaPlacement p;
    p.replica = replicas[i];
    p.offer = *chosen[i].offer;
    p.unverified = checker.unverified(p.offer);
    for (const auto& v : workload.volumes)
      if (v.provider_volume() && !volume_home_at(options.volume_homes, v.name, p.offer))
        p.new_volumes.push_back(v.name);
    p.fallbacks = std::move(fallbacks[i]);
    plan.total_price_per_hour += p.offer.price_per_hour;
    plan.placement.push_back(std::move(p));
  }
  return plan;
}

const VolumeHome* volume_home_at(const std::vector<VolumeHome>& homes, const std::string& volume,
                                 const Offer& offer) {
  for (const auto& h : homes)
    if (h.volume == volume && h.provider == offer.provider && h.region == offer.region) return &h;
  return nullptr;
}

int volumes_elsewhere(const LaunchTemplate& workload, const std::vector<VolumeHome>& homes,
                      const Offer& offer) {
  int elsewhere = 0;
  for (const auto& v : workload.volumes) {
    if (!v.provider_volume() || volume_home_at(homes, v.name, offer)) continue;
    for (const auto& h : homes)
      if (h.volume == v.name) {
        ++elsewhere;
        break;
      }
  }
  return elsewhere;
}

int volumes_away(const LaunchTemplate& workload, const std::vector<VolumeHome>& homes,
                 const Offer& offer) {
  int away = 0;
  for (const auto& v : workload.volumes)
    if (v.provider_volume() && !volume_home_at(homes, v.name, offer)) ++away;
  return away;
}

nlohmann::json volume_homes_json(const std::vector<VolumeHome>& homes) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : homes)
    out.push_back({{"volume", h.volume},
                   {"provider", h.provider},
                   {"region", h.region},
                   {"id", h.id},
                   {"size_gb", h.size_gb ? nlohmann::json(*h.size_gb) : nlohmann::json(nullptr)}});
  return out;
}

nlohmann::json to_json(const Plan& plan) {
  nlohmann::json placement = nlohmann::json::array();
  for (const auto& p : plan.placement) {
    nlohmann::json fallbacks = nlohmann::json::array();
    for (const auto& f : p.fallbacks) fallbacks.push_back(to_json(f));
    nlohmann::json unverified = nlohmann::json::array();
    for (const auto& u : p.unverified)
      unverified.push_back({{"constraint", u.constraint}, {"detail", u.detail}});
    placement.push_back({{"replica", p.replica},
                         {"offer", to_json(p.offer)},
                         {"fallbacks", std::move(fallbacks)},
                         {"unverified", std::move(unverified)},
                         {"new_volumes", p.new_volumes}});
  }
  nlohmann::json rejections = nlohmann::json::array();
  for (const auto& r : plan.rejections) {
    rejections.push_back({{"constraint", r.constraint},
                          {"count", r.count},
                          {"nearest", r.nearest ? to_json(*r.nearest) : nlohmann::json(nullptr)},
                          {"detail", r.detail}});
  }
  return {{"deployment", plan.deployment},
          {"placement", std::move(placement)},
          {"total_price_per_hour", plan.total_price_per_hour},
          {"rejections", std::move(rejections)},
          {"offers_considered", plan.offers_considered},
          {"offers_matching", plan.offers_matching},
          {"volumes", volume_homes_json(plan.volume_homes)}};
}

}  // namespace berth
