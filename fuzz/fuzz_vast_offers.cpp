// Vast.ai's offer search answer through its scanner (providers/vastai/
// vastai_offers.h) directly: the one answer read without a DOM. Input: the
// body. Every offer read must be complete.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "providers/vastai/vastai_offers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto offers = berth::vastai::parse_offers(body, "vast", 1000);
  if (offers) {
    if (offers->size() > 1000) __builtin_trap();
    for (const auto& o : *offers)
      if (o.id.empty() || o.provider != "vast" || o.gpu.model.empty()) __builtin_trap();
  }
  // The same body as a bid search's answer: every spot offer carries a bid
  // it costs at least.
  auto bids = berth::vastai::parse_offers(body, "vast", 1000, true);
  if (bids)
    for (const auto& o : *bids) {
      const auto* bid = o.launch_data.find("bid") != o.launch_data.end() ? &o.launch_data["bid"]
                                                                       : nullptr;
      if (!o.spot || !bid || !bid->is_number() || bid->get<double>() < 0.001 ||
          o.price_per_hour < bid->get<double>())
        __builtin_trap();
    }
  return 0;
}
