// PLACEHOLDER: replaced by the real command.
#include "cli/app.h"

namespace berth::cli {

void setup_plan(CLI::App& app, GlobalOptions&, RunState& s) {
  auto* sub = app.add_subcommand("plan", "(not yet available)");
  sub->callback([&s] { s.exit_code = report(Failure{ExitCode::kInternal, "'plan' is not available yet", ""}); });
}

}  // namespace berth::cli
