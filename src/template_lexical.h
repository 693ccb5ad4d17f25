// The lexical shapes of template values (numbers, versions, names), checked
// by hand: std::regex costs ~0.2 ms to build per pattern, which is most of a
// `berth validate` run.
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

}  // namespace berth::lexical
