// What reaches a terminal: remote text (provider messages, region and GPU
// names) shown with its control and escape characters escaped, in tables,
// warnings, errors and events; JSON output exact.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "berth/common/output.h"
#include "berth/common/process.h"
#include "support/loopback_server.h"
#include "support/temp_dir.h"

using namespace berth;
using namespace berth::testing;

TEST_CASE("terminal text shows control and escape characters escaped", "[output]") {
  CHECK(terminal_text("plain text, UTF-8 × ü 🔑") == "plain text, UTF-8 × ü 🔑");
  CHECK(terminal_text("red \x1b[31mX\x1b[0m") == "red \\x1b[31mX\\x1b[0m");
  CHECK(terminal_text("title \x1b]0;pwned\x07 bell") == "title \\x1b]0;pwned\\x07 bell");
  CHECK(terminal_text("over\rwrite") == "over\\rwrite");
  CHECK(terminal_text(std::string("nul\0del\x7f", 8)) == "nul\\x00del\\x7f");
  // C1 controls: as UTF-8 (U+009B, CSI) and as a raw byte that is not UTF-8.
  CHECK(terminal_text("csi \xC2\x9B" "2J") == "csi \\u009b2J");
  CHECK(terminal_text("raw \x9B" "2J") == "raw \\x9b2J");
  CHECK(terminal_text("truncated \xE2\x82") == "truncated \\xe2\\x82");
  CHECK(terminal_text("overlong \xC0\xAF") == "overlong \\xc0\\xaf");
  // Characters that reorder or break what a line shows.
  CHECK(terminal_text("abc\xE2\x80\xAE" "fed") == "abc\\u202efed");
  CHECK(terminal_text("a\xE2\x80\xA8" "b") == "a\\u2028b");
  // Lines and tabs are kept in messages, escaped in one-line fields.
  CHECK(terminal_text("one\ntwo\tthree") == "one\ntwo\tthree");
  CHECK(terminal_text("one\ntwo\tthree", false) == "one\\ntwo\\tthree");
}

TEST_CASE("table cells are one line each, escaped", "[output]") {
  Table table({"PROVIDER", "REGION"});
  table.add_row({"lam", "us-east\x1b[2J\nberth: note: all good"});
  std::string out = table.render();
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(out == "PROVIDER  REGION\nlam       us-east\\x1b[2J\\nberth: note: all good\n");
  CHECK(table.render_csv().find('\x1b') == std::string::npos);
}

namespace {

struct Run {
  int exit_code;
  std::string out;
  std::string err;
};

Run run_berth(const std::vector<std::string>& args, std::map<std::string, std::string> env) {
  std::vector<std::string> argv = {BERTH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace("HOME", "/nonexistent");
  auto r =
      system_process_runner().run({.argv = argv, .extra_env = env, .timeout = Duration{60'000}});
  REQUIRE(r);
  return {r->exit_code, r->out, r->err};
}

// A Lambda API whose region name and error message carry escape sequences
// and a forged line.
const std::string kHostileRegion = "us-east-1\x1b]0;owned\x07\x1b[2K\rberth: note: fine";
const std::string kHostileMessage = "denied\x1b[31m\nberth: error: forged line\xC2\x9B";

}  // namespace

TEST_CASE("berth offers never writes a provider's escape sequences or forged lines raw",
          "[output]") {
  LoopbackServer good([](const ReceivedRequest&) {
    nlohmann::json body = {
        {"data",
         {{"gpu_1x_a10",
           {{"instance_type",
             {{"name", "gpu_1x_a10"},
              {"description", "1x A10 (24 GB PCIe)\x1b[5m"},
              {"gpu_description", "A10 (24 GB PCIe)"},
              {"price_cents_per_hour", 75},
              {"specs", {{"vcpus", 30}, {"memory_gib", 200}, {"storage_gib", 1400}, {"gpus", 1}}}}},
            {"regions_with_capacity_available", {{{"name", kHostileRegion}}}}}}}}};
    return ScriptedReply{200, {{"Content-Type", "application/json"}}, body.dump()};
  });
  LoopbackServer bad([](const ReceivedRequest&) {
    nlohmann::json body = {{"error", {{"code", "global/invalid-parameters"}, {"message", kHostileMessage}}}};
    return ScriptedReply{400, {{"Content-Type", "application/json"}}, body.dump()};
  });
  TempDir dir;
  auto config = dir.write("config.yaml",
                          "providers:\n  good: {type: lambda, api_key: ${K}, base_url: " +
                              good.url("/api/v1") +
                              "}\n  bad: {type: lambda, api_key: ${K}, base_url: " +
                              bad.url("/api/v1") + "}\n");
  std::map<std::string, std::string> env = {{"K", "lambda-key-0123456789"}};

  auto table = run_berth({"--config", config.string(), "offers"}, env);
  INFO(table.out << table.err);
  CHECK(table.exit_code == 0);
  for (const std::string* text : {&table.out, &table.err}) {
    CHECK(text->find('\x1b') == std::string::npos);
    CHECK(text->find('\r') == std::string::npos);
    CHECK(text->find("\xC2\x9B") == std::string::npos);
  }
  CHECK(table.out.find("us-east-1\\x1b]0;owned\\x07\\x1b[2K\\rberth: note: fine") !=
        std::string::npos);
  CHECK(table.err.find("denied\\x1b[31m") != std::string::npos);
  // The provider's second line is indented: it cannot pass for berth's own.
  CHECK(table.err.find("\nberth: error: forged line") == std::string::npos);
  CHECK(table.err.find("\n  berth: error: forged line\\u009b") != std::string::npos);

  // JSON stays exact: the same strings, escaped by JSON itself.
  auto json = run_berth({"--config", config.string(), "offers", "-o", "json"}, env);
  CHECK(json.out.find('\x1b') == std::string::npos);
  auto j = nlohmann::json::parse(json.out);
  REQUIRE(j["offers"].size() == 1);
  CHECK(j["offers"][0]["region"] == kHostileRegion);
}
