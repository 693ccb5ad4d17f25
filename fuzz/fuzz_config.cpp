// The config loader (berth/config/config.h: parse_config) on any text, with the
// real provider registry and a few variables for ${VAR} expansion.
#include <cstddef>
#include <cstdint>
#include <string>

#include "berth/common/environment.h"
#include "berth/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const berth::Environment env = berth::Environment::from_map(
      {{"LAMBDA_API_KEY", "lambda-fuzz-key"}, {"RUNPOD_API_KEY", "runpod-fuzz-key"},
       {"HOME", "/nonexistent"}});
  std::string text(reinterpret_cast<const char*>(data), size);
  auto c = berth::parse_config(text, "/nonexistent/berth-fuzz/config.yaml", env);
  if (!c && c.error().empty()) __builtin_trap();  // a refusal always says why
  return 0;
}
