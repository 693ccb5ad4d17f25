#include "berth/placement/planning.h"

#include <fmt/format.h>

#include <algorithm>

#include "berth/placement/offer_search.h"
#include "berth/template/location.h"

namespace berth {

namespace {

PlacementOptions placement_options(const PlanRequest& request, const OfferView& offers) {
  PlacementOptions options;
  options.replicas = request.replicas;
  options.excluded = request.excluded;
  options.volume_homes = request.volume_homes;
  for (const auto& inst : request.occupied)
    for (const auto& o : offers)
      if (o.provider == inst.provider && o.id == inst.offer_id) {
        options.occupied.push_back(o);
        break;
      }
  return options;
}

std::vector<std::string> regions_of(const OfferView& offers) {
  std::vector<std::string> raw;
  for (const auto& o : offers) raw.push_back(o.region);
  return raw;
}

std::optional<Failure> no_placement(const Plan& plan) {
  if (!plan.placement.empty()) return std::nullopt;
  Failure f{ExitCode::kNoPlacement,
            fmt::format("no placement for {}: none of {} offers satisfies the template",
                        plan.deployment, plan.offers_considered),
            ""};
  if (const Rejection* r = rejection_to_relax(plan))
    f.hint = fmt::format("relax {}: {}", r->constraint, r->detail);
  else
    f.hint = "no provider offered anything; try again later or configure more providers";
  return f;
}

// A plain word in placement.regions that is no location and no offer's
// region matches nothing: say so before any other advice.
void note_unknown_regions(Failure& f, const LaunchTemplate& workload,
                          const std::vector<std::string>& raw) {
  auto unknown = unknown_region_words(workload.placement.regions, raw);
  if (unknown.empty()) return;
  std::string words;
  for (const auto& w : unknown) words += (words.empty() ? "'" : ", '") + w + "'";
  f.hint = fmt::format(
      "placement.regions {} {} no country, continent or sub-region berth knows, nor the region "
      "of any offer (write e.g. us, eu, de, us-tx or us-*){}",
      words, unknown.size() == 1 ? "names" : "name", f.hint.empty() ? "" : "; " + f.hint);
}

// placement.spot only: a provider whose API has no spot instances listed
// nothing, which the offers cannot say; one rejection per such provider does.
void note_spotless_providers(Plan& plan, const LaunchTemplate& workload,
                             const ProviderSet& providers, const std::vector<std::string>& asked) {
  if (workload.placement.spot != SpotPolicy::kOnly) return;
  for (const Provider* p : providers.all()) {
    if (std::find(asked.begin(), asked.end(), p->name()) == asked.end()) continue;
    const Capabilities c = p->capabilities();
    if (c.spot) continue;
    Rejection r;
    r.constraint = "placement.spot";
    r.detail = c.host_outlives_instance()
                   ? fmt::format("{}: its own machines are never spot instances", p->name())
                   : fmt::format("{}: its API has no spot instances", p->name());
    plan.rejections.push_back(std::move(r));
  }
}

}  // namespace

std::vector<VolumeHome> find_volume_homes(const LaunchTemplate& workload,
                                          const ProviderSet& providers,
                                          const std::vector<std::string>& asked,
                                          std::vector<std::string>& warnings) {
  std::vector<VolumeHome> homes;
  if (std::none_of(workload.volumes.begin(), workload.volumes.end(),
                   [](const Volume& v) { return v.provider_volume(); }))
    return homes;
  for (Provider* p : providers.all()) {
    if (std::find(asked.begin(), asked.end(), p->name()) == asked.end()) continue;
    if (!p->capabilities().volumes) continue;
    auto listed = p->list_volumes();
    if (!listed) {
      warnings.push_back(fmt::format("{}: its volumes could not be listed ({}): planned as if "
                                     "the deployment had none there",
                                     p->name(), listed.error().message));
      continue;
    }
    for (const auto& v : workload.volumes) {
      if (!v.provider_volume()) continue;
      const std::string name = provider_volume_name(workload.name, v.name);
      for (const auto& pv : *listed)
        if (pv.name == name)
          homes.push_back({v.name, p->name(), pv.region, pv.id, pv.size_gb, pv.host_path});
    }
  }
  return homes;
}

Planning plan_from_offers(const LaunchTemplate& workload, const OfferView& offers,
                          const PlanRequest& request) {
  Planning out;
  out.plan = solve_placement(workload, offers, placement_options(request, offers));
  out.failure = no_placement(out.plan);
  if (out.failure) note_unknown_regions(*out.failure, workload, regions_of(offers));
  return out;
}

Planning plan_from_screen(const LaunchTemplate& workload, Screen&& screened,
                          const PlacementOptions& options) {
  Planning out;
  out.plan = solve_placement(workload, screened, options);
  out.failure = no_placement(out.plan);
  if (out.failure) note_unknown_regions(*out.failure, workload, screened.regions());
  return out;
}

Planning plan_deployment(const LaunchTemplate& workload, const ProviderSet& providers,
                         const PlanRequest& request) {
  Planning out;
  auto filter = OfferFilter::create({}, workload);
  if (!filter) {
    out.failure = Failure{ExitCode::kInvalidInput, filter.error(), ""};
    return out;
  }
  std::vector<std::string> asked;
  for (const Provider* p : providers.all())
    if (filter->asks(p->name())) asked.push_back(p->name());
  if (asked.empty()) {
    std::string configured;
    for (const Provider* p : providers.all())
      configured += (configured.empty() ? "" : ", ") + p->name();
    out.plan.deployment = workload.name;
    // The providers it names are there, but without their credential: say which.
    std::string off;
    for (const auto& d : providers.disabled())
      if (filter->asks(d.name)) off += (off.empty() ? "" : "; ") + describe(d);
    if (!off.empty()) {
      out.failure = Failure{ExitCode::kInvalidInput,
                            "placement.providers allows only disabled providers: " + off,
                            "set the credential, or allow other providers (configured: " +
                                (configured.empty() ? "none" : configured) + ")"};
      return out;
    }
    out.failure = Failure{ExitCode::kNoPlacement,
                          "placement.providers excludes every configured provider",
                          "configured: " + (configured.empty() ? "none" : configured)};
    return out;
  }
  auto listing = providers.list_offers(filter->query(), asked);
  out.reports = std::move(listing.reports);
  if (auto failed = listing_failure(out.reports)) {
    out.plan.deployment = workload.name;
    out.failure = *failed;
    return out;
  }
  std::vector<std::string> volume_warnings;
  PlanRequest with_homes = request;
  with_homes.volume_homes = find_volume_homes(workload, providers, asked, volume_warnings);
  // What the offers cannot say goes in before the failure's hint is chosen.
  auto finish = [&](Planning solved, const LaunchTemplate& w) {
    out.plan = std::move(solved.plan);
    out.volume_warnings = std::move(volume_warnings);
    note_spotless_providers(out.plan, w, providers, asked);
    out.failure = no_placement(out.plan);
    if (out.failure) note_unknown_regions(*out.failure, w, regions_of(listing.offers));
    return std::move(out);
  };
  // Without resources.arch the image's platform decides, but reading it is a
  // registry request: made only when some offer is known to differ from the
  // x86_64 default, so only when the answer could change the placement.
  if (!workload.resources.arch && request.image_arch &&
      std::any_of(listing.offers.begin(), listing.offers.end(), [](const Offer& o) {
        return o.arch != CpuArch::kUnknown && o.arch != CpuArch::kX86_64;
      }))
    if (auto arch = request.image_arch(); arch && *arch != CpuArch::kX86_64) {
      LaunchTemplate for_image = workload;
      for_image.resources.arch = *arch;
      return finish(plan_from_offers(for_image, listing.offers, with_homes), for_image);
    }
  return finish(plan_from_offers(workload, listing.offers, with_homes), workload);
}

const Rejection* rejection_to_relax(const Plan& plan) {
  // Hardware needs (VRAM, GPU count, ...) are usually what the workload
  // cannot do without, while price caps, regions, provider lists and the spot
  // policy are choices: so the cheapest nearest miss of a choice wins, then
  // the cheapest of any, then the most frequent.
  auto is_choice = [](const Rejection& r) {
    return r.constraint.rfind("placement.", 0) == 0 || r.constraint == "cooldown";
  };
  const Rejection* best = nullptr;
  auto better = [&](const Rejection& r) {
    if (!best) return true;
    if (is_choice(r) != is_choice(*best)) return is_choice(r);
    return r.nearest->price_per_hour < best->nearest->price_per_hour;
  };
  for (const auto& r : plan.rejections) {
    if (r.constraint == "spread" || r.constraint == "replicas") return &r;
    if (r.nearest && better(r)) best = &r;
  }
  if (!best && !plan.rejections.empty()) best = &plan.rejections.front();
  return best;
}

}  // namespace berth
