#include "berth/output.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace berth {

Terminal Terminal::detect(bool no_color_flag, int verbosity) {
  Terminal t;
  t.stdout_tty = isatty(STDOUT_FILENO) != 0;
  t.stderr_tty = isatty(STDERR_FILENO) != 0;
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  t.color = !no_color_flag && !(no_color && *no_color) && t.stderr_tty &&
            !(term && std::string(term) == "dumb");
  t.verbosity = verbosity;
  return t;
}

std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

Table::Table(std::vector<std::string> headers, std::vector<bool> right_align)
    : headers_(std::move(headers)), right_(std::move(right_align)) {
  right_.resize(headers_.size(), false);
}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<std::size_t> width(headers_.size());
  for (std::size_t i = 0; i < headers_.size(); ++i) width[i] = display_width(headers_[i]);
  for (const auto& r : rows_)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], display_width(r[i]));
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      std::size_t pad = width[i] - display_width(cells[i]);
      if (right_[i]) l += std::string(pad, ' ') + cells[i];
      else if (i + 1 < cells.size()) l += cells[i] + std::string(pad, ' ');
      else l += cells[i];
      if (i + 1 < cells.size()) l += "  ";
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(headers_);
  for (const auto& r : rows_) line(r);
  return out;
}

std::string Table::render_csv() const {
  auto field = [](const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + field(cells[i]);
    out += "\n";
  };
  line(headers_);
  for (const auto& r : rows_) line(r);
  return out;
}

namespace {
std::atomic<bool> g_json_lines{false};
}  // namespace

void set_stderr_json_lines(bool on) { g_json_lines.store(on); }
bool stderr_json_lines() { return g_json_lines.load(); }

WatchEvent make_event(WatchEventType type, std::string reason, std::string detail,
                      std::optional<int> replica, std::string provider, std::string instance_id) {
  WatchEvent e;
  e.time = std::chrono::system_clock::now();
  e.type = type;
  e.replica = replica;
  e.provider = std::move(provider);
  e.instance_id = std::move(instance_id);
  e.reason = std::move(reason);
  e.detail = std::move(detail);
  return e;
}

void print_event(const WatchEvent& event) { stream_event_sink(stderr, stderr_json_lines())(event); }

void print_error(const std::string& message, const std::string& hint, const std::string& reason) {
  if (stderr_json_lines()) {
    print_event(make_event(WatchEventType::kError, reason,
                           hint.empty() ? message : message + "\nhint: " + hint));
    return;
  }
  std::string s = "berth: error: " + message + "\n";
  if (!hint.empty()) s += "  hint: " + hint + "\n";
  std::fputs(s.c_str(), stderr);
}

void print_warning(const std::string& message) {
  if (stderr_json_lines()) {
    print_event(make_event(WatchEventType::kWarning, "", message));
    return;
  }
  std::fputs(("berth: warning: " + message + "\n").c_str(), stderr);
}

void print_note(const Terminal& term, const std::string& message) {
  if (term.verbosity < 0) return;
  if (stderr_json_lines()) {
    print_event(make_event(WatchEventType::kNote, "", message));
    return;
  }
  std::fputs(("berth: " + message + "\n").c_str(), stderr);
}

void print_json(const nlohmann::json& j) {
  std::string s = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  s += "\n";
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

}  // namespace berth
