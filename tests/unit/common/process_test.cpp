#include <atomic>
#include <chrono>

#include <catch2/catch.hpp>

#include "berth/common/process.h"

using namespace berth;

TEST_CASE("process runner captures output and exit code", "[process]") {
  auto r = system_process_runner().run({.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}});
  REQUIRE(r);
  CHECK(r->exit_code == 3);
  CHECK(r->out == "out\n");
  CHECK(r->err == "err\n");
}

TEST_CASE("process runner feeds stdin and never interprets arguments", "[process]") {
  auto r = system_process_runner().run({.argv = {"cat"}, .stdin_data = std::string("$(reboot)\n")});
  REQUIRE(r);
  CHECK(r->out == "$(reboot)\n");
  auto e = system_process_runner().run({.argv = {"echo", "$(touch /tmp/berth-never)", "`id`"}});
  REQUIRE(e);
  CHECK(e->out == "$(touch /tmp/berth-never) `id`\n");
}

TEST_CASE("process runner kills on timeout", "[process]") {
  auto r = system_process_runner().run({.argv = {"sleep", "10"}, .timeout = Duration{200}});
  REQUIRE(r);
  CHECK(r->timed_out);
  CHECK_FALSE(r->ok());
}

TEST_CASE("a cancel waits, bounded, until the child is ready to be stopped", "[process]") {
  std::atomic<bool> cancel{true};
  auto ready = [](const std::string& err) { return err.find("ready\n") != std::string::npos; };
  auto start = std::chrono::steady_clock::now();
  auto r = system_process_runner().run({.argv = {"sh", "-c", "sleep 0.3; echo ready >&2; sleep 10"},
                                        .cancel = &cancel,
                                        .ready_to_stop = ready});
  REQUIRE(r);
  CHECK(r->cancelled);
  CHECK(r->err == "ready\n");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  // A child that never gets ready is stopped after stop_wait all the same.
  start = std::chrono::steady_clock::now();
  auto never = system_process_runner().run({.argv = {"sleep", "10"},
                                            .timeout = Duration{100},
                                            .ready_to_stop = ready,
                                            .stop_wait = Duration{300}});
  REQUIRE(never);
  CHECK(never->timed_out);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= std::chrono::milliseconds(400));
  CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("process runner reports a missing program", "[process]") {
  auto r = system_process_runner().run({.argv = {"/nonexistent/berth-program"}});
  CHECK_FALSE(r);
}

TEST_CASE("process runner survives a child that ignores its stdin", "[process]") {
  // 8 MiB is far past any pipe buffer: the child exits first and the write hits EPIPE.
  auto r = system_process_runner().run(
      {.argv = {"true"}, .stdin_data = std::string(8u << 20, 'x')});
  REQUIRE(r);
  CHECK(r->exit_code == 0);
}
