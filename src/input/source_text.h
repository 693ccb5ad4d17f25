// The raw text of a user file (template, config) and the diagnostics pointing
// into it: what a file must be before YAML parsing (size, NUL bytes, UTF-8)
// and the conversion of yaml-cpp's 0-based byte positions into 1-based columns.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/input/diagnostics.h"

namespace berth {

/// What kind of file is read, for the limits it gets and the words of the
/// messages about it as a whole.
struct FileKind {
  std::string noun;       // "launch template", "config file"
  std::string short_noun; // "template", "config"
  /// Refused beyond this, before any parsing: such files are never that big.
  std::size_t max_bytes = 0;
  /// An empty document (only comments or whitespace) is a valid one.
  bool may_be_empty = false;
  std::string empty_hint;  // when it may not be empty
  std::string text_hint;   // for binary or non-UTF-8 content
  std::string format = "YAML";
};

/// Templates and configs are small; anything past 1 MiB is a mistake (or an
/// attack) and is refused before any parsing.
inline constexpr std::size_t kMaxTemplateBytes = 1u << 20;
inline constexpr std::size_t kMaxConfigBytes = 1u << 20;

const FileKind& template_file();
const FileKind& config_file();

class SourceText {
 public:
  SourceText(std::string name, std::string text);

  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }
  /// 0-based line, without its line terminator; "" past the end.
  std::string line(int line0) const;
  /// Number of lines (a final line without '\n' counts).
  int lines() const { return static_cast<int>(line_starts_.size()); }
  /// 1-based column of a 0-based byte offset within a line, counting code points.
  int column(int line0, int byte_column0) const;

 private:
  std::string name_;
  std::string text_;
  std::vector<std::size_t> line_starts_;
};

/// Characters the YAML front end added to the text before parsing (quotes
/// around flow `${VAR}` values): per 0-based line, the sorted byte columns of
/// the added characters in the parsed text. Positions yaml-cpp reports are in
/// the parsed text; the sink maps them back to what the user wrote.
using InsertedColumns = std::map<int, std::vector<int>>;

/// Collects diagnostics for one source, filling in the source line.
class DiagnosticSink {
 public:
  explicit DiagnosticSink(const SourceText& source) : source_(source) {}

  /// `line0`/`byte_column0` as yaml-cpp's Mark gives them (0-based, bytes).
  void error(int line0, int byte_column0, std::string message, std::string hint = "");
  /// An error about the whole file, with no position.
  void file_error(std::string message, std::string hint = "");
  /// From now on, positions are in a text with these characters added.
  void set_inserted(InsertedColumns inserted) { inserted_ = std::move(inserted); }

  bool empty() const { return diagnostics_.empty(); }
  std::size_t size() const { return diagnostics_.size(); }
  /// Sorted by position, file-wide errors first.
  Diagnostics take();

 private:
  const SourceText& source_;
  InsertedColumns inserted_;
  Diagnostics diagnostics_;
};

/// Refuses text that is not a YAML file at all: NUL bytes (binary files) and
/// invalid UTF-8, each reported once at its position. True when the text is fine.
bool check_text_encoding(const SourceText& source, DiagnosticSink& sink,
                         const FileKind& kind = template_file());

/// The first ASCII control character of `s` (C0 but tab, and DEL), or npos:
/// such characters in a credential would end a header line or a file line.
std::size_t find_control_character(std::string_view s, bool allow_tab = true);

}  // namespace berth
