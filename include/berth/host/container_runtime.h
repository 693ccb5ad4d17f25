// The container runtime on a host (docker or podman), as pure functions from
// what berth wants to argv vectors, and from the runtime's JSON to values.
// The deploy engine sends these argv vectors over SSH (which quotes them,
// once, with shell_quote) or runs them locally (host.h).
//
// Secrets never appear in any argv built here. Environment values travel in
// private files (written by the caller through SSH stdin)
// that the start command reads and removes as soon as the runtime has read
// them; registry credentials travel the same way, in an auth file.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/common/expected.h"
#include "berth/template/launch_template.h"
#include "berth/template/workload_spec.h"

namespace berth {

struct ContainerRuntime {
  enum class Kind { kDocker, kPodman };
  Kind kind = Kind::kDocker;
  std::string program = "docker";  // the command on the host
};

/// "docker" or "podman" (the config's `runtime:`).
Expected<ContainerRuntime, std::string> container_runtime(std::string_view name);

/// The runtime to use on this machine for `configured`: itself when it can work
/// here, else podman when that is installed. Docker "works" when its client is
/// on PATH and a daemon is addressable (DOCKER_HOST or /var/run/docker.sock):
/// a docker client without an engine is common and must not win over podman.
std::string runtime_for_this_machine(const std::string& configured);

// Labels on every container berth starts; `ps` finds deployments by them.
inline constexpr const char* kLabelDeployment = "berth.deployment";
inline constexpr const char* kLabelReplica = "berth.replica";
inline constexpr const char* kLabelHash = "berth.hash";
inline constexpr const char* kLabelInstance = "berth.instance";
// What the placement gave the container ("H100 ×8"), for hosts whose only
// record of an instance is its container (local, ssh).
inline constexpr const char* kLabelGpu = "berth.gpu";
// How the deploy checked health and where it published ports, so `status`
// (which has no template) checks the same thing later.
inline constexpr const char* kLabelHealth = "berth.health";
inline constexpr const char* kLabelPorts = "berth.ports";

/// berth.health: "http:PORT:PATH", "tcp:PORT", "exec" or "none".
std::string health_label(const HealthCheck& check);
/// The check a berth.health label records (probe timeout: `timeout`);
/// nullopt for a label berth did not write. An exec check's command is not
/// recorded (it may name secrets): its kind only.
std::optional<HealthCheck> parse_health_label(std::string_view label, Duration timeout);
/// berth.ports: "PUBLISHED:CONTAINER,..." for the template's ports.
std::string ports_label(const std::vector<PortMapping>& ports);
/// Container port -> published port, from a berth.ports label; nullopt for a
/// label berth did not write.
std::optional<std::map<int, int>> parse_ports_label(std::string_view label);

struct ContainerIdentity {
  std::string deployment;
  int replica = 0;
  std::string hash;      // the template hash
  std::string instance;  // berth-<deployment>-<replica>-<hash>; also the container name
  std::map<std::string, std::string> labels() const;
};

/// Named volumes are per deployment: berth-<deployment>-<name>.
std::string volume_name(const std::string& deployment, const std::string& name);

enum class GpuAccess { kNone, kNvidia, kAmd };

struct ContainerMount {
  std::string source;  // a volume name, or an absolute host path (bind mount)
  std::string target;  // absolute path in the container
  bool readonly = false;
};

/// How the environment reaches the container without touching any argv.
/// Values without a newline go into a docker-format env file (--env-file);
/// a value with a newline cannot be written there, so it travels in a shell
/// file of `export NAME='value'` lines that the start command sources, and
/// the runtime picks it up from its own environment (`-e NAME`).
struct EnvFiles {
  std::string env_file;       // NAME=value lines, for --env-file
  std::string shell_exports;  // export NAME='value' lines; empty when unneeded
  std::vector<std::string> env_file_names;
  std::vector<std::string> passthrough_names;  // the names in shell_exports
  bool empty() const { return env_file_names.empty() && passthrough_names.empty(); }
};

/// Fails on names the runtimes cannot take (empty, '=', whitespace, NUL) and
/// on multi-line values for names that steer the runtime client itself
/// (PATH, HOME, LD_*, DOCKER_*, CONTAINER_HOST, STORAGE_DRIVER, proxies, TLS
/// trust, ...), which must not leak into its process.
Expected<EnvFiles, std::string> env_files(
    const std::vector<std::pair<std::string, std::string>>& env);

struct ContainerSpec {
  std::string name;
  std::string image;
  std::map<std::string, std::string> labels;
  std::vector<PortMapping> ports;
  std::vector<ContainerMount> mounts;
  GpuAccess gpus = GpuAccess::kNone;
  std::optional<std::uint64_t> shm_bytes;  // --shm-size; nullopt = the runtime's default
  bool ipc_host = false;                   // --ipc host
  std::string restart = "unless-stopped";
  /// The runtime's pull policy for this start ("never": berth pulls on its
  /// own terms, with credentials, progress and its own timeout, and the
  /// start must not pull behind its back); empty = the runtime's default.
  /// Needs docker 20.10 or podman 2.0.
  std::string pull;
  /// Replace a container of the same name (podman's --replace; for docker
  /// the caller removes it first: PrivateDirCommand::remove_first).
  bool replace = false;
  std::optional<std::vector<std::string>> entrypoint;  // nullopt = the image's; {} = none
  std::vector<std::string> args;                       // empty = the image's CMD
  // Where the caller wrote EnvFiles on the host (empty = not written). The
  // start command removes both files as soon as the runtime returns.
  std::string env_file_path;
  std::string shell_exports_path;
  std::vector<std::string> passthrough_names;
};

/// Points the spec at the env files it needs, named relative to the private
/// directory the start runs in ("env", "env.sh"), and returns them (name,
/// content): they travel as a private_files_tar on the start's stdin.
std::vector<std::pair<std::string, std::string>> attach_env(ContainerSpec& spec,
                                                            const EnvFiles& files);

/// Builds the spec for one replica of a template. `bind_sources[i]` is the
/// host path where the i-th `source:` volume (in template order) was copied;
/// `volume_dirs` maps a named volume to the host directory a provider
/// mounted for it (a Lambda filesystem), bound instead of a runtime volume.
/// GPU access only when the placement has GPUs (`gpus` != kNone).
Expected<ContainerSpec, std::string> container_spec(
    const LaunchTemplate& workload, const ContainerIdentity& identity, GpuAccess gpus,
    const std::vector<std::string>& bind_sources,
    const std::map<std::string, std::string>& volume_dirs = {});

/// A tar stream (POSIX ustar) of small private files, each mode 0600, that a
/// command unpacks from its stdin: several secrets (env files, registry
/// auth) reach a host in one SSH command and never touch an argv. Names are
/// plain file names (no '/', at most 99 bytes).
std::string private_files_tar(const std::vector<std::pair<std::string, std::string>>& files);

/// A replica's private directory on its host is $HOME/.berth/<instance>
/// (0700). A PrivateDirCommand runs there, so the paths in its argv may be
/// relative and no round trip is spent to learn the absolute one; the
/// directory, the files and the command are one remote command.
struct PrivateDirCommand {
  std::string instance;
  bool files_on_stdin = false;  // stdin is a private_files_tar stream, unpacked first
  std::string remove_first;     // a stale container of this name is removed first ("": none)
  /// When the command fails and this image is not on the host, the command
  /// prints kImageMissing and exits 0 instead (nothing was started): the
  /// image must be pulled. "" = no such check.
  std::string check_image;
  std::vector<std::string> argv;
};
inline constexpr const char* kImageMissing = "berth:image-missing";
/// Printed (exit 1) when the directory or its files could not be made.
inline constexpr const char* kPrivateDirFailed = "berth:private-dir-failed";
std::vector<std::string> private_dir_argv(const ContainerRuntime& rt, const PrivateDirCommand& c);

/// Removes a replica's container and its private directory, in one command;
/// best effort (exit status of the directory's removal).
std::vector<std::string> remove_replica_argv(const ContainerRuntime& rt,
                                             const std::string& instance);

/// `run -d ...` for the spec. When the spec carries env files, the argv is a
/// small sh -c wrapper that sources the exports, runs the runtime, and
/// removes the files whatever happens.
Expected<std::vector<std::string>, std::string> run_argv(const ContainerRuntime& rt,
                                                         const ContainerSpec& spec);

/// A docker/podman auth file ({"auths": {...}}) holding the credentials.
std::string registry_auth_file(const std::string& registry, const std::string& username,
                               const std::string& password);
/// `pull IMAGE`; with `auth_file` (unpacked by private_dir_argv from its stdin)
/// the runtime reads the credentials from it and the file is removed after.
/// No `login`: that would store the credentials on the host for good and put
/// the username on a command line.
std::vector<std::string> pull_argv(const ContainerRuntime& rt, const std::string& image,
                                   const std::optional<std::string>& auth_file);

/// Every container (running or not) carrying all of these labels; a label
/// with an empty value matches any value.
std::vector<std::string> ps_argv(const ContainerRuntime& rt,
                                 const std::map<std::string, std::string>& labels);
std::vector<std::string> logs_argv(const ContainerRuntime& rt, const std::string& container,
                                   bool follow, std::optional<int> tail);
std::vector<std::string> exec_argv(const ContainerRuntime& rt, const std::string& container,
                                   const std::vector<std::string>& command, bool interactive,
                                   bool tty);
std::vector<std::string> remove_argv(const ContainerRuntime& rt,
                                     const std::vector<std::string>& containers);
std::vector<std::string> inspect_argv(const ContainerRuntime& rt, const std::string& container);

struct ContainerSummary {
  std::string id;
  std::string name;
  std::string image;
  std::string state;   // running, exited, created, ...
  std::string status;  // "Up 3 minutes", "Exited (1) 2 seconds ago"
  std::map<std::string, std::string> labels;
};

/// `ps` output of either runtime: a JSON array (podman) or one object per
/// line (docker), with either runtime's field names.
Expected<std::vector<ContainerSummary>, std::string> parse_ps(std::string_view output);

struct ContainerState {
  std::string id;
  std::string name;
  std::string status;  // running, exited, restarting, ...
  bool running = false;
  int exit_code = 0;
  std::optional<std::string> health;  // healthy, unhealthy, starting; nullopt without a check
  std::string started_at;             // RFC 3339 as the runtime reports it
  int restart_count = 0;
  std::map<std::string, std::string> labels;
};

/// `inspect` output of either runtime.
Expected<ContainerState, std::string> parse_inspect(std::string_view output);

}  // namespace berth
