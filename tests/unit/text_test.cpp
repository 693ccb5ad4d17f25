// The shared ASCII helpers (include/berth/text.h).
#include "berth/text.h"

#include <catch2/catch.hpp>

using namespace berth;

TEST_CASE("text: lower, trim and iequals are ASCII-only and exact", "[text]") {
  CHECK(ascii_lower("Content-Type: H100 SXM") == "content-type: h100 sxm");
  CHECK(ascii_lower("Caf\xC3\x89") == "caf\xC3\x89");  // UTF-8 bytes untouched
  CHECK(trim(" \t\r\n x y \v\f") == "x y");
  CHECK(trim("   ").empty());
  CHECK(trim("").empty());
  CHECK(iequals("Retry-After", "retry-after"));
  CHECK_FALSE(iequals("Retry-After", "retry-afte"));
  CHECK_FALSE(iequals("\xC3\x89", "\xC3\xA9"));
}
