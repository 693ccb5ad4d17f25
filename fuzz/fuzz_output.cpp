// What berth prints: terminal_text (berth/common/output.h) never lets a control
// character through raw and is idempotent; redact and redact_values
// (berth/http/http.h) end on any text and never leave a known secret that stands
// alone in it. Input: a secret, a newline, then the text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "berth/common/output.h"
#include "berth/common/redact.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  auto nl = input.find('\n');
  std::string secret = nl == std::string::npos ? "" : input.substr(0, nl);
  std::string text = nl == std::string::npos ? input : input.substr(nl + 1);

  for (bool multi_line : {true, false}) {
    std::string shown = berth::terminal_text(text, multi_line);
    for (unsigned char c : shown)
      if ((c < 0x20 && !(multi_line && (c == '\n' || c == '\t'))) || c == 0x7f) __builtin_trap();
    if (berth::terminal_text(shown, multi_line) != shown) __builtin_trap();
  }

  std::string redacted = berth::redact(text, {secret});
  std::string values = berth::redact_values(text, {secret});
  // A secret of letters and digits, with text of letters, digits and spaces
  // around it, can only survive by a miss.
  bool plain = secret.size() >= 3 && secret.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos;
  bool plain_text = text.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789 ") ==
                    std::string::npos;
  if (plain && plain_text && std::string("[REDACTED]").find(secret) == std::string::npos &&
      (values.find(secret) != std::string::npos || redacted.find(secret) != std::string::npos))
    __builtin_trap();
  return 0;
}
