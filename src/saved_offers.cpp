#include "berth/saved_offers.h"

#include <nlohmann/json.hpp>

#include "berth/user_file.h"
#include "providers/common/json_scan.h"
#include "source_text.h"

namespace berth {

namespace {

const FileKind& offers_file() {
  static const FileKind kind{"offers file", "offers file", kMaxOffersFileBytes, false, "",
                             "save offers with: berth offers TEMPLATE -o json > FILE", "JSON"};
  return kind;
}

const char* kHint = "save offers with: berth offers TEMPLATE -o json > FILE";

// (line0, byte column0) of a byte offset.
std::pair<int, int> position(const std::string& text, std::size_t offset) {
  offset = std::min(offset, text.size());
  int line = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < offset; ++i)
    if (text[i] == '\n') ++line, start = i + 1;
  return {line, static_cast<int>(offset - start)};
}

// Where each element of the top-level "offers" array starts: nlohmann keeps
// no positions, so the text is walked again (only when an offer is bad).
std::vector<std::size_t> offer_offsets(const std::string& text) {
  std::vector<std::size_t> out;
  json_scan::Scanner s(text);
  if (!s.consume('{') || s.peek() == '}') return out;
  do {
    std::string key;
    if (!s.string(&key) || !s.consume(':')) return out;
    if (key != "offers") {
      if (!s.skip_value()) return out;
      continue;
    }
    if (!s.consume('[') || s.peek() == ']') return out;
    do {
      s.peek();
      out.push_back(s.offset(text.data()));
      if (!s.skip_value()) return out;
    } while (s.more(']'));
    return out;
  } while (s.more('}'));
  return out;
}

std::string string_member(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Expected<SavedOffers, Diagnostics> parse_saved_offers(const std::string& text,
                                                      const std::string& name) {
  SourceText source(name, text);
  DiagnosticSink sink(source);
  auto fail = [&](std::size_t offset, std::string message) {
    auto [line, column] = position(text, offset);
    sink.error(line, column, std::move(message), kHint);
    return unexpected(sink.take());
  };
  if (!check_text_encoding(source, sink, offers_file())) return unexpected(sink.take());
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..."
    std::string what = e.what();
    if (auto colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    return fail(e.byte > 0 ? e.byte - 1 : 0, "not JSON: " + what);
  }
  const std::size_t start = std::min(text.size(), text.find_first_not_of(" \t\r\n"));
  if (!doc.is_object() || !doc.contains("offers") || !doc["offers"].is_array())
    return fail(start, "expected an object with an \"offers\" array");
  SavedOffers saved;
  const auto& list = doc["offers"];
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto offer = offer_from_json(list[i]);
    if (!offer) {
      if (offsets.empty()) offsets = offer_offsets(text);
      auto [line, column] = position(text, i < offsets.size() ? offsets[i] : start);
      sink.error(line, column, "offers[" + std::to_string(i) + "]: " + offer.error(), kHint);
      continue;
    }
    saved.offers.push_back(std::move(*offer));
  }
  if (!sink.empty()) return unexpected(sink.take());
  if (auto it = doc.find("errors"); it != doc.end() && it->is_array())
    for (const auto& e : *it)
      if (e.is_object() && !string_member(e, "provider").empty())
        saved.errors.push_back(
            {string_member(e, "provider"), string_member(e, "kind"), string_member(e, "message")});
  return saved;
}

Expected<SavedOffers, Diagnostics> read_saved_offers(const std::filesystem::path& file) {
  auto text = read_user_file(file, kMaxOffersFileBytes);
  if (!text) {
    Diagnostic d;
    d.file = file.string();
    const auto& e = text.error();
    d.message = e.kind == FileReadError::Kind::kMissing || e.kind == FileReadError::Kind::kUnreadable
                    ? "cannot read the offers file: " + e.reason
                    : "offers file " + e.describe(kMaxOffersFileBytes);
    d.hint = kHint;
    return unexpected(Diagnostics{d});
  }
  return parse_saved_offers(*text, file.string());
}

}  // namespace berth
