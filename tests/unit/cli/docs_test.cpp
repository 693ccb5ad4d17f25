// The README, man page and completion scripts stay true to the command tree:
// completions/ must be exactly what `berth completion` prints, and every
// command and flag berth accepts must appear in the man page (regenerate with
// scripts/gen-completions.sh and scripts/gen-man.py).
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "berth/common/process.h"

using namespace berth;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string berth_out(std::vector<std::string> args) {
  args.insert(args.begin(), BERTH_BINARY);
  auto r = system_process_runner().run({.argv = args, .timeout = Duration{30'000}});
  REQUIRE(r);
  REQUIRE(r->exit_code == 0);
  return r->out;
}

std::vector<std::string> commands() {
  std::string help = berth_out({"--help"});
  std::vector<std::string> names;
  auto at = help.find("Subcommands:\n");
  REQUIRE(at != std::string::npos);
  std::istringstream lines(help.substr(at + 13));
  std::string line;
  while (std::getline(lines, line) && line.rfind("  ", 0) == 0)
    names.push_back(line.substr(2, line.find(' ', 2) - 2));
  return names;
}

}  // namespace

TEST_CASE("committed completion scripts are what berth prints", "[docs]") {
  const std::string dir = std::string(BERTH_SOURCE_DIR) + "/completions/";
  CHECK(read_file(dir + "berth.bash") == berth_out({"completion", "bash"}));
  CHECK(read_file(dir + "_berth") == berth_out({"completion", "zsh"}));
  CHECK(read_file(dir + "berth.fish") == berth_out({"completion", "fish"}));
}

TEST_CASE("the man page and README name every command and flag", "[docs]") {
  const std::string man = read_file(std::string(BERTH_SOURCE_DIR) + "/man/berth.1");
  const std::string readme = read_file(std::string(BERTH_SOURCE_DIR) + "/README.md");
  for (const auto& command : commands()) {
    INFO("command " << command);
    CHECK(man.find(".SS berth " + command) != std::string::npos);
    CHECK(readme.find("berth " + command) != std::string::npos);
    std::string help = berth_out({command, "--help"});
    std::regex flag(R"((^|[ ,])(--[a-z][a-z0-9-]*))");
    for (auto it = std::sregex_iterator(help.begin(), help.end(), flag);
         it != std::sregex_iterator(); ++it) {
      std::string name = (*it)[2];
      if (name == "--help") continue;
      std::string roff;
      for (char c : name) roff += c == '-' ? std::string("\\-") : std::string(1, c);
      INFO("flag " << name);
      CHECK(man.find(roff) != std::string::npos);
    }
  }
}
