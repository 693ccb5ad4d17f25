// Container logs of a replica, wherever they are: the provider's API for
// instances that are the container, else the runtime on the host berth
// started the container on. `up` shows a failed replica's last lines with
// them before it rolls back; `logs` reads pods through the same function.
#include <fmt/format.h>

#include "berth/deploy/log_text.h"
#include "deploy/deploy_internal.h"

namespace berth {

std::vector<std::string> bounded_logs_argv(const ContainerRuntime& rt, const std::string& container,
                                           std::optional<int> tail) {
  // The runtime's status travels on fd 3 out of the pipeline into $(...),
  // the log on fd 4 to the real stdout: POSIX sh has no pipefail.
  std::vector<std::string> argv = {
      "sh", "-c",
      fmt::format("exec 4>&1; rc=$( {{ {{ \"$@\" 2>&1; echo $? >&3; }} | tail -c {} >&4; }} 3>&1 ); "
                  "exit \"${{rc:-1}}\"",
                  kMaxLogAnswerBytes),
      "sh"};
  for (auto& a : logs_argv(rt, container, false, tail)) argv.push_back(std::move(a));
  return argv;
}

Expected<std::vector<std::string>, std::string> container_log_tail(DeployContext& ctx,
                                                                   const Instance& instance,
                                                                   Host* host,
                                                                   const std::string& container,
                                                                   int tail) {
  tail = std::clamp(tail, 1, kMaxLogTail);
  Provider* provider = ctx.provider ? ctx.provider(instance.provider) : nullptr;
  if (provider && provider->capabilities().logs == Capabilities::Logs::kApi) {
    auto lines = provider->logs(instance.id, tail);
    if (!lines)
      return unexpected(instance.provider + ": " + to_string(lines.error().kind) + ": " +
                        lines.error().message);
    return std::move(*lines);
  }
  if (!host) return unexpected(std::string("no host to read the container's log on"));
  auto r = host->run(HostCommand{.argv = bounded_logs_argv(runtime_for(instance, ctx), container, tail),
                                 .timeout = Duration{30'000},
                                 .cancellable = false});
  if (!r) return unexpected(r.error());
  if (r->timed_out) return unexpected(std::string("the runtime's logs command timed out"));
  return last_log_lines(r->out, static_cast<std::size_t>(tail),
                        r->out.size() >= kMaxLogAnswerBytes);
}

namespace deploy_detail {

void show_failed_log(Run& run, int replica, const Instance& instance, Host* host) {
  const std::string container = instance_name(run.workload.name, replica, run.workload.hash);
  auto lines = container_log_tail(run.ctx, instance, host, container, kFailedLogLines);
  if (!lines) {
    run.warn(replica, "could not read the container's log: " + lines.error());
    return;
  }
  std::string title = fmt::format("last {} lines of the log of replica {} ({} at {})",
                                  lines->size(), replica, instance.id, instance.provider);
  DeployEvent e{DeployEvent::Kind::kContainerLog, replica, log_block(title, *lines), {},
                instance.provider, instance.id};
  e.lines = std::move(*lines);
  run.emit(std::move(e));
}

std::string failed_replica_hint(const Run& run) {
  const std::string& name = run.workload.name;
  if (run.ctx.options.keep_on_failure)
    return "the failed replica is kept (--keep-on-failure): 'berth logs " + name +
           "' shows its log, 'berth down " + name + "' removes it";
  return "the failed replica was removed; 'berth up --keep-on-failure' keeps a failed "
         "replica to inspect";
}

}  // namespace deploy_detail
}  // namespace berth
