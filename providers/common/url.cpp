#include "providers/common/url.h"

#include <cctype>

namespace berth::url {

std::string join(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string out(base);
  out += path;
  return out;
}

std::string segment(std::string_view part) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char c : part) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

}  // namespace berth::url
