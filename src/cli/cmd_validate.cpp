// PLACEHOLDER: replaced by the real command.
#include "cli/app.h"

namespace berth::cli {

void setup_validate(CLI::App& app, GlobalOptions&, RunState& s) {
  auto* sub = app.add_subcommand("validate", "(not yet available)");
  sub->callback([&s] { s.exit_code = report(Failure{ExitCode::kInternal, "'validate' is not available yet", ""}); });
}

}  // namespace berth::cli
