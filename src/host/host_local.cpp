// This machine as a Host: the runtime is called directly, without SSH (the
// `local` provider).
#include <cstdlib>

#include "berth/common/cancel.h"
#include "berth/host/host.h"

namespace berth {
namespace {

// This machine: the runtime is called directly, without SSH.
class LocalHost : public Host {
 public:
  explicit LocalHost(ProcessRunner& runner) : runner_(runner) {}
  std::string address() const override { return "127.0.0.1"; }
  Expected<ProcessResult, std::string> run(const HostCommand& c) override {
    ProcessSpec spec;
    spec.argv = c.argv;
    spec.stdin_data = c.stdin_data;
    spec.timeout = c.timeout;
    spec.inherit_stdio = c.interactive;
    if (c.cancellable) spec.cancel = &cancel_flag();
    return runner_.run(spec);
  }
  Expected<int, std::string> login_shell() override {
    const char* shell = std::getenv("SHELL");
    auto r = run(HostCommand{.argv = {shell && *shell ? shell : "/bin/sh"}, .interactive = true});
    if (!r) return unexpected(r.error());
    return r->exit_code;
  }

 private:
  ProcessRunner& runner_;
};

class LocalHostConnector : public HostConnector {
 public:
  explicit LocalHostConnector(ProcessRunner& runner) : host_(std::make_shared<LocalHost>(runner)) {}
  Expected<std::shared_ptr<Host>, HostError> connect(const Instance&, const std::string&) override {
    return std::shared_ptr<Host>(host_);
  }

 private:
  std::shared_ptr<LocalHost> host_;
};

}  // namespace

std::unique_ptr<HostConnector> make_local_host_connector(ProcessRunner& runner) {
  return std::make_unique<LocalHostConnector>(runner);
}

}  // namespace berth
