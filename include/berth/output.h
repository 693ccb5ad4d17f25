// Where results and messages go: data on stdout (tables on a TTY, stable JSON
// with -o json), everything else on stderr with the "berth:" prefix; progress
// only when stderr is a terminal.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth {

enum class OutputFormat { kTable, kJson, kCsv };

struct Terminal {
  bool stdout_tty = false;
  bool stderr_tty = false;
  bool color = false;  // off with --no-color, NO_COLOR, or no TTY
  int verbosity = 0;   // -v count; -1 with --quiet
  static Terminal detect(bool no_color_flag, int verbosity);
};

/// A plain aligned table; columns whose header ends with a space-free "$" or
/// numbers are right-aligned by the caller passing `right_align`.
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

/// "berth: error: msg" (+ "  hint: ...") on stderr.
void print_error(const std::string& message, const std::string& hint = "");
void print_warning(const std::string& message);
/// Informational line on stderr unless quiet.
void print_note(const Terminal& term, const std::string& message);
/// Pretty JSON (2-space indent) and a newline on stdout.
void print_json(const nlohmann::json& j);
/// UTF-8-safe display width (counts code points).
std::size_t display_width(const std::string& s);

}  // namespace berth
