// JSON that arrived over the network, read whole (as an nlohmann DOM) within
// a fixed budget. A DOM costs up to ~100 bytes per value whatever the text
// looks like ("[{},{},...]" builds 27 bytes of DOM per byte of text), so the
// text's size alone does not bound it: the number of values does. Answers
// read this way are small documents (instance listings, error envelopes,
// image manifests); the one answer that can be large, a marketplace's offer
// search, is scanned instead (include/berth/input/json_scan.h).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace berth {

/// Text longer than this is not read as a document at all.
inline constexpr std::size_t kMaxJsonDocumentBytes = 8u << 20;
/// Values (objects, arrays, members' keys, scalars) a document may hold:
/// ~25 MiB of DOM at the most expensive shape. A real provider answer holds
/// a few thousand.
inline constexpr std::size_t kMaxJsonValues = 250'000;
/// Nesting deeper than this is refused (no answer berth reads nests past 10).
inline constexpr int kMaxJsonDepth = 64;

/// What `why` says of text that is not one complete JSON value.
inline constexpr std::string_view kMalformedJson = "malformed JSON";

/// The document, or nullopt when `text` is not one complete JSON value
/// (`why` is kMalformedJson) or breaks a limit above (`why` says which).
std::optional<nlohmann::json> parse_json_answer(std::string_view text, std::string* why = nullptr);

}  // namespace berth
