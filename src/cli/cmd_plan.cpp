// berth plan TEMPLATE [--offers FILE]: the placement berth would make, the
// ranked alternatives, and why every other offer was rejected (SPEC §4, §5).
// A dry run: nothing is launched.
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "berth/cancel.h"
#include "berth/launch_template.h"
#include "berth/offer_search.h"
#include "berth/placement.h"
#include "berth/provider_set.h"
#include "cli/app.h"
#include "cli/provider_access.h"

namespace berth::cli {
namespace {

constexpr std::size_t kAlternativesShown = 3;

struct PlanOptions {
  std::string template_path;
  std::optional<std::string> offers_file;
};

struct ProviderFailure {
  std::string provider;
  std::string kind;
  std::string message;
};

struct Gathered {
  std::vector<Offer> offers;
  std::vector<ProviderFailure> errors;
};

// Both sources of offers report their own failures and return the exit code.

// A saved `berth offers -o json` result: {"offers": [...], "errors": [...]}.
Expected<Gathered, int> read_offers_file(const std::string& path) {
  auto invalid = [&](const std::string& why) {
    return unexpected(report(Failure{ExitCode::kInvalidInput, path + ": " + why,
                                     "save offers with: berth offers TEMPLATE -o json > FILE"}));
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid("cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    return invalid(std::string("not JSON: ") + e.what());
  }
  if (!doc.is_object() || !doc.contains("offers") || !doc["offers"].is_array())
    return invalid("expected an object with an \"offers\" array");
  Gathered g;
  const auto& list = doc["offers"];
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto offer = offer_from_json(list[i]);
    if (!offer) return invalid(fmt::format("offers[{}]: {}", i, offer.error()));
    g.offers.push_back(std::move(*offer));
  }
  // The listing's own provider errors belong to the reproduced plan too.
  if (auto it = doc.find("errors"); it != doc.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (!e.is_object()) continue;
      g.errors.push_back({e.value("provider", ""), e.value("kind", ""), e.value("message", "")});
      print_warning(fmt::format("{}: failed ({}) when the offers were saved: {}",
                                g.errors.back().provider, g.errors.back().kind,
                                g.errors.back().message));
    }
  }
  return g;
}

// Live offers from the providers the template allows (as `offers` asks them:
// the same query, selection, progress lines and exit codes).
Expected<Gathered, int> query_providers(const GlobalOptions& g, const LaunchTemplate& w) {
  auto config = load_config_or_report(g);
  if (!config) return unexpected(config.error());
  auto providers = open_providers(*config, g);
  if (!providers) return unexpected(providers.error());
  if (providers->all().empty())
    return unexpected(report(Failure{
        ExitCode::kInvalidInput,
        config->source.front() == '(' ? "no providers configured"
                                      : "no providers in " + config->source,
        "add providers to ~/.config/berth/config.yaml, or set a provider's API-key variable "
        "(LAMBDA_API_KEY, RUNPOD_API_KEY, VAST_API_KEY)"}));
  auto filter = OfferFilter::create({}, w);
  if (!filter) return unexpected(report(Failure{ExitCode::kInternal, filter.error(), ""}));
  std::vector<std::string> only;
  for (const Provider* p : providers->all())
    if (filter->asks(p->name())) only.push_back(p->name());
  if (only.empty())
    return unexpected(report(Failure{ExitCode::kNoPlacement,
                                     "placement.providers excludes every configured provider",
                                     "configured: " + provider_names(*providers)}));
  auto listing = providers->list_offers(filter->query(), only);
  if (cancel_requested()) return unexpected(static_cast<int>(ExitCode::kInterrupted));

  const auto term = g.terminal();
  const auto secrets = config->secrets();
  Gathered out;
  out.offers = std::move(listing.offers);
  for (const auto& r : listing.reports) {
    if (r.error) {
      print_warning(describe_report(r, secrets));
      out.errors.push_back(
          {r.provider, to_string(r.error->kind), redact(r.error->message, secrets)});
    } else {
      print_note(term, describe_report(r, secrets));
    }
  }
  if (auto failure = listing_failure(listing.reports)) return unexpected(report(*failure));
  return out;
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

/// The rejection to relax first. Hardware needs (VRAM, GPU count, ...) are
/// usually what the workload cannot do without, while price caps, regions,
/// provider lists and the spot policy are choices: so the cheapest nearest
/// miss of a choice wins, then the cheapest of any, then the most frequent.
const Rejection* to_relax(const Plan& plan) {
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

int run_plan(const GlobalOptions& g, const PlanOptions& o) {
  auto workload = load_template(o.template_path, Environment::process());
  if (!workload) return report(workload.error());
  redact_from_output(*workload);

  auto gathered = o.offers_file ? read_offers_file(*o.offers_file) : query_providers(g, *workload);
  if (!gathered) return gathered.error();

  Plan plan = solve_placement(*workload, gathered->offers);

  if (g.output == "json") {
    auto j = to_json(plan);
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : gathered->errors)
      errors.push_back({{"provider", e.provider}, {"kind", e.kind}, {"message", e.message}});
    j["errors"] = std::move(errors);
    print_json(j);
  } else {
    print_text(stdout, render(plan));
  }

  if (plan.placement.empty()) {
    Failure f{ExitCode::kNoPlacement,
              fmt::format("no placement for {}: none of {} offers satisfies the template",
                          plan.deployment, plan.offers_considered),
              ""};
    if (const Rejection* r = to_relax(plan))
      f.hint = fmt::format("relax {}: {}", r->constraint, r->detail);
    else
      f.hint = "no provider offered anything; try again later or configure more providers";
    return report(f);
  }
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
  sub->callback([&g, &s, opts] {
    if (g.output == "csv") {
      s.exit_code = report(Failure{ExitCode::kUsage, "plan has no csv output", "use -o json"});
      return;
    }
    s.exit_code = run_plan(g, *opts);
  });
}

}  // namespace berth::cli
