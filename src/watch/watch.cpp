#include "berth/watch/watch.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>

namespace berth {

namespace {

using Phase = ReplicaWatch::Phase;

// Short and exact for event details: "850ms", "12.5s", "3m20s".
std::string span(Duration d) {
  auto ms = d.count();
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  auto s = ms / 1000;
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

Duration since(WatchClock::TimePoint from, WatchClock::TimePoint to) {
  return std::chrono::duration_cast<Duration>(to - from);
}

// d * 2^exponent, saturating at `cap`.
Duration doubled(Duration d, std::size_t exponent, Duration cap) {
  if (d <= Duration::zero()) return std::min(Duration::zero(), cap);
  for (std::size_t i = 0; i < exponent && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

std::string where(const Instance& i) {
  std::string host = i.host.empty() ? std::string("(no host yet)") : i.host;
  std::string region = i.region.empty() ? "" : ", " + i.region;
  return fmt::format("{}{} at {:.2f} USD/h", host, region, i.price_per_hour);
}

bool restartable(Phase p) {
  return p == Phase::kStarting || p == Phase::kHealthy || p == Phase::kTerminating ||
         p == Phase::kWaiting || p == Phase::kRedeploying;
}

// How often the loop looks at a redeploy in flight: its attempt events reach
// the reader this late at most, and its replica is watched this soon after.
constexpr Duration kCollectEvery{100};
// Of that, how long the loop waits for the redeploy itself (real time, woken
// early by its news), so that a fast one is collected at once whatever the
// clock, and a fake clock does not race ahead of a real thread.
constexpr std::chrono::milliseconds kRedeployWait{20};

// The provider's own word for the instance's state ("EXITED", "terminated"),
// or berth's when it gave none.
std::string provider_word(const Instance& i) {
  return i.raw_state.empty() ? to_string(i.state) : i.raw_state;
}

// `work` on a thread of its own; in line when no thread is to be had.
std::thread start_or_run(const std::function<void()>& work) {
  try {
    return std::thread(work);
  } catch (const std::system_error&) {
    work();
    return {};
  }
}

// "the container exited with code 3 (...); last log lines:\n..."
std::string exit_detail(const ContainerStatus& s, const std::string& provider_word) {
  std::string detail;
  if (s.exit_code)
    detail = fmt::format("the container exited with code {}", *s.exit_code);
  else if (!provider_word.empty())
    detail = "the container exited";
  else
    detail = "the container is not running";
  if (!provider_word.empty()) detail += " (the provider reports it " + provider_word + ")";
  if (s.restarted) detail += " (the runtime restarted it)";
  if (!s.log_tail.empty()) detail += "; last log lines:\n" + s.log_tail;
  return detail;
}

}  // namespace

// One redeploy in flight. The worker thread writes `attempts` and `result`
// (under `mutex`) and reads nothing the loop changes; the loop owns the rest.
struct Watcher::Redeploy {
  int replica = 0;
  RedeployRequest request;
  bool on_excluded = false;  // the retry that lets excluded hosts back in
  std::thread thread;
  std::mutex mutex;
  std::condition_variable news;         // an attempt or the result arrived
  std::vector<Attempt> attempts;  // reported, not yet emitted
  std::optional<Expected<LiveReplica, Failure>> result;

  // Waits at most `limit` for news; true when there is some.
  bool wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex);
    return news.wait_for(lock, limit, [this] { return result.has_value() || !attempts.empty(); });
  }
};

// One replica's host probe in flight. The thread writes `report` and `done`
// (under `mutex`) and reads only its own copy of the instance.
struct Watcher::Probe {
  std::string instance_id;
  HostCheck what = HostCheck::kNone;
  WatchClock::TimePoint started{};
  std::thread thread;
  std::mutex mutex;
  std::condition_variable answered;
  bool done = false;
  HostReport report;
};

std::set<std::string> exclusion_keys(const Instance& instance) {
  std::set<std::string> keys;
  if (!instance.offer_id.empty()) keys.insert(instance.provider + "/" + instance.offer_id);
  if (!instance.host.empty())
    keys.insert(instance.provider + "/" + instance.region + "/" + instance.host);
  return keys;
}

Watcher::Watcher(const LaunchTemplate& workload, WatchOptions options, WatchServices services)
    : workload_(workload), options_(options), services_(std::move(services)) {
  if (options_.interval <= Duration::zero()) options_.interval = Duration{1};
}

Watcher::~Watcher() {
  // run() settles before it returns; this is for a loop driven by hand.
  if (in_flight_ && in_flight_->thread.joinable()) in_flight_->thread.join();
  join_probes();
}

void Watcher::emit(EventType type, const ReplicaWatch* r, std::string reason,
                   std::string detail, const Instance* instance, const std::string& provider) {
  if (!services_.events) return;
  Event e;
  e.time = services_.clock->wall();
  e.type = type;
  if (r) e.replica = r->replica;
  if (!instance && r && r->instance) instance = &*r->instance;
  if (instance) {
    e.provider = instance->provider;
    e.instance_id = instance->id;
  }
  if (!provider.empty()) e.provider = provider;
  e.reason = std::move(reason);
  e.detail = std::move(detail);
  services_.events(e);
}

void Watcher::emit_attempt(const Attempt& a) {
  ReplicaWatch tag;
  tag.replica = a.replica;
  emit(EventType::kAttempt, &tag, a.result,
       fmt::format("offer {} at {:.2f} USD/h{}", a.offer_id, a.price_per_hour,
                   a.message.empty() ? "" : ": " + a.message),
       nullptr, a.provider);
}

bool Watcher::start() {
  auto attempts = [this](const Attempt& a) { emit_attempt(a); };
  auto deployed = services_.deployer->ensure(attempts);
  if (!deployed) {
    failure_ = deployed.error();
    return false;
  }
  auto now = services_.clock->now();
  replicas_.clear();
  for (auto& d : *deployed) {
    ReplicaWatch r;
    r.replica = d.replica;
    r.instance = d.instance;
    r.started = now;
    replicas_.push_back(std::move(r));
  }
  std::sort(replicas_.begin(), replicas_.end(),
            [](const ReplicaWatch& a, const ReplicaWatch& b) { return a.replica < b.replica; });
  for (std::size_t i = 0; i < replicas_.size(); ++i) {
    auto& r = replicas_[i];
    bool adopted = false;
    bool healthy = false;
    for (const auto& d : *deployed)
      if (d.replica == r.replica) {
        adopted = d.adopted;
        healthy = d.healthy;
      }
    emit(EventType::kDeployed, &r, adopted ? "adopted" : "new",
         (adopted ? "already running on " : "running on ") + where(*r.instance));
    if (healthy) mark_healthy(r, now);
  }
  last_poll_ = now;
  return true;
}

void Watcher::provider_failed(const std::string& provider, const ProviderError& error,
                              WatchClock::TimePoint now) {
  auto& pw = providers_[provider];
  ++pw.failures;
  Duration wait = doubled(options_.interval, static_cast<std::size_t>(pw.failures - 1),
                          std::max(options_.interval, options_.provider_backoff_max));
  if (error.retry_after) wait = std::max(wait, Duration{*error.retry_after});
  pw.next_poll = now + wait;
  if (!pw.available) return;  // said once; not on every poll
  pw.available = false;
  pw.down_since = now;
  emit(EventType::kProviderUnavailable, nullptr, to_string(error.kind),
       fmt::format("{}; not a workload failure: the deployment is left as it is and this "
                   "provider is polled less often (up to every {}) until it answers",
                   error.message, span(std::max(options_.interval, options_.provider_backoff_max))),
       nullptr, provider);
}

void Watcher::provider_answered(const std::string& provider, WatchClock::TimePoint now) {
  auto& pw = providers_[provider];
  if (!pw.available)
    emit(EventType::kProviderAvailable, nullptr, "",
         fmt::format("answering again after {}", span(since(pw.down_since, now))), nullptr,
         provider);
  pw = ProviderWatch{};
}

std::map<std::string, Watcher::Listing> Watcher::poll_providers(WatchClock::TimePoint now) {
  std::set<std::string> wanted;
  for (const auto& r : replicas_)
    if (r.instance && (r.phase == Phase::kStarting || r.phase == Phase::kHealthy ||
                       r.phase == Phase::kFailedIdle))
      wanted.insert(r.instance->provider);
  std::map<std::string, Listing> listings;
  for (const auto& provider : wanted) {
    auto& listing = listings[provider];
    if (now < providers_[provider].next_poll) continue;  // backing off an outage
    auto listed = services_.instances->list(provider);
    if (!listed) {
      provider_failed(provider, listed.error(), now);
      continue;
    }
    provider_answered(provider, now);
    listing.fresh = true;
    listing.instances = std::move(*listed);
  }
  return listings;
}

Watcher::HostCheck Watcher::check_listing(ReplicaWatch& r, const Listing& listing,
                                          WatchClock::TimePoint now) {
  // Nothing is decided on stale provider data: an API outage is not a
  // workload failure, so the replica waits for the provider to answer.
  if (!listing.fresh) return HostCheck::kNone;
  const Instance* seen = nullptr;
  for (const auto& i : listing.instances)
    if (i.id == r.instance->id) seen = &i;
  if (!seen) {
    fail(r, FailureClass::kInstanceLost, "the provider no longer lists the instance", now);
    return HostCheck::kNone;
  }
  // Keep what the listing may leave out (some list calls omit addresses).
  Instance updated = *seen;
  if (updated.host.empty()) {
    updated.host = r.instance->host;
    updated.ssh_port = r.instance->ssh_port;
    updated.ssh_user = r.instance->ssh_user;
  }
  if (updated.offer_id.empty()) updated.offer_id = r.instance->offer_id;
  if (updated.public_ports.empty()) updated.public_ports = r.instance->public_ports;
  r.instance = std::move(updated);
  const std::string raw = provider_word(*r.instance);
  switch (r.instance->state) {
    case InstanceState::kPreempted:
      fail(r, FailureClass::kPreempted, "the provider reports a spot interruption (" + raw + ")",
           now);
      return HostCheck::kNone;
    case InstanceState::kTerminated:
    case InstanceState::kStopping:
    case InstanceState::kFailed:
    case InstanceState::kUnhealthy:
      fail(r, FailureClass::kInstanceLost, "the provider reports the instance " + raw, now);
      return HostCheck::kNone;
    case InstanceState::kExited:
      // Container-native: the instance is its container, and the provider
      // says it exited. Its runtime, where reachable, adds the exit code and
      // the last log lines (judge_host); the provider's word decides.
      return HostCheck::kExitDetails;
    case InstanceState::kProvisioning:
    case InstanceState::kBooting:
      return HostCheck::kNone;  // restarting at the provider: not failed, SSH cannot answer yet
    case InstanceState::kRunning:
    case InstanceState::kUnknown:
      return HostCheck::kFull;
  }
  return HostCheck::kNone;
}

Watcher::HostReport Watcher::probe_host(const Instance& instance, HostCheck what) {
  HostReport report;
  report.container = services_.hosts->container(instance);
  const auto& c = report.container;
  if (what == HostCheck::kFull && c && c->running && !c->restarted &&
      workload_.health.kind != HealthCheck::Kind::kNone)
    report.health = services_.hosts->health(instance);
  return report;
}

void Watcher::start_probe(ReplicaWatch& r, HostCheck what, WatchClock::TimePoint now) {
  auto job = std::make_shared<Probe>();
  job->instance_id = r.instance->id;
  job->what = what;
  job->started = now;
  Probe* p = job.get();
  auto work = [this, p, instance = *r.instance] {
    HostReport report;
    try {
      report = probe_host(instance, p->what);
    } catch (const std::exception& e) {
      report.container = unexpected(std::string("probing the host failed: ") + e.what());
    }
    {
      std::lock_guard lock(p->mutex);
      p->report = std::move(report);
      p->done = true;
    }
    p->answered.notify_all();
  };
  job->thread = start_or_run(work);
  probes_[r.replica] = std::move(job);
}

void Watcher::judge_probes(std::chrono::steady_clock::time_point until) {
  for (auto it = probes_.begin(); it != probes_.end();) {
    Probe& p = *it->second;
    {
      std::unique_lock lock(p.mutex);
      if (!p.answered.wait_until(lock, until, [&p] { return p.done; })) {
        ++it;  // still out: judged at a later poll
        continue;
      }
    }
    if (p.thread.joinable()) p.thread.join();
    const int replica = it->first;
    auto job = std::move(it->second);
    it = probes_.erase(it);
    // Only while the replica still watches the instance probed: a failure
    // the provider reported meanwhile, or a redeploy, has moved on from it.
    ReplicaWatch* r = find_replica(replica);
    if (!r || !r->instance || r->instance->id != job->instance_id) continue;
    if (r->phase != Phase::kStarting && r->phase != Phase::kHealthy &&
        r->phase != Phase::kFailedIdle)
      continue;
    judge_host(*r, job->what, std::move(job->report), job->started);
  }
}

void Watcher::join_probes() {
  for (auto& [replica, p] : probes_)
    if (p->thread.joinable()) p->thread.join();
  probes_.clear();
}

void Watcher::judge_host(ReplicaWatch& r, HostCheck what, HostReport report,
                         WatchClock::TimePoint now) {
  auto& status = report.container;
  if (what == HostCheck::kExitDetails) {
    ContainerStatus exited;
    if (status && !status->running) exited = *status;
    exited.restarted = false;
    fail(r, FailureClass::kContainerExit, exit_detail(exited, provider_word(*r.instance)), now);
    return;
  }
  if (!status) {
    if (!r.unreachable_since) r.unreachable_since = now;
    Duration down = since(*r.unreachable_since, now);
    if (down >= options_.unreachable_grace)
      fail(r, FailureClass::kUnreachable,
           fmt::format("SSH has failed for {} while the provider says running: {}", span(down),
                       status.error()),
           now);
    return;
  }
  r.unreachable_since.reset();
  if (!status->running || status->restarted) {
    fail(r, FailureClass::kContainerExit, exit_detail(*status, ""), now);
    return;
  }
  if (!report.health) {  // no health check in the template
    mark_healthy(r, now);
    return;
  }
  if (report.health->ok) {
    mark_healthy(r, now);
    return;
  }
  // Failures before the first success count only after health.grace.
  if (tracker(r).record(false, now, report.health->detail) == HealthState::kUnhealthy)
    fail(r, FailureClass::kUnhealthy,
         fmt::format("the health check failed {} times in a row: {}",
                     r.health->consecutive_failures(), report.health->detail),
         now);
}

HealthTracker& Watcher::tracker(ReplicaWatch& r) {
  if (!r.health) r.health.emplace(workload_.health, r.started);
  return *r.health;
}

void Watcher::mark_healthy(ReplicaWatch& r, WatchClock::TimePoint now) {
  tracker(r).record(true, now);
  if (r.phase == Phase::kHealthy) return;
  r.phase = Phase::kHealthy;
  std::string detail = workload_.health.kind == HealthCheck::Kind::kNone
                           ? "the container runs (the template has no health check)"
                           : "the health check passed";
  if (r.failed_at) detail += fmt::format("; {} after the failure", span(since(*r.failed_at, now)));
  r.failed_at.reset();
  emit(EventType::kHealthy, &r, "", detail);
}

void Watcher::fail(ReplicaWatch& r, FailureClass c, std::string detail, WatchClock::TimePoint now) {
  if (r.phase == Phase::kFailedIdle && r.last_failure == c) return;  // reported already
  r.last_failure = c;
  r.last_failure_detail = detail;
  r.unreachable_since.reset();
  if (!workload_.restart.on.count(c)) {
    r.phase = Phase::kFailedIdle;
    emit(EventType::kFailure, &r, to_string(c),
         detail + "\n(restart.on does not include " + to_string(c) + ": left as it is)");
    return;
  }
  if (!r.failed_at) r.failed_at = now;
  emit(EventType::kFailure, &r, to_string(c), detail);
  auto expiry = now + options_.exclusion_cooldown;
  for (const auto& key : exclusion_keys(*r.instance)) excluded_[key] = expiry;
  r.phase = Phase::kTerminating;
  try_terminate(r, now);
}

void Watcher::try_terminate(ReplicaWatch& r, WatchClock::TimePoint now) {
  const std::string provider = r.instance->provider;
  auto done = services_.instances->terminate(*r.instance);
  if (!done) {
    // The instance may still bill: keep it and try again on a later poll.
    provider_failed(provider, done.error(), now);
    return;
  }
  provider_answered(provider, now);
  emit(EventType::kTerminated, &r, r.last_failure ? to_string(*r.last_failure) : "",
       "confirmed gone at the provider");
  r.instance.reset();
  schedule_redeploy(r, now);
}

Duration Watcher::backoff_for(std::size_t restarts) const {
  Duration low = workload_.restart.backoff.min.value_or(Duration{10'000});
  Duration high = workload_.restart.backoff.max.value_or(std::max(low, Duration{600'000}));
  return doubled(low, restarts == 0 ? 0 : restarts - 1, std::max(low, high));
}

void Watcher::schedule_redeploy(ReplicaWatch& r, WatchClock::TimePoint now) {
  while (!r.restarts.empty() && since(r.restarts.front(), now) >= workload_.restart.window)
    r.restarts.pop_front();
  if (static_cast<int>(r.restarts.size()) >= workload_.restart.max_restarts) {
    give_up(r);
    return;
  }
  r.phase = Phase::kWaiting;
  // The first redeploy in a window goes at once; backoff spaces the next ones.
  r.next_attempt =
      r.restarts.empty() ? now : std::max(now, r.restarts.back() + backoff_for(r.restarts.size()));
}

std::vector<Instance> Watcher::others(const ReplicaWatch& r) const {
  std::vector<Instance> out;
  for (const auto& o : replicas_)
    if (o.replica != r.replica && o.instance) out.push_back(*o.instance);
  return out;
}

void Watcher::redeploy(ReplicaWatch& r, WatchClock::TimePoint now) {
  r.restarts.push_back(now);
  ++r.total_restarts;
  RedeployRequest request;
  request.replica = r.replica;
  for (const auto& [key, expiry] : excluded_) request.excluded.insert(key);
  request.others = others(r);
  launch(r, std::move(request), false);
}

void Watcher::launch(ReplicaWatch& r, RedeployRequest request, bool on_excluded) {
  auto job = std::make_shared<Redeploy>();
  job->replica = r.replica;
  job->request = std::move(request);
  job->on_excluded = on_excluded;
  r.phase = Phase::kRedeploying;
  // The worker sees only its job and the deployer; the loop keeps `job`
  // alive until it has joined the thread.
  Redeploy* j = job.get();
  ReplicaDeployer* deployer = services_.deployer;
  auto work = [j, deployer] {
    auto report = [j](const Attempt& a) {
      {
        std::lock_guard lock(j->mutex);
        j->attempts.push_back(a);
      }
      j->news.notify_all();
    };
    std::optional<Expected<LiveReplica, Failure>> result;
    try {
      result.emplace(deployer->redeploy(j->request, report));
    } catch (const std::exception& e) {
      result.emplace(
          unexpected(Failure{ExitCode::kInternal, std::string("the redeploy failed: ") + e.what(),
                             "this is a bug in berth; please report it"}));
    }
    {
      std::lock_guard lock(j->mutex);
      j->result = std::move(result);
    }
    j->news.notify_all();
  };
  job->thread = start_or_run(work);  // in line, it blocks the loop: as before
  in_flight_ = std::move(job);
}

ReplicaWatch* Watcher::find_replica(int replica) {
  for (auto& r : replicas_)
    if (r.replica == replica) return &r;
  return nullptr;
}

void Watcher::collect() {
  if (!in_flight_) return;
  Redeploy& job = *in_flight_;
  std::vector<Attempt> attempts;
  std::optional<Expected<LiveReplica, Failure>> result;
  {
    std::lock_guard lock(job.mutex);
    attempts.swap(job.attempts);
    if (job.result) result = std::move(job.result);
  }
  for (const auto& a : attempts) emit_attempt(a);
  if (!result) return;
  if (job.thread.joinable()) job.thread.join();
  auto done = std::move(in_flight_);
  ReplicaWatch* r = find_replica(done->replica);
  if (r) finish(*r, std::move(done->request), done->on_excluded, std::move(*result));
  // The next replica waiting for its turn goes at once, not at the next poll.
  if (!stopping_) start_next_redeploy();
}

void Watcher::settle() {
  // Each collect() may start the next redeploy due (unless stopping).
  while (in_flight_) {
    if (in_flight_->thread.joinable()) in_flight_->thread.join();
    collect();
  }
}

void Watcher::finish(ReplicaWatch& r, RedeployRequest request, bool on_excluded,
                     Expected<LiveReplica, Failure> result) {
  auto now = services_.clock->now();
  if (!result) {
    if (services_.clock->cancelled()) {
      // The deploy engine removed what it had created; run() stops next.
      r.phase = Phase::kWaiting;
      r.next_attempt = now;
      return;
    }
    if (result.error().code == ExitCode::kNoPlacement && !request.excluded.empty() &&
        !on_excluded) {
      // Only an excluded host fits (a single local machine, say): a replica
      // on the host that failed beats no replica at all.
      RedeployRequest again;
      again.replica = r.replica;
      again.others = others(r);
      launch(r, std::move(again), true);
      return;
    }
    emit(EventType::kFailure, &r, "redeploy-failed",
         result.error().message +
             (result.error().hint.empty() ? "" : " (" + result.error().hint + ")"));
    schedule_redeploy(r, now);
    update_exhausted();
    return;
  }
  r.instance = result->instance;
  r.phase = Phase::kStarting;
  r.started = now;
  r.health.reset();
  r.unreachable_since.reset();
  emit(EventType::kRedeployed, &r, r.last_failure ? to_string(*r.last_failure) : "",
       fmt::format("running on {}{}; restart {} of at most {} within {}", where(*r.instance),
                   on_excluded ? " (no other host fits, so the excluded one is used again)" : "",
                   r.restarts.size(), workload_.restart.max_restarts,
                   span(workload_.restart.window)));
  if (result->healthy) mark_healthy(r, now);
}

void Watcher::start_next_redeploy() {
  if (in_flight_ || services_.clock->cancelled()) return;
  auto now = services_.clock->now();
  ReplicaWatch* next = nullptr;
  for (auto& r : replicas_)
    if (r.phase == Phase::kWaiting && r.next_attempt <= now &&
        (!next || r.next_attempt < next->next_attempt))
      next = &r;
  if (next) redeploy(*next, now);
}

void Watcher::give_up(ReplicaWatch& r) {
  r.phase = Phase::kGaveUp;
  emit(EventType::kGivingUp, &r, r.last_failure ? to_string(*r.last_failure) : "",
       fmt::format("{} restarts within {} reached restart.max_restarts; last failure: {}",
                   r.restarts.size(), span(workload_.restart.window), r.last_failure_detail));
  update_exhausted();
}

void Watcher::update_exhausted() {
  bool gave_up = false;
  bool alive = false;
  for (const auto& r : replicas_) {
    gave_up = gave_up || r.phase == Phase::kGaveUp;
    alive = alive || restartable(r.phase);
  }
  exhausted_ = gave_up && !alive;
}

void Watcher::poll() {
  collect();
  auto now = services_.clock->now();
  last_poll_ = now;
  for (auto it = excluded_.begin(); it != excluded_.end();)
    it = it->second <= now ? excluded_.erase(it) : std::next(it);

  auto listings = poll_providers(now);
  for (auto& r : replicas_) {
    switch (r.phase) {
      case Phase::kStarting:
      case Phase::kHealthy:
      case Phase::kFailedIdle:
        if (!r.instance) break;
        if (auto what = check_listing(r, listings[r.instance->provider], now);
            what != HostCheck::kNone && !probes_.count(r.replica))
          start_probe(r, what, now);
        break;
      case Phase::kTerminating:
        if (now >= providers_[r.instance->provider].next_poll) try_terminate(r, now);
        break;
      case Phase::kWaiting:
      case Phase::kRedeploying:
      case Phase::kGaveUp:
        break;
    }
  }
  // The hosts get until the next poll is due to answer; those that do are
  // judged now, the others when they do.
  judge_probes(std::chrono::steady_clock::now() + options_.interval);
  start_next_redeploy();
  update_exhausted();
}

WatchClock::TimePoint Watcher::next_wake() const {
  auto t = last_poll_ + options_.interval;
  // While one redeploy is in flight the waiting ones cannot start; collect()
  // is what notices it ending.
  if (!in_flight_)
    for (const auto& r : replicas_)
      if (r.phase == Phase::kWaiting) t = std::min(t, r.next_attempt);
  return t;
}

std::string Watcher::summary() const {
  std::string out;
  for (const auto& r : replicas_) {
    std::string state;
    switch (r.phase) {
      case Phase::kStarting:
        state = "starting";
        break;
      case Phase::kHealthy:
        state = "healthy";
        break;
      case Phase::kFailedIdle:
        state = "failed, left as it is";
        break;
      case Phase::kTerminating:
        state = "terminating";
        break;
      case Phase::kWaiting:
        state = "waiting to redeploy";
        break;
      case Phase::kRedeploying:
        state = "redeploying";
        break;
      case Phase::kGaveUp:
        state = "given up";
        break;
    }
    out += fmt::format("replica {}: {}, {} restart{}", r.replica, state, r.total_restarts,
                       r.total_restarts == 1 ? "" : "s");
    if (r.last_failure) {
      std::string detail = r.last_failure_detail.substr(0, r.last_failure_detail.find('\n'));
      out += fmt::format("; last failure {}: {}", to_string(*r.last_failure), detail);
    }
    out += "\n";
  }
  return out;
}

Failure Watcher::stop(ExitCode code, const std::string& reason, const std::string& why) {
  join_probes();  // what they would say no longer matters
  std::string detail = why;
  if (options_.down_on_exit || take_down_) {
    auto down = services_.deployer->tear_down();
    if (down) {
      detail += take_down_ ? "; the deployment was torn down"
                           : "; the deployment was torn down (--down-on-exit)";
    } else {
      detail += "; tearing the deployment down failed: " + down.error().message;
      if (code == ExitCode::kOk || code == ExitCode::kInterrupted) code = down.error().code;
    }
  } else {
    detail += "; the deployment is left running ('berth down " + workload_.name + "' removes it)";
  }
  emit(EventType::kStopped, nullptr, reason, detail);
  Failure f;
  f.code = code;
  if (code == ExitCode::kWorkloadFailed) {
    f.message = "no replica of '" + workload_.name + "' is healthy and watch gave up";
    f.hint = summary();
    while (!f.hint.empty() && f.hint.back() == '\n') f.hint.pop_back();
  } else if (code != ExitCode::kOk && code != ExitCode::kInterrupted) {
    f.message = detail;
  }
  return f;
}

void Watcher::account(WatchClock::TimePoint now) {
  if (accounted_ && now > *accounted_) {
    const double hours = std::chrono::duration<double>(now - *accounted_).count() / 3600.0;
    for (const auto& r : replicas_)
      if (r.instance) spent_usd_ += r.instance->price_per_hour * hours;
  }
  accounted_ = now;
}

std::optional<WatchClock::TimePoint> Watcher::budget_reached_at(WatchClock::TimePoint now) const {
  if (!options_.budget_usd) return std::nullopt;
  double rate = 0;  // USD per hour
  for (const auto& r : replicas_)
    if (r.instance) rate += r.instance->price_per_hour;
  if (rate <= 0) return std::nullopt;
  const double hours = std::max(0.0, *options_.budget_usd - spent_usd_) / rate;
  // At least a millisecond on: the next turn of the loop counts it.
  return now + std::max(Duration{1}, std::chrono::duration_cast<Duration>(
                                          std::chrono::duration<double>(hours * 3600.0)));
}

Failure Watcher::run() {
  // Checked before the cancel flag: reaching the deadline also cancels
  // (that is how it stops a deploy in progress), and it is no signal.
  auto out_of_time = [this] {
    return options_.deadline && services_.clock->now() >= *options_.deadline;
  };
  // A redeploy in flight is waited for before stopping: on a signal (or the
  // deadline's cancellation) it removes what it had created, and
  // --down-on-exit must see its instance.
  auto end = [this](ExitCode code, const std::string& reason, const std::string& why) {
    stopping_ = true;
    settle();
    return stop(code, reason, why);
  };
  auto time_limit = [&] {
    return end(ExitCode::kOk, "time-limit", "stopped watching: the time limit was reached");
  };
  auto interrupted = [&] {
    return end(ExitCode::kInterrupted, "interrupted", "stopped watching on a signal");
  };
  // --for and --budget: done, so the deployment goes (exit 0).
  auto done = [&]() -> std::optional<Failure> {
    const auto now = services_.clock->now();
    account(now);
    if (options_.run_until && now >= *options_.run_until) {
      take_down_ = true;
      return end(ExitCode::kOk, "duration", "stopped watching: the time given with --for is up");
    }
    if (options_.budget_usd && spent_usd_ >= *options_.budget_usd - 1e-9) {
      take_down_ = true;
      return end(ExitCode::kOk, "budget",
                 fmt::format("stopped watching: the budget of {:.2f} USD is spent ({:.2f} USD "
                             "of running replicas since watch started)",
                             *options_.budget_usd, spent_usd_));
    }
    return std::nullopt;
  };
  accounted_ = services_.clock->now();
  if (!start()) return failure_;
  for (;;) {
    if (out_of_time()) return time_limit();
    if (auto d = done()) return *d;
    if (services_.clock->cancelled()) return interrupted();
    if (exhausted_)
      return stop(ExitCode::kWorkloadFailed, "gave-up",
                  "stopped watching: every replica gave up or failed and none is healthy");
    auto wake = next_wake();
    if (options_.deadline) wake = std::min(wake, *options_.deadline);
    if (options_.run_until) wake = std::min(wake, *options_.run_until);
    if (auto b = budget_reached_at(services_.clock->now())) wake = std::min(wake, *b);
    if (in_flight_) {
      auto slice = services_.clock->now() + kCollectEvery;
      wake = in_flight_->wait(kRedeployWait) ? services_.clock->now() : std::min(wake, slice);
    }
    if (!services_.clock->sleep_until(wake)) return out_of_time() ? time_limit() : interrupted();
    if (out_of_time()) return time_limit();
    if (auto d = done()) return *d;
    collect();
    if (services_.clock->now() >= next_wake()) poll();
  }
}

}  // namespace berth
