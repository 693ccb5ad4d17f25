// The configured providers, built from the config through the registry, and
// the core's concurrent fan-out over them: every provider is asked at once,
// one failing never fails the others.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/expected.h"
#include "berth/config/config.h"
#include "berth/http/http.h"
#include "berth/provider/provider.h"

namespace berth {

struct ProviderReport {
  std::string provider;
  std::size_t count = 0;  // offers or instances returned
  Duration latency{0};
  std::optional<ProviderError> error;
  /// Offers dropped for impossible values (offer_insanity), and why the
  /// first one was: said once per provider, never placed.
  std::size_t dropped = 0;
  std::string dropped_reason;
  /// The provider's `limit` when its answer held more offers and the rest
  /// were left unread (config.h, offer_limit); 0 when nothing was cut.
  std::size_t cut_at = 0;
  bool ok() const { return !error.has_value(); }
};

/// Why an offer's values cannot be real (a negative or non-finite price,
/// a GPU count outside 0..64, VRAM, RAM, disk, vCPUs or CUDA out of any
/// machine's range, an empty or overlong id), or nullopt.
/// ProviderSet::list_offers drops such offers before anything ranks them.
std::optional<std::string> offer_insanity(const Offer& offer);

struct OfferListing {
  std::vector<Offer> offers;
  std::vector<ProviderReport> reports;  // one per provider asked, in config order
};

struct InstanceListing {
  std::vector<Instance> instances;
  std::vector<ProviderReport> reports;
};

class ProviderSet {
 public:
  /// Builds every provider of `config`. Fails with a message naming the
  /// provider when one cannot be created (unknown type, bad settings).
  /// Every credential of the config is added to the client's redaction list.
  static Expected<ProviderSet, std::string> create(
      const Config& config, HttpOptions http_options,
      const std::vector<ProviderType>& types = provider_types());

  std::vector<Provider*> all() const;
  Provider* find(const std::string& name) const;
  /// The config's providers left out for a missing credential (Config::disabled).
  const std::vector<DisabledProvider>& disabled() const { return disabled_; }
  /// The deadline list_offers gives `provider` (one of all()).
  Duration offers_timeout(const Provider& provider) const;
  HttpClient& http() const { return *http_; }

  /// Concurrently, from every provider (or only those named). Each provider
  /// has its offers deadline (offers_timeout in the config, else
  /// Capabilities::offers_timeout): one that has not answered by then is
  /// reported late (a kTransient error naming the deadline) and its offers
  /// are left out; the others are not held up.
  OfferListing list_offers(const OfferQuery& query,
                           const std::vector<std::string>& only = {}) const;
  InstanceListing list_instances(const std::vector<std::string>& only = {}) const;
  /// Provider::check_credentials of every provider at once; `count` is unused.
  std::vector<ProviderReport> check_credentials(const std::vector<std::string>& only = {}) const;

  /// Whether `name` matches one of `globs` (fnmatch); an empty list matches all.
  static bool selected(const std::string& name, const std::vector<std::string>& globs);

 private:
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<ProviderContext> context_;
  std::vector<std::unique_ptr<Provider>> providers_;
  std::vector<std::size_t> limits_;  // offer_limit of each of providers_
  std::vector<std::optional<Duration>> offers_timeouts_;  // per provider, from the config
  std::vector<DisabledProvider> disabled_;
};

}  // namespace berth
