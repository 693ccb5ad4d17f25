#include "berth/config.h"

#include <catch2/catch.hpp>

#include "support/temp_dir.h"

using namespace berth;
using berth::testing::TempDir;

namespace {

// The registry as the tests see it: one HTTP cloud, plus local and ssh.
const std::vector<ProviderType>& fake_types() {
  static const std::vector<ProviderType> types = {
      {"fakecloud", {"project", "region_hint"}, "FAKE_API_KEY", nullptr},
      {"local", {}, "", nullptr},
      {"ssh", {"hosts"}, "", nullptr},
  };
  return types;
}

Expected<Config, Diagnostics> parse(const std::string& text,
                                    std::map<std::string, std::string> vars = {},
                                    const std::string& name = "/cfg/config.yaml") {
  return parse_config(text, name, Environment::from_map(std::move(vars)), fake_types());
}

std::string all_errors(const Diagnostics& ds) {
  std::string out;
  for (const auto& d : ds) out += format_diagnostic(d);
  return out;
}

}  // namespace

TEST_CASE("config: providers with expanded keys, base_url, ssh hosts, ssh key and runtime",
          "[config]") {
  TempDir dir;
  dir.write("keys/cloud", "file-secret-1\n");
  auto text = R"(providers:
  cloud:
    type: fakecloud
    api_key: ${FAKE_API_KEY}
    base_url: http://127.0.0.1:8080/api/v1/
    project: "${PROJECT:-demo}"
    region_hint: 3
  other: {type: fakecloud, api_key_file: keys/cloud}
  lab:
    type: ssh
    hosts:
      - {address: 10.0.0.5, user: ubuntu, port: 2222, gpus: {model: rtx 4090, count: 2}, price_per_hour: 0.5}
      - address: lab2.example
  here: {type: local}
ssh:
  key: ~/.ssh/id_ed25519
runtime: podman
)";
  auto c = parse(text, {{"FAKE_API_KEY", "env-secret-0"}, {"HOME", "/home/u"}},
                 (dir.path() / "config.yaml").string());
  INFO((c ? "" : all_errors(c.error())));
  REQUIRE(c);
  REQUIRE(c->providers.size() == 4);
  const auto& cloud = c->providers[0];
  CHECK(cloud.name == "cloud");
  CHECK(cloud.type == "fakecloud");
  CHECK(cloud.api_key == "env-secret-0");
  CHECK(cloud.base_url == "http://127.0.0.1:8080/api/v1");
  CHECK(cloud.settings["project"] == "demo");
  CHECK(cloud.settings["region_hint"] == 3);
  CHECK(c->providers[1].api_key == "file-secret-1");
  const auto& lab = c->providers[2];
  REQUIRE(lab.hosts.size() == 2);
  CHECK(lab.hosts[0].address == "10.0.0.5");
  CHECK(lab.hosts[0].user == "ubuntu");
  CHECK(lab.hosts[0].port == 2222);
  CHECK(lab.hosts[0].gpu_model == "RTX4090");
  CHECK(lab.hosts[0].gpu_count == 2);
  CHECK(lab.hosts[0].price_per_hour == 0.5);
  CHECK(lab.hosts[1].user == "root");
  CHECK(lab.hosts[1].port == 22);
  CHECK_FALSE(lab.hosts[1].gpu_model);
  CHECK(c->providers[3].type == "local");
  CHECK(c->ssh_key == std::filesystem::path("/home/u/.ssh/id_ed25519"));
  CHECK(c->runtime == "podman");
  auto secrets = c->secrets();
  CHECK(std::count(secrets.begin(), secrets.end(), "env-secret-0") == 1);
  CHECK(std::count(secrets.begin(), secrets.end(), "file-secret-1") == 1);
}

TEST_CASE("config: an unknown key names file:line:col, shows the line and suggests", "[config]") {
  auto c = parse("providers:\n  cloud:\n    type: fakecloud\n    api_kye: ${K}\n", {{"K", "v"}});
  REQUIRE_FALSE(c);
  REQUIRE(c.error().size() == 1);
  CHECK(format_diagnostic(c.error()[0]) ==
        "/cfg/config.yaml:4:5: error: unknown key 'api_kye' for provider 'cloud'\n"
        "      api_kye: ${K}\n"
        "      ^\n"
        "  hint: did you mean 'api_key'?\n");
}

TEST_CASE("config: every error of the file is reported", "[config]") {
  auto text = R"(provider: {}
providers:
  a: {type: fakecloud, api_key: literal-key}
  b: {type: fakecloud, api_key: ${UNSET_VAR}}
  c: {type: fakeclod}
  d: {type: fakecloud, api_key_file: /nonexistent/berth/key}
  e: {api_key: ${X}}
  f: {type: fakecloud, project: "${BROKEN"}
  g: {type: ssh, hosts: [{user: x, port: 70000, gpus: {model: RTX4900}}]}
runtime: dokcer
ssh: {key: a, extra: b}
)";
  auto c = parse(text, {{"X", "x"}});
  REQUIRE_FALSE(c);
  auto all = all_errors(c.error());
  INFO(all);
  CHECK(all.find("config.yaml:1:1: error: unknown key 'provider'") != std::string::npos);
  CHECK(all.find("did you mean 'providers'?") != std::string::npos);
  CHECK(all.find("config.yaml:3:33: error: api_key is written literally") != std::string::npos);
  CHECK(all.find("config.yaml:4:33: error: environment variable UNSET_VAR is not set") !=
        std::string::npos);
  CHECK(all.find("config.yaml:5:13: error: unknown provider type 'fakeclod'") != std::string::npos);
  CHECK(all.find("did you mean 'fakecloud'?") != std::string::npos);
  CHECK(all.find("config.yaml:6:38: error: cannot read api_key_file '/nonexistent/berth/key'") !=
        std::string::npos);
  CHECK(all.find("config.yaml:7:3: error: provider 'e' has no type") != std::string::npos);
  CHECK(all.find("unterminated '${'") != std::string::npos);
  CHECK(all.find("port must be a whole number from 1 to 65535") != std::string::npos);
  CHECK(all.find("host has no address") != std::string::npos);
  CHECK(all.find("error: unknown runtime 'dokcer'") != std::string::npos);
  CHECK(all.find("did you mean 'docker'?") != std::string::npos);
  CHECK(all.find("unknown key 'extra' under ssh") != std::string::npos);
  CHECK(all.find("error: unknown GPU model 'RTX4900'") != std::string::npos);
  CHECK(c.error().size() == 12);
}

TEST_CASE("config: expansion with defaults and a literal dollar", "[config]") {
  auto c = parse(
      "providers:\n  c: {type: fakecloud, api_key: \"${K:-fallback-key}\", project: "
      "\"p$$1-${P}\"}\n",
      {{"P", "x"}});
  INFO((c ? "" : all_errors(c.error())));
  REQUIRE(c);
  CHECK(c->providers[0].api_key == "fallback-key");
  CHECK(c->providers[0].settings["project"] == "p$1-x");
}

TEST_CASE("config: other *_file keys and secret-named keys are secrets too", "[config]") {
  TempDir dir;
  dir.write("project.txt", "proj-from-file\r\n");
  auto c = parse("providers:\n  c: {type: fakecloud, api_key: ${K}, project_file: project.txt}\n",
                 {{"K", "kkk"}}, (dir.path() / "config.yaml").string());
  INFO((c ? "" : all_errors(c.error())));
  REQUIRE(c);
  CHECK(c->providers[0].settings["project"] == "proj-from-file");
  auto secrets = c->secrets();
  CHECK(std::find(secrets.begin(), secrets.end(), "proj-from-file") != secrets.end());
}

TEST_CASE("config: invalid YAML is reported at its position", "[config]") {
  auto c = parse("providers:\n  a: {type: fakecloud\n");
  REQUIRE_FALSE(c);
  CHECK(c.error()[0].line > 0);
  CHECK(c.error()[0].message.find("invalid YAML") == 0);
}

TEST_CASE("config: duplicate provider names are an error", "[config]") {
  auto c = parse("providers:\n  a: {type: local}\n  a: {type: local}\n");
  REQUIRE_FALSE(c);
  CHECK(format_diagnostic(c.error()[0]).find("3:3: error: duplicate key 'a'") != std::string::npos);
}

TEST_CASE("config: an empty file configures no providers", "[config]") {
  auto c = parse("");
  REQUIRE(c);
  CHECK(c->providers.empty());
  CHECK(c->runtime == "docker");
}

TEST_CASE("config: resolution order and the embedded default", "[config]") {
  TempDir dir;
  auto explicit_file = dir.write("explicit.yaml", "providers: {x: {type: local}}\n");
  auto env_file = dir.write("env.yaml", "providers: {y: {type: local}}\n");
  dir.write("xdg/berth/config.yaml", "providers: {z: {type: local}}\n");
  dir.write("home/.config/berth/config.yaml", "providers: {h: {type: local}}\n");
  auto home = (dir.path() / "home").string();
  auto xdg = (dir.path() / "xdg").string();
  auto first_name = [&](std::optional<std::filesystem::path> path,
                        std::map<std::string, std::string> vars) {
    auto c = load_config(path, Environment::from_map(std::move(vars)), fake_types());
    REQUIRE(c);
    return c->providers.empty() ? std::string() : c->providers[0].name;
  };
  std::map<std::string, std::string> all = {
      {"BERTH_CONFIG", env_file.string()}, {"XDG_CONFIG_HOME", xdg}, {"HOME", home}};
  CHECK(first_name(explicit_file, all) == "x");
  CHECK(first_name(std::nullopt, all) == "y");
  all.erase("BERTH_CONFIG");
  CHECK(first_name(std::nullopt, all) == "z");
  all.erase("XDG_CONFIG_HOME");
  CHECK(first_name(std::nullopt, all) == "h");

  auto c = load_config(std::nullopt,
                       Environment::from_map({{"HOME", "/nonexistent"}, {"FAKE_API_KEY", "k1"}}),
                       fake_types());
  REQUIRE(c);
  CHECK(c->source == "(embedded default)");
  REQUIRE(c->providers.size() == 2);
  CHECK(c->providers[0].name == "local");
  CHECK(c->providers[1].name == "fakecloud");
  CHECK(c->providers[1].api_key == "k1");

  auto none =
      load_config(std::nullopt, Environment::from_map({{"HOME", "/nonexistent"}}), fake_types());
  REQUIRE(none);
  REQUIRE(none->providers.size() == 1);
  CHECK(none->providers[0].type == "local");
}

TEST_CASE("config: a named file that is missing is an error", "[config]") {
  auto c = load_config(std::filesystem::path("/nonexistent/berth.yaml"), Environment::from_map({}),
                       fake_types());
  REQUIRE_FALSE(c);
  CHECK(format_diagnostic(c.error()[0]) ==
        "/nonexistent/berth.yaml: error: config file does not exist\n  hint: it was named by "
        "--config\n");
}

TEST_CASE("config: state_dir follows XDG_STATE_HOME, then HOME", "[config]") {
  CHECK(state_dir(Environment::from_map({{"XDG_STATE_HOME", "/s"}, {"HOME", "/h"}})) ==
        std::filesystem::path("/s/berth"));
  CHECK(state_dir(Environment::from_map({{"HOME", "/h"}})) ==
        std::filesystem::path("/h/.local/state/berth"));
}

TEST_CASE("config: ${VAR} inside flow mappings works as docs/config.md writes it", "[config]") {
  auto c = parse(
      "providers:\n"
      "  a: {type: fakecloud, api_key: ${K}, project: x-${P}-y}   # comment {\n"
      "  b: {type: fakecloud, api_key: ${K}, project: [${P}, it's]}\n",
      {{"K", "key1"}, {"P", "p"}});
  INFO((c ? "" : all_errors(c.error())));
  REQUIRE(c);
  CHECK(c->providers[0].api_key == "key1");
  CHECK(c->providers[0].settings["project"] == "x-p-y");
  CHECK(c->providers[1].settings["project"] == nlohmann::json({"p", "it's"}));

  // Diagnostics still point at the column the user wrote.
  auto bad = parse("providers:\n  a: {type: fakecloud, api_key: ${NOPE}, bogus: 1}\n");
  REQUIRE_FALSE(bad);
  auto all = all_errors(bad.error());
  INFO(all);
  CHECK(all.find("config.yaml:2:33: error: environment variable NOPE is not set") !=
        std::string::npos);
  CHECK(all.find("config.yaml:2:42: error: unknown key 'bogus'") != std::string::npos);
}
