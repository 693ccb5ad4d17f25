// The config file (SPEC §3). Parsing is a single pass that records every
// problem it finds, each with file:line:col and a hint, so a user fixes the
// whole file in one round.
#include "berth/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "berth/gpu_catalog.h"

namespace berth {

std::vector<std::string> Config::secrets() const {
  std::vector<std::string> out;
  for (const auto& p : providers)
    if (!p.api_key.empty()) out.push_back(p.api_key);
  out.insert(out.end(), other_secrets.begin(), other_secrets.end());
  return out;
}

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kTopLevelKeys = {"providers", "ssh", "runtime"};
const std::vector<std::string> kSshKeys = {"key"};
const std::vector<std::string> kRuntimes = {"docker", "podman"};
const std::vector<std::string> kHttpKeys = {"api_key", "api_key_file", "base_url"};
const std::vector<std::string> kHostKeys = {"address", "user",           "port",
                                            "gpus",    "price_per_hour", "region"};
const std::vector<std::string> kHostGpuKeys = {"model", "count"};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Keys whose values are credentials: they must come from ${VAR} or a file,
// and are redacted wherever berth prints anything.
bool is_secret_key(const std::string& key) {
  for (const char* word : {"api_key", "token", "secret", "password"})
    if (key.find(word) != std::string::npos) return true;
  return false;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::optional<std::string> home_dir(const Environment& env) {
  auto home = env.get("HOME");
  if (!home || home->empty()) return std::nullopt;
  return home;
}

fs::path expand_home(const std::string& path, const Environment& env) {
  if (path == "~" || path.rfind("~/", 0) == 0)
    if (auto home = home_dir(env))
      return fs::path(*home) / path.substr(std::min<std::size_t>(2, path.size()));
  return fs::path(path);
}

// SPEC §3 writes `{type: runpod, api_key: ${RUNPOD_API_KEY}}`, but in a YAML
// flow collection the '{' of "${" opens a mapping, so that line is not YAML.
// Rather than reject the documented style, plain scalars holding "${" inside
// flow collections are single-quoted before parsing; `inserted` remembers
// where, so every diagnostic still points at the column the user wrote.
struct QuotedText {
  std::string text;
  std::vector<std::vector<int>> inserted;  // per line: 0-based columns of added characters
};

QuotedText quote_flow_variables(const std::string& original) {
  QuotedText out;
  int depth = 0;
  char quote = 0;  // the quote a multi-line quoted scalar is still inside of
  std::istringstream in(original);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (!first) out.text += '\n';
    first = false;
    std::vector<int> inserted;
    std::string result;
    std::size_t token_start = 0;
    auto emit_inserted = [&](char c) {
      inserted.push_back(static_cast<int>(result.size()));
      result += c;
    };
    for (std::size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quote) {
        result += c;
        if (quote == '"' && c == '\\' && i + 1 < line.size())
          result += line[++i];
        else if (c == quote)
          quote = 0;
        continue;
      }
      bool at_token_start = i == token_start;
      if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
        result += line.substr(i);
        break;
      }
      if ((c == '"' || c == '\'') && at_token_start) {
        quote = c;
        result += c;
        continue;
      }
      if (c == '$' && i + 1 < line.size() && line[i + 1] == '{' && depth > 0) {
        // The plain scalar runs from token_start to the next flow separator,
        // stepping over ${...} groups.
        std::size_t end = i;
        while (end < line.size()) {
          if (line[end] == '$' && end + 1 < line.size() && line[end + 1] == '{') {
            auto close = line.find('}', end);
            end = close == std::string::npos ? line.size() : close + 1;
            continue;
          }
          if (line[end] == ',' || line[end] == '}' || line[end] == ']') break;
          if (line[end] == '#' && line[end - 1] == ' ') break;
          ++end;
        }
        std::size_t content_end = end;
        while (content_end > i && (line[content_end - 1] == ' ' || line[content_end - 1] == '\t'))
          --content_end;
        std::string before = result.substr(result.size() - (i - token_start));
        result.resize(result.size() - (i - token_start));
        emit_inserted('\'');
        std::string scalar = before + line.substr(i, content_end - i);
        for (char s : scalar) {
          if (s == '\'') emit_inserted('\'');
          result += s;
        }
        emit_inserted('\'');
        result += line.substr(content_end, end - content_end);
        i = end - 1;
        token_start = end;
        continue;
      }
      result += c;
      if (c == '{' || c == '[')
        ++depth;
      else if ((c == '}' || c == ']') && depth > 0)
        --depth;
      if (c == ' ' || c == '\t' || c == ',' || c == '{' || c == '[' || c == ':')
        token_start = i + 1;
    }
    out.text += result;
    out.inserted.push_back(std::move(inserted));
  }
  if (!original.empty() && original.back() == '\n') out.text += '\n';
  return out;
}

class ConfigParser {
 public:
  ConfigParser(const std::string& text, std::string name, const Environment& env,
               const std::vector<ProviderType>& types)
      : name_(std::move(name)), env_(env), types_(types) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines_.push_back(line);
    }
    base_dir_ = fs::path(name_).parent_path();
  }

  Expected<Config, Diagnostics> parse(const std::string& text) {
    YAML::Node root;
    quoted_ = quote_flow_variables(text);
    try {
      root = YAML::Load(quoted_.text);
    } catch (const YAML::ParserException& e) {
      error(e.mark, "invalid YAML: " + e.msg);
      return unexpected(diagnostics_);
    }
    config_.source = name_;
    if (root.IsNull()) return config_;  // an empty file: no providers
    if (!root.IsMap()) {
      error(root.Mark(), "expected a mapping with 'providers:', 'ssh:' and 'runtime:'");
      return unexpected(diagnostics_);
    }
    for (const auto& [key_node, value] : unique_entries(root, kTopLevelKeys)) {
      std::string key = key_node.Scalar();
      if (key == "providers")
        parse_providers(value);
      else if (key == "ssh")
        parse_ssh(value);
      else if (key == "runtime")
        parse_runtime(value);
    }
    if (!diagnostics_.empty()) return unexpected(diagnostics_);
    return config_;
  }

 private:
  void error(const YAML::Mark& mark, std::string message, std::string hint = "") {
    Diagnostic d;
    d.file = name_;
    d.line = mark.line >= 0 ? mark.line + 1 : 0;
    int column = mark.column;
    if (mark.line >= 0 && static_cast<std::size_t>(mark.line) < quoted_.inserted.size())
      for (int at : quoted_.inserted[static_cast<std::size_t>(mark.line)])
        if (at < mark.column) --column;
    d.column = column >= 0 ? column + 1 : 0;
    d.message = std::move(message);
    if (d.line > 0 && static_cast<std::size_t>(d.line) <= lines_.size())
      d.source_line = lines_[static_cast<std::size_t>(d.line - 1)];
    d.hint = std::move(hint);
    diagnostics_.push_back(std::move(d));
  }

  void unknown_key(const YAML::Node& key, const std::vector<std::string>& allowed,
                   const std::string& where) {
    std::string k = key.Scalar();
    std::string suggestion = did_you_mean(k, allowed);
    error(key.Mark(), "unknown key '" + k + "'" + where,
          suggestion.empty() ? "expected one of: " + join(allowed)
                             : "did you mean '" + suggestion + "'?");
  }

  // The entries of a mapping whose keys are allowed, each once; unknown and
  // repeated keys are reported (yaml-cpp silently keeps duplicates).
  std::vector<std::pair<YAML::Node, YAML::Node>> unique_entries(
      const YAML::Node& map, const std::vector<std::string>& allowed,
      const std::string& where = "") {
    std::vector<std::pair<YAML::Node, YAML::Node>> out;
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) {
        error(it->first.Mark(), "keys must be plain names");
        continue;
      }
      std::string k = it->first.Scalar();
      if (!seen.insert(k).second) {
        error(it->first.Mark(), "duplicate key '" + k + "'" + where);
        continue;
      }
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        unknown_key(it->first, allowed, where);
        continue;
      }
      out.emplace_back(it->first, it->second);
    }
    return out;
  }

  // ${VAR} and ${VAR:-default}; "$$" is a literal "$".
  std::optional<std::string> expand(const YAML::Node& node, bool* used_variable = nullptr) {
    const std::string& raw = node.Scalar();
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '$') {
        out += raw[i];
        continue;
      }
      if (i + 1 < raw.size() && raw[i + 1] == '$') {
        out += '$';
        ++i;
        continue;
      }
      if (i + 1 >= raw.size() || raw[i + 1] != '{') {
        out += '$';
        continue;
      }
      auto close = raw.find('}', i + 2);
      if (close == std::string::npos) {
        error(node.Mark(), "unterminated '${' in '" + raw + "'",
              "write ${NAME} or ${NAME:-default}");
        return std::nullopt;
      }
      std::string inner = raw.substr(i + 2, close - i - 2);
      std::optional<std::string> fallback;
      if (auto sep = inner.find(":-"); sep != std::string::npos) {
        fallback = inner.substr(sep + 2);
        inner = inner.substr(0, sep);
      }
      static const std::regex kName("[A-Za-z_][A-Za-z0-9_]*");
      if (!std::regex_match(inner, kName)) {
        error(node.Mark(), "invalid variable name '" + inner + "'",
              "write ${NAME} or ${NAME:-default}");
        return std::nullopt;
      }
      if (used_variable) *used_variable = true;
      auto value = env_.get(inner);
      if (value && !value->empty())
        out += *value;
      else if (fallback)
        out += *fallback;
      else {
        error(node.Mark(), "environment variable " + inner + " is not set",
              "export " + inner + " or write ${" + inner + ":-default}");
        return std::nullopt;
      }
      i = close;
    }
    return out;
  }

  std::optional<std::string> scalar(const YAML::Node& node, const std::string& what,
                                    bool* used_variable = nullptr) {
    if (!node.IsScalar()) {
      error(node.Mark(), what + " must be a single value");
      return std::nullopt;
    }
    return expand(node, used_variable);
  }

  std::optional<std::string> read_secret_file(const YAML::Node& node, const std::string& key) {
    auto path = scalar(node, key);
    if (!path) return std::nullopt;
    fs::path p = expand_home(*path, env_);
    if (p.is_relative() && !base_dir_.empty()) p = base_dir_ / p;
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      error(node.Mark(), "cannot read " + key + " '" + p.string() + "'",
            "the file must exist and be readable by this user");
      return std::nullopt;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string value = buffer.str();
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
      value.pop_back();
    if (value.empty()) {
      error(node.Mark(), key + " '" + p.string() + "' is empty");
      return std::nullopt;
    }
    return value;
  }

  // A credential written as ${VAR} or read from a file, never literally.
  std::optional<std::string> secret_value(const YAML::Node& node, const std::string& key) {
    bool used_variable = false;
    auto value = scalar(node, key, &used_variable);
    if (!value) return std::nullopt;
    if (!used_variable) {
      error(node.Mark(), key + " is written literally in the config",
            "secrets are never stored in the config: use " + key + ": ${VARIABLE} or " + key +
                "_file: PATH");
      return std::nullopt;
    }
    if (value->empty()) {
      error(node.Mark(), key + " is empty");
      return std::nullopt;
    }
    return value;
  }

  void parse_runtime(const YAML::Node& node) {
    auto value = scalar(node, "runtime");
    if (!value) return;
    if (std::find(kRuntimes.begin(), kRuntimes.end(), *value) == kRuntimes.end()) {
      std::string s = did_you_mean(*value, kRuntimes);
      error(node.Mark(), "unknown runtime '" + *value + "'",
            s.empty() ? "expected docker or podman" : "did you mean '" + s + "'?");
      return;
    }
    config_.runtime = *value;
  }

  void parse_ssh(const YAML::Node& node) {
    if (!node.IsMap()) {
      error(node.Mark(), "ssh must be a mapping, e.g. {key: ~/.ssh/id_ed25519}");
      return;
    }
    for (const auto& [key, value] : unique_entries(node, kSshKeys, " under ssh")) {
      if (auto path = scalar(value, "ssh.key")) {
        fs::path p = expand_home(*path, env_);
        if (p.is_relative() && !base_dir_.empty()) p = base_dir_ / p;
        config_.ssh_key = p;
      }
    }
  }

  void parse_providers(const YAML::Node& node) {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      error(node.Mark(), "providers must be a mapping of names to provider settings",
            "e.g. providers: {lambda: {type: lambda, api_key: ${LAMBDA_API_KEY}}}");
      return;
    }
    static const std::regex kProviderName("[A-Za-z0-9][A-Za-z0-9_.-]*");
    for (const auto& [key, value] : unique_entries(node, {}, " under providers")) {
      std::string name = key.Scalar();
      if (!std::regex_match(name, kProviderName)) {
        error(key.Mark(), "invalid provider name '" + name + "'",
              "use letters, digits, '-', '_' and '.'");
        continue;
      }
      parse_provider(name, key, value);
    }
  }

  std::vector<std::string> type_names() const {
    std::vector<std::string> names;
    for (const auto& t : types_) names.push_back(t.type);
    return names;
  }

  const ProviderType* find_type(const std::string& type) const {
    for (const auto& t : types_)
      if (t.type == type) return &t;
    return nullptr;
  }

  void parse_provider(const std::string& name, const YAML::Node& key, const YAML::Node& node) {
    if (!node.IsMap()) {
      error(key.Mark(), "provider '" + name + "' must be a mapping with at least 'type:'");
      return;
    }
    ProviderConfig provider;
    provider.name = name;
    provider.settings = nlohmann::json::object();
    const YAML::Node type_node = node["type"];
    if (!type_node) {
      error(key.Mark(), "provider '" + name + "' has no type",
            "add 'type:', one of: " + join(type_names()));
      return;
    }
    auto type = scalar(type_node, "type");
    if (!type) return;
    const ProviderType* type_info = find_type(*type);
    if (!type_info) {
      std::string s = did_you_mean(*type, type_names());
      error(type_node.Mark(), "unknown provider type '" + *type + "'",
            s.empty() ? "known types: " + join(type_names()) : "did you mean '" + s + "'?");
      return;
    }
    provider.type = *type;

    std::vector<std::string> allowed = {"type"};
    if (!type_info->api_key_env.empty())
      allowed.insert(allowed.end(), kHttpKeys.begin(), kHttpKeys.end());
    for (const auto& k : type_info->keys) {
      if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
      allowed.push_back(k);
      if (!ends_with(k, "_file") && k != "hosts" && k != "base_url") allowed.push_back(k + "_file");
    }
    if (provider.type == "ssh" &&
        std::find(allowed.begin(), allowed.end(), "hosts") == allowed.end())
      allowed.push_back("hosts");

    bool has_key = false;
    for (const auto& [k, value] : unique_entries(node, allowed, " for provider '" + name + "'")) {
      std::string setting = k.Scalar();
      if (setting == "type") continue;
      if (setting == "api_key" || setting == "api_key_file") {
        if (has_key) {
          error(k.Mark(), "give either api_key or api_key_file, not both");
          continue;
        }
        has_key = true;
        auto v = setting == "api_key" ? secret_value(value, "api_key")
                                      : read_secret_file(value, "api_key_file");
        if (v) provider.api_key = *v;
      } else if (setting == "base_url") {
        auto v = scalar(value, "base_url");
        if (!v) continue;
        if (v->rfind("https://", 0) != 0 && v->rfind("http://", 0) != 0) {
          error(value.Mark(), "base_url must start with https:// (or http:// on loopback)");
          continue;
        }
        while (!v->empty() && v->back() == '/') v->pop_back();
        provider.base_url = *v;
      } else if (setting == "hosts" && provider.type == "ssh") {
        parse_hosts(value, provider);
      } else if (ends_with(setting, "_file")) {
        if (auto v = read_secret_file(value, setting)) {
          provider.settings[setting.substr(0, setting.size() - 5)] = *v;
          config_.other_secrets.push_back(*v);
        }
      } else if (is_secret_key(setting)) {
        if (auto v = secret_value(value, setting)) {
          provider.settings[setting] = *v;
          config_.other_secrets.push_back(*v);
        }
      } else if (auto j = to_json(value)) {
        provider.settings[setting] = *j;
      }
    }
    config_.providers.push_back(std::move(provider));
  }

  // Plain YAML scalars become numbers and booleans where they read as such;
  // quoted ones stay strings. Every string is ${VAR}-expanded.
  std::optional<nlohmann::json> to_json(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nlohmann::json(nullptr);
      case YAML::NodeType::Scalar: {
        auto s = expand(node);
        if (!s) return std::nullopt;
        if (node.Tag() != "!") {
          if (*s == "true" || *s == "false") return nlohmann::json(*s == "true");
          static const std::regex kInt("-?[0-9]+");
          static const std::regex kFloat("-?[0-9]*\\.[0-9]+([eE][-+]?[0-9]+)?");
          try {
            if (std::regex_match(*s, kInt)) return nlohmann::json(std::stoll(*s));
            if (std::regex_match(*s, kFloat)) return nlohmann::json(std::stod(*s));
          } catch (const std::exception&) {
            // Out of range for a number: keep the text.
          }
        }
        return nlohmann::json(*s);
      }
      case YAML::NodeType::Sequence: {
        auto array = nlohmann::json::array();
        bool ok = true;
        for (const auto& item : node) {
          auto j = to_json(item);
          if (j)
            array.push_back(*j);
          else
            ok = false;
        }
        if (!ok) return std::nullopt;
        return array;
      }
      case YAML::NodeType::Map: {
        auto object = nlohmann::json::object();
        bool ok = true;
        for (const auto& [k, v] : unique_entries(node, {})) {
          auto j = to_json(v);
          if (j)
            object[k.Scalar()] = *j;
          else
            ok = false;
        }
        if (!ok) return std::nullopt;
        return object;
      }
    }
    return std::nullopt;
  }

  std::optional<long long> integer(const YAML::Node& node, const std::string& what, long long min,
                                   long long max) {
    auto s = scalar(node, what);
    if (!s) return std::nullopt;
    static const std::regex kInt("-?[0-9]{1,12}");
    if (!std::regex_match(*s, kInt) || std::stoll(*s) < min || std::stoll(*s) > max) {
      error(node.Mark(), what + " must be a whole number from " + std::to_string(min) + " to " +
                             std::to_string(max) + ", not '" + *s + "'");
      return std::nullopt;
    }
    return std::stoll(*s);
  }

  void parse_hosts(const YAML::Node& node, ProviderConfig& provider) {
    if (!node.IsSequence()) {
      error(node.Mark(), "hosts must be a list, e.g. - {address: 10.0.0.5, user: ubuntu}");
      return;
    }
    for (const auto& item : node) {
      if (!item.IsMap()) {
        error(item.Mark(), "each host must be a mapping with at least 'address:'");
        continue;
      }
      SshHostConfig host;
      bool has_address = false;
      for (const auto& [k, value] : unique_entries(item, kHostKeys, " for a host")) {
        std::string key = k.Scalar();
        if (key == "address") {
          if (auto v = scalar(value, "address")) {
            host.address = *v;
            has_address = !v->empty();
          }
        } else if (key == "user") {
          if (auto v = scalar(value, "user")) host.user = *v;
        } else if (key == "region") {
          if (auto v = scalar(value, "region")) host.region = *v;
        } else if (key == "port") {
          if (auto v = integer(value, "port", 1, 65535)) host.port = static_cast<int>(*v);
        } else if (key == "price_per_hour") {
          auto v = scalar(value, "price_per_hour");
          static const std::regex kPrice("[0-9]+(\\.[0-9]+)?");
          if (v && std::regex_match(*v, kPrice))
            host.price_per_hour = std::stod(*v);
          else if (v)
            error(value.Mark(), "price_per_hour must be a number of USD, not '" + *v + "'");
        } else if (key == "gpus") {
          parse_host_gpus(value, host);
        }
      }
      if (!has_address) error(item.Mark(), "host has no address", "add address: HOST_OR_IP");
      provider.hosts.push_back(std::move(host));
    }
  }

  void parse_host_gpus(const YAML::Node& node, SshHostConfig& host) {
    if (!node.IsMap()) {
      error(node.Mark(), "gpus must be a mapping, e.g. {model: RTX4090, count: 2}");
      return;
    }
    for (const auto& [k, value] : unique_entries(node, kHostGpuKeys, " under gpus")) {
      if (k.Scalar() == "model") {
        auto v = scalar(value, "gpus.model");
        if (!v) continue;
        // A declared host is the user's own: a typo here should stop berth,
        // not turn into an "unknown:" model no template ever matches.
        const GpuModel* model = find_gpu_model(*v);
        if (!model) model = normalize_gpu_name(*v);
        if (!model) {
          auto suggestions = suggest_gpu_models(*v);
          error(value.Mark(), "unknown GPU model '" + *v + "'",
                suggestions.empty() ? "run 'berth gpus' for the catalog"
                                    : "did you mean '" + suggestions.front() + "'?");
          continue;
        }
        host.gpu_model = model->name;
      } else if (auto v = integer(value, "gpus.count", 0, 64)) {
        host.gpu_count = static_cast<int>(*v);
      }
    }
  }

  std::string name_;
  const Environment& env_;
  const std::vector<ProviderType>& types_;
  std::vector<std::string> lines_;
  fs::path base_dir_;
  QuotedText quoted_;
  Config config_;
  Diagnostics diagnostics_;
};

Diagnostic file_error(const std::string& file, const std::string& message,
                      const std::string& hint) {
  Diagnostic d;
  d.file = file;
  d.message = message;
  d.hint = hint;
  return d;
}

Expected<Config, Diagnostics> load_file(const fs::path& path, const Environment& env,
                                        const std::vector<ProviderType>& types,
                                        const std::string& found_by) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    bool exists = fs::exists(path, ec);
    return unexpected(Diagnostics{file_error(
        path.string(), exists ? "cannot read the config file" : "config file does not exist",
        "it was named by " + found_by)});
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_config(buffer.str(), path.string(), env, types);
}

}  // namespace

Expected<Config, Diagnostics> parse_config(const std::string& text, const std::string& name,
                                           const Environment& env,
                                           const std::vector<ProviderType>& types) {
  return ConfigParser(text, name, env, types).parse(text);
}

Config default_config(const Environment& env, const std::vector<ProviderType>& types) {
  Config config;
  config.source = "(embedded default)";
  for (const auto& t : types) {
    ProviderConfig p;
    p.name = t.type;
    p.type = t.type;
    p.settings = nlohmann::json::object();
    if (t.type == "local") {
      config.providers.insert(config.providers.begin(), std::move(p));
      continue;
    }
    if (t.api_key_env.empty()) continue;
    auto key = env.get(t.api_key_env);
    if (!key || key->empty()) continue;
    p.api_key = *key;
    config.providers.push_back(std::move(p));
  }
  return config;
}

Expected<Config, Diagnostics> load_config(const std::optional<fs::path>& explicit_path,
                                          const Environment& env,
                                          const std::vector<ProviderType>& types) {
  if (explicit_path) return load_file(*explicit_path, env, types, "--config");
  if (auto p = env.get("BERTH_CONFIG"); p && !p->empty())
    return load_file(expand_home(*p, env), env, types, "$BERTH_CONFIG");
  std::vector<fs::path> candidates;
  if (auto xdg = env.get("XDG_CONFIG_HOME"); xdg && !xdg->empty())
    candidates.push_back(fs::path(*xdg) / "berth" / "config.yaml");
  if (auto home = home_dir(env))
    candidates.push_back(fs::path(*home) / ".config" / "berth" / "config.yaml");
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::exists(c, ec)) return load_file(c, env, types, "the default location");
  }
  return default_config(env, types);
}

fs::path state_dir(const Environment& env) {
  if (auto s = env.get("XDG_STATE_HOME"); s && !s->empty()) return fs::path(*s) / "berth";
  if (auto home = home_dir(env)) return fs::path(*home) / ".local" / "state" / "berth";
  return fs::temp_directory_path() / "berth-state";
}

}  // namespace berth
