// Lambda Cloud (API v1): a VM provider. Offers from /instance-types (a map
// keyed by type, prices in cents, sizes in GiB); instances launched with a
// registered SSH key and reached as ubuntu@ip:22.
#pragma once

#include <memory>
#include <string>

#include "berth/config.h"
#include "berth/expected.h"
#include "berth/provider.h"

namespace berth::lambda {

inline constexpr const char* kDefaultBaseUrl = "https://cloud.lambda.ai/api/v1";

Expected<std::unique_ptr<Provider>, std::string> create(const ProviderConfig& config,
                                                        ProviderContext& context);

}  // namespace berth::lambda
