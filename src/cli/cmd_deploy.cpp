// PLACEHOLDER: replaced by the real command.
#include "cli/app.h"

namespace berth::cli {

void setup_deploy_commands(CLI::App& app, GlobalOptions&, RunState& s) {
  auto* sub = app.add_subcommand("up", "(not yet available)");
  sub->callback([&s] { s.exit_code = report(Failure{ExitCode::kInternal, "'up' is not available yet", ""}); });
}

}  // namespace berth::cli
