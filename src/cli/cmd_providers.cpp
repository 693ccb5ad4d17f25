// PLACEHOLDER: replaced by the real command.
#include "cli/app.h"

namespace berth::cli {

void setup_providers(CLI::App& app, GlobalOptions&, RunState& s) {
  auto* sub = app.add_subcommand("providers", "(not yet available)");
  sub->callback([&s] { s.exit_code = report(Failure{ExitCode::kInternal, "'providers' is not available yet", ""}); });
}

}  // namespace berth::cli
