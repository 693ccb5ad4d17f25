#include "berth/shell_quote.h"

namespace berth {

// Single quotes suspend every shell expansion; the only character that cannot
// appear inside them is the single quote itself, so it closes the quote, adds
// an escaped quote and reopens: ' -> '\''.
std::string shell_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    out += shell_quote(arg);
  }
  return out;
}

}  // namespace berth
