// The launch template (docs/templates.md): what a workload needs, never where it runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "berth/common/environment.h"
#include "berth/common/expected.h"
#include "berth/common/units.h"
#include "berth/input/diagnostics.h"
#include "berth/input/template_string.h"

namespace berth {

enum class GpuVendor { kNvidia, kAmd };
enum class SpotPolicy { kNever, kAllow, kOnly };
enum class Spread { kNone, kProvider, kRegion };
/// An instance's CPU architecture; kUnknown only on offers (a template says x86_64 or arm64).
enum class CpuArch { kUnknown, kX86_64, kArm64 };
enum class FailureClass { kInstanceLost, kPreempted, kContainerExit, kUnhealthy, kUnreachable };

struct GpuRequirement {
  Range<int> count;                        // {0,0} = CPU-only
  Range<std::uint64_t> vram;               // bytes per GPU (nominal)
  Range<std::uint64_t> total_vram;         // bytes across the instance
  Range<double> compute_capability;
  std::vector<std::string> models;         // canonical catalog names
  std::vector<std::string> exclude_models; // canonical catalog names
  GpuVendor vendor = GpuVendor::kNvidia;
};

struct Resources {
  GpuRequirement gpu;
  Range<double> cuda;  // host CUDA driver version
  Range<int> cpus;
  Range<std::uint64_t> memory;  // bytes
  Range<std::uint64_t> disk;    // bytes
  /// resources.arch; nullopt = the image's platform where `up` reads it, else x86_64.
  /// kUnknown (never read from a file) = any: `berth offers` without a template.
  std::optional<CpuArch> arch;
};

struct PortMapping {
  int container = 0;
  std::optional<int> host;  // defaults to the container port
  std::string protocol = "tcp";
};

/// The sizes a provider volume may have (RunPod's network volume bounds,
/// providers/runpod/README.md; Lambda's filesystems have no size).
inline constexpr std::uint64_t kMinProviderVolumeBytes = 10'000'000'000ull;
inline constexpr std::uint64_t kMaxProviderVolumeBytes = 4'096'000'000'000ull;

struct Volume {
  enum class Kind { kNamed, kBind };
  Kind kind = Kind::kNamed;
  std::string name;    // kNamed: persistent volume on the host
  std::string source;  // kBind: local path, resolved against the template's directory
  std::string path;    // absolute path in the container
  bool readonly = false;
  /// kNamed with `size:`: a provider volume, kept by the provider apart from
  /// any instance (RunPod network volume, Lambda filesystem), so it outlives
  /// redeploys; bound to where it was made (docs/templates.md, volumes).
  std::optional<std::uint64_t> size_bytes;
  bool provider_volume() const { return kind == Kind::kNamed && size_bytes.has_value(); }
};

struct HealthCheck {
  enum class Kind { kNone, kHttp, kTcp, kExec };
  Kind kind = Kind::kNone;
  int port = 0;
  std::string path = "/";
  std::vector<std::string> exec;
  Duration interval{10'000};
  Duration timeout{5'000};
  int failures = 3;
  Duration grace{0};
};

struct PlacementPolicy {
  std::vector<std::string> providers;          // globs; empty = all
  std::vector<std::string> exclude_providers;  // globs
  std::vector<std::string> regions;            // globs; empty = all
  /// Offer ids to pin to: globs over `id` or `provider/id`; empty = any.
  std::vector<std::string> offers;
  std::optional<double> max_price;             // USD per hour per replica
  SpotPolicy spot = SpotPolicy::kNever;
  /// Launch to running without progress before the attempt is given up;
  /// nullopt = the provider's default (Capabilities::boot_timeout).
  std::optional<Duration> boot_timeout;
  /// From running to answering on SSH before the instance is given up and
  /// the next offer tried; nullopt = DeployOptions::connect_timeout (3m).
  std::optional<Duration> ssh_timeout;
  /// An offer that does not report a fact the template constrains (vCPUs,
  /// RAM, disk, host CUDA) is rejected instead of kept with a warning.
  bool strict = false;
  /// placement.volumes: require: an offer away from where one of the
  /// deployment's provider volumes already lives is rejected (prefer, the
  /// default, only ranks offers where they live first).
  bool volumes_required = false;
  /// Marketplace quality floors (Vast.ai's reliability score, 0-1, and
  /// download bandwidth in Mbps); offers that do not report them pass.
  std::optional<double> min_reliability;
  std::optional<double> min_inet_mbps;
};

struct RestartPolicy {
  int max_restarts = 10;
  Duration window{3'600'000};
  Range<Duration> backoff{Duration{10'000}, Duration{600'000}};
  std::set<FailureClass> on{FailureClass::kInstanceLost, FailureClass::kPreempted,
                            FailureClass::kContainerExit, FailureClass::kUnhealthy};
};

struct ContainerCommand {
  bool shell = false;                  // string form: run with sh -c
  std::vector<TemplateString> argv;    // list form (or the single sh -c string)
};

struct RegistryAuth {
  TemplateString username;
  TemplateString password;
};

struct LaunchTemplate {
  std::string name;
  TemplateString image;
  std::optional<ContainerCommand> command;
  std::optional<std::vector<TemplateString>> entrypoint;
  std::vector<std::pair<std::string, TemplateString>> env;  // in file order
  std::optional<RegistryAuth> registry_auth;
  Resources resources;
  std::vector<PortMapping> ports;
  std::vector<Volume> volumes;
  HealthCheck health;
  PlacementPolicy placement;
  int replicas = 1;
  Spread spread = Spread::kNone;
  RestartPolicy restart;
  /// The container's /dev/shm size (docker --shm-size), nullopt = the
  /// runtime's default; and whether it shares the host's IPC namespace
  /// (ipc: host). What multi-GPU serving (NCCL) needs.
  std::optional<std::uint64_t> shm_size;
  bool ipc_host = false;

  std::filesystem::path source;  // the file it was read from
  std::string hash;              // 12 hex digits over the expanded content; stable
  /// Loaded with UnsetVariables::kRecord: the variables that were unset (their
  /// values are empty here); always empty otherwise.
  std::vector<UnsetVariable> unset_variables;
};

/// Parses and validates a template file, reporting every error in it. An
/// unset ${VAR} is one of them unless `unset` is kRecord (commands that do
/// not start anything: validate, offers, plan), which lists it in
/// unset_variables instead.
Expected<LaunchTemplate, Diagnostics> load_template(
    const std::filesystem::path& file, const Environment& env,
    UnsetVariables unset = UnsetVariables::kError);
/// Same, from text already in memory (`name` is used in diagnostics).
Expected<LaunchTemplate, Diagnostics> parse_template(
    const std::string& text, const std::string& name, const Environment& env,
    UnsetVariables unset = UnsetVariables::kError);
/// "HF_TOKEN, REGISTRY_PASSWORD": each unset variable once, in file order.
std::string unset_variable_names(const LaunchTemplate& t);

std::string to_string(GpuVendor v);  // "nvidia" | "amd"
std::string to_string(FailureClass c);        // "instance-lost", ...
std::optional<FailureClass> failure_class_from_string(std::string_view s);

}  // namespace berth
