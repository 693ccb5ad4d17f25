// The lambda adapter's readers of every answer its API gives: offers,
// instances, launches, errors. Input: one byte choosing the status, then the
// body every request is answered with.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  berth::fuzz::exercise_adapter("lambda", berth::fuzz::status_for(data[0]),
                                std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  return 0;
}
