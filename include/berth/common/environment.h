// The process environment as a seam: templates and config expand ${VAR} from
// it, and tests hand in their own.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace berth {

/// What a ${VAR} without a default does when VAR is unset (src/input/interpolate.h):
/// an error, or recorded (it stands for the empty string and its name is
/// listed) by commands that do not need the value yet (validate, offers,
/// plan; docs/templates.md).
enum class UnsetVariables { kError, kRecord };

class Environment {
 public:
  using Getter = std::function<std::optional<std::string>(std::string_view)>;
  explicit Environment(Getter getter) : getter_(std::move(getter)) {}

  /// The real process environment.
  static Environment process();
  /// A fixed map, for tests.
  static Environment from_map(std::map<std::string, std::string> vars);

  std::optional<std::string> get(std::string_view name) const { return getter_(name); }

 private:
  Getter getter_;
};

}  // namespace berth
