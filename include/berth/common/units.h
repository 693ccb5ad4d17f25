// Sizes, durations and ranges as the template writes them (docs/templates.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "berth/common/expected.h"

namespace berth {

using Duration = std::chrono::milliseconds;

/// "24GB" (decimal), "24GiB" (binary), also MB/TB/MiB/TiB. A bare number is an
/// error. Returns bytes, or a message saying what was expected.
Expected<std::uint64_t, std::string> parse_size(std::string_view text);
/// "90s", "1h30m", "250ms". Returns milliseconds, or a message.
Expected<Duration, std::string> parse_duration(std::string_view text);

/// "24 GB", "1.5 TiB" style for humans; "80GB" when exact.
std::string format_size(std::uint64_t bytes);
std::string format_duration(Duration d);

/// A timestamp as container runtimes and APIs write it: RFC 3339
/// ("2026-11-30T03:52:57.496251709Z", "...+01:00"; a space for the T is
/// accepted). nullopt for anything else and for Go's zero time (year 1).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

constexpr double bytes_to_gb(std::uint64_t bytes) { return static_cast<double>(bytes) / 1e9; }

/// A closed range with optional ends: "A..B", "A..", "..B". What a single
/// value means (exactly, or at least) is decided by the parser per field.
template <class T>
struct Range {
  std::optional<T> min;
  std::optional<T> max;

  bool contains(const T& v) const {
    return (!min || !(v < *min)) && (!max || !(*max < v));
  }
  bool unbounded() const { return !min && !max; }
  bool operator==(const Range&) const = default;
};

}  // namespace berth
