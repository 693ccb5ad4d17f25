// berth init [EXAMPLE]: write a starter template from the embedded examples.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "berth/common/embedded.h"
#include "cli/app.h"

namespace berth::cli {

namespace {

struct InitOptions {
  std::string example = "hello";
  std::string file = "berth.yaml";
  bool force = false;
  bool list = false;
};

// The first comment line of an example says what it is.
std::string description(const EmbeddedFile& f) {
  std::size_t pos = 0;
  while (pos < f.content.size()) {
    std::size_t end = f.content.find('\n', pos);
    if (end == std::string::npos) end = f.content.size();
    std::string line = f.content.substr(pos, end - pos);
    if (line.rfind("# ", 0) == 0 && line.find("yaml-language-server") == std::string::npos)
      return line.substr(2);
    pos = end + 1;
  }
  return "";
}

int run_init(const InitOptions& o, const GlobalOptions& g) {
  const auto& examples = embedded_templates();
  if (o.list) {
    if (g.output == "json") {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& e : examples)
        list.push_back({{"name", e.name}, {"description", description(e)}});
      print_json({{"examples", list}});
    } else {
      Table table({"EXAMPLE", "DESCRIPTION"});
      for (const auto& e : examples) table.add_row({e.name, description(e)});
      print_text(stdout, table.render());
    }
    return 0;
  }
  const EmbeddedFile* chosen = nullptr;
  std::vector<std::string> names;
  for (const auto& e : examples) {
    names.push_back(e.name);
    if (e.name == o.example) chosen = &e;
  }
  if (!chosen) {
    std::string all;
    for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
    std::string close = did_you_mean(o.example, names);
    return report(Failure{ExitCode::kUsage, "no example named '" + o.example + "'",
                          (close.empty() ? "" : "did you mean '" + close + "'? ") +
                              "examples: " + all + " (berth init --list)"});
  }
  if (o.file == "-") {
    std::fwrite(chosen->content.data(), 1, chosen->content.size(), stdout);
    return 0;
  }
  std::error_code ec;
  if (!o.force && std::filesystem::exists(o.file, ec))
    return report(Failure{ExitCode::kUsage, o.file + " already exists",
                          "pass --force to overwrite it, or -f FILE to write elsewhere"});
  std::ofstream out(o.file, std::ios::binary | std::ios::trunc);
  out << chosen->content;
  out.close();
  if (!out)
    return report(Failure{ExitCode::kInternal, "cannot write " + o.file,
                          "check that the directory exists and is writable"});
  print_note(g.terminal(), "wrote " + o.file + " from the '" + chosen->name +
                               "' example; next: berth validate " + o.file);
  return 0;
}

}  // namespace

void setup_init(CLI::App& app, GlobalOptions& g, RunState& s) {
  auto o = std::make_shared<InitOptions>();
  auto* sub = app.add_subcommand("init", "Write a starter template from an example");
  sub->add_option("EXAMPLE", o->example, "Example to start from (default: hello; see --list)");
  sub->add_option("-f,--file", o->file, "Where to write it (default: berth.yaml; - = stdout)")
      ->option_text("FILE");
  sub->add_flag("--force", o->force, "Overwrite an existing file");
  sub->add_flag("--list", o->list, "List the examples");
  sub->callback([o, &g, &s] { s.exit_code = run_init(*o, g); });
}

}  // namespace berth::cli
