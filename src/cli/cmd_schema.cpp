// berth schema: the JSON Schema of the launch template.
#include "berth/template/schema.h"
#include "cli/app.h"

namespace berth::cli {

void setup_schema(CLI::App& app, GlobalOptions&, RunState& s) {
  auto* sub = app.add_subcommand("schema", "Print the JSON Schema of the template format");
  sub->footer(
      "For editors: save it and point yaml-language-server at it, e.g. with the comment\n"
      "# yaml-language-server: $schema=./berth-schema.json");
  sub->callback([&s] {
    print_json(launch_template_schema());
    s.exit_code = 0;
  });
}

}  // namespace berth::cli
