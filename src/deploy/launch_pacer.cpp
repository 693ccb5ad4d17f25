#include "berth/deploy/launch_pacer.h"

#include <algorithm>

namespace berth {

Duration LaunchPacer::reserve(const std::string& provider, const LaunchPacing& pacing,
                              Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& next = next_[provider];
  auto at = std::max(now, next);
  next = at + pacing.min_interval;
  return std::chrono::ceil<Duration>(at - now);
}

void LaunchPacer::refused(const std::string& provider, Duration wait, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& next = next_[provider];
  next = std::max(next, now + wait);
}

}  // namespace berth
