// The real berth binary on hostile configs: the committed corpus
// (tests/corpus/config/, each case with where its error must be), and
// berth's private state directory.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "berth/common/process.h"
#include "berth/config/config.h"
#include "support/temp_dir.h"

using namespace berth;
using berth::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = fs::path(BERTH_TEST_DIR) / "corpus" / "config";

// Values of the variables the corpus refers to: none may ever be printed.
const std::map<std::string, std::string> kSecrets = {
    {"BERTH_CORPUS_KEY", "corpus-secret-key-1"},
    {"BERTH_CORPUS_SECRET", "corpus-secret-value-2"},
    {"BERTH_CORPUS_CRLF", "corpus-secret-crlf-3\r\nX-Injected: 1"},
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Expectation {
  std::string file;
  int line = 0, column = 0;
  std::string fragment;
};

std::vector<Expectation> expectations() {
  std::vector<Expectation> out;
  std::istringstream in(read(kCorpus / "expectations.txt"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Expectation e;
    std::string position;
    fields >> e.file >> position;
    std::getline(fields >> std::ws, e.fragment);
    e.line = std::stoi(position.substr(0, position.find(':')));
    e.column = std::stoi(position.substr(position.find(':') + 1));
    out.push_back(e);
  }
  return out;
}

void no_secret_in(const std::string& text) {
  for (const auto& [name, value] : kSecrets) {
    INFO(name);
    CHECK(text.find(value.substr(0, 20)) == std::string::npos);
  }
  // The files write "\\r\\nX-Injected" as YAML escapes: shown as written, fine;
  // a real line break before it would be a forged line.
  CHECK(text.find("\nX-Injected") == std::string::npos);
  CHECK(text.find("\rX-Injected") == std::string::npos);
}

// berth under a memory cap and a time limit, in `cwd`, with a HOME and state
// directory of its own: a hang or a runaway allocation fails the test.
ProcessResult run_berth(const std::vector<std::string>& args, const fs::path& cwd,
                        const fs::path& home) {
  std::vector<std::string> argv = {
      "sh", "-c",         "ulimit -v 1048576 && cd \"$1\" && shift && exec \"$@\"",
      "sh", cwd.string(), BERTH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  auto env = kSecrets;
  env["HOME"] = home.string();
  env["XDG_STATE_HOME"] = (home / "state").string();
  env["XDG_CONFIG_HOME"] = (home / "config").string();
  auto r = system_process_runner().run(
      {.argv = argv, .extra_env = env, .timeout = Duration{30'000}});
  REQUIRE(r);
  INFO("berth " << args.back() << "\nstdout: " << r->out << "\nstderr: " << r->err);
  REQUIRE_FALSE(r->timed_out);
  REQUIRE(r->signal == 0);
  return *r;
}

}  // namespace

TEST_CASE("the state directory is 0700 when ssh.key is configured", "[cli][config]") {
  TempDir dir;
  dir.write("id_test", "not really a key\n");
  dir.write("id_test.pub", "ssh-ed25519 AAAA test\n");
  auto config = dir.write("config.yaml", "providers: {}\nssh: {key: id_test}\n");
  auto r = run_berth({"--config", config.string(), "status"}, dir.path(), dir.path());
  INFO(r.err);
  struct stat st {};
  REQUIRE(::stat((dir.path() / "state" / "berth").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("every config of the hostile corpus is refused at its position, by the loader",
          "[config][corpus]") {
  auto all = expectations();
  std::set<std::string> named;
  for (const auto& e : all) named.insert(e.file);
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(kCorpus))
    if (entry.path().extension() == ".yaml") {
      ++files;
      CHECK(named.count(entry.path().filename().string()) == 1);  // each has an expectation
    }
  CHECK(files == named.size());
  CHECK(files >= 35);
  auto vars = kSecrets;
  vars["HOME"] = "/nonexistent-home";
  const auto env = Environment::from_map(vars);
  for (const auto& file : named) {
    auto c = load_config(kCorpus / file, env);
    INFO(file);
    REQUIRE_FALSE(c);
    std::string text;
    for (const auto& d : c.error()) {
      text += format_diagnostic(d);
      CHECK(d.line > 0);  // every error has a location
      CHECK(d.column > 0);
    }
    INFO(text);
    for (const auto& e : all) {
      if (e.file != file) continue;
      const std::string where = (kCorpus / file).string() + ":" + std::to_string(e.line) + ":" +
                                std::to_string(e.column) + ": error: ";
      CHECK_THAT(text, Catch::Contains(where) && Catch::Contains(e.fragment));
    }
    no_secret_in(text);
  }
}

TEST_CASE("every config of the hostile corpus makes berth exit 3 at its position",
          "[cli][config][corpus]") {
  TempDir home;
  for (const auto& e : expectations()) {
    auto r = run_berth({"--config", e.file, "providers"}, kCorpus, home.path());
    INFO(e.file << "\n" << r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains(e.file + ":" + std::to_string(e.line) + ":" +
                                      std::to_string(e.column) + ": error: ") &&
                          Catch::Contains(e.fragment));
    no_secret_in(r.err);
  }
}
