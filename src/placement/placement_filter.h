// The constraint checker behind unmet_constraint() and the solver: one pass
// over an offer yields every constraint it fails, so the solver can both
// filter and find the nearest misses (offers failing exactly one constraint).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "berth/placement/placement.h"
#include "berth/provider/offer.h"
#include "berth/template/launch_template.h"
#include "berth/template/workload_spec.h"

namespace berth::placement {

/// In the order they are checked: an offer's rejection is charged to the
/// first one it fails. Price comes last so that "rejected by max_price" means
/// "would have fit but costs too much".
enum class Constraint : std::uint8_t {
  kProviders,
  kExcludeProviders,
  kRegions,
  kOffers,
  kGpuCount,
  kGpuVendor,
  kGpuModels,
  kGpuExcludeModels,
  kGpuVram,
  kGpuTotalVram,
  kGpuComputeCapability,
  kCuda,
  kCpus,
  kMemory,
  kDisk,
  kArch,      // resources.arch, or its default: the offer's known CPU architecture differs
  kWorkload,  // the provider cannot honour something the container needs
  kSpot,
  kMinReliability,
  kMinInet,
  kAvailable,
  kMaxPrice,
  kVolumes,   // placement.volumes: require, away from a provider volume of the deployment
  kCooldown,  // not a template constraint: PlacementOptions::excluded
  kCount_,
};

using ConstraintMask = std::uint32_t;
static_assert(static_cast<int>(Constraint::kCount_) <= 32);

constexpr ConstraintMask bit(Constraint c) { return ConstraintMask{1} << static_cast<int>(c); }

/// The documented name ("gpu.vram", "placement.max_price", ...).
const char* constraint_name(Constraint c);
/// The first constraint in `mask` (lowest bit); `mask` must be non-zero.
Constraint first_constraint(ConstraintMask mask);

class ConstraintChecker {
 public:
  explicit ConstraintChecker(const LaunchTemplate& workload);

  /// Every template constraint `offer` fails; 0 when it satisfies the template.
  /// Glob results are memoized per provider and region, so this stays cheap
  /// over a million offers from a handful of providers.
  ConstraintMask failures(const Offer& offer);

  /// Why `offer` fails `c`, for people: "24 GB VRAM per GPU, needs ≥80 GB".
  std::string explain(Constraint c, const Offer& offer) const;

  /// Where the deployment's provider volumes live, for explain(kVolumes).
  void set_volume_homes(const std::vector<VolumeHome>* homes) { volume_homes_ = homes; }

  /// The constrained host facts `offer` leaves unknown (it passes them
  /// unless placement.strict): what a plan warns about.
  std::vector<Unverified> unverified(const Offer& offer) const;

  /// Surplus over the template's minimums, normalized per dimension (see
  /// offer_headroom in placement.h).
  double headroom(const Offer& offer) const;

  /// The region names of the offers checked so far, where placement.regions
  /// is set (from the memo: each once per provider).
  std::vector<std::string> regions_seen() const;

 private:
  ConstraintMask location_failures(const Offer& offer);
  bool region_matches(const Offer& offer) const;
  bool arch_fails(const Offer& offer) const;
  CpuArch wanted_arch() const;

  const LaunchTemplate& w_;
  FeatureSet features_ = 0;  // what the workload asks of a provider
  bool wants_location_check_ = false;
  // provider -> (mask for provider globs, region -> mask for region globs)
  struct ProviderMemo {
    ConstraintMask mask = 0;
    std::unordered_map<std::string, ConstraintMask> regions;
  };
  std::unordered_map<std::string, ProviderMemo> memo_;
  std::string region_key_;  // reused for every lookup: no allocation per offer
  const std::vector<VolumeHome>* volume_homes_ = nullptr;
};

}  // namespace berth::placement
