// Vast.ai: a container-native marketplace. Offers come from an operator-object
// query built from the template (so the marketplace filters server-side too);
// instances are rented from an ask id with image, env and ports in the call
// and reached as root@public_ipaddr on the host port mapped to 22/tcp.
#pragma once

#include <memory>
#include <string>

#include "berth/config.h"
#include "berth/expected.h"
#include "berth/provider.h"

namespace berth::vastai {

inline constexpr const char* kDefaultBaseUrl = "https://console.vast.ai";

/// Settings: `verified_only: true|false` (default true), `limit: N` offers per
/// query (default 1000).
Expected<std::unique_ptr<Provider>, std::string> create(const ProviderConfig& config,
                                                        ProviderContext& context);

}  // namespace berth::vastai
