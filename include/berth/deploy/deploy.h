// The deploy lifecycle: provision the planned offer (walking the
// ranked fallbacks on capacity and transient errors), wait for the instance
// while it makes progress, reach the host, start the container, wait for
// health, and report endpoints. Whatever this run created is terminated and
// confirmed gone when anything fails or the user interrupts.
//
// Seams: providers are found through a lookup function, hosts through a
// HostConnector, planning through a PlanFunction, time through DeployOptions
// and cancellation through a flag, so the engine is tested without a network.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "berth/common/expected.h"
#include "berth/common/failure.h"
#include "berth/common/process.h"
#include "berth/deploy/attempt.h"
#include "berth/deploy/deployments.h"
#include "berth/deploy/launch_pacer.h"
#include "berth/host/container_runtime.h"
#include "berth/host/health.h"
#include "berth/host/host.h"
#include "berth/placement/placement.h"
#include "berth/provider/instance.h"
#include "berth/provider/provider.h"
#include "berth/template/launch_template.h"

namespace berth {

struct Endpoint {
  int container_port = 0;
  std::string host;
  int port = 0;
};

/// How a replica stands after a deploy: its health check passed, it runs
/// (no health check to run), or it already ran this template.
enum class ReplicaState { kHealthy, kRunning, kUnchanged };
std::string to_string(ReplicaState s);  // "healthy" | "running" | "unchanged"

struct ReplicaResult {
  int replica = 0;
  Instance instance;
  ReplicaState state = ReplicaState::kRunning;
  std::vector<Endpoint> endpoints;
};

struct DeployResult {
  std::string deployment;
  std::string template_hash;
  bool unchanged = false;  // already running with this template hash
  std::vector<ReplicaResult> replicas;
  std::vector<Attempt> attempts;
  std::vector<Instance> replaced;  // old replicas taken down after their successors were healthy
};

struct DeployFailure {
  Failure failure;
  std::vector<Attempt> attempts;
  std::vector<Instance> leaked;  // could not be confirmed gone: the user must know
};

struct DeployEvent {
  enum class Kind {
    kPhase,
    kAttempt,  // one offer tried: `attempt` says which and how it went
    kNote,
    kWarning,
    kTerminated,  // an instance this run created is confirmed gone (rollback)
    kContainerLog,  // a failed container's last log lines: `text` is the block, `lines` them
  };
  Kind kind = Kind::kNote;
  int replica = -1;  // -1: not about one replica
  std::string text;  // for people, complete in itself
  std::optional<Attempt> attempt;
  std::string provider;  // the instance an event is about, when it is about one
  std::string instance_id;
  std::vector<std::string> lines;  // kContainerLog: the log lines, not terminal-safe yet
};

/// How many of a failed container's last log lines `up` shows.
inline constexpr int kFailedLogLines = 50;

struct DeployOptions {
  bool keep_on_failure = false;
  Duration poll_initial{250};   // provider polling starts fast, then backs off
  Duration poll_max{5'000};
  /// Provisioning/booting without any change before the attempt is given
  /// up. nullopt = the template's placement.boot_timeout, else the
  /// provider's Capabilities::boot_timeout; set, it overrides both.
  std::optional<Duration> stall_timeout;
  Duration boot_progress_every{60'000};  // "still booting" while nothing changes
  /// SSH not answering while the provider says running: the instance is
  /// given up and the next offer tried (the template's placement.ssh_timeout
  /// wins when set).
  Duration connect_timeout{180'000};
  Duration pull_timeout{3'600'000};
  Duration start_timeout{120'000};
  Duration confirm_timeout{180'000};  // until a terminated instance is seen gone
  /// When set, waits to see terminated instances gone end here at the latest
  /// (down's --timeout). up leaves it unset: what up created is confirmed
  /// gone however long that takes, --timeout or not.
  std::optional<std::chrono::steady_clock::time_point> confirm_deadline;
  Duration running_check{1'000};      // no health check: the container must still run after this
};

/// Reads the image's own ENTRYPOINT and CMD from its registry, for providers
/// that start the process themselves (Capabilities::starts_process).
using ImageReader = std::function<Expected<ImageProcess, Failure>(const WorkloadSpec&)>;

class HttpClient;
/// Reads images' configs over the OCI distribution API through `http`.
ImageReader registry_image_reader(HttpClient& http);
/// The architecture `workload`'s image needs (default_arch_of_platforms over
/// its registry's platforms), read once on the first call and remembered;
/// nullopt when the registry cannot say (PlanRequest::image_arch).
std::function<std::optional<CpuArch>()> registry_arch_reader(HttpClient& http,
                                                             const LaunchTemplate& workload);

using PlanFunction = std::function<Expected<Plan, Failure>(const std::vector<int>& replicas)>;

struct DeployContext {
  std::function<Provider*(const std::string&)> provider;  // by config name
  HostConnector* hosts = nullptr;                         // SSH hosts
  HostConnector* local = nullptr;                         // this machine (`local` provider)
  ContainerRuntime runtime;                   // on hosts berth reaches over SSH
  std::optional<ContainerRuntime> local_runtime;  // on this machine, when it differs
  std::string ssh_public_key;
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(const DeployEvent&)> events;
  DeployOptions options;
  ImageReader read_image;  // unset: a provider that needs the image's process cannot be used
  /// Called with each plan before anything of it is rented (up's and
  /// watch's spend confirmation, src/cli/deploy_session.h); a Failure ends
  /// the deploy with it, nothing launched. Unset: every plan goes ahead.
  std::function<Expected<void, Failure>(const Plan&)> approve;
  std::shared_ptr<LaunchPacer> pacer = std::make_shared<LaunchPacer>();
};

/// `up`: brings the deployment to `workload`'s template hash. `existing` is
/// what the providers report for it now (find_deployments).
Expected<DeployResult, DeployFailure> deploy(const LaunchTemplate& workload,
                                             const std::optional<Deployment>& existing,
                                             const PlanFunction& plan, DeployContext& ctx);

struct TeardownResult {
  std::vector<Instance> terminated;  // confirmed gone
  std::vector<Instance> leaked;      // not confirmed: reported, exit non-zero
  std::vector<std::string> errors;
};

/// `down`: removes every replica's container (where the host outlives it) and
/// terminates every instance, then confirms each is gone by a later read.
TeardownResult teardown(const Deployment& deployment, DeployContext& ctx);

/// Gives back what `providers` keep for `deployment` besides instances
/// (Provider::release), except what the template hashes in `keep` use.
/// `down` calls it with none kept once every instance is confirmed gone.
void release_at(const DeployContext& ctx, const std::set<std::string>& providers,
                const std::string& deployment, const std::vector<std::string>& keep,
                std::vector<std::string>* warnings);

/// Endpoints of a replica: `host:port` per published port. Container-native
/// instances report their public ports; others publish host == container
/// port unless the template says otherwise.
std::vector<Endpoint> replica_endpoints(const LaunchTemplate& workload, const Instance& instance);
/// The container of a replica: named as the deploy named it
/// (berth-<deployment>-<replica>-<hash>), else the instance's name.
std::string replica_container(const std::string& deployment, const Instance& instance);
/// Container port -> the port it is published on, by the same rule.
std::map<int, int> published_ports(const LaunchTemplate& workload, const Instance& instance);
/// Where a replica's health check goes (health.h): its endpoints' address
/// and ports, and for exec checks `host` (nullptr where the instance is the
/// container) with the runtime that runs the container there.
HealthTarget health_target(const LaunchTemplate& workload, const Instance& instance, Host* host,
                           DeployContext& ctx);

/// Which connector reaches an instance's containers (local or SSH), or
/// nullptr for container-native providers, whose instance is the container.
HostConnector* connector_for(const Instance& instance, DeployContext& ctx);
/// The instance is the container (its provider runs workloads as pods):
/// there is no host to reach, and its state is the provider's.
bool runs_in_pod(const DeployContext& ctx, const Instance& instance);

/// The last `tail` lines of an instance's container log (`container` on
/// `host`), oldest first, each bounded (berth/deploy/log_text.h): the provider's
/// API where the instance is the container (Capabilities::Logs::kApi), else
/// the runtime's `logs --tail` on the host, its output capped. The error
/// says why it could not be read.
Expected<std::vector<std::string>, std::string> container_log_tail(DeployContext& ctx,
                                                                   const Instance& instance,
                                                                   Host* host,
                                                                   const std::string& container,
                                                                   int tail);

/// The runtime's `logs` of `container` on a host, bounded: stdout and stderr
/// merged in the order written, only the newest kMaxLogAnswerBytes of them
/// reach berth, and the command's exit status is the runtime's.
std::vector<std::string> bounded_logs_argv(const ContainerRuntime& rt,
                                           const std::string& container,
                                           std::optional<int> tail);

/// The runtime that runs an instance's container: this machine's for `local`.
const ContainerRuntime& runtime_for(const Instance& instance, const DeployContext& ctx);

/// The launch request for `replica` of `workload` on `offer`: what `up`
/// sends and what `up --dry-run` shows.
LaunchRequest launch_request(const LaunchTemplate& workload, int replica, const Offer& offer,
                             const std::string& ssh_public_key, const WorkloadSpec& container);

/// `up --dry-run`: per planned replica, the requests its launch would send
/// and the process its container would run; nothing is sent.
struct DryRunReplica {
  int replica = 0;
  Offer offer;
  std::vector<PlannedRequest> requests;  // secrets redacted
  /// The argv the container runs, when the image's own part is known (read
  /// from its registry) or not needed; otherwise `process_text` says it
  /// symbolically ("<the image's ENTRYPOINT> --model x").
  std::optional<std::vector<std::string>> process;
  std::string process_text;
};
Expected<std::vector<DryRunReplica>, Failure> dry_run(const LaunchTemplate& workload,
                                                      const Plan& plan, DeployContext& ctx);
nlohmann::json to_json(const DryRunReplica& r);

/// `up -o json` (docs/json.md).
nlohmann::json to_json(const DeployResult& result);
nlohmann::json to_json(const Endpoint& e);
nlohmann::json to_json(const Attempt& a);

}  // namespace berth
