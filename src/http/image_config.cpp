// Reading an image's config from its registry, following the OCI distribution
// spec: the manifest (or an index, then the manifest of the wanted platform),
// then the config blob it names. Authentication follows Docker's registry
// token scheme: a 401 either names a token service ("Bearer" challenge) or asks
// for HTTP Basic, and each request is retried at most once, after at most one
// token fetch.
#include "berth/http/image_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "berth/common/redact.h"
#include "berth/common/text.h"
#include "berth/http/http.h"
#include "berth/http/json_answer.h"

namespace berth {

namespace {

using json = nlohmann::json;
using Kind = ImageConfigError::Kind;

constexpr const char* kDockerHubApi = "registry-1.docker.io";

// containerd refuses manifests and indexes over 4 MiB; a config blob holds
// the run settings and the layer history, far below 8 MiB for any real image.
constexpr std::size_t kManifestLimit = 4u << 20;
constexpr std::size_t kConfigLimit = 8u << 20;
constexpr std::size_t kTokenLimit = 1u << 20;
// Registries redirect blobs to storage once, a CDN may add a hop or two.
constexpr int kMaxRedirects = 5;
// The reference, the platform's entry of its index, and one nested index.
constexpr int kMaxManifests = 3;

constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr const char* kDockerConfig = "application/vnd.docker.container.image.v1+json";

bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return std::isupper(c) != 0; });
}

// --- references (Docker's grammar: github.com/distribution/reference) ---

const std::regex& path_component() {
  static const std::regex re("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  return re;
}

const std::regex& tag_grammar() {
  static const std::regex re("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  return re;
}

// host[:port]: a DNS name or IPv4 address, or an IPv6 address in brackets.
const std::regex& registry_grammar() {
  static const std::regex re(
      "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
      "|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?");
  return re;
}

// The two algorithms the OCI image spec registers, in their canonical
// (lower-case hex) encoding. Digests also end up in URL paths, so nothing
// else is let through, whether it comes from the user or from a registry.
bool valid_digest(std::string_view d) {
  auto hex_of = [&](std::string_view prefix, std::size_t n) {
    if (d.substr(0, prefix.size()) != prefix || d.size() != prefix.size() + n) return false;
    return std::all_of(d.begin() + static_cast<std::ptrdiff_t>(prefix.size()), d.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  };
  return hex_of("sha256:", 64) || hex_of("sha512:", 128);
}

bool is_docker_hub(std::string_view registry) {
  return registry == "docker.io" || registry == "index.docker.io" || registry == kDockerHubApi;
}

// --- the scheme ---

// 127.0.0.0/8 as an address only: "127.example.com" is somebody's host name.
bool is_ipv4_loopback(std::string_view host) {
  int parts = 0;
  int first = -1;
  std::size_t i = 0;
  while (i <= host.size()) {
    std::size_t dot = host.find('.', i);
    if (dot == std::string_view::npos) dot = host.size();
    auto part = host.substr(i, dot - i);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    int value = std::stoi(std::string(part));
    if (value > 255) return false;
    if (parts == 0) first = value;
    ++parts;
    i = dot + 1;
  }
  return parts == 4 && first == 127;
}

// Plain http only where nothing leaves the machine: the loopback registries
// that Docker treats as insecure by default (127.0.0.0/8, localhost).
// Everything else is https; a registry that only speaks http elsewhere cannot
// be read. HttpClient (src/http/http.cpp) sends plain http to a loopback address
// only, never to a name: a "localhost" registry is refused with a message
// that says so, and is read when named by its address (127.0.0.1:5000).
std::string registry_base_url(const std::string& registry) {
  std::string host = registry;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else if (auto colon = host.find(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  host = ascii_lower(host);
  bool loopback = host == "localhost" || host == "[::1]" || is_ipv4_loopback(host);
  return (loopback ? "http://" : "https://") + registry;
}

// --- URLs ---

// "scheme://authority", lower-cased: what decides whether a redirect leaves
// the host the credentials were meant for.
std::string origin_of(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  auto end = url.find_first_of("/?#", scheme_end + 3);
  return ascii_lower(url.substr(0, end));
}

std::string host_of(const std::string& url) {
  auto origin = origin_of(url);
  auto scheme_end = origin.find("://");
  return scheme_end == std::string::npos ? origin : origin.substr(scheme_end + 3);
}

std::string resolve_location(const std::string& base, const std::string& location) {
  static const std::regex absolute("^[A-Za-z][A-Za-z0-9+.-]*://.*");
  if (std::regex_match(location, absolute)) return location;
  if (location.rfind("//", 0) == 0) return base.substr(0, base.find("://") + 1) + location;
  if (location.rfind('/', 0) == 0) return origin_of(base) + location;
  std::string path = base.substr(0, base.find_first_of("?#"));
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash < origin_of(base).size()) return path + "/" + location;
  return path.substr(0, slash + 1) + location;
}

std::string percent_encode(std::string_view in) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string base64(std::string_view in) {
  static const char* const kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// --- WWW-Authenticate (RFC 9110 §11.6.1; one challenge is all registries send) ---

struct Challenge {
  std::string scheme;  // lower-cased: "bearer", "basic"
  std::map<std::string, std::string> params;
};

std::optional<Challenge> parse_challenge(std::string_view header) {
  std::size_t i = 0;
  auto skip = [&](std::string_view chars) {
    while (i < header.size() && chars.find(header[i]) != std::string_view::npos) ++i;
  };
  skip(" \t");
  std::size_t start = i;
  while (i < header.size() && header[i] != ' ' && header[i] != '\t') ++i;
  if (i == start) return std::nullopt;
  Challenge c;
  c.scheme = ascii_lower(std::string(header.substr(start, i - start)));
  for (;;) {
    skip(" \t,");
    if (i >= header.size()) break;
    std::size_t eq = header.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key = ascii_lower(trim(header.substr(i, eq - i)));
    i = eq + 1;
    skip(" \t");
    std::string value;
    if (i < header.size() && header[i] == '"') {
      for (++i; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i];
      }
      ++i;  // the closing quote
    } else {
      std::size_t end = header.find(',', i);
      if (end == std::string_view::npos) end = header.size();
      value = trim(header.substr(i, end - i));
      i = end;
    }
    c.params[key] = value;
  }
  return c;
}

// --- answers ---

// The registry's own words from an OCI error body ({"errors":[{"code",
// "message"}]}) or a token service's ({"details": ...}), short.
std::string registry_words(const std::string& body) {
  auto doc = parse_json_answer(body).value_or(json(json::value_t::discarded));
  if (doc.is_discarded() || !doc.is_object()) return "";
  auto text = [](const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); };
  std::string words;
  if (auto e = doc.find("errors");
      e != doc.end() && e->is_array() && !e->empty() && e->front().is_object()) {
    std::string code = text(e->front().value("code", json()));
    std::string message = text(e->front().value("message", json()));
    words = code.empty() ? message : message.empty() ? code : code + ": " + message;
  } else {
    words = text(doc.value("details", json()));
    if (words.empty()) words = text(doc.value("error", json()));
  }
  for (auto& c : words)
    if (c == '\n' || c == '\r') c = ' ';
  if (words.size() > 160) words = words.substr(0, 160) + "...";
  return words;
}

Kind kind_of_status(long status) {
  if (status == 401 || status == 403) return Kind::kAuth;
  if (status == 404) return Kind::kNotFound;
  if (status == 429 || status >= 500) return Kind::kUnreachable;
  return Kind::kBadAnswer;
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string media_type_of(const json& doc, const HttpResponse& r) {
  if (auto m = doc.find("mediaType");
      m != doc.end() && m->is_string() && !m->get_ref<const std::string&>().empty())
    return m->get<std::string>();
  std::string type = r.header("content-type");
  return ascii_lower(trim(std::string_view(type).substr(0, type.find(';'))));
}

// --- platforms ---

struct Platform {
  std::string architecture;
  std::string variant;  // normalized
};

// Variants that mean the same machine: arm64 is v8 unless said otherwise,
// amd64's baseline v1 is no variant at all (containerd normalizes the same way).
std::string normalized_variant(const std::string& architecture, const std::string& variant) {
  if (architecture == "arm64" && variant.empty()) return "v8";
  if (architecture == "amd64" && variant == "v1") return "";
  return variant;
}

Platform wanted_platform(const std::string& text) {
  auto slash = text.find('/');
  Platform p;
  p.architecture = text.substr(0, slash);
  p.variant = slash == std::string::npos ? "" : text.substr(slash + 1);
  // A 32-bit arm host without a variant named: v7, as Docker assumes.
  if (p.architecture == "arm" && p.variant.empty()) p.variant = "v7";
  p.variant = normalized_variant(p.architecture, p.variant);
  return p;
}

std::string platform_name(const std::string& os, const std::string& architecture,
                          const std::string& variant) {
  return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

bool is_manifest_type(const std::string& t) { return t == kOciManifest || t == kDockerManifest; }
bool is_index_type(const std::string& t) { return t == kOciIndex || t == kDockerList; }

// --- one conversation with one registry ---

class Registry {
 public:
  Registry(HttpClient& http, const ImageReference& ref,
           const std::optional<RegistryCredentials>& credentials)
      : http_(http), ref_(ref), credentials_(credentials), base_(registry_base_url(ref.registry)) {
    if (credentials_) {
      basic_ = "Basic " + base64(credentials_->username + ":" + credentials_->password);
      secrets_ = {credentials_->password, basic_.substr(6)};
    }
  }

  /// What a message calls the image: "team/app:1", "o/r@sha256:...".
  std::string image_name() const {
    std::string name = ref_.repository;
    if (!ref_.tag.empty()) name += ":" + ref_.tag;
    if (!ref_.digest.empty()) name += "@" + ref_.digest;
    return name;
  }

  std::string who() const { return "registry " + ref_.registry; }

  /// Every failure leaves through here, so no message can carry a credential:
  /// the values known to be secret, in every encoding (redact_values). The
  /// message goes through redact() again wherever it is printed.
  Unexpected<ImageConfigError> fail(Kind kind, std::string message) const {
    return unexpected(ImageConfigError{kind, redact_values(std::move(message), secrets_)});
  }

  /// GET <registry>/v2/<repository>/<path>; only a 2xx answer is returned.
  Expected<HttpResponse, ImageConfigError> get(const std::string& path, const std::string& accept,
                                               std::size_t cap, const std::string& what) {
    std::string url = base_ + "/v2/" + ref_.repository + "/" + path;
    for (int attempt = 0;; ++attempt) {
      auto r = fetch(url, accept, authorization_, cap, who(), what);
      if (!r) return r;
      if (r->status == 401 && attempt == 0) {
        if (auto ok = authenticate(*r, what); !ok) return unexpected(ok.error());
        continue;
      }
      if (r->status < 200 || r->status > 299) return status_failure(who(), *r, what);
      return r;
    }
  }

 private:
  // Follows redirects itself: HttpClient never does, so that no redirect
  // carries an Authorization header to another host. Registries redirect
  // blobs to storage (S3, a CDN) that authenticates the signed URL instead.
  Expected<HttpResponse, ImageConfigError> fetch(const std::string& url, const std::string& accept,
                                                 const std::string& authorization, std::size_t cap,
                                                 const std::string& who, const std::string& what) {
    std::string current = url;
    for (int hop = 0;; ++hop) {
      HttpRequest request;
      request.url = current;
      if (!accept.empty()) request.headers.emplace_back("Accept", accept);
      if (!authorization.empty() && origin_of(current) == origin_of(url))
        request.headers.emplace_back("Authorization", authorization);
      request.secrets = secrets_;
      request.max_response_bytes = cap;
      auto r = http_.send(request);
      std::string via =
          origin_of(current) == origin_of(url) ? "" : " (redirected to " + host_of(current) + ")";
      if (!r) return transport_failure(who + via, what, r.error());
      // Storage that refuses its signed URL (expired, clock skew) says
      // nothing about the registry's credentials: not an auth failure.
      if (!via.empty() && !is_redirect(r->status) && (r->status < 200 || r->status > 299)) {
        Kind kind = kind_of_status(r->status);
        return fail(kind == Kind::kAuth ? Kind::kBadAnswer : kind,
                    fmt::format("{}{} answered {} for {}", who, via, r->status, what));
      }
      if (!is_redirect(r->status)) return std::move(*r);
      if (hop == kMaxRedirects)
        return fail(Kind::kBadAnswer, fmt::format("{}{} redirected more than {} times for {}", who,
                                                  via, kMaxRedirects, what));
      std::string location = r->header("location");
      if (location.empty())
        return fail(Kind::kBadAnswer, fmt::format("{}{} answered {} for {} without a Location", who,
                                                  via, r->status, what));
      current = resolve_location(current, location);
    }
  }

  Unexpected<ImageConfigError> transport_failure(const std::string& who, const std::string& what,
                                                 const HttpFailure& f) const {
    switch (f.kind) {
      case HttpFailure::Kind::kTooLarge:
        return fail(Kind::kBadAnswer,
                    fmt::format("{} sent too much for {}: {}", who, what, f.message));
      case HttpFailure::Kind::kCancelled:
        return fail(Kind::kInterrupted,
                    fmt::format("interrupted while asking {} for {}", who, what));
      default:
        return fail(Kind::kUnreachable,
                    fmt::format("cannot reach {} for {}: {}", who, what, f.message));
    }
  }

  Unexpected<ImageConfigError> status_failure(const std::string& who, const HttpResponse& r,
                                              const std::string& what) const {
    Kind kind = kind_of_status(r.status);
    std::vector<std::string> notes;
    if (auto words = registry_words(r.body); !words.empty()) notes.push_back(words);
    if (kind == Kind::kAuth)
      notes.push_back(credentials_ ? "check registry_auth"
                                   : "the repository is private or does not exist: check the "
                                     "image name, or set registry_auth");
    std::string message = fmt::format("{} answered {} for {}", who, r.status, what);
    if (!notes.empty()) message += fmt::format(" ({})", fmt::join(notes, "; "));
    return fail(kind, message);
  }

  // After a 401: how to ask again. Leaves authorization_ set for the retry
  // and for every later request (a pull token covers the whole repository).
  Expected<void, ImageConfigError> authenticate(const HttpResponse& r, const std::string& what) {
    auto challenge = parse_challenge(r.header("www-authenticate"));
    if (challenge && challenge->scheme == "basic") {
      if (!credentials_) return status_failure(who(), r, what);
      authorization_ = basic_;
      return {};
    }
    if (challenge && challenge->scheme == "bearer") {
      auto token = fetch_token(*challenge, what);
      if (!token) return unexpected(token.error());
      secrets_.push_back(*token);
      authorization_ = "Bearer " + *token;
      return {};
    }
    return fail(Kind::kAuth, fmt::format("{} answered 401 for {} without a token or Basic "
                                         "challenge berth could follow",
                                         who(), what));
  }

  // Docker's registry token authentication: GET <realm>?service=..&scope=..,
  // anonymously or with HTTP Basic credentials, answered by {"token": ...}
  // or the OAuth2 spelling {"access_token": ...}.
  Expected<std::string, ImageConfigError> fetch_token(const Challenge& challenge,
                                                      const std::string& what) {
    auto param = [&](const char* name) {
      auto it = challenge.params.find(name);
      return it == challenge.params.end() ? std::string() : it->second;
    };
    std::string realm = param("realm");
    if (realm.rfind("https://", 0) != 0 && realm.rfind("http://", 0) != 0)
      return fail(Kind::kBadAnswer,
                  fmt::format("{} answered 401 for {} with a token challenge whose realm '{}' is "
                              "not a URL",
                              who(), what, realm));
    std::string scope = param("scope");
    if (scope.empty()) scope = "repository:" + ref_.repository + ":pull";
    std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
    if (auto service = param("service"); !service.empty())
      url += "service=" + percent_encode(service) + "&";
    url += "scope=" + percent_encode(scope);

    std::string token_who = "token service " + host_of(realm) + " of " + who();
    std::string token_what = "a pull token for " + ref_.repository;
    auto r = fetch(url, "application/json", credentials_ ? basic_ : "", kTokenLimit, token_who,
                   token_what);
    if (!r) return unexpected(r.error());
    if (r->status < 200 || r->status > 299) return status_failure(token_who, *r, token_what);
    auto doc = parse_json_answer(r->body).value_or(json(json::value_t::discarded));
    std::string token;
    if (doc.is_object()) {
      for (const char* field : {"token", "access_token"}) {
        auto it = doc.find(field);
        if (it != doc.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
          token = it->get<std::string>();
          break;
        }
      }
    }
    if (token.empty())
      return fail(Kind::kBadAnswer,
                  fmt::format("{} answered {} without a token", token_who, token_what));
    return token;
  }

  HttpClient& http_;
  const ImageReference& ref_;
  const std::optional<RegistryCredentials>& credentials_;
  std::string base_;
  std::string basic_;          // "Basic <base64>", when credentials were given
  std::string authorization_;  // what the registry accepted last (or will be asked with)
  std::vector<std::string> secrets_;
};

const std::string& manifest_accept() {
  static const std::string accept =
      fmt::format("{}, {}, {}, {}", kOciIndex, kOciManifest, kDockerList, kDockerManifest);
  return accept;
}

std::string string_field(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The digest of the index entry for `want`: an exact (normalized) variant
// first, an entry without a variant next; other variants never (an arm64/v9
// image does not run on a v8 host).
Expected<std::string, ImageConfigError> pick_platform(const Registry& registry, const json& index,
                                                      const Platform& want,
                                                      const std::string& what,
                                                      std::vector<std::string>& offered) {
  auto entries = index.find("manifests");
  if (entries == index.end() || !entries->is_array())
    return registry.fail(
        Kind::kBadAnswer,
        fmt::format("{} answered {} with an index without a manifest list", registry.who(), what));
  const json* best = nullptr;
  int best_score = 0;
  offered.clear();
  for (const auto& entry : *entries) {
    if (!entry.is_object()) continue;
    auto platform = entry.find("platform");
    if (platform == entry.end() || !platform->is_object()) continue;
    std::string os = string_field(*platform, "os");
    std::string arch = string_field(*platform, "architecture");
    std::string variant = string_field(*platform, "variant");
    // Attestations and signatures ride in indexes as "unknown/unknown".
    if (os != "unknown") offered.push_back(platform_name(os, arch, variant));
    if (os != "linux" || arch != want.architecture) continue;
    std::string normalized = normalized_variant(arch, variant);
    int score = normalized == want.variant ? 2 : variant.empty() ? 1 : 0;
    if (score > best_score) {
      best = &entry;
      best_score = score;
    }
  }
  if (!best) {
    std::string wanted = platform_name("linux", want.architecture, want.variant);
    return registry.fail(
        Kind::kNotFound,
        fmt::format("{} lists no {} manifest for {}{}", registry.who(), wanted,
                    registry.image_name(),
                    offered.empty() ? "" : fmt::format(" (it has {})", fmt::join(offered, ", "))));
  }
  std::string digest = string_field(*best, "digest");
  if (!valid_digest(digest))
    return registry.fail(Kind::kBadAnswer,
                         fmt::format("{} answered {} with an entry whose digest '{}' is not a "
                                     "sha256 or sha512 digest",
                                     registry.who(), what, digest.substr(0, 80)));
  return digest;
}

Expected<std::vector<std::string>, std::string> string_list(const json& config, const char* name) {
  auto it = config.find(name);
  std::vector<std::string> out;
  if (it == config.end() || it->is_null()) return out;
  if (!it->is_array()) return unexpected(fmt::format("config.{} is not a list", name));
  for (const auto& item : *it) {
    if (!item.is_string()) return unexpected(fmt::format("config.{} holds a non-string", name));
    out.push_back(item.get<std::string>());
  }
  return out;
}

Expected<ImageConfig, std::string> parse_config_blob(const std::string& body) {
  auto doc = parse_json_answer(body).value_or(json(json::value_t::discarded));
  if (doc.is_discarded() || !doc.is_object()) return unexpected(std::string("not a JSON object"));
  ImageConfig out;
  out.os = string_field(doc, "os");
  out.architecture = string_field(doc, "architecture");
  out.variant = string_field(doc, "variant");
  auto config = doc.find("config");
  if (config == doc.end() || config->is_null()) return out;  // a scratch image with no settings
  if (!config->is_object()) return unexpected(std::string("its config is not an object"));
  for (auto [name, field] : {std::pair{"Entrypoint", &out.entrypoint}, std::pair{"Cmd", &out.cmd},
                             std::pair{"Env", &out.env}}) {
    auto list = string_list(*config, name);
    if (!list) return unexpected(list.error());
    *field = std::move(*list);
  }
  out.working_dir = string_field(*config, "WorkingDir");
  out.user = string_field(*config, "User");
  return out;
}

}  // namespace

std::string to_string(ImageConfigError::Kind k) {
  switch (k) {
    case Kind::kAuth:
      return "auth";
    case Kind::kNotFound:
      return "not-found";
    case Kind::kUnreachable:
      return "unreachable";
    case Kind::kBadAnswer:
      return "bad-answer";
    case Kind::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

Expected<ImageReference, std::string> parse_image_reference(std::string_view text) {
  std::string s(text);
  auto invalid = [&](const std::string& why) {
    return unexpected(fmt::format("invalid image reference '{}': {}", s, why));
  };
  if (s.empty()) return unexpected(std::string("empty image reference"));
  if (std::any_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) || c < 32; }))
    return invalid("it contains whitespace or control characters");

  ImageReference ref;
  std::string rest = s;
  if (auto at = rest.find('@'); at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest.resize(at);
    if (!valid_digest(ref.digest))
      return invalid("the digest must be sha256:<64 lower-case hex digits> (or sha512:<128>)");
  }
  auto colon = rest.rfind(':');
  auto last_slash = rest.rfind('/');
  if (colon != std::string::npos && (last_slash == std::string::npos || colon > last_slash)) {
    ref.tag = rest.substr(colon + 1);
    rest.resize(colon);
    if (!std::regex_match(ref.tag, tag_grammar()))
      return invalid(
          "the tag must be 1-128 letters, digits, '_', '.' or '-', not starting with "
          "'.' or '-'");
  }
  if (rest.empty()) return invalid("it names no repository");

  // The first component is a registry when it cannot be a Docker Hub
  // namespace: it has a '.' or ':', is "localhost", or has upper case.
  std::string registry;
  std::string path = rest;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    std::string first = rest.substr(0, slash);
    if (first.find_first_of(".:") != std::string::npos || first == "localhost" ||
        has_upper(first)) {
      registry = first;
      path = rest.substr(slash + 1);
    }
  }
  if (!registry.empty() && !std::regex_match(registry, registry_grammar()))
    return invalid("'" + registry + "' is not a registry host with an optional port");
  if (path.empty()) return invalid("it names no repository");
  if (has_upper(path)) return invalid("the repository name must be lower case");
  std::size_t start = 0;
  for (;;) {
    auto end = path.find('/', start);
    std::string component = path.substr(start, end == std::string::npos ? end : end - start);
    if (!std::regex_match(component, path_component()))
      return invalid(component.empty()
                         ? std::string("the repository has an empty path component")
                         : "'" + component +
                               "' is not a repository path component (lower-case letters and "
                               "digits, separated by '.', '_', '__' or '-')");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if ((registry.empty() ? 0 : registry.size() + 1) + path.size() > 255)
    return invalid("the name is longer than 255 characters");

  // docker.io is the name; the API answers at registry-1.docker.io, and
  // Docker Hub's official images live under library/.
  if (registry.empty() || is_docker_hub(registry)) {
    ref.registry = kDockerHubApi;
    if (path.find('/') == std::string::npos) path = "library/" + path;
  } else {
    ref.registry = registry;
  }
  ref.repository = path;
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

namespace {
Expected<ImageConfig, ImageConfigError> read_config(
    HttpClient& http, const ImageReference& ref,
    const std::optional<RegistryCredentials>& credentials, const std::string& platform_arch,
    std::vector<std::string>& index_platforms) {
  Registry registry(http, ref, credentials);
  if (ref.registry.empty() || ref.repository.empty())
    return registry.fail(Kind::kNotFound,
                         fmt::format("the image reference '{}/{}' names no registry or repository",
                                     ref.registry, ref.repository));
  const Platform want = wanted_platform(platform_arch);

  std::string reference = ref.digest.empty() ? ref.tag : ref.digest;
  std::string what = "the manifest of " + registry.image_name();
  json manifest;
  index_platforms.clear();
  for (int fetched = 1;; ++fetched) {
    if (!valid_digest(reference) && !std::regex_match(reference, tag_grammar()))
      return registry.fail(Kind::kNotFound,
                           fmt::format("'{}' is neither a tag nor a digest (image {} of {})",
                                       reference, registry.image_name(), registry.who()));
    auto r = registry.get("manifests/" + reference, manifest_accept(), kManifestLimit, what);
    if (!r) return unexpected(r.error());
    auto doc = parse_json_answer(r->body).value_or(json(json::value_t::discarded));
    if (doc.is_discarded() || !doc.is_object())
      return registry.fail(Kind::kBadAnswer, fmt::format("{} answered {} with something other "
                                                         "than a JSON object",
                                                         registry.who(), what));
    std::string type = media_type_of(doc, *r);
    if (doc.value("schemaVersion", json()) == json(1))
      return registry.fail(Kind::kBadAnswer,
                           fmt::format("{} answered {} with a Docker schema 1 manifest, which "
                                       "berth does not read (push the image with a current "
                                       "client)",
                                       registry.who(), what));
    bool generic = type.empty() || type == "application/json";
    bool index = is_index_type(type) || (generic && doc.contains("manifests"));
    bool single = is_manifest_type(type) || (generic && doc.contains("config"));
    if (single) {
      manifest = std::move(doc);
      break;
    }
    if (!index)
      return registry.fail(Kind::kBadAnswer,
                           fmt::format("{} answered {} with a document of type '{}', not an image "
                                       "manifest or index",
                                       registry.who(), what, type.substr(0, 100)));
    if (fetched == kMaxManifests)
      return registry.fail(Kind::kBadAnswer, fmt::format("{} answered {} with indexes nested "
                                                         "deeper than berth follows",
                                                         registry.who(), what));
    std::vector<std::string> offered;
    auto digest = pick_platform(registry, doc, want, what, offered);
    if (fetched == 1) index_platforms = std::move(offered);  // the reference's own index
    if (!digest) return unexpected(digest.error());
    reference = *digest;
    what =
        fmt::format("the {} manifest of {}",
                    platform_name("linux", want.architecture, want.variant), registry.image_name());
  }

  auto config = manifest.find("config");
  if (config == manifest.end() || !config->is_object())
    return registry.fail(Kind::kBadAnswer,
                         fmt::format("{} answered {} without a config", registry.who(), what));
  std::string config_type = string_field(*config, "mediaType");
  std::string digest = string_field(*config, "digest");
  if (config_type != kOciConfig && config_type != kDockerConfig)
    return registry.fail(Kind::kBadAnswer,
                         fmt::format("{} answered {} with a config of type '{}': not a "
                                     "container image",
                                     registry.who(), what, config_type.substr(0, 100)));
  if (!valid_digest(digest))
    return registry.fail(Kind::kBadAnswer,
                         fmt::format("{} answered {} with a config digest '{}' that is not a "
                                     "sha256 or sha512 digest",
                                     registry.who(), what, digest.substr(0, 80)));
  std::optional<std::uint64_t> size;
  if (auto s = config->find("size"); s != config->end() && s->is_number_unsigned())
    size = s->get<std::uint64_t>();
  if (size && *size > kConfigLimit)
    return registry.fail(Kind::kBadAnswer,
                         fmt::format("{} answered {} naming a config blob of {} bytes, more "
                                     "than the {} berth reads",
                                     registry.who(), what, *size, kConfigLimit));

  // The blob's sha256 is not checked against its digest (berth has no hash
  // function of its own); its size is, which catches a truncated or wrong
  // blob, and the manifest that names it came over TLS from the registry.
  std::string blob_what = "the config blob of " + registry.image_name();
  auto blob = registry.get("blobs/" + digest, "", kConfigLimit, blob_what);
  if (!blob) return unexpected(blob.error());
  if (size && blob->body.size() != *size)
    return registry.fail(Kind::kBadAnswer,
                         fmt::format("{} answered {} with {} bytes where the manifest says {}",
                                     registry.who(), blob_what, blob->body.size(), *size));
  auto parsed = parse_config_blob(blob->body);
  if (!parsed)
    return registry.fail(Kind::kBadAnswer, fmt::format("{} answered {} with a config that is "
                                                       "not an image config: {}",
                                                       registry.who(), blob_what, parsed.error()));
  return std::move(*parsed);
}

}  // namespace

Expected<ImageConfig, ImageConfigError> read_image_config(
    HttpClient& http, const ImageReference& ref,
    const std::optional<RegistryCredentials>& credentials, const std::string& platform_arch) {
  std::vector<std::string> platforms;
  auto config = read_config(http, ref, credentials, platform_arch, platforms);
  if (config) config->index_platforms = std::move(platforms);
  return config;
}

Expected<std::vector<std::string>, ImageConfigError> read_image_platforms(
    HttpClient& http, const ImageReference& ref,
    const std::optional<RegistryCredentials>& credentials) {
  std::vector<std::string> platforms;
  auto config = read_config(http, ref, credentials, "amd64", platforms);
  // An index without linux/amd64 still says what it has.
  if (!config && config.error().kind == Kind::kNotFound && !platforms.empty()) return platforms;
  if (!config) return unexpected(config.error());
  if (!platforms.empty()) return platforms;
  return std::vector<std::string>{
      platform_name(config->os, config->architecture, config->variant)};
}

std::optional<CpuArch> default_arch_of_platforms(const std::vector<std::string>& platforms) {
  auto has = [&](const std::string& prefix) {
    for (const auto& p : platforms)
      if (p == prefix || p.rfind(prefix + "/", 0) == 0) return true;
    return false;
  };
  if (has("linux/amd64")) return CpuArch::kX86_64;
  if (has("linux/arm64")) return CpuArch::kArm64;
  return std::nullopt;
}

}  // namespace berth
