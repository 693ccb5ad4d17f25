// Image references as Docker normalizes them (the grammar of
// github.com/distribution/reference).
#include "berth/image_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <regex>

namespace berth {

namespace {

constexpr const char* kDockerHubApi = "registry-1.docker.io";

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

}  // namespace

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

}  // namespace berth
