// `berth plan` through the real binary: from saved offers (--offers FILE) and
// live against the provider mocks, agreeing with `berth offers`.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>
#include <fstream>
#include <nlohmann/json.hpp>

#include "berth/common/process.h"
#include "support/mock_server.h"
#include "support/temp_dir.h"

using namespace berth;
using berth::testing::MockServer;
using berth::testing::TempDir;

namespace {

ProcessResult berth_run(const std::vector<std::string>& args,
                        std::map<std::string, std::string> env = {}) {
  std::vector<std::string> argv = {BERTH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace("NO_COLOR", "1");
  auto r =
      system_process_runner().run({.argv = argv, .extra_env = env, .timeout = Duration{60'000}});
  REQUIRE(r);
  return *r;
}

nlohmann::json offer(const std::string& provider, const std::string& id, double price,
                     const std::string& model, double vram, std::optional<int> available = {}) {
  return {{"provider", provider},
          {"id", id},
          {"region", "us-east"},
          {"gpu",
           {{"model", model},
            {"vendor", "nvidia"},
            {"count", 1},
            {"vram_gb", vram},
            {"compute_capability", 9.0}}},
          {"vcpus", 16},
          {"memory_gb", 128},
          {"disk_gb", 500},
          {"price_per_hour", price},
          {"spot", false},
          {"available", available ? nlohmann::json(*available) : nlohmann::json(nullptr)},
          {"launch_data", {{"instance_type", id}}}};
}

const char* kTemplate = R"(name: chat
image: busybox
resources:
  gpu: {count: 1, vram: 80GB..}
placement:
  max_price: 3.50
replicas: 2
spread: provider
)";

nlohmann::json saved_offers() {
  return {{"offers",
           {offer("runpod", "h100-a", 4.10, "H100", 80),
            offer("lambda", "h100-b", 2.49, "H100", 80), offer("vast", "4090", 0.40, "RTX4090", 24),
            offer("vast", "h100-c", 2.20, "H100", 80), offer("vast", "h100-d", 2.30, "H100", 80)}},
          {"errors", {{{"provider", "shadeform"}, {"kind", "transient"}, {"message", "timeout"}}}}};
}

}  // namespace

TEST_CASE("plan --offers FILE: placement, alternatives and rejections as JSON", "[plan_cli]") {
  TempDir dir;
  auto tmpl = dir.write("chat.yaml", kTemplate);
  auto file = dir.write("offers.json", saved_offers().dump());
  auto r = berth_run({"plan", tmpl.string(), "--offers", file.string(), "-o", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["deployment"] == "chat");
  REQUIRE(j["placement"].size() == 2);
  CHECK(j["placement"][0]["replica"] == 0);
  CHECK(j["placement"][0]["offer"]["id"] == "h100-c");
  CHECK(j["placement"][0]["offer"]["launch_data"]["instance_type"] == "h100-c");
  CHECK(j["placement"][0]["fallbacks"][0]["id"] == "h100-d");
  CHECK(j["placement"][1]["offer"]["id"] == "h100-b");
  CHECK(j["total_price_per_hour"].get<double>() == Approx(2.20 + 2.49));
  CHECK(j["offers_considered"] == 5);
  CHECK(j["offers_matching"] == 3);
  REQUIRE(j["rejections"].size() == 2);
  CHECK(j["rejections"][0]["constraint"] == "gpu.vram");
  CHECK(j["rejections"][1]["constraint"] == "placement.max_price");
  CHECK(j["rejections"][1]["nearest"]["id"] == "h100-a");
  CHECK(j["rejections"][1]["detail"] ==
        "cheapest offer with ≥80 GB VRAM: 4.10/h on runpod (H100×1, us-east), above max_price "
        "3.50");
  // The saved listing's provider errors stay part of the reproduced plan.
  REQUIRE(j["errors"].size() == 1);
  CHECK(j["errors"][0]["provider"] == "shadeform");
  CHECK(r.err.find("shadeform") != std::string::npos);
}

TEST_CASE("plan table shows the choice, the next best and the rejections", "[plan_cli]") {
  TempDir dir;
  auto tmpl = dir.write("chat.yaml", kTemplate);
  auto file = dir.write("offers.json", saved_offers().dump());
  auto r = berth_run({"plan", tmpl.string(), "--offers", file.string()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "Plan for chat: 3 of 5 offers match\n"
        "\n"
        "REPLICA  PROVIDER  REGION   GPU       VRAM  PRICE/H  OFFER\n"
        "      0  vast      us-east  H100 ×1  80 GB     2.20  h100-c\n"
        "      1  lambda    us-east  H100 ×1  80 GB     2.49  h100-b\n"
        "\n"
        "Total: 4.69/h\n"
        "\n"
        "Next best, tried in this order if a launch fails:\n"
        "REPLICA  PROVIDER  REGION   GPU       VRAM  PRICE/H  OFFER\n"
        "      0  vast      us-east  H100 ×1  80 GB     2.30  h100-d\n"
        "\n"
        "Rejected:\n"
        "CONSTRAINT           REJECTED  NEAREST MISS\n"
        "gpu.vram                    1  cheapest offer otherwise matching: 0.40/h on vast "
        "(RTX4090×1, us-east), 24 GB VRAM per GPU, needs ≥80 GB\n"
        "placement.max_price         1  cheapest offer with ≥80 GB VRAM: 4.10/h on runpod "
        "(H100×1, us-east), above max_price 3.50\n");
  // Same input, same plan, byte for byte.
  CHECK(berth_run({"plan", tmpl.string(), "--offers", file.string()}).out == r.out);
}

TEST_CASE("plan with no placement exits 5 and says what to relax", "[plan_cli]") {
  TempDir dir;
  auto tmpl = dir.write("chat.yaml", R"(name: chat
image: busybox
resources:
  gpu: {count: 1, vram: 80GB..}
placement:
  max_price: 3.50
)");
  auto file =
      dir.write("offers.json", nlohmann::json{{"offers",
                                               {offer("runpod", "h100", 4.10, "H100", 80),
                                                offer("vast", "4090", 0.40, "RTX4090", 24)}}}
                                   .dump());
  auto r = berth_run({"plan", tmpl.string(), "--offers", file.string()});
  CHECK(r.exit_code == 5);
  CHECK(r.err ==
        "berth: error: no placement for chat: none of 2 offers satisfies the template\n"
        "  hint: relax placement.max_price: cheapest offer with ≥80 GB VRAM: 4.10/h on runpod "
        "(H100×1, us-east), above max_price 3.50\n");
  CHECK(r.out.find("Rejected:") != std::string::npos);

  auto j = berth_run({"plan", tmpl.string(), "--offers", file.string(), "-o", "json"});
  CHECK(j.exit_code == 5);
  auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["placement"].empty());
  CHECK(doc["rejections"].size() == 2);
  CHECK(doc["errors"].empty());
}

TEST_CASE("plan --offers rejects a file that is not a saved listing", "[plan_cli]") {
  TempDir dir;
  auto tmpl = dir.write("chat.yaml", kTemplate);
  struct Case {
    std::string content;
    std::string position;  // where the file is wrong
    std::string message;
    std::string hint = "save offers with: berth offers TEMPLATE -o json > FILE";
  };
  std::vector<Case> cases = {
      {"{not json", ":1:3", "not JSON"},
      {"[1, 2]", ":1:1", "expected an object with an \"offers\" array"},
      {R"({"offers": [{"provider": "x"}]})", ":1:13", "offers[0]: malformed offer"},
      {std::string("{\"offers\": [\0]}", 15), ":1:13", "file contains a NUL byte"},
      {"{\"offers\": [\"\xff\"]}", ":1:14", "invalid UTF-8 (byte 0xFF)", "save the file as UTF-8"},
  };
  for (const auto& c : cases) {
    auto file = dir.write("bad.json", c.content);
    auto r = berth_run({"plan", tmpl.string(), "--offers", file.string()});
    INFO(c.content << "\n" << r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find(file.string() + c.position + ": error: " + c.message) == 0);
    CHECK(r.err.find("berth: 1 error") != std::string::npos);
    CHECK(r.err.find("hint: " + c.hint) != std::string::npos);
    CHECK(r.out.empty());
  }
  auto missing = berth_run({"plan", tmpl.string(), "--offers", (dir.path() / "none").string()});
  CHECK(missing.exit_code == 3);
  // Not regular files: refused unread, at once.
  auto zero = berth_run({"plan", tmpl.string(), "--offers", "/dev/zero"});
  CHECK(zero.exit_code == 3);
  CHECK(zero.err.find("/dev/zero: error: offers file is a character device, not a regular file") ==
        0);
  const auto fifo = dir.path() / "offers.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto pipe = berth_run({"plan", tmpl.string(), "--offers", fifo.string()});
  CHECK(pipe.exit_code == 3);
  CHECK_THAT(pipe.err, Catch::Contains("is a named pipe, not a regular file"));
  // A provider error of another shape is no crash.
  auto odd = berth_run({"plan", tmpl.string(), "--offers",
                        dir.write("odd.json", R"({"offers": [], "errors": [{"provider": 5}]})")
                            .string()});
  CHECK(odd.exit_code == 5);
  CHECK(odd.err.find("warning") == std::string::npos);
  auto bad_template = berth_run({"plan", dir.write("bad.yaml", "name: X\n").string(), "--offers",
                                 dir.write("ok.json", saved_offers().dump()).string()});
  CHECK(bad_template.exit_code == 3);
  CHECK(berth_run({"plan"}).exit_code == 2);
  CHECK(berth_run({"plan", tmpl.string(), "-o", "csv"}).exit_code == 2);
}

TEST_CASE("plan against the provider mocks agrees with offers and with a saved listing",
          "[plan_cli]") {
  MockServer lambda("lambda");
  MockServer runpod("runpod");
  MockServer vast("vastai");
  TempDir dir;
  auto config = dir.write("config.yaml",
                          "providers:\n"
                          "  lambda: {type: lambda, api_key: ${K}, base_url: " +
                              lambda.url() +
                              "/api/v1}\n"
                              "  runpod: {type: runpod, api_key: ${K}, base_url: " +
                              runpod.url() +
                              "}\n"
                              "  vast: {type: vastai, api_key: ${K}, base_url: " +
                              vast.url() + "}\n");
  auto tmpl = dir.write("t.yaml", R"(name: plan-test
image: busybox
resources:
  gpu: {count: 1, vram: 24GB..}
placement:
  max_price: 3.0
)");
  const std::map<std::string, std::string> env = {{"K", lambda.api_key()}};

  auto plan = berth_run({"--config", config.string(), "plan", tmpl.string(), "-o", "json"}, env);
  INFO(plan.err);
  REQUIRE(plan.exit_code == 0);
  auto p = nlohmann::json::parse(plan.out);
  CHECK(p["errors"].empty());
  REQUIRE(p["placement"].size() == 1);

  // One filter: plan's matching offers are exactly what `offers TEMPLATE` lists.
  auto offers =
      berth_run({"--config", config.string(), "offers", tmpl.string(), "-o", "json"}, env);
  REQUIRE(offers.exit_code == 0);
  auto o = nlohmann::json::parse(offers.out);
  REQUIRE(!o["offers"].empty());
  CHECK(p["offers_matching"] == o["offers"].size());
  CHECK(p["placement"][0]["offer"]["price_per_hour"] == o["offers"][0]["price_per_hour"]);
  bool listed = false;
  for (const auto& x : o["offers"]) listed |= x["id"] == p["placement"][0]["offer"]["id"];
  CHECK(listed);
  for (const auto& x : o["offers"]) CHECK(x["price_per_hour"].get<double>() <= 3.0);

  // A saved listing reproduces the live plan.
  auto all = berth_run({"--config", config.string(), "offers", "-o", "json"}, env);
  REQUIRE(all.exit_code == 0);
  auto saved = dir.write("all.json", all.out);
  auto replay = berth_run({"plan", tmpl.string(), "--offers", saved.string(), "-o", "json"});
  REQUIRE(replay.exit_code == 0);
  auto q = nlohmann::json::parse(replay.out);
  CHECK(q["placement"] == p["placement"]);
  CHECK(q["offers_matching"] == p["offers_matching"]);
}

TEST_CASE("plan reports failed providers and exits 4 or 6 when none answered", "[plan_cli]") {
  MockServer lambda("lambda");
  MockServer vast("vastai");
  TempDir dir;
  auto tmpl = dir.write("t.yaml",
                        "name: plan-test\nimage: busybox\n"
                        "resources:\n  gpu: {count: 1, vram: 24GB..}\n");
  auto config = dir.write("config.yaml",
                          "providers:\n"
                          "  lambda: {type: lambda, api_key: ${BAD}, base_url: " +
                              lambda.url() +
                              "/api/v1}\n"
                              "  vast: {type: vastai, api_key: ${K}, base_url: " +
                              vast.url() + "}\n");
  std::map<std::string, std::string> env = {{"K", vast.api_key()}, {"BAD", "wrong-key"}};
  auto r = berth_run({"--config", config.string(), "plan", tmpl.string(), "-o", "json"}, env);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["errors"].size() == 1);
  CHECK(j["errors"][0]["provider"] == "lambda");
  CHECK(j["errors"][0]["kind"] == "auth");
  CHECK(j["errors"][0]["message"].get<std::string>().find("wrong-key") == std::string::npos);
  CHECK(r.err.find("berth: warning: lambda: failed (auth)") != std::string::npos);
  CHECK(r.err.find("wrong-key") == std::string::npos);

  env["K"] = "also-wrong";
  auto auth = berth_run({"--config", config.string(), "plan", tmpl.string()}, env);
  CHECK(auth.exit_code == 4);

  auto down = dir.write("down.yaml",
                        "providers:\n"
                        "  lambda: {type: lambda, api_key: ${K}, base_url: "
                        "http://127.0.0.1:1/api/v1}\n");
  auto failed = berth_run({"--config", down.string(), "--timeout", "5s", "plan", tmpl.string()},
                          {{"K", "k"}});
  CHECK(failed.exit_code == 6);
}

TEST_CASE("plan accepts an unset template variable and says that up will need it",
          "[plan_cli][secrets]") {
  TempDir dir;
  auto tpl = dir.write("t.yaml", std::string(kTemplate) +
                                     "env:\n  HF_TOKEN: ${BERTH_TEST_UNSET_HF}\n"
                                     "  OPT: \"${BERTH_TEST_UNSET_OPT:-}\"\n");
  auto offers = dir.write("offers.json", saved_offers().dump());
  auto text = berth_run({"plan", tpl.string(), "--offers", offers.string()});
  INFO(text.err);
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("Plan for chat"));
  CHECK_THAT(text.err, Catch::Contains("berth: " + tpl.string() +
                                       ": 'berth up' and 'berth watch' will need "
                                       "BERTH_TEST_UNSET_HF (not set now)"));
  CHECK_THAT(text.err, !Catch::Contains("BERTH_TEST_UNSET_OPT"));  // it has a default
  auto json = berth_run({"plan", tpl.string(), "--offers", offers.string(), "-o", "json"});
  CHECK(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.out);
  REQUIRE(j["unset_variables"].size() == 1);
  CHECK(j["unset_variables"][0] == nlohmann::json({{"name", "BERTH_TEST_UNSET_HF"},
                                                   {"path", "env.HF_TOKEN"},
                                                   {"line", 10},
                                                   {"column", 13}}));
  // Set, nothing is said and the list is empty.
  auto set = berth_run({"plan", tpl.string(), "--offers", offers.string(), "-o", "json"},
                       {{"BERTH_TEST_UNSET_HF", "hf"}});
  CHECK(set.exit_code == 0);
  CHECK(nlohmann::json::parse(set.out)["unset_variables"].empty());
  CHECK_THAT(set.err, !Catch::Contains("will need"));
}

TEST_CASE("plan --offers: a listing cut short while it is read is an error, never a crash",
          "[plan_cli]") {
  TempDir dir;
  const auto tmpl = dir.write("t.yaml", kTemplate);
  const auto file = dir.path() / "big.json";
  // About 30 MB, so reading takes long enough for the cut to land inside it
  // on some of the runs; whichever way a run goes, it must end in an exit.
  {
    std::ofstream out(file);
    out << "{\"offers\": [\n";
    const std::string one = offer("p", "x", 2.0, "H100", 80).dump(2);
    for (int i = 0; i < 40000; ++i) out << (i ? ",\n" : "") << one;
    out << "\n], \"errors\": []}\n";
  }
  int cut_short = 0;
  for (int delay_ms : {0, 5, 20, 60}) {
    ProcessResult r;
    std::thread child([&] {
      auto ran = system_process_runner().run(
          {.argv = {BERTH_BINARY, "plan", tmpl.string(), "--offers", file.string()},
           .timeout = Duration{60'000}});
      if (ran) r = *ran;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    std::filesystem::resize_file(file, 1000);
    child.join();
    INFO("delay " << delay_ms << " ms: exit " << r.exit_code << ", " << r.err);
    CHECK(r.signal == 0);
    CHECK((r.exit_code == 0 || r.exit_code == 3 || r.exit_code == 5));
    if (r.err.find("cut short while it was read") != std::string::npos) ++cut_short;
    // Again whole for the next run.
    std::ofstream out(file);
    out << "{\"offers\": [\n";
    const std::string one = offer("p", "x", 2.0, "H100", 80).dump(2);
    for (int i = 0; i < 40000; ++i) out << (i ? ",\n" : "") << one;
    out << "\n], \"errors\": []}\n";
  }
  SUCCEED("runs that met the cut: " << cut_short);
}

TEST_CASE("plan: placement.providers allowing only a disabled provider names its variable",
          "[plan_cli][secrets]") {
  TempDir dir;
  auto config = dir.write("config.yaml",
                          "providers:\n  runpod: {type: runpod, api_key: \"${BERTH_TEST_NO_KEY}\"}\n"
                          "  here: {type: local}\n");
  auto tpl = dir.write("t.yaml", "name: t\nimage: busybox\nresources: {gpu: {count: 1}}\n"
                                 "placement: {providers: [runpod]}\n");
  auto r = berth_run({"--config", config.string(), "plan", tpl.string()},
                     {{"XDG_STATE_HOME", dir.path().string()}});
  INFO(r.err);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("placement.providers allows only disabled providers: "
                                    "provider 'runpod' is disabled: BERTH_TEST_NO_KEY is not set"));
  CHECK_THAT(r.err, Catch::Contains("configured: here"));
}
