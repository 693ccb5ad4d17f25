#include "berth/common/units.h"
#include "berth/common/text.h"

#include <array>
#include <cctype>
#include <cstdio>

namespace berth {

namespace {

// A non-negative decimal number ("24", "1.5") split off the front of `text`,
// kept exact as digits/10^scale so "0.1GB" is exactly 100 MB.
struct Decimal {
  unsigned __int128 digits = 0;
  unsigned __int128 scale = 1;  // 10^(fraction digits)
};

std::optional<Decimal> take_decimal(std::string_view& text) {
  Decimal d;
  std::size_t i = 0, int_digits = 0, frac_digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (++int_digits > 24) return std::nullopt;  // beyond any size or duration we could hold
    d.digits = d.digits * 10 + static_cast<unsigned>(text[i] - '0');
    ++i;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (++frac_digits > 9) return std::nullopt;
      d.digits = d.digits * 10 + static_cast<unsigned>(text[i] - '0');
      d.scale *= 10;
      ++i;
    }
    if (frac_digits == 0) return std::nullopt;
  }
  if (int_digits == 0) return std::nullopt;
  text.remove_prefix(i);
  return d;
}

constexpr const char* kSizeUnits = "MB, GB, TB (decimal) or MiB, GiB, TiB (binary)";

}  // namespace

Expected<std::uint64_t, std::string> parse_size(std::string_view text) {
  std::string_view rest = trim(text);
  if (rest.empty()) return unexpected(std::string("empty size; expected e.g. 24GB or 16GiB"));
  if (rest.front() == '-') return unexpected(std::string("size cannot be negative"));
  auto number = take_decimal(rest);
  if (!number)
    return unexpected("'" + std::string(text) +
                      "' is not a size; expected a number and a unit: " + kSizeUnits);
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty())
    return unexpected("size '" + std::string(trim(text)) + "' has no unit; write e.g. " +
                      std::string(trim(text)) + "GB (units: " + kSizeUnits + ")");
  struct Unit {
    std::string_view name;
    unsigned __int128 bytes;
  };
  static constexpr std::array<Unit, 10> kUnits{{{"B", 1},
                                                {"KB", 1000},
                                                {"MB", 1000 * 1000},
                                                {"GB", 1000ull * 1000 * 1000},
                                                {"TB", 1000ull * 1000 * 1000 * 1000},
                                                {"KiB", 1ull << 10},
                                                {"MiB", 1ull << 20},
                                                {"GiB", 1ull << 30},
                                                {"TiB", 1ull << 40},
                                                {"PB", 1000ull * 1000 * 1000 * 1000 * 1000}}};
  for (const auto& u : kUnits) {
    if (!iequals(rest, u.name)) continue;
    // "Gb" and "gb" read naturally as gigabytes; only the i of the binary units is significant.
    unsigned __int128 bytes = number->digits * u.bytes / number->scale;
    if (bytes > UINT64_MAX)
      return unexpected("size '" + std::string(trim(text)) + "' is too large");
    return static_cast<std::uint64_t>(bytes);
  }
  return unexpected("unknown size unit '" + std::string(rest) + "'; expected " + kSizeUnits);
}

Expected<Duration, std::string> parse_duration(std::string_view text) {
  std::string_view rest = trim(text);
  const std::string shown(rest);
  if (rest.empty()) return unexpected(std::string("empty duration; expected e.g. 90s or 1h30m"));
  if (rest.front() == '-') return unexpected(std::string("duration cannot be negative"));
  unsigned __int128 total_ms = 0;
  int previous_rank = 100;
  while (!rest.empty()) {
    auto number = take_decimal(rest);
    if (!number)
      return unexpected("'" + shown + "' is not a duration; expected e.g. 250ms, 90s, 10m, 1h30m");
    std::size_t n = 0;
    while (n < rest.size() && std::isalpha(static_cast<unsigned char>(rest[n]))) ++n;
    std::string_view unit = rest.substr(0, n);
    rest.remove_prefix(n);
    unsigned __int128 ms_per_unit = 0;
    int rank = 0;
    if (unit == "ms") {
      ms_per_unit = 1, rank = 0;
    } else if (unit == "s") {
      ms_per_unit = 1000, rank = 1;
    } else if (unit == "m") {
      ms_per_unit = 60'000, rank = 2;
    } else if (unit == "h") {
      ms_per_unit = 3'600'000, rank = 3;
    } else if (unit == "d") {
      ms_per_unit = 86'400'000, rank = 4;
    } else if (unit.empty()) {
      return unexpected("duration '" + shown + "' has no unit; write e.g. " + shown +
                        "s (units: ms, s, m, h)");
    } else {
      return unexpected("unknown duration unit '" + std::string(unit) + "' in '" + shown +
                        "'; expected ms, s, m or h");
    }
    // "1h30m" reads largest first; "30m1h" is almost certainly a typo.
    if (rank >= previous_rank)
      return unexpected("duration '" + shown +
                        "' must list units from largest to smallest, e.g. 1h30m");
    previous_rank = rank;
    total_ms += number->digits * ms_per_unit / number->scale;
    if (total_ms > static_cast<unsigned __int128>(INT64_MAX))
      return unexpected("duration '" + shown + "' is too long");
  }
  return Duration{static_cast<Duration::rep>(total_ms)};
}

std::string format_size(std::uint64_t bytes) {
  if (bytes == 0) return "0B";
  struct Unit {
    const char* name;
    std::uint64_t bytes;
  };
  static constexpr std::array<Unit, 6> kExact{{{"TB", 1000ull * 1000 * 1000 * 1000},
                                               {"TiB", 1ull << 40},
                                               {"GB", 1000ull * 1000 * 1000},
                                               {"GiB", 1ull << 30},
                                               {"MB", 1000ull * 1000},
                                               {"MiB", 1ull << 20}}};
  for (const auto& u : kExact)
    if (bytes % u.bytes == 0) return std::to_string(bytes / u.bytes) + u.name;
  char buf[64];
  const double b = static_cast<double>(bytes);
  if (b >= 1e12)
    std::snprintf(buf, sizeof buf, "%.1f TB", b / 1e12);
  else if (b >= 1e9)
    std::snprintf(buf, sizeof buf, "%.1f GB", b / 1e9);
  else if (b >= 1e6)
    std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > text.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto is = [&](std::size_t at, char c) { return at < text.size() && text[at] == c; };
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || !is(4, '-') || !is(7, '-') ||
      !(is(10, 'T') || is(10, 't') || is(10, ' ')) || !is(13, ':') || !is(16, ':'))
    return std::nullopt;
  if (*year < 1970 || *month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 ||
      *minute > 59 || *second > 60)
    return std::nullopt;
  std::size_t at = 19;
  long long nanos = 0;
  if (is(at, '.')) {
    ++at;
    int n = 0;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
      if (n < 9) nanos = nanos * 10 + (text[at] - '0');
      ++n;
      ++at;
    }
    if (n == 0) return std::nullopt;
    for (; n < 9; ++n) nanos *= 10;
  }
  long long offset_s = 0;
  if (is(at, 'Z') || is(at, 'z')) {
    ++at;
  } else if (is(at, '+') || is(at, '-')) {
    auto oh = digits(at + 1, 2), om = digits(at + 4, 2);
    if (!oh || !om || !is(at + 3, ':') || *oh > 23 || *om > 59) return std::nullopt;
    offset_s = (*oh * 3600LL + *om * 60LL) * (text[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  // Days from the civil date (proleptic Gregorian), without the C library's
  // time zone: the same answer on every machine.
  int y = *year - (*month <= 2 ? 1 : 0);
  const int era = y / 400;
  const int yoe = y - era * 400;
  const int mp = (*month + 9) % 12;
  const int doy = (153 * mp + 2) / 5 + *day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long long days = era * 146097LL + doe - 719468LL;
  const long long secs = days * 86400 + *hour * 3600LL + *minute * 60LL + *second - offset_s;
  return std::chrono::system_clock::time_point(std::chrono::duration_cast<
      std::chrono::system_clock::duration>(std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos)));
}

std::string format_duration(Duration d) {
  long long ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const long long h = ms / 3'600'000, m = ms / 60'000 % 60, s = ms / 1000 % 60, rest = ms % 1000;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (s) out += std::to_string(s) + "s";
  if (rest) out += std::to_string(rest) + "ms";
  return out;
}

}  // namespace berth
