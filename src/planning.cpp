#include "berth/planning.h"

#include <fmt/format.h>

#include "berth/offer_search.h"

namespace berth {

namespace {

PlacementOptions placement_options(const PlanRequest& request, const std::vector<Offer>& offers) {
  PlacementOptions options;
  options.replicas = request.replicas;
  options.excluded = request.excluded;
  for (const auto& inst : request.occupied)
    for (const auto& o : offers)
      if (o.provider == inst.provider && o.id == inst.offer_id) {
        options.occupied.push_back(o);
        break;
      }
  return options;
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

}  // namespace

Planning plan_from_offers(const LaunchTemplate& workload, const std::vector<Offer>& offers,
                          const PlanRequest& request) {
  Planning out;
  out.plan = solve_placement(workload, offers, placement_options(request, offers));
  out.failure = no_placement(out.plan);
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
  Planning solved = plan_from_offers(workload, listing.offers, request);
  out.plan = std::move(solved.plan);
  out.failure = std::move(solved.failure);
  return out;
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
