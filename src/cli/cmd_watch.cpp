// berth watch TEMPLATE: deploy if needed, then keep the workload alive
// (docs/watch-events.md). Events go to stderr, one line each; stdout stays empty.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "berth/common/cancel.h"
#include "berth/config/provider_set.h"
#include "berth/watch/watch_deploy.h"
#include "cli/app.h"
#include "cli/deploy_session.h"

namespace berth::cli {

namespace {

struct WatchFlags {
  std::string template_path;
  bool down_on_exit = false;
  std::optional<std::string> interval;
  std::optional<std::string> unreachable_grace;
  bool strict = false;  // placement.strict
  std::optional<std::string> run_for;  // --for
  std::optional<std::string> budget;   // --budget
};

Expected<Duration, int> duration_flag(const std::string& flag, const std::string& text) {
  auto d = parse_duration(text);
  if (!d || d->count() <= 0)
    return unexpected(
        report(Failure{ExitCode::kUsage, flag + ": '" + text + "' is not a positive duration",
                       "use e.g. 500ms, 10s, 2m"}));
  return *d;
}

int run_watch(const GlobalOptions& g, const WatchFlags& flags) {
  // With -o json stderr is the event stream, from the first line to the last.
  set_stderr_json_lines(g.output == "json");
  auto workload = load_template(flags.template_path, Environment::process());
  if (!workload) return report(workload.error());
  redact_from_output(*workload);
  if (flags.strict) workload->placement.strict = true;
  WatchOptions options = default_watch_options(*workload);
  options.down_on_exit = flags.down_on_exit;
  if (flags.interval) {
    auto d = duration_flag("--interval", *flags.interval);
    if (!d) return d.error();
    options.interval = *d;
  }
  if (flags.unreachable_grace) {
    auto d = duration_flag("--unreachable-grace", *flags.unreachable_grace);
    if (!d) return d.error();
    options.unreachable_grace = *d;
  }
  if (flags.run_for) {
    auto d = duration_flag("--for", *flags.run_for);
    if (!d) return d.error();
    options.run_until = std::chrono::steady_clock::now() + *d;
  }
  if (flags.budget) {
    const std::string& text = *flags.budget;
    char* end = nullptr;
    const double usd = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(usd) || usd <= 0)
      return report(Failure{ExitCode::kUsage,
                            "--budget: '" + text + "' is not a positive amount of USD",
                            "write the number alone, e.g. --budget 25 or --budget 7.50"});
    options.budget_usd = usd;
  }
  install_cancel_handlers();
  auto session = open_deploy_session(g, RequestsOnCancel::kFinish);
  if (!session) return session.error();
  return watch_and_report(g, *workload, **session, options);
}

}  // namespace

int watch_and_report(const GlobalOptions& g, const LaunchTemplate& workload, DeploySession& session,
                     const WatchOptions& given) {
  install_cancel_handlers();
  WatchOptions options = given;
  if (session.deadline) options.deadline = session.deadline->at();
  // Redeploys too (and, after `up --watch`, what up's own printer said as
  // text): from here on the engine speaks as watch does.
  session.ctx.events = deploy_event_printer(g, DeployEventsFor::kWatch);
  auto failure = watch_deployment(workload, *session.providers, session.ctx, options,
                                  stream_event_sink(stderr, g.output == "json"));
  // Past the initial deploy the deadline ends watching as time-limit (0);
  // an initial deploy it cut short ends as `up` does on --timeout.
  if (failure.code == ExitCode::kInterrupted && session.timed_out())
    return report(Failure{ExitCode::kInterrupted,
                          timed_out_message(session.deadline->limit()) +
                              " before the deployment was up; everything this run created "
                              "was removed",
                          "a slow boot or image pull needs a longer --timeout"},
                  "time-limit");
  if (failure.code == ExitCode::kOk || failure.code == ExitCode::kInterrupted)
    return static_cast<int>(failure.code);
  return report(failure);
}

void setup_watch(CLI::App& app, GlobalOptions& g, RunState& s) {
  auto flags = std::make_shared<WatchFlags>();
  auto* sub = app.add_subcommand(
      "watch", "Deploy if needed, then keep the workload alive: redeploy replicas that fail");
  sub->add_option("TEMPLATE", flags->template_path, "Launch template (YAML)")->required();
  sub->add_flag("--down-on-exit", flags->down_on_exit,
                "Tear the deployment down when watching stops (default: leave it running)");
  sub->add_option("--interval", flags->interval,
                  "Poll period (default: the template's health.interval, else 10s)")
      ->option_text("DURATION");
  sub->add_option("--unreachable-grace", flags->unreachable_grace,
                  "How long SSH may fail while the provider says running (default 60s)")
      ->option_text("DURATION");
  sub->add_option("--for", flags->run_for,
                  "Take the deployment down and exit 0 this long after watch starts")
      ->option_text("DURATION");
  sub->add_option("--budget", flags->budget,
                  "Take the deployment down and exit 0 once its replicas have cost this much "
                  "(USD, counted from their $/h while watch sees them run)")
      ->option_text("USD");
  sub->add_flag("--strict", flags->strict, "Reject offers that do not report a vCPU count, RAM, disk or CUDA version the template "
                  "constrains (placement.strict)");
  sub->footer(
      "Events go to stderr, one line each (JSON lines with -o json); see\n"
      "docs/watch-events.md. SIGINT/SIGTERM stop watching and leave the deployment\n"
      "running (exit 130); --timeout stops watching that long after the command\n"
      "started, the initial deploy included (exit 0; 130 as for up when the initial\n"
      "deploy had not finished); exit 7 when a replica gave up after\n"
      "restart.max_restarts and none is healthy. --for and --budget end watching\n"
      "with the deployment taken down (exit 0).\n"
      "As up, watch asks before it first rents anything that costs money (-y/--yes\n"
      "skips the question; without a terminal a paid plan needs --yes, else exit 2).");
  sub->callback([&g, &s, flags] { s.exit_code = run_watch(g, *flags); });
}

}  // namespace berth::cli
