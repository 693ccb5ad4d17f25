// Typed reads of provider JSON. Provider APIs send numbers as strings, omit
// fields and change shapes without notice; adapters read through these so an
// unexpected shape becomes a ShapeError (caught at the adapter's edge and
// reported as bad-response), never a default that looks like real data.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace berth::json_util {

using nlohmann::json;

struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// nullopt when the text is not one complete JSON value (malformed, truncated)
/// or is larger than a document berth reads whole (berth/http/json_answer.h).
std::optional<json> parse(std::string_view text);

/// The member `key` of `obj`; throws unless `obj` is an object holding it.
const json& member(const json& obj, std::string_view key);
/// nullptr when absent or null; throws when `obj` is not an object.
const json* find(const json& obj, std::string_view key);

const json& object_at(const json& obj, std::string_view key);
const json& array_at(const json& obj, std::string_view key);

/// The largest magnitude a number read here may have. No count, size,
/// price or port an API sends comes near it, and adapters convert what they
/// read to int: a larger value would make that conversion undefined.
inline constexpr double kMaxNumber = 1e9;

/// A number, or a string holding one ("1.50", " 24 "), finite and within
/// ±kMaxNumber; nullopt otherwise (number_at and opt_number then throw,
/// saying which).
std::optional<double> as_number(const json& value);

/// Required number (or numeric string).
double number_at(const json& obj, std::string_view key);
/// Absent or null gives nullopt; anything but a number or numeric string throws.
std::optional<double> opt_number(const json& obj, std::string_view key);

/// A Unix time in seconds (a number, with a fraction or not) between 2000
/// and 2200; nullopt for anything else, absent or not: a date is never a
/// reason to refuse the answer it is in.
std::optional<std::chrono::system_clock::time_point> opt_unix_time(const json& obj,
                                                                   std::string_view key);

/// Required string.
std::string string_at(const json& obj, std::string_view key);
/// Absent or null gives nullopt; non-strings throw.
std::optional<std::string> opt_string(const json& obj, std::string_view key);

/// Ids arrive as strings or integers depending on the API; both become text.
std::string id_at(const json& obj, std::string_view key);
std::string id_text(const json& value);

/// true/false, or "true"/"false"/"yes"/"no"/"1"/"0" (settings from YAML).
std::optional<bool> as_bool(const json& value);

}  // namespace berth::json_util
