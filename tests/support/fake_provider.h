// Provider types for core tests, handed to parse_config/ProviderSet::create
// in place of the real registry. "fake" answers from its settings; "fakehttp"
// asks a loopback server through the shared HTTP client, as real adapters do.
#pragma once

#include <string>
#include <vector>

#include "berth/config/config.h"
#include "berth/provider/provider.h"

namespace berth::testing {

/// settings: offers (array of offer JSON), error ("auth", "transient", ...),
/// throws (bool), spot (bool: Capabilities::spot). fakehttp: base_url, api_key; GET {base_url}/offers with a
/// Bearer key; 401 = auth, other non-2xx = transient; body = array of offers.
const std::vector<ProviderType>& fake_provider_types();

/// An offer as a provider would return it, for building test data.
Offer make_offer(const std::string& provider, const std::string& id, const std::string& model,
                 int count, double vram_gb, double price, const std::string& region = "us-east-1");

}  // namespace berth::testing
