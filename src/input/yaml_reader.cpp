#include "input/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "input/interpolate.h"
#include "input/lexical.h"

namespace berth {

namespace {

// What to write instead of a value that is not a number: the number alone
// when it came with a currency sign or a unit ("$1.50", "1.5/h"), without
// quotes when the quotes are all that is wrong.
std::string number_hint(const std::string& written, bool quoted) {
  std::string bare = written;
  if (!bare.empty() && bare.front() == '$') bare.erase(0, 1);
  for (std::string_view unit : {"/h", "/hr", "/hour", " USD", "USD"})
    if (bare.size() > unit.size() &&
        std::string_view(bare).substr(bare.size() - unit.size()) == unit) {
      bare.erase(bare.size() - unit.size());
      break;
    }
  if (bare != written && lexical::is_number(bare))
    return "write the number alone, without quotes, currency or unit: " + bare;
  if (quoted && lexical::is_number(written)) return "remove the quotes";
  return "";
}

}  // namespace

void ValueLocations::set(const std::string& path, const YAML::Mark& mark) {
  if (mark.line >= 0) marks_[path] = {mark.line, mark.column};
}

std::pair<int, int> ValueLocations::at(const std::string& path) const {
  std::string p = path;
  while (true) {
    auto it = marks_.find(p);
    if (it != marks_.end()) return it->second;
    const auto cut = p.find_last_of(".[");
    if (cut == std::string::npos) break;
    p = p.substr(0, cut);
  }
  auto it = marks_.find("");
  return it != marks_.end() ? it->second : std::pair<int, int>{0, 0};
}

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      break;
  }
  std::string s = n.Scalar();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return "'" + s + "'";
}

std::string quoted_list(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

YAML::Mark mark_of(const YAML::Node& n, const YAML::Mark& fallback) {
  YAML::Mark m = n.Mark();
  // An empty value's position is wherever the next token starts, often the next line.
  return m.line < 0 || n.IsNull() ? fallback : m;
}

Expected<long long, std::string> parse_whole_number(std::string_view text) {
  const std::string s(text);
  if (!lexical::is_integer(s)) {
    if (lexical::is_number(s)) return unexpected("expected a whole number, got " + s);
    return unexpected("expected a whole number, got '" + s + "'");
  }
  long long v = 0;
  const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
  auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size())
    return unexpected("integer " + s + " is out of range");
  return v;
}

YamlReader::YamlReader(const YamlDocument& doc, DiagnosticSink& sink, ValueLocations& where,
                       const Environment& env, Options options)
    : doc_(doc), sink_(sink), where_(where), env_(env), options_(options) {}

void YamlReader::error(const YAML::Mark& m, std::string message, std::string hint) {
  sink_.error(m.line, m.column, std::move(message), std::move(hint));
}

bool YamlReader::suggested(const std::string& path) const {
  return std::find(suggested_.begin(), suggested_.end(), path) != suggested_.end();
}

std::optional<std::vector<YamlReader::Field>> YamlReader::fields(
    const YAML::Node& node, const YAML::Mark& at, const std::string& path,
    const std::vector<std::string>& known, std::optional<std::string> context) {
  if (!node.IsMap()) {
    error(mark_of(node, at), label(path) + "expected a mapping, got " + describe(node));
    return std::nullopt;
  }
  const std::string in = context ? *context : path.empty() ? "" : " in " + path;
  std::vector<Field> out;
  std::vector<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node k = it->first;  // the iterator hands out temporaries
    const YAML::Node v = it->second;
    if (!k.IsScalar()) {
      error(mark_of(k, at), label(path) + "keys must be plain words, got " + describe(k));
      continue;
    }
    const std::string key = k.Scalar();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      // yaml-cpp keeps both entries silently; a second value would shadow the first.
      error(k.Mark(), "duplicate key '" + key + "'" + in,
            "each key may appear once per mapping; remove one of them");
      continue;
    }
    seen.push_back(key);
    if (!known.empty() && std::find(known.begin(), known.end(), key) == known.end()) {
      std::string suggestion = did_you_mean(key, known);
      if (!suggestion.empty()) suggested_.push_back(join_path(path, suggestion));
      // A key of a section one level down, written at this level: dedented.
      std::string below;
      if (options_.sections)
        for (const auto& child : known) {
          auto it = options_.sections->find(join_path(path, child));
          if (it != options_.sections->end() &&
              std::find(it->second.begin(), it->second.end(), key) != it->second.end()) {
            below = child;
            break;
          }
        }
      error(k.Mark(), "unknown key '" + key + "'" + in,
            !below.empty()
                ? "'" + key + "' belongs under " + below + ": indent it below '" + below +
                      ":' (" + join_path(join_path(path, below), key) + ")"
            : suggestion.empty() ? "expected one of: " + quoted_list(known)
                                 : "did you mean '" + suggestion + "'?");
      continue;
    }
    Field f{key, k, v, join_path(path, key), mark_of(v, k.Mark())};
    where_.set(f.path, f.mark);
    out.push_back(std::move(f));
  }
  return out;
}

std::optional<std::string> YamlReader::string(const YAML::Node& n, const YAML::Mark& at,
                                              const std::string& path) {
  if (!n.IsScalar()) {
    error(mark_of(n, at), label(path) + "expected a string, got " + describe(n));
    where_.fail(path);
    return std::nullopt;
  }
  if (!options_.expand_everywhere) return n.Scalar();
  auto v = expanded(n, at, path);
  if (!v) return std::nullopt;
  return v->value;
}

std::optional<TemplateString> YamlReader::expanded(const YAML::Node& n, const YAML::Mark& at,
                                                   const std::string& path,
                                                   std::vector<std::string>* unset_out) {
  if (!n.IsScalar()) {
    error(mark_of(n, at), label(path) + "expected a string, got " + describe(n));
    where_.fail(path);
    return std::nullopt;
  }
  const std::string& s = n.Scalar();
  const bool record = unset_out || options_.unset == UnsetVariables::kRecord;
  auto r = interpolate(s, env_, record ? UnsetVariables::kRecord : UnsetVariables::kError);
  if (!r) {
    YAML::Mark m = mark_of(n, at);
    // Point at the "${" itself when the value sits on one line as written.
    if (s.find('\n') == std::string::npos || s.find('\n') > r.error().offset)
      m.column += doc_.quote_width(n) + static_cast<int>(r.error().offset);
    error(m, label(path) + r.error().message, r.error().hint);
    where_.fail(path);
    return std::nullopt;
  }
  if (unset_out) {
    unset_out->insert(unset_out->end(), r->unset.begin(), r->unset.end());
  } else {
    const YAML::Mark m = mark_of(n, at);
    for (auto& name : r->unset) unset_.push_back({std::move(name), path, m.line + 1, m.column + 1});
  }
  return TemplateString{std::move(r->value), r->expanded};
}

std::optional<std::string> YamlReader::typed_text(const YAML::Node& n, const YAML::Mark& at,
                                                  const std::string& path) {
  if (!options_.expand_everywhere) return n.Scalar();
  auto v = expanded(n, at, path);
  if (!v) return std::nullopt;
  return v->value;
}

std::optional<long long> YamlReader::integer(const YAML::Node& n, const YAML::Mark& at,
                                             const std::string& path, long long lo,
                                             long long hi) {
  auto v = read_integer(n, at, path, lo, hi);
  if (!v) where_.fail(path);
  return v;
}

std::optional<double> YamlReader::number(const Field& f) {
  auto v = read_number(f);
  if (!v) where_.fail(f.path);
  return v;
}

std::optional<bool> YamlReader::boolean(const Field& f) {
  auto v = read_boolean(f);
  if (!v) where_.fail(f.path);
  return v;
}

std::optional<std::string> YamlReader::choice(const Field& f,
                                              const std::vector<std::string>& words) {
  auto v = read_choice(f, words);
  if (!v) where_.fail(f.path);
  return v;
}

std::optional<std::vector<std::string>> YamlReader::string_list(const Field& f) {
  auto v = read_string_list(f);
  if (!v) where_.fail(f.path);
  return v;
}

std::optional<long long> YamlReader::read_integer(const YAML::Node& n, const YAML::Mark& at,
                                                  const std::string& path, long long lo,
                                                  long long hi) {
  if (!n.IsScalar()) {
    error(mark_of(n, at), label(path) + "expected a whole number, got " + describe(n));
    return std::nullopt;
  }
  if (!options_.expand_everywhere && !plain(n)) {
    // "remove the quotes" only helps when what is inside them is a number.
    error(n.Mark(), label(path) + "expected a whole number, got the string '" + n.Scalar() + "'",
          lexical::is_integer(n.Scalar()) ? "remove the quotes" : "");
    return std::nullopt;
  }
  auto text = typed_text(n, at, path);
  if (!text) return std::nullopt;
  // Messages show the value as written: an expanded one may be a secret.
  const std::string& shown = n.Scalar();
  // Where validation judges the low end itself (replicas < 1), only the high one is shown.
  const std::string expected = lo < 0 ? "expected at most " + std::to_string(hi)
                                      : "expected a value from " + std::to_string(lo) + " to " +
                                            std::to_string(hi);
  if (!lexical::is_integer(*text)) {
    if (lexical::is_number(*text) && *text == shown)
      error(n.Mark(), label(path) + "expected a whole number, got " + shown);
    else
      error(n.Mark(), label(path) + "expected a whole number, got '" + shown + "'");
    return std::nullopt;
  }
  auto v = parse_whole_number(*text);
  if (!v) {
    error(n.Mark(), label(path) + "integer " + shown + " is out of range", expected);
    return std::nullopt;
  }
  if (*v < lo || *v > hi) {
    error(n.Mark(),
          label(path) + (*text == shown ? std::to_string(*v) : "'" + shown + "'") +
              " is out of range",
          expected);
    return std::nullopt;
  }
  return *v;
}

std::optional<double> YamlReader::read_number(const Field& f) {
  const YAML::Node& n = f.value;
  const bool quoted = n.IsScalar() && !plain(n) && !options_.expand_everywhere;
  std::optional<std::string> text;
  if (n.IsScalar() && !quoted) {
    text = typed_text(n, f.mark, f.path);
    if (!text) return std::nullopt;
  }
  if (!text || !lexical::is_number(*text)) {
    error(f.mark, label(f.path) + "expected a number, got " + describe(n),
          number_hint(n.IsScalar() ? n.Scalar() : "", quoted));
    return std::nullopt;
  }
  const double v = std::strtod(text->c_str(), nullptr);
  if (!std::isfinite(v)) {
    error(f.mark, label(f.path) + "number " + n.Scalar() + " is out of range");
    return std::nullopt;
  }
  return v;
}

std::optional<bool> YamlReader::read_boolean(const Field& f) {
  const YAML::Node& n = f.value;
  if (n.IsScalar() && (plain(n) || options_.expand_everywhere)) {
    auto text = typed_text(n, f.mark, f.path);
    if (!text) return std::nullopt;
    std::string s = *text;
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "true") return true;
    if (s == "false") return false;
  }
  error(f.mark, label(f.path) + "expected true or false, got " + describe(n));
  return std::nullopt;
}

std::optional<std::string> YamlReader::read_choice(const Field& f,
                                                   const std::vector<std::string>& words) {
  auto s = string(f);
  if (!s) return std::nullopt;
  if (std::find(words.begin(), words.end(), *s) != words.end()) return s;
  const std::string& shown = f.value.Scalar();
  std::string suggestion = did_you_mean(shown, words);
  error(f.mark, label(f.path) + "'" + shown + "' is not one of " + quoted_list(words),
        suggestion.empty() ? "" : "did you mean '" + suggestion + "'?");
  return std::nullopt;
}

std::optional<std::vector<std::string>> YamlReader::read_string_list(const Field& f) {
  if (!f.value.IsSequence()) {
    error(f.mark, label(f.path) + "expected a list, got " + describe(f.value),
          f.value.IsScalar() ? "write [" + f.value.Scalar() + "]" : "");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (std::size_t i = 0; i < f.value.size(); ++i) {
    const std::string p = f.path + "[" + std::to_string(i) + "]";
    where_.set(p, f.value[i].Mark());
    auto s = string(f.value[i], f.mark, p);
    if (s)
      out.push_back(*s);
    else
      ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace berth
