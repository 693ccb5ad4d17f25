// `berth offers` and `berth providers`: the offer search in process, then the
// real binary against the provider mocks on loopback.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "berth/common/process.h"
#include "berth/common/shell_quote.h"
#include "berth/placement/offer_search.h"
#include "support/fake_provider.h"
#include "support/loopback_server.h"
#include "support/mock_server.h"
#include "support/temp_dir.h"

using namespace berth;
using namespace berth::testing;

namespace {

std::vector<Offer> sample_offers() {
  auto amd = make_offer("c", "mi300x", "MI300X", 8, 192, 30.0, "eu-west-1");
  amd.gpu.vendor = GpuVendor::kAmd;
  auto spot = make_offer("b", "h100-spot", "H100", 1, 80, 1.2);
  spot.spot = true;
  spot.gpu.compute_capability = 9.0;
  auto h100 = make_offer("a", "h100", "H100", 1, 80, 2.5);
  h100.gpu.compute_capability = 9.0;
  auto a10 = make_offer("a", "a10", "A10", 1, 24, 0.75, "us-west-1");
  a10.gpu.compute_capability = 8.6;
  auto cpu = make_offer("b", "cpu", "", 0, 0, 0.05);
  cpu.gpu.vram_gb.reset();
  auto sold_out = make_offer("b", "gone", "H100", 8, 80, 20.0);
  sold_out.available = 0;
  return {amd, spot, h100, a10, cpu, sold_out};
}

std::vector<std::string> matching_ids(const OfferFlags& flags,
                                      std::optional<LaunchTemplate> workload = {}) {
  auto filter = OfferFilter::create(flags, std::move(workload));
  REQUIRE(filter);
  auto offers = sample_offers();
  std::vector<Offer> kept;
  for (auto& o : offers)
    if (!filter->unmet(o)) kept.push_back(o);
  sort_offers(kept, OfferSort::kPrice, std::nullopt);
  std::vector<std::string> ids;
  for (const auto& o : kept) ids.push_back(o.id);
  return ids;
}

using Ids = std::vector<std::string>;

}  // namespace

TEST_CASE("offers: without filters every vendor's on-demand offers that are available",
          "[offers]") {
  CHECK(matching_ids({}) == Ids{"cpu", "a10", "h100", "mi300x"});
}

TEST_CASE("offers: each filter flag narrows through the placement filter", "[offers]") {
  OfferFlags f;
  f.gpus = {"h100"};
  CHECK(matching_ids(f) == Ids{"h100"});
  f = {};
  f.vram = "48GB..";
  CHECK(matching_ids(f) == Ids{"h100", "mi300x"});
  f = {};
  f.count = "8";
  CHECK(matching_ids(f) == Ids{"mi300x"});
  f = {};
  f.count = "1..4";
  CHECK(matching_ids(f) == Ids{"a10", "h100"});
  f = {};
  f.cc = "9.0";
  CHECK(matching_ids(f) == Ids{"h100"});
  f = {};
  f.max_price = 1.0;
  CHECK(matching_ids(f) == Ids{"cpu", "a10"});
  f = {};
  f.regions = {"us-*"};
  CHECK(matching_ids(f) == Ids{"cpu", "a10", "h100"});
  f = {};
  f.providers = {"a"};
  CHECK(matching_ids(f) == Ids{"a10", "h100"});
  f = {};
  f.spot = true;
  CHECK(matching_ids(f) == Ids{"cpu", "a10", "h100-spot", "h100", "mi300x"});
}

TEST_CASE("offers: a template's resources and placement filter, together with the flags",
          "[offers]") {
  auto t = parse_template(R"(name: demo
image: busybox
resources:
  gpu: {count: 1, vram: 24GB..}
placement: {max_price: 2.0}
)",
                          "demo.yaml", Environment::from_map({}));
  REQUIRE(t);
  CHECK(matching_ids({}, *t) == Ids{"a10"});
  OfferFlags f;
  f.gpus = {"H100"};
  CHECK(matching_ids(f, *t).empty());
}

TEST_CASE("offers: bad filter flags are usage errors that say what was expected", "[offers]") {
  auto error = [](OfferFlags f) {
    auto r = OfferFilter::create(f);
    REQUIRE_FALSE(r);
    return r.error();
  };
  OfferFlags f;
  f.gpus = {"H1000"};
  CHECK(error(f).find("--gpu: unknown GPU model 'H1000'") == 0);
  f = {};
  f.vram = "80";
  CHECK(error(f).find("--vram: ") == 0);
  f = {};
  f.count = "4..2";
  CHECK(error(f) == "--gpus: the range '4..2' is empty (its minimum exceeds its maximum)");
  f = {};
  f.cc = "..";
  CHECK(error(f).find("--cc: '..' needs a bound") == 0);
  f = {};
  f.count = "two";
  CHECK(error(f) == "--gpus: expected a whole number of GPUs, not 'two'");
}

TEST_CASE("offers: the query narrows what providers are asked for", "[offers]") {
  OfferFlags f;
  f.gpus = {"H100"};
  f.vram = "80GB..";
  f.count = "2..";
  f.max_price = 9.5;
  auto filter = OfferFilter::create(f);
  REQUIRE(filter);
  auto q = filter->query();
  CHECK(q.models == std::vector<std::string>{"H100"});
  CHECK(q.min_vram_gb == Approx(80));
  CHECK(q.gpu_count.min == 2);
  CHECK(q.max_price == 9.5);
  CHECK(q.spot == SpotPolicy::kNever);
  CHECK(filter->asks("anything"));
  f.providers = {"lam*"};
  auto only = OfferFilter::create(f);
  REQUIRE(only);
  CHECK(only->asks("lambda"));
  CHECK_FALSE(only->asks("runpod"));
}

TEST_CASE("offers: sorting by price, vram or compute capability, then a limit", "[offers]") {
  auto offers = sample_offers();
  sort_offers(offers, OfferSort::kVram, 2);
  REQUIRE(offers.size() == 2);
  CHECK(offers[0].id == "mi300x");
  CHECK(offers[1].id == "h100-spot");  // 80GB ties break by price
  offers = sample_offers();
  sort_offers(offers, OfferSort::kComputeCapability, 1);
  CHECK(offers[0].id == "h100-spot");
}

TEST_CASE("offers: table, CSV and the documented JSON", "[offers]") {
  auto offers = sample_offers();
  sort_offers(offers, OfferSort::kPrice, 2);
  CHECK(offers_table(offers) ==
        "PROVIDER  REGION     GPU  COUNT  VRAM   CC  VCPUS   MEM   DISK    $/H  SPOT  AVAIL  ID\n"
        "b         us-east-1  -        0     -    -      0   0GB  500GB  0.050  no        -  cpu\n"
        "a         us-west-1  A10      1  24GB  8.6      8  64GB  500GB   0.75  no        -  a10\n");
  // A stock level where the provider gives no count (RunPod).
  auto leveled = offers;
  leveled[1].stock = "low";
  CHECK(offers_table(leveled).find("0.75  no      low  a10\n") != std::string::npos);
  CHECK(offers_csv({offers[1]}) ==
        "provider,id,region,gpu_model,gpu_vendor,gpu_count,vram_gb,compute_capability,vcpus,"
        "memory_gb,disk_gb,price_per_hour,spot,available,stock\n"
        "a,a10,us-west-1,A10,nvidia,1,24,8.6,8,64,500,0.75,false,,\n");

  OfferSearch search;
  search.offers = {offers[1]};
  ProviderReport ok{"a", 1, Duration{12}, std::nullopt};
  ProviderReport bad{"b", 0, Duration{30},
                     ProviderError{ProviderError::Kind::kAuth, "key sk-123456 rejected"}};
  search.reports = {ok, bad};
  auto j = offers_to_json(search, {"sk-123456"});
  REQUIRE(j["offers"].size() == 1);
  const auto& o = j["offers"][0];
  for (const char* key : {"provider", "id", "region", "gpu", "vcpus", "memory_gb", "disk_gb",
                          "price_per_hour", "spot", "available"})
    CHECK(o.contains(key));
  for (const char* key : {"model", "vendor", "count", "vram_gb", "compute_capability"})
    CHECK(o["gpu"].contains(key));
  CHECK(j["errors"] ==
        nlohmann::json::parse(
            R"([{"provider":"b","kind":"auth","message":"key [REDACTED] rejected"}])"));
  CHECK(describe_report(ok, {}) == "a: 1 offer in 12 ms");
  CHECK(describe_report(bad, {"sk-123456"}) ==
        "b: failed (auth) after 30 ms: key [REDACTED] rejected");
}

TEST_CASE("offers: the exit code when no provider answered", "[offers]") {
  ProviderReport ok{"a", 3, Duration{1}, std::nullopt};
  ProviderReport auth{"b", 0, Duration{1}, ProviderError{ProviderError::Kind::kAuth, "no"}};
  ProviderReport down{"c", 0, Duration{1}, ProviderError{ProviderError::Kind::kTransient, "503"}};
  CHECK_FALSE(listing_failure({ok, auth, down}));
  REQUIRE(listing_failure({auth, auth}));
  CHECK(listing_failure({auth, auth})->code == ExitCode::kAuth);
  CHECK(listing_failure({auth, down})->code == ExitCode::kProviderFailed);
}

// ---------------------------------------------------------------------------
// The real binary against the mocks.

namespace {

struct Run {
  int exit_code;
  std::string out;
  std::string err;
};

Run run_berth(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
  std::vector<std::string> argv = {BERTH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace("HOME", "/nonexistent");
  env.emplace("NO_COLOR", "1");
  auto r =
      system_process_runner().run({.argv = argv, .extra_env = env, .timeout = Duration{60'000}});
  REQUIRE(r);
  return {r->exit_code, r->out, r->err};
}

constexpr const char* kLambdaKey = "sk-berth-lambda-7f3a9c01";
constexpr const char* kRunpodKey = "rp-berth-runpod-55e1d2aa";
constexpr const char* kVastKey = "vast-berth-key-0c9b8e77d";

}  // namespace

TEST_CASE("berth offers lists the mocks' offers and reports a failing provider", "[e2e][offers]") {
  MockServer lambda("lambda", {"--api-key", kLambdaKey});
  TempDir dir;
  auto config = dir.write("config.yaml",
                          "providers:\n"
                          "  lam: {type: lambda, api_key: ${LK}, base_url: " +
                              lambda.url() +
                              "/api/v1}\n"
                              "  wrong: {type: lambda, api_key: ${WK}, base_url: " +
                              lambda.url() + "/api/v1}\n");
  std::map<std::string, std::string> env = {{"LK", kLambdaKey}, {"WK", "not-the-key"}};

  auto table = run_berth({"--config", config.string(), "offers", "--gpu", "H100"}, env);
  INFO(table.err);
  CHECK(table.exit_code == 0);
  CHECK(table.out.rfind("PROVIDER  REGION", 0) == 0);
  CHECK(table.out.find("H100") != std::string::npos);
  CHECK(table.out.find("A10 ") == std::string::npos);
  CHECK(table.err.find("berth: lam: ") != std::string::npos);
  CHECK(table.err.find("berth: warning: wrong: failed (auth)") != std::string::npos);

  auto json = run_berth({"--config", config.string(), "offers", "-o", "json"}, env);
  CHECK(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.out);
  CHECK_FALSE(j["offers"].empty());
  REQUIRE(j["errors"].size() == 1);
  CHECK(j["errors"][0]["provider"] == "wrong");
  CHECK(j["errors"][0]["kind"] == "auth");
  auto prices = std::vector<double>();
  for (const auto& o : j["offers"]) prices.push_back(o["price_per_hour"]);
  CHECK(std::is_sorted(prices.begin(), prices.end()));

  auto csv = run_berth(
      {"--config", config.string(), "offers", "-o", "csv", "--provider", "lam", "--limit", "1"},
      env);
  CHECK(csv.exit_code == 0);
  CHECK(std::count(csv.out.begin(), csv.out.end(), '\n') == 2);
  CHECK(csv.err.find("wrong") == std::string::npos);  // not asked at all
}

TEST_CASE("berth offers exits 4 when every provider rejects its key, 6 when none answers",
          "[e2e][offers]") {
  MockServer lambda("lambda", {"--api-key", kLambdaKey});
  TempDir dir;
  auto auth = dir.write("auth.yaml", "providers:\n  a: {type: lambda, api_key: ${K}, base_url: " +
                                         lambda.url() + "/api/v1}\n");
  auto r = run_berth({"--config", auth.string(), "offers", "-o", "json"}, {{"K", "bad-key"}});
  CHECK(r.exit_code == 4);
  CHECK(nlohmann::json::parse(r.out)["errors"][0]["kind"] == "auth");
  CHECK(r.err.find("berth: error: every provider rejected the credentials") != std::string::npos);

  int closed_port;
  {
    LoopbackServer gone([](const ReceivedRequest&) { return ScriptedReply{}; });
    closed_port = gone.port();
  }
  auto down = dir.write(
      "down.yaml", "providers:\n  a: {type: lambda, api_key: ${K}, base_url: " + lambda.url() +
                       "/api/v1}\n  b: {type: lambda, api_key: ${K}, base_url: http://127.0.0.1:" +
                       std::to_string(closed_port) + "/api/v1}\n");
  auto d = run_berth({"--config", down.string(), "--timeout", "5s", "offers"}, {{"K", "bad-key"}});
  CHECK(d.exit_code == 6);
  CHECK(d.err.find("berth: error: no provider answered") != std::string::npos);

  auto none = run_berth({"--config", auth.string(), "offers", "--provider", "zzz"}, {{"K", "k"}});
  CHECK(none.exit_code == 2);
  auto usage = run_berth({"--config", auth.string(), "offers", "--vram", "80"}, {{"K", "k"}});
  CHECK(usage.exit_code == 2);
  CHECK(usage.err.find("--vram") != std::string::npos);
}

TEST_CASE("berth providers lists and checks credentials concurrently", "[e2e][offers]") {
  MockServer lambda("lambda", {"--api-key", kLambdaKey});
  TempDir dir;
  auto config = dir.write("config.yaml",
                          "providers:\n"
                          "  lam: {type: lambda, api_key: ${LK}, base_url: " +
                              lambda.url() +
                              "/api/v1}\n"
                              "  wrong: {type: lambda, api_key: ${WK}, base_url: " +
                              lambda.url() + "/api/v1}\n");
  std::map<std::string, std::string> env = {{"LK", kLambdaKey}, {"WK", "not-the-key"}};
  auto list = run_berth({"--config", config.string(), "providers"}, env);
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("NAME   TYPE    BASE URL") == 0);
  CHECK(list.out.find("lam    lambda  " + lambda.url() + "/api/v1") != std::string::npos);

  auto check = run_berth({"--config", config.string(), "providers", "--check", "-o", "json"}, env);
  CHECK(check.exit_code == 4);
  auto j = nlohmann::json::parse(check.out);
  REQUIRE(j["providers"].size() == 2);
  CHECK(j["providers"][0]["check"]["ok"] == true);
  CHECK(j["providers"][1]["check"]["kind"] == "auth");
}

TEST_CASE("no API key ever appears in stdout, stderr or the -vv trace", "[e2e][redaction]") {
  MockServer lambda("lambda", {"--api-key", kLambdaKey});
  MockServer runpod("runpod", {"--api-key", kRunpodKey});
  MockServer vast("vastai", {"--api-key", kVastKey});
  // A 429 first, so the retry path is traced too.
  lambda.fault({{"op", "offers"},
                {"status", 429},
                {"body", "Too Many Requests"},
                {"headers", {{"Retry-After", "0"}}},
                {"content_type", "text/plain"}});
  TempDir dir;
  dir.write("vast.key", std::string(kVastKey) + "\n");
  auto config = dir.write("config.yaml",
                          "providers:\n"
                          "  lam: {type: lambda, api_key: ${LK}, base_url: " +
                              lambda.url() +
                              "/api/v1}\n"
                              "  rp: {type: runpod, api_key: ${RK}, base_url: " +
                              runpod.url() +
                              "}\n"
                              "  vast: {type: vastai, api_key_file: vast.key, base_url: " +
                              vast.url() +
                              "}\n"
                              "  wrong: {type: lambda, api_key: ${RK}, base_url: " +
                              lambda.url() + "/api/v1}\n");
  std::map<std::string, std::string> env = {{"LK", kLambdaKey}, {"RK", kRunpodKey}};
  for (auto args : {std::vector<std::string>{"offers", "-vvv"},
                    std::vector<std::string>{"offers", "-vvv", "-o", "json"},
                    std::vector<std::string>{"providers", "--check", "-vvv"}}) {
    args.insert(args.begin(), {"--config", config.string()});
    auto r = run_berth(args, env);
    INFO(r.err);
    CHECK(r.err.find("http: GET ") != std::string::npos);  // the trace is there
    for (const char* key : {kLambdaKey, kRunpodKey, kVastKey}) {
      CHECK(r.out.find(key) == std::string::npos);
      CHECK(r.err.find(key) == std::string::npos);
    }
  }
}

TEST_CASE("berth offers gives up on a hung provider at --timeout, and ^C ends it at once",
          "[e2e][offers]") {
  MockServer lambda("lambda", {"--api-key", kLambdaKey});
  lambda.fault({{"op", "offers"}, {"hang", true}, {"hang_seconds", 20}, {"times", 10}});
  TempDir dir;
  auto config = dir.write(
      "config.yaml",
      "providers:\n  lam: {type: lambda, api_key: ${LK}, base_url: " + lambda.url() + "/api/v1}\n");
  auto timed_out =
      run_berth({"--config", config.string(), "--timeout", "1s", "offers"}, {{"LK", kLambdaKey}});
  CHECK(timed_out.exit_code == 6);
  CHECK(timed_out.err.find("lam: failed (transient)") != std::string::npos);

  // ^C while the provider hangs: the cancel flag ends the transfer, exit 130.
  auto offers_requests = [&] {
    std::size_t n = 0;
    for (const auto& r : lambda.requests())
      if (r.value("path", "").find("instance-types") != std::string::npos) ++n;
    return n;
  };
  std::size_t before = offers_requests();
  std::vector<std::string> args = {BERTH_BINARY, "--config", config.string(), "offers"};
  std::vector<std::string> env_strings = {"LK=" + std::string(kLambdaKey), "HOME=/nonexistent"};
  for (char** e = environ; *e; ++e) env_strings.push_back(*e);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  REQUIRE(posix_spawn(&pid, BERTH_BINARY, &actions, nullptr, argv.data(), envp.data()) == 0);
  posix_spawn_file_actions_destroy(&actions);
  for (int i = 0; i < 400 && offers_requests() == before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  CHECK(offers_requests() > before);
  kill(pid, SIGINT);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
}

TEST_CASE("providers shows every provider's effective base URL, in one form", "[offers]") {
  TempDir dir;
  auto config = dir.write("config.yaml",
                          "providers:\n"
                          "  lam: {type: lambda, api_key: ${LK}}\n"
                          "  own: {type: lambda, api_key: ${LK}, base_url: "
                          "\"http://127.0.0.1:9/api/v1/\"}\n"
                          "  rp: {type: runpod, api_key: ${LK}}\n"
                          "  vast: {type: vastai, api_key: ${LK}}\n"
                          "  here: {type: local}\n");
  std::map<std::string, std::string> env = {{"LK", "k-123456"}};
  auto table = run_berth({"--config", config.string(), "providers"}, env);
  INFO(table.err);
  CHECK(table.exit_code == 0);
  CHECK(table.out.find("NAME  TYPE    BASE URL                        STATE") == 0);
  CHECK_THAT(table.out, Catch::Contains("lam   lambda  https://cloud.lambda.ai/api/v1  enabled"));
  CHECK_THAT(table.out, Catch::Contains("own   lambda  http://127.0.0.1:9/api/v1       enabled"));
  CHECK_THAT(table.out, Catch::Contains("rp    runpod  https://api.runpod.io"));
  CHECK_THAT(table.out, Catch::Contains("vast  vastai  https://console.vast.ai"));
  CHECK_THAT(table.out, Catch::Contains("here  local   -"));
  auto json = run_berth({"--config", config.string(), "providers", "-o", "json"}, env);
  CHECK(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.out)["providers"];
  REQUIRE(j.size() == 5);
  CHECK(j[0]["base_url"] == "https://cloud.lambda.ai/api/v1");
  CHECK(j[0]["base_url_configured"] == false);
  CHECK(j[1]["base_url"] == "http://127.0.0.1:9/api/v1");
  CHECK(j[1]["base_url_configured"] == true);
  CHECK(j[2]["base_url"] == "https://api.runpod.io");
  CHECK(j[3]["base_url"] == "https://console.vast.ai");
  CHECK(j[4]["base_url"].is_null());  // local has no HTTP API
  for (const auto& p : j) CHECK(p["enabled"] == true);
}

TEST_CASE("a config with one unset key: offers, providers, status and down for the others",
          "[e2e][offers][secrets]") {
  MockServer lambda("lambda", {"--api-key", kLambdaKey});
  TempDir dir;
  auto config = dir.write("config.yaml",
                          "providers:\n"
                          "  lam: {type: lambda, api_key: ${LK}, base_url: " +
                              lambda.url() +
                              "/api/v1}\n"
                              "  rp: {type: runpod, api_key: ${BERTH_TEST_RUNPOD_UNSET}}\n");
  std::map<std::string, std::string> env = {{"LK", kLambdaKey},
                                            {"XDG_STATE_HOME", (dir.path() / "state").string()}};
  const std::string warning =
      "berth: warning: provider 'rp' is disabled: BERTH_TEST_RUNPOD_UNSET is not set (" +
      config.string() + ":3:31)";
  auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };

  auto offers = run_berth({"--config", config.string(), "offers", "--gpu", "H100"}, env);
  INFO(offers.err);
  CHECK(offers.exit_code == 0);
  CHECK_THAT(offers.out, Catch::Contains("lam"));
  CHECK(count(offers.err, warning) == 1);  // one warning, naming the variable

  // Asking only for the disabled one names what it lacks.
  auto only_rp = run_berth({"--config", config.string(), "offers", "--provider", "rp"}, env);
  CHECK(only_rp.exit_code == 3);
  CHECK_THAT(only_rp.err, Catch::Contains("error: provider 'rp' is disabled: "
                                          "BERTH_TEST_RUNPOD_UNSET is not set"));

  auto providers = run_berth({"--config", config.string(), "providers", "-o", "json"}, env);
  CHECK(providers.exit_code == 0);
  auto j = nlohmann::json::parse(providers.out)["providers"];
  REQUIRE(j.size() == 2);
  CHECK(j[0]["enabled"] == true);
  CHECK(j[1]["name"] == "rp");
  CHECK(j[1]["enabled"] == false);
  CHECK(j[1]["disabled_reason"] == "BERTH_TEST_RUNPOD_UNSET is not set");
  CHECK(j[1]["base_url"] == "https://api.runpod.io");
  auto table = run_berth({"--config", config.string(), "providers", "--check"}, env);
  CHECK(table.exit_code == 0);  // the disabled one is not asked
  CHECK_THAT(table.out, Catch::Contains("disabled: BERTH_TEST_RUNPOD_UNSET is not set  -"));

  auto status = run_berth({"--config", config.string(), "status"}, env);
  INFO(status.err);
  CHECK(status.exit_code == 0);
  CHECK_THAT(status.err, Catch::Contains("no deployments on the providers asked; rp is disabled "
                                         "(BERTH_TEST_RUNPOD_UNSET is not set)"));
  // A deployment berth cannot see may be on the disabled provider: down
  // does not say "nothing to do" but names the missing variable.
  auto down = run_berth({"--config", config.string(), "down", "chat"}, env);
  INFO(down.err);
  CHECK(down.exit_code == 3);
  CHECK_THAT(down.err, Catch::Contains("no deployment named 'chat' on the providers asked; rp is "
                                       "disabled (BERTH_TEST_RUNPOD_UNSET is not set)"));
  auto logs = run_berth({"--config", config.string(), "logs", "chat"}, env);
  CHECK(logs.exit_code == 3);
  CHECK_THAT(logs.err, Catch::Contains("BERTH_TEST_RUNPOD_UNSET is not set"));

  // Set but empty, or ${VAR:-} with nothing: the same.
  env["BERTH_TEST_RUNPOD_UNSET"] = "";
  auto empty = run_berth({"--config", config.string(), "offers"}, env);
  CHECK(empty.exit_code == 0);
  CHECK_THAT(empty.err, Catch::Contains("provider 'rp' is disabled: BERTH_TEST_RUNPOD_UNSET is empty"));
  // Every provider enabled: down of a deployment that is not there is as before.
  auto all = dir.write("all.yaml", "providers:\n  lam: {type: lambda, api_key: ${LK}, base_url: " +
                                       lambda.url() + "/api/v1}\n");
  auto nothing = run_berth({"--config", all.string(), "down", "chat"}, env);
  CHECK(nothing.exit_code == 0);
  CHECK_THAT(nothing.err, Catch::Contains("no deployment named 'chat'; nothing to do"));
}

TEST_CASE("up and watch rent nothing unasked: a terminal is asked, none needs --yes",
          "[e2e][offers][spend]") {
  MockServer lambda("lambda", {"--api-key", kLambdaKey});
  TempDir dir;
  auto config = dir.write("config.yaml", "providers:\n  lam: {type: lambda, api_key: ${LK}, base_url: " +
                                             lambda.url() + "/api/v1}\n");
  auto tmpl = dir.write("t.yaml", "name: spend\nimage: busybox\nresources:\n  gpu: {count: 1}\n"
                                  "placement: {providers: [lam]}\n");
  std::map<std::string, std::string> env = {{"LK", kLambdaKey},
                                            {"XDG_STATE_HOME", (dir.path() / "state").string()},
                                            {"HOME", dir.path().string()},
                                            {"NO_COLOR", "1"}};
  auto launches = [&] {
    std::size_t n = 0;
    for (const auto& r : lambda.requests())
      n += r["method"] == "POST" &&
           r["path"].get<std::string>().find("/instance-operations/launch") != std::string::npos;
    return n;
  };
  // No terminal, no --yes: refused before anything is rented, exit 2.
  for (const char* command : {"up", "watch"}) {
    auto r = run_berth({"--config", config.string(), command, tmpl.string()}, env);
    INFO(command << "\n" << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("this would rent 1 replica for ") &&
                          Catch::Contains("USD/h and there is no terminal to ask") &&
                          Catch::Contains("pass --yes (-y)"));
  }
  CHECK(launches() == 0);

  // On a terminal (script(1)): the offer, its $/h and the total, then the
  // question; anything but y rents nothing.
  auto on_tty = [&](const std::string& answer, std::vector<std::string> extra) {
    std::vector<std::string> argv = {BERTH_BINARY, "--config", config.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(tmpl.string());
    auto r = system_process_runner().run({.argv = {"script", "-qec", shell_join(argv), "/dev/null"},
                                          .stdin_data = answer,
                                          .extra_env = env,
                                          .timeout = Duration{60'000}});
    REQUIRE(r);
    return *r;
  };
  auto no = on_tty("n\n", {"up"});
  INFO(no.out);
  CHECK(no.exit_code == 2);
  CHECK_THAT(no.out, Catch::Contains("berth: about to rent:") &&
                         Catch::Contains("  replica 0: lam/") && Catch::Contains(" USD/h") &&
                         Catch::Contains("  total: ") && Catch::Contains("Rent it? [y/N]") &&
                         Catch::Contains("not confirmed: nothing was rented"));
  CHECK(launches() == 0);
  auto silent = on_tty("", {"watch"});  // end of input is no
  CHECK(silent.exit_code == 2);
  CHECK_THAT(silent.out, Catch::Contains("Rent it? [y/N]"));
  CHECK(launches() == 0);
  // y rents (here cut short by --timeout, which removes what it made).
  auto yes = on_tty("y\n", {"--timeout", "4s", "up"});
  INFO(yes.out);
  CHECK_THAT(yes.out, Catch::Contains("Rent it? [y/N]"));
  CHECK(launches() == 1);
  CHECK(yes.exit_code == 130);
}
