// The global --timeout as a cancellation: it must stop every wait that ^C
// stops, and be told apart from a signal afterwards.
#include "berth/common/cancel.h"

#include <catch2/catch.hpp>
#include <chrono>

using namespace berth;
using namespace std::chrono_literals;

TEST_CASE("a command deadline cancels like a signal once its limit has passed", "[cancel]") {
  reset_cancel();
  {
    CommandDeadline deadline(Duration{100});
    CHECK_FALSE(deadline.expired());
    CHECK_FALSE(cancel_requested());
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(sleep_unless_cancelled(Duration{10'000}));  // woken by the deadline
    auto waited = std::chrono::steady_clock::now() - start;
    CHECK(waited >= 100ms);
    CHECK(waited < 5s);
    CHECK(deadline.expired());
    CHECK(cancel_requested());
    CHECK(cancel_signal() == 0);  // no signal: the caller asks expired() why
  }
  reset_cancel();
}

TEST_CASE("a command deadline that is destroyed in time cancels nothing", "[cancel]") {
  reset_cancel();
  auto start = std::chrono::steady_clock::now();
  {
    CommandDeadline deadline(Duration{3'600'000});
    CHECK(deadline.at() > start + 59min);
  }
  CHECK(std::chrono::steady_clock::now() - start < 5s);  // the timer thread did not linger
  CHECK_FALSE(cancel_requested());
}
