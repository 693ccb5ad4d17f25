#include "cli/deploy_session.h"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "berth/common/cancel.h"
#include "berth/host/container_runtime.h"
#include "berth/host/ssh.h"
#include "berth/host/ssh_host.h"

namespace berth::cli {

namespace {

using SteadyClock = std::chrono::steady_clock;

// "offer gpu_1x_a10 at 0.75 USD/h: no capacity": the detail watch gives its
// own attempt events, so both commands read the same.
std::string attempt_detail(const Attempt& a) {
  return fmt::format("offer {} at {:.2f} USD/h{}", a.offer_id, a.price_per_hour,
                     a.message.empty() ? "" : ": " + a.message);
}

Event as_event(const DeployEvent& e) {
  using K = DeployEvent::Kind;
  std::optional<int> replica;
  if (e.replica >= 0) replica = e.replica;
  switch (e.kind) {
    case K::kPhase:
      return make_event(EventType::kProgress, "", e.text, replica);
    case K::kAttempt:
      if (e.attempt)
        return make_event(EventType::kAttempt, e.attempt->result, attempt_detail(*e.attempt),
                          replica, e.attempt->provider, e.instance_id);
      return make_event(EventType::kAttempt, "", e.text, replica, e.provider);
    case K::kNote:
      return make_event(EventType::kNote, "", e.text, replica, e.provider, e.instance_id);
    case K::kWarning:
      return make_event(EventType::kWarning, "", e.text, replica, e.provider, e.instance_id);
    case K::kTerminated:
      return make_event(EventType::kTerminated, "rollback", e.text, replica, e.provider,
                        e.instance_id);
    case K::kContainerLog: {
      std::string lines;
      for (const auto& l : e.lines) lines += (lines.empty() ? "" : "\n") + l;
      return make_event(EventType::kNote, "container-log", lines, replica, e.provider,
                        e.instance_id);
    }
  }
  return make_event(EventType::kNote, "", e.text, replica);
}

}  // namespace

std::function<void(const DeployEvent&)> deploy_event_printer(const GlobalOptions& g,
                                                             DeployEventsFor who) {
  const Terminal term = g.terminal();
  const auto start = SteadyClock::now();
  const bool watching = who == DeployEventsFor::kWatch;
  return [term, start, watching](const DeployEvent& e) {
    using K = DeployEvent::Kind;
    const bool json = stderr_json_lines();
    // A failed container's log is what explains the failure: shown even with --quiet.
    if (term.verbosity < 0 && e.kind != K::kWarning && e.kind != K::kContainerLog) return;
    // Watch reports attempts itself; the rest of the engine's chatter is -v.
    if (watching && e.kind == K::kAttempt) return;
    if (watching && e.kind != K::kWarning && term.verbosity < 1) return;
    // Progress only on a terminal, or when asked for (-v).
    if (e.kind == K::kPhase && !term.stderr_tty && term.verbosity < 1) return;
    if (json) {
      print_event(as_event(e));
      return;
    }
    std::string who = e.replica >= 0 ? fmt::format("replica {}: ", e.replica) : "";
    switch (e.kind) {
      case K::kPhase:
        if (watching) {
          print_note(term, who + e.text);
          break;
        }
        print_text(stderr,
                   fmt::format("[{:>4.0f}s] {}{}\n",
                               std::chrono::duration<double>(SteadyClock::now() - start).count(),
                               who, e.text));
        break;
      case K::kAttempt:
        print_text(stderr, fmt::format("berth: {}attempt: {}\n", who, e.text));
        break;
      case K::kNote:
      case K::kTerminated:
        print_text(stderr, fmt::format("berth: {}{}\n", who, e.text));
        break;
      case K::kWarning:
        print_warning(who + e.text);
        break;
      case K::kContainerLog:
        print_text(stderr, e.text);  // delimited, each line "  | ": no line passes for berth's
        break;
    }
    std::fflush(stderr);
  };
}

bool can_ask() {
  return ::isatty(STDIN_FILENO) && ::isatty(STDERR_FILENO) && !stderr_json_lines();
}

bool ask_yes(const std::string& question) {
  print_text(stderr, question + " [y/N] ");
  std::fflush(stderr);
  char line[64] = {};
  std::string answer = std::fgets(line, sizeof line, stdin) ? line : "";
  while (!answer.empty() && std::isspace(static_cast<unsigned char>(answer.back())))
    answer.pop_back();
  answer.erase(0, answer.find_first_not_of(" \t"));
  for (auto& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return answer == "y" || answer == "yes";
}

std::function<Expected<void, Failure>(const Plan&)> spend_approval(const GlobalOptions& g) {
  auto confirmed = std::make_shared<std::atomic<bool>>(g.yes);
  return [confirmed](const Plan& plan) -> Expected<void, Failure> {
    bool paid = false;
    for (const auto& p : plan.placement) paid = paid || p.offer.price_per_hour > 0;
    if (!paid || confirmed->load()) return {};
    const std::size_t n = plan.placement.size();
    const std::string what =
        fmt::format("{} replica{} for {:.2f} USD/h", n, n == 1 ? "" : "s", plan.total_price_per_hour);
    if (!can_ask())
      return unexpected(Failure{ExitCode::kUsage,
                                "this would rent " + what + " and there is no terminal to ask",
                                "pass --yes (-y) to rent without asking; 'berth plan' shows what "
                                "would be rented"});
    std::string text = "berth: about to rent:\n";
    auto sorted = plan.placement;
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.replica < b.replica; });
    for (const auto& p : sorted)
      text += fmt::format("  replica {}: {}/{} ({}, {}) at {:.2f} USD/h\n", p.replica,
                          p.offer.provider, p.offer.id,
                          p.offer.gpu.count ? gpu_summary(p.offer.gpu) : "no GPU",
                          p.offer.region.empty() ? "-" : p.offer.region, p.offer.price_per_hour);
    text += fmt::format("  total: {:.2f} USD/h\nRent {}?", plan.total_price_per_hour,
                        n == 1 ? "it" : "them");
    if (ask_yes(text)) {
      confirmed->store(true);
      return {};
    }
    return unexpected(Failure{ExitCode::kUsage, "not confirmed: nothing was rented",
                              "answer 'y' to rent, or pass --yes (-y)"});
  };
}

DeploySession::~DeploySession() {
  if (ssh) ssh->close_all();
}

Expected<std::unique_ptr<DeploySession>, int> open_deploy_session(const GlobalOptions& g,
                                                                  RequestsOnCancel requests) {
  auto timeout = timeout_flag(g);
  if (!timeout) return unexpected(timeout.error());
  auto s = std::make_unique<DeploySession>();
  // From the command's start: everything after this spends from it.
  if (*timeout) s->deadline = std::make_unique<CommandDeadline>(**timeout);
  auto config = load_config_or_report(g);
  if (!config) return unexpected(config.error());
  s->config = std::move(*config);
  HttpOptions http = http_options_for_cli(g.quiet ? 0 : g.verbose, *timeout);
  if (stderr_json_lines())
    http.trace_sink = [](const std::string& line) {
      print_event(make_event(EventType::kTrace, "http", line));
    };
  if (requests == RequestsOnCancel::kAbandon) http.cancel = &cancel_flag();
  auto set = ProviderSet::create(s->config, std::move(http));
  if (!set) return unexpected(report(Failure{ExitCode::kInvalidInput, set.error(), ""}));
  s->providers = std::make_unique<ProviderSet>(std::move(*set));
  auto runtime = container_runtime(s->config.runtime);
  if (!runtime) return unexpected(report(Failure{ExitCode::kInvalidInput, runtime.error(), ""}));
  auto state = state_dir(Environment::process());
  // Private before anything lands there, a configured ssh.key or not.
  if (auto made = make_state_dir(state); !made)
    return unexpected(report(Failure{ExitCode::kInternal, made.error(),
                                     "check the permissions of " + state.parent_path().string()}));
  auto key = ensure_ssh_key(state, s->config.ssh_key);
  if (!key)
    return unexpected(
        report(Failure{ExitCode::kInternal, "no SSH key: " + key.error(),
                       "check that ssh-keygen is installed, or set ssh.key in the config to "
                       "a key you own"}));
  SshHostOptions ssh_options;
  ssh_options.state_dir = state;
  ssh_options.identity = key->private_key;
  s->ssh = make_ssh_host_connector(ssh_options);
  s->local = make_local_host_connector(system_process_runner());
  ProviderSet* providers = s->providers.get();
  s->ctx.provider = [providers](const std::string& name) { return providers->find(name); };
  s->ctx.hosts = s->ssh.get();
  s->ctx.local = s->local.get();
  s->ctx.runtime = *runtime;
  // The `local` provider's rule: podman when the configured runtime cannot work here.
  if (auto local = runtime_for_this_machine(s->config.runtime); local != s->config.runtime)
    s->ctx.local_runtime = *container_runtime(local);
  s->ctx.ssh_public_key = key->public_key;
  s->ctx.read_image = registry_image_reader(s->providers->http());
  s->ctx.cancel = &cancel_flag();
  // Nothing is rented unasked (up and watch; down never calls it).
  s->ctx.approve = spend_approval(g);
  return s;
}

}  // namespace berth::cli
