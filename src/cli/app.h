// The command tree. src/cli/ is the only user of CLI11: each command lives in
// its own cmd_<name>.cpp with a setup function that binds an options struct
// and a run function that calls into the core and returns the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "berth/common/environment.h"
#include "berth/common/failure.h"
#include "berth/common/output.h"
#include "berth/common/units.h"
#include "berth/config/config.h"

namespace berth {
class ProviderSet;
struct DeployContext;
struct LaunchTemplate;
struct WatchOptions;
}  // namespace berth

namespace berth::cli {

struct DeploySession;

struct GlobalOptions {
  std::optional<std::string> config;
  std::string output = "table";  // table | json | csv (offers only)
  bool quiet = false;
  int verbose = 0;
  bool no_color = false;
  bool yes = false;
  std::optional<std::string> timeout;

  Terminal terminal() const { return Terminal::detect(no_color, quiet ? -1 : verbose); }
};

/// The exit code the chosen command's callback sets.
struct RunState {
  int exit_code = 0;
};

/// Prints a Failure the way every command does and returns its exit code.
/// `reason` names the cause for -o json's error event (default: the exit
/// code's name).
int report(const Failure& failure, const std::string& reason = "");
/// Prints every diagnostic of a file (templates, config) and returns 3.
int report(const Diagnostics& diagnostics);
/// Loads the config for commands that talk to providers (exit 3 on errors);
/// its credentials are redacted from everything printed from then on.
Expected<Config, int> load_config_or_report(const GlobalOptions& g);
/// "runpod is disabled (RUNPOD_API_KEY is not set); ...", empty when no
/// provider is: for messages about what could not be asked.
std::string disabled_providers_text(const Config& config);
/// For commands that start nothing (validate, offers, plan): a template whose
/// ${VAR} is unset is accepted, and this note says which variables `up`
/// will need (nothing when all are set).
void note_unset_variables(const GlobalOptions& g, const std::string& file,
                          const LaunchTemplate& workload);
/// The same list for -o json: [{"name", "path", "line", "column"}].
nlohmann::json unset_variables_json(const LaunchTemplate& workload);
/// The template's secrets are redacted from everything printed from now on
/// (a provider's error may quote an env value back).
void redact_from_output(const LaunchTemplate& workload);
/// Whether a question can be asked: stdin and stderr are a terminal and
/// stderr is not a JSON event stream.
bool can_ask();
/// Prints `question` and " [y/N] " on stderr and reads one line of stdin:
/// true for y or yes (any case, surrounding blanks ignored).
bool ask_yes(const std::string& question);
/// The global --timeout as a positive duration, nullopt without the flag;
/// anything else is reported as a usage error (exit 2).
Expected<std::optional<Duration>, int> timeout_flag(const GlobalOptions& g);
/// "timed out after 30s (--timeout)": how every command says that its
/// --timeout ran out (exit 130, as an interrupt: docs/json.md, exit codes).
std::string timed_out_message(Duration limit);

void setup_validate(CLI::App& app, GlobalOptions& g, RunState& s);
void setup_gpus(CLI::App& app, GlobalOptions& g, RunState& s);
void setup_schema(CLI::App& app, GlobalOptions& g, RunState& s);
void setup_init(CLI::App& app, GlobalOptions& g, RunState& s);
void setup_offers(CLI::App& app, GlobalOptions& g, RunState& s);
void setup_providers(CLI::App& app, GlobalOptions& g, RunState& s);
void setup_plan(CLI::App& app, GlobalOptions& g, RunState& s);
void setup_deploy_commands(CLI::App& app, GlobalOptions& g, RunState& s);  // up status logs exec ssh down
void setup_watch(CLI::App& app, GlobalOptions& g, RunState& s);
void setup_completion(CLI::App& app, GlobalOptions& g, RunState& s);
void setup_volumes(CLI::App& app, GlobalOptions& g, RunState& s);

/// The watch loop for `berth watch` and `berth up --watch` (after a
/// successful up, which it then adopts): events on stderr, exit code back.
int watch_and_report(const GlobalOptions& g, const LaunchTemplate& workload, DeploySession& session,
                     const WatchOptions& options);

}  // namespace berth::cli
