// An image's run configuration (ENTRYPOINT, CMD, Env, WorkingDir, User) read
// from its registry over the OCI distribution API, for hosts that start a
// container's process themselves instead of letting the image's entrypoint run
// (Vast.ai's SSH runtypes). Public references: the OCI distribution and image
// specs, and Docker's registry token authentication.
#pragma once

#include <string>
#include <string_view>

#include "berth/expected.h"

namespace berth {

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

}  // namespace berth
