#include <catch2/catch.hpp>

#include "berth/http.h"

using namespace berth;

TEST_CASE("redact replaces known secret values wherever they appear", "[redaction]") {
  std::vector<std::string> secrets = {"sk-live-abcdef123456"};
  CHECK(redact("key sk-live-abcdef123456 in prose", secrets) == "key [REDACTED] in prose");
  CHECK(redact("https://x/?q=sk-live-abcdef123456&n=1", secrets) == "https://x/?q=[REDACTED]&n=1");
  CHECK(redact("twice sk-live-abcdef123456sk-live-abcdef123456", secrets) ==
        "twice [REDACTED][REDACTED]");
}

TEST_CASE("redact catches encoded forms of secrets", "[redaction]") {
  // HTTP Basic with the key as user name and an empty password, as Lambda accepts.
  std::vector<std::string> secrets = {"secret0123"};
  CHECK(redact("x c2VjcmV0MDEyMzo= y", secrets) == "x [REDACTED] y");  // base64("secret0123:")
  CHECK(redact("v=a%2Fb%2Bc", {"a/b+c"}) == "v=[REDACTED]");
}

TEST_CASE("redact hides credential headers it was not told about", "[redaction]") {
  CHECK(redact("Authorization: Bearer abc.def", {}) == "Authorization: [REDACTED]");
  CHECK(redact("> authorization: Basic Zm9vOg==", {}) == "> authorization: [REDACTED]");
  CHECK(redact("X-Api-Key: 12345", {}) == "X-Api-Key: [REDACTED]");
  CHECK(redact("http: > Api-Key: hello", {}) == "http: > Api-Key: [REDACTED]");
  CHECK(redact("Cookie: session=1", {}) == "Cookie: [REDACTED]");
  CHECK(redact("Content-Type: application/json", {}) == "Content-Type: application/json");
  CHECK(redact("sent Bearer tok_1234 then", {}) == "sent Bearer [REDACTED] then");
}

TEST_CASE("redact hides credential query parameters and JSON fields", "[redaction]") {
  CHECK(redact("GET https://c.vast.ai/api/v0/bundles/?api_key=abc123&q=1", {}) ==
        "GET https://c.vast.ai/api/v0/bundles/?api_key=[REDACTED]&q=1");
  CHECK(redact("https://h/x?a=1&access_token=zzz", {}) ==
        "https://h/x?a=1&access_token=[REDACTED]");
  CHECK(redact("https://h/x?API_KEY=zzz#frag", {}) == "https://h/x?API_KEY=[REDACTED]#frag");
  CHECK(redact("https://h/x?region=us&limit=5", {}) == "https://h/x?region=us&limit=5");
  CHECK(redact(R"({"api_key": "abc", "name": "n"})", {}) ==
        R"({"api_key": "[REDACTED]", "name": "n"})");
  CHECK(redact(R"({"token":"a\"b"})", {}) == R"({"token":"[REDACTED]"})");
}

TEST_CASE("redact leaves text without credentials alone", "[redaction]") {
  std::string text = "GET https://cloud.lambda.ai/api/v1/instance-types -> HTTP 200 (120 ms)";
  CHECK(redact(text, {"xy", ""}) == text);  // too short to be a credential
}
