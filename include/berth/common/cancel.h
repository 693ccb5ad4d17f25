// SIGINT and SIGTERM as a value: the handler only sets a flag, and every loop
// that can take long (polling a provider, a subprocess, a health wait) checks
// it, so berth stops at a point where it knows what it created and can clean
// up before exiting 130.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "berth/common/units.h"

namespace berth {

/// Installs the handlers (idempotent). Children spawned by ProcessRunner run in
/// their own process group, so a terminal ^C reaches berth alone.
void install_cancel_handlers();

/// The flag the handlers set; hand it to ProcessSpec::cancel.
const std::atomic<bool>& cancel_flag();
bool cancel_requested();
/// The signal that asked to stop (SIGINT or SIGTERM), 0 when none.
int cancel_signal();

/// For tests and for commands that cancel themselves (an overall --timeout).
void request_cancel(int signal_number = 0);
void reset_cancel();

/// Sleeps up to `d`, waking early on cancellation. Returns false when cancelled.
bool sleep_unless_cancelled(Duration d);

/// The global `--timeout`: once `limit` has passed since construction, the
/// command is cancelled exactly as a signal would cancel it (request_cancel),
/// so every wait that honours ^C ends there too and whatever the command
/// created is cleaned up the same way. expired() tells the two causes apart
/// afterwards. Destroying it before the limit disarms it.
class CommandDeadline {
 public:
  using Clock = std::chrono::steady_clock;
  explicit CommandDeadline(Duration limit);
  ~CommandDeadline();
  CommandDeadline(const CommandDeadline&) = delete;
  CommandDeadline& operator=(const CommandDeadline&) = delete;

  Duration limit() const { return limit_; }
  Clock::time_point at() const { return at_; }
  bool expired() const { return expired_.load(); }

 private:
  Duration limit_;
  Clock::time_point at_;
  std::atomic<bool> expired_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool disarmed_ = false;
  std::thread timer_;
};

/// A time by which whatever the current thread asks of the outside must end:
/// the HTTP client's send() (berth/http/http.h) and ProcessRunner runs cap their
/// budgets by it and end as timed out there. ProviderSet::list_offers sets
/// one per provider (its offers deadline, docs/config.md), so a provider that
/// answers slowly becomes a report instead of holding up the others. A scope
/// inside another keeps the earlier time; leaving it restores the outer one.
class ScopedCallDeadline {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ScopedCallDeadline(std::optional<Clock::time_point> at);
  ~ScopedCallDeadline();
  ScopedCallDeadline(const ScopedCallDeadline&) = delete;
  ScopedCallDeadline& operator=(const ScopedCallDeadline&) = delete;

 private:
  std::optional<Clock::time_point> previous_;
};

/// The current thread's call deadline, if a ScopedCallDeadline set one.
std::optional<std::chrono::steady_clock::time_point> call_deadline();

/// A second reason for the current thread to stop, beside a signal: `up`
/// deploys its replicas on threads of their own, and when one fails the
/// others stop where they are (all or nothing) by this flag. ProcessRunner
/// runs that honour cancellation (ProcessSpec::cancel set) end on it as on
/// ^C; cleanup, which runs with no cancel flag, is never cut short by it.
/// A scope inside another replaces it until it ends.
class ScopedCancel {
 public:
  explicit ScopedCancel(const std::atomic<bool>* flag);
  ~ScopedCancel();
  ScopedCancel(const ScopedCancel&) = delete;
  ScopedCancel& operator=(const ScopedCancel&) = delete;

 private:
  const std::atomic<bool>* previous_;
};

/// True when the current thread's ScopedCancel flag is set.
bool thread_cancelled();

}  // namespace berth
