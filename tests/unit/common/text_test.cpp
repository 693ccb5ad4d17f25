// The shared ASCII helpers (include/berth/common/text.h).
#include "berth/common/text.h"

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

TEST_CASE("text: append_utf8 writes one to four bytes at each boundary", "[text]") {
  std::string out;
  for (unsigned cp : {0x24u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0x20ACu, 0xFFFFu, 0x10000u, 0x10FFFFu})
    append_utf8(out, cp);
  CHECK(out ==
        "\x24\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xE2\x82\xAC\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F"
        "\xBF\xBF");
}

TEST_CASE("text: hex_value reads either case and refuses the rest", "[text]") {
  CHECK(hex_value('0') == 0);
  CHECK(hex_value('9') == 9);
  CHECK(hex_value('a') == 10);
  CHECK(hex_value('F') == 15);
  CHECK(hex_value('g') == -1);
  CHECK(hex_value('/') == -1);
  CHECK(hex_value(':') == -1);
  CHECK(hex_value('@') == -1);
  CHECK(hex_value('`') == -1);
  CHECK(hex_value('\xC3') == -1);
}
