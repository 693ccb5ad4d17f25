// What every adapter test starts from: the provider's mock running on
// loopback, a client for it and the registered adapter configured against
// the mock; and the lookups and launch requests those tests share.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "berth/http/http.h"
#include "berth/provider/provider.h"
#include "support/mock_server.h"

namespace berth::testing {

struct AdapterOptions {
  std::vector<std::string> mock_args;  // e.g. {"--boot-seconds", "0.3"}
  int max_attempts = 1;                // 1: each injected fault reaches the adapter as sent
  int total_timeout_ms = 5000;
  nlohmann::json settings = nlohmann::json::object();  // the adapter's own config keys
};

class AdapterFixture {
 public:
  /// `type` is "lambda", "runpod" or "vastai".
  explicit AdapterFixture(const std::string& type, AdapterOptions options = {});

  /// Another adapter of the same type against the same mock: other settings,
  /// or another API key ("" = the mock's).
  std::unique_ptr<Provider> adapter_with(nlohmann::json settings,
                                         const std::string& api_key = "") const;

  MockServer mock;
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<Provider> adapter;

 private:
  std::string type_;
};

/// The offer with this id, or nullptr.
const Offer* find_offer(const std::vector<Offer>& offers, const std::string& id);

/// A launch of `offer` as the core asks for one: `name`, the deployment's
/// labels and a test SSH key; container-native providers also get `workload`.
LaunchRequest request_for(const Offer& offer, const std::string& name);
LaunchRequest request_for(const Offer& offer, const LaunchTemplate& workload,
                          const std::string& name);
LaunchRequest request_for(const Offer& offer, WorkloadSpec container, const std::string& name);

}  // namespace berth::testing
