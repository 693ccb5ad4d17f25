// The one planning function: `plan`, `up` and `watch` all ask the providers
// the template allows, with the same query, and solve the placement the same
// way, so `plan` shows exactly what `up` would do, and one rule decides the
// exit code when there is no placement.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "berth/common/failure.h"
#include "berth/config/provider_set.h"
#include "berth/placement/placement.h"
#include "berth/provider/instance.h"
#include "berth/template/launch_template.h"

namespace berth {

struct PlanRequest {
  std::vector<int> replicas;           // to place; empty = all of the template's
  std::set<std::string> excluded;      // watch's cooldown keys (PlacementOptions::excluded)
  std::vector<Instance> occupied;      // replicas that stay: their offers count as taken
  /// The architecture the image needs when the template has no
  /// resources.arch (`up`: read from its registry); asked only when an offer
  /// listed is known to be of an architecture other than x86_64, the
  /// default. Unset or nullopt: x86_64.
  std::function<std::optional<CpuArch>()> image_arch;
  /// Where the template's provider volumes live (plan_deployment finds them
  /// by asking the providers with Capabilities::volumes).
  std::vector<VolumeHome> volume_homes;
};

struct Planning {
  Plan plan;
  std::vector<ProviderReport> reports;  // one per provider asked, in config order
  /// Why there is no placement, with its exit code: no provider selected or
  /// nothing fits (5), no provider answered (4 when every one refused the
  /// credentials, else 6). nullopt when `plan` places every replica asked.
  std::optional<Failure> failure;
  /// Providers whose volumes could not be listed ("runpod: ..."): their
  /// offers are planned as if the volumes were not there.
  std::vector<std::string> volume_warnings;
};

/// The template's provider volumes (volumes with size:) that `providers`
/// named in `asked` keep for this deployment; a provider that cannot list
/// its volumes adds a line to `warnings`.
std::vector<VolumeHome> find_volume_homes(const LaunchTemplate& workload,
                                          const ProviderSet& providers,
                                          const std::vector<std::string>& asked,
                                          std::vector<std::string>& warnings);

/// Asks the configured providers that placement.providers and
/// exclude_providers allow, then solves over everything they offered (so
/// the plan's rejections explain every offer).
Planning plan_deployment(const LaunchTemplate& workload, const ProviderSet& providers,
                         const PlanRequest& request = {});

/// Solves over offers already gathered (`plan --offers FILE`), with the same
/// rule for the failure.
Planning plan_from_offers(const LaunchTemplate& workload, const OfferView& offers,
                          const PlanRequest& request = {});
/// The same over a listing screened as it was read (saved_offers.h), with
/// the options it was screened with.
Planning plan_from_screen(const LaunchTemplate& workload, Screen&& screened,
                          const PlacementOptions& options);

/// The rejection to relax first: a choice (price cap, regions, providers,
/// spot) before a hardware need, the cheapest nearest miss first.
const Rejection* rejection_to_relax(const Plan& plan);

}  // namespace berth
