// Small ASCII text helpers every module uses: one definition each, so a
// "trim" means the same thing in the HTTP client, the config and an adapter.
// ASCII only by design: they compare protocol words, header names and
// identifiers, never user prose (append_utf8 writes what a JSON escape
// names).
#pragma once

#include <string>
#include <string_view>

namespace berth {

/// `s` with A-Z lowered; other bytes (UTF-8 included) as they are.
std::string ascii_lower(std::string_view s);
/// `s` without leading and trailing whitespace (space, \t, \n, \v, \f, \r).
std::string_view trim(std::string_view s);
/// Equal but for the case of A-Z.
bool iequals(std::string_view a, std::string_view b);
/// The value of a hexadecimal digit (either case), or -1.
int hex_value(char c);
/// The UTF-8 encoding of a code point (<= U+10FFFF) appended to `out`: for
/// the \uXXXX escapes the JSON readers decode.
void append_utf8(std::string& out, unsigned code_point);

}  // namespace berth
