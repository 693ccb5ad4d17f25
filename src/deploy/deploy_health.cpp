// Waiting for a new replica to become healthy: probes from berth's side for
// http/tcp (what a client of the endpoint would see), the runtime's exec for
// exec checks, and the container's own state so a crash fails fast.
#include <algorithm>

#include <fmt/format.h>

#include "deploy/deploy_internal.h"

namespace berth::deploy_detail {
namespace {

// Before the first success berth probes often, so a fast workload is
// reported healthy fast: the first probe goes as soon as the container
// runs, then the gaps grow from 25 ms to 250 ms (never beyond the
// template's interval). Failures still count at the template's interval.
constexpr Duration kFirstGap{25};
constexpr Duration kEagerGap{250};
// While waiting, the container's own state is read this often (a remote
// command each time), so a crash fails the deploy fast.
constexpr Duration kCrashCheck{1'000};

struct ContainerCheck {
  bool known = false;
  bool running = true;
  std::string detail;
};

ContainerCheck inspect(const ContainerRuntime& rt, Host& host, const std::string& name) {
  auto r = host.run(HostCommand{.argv = inspect_argv(rt, name), .timeout = Duration{30'000}});
  if (!r || !r->ok()) return {};
  auto state = parse_inspect(r->out);
  if (!state) return {};
  // Under a restart policy a crashing container is "running" between
  // crashes; a restart during the deploy is the crash that counts.
  bool steady = state->running && state->restart_count == 0;
  return ContainerCheck{true, steady,
                        steady ? "running"
                               : fmt::format("{} (exit code {}{})", state->status, state->exit_code,
                                             state->restart_count > 0 ? ", restarted" : "")};
}

// The state of a pod (the instance is its container), from the provider.
ContainerCheck pod_state(Provider& provider, const Instance& instance) {
  auto got = provider.get(instance.id);
  if (!got) return {};
  switch (got->state) {
    case InstanceState::kExited:
    case InstanceState::kFailed:
    case InstanceState::kTerminated:
      return ContainerCheck{true, false,
                            "the provider reports it " + to_string(got->state) +
                                (got->raw_state.empty() ? "" : " (" + got->raw_state + ")")};
    default:
      return ContainerCheck{true, true, "running"};
  }
}

}  // namespace

Expected<ReplicaState, Failure> wait_healthy(Run& run, int replica, const Instance& instance,
                                            Host* host) {
  const auto& w = run.workload;
  const auto& check = w.health;
  const std::string name = instance_name(w.name, replica, w.hash);
  const ContainerRuntime& rt = runtime_for(instance, run.ctx);
  Provider* provider = run.ctx.provider(instance.provider);
  bool native = runs_in_pod(run.ctx, instance);
  const HealthTarget target = health_target(w, instance, host, run.ctx);

  // The container's last lines go out before anything is rolled back.
  auto workload_failure = [&](std::string message) {
    show_failed_log(run, replica, instance, host);
    return unexpected(
        Failure{ExitCode::kWorkloadFailed, std::move(message), failed_replica_hint(run)});
  };
  // Where the container still runs, as its host or (for a pod) its provider says.
  auto check_container = [&]() -> ContainerCheck {
    if (host) return inspect(rt, *host, name);
    if (native && provider) return pod_state(*provider, instance);
    return {};
  };

  if (check.kind == HealthCheck::Kind::kNone) {
    if (!host && !native) return ReplicaState::kRunning;
    run.phase(replica, "checking that the container keeps running");
    if (!run.sleep(run.ctx.options.running_check)) return unexpected(interrupted_failure());
    auto c = check_container();
    if (c.known && !c.running) return workload_failure("the container stopped: " + c.detail);
    return ReplicaState::kRunning;
  }
  if (check.kind == HealthCheck::Kind::kExec && !host) {
    run.warn(replica, "exec health checks need the container runtime; " + instance.provider +
                          " runs the container itself, so only its state is checked");
    return ReplicaState::kRunning;
  }

  run.phase(replica, "waiting for the health check");
  const auto started = Clock::now();
  HealthTracker tracker(check, started);
  auto last_counted = started - check.interval;  // the first failure counts at once after grace
  auto last_inspected = started;
  Duration gap = kFirstGap;
  while (true) {
    if (run.cancelled()) return unexpected(interrupted_failure());
    auto result = check_health(check, target);
    if (run.cancelled()) return unexpected(interrupted_failure());
    auto now = Clock::now();
    if (result) {
      tracker.record(true, now);
      return ReplicaState::kHealthy;
    }
    if (now - last_counted >= check.interval) {
      last_counted = now;
      if (tracker.record(false, now, result.error()) == HealthState::kUnhealthy)
        return workload_failure(fmt::format("the health check failed {} times in a row: {}",
                                            tracker.consecutive_failures(), result.error()));
    }
    // A crashed container will not become healthy: say so now, not after grace.
    if ((host || native) && now - last_inspected >= kCrashCheck) {
      last_inspected = now;
      auto c = check_container();
      if (c.known && !c.running) return workload_failure("the container stopped: " + c.detail);
    }
    if (!run.sleep(std::min(gap, check.interval))) return unexpected(interrupted_failure());
    gap = std::min<Duration>(gap * 2, kEagerGap);
  }
}

}  // namespace berth::deploy_detail
