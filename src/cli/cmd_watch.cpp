// PLACEHOLDER: replaced by the real command.
#include "cli/app.h"

namespace berth::cli {

void setup_watch(CLI::App& app, GlobalOptions&, RunState& s) {
  auto* sub = app.add_subcommand("watch", "(not yet available)");
  sub->callback([&s] { s.exit_code = report(Failure{ExitCode::kInternal, "'watch' is not available yet", ""}); });
}

}  // namespace berth::cli
