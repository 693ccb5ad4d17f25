// berth volumes [rm VOLUME]: the provider volumes berth made for templates'
// `volumes: - {name, path, size}` (RunPod network volumes, Lambda
// filesystems), across providers; `rm` deletes one after asking.
#include <fmt/format.h>
#include <cstdio>

#include "berth/common/cancel.h"
#include "berth/common/redact.h"
#include "berth/config/provider_set.h"
#include "berth/http/http.h"
#include "cli/app.h"
#include "cli/provider_access.h"

namespace berth::cli {

namespace {

struct Listed {
  std::vector<ProviderVolume> volumes;
  std::vector<std::pair<std::string, ProviderError>> errors;
  std::vector<std::string> secrets;  // the config's, redacted from messages
  std::optional<ProviderSet> providers;
};

void warn_unlisted(const Listed& listed) {
  for (const auto& [name, e] : listed.errors)
    print_warning(fmt::format("{}: {}: {} (its volumes, if any, are not shown)", name,
                              to_string(e.kind), redact(e.message, listed.secrets)));
}

// What both subcommands start with: the config, its providers, and the
// volumes of every provider that keeps them (those that failed warned about).
Expected<Listed, int> list_all(const GlobalOptions& g) {
  auto config = load_config_or_report(g);
  if (!config) return unexpected(config.error());
  auto providers = open_providers(*config, g);
  if (!providers) return unexpected(providers.error());
  Listed out;
  out.secrets = config->secrets();
  out.providers.emplace(std::move(*providers));
  for (Provider* p : out.providers->all()) {
    if (!p->capabilities().volumes) continue;
    auto listed = p->list_volumes();
    if (!listed) {
      out.errors.emplace_back(p->name(), listed.error());
      continue;
    }
    for (auto& v : *listed) {
      v.provider = p->name();
      out.volumes.push_back(std::move(v));
    }
  }
  if (cancel_requested()) return unexpected(static_cast<int>(ExitCode::kInterrupted));
  warn_unlisted(out);
  return out;
}

nlohmann::json to_json(const ProviderVolume& v) {
  return {{"provider", v.provider},
          {"id", v.id},
          {"name", v.name},
          {"region", v.region},
          {"size_gb", v.size_gb ? nlohmann::json(*v.size_gb) : nlohmann::json(nullptr)},
          {"in_use", v.in_use ? nlohmann::json(*v.in_use) : nlohmann::json(nullptr)}};
}

std::string size_text(const ProviderVolume& v) {
  return v.size_gb ? fmt::format("{:g} GB", *v.size_gb) : "-";
}

std::string in_use_text(const ProviderVolume& v) {
  return v.in_use ? (*v.in_use ? "yes" : "no") : "-";
}

int run_list(const GlobalOptions& g) {
  auto all = list_all(g);
  if (!all) return all.error();
  const Listed& listed = *all;
  if (g.output == "json") {
    nlohmann::json list = nlohmann::json::array(), errors = nlohmann::json::array();
    for (const auto& v : listed.volumes) list.push_back(to_json(v));
    for (const auto& [name, e] : listed.errors)
      errors.push_back(
          {{"provider", name}, {"kind", to_string(e.kind)},
           {"message", redact(e.message, listed.secrets)}});
    print_json({{"volumes", std::move(list)}, {"errors", std::move(errors)}});
  } else {
    Table table({"PROVIDER", "NAME", "REGION", "SIZE", "IN USE", "ID"},
                {false, false, false, true, false, false});
    for (const auto& v : listed.volumes)
      table.add_row({v.provider, v.name, v.region.empty() ? "-" : v.region, size_text(v),
                     in_use_text(v), v.id});
    if (!table.empty()) print_text(stdout, table.render());
    else print_note(g.terminal(), "no volumes made by berth at any provider");
  }
  // Nothing listed anywhere because every provider failed: that is an error.
  if (!listed.errors.empty() && listed.volumes.empty()) {
    bool auth = std::all_of(listed.errors.begin(), listed.errors.end(), [](const auto& e) {
      return e.second.kind == ProviderError::Kind::kAuth;
    });
    return static_cast<int>(auth ? ExitCode::kAuth : ExitCode::kProviderFailed);
  }
  return 0;
}

int run_rm(const GlobalOptions& g, const std::string& which) {
  auto all = list_all(g);
  if (!all) return all.error();
  const Listed& listed = *all;

  // PROVIDER/ID, an id, or a name.
  std::vector<const ProviderVolume*> matches;
  for (const auto& v : listed.volumes)
    if (which == v.provider + "/" + v.id || which == v.id || which == v.name)
      matches.push_back(&v);
  if (matches.empty())
    return report(Failure{ExitCode::kNotFound,
                          fmt::format("no volume '{}' made by berth{}", which,
                                      listed.errors.empty() ? "" : " at the providers that answered"),
                          "'berth volumes' lists them"});
  if (matches.size() > 1) {
    std::string ids;
    for (const auto* v : matches) ids += fmt::format(" {}/{}", v->provider, v->id);
    return report(Failure{ExitCode::kUsage,
                          fmt::format("{} volumes match '{}'", matches.size(), which),
                          "name one as PROVIDER/ID:" + ids});
  }
  const ProviderVolume& v = *matches.front();
  const std::string what = fmt::format("{} ({}/{}, {}{})", v.name, v.provider, v.id,
                                       v.region.empty() ? "-" : v.region,
                                       v.size_gb ? fmt::format(", {:g} GB", *v.size_gb) : "");
  if (!g.yes) {
    if (!can_ask())
      return report(Failure{ExitCode::kUsage,
                            "refusing to delete the volume " + what + " without confirmation",
                            "its data cannot be recovered; pass --yes to delete it"});
    if (!ask_yes("Delete the volume " + what + "? Its data cannot be recovered."))
      return report(Failure{ExitCode::kUsage, "not deleted: not confirmed", ""});
  }
  Provider* p = listed.providers->find(v.provider);
  if (!p) return report(Failure{ExitCode::kInternal, "provider " + v.provider + " vanished", ""});
  auto gone = p->delete_volume(v.id);
  if (!gone) {
    const auto& e = gone.error();
    ExitCode code = e.kind == ProviderError::Kind::kAuth ? ExitCode::kAuth : ExitCode::kProviderFailed;
    return report(Failure{code,
                          fmt::format("{} refused to delete the volume {}: {}", v.provider, what,
                                      redact(e.message, listed.secrets)),
                          v.in_use.value_or(false)
                              ? "it is attached to an instance: 'berth down' its deployment first"
                              : ""});
  }
  print_note(g.terminal(), "deleted the volume " + what);
  return 0;
}

}  // namespace

void setup_volumes(CLI::App& app, GlobalOptions& g, RunState& s) {
  auto* sub = app.add_subcommand(
      "volumes", "The provider volumes berth made (volumes with size:), across providers");
  sub->fallthrough();  // global flags may follow, as everywhere
  sub->callback([&g, &s, sub]() {
    if (sub->get_subcommands().empty()) s.exit_code = run_list(g);
  });
  auto which = std::make_shared<std::string>();
  auto* rm = sub->add_subcommand(
      "rm", "Delete one provider volume, after asking (--yes: without asking)");
  rm->fallthrough();
  rm->add_option("VOLUME", *which, "PROVIDER/ID, an id, or the volume's name as 'volumes' lists it")
      ->required();
  rm->callback([&g, &s, which]() { s.exit_code = run_rm(g, *which); });
}

}  // namespace berth::cli
