#include "berth/json_answer.h"

#include <fmt/format.h>

namespace berth {

namespace {

// Thrown from the parser's callback to stop building at the first value past
// a limit: what was built so far is freed as the exception unwinds.
struct OverBudget {
  std::string why;
};

}  // namespace

std::optional<nlohmann::json> parse_json_answer(std::string_view text, std::string* why) {
  auto fail = [&](std::string what) -> std::optional<nlohmann::json> {
    if (why) *why = std::move(what);
    return std::nullopt;
  };
  if (text.size() > kMaxJsonDocumentBytes)
    return fail(fmt::format("{} bytes of JSON, more than the {} MiB berth reads as a document",
                            text.size(), kMaxJsonDocumentBytes >> 20));
  std::size_t values = 0;
  auto count = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_end || event == E::array_end) return true;
    // An object or array opened at `depth` (0: the document) is nested
    // depth + 1 levels deep.
    if ((event == E::object_start || event == E::array_start) && depth >= kMaxJsonDepth)
      throw OverBudget{fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth)};
    if (++values > kMaxJsonValues)
      throw OverBudget{fmt::format("JSON with more than {} values", kMaxJsonValues)};
    return true;
  };
  try {
    nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), count,
                                             /*allow_exceptions=*/false);
    if (j.is_discarded()) return fail("malformed JSON");
    return j;
  } catch (const OverBudget& e) {
    return fail(e.why);
  }
}

}  // namespace berth
