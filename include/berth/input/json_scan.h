// A small, strict JSON scanner for answers too large to hold as a DOM (a
// marketplace's tens of thousands of offers). The reader walks the text,
// pulls the values it wants and skips the rest, still checking the grammar:
// malformed or truncated text is an error, never a partial success.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace berth::json_scan {

class Scanner {
 public:
  explicit Scanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  /// Skips whitespace; the next significant character, or '\0' at the end.
  /// (Inline, with consume, more and match, always: they run for every
  /// value of a large answer or listing, inside readers too large for the
  /// compiler to inline them on its own.)
  [[gnu::always_inline]] char peek() {
    if (p_ < end_ && static_cast<unsigned char>(*p_) <= ' ') skip_whitespace();
    return p_ < end_ ? *p_ : '\0';
  }
  /// Consumes `c` (after whitespace) or fails.
  [[gnu::always_inline]] bool consume(char c) {
    if (peek() == c) {
      ++p_;
      return true;
    }
    return expected(c);
  }
  /// After an element of an object or array: true and positioned at the next
  /// element when a ',' follows, false (and `close` consumed) at its end.
  /// Sets the error when neither follows.
  [[gnu::always_inline]] bool more(char close) {
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
  /// A number, into `out`; `integral` (when given) says whether it was
  /// written without a fraction or an exponent.
  bool number(double* out, bool* integral = nullptr);
  /// Consumes `text` when the input goes on with exactly it, and says so;
  /// otherwise nothing is consumed. A reader's shortcut for what it
  /// expects, such as a key with its quotes, checked byte for byte. Where
  /// the next token starts: after peek(), which it does not repeat.
  template <std::size_t N>
  [[gnu::always_inline]] bool match(const char (&text)[N]) {
    constexpr std::size_t n = N - 1;
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    if constexpr (n >= 8) {
      // Eight bytes at a time, the last eight overlapping: a compare of a
      // word with a constant each (memcmp is a call past 16 bytes or so).
      for (std::size_t i = 0; i + 8 < n; i += 8)
        if (word(p_ + i) != word(text + i)) return false;
      if (word(p_ + n - 8) != word(text + n - 8)) return false;
    } else if (std::memcmp(p_, text, n) != 0) {
      return false;
    }
    p_ += n;
    return true;
  }
  /// true, false or null.
  bool literal();
  /// Any value, checked and thrown away.
  bool skip_value(int depth = 0) { return copy_value(nullptr, depth); }
  /// Any value, checked, and appended to `out` (when given) as compact
  /// JSON: its tokens as written, without the whitespace between them.
  bool copy_value(std::string* out, int depth = 0);

  /// Whitespace only until the end.
  bool at_end();

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  bool fail(const std::string& what);
  std::size_t offset(const char* base) const { return static_cast<std::size_t>(p_ - base); }
  const char* position() const { return p_; }

 private:
  static std::uint64_t word(const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
  }
  void skip_whitespace();  // peek's, past a line break and its indentation
  bool expected(char c);   // consume's failure
  bool neither(char close);  // more's failure; false

  const char* p_;
  const char* end_;
  std::string error_;
};

}  // namespace berth::json_scan
