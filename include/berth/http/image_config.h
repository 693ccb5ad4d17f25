// An image's run configuration (ENTRYPOINT, CMD, Env, WorkingDir, User) read
// from its registry over the OCI distribution API, for hosts that start a
// container's process themselves instead of letting the image's entrypoint run
// (Vast.ai's SSH runtypes). Public references: the OCI distribution and image
// specs, and Docker's registry token authentication.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/expected.h"
#include "berth/template/launch_template.h"

namespace berth {

class HttpClient;

/// A normalized image reference, as Docker normalizes one: `registry` is the
/// host (and port) the API is asked at, `registry-1.docker.io` for Docker Hub,
/// whose one-component repositories get `library/`. `tag` is "latest" when
/// neither a tag nor a digest was given; when a digest is given it is what is
/// fetched, and the tag (possibly empty) only names the image in messages.
struct ImageReference {
  std::string registry;    // "registry-1.docker.io", "ghcr.io", "127.0.0.1:5000"
  std::string repository;  // "library/ubuntu", "vllm/vllm-openai"
  std::string tag;         // "latest", "v0.6.3"
  std::string digest;      // "sha256:<64 hex>" or empty
};

/// "ubuntu", "vllm/vllm-openai:v0.6.3", "localhost:5000/x",
/// "ghcr.io/o/r@sha256:...". The error says what is wrong with the reference.
Expected<ImageReference, std::string> parse_image_reference(std::string_view text);

/// The fields of an image's config blob that decide how its process starts.
/// A single-platform image is returned whatever its platform: callers compare
/// `os`/`architecture` with the host's.
struct ImageConfig {
  std::vector<std::string> entrypoint;  // config.Entrypoint
  std::vector<std::string> cmd;         // config.Cmd
  std::vector<std::string> env;         // config.Env, "NAME=value"
  std::string working_dir;              // config.WorkingDir
  std::string user;                     // config.User
  std::string os;                       // "linux"
  std::string architecture;             // "amd64", "arm64"
  std::string variant;                  // "v8", or empty
  /// The platforms the reference's index offers ("linux/amd64",
  /// "linux/arm64/v8"), in its order; empty when it names one manifest.
  std::vector<std::string> index_platforms;
};

struct RegistryCredentials {
  std::string username;
  std::string password;
};

struct ImageConfigError {
  enum class Kind {
    kAuth,         // 401/403, or credentials needed and none given
    kNotFound,     // no such repository, tag, digest or platform
    kUnreachable,  // connection, TLS or timeout failures, 429 and 5xx
    kBadAnswer,    // an answer too large, malformed or not a container image
    kInterrupted,  // the HTTP client was cancelled
  };
  Kind kind = Kind::kBadAnswer;
  /// One line naming the registry and, when there was one, the HTTP status:
  /// "registry 127.0.0.1:5000 answered 401 for the manifest of team/app:1
  /// (check registry_auth)". Credentials and tokens are redacted.
  std::string message;
};

std::string to_string(ImageConfigError::Kind k);  // "auth", "not-found", ...

/// Reads the config of `ref` for linux/`platform_arch` ("amd64", "arm64",
/// "arm64/v8", "arm/v7": an architecture with an optional variant) when the
/// reference names an index, or of the one manifest it names otherwise.
/// Anonymous first; `credentials` are sent only when the registry asks for
/// authentication (HTTP Basic, or to its token service). Plain http is used
/// only for loopback registries; every answer is size-capped and redirects
/// are bounded.
Expected<ImageConfig, ImageConfigError> read_image_config(
    HttpClient& http, const ImageReference& ref,
    const std::optional<RegistryCredentials>& credentials,
    const std::string& platform_arch = "amd64");

/// The platforms an image runs on: its index's (linux/... only), or the one
/// manifest's own os/architecture[/variant]. An index without the platform
/// read_image_config looks for is still an answer here.
Expected<std::vector<std::string>, ImageConfigError> read_image_platforms(
    HttpClient& http, const ImageReference& ref,
    const std::optional<RegistryCredentials>& credentials);

/// The architecture a template without resources.arch needs, from the
/// image's platforms: x86_64 when linux/amd64 is among them, else arm64 when
/// linux/arm64 is; nullopt otherwise (no linux image of either).
std::optional<CpuArch> default_arch_of_platforms(const std::vector<std::string>& platforms);

}  // namespace berth
