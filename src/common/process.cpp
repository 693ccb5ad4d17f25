#include "berth/common/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>

#include "berth/common/cancel.h"

extern char** environ;

namespace berth {
namespace {

class PosixProcessRunner : public ProcessRunner {
 public:
  Expected<ProcessResult, std::string> run(const ProcessSpec& spec) override;
};

std::vector<std::string> build_env(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos && extra.count(entry.substr(0, eq))) continue;
    env.push_back(std::move(entry));
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

std::string fmt_error(const std::string& program, int err) {
  return "cannot run " + program + ": " + std::strerror(err);
}

void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Whether the child has exited, leaving it to be reaped later (waitpid
// rejects WNOWAIT; waitid takes it).
bool has_exited(pid_t pid) {
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

// A child that exits before reading all of its stdin must not kill berth with
// SIGPIPE: the write fails with EPIPE instead and the result says what the
// child did. Children get the default disposition back (POSIX_SPAWN_SETSIGDEF).
void ignore_sigpipe_once() {
  static const bool done = [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
      signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

Expected<ProcessResult, std::string> PosixProcessRunner::run(const ProcessSpec& spec) {
  if (spec.argv.empty()) return unexpected(std::string("empty command"));
  ignore_sigpipe_once();
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  bool capture = !spec.inherit_stdio;
  if (capture) {
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
      return unexpected(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  }
  if (spec.stdin_data) {
    if (pipe2(in_pipe, O_CLOEXEC) != 0) return unexpected(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  } else if (!spec.inherit_stdio) {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  // Non-interactive children get their own process group, so a terminal ^C
  // reaches berth alone and berth decides how to stop them (and clean up).
  if (!spec.inherit_stdio) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGCHLD);
  posix_spawnattr_setsigdefault(&attr, &defaults);

  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = build_env(spec.extra_env);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (capture) {
    close(out_pipe[1]);
    close(err_pipe[1]);
  }
  if (spec.stdin_data) close(in_pipe[0]);
  if (rc != 0) {
    if (capture) {
      close(out_pipe[0]);
      close(err_pipe[0]);
    }
    if (spec.stdin_data) close(in_pipe[1]);
    return unexpected(fmt_error(spec.argv[0], rc));
  }

  ProcessResult result;
  std::size_t written = 0;
  int in_fd = spec.stdin_data ? in_pipe[1] : -1;
  if (in_fd >= 0) {
    set_nonblock(in_fd);
    if (spec.stdin_data->empty()) {
      close(in_fd);
      in_fd = -1;
    }
  }
  int out_fd = capture ? out_pipe[0] : -1, err_fd = capture ? err_pipe[0] : -1;
  auto start = std::chrono::steady_clock::now();
  // The thread's call deadline (berth/common/cancel.h) ends the run as a timeout would.
  const auto call_due = call_deadline();
  std::optional<std::chrono::steady_clock::time_point> stop_due;
  bool killed = false;
  auto kill_child = [&](bool cancelled) {
    if (killed) return;
    killed = true;
    result.timed_out = !cancelled;
    result.cancelled = cancelled;
    kill(spec.inherit_stdio ? pid : -pid, SIGTERM);
    // Give it a moment to exit cleanly, then make sure.
    for (int i = 0; i < 20; ++i) {
      if (has_exited(pid)) break;
      usleep(50'000);
    }
    kill(spec.inherit_stdio ? pid : -pid, SIGKILL);
  };

  char buf[65536];
  while (out_fd >= 0 || err_fd >= 0 || in_fd >= 0 || (!capture && !killed)) {
    if (!capture) {
      // Interactive: nothing to pump, just wait with the timeout/cancel checks.
      int status = 0;
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
        return result;
      }
      usleep(20'000);
    } else {
      pollfd fds[3];
      int n = 0;
      if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
      if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
      if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
      int pr = poll(fds, n, 100);
      if (pr < 0 && errno != EINTR) break;
      for (int i = 0; i < n && pr > 0; ++i) {
        if (!fds[i].revents) continue;
        if (fds[i].fd == in_fd) {
          ssize_t w = write(in_fd, spec.stdin_data->data() + written,
                            spec.stdin_data->size() - written);
          if (w > 0) written += static_cast<std::size_t>(w);
          if (w < 0 && errno != EAGAIN && errno != EINTR) written = spec.stdin_data->size();
          if (written >= spec.stdin_data->size()) {
            close(in_fd);
            in_fd = -1;
          }
          continue;
        }
        ssize_t r = read(fds[i].fd, buf, sizeof buf);
        if (r > 0) {
          (fds[i].fd == out_fd ? result.out : result.err).append(buf, static_cast<std::size_t>(r));
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          close(fds[i].fd);
          (fds[i].fd == out_fd ? out_fd : err_fd) = -1;
        }
      }
    }
    if (!killed) {
      auto now = std::chrono::steady_clock::now();
      bool cancelled = spec.cancel && (spec.cancel->load() || thread_cancelled());
      bool timed_out = (spec.timeout && now - start > *spec.timeout) || (call_due && now > *call_due);
      if ((cancelled || timed_out) && !stop_due) stop_due = now;
      if (stop_due && (!spec.ready_to_stop || spec.ready_to_stop(result.err) ||
                       now - *stop_due >= spec.stop_wait))
        kill_child(cancelled);
    }
    // Once the child we killed is gone, stop waiting for end-of-file: a
    // process outside its group may still hold the pipes (an SSH master
    // keeps a multiplexed client's stdio until the remote command ends).
    if (killed && capture && has_exited(pid)) {
      if (out_fd >= 0) close(out_fd);
      if (err_fd >= 0) close(err_fd);
      out_fd = err_fd = -1;
      break;
    }
  }
  if (in_fd >= 0) close(in_fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    result.exit_code = -1;
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace

ProcessRunner& system_process_runner() {
  static PosixProcessRunner runner;
  return runner;
}

std::optional<std::string> find_program(const std::string& program) {
  if (program.find('/') != std::string::npos)
    return access(program.c_str(), X_OK) == 0 ? std::optional(program) : std::nullopt;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= p.size()) {
    auto end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + program;
      struct stat st {};
      if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          access(candidate.c_str(), X_OK) == 0)
        return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace berth
