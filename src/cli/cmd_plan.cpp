// berth plan TEMPLATE [--offers FILE]: the placement berth would make, the
// ranked alternatives, and why every other offer was rejected.
// A dry run: nothing is launched.
#include <fmt/format.h>

#include "berth/common/cancel.h"
#include "berth/common/redact.h"
#include "berth/config/provider_set.h"
#include "berth/deploy/deploy.h"
#include "berth/placement/offer_search.h"
#include "berth/placement/placement.h"
#include "berth/placement/planning.h"
#include "berth/placement/saved_offers.h"
#include "berth/template/launch_template.h"
#include "cli/app.h"
#include "cli/provider_access.h"

namespace berth::cli {
namespace {

constexpr std::size_t kAlternativesShown = 3;

struct PlanOptions {
  std::string template_path;
  std::optional<std::string> offers_file;
  bool strict = false;
};

struct ProviderFailure {
  std::string provider;
  std::string kind;
  std::string message;
};

// Both sources of offers report their own failures and return the exit code.

// The offers kept of a saved listing once the plan is made: the process
// exits soon after, and freeing them one string at a time (some 10 ms per
// 100,000 offers, bench/README.md) is work the exit does at once. They stay
// reachable from here, so a leak checker does not count them; a later
// listing in the same process frees this one.
void keep_until_exit(std::vector<std::vector<Offer>>&& runs) {
  static auto* kept = new std::vector<std::vector<Offer>>();
  kept->swap(runs);
}

// A saved `berth offers -o json` result: {"offers": [...], "errors": [...]},
// screened as it is read (saved_offers.h), then solved.
Expected<Planning, int> plan_offers_file(const LaunchTemplate& w, const std::string& path,
                                         std::vector<ProviderFailure>& errors) {
  const PlacementOptions options;
  const ScreenWith with{w, options};
  auto saved = read_saved_offers(path, &with);
  if (!saved) return unexpected(report(saved.error()));
  // The listing's own provider errors belong to the reproduced plan too.
  for (auto& e : saved->errors) {
    errors.push_back({e.provider, e.kind, e.message});
    print_warning(fmt::format("{}: failed ({}) when the offers were saved: {}",
                              errors.back().provider, errors.back().kind, errors.back().message));
  }
  Planning planning = plan_from_screen(w, std::move(*saved->screen), options);
  keep_until_exit(std::move(saved->runs));
  // A saved listing keeps launch_data as text (saved_offers.h): parsed
  // only for the offers the plan names.
  for (auto& p : planning.plan.placement) {
    p.offer.materialize_launch_data();
    for (auto& f : p.fallbacks) f.materialize_launch_data();
  }
  return planning;
}

// Live offers from the providers the template allows: the planning `up` and
// `watch` do (planning.h), with `offers`' progress lines.
Expected<Planning, int> plan_live(const GlobalOptions& g, const LaunchTemplate& w,
                                  std::vector<ProviderFailure>& errors) {
  auto config = load_config_or_report(g);
  if (!config) return unexpected(config.error());
  auto providers = open_usable_providers(*config, g);
  if (!providers) return unexpected(providers.error());
  // As `up` plans: without resources.arch, the image's platform decides
  // (read from its registry only when some offer is not x86_64).
  PlanRequest request;
  request.image_arch = registry_arch_reader(providers->http(), w);
  Planning planning = plan_deployment(w, *providers, request);
  if (cancel_requested()) return unexpected(static_cast<int>(ExitCode::kInterrupted));
  const auto term = g.terminal();
  const auto secrets = config->secrets();
  for (const auto& w : planning.volume_warnings) print_warning(redact(w, secrets));
  for (const auto& r : planning.reports) {
    if (r.error) {
      print_warning(describe_report(r, secrets));
      errors.push_back({r.provider, to_string(r.error->kind), redact(r.error->message, secrets)});
    } else if (r.dropped || r.cut_at) {
      print_warning(describe_report(r, secrets));
    } else {
      print_note(term, describe_report(r, secrets));
    }
  }
  return planning;
}

std::string gpu_text(const Offer& o) {
  std::string s = gpu_summary(o.gpu);
  return s.empty() ? "-" : s;
}

std::string vram_text(const Offer& o) {
  if (o.gpu.count == 0 || !o.gpu.vram_gb) return "-";
  return fmt::format("{:g} GB", *o.gpu.vram_gb);
}

std::string price_text(double usd) { return fmt::format("{:.2f}", usd); }

std::vector<std::string> offer_row(const std::string& first, const Offer& o) {
  return {first,       o.provider,   o.region.empty() ? "-" : o.region,
          gpu_text(o), vram_text(o), price_text(o.price_per_hour) + (o.spot ? " spot" : ""),
          o.id};
}

std::string render(const Plan& plan) {
  std::string out;
  out += fmt::format("Plan for {}: {} of {} offers match\n", plan.deployment, plan.offers_matching,
                     plan.offers_considered);
  if (!plan.placement.empty()) {
    out += "\n";
    Table chosen({"REPLICA", "PROVIDER", "REGION", "GPU", "VRAM", "PRICE/H", "OFFER"},
                 {true, false, false, false, true, true, false});
    for (const auto& p : plan.placement)
      chosen.add_row(offer_row(std::to_string(p.replica), p.offer));
    out += chosen.render();
    out += fmt::format("\nTotal: {}/h\n", price_text(plan.total_price_per_hour));
    std::string unverified;
    for (const auto& p : plan.placement)
      for (const auto& u : p.unverified)
        unverified += fmt::format("  replica {}: {}\n", p.replica, u.detail);
    if (!unverified.empty())
      out += "\nNot reported, so not checked (--strict rejects such offers):\n" + unverified;
    std::string volumes;
    for (const auto& h : plan.volume_homes)
      volumes += fmt::format("  {}: at {} in {} ({}{}): offers there rank first\n", h.volume,
                             h.provider, h.region, h.id,
                             h.size_gb ? fmt::format(", {:g} GB", *h.size_gb) : "");
    for (const auto& p : plan.placement)
      for (const auto& v : p.new_volumes)
        volumes += fmt::format("  replica {}: {} is made at {} in {}, empty\n", p.replica, v,
                               p.offer.provider, p.offer.region.empty() ? "-" : p.offer.region);
    if (!volumes.empty()) out += "\nVolumes kept across redeploys:\n" + volumes;

    Table alt({"REPLICA", "PROVIDER", "REGION", "GPU", "VRAM", "PRICE/H", "OFFER"},
              {true, false, false, false, true, true, false});
    for (const auto& p : plan.placement)
      for (std::size_t k = 0; k < p.fallbacks.size() && k < kAlternativesShown; ++k)
        alt.add_row(offer_row(std::to_string(p.replica), p.fallbacks[k]));
    if (!alt.empty()) out += "\nNext best, tried in this order if a launch fails:\n" + alt.render();
  }
  if (!plan.rejections.empty()) {
    Table rej({"CONSTRAINT", "REJECTED", "NEAREST MISS"}, {false, true, false});
    for (const auto& r : plan.rejections)
      rej.add_row({r.constraint, std::to_string(r.count), r.detail});
    out += "\nRejected:\n" + rej.render();
  }
  return out;
}

int run_plan(const GlobalOptions& g, const PlanOptions& o) {
  // A plan starts nothing: an unset ${VAR} is noted, needed only by up.
  auto workload = load_template(o.template_path, Environment::process(), UnsetVariables::kRecord);
  if (!workload) return report(workload.error());
  redact_from_output(*workload);
  note_unset_variables(g, o.template_path, *workload);
  if (o.strict) workload->placement.strict = true;

  std::vector<ProviderFailure> errors;
  Planning planning;
  if (o.offers_file) {
    auto saved = plan_offers_file(*workload, *o.offers_file, errors);
    if (!saved) return saved.error();
    planning = std::move(*saved);
  } else {
    auto live = plan_live(g, *workload, errors);
    if (!live) return live.error();
    planning = std::move(*live);
  }
  // No provider asked, or none answered: there is no plan to show, only why.
  bool asked_nobody = !o.offers_file && planning.reports.empty();
  if (planning.failure && (planning.failure->code != ExitCode::kNoPlacement || asked_nobody))
    return report(*planning.failure);

  if (g.output == "json") {
    auto j = to_json(planning.plan);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : errors)
      list.push_back({{"provider", e.provider}, {"kind", e.kind}, {"message", e.message}});
    j["errors"] = std::move(list);
    j["unset_variables"] = unset_variables_json(*workload);
    print_json(j);
  } else {
    print_text(stdout, render(planning.plan));
  }
  if (planning.failure) return report(*planning.failure);
  return 0;
}

}  // namespace

void setup_plan(CLI::App& app, GlobalOptions& g, RunState& s) {
  auto opts = std::make_shared<PlanOptions>();
  auto* sub = app.add_subcommand(
      "plan",
      "Show the placement berth would make, ranked alternatives, and why other offers "
      "were rejected");
  sub->add_option("TEMPLATE", opts->template_path, "Launch template (YAML)")->required();
  sub->add_option("--offers", opts->offers_file,
                  "Plan from a saved 'berth offers -o json' result instead of asking the providers")
      ->option_text("FILE");
  sub->add_flag("--strict", opts->strict, "Reject offers that do not report a vCPU count, RAM, disk or CUDA version the template "
                  "constrains (placement.strict)");
  sub->callback([&g, &s, opts] {
    if (g.output == "csv") {
      s.exit_code = report(Failure{ExitCode::kUsage, "plan has no csv output", "use -o json"});
      return;
    }
    s.exit_code = run_plan(g, *opts);
  });
}

}  // namespace berth::cli
