#include "berth/json_answer.h"

#include <catch2/catch.hpp>

using namespace berth;

TEST_CASE("json answers: documents within the budget are read whole", "[json]") {
  auto j = parse_json_answer(R"({"data": {"a": [1, 2.5, "x", null, true]}})");
  REQUIRE(j);
  CHECK((*j)["data"]["a"][2] == "x");
  std::string why;
  CHECK_FALSE(parse_json_answer("{\"a\": ", &why));
  CHECK(why == "malformed JSON");
  CHECK_FALSE(parse_json_answer("", &why));
}

TEST_CASE("json answers: the number of values bounds what a document may build", "[json]") {
  // [{},{},...]: 3 bytes of text, ~80 bytes of DOM each.
  std::string many = "[";
  for (std::size_t i = 0; i <= kMaxJsonValues; ++i) many += i ? ",{}" : "{}";
  many += "]";
  REQUIRE(many.size() < kMaxJsonDocumentBytes);
  std::string why;
  CHECK_FALSE(parse_json_answer(many, &why));
  CHECK(why.find("values") != std::string::npos);
  // One value fewer than the limit (the outer array counts) is fine.
  std::string fits = "[";
  for (std::size_t i = 0; i + 1 < kMaxJsonValues; ++i) fits += i ? ",0" : "0";
  fits += "]";
  CHECK(parse_json_answer(fits));
}

TEST_CASE("json answers: text too large or nested too deep is refused", "[json]") {
  std::string why;
  std::string big = "\"" + std::string(kMaxJsonDocumentBytes, 'x') + "\"";
  CHECK_FALSE(parse_json_answer(big, &why));
  CHECK(why.find("MiB") != std::string::npos);
  std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  CHECK_FALSE(parse_json_answer(deep, &why));
  CHECK(why.find("nested") != std::string::npos);
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  CHECK(parse_json_answer(ok));
}
