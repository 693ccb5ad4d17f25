// Where results and messages go: data on stdout (tables on a TTY, stable JSON
// with -o json), everything else on stderr with the "berth:" prefix; progress
// only when stderr is a terminal.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/event.h"

namespace berth {

enum class OutputFormat { kTable, kJson, kCsv };

struct Terminal {
  bool stdout_tty = false;
  bool stderr_tty = false;
  bool color = false;  // off with --no-color, NO_COLOR, or no TTY
  int verbosity = 0;   // -v count; -1 with --quiet
  static Terminal detect(bool no_color_flag, int verbosity);
};

/// Text as it may reach a terminal. Control characters are shown escaped
/// (ESC as "\x1b", CR as "\r", DEL as "\x7f"), and so are the C1 controls
/// ("\u009b"), bytes that are not UTF-8 ("\xff") and the characters that
/// reorder or break what a line shows (bidirectional overrides, U+2028):
/// remote text (provider messages, region and GPU names, container logs)
/// can neither drive the terminal nor forge a line. Newlines and tabs are
/// kept when `multi_line`, escaped otherwise.
std::string terminal_text(std::string_view text, bool multi_line = true);

/// The values every line berth prints is cleaned of: the config's
/// credentials, the template's secrets. Added as they are loaded; thread-safe.
void add_output_secrets(const std::vector<std::string>& secrets);
std::vector<std::string> output_secrets();

/// The one way berth writes text (everything but JSON) to stdout or stderr:
/// the known secrets redacted in every encoding (redact_values in
/// berth/http/http.h), then made terminal-safe (terminal_text). Text from a
/// provider is also cleaned of whatever merely looks like a credential
/// (redact()) where it is received: HTTP traces, provider error messages.
void print_text(std::FILE* stream, std::string_view text);

/// A plain aligned table; columns whose header ends with a space-free "$" or
/// numbers are right-aligned by the caller passing `right_align`. Cells are
/// one line each, made terminal-safe (terminal_text, newlines escaped).
class Table {
 public:
  explicit Table(std::vector<std::string> headers, std::vector<bool> right_align = {});
  void add_row(std::vector<std::string> cells);
  std::string render() const;
  std::string render_csv() const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

/// With -o json, `up` and `watch` keep stderr to JSON lines (the event
/// schema of docs/watch-events.md), so a log pipeline can read every line it
/// gets. Once this is on, print_error, print_warning and print_note write an
/// "error", "warning" or "note" event instead of their text line.
void set_stderr_json_lines(bool on);
bool stderr_json_lines();

/// "berth: error: msg" (+ "  hint: ...") on stderr. In JSON-lines mode an
/// "error" event whose reason is `reason` and whose detail holds the hint too.
/// As print_warning and print_note, the text is redacted and terminal-safe,
/// and each further line of a message is indented: no line of remote text
/// can pass for one of berth's own.
void print_error(const std::string& message, const std::string& hint = "",
                 const std::string& reason = "");
void print_warning(const std::string& message);
/// Informational line on stderr unless quiet.
void print_note(const Terminal& term, const std::string& message);
/// One event on stderr, now: a JSON line in JSON-lines mode, else the text
/// line of format_event_line.
void print_event(const Event& event);
/// An event of `type` with the current time and the other fields given.
Event make_event(EventType type, std::string reason, std::string detail,
                      std::optional<int> replica = std::nullopt, std::string provider = "",
                      std::string instance_id = "");
/// Pretty JSON (2-space indent) and a newline on stdout; string values
/// holding a known secret (add_output_secrets) are redacted, nothing else
/// changes (JSON's own escaping already keeps control characters out).
void print_json(const nlohmann::json& j);
/// UTF-8-safe display width (counts code points).
std::size_t display_width(const std::string& s);

}  // namespace berth
