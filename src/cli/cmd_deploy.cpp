// `up`, `status`, `logs`, `exec`, `ssh`, `down`: the deploy lifecycle and the
// commands that find a deployment by asking the providers (berth keeps no
// state). The engine lives in the core (deploy.h); this file parses flags,
// wires the real providers, hosts and planner, and prints.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "berth/common/cancel.h"
#include "berth/common/units.h"
#include "berth/config/provider_set.h"
#include "berth/deploy/deploy.h"
#include "berth/deploy/deploy_status.h"
#include "berth/deploy/deployments.h"
#include "berth/deploy/log_text.h"
#include "berth/host/health.h"
#include "berth/placement/placement.h"
#include "berth/placement/planning.h"
#include "berth/watch/watch_deploy.h"
#include "cli/app.h"
#include "cli/deploy_session.h"

namespace berth::cli {
namespace {

void warn_failed_providers(const std::vector<ProviderReport>& reports) {
  for (const auto& r : reports) {
    if (!r.error && r.dropped) {
      std::string line = fmt::format("{}: dropped {} offer{} with impossible values (first: {})",
                                     r.provider, r.dropped, r.dropped == 1 ? "" : "s",
                                     r.dropped_reason);
      if (stderr_json_lines())
        print_event(make_event(EventType::kNote, "offers-dropped", line, std::nullopt,
                               r.provider));
      else
        print_warning(line);
    }
    if (!r.error && r.cut_at) {
      std::string line = fmt::format(
          "{}: the answer held more than its limit of {} offers, the rest were not read",
          r.provider, r.cut_at);
      if (stderr_json_lines())
        print_event(make_event(EventType::kNote, "offers-cut", line, std::nullopt,
                               r.provider));
      else
        print_warning(line);
    }
    if (!r.error) continue;
    if (stderr_json_lines())
      print_event(make_event(EventType::kProviderUnavailable, to_string(r.error->kind),
                             r.error->message + " (its instances, if any, are not shown)",
                             std::nullopt, r.provider));
    else
      print_warning(fmt::format("{}: {}: {} (its instances, if any, are not shown)", r.provider,
                                to_string(r.error->kind), r.error->message));
  }
}

// `up`'s planner: the one planning function `plan` and `watch` use, with the
// failed providers and, when nothing fits, the rejections said on stderr.
PlanFunction planner(const LaunchTemplate& w, ProviderSet& providers) {
  auto image_arch = registry_arch_reader(providers.http(), w);
  return [&w, &providers, image_arch](const std::vector<int>& replicas) -> Expected<Plan, Failure> {
    Planning planning =
        plan_deployment(w, providers, PlanRequest{replicas, {}, {}, image_arch, {}});
    warn_failed_providers(planning.reports);
    for (const auto& line : planning.volume_warnings) {
      if (stderr_json_lines())
        print_event(make_event(EventType::kNote, "volumes-unlisted", line));
      else
        print_warning(line);
    }
    if (!planning.failure) {
      // What the chosen offers leave unchecked, said before anything launches.
      for (const auto& p : planning.plan.placement)
        for (const auto& u : p.unverified) {
          std::string line = fmt::format("replica {} on {}/{}: {} (--strict rejects such offers)",
                                         p.replica, p.offer.provider, p.offer.id, u.detail);
          if (stderr_json_lines())
            print_event(make_event(EventType::kNote, u.constraint, line));
          else
            print_warning(line);
        }
      return std::move(planning.plan);
    }
    for (const auto& r : planning.plan.rejections) {
      // A rejection of no offer says why a provider offered none
      // (placement.spot only: "lambda: its API has no spot instances").
      std::string line =
          r.count == 0 && !r.detail.empty()
              ? fmt::format("{}: {}", r.constraint, r.detail)
              : fmt::format("{}: {} offer{} rejected{}{}", r.constraint, r.count,
                            r.count == 1 ? "" : "s", r.detail.empty() ? "" : ": ", r.detail);
      if (stderr_json_lines())
        print_event(make_event(EventType::kNote, r.constraint, line));
      else
        print_text(stderr, fmt::format("  {}\n", line));
    }
    return unexpected(*planning.failure);
  };
}

std::string endpoint_text(const Endpoint& e) { return e.host + ":" + std::to_string(e.port); }

// --timeout ran out: the command stops as it would on ^C (exit 130).
int report_timed_out(const DeploySession& s, const std::string& hint) {
  return report(Failure{ExitCode::kInterrupted, timed_out_message(s.deadline->limit()), hint},
                "time-limit");
}

// ---- up ----

struct UpOptions {
  std::string template_path;
  bool keep_on_failure = false;
  bool watch = false;  // stay and heal, as `berth watch` (cmd_watch.cpp)
  bool dry_run = false;  // plan and show the launch requests; send nothing
  bool strict = false;   // placement.strict
};

// `up --dry-run`: plans as `up` does, then prints per replica the requests
// its launch would send (credentials redacted) and the process its container
// would run. Exit 0 without a single request that changes anything.
int run_dry_run(const GlobalOptions& g, const LaunchTemplate& w, DeploySession& s) {
  std::vector<int> replicas;
  for (int r = 0; r < w.replicas; ++r) replicas.push_back(r);
  auto plan = planner(w, *s.providers)(replicas);
  if (!plan) return report(plan.error());
  auto dry = dry_run(w, *plan, s.ctx);
  if (!dry) return report(dry.error());
  if (g.output == "json") {
    nlohmann::json out = {{"deployment", w.name},
                          {"template_hash", w.hash},
                          {"dry_run", true},
                          {"replicas", nlohmann::json::array()}};
    for (const auto& r : *dry) out["replicas"].push_back(to_json(r));
    print_json(out);
    return 0;
  }
  print_text(stdout, "# dry run: nothing was sent; `berth up` would send these\n");
  for (const auto& r : *dry) {
    print_text(stdout,
               fmt::format("\n# replica {}: {} {} in {} at ${:.2f}/h\n", r.replica,
                           r.offer.provider, r.offer.id, r.offer.region, r.offer.price_per_hour));
    if (r.requests.empty())
      print_text(stdout, "# no API request: berth starts the container on the host over SSH\n");
    for (const auto& q : r.requests) {
      if (!q.note.empty()) print_text(stdout, fmt::format("# {}\n", q.note));
      print_text(stdout, fmt::format("{} {}\n", q.method, q.url));
      if (!q.body.is_null()) print_text(stdout, fmt::format("{}\n", q.body.dump(2)));
    }
    print_text(stdout, fmt::format("# the container runs: {}\n", r.process_text));
  }
  return 0;
}

int run_up(const GlobalOptions& g, const UpOptions& o) {
  // With -o json stderr is an event stream, from the first line to the last.
  set_stderr_json_lines(g.output == "json");
  auto workload = load_template(o.template_path, Environment::process());
  if (!workload) return report(workload.error());
  redact_from_output(*workload);
  if (o.strict) workload->placement.strict = true;
  auto session = open_deploy_session(g, RequestsOnCancel::kFinish);
  if (!session) return session.error();
  auto& s = **session;
  install_cancel_handlers();
  Terminal term = g.terminal();
  s.ctx.events = deploy_event_printer(g, DeployEventsFor::kUp);
  s.ctx.options.keep_on_failure = o.keep_on_failure;
  if (o.dry_run) return run_dry_run(g, *workload, s);

  auto listing = s.providers->list_instances();
  warn_failed_providers(listing.reports);
  auto found = find_deployments(listing, workload->name);
  std::optional<Deployment> existing;
  if (!found.deployments.empty()) existing = found.deployments.front();

  auto result = deploy(*workload, existing, planner(*workload, *s.providers), s.ctx);
  if (!result) {
    auto f = result.error();
    // --timeout ends `up` exactly as ^C does, rollback included; only the
    // words differ.
    bool timed_out = f.failure.code == ExitCode::kInterrupted && s.timed_out();
    std::string stopped = timed_out ? timed_out_message(s.deadline->limit()) : "interrupted";
    if (f.failure.code == ExitCode::kInterrupted) f.failure.message = stopped;
    if (g.output == "json") {
      DeployResult partial;
      partial.deployment = workload->name;
      partial.template_hash = workload->hash;
      partial.attempts = f.attempts;
      auto j = to_json(partial);
      j["error"] = {{"exit_code", static_cast<int>(f.failure.code)},
                    {"message", f.failure.message}};
      print_json(j);
    }
    for (const auto& l : f.leaked)
      print_error("instance " + l.id + " at " + l.provider + " may still be running",
                  "remove it with 'berth down " + workload->name + "'");
    const std::string reason = timed_out ? "time-limit" : "interrupted";
    if (f.failure.code != ExitCode::kInterrupted)
      report(f.failure);
    else if (!f.leaked.empty())
      print_error(stopped, f.failure.hint, reason);
    else if (o.keep_on_failure)
      print_error(stopped + "; what this run created was kept (--keep-on-failure)",
                  "remove it with 'berth down " + workload->name + "'", reason);
    else if (timed_out)
      print_error(stopped + "; everything this run created was removed",
                  "a slow boot or image pull needs a longer --timeout", reason);
    else if (stderr_json_lines())
      print_error("interrupted; everything this run created was removed", "", reason);
    else
      print_text(stderr, "berth: interrupted; everything this run created was removed\n");
    return static_cast<int>(f.failure.code);
  }
  const auto& r = *result;
  auto then_watch = [&] {
    return o.watch ? watch_and_report(g, *workload, s, default_watch_options(*workload)) : 0;
  };
  if (g.output == "json") {
    print_json(to_json(r));
    std::fflush(stdout);
    return then_watch();
  }
  if (term.verbosity >= 0) {
    if (r.unchanged)
      print_text(stderr, fmt::format("berth: {} already runs template {}; nothing to do\n",
                                     r.deployment, r.template_hash));
    for (const auto& rep : r.replicas)
      print_text(stderr,
                 fmt::format("berth: {} replica {}: {} {} in {} at ${:.2f}/h, {}\n", r.deployment,
                             rep.replica, rep.instance.provider, rep.instance.id,
                             rep.instance.region, rep.instance.price_per_hour, to_string(rep.state)));
    for (const auto& old : r.replaced)
      print_text(stderr, fmt::format("berth: replaced {} at {}\n", old.id, old.provider));
  }
  for (const auto& rep : r.replicas)
    for (const auto& e : rep.endpoints) print_text(stdout, fmt::format("{}\n", endpoint_text(e)));
  std::fflush(stdout);
  return then_watch();
}

// ---- finding one deployment ----

Expected<Deployment, int> find_one(DeploySession& s, const std::string& name) {
  auto listing = s.providers->list_instances();
  if (s.timed_out()) return unexpected(report_timed_out(s, "the providers did not answer in time"));
  warn_failed_providers(listing.reports);
  auto found = find_deployments(listing, name);
  if (found.deployments.empty()) {
    // A deployment on a disabled provider cannot be seen: say which credential is missing.
    if (auto off = disabled_providers_text(s.config); !off.empty())
      return unexpected(report(Failure{
          ExitCode::kInvalidInput,
          "no deployment named '" + name + "' on the providers asked; " + off,
          "set the missing credential to reach a deployment there"}));
    return unexpected(report(Failure{ExitCode::kNotFound, "no deployment named '" + name + "'",
                                     "'berth status' lists the deployments the providers report"}));
  }
  return found.deployments.front();
}

Expected<DeployedReplica, int> pick_replica(const Deployment& d, std::optional<int> replica) {
  for (const auto& r : d.replicas)
    if (r.hash == d.template_hash && (!replica || r.replica == *replica) &&
        r.instance.state != InstanceState::kStopping)
      return r;
  for (const auto& r : d.replicas)
    if (!replica || r.replica == *replica) return r;
  return unexpected(report(Failure{ExitCode::kNotFound,
                                   fmt::format("deployment '{}' has no replica {}", d.name,
                                               replica.value_or(0)),
                                   "'berth status " + d.name + "' lists its replicas"}));
}

Expected<std::shared_ptr<Host>, int> host_of(DeploySession& s, const Deployment& d,
                                             const DeployedReplica& r) {
  HostConnector* c = connector_for(r.instance, s.ctx);
  if (!c) c = s.ctx.hosts;  // container-native: the instance's own SSH
  if (r.instance.host.empty() && c != s.ctx.local)
    return unexpected(report(Failure{ExitCode::kProviderFailed,
                                     "replica " + std::to_string(r.replica) + " (" +
                                         r.instance.id + ") has no SSH endpoint yet",
                                     ""}));
  auto h = c->connect(r.instance, d.name);
  if (!h) return unexpected(report(Failure{ExitCode::kProviderFailed, h.error().message, h.error().hint}));
  return *h;
}

bool container_native(DeploySession& s, const Instance& i) {
  Provider* p = s.providers->find(i.provider);
  return p && p->capabilities().in_pod();
}

// ---- status ----

// A deployment name (^[a-z][a-z0-9-]{0,38}$) never holds '.' or '/': an
// argument that does is a template's path.
bool names_a_template(const std::string& arg) {
  return arg.find('.') != std::string::npos || arg.find('/') != std::string::npos;
}

int run_status(const GlobalOptions& g, const std::optional<std::string>& argument) {
  // With a template: its deployment, and how many replicas it wants.
  std::optional<std::string> name = argument;
  std::optional<LaunchTemplate> workload;
  if (argument && names_a_template(*argument)) {
    auto loaded = load_template(*argument, Environment::process(), UnsetVariables::kRecord);
    if (!loaded) return report(loaded.error());
    redact_from_output(*loaded);
    name = loaded->name;
    workload = std::move(*loaded);
  }
  auto session = open_deploy_session(g, RequestsOnCancel::kAbandon);
  if (!session) return session.error();
  auto& s = **session;
  auto listing = s.providers->list_instances();
  warn_failed_providers(listing.reports);
  auto found = find_deployments(listing, name);
  nlohmann::json deployments = nlohmann::json::array();
  Table summary({"DEPLOYMENT", "RUNNING", "HEALTH", "AGE", "$/H", "COST"},
                {false, true, false, true, true, true});
  Table table({"DEPLOYMENT", "REPLICA", "PROVIDER", "REGION", "INSTANCE", "GPU", "$/H", "STATE",
               "HEALTH", "UPTIME", "SSH", "ENDPOINTS"},
              {false, true, false, false, false, false, true, false, false, true, false, false});
  const auto now = std::chrono::system_clock::now();
  auto optional_json = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  for (const auto& d : found.deployments) {
    auto status = deployment_status(d, workload ? std::optional(workload->replicas) : std::nullopt,
                                    s.ctx, now, [&] { return s.timed_out(); });
    // Half a table with every later replica "unreachable" would mislead.
    if (!status) return report_timed_out(s, "a longer --timeout gives every replica's check time");
    nlohmann::json replicas = nlohmann::json::array();
    for (const auto& st : status->replicas) {
      const DeployedReplica& r = *st.replica;
      const Instance& i = r.instance;
      std::string ep;
      for (const auto& e : st.endpoints) ep += (ep.empty() ? "" : ",") + endpoint_text(e);
      nlohmann::json eps = nlohmann::json::array();
      for (const auto& e : st.endpoints) eps.push_back(to_json(e));
      replicas.push_back({{"replica", r.replica},
                          {"provider", i.provider},
                          {"instance_id", i.id},
                          {"region", i.region},
                          {"offer_id", i.offer_id},
                          {"gpu", i.gpu.empty() ? nlohmann::json() : nlohmann::json(i.gpu)},
                          {"host", i.host},
                          {"ssh_port", i.ssh_port},
                          {"ssh", optional_json(st.ssh)},
                          {"price_per_hour", i.price_per_hour},
                          {"state", to_string(i.state)},
                          {"template_hash", r.hash},
                          {"endpoints", eps},
                          {"health", st.health},
                          {"since", st.since.empty() ? nlohmann::json() : nlohmann::json(st.since)},
                          {"uptime_seconds", optional_json(st.uptime_seconds)},
                          {"age_seconds", optional_json(st.age_seconds)},
                          {"cost_so_far", optional_json(st.cost_so_far)}});
      table.add_row({d.name, std::to_string(r.replica), i.provider, i.region, i.id,
                     i.gpu.empty() ? "-" : i.gpu, fmt::format("{:.2f}", i.price_per_hour),
                     to_string(i.state), st.health,
                     st.uptime_seconds ? format_duration(std::chrono::seconds(*st.uptime_seconds)) : "-",
                     st.ssh.value_or("-"), ep.empty() ? "-" : ep});
    }
    deployments.push_back(
        {{"deployment", d.name},
         {"template_hash", d.template_hash},
         {"running", status->running},
         {"wanted", status->wanted},
         {"wanted_from", status->wanted_from_template ? "template" : "replicas"},
         {"health", status->health},
         {"age_seconds", optional_json(status->age_seconds)},
         {"price_per_hour", status->price_per_hour},
         {"cost_so_far", optional_json(status->cost_so_far)},
         {"replicas", replicas}});
    summary.add_row({d.name, fmt::format("{}/{}", status->running, status->wanted), status->health,
                     status->age_seconds ? format_duration(std::chrono::seconds(*status->age_seconds)) : "-",
                     fmt::format("{:.2f}", status->price_per_hour),
                     status->cost_so_far ? fmt::format("{:.2f}", *status->cost_so_far) : "-"});
  }
  if (s.timed_out())
    return report_timed_out(s, "a longer --timeout gives every replica's check time");
  if (g.output == "json") {
    print_json({{"deployments", deployments}});
  } else if (found.deployments.empty()) {
    const std::string off = disabled_providers_text(s.config);
    print_text(stderr, fmt::format("berth: {}{}\n",
                                   name ? "no deployment named '" + *name + "'"
                                        : std::string("no deployments"),
                                   off.empty() ? "" : " on the providers asked; " + off));
  } else {
    print_text(stdout, summary.render() + "\n" + table.render());
  }
  return 0;
}

// ---- logs, exec, ssh ----

struct ReplicaOptions {
  std::string name;
  std::optional<int> replica;
};

enum class ReplicaUse { kLogs, kExec, kShell };

// One replica, reached: its deployment found at the providers, the replica
// picked, its host's SSH connection open (or this machine for `local`).
struct ReachedReplica {
  std::unique_ptr<DeploySession> session;
  DeployedReplica replica;
  bool container_native = false;  // the instance is the container: SSH lands inside it
  std::shared_ptr<Host> host;
};

// The preamble logs, exec and ssh share.
Expected<ReachedReplica, int> reach_replica(const GlobalOptions& g, const ReplicaOptions& o,
                                            ReplicaUse use) {
  auto session = open_deploy_session(g, RequestsOnCancel::kAbandon);
  if (!session) return unexpected(session.error());
  auto& s = **session;
  auto d = find_one(s, o.name);
  if (!d) return unexpected(d.error());
  auto r = pick_replica(*d, o.replica);
  if (!r) return unexpected(r.error());
  bool native = container_native(s, r->instance);
  // A pod's log comes from its provider's API: no host to reach for it.
  if (native && use == ReplicaUse::kLogs)
    return ReachedReplica{std::move(*session), *r, native, nullptr};
  auto host = host_of(s, *d, *r);
  if (!host) return unexpected(host.error());
  return ReachedReplica{std::move(*session), *r, native, *host};
}

// How an interactive remote command ended, as berth's exit code.
int finish_interactive(const DeploySession& s, const Expected<ProcessResult, std::string>& result,
                       const std::string& timeout_hint) {
  if (s.timed_out()) return report_timed_out(s, timeout_hint);
  if (!result) return report(Failure{ExitCode::kProviderFailed, result.error(), ""});
  return result->exit_code < 0 ? 130 : result->exit_code;
}

int run_logs(const GlobalOptions& g, const ReplicaOptions& o, bool follow,
             std::optional<int> tail) {
  auto reached = reach_replica(g, o, ReplicaUse::kLogs);
  if (!reached) return reached.error();
  auto& [session, replica, native, host] = *reached;
  if (native) {
    // The pod is the container: its provider's API has the log, the last
    // lines of it (all it keeps, up to kMaxLogTail), not a stream to follow.
    if (follow)
      return report(Failure{ExitCode::kUsage,
                            "--follow is not available for replica " +
                                std::to_string(replica.replica) + " of '" + o.name + "' at " +
                                replica.instance.provider +
                                ": its provider's API returns a pod's log, not a stream of it",
                            "'berth logs " + o.name + "' without -f shows its last lines"});
    int lines = std::clamp(tail.value_or(kMaxLogTail), 0, kMaxLogTail);
    if (lines == 0) return 0;
    auto log = container_log_tail(session->ctx, replica.instance, nullptr, replica.instance.name,
                                  lines);
    if (session->timed_out()) return report_timed_out(*session, "");
    if (!log)
      return report(Failure{ExitCode::kProviderFailed, "cannot read the log: " + log.error(),
                            ""});
    for (const auto& l : *log) print_text(stdout, l + "\n");
    std::fflush(stdout);
    return 0;
  }
  const auto& rt = runtime_for(replica.instance, session->ctx);
  if (!follow) {
    // Read, bounded, and printed as berth prints remote text: the log can
    // neither flood berth's memory nor drive the terminal.
    auto r = host->run(HostCommand{.argv = bounded_logs_argv(rt, replica.instance.name, tail)});
    if (session->timed_out()) return report_timed_out(*session, "");
    if (!r) return report(Failure{ExitCode::kProviderFailed, r.error(), ""});
    auto lines = last_log_lines(r->out, std::numeric_limits<std::size_t>::max(),
                                r->out.size() >= kMaxLogAnswerBytes);
    for (const auto& l : lines) print_text(stdout, l + "\n");
    if (!r->err.empty()) print_text(stderr, r->err);
    std::fflush(stdout);
    return r->exit_code < 0 ? 130 : r->exit_code;
  }
  // Followed: the runtime's stream, as it comes, on the terminal.
  auto result = host->run(
      HostCommand{.argv = logs_argv(rt, replica.instance.name, follow, tail), .interactive = true});
  return finish_interactive(*session, result, "");
}

int run_exec(const GlobalOptions& g, const ReplicaOptions& o, std::vector<std::string> cmd) {
  if (!cmd.empty() && cmd.front() == "--") cmd.erase(cmd.begin());
  auto reached = reach_replica(g, o, ReplicaUse::kExec);
  if (!reached) return reached.error();
  auto& [session, replica, native, host] = *reached;
  bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  const bool shell = cmd.empty();
  if (cmd.empty()) {
    // No command: an interactive shell in the container. A pod's SSH login
    // is the container's own shell; elsewhere bash where the image has it.
    if (native) {
      auto code = host->login_shell();
      if (session->timed_out()) return report_timed_out(*session, "");
      if (!code) return report(Failure{ExitCode::kProviderFailed, code.error(), ""});
      return *code;
    }
    cmd = {"sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"};
  }
  // A shell reads its commands from stdin, with or without a terminal.
  const bool keep_stdin = tty || shell;
  std::vector<std::string> argv = native ? cmd
                                         : exec_argv(runtime_for(replica.instance, session->ctx),
                                                     replica.instance.name, cmd, keep_stdin, tty);
  auto result = host->run(HostCommand{.argv = argv, .interactive = true, .tty = tty});
  return finish_interactive(*session, result, "the command was stopped");
}

int run_ssh(const GlobalOptions& g, const ReplicaOptions& o) {
  auto reached = reach_replica(g, o, ReplicaUse::kShell);
  if (!reached) return reached.error();
  auto& [session, replica, native, host] = *reached;
  auto code = host->login_shell();
  if (session->timed_out()) return report_timed_out(*session, "");
  if (!code) return report(Failure{ExitCode::kProviderFailed, code.error(), ""});
  return *code;
}

// ---- down ----

int run_down(const GlobalOptions& g, const std::string& name) {
  // With -o json stderr is an event stream, as for up and watch.
  set_stderr_json_lines(g.output == "json");
  auto session = open_deploy_session(g, RequestsOnCancel::kFinish);
  if (!session) return session.error();
  auto& s = **session;
  install_cancel_handlers();  // down finishes what it started; ^C only stops the next one
  auto listing = s.providers->list_instances();
  warn_failed_providers(listing.reports);
  auto found = find_deployments(listing, name);
  bool incomplete = std::any_of(listing.reports.begin(), listing.reports.end(),
                                [](const ProviderReport& r) { return r.error.has_value(); });
  nlohmann::json terminated = nlohmann::json::array(), leaked = nlohmann::json::array();
  if (found.deployments.empty()) {
    // Not found where berth could look: a disabled provider may hold it.
    if (auto off = disabled_providers_text(s.config); !off.empty())
      return report(Failure{ExitCode::kInvalidInput,
                            "no deployment named '" + name + "' on the providers asked; " + off,
                            "set the missing credential to take down a deployment there"});
    if (g.output == "json")
      print_json({{"deployment", name}, {"terminated", terminated}, {"leaked", leaked}});
    else
      print_text(stderr, fmt::format("berth: no deployment named '{}'; nothing to do\n", name));
    return incomplete ? static_cast<int>(ExitCode::kProviderFailed) : 0;
  }
  s.ctx.events = deploy_event_printer(g, DeployEventsFor::kUp);
  // Every instance is still asked to terminate; only the waits to see them
  // gone end at the deadline.
  if (s.deadline) s.ctx.options.confirm_deadline = s.deadline->at();
  auto t = teardown(found.deployments.front(), s.ctx);
  if (t.leaked.empty()) {
    // Every replica is gone: so goes what providers kept for the deployment.
    std::set<std::string> all;
    for (auto* p : s.providers->all()) all.insert(p->name());
    release_at(s.ctx, all, name, {}, &t.errors);
  }
  for (const auto& e : t.errors) print_warning(e);
  for (const auto& i : t.terminated) {
    terminated.push_back({{"provider", i.provider}, {"instance_id", i.id}});
    if (g.output != "json")
      print_text(stderr,
                 fmt::format("berth: terminated {} at {} (confirmed gone)\n", i.id, i.provider));
  }
  for (const auto& i : t.leaked) leaked.push_back({{"provider", i.provider}, {"instance_id", i.id}});
  if (g.output == "json")
    print_json({{"deployment", name}, {"terminated", terminated}, {"leaked", leaked}});
  if (!t.leaked.empty() && s.timed_out())
    return report(Failure{ExitCode::kInterrupted,
                          fmt::format("{}: {} instance(s) not confirmed gone yet",
                                      timed_out_message(s.deadline->limit()), t.leaked.size()),
                          "run 'berth down " + name + "' again to finish and confirm"});
  if (!t.leaked.empty())
    return report(Failure{ExitCode::kProviderFailed,
                          fmt::format("{} instance(s) could not be confirmed gone", t.leaked.size()),
                          "run 'berth down " + name + "' again, or check the provider's console"});
  if (incomplete)
    return report(Failure{ExitCode::kProviderFailed,
                          "some providers did not answer; instances there may remain",
                          "run 'berth down " + name + "' again when they answer"});
  return 0;
}

}  // namespace

void setup_deploy_commands(CLI::App& app, GlobalOptions& g, RunState& s) {
  auto up_opts = std::make_shared<UpOptions>();
  auto* up = app.add_subcommand("up", "Deploy a template; print its endpoints (host:port)");
  up->add_option("template", up_opts->template_path, "Launch template (YAML)")->required();
  up->add_flag("--keep-on-failure", up_opts->keep_on_failure,
               "Keep what was created when the deploy fails (for debugging; it keeps billing)");
  up->add_flag("--watch", up_opts->watch,
               "Stay after the deploy and redeploy replicas that fail (as 'berth watch')");
  up->add_flag("--dry-run", up_opts->dry_run,
               "Plan, then print the requests the launch would send (credentials redacted) and "
               "the process the container would run; send nothing")
      ->excludes("--watch");
  up->add_flag("--strict", up_opts->strict,
               "Reject offers that do not report a vCPU count, RAM, disk or CUDA version the "
               "template constrains (placement.strict)");
  up->footer(
      "Before renting anything that costs money, up shows each replica's offer and $/h\n"
      "and the total, and asks on a terminal; -y/--yes skips the question. Without a\n"
      "terminal (or with -o json) and without --yes, a paid plan is refused (exit 2);\n"
      "offers that cost nothing (local, free ssh hosts) are never asked about.");
  up->callback([&g, &s, up_opts] { s.exit_code = run_up(g, *up_opts); });

  auto status_name = std::make_shared<std::optional<std::string>>();
  auto* status = app.add_subcommand(
      "status", "Deployments found at the providers: replicas running/wanted, health, cost");
  status->add_option("name", *status_name,
                     "Only this deployment; or a template's path (one with '.' or '/'): its "
                     "deployment, with the template's replica count as wanted")
      ->option_text("NAME|TEMPLATE");
  status->footer(
      "AGE and COST count from when the provider made each instance where its API\n"
      "says (RunPod, Vast.ai), else from the container's start. Without a template,\n"
      "wanted is the highest replica index of the deployment's template, plus one.");
  status->callback([&g, &s, status_name] { s.exit_code = run_status(g, *status_name); });

  auto logs_opts = std::make_shared<ReplicaOptions>();
  auto follow = std::make_shared<bool>(false);
  auto tail = std::make_shared<std::optional<int>>();
  auto* logs = app.add_subcommand("logs", "Container logs of a deployment's replica");
  logs->footer(
      "On hosts berth starts containers on, the runtime's own log (docker/podman logs).\n"
      "RunPod and Vast.ai pods are their container: the log comes from the provider's\n"
      "API, its last lines only (--tail N, at most 5000; -f is not available there).");
  logs->add_option("name", logs_opts->name, "Deployment")->required();
  logs->add_flag("-f,--follow", *follow, "Keep streaming new output");
  logs->add_option("--tail", *tail, "Only the last N lines")->option_text("N");
  logs->add_option("--replica", logs_opts->replica, "Replica index (default: 0)")->option_text("N");
  logs->callback([&g, &s, logs_opts, follow, tail] {
    s.exit_code = run_logs(g, *logs_opts, *follow, *tail);
  });

  auto exec_opts = std::make_shared<ReplicaOptions>();
  auto command = std::make_shared<std::vector<std::string>>();
  auto* exec = app.add_subcommand(
      "exec", "Run a command in a replica's container; without one, open a shell there");
  exec->add_option("name", exec_opts->name, "Deployment")->required();
  exec->add_option("--replica", exec_opts->replica, "Replica index (default: 0)")->option_text("N");
  exec->add_option("command", *command,
                   "Command and arguments, after --; none: an interactive shell");
  exec->positionals_at_end();
  exec->callback([&g, &s, exec_opts, command] { s.exit_code = run_exec(g, *exec_opts, *command); });

  auto ssh_opts = std::make_shared<ReplicaOptions>();
  auto* ssh = app.add_subcommand("ssh", "Open a shell on a replica's host");
  ssh->add_option("name", ssh_opts->name, "Deployment")->required();
  ssh->add_option("--replica", ssh_opts->replica, "Replica index (default: 0)")->option_text("N");
  ssh->callback([&g, &s, ssh_opts] { s.exit_code = run_ssh(g, *ssh_opts); });

  auto down_name = std::make_shared<std::string>();
  auto* down = app.add_subcommand(
      "down", "Terminate every instance of a deployment and confirm they are gone "
              "(nothing found: exit 0)");
  down->add_option("name", *down_name, "Deployment")->required();
  down->callback([&g, &s, down_name] { s.exit_code = run_down(g, *down_name); });
}

}  // namespace berth::cli
