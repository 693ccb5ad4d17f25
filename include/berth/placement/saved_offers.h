// A saved `berth offers -o json` listing, as `berth plan --offers FILE`
// reads it: a regular file of at most 1 GiB, UTF-8 without NUL bytes, JSON,
// every problem at file:line:col. Read by a streaming scanner straight into
// offers (no document of the whole file), so a million offers fit.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "berth/common/expected.h"
#include "berth/input/diagnostics.h"
#include "berth/provider/offer.h"

namespace berth {

/// About a million offers as `berth offers -o json` writes them.
inline constexpr std::size_t kMaxOffersFileBytes = std::size_t{1} << 30;

struct SavedProviderError {
  std::string provider, kind, message;
};

struct SavedOffers {
  std::vector<Offer> offers;
  /// The listing's own provider failures ("errors"), reproduced by the plan.
  std::vector<SavedProviderError> errors;
};

Expected<SavedOffers, Diagnostics> read_saved_offers(const std::filesystem::path& file);
/// The same, from text already read; `name` is the file in diagnostics.
Expected<SavedOffers, Diagnostics> parse_saved_offers(const std::string& text,
                                                      const std::string& name);

}  // namespace berth
