// redact(): the last line of defence between a credential and a trace line or
// error message. Known secret values go first (they may appear anywhere: a
// URL, a body quoted in an error), then anything shaped like a credential
// whose value berth was never told about.
#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "berth/http.h"

namespace berth {

namespace {

constexpr const char* kRedacted = "[REDACTED]";

void replace_all(std::string& text, const std::string& needle) {
  if (needle.empty()) return;
  std::size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    text.replace(pos, needle.size(), kRedacted);
    pos += std::char_traits<char>::length(kRedacted);
  }
}

std::string base64(const std::string& in) {
  static const char* const kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string percent_encode(const std::string& in) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Names that carry credentials: header names, query parameters, JSON fields.
#define BERTH_CREDENTIAL_NAME \
  "[A-Za-z0-9_.-]*(?:auth|token|secret|key|cookie|password|signature)[A-Za-z0-9_.-]*"

const std::regex& header_line() {
  // "Authorization: Bearer x", "X-Api-Key: x", wherever a line mentions one.
  static const std::regex re("(^|[^A-Za-z0-9_.-])(" BERTH_CREDENTIAL_NAME
                             ")([ \\t]*:[ \\t]*)[^\\r\\n]+",
                             std::regex::icase);
  return re;
}

const std::regex& auth_scheme() {
  static const std::regex re("\\b(Bearer|Basic|Token)[ \\t]+[A-Za-z0-9._~+/=-]+",
                             std::regex::icase);
  return re;
}

const std::regex& query_parameter() {
  static const std::regex re("([?&;]" BERTH_CREDENTIAL_NAME "=)[^&#\\s\"']*", std::regex::icase);
  return re;
}

const std::regex& json_field() {
  static const std::regex re(
      "(\"" BERTH_CREDENTIAL_NAME "\"[ \\t]*:[ \\t]*\")(?:[^\"\\\\]|\\\\.)*\"", std::regex::icase);
  return re;
}

#undef BERTH_CREDENTIAL_NAME

}  // namespace

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  // Longest first, so a secret that contains another is replaced whole.
  std::vector<std::string> needles;
  for (const auto& s : secrets) {
    // One- and two-character values are not credentials, and replacing them
    // would shred the text beyond reading.
    if (s.size() < 3) continue;
    needles.push_back(s);
    needles.push_back(base64(s));
    needles.push_back(base64(s + ":"));  // HTTP Basic with the key as user
    if (auto p = percent_encode(s); p != s) needles.push_back(p);
  }
  std::sort(needles.begin(), needles.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& n : needles) replace_all(text, n);

  text = std::regex_replace(text, header_line(), "$1$2$3[REDACTED]");
  text = std::regex_replace(text, auth_scheme(), "$1 [REDACTED]");
  text = std::regex_replace(text, query_parameter(), "$1[REDACTED]");
  text = std::regex_replace(text, json_field(), "$1[REDACTED]\"");
  return text;
}

}  // namespace berth
