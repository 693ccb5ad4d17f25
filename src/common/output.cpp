#include "berth/common/output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>

#include "berth/common/redact.h"

namespace berth {

namespace {

// The code point of the valid UTF-8 sequence at `p` and its length; 0 when
// the bytes there are not one (overlong, surrogate, truncated, > U+10FFFF).
std::size_t utf8_at(std::string_view t, std::size_t p, unsigned* cp) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(t[k]); };
  unsigned c = byte(p);
  std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (n == 0 || c > 0xF4 || p + n > t.size()) return 0;
  unsigned v = c & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(p + k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (byte(p + k) & 0x3F);
  }
  static const unsigned kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

// Code points that change how a line reads without being visible: C1
// controls (U+009B is CSI on terminals that take 8-bit controls), the
// bidirectional marks and overrides, and the Unicode line separators.
bool hides_or_reorders(unsigned cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
         cp == 0x2029;
}

std::mutex g_secrets_mutex;
std::vector<std::string>& secrets_store() {
  static std::vector<std::string> s;
  return s;
}

// Each further line of a message starts indented, so that no line of it can
// read as one of berth's own ("berth: ..."). Trailing newlines stay as they are.
std::string indent_continuations(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text[i] == '\n' && i + 1 < text.size() && text[i + 1] != '\n') out += "  ";
  }
  return out;
}

// A message for stderr: redacted, terminal-safe, further lines indented.
std::string message_text(const std::string& message) {
  return indent_continuations(terminal_text(redact_values(message, output_secrets())));
}

void redact_strings(nlohmann::json& j, const std::vector<std::string>& secrets) {
  if (j.is_string()) {
    j = redact_values(j.get<std::string>(), secrets);
  } else if (j.is_structured()) {
    for (auto& v : j) redact_strings(v, secrets);
  }
}

}  // namespace

std::string terminal_text(std::string_view text, bool multi_line) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t p = 0; p < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[p]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++p;
      continue;
    }
    if (c == '\n' || c == '\t') {
      out += multi_line ? std::string(1, static_cast<char>(c)) : c == '\n' ? "\\n" : "\\t";
      ++p;
      continue;
    }
    if (c == '\r') {
      out += "\\r";
      ++p;
      continue;
    }
    if (c < 0x80) {  // the other C0 controls and DEL
      out += fmt::format("\\x{:02x}", c);
      ++p;
      continue;
    }
    unsigned cp = 0;
    std::size_t n = utf8_at(text, p, &cp);
    if (n == 0) {
      out += fmt::format("\\x{:02x}", c);
      ++p;
    } else if (hides_or_reorders(cp)) {
      out += fmt::format("\\u{:04x}", cp);
      p += n;
    } else {
      out.append(text.substr(p, n));
      p += n;
    }
  }
  return out;
}

void add_output_secrets(const std::vector<std::string>& secrets) {
  std::lock_guard lock(g_secrets_mutex);
  auto& store = secrets_store();
  for (const auto& s : secrets)
    if (!s.empty() && std::find(store.begin(), store.end(), s) == store.end()) store.push_back(s);
}

std::vector<std::string> output_secrets() {
  std::lock_guard lock(g_secrets_mutex);
  return secrets_store();
}

void print_text(std::FILE* stream, std::string_view text) {
  std::string s = terminal_text(redact_values(std::string(text), output_secrets()));
  std::fwrite(s.data(), 1, s.size(), stream);
  if (stream != stdout) std::fflush(stream);
}

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
  for (auto& h : headers_) h = terminal_text(h, /*multi_line=*/false);
}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (auto& c : cells) c = terminal_text(c, /*multi_line=*/false);
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

Event make_event(EventType type, std::string reason, std::string detail,
                      std::optional<int> replica, std::string provider, std::string instance_id) {
  Event e;
  e.time = std::chrono::system_clock::now();
  e.type = type;
  e.replica = replica;
  e.provider = std::move(provider);
  e.instance_id = std::move(instance_id);
  e.reason = std::move(reason);
  e.detail = std::move(detail);
  return e;
}

void print_event(const Event& event) { stream_event_sink(stderr, stderr_json_lines())(event); }

void print_error(const std::string& message, const std::string& hint, const std::string& reason) {
  if (stderr_json_lines()) {
    print_event(make_event(EventType::kError, reason,
                           hint.empty() ? message : message + "\nhint: " + hint));
    return;
  }
  std::string s = "berth: error: " + message_text(message) + "\n";
  if (!hint.empty()) s += "  hint: " + message_text(hint) + "\n";
  std::fputs(s.c_str(), stderr);
}

void print_warning(const std::string& message) {
  if (stderr_json_lines()) {
    print_event(make_event(EventType::kWarning, "", message));
    return;
  }
  std::fputs(("berth: warning: " + message_text(message) + "\n").c_str(), stderr);
}

void print_note(const Terminal& term, const std::string& message) {
  if (term.verbosity < 0) return;
  if (stderr_json_lines()) {
    print_event(make_event(EventType::kNote, "", message));
    return;
  }
  std::fputs(("berth: " + message_text(message) + "\n").c_str(), stderr);
}

void print_json(const nlohmann::json& j) {
  std::string s = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  // Redacting the text itself could cut across JSON's structure; when it
  // finds a secret, the string values are redacted instead.
  if (auto secrets = output_secrets(); !secrets.empty() && redact_values(s, secrets) != s) {
    nlohmann::json copy = j;
    redact_strings(copy, secrets);
    s = copy.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  s += "\n";
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

}  // namespace berth
