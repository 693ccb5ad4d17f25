// RunPod's GPU catalog answer (GET /v2/catalog/gpus, runpod_provider.h lists
// its wire facts) read as a stream into offers: four answers of several MB
// arrive at once, and a document of each cost ~30 ms of CPU per MB.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/expected.h"
#include "berth/provider/offer.h"

namespace berth::runpod {

/// The offers one catalog answer makes for the tier (`cloud`: "secure" or
/// "community", the catalog's own keys) and GPU count it was asked for: a
/// data center listed with stock (LOW, MEDIUM or HIGH) for exactly that, at
/// most `max` of them. The whole answer is checked; a shape the adapter does
/// not understand (an id that is not a string, dataCenters that is not a
/// list, a price that is not a number) is the error, never "no offers".
Expected<std::vector<Offer>, std::string> catalog_offers(std::string_view body,
                                                         const std::string& provider,
                                                         const std::string& cloud, int count,
                                                         std::size_t max);

/// The catalog's stock level, as berth shows it: "low", "medium", "high";
/// empty for NONE and anything else (no stock to offer).
std::string stock_word(std::string_view level);

}  // namespace berth::runpod
