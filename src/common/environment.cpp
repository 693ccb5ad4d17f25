#include "berth/common/environment.h"

#include <cstdlib>

namespace berth {

Environment Environment::process() {
  return Environment([](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  });
}

Environment Environment::from_map(std::map<std::string, std::string> vars) {
  return Environment([vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

}  // namespace berth
