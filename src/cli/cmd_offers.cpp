// PLACEHOLDER: replaced by the real command.
#include "cli/app.h"

namespace berth::cli {

void setup_offers(CLI::App& app, GlobalOptions&, RunState& s) {
  auto* sub = app.add_subcommand("offers", "(not yet available)");
  sub->callback([&s] { s.exit_code = report(Failure{ExitCode::kInternal, "'offers' is not available yet", ""}); });
}

}  // namespace berth::cli
