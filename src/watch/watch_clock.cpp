#include <thread>

#include "berth/watch/watch.h"

namespace berth {

namespace {

class SystemClock final : public WatchClock {
 public:
  explicit SystemClock(const std::atomic<bool>* cancel) : cancel_(cancel) {}

  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::now();
  }

  // Sleeps in short slices: the signal handler may only set a flag, so the
  // flag is what wakes us, within 50 ms.
  bool sleep_until(TimePoint t) override {
    constexpr auto kSlice = std::chrono::milliseconds(50);
    for (;;) {
      if (cancelled()) return false;
      auto left = t - now();
      if (left <= TimePoint::duration::zero()) return true;
      std::this_thread::sleep_for(std::min<TimePoint::duration>(left, kSlice));
    }
  }

  bool cancelled() const override { return cancel_ && cancel_->load(); }

 private:
  const std::atomic<bool>* cancel_;
};

}  // namespace

std::unique_ptr<WatchClock> make_system_clock(const std::atomic<bool>* cancel) {
  return std::make_unique<SystemClock>(cancel);
}

}  // namespace berth
