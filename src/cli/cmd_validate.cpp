// berth validate TEMPLATE...: parse and check templates; no network.
#include <cstdio>

#include "berth/provider/provider.h"
#include "berth/template/launch_template.h"
#include "berth/template/location.h"
#include "cli/app.h"

namespace berth::cli {

namespace {

struct ValidateOptions {
  std::vector<std::string> files;
};

// At most one byte past the template size limit: enough for the parser to
// refuse it, never a whole runaway stream in memory.
std::string read_stdin() {
  std::string text;
  char buf[65536];
  std::size_t n;
  while (text.size() <= (1u << 20) && (n = std::fread(buf, 1, sizeof buf, stdin)) > 0)
    text.append(buf, n);
  return text;
}

nlohmann::json diagnostic_json(const Diagnostic& d) {
  return {{"file", d.file},
          {"line", d.line},
          {"column", d.column},
          {"message", d.message},
          {"hint", d.hint}};
}

int run_validate(const ValidateOptions& o, const GlobalOptions& g) {
  const bool json = g.output == "json";
  const Environment env = Environment::process();
  nlohmann::json results = nlohmann::json::array();
  int invalid = 0;
  for (const auto& arg : o.files) {
    const std::string file = arg == "-" ? "<stdin>" : arg;
    // "-" reads the template from stdin (pipelines); its volume sources resolve
    // against the current directory.
    // An unset ${VAR} is no error here: only up and watch need its value.
    auto t = arg == "-" ? parse_template(read_stdin(), "<stdin>", env, UnsetVariables::kRecord)
                        : load_template(file, env, UnsetVariables::kRecord);
    if (t) {
      if (json)
        results.push_back({{"file", file},
                           {"valid", true},
                           {"name", t->name},
                           {"hash", t->hash},
                           {"unset_variables", unset_variables_json(*t)},
                           {"errors", nlohmann::json::array()}});
      else
        print_text(stdout, file + ": ok (" + t->name + ", hash " + t->hash + ")\n");
      note_unset_variables(g, file, *t);
      // Valid, but a word that names no place and no provider's region
      // matches only an offer whose region is exactly that word.
      for (const auto& w : unknown_region_words(t->placement.regions, known_provider_regions()))
        print_warning(file + ": placement.regions: '" + w +
                      "' is no country, continent or sub-region berth knows, nor a Lambda or "
                      "RunPod region; it matches only offers whose region is exactly that "
                      "(e.g. an ssh host's region:)");
      continue;
    }
    ++invalid;
    std::string text;
    for (const auto& d : t.error()) text += format_diagnostic(d);
    print_text(stderr, text);
    const std::size_t n = t.error().size();
    print_error(file + ": " + std::to_string(n) + (n == 1 ? " error" : " errors"));
    if (json) {
      nlohmann::json errors = nlohmann::json::array();
      for (const auto& d : t.error()) errors.push_back(diagnostic_json(d));
      results.push_back({{"file", file}, {"valid", false}, {"errors", errors}});
    }
  }
  std::fflush(stdout);
  if (json) print_json({{"templates", results}});
  return invalid ? static_cast<int>(ExitCode::kInvalidInput) : 0;
}

}  // namespace

void setup_validate(CLI::App& app, GlobalOptions& g, RunState& s) {
  auto o = std::make_shared<ValidateOptions>();
  auto* sub = app.add_subcommand("validate", "Parse and check launch templates (no network)");
  sub->add_option("TEMPLATE", o->files, "Template files ('-' reads stdin)")->required();
  sub->footer(
      "Prints FILE: ok (NAME, hash HASH) per valid template; every error of an invalid one\n"
      "as FILE:LINE:COL: error: MESSAGE with the source line, on stderr. Exit 3 when any\n"
      "template is invalid.\n"
      "-o json prints {\"templates\": [{\"file\", \"valid\", \"name\", \"hash\", \"errors\":\n"
      "[{\"file\", \"line\", \"column\", \"message\", \"hint\"}]}]} (name and hash only when "
      "valid).\n"
      "An unset ${VAR} is accepted: a note names the variables 'up' will need\n"
      "(-o json: \"unset_variables\": [{\"name\", \"path\", \"line\", \"column\"}]).");
  sub->callback([o, &g, &s] { s.exit_code = run_validate(*o, g); });
}

}  // namespace berth::cli
