#include "berth/config/config.h"

#include <sys/stat.h>

#include <tuple>

#include <catch2/catch.hpp>

#include "providers/ssh/ssh_provider.h"
#include "support/temp_dir.h"

using namespace berth;
using berth::testing::TempDir;

namespace {

// The registry as the tests see it: one HTTP cloud, plus local and ssh.
const std::vector<ProviderType>& fake_types() {
  static const std::vector<ProviderType> types = {
      {"fakecloud", {"project", "region_hint", "project_token"}, "FAKE_API_KEY", nullptr},
      {"local", {}, "", nullptr},
      {"ssh", {"hosts"}, "", nullptr, read_ssh_settings},  // the ssh adapter reads its hosts
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
  b: {type: fakecloud, api_key: ${X}, project: ${UNSET_VAR}}
  c: {type: fakeclod}
  d: {type: fakecloud, api_key: ${X}, project_file: /nonexistent/berth/key}
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
  CHECK(all.find("config.yaml:4:48: error: environment variable UNSET_VAR is not set") !=
        std::string::npos);
  CHECK(all.find("config.yaml:5:13: error: unknown provider type 'fakeclod'") != std::string::npos);
  CHECK(all.find("did you mean 'fakecloud'?") != std::string::npos);
  CHECK(all.find("config.yaml:6:53: error: cannot read project_file '/nonexistent/berth/key'") !=
        std::string::npos);
  CHECK(all.find("config.yaml:7:3: error: provider 'e' has no type") != std::string::npos);
  CHECK(all.find("unterminated '${'") != std::string::npos);
  CHECK(all.find("port must be a whole number from 1 to 65535") != std::string::npos);
  CHECK(all.find("host has no address") != std::string::npos);
  CHECK(all.find("error: unknown runtime 'dokcer'") != std::string::npos);
  CHECK(all.find("did you mean 'docker'?") != std::string::npos);
  CHECK(all.find("unknown key 'extra' under ssh") != std::string::npos);
  CHECK(all.find("error: unknown GPU model 'RTX4900'") != std::string::npos);
  // Settings an adapter would refuse are errors of the file too, with their place.
  CHECK(all.find("config.yaml:8:3: error: provider 'f' (fakecloud) needs api_key") !=
        std::string::npos);
  CHECK(c.error().size() == 13);
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
  auto bad = parse("providers:\n  a: {type: fakecloud, api_key: ${K}, project: ${NOPE}, bogus: 1}\n",
                   {{"K", "key1"}});
  REQUIRE_FALSE(bad);
  auto all = all_errors(bad.error());
  INFO(all);
  CHECK(all.find("config.yaml:2:48: error: environment variable NOPE is not set") !=
        std::string::npos);
  CHECK(all.find("config.yaml:2:57: error: unknown key 'bogus'") != std::string::npos);
}

TEST_CASE("config: hostile YAML is refused at its position, never walked or expanded",
          "[config][hostile]") {
  auto cycle = parse("providers:\n  a: {type: fakecloud, api_key: ${K}, project: &a [*a]}\n",
                     {{"K", "k"}});
  REQUIRE_FALSE(cycle);
  CHECK_THAT(all_errors(cycle.error()),
             Catch::StartsWith("/cfg/config.yaml:2:52: error: an alias (*) inside the node its "
                               "anchor (&) names"));
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'h'; ++c) {
    std::string ref = std::string("*") + static_cast<char>(c - 1);
    bomb += std::string(1, c) + ": &" + c + " [" + ref;
    for (int i = 0; i < 9; ++i) bomb += ", " + ref;
    bomb += "]\n";
  }
  auto b = parse(bomb + "providers: {x: {type: local}}\n");
  REQUIRE_FALSE(b);
  REQUIRE(b.error().size() == 1);
  CHECK_THAT(b.error()[0].message, Catch::Contains("alias bomb"));
  auto deep = parse("providers: " + std::string(100, '[') + "\n");
  REQUIRE_FALSE(deep);
  CHECK_THAT(deep.error()[0].message, Catch::Contains("nesting deeper than 64 levels"));
  auto nul = parse(std::string("providers:\n  a: {type: local}\0\n", 32));
  REQUIRE_FALSE(nul);
  CHECK(format_diagnostic(nul.error()[0]).rfind("/cfg/config.yaml:2:19: error: file contains a NUL",
                                                0) == 0);
  auto latin1 = parse("providers:\n  caf\xe9: {type: local}\n");
  REQUIRE_FALSE(latin1);
  CHECK_THAT(format_diagnostic(latin1.error()[0]),
             Catch::StartsWith("/cfg/config.yaml:2:6: error: invalid UTF-8 (byte 0xE9)"));
  auto big = parse("providers: {}\n#" + std::string(1 << 20, 'x') + "\n");
  REQUIRE_FALSE(big);
  CHECK_THAT(big.error()[0].message, Catch::Contains("larger than 1 MiB"));
}

TEST_CASE("config: a typo'd quote cannot carry the next line's credential into a message",
          "[config][hostile]") {
  auto c = parse("providers:\n  rp:\n    type: \"fakecloud\n    api_key: ${K}\n",
                 {{"K", "the-secret-key"}});
  REQUIRE_FALSE(c);
  const auto all = all_errors(c.error());
  INFO(all);
  REQUIRE(c.error().size() == 1);
  CHECK_THAT(all, Catch::StartsWith("/cfg/config.yaml:3:11: error: this double-quoted value is "
                                    "never closed"));
  CHECK_THAT(all, !Catch::Contains("the-secret-key"));
  // Closed by a later quote: the keys in between are not swallowed either.
  auto later = parse(
      "providers:\n  rp:\n    type: \"fakecloud\n    api_key: ${K}\n  x: {type: \"local\"}\n",
      {{"K", "the-secret-key"}});
  REQUIRE_FALSE(later);
  CHECK_THAT(all_errors(later.error()),
             Catch::StartsWith("/cfg/config.yaml:3:11: error: this double-quoted value is not "
                               "closed on its line and runs on to line 4") &&
                 !Catch::Contains("the-secret-key"));
}

TEST_CASE("config: messages quote the file as written, never an expanded value",
          "[config][hostile]") {
  auto c = parse(
      "runtime: ${RT}\nproviders:\n  a: {type: ${T}, api_key: ${K}}\n"
      "  lab: {type: ssh, hosts: [{address: h, port: ${P}}]}\n",
      {{"RT", "secret-rt"}, {"T", "secret-type"}, {"K", "k"}, {"P", "secret-port"}});
  REQUIRE_FALSE(c);
  const auto all = all_errors(c.error());
  INFO(all);
  CHECK_THAT(all, Catch::Contains("1:10: error: unknown runtime '${RT}'"));
  CHECK_THAT(all, Catch::Contains("3:13: error: unknown provider type '${T}'"));
  CHECK_THAT(all, Catch::Contains("4:47: error: hosts[0].port must be a whole number from 1 to "
                                  "65535, not '${P}'"));
  CHECK_THAT(all, !Catch::Contains("secret-"));
}

TEST_CASE("config: a message quoting the file cannot break its line or show a path's variable",
          "[config][hostile]") {
  auto c = parse(
      "runtime: \"dock\\r\\nX-Injected: er\"\nproviders:\n"
      "  a: {type: fakecloud, api_key: ${K}, project_file: \"/nonexistent/${T}/key\"}\n",
      {{"T", "secret-part"}, {"K", "k"}});
  REQUIRE_FALSE(c);
  const auto all = all_errors(c.error());
  INFO(all);
  CHECK_THAT(all, Catch::Contains("1:10: error: unknown runtime 'dock??X-Injected: er'"));
  CHECK_THAT(all, Catch::Contains("3:53: error: cannot read project_file '/nonexistent/${T}/key': "
                                  "it does not exist"));
  CHECK_THAT(all, !Catch::Contains("secret-part"));
}

TEST_CASE("config: credentials are one line; their files are small regular files",
          "[config][hostile]") {
  TempDir dir;
  dir.write("crlf.key", "abc\r\nX-Injected: 1\n");
  dir.write("nul.key", std::string("abc\0def\n", 8));
  dir.write("big.key", std::string(100'000, 'k'));
  dir.write("ok.key", "good-key\n");
  REQUIRE(::mkfifo((dir.path() / "fifo.key").c_str(), 0600) == 0);
  const std::string config = (dir.path() / "config.yaml").string();
  auto key_file = [&](const std::string& file) {
    return parse("providers:\n  a: {type: fakecloud, api_key_file: " + file + "}\n", {}, config);
  };
  for (const char* file : {"crlf.key", "nul.key"}) {
    auto c = key_file(file);
    REQUIRE_FALSE(c);
    INFO(all_errors(c.error()));
    CHECK_THAT(all_errors(c.error()),
               Catch::StartsWith(config + ":2:38: error: api_key_file '") &&
                   Catch::Contains("holds a control character") && !Catch::Contains("Injected"));
  }
  auto big = key_file("big.key");
  REQUIRE_FALSE(big);
  CHECK_THAT(all_errors(big.error()), Catch::Contains("more than the 64 KiB allowed"));
  auto fifo = key_file("fifo.key");  // must not block
  REQUIRE_FALSE(fifo);
  CHECK_THAT(all_errors(fifo.error()), Catch::Contains("is a named pipe, not a regular file"));
  auto zero = key_file("/dev/zero");
  REQUIRE_FALSE(zero);
  CHECK_THAT(all_errors(zero.error()), Catch::Contains("is a character device, not a regular file"));
  auto dir_key = key_file(dir.path().string());
  REQUIRE_FALSE(dir_key);
  CHECK_THAT(all_errors(dir_key.error()), Catch::Contains("is a directory, not a regular file"));
  REQUIRE(::mkfifo((dir.path() / "id.pub").c_str(), 0600) == 0);
  dir.write("id", "key\n");
  auto pub = parse("ssh: {key: id}\n", {}, config);
  REQUIRE_FALSE(pub);
  CHECK_THAT(all_errors(pub.error()),
             Catch::StartsWith(config + ":1:12: error: the public half of ssh.key (its .pub) is "
                                        "not a regular file"));
  auto ok = key_file("ok.key");
  REQUIRE(ok);
  CHECK(ok->providers[0].api_key == "good-key");

  auto lf = parse("providers:\n  a: {type: fakecloud, api_key: ${K}}\n",
                  {{"K", "abc\nX-Injected: 1"}});
  REQUIRE_FALSE(lf);
  CHECK_THAT(all_errors(lf.error()),
             Catch::StartsWith("/cfg/config.yaml:2:33: error: api_key: the variable's value holds "
                               "a control character") &&
                 !Catch::Contains("Injected"));
  auto token = parse("providers:\n  a: {type: fakecloud, api_key: ${K}, project_token: ${T}}\n",
                     {{"K", "k"}, {"T", "a\rb"}});
  REQUIRE_FALSE(token);
  CHECK_THAT(all_errors(token.error()), Catch::Contains("2:54: error: project_token: the variable's"));
}

TEST_CASE("config: one ${VAR} rule with templates: an empty variable is empty", "[config]") {
  auto c = parse("providers:\n  a: {type: fakecloud, api_key: ${K}, project: \"x${EMPTY}y\"}\n",
                 {{"K", "k"}, {"EMPTY", ""}});
  INFO((c ? "" : all_errors(c.error())));
  REQUIRE(c);
  CHECK(c->providers[0].settings["project"] == "xy");
  // An empty credential is a missing one, as an unset variable is: the
  // provider is disabled (docs/config.md), not the whole config invalid.
  auto empty_key = parse("providers:\n  a: {type: fakecloud, api_key: ${EMPTY}}\n", {{"EMPTY", ""}});
  INFO((empty_key ? "" : all_errors(empty_key.error())));
  REQUIRE(empty_key);
  CHECK(empty_key->providers.empty());
  REQUIRE(empty_key->disabled.size() == 1);
  CHECK(empty_key->disabled[0].reason == "EMPTY is empty");
}

TEST_CASE("config: a provider whose credential is missing is disabled; the others work",
          "[config][hostile]") {
  TempDir dir;
  dir.write("empty.key", "\n\n");
  const std::string config = (dir.path() / "config.yaml").string();
  auto one = [&](const std::string& key_entry, std::map<std::string, std::string> vars) {
    auto c = parse("providers:\n"
                   "  here: {type: local}\n"
                   "  good: {type: fakecloud, api_key: ${GOOD}}\n"
                   "  off: {type: fakecloud, " +
                       key_entry + ", base_url: http://127.0.0.1:9/x/}\n",
                   std::move(vars), config);
    INFO(key_entry << (c ? "" : "\n" + all_errors(c.error())));
    REQUIRE(c);
    REQUIRE(c->providers.size() == 2);  // config order, the disabled one left out
    CHECK(c->providers[0].name == "here");
    CHECK(c->providers[1].name == "good");
    CHECK(c->providers[1].api_key == "g-key");
    REQUIRE(c->disabled.size() == 1);
    CHECK(c->disabled[0].name == "off");
    CHECK(c->disabled[0].type == "fakecloud");
    CHECK(c->disabled[0].base_url == "http://127.0.0.1:9/x");
    CHECK_THAT(c->disabled[0].where, Catch::StartsWith(config + ":4:"));
    return c->disabled[0];
  };
  const std::map<std::string, std::string> good = {{"GOOD", "g-key"}};
  auto with = [&](std::map<std::string, std::string> more) {
    auto vars = good;
    vars.insert(more.begin(), more.end());
    return vars;
  };
  auto unset = one("api_key: ${OFF_KEY}", good);
  CHECK(unset.reason == "OFF_KEY is not set");
  CHECK(unset.variable == "OFF_KEY");
  CHECK(describe(unset) == "provider 'off' is disabled: OFF_KEY is not set");
  auto empty = one("api_key: ${OFF_KEY}", with({{"OFF_KEY", ""}}));
  CHECK(empty.reason == "OFF_KEY is empty");
  CHECK(empty.variable == "OFF_KEY");
  auto blank = one("api_key: \"${OFF_KEY}\"", with({{"OFF_KEY", " \t "}}));
  CHECK(blank.reason == "OFF_KEY holds only whitespace");
  // ${VAR:-} with VAR unset: the default, empty, is an empty credential.
  auto default_empty = one("api_key: \"${OFF_KEY:-}\"", good);
  CHECK(default_empty.reason == "OFF_KEY is empty");
  auto second = one("api_key: \"${OFF_A:-}${OFF_B}\"", good);
  CHECK(second.reason == "OFF_B is not set");
  CHECK(second.variable == "OFF_B");
  auto no_file = one("api_key_file: missing.key", good);
  CHECK(no_file.reason == "api_key_file '" + (dir.path() / "missing.key").string() +
                              "' does not exist");
  CHECK(no_file.variable.empty());
  // A path with a variable in it is shown as written, never expanded.
  auto secret_path = one("api_key_file: \"${KEY_DIR}/k.key\"", with({{"KEY_DIR", "/nope-dir"}}));
  CHECK(secret_path.reason == "api_key_file '${KEY_DIR}/k.key' does not exist");
  auto empty_file = one("api_key_file: empty.key", good);
  CHECK_THAT(empty_file.reason, Catch::EndsWith("empty.key' is empty"));

  // A value around the variable is no credential either way: set, it is used.
  auto set = parse("providers:\n  a: {type: fakecloud, api_key: \"${K} \"}\n", {{"K", "k1"}});
  REQUIRE(set);
  CHECK(set->providers[0].api_key == "k1 ");
  // Still errors: a literal key, a credential with a line break, a bad key
  // file, nested braces that leave a '}' behind in a literal part, and the
  // other mistakes of a disabled provider's entry.
  for (const auto& [entry, vars, fragment] :
       std::vector<std::tuple<std::string, std::map<std::string, std::string>, std::string>>{
           {"api_key: plain", {}, "api_key is written literally"},
           {"api_key: ${K}", {{"K", "a\nb"}}, "holds a control character"},
           {"api_key_file: /dev/zero", {}, "is a character device"},
           {"api_key: \"${K:-${J}}\"", {}, "a default cannot hold another ${...}"},
           {"api_key: ${K}, projekt: x", {}, "unknown key 'projekt'"},
       }) {
    auto c = parse("providers:\n  a: {type: fakecloud, " + entry + "}\n", vars, config);
    INFO(entry);
    REQUIRE_FALSE(c);
    CHECK_THAT(all_errors(c.error()), Catch::Contains(fragment));
  }
  // Missing altogether is a mistake in the file, not a missing secret.
  auto none = parse("providers:\n  a: {type: fakecloud}\n");
  REQUIRE_FALSE(none);
  CHECK_THAT(all_errors(none.error()), Catch::Contains("needs api_key"));
}

TEST_CASE("config: offers_timeout for any provider, checked where it is written", "[config]") {
  auto c = parse("providers:\n  a: {type: fakecloud, api_key: ${K}, offers_timeout: 2s}\n"
                 "  b: {type: local, offers_timeout: \"${T:-500ms}\"}\n  c: {type: local}\n",
                 {{"K", "k"}});
  INFO((c ? "" : all_errors(c.error())));
  REQUIRE(c);
  CHECK(c->providers[0].offers_timeout == Duration{2000});
  CHECK(c->providers[1].offers_timeout == Duration{500});
  CHECK_FALSE(c->providers[2].offers_timeout);
  for (const char* bad : {"0s", "-1s", "2h", "soon", "\"\""}) {
    auto b = parse(std::string("providers:\n  a: {type: local, offers_timeout: ") + bad + "}\n");
    INFO(bad);
    REQUIRE_FALSE(b);
    CHECK_THAT(all_errors(b.error()),
               Catch::Contains("2:36: error: offers_timeout must be a duration from 1ms to 1h"));
  }
}

TEST_CASE("config: every provider's settings are checked by its adapter when loaded",
          "[config][providers]") {
  TempDir dir;
  dir.write("limit.txt", "lots\n");
  auto c = parse_config(
      "providers:\n"
      "  rp: {type: runpod, api_key: ${K}, cloud: moon}\n"
      "  rp2: {type: runpod, api_key: ${K}, cloud: SECURE}\n"
      "  v: {type: vastai, api_key: ${K}, limit: 0, verified_only: maybe}\n"
      "  v2: {type: vastai, api_key: ${K}, limit_file: limit.txt}\n"
      "  lam: {type: lambda}\n"
      "  lab: {type: ssh, hosts: [{address: -oProxyCommand=x}, {address: ok, user: \"a b\"}]}\n"
      "  lab2: {type: ssh}\n",
      (dir.path() / "config.yaml").string(), Environment::from_map({{"K", "key"}}));
  REQUIRE_FALSE(c);
  const auto all = all_errors(c.error());
  INFO(all);
  const std::string f = (dir.path() / "config.yaml").string();
  CHECK_THAT(all, Catch::Contains(f + ":2:44: error: cloud must be secure, community or all, not "
                                      "'moon'"));
  CHECK_THAT(all, Catch::Contains(f + ":4:43: error: limit must be a whole number from 1 to "
                                      "100000, not '0'"));
  CHECK_THAT(all, Catch::Contains(f + ":4:61: error: verified_only must be true or false, not "
                                      "'maybe'"));
  CHECK_THAT(all, Catch::Contains(f + ":5:49: error: limit must be a whole number from 1 to "
                                      "100000, not the content of limit_file"));
  CHECK_THAT(all, Catch::Contains(f + ":6:3: error: provider 'lam' (lambda) needs api_key"));
  CHECK_THAT(all, Catch::Contains(f + ":7:38: error: address must be one word (no spaces or "
                                      "control characters) not starting with '-'"));
  CHECK_THAT(all, Catch::Contains(f + ":7:77: error: user must be one word"));
  CHECK_THAT(all, Catch::Contains(f + ":8:3: error: provider 'lab2' (type ssh) declares no hosts"));
  CHECK(c.error().size() == 8);  // each once

  auto good = parse_config(
      "providers:\n  rp: {type: runpod, api_key: ${K}, cloud: SECURE}\n"
      "  v: {type: vastai, api_key: ${K}, limit: \"50\", verified_only: False}\n",
      "c.yaml", Environment::from_map({{"K", "key"}}));
  INFO((good ? "" : all_errors(good.error())));
  REQUIRE(good);
  CHECK(good->providers[0].settings["cloud"] == "secure");
  CHECK(good->providers[1].settings["limit"] == 50);
  CHECK(good->providers[1].settings["verified_only"] == false);
}

TEST_CASE("config: the state directory is private, a configured ssh.key or not", "[config]") {
  TempDir dir;
  const auto state = dir.path() / "xdg" / "state" / "berth";
  REQUIRE(make_state_dir(state));
  struct stat st {};
  REQUIRE(::stat(state.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat(state.parent_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);  // a parent it created too
  // One an earlier berth left open is tightened.
  REQUIRE(::chmod(state.c_str(), 0755) == 0);
  REQUIRE(make_state_dir(state));
  REQUIRE(::stat(state.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  // A parent that exists is left as it is.
  REQUIRE(::stat(dir.path().c_str(), &st) == 0);
  const auto before = st.st_mode & 0777;
  REQUIRE(make_state_dir(dir.path() / "other"));
  REQUIRE(::stat(dir.path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == before);
  auto file = dir.write("file", "x");
  CHECK_FALSE(make_state_dir(file / "berth"));
}
