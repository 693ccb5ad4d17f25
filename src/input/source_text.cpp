#include "input/source_text.h"

#include <algorithm>
#include <cstdio>

namespace berth {

namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when it is invalid
// (overlong forms, surrogates and code points past U+10FFFF included).
std::size_t utf8_sequence(const std::string& s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, cp = c & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3Fu);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

// The line as shown under an error: control characters and broken UTF-8 would
// garble the terminal, so they print as '?'.
std::string printable(const std::string& line) {
  std::string out;
  for (std::size_t i = 0; i < line.size();) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    const std::size_t n = utf8_sequence(line, i);
    if (n == 0 || (c < 0x20 && c != '\t') || c == 0x7F) {
      out += '?';
      ++i;
    } else {
      out.append(line, i, n);
      i += n;
    }
  }
  return out;
}

}  // namespace

const FileKind& template_file() {
  static const FileKind kind{
      "launch template", "template", kMaxTemplateBytes, false,
      "a template needs at least 'name:' and 'image:'; 'berth init' writes a starter",
      "a launch template is UTF-8 text; see 'berth init' for an example"};
  return kind;
}

const FileKind& config_file() {
  static const FileKind kind{"config file", "config", kMaxConfigBytes, true, "",
                             "a config file is UTF-8 text; see docs/config.md"};
  return kind;
}

SourceText::SourceText(std::string name, std::string text)
    : name_(std::move(name)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

std::string SourceText::line(int line0) const {
  if (line0 < 0 || static_cast<std::size_t>(line0) >= line_starts_.size()) return "";
  const std::size_t begin = line_starts_[static_cast<std::size_t>(line0)];
  std::size_t end = text_.find('\n', begin);
  if (end == std::string::npos) end = text_.size();
  if (end > begin && text_[end - 1] == '\r') --end;
  return text_.substr(begin, end - begin);
}

int SourceText::column(int line0, int byte_column0) const {
  const std::string l = line(line0);
  int col = 1;
  for (int i = 0; i < byte_column0 && i < static_cast<int>(l.size()); ++i)
    if ((static_cast<unsigned char>(l[static_cast<std::size_t>(i)]) & 0xC0) != 0x80) ++col;
  // Past the end of the line (yaml-cpp points there for "missing value" errors).
  if (byte_column0 > static_cast<int>(l.size())) col += byte_column0 - static_cast<int>(l.size());
  return col;
}

void DiagnosticSink::error(int line0, int byte_column0, std::string message, std::string hint) {
  // A message may quote the file (a YAML escape such as "\r\n" makes a real
  // line break): it must not start new lines or steer the terminal.
  message = printable(message);
  hint = printable(hint);
  if (auto it = inserted_.find(line0); it != inserted_.end()) {
    int added = 0;
    for (int at : it->second)
      if (at < byte_column0) ++added;
    byte_column0 -= added;
  }
  Diagnostic d;
  d.file = source_.name();
  d.line = std::max(0, line0) + 1;
  d.column = source_.column(std::max(0, line0), std::max(0, byte_column0));
  d.message = std::move(message);
  d.source_line = printable(source_.line(std::max(0, line0)));
  d.hint = std::move(hint);
  // One mistake can surface through two checks at the same spot; say it once.
  for (const auto& e : diagnostics_)
    if (e.line == d.line && e.column == d.column && e.message == d.message) return;
  diagnostics_.push_back(std::move(d));
}

void DiagnosticSink::file_error(std::string message, std::string hint) {
  Diagnostic d;
  d.file = source_.name();
  d.message = printable(message);
  d.hint = printable(hint);
  diagnostics_.push_back(std::move(d));
}

Diagnostics DiagnosticSink::take() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return a.line != b.line ? a.line < b.line : a.column < b.column;
                   });
  return std::move(diagnostics_);
}

bool check_text_encoding(const SourceText& source, DiagnosticSink& sink, const FileKind& kind) {
  const std::string& s = source.text();
  int line0 = 0;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      ++line0;
      line_start = ++i;
      continue;
    }
    if (c == 0) {
      sink.error(line0, static_cast<int>(i - line_start),
                 "file contains a NUL byte; this is a binary file, not a " + kind.format + " " +
                     kind.short_noun,
                 kind.text_hint);
      return false;
    }
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02X", c);
      sink.error(line0, static_cast<int>(i - line_start),
                 std::string("invalid UTF-8 (byte ") + byte + ")", "save the file as UTF-8");
      return false;
    }
    i += n;
  }
  return true;
}

std::size_t find_control_character(std::string_view s, bool allow_tab) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7F) return i;
  }
  return std::string_view::npos;
}

}  // namespace berth
