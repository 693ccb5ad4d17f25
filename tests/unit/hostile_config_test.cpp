// The real berth binary on hostile configs: the committed corpus
// (tests/corpus/config/, each case with where its error must be), and
// berth's private state directory.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "berth/config.h"
#include "berth/process.h"
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
};

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
