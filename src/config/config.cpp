// The config file (docs/config.md), read through the YAML front end templates use
// (src/input/yaml_document.h, src/input/yaml_reader.h): the same caps, the same ${VAR}
// rule, every error at file:line:col with the source line and a hint, all of
// them in one round. Each provider type reads its own settings
// (ProviderType::read_settings); the core handles what every type shares:
// type, credentials, base_url and KEY_file values.
#include "berth/config/config.h"

#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "berth/common/text.h"
#include "berth/common/units.h"
#include "berth/input/user_file.h"
#include "input/lexical.h"
#include "input/source_text.h"
#include "input/yaml_document.h"
#include "input/yaml_reader.h"

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

/// A credential file holds one line; anything this big is not one.
constexpr std::size_t kMaxKeyFileBytes = 64u << 10;

const std::vector<std::string> kTopLevelKeys = {"providers", "ssh", "runtime"};
const std::vector<std::string> kRuntimes = {"docker", "podman"};
const std::vector<std::string> kHttpKeys = {"api_key", "api_key_file", "base_url"};
/// What every provider type takes besides its own keys.
// Every type's: `limit` (offer_limit, config.h) and `offers_timeout`, read
// here, once.
const std::vector<std::string> kCommonKeys = {"type", "offers_timeout", "limit", "limit_file"};
/// The longest offers_timeout: a listing that takes longer is not one.
constexpr Duration kMaxOffersTimeout{3'600'000};

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

const char* kOneLine =
    "holds a control character (a line break, NUL, ...); a credential is one line of text";

}  // namespace

// What the SettingValues of one config share while it is read.
struct ConfigContext {
  YamlReader& reader;
};

struct SettingValue::Impl {
  ConfigContext* ctx = nullptr;
  YAML::Node node;                        // as written (undefined for a file's value)
  YAML::Mark mark;                        // of the value (or of its KEY_file)
  std::string name;                       // "cloud", "hosts[0].port"
  std::string path;                       // "providers.lab.hosts[0].port"
  std::optional<std::string> file_text;   // read from `file_key`
  std::string file_key;                   // "cloud_file"
};

namespace {

// The value as messages show it: the file's text as written, or which file
// a secret value came from, never an expanded value.
std::string shown(const SettingValue::Impl& v) {
  if (v.file_text) return "the content of " + v.file_key;
  return v.node.IsScalar() ? "'" + v.node.Scalar() + "'" : describe(v.node);
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(v) < 1e15 && v == std::floor(v) ? "%.0f" : "%g", v);
  return buf;
}

SettingValue make_value(ConfigContext* ctx, YAML::Node node, YAML::Mark mark, std::string name,
                        std::string path) {
  auto impl = std::make_shared<SettingValue::Impl>();
  impl->ctx = ctx;
  impl->node = std::move(node);
  impl->mark = mark;
  impl->name = std::move(name);
  impl->path = std::move(path);
  return SettingValue(impl);
}

}  // namespace

const std::string& SettingValue::name() const { return impl_->name; }
bool SettingValue::is_list() const { return !impl_->file_text && impl_->node.IsSequence(); }
bool SettingValue::is_mapping() const { return !impl_->file_text && impl_->node.IsMap(); }
bool SettingValue::from_file() const { return impl_->file_text.has_value(); }

void SettingValue::error(std::string message, std::string hint) const {
  impl_->ctx->reader.error(impl_->mark, std::move(message), std::move(hint));
}

std::optional<std::string> SettingValue::text() const {
  if (impl_->file_text) return impl_->file_text;
  if (!impl_->node.IsScalar()) {
    error(impl_->name + " must be a single value, not " + describe(impl_->node));
    return std::nullopt;
  }
  return impl_->ctx->reader.string(impl_->node, impl_->mark, impl_->path);
}

std::optional<long long> SettingValue::integer(long long lo, long long hi) const {
  auto t = text();
  if (!t) return std::nullopt;
  auto v = parse_whole_number(*t);
  if (!v || *v < lo || *v > hi) {
    error(impl_->name + " must be a whole number from " + std::to_string(lo) + " to " +
          std::to_string(hi) + ", not " + shown(*impl_));
    return std::nullopt;
  }
  return *v;
}

std::optional<double> SettingValue::number(double lo, double hi) const {
  auto t = text();
  if (!t) return std::nullopt;
  const double v = lexical::is_number(*t) ? std::strtod(t->c_str(), nullptr) : NAN;
  if (!std::isfinite(v) || v < lo || v > hi) {
    error(impl_->name + " must be a number from " + number_text(lo) + " to " + number_text(hi) +
          ", not " + shown(*impl_));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> SettingValue::boolean() const {
  auto t = text();
  if (!t) return std::nullopt;
  const std::string s = ascii_lower(*t);
  if (s == "true") return true;
  if (s == "false") return false;
  error(impl_->name + " must be true or false, not " + shown(*impl_));
  return std::nullopt;
}

std::optional<std::string> SettingValue::choice(const std::vector<std::string>& words) const {
  auto t = text();
  if (!t) return std::nullopt;
  for (const auto& w : words)
    if (iequals(w, *t)) return w;
  std::string hint;
  if (!impl_->file_text)
    if (auto s = did_you_mean(impl_->node.Scalar(), words); !s.empty())
      hint = "did you mean '" + s + "'?";
  error(impl_->name + " must be " + quoted_list(words) + ", not " + shown(*impl_), hint);
  return std::nullopt;
}

std::optional<std::vector<SettingValue>> SettingValue::items() const {
  if (!is_list()) {
    error(impl_->name + " must be a list, not " + shown(*impl_));
    return std::nullopt;
  }
  std::vector<SettingValue> out;
  for (std::size_t i = 0; i < impl_->node.size(); ++i) {
    const std::string index = "[" + std::to_string(i) + "]";
    const YAML::Node item = impl_->node[i];
    out.push_back(make_value(impl_->ctx, item, mark_of(item, impl_->mark), impl_->name + index,
                             impl_->path + index));
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, SettingValue>>> SettingValue::entries(
    const std::vector<std::string>& keys, const std::string& context) const {
  if (!is_mapping()) {
    error(impl_->name + " must be a mapping, not " + shown(*impl_));
    return std::nullopt;
  }
  auto fields = impl_->ctx->reader.fields(impl_->node, impl_->mark, impl_->path, keys, context);
  if (!fields) return std::nullopt;
  std::vector<std::pair<std::string, SettingValue>> out;
  for (const auto& f : *fields)
    out.emplace_back(f.key, make_value(impl_->ctx, f.value, f.mark, impl_->name + "." + f.key,
                                       f.path));
  return out;
}

std::optional<nlohmann::json> SettingValue::to_json() const {
  if (impl_->file_text) return nlohmann::json(*impl_->file_text);
  const YAML::Node& n = impl_->node;
  if (n.IsNull() || !n.IsDefined()) return nlohmann::json(nullptr);
  if (n.IsScalar()) {
    auto s = text();
    if (!s) return std::nullopt;
    if (impl_->ctx->reader.plain(n)) {
      if (*s == "true" || *s == "false") return nlohmann::json(*s == "true");
      if (lexical::is_integer(*s))
        if (auto v = parse_whole_number(*s)) return nlohmann::json(*v);
      if (lexical::is_number(*s) && s->find('.') != std::string::npos) {
        const double v = std::strtod(s->c_str(), nullptr);
        if (std::isfinite(v)) return nlohmann::json(v);
      }
    }
    return nlohmann::json(*s);
  }
  bool ok = true;
  if (n.IsSequence()) {
    auto array = nlohmann::json::array();
    const auto all = items();
    for (const auto& item : *all) {
      auto j = item.to_json();
      if (j)
        array.push_back(std::move(*j));
      else
        ok = false;
    }
    if (!ok) return std::nullopt;
    return array;
  }
  auto object = nlohmann::json::object();
  auto all = entries({}, " in " + impl_->name);
  if (!all) return std::nullopt;
  for (const auto& [key, value] : *all) {
    auto j = value.to_json();
    if (j)
      object[key] = std::move(*j);
    else
      ok = false;
  }
  if (!ok) return std::nullopt;
  return object;
}

namespace {

class EntrySettings final : public ProviderSettings {
 public:
  EntrySettings(ConfigContext& ctx, std::string name, std::string type, YAML::Mark at)
      : ctx_(ctx), name_(std::move(name)), type_(std::move(type)), at_(at) {}

  const std::string& name() const override { return name_; }
  const std::string& type() const override { return type_; }
  std::optional<SettingValue> get(const std::string& key) const override {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  void error(std::string message, std::string hint) const override {
    ctx_.reader.error(at_, std::move(message), std::move(hint));
  }

  void add(const std::string& key, SettingValue value) { values_.emplace(key, std::move(value)); }
  const std::map<std::string, SettingValue>& values() const { return values_; }

 private:
  ConfigContext& ctx_;
  std::string name_, type_;
  YAML::Mark at_;
  std::map<std::string, SettingValue> values_;
};

class ConfigReader {
 public:
  ConfigReader(const YamlDocument& doc, DiagnosticSink& sink, const Environment& env,
               const std::vector<ProviderType>& types, fs::path base_dir, std::string source_name)
      : source_name_(std::move(source_name)),
        reader_(doc, sink, where_, env, {.expand_everywhere = true, .label_paths = false}),
        ctx_{reader_},
        doc_(doc),
        env_(env),
        types_(types),
        base_dir_(std::move(base_dir)) {}

  Config read() {
    const YAML::Node& root = doc_.root;
    YAML::Mark start;
    start.line = 0, start.column = 0;
    if (!root.IsDefined() || root.IsNull()) return std::move(config_);  // empty: no providers
    if (!root.IsMap()) {
      reader_.error(mark_of(root, start),
                    "a config is a mapping with 'providers:', 'ssh:' and 'runtime:', got " +
                        describe(root),
                    "see docs/config.md");
      return std::move(config_);
    }
    auto fields = reader_.fields(root, start, "", kTopLevelKeys);
    for (const auto& f : fields ? *fields : std::vector<YamlReader::Field>{}) {
      if (f.key == "providers")
        read_providers(f);
      else if (f.key == "ssh")
        read_ssh(f);
      else if (f.key == "runtime")
        read_runtime(f);
    }
    return std::move(config_);
  }

 private:
  using Field = YamlReader::Field;

  void error(const YAML::Mark& m, std::string message, std::string hint = "") {
    reader_.error(m, std::move(message), std::move(hint));
  }

  // One value of a key that takes a single value, expanded.
  std::optional<TemplateString> single(const Field& f, const std::string& what) {
    if (!f.value.IsScalar()) {
      error(f.mark, what + " must be a single value, not " + describe(f.value));
      return std::nullopt;
    }
    return reader_.expanded(f.value, f.mark, f.path);
  }

  fs::path resolve(const std::string& path) const {
    fs::path p = expand_home(path, env_);
    if (p.is_relative() && !base_dir_.empty()) p = base_dir_ / p;
    return p;
  }

  void read_runtime(const Field& f) {
    auto v = single(f, "runtime");
    if (!v) return;
    if (std::find(kRuntimes.begin(), kRuntimes.end(), v->value) == kRuntimes.end()) {
      // The text as written: an expanded value is not shown.
      const std::string& written = f.value.Scalar();
      std::string s = did_you_mean(written, kRuntimes);
      error(f.mark, "unknown runtime '" + written + "'",
            s.empty() ? "expected docker or podman" : "did you mean '" + s + "'?");
      return;
    }
    config_.runtime = v->value;
  }

  void read_ssh(const Field& f) {
    if (!f.value.IsMap()) {
      error(f.mark, "ssh must be a mapping, e.g. {key: ~/.ssh/id_ed25519}");
      return;
    }
    auto fields = reader_.fields(f.value, f.mark, "ssh", {"key"}, " under ssh");
    if (!fields) return;
    for (const auto& k : *fields) {
      auto path = single(k, "ssh.key");
      if (!path) continue;
      if (path->value.empty()) {
        error(k.mark, "ssh.key is empty", "give the path of a private key, or leave ssh out");
        continue;
      }
      fs::path p = resolve(path->value);
      // ssh, ssh-keygen and berth read the key and its .pub later: what is
      // there must be a file (a FIFO would hang them, a device feed them forever).
      fs::path pub = p;
      pub += ".pub";
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        error(k.mark, "ssh.key " + shown_path(k, *path, p) + " is not a regular file",
              "give the path of a private key file");
        continue;
      }
      if (::stat(pub.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        error(k.mark, "the public half of ssh.key (its .pub) is not a regular file",
              "remove it, or put the public key there");
        continue;
      }
      config_.ssh_key = p;
    }
  }

  void read_providers(const Field& f) {
    if (f.value.IsNull()) return;
    if (!f.value.IsMap()) {
      error(f.mark, "providers must be a mapping of names to provider settings",
            "e.g. providers: {lambda: {type: lambda, api_key: ${LAMBDA_API_KEY}}}");
      return;
    }
    auto entries = reader_.fields(f.value, f.mark, "providers", {});
    if (!entries) return;
    for (const auto& e : *entries) {
      if (!lexical::is_provider_name(e.key)) {
        error(e.key_node.Mark(), "invalid provider name '" + e.key + "'",
              "use letters, digits, '-', '_' and '.', starting with a letter or digit");
        continue;
      }
      read_provider(e);
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

  // The names of the ${...} references written in a value, in order.
  static std::vector<std::string> variables_in(const std::string& written) {
    std::vector<std::string> names;
    for (std::size_t i = written.find("${"); i != std::string::npos;
         i = written.find("${", i + 2)) {
      std::size_t end = i + 2;
      while (end < written.size() && written[end] != '}' && written[end] != ':') ++end;
      names.push_back(written.substr(i + 2, end - i - 2));
    }
    return names;
  }

  static bool blank(const std::string& s) {
    return std::all_of(s.begin(), s.end(),
                       [](unsigned char c) { return std::isspace(c) != 0; });
  }

  // A credential written as ${VAR}, never literally. With `missing`, a
  // variable that is unset, or a value that is empty or only whitespace, is
  // no error: `missing` says which variable, and the provider is disabled.
  std::optional<std::string> secret_value(const Field& f, const std::string& key,
                                          std::string* missing = nullptr) {
    std::vector<std::string> unset;
    std::optional<TemplateString> v;
    if (!f.value.IsScalar())
      v = single(f, key);
    else
      v = reader_.expanded(f.value, f.mark, f.path, missing ? &unset : nullptr);
    if (!v) return std::nullopt;
    if (missing && (!unset.empty() || (v->secret && blank(v->value)))) {
      if (!unset.empty()) {
        *missing = unset.front() + " is not set";
      } else {
        auto names = variables_in(f.value.Scalar());
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        *missing = (list.empty() ? key : list) +
                   (v->value.empty() ? " is empty" : " holds only whitespace");
      }
      return std::nullopt;
    }
    if (!v->secret) {
      error(f.mark, key + " is written literally in the config",
            "secrets are never stored in the config: use " + key + ": ${VARIABLE} or " + key +
                "_file: PATH");
      return std::nullopt;
    }
    if (v->value.empty()) {
      error(f.mark, key + " is empty: the variable it names is set but empty",
            "export the credential, or read it from a file with " + key + "_file: PATH");
      return std::nullopt;
    }
    if (find_control_character(v->value, false) != std::string::npos) {
      error(f.mark, key + ": the variable's value " + kOneLine,
            "check how the variable was set (a file's content with its line breaks?)");
      return std::nullopt;
    }
    return v->value;
  }

  // A path as messages show it: resolved, unless a variable's value is in it
  // (then as the file writes it).
  static std::string shown_path(const Field& f, const TemplateString& path, const fs::path& p) {
    return "'" + (path.secret ? f.value.Scalar() : p.string()) + "'";
  }

  // A KEY_file's content: one line, trailing whitespace (the final newline)
  // removed. With `missing`, a file that does not exist or holds nothing is
  // no error: `missing` says so, and the provider is disabled.
  std::optional<std::string> file_value(const Field& f, std::string* missing = nullptr) {
    auto path = single(f, f.key);
    if (!path) return std::nullopt;
    const fs::path p = resolve(path->value);
    const std::string shown = shown_path(f, *path, p);
    auto text = read_user_file(p, kMaxKeyFileBytes);
    if (!text && missing && text.error().kind == FileReadError::Kind::kMissing) {
      *missing = f.key + " " + shown + " does not exist";
      return std::nullopt;
    }
    if (!text) {
      error(f.mark,
            "cannot read " + f.key + " " + shown + ": it " + text.error().describe(kMaxKeyFileBytes),
            "the file must exist, be readable by this user and hold only the value");
      return std::nullopt;
    }
    std::string value = std::move(*text);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
      value.pop_back();
    if (value.empty()) {
      if (missing)
        *missing = f.key + " " + shown + " is empty";
      else
        error(f.mark, f.key + " " + shown + " is empty");
      return std::nullopt;
    }
    if (find_control_character(value, false) != std::string::npos) {
      error(f.mark, f.key + " " + shown + " " + kOneLine,
            "the file must hold only the value, on one line");
      return std::nullopt;
    }
    return value;
  }

  void read_provider(const Field& entry) {
    const std::string& name = entry.key;
    const YAML::Mark at = entry.key_node.Mark();
    const YAML::Node& node = entry.value;
    if (!node.IsMap()) {
      error(at, "provider '" + name + "' must be a mapping with at least 'type:'");
      return;
    }
    YAML::Node type_node;
    bool typed = false;
    for (auto it = node.begin(); it != node.end() && !typed; ++it)
      if (it->first.IsScalar() && it->first.Scalar() == "type") {
        type_node = it->second;
        typed = true;
      }
    if (!typed) {
      error(at, "provider '" + name + "' has no type", "add 'type:', one of: " +
                                                           quoted_list(type_names()));
      return;
    }
    Field type_field{"type", YAML::Node(), type_node, "providers." + name + ".type",
                     mark_of(type_node, at)};
    auto type = single(type_field, "type");
    if (!type) return;
    const ProviderType* type_info = find_type(type->value);
    if (!type_info) {
      const std::string& written = type_node.Scalar();
      std::string s = did_you_mean(written, type_names());
      error(type_field.mark, "unknown provider type '" + written + "'",
            s.empty() ? "known types: " + quoted_list(type_names())
                      : "did you mean '" + s + "'?");
      return;
    }
    ProviderConfig provider;
    provider.name = name;
    provider.type = type->value;
    provider.settings = nlohmann::json::object();

    const bool takes_api_key = !type_info->api_key_env.empty();
    std::vector<std::string> allowed = kCommonKeys;
    if (takes_api_key) allowed.insert(allowed.end(), kHttpKeys.begin(), kHttpKeys.end());
    for (const auto& k : type_info->keys) {
      if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
      allowed.push_back(k);
      if (!ends_with(k, "_file") && k != "hosts" && k != "base_url") allowed.push_back(k + "_file");
    }

    EntrySettings settings(ctx_, name, provider.type, at);
    bool has_key = false, key_given = false;
    std::optional<DisabledProvider> disabled;
    auto fields = reader_.fields(node, at, "providers." + name, allowed,
                                 " for provider '" + name + "'");
    for (const auto& f : fields ? *fields : std::vector<Field>{}) {
      if (f.key == "type") continue;
      if (f.key == "offers_timeout") {
        auto v = single(f, "offers_timeout");
        if (!v) continue;
        auto d = parse_duration(v->value);
        if (!d || d->count() <= 0 || *d > kMaxOffersTimeout) {
          error(f.mark,
                "offers_timeout must be a duration from 1ms to 1h, not '" + f.value.Scalar() + "'",
                "e.g. offers_timeout: 20s");
          continue;
        }
        provider.offers_timeout = *d;
        continue;
      }
      if (f.key == "api_key" || f.key == "api_key_file") {
        key_given = true;
        if (has_key) {
          error(f.key_node.Mark(), "give either api_key or api_key_file, not both");
          continue;
        }
        has_key = true;
        std::string missing;
        auto v = f.key == "api_key" ? secret_value(f, "api_key", &missing) : file_value(f, &missing);
        if (v) provider.api_key = *v;
        if (!missing.empty()) {
          // The variable is the message's first word ("HF_TOKEN is not set");
          // a file's message starts with its key.
          const bool from_variable = f.key == "api_key" && missing.rfind("api_key ", 0) != 0;
          disabled = DisabledProvider{
              name, provider.type, missing,
              from_variable ? missing.substr(0, missing.find_first_of(", ")) : "",
              source_name_ + ":" + std::to_string(f.mark.line + 1) + ":" +
                  std::to_string(f.mark.column + 1)};
        }
      } else if (f.key == "base_url") {
        auto v = single(f, "base_url");
        if (!v) continue;
        std::string url = v->value;
        if (url.find_first_of(" \t") != std::string::npos ||
            find_control_character(url) != std::string::npos) {
          error(f.mark, "base_url holds a space or a control character");
          continue;
        }
        if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
          error(f.mark, "base_url must start with https:// (or http:// on loopback)");
          continue;
        }
        while (!url.empty() && url.back() == '/') url.pop_back();
        provider.base_url = url;
      } else if (ends_with(f.key, "_file")) {
        const std::string key = f.key.substr(0, f.key.size() - 5);
        if (settings.get(key)) {
          error(f.key_node.Mark(), "give either " + key + " or " + f.key + ", not both");
          continue;
        }
        if (auto v = file_value(f)) {
          config_.other_secrets.push_back(*v);
          auto impl = std::make_shared<SettingValue::Impl>();
          impl->ctx = &ctx_;
          impl->mark = f.mark;
          impl->name = key;
          impl->path = f.path;
          impl->file_text = *v;
          impl->file_key = f.key;
          settings.add(key, SettingValue(impl));
        }
      } else {
        if (settings.get(f.key)) {
          error(f.key_node.Mark(), "give either " + f.key + " or " + f.key + "_file, not both");
          continue;
        }
        if (is_secret_key(f.key)) {
          auto v = secret_value(f, f.key);
          if (!v) continue;
          config_.other_secrets.push_back(*v);
        }
        settings.add(f.key, make_value(&ctx_, f.value, f.mark, f.key, f.path));
      }
    }
    // A misspelled api_key is reported as such (with "did you mean"), not as missing too.
    if (takes_api_key && !key_given && !reader_.suggested("providers." + name + ".api_key"))
      error(at, "provider '" + name + "' (" + provider.type + ") needs api_key",
            "add api_key: ${" + type_info->api_key_env + "} or api_key_file: PATH");
    if (auto v = settings.get("limit"))
      if (auto n = v->integer(1, kMaxOfferLimit)) provider.settings["limit"] = *n;
    if (type_info->read_settings) {
      type_info->read_settings(settings, provider);
    } else {
      for (const auto& [key, value] : settings.values())
        if (key != "limit")
          if (auto j = value.to_json()) provider.settings[key] = std::move(*j);
    }
    // Its settings were still read and judged: a disabled provider's other
    // mistakes are errors as ever.
    if (disabled) {
      disabled->base_url = provider.base_url;
      config_.disabled.push_back(std::move(*disabled));
    }
    else
      config_.providers.push_back(std::move(provider));
  }

  std::string source_name_;
  ValueLocations where_;
  YamlReader reader_;
  ConfigContext ctx_;
  const YamlDocument& doc_;
  const Environment& env_;
  const std::vector<ProviderType>& types_;
  fs::path base_dir_;
  Config config_;
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
  auto text = read_user_file(path, kMaxConfigBytes);
  if (!text) {
    const auto& e = text.error();
    const std::string hint = "it was named by " + found_by;
    std::string message;
    switch (e.kind) {
      case FileReadError::Kind::kMissing:
        message = "config file does not exist";
        break;
      case FileReadError::Kind::kUnreadable:
        message = "cannot read the config file: " + e.reason;
        break;
      case FileReadError::Kind::kNotRegular:
      case FileReadError::Kind::kTooBig:
        message = "config file " + e.describe(kMaxConfigBytes);
        break;
    }
    return unexpected(Diagnostics{file_error(path.string(), message, hint)});
  }
  return parse_config(*text, path.string(), env, types);
}

}  // namespace

Expected<Config, Diagnostics> parse_config(const std::string& text, const std::string& name,
                                           const Environment& env,
                                           const std::vector<ProviderType>& types) {
  SourceText source(name, text);
  DiagnosticSink sink(source);
  auto doc = load_yaml_source(source, config_file(), sink);
  if (!doc) return unexpected(sink.take());
  Config config = ConfigReader(*doc, sink, env, types, fs::path(name).parent_path(), name).read();
  if (!sink.empty()) return unexpected(sink.take());
  config.source = name;
  return config;
}

std::size_t offer_limit(const ProviderConfig& config) {
  if (config.settings.is_object())
    if (auto it = config.settings.find("limit");
        it != config.settings.end() && it->is_number_integer()) {
      auto n = it->get<long long>();
      if (n >= 1 && n <= kMaxOfferLimit) return static_cast<std::size_t>(n);
    }
  return kDefaultOfferLimit;
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

std::string describe(const DisabledProvider& d) {
  return "provider '" + d.name + "' is disabled: " + d.reason;
}

Expected<void, std::string> make_state_dir(const fs::path& dir) {
  fs::path prefix;
  for (const auto& part : dir.lexically_normal()) {
    prefix /= part;
    if (part.empty() || prefix == prefix.root_path()) continue;
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return unexpected("cannot create " + prefix.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return unexpected(dir.string() + " is not a directory");
  if ((st.st_mode & 077) != 0 && st.st_uid == ::getuid() && ::chmod(dir.c_str(), 0700) != 0)
    return unexpected("cannot make " + dir.string() + " private: " + std::strerror(errno));
  return {};
}

fs::path state_dir(const Environment& env) {
  if (auto s = env.get("XDG_STATE_HOME"); s && !s->empty()) return fs::path(*s) / "berth";
  if (auto home = home_dir(env)) return fs::path(*home) / ".local" / "state" / "berth";
  return fs::temp_directory_path() / "berth-state";
}

}  // namespace berth
