// What an adapter knows about itself without asking its API: the name the
// config gave it, its type and what it can do. Every adapter derives from
// this rather than from Provider itself and states the three once, when it
// is built.
#pragma once

#include <string>

#include "berth/provider/provider.h"

namespace berth {

class ProviderAdapter : public Provider {
 public:
  ProviderAdapter(std::string name, std::string type, Capabilities capabilities)
      : name_(std::move(name)), type_(std::move(type)), capabilities_(capabilities) {}

  const std::string& name() const final { return name_; }
  std::string type() const final { return type_; }
  Capabilities capabilities() const final { return capabilities_; }

 protected:
  const std::string name_;  // the config name: Offer::provider, Instance::provider

 private:
  const std::string type_;
  const Capabilities capabilities_;
};

}  // namespace berth
