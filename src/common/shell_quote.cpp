#include "berth/common/shell_quote.h"

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
    else if (c != '\0')
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

Expected<std::string, std::string> shell_command(const std::vector<std::string>& argv) {
  if (argv.empty()) return unexpected(std::string("empty remote command"));
  for (std::size_t i = 0; i < argv.size(); ++i)
    if (argv[i].find('\0') != std::string::npos)
      return unexpected("argument " + std::to_string(i + 1) +
                        " contains a NUL byte, which no command line can carry");
  return shell_join(argv);
}

}  // namespace berth
