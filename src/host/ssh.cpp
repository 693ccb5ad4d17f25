#include "berth/host/ssh.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "berth/common/shell_quote.h"

namespace berth {
namespace {

namespace fs = std::filesystem;

// A Unix socket path holds 107 bytes, and ssh first binds a temporary name
// 17 bytes longer than ControlPath.
constexpr std::size_t kMaxControlPath = 107 - 18;

// First line of a remote command's stderr: the remote process group.
constexpr const char* kPidMarker = "berth-remote-pid:";

std::string fnv1a_hex(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

long seconds(Duration d) { return std::max<long>(1, static_cast<long>((d.count() + 999) / 1000)); }

std::string tail_lines(const std::string& text, int lines = 5) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  std::size_t pos = t.size();
  for (int i = 0; i < lines && pos != std::string::npos && pos > 0; ++i)
    pos = t.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? t : t.substr(pos + 1);
}

std::string last_line(const std::string& text) { return tail_lines(text, 1); }

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

Expected<void, std::string> make_private_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return unexpected("cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return {};
}

// The folder of the control sockets: a socket there receives every command
// berth sends the host, secrets on stdin included, so only a folder berth
// made and nobody else can enter will do. Created with mode 0700 when
// absent, then opened without following a symlink and checked: a directory,
// this user's, no access for anyone else. Anything else is refused, never
// repaired: whoever could write to it may have left a socket of their own.
Expected<void, std::string> make_socket_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);
  if (ec) return unexpected("cannot create " + dir.parent_path().string() + ": " + ec.message());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return unexpected("cannot create " + dir.string() + ": " + std::strerror(errno));
  const std::string fix =
      ": berth keeps its SSH control sockets only in a folder of its own that nobody else can "
      "enter; remove it (or set XDG_RUNTIME_DIR, or a shorter XDG_STATE_HOME) and run berth again";
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0)
    return unexpected("cannot read " + dir.string() + ": " + std::strerror(errno));
  if (S_ISLNK(st.st_mode)) return unexpected(dir.string() + " is a symbolic link" + fix);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return unexpected(dir.string() + " is not a folder berth can use" + fix);
  struct Close {
    int fd;
    ~Close() { ::close(fd); }
  } close_fd{fd};
  if (::fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode))
    return unexpected(dir.string() + " is not a folder" + fix);
  if (st.st_uid != ::geteuid())
    return unexpected(fmt::format("{} belongs to uid {}, not to this user (uid {}){}", dir.string(),
                                  st.st_uid, ::geteuid(), fix));
  if ((st.st_mode & 077) != 0)
    return unexpected(fmt::format("{} is open to other users (mode {:04o}){}", dir.string(),
                                  st.st_mode & 07777, fix));
  // A umask may have taken the owner's own bits; nobody else has any.
  if ((st.st_mode & 0700) != 0700 && ::fchmod(fd, 0700) != 0)
    return unexpected("cannot make " + dir.string() + " usable: " + std::strerror(errno));
  return {};
}

fs::path expand_home(const fs::path& p) {
  std::string s = p.string();
  if (s == "~" || s.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home && *home) return fs::path(home) / s.substr(s.size() > 1 ? 2 : 1);
  }
  return p;
}

Expected<std::string, std::string> read_first_line(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return unexpected("cannot read " + file.string());
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) return unexpected(file.string() + " is empty");
  return line;
}

}  // namespace

std::string SshTarget::to_string() const {
  return user + "@" + host + (port == 22 ? "" : ":" + std::to_string(port));
}

std::string to_string(SshError::Kind kind) {
  switch (kind) {
    case SshError::Kind::kUnreachable:
      return "unreachable";
    case SshError::Kind::kAuth:
      return "auth";
    case SshError::Kind::kHostKeyChanged:
      return "host-key-changed";
    case SshError::Kind::kTimeout:
      return "timeout";
    case SshError::Kind::kCancelled:
      return "cancelled";
    case SshError::Kind::kLocal:
      return "local";
  }
  return "unknown";
}

SshSession::SshSession(SshTarget target, SshOptions options, ProcessRunner& runner)
    : target_(std::move(target)), options_(std::move(options)), runner_(runner) {
  // One master per host *and* deployment: each deployment pins its own host
  // keys, which a master shared across deployments would bypass.
  std::string name = "cm-" + fnv1a_hex(target_.user + "@" + target_.host + ":" +
                                       std::to_string(target_.port) + "/" + options_.deployment);
  control_path_ = options_.state_dir / "ssh" / name;
  // Too long for a socket: the user's runtime folder, else one of berth's
  // own under /tmp (make_socket_dir checks whose it is).
  if (control_path_.string().size() > kMaxControlPath) {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    fs::path in_runtime = runtime && *runtime == '/' ? fs::path(runtime) / "berth" / name : "";
    control_path_ = !in_runtime.empty() && in_runtime.string().size() <= kMaxControlPath
                        ? in_runtime
                        : fs::path("/tmp") / ("berth-" + std::to_string(::geteuid())) / name;
  }
}

SshSession::~SshSession() { close(); }

fs::path SshSession::known_hosts() const {
  return options_.state_dir / "known_hosts" /
         (options_.deployment.empty() ? std::string("default") : options_.deployment);
}

std::vector<std::string> SshSession::ssh_argv(const std::vector<std::string>& extra_options,
                                              const std::string& command) const {
  std::vector<std::string> argv = {options_.program};
  if (options_.config_file) argv.insert(argv.end(), {"-F", *options_.config_file});
  auto opt = [&](const std::string& o) { argv.insert(argv.end(), {"-o", o}); };
  opt("BatchMode=yes");
  opt("StrictHostKeyChecking=accept-new");
  opt("UserKnownHostsFile=" + known_hosts().string());
  opt("GlobalKnownHostsFile=/dev/null");
  opt("UpdateHostKeys=no");
  opt("HashKnownHosts=no");
  opt("ConnectTimeout=" + std::to_string(seconds(options_.connect_timeout)));
  opt("ServerAliveInterval=" + std::to_string(seconds(options_.server_alive)));
  opt("ServerAliveCountMax=3");
  opt("ControlPath=" + control_path_.string());
  opt("ControlPersist=" + std::to_string(seconds(options_.persist)));
  opt("LogLevel=ERROR");
  if (!options_.identity.empty()) {
    opt("IdentitiesOnly=yes");
    argv.insert(argv.end(), {"-i", options_.identity.string()});
  }
  argv.insert(argv.end(), extra_options.begin(), extra_options.end());
  argv.insert(argv.end(),
              {"-p", std::to_string(target_.port), "-l", target_.user, "--", target_.host});
  if (!command.empty()) argv.push_back(command);
  return argv;
}

SshError SshSession::classify(const ProcessResult& r, const std::string& what) const {
  const std::string& err = r.err;
  const std::string host = target_.host;
  SshError e;
  if (r.cancelled) {
    e.kind = SshError::Kind::kCancelled;
    e.message = what + " on " + host + " was interrupted";
  } else if (r.timed_out) {
    e.kind = SshError::Kind::kTimeout;
    e.message = what + " on " + host + " did not finish in time";
  } else if (contains(err, "REMOTE HOST IDENTIFICATION HAS CHANGED") ||
             contains(err, "Host key verification failed")) {
    e.kind = SshError::Kind::kHostKeyChanged;
    e.message = "host key for " + host + " changed";
  } else if (contains(err, "Permission denied") || contains(err, "Too many authentication")) {
    e.kind = SshError::Kind::kAuth;
    e.message = "the host " + target_.to_string() + " rejected berth's key";
  } else {
    e.kind = SshError::Kind::kUnreachable;
    std::string why = last_line(err);
    e.message = "cannot reach " + target_.to_string() + (why.empty() ? "" : ": " + why);
  }
  return e;
}

// ssh exits 255 for its own failures; a remote command may exit 255 as well,
// which stderr tells apart.
static bool ssh_failed(const ProcessResult& r) {
  if (r.cancelled || r.timed_out) return true;
  if (r.exit_code != 255) return false;
  for (std::string_view marker :
       {"ssh: ", "Host key verification failed", "REMOTE HOST IDENTIFICATION", "Permission denied",
        "Connection closed by", "Connection reset", "kex_exchange_identification", "Control socket",
        "mux_client", "ControlPath", "Too many authentication", "banner exchange",
        "Connection timed out"})
    if (contains(r.err, marker)) return true;
  return false;
}

// The control socket and known_hosts live in berth's private state folders;
// every entry point makes sure they exist, since a command may come first.
Expected<void, SshError> SshSession::prepare_dirs() const {
  if (auto d = make_socket_dir(control_path_.parent_path()); !d)
    return unexpected(SshError{SshError::Kind::kLocal, d.error()});
  if (auto d = make_private_dir(known_hosts().parent_path()); !d)
    return unexpected(SshError{SshError::Kind::kLocal, d.error()});
  return {};
}

Expected<void, SshError> SshSession::open() {
  if (auto d = prepare_dirs(); !d) return unexpected(d.error());
  // A master from an earlier berth command (within ControlPersist) serves.
  auto check = runner_.run({.argv = ssh_argv({"-O", "check"}, ""), .timeout = Duration{10'000}});
  if (check && check->exit_code == 0) return {};
  // -N -f: authenticate, then the master goes to the background with its
  // stdio on /dev/null (so our pipes close) and serves every later command.
  ProcessSpec spec{.argv = ssh_argv({"-o", "ControlMaster=yes", "-N", "-f"}, ""),
                   .timeout = options_.connect_timeout + Duration{10'000},
                   .cancel = options_.cancel};
  auto r = runner_.run(spec);
  if (!r)
    return unexpected(SshError{SshError::Kind::kLocal, "cannot run ssh: " + r.error()});
  if (!r->ok()) return unexpected(classify(*r, "connecting"));
  opened_ = true;
  ++handshakes_;
  return {};
}

Expected<ProcessResult, SshError> SshSession::run(const std::vector<std::string>& argv,
                                                  std::optional<std::string> stdin_data,
                                                  std::optional<Duration> timeout,
                                                  bool cancellable) {
  auto command = shell_command(argv);
  if (!command) return unexpected(SshError{SshError::Kind::kLocal, command.error()});
  if (auto d = prepare_dirs(); !d) return unexpected(d.error());
  // Killing the local ssh does not stop the remote command: the master keeps
  // its channel. sshd makes the remote shell a session (and process group)
  // leader, and exec keeps its pid, so the command first reports that pid;
  // a cancelled or timed-out command's whole group is then killed (dash's
  // kill takes no "--", hence "-PID" right after the signal), before
  // the caller goes on to clean up what the command might still create.
  std::string remote = std::string("printf '") + kPidMarker + "%s\\n' \"$$\" >&2; exec " + *command;
  // ControlMaster=auto: should the master have gone (idle past
  // ControlPersist), this command becomes the new one.
  ProcessSpec spec{.argv = ssh_argv({"-o", "ControlMaster=auto", "-T"}, remote),
                   .stdin_data = std::move(stdin_data),
                   .timeout = timeout,
                   .cancel = cancellable ? options_.cancel : nullptr};
  // Stopped before the pid arrives, the command would run on unseen (a pull
  // to its end; a `run` that starts its container after the rollback removed
  // it): the local ssh lives until the pid is in, bounded by stop_wait.
  spec.ready_to_stop = [](const std::string& err) {
    auto at = err.rfind(kPidMarker, 0) == 0 ? 0 : err.find(std::string("\n") + kPidMarker);
    return at != std::string::npos && err.find('\n', at + 1) != std::string::npos;
  };
  auto r = runner_.run(spec);
  if (!r)
    return unexpected(SshError{SshError::Kind::kLocal, "cannot run ssh: " + r.error()});
  std::optional<long> remote_pid;
  // ssh's own messages may come first.
  std::size_t at =
      r->err.rfind(kPidMarker, 0) == 0 ? 0 : r->err.find(std::string("\n") + kPidMarker);
  if (at != std::string::npos) {
    std::size_t begin = at == 0 ? 0 : at + 1;
    auto eol = r->err.find('\n', begin);
    try {
      remote_pid = std::stol(r->err.substr(begin + std::strlen(kPidMarker)));
    } catch (const std::exception&) {
    }
    r->err.erase(begin, eol == std::string::npos ? std::string::npos : eol + 1 - begin);
  }
  if ((r->cancelled || r->timed_out) && remote_pid && *remote_pid > 1) {
    auto killed = runner_.run({.argv = ssh_argv({"-o", "ControlMaster=auto", "-T"},
                                                shell_join({"sh", "-c",
                                                            "kill -TERM \"-$1\" 2>/dev/null; "
                                                            "kill -TERM \"$1\" 2>/dev/null; true",
                                                            "sh", std::to_string(*remote_pid)})),
                               .timeout = Duration{10'000}});
    (void)killed;
  }
  if (ssh_failed(*r)) return unexpected(classify(*r, "'" + argv.front() + "'"));
  return *r;
}

Expected<int, SshError> SshSession::interactive(const std::vector<std::string>& argv, bool tty) {
  std::string command;
  if (!argv.empty()) {
    auto c = shell_command(argv);
    if (!c) return unexpected(SshError{SshError::Kind::kLocal, c.error()});
    command = *c;
  }
  // The cancel flag ends it too: the command's --timeout sets it (a ^C at
  // the terminal reaches the remote side through the terminal itself).
  ProcessSpec spec{.argv = ssh_argv({"-o", "ControlMaster=auto", tty ? "-t" : "-T"}, command),
                   .inherit_stdio = true,
                   .cancel = options_.cancel};
  auto r = runner_.run(spec);
  if (!r)
    return unexpected(SshError{SshError::Kind::kLocal, "cannot run ssh: " + r.error()});
  if (r->cancelled)
    return unexpected(
        SshError{SshError::Kind::kCancelled, "cancelled: " + target_.to_string()});
  if (r->signal) return 128 + r->signal;
  return r->exit_code;
}

void SshSession::close() {
  if (!opened_) return;
  opened_ = false;
  // Not cancellable: this is cleanup and runs after ^C too.
  auto r = runner_.run({.argv = ssh_argv({"-O", "exit"}, ""), .timeout = Duration{10'000}});
  (void)r;
  // `-O exit` answers before the master has removed its socket: wait, bounded,
  // so a closed session is really closed when close() returns.
  for (int i = 0; i < 100 && fs::exists(control_path_); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

Expected<SshKey, std::string> ensure_ssh_key(const fs::path& state_dir,
                                             const std::optional<fs::path>& configured,
                                             ProcessRunner& runner) {
  if (configured) {
    fs::path key = expand_home(*configured);
    std::error_code ec;
    if (!fs::exists(key, ec)) return unexpected("ssh.key " + key.string() + " does not exist");
    fs::path pub = key;
    pub += ".pub";
    if (fs::exists(pub, ec)) {
      auto line = read_first_line(pub);
      if (!line) return unexpected(line.error());
      return SshKey{key, *line};
    }
    auto derived =
        runner.run({.argv = {"ssh-keygen", "-y", "-f", key.string()}, .timeout = Duration{10'000}});
    if (!derived) return unexpected("cannot run ssh-keygen: " + derived.error());
    if (!derived->ok() || derived->out.empty())
      return unexpected("cannot read the public half of " + key.string() +
                        " (a passphrase-protected key needs its .pub file next to it)");
    return SshKey{key, last_line(derived->out)};
  }

  if (auto d = make_private_dir(state_dir); !d) return unexpected(d.error());
  fs::path key = state_dir / "id_ed25519";
  fs::path pub = state_dir / "id_ed25519.pub";
  // Two berth commands starting at once must end up with one key.
  fs::path lock_path = state_dir / ".id_ed25519.lock";
  int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0) return unexpected("cannot lock " + lock_path.string());
  ::flock(lock, LOCK_EX);
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{lock};

  std::error_code ec;
  if (!fs::exists(key, ec) || !fs::exists(pub, ec)) {
    fs::path tmp = state_dir / (".id_ed25519.new-" + std::to_string(::getpid()));
    fs::path tmp_pub = tmp;
    tmp_pub += ".pub";
    fs::remove(tmp, ec);
    fs::remove(tmp_pub, ec);
    auto r = runner.run(
        {.argv = {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "berth", "-f", tmp.string()},
         .timeout = Duration{30'000}});
    if (!r) return unexpected("cannot run ssh-keygen: " + r.error());
    if (!r->ok()) return unexpected("ssh-keygen failed: " + last_line(r->err));
    ::chmod(tmp.c_str(), 0600);
    fs::rename(tmp_pub, pub, ec);
    if (!ec) fs::rename(tmp, key, ec);
    if (ec) return unexpected("cannot store the generated key in " + state_dir.string());
  }
  auto line = read_first_line(pub);
  if (!line) return unexpected(line.error());
  return SshKey{key, *line};
}

}  // namespace berth
