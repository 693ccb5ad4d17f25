#include <catch2/catch.hpp>

#include "berth/common/redact.h"

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

TEST_CASE("redact finds a secret percent-encoded whichever characters are encoded", "[redaction]") {
  std::vector<std::string> secrets = {"ab/cd+ef=gh"};
  CHECK(redact("u=ab%2Fcd%2Bef%3Dgh&x", secrets) == "u=[REDACTED]&x");
  CHECK(redact("u=ab/cd%2Bef%3Dgh&x", secrets) == "u=[REDACTED]&x");    // '/' kept, as in a path
  CHECK(redact("u=ab%2fcd%2bef%3dgh&x", secrets) == "u=[REDACTED]&x");  // lower-case hex
  CHECK(redact("u=ab%252Fcd%252Bef%253Dgh&x", secrets) == "u=[REDACTED]&x");  // encoded twice
  CHECK(redact("/v1/ab/cd+ef=gh/x", secrets) == "/v1/[REDACTED]/x");
  // Not every '%' starts an escape.
  CHECK(redact("100% done, ab/cd", secrets) == "100% done, ab/cd");
}

TEST_CASE("redact finds a secret JSON-escaped", "[redaction]") {
  std::vector<std::string> secrets = {"p\"a\\ss/w0rd"};
  CHECK(redact(R"({"x": "p\"a\\ss/w0rd"})", secrets) == R"({"x": "[REDACTED]"})");
  CHECK(redact(R"({"x": "p\"a\\ss\/w0rd"})", secrets) == R"({"x": "[REDACTED]"})");
  CHECK(redact(R"({"x": "p\u0022a\u005css\u002fw0rd"})", secrets) == R"({"x": "[REDACTED]"})");
  // Non-ASCII as \u escapes (dump with ensure_ascii), a surrogate pair included.
  std::vector<std::string> unicode = {"p\xC3\xA4ss\xF0\x9F\x94\x91word"};
  CHECK(redact(R"(echo "p\u00e4ss\ud83d\udd11word")", unicode) == R"(echo "[REDACTED]")");
}

namespace {

std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    for (std::size_t k = 0; k < 4; ++k)
      out += i + k <= in.size() ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

}  // namespace

TEST_CASE("redact finds a secret inside base64 whatever surrounds it", "[redaction]") {
  const std::string secret = "s3cr3t-passw0rd";
  CHECK(base64("secret0123:") == "c2VjcmV0MDEyMzo=");
  // HTTP Basic "user:password": each user name length puts the secret at
  // another offset within base64's 3-byte groups.
  for (std::string user : {"a", "ab", "abc", "alice", "robot$acme"}) {
    INFO(user);
    std::string basic = base64(user + ":" + secret);
    CHECK(redact("{\"auths\": {\"r\": {\"a\": \"" + basic + "\"}}}", {secret}) ==
          "{\"auths\": {\"r\": {\"a\": \"[REDACTED]\"}}}");
    CHECK(redact_values("x " + basic + " y", {secret}) == "x [REDACTED] y");
    // URL-safe, without padding.
    std::string url_safe = basic;
    for (auto& c : url_safe) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!url_safe.empty() && url_safe.back() == '=') url_safe.pop_back();
    CHECK(redact_values("t=" + url_safe + "&n=1", {secret}) == "t=[REDACTED]&n=1");
  }
}

TEST_CASE("redact hides URL passwords and credential parameters in prose", "[redaction]") {
  CHECK(redact("proxy http://bob:hunter22@proxy.corp:3128 refused", {}) ==
        "proxy http://bob:[REDACTED]@proxy.corp:3128 refused");
  CHECK(redact("container env HF_TOKEN=hf_abc123 MODEL=x", {}) ==
        "container env HF_TOKEN=[REDACTED] MODEL=x");
  CHECK(redact("apiKey: abc", {}) == "apiKey: [REDACTED]");
  CHECK(redact(R"(body "{\"api_key\": \"abc\", \"n\": 1}")", {}) ==
        R"(body "{\"api_key\": \"[REDACTED]\", \"n\": 1}")");
}

TEST_CASE("redact leaves words that only contain a credential name alone", "[redaction]") {
  for (std::string text :
       {"keycloak: https://sso.example.com/realms/x", "monkey: 3", "max_tokens: 512",
        "tokenizer: bert-base", "author: ann", "https://keycloak:8443/auth?max_tokens=5&region=us",
        "keyboard=us", "http://host:8080/path", "image quay.io/keycloak/keycloak:24.0 not found",
        "bad/09-unknown-top-level-key.yaml:2:1: error: unknown key", "tls/server.key: no such file",
        "token_type: bearer", "api_key_id: 7", "password_file: ~/.pw"}) {
    INFO(text);
    CHECK(redact(text, {}) == text);
  }
}

TEST_CASE("redact_values replaces known secrets only", "[redaction]") {
  CHECK(redact_values(R"({"api_key": "public-ish", "v": "tok-99999"})", {"tok-99999"}) ==
        R"({"api_key": "public-ish", "v": "[REDACTED]"})");
}
