// The template loader (berth/template/launch_template.h: parse_template) on any text,
// with a few variables set for its ${VAR} expansion.
#include <cstddef>
#include <cstdint>
#include <string>

#include "berth/common/environment.h"
#include "berth/template/launch_template.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const berth::Environment env = berth::Environment::from_map(
      {{"HF_TOKEN", "hf_fuzz_token_0123"}, {"MODEL", "Qwen/Qwen2.5-7B"}, {"EMPTY", ""}});
  std::string text(reinterpret_cast<const char*>(data), size);
  auto t = berth::parse_template(text, "fuzz.yaml", env);
  if (!t && t.error().empty()) __builtin_trap();  // a refusal always says why
  return 0;
}
