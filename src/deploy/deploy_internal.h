// Pieces of the deploy engine shared by its source files (not a public API).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "berth/deploy/deploy.h"

namespace berth::deploy_detail {

using Clock = std::chrono::steady_clock;

/// One command's bookkeeping: attempts, events, cancellation. The replicas
/// of a run deploy on threads of their own and share it: what they change
/// here goes through the methods and locks below.
struct Run {
  Run(DeployContext& c, const LaunchTemplate& w) : ctx(c), workload(w) {}

  DeployContext& ctx;
  const LaunchTemplate& workload;
  std::vector<Attempt> attempts;  // under attempts_mutex while replicas run
  WorkloadSpec container = resolve_workload(workload);  // what every launch starts
  /// Why the image's own process could not be read, once it was tried: the
  /// offers of providers that need it are skipped, with this as the reason.
  std::optional<Failure> image_error;
  /// Where the template's provider volumes live: the plan's, then those this
  /// run made (made_volumes), so that a later attempt at the same place
  /// uses the one made before. Under volumes_mutex while replicas run.
  std::vector<VolumeHome> volume_homes;
  std::vector<ProviderVolume> made_volumes;
  std::set<std::string> volumes_in_use;  // ids a replica of this run kept uses
  /// Set when a replica of this run failed: the others stop where they are
  /// and everything the run made is removed (all or nothing).
  std::atomic<bool> aborted{false};
  mutable std::mutex events_mutex;  // one event reported at a time
  std::mutex attempts_mutex;
  std::mutex image_mutex;    // the image's process is read once, by one replica
  std::mutex volumes_mutex;  // one find-or-make of the provider volumes at a time

  bool cancelled() const { return (ctx.cancel && ctx.cancel->load()) || aborted.load(); }
  void emit(DeployEvent event) const;
  void emit(DeployEvent::Kind kind, int replica, std::string text) const {
    emit(DeployEvent{kind, replica, std::move(text), {}, {}, {}});
  }
  /// An attempt: recorded in `attempts` and reported, with the instance it
  /// made when it made one.
  void attempted(const Attempt& attempt, std::string text, std::string instance_id = "");
  /// An attempt recorded without an event (one cut short by an interrupt).
  void record(const Attempt& attempt);
  std::vector<Attempt> attempts_so_far();
  /// The container every launch starts (read once the image is known).
  WorkloadSpec launch_container();
  void phase(int replica, std::string text) const { emit(DeployEvent::Kind::kPhase, replica, std::move(text)); }
  void note(int replica, std::string text) const { emit(DeployEvent::Kind::kNote, replica, std::move(text)); }
  void warn(int replica, std::string text) const { emit(DeployEvent::Kind::kWarning, replica, std::move(text)); }
  /// Sleeps unless cancelled; false when cancelled.
  bool sleep(Duration d) const;
};

Failure interrupted_failure();

/// For a provider that starts the process itself (Capabilities::starts_process):
/// reads the image's ENTRYPOINT and CMD once per run into run.container. The
/// failure (also kept in run.image_error) when they cannot be read; nullopt
/// when they are there or not needed.
std::optional<Failure> ensure_image_process(Run& run, const Provider& provider);

/// What one replica's deployment created so far: what rollback must undo.
struct Created {
  std::optional<Instance> instance;
  std::shared_ptr<Host> host;
  bool container_started = false;
  bool private_dir = false;  // $HOME/.berth/<instance> on the host: volumes, secret files
  std::vector<AttachedVolume> volumes;  // the provider volumes its launch attached
};

/// Deletes the volumes this run made that no replica it keeps uses (all of
/// them after a failed run): an empty volume left behind would bill.
void release_made_volumes(Run& run);

/// Why an instance that runs could not be reached. `next_offer`: the
/// instance is at fault (its SSH never answered in time), so it is removed
/// and the next offer tried; otherwise the replica fails with `failure`.
struct ReachFailure {
  Failure failure;
  bool next_offer = false;
};
/// Reaches an instance the provider reports running (SSH, for a VM or a
/// host); sets what rollback needs in the Created it was given.
using ReachInstance = std::function<Expected<void, ReachFailure>(const Instance&)>;

/// Provisions one replica: the planned offer, then each fallback, until an
/// instance runs and `reach` (when given) reaches it. On success
/// `created.instance` is the running instance. Every attempt lands in
/// run.attempts and is reported as an event.
Expected<Instance, Failure> provision_replica(Run& run, const ReplicaPlacement& placement,
                                              Created& created, const ReachInstance& reach);

/// Terminates and confirms by later reads (get, then list) that the instance
/// is gone. The message says why it could not be confirmed.
Expected<void, std::string> terminate_confirmed(const DeployContext& ctx, const Instance& instance);

/// Copies volume sources, pulls, writes private files, starts the container.
Expected<void, Failure> start_on_host(Run& run, int replica, const Instance& instance,
                                      Host& host, Created& created, const Offer& offer);

/// Waits for the template's health check (or, without one, for the
/// container to keep running). Failure code 7 when it never gets healthy.
Expected<ReplicaState, Failure> wait_healthy(Run& run, int replica, const Instance& instance,
                                            Host* host);

/// A failed replica's container log, its last kFailedLogLines lines, shown
/// (a kContainerLog event) before anything is rolled back; a warning when it
/// cannot be read.
void show_failed_log(Run& run, int replica, const Instance& instance, Host* host);

/// The hint of a failed replica's failure: only commands that work now (the
/// replica kept by --keep-on-failure, or removed).
std::string failed_replica_hint(const Run& run);

/// Removes the replica's container and private directory from a host that
/// outlives it, in one command; best effort.
void remove_container(const ContainerRuntime& rt, Host& host, const std::string& container);

/// Undoes what `created` records: container, files, instance (confirmed).
/// Returns the instance when it could not be confirmed gone.
std::optional<Instance> roll_back(Run& run, int replica, Created& created);

ContainerIdentity identity_for(const LaunchTemplate& workload, int replica);
/// The host-side directory for a replica's files: $HOME/.berth/<instance>.
Expected<std::string, std::string> host_work_dir(Host& host, const std::string& instance_name);

/// Cleanup commands whose failure changes nothing: what could not be removed
/// is reported by the checks that follow, not by them.
inline void run_best_effort(Host& host, HostCommand command) {
  command.cancellable = false;
  (void)host.run(command);
}

bool host_outlives_instance(const DeployContext& ctx, const Instance& instance);

}  // namespace berth::deploy_detail
