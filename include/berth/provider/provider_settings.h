// A provider's entry in the config as its adapter reads it, when the config
// is loaded (ProviderType::read_settings): each value with the place it was
// written, and typed getters that report a malformed value there —
// file:line:col, every problem of the file at once, exit 3 — instead of the
// adapter failing later without a location. Messages quote the file as
// written (or name the *_file a value came from), never a value.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth {

struct ProviderConfig;

class SettingValue {
 public:
  struct Impl;
  explicit SettingValue(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  /// How messages name it, relative to the provider: "cloud", "hosts[1].port".
  const std::string& name() const;
  bool is_list() const;
  bool is_mapping() const;
  /// Read from a `KEY_file:` (then a secret, and never quoted in messages).
  bool from_file() const;

  // Each getter reports a value it cannot take (at its position) and
  // returns nullopt. Values are ${VAR}-expanded first; quotes do not matter.
  std::optional<std::string> text() const;
  std::optional<long long> integer(long long lo, long long hi) const;
  std::optional<double> number(double lo, double hi) const;
  std::optional<bool> boolean() const;  // true | false, any case
  /// One of `words` (compared case-insensitively), as the word is spelled there.
  std::optional<std::string> choice(const std::vector<std::string>& words) const;
  std::optional<std::vector<SettingValue>> items() const;
  /// A mapping's entries with keys among `keys`, in file order; unknown and
  /// repeated keys are reported ("unknown key 'k'" + `context`).
  std::optional<std::vector<std::pair<std::string, SettingValue>>> entries(
      const std::vector<std::string>& keys, const std::string& context) const;
  /// As written, for types that keep settings as they are: plain numbers and
  /// true/false become numbers and booleans, strings are expanded.
  std::optional<nlohmann::json> to_json() const;

  void error(std::string message, std::string hint = "") const;

 private:
  std::shared_ptr<const Impl> impl_;
};

class ProviderSettings {
 public:
  virtual ~ProviderSettings() = default;
  virtual const std::string& name() const = 0;  // the key under providers:
  virtual const std::string& type() const = 0;
  /// The value of `key` (one of the type's keys), or of `KEY_file:`; nullopt
  /// when the entry gives neither.
  virtual std::optional<SettingValue> get(const std::string& key) const = 0;
  /// An error about the entry as a whole (a required key missing), at its name.
  virtual void error(std::string message, std::string hint = "") const = 0;
};

/// Reads a type's own settings into `out` (settings, hosts), reporting every
/// problem through `settings`.
using SettingsReader = std::function<void(const ProviderSettings& settings, ProviderConfig& out)>;

}  // namespace berth
