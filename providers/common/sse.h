// Server-sent events (text/event-stream), as the WHATWG HTML standard
// §9.2.6 "Interpreting an event stream" reads them: lines end at CRLF, LF or
// CR; a line starting with ':' is a comment; "field: value" with one
// optional space after the colon; `data` lines of one event are joined with
// "\n"; a blank line ends the event. Leniency beyond the standard: an event
// cut off by the end of the text is kept when it has data (an answer ended
// by berth after the stream went quiet may end without its blank line).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace berth::sse {

struct Event {
  std::string id;
  std::string type;  // the `event` field; "" = "message"
  std::string data;
};

/// The last `max_events` events of `text`, each event's data at most
/// `max_data` bytes (the rest of a longer one is dropped). `cut_front`: the
/// text lost its beginning, so everything up to the first blank line (a
/// partial event) is skipped. Never fails: what is not SSE is skipped.
std::vector<Event> parse(std::string_view text, std::size_t max_events, std::size_t max_data,
                         bool cut_front = false);

/// A piece of a stream that holds only comments and blank lines (a
/// keep-alive): nothing in it is an event. Pieces split mid-line are never
/// called keep-alives.
bool only_comments(std::string_view piece);

}  // namespace berth::sse
