#include "berth/common/units.h"

#include <catch2/catch.hpp>

using namespace berth;

TEST_CASE("sizes take decimal and binary units", "[units]") {
  CHECK(*parse_size("24GB") == 24'000'000'000ull);
  CHECK(*parse_size("24GiB") == 24ull << 30);
  CHECK(*parse_size("64MB") == 64'000'000ull);
  CHECK(*parse_size("512MiB") == 512ull << 20);
  CHECK(*parse_size("1TB") == 1'000'000'000'000ull);
  CHECK(*parse_size("2TiB") == 2ull << 40);
  CHECK(*parse_size("1.5GB") == 1'500'000'000ull);
  CHECK(*parse_size("0.1GB") == 100'000'000ull);
  CHECK(*parse_size("80 GB") == 80'000'000'000ull);
  CHECK(*parse_size("80gb") == 80'000'000'000ull);
  CHECK(*parse_size("0GB") == 0);
}

TEST_CASE("sizes without a unit or with a bad one are errors that say what was expected",
          "[units]") {
  auto bare = parse_size("24");
  REQUIRE_FALSE(bare);
  CHECK_THAT(bare.error(), Catch::Contains("no unit") && Catch::Contains("24GB"));
  CHECK_THAT(parse_size("24XB").error(), Catch::Contains("unknown size unit 'XB'"));
  CHECK_THAT(parse_size("-1GB").error(), Catch::Contains("negative"));
  CHECK_FALSE(parse_size(""));
  CHECK_FALSE(parse_size("GB"));
  CHECK_FALSE(parse_size("1.GB"));
  CHECK_FALSE(parse_size("1..2GB"));
  CHECK_THAT(parse_size("99999999999TB").error(), Catch::Contains("too large"));
  CHECK_FALSE(parse_size("1000000000000000000000000000000GB"));
}

TEST_CASE("durations combine units from largest to smallest", "[units]") {
  CHECK(*parse_duration("90s") == Duration{90'000});
  CHECK(*parse_duration("1h30m") == Duration{5'400'000});
  CHECK(*parse_duration("250ms") == Duration{250});
  CHECK(*parse_duration("10m") == Duration{600'000});
  CHECK(*parse_duration("1.5h") == Duration{5'400'000});
  CHECK(*parse_duration("1m30s500ms") == Duration{90'500});
  CHECK(*parse_duration("0s") == Duration{0});
}

TEST_CASE("bad durations are errors", "[units]") {
  CHECK_THAT(parse_duration("90").error(), Catch::Contains("no unit"));
  CHECK_THAT(parse_duration("5x").error(), Catch::Contains("unknown duration unit 'x'"));
  CHECK_THAT(parse_duration("30m1h").error(), Catch::Contains("largest to smallest"));
  CHECK_THAT(parse_duration("-5s").error(), Catch::Contains("negative"));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("1h 30m"));
  CHECK_THAT(parse_duration("99999999999999999999h").error(), Catch::Contains("too long"));
}

TEST_CASE("sizes and durations format for humans", "[units]") {
  CHECK(format_size(80'000'000'000ull) == "80GB");
  CHECK(format_size(24ull << 30) == "24GiB");
  CHECK(format_size(64'000'000ull) == "64MB");
  CHECK(format_size(2'000'000'000'000ull) == "2TB");
  CHECK(format_size(81'559ull * 1024 * 1024) == "81559MiB");
  CHECK(format_size(85'520'000'123ull) == "85.5 GB");
  CHECK(format_size(0) == "0B");
  CHECK(format_duration(Duration{5'400'000}) == "1h30m");
  CHECK(format_duration(Duration{90'500}) == "1m30s500ms");
  CHECK(format_duration(Duration{0}) == "0s");
}

TEST_CASE("formatting then parsing gives the same size", "[units]") {
  for (std::uint64_t b : {1'000'000ull, 24ull << 30, 80'000'000'000ull, 3ull << 40})
    CHECK(*parse_size(format_size(b)) == b);
}

TEST_CASE("ranges contain their ends and are open where unset", "[units]") {
  Range<int> r{2, 8};
  CHECK(r.contains(2));
  CHECK(r.contains(8));
  CHECK_FALSE(r.contains(9));
  CHECK_FALSE(r.contains(1));
  Range<int> open_top{4, std::nullopt};
  CHECK(open_top.contains(1000));
  CHECK_FALSE(open_top.contains(3));
  Range<int> none;
  CHECK(none.unbounded());
  CHECK(none.contains(-5));
}

TEST_CASE("RFC 3339 timestamps as runtimes write them", "[units]") {
  using namespace std::chrono;
  auto secs = [](std::string_view t) {
    auto p = parse_rfc3339(t);
    REQUIRE(p);
    return duration_cast<seconds>(p->time_since_epoch()).count();
  };
  CHECK(secs("1970-01-01T00:00:00Z") == 0);
  CHECK(secs("2026-11-30T03:52:57.496251709Z") == 1796010777);
  CHECK(secs("2026-11-30T04:52:57+01:00") == 1796010777);
  CHECK(secs("2026-11-29T22:52:57.5-05:00") == 1796010777);
  CHECK(secs("2024-02-29 12:00:00Z") == 1709208000);  // a leap day, space for T
  auto frac = parse_rfc3339("1970-01-01T00:00:01.25Z");
  REQUIRE(frac);
  CHECK(duration_cast<milliseconds>(frac->time_since_epoch()).count() == 1250);
  for (std::string_view bad :
       {"", "0001-01-01T00:00:00Z", "2026-11-30", "2026-11-30T03:52:57", "2026-13-01T00:00:00Z",
        "2026-11-30T03:52:57.Z", "2026-11-30T03:52:57Zjunk", "2026-11-30T03:52:57+0100",
        "20261130T035257Z", "2026-11-30T03:5x:57Z"})
    CHECK_FALSE(parse_rfc3339(bad));
}
