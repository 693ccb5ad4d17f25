// A small, strict JSON scanner for answers too large to hold as a DOM (a
// marketplace's tens of thousands of offers). The reader walks the text,
// pulls the values it wants and skips the rest, still checking the grammar:
// malformed or truncated text is an error, never a partial success.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth::json_scan {

class Scanner {
 public:
  explicit Scanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  /// Skips whitespace; the next significant character, or '\0' at the end.
  /// (Inline, with consume and more: they run for every value of a large
  /// answer or listing.)
  char peek() {
    if (p_ < end_ && static_cast<unsigned char>(*p_) <= ' ') skip_whitespace();
    return p_ < end_ ? *p_ : '\0';
  }
  /// Consumes `c` (after whitespace) or fails.
  bool consume(char c) {
    if (peek() == c) {
      ++p_;
      return true;
    }
    return expected(c);
  }
  /// After an element of an object or array: true and positioned at the next
  /// element when a ',' follows, false (and `close` consumed) at its end.
  /// Sets the error when neither follows.
  bool more(char close) {
    const char c = peek();
    if (c == ',') {
      ++p_;
      return true;
    }
    if (c == close) {
      ++p_;
      return false;
    }
    return neither(close);
  }

  /// A string (the opening quote next), unescaped into `out` when given.
  bool string(std::string* out);
  /// The same, without a copy when the string has no escapes: `out` views
  /// the text itself, or `scratch` when unescaping was needed.
  bool string_view(std::string_view* out, std::string* scratch);
  /// A number, into `out`.
  bool number(double* out);
  /// true, false or null.
  bool literal();
  /// Any value, checked and thrown away.
  bool skip_value(int depth = 0);

  /// Whitespace only until the end.
  bool at_end();

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  bool fail(const std::string& what);
  std::size_t offset(const char* base) const { return static_cast<std::size_t>(p_ - base); }
  const char* position() const { return p_; }

 private:
  void skip_whitespace();  // peek's, past a line break and its indentation
  bool expected(char c);   // consume's failure
  bool neither(char close);  // more's failure; false

  const char* p_;
  const char* end_;
  std::string error_;
};

}  // namespace berth::json_scan
