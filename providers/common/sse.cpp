#include "providers/common/sse.h"

#include <deque>

namespace berth::sse {

std::vector<Event> parse(std::string_view text, std::size_t max_events, std::size_t max_data,
                         bool cut_front) {
  std::deque<Event> events;
  Event cur;
  bool has_data = false;
  auto dispatch = [&] {
    if (has_data && max_events > 0) {
      events.push_back(std::move(cur));
      if (events.size() > max_events) events.pop_front();
    }
    cur = Event{};
    has_data = false;
  };
  std::size_t i = 0;
  // A leading byte-order mark is not part of the first field name.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  bool skipping = cut_front;
  while (i <= text.size()) {
    if (i == text.size()) break;
    std::size_t end = text.find_first_of("\r\n", i);
    bool terminated = end != std::string_view::npos;
    if (!terminated) end = text.size();
    std::string_view line = text.substr(i, end - i);
    i = end;
    if (terminated) i += (text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n') ? 2 : 1;
    if (skipping) {
      if (line.empty()) skipping = false;
      continue;
    }
    if (line.empty()) {
      dispatch();
      continue;
    }
    if (line.front() == ':') continue;  // a comment (keep-alive)
    auto colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
      value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
      if (has_data && cur.data.size() < max_data) cur.data += '\n';
      if (cur.data.size() < max_data)
        cur.data.append(value.substr(0, max_data - cur.data.size()));
      has_data = true;
    } else if (field == "id") {
      if (value.find('\0') == std::string_view::npos) cur.id = std::string(value.substr(0, 256));
    } else if (field == "event") {
      cur.type = std::string(value.substr(0, 256));
    }  // "retry" and unknown fields: ignored
  }
  dispatch();  // an event the text ended inside (see sse.h)
  return {std::make_move_iterator(events.begin()), std::make_move_iterator(events.end())};
}

bool only_comments(std::string_view piece) {
  if (piece.empty() || (piece.back() != '\n' && piece.back() != '\r')) return false;
  bool line_start = true;
  bool in_comment = false;
  bool any_comment = false;  // a lone blank line may end an event: that is no keep-alive
  for (char c : piece) {
    if (c == '\n' || c == '\r') {
      line_start = true;
      in_comment = false;
      continue;
    }
    if (line_start) {
      if (c != ':') return false;
      in_comment = true;
      any_comment = true;
      line_start = false;
      continue;
    }
    if (!in_comment) return false;
  }
  return any_comment;
}

}  // namespace berth::sse
