#include "berth/watch/watch_deploy.h"

#include "berth/placement/planning.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "berth/deploy/deployments.h"
#include "berth/host/container_runtime.h"
#include "berth/host/health.h"
#include "berth/placement/offer_search.h"

namespace berth {

namespace {

std::string first_line(const std::string& s) {
  auto start = s.find_first_not_of(" \n\r\t");
  if (start == std::string::npos) return {};
  auto end = s.find('\n', start);
  return s.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string last_lines(const std::string& text, std::size_t n) {
  std::vector<std::string> lines;
  std::string cur;
  for (char c : text) {
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  std::string out;
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += lines[i] + (i + 1 < lines.size() ? "\n" : "");
  return out;
}

Failure with_leaks(const DeployFailure& f) {
  Failure out = f.failure;
  if (!f.leaked.empty()) {
    std::string ids;
    for (const auto& i : f.leaked) ids += (ids.empty() ? "" : ", ") + i.provider + "/" + i.id;
    out.message += " (not confirmed gone: " + ids + ")";
  }
  return out;
}

class ProviderInstanceProbe final : public InstanceProbe {
 public:
  ProviderInstanceProbe(const LaunchTemplate& workload, DeployContext& ctx)
      : workload_(workload), ctx_(ctx) {}

  Expected<std::vector<Instance>, ProviderError> list(const std::string& provider) override {
    Provider* p = ctx_.provider ? ctx_.provider(provider) : nullptr;
    if (!p)
      return unexpected(ProviderError{ProviderError::Kind::kInvalidRequest,
                                      "provider '" + provider + "' is not configured",
                                      {}});
    return p->list();
  }

  Expected<void, ProviderError> terminate(const Instance& instance) override {
    Deployment one;
    one.name = workload_.name;
    auto replica = deployed_replica(instance);
    one.replicas.push_back(replica ? *replica : DeployedReplica{0, workload_.hash, instance});
    auto done = teardown(one, ctx_);
    if (done.leaked.empty()) return {};
    std::string why;
    for (const auto& e : done.errors) why += (why.empty() ? "" : "; ") + e;
    return unexpected(ProviderError{ProviderError::Kind::kTransient,
                                    "terminating " + instance.id + " is not confirmed: " + why,
                                    {}});
  }

 private:
  const LaunchTemplate& workload_;
  DeployContext& ctx_;
};

class RuntimeHostProbe final : public HostProbe {
 public:
  RuntimeHostProbe(const LaunchTemplate& workload, DeployContext& ctx, Duration timeout)
      : workload_(workload), ctx_(ctx), timeout_(timeout) {}

  Expected<ContainerStatus, std::string> container(const Instance& instance) override {
    HostConnector* connector = connector_for(instance, ctx_);
    if (!connector) {
      // Container-native providers: the instance is the container, and the
      // provider's "running" (already checked) is all there is to know.
      if (instance.state != InstanceState::kExited)
        return ContainerStatus{true, std::nullopt, "", false};
      // It exited. Where the instance's SSH endpoint reaches the runtime
      // that ran it (as `berth logs` reads it), its exit code and last log
      // lines say why; where it does not, the provider's word stands alone.
      if (!ctx_.hosts || instance.host.empty())
        return unexpected(std::string("no SSH endpoint to read the exit code from"));
      return inspect(*ctx_.hosts, instance, /*native=*/true);
    }
    return inspect(*connector, instance, /*native=*/false);
  }

  // The container's state from the runtime on the host. `native`: a
  // container-native instance's exit details, best effort; only a state the
  // runtime really reported counts.
  Expected<ContainerStatus, std::string> inspect(HostConnector& connector, const Instance& instance,
                                                 bool native) {
    auto host = connector.connect(instance, workload_.name);
    if (!host) return unexpected(host.error().message);
    const std::string name = replica_container(workload_.name, instance);
    auto r = (*host)->run(
        HostCommand{.argv = inspect_argv(runtime_for(instance, ctx_), name), .timeout = timeout_});
    if (!r) return unexpected(r.error());
    if (r->cancelled) return unexpected(std::string("interrupted"));
    if (r->timed_out) return unexpected(fmt::format("no answer within {} ms", timeout_.count()));
    // ssh exits 255 when the connection itself failed; the runtime never does.
    if (r->exit_code == 255 && &connector != ctx_.local)
      return unexpected(first_line(r->err).empty() ? std::string("ssh failed")
                                                   : first_line(r->err));
    if (!r->ok() && native)
      return unexpected("the runtime there does not know it: " + first_line(r->err));
    if (!r->ok()) {
      std::lock_guard lock(restarts_mutex_);
      restarts_.erase(instance.id);
      return ContainerStatus{false, std::nullopt,
                             "the runtime does not know the container: " + first_line(r->err),
                             false};
    }
    auto state = parse_inspect(r->out);
    if (!state && native) return unexpected("unreadable inspect output: " + state.error());
    if (!state)
      return ContainerStatus{true, std::nullopt, "", false};  // cannot tell: not a failure
    bool restarted = false;
    if (!native) {
      std::lock_guard lock(restarts_mutex_);  // probes of several replicas run at once
      auto& seen = restarts_[instance.id];
      restarted = seen.has_value() && state->restart_count > *seen;
      seen = state->restart_count;
    }
    if (state->running && !restarted) return ContainerStatus{true, std::nullopt, "", false};
    ContainerStatus status{state->running, state->exit_code, "", restarted};
    auto logs = (*host)->run(HostCommand{
        .argv = logs_argv(runtime_for(instance, ctx_), name, false, 20), .timeout = timeout_});
    if (logs && (logs->exit_code == 0)) status.log_tail = last_lines(logs->out + logs->err, 20);
    return status;
  }

  HealthResult health(const Instance& instance) override {
    const auto& check = workload_.health;
    // Exec checks run in the container, over the host's connection.
    std::shared_ptr<Host> host;
    if (check.kind == HealthCheck::Kind::kExec)
      if (HostConnector* connector = connector_for(instance, ctx_)) {
        auto connected = connector->connect(instance, workload_.name);
        if (!connected) return HealthResult{false, connected.error().message};
        host = std::move(*connected);
      }
    auto result = check_health(check, health_target(workload_, instance, host.get(), ctx_));
    if (!result) return HealthResult{false, result.error()};
    return HealthResult{true, *result};
  }

 private:
  const LaunchTemplate& workload_;
  DeployContext& ctx_;
  Duration timeout_;
  // The runtime's restart count per instance; an entry per live replica only.
  std::mutex restarts_mutex_;
  std::map<std::string, std::optional<int>> restarts_;
};

class EngineReplicaDeployer final : public ReplicaDeployer {
 public:
  EngineReplicaDeployer(const LaunchTemplate& workload, ProviderSet& providers, DeployContext& ctx,
                        WatchPlanner planner)
      : workload_(workload), providers_(providers), ctx_(ctx), planner_(std::move(planner)) {}

  Expected<std::vector<LiveReplica>, Failure> ensure(const AttemptSink& attempts) override {
    auto found = find(/*strict=*/true);
    if (!found) return unexpected(found.error());
    std::optional<Deployment> existing = *found;
    std::vector<Instance> running;
    if (existing)
      for (const auto& r : existing->replicas) running.push_back(r.instance);
    PlanFunction plan = [&](const std::vector<int>& needed) {
      return planner_(WatchPlanRequest{needed, {}, running});
    };
    auto result = deploy(workload_, existing, plan, ctx_);
    report(result ? result->attempts : result.error().attempts, attempts);
    if (!result) return unexpected(with_leaks(result.error()));
    std::vector<LiveReplica> out;
    for (const auto& r : result->replicas)
      out.push_back(LiveReplica{r.replica, r.instance, r.state == ReplicaState::kUnchanged,
                                r.state != ReplicaState::kUnchanged});
    return out;
  }

  Expected<LiveReplica, Failure> redeploy(const RedeployRequest& request,
                                          const AttemptSink& attempts) override {
    Deployment existing;
    existing.name = workload_.name;
    existing.template_hash = workload_.hash;
    for (const auto& other : request.others)
      if (auto r = deployed_replica(other)) existing.replicas.push_back(*r);
    // deploy() places every replica the existing set lacks; the plan
    // answers for this one only, so others waiting for their backoff stay
    // as they are.
    PlanFunction plan = [&](const std::vector<int>&) {
      return planner_(WatchPlanRequest{{request.replica}, request.excluded, request.others});
    };
    auto result = deploy(workload_, existing, plan, ctx_);
    report(result ? result->attempts : result.error().attempts, attempts);
    if (!result) return unexpected(with_leaks(result.error()));
    for (const auto& r : result->replicas)
      if (r.replica == request.replica && r.state != ReplicaState::kUnchanged)
        return LiveReplica{r.replica, r.instance, false, true};
    return unexpected(
        Failure{ExitCode::kInternal,
                fmt::format("the deploy engine did not place replica {}", request.replica),
                "this is a bug in berth; please report it"});
  }

  Expected<void, Failure> tear_down() override {
    auto found = find(/*strict=*/false);
    if (!found) return unexpected(found.error());
    if (!*found) return {};
    auto done = teardown(**found, ctx_);
    if (done.leaked.empty()) return {};
    std::string ids;
    for (const auto& i : done.leaked) ids += (ids.empty() ? "" : ", ") + i.provider + "/" + i.id;
    return unexpected(Failure{ExitCode::kProviderFailed,
                              "could not confirm these instances gone: " + ids,
                              "run 'berth down " + workload_.name + "'"});
  }

 private:
  // The deployment as the providers see it now. Strict: a provider that did
  // not answer may hold replicas, and deploying again would duplicate them.
  Expected<std::optional<Deployment>, Failure> find(bool strict) {
    auto listing = find_deployments(providers_.list_instances(), workload_.name);
    std::string failed;
    for (const auto& r : listing.reports)
      if (r.error) failed += (failed.empty() ? "" : "; ") + r.provider + ": " + r.error->message;
    if (!failed.empty() && (strict || listing.deployments.empty()))
      return unexpected(
          Failure{ExitCode::kProviderFailed,
                  "cannot tell which instances of '" + workload_.name + "' exist: " + failed,
                  "retry when the provider answers"});
    if (listing.deployments.empty()) return std::optional<Deployment>();
    return std::optional<Deployment>(listing.deployments.front());
  }

  static void report(const std::vector<Attempt>& attempts, const AttemptSink& sink) {
    if (!sink) return;
    for (const auto& a : attempts) sink(a);
  }

  const LaunchTemplate& workload_;
  ProviderSet& providers_;
  DeployContext& ctx_;
  WatchPlanner planner_;
};

}  // namespace

WatchPlanner make_watch_planner(const LaunchTemplate& workload, ProviderSet& providers) {
  auto image_arch = registry_arch_reader(providers.http(), workload);
  return [&workload, &providers, image_arch](const WatchPlanRequest& request)
             -> Expected<Plan, Failure> {
    // The planning `plan` and `up` do: the same providers asked, the same rule.
    Planning planning =
        plan_deployment(workload, providers,
                        PlanRequest{request.replicas, request.excluded, request.occupied,
                                    image_arch});
    if (planning.failure) return unexpected(*planning.failure);
    return std::move(planning.plan);
  };
}

std::unique_ptr<InstanceProbe> make_instance_probe(const LaunchTemplate& workload,
                                                   DeployContext& context) {
  return std::make_unique<ProviderInstanceProbe>(workload, context);
}

std::unique_ptr<HostProbe> make_host_probe(const LaunchTemplate& workload, DeployContext& context,
                                           Duration command_timeout) {
  return std::make_unique<RuntimeHostProbe>(workload, context, command_timeout);
}

std::unique_ptr<ReplicaDeployer> make_replica_deployer(const LaunchTemplate& workload,
                                                       ProviderSet& providers,
                                                       DeployContext& context,
                                                       WatchPlanner planner) {
  return std::make_unique<EngineReplicaDeployer>(workload, providers, context, std::move(planner));
}

WatchOptions default_watch_options(const LaunchTemplate& workload) {
  WatchOptions options;
  if (workload.health.kind != HealthCheck::Kind::kNone) options.interval = workload.health.interval;
  return options;
}

Failure watch_deployment(const LaunchTemplate& workload, ProviderSet& providers,
                         DeployContext& context, const WatchOptions& options,
                         const EventSink& events) {
  auto clock = make_system_clock(context.cancel);
  // A probe command may take as long as a poll, but never so long that a
  // hung host stalls watching for minutes.
  Duration command_timeout = std::clamp(options.interval, Duration{5'000}, Duration{30'000});
  auto instances = make_instance_probe(workload, context);
  auto hosts = make_host_probe(workload, context, command_timeout);
  auto deployer =
      make_replica_deployer(workload, providers, context, make_watch_planner(workload, providers));
  WatchServices services{clock.get(), instances.get(), hosts.get(), deployer.get(), events};
  Watcher watcher(workload, options, services);
  return watcher.run();
}

}  // namespace berth
