// Container log text as berth reads it from a runtime or a provider's API:
// split into lines, each bounded, only the newest kept; and the block `up`
// prints of a failed container's log. Nothing here makes text terminal-safe:
// that is print_text's (berth/common/output.h), where the text is written.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace berth {

/// One log line as berth keeps it: its line end ("\n", "\r\n") gone and at
/// most `max_bytes`; a longer one is cut and says how much was dropped.
std::string bounded_log_line(std::string_view line, std::size_t max_bytes);

/// The last `tail` lines of `text` (split at "\n"; a final line without one
/// counts), each through bounded_log_line with kMaxLogLineBytes. `cut_front`:
/// the text lost its beginning (a capped answer), so its first, partial line
/// is dropped.
std::vector<std::string> last_log_lines(std::string_view text, std::size_t tail,
                                        bool cut_front = false);

/// What `up` prints of a failed replica's log: a header line naming whose
/// log it is, every line prefixed "  | " (so no log line can pass for one of
/// berth's own), and a closing line.
std::string log_block(const std::string& title, const std::vector<std::string>& lines);

}  // namespace berth
