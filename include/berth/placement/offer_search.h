// `berth offers` as a core operation: the filter flags turned into an
// in-memory launch template, so flags and a TEMPLATE are checked by the one
// filter placement uses (unmet_constraint); the concurrent listing; sorting;
// and the three output forms (table, docs/json.md, CSV).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/expected.h"
#include "berth/common/failure.h"
#include "berth/config/provider_set.h"
#include "berth/provider/offer.h"
#include "berth/template/launch_template.h"

namespace berth {

/// The filter flags exactly as given on the command line.
struct OfferFlags {
  std::vector<std::string> gpus;       // --gpu: catalog names or aliases
  std::optional<std::string> vram;     // --vram: size range per GPU, "80GB", "24GB..48GB"
  std::optional<std::string> count;    // --gpus: count range, "8", "1..4"
  std::optional<std::string> cc;       // --cc: compute capability range, "8.0", "8.0..9.0"
  std::optional<double> max_price;     // --max-price: USD per instance-hour
  std::vector<std::string> providers;  // --provider: globs over config names
  std::vector<std::string> regions;    // --region: globs
  bool spot = false;                   // --spot: include spot offers
};

enum class OfferSort { kPrice, kVram, kComputeCapability };
std::optional<OfferSort> offer_sort_from_string(const std::string& s);  // price | vram | cc

/// What an offer must satisfy: the flags and, when given, a template.
class OfferFilter {
 public:
  /// Fails with a usage message ("--vram: ...") when a flag does not parse.
  static Expected<OfferFilter, std::string> create(const OfferFlags& flags,
                                                   std::optional<LaunchTemplate> workload = {});

  /// Both the flags and the template accept `offer` (the first failing
  /// constraint otherwise, e.g. "gpu.vram").
  std::optional<std::string> unmet(const Offer& offer) const;
  /// What to ask providers for, so server-side filtering narrows the answer.
  OfferQuery query() const;
  /// Whether a configured provider is asked at all (--provider and the
  /// template's providers/exclude_providers).
  bool asks(const std::string& provider) const;

 private:
  // The flags as templates, one per GPU vendor: a flag listing without --gpu
  // shows every vendor's offers, while a template's vendor is a constraint.
  LaunchTemplate flags_nvidia_;
  LaunchTemplate flags_amd_;
  std::optional<LaunchTemplate> workload_;
};

/// Sorted (ties: price, provider, id) and cut to `limit`.
void sort_offers(std::vector<Offer>& offers, OfferSort sort, std::optional<std::size_t> limit);

struct OfferSearch {
  std::vector<Offer> offers;  // matching, sorted
  std::vector<ProviderReport> reports;
  std::size_t received = 0;  // before filtering
};

/// Asks every selected provider at once, then filters and sorts.
OfferSearch search_offers(const ProviderSet& providers, const OfferFilter& filter, OfferSort sort,
                          std::optional<std::size_t> limit);

/// docs/json.md: {"offers": [Offer...], "errors": [{"provider", "kind", "message"}]}.
/// Messages pass through redact() with `secrets`.
nlohmann::json offers_to_json(const OfferSearch& search, const std::vector<std::string>& secrets);
/// PROVIDER REGION GPU COUNT VRAM CC VCPUS MEM DISK $/H SPOT AVAIL
std::string offers_table(const std::vector<Offer>& offers);
/// One row per offer with raw values (the JSON field names as columns).
std::string offers_csv(const std::vector<Offer>& offers);

/// "lambda: 24 offers in 312 ms" or "runpod: failed (auth) after 120 ms: ...".
std::string describe_report(const ProviderReport& report, const std::vector<std::string>& secrets);

/// nullopt when at least one provider answered; otherwise exit 4 when every
/// failure was about credentials, else 6.
std::optional<Failure> listing_failure(const std::vector<ProviderReport>& reports);

}  // namespace berth
