// redact(): the last line of defence between a credential and a trace line or
// error message. Known secret values go first, in every encoding they travel
// in (they may appear anywhere: a URL, a body quoted in an error, an auth
// header), then anything shaped like a credential whose value berth was never
// told about: a header, query parameter or JSON field named like one, the
// value after an auth scheme and the password in a URL.
//
// Known values are found however they are written: raw; percent-encoded,
// whichever characters are encoded and in either case of hex digits, once or
// twice; JSON-escaped (\", \\, \/, \uXXXX); and base64 (standard or URL-safe,
// padded or not), in particular HTTP Basic's user:password, found by the part
// of the encoding that does not depend on what surrounds the secret.
//
// Names are matched by their last word, not by substring: "X-Api-Key",
// "api_key", "apiKey" and "HF_TOKEN" are credentials, "keycloak", "monkey",
// "max_tokens", "tokenizer", "token_type" and "server.key" are not.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/redact.h"
#include "berth/common/text.h"

namespace berth {

namespace {

constexpr std::string_view kRedacted = "[REDACTED]";

// One- and two-character values are not credentials, and replacing them
// would shred the text beyond reading.
constexpr std::size_t kMinSecret = 3;
// A base64 fragment shorter than this matches random text too often.
constexpr std::size_t kMinBase64Core = 6;

struct Span {
  std::size_t begin, end;
};

bool hex_at(std::string_view t, std::size_t p, std::size_t n) {
  if (p + n > t.size()) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (hex_value(t[p + i]) < 0) return false;
  return true;
}

unsigned hex4(std::string_view t, std::size_t p) {
  unsigned v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = v * 16 + static_cast<unsigned>(hex_value(t[p + i]));
  return v;
}

// The escape at `p` (percent, twice-percent or JSON), decoded into `out`;
// its length in the text, 0 when there is none.
std::size_t escape_at(std::string_view t, std::size_t p, std::string& out) {
  out.clear();
  if (t[p] == '%') {
    if (hex_at(t, p + 1, 2)) {
      int v = hex_value(t[p + 1]) * 16 + hex_value(t[p + 2]);
      if (v == '%' && p + 5 <= t.size() && hex_at(t, p + 3, 2)) {  // %25XX: encoded twice
        out += static_cast<char>(hex_value(t[p + 3]) * 16 + hex_value(t[p + 4]));
        return 5;
      }
      out += static_cast<char>(v);
      return 3;
    }
    return 0;
  }
  if (t[p] != '\\' || p + 1 >= t.size()) return 0;
  switch (t[p + 1]) {
    case '"':
      out = "\"";
      return 2;
    case '\\':
      out = "\\";
      return 2;
    case '/':
      out = "/";
      return 2;
    case 'b':
      out = "\b";
      return 2;
    case 'f':
      out = "\f";
      return 2;
    case 'n':
      out = "\n";
      return 2;
    case 'r':
      out = "\r";
      return 2;
    case 't':
      out = "\t";
      return 2;
    case 'u': {
      if (!hex_at(t, p + 2, 4)) return 0;
      unsigned cp = hex4(t, p + 2);
      std::size_t used = 6;
      if (cp >= 0xD800 && cp <= 0xDBFF && p + 12 <= t.size() && t[p + 6] == '\\' &&
          t[p + 7] == 'u' && hex_at(t, p + 8, 4)) {
        unsigned low = hex4(t, p + 8);
        if (low >= 0xDC00 && low <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          used = 12;
        }
      }
      append_utf8(out, cp);
      return used;
    }
    default:
      return 0;
  }
}

// Where an occurrence of `needle` that starts at `p` ends, each of its bytes
// written raw or escaped; npos when none starts there.
std::size_t match_at(std::string_view t, std::size_t p, std::string_view needle,
                     std::string& scratch) {
  std::size_t j = 0;
  while (j < needle.size()) {
    if (p >= t.size()) return std::string_view::npos;
    std::size_t used = (t[p] == '%' || t[p] == '\\') ? escape_at(t, p, scratch) : 0;
    if (used && !scratch.empty() && needle.compare(j, scratch.size(), scratch) == 0) {
      p += used;
      j += scratch.size();
    } else if (t[p] == needle[j]) {
      ++p;
      ++j;
    } else {
      return std::string_view::npos;
    }
  }
  return p;
}

// A base64 token's characters, either alphabet, '%' for its escapes; '='
// only as the padding that ends it.
bool is_base64_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '-' ||
         c == '_' || c == '%';
}

struct Needle {
  std::string text;
  bool base64 = false;  // redact the whole base64 token around it
};

std::string base64(std::string_view in, bool url_safe = false, bool pad = true) {
  const char* alphabet = url_safe
                             ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(in[k]); };
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
  }
  std::size_t rest = in.size() - i;
  if (rest > 0) {
    unsigned v = byte(i) << 16;
    if (rest == 2) v |= byte(i + 1) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (pad) out += rest == 2 ? "=" : "==";
  }
  return out;
}

// Every form of each secret berth looks for.
std::vector<Needle> needles_for(const std::vector<std::string>& secrets) {
  std::vector<Needle> out;
  for (const auto& s : secrets) {
    if (s.size() < kMinSecret) continue;
    out.push_back({s, false});
    // HTTP Basic with the key as user and an empty password, whole.
    out.push_back({base64(s), true});
    out.push_back({base64(s + ":"), true});
    // Anywhere inside base64: for each of the three offsets the secret may
    // start at within a 3-byte group, the characters that depend only on
    // the secret's own bytes ("user:" + secret, secret + ":" + password).
    for (std::size_t a = 0; a < 3; ++a) {
      std::string framed = std::string(a, '\0') + s + std::string(2, '\0');
      for (bool url_safe : {false, true}) {
        std::string encoded = base64(framed, url_safe, false);
        std::size_t first = (8 * a + 5) / 6;          // characters after the prefix bits
        std::size_t last = (8 * (a + s.size())) / 6;  // one past those before the suffix
        if (last > first && last - first >= kMinBase64Core)
          out.push_back({encoded.substr(first, last - first), true});
      }
    }
  }
  // Longest first, so a secret that contains another is replaced whole.
  std::sort(out.begin(), out.end(),
            [](const Needle& a, const Needle& b) { return a.text.size() > b.text.size(); });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Needle& a, const Needle& b) { return a.text == b.text; }),
            out.end());
  return out;
}

// Where `needle` may start: its first byte raw, or an escape.
std::size_t next_candidate(std::string_view t, std::size_t from, char first) {
  for (std::size_t p = from; p < t.size(); ++p) {
    char c = t[p];
    if (c == first || c == '%' || c == '\\') return p;
  }
  return std::string_view::npos;
}

std::string replace_ranges(std::string_view text, std::vector<Span> ranges) {
  if (ranges.empty()) return std::string(text);
  std::sort(ranges.begin(), ranges.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  std::size_t i = 0;
  while (i < ranges.size()) {
    Span r = ranges[i++];
    while (i < ranges.size() && ranges[i].begin < r.end) r.end = std::max(r.end, ranges[i++].end);
    out.append(text.substr(at, r.begin - at));
    out.append(kRedacted);
    at = r.end;
  }
  out.append(text.substr(at));
  return out;
}

std::string redact_known(std::string_view text, const std::vector<std::string>& secrets) {
  auto needles = needles_for(secrets);
  if (needles.empty()) return std::string(text);
  std::vector<Span> found;
  std::string scratch;
  for (const auto& n : needles) {
    for (std::size_t p = next_candidate(text, 0, n.text[0]); p != std::string_view::npos;
         p = next_candidate(text, p + 1, n.text[0])) {
      std::size_t end = match_at(text, p, n.text, scratch);
      if (end == std::string_view::npos) continue;
      std::size_t begin = p;
      if (n.base64) {
        while (begin > 0 && is_base64_char(text[begin - 1])) --begin;
        while (end < text.size() && is_base64_char(text[end])) ++end;
        for (int pad = 0; pad < 2; ++pad) {
          if (end < text.size() && text[end] == '=')
            end += 1;
          else if (text.compare(end, 3, "%3D") == 0 || text.compare(end, 3, "%3d") == 0)
            end += 3;
        }
      }
      found.push_back({begin, end});
      p = end - 1;
    }
  }
  return replace_ranges(text, std::move(found));
}

// --- names ---

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// The words of a name: split at '_', '-', '.', and where camelCase starts a
// new word ("apiKey", "APIKey"); lower-cased.
std::vector<std::string> words(std::string_view name) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(cur);
    cur.clear();
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      flush();
      continue;
    }
    bool upper = std::isupper(static_cast<unsigned char>(c));
    if (upper && i > 0) {
      char prev = name[i - 1];
      bool next_lower =
          i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1]));
      if (std::islower(static_cast<unsigned char>(prev)) ||
          std::isdigit(static_cast<unsigned char>(prev)) ||
          (std::isupper(static_cast<unsigned char>(prev)) && next_lower))
        flush();
    }
    cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  flush();
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Whether a header, parameter or field of this name carries a credential.
bool is_credential_name(std::string_view name) {
  static constexpr std::string_view kWords[] = {
      "auth",      "authorization", "token",      "secret",      "password",
      "passwd",    "pwd",           "key",        "apikey",      "cookie",
      "cookies",   "signature",     "credential", "credentials", "accesskey",
      "secretkey", "privatekey",    "authkey",    "passphrase"};
  // Glued lower-case names ("accesstoken", "clientsecret") end with one of
  // these; "key" is not among them ("monkey", "hotkey").
  static constexpr std::string_view kSuffixes[] = {"token", "secret", "password", "passwd",
                                                   "apikey"};
  // The last word names what the value is: "api_key" is a key, "key_id",
  // "token_type" and "password_file" are not credentials themselves.
  auto all = words(name);
  if (all.empty()) return false;
  const std::string& w = all.back();
  for (auto k : kWords)
    if (w == k) return true;
  for (auto k : kSuffixes)
    if (ends_with(w, k)) return true;
  return false;
}

// The name that ends right before `end`; empty when there is none, or when
// it is the end of a path or file name ("tls/server.key:", "x.token=").
std::string_view name_before(std::string_view t, std::size_t end, std::size_t* start) {
  std::size_t e = end;
  std::size_t b = e;
  while (b > 0 && is_name_char(t[b - 1])) --b;
  *start = b;
  if (b > 0 && std::strchr("./\\", t[b - 1])) return {};
  return t.substr(b, e - b);
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// "Authorization: Bearer x", "X-Api-Key: x", "api_key: x": the rest of the line.
void header_values(std::string_view t, std::vector<Span>& out) {
  for (std::size_t p = t.find(':'); p != std::string_view::npos; p = t.find(':', p + 1)) {
    std::size_t e = p;
    while (e > 0 && is_blank(t[e - 1])) --e;
    std::size_t start = 0;
    std::string_view name = name_before(t, e, &start);
    if (name.empty() || !is_credential_name(name)) continue;
    std::size_t v = p + 1;
    while (v < t.size() && is_blank(t[v])) ++v;
    std::size_t end = v;
    while (end < t.size() && t[end] != '\n' && t[end] != '\r') ++end;
    if (end > v) out.push_back({v, end});
  }
}

bool is_credential_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._~+/=-", c) != nullptr;
}

// "Bearer x", "Basic x", "Token x": the credential after the scheme.
void scheme_values(std::string_view t, std::vector<Span>& out) {
  for (std::size_t p = 0; p < t.size();) {
    if (!std::isalpha(static_cast<unsigned char>(t[p]))) {
      ++p;
      continue;
    }
    std::size_t e = p;
    while (e < t.size() && std::isalnum(static_cast<unsigned char>(t[e]))) ++e;
    bool word_start =
        p == 0 || !(std::isalnum(static_cast<unsigned char>(t[p - 1])) || t[p - 1] == '_');
    std::string_view word = t.substr(p, e - p);
    if (word_start &&
        (iequals(word, "bearer") || iequals(word, "basic") || iequals(word, "token"))) {
      std::size_t v = e;
      while (v < t.size() && is_blank(t[v])) ++v;
      std::size_t end = v;
      while (end < t.size() && is_credential_char(t[end])) ++end;
      if (v > e && end > v && t.compare(v, kRedacted.size(), kRedacted) != 0)
        out.push_back({v, end});
      p = std::max(end, e);
      continue;
    }
    p = e;
  }
}

// "?api_key=x", "&access_token=x", "HF_TOKEN=x": the value up to the next
// separator.
void parameter_values(std::string_view t, std::vector<Span>& out) {
  for (std::size_t p = t.find('='); p != std::string_view::npos; p = t.find('=', p + 1)) {
    std::size_t start = 0;
    std::string_view name = name_before(t, p, &start);
    if (name.empty() || !is_credential_name(name)) continue;
    std::size_t end = p + 1;
    while (end < t.size() && !std::strchr("&#\"' \t\r\n", t[end])) ++end;
    if (end > p + 1) out.push_back({p + 1, end});
  }
}

// "api_key": "x" (and \"api_key\": \"x\" inside a quoted JSON string): the
// string value.
void json_values(std::string_view t, std::vector<Span>& out) {
  for (std::size_t p = t.find('"'); p != std::string_view::npos; p = t.find('"', p + 1)) {
    bool escaped = p > 0 && t[p - 1] == '\\';
    std::string_view quote = escaped ? "\\\"" : "\"";
    std::size_t n = p + 1;
    while (n < t.size() && is_name_char(t[n])) ++n;
    if (n == p + 1 || t.compare(n, quote.size(), quote) != 0) continue;
    if (!is_credential_name(t.substr(p + 1, n - p - 1))) continue;
    std::size_t c = n + quote.size();
    while (c < t.size() && (is_blank(t[c]) || t[c] == '\n' || t[c] == '\r')) ++c;
    if (c >= t.size() || t[c] != ':') continue;
    ++c;
    while (c < t.size() && (is_blank(t[c]) || t[c] == '\n' || t[c] == '\r')) ++c;
    if (t.compare(c, quote.size(), quote) != 0) continue;
    std::size_t v = c + quote.size();
    std::size_t end = v;
    if (!escaped) {
      while (end < t.size() && t[end] != '"') end += t[end] == '\\' ? 2 : 1;
    } else {
      // Inside an escaped string the value ends at the next \" that is not
      // itself an escaped quote of the inner string (\\\").
      while (end + 1 < t.size()) {
        if (t[end] == '\\' && t[end + 1] == '"' && !(end > 0 && t[end - 1] == '\\')) break;
        ++end;
      }
    }
    end = std::min(end, t.size());
    if (end > v) out.push_back({v, end});
    p = end;
  }
}

// "https://user:password@host": the password of a URL's user info.
void userinfo_values(std::string_view t, std::vector<Span>& out) {
  for (std::size_t p = t.find("://"); p != std::string_view::npos; p = t.find("://", p + 3)) {
    std::size_t b = p + 3;
    std::size_t e = b;
    while (e < t.size() && !std::strchr("/?#@ \t\r\n\"'", t[e])) ++e;
    if (e >= t.size() || t[e] != '@') continue;
    std::size_t colon = t.find(':', b);
    if (colon == std::string_view::npos || colon >= e || colon + 1 == e) continue;
    out.push_back({colon + 1, e});
  }
}

}  // namespace

std::string redact_values(std::string text, const std::vector<std::string>& secrets) {
  return redact_known(text, secrets);
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  text = redact_known(text, secrets);
  // Each pass sees what the one before it left, as the values it replaced
  // might otherwise be found again by a later pattern.
  for (auto pass : {header_values, scheme_values, parameter_values, json_values, userinfo_values}) {
    std::vector<Span> found;
    pass(text, found);
    text = replace_ranges(text, std::move(found));
  }
  return text;
}

}  // namespace berth
