// A saved `berth offers -o json` listing, as `berth plan --offers FILE`
// reads it: a regular file of at most 1 GiB, UTF-8 without NUL bytes, JSON,
// every problem at file:line:col. Read by a streaming scanner straight into
// offers (no document of the whole file), so a million offers fit.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/expected.h"
#include "berth/input/diagnostics.h"
#include "berth/placement/placement.h"
#include "berth/provider/offer.h"

namespace berth {

/// About a million offers as `berth offers -o json` writes them.
inline constexpr std::size_t kMaxOffersFileBytes = std::size_t{1} << 30;

struct SavedProviderError {
  std::string provider, kind, message;
};

/// What to screen a listing with while it is read (`plan --offers`): each
/// offer is screened on the thread that read it, and only the offers the
/// screen holds on to are kept, so a large listing is never held whole.
struct ScreenWith {
  const LaunchTemplate& workload;
  const PlacementOptions& options;
};

struct SavedOffers {
  /// The listing's offers in order, in runs of at most a few thousand (a
  /// large listing is read in parts on several threads, and no offer moves
  /// once read). Read with a screen: only the offers it held on to.
  std::vector<std::vector<Offer>> runs;
  OfferView offers() const { return OfferView(runs); }
  /// Read with a screen: the whole listing's, for solve_placement.
  std::optional<Screen> screen;
  /// The listing's own provider failures ("errors"), reproduced by the plan.
  std::vector<SavedProviderError> errors;
};

Expected<SavedOffers, Diagnostics> read_saved_offers(const std::filesystem::path& file,
                                                     const ScreenWith* with = nullptr);
/// The same, from text already read; `name` is the file in diagnostics.
Expected<SavedOffers, Diagnostics> parse_saved_offers(const std::string& text,
                                                      const std::string& name,
                                                      const ScreenWith* with = nullptr);

}  // namespace berth
