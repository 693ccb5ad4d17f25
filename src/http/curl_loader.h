// libcurl is opened on first use, not by the dynamic loader at start: its
// ~30 dependencies (gnutls, krb5, ldap, ...) cost milliseconds that commands
// without any HTTP request (`--version`, `validate`) must not pay.
// curl_loader.cpp defines the curl_* functions berth calls; each forwards to
// the library opened here, so callers use <curl/curl.h> as usual.
#pragma once

#include <string>

#include "berth/common/expected.h"

namespace berth::curl_loader {

/// The library opened unless a caller names another one.
inline constexpr const char* kLibrary = "libcurl.so.4";

/// Opens `library` (once; later calls are cheap) and runs curl_global_init
/// before any other curl call. Thread-safe. On failure the error names the
/// library, why it could not be loaded and the package that provides it.
Expected<void, std::string> load(const std::string& library = kLibrary);

}  // namespace berth::curl_loader
