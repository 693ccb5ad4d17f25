// A live offer from a provider (docs/json.md, Offer): what an instance would have and cost.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <span>
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

/// Offers seen as one sequence, held in one vector or in several runs side
/// by side: a large saved listing is read in parts on several threads, one
/// run per part, and planned from where each part was read instead of being
/// moved into one vector first (src/placement/saved_offers.cpp). A view: the
/// offers outlive it. Indexing walks the runs; loops over many offers go run
/// by run (each).
class OfferView {
 public:
  OfferView() = default;
  OfferView(const std::vector<Offer>& offers) { add(offers); }  // NOLINT: a view of it
  /// For an argument written in place (`solve_placement(w, {a, b})`): the
  /// list lives until the call returns, and no longer.
  OfferView(std::initializer_list<Offer> offers)  // NOLINT: as above
  {
    add(std::span<const Offer>(offers.begin(), offers.size()));
  }
  explicit OfferView(const std::vector<std::vector<Offer>>& runs) {
    for (const auto& r : runs) add(r);
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Offer& front() const { return runs_.front().front(); }
  const Offer& back() const { return runs_.back().back(); }
  const Offer& operator[](std::size_t i) const {
    for (const auto& r : runs_) {
      if (i < r.size()) return r[i];
      i -= r.size();
    }
    return runs_.back().back();  // out of range, as a vector's [] would be: not reached
  }

  /// f(offer, index) for the offers [from, to), in order.
  template <class F>
  void each(std::size_t from, std::size_t to, F&& f) const {
    std::size_t start = 0;
    for (const auto& r : runs_) {
      const std::size_t end = start + r.size();
      for (std::size_t i = std::max(from, start); i < std::min(to, end); ++i) f(r[i - start], i);
      start = end;
      if (start >= to) break;
    }
  }

  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Offer;
    using difference_type = std::ptrdiff_t;
    using pointer = const Offer*;
    using reference = const Offer&;
    iterator() = default;
    iterator(const OfferView* view, std::size_t run, std::size_t at)
        : view_(view), run_(run), at_(at) {
      settle();
    }
    reference operator*() const { return view_->runs_[run_][at_]; }
    pointer operator->() const { return &**this; }
    iterator& operator++() {
      ++at_;
      settle();
      return *this;
    }
    iterator operator++(int) {
      iterator was = *this;
      ++*this;
      return was;
    }
    bool operator==(const iterator& o) const { return run_ == o.run_ && at_ == o.at_; }

   private:
    // Past an empty or finished run, onto the next offer (or the end).
    void settle() {
      while (view_ && run_ < view_->runs_.size() && at_ == view_->runs_[run_].size())
        ++run_, at_ = 0;
    }
    const OfferView* view_ = nullptr;
    std::size_t run_ = 0, at_ = 0;
  };
  iterator begin() const { return iterator(this, 0, 0); }
  iterator end() const { return iterator(this, runs_.size(), 0); }

 private:
  void add(std::span<const Offer> run) {
    if (run.empty()) return;
    runs_.push_back(run);
    size_ += run.size();
  }
  std::vector<std::span<const Offer>> runs_;
  std::size_t size_ = 0;
};

/// The documented `-o json` shape (docs/json.md). `launch_data` is included under
/// "launch_data" so `plan --offers FILE` can launch from a saved listing.
nlohmann::json to_json(const Offer& offer);
Expected<Offer, std::string> offer_from_json(const nlohmann::json& j);

/// "H100 ×8" for tables and instance listings; empty for a CPU-only offer.
std::string gpu_summary(const OfferGpu& g);

}  // namespace berth
