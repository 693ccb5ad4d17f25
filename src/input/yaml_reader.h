// The typed reader over a YamlDocument, shared by templates and the config:
// mappings with known keys (unknown and repeated ones reported with a
// suggestion), strings, ${VAR} expansion, whole numbers, numbers, booleans,
// choices, lists and ranges — every problem recorded at file:line:col and
// reading going on, so one run reports all of a file's errors. Messages
// quote the file's text as written, never an expanded value.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/common/environment.h"
#include "berth/common/expected.h"
#include "berth/common/units.h"
#include "berth/input/template_string.h"
#include "input/source_text.h"
#include "input/yaml_document.h"

namespace berth {

/// Where each value was written: "resources.gpu.count", "ports[1].host" ->
/// yaml-cpp (line, byte column), both 0-based. Validation points its errors here.
class ValueLocations {
 public:
  void set(const std::string& path, const YAML::Mark& mark);
  /// The position of `path`, else of its nearest recorded parent, else 0:0.
  std::pair<int, int> at(const std::string& path) const;
  /// Given and read without error: validation only judges such values.
  bool has(const std::string& path) const {
    return marks_.count(path) > 0 && failed_.count(path) == 0;
  }
  /// The value at `path` could not be read (its error is already reported).
  void fail(const std::string& path) { failed_.insert(path); }

 private:
  std::map<std::string, std::pair<int, int>> marks_;
  std::set<std::string> failed_;
};

/// "nothing", "a list", "a mapping" or the scalar as written (shortened).
std::string describe(const YAML::Node& n);
/// "a, b or c".
std::string quoted_list(const std::vector<std::string>& words);
/// A node's position, falling back to `fallback` (its key) when yaml-cpp gives
/// a null value (`key:` with nothing after it) no position of its own.
YAML::Mark mark_of(const YAML::Node& n, const YAML::Mark& fallback);
std::string join_path(const std::string& path, const std::string& key);

/// A whole number as written: "8", "+8", never "8.5"; the error says why not.
Expected<long long, std::string> parse_whole_number(std::string_view text);

class YamlReader {
 public:
  struct Options {
    /// Every scalar is ${VAR}-expanded before it is read as a string,
    /// number, boolean or choice (the config); otherwise only where the
    /// caller asks with expanded() (templates), and quoted numbers are strings.
    bool expand_everywhere = false;
    /// Messages start with the value's path ("resources.gpu.count: ...");
    /// the config's name their key themselves.
    bool label_paths = true;
    /// The keys of each section by its path ("resources.gpu"), so that an
    /// unknown key that belongs one level down can be pointed there
    /// ("vram" in resources: it goes under gpu). Null: no such hint.
    const std::map<std::string, std::vector<std::string>>* sections = nullptr;
    /// What expanded() does with an unset ${VAR} that has no default: an
    /// error, or (kRecord) the empty string, listed in unset().
    UnsetVariables unset = UnsetVariables::kError;
  };

  YamlReader(const YamlDocument& doc, DiagnosticSink& sink, ValueLocations& where,
             const Environment& env, Options options);

  void error(const YAML::Mark& m, std::string message, std::string hint = "");

  ValueLocations& where() { return where_; }
  const Environment& env() const { return env_; }
  /// Keys some misspelled key was taken for: not reported missing as well.
  bool suggested(const std::string& path) const;
  /// Written without quotes (quotes the front end added do not count).
  bool plain(const YAML::Node& n) const { return doc_.written_plain(n); }

  struct Field {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
    std::string path;
    YAML::Mark mark;  // of the value, or of the key when the value has none
  };

  /// The known keys of a mapping in file order; unknown and duplicate keys
  /// are reported with a suggestion, as "unknown key 'k'" + `context`
  /// (default: " in PATH"). An empty `known` takes every key (names the user
  /// chooses). nullopt when `node` is not a mapping.
  std::optional<std::vector<Field>> fields(const YAML::Node& node, const YAML::Mark& at,
                                           const std::string& path,
                                           const std::vector<std::string>& known,
                                           std::optional<std::string> context = std::nullopt);

  /// A scalar's text (expanded when the options say so).
  std::optional<std::string> string(const Field& f) { return string(f.value, f.mark, f.path); }
  std::optional<std::string> string(const YAML::Node& n, const YAML::Mark& at,
                                    const std::string& path);
  /// A string that may hold ${VAR}: expanded now, marked secret when it did.
  /// With `unset_out`, an unset variable is not an error but its name is
  /// appended there (the value then stands for the empty string), whatever
  /// the options say.
  std::optional<TemplateString> expanded(const YAML::Node& n, const YAML::Mark& at,
                                         const std::string& path,
                                         std::vector<std::string>* unset_out = nullptr);
  /// The unset variables expanded() recorded under Options::unset = kRecord.
  const std::vector<UnsetVariable>& unset() const { return unset_; }

  std::optional<long long> integer(const Field& f, long long lo, long long hi) {
    return integer(f.value, f.mark, f.path, lo, hi);
  }
  std::optional<long long> integer(const YAML::Node& n, const YAML::Mark& at,
                                   const std::string& path, long long lo, long long hi);
  std::optional<double> number(const Field& f);
  std::optional<bool> boolean(const Field& f);
  /// One of `words`, with "did you mean" for near misses.
  std::optional<std::string> choice(const Field& f, const std::vector<std::string>& words);
  /// A list of strings; a lone string is not a list.
  std::optional<std::vector<std::string>> string_list(const Field& f);

  /// A range written "A..B", "A..", "..B" or as one value; `single_exact`
  /// says whether one value means exactly it (counts) or at least it (sizes).
  template <class T, class Parse>
  std::optional<Range<T>> range(const Field& f, Parse parse_one, bool single_exact,
                                const char* example) {
    auto v = read_range<T>(f, parse_one, single_exact, example);
    if (!v) where_.fail(f.path);
    return v;
  }

  std::string label(const std::string& path) const {
    return path.empty() || !options_.label_paths ? "" : path + ": ";
  }

 private:
  // The text to judge as a typed value: expanded in the config, as written
  // in templates. nullopt when expansion failed (already reported).
  std::optional<std::string> typed_text(const YAML::Node& n, const YAML::Mark& at,
                                        const std::string& path);
  std::optional<long long> read_integer(const YAML::Node& n, const YAML::Mark& at,
                                        const std::string& path, long long lo, long long hi);
  std::optional<double> read_number(const Field& f);
  std::optional<bool> read_boolean(const Field& f);
  std::optional<std::string> read_choice(const Field& f, const std::vector<std::string>& words);
  std::optional<std::vector<std::string>> read_string_list(const Field& f);

  template <class T, class Parse>
  std::optional<Range<T>> read_range(const Field& f, Parse parse_one, bool single_exact,
                                     const char* example) {
    const YAML::Node& n = f.value;
    if (!n.IsScalar()) {
      error(f.mark, label(f.path) + "expected a value or a range such as " + example + ", got " +
                        describe(n));
      return std::nullopt;
    }
    auto typed = typed_text(n, f.mark, f.path);
    if (!typed) return std::nullopt;
    const std::string text = *typed;
    Range<T> r;
    auto one = [&](std::string_view part, std::optional<T>& slot) {
      auto v = parse_one(part);
      if (!v) {
        error(n.Mark(), label(f.path) + v.error(),
              std::string("ranges are written like ") + example);
        return false;
      }
      slot = static_cast<T>(*v);
      return true;
    };
    if (auto dots = text.find(".."); dots != std::string::npos) {
      std::string_view lo = std::string_view(text).substr(0, dots);
      std::string_view hi = std::string_view(text).substr(dots + 2);
      if (lo.empty() && hi.empty()) {
        error(n.Mark(), label(f.path) + "empty range '..'",
              std::string("give at least one end, e.g. ") + example);
        return std::nullopt;
      }
      bool ok = true;
      if (!lo.empty()) ok = one(lo, r.min) && ok;
      if (!hi.empty()) ok = one(hi, r.max) && ok;
      if (!ok) return std::nullopt;
      return r;
    }
    if (!one(text, r.min)) return std::nullopt;
    if (single_exact) r.max = r.min;
    return r;
  }

  const YamlDocument& doc_;
  DiagnosticSink& sink_;
  ValueLocations& where_;
  const Environment& env_;
  Options options_;
  std::vector<std::string> suggested_;
  std::vector<UnsetVariable> unset_;
};

}  // namespace berth
