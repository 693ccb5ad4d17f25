#include "berth/http/json_answer.h"

#include <fmt/format.h>

namespace berth {

namespace {

using nlohmann::json;

// A first pass that builds nothing: it counts values and nesting and stops
// at the first one past a limit. Only a document within them is built. (The
// parser's own callback cannot be used to count: nlohmann's callback parser
// scans its parent for discarded values at every object's end, quadratic
// time for a long array of objects.)
class Census final : public nlohmann::json_sax<json> {
 public:
  std::string why;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(); }
  bool key(string_t&) override { return value(); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    why = kMalformedJson;
    return false;
  }

 private:
  bool value() {
    if (++values_ <= kMaxJsonValues) return true;
    why = fmt::format("JSON with more than {} values", kMaxJsonValues);
    return false;
  }
  bool open() {
    if (++depth_ > kMaxJsonDepth) {
      why = fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth);
      return false;
    }
    return value();
  }
  bool close() {
    --depth_;
    return true;
  }

  std::size_t values_ = 0;
  int depth_ = 0;
};

}  // namespace

std::optional<json> parse_json_answer(std::string_view text, std::string* why) {
  auto fail = [&](std::string what) -> std::optional<json> {
    if (why) *why = std::move(what);
    return std::nullopt;
  };
  if (text.size() > kMaxJsonDocumentBytes)
    return fail(fmt::format("{} bytes of JSON, more than the {} MiB berth reads as a document",
                            text.size(), kMaxJsonDocumentBytes >> 20));
  Census census;
  if (!json::sax_parse(text.begin(), text.end(), &census, nlohmann::json::input_format_t::json,
                       /*strict=*/true))
    return fail(census.why.empty() ? std::string(kMalformedJson) : census.why);
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(std::string(kMalformedJson));
  return j;
}

}  // namespace berth
