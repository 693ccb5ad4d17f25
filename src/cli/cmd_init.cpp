// PLACEHOLDER: replaced by the real command.
#include "cli/app.h"

namespace berth::cli {

void setup_init(CLI::App& app, GlobalOptions&, RunState& s) {
  auto* sub = app.add_subcommand("init", "(not yet available)");
  sub->callback([&s] { s.exit_code = report(Failure{ExitCode::kInternal, "'init' is not available yet", ""}); });
}

}  // namespace berth::cli
