#include "berth/http/json_answer.h"

#include <catch2/catch.hpp>

#include "providers/common/http_api.h"
#include "providers/common/json_util.h"

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

TEST_CASE("json answers: an adapter says an answer is too large, not malformed", "[json]") {
  HttpResponse r;
  r.status = 200;
  r.body = "{\"data\": [";
  for (std::size_t i = 0; i <= kMaxJsonValues; ++i) r.body += i ? ",0" : "0";
  r.body += "]}";
  auto read = HttpApi::object_body(r);
  REQUIRE_FALSE(read);
  CHECK(read.error().kind == ProviderError::Kind::kBadResponse);
  CHECK(read.error().message.find("more than 250000 values") != std::string::npos);
  r.body = "{\"data\": [";
  auto malformed = HttpApi::object_body(r);
  REQUIRE_FALSE(malformed);
  CHECK(malformed.error().message.find("not a JSON object") != std::string::npos);
}

TEST_CASE("json answers: a number an adapter reads is finite and within range", "[json]") {
  using nlohmann::json;
  namespace ju = json_util;
  // Adapters convert counts, cores and ports to int: a larger value would
  // make that conversion undefined (found by fuzz/fuzz_vast_offers.cpp).
  CHECK(ju::as_number(json(24)) == 24);
  CHECK(ju::as_number(json(" 1.50 ")) == 1.5);
  CHECK_FALSE(ju::as_number(json(2e44)));
  CHECK_FALSE(ju::as_number(json("-3e12")));
  CHECK_FALSE(ju::as_number(json("inf")));
  CHECK_FALSE(ju::as_number(json("nan")));
  json obj = {{"gpus", 1e300}};
  CHECK_THROWS_WITH(ju::number_at(obj, "gpus"), Catch::Contains("out of range"));
  CHECK_THROWS_WITH(ju::opt_number(json{{"gpus", "x"}}, "gpus"),
                    Catch::Contains("should be a number"));
}

TEST_CASE("json answers: a Unix time is a date between 2000 and 2200, else none", "[json]") {
  using nlohmann::json;
  namespace ju = json_util;
  auto at = ju::opt_unix_time(json{{"start_date", 1764460800.5}}, "start_date");
  REQUIRE(at);
  CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(at->time_since_epoch()).count() ==
        1764460800500);
  // Never a reason to refuse the answer: anything odd is no date.
  for (const json& odd : {json(nullptr), json("1764460800"), json(-5), json(1e300), json(0),
                          json(9e9), json::array(), json::object()})
    CHECK_FALSE(ju::opt_unix_time(json{{"start_date", odd}}, "start_date"));
  CHECK_FALSE(ju::opt_unix_time(json::object(), "start_date"));
}
