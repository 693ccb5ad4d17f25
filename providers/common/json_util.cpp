#include "providers/common/json_util.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include "berth/http/json_answer.h"

namespace berth::json_util {

namespace {

std::string describe(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    default:
      return "a number";
  }
}

[[noreturn]] void fail(std::string_view key, const std::string& what) {
  throw ShapeError("field '" + std::string(key) + "' " + what);
}

}  // namespace

std::optional<json> parse(std::string_view text) { return parse_json_answer(text); }

const json* find(const json& obj, std::string_view key) {
  if (!obj.is_object()) throw ShapeError("expected an object, got " + describe(obj));
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const json& member(const json& obj, std::string_view key) {
  if (!obj.is_object()) throw ShapeError("expected an object, got " + describe(obj));
  auto it = obj.find(key);
  if (it == obj.end()) fail(key, "is missing");
  return *it;
}

const json& object_at(const json& obj, std::string_view key) {
  const json& v = member(obj, key);
  if (!v.is_object()) fail(key, "should be an object, got " + describe(v));
  return v;
}

const json& array_at(const json& obj, std::string_view key) {
  const json& v = member(obj, key);
  if (!v.is_array()) fail(key, "should be an array, got " + describe(v));
  return v;
}

namespace {

// A number as written, whatever its magnitude; nullopt when it is none.
std::optional<double> any_number(const json& value) {
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return std::nullopt;
  const auto& s = value.get_ref<const std::string&>();
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  if (b == e) return std::nullopt;
  double out = 0;
  auto [ptr, ec] = std::from_chars(s.data() + b, s.data() + e, out);
  if (ec != std::errc() || ptr != s.data() + e || !std::isfinite(out)) return std::nullopt;
  return out;
}

[[noreturn]] void not_a_number(std::string_view key, const json& v) {
  if (any_number(v)) fail(key, "is out of range: " + v.dump());
  fail(key, "should be a number, got " + describe(v));
}

}  // namespace

std::optional<double> as_number(const json& value) {
  auto n = any_number(value);
  if (!n || std::fabs(*n) > kMaxNumber) return std::nullopt;
  return n;
}

double number_at(const json& obj, std::string_view key) {
  const json& v = member(obj, key);
  auto n = as_number(v);
  if (!n) not_a_number(key, v);
  return *n;
}

std::optional<double> opt_number(const json& obj, std::string_view key) {
  const json* v = find(obj, key);
  if (!v) return std::nullopt;
  auto n = as_number(*v);
  if (!n) not_a_number(key, *v);
  return n;
}

std::optional<std::chrono::system_clock::time_point> opt_unix_time(const json& obj,
                                                                   std::string_view key) {
  const json* v = find(obj, key);
  if (!v || !v->is_number()) return std::nullopt;
  const double s = v->get<double>();
  if (!(s >= 946684800.0 && s < 7258118400.0)) return std::nullopt;  // 2000 .. 2200
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::duration<double>(s)));
}

std::string string_at(const json& obj, std::string_view key) {
  const json& v = member(obj, key);
  if (!v.is_string()) fail(key, "should be a string, got " + describe(v));
  return v.get<std::string>();
}

std::optional<std::string> opt_string(const json& obj, std::string_view key) {
  const json* v = find(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail(key, "should be a string, got " + describe(*v));
  return v->get<std::string>();
}

std::string id_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  if (value.is_number_unsigned()) return std::to_string(value.get<unsigned long long>());
  throw ShapeError("expected an id (string or integer), got " + describe(value));
}

std::string id_at(const json& obj, std::string_view key) {
  const json& v = member(obj, key);
  if (!v.is_string() && !v.is_number_integer() && !v.is_number_unsigned())
    fail(key, "should be an id, got " + describe(v));
  return id_text(v);
}

std::optional<bool> as_bool(const json& value) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer()) return value.get<long long>() != 0;
  if (!value.is_string()) return std::nullopt;
  std::string s = value.get<std::string>();
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "true" || s == "yes" || s == "1" || s == "on") return true;
  if (s == "false" || s == "no" || s == "0" || s == "off") return false;
  return std::nullopt;
}

}  // namespace berth::json_util
