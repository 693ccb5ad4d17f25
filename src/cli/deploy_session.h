// What up, status, logs, exec, ssh, down and watch talk through: the
// configured providers, berth's SSH key and connector, this machine's
// runtime, and the command's --timeout. One place builds it, so every one of
// these commands treats the global flags the same way.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "berth/common/cancel.h"
#include "berth/config/config.h"
#include "berth/config/provider_set.h"
#include "berth/deploy/deploy.h"
#include "cli/app.h"

namespace berth::cli {

struct DeploySession {
  Config config;
  std::unique_ptr<ProviderSet> providers;
  std::unique_ptr<HostConnector> ssh;
  std::unique_ptr<HostConnector> local;
  DeployContext ctx;
  /// --timeout, armed when the session opens: it cancels the command as ^C
  /// would. Null without the flag.
  std::unique_ptr<CommandDeadline> deadline;

  bool timed_out() const { return deadline && deadline->expired(); }
  ~DeploySession();
};

/// How a command's provider requests end when ^C or --timeout cancel it.
enum class RequestsOnCancel {
  kAbandon,  // read-only commands: an answer nobody waits for is dropped at once
  kFinish,   // up, down, watch: a launch or terminate cut short could leave an
             // instance nobody knows of, so a request in flight runs to its end
             // (each one is bounded by --timeout all the same)
};

/// Who listens to the deploy engine's events.
enum class DeployEventsFor { kUp, kWatch };

/// How the engine's events (DeployContext::events) reach stderr: text for
/// people, or in JSON-lines mode (-o json) the events of
/// docs/watch-events.md. Under watch, attempts are left to watch's own
/// "attempt" events (it reports each one from the deploy's result), and
/// progress, notes and rollbacks appear only with -v.
std::function<void(const DeployEvent&)> deploy_event_printer(const GlobalOptions& g,
                                                             DeployEventsFor who);

/// Spend safety for up and watch (docs/json.md, exit codes): a plan whose
/// chosen offers all cost nothing goes ahead; so does any plan with --yes,
/// or once one was confirmed in this command. Otherwise, on a terminal
/// (stdin and stderr, not -o json) it shows each replica's offer and $/h and
/// the total, and asks; without one it refuses (exit 2) with a hint to pass
/// --yes. Declining rents nothing (exit 2).
std::function<Expected<void, Failure>(const Plan&)> spend_approval(const GlobalOptions& g);

/// Loads the config and opens everything; reports failures (bad --timeout 2,
/// config 3, SSH key 1) and returns their exit code.
Expected<std::unique_ptr<DeploySession>, int> open_deploy_session(const GlobalOptions& g,
                                                                  RequestsOnCancel requests);

}  // namespace berth::cli
