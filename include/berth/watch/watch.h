// Watch mode (docs/watch-events.md): keep a deployment alive. Every poll asks each provider
// once for its instances, then each replica's host for its container and its
// health; a failed replica is terminated (confirmed) and redeployed alone,
// bounded by restart.backoff and restart.max_restarts within restart.window.
// A redeploy (tens of seconds: provisioning, pulling, health) runs on its own
// thread while the loop keeps polling the other replicas.
//
// The world is reached only through the seams below (clock, provider probe,
// host probe, replica deployer), so the loop's decisions are tested with fakes
// and a fake clock, instantly and deterministically.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "berth/common/event.h"
#include "berth/common/expected.h"
#include "berth/common/failure.h"
#include "berth/common/units.h"
#include "berth/deploy/attempt.h"
#include "berth/host/health.h"
#include "berth/provider/instance.h"
#include "berth/provider/provider.h"
#include "berth/template/launch_template.h"

namespace berth {

/// Time as a seam. `now` orders and schedules (monotonic); `wall` stamps events.
class WatchClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~WatchClock() = default;
  virtual TimePoint now() const = 0;
  virtual std::chrono::system_clock::time_point wall() const = 0;
  /// Waits until `t`. False when cancelled first (SIGINT/SIGTERM).
  virtual bool sleep_until(TimePoint t) = 0;
  virtual bool cancelled() const = 0;
};

/// The real clocks. `cancel`, when given, is polled while sleeping (every
/// 50 ms), so a signal stops watch promptly.
std::unique_ptr<WatchClock> make_system_clock(const std::atomic<bool>* cancel);

/// The provider side of a poll: one cheap list call per provider.
class InstanceProbe {
 public:
  virtual ~InstanceProbe() = default;
  /// berth's instances at `provider` (the configured name).
  virtual Expected<std::vector<Instance>, ProviderError> list(const std::string& provider) = 0;
  /// Terminates `instance` and confirms by a later read that it is gone.
  virtual Expected<void, ProviderError> terminate(const Instance& instance) = 0;
};

struct ContainerStatus {
  bool running = false;
  std::optional<int> exit_code;  // when it exited and the runtime said with what
  std::string log_tail;          // its last log lines, when it exited
  /// It exited and the runtime's restart policy started it again since the
  /// last poll: still a container exit, even though it runs now.
  bool restarted = false;
};

struct HealthResult {
  bool ok = false;
  std::string detail;  // "HTTP 500", "connection refused", ...
};

/// The host side of a poll: container state over the host's SSH master (or
/// the provider, for container-native ones) and the template's health check.
/// Called for several instances at once, from one thread per instance.
class HostProbe {
 public:
  virtual ~HostProbe() = default;
  /// The workload container's state. An error means the host could not be
  /// reached at all (SSH failed): the text says why. For a container-native
  /// instance the provider's state is the container's; when it reports the
  /// container exited, this reads its exit code and last log lines where its
  /// runtime can be reached, and fails when it cannot.
  virtual Expected<ContainerStatus, std::string> container(const Instance& instance) = 0;
  /// Only called when the template has a health check and the container runs.
  virtual HealthResult health(const Instance& instance) = 0;
};


struct LiveReplica {
  int replica = 0;
  Instance instance;
  bool adopted = false;  // found running at the providers, not deployed by this run
  bool healthy = false;  // the deployer already saw it pass its health check
};

struct RedeployRequest {
  int replica = 0;
  /// Placement keys to avoid ("provider/offer-id", "provider/region/host").
  std::set<std::string> excluded;
  /// The other replicas' current instances: they count against `available`
  /// and `spread`.
  std::vector<Instance> others;
};

/// The deploy engine as watch uses it. redeploy() runs on a thread of its own
/// while the poll loop goes on (never two at once); ensure() and tear_down()
/// run on the loop's thread when no redeploy is in flight.
class ReplicaDeployer {
 public:
  virtual ~ReplicaDeployer() = default;
  /// Adopts the running deployment (found statelessly at the providers) and
  /// deploys whichever replicas are missing; one entry per replica.
  virtual Expected<std::vector<LiveReplica>, Failure> ensure(const AttemptSink& attempts) = 0;
  /// Deploys one replica to the best offer outside `excluded`, walking the
  /// fallbacks on capacity errors exactly as `up` does, and cleaning up what
  /// it created when it fails or is cancelled (SIGINT/SIGTERM). `attempts`
  /// may be called from this thread only.
  virtual Expected<LiveReplica, Failure> redeploy(const RedeployRequest& request,
                                                  const AttemptSink& attempts) = 0;
  /// Terminates every instance of the deployment and confirms they are gone.
  virtual Expected<void, Failure> tear_down() = 0;
};

struct WatchServices {
  WatchClock* clock = nullptr;
  InstanceProbe* instances = nullptr;
  HostProbe* hosts = nullptr;
  ReplicaDeployer* deployer = nullptr;
  EventSink events;
};

struct WatchOptions {
  Duration interval{10'000};  // poll period
  /// How long SSH may fail while the provider says "running" before the
  /// replica counts as unreachable.
  Duration unreachable_grace{60'000};
  /// How long a failed host stays out of placement for this deployment.
  Duration exclusion_cooldown{1'800'000};
  /// Ceiling of the polling backoff for a provider whose API is down.
  Duration provider_backoff_max{300'000};
  bool down_on_exit = false;
  /// Stop watching (exit 0, reason time-limit) at this moment: the
  /// command's --timeout, counted from the command's start, so the initial
  /// deploy spends from it too. The command's deadline also cancels a deploy
  /// in progress (as a signal would); watch still ends as time-limit then.
  std::optional<WatchClock::TimePoint> deadline;
  /// `watch --for`: at this moment take the deployment down and exit 0
  /// (reason "duration"), whatever --down-on-exit says.
  std::optional<WatchClock::TimePoint> run_until;
  /// `watch --budget`: once the replicas' $/h over the time watch saw them
  /// run adds up to this many USD, take the deployment down and exit 0
  /// (reason "budget").
  std::optional<double> budget_usd;
};

/// What the loop knows about one replica. Bounded: restarts holds at most
/// max_restarts entries, nothing else grows.
struct ReplicaWatch {
  enum class Phase {
    kStarting,  // deployed; health failures before the first success count only after grace
    kHealthy,
    kFailedIdle,   // failed with a class outside restart.on: reported, left alone, still probed
    kTerminating,  // failed; its instance is not confirmed gone yet
    kWaiting,      // instance gone; redeploy when backoff allows (and no other is in flight)
    kRedeploying,  // its redeploy runs on its own thread; no instance until it ends
    kGaveUp,       // max_restarts within window exhausted
  };
  int replica = 0;
  Phase phase = Phase::kStarting;
  std::optional<Instance> instance;
  WatchClock::TimePoint started{};  // when the current instance was deployed
  /// The current instance's health series (the same rule `up` applies).
  std::optional<HealthTracker> health;
  std::optional<WatchClock::TimePoint> unreachable_since;
  std::optional<FailureClass> last_failure;
  std::string last_failure_detail;
  std::optional<WatchClock::TimePoint> failed_at;  // first failure not yet healed, for latency
  std::deque<WatchClock::TimePoint> restarts;      // redeploy starts within restart.window
  WatchClock::TimePoint next_attempt{};
  int total_restarts = 0;
};

/// The poll loop. run() is start(), then poll() every interval until a stop
/// condition; the steps are public so tests and benchmarks can drive them.
///
/// Threads: everything here belongs to the loop's thread, except the host
/// probes (SSH, runtime, health), one thread per replica: a poll waits for
/// them at most one interval and judges those that answered, in replica
/// order; a probe still out (a host that drops packets holds SSH for its
/// whole connect timeout) is judged at a later poll, and its replica is not
/// probed again meanwhile. So a silent host delays only its own replica.
/// A redeploy runs
/// the deployer on a worker thread that shares nothing with the loop but its
/// job (request in, attempts and result out, under the job's lock); the loop
/// collects it (events, state) when it ends. One redeploy is in flight at a
/// time, so each placement sees the previous one's instance (spread,
/// available); a replica failing meanwhile is reported and terminated at
/// once and waits for its turn.
class Watcher {
 public:
  Watcher(const LaunchTemplate& workload, WatchOptions options, WatchServices services);
  ~Watcher();  // waits for a redeploy in flight (its result is dropped)
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  /// Runs until cancelled (exit 130), the time limit (0), or every replica is
  /// beyond help with none healthy (7). The deployment is left running unless
  /// `down_on_exit`. A failed initial deploy returns the deployer's Failure.
  Failure run();

  /// Adopts or deploys; false (with the failure in `failure()`) when it failed.
  bool start();
  /// One poll cycle: collect(), provider lists, host probes, reactions; may
  /// start the next redeploy and return while it runs.
  void poll();
  /// When the loop should poll next.
  WatchClock::TimePoint next_wake() const;
  /// Takes what the redeploy in flight reported so far (attempt events) and,
  /// when it has ended, its result, then starts the next one due. Cheap;
  /// never blocks on the redeploy.
  void collect();
  /// Waits until no redeploy is in flight, collecting each (and the next one
  /// due, or the retry without exclusions, that it starts, unless run() is
  /// stopping). Before stopping, and for tests.
  void settle();
  /// Whether a redeploy is in flight.
  bool redeploying() const { return in_flight_ != nullptr; }
  /// Set once no replica is healthy or recovering after one gave up.
  bool exhausted() const { return exhausted_; }
  const std::vector<ReplicaWatch>& replicas() const { return replicas_; }
  const Failure& failure() const { return failure_; }
  /// One line per replica: state, restarts, last failure.
  std::string summary() const;
  /// Placement keys currently excluded, with their expiry.
  const std::map<std::string, WatchClock::TimePoint>& exclusions() const { return excluded_; }

 private:
  struct ProviderWatch {
    bool available = true;
    WatchClock::TimePoint next_poll{};
    WatchClock::TimePoint down_since{};
    int failures = 0;  // consecutive failed polls
  };
  struct Listing {
    bool fresh = false;  // polled successfully this cycle
    std::vector<Instance> instances;
  };
  struct Redeploy;  // one redeploy in flight: its thread and what it reports

  void emit(EventType type, const ReplicaWatch* r, std::string reason, std::string detail,
            const Instance* instance = nullptr, const std::string& provider = "");
  std::map<std::string, Listing> poll_providers(WatchClock::TimePoint now);
  /// What a replica still needs from its host after the provider's listing.
  enum class HostCheck { kNone, kExitDetails, kFull };
  /// What its host said this poll: the container's state (an error when SSH
  /// failed) and, for kFull on a running container, the health check.
  struct HostReport {
    Expected<ContainerStatus, std::string> container = unexpected(std::string("not probed"));
    std::optional<HealthResult> health;
  };
  struct Probe;  // one replica's host probe in flight
  HostCheck check_listing(ReplicaWatch& r, const Listing& listing, WatchClock::TimePoint now);
  HostReport probe_host(const Instance& instance, HostCheck what);
  void start_probe(ReplicaWatch& r, HostCheck what, WatchClock::TimePoint now);
  /// Waits for the probes in flight until `until` (real time), then judges
  /// those that answered, in replica order; the others stay in flight.
  void judge_probes(std::chrono::steady_clock::time_point until);
  void join_probes();
  void judge_host(ReplicaWatch& r, HostCheck what, HostReport report, WatchClock::TimePoint now);
  void mark_healthy(ReplicaWatch& r, WatchClock::TimePoint now);
  HealthTracker& tracker(ReplicaWatch& r);
  void provider_failed(const std::string& provider, const ProviderError& error,
                       WatchClock::TimePoint now);
  void provider_answered(const std::string& provider, WatchClock::TimePoint now);
  std::vector<Instance> others(const ReplicaWatch& r) const;
  void fail(ReplicaWatch& r, FailureClass c, std::string detail, WatchClock::TimePoint now);
  void try_terminate(ReplicaWatch& r, WatchClock::TimePoint now);
  void schedule_redeploy(ReplicaWatch& r, WatchClock::TimePoint now);
  void redeploy(ReplicaWatch& r, WatchClock::TimePoint now);
  void start_next_redeploy();
  void launch(ReplicaWatch& r, RedeployRequest request, bool on_excluded);
  void finish(ReplicaWatch& r, RedeployRequest request, bool on_excluded,
              Expected<LiveReplica, Failure> result);
  void emit_attempt(const Attempt& a);
  ReplicaWatch* find_replica(int replica);
  void give_up(ReplicaWatch& r);
  void update_exhausted();
  Duration backoff_for(std::size_t restarts) const;
  Failure stop(ExitCode code, const std::string& reason, const std::string& why);
  /// Adds what the replicas' instances cost since the last call to spent_usd_.
  void account(WatchClock::TimePoint now);
  /// When spent_usd_ reaches the budget at the current rate, if it can.
  std::optional<WatchClock::TimePoint> budget_reached_at(WatchClock::TimePoint now) const;

  const LaunchTemplate& workload_;
  WatchOptions options_;
  WatchServices services_;
  std::vector<ReplicaWatch> replicas_;
  std::map<std::string, ProviderWatch> providers_;
  std::map<std::string, WatchClock::TimePoint> excluded_;  // placement key -> expiry
  WatchClock::TimePoint last_poll_{};
  bool exhausted_ = false;
  Failure failure_;
  std::shared_ptr<Redeploy> in_flight_;  // at most one redeploy at a time
  std::map<int, std::shared_ptr<Probe>> probes_;  // by replica: at most one each
  bool stopping_ = false;                // run() is ending: start no redeploy
  bool take_down_ = false;               // --for or --budget ended it: down regardless
  double spent_usd_ = 0;                 // --budget's count
  std::optional<WatchClock::TimePoint> accounted_;  // spent_usd_ counts up to here
};

/// Placement keys that exclude the host `instance` ran on.
std::set<std::string> exclusion_keys(const Instance& instance);

}  // namespace berth
