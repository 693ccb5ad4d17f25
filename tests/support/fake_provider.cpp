#include "support/fake_provider.h"

#include <stdexcept>

#include "berth/http/http.h"

namespace berth::testing {

namespace {

std::optional<ProviderError::Kind> kind_from_string(const std::string& s) {
  using K = ProviderError::Kind;
  for (K k : {K::kAuth, K::kNoCapacity, K::kQuota, K::kRateLimited, K::kTransient,
              K::kInvalidRequest, K::kBadResponse, K::kNotFound})
    if (to_string(k) == s) return k;
  return std::nullopt;
}

Expected<std::vector<Offer>, ProviderError> offers_from_json(const nlohmann::json& array) {
  std::vector<Offer> out;
  if (!array.is_array())
    return unexpected(ProviderError{ProviderError::Kind::kBadResponse, "expected an array"});
  for (const auto& j : array) {
    auto o = offer_from_json(j);
    if (!o) return unexpected(ProviderError{ProviderError::Kind::kBadResponse, o.error()});
    out.push_back(std::move(*o));
  }
  return out;
}

class FakeProvider : public Provider {
 public:
  FakeProvider(const ProviderConfig& config, const ProviderContext& context)
      : name_(config.name),
        type_(config.type),
        settings_(config.settings),
        base_url_(config.base_url),
        api_key_(config.api_key),
        http_(context.http),
        context_labels_{{"runtime", context.runtime},
                        {"ssh_key", context.ssh_key.string()},
                        {"state_dir", context.state_dir.string()}} {}

  const std::string& name() const override { return name_; }
  std::string type() const override { return type_; }
  Capabilities capabilities() const override {
    Capabilities c;
    if (auto it = settings_.find("spot"); it != settings_.end())
      c.spot = it->is_boolean() ? it->get<bool>() : *it == "true";
    return c;
  }

  Expected<std::vector<Offer>, ProviderError> list_offers(const OfferQuery&) override {
    if (auto e = configured_error()) return unexpected(*e);
    if (type_ == "fakehttp") {
      HttpRequest req;
      req.url = base_url_ + "/offers";
      req.headers = {{"Authorization", "Bearer " + api_key_}};
      req.secrets = {api_key_};
      auto r = http_->send(req);
      if (!r) return unexpected(ProviderError{ProviderError::Kind::kTransient, r.error().message});
      if (r->status == 401)
        return unexpected(ProviderError{ProviderError::Kind::kAuth, "invalid API key"});
      if (r->status != 200)
        return unexpected(
            ProviderError{ProviderError::Kind::kTransient, "HTTP " + std::to_string(r->status)});
      try {
        return offers_from_json(nlohmann::json::parse(r->body));
      } catch (const nlohmann::json::exception& e) {
        return unexpected(ProviderError{ProviderError::Kind::kBadResponse, e.what()});
      }
    }
    return offers_from_json(settings_.value("offers", nlohmann::json::array()));
  }
  Expected<Instance, ProviderError> launch(const LaunchRequest&) override { return unsupported(); }
  Expected<Instance, ProviderError> get(const std::string&) override { return unsupported(); }
  Expected<std::vector<Instance>, ProviderError> list() override {
    if (auto e = configured_error()) return unexpected(*e);
    Instance i;
    i.id = name_ + "-1";
    i.name = "berth-demo-0-abc123";
    i.labels = context_labels_;  // what the core handed this adapter
    return std::vector<Instance>{i};
  }
  Expected<void, ProviderError> terminate(const std::string&) override {
    return unexpected(ProviderError{ProviderError::Kind::kInvalidRequest, "not supported"});
  }
  Expected<void, ProviderError> check_credentials() override {
    if (type_ == "fakehttp") {
      auto r = list_offers({});
      if (!r) return unexpected(r.error());
      return {};
    }
    if (auto e = configured_error()) return unexpected(*e);
    return {};
  }

 private:
  std::optional<ProviderError> configured_error() const {
    if (settings_.value("throws", false)) throw std::runtime_error("adapter bug");
    if (!settings_.contains("error")) return std::nullopt;
    auto kind = kind_from_string(settings_["error"].get<std::string>());
    return ProviderError{kind.value_or(ProviderError::Kind::kTransient), "configured failure"};
  }
  Expected<Instance, ProviderError> unsupported() const {
    return unexpected(ProviderError{ProviderError::Kind::kInvalidRequest, "not supported"});
  }

  std::string name_, type_;
  nlohmann::json settings_;
  std::string base_url_, api_key_;
  HttpClient* http_;
  std::map<std::string, std::string> context_labels_;
};

Expected<std::unique_ptr<Provider>, std::string> create_fake(const ProviderConfig& config,
                                                             ProviderContext& context) {
  if (config.type == "fakehttp" && config.base_url.empty())
    return unexpected(std::string("base_url is required"));
  return std::unique_ptr<Provider>(std::make_unique<FakeProvider>(config, context));
}

}  // namespace

const std::vector<ProviderType>& fake_provider_types() {
  static const std::vector<ProviderType> types = {
      {"fake", {"offers", "error", "throws", "spot"}, "", create_fake},
      {"fakehttp", {}, "FAKEHTTP_API_KEY", create_fake},
  };
  return types;
}

Offer make_offer(const std::string& provider, const std::string& id, const std::string& model,
                 int count, double vram_gb, double price, const std::string& region) {
  Offer o;
  o.provider = provider;
  o.id = id;
  o.region = region;
  o.gpu.model = model;
  o.gpu.count = count;
  o.gpu.vram_gb = vram_gb;
  o.vcpus = 8 * count;
  o.memory_gb = 64.0 * count;
  o.disk_gb = 500;
  o.price_per_hour = price;
  return o;
}

}  // namespace berth::testing
