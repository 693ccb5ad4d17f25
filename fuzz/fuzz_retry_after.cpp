// Retry-After in both its forms (src/http/http_retry.h: parse_retry_after) and as
// an adapter reads it (http_errors::retry_after): never a negative wait, never
// more than a day, whatever the date.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/http_retry.h"
#include "providers/common/http_errors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string value(reinterpret_cast<const char*>(data), size);
  const berth::Duration day{berth::http_retry::kMaxRetryAfterSeconds * 1000};
  for (std::time_t now : {std::time_t{0}, std::time_t{1445412480}, std::time_t{4102444800}}) {
    auto wait = berth::http_retry::parse_retry_after(value,
                                                     std::chrono::system_clock::from_time_t(now));
    if (wait && (*wait < berth::Duration{0} || *wait > day)) __builtin_trap();
  }
  berth::HttpResponse r;
  r.status = 429;
  r.headers["retry-after"] = value;
  auto e = berth::http_errors::from_status(r, "slow down");
  if (e.retry_after && (*e.retry_after < std::chrono::milliseconds{0} ||
                        *e.retry_after > std::chrono::milliseconds{day.count()}))
    __builtin_trap();
  return 0;
}
