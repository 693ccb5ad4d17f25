#include "cli/deploy_session.h"

#include "berth/cancel.h"
#include "berth/container_runtime.h"
#include "berth/ssh.h"
#include "berth/ssh_host.h"

namespace berth::cli {

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
  if (requests == RequestsOnCancel::kAbandon) http.cancel = &cancel_flag();
  auto set = ProviderSet::create(s->config, std::move(http));
  if (!set) return unexpected(report(Failure{ExitCode::kInvalidInput, set.error(), ""}));
  s->providers = std::make_unique<ProviderSet>(std::move(*set));
  auto runtime = container_runtime(s->config.runtime);
  if (!runtime) return unexpected(report(Failure{ExitCode::kInvalidInput, runtime.error(), ""}));
  auto state = state_dir(Environment::process());
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
  s->ctx.cancel = &cancel_flag();
  return s;
}

}  // namespace berth::cli
