// Vast.ai's offer search: the operator-object query built from what the
// template asks, and a streaming reader for the answer. A marketplace answer
// can hold tens of thousands of offers; reading it event by event keeps memory
// to the offers berth keeps, not a DOM of every field Vast sends.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/expected.h"
#include "berth/config/config.h"
#include "berth/provider/offer.h"
#include "berth/provider/provider.h"
#include "berth/template/location.h"

namespace berth::vastai {

struct SearchOptions {
  bool verified_only = true;
  int limit = kDefaultOfferLimit;  // the provider's `limit` (berth/config/config.h)
};

/// The POST /api/v0/bundles/ body: on-demand asks, or interruptible ones
/// ("type": "bid") when query.spot is kOnly. With spot `allow` the adapter
/// searches twice, the second time with spot set to kOnly.
nlohmann::json offer_query(const OfferQuery& query, const SearchOptions& options);

/// The lowest and highest bid the create call takes (`price`, USD/h per
/// machine: providers/vastai/vastai_provider.h).
inline constexpr double kMinBidPrice = 0.001;
inline constexpr double kMaxBidPrice = 128.0;

/// The most offers a search may ask for (the `limit` setting's maximum).
inline constexpr int kMaxOffers = 100'000;

/// Reads {"offers": [...]} into berth offers (units converted, GPU names
/// normalized). Any other shape is an error naming what was wrong, and so is
/// an answer with more than `max_offers` offers (what the search asked for):
/// each offer kept costs ~10 times its text, so the count bounds the memory.
/// With `bids` (the answer to a "type": "bid" search) each ask becomes a
/// spot offer "<id>-bid" at its `min_bid`, which launch_data carries as
/// "bid"; asks without a min_bid are left out.
Expected<std::vector<Offer>, std::string> parse_offers(std::string_view body,
                                                       const std::string& provider,
                                                       int max_offers = kMaxOffers,
                                                       bool bids = false);

/// "Texas, US" -> "us-texas"; "Sweden" -> "sweden"; empty -> "unknown".
std::string region_from_geolocation(std::string_view geolocation);

/// An offer's location from its `geolocation`: "City, ST, US", "Texas, US",
/// "Sweden, SE", "SE", "Sweden" (parse_place); unknown otherwise.
Location location_from_geolocation(std::string_view geolocation);

}  // namespace berth::vastai
