// Placement (docs/templates.md, placement): which offer each replica runs on. Hard constraints
// filter; the objective is the lowest total price per hour; ties break by more
// headroom, then provider name, then offer id, so the same input always gives
// the same plan.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/provider/offer.h"
#include "berth/template/launch_template.h"

namespace berth {

/// The one filter behind both `offers TEMPLATE` and `plan`: the name of the
/// first constraint `offer` fails ("gpu.count", "gpu.vram", "max_price",
/// ...), or nullopt when it satisfies the template. Unknown data for a
/// constrained GPU field fails that constraint; an unknown host fact (vCPUs,
/// RAM, disk, CUDA) fails it only under placement.strict, and a fact the
/// offer's launch sets (Offer::settable) satisfies it.
std::optional<std::string> unmet_constraint(const LaunchTemplate& workload, const Offer& offer);

/// The tie-breaker after price: how far `offer` exceeds the template's
/// minimums in total VRAM, vCPUs, RAM and disk, each surplus divided by the
/// larger of the minimum and a fixed scale (24 GB, 8 vCPUs, 32 GB, 100 GB),
/// summed. More is better; unknown values add nothing.
double offer_headroom(const LaunchTemplate& workload, const Offer& offer);

struct Rejection {
  std::string constraint;       // "gpu.vram", "placement.max_price", ...
  int count = 0;                // offers this constraint rejected (first failing constraint)
  std::optional<Offer> nearest; // the cheapest offer that failed only this constraint, if any
  std::string detail;           // "cheapest offer with ≥80 GB VRAM: 4.10/h on runpod, above max_price 3.50"
};

/// A constraint the chosen offer passes without the provider saying so: it
/// does not report the fact (placement.strict would reject the offer).
struct Unverified {
  std::string constraint;  // "cpus", "memory", "disk", "cuda"
  std::string detail;      // "runpod does not report the vCPU count; the template needs ≥8"
};

struct ReplicaPlacement {
  int replica = 0;               // 0-based
  Offer offer;
  std::vector<Unverified> unverified;  // of `offer`
  std::vector<Offer> fallbacks;  // ranked, best first; what deploy walks on capacity errors
  /// The template's provider volumes that do not live where `offer` is: the
  /// launch makes them there, empty.
  std::vector<std::string> new_volumes;
};

/// Where one of the template's provider volumes (volumes with size:)
/// already lives: offers of that provider in that region are preferred.
struct VolumeHome {
  std::string volume;    // the template's volume name
  std::string provider;  // config name
  std::string region;    // Offer::region spelling
  std::string id;        // the provider's id for it
  std::optional<double> size_gb;
  std::string host_path;  // ProviderVolume::host_path
};

struct Plan {
  std::string deployment;
  std::vector<ReplicaPlacement> placement;  // empty when nothing fits
  double total_price_per_hour = 0;
  std::vector<Rejection> rejections;
  std::size_t offers_considered = 0;
  std::size_t offers_matching = 0;
  /// The provider volumes found for this deployment (PlacementOptions).
  std::vector<VolumeHome> volume_homes;
};

/// Where the template's volume `volume` lives at `offer`'s provider and
/// region, or nullptr: the one test of "the volume is there" everything uses.
const VolumeHome* volume_home_at(const std::vector<VolumeHome>& homes, const std::string& volume,
                                 const Offer& offer);

/// How many of the template's provider volumes do not yet live where `offer`
/// is (each would be made there, empty, at launch).
int volumes_away(const LaunchTemplate& workload, const std::vector<VolumeHome>& homes,
                 const Offer& offer);

/// How many of the template's provider volumes live somewhere, but not where
/// `offer` is (placement.volumes: require rejects such an offer).
int volumes_elsewhere(const LaunchTemplate& workload, const std::vector<VolumeHome>& homes,
                      const Offer& offer);

struct PlacementOptions {
  /// Replicas to place (0-based). Empty = all of 0..replicas-1.
  std::vector<int> replicas;
  /// Offers already used by the other replicas: they count against
  /// `available` and against `spread`.
  std::vector<Offer> occupied;
  /// "provider/offer-id" or "provider/region/host" keys excluded (watch's cooldown).
  std::set<std::string> excluded;
  std::size_t max_fallbacks = 10;
  /// Where the template's provider volumes already live: offers there rank
  /// before all others (then price, headroom), so data stays reachable.
  std::vector<VolumeHome> volume_homes;
};

/// solve_placement's first half, an offer at a time: each offer checked
/// against the template, the rejections tallied, the matching offers kept
/// for the choice. A listing too large to hold whole is screened while it
/// is read, in parts side by side (one Screen per part, each on one
/// thread), joined in listing order: the plan is the one a single pass
/// makes. `workload` and `options` outlive the screen.
class Screen {
 public:
  Screen(const LaunchTemplate& workload, const PlacementOptions& options);
  ~Screen();
  Screen(Screen&&) noexcept;
  Screen& operator=(Screen&&) noexcept;

  /// Screens the listing's next offer. True when the screen holds on to it
  /// (it matches, or is the cheapest example of a rejection so far): it
  /// must then stay where it is until the plan is made. False: it may go.
  bool take(const Offer& offer);
  /// Appends what `next` screened, as offers that came after these.
  void join(Screen&& next);
  /// Offers taken, joined screens' included.
  std::size_t screened() const;
  /// The offers' own region names, where placement.regions is set (for a
  /// word in it that matches no offer: planning.h). Still answered once
  /// the screen is solved.
  std::vector<std::string> regions() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
  friend Plan solve_placement(const LaunchTemplate&, Screen&, const PlacementOptions&);
};

/// Solves the assignment exactly. A plan with an empty `placement` means no
/// placement (exit 5); its rejections say which constraint to relax.
Plan solve_placement(const LaunchTemplate& workload, const OfferView& offers,
                     const PlacementOptions& options = {});
/// The same over offers already screened (with the same `options`); the
/// offers it held on to are still where they were. Takes what the screen
/// kept for the choice: a screen is solved once.
Plan solve_placement(const LaunchTemplate& workload, Screen& screened,
                     const PlacementOptions& options = {});

nlohmann::json to_json(const Plan& plan);
nlohmann::json volume_homes_json(const std::vector<VolumeHome>& homes);

}  // namespace berth
