// Building provider URLs from a configured base and untrusted path parts.
#pragma once

#include <string>
#include <string_view>

namespace berth::url {

/// base without trailing slashes + path (which starts with '/').
std::string join(std::string_view base, std::string_view path);

/// Percent-encodes everything but RFC 3986 unreserved characters, so an id
/// from an API or the user can never add path segments or a query.
std::string segment(std::string_view part);

}  // namespace berth::url
