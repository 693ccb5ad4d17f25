#include "berth/common/cancel.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace berth {
namespace {

std::atomic<bool> g_cancelled{false};
std::atomic<int> g_signal{0};
std::atomic<int> g_count{0};

void on_signal(int sig) {
  g_signal.store(sig);
  g_cancelled.store(true);
  // A third signal means the user wants out now, even at the price of a
  // cleanup that did not finish; the first two only ask berth to stop.
  if (g_count.fetch_add(1) >= 2) {
    static const char msg[] = "berth: interrupted again; exiting without finishing cleanup\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    _exit(130);
  }
}

}  // namespace

void install_cancel_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and loops notice
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

const std::atomic<bool>& cancel_flag() { return g_cancelled; }
bool cancel_requested() { return g_cancelled.load(); }
int cancel_signal() { return g_signal.load(); }

void request_cancel(int signal_number) {
  g_signal.store(signal_number);
  g_cancelled.store(true);
}

void reset_cancel() {
  g_cancelled.store(false);
  g_signal.store(0);
  g_count.store(0);
}

bool sleep_unless_cancelled(Duration d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (!g_cancelled.load()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= end) return true;
    auto step = std::min<std::chrono::steady_clock::duration>(end - now, std::chrono::milliseconds(50));
    std::this_thread::sleep_for(step);
  }
  return false;
}

CommandDeadline::CommandDeadline(Duration limit) : limit_(limit), at_(Clock::now() + limit) {
  timer_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    if (wake_.wait_until(lock, at_, [this] { return disarmed_; })) return;
    expired_.store(true);
    request_cancel(0);
  });
}

CommandDeadline::~CommandDeadline() {
  {
    std::lock_guard lock(mutex_);
    disarmed_ = true;
  }
  wake_.notify_all();
  timer_.join();
}

namespace {
thread_local std::optional<std::chrono::steady_clock::time_point> t_call_deadline;
}  // namespace

ScopedCallDeadline::ScopedCallDeadline(std::optional<Clock::time_point> at)
    : previous_(t_call_deadline) {
  if (at && (!t_call_deadline || *at < *t_call_deadline)) t_call_deadline = at;
}

ScopedCallDeadline::~ScopedCallDeadline() { t_call_deadline = previous_; }

std::optional<std::chrono::steady_clock::time_point> call_deadline() { return t_call_deadline; }

namespace {
thread_local const std::atomic<bool>* t_cancel = nullptr;
}  // namespace

ScopedCancel::ScopedCancel(const std::atomic<bool>* flag) : previous_(t_cancel) { t_cancel = flag; }

ScopedCancel::~ScopedCancel() { t_cancel = previous_; }

bool thread_cancelled() { return t_cancel && t_cancel->load(); }

}  // namespace berth
