// The streaming JSON scanner (include/berth/input/json_scan.h) takes what a
// document parser takes and refuses what it refuses: strings are UTF-8 (a
// hostile answer's bytes never reach a reader as text that cannot be written
// back), escapes and surrogates are checked, and truncation is an error.
#include "berth/input/json_scan.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

using berth::json_scan::Scanner;

namespace {

// The scanner's verdict on one JSON string literal, and what it read.
bool scan_string(const std::string& literal, std::string* out = nullptr) {
  Scanner s(literal);
  std::string text;
  if (!s.string(&text)) return false;
  if (out) *out = text;
  return s.at_end();
}

bool document_accepts(const std::string& literal) {
  return nlohmann::json::accept(literal);
}

}  // namespace

TEST_CASE("json_scan: UTF-8 inside strings is checked as a document parser checks it",
          "[json_scan]") {
  const std::string cases[] = {
      "\"plain\"",
      "\"caf\xC3\xA9\"",                      // 2 bytes
      "\"\xE2\x82\xAC euro\"",                // 3 bytes
      "\"\xF0\x9F\x9A\x80 rocket\"",          // 4 bytes
      "\"\xC3\"",                             // truncated sequence
      "\"\xC0\xAF\"",                         // overlong '/'
      "\"\xE0\x80\xAF\"",                     // overlong, 3 bytes
      "\"\xED\xA0\x80\"",                     // a surrogate written as UTF-8
      "\"\xF4\x90\x80\x80\"",                 // past U+10FFFF
      "\"\xFF\"",                             // never in UTF-8
      "\"\x80 lone continuation\"",
      "\"0123456789abcdef\xC3\xA9 past the sixteen-byte fast path\"",
      "\"0123456789abcdef0123\xFE past the fast path\"",
  };
  for (const auto& c : cases) {
    INFO(c);
    CHECK(scan_string(c) == document_accepts(c));
  }
  std::string text;
  REQUIRE(scan_string("\"0123456789abcdef\xC3\xA9 x\"", &text));
  CHECK(text == "0123456789abcdef\xC3\xA9 x");
}

TEST_CASE("json_scan: a bad byte is an error, wherever the value is skipped or viewed",
          "[json_scan]") {
  {
    Scanner s("{\"skipped\": \"\xFF\", \"kept\": 1}");
    CHECK_FALSE(s.skip_value());
    CHECK(s.error() == "invalid UTF-8 in a string");
  }
  {
    Scanner s("\"key\xC3\"");
    std::string_view view;
    std::string scratch;
    CHECK_FALSE(s.string_view(&view, &scratch));
  }
  {
    Scanner s("\"k\xC3\xA9y\"");
    std::string_view view;
    std::string scratch;
    REQUIRE(s.string_view(&view, &scratch));
    CHECK(view == "k\xC3\xA9y");
  }
}

TEST_CASE("json_scan: escapes, surrogates and truncation", "[json_scan]") {
  std::string text;
  REQUIRE(scan_string(R"("a\"b\\c\/\n\u00e9\ud83d\ude80")", &text));
  CHECK(text == "a\"b\\c/\n\xC3\xA9\xF0\x9F\x9A\x80");
  CHECK_FALSE(scan_string(R"("\ud83d")"));
  CHECK_FALSE(scan_string(R"("\ude80")"));
  CHECK_FALSE(scan_string(R"("\x")"));
  CHECK_FALSE(scan_string("\"tab\there\""));
  CHECK_FALSE(scan_string("\"truncated"));
}
