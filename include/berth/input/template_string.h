// What the typed reader (src/input/yaml_reader.h) gives for a string value of a
// template or config file, and for a ${VAR} it could not expand yet.
#pragma once

#include <string>

namespace berth {

/// Values that came from ${VAR} expansion are secret: never printed, logged,
/// or put on any command line.
struct TemplateString {
  std::string value;
  bool secret = false;
};

/// A ${VAR} of the template that was unset (and had no default) when it was
/// loaded with UnsetVariables::kRecord: `up` and `watch` will need it.
struct UnsetVariable {
  std::string name;  // HF_TOKEN
  std::string path;  // env.HF_TOKEN
  int line = 0, column = 0;  // 1-based, of the value
};

}  // namespace berth
