// One offer tried while (re)deploying a replica: the deploy engine records
// it, `up` prints it and watch reports it as an `attempt` event
// (docs/json.md, "attempts"; docs/watch-events.md).
#pragma once

#include <functional>
#include <string>

namespace berth {

struct Attempt {
  int replica = 0;
  std::string provider;
  std::string offer_id;
  double price_per_hour = 0;
  std::string result;   // "launched", "no-capacity", "transient", "unreachable", "failed", ...
  std::string message;  // why, in the provider's words
};
using AttemptSink = std::function<void(const Attempt&)>;

}  // namespace berth
