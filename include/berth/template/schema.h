// The JSON Schema (draft 2020-12) of the launch template, for editors
// (yaml-language-server, VS Code) and for checking templates outside berth.
#pragma once

#include <nlohmann/json.hpp>

namespace berth {

/// Describes exactly the keys and value forms load_template accepts. Rules
/// that relate several values (inverted ranges, health port among ports, GPU
/// models in the catalog) are left to `berth validate`.
nlohmann::json launch_template_schema();

}  // namespace berth
