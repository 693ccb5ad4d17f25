// A saved listing (`plan --offers FILE`) through the streaming reader
// (src/placement/saved_offers.cpp), checked against the document reader it must agree
// with: the listing parsed by nlohmann and each offer read by
// offer_from_json; and screened as it is read (as plan --offers reads it),
// checked against the plan made from every offer. Input: the file's bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "berth/placement/placement.h"
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
      !doc["offers"].is_array() || doc["offers"].size() != saved->offers().size())
    __builtin_trap();
  const berth::OfferView offers = saved->offers();
  for (std::size_t i = 0; i < offers.size(); ++i) {
    auto expected = berth::offer_from_json(doc["offers"][i]);
    if (!expected || berth::to_json(*expected) != berth::to_json(offers[i])) __builtin_trap();
  }
  // Screened while read: the same plan as from every offer.
  static const berth::LaunchTemplate w = [] {
    berth::LaunchTemplate t;
    t.name = "fuzz";
    t.resources.gpu.count = {1, 2};
    t.resources.gpu.vram = {40'000'000'000ull, std::nullopt};
    t.placement.max_price = 3.0;
    t.placement.regions = {"us", "eu-*"};
    t.replicas = 2;
    t.spread = berth::Spread::kProvider;
    return t;
  }();
  const berth::PlacementOptions options;
  const berth::ScreenWith with{w, options};
  auto screened = berth::parse_saved_offers(text, "offers.json", &with);
  if (!screened || !screened->screen) __builtin_trap();
  if (berth::to_json(berth::solve_placement(w, *screened->screen, options)) !=
      berth::to_json(berth::solve_placement(w, offers, options)))
    __builtin_trap();
  return 0;
}
