// The real berth binary on the bad corpus, the golden error texts, the
// examples, and the validate/gpus/schema/init commands' contracts.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

#include "berth/common/process.h"

using namespace berth;
namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = fs::path(BERTH_TEST_DIR) / "corpus";
const fs::path kTemplates = fs::path(BERTH_TEST_DIR) / ".." / "templates";

// Runs berth in `cwd` under a memory cap and a time limit (a hang or a
// runaway allocation fails the test instead of the machine). The shell only
// applies the limits: every value travels as a positional argument.
ProcessResult run_berth(std::vector<std::string> args, const fs::path& cwd = kCorpus) {
  std::vector<std::string> argv = {
      "sh", "-c",         "ulimit -v 1048576 && cd \"$1\" && shift && exec \"$@\"",
      "sh", cwd.string(), BERTH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = system_process_runner().run({.argv = argv, .timeout = Duration{30'000}});
  REQUIRE(r);
  INFO("berth " << args[0] << "\nstdout: " << r->out << "\nstderr: " << r->err);
  REQUIRE_FALSE(r->timed_out);
  REQUIRE(r->signal == 0);
  return *r;
}

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
  std::istringstream in(read(kCorpus / "bad" / "expectations.txt"));
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

void expect_rejected(const ProcessResult& r, const std::string& file, int line, int column,
                     const std::string& fragment) {
  INFO(file << "\nstderr:\n" << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.out.empty());
  const std::string where =
      line == 0 ? file + ": error: "
                : file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": error: ";
  CHECK_THAT(r.err, Catch::Contains(where));
  CHECK_THAT(r.err, Catch::Contains(fragment));
  CHECK_THAT(r.err, Catch::Contains("berth: error: " + file));
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "berth-test-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()));
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("every template of the bad corpus is rejected at its position", "[cli][corpus]") {
  auto all = expectations();
  CHECK(all.size() >= 40);
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(kCorpus / "bad"))
    files += entry.path().extension() == ".yaml";
  CHECK(files == all.size());  // no corpus file without an expectation
  for (const auto& e : all) {
    auto r = run_berth({"validate", "bad/" + e.file});
    expect_rejected(r, "bad/" + e.file, e.line, e.column, e.fragment);
  }
}

TEST_CASE("huge, binary, non-UTF-8 and bottomless input is refused quickly", "[cli][corpus]") {
  TempDir dir;
  {
    std::ofstream big(dir.path / "10mb.yaml", std::ios::binary);
    big << "name: app\nimage: busybox\n";
    const std::string comment = "# " + std::string(98, 'x') + "\n";
    for (int i = 0; i < 100'000; ++i) big << comment;
  }
  expect_rejected(run_berth({"validate", "10mb.yaml"}, dir.path), "10mb.yaml", 0, 0,
                  "a launch template may be at most 1 MiB");
  {
    // Deterministic garbage with NUL bytes early on, like any binary file.
    std::ofstream bin(dir.path / "garbage.bin", std::ios::binary);
    std::uint32_t x = 2463534242u;
    for (int i = 0; i < 65536; ++i) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      bin.put(static_cast<char>(i == 3 ? 0 : x & 0xFF));
    }
  }
  auto garbage = run_berth({"validate", "garbage.bin"}, dir.path);
  CHECK(garbage.exit_code == 3);
  CHECK_THAT(garbage.err, Catch::Contains("garbage.bin:1:") &&
                              ((Catch::Contains("NUL byte") || Catch::Contains("invalid UTF-8"))));
  std::ofstream(dir.path / "utf8.yaml", std::ios::binary) << "name: app\nimage: \xff\xfe\n";
  expect_rejected(run_berth({"validate", "utf8.yaml"}, dir.path), "utf8.yaml", 2, 8,
                  "invalid UTF-8 (byte 0xFF)");
  std::ofstream(dir.path / "overlong.yaml", std::ios::binary)
      << "name: app\nimage: busybox\nenv:\n  A: \"\xc0\xaf\"\n";
  expect_rejected(run_berth({"validate", "overlong.yaml"}, dir.path), "overlong.yaml", 4, 7,
                  "invalid UTF-8 (byte 0xC0)");
  std::ofstream(dir.path / "brackets.yaml") << "name: " << std::string(100'000, '[') << "\n";
  auto brackets = run_berth({"validate", "brackets.yaml"}, dir.path);
  CHECK(brackets.exit_code == 3);
  CHECK_THAT(brackets.err, Catch::Contains("brackets.yaml:1:") &&
                               Catch::Contains("nesting deeper than 64 levels"));
  std::string maps;
  for (int i = 0; i < 100'000; ++i) maps += "{a: ";
  std::ofstream(dir.path / "maps.yaml") << "name: " << maps << "\n";
  auto nested = run_berth({"validate", "maps.yaml"}, dir.path);
  CHECK(nested.exit_code == 3);
  CHECK_THAT(nested.err, Catch::Contains("nesting deeper than 64 levels"));
  std::string blocks = "name: app\nimage: busybox\nenv:\n";
  for (int i = 0; i < 200; ++i)
    blocks += std::string(2 * i + 2, ' ') + "k" + std::to_string(i) + ":\n";
  std::ofstream(dir.path / "blocks.yaml") << blocks;
  auto deep_blocks = run_berth({"validate", "blocks.yaml"}, dir.path);
  CHECK(deep_blocks.exit_code == 3);
  CHECK_THAT(deep_blocks.err, Catch::Contains("nesting deeper than 64 levels"));
  auto missing = run_berth({"validate", "no-such-file.yaml"}, dir.path);
  CHECK(missing.exit_code == 3);
  CHECK_THAT(missing.err, Catch::Contains("no-such-file.yaml: error: cannot read the template"));
}

TEST_CASE("golden: the full error text of some templates", "[cli][golden]") {
  std::size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(kCorpus / "golden")) {
    if (entry.path().extension() != ".stderr") continue;
    const std::string name = entry.path().stem().string();
    const std::string input = fs::exists(kCorpus / "bad" / (name + ".yaml"))
                                  ? "bad/" + name + ".yaml"
                                  : "golden/" + name + ".yaml";
    auto r = run_berth({"validate", input});
    INFO(input);
    CHECK(r.exit_code == 3);
    CHECK(r.err == read(entry.path()));
    ++checked;
  }
  CHECK(checked >= 4);
}

TEST_CASE("validate accepts an unset variable and names it; up and watch refuse it",
          "[cli][secrets]") {
  // The template of the former bad/35-unset-variable.yaml: validate starts
  // nothing, so only up and watch need the value (docs/templates.md).
  const std::string file = "secrets/unset-variable.yaml";
  auto ok = run_berth({"validate", file});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == file + ": ok (app, hash " + ok.out.substr(ok.out.find("hash ") + 5, 12) + ")\n");
  CHECK(ok.err == "berth: " + file +
                      ": 'berth up' and 'berth watch' will need BERTH_CORPUS_UNSET_VARIABLE "
                      "(not set now)\n");
  auto json = run_berth({"validate", "-o", "json", file});
  CHECK(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["templates"][0]["valid"] == true);
  CHECK(j["templates"][0]["unset_variables"] ==
        nlohmann::json::parse(R"([{"name": "BERTH_CORPUS_UNSET_VARIABLE", "path": "env.TOKEN",
                                   "line": 4, "column": 10}])"));
  // up and watch need every value: the error names the variable, at its
  // place, exit 3, before any config or provider is read.
  for (const char* command : {"up", "watch"}) {
    auto r = run_berth({"--config", "/nonexistent/config.yaml", command, file});
    INFO(command);
    CHECK(r.exit_code == 3);
    CHECK(r.out.empty());
    CHECK(r.err == read(kCorpus / "secrets" / "unset-variable.up.stderr"));
  }
  // Hostile spellings: whitespace inside the braces and a nested default
  // are malformed references, errors for every command.
  TempDir dir;
  std::ofstream(dir.path / "space.yaml") << "name: app\nimage: x\nenv:\n  A: \"${ NOPE }\"\n";
  expect_rejected(run_berth({"validate", "space.yaml"}, dir.path), "space.yaml", 4, 7,
                  "invalid variable reference '${ NOPE }'");
  std::ofstream(dir.path / "nested.yaml") << "name: app\nimage: x\nenv:\n  A: \"${A:-${B}}\"\n";
  expect_rejected(run_berth({"validate", "nested.yaml"}, dir.path), "nested.yaml", 4, 7,
                  "a default cannot hold another ${...}");
  // An empty variable is set: nothing to note; ${VAR:-} never needs one.
  std::ofstream(dir.path / "empty.yaml")
      << "name: app\nimage: x\nenv:\n  A: ${BERTH_TEST_EMPTY}\n  B: \"${BERTH_TEST_NOPE:-}\"\n";
  std::vector<std::string> argv = {"env", "BERTH_TEST_EMPTY=", BERTH_BINARY, "validate",
                                   (dir.path / "empty.yaml").string()};
  auto empty = system_process_runner().run({.argv = argv, .timeout = Duration{30'000}});
  REQUIRE(empty);
  CHECK(empty->exit_code == 0);
  CHECK(empty->err.empty());
}

TEST_CASE("every example template validates", "[cli][templates]") {
  std::vector<std::string> args = {"validate"};
  std::size_t n = 0;
  for (const auto& entry : fs::directory_iterator(kTemplates)) {
    if (entry.path().extension() != ".yaml") continue;
    args.push_back(fs::canonical(entry.path()).string());
    ++n;
  }
  CHECK(n >= 6);
  auto r = run_berth(args);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  for (std::size_t i = 1; i < args.size(); ++i)
    CHECK_THAT(r.out, Catch::Contains(args[i] + ": ok ("));
}

TEST_CASE("validate -o json, and a mix of good and bad files", "[cli]") {
  const std::string good = fs::canonical(kTemplates / "hello.yaml").string();
  auto ok = run_berth({"validate", "-o", "json", good});
  CHECK(ok.exit_code == 0);
  auto j = nlohmann::json::parse(ok.out);
  REQUIRE(j["templates"].size() == 1);
  CHECK(j["templates"][0]["file"] == good);
  CHECK(j["templates"][0]["valid"] == true);
  CHECK(j["templates"][0]["name"] == "hello");
  CHECK(j["templates"][0]["hash"].get<std::string>().size() == 12);
  CHECK(j["templates"][0]["errors"].empty());

  auto mixed = run_berth({"validate", good, "bad/10-misspelled-memory.yaml", "-o", "json"});
  CHECK(mixed.exit_code == 3);
  auto m = nlohmann::json::parse(mixed.out);
  REQUIRE(m["templates"].size() == 2);
  CHECK(m["templates"][1]["valid"] == false);
  const auto& e = m["templates"][1]["errors"][0];
  CHECK(e["file"] == "bad/10-misspelled-memory.yaml");
  CHECK(e["line"] == 5);
  CHECK(e["column"] == 3);
  CHECK(e["message"] == "unknown key 'memroy' in resources");
  CHECK(e["hint"] == "did you mean 'memory'?");
  CHECK_THAT(mixed.err, Catch::Contains("bad/10-misspelled-memory.yaml:5:3: error:"));

  auto table = run_berth({"validate", good, "bad/25-zero-replicas.yaml"});
  CHECK(table.exit_code == 3);
  CHECK(table.out ==
        good + ": ok (hello, hash " + j["templates"][0]["hash"].get<std::string>() + ")\n");
  auto usage = run_berth({"validate"});
  CHECK(usage.exit_code == 2);
}

TEST_CASE("validate - reads the template from stdin", "[cli]") {
  auto run = [](std::string input) {
    auto r = system_process_runner().run({.argv = {BERTH_BINARY, "validate", "-"},
                                          .stdin_data = std::move(input),
                                          .timeout = Duration{30'000}});
    REQUIRE(r);
    REQUIRE_FALSE(r->timed_out);
    return *r;
  };
  auto ok = run(read(kTemplates / "hello.yaml"));
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::StartsWith("<stdin>: ok (hello, hash "));
  auto bad = run("name: app\nimage: x\nreplicas: 0\n");
  CHECK(bad.exit_code == 3);
  CHECK_THAT(bad.err, Catch::Contains("<stdin>:3:11: error: replicas: must be at least 1"));
  // Just past the limit: berth stops reading there, and a writer with more to
  // send would get SIGPIPE (the process runner does not ignore it).
  auto endless = run(std::string((1 << 20) + 1000, '#'));
  CHECK(endless.exit_code == 3);
  CHECK_THAT(endless.err, Catch::Contains("<stdin>: error: larger than 1 MiB"));
}

TEST_CASE("expanded secrets never reach the output", "[cli]") {
  TempDir dir;
  std::ofstream(dir.path / "t.yaml") << "name: app\nimage: busybox\nenv:\n  TOKEN: ${TOKEN}\n"
                                        "  BAD: [list]\n";
  auto r = system_process_runner().run(
      {.argv = {BERTH_BINARY, "validate", "-o", "json", (dir.path / "t.yaml").string()},
       .extra_env = {{"TOKEN", "s3cr3t-value"}},
       .timeout = Duration{30'000}});
  REQUIRE(r);
  CHECK(r->exit_code == 3);
  CHECK(r->out.find("s3cr3t-value") == std::string::npos);
  CHECK(r->err.find("s3cr3t-value") == std::string::npos);
}

TEST_CASE("gpus lists the catalog as a table and as JSON", "[cli]") {
  auto table = run_berth({"gpus"});
  CHECK(table.exit_code == 0);
  CHECK(table.out.rfind("MODEL", 0) == 0);
  for (const char* column : {"VENDOR", "VRAM", "CC", "ARCH", "ALIASES"})
    CHECK_THAT(table.out, Catch::Contains(column));
  CHECK_THAT(table.out, Catch::Contains("A100-80GB"));
  auto json = run_berth({"gpus", "-o", "json"});
  CHECK(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.out);
  bool h100 = false, mi300x = false;
  for (const auto& g : j["gpus"]) {
    if (g["name"] == "H100") {
      h100 = true;
      CHECK(g["vram_gb"] == 80);
      CHECK(g["compute_capability"] == 9.0);
      CHECK(g["vendor"] == "nvidia");
    }
    if (g["name"] == "MI300X") {
      mi300x = true;
      CHECK(g["compute_capability"].is_null());
      CHECK(g["vendor"] == "amd");
    }
  }
  CHECK(h100);
  CHECK(mi300x);
}

TEST_CASE("schema prints a draft 2020-12 JSON Schema", "[cli]") {
  auto r = run_berth({"schema"});
  CHECK(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["$schema"] == "https://json-schema.org/draft/2020-12/schema");
  CHECK(j["required"] == nlohmann::json::array({"name", "image"}));
}

TEST_CASE("init writes a starter template and never overwrites by surprise", "[cli]") {
  TempDir dir;
  auto first = run_berth({"init"}, dir.path);
  CHECK(first.exit_code == 0);
  CHECK(read(dir.path / "berth.yaml") == read(kTemplates / "hello.yaml"));
  auto valid = run_berth({"validate", "berth.yaml"}, dir.path);
  CHECK(valid.exit_code == 0);

  std::ofstream(dir.path / "berth.yaml") << "# mine\n";
  auto again = run_berth({"init", "vllm"}, dir.path);
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Catch::StartsWith("berth: error: berth.yaml already exists") &&
                            Catch::Contains("--force"));
  CHECK(read(dir.path / "berth.yaml") == "# mine\n");
  auto forced = run_berth({"init", "vllm", "--force"}, dir.path);
  CHECK(forced.exit_code == 0);
  CHECK(read(dir.path / "berth.yaml") == read(kTemplates / "vllm.yaml"));

  auto other = run_berth({"init", "jupyter", "-f", "notebook.yaml"}, dir.path);
  CHECK(other.exit_code == 0);
  CHECK(read(dir.path / "notebook.yaml") == read(kTemplates / "jupyter.yaml"));
  auto to_stdout = run_berth({"init", "finetune", "-f", "-"}, dir.path);
  CHECK(to_stdout.out == read(kTemplates / "finetune.yaml"));

  auto unknown = run_berth({"init", "vlm"}, dir.path);
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err,
             Catch::Contains("no example named 'vlm'") && Catch::Contains("did you mean 'vllm'?"));
  auto list = run_berth({"init", "--list"}, dir.path);
  CHECK(list.exit_code == 0);
  for (const char* name : {"hello", "vllm", "sglang", "comfyui", "jupyter", "finetune"})
    CHECK_THAT(list.out, Catch::Contains(name));
}

TEST_CASE("version and help for each of these commands", "[cli]") {
  auto v = run_berth({"--version"});
  CHECK(v.exit_code == 0);
  CHECK_THAT(v.out, Catch::StartsWith("berth "));
  for (const char* cmd : {"validate", "gpus", "schema", "init"}) {
    auto h = run_berth({cmd, "--help"});
    CHECK(h.exit_code == 0);
    CHECK_THAT(h.out, Catch::Contains(cmd));
  }
}

// up, watch and down with -o json promise JSON lines on stderr from the first
// line on (docs/watch-events.md): a usage error, found before any option is
// parsed, is one `error` event too, wherever -o json stands.
TEST_CASE("up, watch, down -o json: usage errors are JSON error events", "[cli]") {
  const std::vector<std::vector<std::string>> lines = {
      {"up", "-o", "json"},
      {"up", "--output=json", "--no-such-flag"},
      {"-o", "json", "watch"},
      {"--config", "x.yaml", "down", "--output", "json"},
      {"up", "a.yaml", "b.yaml", "-ojson"},
  };
  for (const auto& args : lines) {
    auto r = run_berth(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    INFO(joined << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    std::istringstream err(r.err);
    std::string line;
    int n = 0;
    while (std::getline(err, line)) {
      ++n;
      auto j = nlohmann::json::parse(line, nullptr, false);
      REQUIRE(j.is_object());
      CHECK(j["event"] == "error");
      CHECK(j["reason"] == "usage");
      CHECK(j["detail"].get<std::string>().find("hint: run 'berth --help'") != std::string::npos);
    }
    CHECK(n == 1);
  }
  // Other commands keep text on stderr; -o json is about their stdout.
  auto status = run_berth({"status", "-o", "json", "--no-such-flag"});
  CHECK(status.exit_code == 2);
  CHECK(status.err.rfind("berth: error: ", 0) == 0);
  // And a value that merely looks like a command is not one.
  auto config = run_berth({"--config", "up", "status", "-o", "json", "--no-such-flag"});
  CHECK(config.err.rfind("berth: error: ", 0) == 0);
}

TEST_CASE("validate warns about a region word that names no place, and stays valid",
          "[cli][region]") {
  auto dir = fs::temp_directory_path() / ("berth-regions-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "t.yaml") << "name: app\nimage: busybox\nplacement:\n"
                                   "  regions: [us, eu-*, us-east-1, US-KS-2, mars, Moon]\n";
  auto r = run_berth({"validate", (dir / "t.yaml").string()});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("t.yaml: ok ("));
  CHECK_THAT(r.err, Catch::Contains("placement.regions: 'mars' is no country, continent or "
                                    "sub-region berth knows"));
  CHECK_THAT(r.err, Catch::Contains("'Moon'"));
  // Location words, Lambda region codes and RunPod data centers are known.
  for (const char* known : {"'us'", "'eu-*'", "'us-east-1'", "'US-KS-2'"})
    CHECK_THAT(r.err, !Catch::Contains(known));
  fs::remove_all(dir);
}
