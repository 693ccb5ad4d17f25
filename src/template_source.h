// The raw text of a user file (template) and the diagnostics pointing into it:
// checks that must happen before YAML parsing (size, binary, UTF-8) and the
// conversion of yaml-cpp's 0-based byte positions into 1-based columns.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "berth/diagnostics.h"

namespace berth {

/// Templates are small; anything past this is a mistake (or an attack) and is
/// refused before any parsing.
inline constexpr std::size_t kMaxTemplateBytes = 1u << 20;

class SourceText {
 public:
  SourceText(std::string name, std::string text);

  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }
  /// 0-based line, without its line terminator; "" past the end.
  std::string line(int line0) const;
  /// 1-based column of a 0-based byte offset within a line, counting code points.
  int column(int line0, int byte_column0) const;

 private:
  std::string name_;
  std::string text_;
  std::vector<std::size_t> line_starts_;
};

/// Collects diagnostics for one source, filling in the source line.
class DiagnosticSink {
 public:
  explicit DiagnosticSink(const SourceText& source) : source_(source) {}

  /// `line0`/`byte_column0` as yaml-cpp's Mark gives them (0-based, bytes).
  void error(int line0, int byte_column0, std::string message, std::string hint = "");
  /// An error about the whole file, with no position.
  void file_error(std::string message, std::string hint = "");

  bool empty() const { return diagnostics_.empty(); }
  std::size_t size() const { return diagnostics_.size(); }
  /// Sorted by position, file-wide errors first.
  Diagnostics take();

 private:
  const SourceText& source_;
  Diagnostics diagnostics_;
};

/// Refuses text that is not a template at all: NUL bytes (binary files) and
/// invalid UTF-8, each reported once at its position. True when the text is fine.
bool check_text_encoding(const SourceText& source, DiagnosticSink& sink);

}  // namespace berth
