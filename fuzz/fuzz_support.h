// What the fuzz targets share: an HttpClient that answers every request with
// the fuzz input, and a driver that puts one answer through every call of a
// cloud adapter (the parsers of offers, instances, launches and errors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace berth::fuzz {

/// Runs list_offers, list, get, terminate, check_credentials, plan_launch
/// and launch of the registered adapter `type` against an API that answers
/// every request with `status` and `body`.
void exercise_adapter(const std::string& type, long status, const std::string& body);

/// The status an input's first byte selects (2xx mostly; the error classes
/// every adapter maps), and the body the rest of it is.
long status_for(std::uint8_t selector);

}  // namespace berth::fuzz
