// `berth schema` must agree with the parser: every example validates against
// it, it rejects malformed templates that a schema can judge, and its keys are
// the parser's keys. The validator below covers exactly the JSON Schema
// keywords the schema uses (and fails on any other keyword it meets).
#include "berth/template/schema.h"

#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "template/template_parser.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kTests = fs::path(BERTH_TEST_DIR);

// YAML 1.2 core-schema resolution of plain scalars, as editors do it.
json to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json o = json::object();
      for (auto it = n.begin(); it != n.end(); ++it) o[it->first.Scalar()] = to_json(it->second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& item : n) a.push_back(to_json(item));
      return a;
    }
    case YAML::NodeType::Scalar:
      break;
    default:
      return nullptr;
  }
  const std::string& s = n.Scalar();
  if (n.Tag() != "?") return s;
  static const std::regex integer("[-+]?[0-9]+");
  static const std::regex number("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (std::regex_match(s, integer)) {
    try {
      return std::stoll(s);
    } catch (...) {
      return std::stod(s);
    }
  }
  if (std::regex_match(s, number)) return std::stod(s);
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == "null" || s == "Null" || s == "NULL" || s == "~") return nullptr;
  return s;
}

json yaml_file(const fs::path& p) { return to_json(YAML::LoadFile(p.string())); }

class Validator {
 public:
  explicit Validator(json root) : root_(std::move(root)) {}

  bool valid(const json& value) { return check(root_, value, "$"); }
  const std::string& why() const { return why_; }

 private:
  bool fail(const std::string& at, const std::string& what) {
    if (why_.empty()) why_ = at + ": " + what;
    return false;
  }

  static bool has_type(const json& v, const std::string& t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    if (t == "number") return v.is_number();
    if (t == "integer")
      return v.is_number_integer() ||
             (v.is_number_float() &&
              v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>())));
    FAIL("unknown type " << t);
    return false;
  }

  bool check(const json& schema, const json& v, const std::string& at) {
    static const std::set<std::string> known = {"$schema",    "$id",      "$defs",
                                                "$ref",       "title",    "description",
                                                "default",    "examples", "type",
                                                "enum",       "pattern",  "minLength",
                                                "minimum",    "maximum",  "exclusiveMinimum",
                                                "properties", "required", "additionalProperties",
                                                "items",      "minItems", "oneOf",
                                                "anyOf"};
    for (const auto& [k, _] : schema.items()) {
      INFO(at << " uses keyword " << k);
      REQUIRE(known.count(k) == 1);
    }
    if (schema.contains("$ref")) {
      const std::string ref = schema["$ref"];
      REQUIRE(ref.rfind("#/$defs/", 0) == 0);
      if (!check(root_["$defs"].at(ref.substr(8)), v, at)) return false;
    }
    if (schema.contains("type")) {
      const json& t = schema["type"];
      bool ok = false;
      if (t.is_string()) ok = has_type(v, t);
      for (const auto& one : t.is_array() ? t : json::array()) ok = ok || has_type(v, one);
      if (!ok) return fail(at, "expected type " + t.dump() + ", got " + v.dump());
    }
    if (schema.contains("enum") &&
        std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end())
      return fail(at, v.dump() + " not in " + schema["enum"].dump());
    if (v.is_string()) {
      const std::string s = v;
      if (schema.contains("pattern") &&
          !std::regex_search(s, std::regex(schema["pattern"].get<std::string>())))
        return fail(at, "'" + s + "' does not match " + schema["pattern"].get<std::string>());
      if (schema.contains("minLength") && s.size() < schema["minLength"].get<std::size_t>())
        return fail(at, "too short");
    }
    if (v.is_number()) {
      const double d = v.get<double>();
      if (schema.contains("minimum") && d < schema["minimum"].get<double>())
        return fail(at, "below minimum");
      if (schema.contains("maximum") && d > schema["maximum"].get<double>())
        return fail(at, "above maximum");
      if (schema.contains("exclusiveMinimum") && d <= schema["exclusiveMinimum"].get<double>())
        return fail(at, "not above exclusiveMinimum");
    }
    if (v.is_object()) {
      for (const auto& r : schema.value("required", json::array()))
        if (!v.contains(r)) return fail(at, "missing " + r.dump());
      const json props = schema.value("properties", json::object());
      for (const auto& [k, item] : v.items()) {
        if (props.contains(k)) {
          if (!check(props[k], item, at + "." + k)) return false;
        } else if (schema.contains("additionalProperties")) {
          const json& extra = schema["additionalProperties"];
          if (extra.is_boolean() && !extra.get<bool>()) return fail(at, "unexpected key " + k);
          if (extra.is_object() && !check(extra, item, at + "." + k)) return false;
        }
      }
    }
    if (v.is_array()) {
      if (schema.contains("minItems") && v.size() < schema["minItems"].get<std::size_t>())
        return fail(at, "too few items");
      if (schema.contains("items"))
        for (std::size_t i = 0; i < v.size(); ++i)
          if (!check(schema["items"], v[i], at + "[" + std::to_string(i) + "]")) return false;
    }
    if (schema.contains("anyOf")) {
      bool any = false;
      for (const auto& s : schema["anyOf"]) any = any || quietly(s, v, at);
      if (!any) return fail(at, "matches none of anyOf");
    }
    if (schema.contains("oneOf")) {
      int n = 0;
      for (const auto& s : schema["oneOf"]) n += quietly(s, v, at);
      if (n != 1) return fail(at, "matches " + std::to_string(n) + " of oneOf, not exactly 1");
    }
    return true;
  }

  bool quietly(const json& schema, const json& v, const std::string& at) {
    std::string saved = why_;
    bool ok = check(schema, v, at);
    why_ = saved;
    return ok;
  }

  json root_;
  std::string why_;
};

std::set<std::string> keys_of(const json& object_schema) {
  std::set<std::string> out;
  for (const auto& [k, _] : object_schema.at("properties").items()) out.insert(k);
  return out;
}

}  // namespace

TEST_CASE("every example template validates against the schema", "[schema]") {
  std::size_t n = 0;
  for (const auto& entry : fs::directory_iterator(kTests / ".." / "templates")) {
    if (entry.path().extension() != ".yaml") continue;
    Validator v(berth::launch_template_schema());
    INFO(entry.path().filename().string());
    bool ok = v.valid(yaml_file(entry.path()));
    INFO(v.why());
    CHECK(ok);
    ++n;
  }
  CHECK(n >= 6);
}

TEST_CASE("the schema accepts every form the parser documents", "[schema]") {
  Validator v(berth::launch_template_schema());
  auto full = to_json(YAML::Load(R"(
name: llama-chat
image: vllm/vllm-openai:v0.6.3
command: ["--model", "Qwen/Qwen2.5-7B-Instruct", 8000]
entrypoint: python3
env: {MODEL: Qwen, HF_TOKEN: "${HF_TOKEN}", PORT: 8000}
registry_auth: {username: "${U}", password: "${P}"}
resources:
  gpu: {count: "1..8", vram: 24GB..80GB, total_vram: 80GB.., compute_capability: 8.0..,
        models: [H100, A100], exclude_models: [V100], vendor: nvidia}
  cuda: 12.1..
  cpus: 8
  memory: 32GiB..
  disk: ..500GB
ports: [8000, {container: 8888, host: 18888, protocol: tcp}]
volumes:
  - {name: hf-cache, path: /root/.cache/huggingface}
  - {source: ./data, path: /data, readonly: true}
health: {http: {port: 8000, path: /health}, interval: 10s, timeout: 5s, failures: 3, grace: 1h30m}
placement: {providers: [lambda], exclude_providers: [], regions: ["us-*"], max_price: 3.50, spot: never}
replicas: 2
spread: provider
restart: {max_restarts: 10, window: 1h, backoff: 10s..10m, on: [instance-lost, preempted]}
)"));
  bool ok = v.valid(full);
  INFO(v.why());
  CHECK(ok);
  Validator gpu(berth::launch_template_schema());
  CHECK(
      gpu.valid(to_json(YAML::Load("name: a\nimage: b\nresources: {gpu: {count: 2, "
                                   "compute_capability: 9.0}, cpus: 4..16}\n"))));
}

TEST_CASE("the schema rejects a sample of the bad corpus", "[schema]") {
  for (const char* name : {"06-name-is-a-list",
                           "07-resources-is-a-string",
                           "08-ports-is-a-mapping",
                           "09-unknown-top-level-key",
                           "10-misspelled-memory",
                           "11-misspelled-gpu-key",
                           "12-size-without-unit",
                           "13-unknown-size-unit",
                           "16-empty-range",
                           "18-negative-count",
                           "19-float-count",
                           "21-port-out-of-range",
                           "23-relative-volume-path",
                           "24-volume-name-and-source",
                           "25-zero-replicas",
                           "28-zero-max-price",
                           "29-negative-max-price",
                           "31-bad-name",
                           "32-missing-image",
                           "37-duration-without-unit",
                           "38-unknown-restart-reason",
                           "39-bad-spot-policy",
                           "42-top-level-list",
                           "47-env-without-value",
                           "48-two-health-checks",
                           "49-registry-auth-without-password",
                           "50-cpus-not-a-number",
                           "51-quoted-port",
                           "54-unknown-vendor"}) {
    INFO(name);
    Validator v(berth::launch_template_schema());
    CHECK_FALSE(v.valid(yaml_file(kTests / "corpus" / "bad" / (std::string(name) + ".yaml"))));
  }
}

TEST_CASE("the schema's keys are the parser's keys", "[schema]") {
  const json s = berth::launch_template_schema();
  const auto& keys = berth::template_keys();
  auto parser = [&](const std::string& section) {
    const auto& k = keys.at(section);
    return std::set<std::string>(k.begin(), k.end());
  };
  const json& p = s["properties"];
  CHECK(keys_of(s) == parser(""));
  CHECK(keys_of(p["registry_auth"]) == parser("registry_auth"));
  CHECK(keys_of(p["resources"]) == parser("resources"));
  // The mapping form; the other is the "MODEL:COUNT" string.
  CHECK(keys_of(p["resources"]["properties"]["gpu"]["anyOf"][0]) == parser("resources.gpu"));
  CHECK(keys_of(p["ports"]["items"]["anyOf"][1]) == parser("ports[]"));
  CHECK(keys_of(p["volumes"]["items"]) == parser("volumes[]"));
  CHECK(keys_of(p["health"]) == parser("health"));
  CHECK(keys_of(p["health"]["properties"]["http"]) == parser("health.http"));
  CHECK(keys_of(p["placement"]) == parser("placement"));
  CHECK(keys_of(p["restart"]) == parser("restart"));
  CHECK(keys.size() == 10);
}
