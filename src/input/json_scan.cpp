#include "berth/input/json_scan.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "berth/common/text.h"

namespace berth::json_scan {

namespace {

constexpr int kMaxDepth = 128;

// Characters that need no attention inside a string: not a quote, not a
// backslash, not a control character, not the start of a multi-byte UTF-8
// sequence (which is checked, as a document parser checks it).
struct PlainTable {
  bool t[256];
  constexpr PlainTable() : t() {
    for (int i = 0; i < 256; ++i) t[i] = i >= 0x20 && i < 0x80 && i != '"' && i != '\\';
  }
  constexpr bool operator[](unsigned char c) const { return t[c]; }
};
constexpr PlainTable kPlain;

// The first character from `p` that needs attention (or `end`): sixteen at a
// time where the CPU has SSE2 (every x86-64 has), since most of a large
// answer's bytes are inside strings.
const char* plain_run(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i control_max = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // x <= 0x1F, unsigned: the larger of the two is 0x1F.
    const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(x, control_max), control_max);
    const __m128i stop =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)), control);
    // The high bit of a byte is its sign: movemask of x itself marks
    // every non-ASCII byte.
    const int mask = _mm_movemask_epi8(_mm_or_si128(stop, x));
    if (mask) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && kPlain[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

// The length of the well-formed UTF-8 sequence at `p` (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF), or 0.
std::size_t utf8_sequence(const char* p, const char* end) {
  const auto b = [&](std::ptrdiff_t i) { return static_cast<unsigned char>(p[i]); };
  const std::ptrdiff_t left = end - p;
  const unsigned c = b(0);
  auto tail = [&](std::ptrdiff_t i) { return i < left && (b(i) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return tail(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!tail(1) || !tail(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // a surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!tail(1) || !tail(2) || !tail(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

bool Scanner::fail(const std::string& what) {
  if (error_.empty()) error_ = what;
  return false;
}

void Scanner::skip_whitespace() {
  // A pretty-printed document: the one space after a ':', or a line break
  // and its indentation (up to 16 spaces, seen in one compare).
  if (*p_ == ' ' && end_ - p_ > 1 && static_cast<unsigned char>(p_[1]) > ' ') {
    ++p_;
    return;
  }
#if defined(__SSE2__)
  if (*p_ == '\n' && end_ - p_ >= 17) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_ + 1));
    const unsigned spaces =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(' '))));
    const int n = __builtin_ctz(~spaces);  // 16 when all are spaces
    if (n < 16 && static_cast<unsigned char>(p_[1 + n]) > ' ') {
      p_ += 1 + n;
      return;
    }
  }
  const __m128i space = _mm_set1_epi8(' '), newline = _mm_set1_epi8('\n'),
                cr = _mm_set1_epi8('\r'), tab = _mm_set1_epi8('\t');
  while (end_ - p_ >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
    const __m128i ws = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, space), _mm_cmpeq_epi8(x, newline)),
                                    _mm_or_si128(_mm_cmpeq_epi8(x, cr), _mm_cmpeq_epi8(x, tab)));
    const unsigned other = ~static_cast<unsigned>(_mm_movemask_epi8(ws)) & 0xFFFFu;
    if (other) {
      p_ += __builtin_ctz(other);
      return;
    }
    p_ += 16;
  }
#endif
  while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
}

bool Scanner::expected(char c) {
  if (p_ >= end_) return fail(std::string("truncated: expected '") + c + "'");
  return fail(std::string("expected '") + c + "'");
}

bool Scanner::neither(char close) {
  fail(p_ >= end_ ? "truncated" : std::string("expected ',' or '") + close + "'");
  return false;
}

bool Scanner::string(std::string* out) {
  if (!consume('"')) return false;
  if (out) out->clear();
  while (true) {
    // Copy the run up to the next quote or backslash at once.
    const char* run = p_;
    p_ = plain_run(p_, end_);
    if (p_ < end_ && static_cast<unsigned char>(*p_) < 0x20)
      return fail("control character in a string");
    if (p_ < end_ && static_cast<unsigned char>(*p_) >= 0x80) {
      const std::size_t n = utf8_sequence(p_, end_);
      if (n == 0) return fail("invalid UTF-8 in a string");
      p_ += n;
      if (out) out->append(run, p_);
      continue;
    }
    if (out) out->append(run, p_);
    if (p_ >= end_) return fail("truncated string");
    if (*p_ == '"') {
      ++p_;
      return true;
    }
    ++p_;  // backslash
    if (p_ >= end_) return fail("truncated string");
    char e = *p_++;
    switch (e) {
      case '"':
        if (out) *out += '"';
        break;
      case '\\':
        if (out) *out += '\\';
        break;
      case '/':
        if (out) *out += '/';
        break;
      case 'b':
        if (out) *out += '\b';
        break;
      case 'f':
        if (out) *out += '\f';
        break;
      case 'n':
        if (out) *out += '\n';
        break;
      case 'r':
        if (out) *out += '\r';
        break;
      case 't':
        if (out) *out += '\t';
        break;
      case 'u': {
        auto read4 = [&](unsigned& v) {
          if (end_ - p_ < 4) return false;
          v = 0;
          for (int i = 0; i < 4; ++i) {
            int h = hex_value(p_[i]);
            if (h < 0) return false;
            v = v * 16 + static_cast<unsigned>(h);
          }
          p_ += 4;
          return true;
        };
        unsigned cp = 0;
        if (!read4(cp)) return fail("bad \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned lo = 0;
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return fail("lone surrogate");
          p_ += 2;
          if (!read4(lo) || lo < 0xDC00 || lo > 0xDFFF) return fail("bad surrogate pair");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return fail("lone surrogate");
        }
        if (out) append_utf8(*out, cp);
        break;
      }
      default:
        return fail("bad escape in a string");
    }
  }
}

bool Scanner::string_view(std::string_view* out, std::string* scratch) {
  if (peek() != '"') return fail(p_ >= end_ ? "truncated" : "expected a string");
  const char* start = p_ + 1;
  const char* q = plain_run(start, end_);
  if (q < end_ && *q == '"') {
    *out = std::string_view(start, static_cast<std::size_t>(q - start));
    p_ = q + 1;
    return true;
  }
  if (!string(scratch)) return false;
  *out = *scratch;
  return true;
}

bool Scanner::number(double* out, bool* integral) {
  peek();
  // A local cursor: a char read could alias p_ itself, so through p_ the
  // compiler would store and load it around every byte.
  const char* p = p_;
  const char* const end = end_;
  const auto stop = [&](const char* what) {
    p_ = p;
    return fail(what);
  };
  const char* start = p;
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  if (p >= end) return stop("truncated number");
  // The digits, as one integer while they fit (19 always do): most numbers
  // of an answer are a few digits with a fraction, which then need no
  // general conversion (below).
  std::uint64_t mantissa = 0;
  int digits = 0, exponent = 0;
  const auto digit = [&] { return p < end && static_cast<unsigned>(*p - '0') <= 9; };
  const auto take = [&] {
    if (++digits <= 19) mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
    ++p;
  };
  if (*p == '0') {
    ++p;
  } else if (*p >= '1' && *p <= '9') {
    while (digit()) take();
  } else {
    return stop("expected a value");
  }
  bool whole = true;
  if (p < end && *p == '.') {
    whole = false;
    ++p;
    if (!digit()) return stop("bad number");
    while (digit()) take(), --exponent;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    whole = false;
    ++p;
    const bool minus = p < end && *p == '-';
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (!digit()) return stop("bad number");
    int e = 0;
    while (digit()) {
      if (e < 100000) e = e * 10 + (*p - '0');
      ++p;
    }
    exponent += minus ? -e : e;
  }
  p_ = p;
  if (integral) *integral = whole;
  if (!out) return true;
  // Exact: a mantissa of at most 2^53 and a power of ten up to 1e22 are
  // both doubles, and one multiplication or division of two doubles is
  // correctly rounded, as from_chars rounds (the classic fast path).
  static constexpr double kPowers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  if (digits <= 19 && mantissa <= (std::uint64_t{1} << 53) && exponent >= -22 && exponent <= 22) {
    double v = static_cast<double>(mantissa);
    v = exponent < 0 ? v / kPowers[-exponent] : v * kPowers[exponent];
    *out = negative ? -v : v;
    return true;
  }
  auto [ptr, ec] = std::from_chars(start, p_, *out);
  if (ec != std::errc() || ptr != p_ || !std::isfinite(*out)) return fail("number out of range");
  return true;
}

bool Scanner::literal() {
  const char c = peek();
  const std::size_t left = static_cast<std::size_t>(end_ - p_);
  if ((c == 't' && left >= 4 && std::memcmp(p_, "true", 4) == 0) ||
      (c == 'n' && left >= 4 && std::memcmp(p_, "null", 4) == 0)) {
    p_ += 4;
    return true;
  }
  if (c == 'f' && left >= 5 && std::memcmp(p_, "false", 5) == 0) {
    p_ += 5;
    return true;
  }
  return fail(p_ >= end_ ? "truncated" : "expected a value");
}

bool Scanner::copy_value(std::string* out, int depth) {
  if (depth > kMaxDepth) return fail("nesting too deep");
  char c = peek();
  const char* from = p_;
  // A token as written: the text it was read from.
  const auto token = [&](bool ok) {
    if (ok && out) out->append(from, p_);
    return ok;
  };
  if (c == '"') return token(string(nullptr));
  if (c == '{') {
    ++p_;
    if (out) *out += '{';
    if (peek() == '}') {
      ++p_;
      if (out) *out += '}';
      return true;
    }
    do {
      peek();
      from = p_;
      if (!token(string(nullptr)) || !consume(':')) return false;
      if (out) *out += ':';
      if (!copy_value(out, depth + 1)) return false;
      if (out) *out += ',';
    } while (more('}'));
    if (failed()) return false;
    if (out) out->back() = '}';
    return true;
  }
  if (c == '[') {
    ++p_;
    if (out) *out += '[';
    if (peek() == ']') {
      ++p_;
      if (out) *out += ']';
      return true;
    }
    do {
      if (!copy_value(out, depth + 1)) return false;
      if (out) *out += ',';
    } while (more(']'));
    if (failed()) return false;
    if (out) out->back() = ']';
    return true;
  }
  if (c == 't' || c == 'f' || c == 'n') return token(literal());
  return token(number(nullptr));
}

bool Scanner::at_end() {
  if (peek() != '\0' || p_ < end_) return fail("text after the JSON value");
  return true;
}

}  // namespace berth::json_scan
