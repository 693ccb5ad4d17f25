// A live offer from a provider (docs/json.md, Offer): what an instance would have and cost.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/common/expected.h"
#include "berth/template/launch_template.h"
#include "berth/template/location.h"
#include "berth/template/workload_spec.h"

namespace berth {

struct OfferGpu {
  std::string model;  // canonical catalog name, or "unknown:<raw name>"
  GpuVendor vendor = GpuVendor::kNvidia;
  int count = 0;      // 0 = CPU-only offer
  std::optional<double> vram_gb;             // nominal per GPU (catalog), else reported
  std::optional<double> compute_capability;  // from the catalog or the provider
};

/// Facts about the host a template can constrain (resources.cpus, memory,
/// disk, cuda) and an offer may leave open. Each is known (the offer's field
/// has a value), settable (the launch asks for what the template needs:
/// RunPod's container disk) or unknown (neither): an unknown fact keeps the
/// offer with a warning, or rejects it under placement.strict.
enum class HostFact : std::uint8_t { kCpus, kMemory, kDisk, kCuda };
using HostFactSet = std::uint8_t;
constexpr HostFactSet fact_bit(HostFact f) {
  return static_cast<HostFactSet>(1u << static_cast<unsigned>(f));
}
inline constexpr HostFact kHostFacts[] = {HostFact::kCpus, HostFact::kMemory, HostFact::kDisk,
                                          HostFact::kCuda};
/// The offer's JSON key for the fact: "vcpus", "memory_gb", "disk_gb", "cuda".
const char* fact_key(HostFact f);

struct Offer {
  std::string provider;  // the provider's name in berth's config
  std::string id;        // stable within one listing; what launch needs to find it again
  std::string region;    // the provider's own name for where it is ("US-KS-2")
  Location location;     // the same, normalized by the adapter; unknown parts empty
  CpuArch arch = CpuArch::kUnknown;
  OfferGpu gpu;
  std::optional<int> vcpus;
  std::optional<double> memory_gb;
  std::optional<double> disk_gb;
  double price_per_hour = 0;  // USD per instance-hour
  bool spot = false;
  std::optional<int> available;     // instances available; nullopt = unknown
  /// The provider's stock level where it gives a level, not a count
  /// ("low", "medium", "high": RunPod); empty otherwise.
  std::string stock;
  std::optional<double> cuda;       // host CUDA driver version, where reported
  /// Marketplace quality figures, where reported (Vast.ai): the host's
  /// reliability score (0-1) and its download bandwidth in Mbps.
  std::optional<double> reliability;
  std::optional<double> inet_down_mbps;
  nlohmann::json launch_data;       // opaque to the core: what the adapter needs to launch it
  /// launch_data as compact JSON text not parsed yet, or empty: how a saved
  /// listing keeps it (src/placement/saved_offers.cpp), so that only the offers a plan
  /// shows pay for a parsed value. to_json writes it as "launch_data" when
  /// launch_data itself is null; materialize_launch_data() parses it.
  std::string launch_data_text;
  /// What of a workload the offer's provider can honour (its
  /// Capabilities::honours, set by the core when listing). In JSON as
  /// "cannot": the feature names it cannot honour, when there are any.
  FeatureSet honours = kAllFeatures;
  /// Facts the launch sets from the template rather than the offer fixing
  /// them (their fields stay nullopt). In JSON as "settable".
  HostFactSet settable = 0;

  /// Whether the offer's value of `f` is known (the field is set).
  bool knows(HostFact f) const;
  /// Facts neither known nor settable. In JSON as "unknown".
  HostFactSet unknown_facts() const;
  /// Parses launch_data_text into launch_data (when launch_data is null),
  /// then clears it; false when the text is not JSON.
  bool materialize_launch_data();
};

/// The documented `-o json` shape (docs/json.md). `launch_data` is included under
/// "launch_data" so `plan --offers FILE` can launch from a saved listing.
nlohmann::json to_json(const Offer& offer);
Expected<Offer, std::string> offer_from_json(const nlohmann::json& j);

/// "H100 ×8" for tables and instance listings; empty for a CPU-only offer.
std::string gpu_summary(const OfferGpu& g);

}  // namespace berth
