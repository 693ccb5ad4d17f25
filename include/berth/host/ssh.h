// SSH to hosts with the system OpenSSH client, through ProcessRunner (argv
// only). One master connection per host and deployment (ControlMaster), so a
// whole `up` costs one handshake; host keys pinned per deployment with
// accept-new in berth's own known_hosts, never StrictHostKeyChecking=no.
//
// Remote commands are argv vectors: SSH hands the remote side one string that
// its login shell parses, so the argv is quoted with shell_command here and
// nowhere else. Secrets go through stdin, never into that string.
#pragma once

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/expected.h"
#include "berth/common/process.h"
#include "berth/common/units.h"

namespace berth {

struct SshTarget {
  std::string host;
  int port = 22;
  std::string user = "root";
  std::string to_string() const;  // user@host:port, for messages
};

struct SshError {
  enum class Kind {
    kUnreachable,     // refused, no route, connect timeout, closed before login
    kAuth,            // the host rejected berth's key
    kHostKeyChanged,  // the pinned key differs: refused, never accepted
    kTimeout,         // berth's own deadline for the command passed
    kCancelled,       // SIGINT/SIGTERM while it ran
    kLocal,           // ssh could not be started here
  };
  Kind kind = Kind::kUnreachable;
  std::string message;  // one line, names the host
};

std::string to_string(SshError::Kind kind);  // "unreachable", "auth", ...

struct SshOptions {
  std::filesystem::path state_dir;  // <state>/ssh/ (sockets), <state>/known_hosts/
  std::string deployment;           // host keys are pinned per deployment
  std::filesystem::path identity;   // private key (ensure_ssh_key)
  Duration connect_timeout{15'000};
  Duration persist{300'000};  // ControlPersist: an idle master's lifetime
  Duration server_alive{15'000};
  std::string program = "ssh";
  std::optional<std::string> config_file;  // -F; tests pass /dev/null
  const std::atomic<bool>* cancel = nullptr;
};

/// One host, one deployment: a master connection and commands over it.
class SshSession {
 public:
  SshSession(SshTarget target, SshOptions options, ProcessRunner& runner = system_process_runner());
  ~SshSession();  // closes the master this session opened
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  /// Connects (the one handshake) unless a master for this host and
  /// deployment is already up. Idempotent.
  Expected<void, SshError> open();

  /// Runs argv on the host. A remote command that fails is a result (its exit
  /// code and output), not an error: errors are about getting there.
  Expected<ProcessResult, SshError> run(const std::vector<std::string>& argv,
                                        std::optional<std::string> stdin_data = std::nullopt,
                                        std::optional<Duration> timeout = std::nullopt,
                                        bool cancellable = true);

  /// With the terminal: `berth ssh` (empty argv = login shell), `exec`,
  /// `logs -f`. Returns the remote exit code.
  Expected<int, SshError> interactive(const std::vector<std::string>& argv, bool tty);

  /// Closes the master (`-O exit`) if this session opened it. Idempotent.
  void close();

  /// Masters this session opened (0 or 1; the benchmark counts handshakes).
  int handshakes() const { return handshakes_; }
  const SshTarget& target() const { return target_; }
  const std::filesystem::path& control_path() const { return control_path_; }
  std::filesystem::path known_hosts() const;
  /// The ssh argv for a command string (without it when empty); for tests.
  std::vector<std::string> ssh_argv(const std::vector<std::string>& extra_options,
                                    const std::string& command) const;

 private:
  Expected<void, SshError> prepare_dirs() const;
  SshError classify(const ProcessResult& r, const std::string& what) const;

  SshTarget target_;
  SshOptions options_;
  ProcessRunner& runner_;
  std::filesystem::path control_path_;
  bool opened_ = false;  // this session started the master
  int handshakes_ = 0;
};

struct SshKey {
  std::filesystem::path private_key;
  std::string public_key;  // one OpenSSH line: "ssh-ed25519 AAAA... comment"
};

/// The key berth uses: config `ssh.key` when set (its .pub, else derived with
/// ssh-keygen -y), else <state_dir>/id_ed25519, generated once (mode 0600).
Expected<SshKey, std::string> ensure_ssh_key(const std::filesystem::path& state_dir,
                                             const std::optional<std::filesystem::path>& configured,
                                             ProcessRunner& runner = system_process_runner());

}  // namespace berth
