// The container a launch runs, resolved once by the core from the template:
// image, process, environment, ports, credentials, volumes and sizes. Every
// provider launches from this; adapters translate it and never read the
// template. What runs is what `docker run [--entrypoint E] IMAGE [command...]`
// runs (docs/templates.md, "What runs"): the image's ENTRYPOINT and CMD unless
// the template overrides them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/expected.h"
#include "berth/template/launch_template.h"

namespace berth {

struct EnvVar {
  std::string name;
  std::string value;
  bool secret = false;  // from ${VAR}: never printed, logged or put on an argv
};

struct RegistryLogin {
  std::string registry;  // as an auth file keys it: "docker.io", "127.0.0.1:5000"
  std::string username;
  std::string password;        // always treated as a secret
  bool username_secret = false;  // from ${VAR}
};

/// The image's own process, read from its registry (image_config.h) for
/// providers that start the process themselves.
struct ImageProcess {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
};

/// What a workload asks of a provider beyond image, env and TCP ports. A
/// provider states which of these it honours (Capabilities::honours); the
/// planner rejects an offer whose provider cannot honour one the workload
/// uses, and says which.
enum class WorkloadFeature : std::uint8_t {
  kEntrypoint,      // entrypoint: overrides the image's
  kRegistryAuth,    // registry_auth: a private image
  kNamedVolume,     // one volume with a name
  kNamedVolumes,    // more than one
  kBindVolume,      // a local directory copied to the host (source:)
  kReadonlyVolume,  // a named volume mounted read-only
  kProviderVolume,  // a named volume with size: kept apart from any instance
  kUdpPort,         // a UDP port
  kHostPort,        // a port published on a chosen host port
  kLongEnvValue,    // an env value longer than 256 characters
  kShmSize,         // shm_size: the container's /dev/shm size
  kIpcHost,         // ipc: host
  kCount_,
};
using FeatureSet = std::uint32_t;
inline constexpr FeatureSet kAllFeatures =
    (FeatureSet{1} << static_cast<int>(WorkloadFeature::kCount_)) - 1;
constexpr FeatureSet feature_bit(WorkloadFeature f) {
  return FeatureSet{1} << static_cast<int>(f);
}
/// "override the image entrypoint", for "runpod: cannot override ...".
const char* describe(WorkloadFeature f);
/// "entrypoint", the stable name in JSON.
const char* feature_name(WorkloadFeature f);
std::optional<WorkloadFeature> feature_from_name(std::string_view name);
/// The features in `set`, in enum order.
std::vector<WorkloadFeature> features_in(FeatureSet set);

struct WorkloadSpec {
  std::string image;
  bool image_secret = false;
  /// The template's overrides. entrypoint: nullopt = the image's; command:
  /// nullopt = the image's CMD (cleared when the entrypoint is overridden,
  /// as docker does). A string command is the list {"sh", "-c", script}
  /// run by the image's entrypoint, or by "sh" when there is no override.
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> command;
  bool args_secret = false;  // entrypoint or command holds a ${VAR} value
  std::vector<EnvVar> env;
  std::vector<PortMapping> ports;
  std::optional<RegistryLogin> registry;
  std::vector<Volume> volumes;
  std::optional<std::uint64_t> disk_bytes;      // the template's minimum
  std::optional<std::uint64_t> disk_max_bytes;  // and its maximum
  std::optional<double> min_cuda;           // host CUDA driver, major.minor
  std::optional<std::uint64_t> shm_size;    // the template's shm_size
  bool ipc_host = false;                    // ipc: host
  /// Read from the image's registry when the provider starts the process
  /// itself (Capabilities::starts_process); nullopt otherwise.
  std::optional<ImageProcess> image_process;

  /// The features this workload uses.
  FeatureSet features() const;
  /// The argv the container runs: the overrides applied to image_process
  /// the way docker applies them. Needs image_process unless both the
  /// entrypoint and the command are set.
  Expected<std::vector<std::string>, std::string> process() const;
  /// Every secret value (env, image, arguments, registry password), for
  /// HttpRequest::secrets and redaction.
  std::vector<std::string> secrets() const;
  /// Whole gigabytes (10^9 bytes) of disk: the template's minimum rounded up,
  /// else `fallback` lowered to the template's maximum (at least 1).
  long long disk_gb(long long fallback) const;
};

/// Resolves a validated template.
WorkloadSpec resolve_workload(const LaunchTemplate& workload);

/// The registry part of an image reference, as the auth file keys it
/// ("docker.io" for Docker Hub names, "127.0.0.1:5000", "ghcr.io").
std::string image_registry(std::string_view image);

}  // namespace berth
