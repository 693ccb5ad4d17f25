#include "support/adapter_fixture.h"

#include <deque>
#include <mutex>

namespace berth::testing {

namespace {

// Where each mock serves its API below its root, as the real base URLs do.
std::string path_prefix(const std::string& type) { return type == "lambda" ? "/api/v1" : ""; }

}  // namespace

AdapterFixture::AdapterFixture(const std::string& type, AdapterOptions options)
    : mock(type, std::move(options.mock_args)),
      http(test_http_client(options.max_attempts, options.total_timeout_ms)),
      adapter(make_adapter(type, mock, *http, path_prefix(type), std::move(options.settings))),
      type_(type) {}

std::unique_ptr<Provider> AdapterFixture::adapter_with(nlohmann::json settings,
                                                       const std::string& api_key) const {
  return make_adapter(type_, mock, *http, path_prefix(type_), std::move(settings), api_key);
}

const Offer* find_offer(const std::vector<Offer>& offers, const std::string& id) {
  for (const auto& o : offers)
    if (o.id == id) return &o;
  return nullptr;
}

LaunchRequest request_for(const Offer& offer, const std::string& name) {
  LaunchRequest r;
  r.name = name;
  r.labels = {{"berth-deployment", "chat"}, {"berth-replica", "0"}};
  r.offer = offer;
  r.ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBerthTestKey berth@test";
  return r;
}

LaunchRequest request_for(const Offer& offer, const LaunchTemplate& workload,
                          const std::string& name) {
  return request_for(offer, resolve_workload(workload), name);
}

LaunchRequest request_for(const Offer& offer, WorkloadSpec container, const std::string& name) {
  // A request points at its container, as the core's does at the run's; here
  // the specs live as long as the test binary.
  static std::deque<WorkloadSpec> kept;
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  kept.push_back(std::move(container));
  LaunchRequest r = request_for(offer, name);
  r.container = &kept.back();
  return r;
}

}  // namespace berth::testing
