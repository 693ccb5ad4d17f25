// RunPod (REST v2): container-native. Offers from the GPU catalog (prices per
// GPU, availability per data center); pods created with image, env, ports and
// berth's key in PUBLIC_KEY; SSH from ssh.direct once the pod runs.
#pragma once

#include <memory>
#include <string>

#include "berth/config.h"
#include "berth/expected.h"
#include "berth/provider.h"

namespace berth::runpod {

inline constexpr const char* kDefaultBaseUrl = "https://api.runpod.io";

/// Settings: `cloud: secure | community | all` (default all).
Expected<std::unique_ptr<Provider>, std::string> create(const ProviderConfig& config,
                                                        ProviderContext& context);

}  // namespace berth::runpod
