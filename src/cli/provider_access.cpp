#include "cli/provider_access.h"

#include "berth/common/cancel.h"
#include "berth/common/units.h"

namespace berth::cli {

Expected<ProviderSet, int> open_providers(const Config& config, const GlobalOptions& g) {
  auto timeout = timeout_flag(g);
  if (!timeout) return unexpected(timeout.error());
  install_cancel_handlers();
  HttpOptions options = http_options_for_cli(g.quiet ? 0 : g.verbose, *timeout);
  options.cancel = &cancel_flag();
  auto set = ProviderSet::create(config, std::move(options));
  if (!set)
    return unexpected(report(
        Failure{ExitCode::kInvalidInput, set.error(), "check the provider in " + config.source}));
  return std::move(*set);
}

namespace {

std::string no_providers_hint() {
  return "add providers to ~/.config/berth/config.yaml, or set a provider's API-key variable (" +
         api_key_variables() + ")";
}

}  // namespace

Expected<ProviderSet, int> open_usable_providers(const Config& config, const GlobalOptions& g) {
  auto providers = open_providers(config, g);
  if (!providers || !providers->all().empty()) return providers;
  if (!config.disabled.empty())
    return unexpected(report(Failure{ExitCode::kInvalidInput,
                                     "every provider in " + config.source + " is disabled: " +
                                         disabled_providers_text(config),
                                     "set the missing credentials"}));
  return unexpected(report(Failure{ExitCode::kInvalidInput,
                                   config.source.front() == '(' ? "no providers configured"
                                                                : "no providers in " + config.source,
                                   no_providers_hint()}));
}

std::string provider_names(const ProviderSet& providers) {
  std::string names;
  for (const auto* p : providers.all()) names += (names.empty() ? "" : ", ") + p->name();
  return names.empty() ? "(none)" : names;
}

}  // namespace berth::cli
