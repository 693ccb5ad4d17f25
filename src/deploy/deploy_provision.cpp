// Provisioning with failover, polling that follows progress, and confirmed
// termination.
#include <algorithm>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "berth/common/cancel.h"
#include "deploy/deploy_internal.h"

namespace berth::deploy_detail {

void Run::emit(DeployEvent event) const {
  if (!ctx.events) return;
  std::lock_guard lock(events_mutex);
  ctx.events(event);
}

void Run::record(const Attempt& attempt) {
  std::lock_guard lock(attempts_mutex);
  attempts.push_back(attempt);
}

std::vector<Attempt> Run::attempts_so_far() {
  std::lock_guard lock(attempts_mutex);
  return attempts;
}

WorkloadSpec Run::launch_container() {
  std::lock_guard lock(image_mutex);
  return container;
}

void Run::attempted(const Attempt& attempt, std::string text, std::string instance_id) {
  record(attempt);
  emit(DeployEvent{DeployEvent::Kind::kAttempt, attempt.replica, std::move(text), attempt,
                   attempt.provider, std::move(instance_id)});
}

bool Run::sleep(Duration d) const {
  auto end = Clock::now() + d;
  while (!cancelled()) {
    auto now = Clock::now();
    if (now >= end) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(end - now, std::chrono::milliseconds(20)));
  }
  return false;
}

Failure interrupted_failure() {
  return Failure{ExitCode::kInterrupted, "interrupted", "everything this run created was removed"};
}

bool host_outlives_instance(const DeployContext& ctx, const Instance& instance) {
  Provider* p = ctx.provider ? ctx.provider(instance.provider) : nullptr;
  return p && p->capabilities().host_outlives_instance();
}

namespace {

std::string seconds(Duration d) { return fmt::format("{:.0f}s", d.count() / 1000.0); }

std::string price(double usd) { return fmt::format("${:.2f}/h", usd); }

bool is_gone(const Instance& i) { return i.state == InstanceState::kTerminated; }

// What changes while an instance makes progress. Any change resets the
// stall timer: a slow boot that keeps moving is not a failure.
std::string progress_signature(const Instance& i) {
  return to_string(i.state) + "|" + i.raw_state + "|" + i.progress + "|" + i.host + "|" +
         std::to_string(i.ssh_port);
}

bool ready(const Instance& i, bool container_native) {
  return i.state == InstanceState::kRunning && (container_native || !i.host.empty());
}

struct BootFailure {
  bool interrupted = false;
  std::string message;
  /// A pod whose container exited: the workload failed, not the offer.
  bool container_exited = false;
};

// How long a boot may go without progress: the command's override, the
// template's placement.boot_timeout, else the provider's own default.
Duration boot_limit(const Run& run, const Provider& provider) {
  if (run.ctx.options.stall_timeout) return *run.ctx.options.stall_timeout;
  if (run.workload.placement.boot_timeout) return *run.workload.placement.boot_timeout;
  return provider.capabilities().boot_timeout;
}

Expected<Instance, BootFailure> wait_running(Run& run, int replica, Provider& provider,
                                             Instance instance, Created& created) {
  const auto& opt = run.ctx.options;
  bool native = provider.capabilities().in_pod();
  const Duration limit = boot_limit(run, provider);
  const auto started = Clock::now();
  auto last_change = started;
  auto last_report = started;
  std::string signature = progress_signature(instance);
  Duration delay = opt.poll_initial;
  std::string last_error;
  while (true) {
    if (ready(instance, native)) return instance;
    switch (instance.state) {
      case InstanceState::kFailed:
      case InstanceState::kExited:
      case InstanceState::kTerminated:
      case InstanceState::kPreempted:
        return unexpected(BootFailure{
            false,
            "the provider reports it " + to_string(instance.state) +
                (instance.raw_state.empty() ? std::string() : " (" + instance.raw_state + ")") +
                (instance.progress.empty() ? std::string() : ": " + instance.progress),
            native && instance.state == InstanceState::kExited});
      default: break;
    }
    if (!run.sleep(delay)) return unexpected(BootFailure{true, "interrupted"});
    delay = std::min<Duration>(Duration(delay.count() * 3 / 2), opt.poll_max);
    auto now = Clock::now();
    auto got = provider.get(instance.id);
    if (!got) {
      if (got.error().kind == ProviderError::Kind::kNotFound)
        return unexpected(BootFailure{false, "the instance disappeared at the provider"});
      // The API failing is not the instance failing; it only adds no progress.
      last_error = to_string(got.error().kind) + ": " + got.error().message;
    } else {
      instance = *got;
      created.instance = instance;
      std::string now_sig = progress_signature(instance);
      if (now_sig != signature) {
        signature = now_sig;
        last_change = now;
        last_report = now;
        run.phase(replica, "instance " + instance.id + " " + to_string(instance.state) +
                               (instance.progress.empty() ? "" : " (" + instance.progress + ")"));
      }
    }
    if (now - last_report >= opt.boot_progress_every) {
      last_report = now;
      run.phase(replica, fmt::format("instance {} still {} after {} (gives up after {} without "
                                     "progress)",
                                     instance.id, to_string(instance.state),
                                     seconds(std::chrono::duration_cast<Duration>(now - started)),
                                     seconds(limit)));
    }
    if (now - last_change > limit) {
      std::string msg = "no progress for " + seconds(limit) + " (still " +
                        to_string(instance.state);
      if (!instance.raw_state.empty()) msg += ", " + instance.raw_state;
      msg += ")";
      if (!last_error.empty()) msg += "; last API error: " + last_error;
      return unexpected(BootFailure{false, msg});
    }
  }
}

// A launch whose effect is unknown (timeout, 5xx, unreadable answer) may
// have created an instance: find it by name and remove it before moving on.
void sweep_orphans(Run& run, int replica, Provider& provider, const std::string& name) {
  auto listed = provider.list();
  if (!listed) {
    run.warn(replica, "could not list instances at " + provider.name() +
                          " to check for one left by the failed launch: " +
                          listed.error().message + "; run 'berth down' to be sure");
    return;
  }
  for (const auto& inst : *listed) {
    if (inst.name != name || is_gone(inst)) continue;
    run.emit(DeployEvent{DeployEvent::Kind::kNote,
                         replica,
                         "removing " + inst.id + " at " + provider.name() +
                             ", created by the launch that reported an error",
                         {},
                         provider.name(),
                         inst.id});
    if (auto t = terminate_confirmed(run.ctx, inst); !t)
      run.warn(replica, "instance " + inst.id + " at " + provider.name() +
                            " may still exist: " + t.error());
  }
}

// A refused launch that still made an instance (the provider says which):
// it bills, so it goes now, confirmed.
void remove_made_anyway(Run& run, int replica, Provider& provider, const std::string& id,
                        const std::string& name) {
  Instance made;
  made.provider = provider.name();
  made.id = id;
  made.name = name;
  run.emit(DeployEvent{DeployEvent::Kind::kNote, replica,
                       "removing " + id + " at " + provider.name() +
                           ", which the refused launch created anyway",
                       {}, provider.name(), id});
  if (auto t = terminate_confirmed(run.ctx, made); !t)
    run.warn(replica, "instance " + id + " at " + provider.name() + " may still exist: " +
                          t.error() + "; run 'berth down " + run.workload.name + "'");
}

}  // namespace

std::optional<Failure> ensure_image_process(Run& run, const Provider& provider) {
  std::lock_guard lock(run.image_mutex);  // the other replicas wait for this one's read
  WorkloadSpec& c = run.container;
  if (!provider.capabilities().starts_process || c.image_process || (c.entrypoint && c.command))
    return std::nullopt;
  if (run.image_error) return run.image_error;
  if (!run.ctx.read_image) {
    run.image_error = Failure{ExitCode::kProviderFailed,
                              "cannot read the entrypoint and command of " + c.image, ""};
    return run.image_error;
  }
  run.phase(-1, "reading the entrypoint and command of " + c.image + " from its registry");
  auto read = run.ctx.read_image(c);
  if (!read) {
    run.image_error = read.error();
    if (read.error().code != ExitCode::kInterrupted)
      run.warn(-1, read.error().message + "; offers at providers that start the image's process "
                                          "themselves are skipped");
    return run.image_error;
  }
  c.image_process = std::move(*read);
  return std::nullopt;
}

Expected<void, std::string> terminate_confirmed(const DeployContext& ctx, const Instance& instance) {
  Provider* provider = ctx.provider ? ctx.provider(instance.provider) : nullptr;
  if (!provider) return unexpected("provider '" + instance.provider + "' is not configured");
  auto deadline = Clock::now() + ctx.options.confirm_timeout;
  if (ctx.options.confirm_deadline) deadline = std::min(deadline, *ctx.options.confirm_deadline);
  Duration delay = ctx.options.poll_initial;
  auto pause = [&] {
    // Cleanup runs to the end even after ^C: no cancel check here.
    std::this_thread::sleep_for(std::min<Clock::duration>(
        delay, std::max<Clock::duration>(deadline - Clock::now(), Clock::duration::zero())));
    delay = std::min<Duration>(Duration(delay.count() * 2), ctx.options.poll_max);
  };
  std::string last;
  // Terminate until the provider accepts it (idempotent: gone is success).
  while (true) {
    auto t = provider->terminate(instance.id);
    if (t || t.error().kind == ProviderError::Kind::kNotFound) break;
    last = to_string(t.error().kind) + ": " + t.error().message;
    if (t.error().kind == ProviderError::Kind::kAuth ||
        t.error().kind == ProviderError::Kind::kInvalidRequest || Clock::now() > deadline)
      return unexpected("terminate failed: " + last);
    pause();
  }
  // Then see it gone, by a read after the terminate call, twice: get and list.
  bool get_confirms = false;
  while (true) {
    if (!get_confirms) {
      auto g = provider->get(instance.id);
      if (!g && g.error().kind == ProviderError::Kind::kNotFound) get_confirms = true;
      else if (g && is_gone(*g)) get_confirms = true;
      else if (!g) last = to_string(g.error().kind) + ": " + g.error().message;
      else last = "still " + to_string(g->state);
    }
    if (get_confirms) {
      auto l = provider->list();
      if (l) {
        bool present = std::any_of(l->begin(), l->end(), [&](const Instance& i) {
          return i.id == instance.id && !is_gone(i);
        });
        if (!present) return {};
        last = "still listed";
      } else {
        last = to_string(l.error().kind) + ": " + l.error().message;
      }
    }
    if (Clock::now() >= deadline)
      return unexpected("not confirmed gone" +
                        (ctx.options.confirm_deadline
                             ? std::string(" by the deadline")
                             : " after " + seconds(ctx.options.confirm_timeout)) +
                        " (" + last + ")");
    pause();
  }
}

namespace {

// Launches at the provider's pace. A 429 is the provider's "not now", not a
// verdict on the offer: wait (its Retry-After, else its documented penalty)
// and try the same offer again, a few times, saying so each time.
// nullopt: interrupted while waiting.
std::optional<Expected<Instance, ProviderError>> launch_paced(Run& run, int replica,
                                                              Provider& provider,
                                                              const LaunchRequest& request) {
  const LaunchPacing pacing = provider.capabilities().pacing;
  constexpr int kMaxRateLimitWaits = 6;
  for (int waits = 0;; ++waits) {
    Duration wait = run.ctx.pacer->reserve(provider.name(), pacing);
    if (wait.count() > 0) {
      // A note, not progress: a wait the user should see even without a terminal.
      run.note(replica, fmt::format("waiting {} before launching at {} (its launch rate limit)",
                                    seconds(wait), provider.name()));
      if (!run.sleep(wait)) return std::nullopt;
    }
    auto launched = provider.launch(request);
    if (launched || launched.error().kind != ProviderError::Kind::kRateLimited ||
        waits >= kMaxRateLimitWaits)
      return launched;
    Duration after = launched.error().retry_after.value_or(
        pacing.penalty.count() > 0 ? pacing.penalty : Duration{10'000});
    after = std::min<Duration>(after, Duration{120'000});
    run.ctx.pacer->refused(provider.name(), after);
    run.note(replica, fmt::format("{} refused the launch as too frequent (429): waiting {}, then "
                                  "trying {} again",
                                  provider.name(), seconds(after), request.offer.id));
  }
}

// The template's provider volumes where `offer` is: found (where the plan
// or an earlier attempt of this run saw them), else made there now. Nothing
// for a provider whose API keeps no volumes: on a host berth manages, a
// provider volume is the host's named runtime volume.
Expected<std::vector<AttachedVolume>, ProviderError> attach_volumes(Run& run, int replica,
                                                                    Provider& provider,
                                                                    const Offer& offer) {
  std::vector<AttachedVolume> out;
  if (!provider.capabilities().volumes) return out;
  // Two replicas landing where no volume is yet make one, not two.
  std::lock_guard lock(run.volumes_mutex);
  for (const auto& v : run.workload.volumes) {
    if (!v.provider_volume()) continue;
    const VolumeHome* home = volume_home_at(run.volume_homes, v.name, offer);
    if (!home) {
      const std::string name = provider_volume_name(run.workload.name, v.name);
      const double gb = static_cast<double>(*v.size_bytes) / 1e9;
      run.phase(replica, fmt::format("making volume {} ({:g} GB) at {} in {}", name, gb,
                                     offer.provider, offer.region));
      auto made = provider.create_volume(name, gb, offer);
      if (!made) return unexpected(made.error());
      run.made_volumes.push_back(*made);
      run.volume_homes.push_back(
          {v.name, offer.provider, offer.region, made->id, made->size_gb, made->host_path});
      home = &run.volume_homes.back();  // the vector only grows under the lock held here
    } else {
      run.phase(replica, fmt::format("using volume {} ({}) at {} in {}",
                                     provider_volume_name(run.workload.name, v.name), home->id,
                                     offer.provider, offer.region));
    }
    out.push_back({v.name, home->id, v.path, home->host_path});
  }
  return out;
}

}  // namespace

void release_made_volumes(Run& run) {
  for (const auto& v : run.made_volumes) {
    if (run.volumes_in_use.count(v.id)) continue;
    Provider* provider = run.ctx.provider ? run.ctx.provider(v.provider) : nullptr;
    if (!provider) continue;
    if (auto gone = provider->delete_volume(v.id); !gone)
      run.warn(-1, fmt::format("the volume {} ({}) made at {} in {} is not used and could not "
                               "be deleted: {}; delete it with 'berth volumes rm {}/{}'",
                               v.name, v.id, v.provider, v.region, gone.error().message,
                               v.provider, v.id));
    else
      run.note(-1, fmt::format("deleted the unused volume {} ({}) made at {} in {}", v.name,
                               v.id, v.provider, v.region));
  }
  run.made_volumes.clear();
}

Expected<Instance, Failure> provision_replica(Run& run, const ReplicaPlacement& placement,
                                              Created& created, const ReachInstance& reach) {
  const int replica = placement.replica;
  const std::string name = instance_name(run.workload.name, replica, run.workload.hash);
  std::vector<Offer> candidates{placement.offer};
  candidates.insert(candidates.end(), placement.fallbacks.begin(), placement.fallbacks.end());

  std::set<std::string> given_up;  // providers whose account cannot launch now
  int tried = 0, auth_failures = 0, image_skips = 0, unreachable = 0;
  for (const auto& offer : candidates) {
    if (run.cancelled()) return unexpected(interrupted_failure());
    if (given_up.count(offer.provider)) continue;
    const auto& cap = run.workload.placement.max_price;
    if (cap && offer.price_per_hour > *cap + 1e-9) continue;  // never, whatever the plan says
    Attempt attempt{replica, offer.provider, offer.id, offer.price_per_hour, "", ""};
    Provider* provider = run.ctx.provider(offer.provider);
    if (!provider) continue;
    if (auto f = ensure_image_process(run, *provider)) {
      if (f->code == ExitCode::kInterrupted) return unexpected(interrupted_failure());
      given_up.insert(offer.provider);  // nothing there can start this image
      ++image_skips;
      continue;
    }
    ++tried;
    run.phase(replica, fmt::format("launching {} {} in {} at {}", offer.provider, offer.id,
                                   offer.region, price(offer.price_per_hour)));
    const WorkloadSpec container = run.launch_container();  // the request points at it
    LaunchRequest request =
        launch_request(run.workload, replica, offer, run.ctx.ssh_public_key, container);
    auto volumes = attach_volumes(run, replica, *provider, offer);
    if (!volumes) {
      const auto& err = volumes.error();
      attempt.result = to_string(err.kind);
      attempt.message = "volume: " + err.message;
      run.attempted(attempt, fmt::format("{} {} {}: {}: the volume could not be made: {}",
                                         offer.provider, offer.id, price(offer.price_per_hour),
                                         attempt.result, err.message));
      if (err.kind == ProviderError::Kind::kAuth || err.kind == ProviderError::Kind::kQuota)
        given_up.insert(offer.provider);
      continue;
    }
    request.volumes = *volumes;
    created.volumes = *volumes;
    auto paced = launch_paced(run, replica, *provider, request);
    if (!paced) return unexpected(interrupted_failure());
    auto& launched = *paced;
    if (!launched) {
      const auto& err = launched.error();
      attempt.result = to_string(err.kind);
      attempt.message = err.message;
      run.attempted(attempt, fmt::format("{} {} {}: {}: {}", offer.provider, offer.id,
                                         price(offer.price_per_hour), attempt.result, err.message));
      using K = ProviderError::Kind;
      if (!err.created_instance.empty())
        remove_made_anyway(run, replica, *provider, err.created_instance, name);
      else if (err.kind == K::kTransient || err.kind == K::kBadResponse)
        sweep_orphans(run, replica, *provider, name);
      if (err.kind == K::kAuth) ++auth_failures;
      if (err.kind == K::kAuth || err.kind == K::kQuota || err.kind == K::kRateLimited)
        given_up.insert(offer.provider);
      continue;
    }
    created.instance = *launched;
    run.phase(replica, "instance " + launched->id + " at " + offer.provider + " " +
                           to_string(launched->state));
    auto running = wait_running(run, replica, *provider, *launched, created);
    std::optional<ReachFailure> unreached;
    if (running && reach) {
      created.instance = *running;
      if (auto reached = reach(*running); !reached) unreached = reached.error();
    }
    if (running && !unreached) {
      attempt.result = "launched";
      attempt.message = "instance " + running->id;
      run.attempted(attempt,
                    fmt::format("{} {} {}: running as {}", offer.provider, offer.id,
                                price(offer.price_per_hour), running->id),
                    running->id);
      return *running;
    }
    if (unreached) {
      const Failure& f = unreached->failure;
      if (f.code == ExitCode::kInterrupted) {
        attempt.result = "interrupted";
        run.record(attempt);
        return unexpected(f);
      }
      attempt.result = unreached->next_offer ? "unreachable" : "failed";
      attempt.message = f.message;
      run.attempted(attempt,
                    fmt::format("{} {} {}: instance {} {}: {}", offer.provider, offer.id,
                                price(offer.price_per_hour), running->id,
                                unreached->next_offer ? "could not be reached" : "failed",
                                f.message),
                    running->id);
      if (!unreached->next_offer) return unexpected(f);  // rollback removes the instance
      // Its SSH never answered: that instance, not the workload, is at fault.
      if (auto t = terminate_confirmed(run.ctx, *created.instance); !t)
        return unexpected(Failure{ExitCode::kProviderFailed,
                                  "instance " + created.instance->id + " at " + offer.provider +
                                      " could not be reached and could not be removed: " +
                                      t.error(),
                                  "check it with 'berth status' and remove it with 'berth down " +
                                      run.workload.name + "'"});
      run.emit(DeployEvent{DeployEvent::Kind::kTerminated, replica,
                           "terminated " + created.instance->id + " at " + offer.provider +
                               " (confirmed gone); trying the next offer",
                           {}, offer.provider, created.instance->id});
      created.instance.reset();
      created.host.reset();
      ++unreachable;
      continue;
    }
    if (running.error().interrupted) {
      attempt.result = "interrupted";
      run.record(attempt);
      return unexpected(interrupted_failure());
    }
    attempt.result = "failed";
    attempt.message = running.error().message;
    run.attempted(attempt,
                  fmt::format("{} {} {}: instance {} failed: {}", offer.provider, offer.id,
                              price(offer.price_per_hour), launched->id, running.error().message),
                  launched->id);
    // The pod is the container and it exited: the workload fails on any
    // offer. Its log is shown, and the pod left to the rollback (or kept).
    if (running.error().container_exited) {
      show_failed_log(run, replica, *created.instance, nullptr);
      return unexpected(Failure{ExitCode::kWorkloadFailed,
                                "the container exited: " + running.error().message,
                                failed_replica_hint(run)});
    }
    // A failed boot is a capacity problem of that offer: remove it, move on.
    if (auto t = terminate_confirmed(run.ctx, *created.instance); !t)
      return unexpected(Failure{ExitCode::kProviderFailed,
                                "instance " + created.instance->id + " at " + offer.provider +
                                    " failed to boot and could not be removed: " + t.error(),
                                "check it with 'berth status' and remove it with 'berth down " +
                                    run.workload.name + "'"});
    created.instance.reset();
  }
  // Nothing could start because the image could not be read: that is the
  // error (it names the registry and its answer).
  if (tried == 0 && image_skips > 0) {
    std::lock_guard lock(run.image_mutex);
    if (run.image_error) return unexpected(*run.image_error);
  }
  if (tried == 0)
    return unexpected(Failure{ExitCode::kNoPlacement,
                              "no offer for replica " + std::to_string(replica) +
                                  " could be tried", "run 'berth plan' to see why"});
  ExitCode code = auth_failures == tried ? ExitCode::kAuth : ExitCode::kProviderFailed;
  std::string hint = "the attempts above say why; 'berth offers' shows what is available now";
  if (unreachable > 0)
    hint += "; an instance whose SSH does not answer within placement.ssh_timeout is given up";
  return unexpected(Failure{code,
                            fmt::format("every offer for replica {} failed ({} attempt{})",
                                        replica, tried, tried == 1 ? "" : "s"),
                            hint});
}

}  // namespace berth::deploy_detail
