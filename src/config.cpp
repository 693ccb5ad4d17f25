// PLACEHOLDER: replaced by the real config loader.
#include "berth/config.h"

namespace berth {

Expected<Config, Diagnostics> load_config(const std::optional<std::filesystem::path>&,
                                          const Environment&) {
  Config c;
  c.source = "(embedded default)";
  return c;
}

}  // namespace berth
