// ${VAR} and ${VAR:-default} in template and config values: the one rule both
// files follow, expanded from the environment berth runs in when the file is
// loaded. `$$` is a literal `$`; any other `$` is left alone so shell commands
// such as "echo $HOME" reach the container unchanged. An empty variable is the
// empty string, unless a default is given (as in the shell's ${VAR:-default}).
// An unset variable without a default is an error, unless the caller asks to
// record it (UnsetVariables::kRecord): then it stands for the empty string and
// its name is listed, for commands that do not need the value yet.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/environment.h"
#include "berth/common/expected.h"

namespace berth {

struct Interpolated {
  std::string value;
  bool expanded = false;  // a ${...} was replaced: the value is a secret
  std::string first_variable;  // the name in the first ${...}, for messages
  /// Variables that were unset and had no default (kRecord only), in order.
  std::vector<std::string> unset;
};


struct InterpolationError {
  std::size_t offset = 0;  // byte offset of the offending "${" in the input
  std::string message;
  std::string hint;
};

Expected<Interpolated, InterpolationError> interpolate(
    std::string_view text, const Environment& env,
    UnsetVariables unset = UnsetVariables::kError);

}  // namespace berth
