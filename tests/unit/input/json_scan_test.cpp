// The streaming JSON scanner (include/berth/input/json_scan.h) takes what a
// document parser takes and refuses what it refuses: strings are UTF-8 (a
// hostile answer's bytes never reach a reader as text that cannot be written
// back), escapes and surrogates are checked, and truncation is an error.
#include "berth/input/json_scan.h"

#include <catch2/catch.hpp>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

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

TEST_CASE("json_scan: numbers read as from_chars reads them, fast path or not", "[json_scan]") {
  auto read = [](const std::string& text, double* out, bool* integral = nullptr) {
    Scanner s(text);
    return s.number(out, integral) && s.at_end();
  };
  std::vector<std::string> cases = {
      "0", "-0", "1", "-1", "7", "12.5", "0.1", "0.3", "-0.0", "1525.0", "0.9589", "4.58",
      "12.700000000000001", "2.49", "141.0", "9007199254740992", "9007199254740993",
      "9007199254740991.5", "1e22", "1e23", "1.5e-22", "1e-23", "123456789012345678",
      "1234567890123456789", "12345678901234567890", "0.00000000000000000000001",
      "1.7976931348623157e308", "4.9e-324", "2.2250738585072014e-308", "1E5", "1e+5",
      "3.14159265358979323846", "100000000000000000000000", "0.000123", "65535.99609375",
      "12345678", "123456789", "1234567.8", "12345678.9", "0.12345678", "0.123456789",
      "87654321.12345678", "1.0000000000000002", "99999999999999999", "0.30000000000000004"};
  std::mt19937_64 rng(14);
  for (int i = 0; i < 2000; ++i) {
    const auto whole = std::to_string(rng() % 100000000);
    const auto fraction = std::to_string(rng() % 100000000);
    cases.push_back(whole + "." + fraction);
    cases.push_back("-" + fraction.substr(0, 1 + rng() % fraction.size()) + "e-" +
                    std::to_string(rng() % 30));
  }
  for (const auto& c : cases) {
    INFO(c);
    double want = 0;
    const auto [end, ec] = std::from_chars(c.data(), c.data() + c.size(), want);
    REQUIRE(ec == std::errc());
    REQUIRE(end == c.data() + c.size());
    double got = 1;
    bool integral = false;
    REQUIRE(read(c, &got, &integral));
    CHECK(std::memcmp(&got, &want, sizeof got) == 0);  // the same bits: -0 stays -0
    CHECK(integral == (c.find_first_of(".eE") == std::string::npos));
    // Inside a longer text too, where eight bytes are read at a time past
    // the number's end.
    const std::string embedded = "[" + c + ", " + c + "]" + std::string(16, ' ');
    Scanner e(embedded);
    double first = 1, second = 1;
    REQUIRE(e.consume('['));
    REQUIRE(e.number(&first));
    REQUIRE(e.consume(','));
    REQUIRE(e.number(&second));
    REQUIRE(e.consume(']'));
    CHECK(e.at_end());
    CHECK(std::memcmp(&first, &want, sizeof first) == 0);
    CHECK(std::memcmp(&second, &want, sizeof second) == 0);
  }
  double v = 0;
  for (const char* bad : {"01", "1.", ".5", "-", "1e", "1e+", "+1", "--1", "1.e5", "-a", "0x1"}) {
    INFO(bad);
    CHECK_FALSE(read(bad, &v));
  }
  CHECK_FALSE(read("1e400", &v));
  CHECK_FALSE(read("-1e99999999999", &v));
  // Without a value wanted, only the grammar is checked.
  Scanner s("1e400");
  CHECK(s.number(nullptr));
}

TEST_CASE("json_scan: match takes exactly the text where the next token starts, or nothing",
          "[json_scan]") {
  {
    Scanner s("  \"price_per_hour\": 1");
    CHECK_FALSE(s.match("\"price_per_hour\""));  // not at the token
    CHECK(s.peek() == '"');
    CHECK_FALSE(s.match("\"price_per_hours\""));
    CHECK_FALSE(s.match("\"price_per_houR\""));
    CHECK_FALSE(s.match("\"Price_per_hour\""));
    CHECK(s.match("\"price_per_hour\""));
    CHECK(s.consume(':'));
  }
  {
    Scanner s("\"compute_capability\"");  // 20 bytes: the last word overlaps
    CHECK_FALSE(s.match("\"compute_capabilitY\""));
    CHECK_FALSE(s.match("\"compute_capability\":"));  // past the end
    CHECK(s.match("\"compute_capability\""));
    CHECK(s.at_end());
  }
  {
    Scanner s("\"id\"");
    CHECK_FALSE(s.match("\"idx\""));
    CHECK(s.match("\"id\""));
  }
}

TEST_CASE("json_scan: whitespace runs of every length, up to and across a 16-byte block",
          "[json_scan]") {
  for (const char* unit : {" ", "\n", "\t", "\r\n", "\n  "}) {
    for (std::size_t n = 0; n <= 40; ++n) {
      std::string run;
      while (run.size() < n) run += unit;
      run.resize(n);
      INFO("unit " << static_cast<int>(unit[0]) << " length " << n);
      {
        const std::string text = "[" + run + "1" + run + "," + run + "2" + run + "]" + run;
        Scanner s(text);
        CHECK(s.skip_value());
        CHECK(s.at_end());
      }
      {
        // A control character that is not whitespace ends the run: an error.
        const std::string text = "[" + run + "\x01" + "1]";
        Scanner s(text);
        CHECK_FALSE(s.skip_value());
      }
      {
        // Where the text ends inside a run.
        const std::string text = "[1," + run;
        Scanner s(text);
        CHECK_FALSE(s.skip_value());
      }
    }
  }
  Scanner s("{\"a\": 1,\"b\":  2}");
  CHECK(s.skip_value());
  CHECK(s.at_end());
}

TEST_CASE("json_scan: what ends a plain run is seen at every place of a 16-byte block",
          "[json_scan]") {
  const std::string stops[] = {"\"", "\\n", "\\\"", "\\u00e9", "\xC3\xA9", "\xE2\x82\xAC",
                               "\xF0\x9F\x9A\x80", "\x01", "\x1F", "\x7F", "\xC3", "\xFF",
                               "\xED\xA0\x80"};
  for (const auto& stop : stops) {
    for (std::size_t at = 0; at < 40; ++at) {
      const std::string literal = "\"" + std::string(at, 'a') + stop + std::string(20, 'b') + "\"";
      INFO("stop " << nlohmann::json(stop).dump(-1, ' ', true,
                                                  nlohmann::json::error_handler_t::replace)
                   << " at " << at);
      std::string text;
      const bool ok = scan_string(literal, &text);
      CHECK(ok == document_accepts(literal));
      if (ok) CHECK(text == nlohmann::json::parse(literal).get<std::string>());
      std::string_view view;
      std::string scratch;
      Scanner s(literal);
      CHECK((s.string_view(&view, &scratch) && s.at_end()) == document_accepts(literal));
      if (ok) CHECK(view == text);
    }
  }
}

TEST_CASE("json_scan: copy_value writes a value's tokens as written, without whitespace",
          "[json_scan]") {
  const std::pair<std::string, std::string> cases[] = {
      {R"({ "a" : 1 , "b" : [ true , false , null , -0.50e+3 ] })",
       R"({"a":1,"b":[true,false,null,-0.50e+3]})"},
      {"{\n  \"k\": {\n    \"x y\": \"a \\\" b\\\\ \\u00e9 \xC3\xA9\"\n  }\n}",
       "{\"k\":{\"x y\":\"a \\\" b\\\\ \\u00e9 \xC3\xA9\"}}"},
      {"[ ]", "[]"},
      {"{ }", "{}"},
      {"[[[ ]],{ }]", "[[[]],{}]"},
      {"\"s\"", "\"s\""},
      {"12", "12"},
  };
  for (const auto& [in, want] : cases) {
    INFO(in);
    Scanner s(in);
    std::string out = "kept:";
    REQUIRE(s.copy_value(&out));
    CHECK(s.at_end());
    CHECK(out == "kept:" + want);
    CHECK(nlohmann::json::parse(want) == nlohmann::json::parse(in));
  }
  for (const std::string bad : {"{\"a\" 1}", "[1 2]", "{\"a\":}", "[1,]", "\"\xFF\"", "{\"a\":1"}) {
    INFO(bad);
    Scanner s(bad);
    std::string out;
    CHECK_FALSE(s.copy_value(&out));
  }
  std::string deep(200, '[');
  deep += std::string(200, ']');
  Scanner s(deep);
  std::string out;
  CHECK_FALSE(s.copy_value(&out));
  CHECK(s.error() == "nesting too deep");
}
