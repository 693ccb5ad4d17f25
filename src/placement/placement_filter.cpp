#include "placement/placement_filter.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "berth/placement/placement.h"
#include "berth/template/location.h"

namespace berth {
namespace placement {
namespace {

// Sizes in the template are bytes; offers carry GB (1e9 bytes, the catalog's
// nominal numbers). Comparing in GB with a small tolerance keeps "80GB" equal
// to an offer's 80.0 despite floating point.
constexpr double kTolerance = 1e-6;

double gb(std::uint64_t bytes) { return bytes_to_gb(bytes); }

bool in_gb_range(double value_gb, const Range<std::uint64_t>& r) {
  if (r.min && value_gb + kTolerance < gb(*r.min)) return false;
  if (r.max && value_gb - kTolerance > gb(*r.max)) return false;
  return true;
}

bool in_range(double value, const Range<double>& r) {
  if (r.min && value + kTolerance < *r.min) return false;
  if (r.max && value - kTolerance > *r.max) return false;
  return true;
}

bool matches_any(const std::vector<std::string>& globs, const std::string& text) {
  for (const auto& g : globs)
    if (fnmatch(g.c_str(), text.c_str(), 0) == 0) return true;
  return false;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string number(double v) { return fmt::format("{:g}", v); }

std::string size_gb(double v) { return fmt::format("{:g} GB", std::round(v * 100) / 100); }

// fmt rather than operator+ on strings: GCC 12 warns falsely (-Wrestrict)
// about "literal" + std::string at -O3.
std::string bound_text(const std::optional<std::string>& lo, const std::optional<std::string>& hi,
                       bool single_means_exact) {
  if (lo && hi) {
    if (*lo == *hi) return single_means_exact ? *lo : fmt::format("≥{}", *lo);
    return fmt::format("{}..{}", *lo, *hi);
  }
  if (lo) return fmt::format("≥{}", *lo);
  if (hi) return fmt::format("≤{}", *hi);
  return "any";
}

std::string range_text(const Range<std::uint64_t>& r) {
  auto f = [](const std::optional<std::uint64_t>& v) -> std::optional<std::string> {
    if (!v) return std::nullopt;
    return size_gb(gb(*v));
  };
  return bound_text(f(r.min), f(r.max), false);
}

std::string range_text(const Range<double>& r) {
  auto f = [](const std::optional<double>& v) -> std::optional<std::string> {
    if (!v) return std::nullopt;
    return number(*v);
  };
  return bound_text(f(r.min), f(r.max), false);
}

std::string range_text(const Range<int>& r) {
  auto f = [](const std::optional<int>& v) -> std::optional<std::string> {
    if (!v) return std::nullopt;
    return std::to_string(*v);
  };
  return bound_text(f(r.min), f(r.max), true);
}

std::string list_text(const std::vector<std::string>& items) {
  return fmt::format("[{}]", fmt::join(items, ", "));
}

// " (de, eu)" after a raw region, or nothing when the location is unknown.
std::string location_text(const Location& l) {
  std::vector<std::string> parts;
  for (const auto* s : {&l.subregion, &l.country, &l.continent})
    if (!s->empty() && (s != &l.country || l.subregion.empty())) parts.push_back(*s);
  if (parts.empty()) return "";
  return fmt::format(" ({})", fmt::join(parts, ", "));
}

std::string spot_policy_text(SpotPolicy p) {
  switch (p) {
    case SpotPolicy::kNever:
      return "never";
    case SpotPolicy::kAllow:
      return "allow";
    case SpotPolicy::kOnly:
      return "only";
  }
  return "never";
}

}  // namespace

const char* constraint_name(Constraint c) {
  switch (c) {
    case Constraint::kProviders:
      return "placement.providers";
    case Constraint::kExcludeProviders:
      return "placement.exclude_providers";
    case Constraint::kRegions:
      return "placement.regions";
    case Constraint::kOffers:
      return "placement.offers";
    case Constraint::kMinReliability:
      return "placement.min_reliability";
    case Constraint::kMinInet:
      return "placement.min_inet_mbps";
    case Constraint::kGpuCount:
      return "gpu.count";
    case Constraint::kGpuVendor:
      return "gpu.vendor";
    case Constraint::kGpuModels:
      return "gpu.models";
    case Constraint::kGpuExcludeModels:
      return "gpu.exclude_models";
    case Constraint::kGpuVram:
      return "gpu.vram";
    case Constraint::kGpuTotalVram:
      return "gpu.total_vram";
    case Constraint::kGpuComputeCapability:
      return "gpu.compute_capability";
    case Constraint::kCuda:
      return "cuda";
    case Constraint::kCpus:
      return "cpus";
    case Constraint::kMemory:
      return "memory";
    case Constraint::kDisk:
      return "disk";
    case Constraint::kArch:
      return "arch";
    case Constraint::kWorkload:
      return "workload";
    case Constraint::kSpot:
      return "placement.spot";
    case Constraint::kAvailable:
      return "available";
    case Constraint::kMaxPrice:
      return "placement.max_price";
    case Constraint::kVolumes:
      return "placement.volumes";
    case Constraint::kCooldown:
      return "cooldown";
    case Constraint::kCount_:
      break;
  }
  return "unknown";
}

Constraint first_constraint(ConstraintMask mask) {
  return static_cast<Constraint>(std::countr_zero(mask));
}

ConstraintChecker::ConstraintChecker(const LaunchTemplate& workload)
    : w_(workload), features_(resolve_workload(workload).features()) {
  const auto& p = w_.placement;
  wants_location_check_ =
      !p.providers.empty() || !p.exclude_providers.empty() || !p.regions.empty() ||
      !p.offers.empty();
}

ConstraintMask ConstraintChecker::location_failures(const Offer& o) {
  if (!wants_location_check_) return 0;
  const auto& p = w_.placement;
  auto it = memo_.find(o.provider);
  if (it == memo_.end()) {
    ProviderMemo m;
    if (!p.providers.empty() && !matches_any(p.providers, o.provider))
      m.mask |= bit(Constraint::kProviders);
    if (matches_any(p.exclude_providers, o.provider)) m.mask |= bit(Constraint::kExcludeProviders);
    it = memo_.emplace(o.provider, std::move(m)).first;
  }
  ConstraintMask mask = it->second.mask;
  if (!p.regions.empty()) {
    auto& regions = it->second.regions;
    // The location is the adapter's reading of the region; offers read back
    // from a file may carry another, so both make the key: each part after
    // its length, so that no two different offers' keys are the same text.
    region_key_.clear();
    for (const auto* part :
         {&o.region, &o.location.country, &o.location.continent, &o.location.subregion}) {
      const auto size = static_cast<std::uint32_t>(part->size());
      region_key_.append(reinterpret_cast<const char*>(&size), sizeof size).append(*part);
    }
    auto r = regions.find(region_key_);
    if (r == regions.end())
      r = regions.emplace(region_key_, region_matches(o) ? 0 : bit(Constraint::kRegions)).first;
    mask |= r->second;
  }
  // Pinned offers: by id, or provider/id (ids repeat across providers).
  if (!p.offers.empty() && !matches_any(p.offers, o.id) &&
      !matches_any(p.offers, o.provider + "/" + o.id))
    mask |= bit(Constraint::kOffers);
  return mask;
}

std::vector<std::string> ConstraintChecker::regions_seen() const {
  std::vector<std::string> out;
  for (const auto& [provider, m] : memo_)
    for (const auto& [key, mask] : m.regions) {
      std::uint32_t size = 0;  // the region, the first part of the key (location_failures)
      std::memcpy(&size, key.data(), sizeof size);
      out.push_back(key.substr(sizeof size, size));
    }
  return out;
}

ConstraintMask ConstraintChecker::failures(const Offer& o) {
  const auto& g = w_.resources.gpu;
  const auto& r = w_.resources;
  ConstraintMask mask = location_failures(o);

  if (!g.count.contains(o.gpu.count)) mask |= bit(Constraint::kGpuCount);
  // Per-GPU constraints describe the GPUs an offer has; an offer without GPUs
  // (allowed only when the count range includes 0) has none to violate them.
  if (o.gpu.count > 0) {
    if (o.gpu.vendor != g.vendor) mask |= bit(Constraint::kGpuVendor);
    if (!g.models.empty() && !contains(g.models, o.gpu.model)) mask |= bit(Constraint::kGpuModels);
    if (contains(g.exclude_models, o.gpu.model)) mask |= bit(Constraint::kGpuExcludeModels);
    if (!g.vram.unbounded() && (!o.gpu.vram_gb || !in_gb_range(*o.gpu.vram_gb, g.vram)))
      mask |= bit(Constraint::kGpuVram);
    if (!g.compute_capability.unbounded() &&
        (!o.gpu.compute_capability || !in_range(*o.gpu.compute_capability, g.compute_capability)))
      mask |= bit(Constraint::kGpuComputeCapability);
  }
  if (!g.total_vram.unbounded()) {
    if (o.gpu.count == 0)
      mask |= in_gb_range(0, g.total_vram) ? 0 : bit(Constraint::kGpuTotalVram);
    else if (!o.gpu.vram_gb || !in_gb_range(*o.gpu.vram_gb * o.gpu.count, g.total_vram))
      mask |= bit(Constraint::kGpuTotalVram);
  }
  // Host facts: a known value must fit; a settable one is asked for at
  // launch; an unknown one passes (with a warning: unverified()) unless
  // placement.strict.
  auto host = [&](HostFact f, Constraint c, bool constrained, auto fits) {
    if (!constrained) return;
    if (o.knows(f) ? !fits() : (!(o.settable & fact_bit(f)) && w_.placement.strict))
      mask |= bit(c);
  };
  host(HostFact::kCuda, Constraint::kCuda, !r.cuda.unbounded(),
       [&] { return in_range(*o.cuda, r.cuda); });
  host(HostFact::kCpus, Constraint::kCpus, !r.cpus.unbounded(),
       [&] { return r.cpus.contains(*o.vcpus); });
  host(HostFact::kMemory, Constraint::kMemory, !r.memory.unbounded(),
       [&] { return in_gb_range(*o.memory_gb, r.memory); });
  host(HostFact::kDisk, Constraint::kDisk, !r.disk.unbounded(),
       [&] { return in_gb_range(*o.disk_gb, r.disk); });

  if (arch_fails(o)) mask |= bit(Constraint::kArch);
  if (features_ & ~o.honours) mask |= bit(Constraint::kWorkload);

  // Marketplace quality: unknown (a provider that reports none) passes.
  if (w_.placement.min_reliability && o.reliability &&
      *o.reliability + kTolerance < *w_.placement.min_reliability)
    mask |= bit(Constraint::kMinReliability);
  if (w_.placement.min_inet_mbps && o.inet_down_mbps &&
      *o.inet_down_mbps + kTolerance < *w_.placement.min_inet_mbps)
    mask |= bit(Constraint::kMinInet);

  const auto spot = w_.placement.spot;
  if ((spot == SpotPolicy::kNever && o.spot) || (spot == SpotPolicy::kOnly && !o.spot))
    mask |= bit(Constraint::kSpot);
  // `available` is a hint: unknown passes, but a provider saying "none left"
  // is believed.
  if (o.available && *o.available <= 0) mask |= bit(Constraint::kAvailable);
  if (w_.placement.max_price && o.price_per_hour > *w_.placement.max_price + 1e-9)
    mask |= bit(Constraint::kMaxPrice);
  return mask;
}

std::string ConstraintChecker::explain(Constraint c, const Offer& o) const {
  const auto& g = w_.resources.gpu;
  const auto& r = w_.resources;
  const auto& p = w_.placement;
  auto unknown = [](const char* what) { return fmt::format("{} not reported", what); };
  switch (c) {
    case Constraint::kWorkload: {
      std::vector<std::string> cannot;
      for (auto f : features_in(features_ & ~o.honours)) cannot.push_back(describe(f));
      return fmt::format("{}: cannot {}", o.provider, fmt::join(cannot, "; cannot "));
    }
    case Constraint::kProviders:
      return fmt::format("provider {} is not in placement.providers {}", o.provider,
                         list_text(p.providers));
    case Constraint::kExcludeProviders:
      return fmt::format("provider {} is excluded by placement.exclude_providers {}", o.provider,
                         list_text(p.exclude_providers));
    case Constraint::kRegions:
      return fmt::format("region {}{} does not match placement.regions {}",
                         o.region.empty() ? "(none)" : o.region, location_text(o.location),
                         list_text(p.regions));
    case Constraint::kOffers:
      return fmt::format("offer {}/{} is not in placement.offers {}", o.provider, o.id,
                         list_text(p.offers));
    case Constraint::kMinReliability:
      return fmt::format("reliability {:g}, needs ≥{:g}", o.reliability.value_or(0),
                         p.min_reliability.value_or(0));
    case Constraint::kMinInet:
      return fmt::format("{:g} Mbps down, needs ≥{:g}", o.inet_down_mbps.value_or(0),
                         p.min_inet_mbps.value_or(0));
    case Constraint::kArch:
      return fmt::format("{}offer is {}, the template needs {}",
                         o.gpu.count > 0 ? o.gpu.model + " " : "", to_string(o.arch),
                         to_string(wanted_arch()));
    case Constraint::kGpuCount:
      return fmt::format("{} GPU{}, needs {}", o.gpu.count, o.gpu.count == 1 ? "" : "s",
                         range_text(g.count));
    case Constraint::kGpuVendor:
      return fmt::format("{} GPUs, needs {}", to_string(o.gpu.vendor), to_string(g.vendor));
    case Constraint::kGpuModels:
      return fmt::format("{} is not in gpu.models {}", o.gpu.model, list_text(g.models));
    case Constraint::kGpuExcludeModels:
      return fmt::format("{} is excluded by gpu.exclude_models", o.gpu.model);
    case Constraint::kGpuVram:
      if (!o.gpu.vram_gb) return unknown("VRAM");
      return fmt::format("{} VRAM per GPU, needs {}", size_gb(*o.gpu.vram_gb), range_text(g.vram));
    case Constraint::kGpuTotalVram:
      if (o.gpu.count > 0 && !o.gpu.vram_gb) return unknown("VRAM");
      return fmt::format("{} VRAM in total, needs {}",
                         size_gb(o.gpu.vram_gb.value_or(0) * o.gpu.count),
                         range_text(g.total_vram));
    case Constraint::kGpuComputeCapability:
      if (!o.gpu.compute_capability) return unknown("compute capability");
      return fmt::format("compute capability {}, needs {}", number(*o.gpu.compute_capability),
                         range_text(g.compute_capability));
    case Constraint::kCuda:
      if (!o.cuda) return unknown("host CUDA version") + " (placement.strict)";
      return fmt::format("CUDA {}, needs {}", number(*o.cuda), range_text(r.cuda));
    case Constraint::kCpus:
      if (!o.vcpus) return unknown("vCPU count") + " (placement.strict)";
      return fmt::format("{} vCPUs, needs {}", *o.vcpus, range_text(r.cpus));
    case Constraint::kMemory:
      if (!o.memory_gb) return unknown("RAM") + " (placement.strict)";
      return fmt::format("{} RAM, needs {}", size_gb(*o.memory_gb), range_text(r.memory));
    case Constraint::kDisk:
      if (!o.disk_gb) return unknown("disk size") + " (placement.strict)";
      return fmt::format("{} disk, needs {}", size_gb(*o.disk_gb), range_text(r.disk));
    case Constraint::kSpot:
      return fmt::format("{} offer, placement.spot is {}", o.spot ? "a spot" : "an on-demand",
                         spot_policy_text(p.spot));
    case Constraint::kAvailable:
      return "none available now";
    case Constraint::kMaxPrice:
      return fmt::format("above max_price {:.2f}", p.max_price.value_or(0));
    case Constraint::kVolumes: {
      // The first volume that lives elsewhere, and where (placement.volumes: require).
      for (const auto& v : w_.volumes) {
        if (!v.provider_volume() || !volume_homes_) continue;
        std::string where;
        bool here = false;
        for (const auto& h : *volume_homes_) {
          if (h.volume != v.name) continue;
          here = here || (h.provider == o.provider && h.region == o.region);
          where += (where.empty() ? "" : ", ") + h.provider + " in " + h.region;
        }
        if (!here && !where.empty())
          return fmt::format("volume {} lives at {} (placement.volumes: require)", v.name, where);
      }
      return "away from the deployment's volumes (placement.volumes: require)";
    }
    case Constraint::kCooldown:
      return "excluded for a cooldown after a failure there";
    case Constraint::kCount_:
      break;
  }
  return "unknown constraint";
}

std::vector<Unverified> ConstraintChecker::unverified(const Offer& o) const {
  const auto& r = w_.resources;
  std::vector<Unverified> out;
  auto check = [&](HostFact f, Constraint c, bool constrained, const char* what,
                   std::string needs) {
    if (!constrained || o.knows(f) || (o.settable & fact_bit(f))) return;
    out.push_back({constraint_name(c), fmt::format("{} does not report the {}; the template "
                                                   "needs {}",
                                                   o.provider, what, needs)});
  };
  check(HostFact::kCuda, Constraint::kCuda, !r.cuda.unbounded(), "host CUDA version",
        range_text(r.cuda));
  check(HostFact::kCpus, Constraint::kCpus, !r.cpus.unbounded(), "vCPU count",
        range_text(r.cpus));
  check(HostFact::kMemory, Constraint::kMemory, !r.memory.unbounded(), "RAM",
        range_text(r.memory));
  check(HostFact::kDisk, Constraint::kDisk, !r.disk.unbounded(), "disk size", range_text(r.disk));
  return out;
}

// placement.regions: the rule of region_glob_matches (docs/templates.md).
bool ConstraintChecker::region_matches(const Offer& o) const {
  for (const auto& g : w_.placement.regions)
    if (region_glob_matches(g, o.region, o.location)) return true;
  return false;
}

// The template's arch, or x86_64 when it has none (`up` sets it from the
// image's platform before planning). An offer whose arch is unknown passes.
CpuArch ConstraintChecker::wanted_arch() const {
  return w_.resources.arch.value_or(CpuArch::kX86_64);
}

bool ConstraintChecker::arch_fails(const Offer& o) const {
  const CpuArch wanted = wanted_arch();
  return wanted != CpuArch::kUnknown && o.arch != CpuArch::kUnknown && o.arch != wanted;
}

// Headroom: for each of total VRAM, vCPUs, RAM and disk, the surplus over the
// template's minimum (0 when it has none) divided by the larger of that
// minimum and a fixed scale for the dimension (24 GB, 8 vCPUs, 32 GB, 100 GB),
// summed. Dividing by the requirement makes "twice what you asked for" count
// the same in every dimension; the scale keeps dimensions without a minimum
// from dominating. Unknown values add nothing.
double ConstraintChecker::headroom(const Offer& o) const {
  const auto& r = w_.resources;
  auto surplus = [](double value, double minimum, double scale) {
    return (value - minimum) / std::max(minimum, scale);
  };
  auto min_gb = [](const Range<std::uint64_t>& range) {
    return range.min ? bytes_to_gb(*range.min) : 0.0;
  };
  double h = 0;
  if (o.gpu.count > 0 && o.gpu.vram_gb) {
    double wanted = min_gb(r.gpu.total_vram);
    if (r.gpu.vram.min && r.gpu.count.min)
      wanted = std::max(wanted, min_gb(r.gpu.vram) * *r.gpu.count.min);
    h += surplus(*o.gpu.vram_gb * o.gpu.count, wanted, 24);
  }
  if (o.vcpus) h += surplus(*o.vcpus, r.cpus.min.value_or(0), 8);
  if (o.memory_gb) h += surplus(*o.memory_gb, min_gb(r.memory), 32);
  if (o.disk_gb) h += surplus(*o.disk_gb, min_gb(r.disk), 100);
  return h;
}

}  // namespace placement

std::optional<std::string> unmet_constraint(const LaunchTemplate& workload, const Offer& offer) {
  placement::ConstraintChecker checker(workload);
  auto mask = checker.failures(offer);
  if (mask == 0) return std::nullopt;
  return std::string(placement::constraint_name(placement::first_constraint(mask)));
}

double offer_headroom(const LaunchTemplate& workload, const Offer& offer) {
  return placement::ConstraintChecker(workload).headroom(offer);
}

}  // namespace berth
