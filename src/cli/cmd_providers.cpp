// berth providers [--check]: what the config sets up, and whether each
// provider accepts its credentials.
#include <fmt/format.h>

#include <cstdio>

#include "berth/cancel.h"
#include "berth/http.h"
#include "cli/app.h"
#include "cli/provider_access.h"

namespace berth::cli {

namespace {

int run_providers(bool check, const GlobalOptions& g) {
  auto config = load_config_or_report(g);
  if (!config) return config.error();
  auto providers = open_providers(*config, g);
  if (!providers) return providers.error();
  auto secrets = config->secrets();

  std::vector<ProviderReport> reports;
  if (check) reports = providers->check_credentials();
  if (cancel_requested()) return static_cast<int>(ExitCode::kInterrupted);

  bool auth_failed = false, other_failed = false;
  for (const auto& r : reports) {
    if (!r.error) continue;
    (r.error->kind == ProviderError::Kind::kAuth ? auth_failed : other_failed) = true;
  }

  auto base_url = [&](const std::string& name) {
    for (const auto& p : config->providers)
      if (p.name == name) return p.base_url;
    return std::string();
  };
  auto type = [&](const std::string& name) {
    for (const auto& p : config->providers)
      if (p.name == name) return p.type;
    return std::string();
  };
  const auto all = providers->all();

  if (g.output == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto& name = all[i]->name();
      std::string url = base_url(name);
      nlohmann::json j = {
          {"name", name},
          {"type", type(name)},
          {"base_url", url.empty() ? nlohmann::json(nullptr) : nlohmann::json(url)}};
      if (check) {
        const auto& r = reports[i];
        j["check"] = {
            {"ok", r.ok()},
            {"latency_ms", r.latency.count()},
            {"kind", r.error ? nlohmann::json(to_string(r.error->kind)) : nlohmann::json(nullptr)},
            {"message", r.error ? nlohmann::json(redact(r.error->message, secrets))
                                : nlohmann::json(nullptr)}};
      }
      list.push_back(std::move(j));
    }
    print_json({{"config", config->source}, {"providers", std::move(list)}});
  } else {
    std::vector<std::string> headers = {"NAME", "TYPE", "BASE URL"};
    if (check) headers.push_back("CHECK");
    Table table(headers);
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto& name = all[i]->name();
      std::string url = base_url(name);
      // Providers without an HTTP API (local, ssh) have no URL to show.
      const ProviderType* t = find_provider_type(type(name));
      bool http = t && !t->api_key_env.empty();
      std::vector<std::string> row = {name, type(name),
                                      !http         ? "-"
                                      : url.empty() ? "(default)"
                                                    : url};
      if (check) {
        const auto& r = reports[i];
        row.push_back(r.ok() ? fmt::format("ok ({} ms)", r.latency.count())
                             : fmt::format("{}: {}", to_string(r.error->kind),
                                           redact(r.error->message, secrets)));
      }
      table.add_row(std::move(row));
    }
    std::string out = g.output == "csv" ? table.render_csv() : table.render();
    print_text(stdout, out);
    print_note(g.terminal(), "config: " + config->source);
  }
  if (all.empty())
    print_note(g.terminal(),
               "no providers configured; write one in ~/.config/berth/config.yaml or set a "
               "provider's API-key variable (LAMBDA_API_KEY, RUNPOD_API_KEY, VAST_API_KEY)");
  if (auth_failed)
    return report(Failure{ExitCode::kAuth, "a provider rejected the credentials",
                          "check the API key named in " + config->source});
  if (other_failed)
    return report(Failure{ExitCode::kProviderFailed, "a provider could not be reached",
                          "the CHECK column says why; retry, or run with -vv to trace HTTP"});
  return 0;
}

}  // namespace

void setup_providers(CLI::App& app, GlobalOptions& g, RunState& s) {
  auto check = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand("providers", "List the configured providers");
  sub->add_flag("--check", *check, "Verify each provider's credentials (all at once)");
  sub->callback([check, &g, &s] { s.exit_code = run_providers(*check, g); });
}

}  // namespace berth::cli
