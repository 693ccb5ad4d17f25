// A saved listing (`plan --offers FILE`) through the streaming reader
// (src/placement/saved_offers.cpp), checked against the document reader it must agree
// with: the listing parsed by nlohmann and each offer read by
// offer_from_json. Input: the file's bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "berth/placement/saved_offers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto saved = berth::parse_saved_offers(text, "offers.json");
  if (!saved) {
    // Every refusal is worded at a place in the file.
    for (const auto& d : saved.error())
      if (d.line < 1 || d.column < 1 || d.message.empty()) __builtin_trap();
    return 0;
  }
  // Taken: the document reader takes it too, and reads the same offers.
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("offers") ||
      !doc["offers"].is_array() || doc["offers"].size() != saved->offers.size())
    __builtin_trap();
  for (std::size_t i = 0; i < saved->offers.size(); ++i) {
    auto expected = berth::offer_from_json(doc["offers"][i]);
    if (!expected || berth::to_json(*expected) != berth::to_json(saved->offers[i]))
      __builtin_trap();
  }
  return 0;
}
