// berth offers [TEMPLATE] [filters]: live offers from every provider at once.
#include <cstdio>

#include "berth/common/cancel.h"
#include "berth/common/units.h"
#include "berth/placement/offer_search.h"
#include "cli/app.h"
#include "cli/provider_access.h"

namespace berth::cli {

namespace {

struct OffersOptions {
  std::optional<std::string> template_file;
  OfferFlags flags;
  std::string sort = "price";
  std::optional<std::size_t> limit;
  bool strict = false;
};

int run_offers(const OffersOptions& o, const GlobalOptions& g) {
  if (g.output != "table" && g.output != "json" && g.output != "csv")
    return report(Failure{ExitCode::kUsage, "offers prints table, json or csv", ""});
  std::optional<LaunchTemplate> workload;
  nlohmann::json unset_json = nlohmann::json::array();
  if (o.template_file) {
    auto t = load_template(*o.template_file, Environment::process(), UnsetVariables::kRecord);
    if (!t) return report(t.error());
    redact_from_output(*t);
    note_unset_variables(g, *o.template_file, *t);
    unset_json = unset_variables_json(*t);
    if (o.strict) t->placement.strict = true;
    workload = std::move(*t);
  }
  auto filter = OfferFilter::create(o.flags, std::move(workload));
  if (!filter)
    return report(Failure{ExitCode::kUsage, filter.error(), "see 'berth offers --help'"});

  auto config = load_config_or_report(g);
  if (!config) return config.error();
  auto providers = open_usable_providers(*config, g);
  if (!providers) return providers.error();
  auto search = search_offers(*providers, *filter, *offer_sort_from_string(o.sort), o.limit);
  if (cancel_requested()) return static_cast<int>(ExitCode::kInterrupted);
  if (search.reports.empty()) {
    // --provider named only disabled providers: say which credential is missing.
    std::string off;
    for (const auto& d : config->disabled)
      if (ProviderSet::selected(d.name, o.flags.providers))
        off += (off.empty() ? "" : "; ") + describe(d);
    if (!off.empty())
      return report(Failure{ExitCode::kInvalidInput, off, "set the missing credential"});
  }
  if (search.reports.empty())
    return report(Failure{ExitCode::kUsage, "no configured provider matches the selection",
                          "configured: " + provider_names(*providers)});

  auto term = g.terminal();
  auto secrets = config->secrets();
  for (const auto& r : search.reports) {
    if (r.error || r.dropped || r.cut_at)
      print_warning(describe_report(r, secrets));
    else
      print_note(term, describe_report(r, secrets));
  }
  if (g.output == "json") {
    auto j = offers_to_json(search, secrets);
    if (o.template_file) j["unset_variables"] = unset_json;
    print_json(j);
  } else {
    std::string out = g.output == "csv" ? offers_csv(search.offers) : offers_table(search.offers);
    if (g.output == "csv" || !search.offers.empty()) print_text(stdout, out);
  }
  if (auto failure = listing_failure(search.reports)) return report(*failure);
  if (search.offers.empty())
    print_note(term, "no offer matches (" + std::to_string(search.received) +
                         " received); relax the filters");
  return 0;
}

}  // namespace

void setup_offers(CLI::App& app, GlobalOptions& g, RunState& s) {
  auto o = std::make_shared<OffersOptions>();
  auto* sub = app.add_subcommand(
      "offers", "List live offers from every provider, cheapest first; a TEMPLATE filters them");
  sub->add_option("TEMPLATE", o->template_file,
                  "Launch template whose resources and placement are the filter");
  sub->add_option("--gpu", o->flags.gpus, "GPU model (catalog name or alias); repeatable")
      ->option_text("MODEL");
  sub->add_option("--vram", o->flags.vram, "Memory per GPU: 80GB, 24GB..48GB, ..40GB")
      ->option_text("RANGE");
  sub->add_option("--gpus", o->flags.count, "GPU count: 8, 1..4, 2..")->option_text("RANGE");
  sub->add_option("--cc", o->flags.cc, "CUDA compute capability: 8.0, 8.0..9.0")
      ->option_text("RANGE");
  sub->add_option("--max-price", o->flags.max_price, "Highest USD per instance-hour")
      ->option_text("USD");
  sub->add_option("--provider", o->flags.providers,
                  "Provider name from the config (glob); repeatable")
      ->option_text("NAME");
  sub->add_option("--region", o->flags.regions, "Region, country or continent (glob, e.g. 'us', 'eu', 'us-tx', 'US-KS-*'); repeatable")
      ->option_text("GLOB");
  sub->add_flag("--spot", o->flags.spot, "Include spot (interruptible) offers");
  sub->add_flag("--strict", o->strict,
                "With TEMPLATE: reject offers that do not report a vCPU count, RAM, disk or CUDA "
                "version it constrains");
  sub->add_option("--sort", o->sort, "Order: price (default), vram or cc")
      ->check(CLI::IsMember({"price", "vram", "cc"}))
      ->option_text("KEY");
  sub->add_option("--limit", o->limit, "Show at most N offers")->option_text("N");
  sub->callback([o, &g, &s] { s.exit_code = run_offers(*o, g); });
}

}  // namespace berth::cli
