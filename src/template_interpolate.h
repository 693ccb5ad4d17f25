// ${VAR} and ${VAR:-default} in template strings, expanded from the launching
// environment at load time. `$$` is a literal `$`; any other `$` is left alone
// so shell commands such as "echo $HOME" reach the container unchanged.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "berth/environment.h"
#include "berth/expected.h"

namespace berth {

struct Interpolated {
  std::string value;
  bool expanded = false;  // a ${...} was replaced: the value is a secret
};

struct InterpolationError {
  std::size_t offset = 0;  // byte offset of the offending "${" in the input
  std::string message;
  std::string hint;
};

Expected<Interpolated, InterpolationError> interpolate(std::string_view text,
                                                       const Environment& env);

}  // namespace berth
