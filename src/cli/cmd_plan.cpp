// berth plan TEMPLATE [--offers FILE]: the placement berth would make, the
// ranked alternatives, and why every other offer was rejected (SPEC §4, §5).
// A dry run: nothing is launched.
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "berth/launch_template.h"
#include "berth/placement.h"
#include "berth/provider_set.h"
#include "cli/app.h"

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
  std::size_t answered = 0;  // providers (or the saved file) that delivered offers
  std::size_t asked = 0;
};

OfferQuery query_for(const LaunchTemplate& w) {
  OfferQuery q;
  q.gpu_count = w.resources.gpu.count;
  if (w.resources.gpu.vram.min) q.min_vram_gb = bytes_to_gb(*w.resources.gpu.vram.min);
  q.models = w.resources.gpu.models;
  q.max_price = w.placement.max_price;
  q.spot = w.placement.spot;
  q.vendor = w.resources.gpu.vendor;
  q.min_cuda = w.resources.cuda.min;
  return q;
}

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
  g.asked = g.answered = 1;
  const auto& list = doc["offers"];
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto offer = offer_from_json(list[i]);
    if (!offer) return invalid(fmt::format("offers[{}]: {}", i, offer.error()));
    g.offers.push_back(std::move(*offer));
  }
  if (auto it = doc.find("errors"); it != doc.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (!e.is_object()) continue;
      g.errors.push_back({e.value("provider", ""), e.value("kind", ""), e.value("message", "")});
    }
  }
  return g;
}

Expected<Gathered, int> query_providers(const GlobalOptions& g, const LaunchTemplate& w) {
  auto config = load_config_or_report(g);
  if (!config) return unexpected(config.error());
  HttpOptions http;
  http.trace_level = g.verbose;
  if (g.timeout) {
    auto d = parse_duration(*g.timeout);
    if (!d) return unexpected(report(Failure{ExitCode::kUsage, "--timeout: " + d.error(), ""}));
    http.total_timeout = *d;
  }
  auto set = ProviderSet::create(*config, std::move(http));
  if (!set)
    return unexpected(report(Failure{ExitCode::kInvalidInput, set.error(),
                                     "check the providers section of " + config->source}));
  auto listing = set->list_offers(query_for(w));
  Gathered out;
  out.offers = std::move(listing.offers);
  for (const auto& r : listing.reports) {
    ++out.asked;
    if (r.error)
      out.errors.push_back({r.provider, to_string(r.error->kind), r.error->message});
    else
      ++out.answered;
  }
  return out;
}

std::string gpu_text(const Offer& o) {
  if (o.gpu.count == 0) return "-";
  return fmt::format("{} ×{}", o.gpu.model, o.gpu.count);
}

std::string vram_text(const Offer& o) {
  if (o.gpu.count == 0 || !o.gpu.vram_gb) return "-";
  return fmt::format("{:g} GB", *o.gpu.vram_gb);
}

std::string price_text(double usd) { return fmt::format("{:.2f}", usd); }

std::vector<std::string> offer_row(const std::string& first, const Offer& o) {
  return {first,       o.provider,  o.region.empty() ? "-" : o.region, gpu_text(o),
          vram_text(o), price_text(o.price_per_hour) + (o.spot ? " spot" : ""), o.id};
}

std::string render(const Plan& plan) {
  std::string out;
  out += fmt::format("Plan for {}: {} of {} offers match\n\n", plan.deployment,
                     plan.offers_matching, plan.offers_considered);
  if (!plan.placement.empty()) {
    Table chosen({"REPLICA", "PROVIDER", "REGION", "GPU", "VRAM", "PRICE/H", "OFFER"},
                 {true, false, false, false, true, true, false});
    for (const auto& p : plan.placement) chosen.add_row(offer_row(std::to_string(p.replica), p.offer));
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
    for (const auto& r : plan.rejections) rej.add_row({r.constraint, std::to_string(r.count), r.detail});
    out += "\nRejected:\n" + rej.render();
  }
  return out;
}

/// The rejection to relax first: the one whose nearest miss is cheapest
/// (relaxing it alone would place the workload), else the most frequent.
const Rejection* to_relax(const Plan& plan) {
  const Rejection* best = nullptr;
  for (const auto& r : plan.rejections) {
    if (r.constraint == "spread" || r.constraint == "replicas") return &r;
    if (r.nearest && (!best || !best->nearest ||
                      r.nearest->price_per_hour < best->nearest->price_per_hour))
      best = &r;
  }
  if (!best && !plan.rejections.empty()) best = &plan.rejections.front();
  return best;
}

int run_plan(const GlobalOptions& g, const PlanOptions& o) {
  auto workload = load_template(o.template_path, Environment::process());
  if (!workload) return report(workload.error());

  auto gathered =
      o.offers_file ? read_offers_file(*o.offers_file) : query_providers(g, *workload);
  if (!gathered) return gathered.error();

  for (const auto& e : gathered->errors)
    print_warning(fmt::format("provider {} failed ({}): {}", e.provider, e.kind, e.message));
  if (gathered->asked > 0 && gathered->answered == 0) {
    bool auth = std::any_of(gathered->errors.begin(), gathered->errors.end(),
                            [](const ProviderFailure& e) { return e.kind == "auth"; });
    return report(Failure{auth ? ExitCode::kAuth : ExitCode::kProviderFailed,
                          "no provider answered", "check the providers with: berth providers --check"});
  }

  Plan plan = solve_placement(*workload, gathered->offers);

  if (g.output == "json") {
    auto j = to_json(plan);
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : gathered->errors)
      errors.push_back({{"provider", e.provider}, {"kind", e.kind}, {"message", e.message}});
    j["errors"] = std::move(errors);
    print_json(j);
  } else {
    std::fputs(render(plan).c_str(), stdout);
  }

  if (plan.placement.empty()) {
    Failure f{ExitCode::kNoPlacement,
              fmt::format("no placement for {}: none of {} offers satisfies the template",
                          plan.deployment, plan.offers_considered),
              ""};
    if (gathered->asked == 0)
      f.hint = "no provider is configured; see berth(1), CONFIGURATION";
    else if (const Rejection* r = to_relax(plan))
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
      "plan", "Show the placement berth would make, ranked alternatives, and why other offers "
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
