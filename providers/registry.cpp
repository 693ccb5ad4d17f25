// Every provider type berth knows. Adding a provider is a folder under
// providers/ plus one line here (see providers/README.md).
#include "berth/config/config.h"
#include "berth/provider/provider.h"
#include "providers/lambda/lambda_provider.h"
#include "providers/local/local_provider.h"
#include "providers/runpod/runpod_provider.h"
#include "providers/ssh/ssh_provider.h"
#include "providers/vastai/vastai_provider.h"

namespace berth {

const std::vector<ProviderType>& provider_types() {
  static const std::vector<ProviderType> types = {
      local_provider_type(),
      ssh_provider_type(),
      {"lambda", {"api_key", "base_url"}, "LAMBDA_API_KEY", lambda::create, nullptr,
       lambda::kDefaultBaseUrl, lambda::region_codes},
      {"runpod", {"api_key", "base_url", "cloud"}, "RUNPOD_API_KEY", runpod::create,
       runpod::read_settings, runpod::kDefaultBaseUrl, runpod::known_data_centers},
      {"vastai", {"api_key", "base_url", "verified_only"}, "VAST_API_KEY", vastai::create,
       vastai::read_settings, vastai::kDefaultBaseUrl},
  };
  return types;
}

const ProviderType* find_provider_type(const std::string& type) {
  for (const auto& t : provider_types())
    if (t.type == type) return &t;
  return nullptr;
}

std::string effective_base_url(const ProviderConfig& config) {
  const ProviderType* t = find_provider_type(config.type);
  if (!t || t->default_base_url.empty()) return "";
  return config.base_url.empty() ? t->default_base_url : config.base_url;
}

std::vector<std::string> known_provider_regions() {
  std::vector<std::string> names;
  for (const auto& t : provider_types())
    if (t.known_regions)
      for (auto& name : t.known_regions()) names.push_back(std::move(name));
  return names;
}

std::string api_key_variables() {
  std::string out;
  for (const auto& t : provider_types())
    if (!t.api_key_env.empty()) out += (out.empty() ? "" : ", ") + t.api_key_env;
  return out;
}

}  // namespace berth
