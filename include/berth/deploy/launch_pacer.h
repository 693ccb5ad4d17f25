// Launch pacing per provider: the core spaces launches to one provider by
// its documented rate limit (Capabilities::pacing) and, after a 429 on a
// launch, waits before trying the same offer again instead of spending the
// next candidate on another 429. One pacer serves a whole command, so
// replicas and watch's redeploys share what each provider allows.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "berth/common/units.h"
#include "berth/provider/provider.h"

namespace berth {

class LaunchPacer {
 public:
  using Clock = std::chrono::steady_clock;

  /// How long to wait before launching at `provider` now; the launch is
  /// booked at now + the wait, so the next caller waits behind it.
  Duration reserve(const std::string& provider, const LaunchPacing& pacing,
                   Clock::time_point now = Clock::now());
  /// The provider refused a launch as too frequent: nothing more until
  /// now + `wait`.
  void refused(const std::string& provider, Duration wait, Clock::time_point now = Clock::now());

 private:
  std::mutex mutex_;
  std::map<std::string, Clock::time_point> next_;  // earliest next launch
};

}  // namespace berth
