// What `offers` and `providers` share: the provider set built from the config
// with the client options the global flags ask for (-vv tracing, --timeout,
// ^C cancelling every wait).
#pragma once

#include <string>

#include "berth/config/provider_set.h"
#include "cli/app.h"

namespace berth::cli {

/// Reports (and returns the exit code of) a bad --timeout or a provider that
/// cannot be built.
Expected<ProviderSet, int> open_providers(const Config& config, const GlobalOptions& g);

/// open_providers, refusing (exit 3) a config where no provider is left to
/// ask: none configured, or every one disabled (naming what is missing).
Expected<ProviderSet, int> open_usable_providers(const Config& config, const GlobalOptions& g);

std::string provider_names(const ProviderSet& providers);

}  // namespace berth::cli
