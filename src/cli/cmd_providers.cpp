// berth providers [--check]: what the config sets up, and whether each
// provider accepts its credentials.
#include <fmt/format.h>

#include <cstdio>

#include "berth/common/cancel.h"
#include "berth/common/redact.h"
#include "berth/http/http.h"
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

  auto config_of = [&](const std::string& name) {
    for (const auto& p : config->providers)
      if (p.name == name) return p;
    return ProviderConfig{};
  };
  const auto all = providers->all();
  // Every provider the config describes: the working ones, then the ones
  // disabled for a missing credential (docs/config.md). The base URL is the
  // one each talks to, configured or its type's default, in one form.
  struct Row {
    ProviderConfig config;
    std::string disabled;  // why, or empty
  };
  std::vector<Row> rows;
  for (const auto* p : all) rows.push_back({config_of(p->name()), ""});
  for (const auto& d : config->disabled) {
    ProviderConfig pc;
    pc.name = d.name;
    pc.type = d.type;
    pc.base_url = d.base_url;
    rows.push_back({std::move(pc), d.reason});
  }

  if (g.output == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& row = rows[i];
      std::string url = effective_base_url(row.config);
      nlohmann::json j = {
          {"name", row.config.name},
          {"type", row.config.type},
          {"base_url", url.empty() ? nlohmann::json(nullptr) : nlohmann::json(url)},
          {"base_url_configured", !row.config.base_url.empty()},
          {"enabled", row.disabled.empty()},
          {"disabled_reason",
           row.disabled.empty() ? nlohmann::json(nullptr) : nlohmann::json(row.disabled)}};
      if (check) {
        if (i < reports.size()) {
          const auto& r = reports[i];
          j["check"] = {
              {"ok", r.ok()},
              {"latency_ms", r.latency.count()},
              {"kind",
               r.error ? nlohmann::json(to_string(r.error->kind)) : nlohmann::json(nullptr)},
              {"message", r.error ? nlohmann::json(redact(r.error->message, secrets))
                                  : nlohmann::json(nullptr)}};
        } else {
          j["check"] = nullptr;  // disabled: not asked
        }
      }
      list.push_back(std::move(j));
    }
    print_json({{"config", config->source}, {"providers", std::move(list)}});
  } else {
    std::vector<std::string> headers = {"NAME", "TYPE", "BASE URL", "STATE"};
    if (check) headers.push_back("CHECK");
    Table table(headers);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& row = rows[i];
      std::string url = effective_base_url(row.config);
      // Providers without an HTTP API (local, ssh) have no URL to show.
      std::vector<std::string> row_text = {row.config.name, row.config.type,
                                           url.empty() ? "-" : url,
                                           row.disabled.empty() ? "enabled"
                                                                : "disabled: " + row.disabled};
      if (check) {
        if (i < reports.size()) {
          const auto& r = reports[i];
          row_text.push_back(r.ok() ? fmt::format("ok ({} ms)", r.latency.count())
                                    : fmt::format("{}: {}", to_string(r.error->kind),
                                                  redact(r.error->message, secrets)));
        } else {
          row_text.push_back("-");
        }
      }
      table.add_row(std::move(row_text));
    }
    std::string out = g.output == "csv" ? table.render_csv() : table.render();
    print_text(stdout, out);
    print_note(g.terminal(), "config: " + config->source);
  }
  if (rows.empty())
    print_note(g.terminal(),
               "no providers configured; write one in ~/.config/berth/config.yaml or set a "
               "provider's API-key variable (" + api_key_variables() + ")");
  if (auth_failed)
    return report(Failure{ExitCode::kAuth, "a provider rejected the credentials",
                          "check the API key named in " + config->source});
  if (other_failed)
    return report(Failure{ExitCode::kProviderFailed, "a provider's check failed",
                          "the CHECK column says what it answered; retry, or run with -vv to "
                          "trace HTTP"});
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
