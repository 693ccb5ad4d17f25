#include <catch2/catch.hpp>

#include "berth/template/launch_template.h"
#include "berth/template/workload_spec.h"
#include "input/interpolate.h"

using namespace berth;

namespace {

const Environment kEnv = Environment::from_map(
    {{"HF_TOKEN", "hf_secret"}, {"REGISTRY_USER", "bob"}, {"EMPTY", ""}, {"TAG", "v2"}});

LaunchTemplate parse_ok(const std::string& text, const Environment& env = kEnv) {
  auto t = parse_template(text, "dir/t.yaml", env);
  if (!t)
    for (const auto& d : t.error()) FAIL_CHECK(format_diagnostic(d));
  REQUIRE(t);
  return *t;
}

Diagnostics parse_bad(const std::string& text, const Environment& env = kEnv) {
  auto t = parse_template(text, "t.yaml", env);
  REQUIRE_FALSE(t);
  return t.error();
}

// The one error a template has: its "line:col: message".
std::string one_error(const std::string& text) {
  auto all = parse_bad(text);
  for (const auto& d : all) INFO(format_diagnostic(d));
  REQUIRE(all.size() == 1);
  return std::to_string(all[0].line) + ":" + std::to_string(all[0].column) + ": " + all[0].message;
}

const std::string kMinimal = "name: app\nimage: busybox\n";

}  // namespace

TEST_CASE("a minimal template is a CPU-only workload with defaults", "[template]") {
  auto t = parse_ok(kMinimal);
  CHECK(t.name == "app");
  CHECK(t.image.value == "busybox");
  CHECK_FALSE(t.image.secret);
  CHECK(t.resources.gpu.count == Range<int>{0, 0});
  CHECK(t.replicas == 1);
  CHECK(t.spread == Spread::kNone);
  CHECK(t.health.kind == HealthCheck::Kind::kNone);
  CHECK(t.placement.spot == SpotPolicy::kNever);
  CHECK(t.hash.size() == 12);
}

TEST_CASE("every field of docs/templates.md is read into typed values", "[template]") {
  auto t = parse_ok(R"(
name: llama-chat
image: vllm/vllm-openai:v2
command: ["--model", "Qwen/Qwen2.5-7B-Instruct", 8000]
entrypoint: [python3, -m, server]
env:
  MODEL: Qwen
  HF_TOKEN: ${HF_TOKEN}
  PORT: 8000
registry_auth:
  username: ${REGISTRY_USER}
  password: ${REGISTRY_PASSWORD:-none}
resources:
  gpu:
    count: 1..8
    vram: 24GB..80GB
    total_vram: 80GB..
    compute_capability: 8.0..
    models: [H100, A100]
    exclude_models: [V100]
    vendor: nvidia
  cuda: 12.1..
  cpus: 8..
  memory: 32GiB..
  disk: ..500GB
ports:
  - 8000
  - {container: 8888, host: 18888, protocol: udp}
volumes:
  - {name: hf-cache, path: /root/.cache/huggingface}
  - {source: ./data, path: /data, readonly: true}
health:
  http: {port: 8000, path: /health}
  interval: 10s
  timeout: 5s
  failures: 3
  grace: 10m
placement:
  providers: [lambda, "run*"]
  exclude_providers: [vast]
  regions: ["us-*", "eu-*"]
  max_price: 3.50
  spot: allow
replicas: 2
spread: provider
restart:
  max_restarts: 10
  window: 1h
  backoff: 10s..10m
  on: [instance-lost, preempted]
)");
  CHECK(t.image.value == "vllm/vllm-openai:v2");
  CHECK_FALSE(t.image.secret);  // a ${VAR} image is refused: see "secrets never reach ..."
  REQUIRE(t.command);
  CHECK_FALSE(t.command->shell);
  REQUIRE(t.command->argv.size() == 3);
  CHECK(t.command->argv[2].value == "8000");
  REQUIRE(t.entrypoint);
  CHECK(t.entrypoint->size() == 3);
  REQUIRE(t.env.size() == 3);
  CHECK(t.env[0].first == "MODEL");
  CHECK_FALSE(t.env[0].second.secret);
  CHECK(t.env[1].second.value == "hf_secret");
  CHECK(t.env[1].second.secret);
  CHECK(t.env[2].second.value == "8000");
  REQUIRE(t.registry_auth);
  CHECK(t.registry_auth->username.value == "bob");
  CHECK(t.registry_auth->password.value == "none");
  CHECK(t.registry_auth->password.secret);
  const auto& g = t.resources.gpu;
  CHECK(g.count == Range<int>{1, 8});
  CHECK(g.vram == Range<std::uint64_t>{24'000'000'000ull, 80'000'000'000ull});
  CHECK(g.total_vram == Range<std::uint64_t>{80'000'000'000ull, std::nullopt});
  CHECK(*g.compute_capability.min == Approx(8.0));
  CHECK(g.models == std::vector<std::string>{"H100", "A100-40GB", "A100-80GB"});
  CHECK(g.exclude_models == std::vector<std::string>{"V100-16GB", "V100-32GB"});
  CHECK(*t.resources.cuda.min == Approx(12.1));
  CHECK(t.resources.cpus == Range<int>{8, std::nullopt});
  CHECK(*t.resources.memory.min == 32ull << 30);
  CHECK(t.resources.disk == Range<std::uint64_t>{std::nullopt, 500'000'000'000ull});
  REQUIRE(t.ports.size() == 2);
  CHECK(t.ports[0].container == 8000);
  CHECK_FALSE(t.ports[0].host);
  CHECK(t.ports[1].host == 18888);
  CHECK(t.ports[1].protocol == "udp");
  REQUIRE(t.volumes.size() == 2);
  CHECK(t.volumes[0].kind == Volume::Kind::kNamed);
  CHECK(t.volumes[1].kind == Volume::Kind::kBind);
  CHECK(t.volumes[1].source == "dir/data");
  CHECK(t.volumes[1].readonly);
  CHECK_FALSE(t.volumes[0].provider_volume());
  CHECK(t.health.kind == HealthCheck::Kind::kHttp);
  CHECK(t.health.port == 8000);
  CHECK(t.health.path == "/health");
  CHECK(t.health.grace == Duration{600'000});
  CHECK(t.placement.providers == std::vector<std::string>{"lambda", "run*"});
  CHECK(*t.placement.max_price == Approx(3.5));
  CHECK(t.placement.spot == SpotPolicy::kAllow);
  CHECK(t.replicas == 2);
  CHECK(t.spread == Spread::kProvider);
  CHECK(t.restart.backoff == Range<Duration>{Duration{10'000}, Duration{600'000}});
  CHECK(t.restart.on ==
        std::set<FailureClass>{FailureClass::kInstanceLost, FailureClass::kPreempted});
}

TEST_CASE("single values: counts mean exactly, sizes and versions at least", "[template]") {
  auto t = parse_ok(kMinimal +
                    "resources:\n  gpu: {count: 2, vram: 40GB, compute_capability: 8.0}\n"
                    "  cpus: 4\n  memory: 16GB\n");
  CHECK(t.resources.gpu.count == Range<int>{2, 2});
  CHECK(t.resources.gpu.vram == Range<std::uint64_t>{40'000'000'000ull, std::nullopt});
  CHECK_FALSE(t.resources.gpu.compute_capability.max);
  CHECK(t.resources.cpus == Range<int>{4, 4});
  CHECK(t.resources.memory == Range<std::uint64_t>{16'000'000'000ull, std::nullopt});
}

TEST_CASE("a gpu section without a count asks for exactly one GPU", "[template]") {
  auto t = parse_ok(kMinimal + "resources:\n  gpu:\n    vram: 24GB..\n");
  CHECK(t.resources.gpu.count == Range<int>{1, 1});
}

TEST_CASE("AMD models imply the AMD vendor", "[template]") {
  auto t = parse_ok(kMinimal + "resources:\n  gpu:\n    models: [MI300X, MI325X]\n");
  CHECK(t.resources.gpu.vendor == GpuVendor::kAmd);
}

TEST_CASE("command as a string runs with sh -c", "[template]") {
  auto t = parse_ok(kMinimal + "command: echo $HOME && echo $$HOME\n");
  REQUIRE(t.command);
  CHECK(t.command->shell);
  REQUIRE(t.command->argv.size() == 1);
  CHECK(t.command->argv[0].value == "echo $HOME && echo $HOME");
  CHECK_FALSE(t.command->argv[0].secret);
}

TEST_CASE("interpolation expands, defaults and escapes", "[template][interpolate]") {
  auto x = [](std::string_view s) { return interpolate(s, kEnv); };
  CHECK(x("a-${TAG}-b")->value == "a-v2-b");
  CHECK(x("a-${TAG}-b")->expanded);
  CHECK(x("${MISSING:-dflt}")->value == "dflt");
  CHECK(x("${EMPTY:-dflt}")->value == "dflt");
  CHECK(x("${HF_TOKEN:-}")->value == "hf_secret");
  CHECK(x("${MISSING:-}")->value == "");
  CHECK(x("${MISSING:-}")->expanded);
  CHECK(x("$$")->value == "$");
  CHECK(x("$${TAG}")->value == "${TAG}");
  CHECK_FALSE(x("$${TAG}")->expanded);
  CHECK(x("cost: $5")->value == "cost: $5");
  CHECK(x("end$")->value == "end$");
  auto unset = x("pre ${NOPE} post");
  REQUIRE_FALSE(unset);
  CHECK(unset.error().offset == 4);
  CHECK_THAT(unset.error().message, Catch::Contains("NOPE") && Catch::Contains("not set"));
  CHECK_THAT(x("${TAG").error().message, Catch::Contains("unterminated"));
  CHECK_THAT(x("${1BAD}").error().message, Catch::Contains("invalid variable"));
  CHECK_THAT(x("${}").error().message, Catch::Contains("invalid variable"));
}

TEST_CASE("an unset variable is an error naming it and its position", "[template]") {
  CHECK(one_error("name: app\nimage: \"repo/${NOPE}\"\n") ==
        "2:14: image: environment variable NOPE is not set");
  CHECK(one_error("name: app\nimage: x\nenv: {A: \"${NOPE}\"}\n") ==
        "3:11: env.A: environment variable NOPE is not set");
  CHECK(one_error("name: app\nimage: x\nenv:\n  A: pre-${NOPE}\n") ==
        "4:10: env.A: environment variable NOPE is not set");
}

TEST_CASE("interpolation records unset variables when asked, and refuses nested defaults",
          "[template][interpolate]") {
  auto rec = [](std::string_view s) { return interpolate(s, kEnv, UnsetVariables::kRecord); };
  auto r = rec("a${NOPE}b${HF_TOKEN}${ALSO_NOT}");
  REQUIRE(r);
  CHECK(r->value == "abhf_secret");
  CHECK(r->expanded);
  CHECK(r->unset == std::vector<std::string>{"NOPE", "ALSO_NOT"});
  // A default is used, unset or empty, and nothing is recorded.
  CHECK(rec("${NOPE:-}")->unset.empty());
  CHECK(rec("${EMPTY}")->unset.empty());
  CHECK(rec("${EMPTY}")->value.empty());
  CHECK(rec("${NOPE:-x}")->value == "x");
  // Malformed references stay errors in either mode.
  CHECK_FALSE(rec("${NOPE"));
  CHECK_FALSE(rec("${ NOPE }"));
  for (auto mode : {UnsetVariables::kError, UnsetVariables::kRecord}) {
    auto nested = interpolate("x${A:-${B}}", kEnv, mode);
    REQUIRE_FALSE(nested);
    CHECK(nested.error().offset == 1);
    CHECK_THAT(nested.error().message, Catch::Contains("a default cannot hold another ${...}"));
  }
}

TEST_CASE("a template may leave variables unset for commands that start nothing", "[template]") {
  const std::string text = kMinimal +
                           "env:\n  TOKEN: ${HF_TOKEN}\n  KEY: \"k-${NOT_SET_1}\"\n"
                           "  OPT: ${NOT_SET_2:-}\n  EMPTY: ${EMPTY}\n  SPACE: \"${NOT_SET_3} \"\n"
                           "registry_auth: {username: ${REGISTRY_USER}, password: ${NOT_SET_1}}\n";
  // Loaded for up and watch: every unset variable is an error at its place.
  auto strict = parse_bad(text);
  REQUIRE(strict.size() == 3);
  CHECK(strict[0].line == 5);
  CHECK(strict[0].message == "env.KEY: environment variable NOT_SET_1 is not set");
  auto t = parse_template(text, "t.yaml", kEnv, UnsetVariables::kRecord);
  REQUIRE(t);
  REQUIRE(t->unset_variables.size() == 3);
  CHECK(t->unset_variables[0].name == "NOT_SET_1");
  CHECK(t->unset_variables[0].path == "env.KEY");
  CHECK(t->unset_variables[0].line == 5);
  CHECK(t->unset_variables[0].column == 8);
  CHECK(t->unset_variables[1].name == "NOT_SET_3");
  CHECK(t->unset_variables[1].path == "env.SPACE");
  CHECK(t->unset_variables[2].path == "registry_auth.password");
  CHECK(unset_variable_names(*t) == "NOT_SET_1, NOT_SET_3");
  // What is set is as ever; an unset value stands for the empty string and
  // stays a secret.
  CHECK(t->env[0].second.value == "hf_secret");
  CHECK(t->env[1].second.value == "k-");
  CHECK(t->env[1].second.secret);
  CHECK(t->env[4].second.value == " ");
  // All set: nothing recorded, the same template as the strict load.
  auto all_set = Environment::from_map(
      {{"HF_TOKEN", "h"}, {"NOT_SET_1", "1"}, {"NOT_SET_3", "3"}, {"REGISTRY_USER", "u"},
       {"EMPTY", ""}});
  auto full = parse_template(text, "t.yaml", all_set, UnsetVariables::kRecord);
  REQUIRE(full);
  CHECK(full->unset_variables.empty());
  CHECK(full->hash == parse_template(text, "t.yaml", all_set)->hash);
  // A ${VAR} where a secret may not be is refused either way.
  auto image = parse_template("name: app\nimage: \"repo/${NOPE}\"\n", "t.yaml", kEnv,
                              UnsetVariables::kRecord);
  REQUIRE_FALSE(image);
  CHECK_THAT(image.error()[0].message, Catch::Contains("would appear on command lines"));
}

TEST_CASE("the hash is stable and follows every deployed value", "[template]") {
  const std::string base = kMinimal + "env:\n  TOKEN: ${HF_TOKEN}\nports: [8000]\n";
  const auto h = parse_ok(base).hash;
  CHECK(parse_ok(base).hash == h);
  CHECK(parse_ok("# a comment\n" + base).hash == h);  // formatting is not content
  CHECK(
      parse_ok("image: busybox\nname: app\nenv: {TOKEN: \"${HF_TOKEN}\"}\nports: [8000]\n").hash ==
      h);
  auto other_env = Environment::from_map({{"HF_TOKEN", "rotated"}});
  CHECK(parse_ok(base, other_env).hash != h);  // a rotated secret redeploys
  CHECK(parse_ok(base + "replicas: 2\nspread: region\n").hash != h);
  CHECK(parse_ok("name: app\nimage: busybox:1\nenv:\n  TOKEN: ${HF_TOKEN}\nports: [8000]\n").hash !=
        h);
  CHECK(parse_ok(base + "resources:\n  memory: 1GB..\n").hash != h);
  CHECK(parse_ok(kMinimal + "env:\n  TOKEN: ${HF_TOKEN}\nports: [8001]\n").hash != h);
}

TEST_CASE("all errors of a file are reported, in order", "[template]") {
  auto all = parse_bad(
      "name: Bad\nimage: x\nresources:\n  memroy: 1GB\n  cpus: 0\nports: [0]\nreplicas: 0\n");
  REQUIRE(all.size() == 5);
  CHECK(all[0].line == 1);
  CHECK(all[1].line == 4);
  CHECK(all[1].hint == "did you mean 'memory'?");
  CHECK(all[2].line == 5);
  CHECK(all[3].line == 6);
  CHECK(all[4].line == 7);
  for (const auto& d : all) {
    CHECK(d.file == "t.yaml");
    CHECK_FALSE(d.source_line.empty());
  }
}

// Each validation rule, with where it points.
TEST_CASE("validation rules", "[template]") {
  const std::string m = kMinimal;
  CHECK(one_error("image: x\n") == "1:1: missing required key 'name'");
  CHECK(one_error("name: x\n") == "1:1: missing required key 'image'");
  CHECK(one_error("name: My_App\nimage: x\n") ==
        "1:7: name: 'My_App' is not a valid deployment name");
  CHECK(one_error("name: " + std::string(40, 'a') + "\nimage: x\n").find("not a valid") !=
        std::string::npos);
  CHECK(one_error("name: x\nimage: \"\"\n") == "2:8: image: empty image reference");
  CHECK(one_error(m + "imgae: y\n") == "3:1: unknown key 'imgae'");
  CHECK(one_error(m + "name: y\n") == "3:1: duplicate key 'name'");
  CHECK(one_error(m + "env:\n  A: 1\n  A: 2\n") == "5:3: duplicate key 'A' in env");
  CHECK(one_error(m + "env:\n  1A: x\n") ==
        "4:3: env.1A: '1A' is not a valid environment variable name");
  CHECK(one_error(m + "env:\n  A:\n") == "4:3: env.A: expected a string value, got nothing");
  CHECK(one_error(m + "resources:\n  cpus: 8..4\n") ==
        "4:9: resources.cpus: inverted range: 8 is more than 4");
  CHECK(one_error(m + "resources:\n  memory: 64GB..16GB\n") ==
        "4:11: resources.memory: inverted range: 64GB is more than 16GB");
  CHECK(one_error(m + "resources:\n  memory: ..\n") == "4:11: resources.memory: empty range '..'");
  CHECK(one_error(m + "resources:\n  memory: 0GB..\n") ==
        "4:11: resources.memory: must be greater than zero");
  CHECK(one_error(m + "resources:\n  disk: 100\n").find("has no unit") != std::string::npos);
  CHECK(one_error(m + "resources:\n  cpus: -2\n") ==
        "4:9: resources.cpus: '-2' is negative; counts start at 0");
  CHECK(one_error(m + "resources:\n  cpus: 99999999999999999999\n") ==
        "4:9: resources.cpus: integer 99999999999999999999 is out of range");
  CHECK(one_error(m + "resources:\n  gpu:\n    count: 2.5\n") ==
        "5:12: resources.gpu.count: expected a whole number, got 2.5");
  CHECK(one_error(m + "resources:\n  gpu:\n    count: 0\n    vram: 24GB..\n") ==
        "6:11: resources.gpu.vram: GPU constraints on a CPU-only workload (count is 0)");
  CHECK(one_error(m + "resources:\n  gpu:\n    models: [H10O]\n") ==
        "5:14: resources.gpu.models: unknown GPU model 'H10O'");
  CHECK(one_error(m + "resources:\n  gpu:\n    vram: 2TB..\n") ==
        "5:5: resources.gpu: no nvidia GPU model satisfies these constraints together");
  CHECK(one_error(m + "resources:\n  gpu:\n    vendor: amd\n    compute_capability: 8.0..\n") ==
        "6:25: resources.gpu.compute_capability: compute capability is NVIDIA's (CUDA); AMD GPUs "
        "have none");
  CHECK(one_error(m + "resources:\n  gpu:\n    models: [H100]\n    exclude_models: [H100]\n") ==
        "6:21: resources.gpu.exclude_models: H100 is both allowed and excluded");
  CHECK(one_error(m + "resources:\n  gpu:\n    vendor: intel\n") ==
        "5:13: resources.gpu.vendor: 'intel' is not one of nvidia or amd");
  CHECK(one_error(m + "ports: [70000]\n") == "3:9: ports[0]: 70000 is out of range");
  CHECK(one_error(m + "ports: [0]\n") == "3:9: ports[0]: 0 is out of range");
  CHECK(one_error(m + "ports: [8000, 8000]\n") ==
        "3:15: ports[1]: container port 8000/tcp is already published by ports[0]");
  CHECK(one_error(m + "ports: [8000, {container: 9000, host: 8000}]\n") ==
        "3:15: ports[1]: host port 8000/tcp is already used by ports[0]");
  CHECK(one_error(m + "ports: [\"8000\"]\n") ==
        "3:9: ports[0]: expected a whole number, got the string '8000'");
  CHECK(one_error(m + "ports: [{host: 80}]\n") ==
        "3:9: ports[0]: missing required key 'container'");
  CHECK(one_error(m + "volumes: [{name: v, path: data}]\n") ==
        "3:27: volumes[0].path: container path 'data' is not absolute");
  CHECK(one_error(m + "volumes: [{name: v, source: ./d, path: /d}]\n").find("not both") !=
        std::string::npos);
  CHECK(one_error(m + "volumes: [{path: /d}]\n").find("needs 'name'") != std::string::npos);
  CHECK(one_error(m + "volumes: [{name: v, path: /d}, {name: w, path: /d}]\n") ==
        "3:48: volumes[1].path: '/d' is already mounted by volumes[0]");
  // size: makes a provider volume; only for a named one, within the providers' bounds.
  CHECK(one_error(m + "volumes: [{source: ./d, path: /d, size: 100GB}]\n")
            .find("'size' is for a named volume") != std::string::npos);
  CHECK(one_error(m + "volumes: [{name: v, path: /d, size: lots}]\n").find("volumes[0].size") !=
        std::string::npos);
  CHECK(one_error(m + "volumes: [{name: v, path: /d, size: 5GB}]\n") ==
        "3:37: volumes[0].size: a provider volume is 10GB to 4096GB");
  CHECK(one_error(m + "volumes: [{name: v, path: /d, size: 5TB}]\n") ==
        "3:37: volumes[0].size: a provider volume is 10GB to 4096GB");
  CHECK(one_error(m + "health:\n  http: {port: 8000}\n") ==
        "4:16: health.http.port: port 8000 is not among the published ports");
  CHECK(one_error(m + "ports: [8000]\nhealth:\n  tcp: 9000\n") ==
        "5:8: health.tcp: port 9000 is not among the published ports");
  CHECK(one_error(m + "ports: [80]\nhealth:\n  http: {port: 80, path: health}\n") ==
        "5:26: health.http.path: HTTP path 'health' must start with '/'");
  CHECK(one_error(m + "health:\n  interval: 10s\n") ==
        "4:3: health: needs one check: http, tcp or exec");
  CHECK(one_error(m + "ports: [80]\nhealth:\n  tcp: 80\n  exec: [true]\n") ==
        "5:3: health: give exactly one of http, tcp or exec");
  CHECK(one_error(m + "health:\n  exec: [true]\n  interval: 10\n") ==
        "5:13: health.interval: duration '10' has no unit; write e.g. 10s (units: ms, s, m, h)");
  CHECK(one_error(m + "placement:\n  max_price: 0\n") ==
        "4:14: placement.max_price: must be more than 0 (USD per hour per replica)");
  CHECK(one_error(m + "placement:\n  max_price: -1.5\n") ==
        "4:14: placement.max_price: must be more than 0 (USD per hour per replica)");
  CHECK(one_error(m + "placement:\n  max_price: cheap\n") ==
        "4:14: placement.max_price: expected a number, got 'cheap'");
  CHECK(one_error(m + "placement:\n  spot: sometimes\n") ==
        "4:9: placement.spot: 'sometimes' is not one of never, allow or only");
  CHECK(one_error(m + "placement:\n  providers: lambda\n") ==
        "4:14: placement.providers: expected a list, got 'lambda'");
  CHECK(one_error(m + "replicas: 0\n") == "3:11: replicas: must be at least 1, got 0");
  CHECK(one_error(m + "replicas: -3\n") == "3:11: replicas: must be at least 1, got -3");
  CHECK(one_error(m + "replicas: 5000\n") == "3:11: replicas: 5000 is out of range");
  CHECK(parse_bad(m + "replicas: 5000\n")[0].hint == "expected at most 1000");
  CHECK(one_error(m + "spread: region\n") == "3:9: spread: spreading needs more than one replica");
  CHECK(one_error(m + "restart:\n  backoff: 10m..10s\n") ==
        "4:12: restart.backoff: inverted range: 10m is more than 10s");
  CHECK(one_error(m + "restart:\n  on: [instance-lots]\n") ==
        "4:8: restart.on: unknown failure 'instance-lots'");
  CHECK(one_error(m + "registry_auth:\n  username: u\n") ==
        "4:3: registry_auth: needs both 'username' and 'password'");
  CHECK(one_error(m + "command: {a: b}\n").find("expected a list (exec form)") !=
        std::string::npos);
  CHECK(one_error(m + "resources: [cpus]\n") == "3:12: resources: expected a mapping, got a list");
}

TEST_CASE("the document itself must be a small single mapping", "[template]") {
  CHECK(one_error("") == "1:1: the template is empty");
  CHECK(one_error("# only a comment\n\n") == "1:1: the template is empty");
  CHECK(one_error("- a\n- b\n").find("a template is a mapping") != std::string::npos);
  CHECK(one_error("just words\n").find("a template is a mapping") != std::string::npos);
  CHECK(one_error(kMinimal + "---\nname: b\nimage: c\n") ==
        "3:1: a template file holds exactly one YAML document");
  CHECK(one_error("name: [a\nimage: x\n") == "2:6: invalid YAML: end of sequence flow not found");
  auto big = parse_bad(kMinimal + "#" + std::string(2 << 20, 'x') + "\n");
  REQUIRE(big.size() == 1);
  CHECK(big[0].line == 0);
  CHECK_THAT(big[0].message, Catch::Contains("larger than 1 MiB"));
}

TEST_CASE("nesting and alias bombs are refused before they cost anything", "[template]") {
  CHECK_THAT(one_error("name: " + std::string(100'000, '[')),
             Catch::EndsWith("nesting deeper than 64 levels"));
  CHECK(one_error("image: x\nname: " + std::string(64, '[') + std::string(64, ']')) ==
        "2:70: nesting deeper than 64 levels");
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c)
    bomb += std::string(1, c) + ": &" + c + " [*" + static_cast<char>(c - 1) + ", *" +
            static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" +
            static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" +
            static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" +
            static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" +
            static_cast<char>(c - 1) + "]\n";
  auto all = parse_bad(bomb);
  REQUIRE(all.size() == 1);
  CHECK_THAT(all[0].message, Catch::Contains("alias bomb"));
  // A small anchor used twice is fine.
  auto t = parse_ok("name: app\nimage: x\nplacement:\n  regions: &r [us-east]\n  providers: *r\n");
  CHECK(t.placement.providers == std::vector<std::string>{"us-east"});
}

TEST_CASE("load_template reads files and resolves sources beside them", "[template]") {
  auto t = load_template(std::string(BERTH_TEST_DIR) + "/../templates/hello.yaml",
                         Environment::from_map({}));
  REQUIRE(t);
  CHECK(t->name == "hello");
  auto missing = load_template("/nonexistent/berth.yaml", Environment::from_map({}));
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error()[0].message, Catch::Contains("cannot read"));
}

TEST_CASE("failure classes round-trip", "[template]") {
  for (auto c :
       {FailureClass::kInstanceLost, FailureClass::kPreempted, FailureClass::kContainerExit,
        FailureClass::kUnhealthy, FailureClass::kUnreachable})
    CHECK(failure_class_from_string(to_string(c)) == c);
  CHECK_FALSE(failure_class_from_string("bogus"));
}

#include "input/lexical.h"

TEST_CASE("lexical shapes of template values", "[template][lexical]") {
  using namespace berth::lexical;
  for (const char* s : {"0", "42", "-1", "+7", "99999999999999999999999"}) CHECK(is_integer(s));
  for (const char* s : {"", "-", "1.0", "1e3", "0x10", " 1"}) CHECK_FALSE(is_integer(s));
  for (const char* s : {"1", "3.50", "-2.5", ".5", "5.", "1e3", "2.5E-2"}) CHECK(is_number(s));
  for (const char* s : {"", ".", "e3", "1e", "1.2.3", "cheap", "1 "}) CHECK_FALSE(is_number(s));
  for (const char* s : {"8", "8.0", "12.1", "100.999"}) CHECK(is_version(s));
  for (const char* s : {"", "8.", ".8", "1234", "8.0.1", "v8", "8.1234"})
    CHECK_FALSE(is_version(s));
  CHECK(is_deployment_name("a"));
  CHECK(is_deployment_name("llama-chat-2"));
  CHECK(is_deployment_name(std::string(39, 'a')));
  CHECK_FALSE(is_deployment_name(std::string(40, 'a')));
  for (const char* s : {"", "1app", "-app", "App", "my_app", "a.b"})
    CHECK_FALSE(is_deployment_name(s));
  CHECK(is_env_name("_A1"));
  CHECK_FALSE(is_env_name("1A"));
  CHECK_FALSE(is_env_name("A-B"));
  CHECK(is_volume_name("hf-cache.v2_x"));
  CHECK_FALSE(is_volume_name("-x"));
  CHECK_FALSE(is_volume_name("a/b"));
}

TEST_CASE("secrets never reach a command line: validate says where", "[template][secrets]") {
  const std::string m = "name: app\n";
  CHECK(one_error(m + "image: repo/app:${TAG}\n") ==
        "2:8: image: a ${VAR} value in 'image' would appear on command lines and in progress "
        "output");
  CHECK(one_error(m + "image: x\ncommand: [serve, --token, \"${HF_TOKEN}\"]\n") ==
        "3:27: command[2]: a ${VAR} value in 'command' would appear on a command line");
  CHECK(one_error(m + "image: x\ncommand: serve --token ${HF_TOKEN}\n") ==
        "3:10: command: a ${VAR} value in 'command' would appear on a command line");
  CHECK(one_error(m + "image: x\nentrypoint: [\"${TAG}\"]\n") ==
        "3:14: entrypoint[0]: a ${VAR} value in 'entrypoint' would appear on a command line");
  // Through env, as the hint says, it is fine; $$ is no variable.
  auto ok = parse_ok(m + "image: x\nenv: {T: \"${HF_TOKEN}\"}\ncommand: serve --token \"$$T\"\n");
  CHECK(ok.command->argv[0].value == "serve --token \"$T\"");
  CHECK_FALSE(ok.command->argv[0].secret);
}

TEST_CASE("credentials and paths that would break a request line are refused",
          "[template][secrets]") {
  const std::string m = "name: app\nimage: x\nports: [8000]\n";
  for (const char* path : {"\"/he alth\"", "\"/a\\r\\nX-Injected: 1\"", "/a#b", "/a%zz",
                           "\"/caf\u00e9\""}) {
    auto all = parse_bad(m + "health:\n  http: {port: 8000, path: " + path + "}\n");
    REQUIRE(all.size() == 1);
    CHECK(all[0].line == 5);
    CHECK(all[0].column == 28);
    CHECK_THAT(all[0].message,
               Catch::StartsWith("health.http.path: HTTP path '") &&
                   Catch::Contains("a character a URL path cannot carry") &&
                   !Catch::Contains("\r") && !Catch::Contains("\n"));
  }
  auto fine = parse_ok(m + "health:\n  http: {port: 8000, path: \"/v1/health?x=1&y=%20\"}\n");
  CHECK(fine.health.path == "/v1/health?x=1&y=%20");

  auto env = Environment::from_map({{"PASS", "p\r\nX-Injected: 1"}, {"USER", "u"}});
  auto auth = parse_template(
      "name: app\nimage: x\nregistry_auth:\n  username: ${USER}\n  password: ${PASS}\n", "t.yaml",
      env);
  REQUIRE_FALSE(auth);
  REQUIRE(auth.error().size() == 1);
  CHECK(format_diagnostic(auth.error()[0]).rfind(
            "t.yaml:5:13: error: registry_auth.password: the value holds a control character", 0) ==
        0);
  CHECK_THAT(format_diagnostic(auth.error()[0]), !Catch::Contains("Injected"));
  CHECK(one_error("name: app\nimage: x\nenv:\n  A: \"a\\0b\"\n") ==
        "4:3: env.A: the value holds a NUL byte, which no environment variable can carry");
}

TEST_CASE("placement.offers is a list of ids; the hash changes only when it is written",
          "[template]") {
  const std::string base = "name: pin\nimage: busybox:1.36\n";
  auto plain = parse_template(base, "t.yaml", Environment::from_map({}));
  auto pinned = parse_template(base + "placement:\n  offers: [\"runpod/*\", \"4242\"]\n", "t.yaml",
                               Environment::from_map({}));
  REQUIRE(plain);
  REQUIRE(pinned);
  CHECK(pinned->placement.offers == std::vector<std::string>{"runpod/*", "4242"});
  CHECK(plain->hash != pinned->hash);
  auto bad = parse_template(base + "placement:\n  offers: 4242\n", "t.yaml",
                            Environment::from_map({}));
  REQUIRE_FALSE(bad);
  CHECK(format_diagnostic(bad.error().front()).find("t.yaml:4:") != std::string::npos);
}

TEST_CASE("a named volume with size: is a provider volume", "[template][volumes]") {
  auto t = parse_ok(
      "name: chat\nimage: busybox\nvolumes:\n  - {name: models, path: /models, size: 100GB}\n"
      "  - {name: cache, path: /cache}\n");
  REQUIRE(t.volumes.size() == 2);
  CHECK(t.volumes[0].size_bytes == std::optional<std::uint64_t>(100'000'000'000ull));
  CHECK(t.volumes[0].provider_volume());
  CHECK_FALSE(t.volumes[1].provider_volume());
  CHECK(resolve_workload(t).features() & feature_bit(WorkloadFeature::kProviderVolume));
}

TEST_CASE("gpu: \"MODEL:COUNT\" is the shorthand for models and an exact count",
          "[template][gpu]") {
  auto t = parse_ok("name: a\nimage: busybox\nresources:\n  gpu: \"H100:8\"\n");
  CHECK(t.resources.gpu.count.min == 8);
  CHECK(t.resources.gpu.count.max == 8);
  CHECK(t.resources.gpu.models == std::vector<std::string>{"H100"});
  auto one = parse_ok("name: a\nimage: busybox\nresources:\n  gpu: L40S\n");
  CHECK(one.resources.gpu.count.min == 1);
  CHECK(one.resources.gpu.models == std::vector<std::string>{"L40S"});
  auto amd = parse_ok("name: a\nimage: busybox\nresources:\n  gpu: \"MI300X:8\"\n");
  CHECK(amd.resources.gpu.vendor == GpuVendor::kAmd);
  const std::string m = "name: a\nimage: busybox\nresources:\n  gpu: ";
  CHECK(one_error(m + "\"H100:0\"\n").find("is not MODEL:COUNT") != std::string::npos);
  CHECK(one_error(m + "\"H100:x\"\n").find("is not MODEL:COUNT") != std::string::npos);
  CHECK(one_error(m + "\"H100:65\"\n").find("is not MODEL:COUNT") != std::string::npos);
  CHECK(one_error(m + "\"4090:2\"\n").find("unknown GPU model '4090'") != std::string::npos);
}

TEST_CASE("shm_size and ipc: host", "[template][workload]") {
  auto t = parse_ok("name: a\nimage: busybox\nshm_size: 16GB\nipc: host\n");
  CHECK(t.shm_size == std::optional<std::uint64_t>(16'000'000'000ull));
  CHECK(t.ipc_host);
  auto f = resolve_workload(t).features();
  CHECK(f & feature_bit(WorkloadFeature::kShmSize));
  CHECK(f & feature_bit(WorkloadFeature::kIpcHost));
  auto plain = parse_ok("name: a\nimage: busybox\nipc: private\n");
  CHECK_FALSE(plain.ipc_host);
  CHECK_FALSE(resolve_workload(plain).features() & feature_bit(WorkloadFeature::kShmSize));
  // The hash moves with them, and templates without them keep theirs.
  CHECK(t.hash != parse_ok("name: a\nimage: busybox\n").hash);
  CHECK(plain.hash == parse_ok("name: a\nimage: busybox\n").hash);
  const std::string m = "name: a\nimage: busybox\n";
  CHECK(one_error(m + "shm_size: 0GB\n").find("more than 0") != std::string::npos);
  CHECK(one_error(m + "shm_size: lots\n").find("shm_size") != std::string::npos);
  CHECK(one_error(m + "ipc: shareable\n").find("ipc") != std::string::npos);
}

TEST_CASE("placement.volumes: prefer or require; require needs a provider volume",
          "[template][volumes]") {
  const std::string v = "name: chat\nimage: busybox\nvolumes:\n"
                        "  - {name: models, path: /models, size: 100GB}\n";
  auto plain = parse_ok(v);
  CHECK_FALSE(plain.placement.volumes_required);
  auto prefer = parse_ok(v + "placement: {volumes: prefer}\n");
  CHECK_FALSE(prefer.placement.volumes_required);
  CHECK(prefer.hash == plain.hash);
  auto require = parse_ok(v + "placement: {volumes: require}\n");
  CHECK(require.placement.volumes_required);
  CHECK(require.hash != plain.hash);
  CHECK(one_error(v + "placement: {volumes: always}\n").find("prefer") != std::string::npos);
  CHECK(one_error(kMinimal + "placement: {volumes: require}\n")
            .find("placement.volumes: require needs a provider volume") != std::string::npos);
}

TEST_CASE("placement.ssh_timeout is a positive duration outside the hash", "[template]") {
  auto plain = parse_ok(kMinimal);
  CHECK_FALSE(plain.placement.ssh_timeout);
  auto t = parse_ok(kMinimal + "placement: {ssh_timeout: 5m}\n");
  CHECK(t.placement.ssh_timeout == Duration{300'000});
  CHECK(t.hash == plain.hash);
  CHECK(one_error(kMinimal + "placement: {ssh_timeout: 0s}\n").find("greater than zero") !=
        std::string::npos);
  CHECK(one_error(kMinimal + "placement: {ssh_timeout: soon}\n").find("ssh_timeout") !=
        std::string::npos);
}

TEST_CASE("a provider volume's name fits every provider's rules", "[template][volumes]") {
  CHECK(one_error("name: chat\nimage: busybox\nvolumes:\n"
                  "  - {name: my_models.v2, path: /models, size: 100GB}\n")
            .find("holds only letters, digits and '-': 'my_models.v2'") != std::string::npos);
  auto long_name = "name: chat\nimage: busybox\nvolumes:\n  - {name: " + std::string(50, 'm') +
                   ", path: /models, size: 100GB}\n";
  CHECK(one_error(long_name).find("at most 60 fit every provider") != std::string::npos);
  // Without size: the host's own volume, where '_' and '.' are fine.
  parse_ok("name: chat\nimage: busybox\nvolumes:\n  - {name: my_models.v2, path: /models}\n");
}
