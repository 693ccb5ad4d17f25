#include "providers/common/ssh_public_key.h"

namespace berth::ssh_public_key {

std::string material(std::string_view line) {
  auto first = line.find(' ');
  if (first == std::string_view::npos) return std::string(line);
  return std::string(line.substr(0, line.find(' ', first + 1)));
}

bool same(std::string_view a, std::string_view b) { return material(a) == material(b); }

}  // namespace berth::ssh_public_key
