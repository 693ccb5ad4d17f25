// The `up` and `down` orchestration: which replicas need work, each replica
// on a thread of its own through provision → host → health, replacement of
// replicas whose template changed once all successors are healthy, and
// rollback of everything a failed run created.
#include "berth/deploy/deploy.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "berth/common/cancel.h"
#include "deploy/deploy_internal.h"

namespace berth {

using namespace deploy_detail;

namespace {

bool alive(const Instance& i) {
  return i.state != InstanceState::kTerminated && i.state != InstanceState::kStopping &&
         i.state != InstanceState::kFailed && i.state != InstanceState::kPreempted &&
         i.state != InstanceState::kExited && i.state != InstanceState::kUnhealthy;
}

// What providers keep for a deployment besides instances (registry
// credentials) goes with the last replica that used it: `keep` names the
// template hashes still running. Nothing here bills, so a failure is a
// warning.
}  // namespace

void release_at(const DeployContext& ctx, const std::set<std::string>& providers,
                const std::string& deployment, const std::vector<std::string>& keep,
                std::vector<std::string>* warnings) {
  for (const auto& name : providers) {
    Provider* p = ctx.provider ? ctx.provider(name) : nullptr;
    if (!p) continue;
    if (auto r = p->release(deployment, keep); !r && warnings)
      warnings->push_back(name + ": could not remove what it keeps for " + deployment + ": " +
                          r.error().message);
  }
}

namespace {

// Secrets never reach a command line; the container's command line is one.
std::optional<Failure> secrets_on_command_line(const LaunchTemplate& w) {
  auto secret_in = [](const std::vector<TemplateString>& v) {
    return std::any_of(v.begin(), v.end(), [](const TemplateString& s) { return s.secret; });
  };
  std::string where;
  if (w.command && secret_in(w.command->argv)) where = "command";
  else if (w.entrypoint && secret_in(*w.entrypoint)) where = "entrypoint";
  if (where.empty()) return std::nullopt;
  return Failure{ExitCode::kInvalidInput,
                 "a ${VAR} value in '" + where + "' would appear on a command line",
                 "pass it through 'env:' and refer to it from the program instead"};
}

// Reaching a fresh instance over SSH, bounded: the template's
// placement.ssh_timeout (else DeployOptions::connect_timeout) from the moment
// the provider reports it running. An instance that does not answer in that
// time is given up and the next offer tried (ReachFailure::next_offer); a
// host key that changed is refused at once.
Expected<std::shared_ptr<Host>, ReachFailure> connect_with_patience(Run& run, int replica,
                                                                    HostConnector& connector,
                                                                    const Instance& instance) {
  const auto start = Clock::now();
  const Duration limit =
      run.workload.placement.ssh_timeout.value_or(run.ctx.options.connect_timeout);
  // A fresh instance refuses connections, and sometimes keys, until sshd and
  // cloud-init are up: both are waited out, a refused key only briefly.
  const auto auth_limit = std::min<Duration>(limit, Duration{60'000});
  Duration delay = run.ctx.options.poll_initial;
  std::string last;
  run.phase(replica, "connecting to " + instance.host);
  while (true) {
    if (run.cancelled()) return unexpected(ReachFailure{interrupted_failure(), false});
    Expected<std::shared_ptr<Host>, HostError> host = unexpected(HostError{});
    {
      // One handshake never outlasts what is left of the limit.
      ScopedCallDeadline bound(start + limit);
      host = connector.connect(instance, run.workload.name);
    }
    if (host) return *host;
    if (run.cancelled()) return unexpected(ReachFailure{interrupted_failure(), false});
    const auto& err = host.error();
    auto waited = Clock::now() - start;
    bool retry = (err.kind == HostError::Kind::kUnreachable && waited < limit) ||
                 (err.kind == HostError::Kind::kAuth && waited < auth_limit);
    if (!retry) {
      // A host key that changed is never waited out, nor tried elsewhere.
      bool next = err.kind == HostError::Kind::kUnreachable || err.kind == HostError::Kind::kAuth;
      std::string message = "cannot reach " + instance.host + ": " + err.message;
      if (next)
        message = fmt::format("no SSH within {:.0f}s ({}): {}",
                              std::chrono::duration<double>(waited).count(), instance.host,
                              err.message);
      return unexpected(
          ReachFailure{Failure{ExitCode::kProviderFailed, message, err.hint}, next});
    }
    if (err.message != last) run.phase(replica, "still connecting: " + err.message);
    last = err.message;
    if (!run.sleep(delay)) return unexpected(ReachFailure{interrupted_failure(), false});
    delay = std::min<Duration>(Duration(delay.count() * 3 / 2), run.ctx.options.poll_max);
  }
}

Expected<ReplicaResult, Failure> deploy_replica(Run& run, const ReplicaPlacement& placement,
                                                Created& created) {
  const int r = placement.replica;
  ReachInstance reach = [&](const Instance& instance) -> Expected<void, ReachFailure> {
    HostConnector* connector = connector_for(instance, run.ctx);
    if (!connector) return {};
    auto host = connect_with_patience(run, r, *connector, instance);
    if (!host) return unexpected(host.error());
    created.host = *host;
    return {};
  };
  auto instance = provision_replica(run, placement, created, reach);
  if (!instance) return unexpected(instance.error());
  std::shared_ptr<Host> host = created.host;
  if (host) {
    // Offer the instance was launched from: GPU access depends on it.
    const Offer* offer = &placement.offer;
    for (const auto& f : placement.fallbacks)
      if (f.provider == instance->provider && f.id == instance->offer_id) offer = &f;
    if (auto s = start_on_host(run, r, *instance, *host, created, *offer); !s)
      return unexpected(s.error());
  }
  auto state = wait_healthy(run, r, *instance, host.get());
  if (!state) return unexpected(state.error());
  ReplicaResult result;
  result.replica = r;
  result.instance = *instance;
  result.state = *state;
  result.endpoints = replica_endpoints(run.workload, *instance);
  if (result.endpoints.empty() || result.endpoints[0].host.empty())
    for (auto& e : result.endpoints)
      if (e.host.empty() && host) e.host = host->address();
  return result;
}

// Runs fn(i) for i in [0, n) on up to kParallelReplicas threads at once.
constexpr std::size_t kParallelReplicas = 16;
void for_each_replica(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (n == 1) {
    fn(0);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < std::min(n, kParallelReplicas); ++t)
    threads.emplace_back([&] {
      for (std::size_t i; (i = next.fetch_add(1)) < n;) fn(i);
    });
  for (auto& t : threads) t.join();
}

void remove_replica(Run& run, const DeployedReplica& old, std::vector<Instance>& removed,
                    std::vector<Instance>& leaked) {
  Deployment one;
  one.name = run.workload.name;
  one.replicas.push_back(old);
  auto t = teardown(one, run.ctx);
  removed.insert(removed.end(), t.terminated.begin(), t.terminated.end());
  leaked.insert(leaked.end(), t.leaked.begin(), t.leaked.end());
  for (const auto& e : t.errors) run.warn(old.replica, e);
}

}  // namespace

namespace deploy_detail {

std::optional<Instance> roll_back(Run& run, int replica, Created& created) {
  const auto& ctx = run.ctx;
  if (ctx.options.keep_on_failure) {
    if (created.instance)
      run.warn(replica, fmt::format("kept instance {} at {} (--keep-on-failure), billing "
                                    "${:.2f}/h until removed: 'berth down {}' removes it",
                                    created.instance->id, created.instance->provider,
                                    created.instance->price_per_hour, run.workload.name));
    return std::nullopt;
  }
  if (created.host && created.instance && (created.container_started || created.private_dir))
    remove_container(runtime_for(*created.instance, ctx), *created.host,
                     instance_name(run.workload.name, replica, run.workload.hash));
  if (!created.instance) return std::nullopt;
  const Instance inst = *created.instance;
  run.phase(replica, "terminating " + inst.id + " at " + inst.provider);
  if (auto t = terminate_confirmed(ctx, inst); !t) {
    run.warn(replica, "instance " + inst.id + " at " + inst.provider + " may still be running: " +
                          t.error());
    return inst;
  }
  run.emit(DeployEvent{DeployEvent::Kind::kTerminated,
                       replica,
                       "terminated " + inst.id + " at " + inst.provider + " (confirmed gone)",
                       {},
                       inst.provider,
                       inst.id});
  created.instance.reset();
  return std::nullopt;
}

}  // namespace deploy_detail

const ContainerRuntime& runtime_for(const Instance& instance, const DeployContext& ctx) {
  Provider* p = ctx.provider ? ctx.provider(instance.provider) : nullptr;
  if (p && p->capabilities().runs == Capabilities::Runs::kThisMachine && ctx.local_runtime)
    return *ctx.local_runtime;
  return ctx.runtime;
}

HostConnector* connector_for(const Instance& instance, DeployContext& ctx) {
  Provider* p = ctx.provider ? ctx.provider(instance.provider) : nullptr;
  if (p && p->capabilities().runs == Capabilities::Runs::kThisMachine) return ctx.local;
  if (p && p->capabilities().in_pod()) return nullptr;
  return ctx.hosts;
}

bool runs_in_pod(const DeployContext& ctx, const Instance& instance) {
  Provider* p = ctx.provider ? ctx.provider(instance.provider) : nullptr;
  return p && p->capabilities().in_pod();
}

std::string to_string(ReplicaState s) {
  switch (s) {
    case ReplicaState::kHealthy: return "healthy";
    case ReplicaState::kRunning: return "running";
    case ReplicaState::kUnchanged: break;
  }
  return "unchanged";
}

std::string replica_container(const std::string& deployment, const Instance& instance) {
  if (auto r = deployed_replica(instance)) return instance_name(deployment, r->replica, r->hash);
  return instance.name;
}

std::map<int, int> published_ports(const LaunchTemplate& workload, const Instance& instance) {
  std::map<int, int> out;
  for (const auto& p : workload.ports) {
    auto it = instance.public_ports.find(p.container);
    out[p.container] = it != instance.public_ports.end() ? it->second : p.host.value_or(p.container);
  }
  return out;
}

std::vector<Endpoint> replica_endpoints(const LaunchTemplate& workload, const Instance& instance) {
  std::vector<Endpoint> out;
  std::string host = instance.host.empty() ? "127.0.0.1" : instance.host;
  const auto published = published_ports(workload, instance);
  for (const auto& p : workload.ports) out.push_back(Endpoint{p.container, host, published.at(p.container)});
  return out;
}

HealthTarget health_target(const LaunchTemplate& workload, const Instance& instance, Host* host,
                           DeployContext& ctx) {
  HealthTarget t;
  t.address = !instance.host.empty() ? instance.host : host ? host->address() : "127.0.0.1";
  t.published = published_ports(workload, instance);
  t.host = host;
  if (host) {
    t.runtime = &runtime_for(instance, ctx);
    t.container = replica_container(workload.name, instance);
  }
  return t;
}

Expected<DeployResult, DeployFailure> deploy(const LaunchTemplate& workload,
                                             const std::optional<Deployment>& existing,
                                             const PlanFunction& plan, DeployContext& ctx) {
  Run run(ctx, workload);
  DeployResult result;
  result.deployment = workload.name;
  result.template_hash = workload.hash;
  if (auto f = secrets_on_command_line(workload)) return unexpected(DeployFailure{*f, {}, {}});

  std::map<int, std::vector<DeployedReplica>> current;
  if (existing)
    for (const auto& r : existing->replicas) current[r.replica].push_back(r);
  std::vector<int> needed;
  for (int r = 0; r < workload.replicas; ++r) {
    auto& have = current[r];
    auto same = std::find_if(have.begin(), have.end(), [&](const DeployedReplica& d) {
      return d.hash == workload.hash && alive(d.instance);
    });
    if (same != have.end())
      result.replicas.push_back(ReplicaResult{r, same->instance, ReplicaState::kUnchanged,
                                              replica_endpoints(workload, same->instance)});
    else
      needed.push_back(r);
  }
  std::vector<DeployedReplica> surplus;  // replicas beyond the template's count
  for (const auto& [r, have] : current)
    if (r >= workload.replicas) surplus.insert(surplus.end(), have.begin(), have.end());
  if (needed.empty() && surplus.empty()) {
    result.unchanged = true;
    return result;
  }

  std::vector<Instance> leaked;
  if (run.cancelled()) return unexpected(DeployFailure{interrupted_failure(), {}, {}});
  if (!needed.empty()) {
    run.phase(-1, "planning");
    auto planned = plan(needed);
    if (!planned) return unexpected(DeployFailure{planned.error(), {}, {}});
    if (planned->placement.empty())
      return unexpected(DeployFailure{
          Failure{ExitCode::kNoPlacement, "no offer satisfies the template",
                  "run 'berth plan' to see which constraint to relax"},
          {}, {}});
    if (ctx.approve)
      if (auto approved = ctx.approve(*planned); !approved)
        return unexpected(DeployFailure{approved.error(), {}, {}});
    run.volume_homes = planned->volume_homes;
    auto placements = planned->placement;
    std::sort(placements.begin(), placements.end(),
              [](const auto& a, const auto& b) { return a.replica < b.replica; });
    // Before any replica rents anything: the image's own process, when a
    // provider that may be tried starts it itself.
    for (const auto& p : placements) {
      std::vector<const Offer*> offers{&p.offer};
      for (const auto& f : p.fallbacks) offers.push_back(&f);
      for (const Offer* o : offers)
        if (Provider* provider = ctx.provider ? ctx.provider(o->provider) : nullptr)
          (void)ensure_image_process(run, *provider);
    }
    // Every replica at once, each with its own failover. All or nothing:
    // the first to fail stops the others (Run::aborted, which also ends
    // their running commands: ScopedCancel), and everything this run made
    // is removed; predecessors of replaced replicas go only once every new
    // replica is healthy, so a failed update leaves the old ones running.
    struct Slot {
      Created created;
      std::optional<Expected<ReplicaResult, Failure>> outcome;
    };
    std::vector<Slot> slots(placements.size());
    std::mutex first_mutex;
    std::optional<std::size_t> first_failed;
    for_each_replica(placements.size(), [&](std::size_t i) {
      ScopedCancel stop_with_the_run(&run.aborted);
      auto done = deploy_replica(run, placements[i], slots[i].created);
      if (!done && !run.cancelled()) {
        std::lock_guard lock(first_mutex);
        if (!first_failed) first_failed = i;
        run.aborted = true;
      }
      slots[i].outcome = std::move(done);
    });
    const bool any_failed = std::any_of(slots.begin(), slots.end(),
                                        [](const Slot& s) { return !*s.outcome; });
    if (any_failed) {
      Failure failure =
          first_failed ? slots[*first_failed].outcome->error() : interrupted_failure();
      if (first_failed && placements.size() > 1) {
        const std::string who = "replica " + std::to_string(placements[*first_failed].replica);
        if (failure.message.find(who) == std::string::npos)
          failure.message = who + ": " + failure.message;
      }
      std::mutex leaked_mutex;
      for_each_replica(slots.size(), [&](std::size_t i) {
        if (auto l = roll_back(run, placements[i].replica, slots[i].created)) {
          std::lock_guard lock(leaked_mutex);
          leaked.push_back(*l);
        }
      });
      if (!leaked.empty() && failure.code == ExitCode::kInterrupted)
        failure.hint = "some instances could not be confirmed gone: run 'berth down " +
                       workload.name + "'";
      if (leaked.empty()) {
        run.volumes_in_use.clear();  // every replica of this run is gone again
        release_made_volumes(run);
        std::set<std::string> tried;
        std::vector<std::string> keep;
        for (const auto& a : run.attempts) tried.insert(a.provider);
        for (const auto& [r, have] : current)
          for (const auto& d : have) keep.push_back(d.hash);
        std::vector<std::string> warnings;
        release_at(ctx, tried, workload.name, keep, &warnings);
        for (auto& w : warnings) run.warn(-1, std::move(w));
      }
      return unexpected(DeployFailure{failure, run.attempts, leaked});
    }
    for (std::size_t i = 0; i < placements.size(); ++i) {
      result.replicas.push_back(**slots[i].outcome);
      for (const auto& v : slots[i].created.volumes) run.volumes_in_use.insert(v.id);
    }
    // Every successor is healthy: now the predecessors go.
    for (const auto& p : placements) {
      auto old = current.find(p.replica);
      if (old == current.end()) continue;
      for (const auto& o : old->second) {
        run.phase(p.replica, "replacing " + o.instance.id + " (template " + o.hash + ")");
        remove_replica(run, o, result.replaced, leaked);
      }
    }
  }
  for (const auto& s : surplus) {
    run.phase(s.replica, "removing surplus replica " + std::to_string(s.replica));
    remove_replica(run, s, result.replaced, leaked);
  }
  std::sort(result.replicas.begin(), result.replicas.end(),
            [](const auto& a, const auto& b) { return a.replica < b.replica; });
  release_made_volumes(run);  // made at a place an attempt then failed at
  result.attempts = run.attempts;
  if (leaked.empty() && !run.attempts.empty()) {
    std::set<std::string> used;
    for (const auto& a : run.attempts) used.insert(a.provider);
    for (const auto& o : result.replaced) used.insert(o.provider);
    std::vector<std::string> warnings;
    release_at(ctx, used, workload.name, {workload.hash}, &warnings);
    for (auto& w : warnings) run.warn(-1, std::move(w));
  }
  if (!leaked.empty())
    return unexpected(DeployFailure{
        Failure{ExitCode::kProviderFailed,
                "the new replicas run, but " + std::to_string(leaked.size()) +
                    " old instance(s) could not be confirmed gone",
                "run 'berth status' and 'berth down' for them"},
        run.attempts, leaked});
  return result;
}

TeardownResult teardown(const Deployment& deployment, DeployContext& ctx) {
  TeardownResult out;
  for (const auto& r : deployment.replicas) {
    const Instance& inst = r.instance;
    if (host_outlives_instance(ctx, inst)) {
      if (HostConnector* c = connector_for(inst, ctx)) {
        auto host = c->connect(inst, deployment.name);
        if (!host) {
          out.errors.push_back("cannot reach " + inst.host + " to remove the container " +
                               inst.name + ": " + host.error().message);
        } else {
          remove_container(runtime_for(inst, ctx), **host, inst.name);
        }
      }
    }
    if (auto t = terminate_confirmed(ctx, inst); !t) {
      out.errors.push_back("instance " + inst.id + " at " + inst.provider + ": " + t.error());
      out.leaked.push_back(inst);
    } else {
      out.terminated.push_back(inst);
    }
  }
  return out;
}

nlohmann::json to_json(const Endpoint& e) {
  return {{"container_port", e.container_port}, {"host", e.host}, {"port", e.port}};
}

nlohmann::json to_json(const Attempt& a) {
  return {{"replica", a.replica},         {"provider", a.provider},
          {"offer_id", a.offer_id},       {"price_per_hour", a.price_per_hour},
          {"result", a.result},           {"message", a.message}};
}

nlohmann::json to_json(const DeployResult& result) {
  nlohmann::json replicas = nlohmann::json::array();
  for (const auto& r : result.replicas) {
    nlohmann::json endpoints = nlohmann::json::array();
    for (const auto& e : r.endpoints) endpoints.push_back(to_json(e));
    replicas.push_back({{"replica", r.replica},
                        {"provider", r.instance.provider},
                        {"instance_id", r.instance.id},
                        {"region", r.instance.region},
                        {"host", r.instance.host},
                        {"ssh_port", r.instance.ssh_port},
                        {"price_per_hour", r.instance.price_per_hour},
                        {"state", to_string(r.state)},
                        {"endpoints", endpoints}});
  }
  nlohmann::json attempts = nlohmann::json::array();
  for (const auto& a : result.attempts) attempts.push_back(to_json(a));
  return {{"deployment", result.deployment}, {"template_hash", result.template_hash},
          {"unchanged", result.unchanged},   {"replicas", replicas},
          {"attempts", attempts}};
}

}  // namespace berth
