// Every provider type berth knows. Adding a provider is a folder under
// providers/ plus one line here (see providers/README.md).
#include "berth/provider.h"

namespace berth {

const std::vector<ProviderType>& provider_types() {
  static const std::vector<ProviderType> types = {
  };
  return types;
}

const ProviderType* find_provider_type(const std::string& type) {
  for (const auto& t : provider_types())
    if (t.type == type) return &t;
  return nullptr;
}

}  // namespace berth
