// The lexical shapes of template and config values (numbers, versions,
// names, paths), checked by hand: std::regex costs ~0.2 ms to build per
// pattern, which is most of a `berth validate` run.
#pragma once

#include <cctype>
#include <string_view>

namespace berth::lexical {

inline bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
inline bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || digit(c); }
inline bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

inline std::size_t digits(std::string_view s, std::size_t i) {
  std::size_t n = 0;
  while (i + n < s.size() && digit(s[i + n])) ++n;
  return n;
}

/// [-+]?[0-9]+
inline bool is_integer(std::string_view s) {
  std::size_t i = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  const std::size_t n = digits(s, i);
  return n > 0 && i + n == s.size();
}

/// [-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?
inline bool is_number(std::string_view s) {
  std::size_t i = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  const std::size_t whole = digits(s, i);
  i += whole;
  std::size_t fraction = 0;
  if (i < s.size() && s[i] == '.') {
    fraction = digits(s, i + 1);
    i += 1 + fraction;
  }
  if (whole == 0 && fraction == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const std::size_t exponent = digits(s, i);
    if (exponent == 0) return false;
    i += exponent;
  }
  return i == s.size();
}

/// [0-9]{1,3}(\.[0-9]{1,3})?
inline bool is_version(std::string_view s) {
  const std::size_t major = digits(s, 0);
  if (major < 1 || major > 3) return false;
  if (major == s.size()) return true;
  if (s[major] != '.') return false;
  const std::size_t minor = digits(s, major + 1);
  return minor >= 1 && minor <= 3 && major + 1 + minor == s.size();
}

/// ^[a-z][a-z0-9-]{0,38}$ (docs/templates.md)
inline bool is_deployment_name(std::string_view s) {
  if (s.empty() || s.size() > 39 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s)
    if (!lower_alnum(c) && c != '-') return false;
  return true;
}

/// [A-Za-z_][A-Za-z0-9_]*
inline bool is_env_name(std::string_view s) {
  if (s.empty() || digit(s[0])) return false;
  for (char c : s)
    if (!alnum(c) && c != '_') return false;
  return true;
}

/// [a-zA-Z0-9][a-zA-Z0-9_.-]* (what docker and podman accept)
inline bool is_volume_name(std::string_view s) {
  if (s.empty() || !alnum(s[0])) return false;
  for (char c : s)
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

/// [A-Za-z0-9][A-Za-z0-9_.-]* (a provider's name in the config)
inline bool is_provider_name(std::string_view s) { return is_volume_name(s); }

/// [0-9]+(\.[0-9]+)? (a price in USD: no sign, no exponent)
inline bool is_decimal(std::string_view s) {
  const std::size_t whole = digits(s, 0);
  if (whole == 0) return false;
  if (whole == s.size()) return true;
  if (s[whole] != '.') return false;
  const std::size_t fraction = digits(s, whole + 1);
  return fraction > 0 && whole + 1 + fraction == s.size();
}

inline bool hex(char c) {
  return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// The request target of an HTTP GET (RFC 3986 path and query): '/', then
/// unreserved and sub-delimiter characters, ':', '@', '/', '?' and %XX
/// escapes; no spaces, control characters, '#' or non-ASCII bytes, which
/// would make the request line malformed.
inline bool is_http_path(std::string_view s) {
  if (s.empty() || s[0] != '/') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (alnum(c) && static_cast<unsigned char>(c) < 0x80) continue;
    if (c == '%') {
      if (i + 2 >= s.size() || !hex(s[i + 1]) || !hex(s[i + 2])) return false;
      i += 2;
      continue;
    }
    if (std::string_view("-._~!$&'()*+,;=:@/?").find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace berth::lexical
