// The one bounded reader of user-named files (include/berth/input/user_file.h).
#include "berth/input/user_file.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "berth/template/launch_template.h"
#include "support/temp_dir.h"

using namespace berth;
using berth::testing::TempDir;

TEST_CASE("read_user_file reads regular files up to the cap and nothing else", "[user-file]") {
  TempDir dir;
  auto small = dir.write("small.txt", "hello\n");
  auto ok = read_user_file(small, 6);
  REQUIRE(ok);
  CHECK(*ok == "hello\n");

  auto big = read_user_file(small, 5);
  REQUIRE_FALSE(big);
  CHECK(big.error().kind == FileReadError::Kind::kTooBig);
  CHECK(big.error().describe(5) == "is 6 B, more than the 5 bytes allowed");

  auto missing = read_user_file(dir.path() / "nope", 10);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == FileReadError::Kind::kMissing);
  CHECK(missing.error().describe(10) == "does not exist");

  auto folder = read_user_file(dir.path(), 10);
  REQUIRE_FALSE(folder);
  CHECK(folder.error().describe(10) == "is a directory, not a regular file");

  // Neither blocks nor reads forever.
  const auto fifo = dir.path() / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto start = std::chrono::steady_clock::now();
  auto pipe = read_user_file(fifo, 1 << 20);
  REQUIRE_FALSE(pipe);
  CHECK(pipe.error().describe(0) == "is a named pipe, not a regular file");
  auto zero = read_user_file("/dev/zero", 1 << 20);
  REQUIRE_FALSE(zero);
  CHECK(zero.error().describe(0) == "is a character device, not a regular file");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));

  // A /proc file says it is empty: the cap still holds while reading.
  auto proc = read_user_file("/proc/self/maps", 16);
  REQUIRE_FALSE(proc);
  CHECK(proc.error().kind == FileReadError::Kind::kTooBig);

  CHECK(format_cap(1 << 20) == "1 MiB");
  CHECK(format_cap(64 << 10) == "64 KiB");
}

TEST_CASE("templates are read through it", "[user-file][template]") {
  TempDir dir;
  const auto fifo = dir.path() / "t.yaml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto t = load_template(fifo, Environment::from_map({}));
  REQUIRE_FALSE(t);
  CHECK(format_diagnostic(t.error()[0]) == fifo.string() +
                                                ": error: is a named pipe, not a template file\n");
  auto dev = load_template("/dev/zero", Environment::from_map({}));
  REQUIRE_FALSE(dev);
  CHECK(dev.error()[0].message == "is a character device, not a template file");
}
