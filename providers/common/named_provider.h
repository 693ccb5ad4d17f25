// What every adapter answers the same way: the name the config gave it and
// its type. Adapters derive from this rather than from Provider itself.
#pragma once

#include <string>

#include "berth/provider.h"

namespace berth {

class NamedProvider : public Provider {
 public:
  NamedProvider(std::string name, std::string type)
      : name_(std::move(name)), type_(std::move(type)) {}

  const std::string& name() const final { return name_; }
  std::string type() const final { return type_; }

 protected:
  const std::string name_;  // the config name: Offer::provider, Instance::provider

 private:
  const std::string type_;
};

}  // namespace berth
