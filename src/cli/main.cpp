// berth: deploy GPU workloads from hardware-agnostic launch templates.
#include <cstdio>
#include <iostream>
#include <string>

#include "berth/common/version.h"
#include "berth/template/launch_template.h"
#include "berth/template/workload_spec.h"
#include "cli/app.h"

namespace berth::cli {

int report(const Failure& failure, const std::string& reason) {
  print_error(failure.message, failure.hint,
              reason.empty() ? exit_code_name(failure.code) : reason);
  return static_cast<int>(failure.code);
}

int report(const Diagnostics& diagnostics) {
  std::string all;
  for (const auto& d : diagnostics) all += format_diagnostic(d);
  std::string count =
      std::to_string(diagnostics.size()) + (diagnostics.size() == 1 ? " error" : " errors");
  if (stderr_json_lines()) {  // one event: the file's errors belong together
    print_event(make_event(EventType::kError, exit_code_name(ExitCode::kInvalidInput),
                           count + "\n" + all));
  } else {
    print_text(stderr, all);
    print_text(stderr, "berth: " + count + "\n");
  }
  return static_cast<int>(ExitCode::kInvalidInput);
}

Expected<Config, int> load_config_or_report(const GlobalOptions& g) {
  std::optional<std::filesystem::path> path;
  if (g.config) path = *g.config;
  auto config = load_config(path, Environment::process());
  if (!config) return unexpected(report(config.error()));
  add_output_secrets(config->secrets());
  // One warning per disabled provider; the others work (docs/config.md).
  for (const auto& d : config->disabled)
    print_warning(describe(d) + " (" + d.where + "); the other providers are used");
  return std::move(*config);
}

std::string disabled_providers_text(const Config& config) {
  std::string out;
  for (const auto& d : config.disabled)
    out += (out.empty() ? "" : "; ") + d.name + " is disabled (" + d.reason + ")";
  return out;
}

void note_unset_variables(const GlobalOptions& g, const std::string& file,
                          const LaunchTemplate& workload) {
  if (workload.unset_variables.empty()) return;
  const auto n = workload.unset_variables.size();
  print_note(g.terminal(), file + ": 'berth up' and 'berth watch' will need " +
                               unset_variable_names(workload) + " (not set now" +
                               (n == 1 ? "" : "; " + std::to_string(n) + " values use them") +
                               ")");
}

nlohmann::json unset_variables_json(const LaunchTemplate& workload) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& u : workload.unset_variables)
    list.push_back(
        {{"name", u.name}, {"path", u.path}, {"line", u.line}, {"column", u.column}});
  return list;
}

void redact_from_output(const LaunchTemplate& workload) {
  add_output_secrets(resolve_workload(workload).secrets());
}

Expected<std::optional<Duration>, int> timeout_flag(const GlobalOptions& g) {
  if (!g.timeout) return std::optional<Duration>();
  auto d = parse_duration(*g.timeout);
  if (!d || d->count() <= 0)
    return unexpected(report(Failure{ExitCode::kUsage,
                                     "--timeout: '" + *g.timeout + "' is not a positive duration",
                                     "use e.g. 90s, 10m, 1h30m"}));
  return std::optional<Duration>(*d);
}

std::string timed_out_message(Duration limit) {
  return "timed out after " + format_duration(limit) + " (--timeout)";
}

}  // namespace berth::cli

namespace {

/// Whether the command line asks `up`, `watch` or `down` for -o json: their
/// stderr is then JSON lines from the first line on, a usage error included,
/// which is reported before the parsed options exist.
bool json_event_stream_requested(int argc, char** argv) {
  bool command = false, json = false;
  bool seen_command = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string next = i + 1 < argc ? argv[i + 1] : "";
    if (a == "-o" || a == "--output") {
      json = json || next == "json";
      ++i;
    } else if (a == "-ojson" || a == "--output=json") {
      json = true;
    } else if (a == "--config" || a == "--timeout") {
      ++i;  // their values are not the command
    } else if (!seen_command && !a.empty() && a[0] != '-') {
      seen_command = true;
      command = a == "up" || a == "watch" || a == "down";
    }
  }
  return command && json;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace berth::cli;
  CLI::App app{"berth deploys GPU workloads from hardware-agnostic launch templates.", "berth"};
  app.fallthrough();  // global flags may follow the command
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("berth ") + berth::version());
  app.get_formatter()->column_width(28);
  app.footer(
      "Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid template or config,\n"
      "4 credentials rejected, 5 no placement, 6 providers failed, 7 workload failed,\n"
      "8 not found, 130 interrupted.\nSee berth(1) for details.");

  GlobalOptions g;
  RunState state;
  app.add_option("--config", g.config, "Config file (default: $BERTH_CONFIG, "
                                       "then ~/.config/berth/config.yaml)")
      ->option_text("FILE");
  app.add_option("-o,--output", g.output, "Output format: table or json (offers: also csv)")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->option_text("FORMAT");
  app.add_flag("-q,--quiet", g.quiet, "Print only results and errors");
  app.add_flag("-v,--verbose", g.verbose, "More detail on stderr; -vv traces HTTP (redacted)");
  app.add_flag("--no-color", g.no_color, "No colors (NO_COLOR is honoured too)");
  app.add_flag("-y,--yes", g.yes,
               "Never prompt; assume yes (up and watch rent paid offers without asking)");
  app.add_option("--timeout", g.timeout, "Overall time limit, e.g. 30s, 10m")
      ->option_text("DURATION");

  setup_validate(app, g, state);
  setup_offers(app, g, state);
  setup_plan(app, g, state);
  setup_deploy_commands(app, g, state);
  setup_watch(app, g, state);
  setup_providers(app, g, state);
  setup_volumes(app, g, state);
  setup_gpus(app, g, state);
  setup_init(app, g, state);
  setup_schema(app, g, state);
  setup_completion(app, g, state);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (json_event_stream_requested(argc, argv)) berth::set_stderr_json_lines(true);
    std::string what = e.what();
    berth::print_error(what, "run 'berth --help' or 'berth COMMAND --help'",
                       berth::exit_code_name(berth::ExitCode::kUsage));
    return static_cast<int>(berth::ExitCode::kUsage);
  } catch (const std::exception& e) {
    berth::print_error(std::string("internal error: ") + e.what(),
                       "this is a bug in berth; please report it with the command you ran");
    return static_cast<int>(berth::ExitCode::kInternal);
  }
  return state.exit_code;
}
