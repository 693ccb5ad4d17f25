// Where a replica's container runs: a host reached over SSH (ssh_host.h) or
// this machine. The deploy engine, watch and the commands that reach a
// running replica (logs, exec, ssh, status) all go through this interface.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/expected.h"
#include "berth/common/process.h"
#include "berth/common/units.h"
#include "berth/provider/instance.h"

namespace berth {

/// One command on a host: an argv vector. Remote hosts quote it with
/// shell_quote at the SSH boundary; this machine runs it as is.
struct HostCommand {
  std::vector<std::string> argv;
  std::optional<std::string> stdin_data;  // secrets travel here, never in argv
  std::optional<Duration> timeout;
  bool interactive = false;  // the terminal is the child's (logs -f, exec, ssh)
  bool tty = false;          // ask for a remote terminal (ssh -t)
  bool cancellable = true;   // false for cleanup, which must finish after ^C
};

/// Where one replica's container runs: a host over SSH, or this machine.
class Host {
 public:
  virtual ~Host() = default;
  /// The address endpoints are published on ("203.0.113.5", "127.0.0.1").
  virtual std::string address() const = 0;
  virtual Expected<ProcessResult, std::string> run(const HostCommand& command) = 0;
  /// An interactive login shell (`berth ssh`); the shell's exit code.
  virtual Expected<int, std::string> login_shell() = 0;
};

struct HostError {
  enum class Kind { kUnreachable, kHostKeyChanged, kAuth, kOther };
  Kind kind = Kind::kOther;
  std::string message;
  std::string hint;
};

class HostConnector {
 public:
  virtual ~HostConnector() = default;
  /// Opens (or reuses) the connection to an instance's host. Pins the host
  /// key per deployment: a changed key is kHostKeyChanged, never accepted.
  virtual Expected<std::shared_ptr<Host>, HostError> connect(const Instance& instance,
                                                             const std::string& deployment) = 0;
  /// SSH handshakes made so far (the benchmark counts them: one per host).
  virtual int handshakes() const { return 0; }
  /// Closes master connections (end of the command).
  virtual void close_all() {}
};

/// This machine, with the runtime called directly (`local` provider).
std::unique_ptr<HostConnector> make_local_host_connector(ProcessRunner& runner);

}  // namespace berth
