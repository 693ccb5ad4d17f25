// PLACEHOLDER: replaced by the real command.
#include "cli/app.h"

namespace berth::cli {

void setup_schema(CLI::App& app, GlobalOptions&, RunState& s) {
  auto* sub = app.add_subcommand("schema", "(not yet available)");
  sub->callback([&s] { s.exit_code = report(Failure{ExitCode::kInternal, "'schema' is not available yet", ""}); });
}

}  // namespace berth::cli
