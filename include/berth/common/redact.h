// Secrets kept out of everything berth prints: traces, messages, JSON output
// and events (src/common/redact.cpp says how each encoding is found).
#pragma once

#include <string>
#include <vector>

namespace berth {

/// Replaces with "[REDACTED]" every occurrence of each secret in any of the
/// encodings it travels in (raw, percent-encoded whichever characters and
/// hex case, JSON-escaped, base64 alone or inside "user:password"), and the
/// values of whatever is shaped like a credential: headers and YAML keys
/// ("Authorization: ...", "X-Api-Key: ..."), auth schemes ("Bearer ..."),
/// query and environment parameters ("api_key=...", "HF_TOKEN=..."), JSON
/// fields ("token": "...") and URL passwords ("https://u:pw@host"). Names are
/// matched by whole word: "keycloak:" or "max_tokens=" are left alone.
std::string redact(std::string text, const std::vector<std::string>& secrets);

/// Only the known secrets, in every encoding, none of the name patterns: for
/// data (JSON output) where a field named like a credential is not one.
std::string redact_values(std::string text, const std::vector<std::string>& secrets);

}  // namespace berth
