// The real `berth watch` as a child process for end-to-end tests: its JSON
// event lines are read as they come, so a test can wait for an event, inject
// a fault, and wait for the reaction, each wait bounded.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace berth::testing {

class WatchProcess {
 public:
  /// Starts BERTH_BINARY with `args`, stderr piped (the events), stdout to
  /// /dev/null, environment inherited plus `env` ("NAME=value", replacing an
  /// inherited variable of the same name).
  explicit WatchProcess(const std::vector<std::string>& args,
                        const std::vector<std::string>& env = {}) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::vector<std::string> argv_s{BERTH_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    // A name given in `env` replaces the inherited one: with both in the
    // block, getenv would find the inherited one first.
    std::vector<std::string> env_s;
    auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
    for (char** e = environ; *e; ++e) {
      std::string entry(*e);
      bool replaced = false;
      for (const auto& given : env) replaced = replaced || name_of(given) == name_of(entry);
      if (!replaced) env_s.push_back(entry);
    }
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      throw std::runtime_error("cannot start " + argv_s[0]);
    }
    fd_ = fds[0];
  }

  ~WatchProcess() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  WatchProcess(const WatchProcess&) = delete;
  WatchProcess& operator=(const WatchProcess&) = delete;

  /// Waits (at most `limit`) for an event matching `match`; returns it, or
  /// nullopt when time ran out or berth exited first. Every event read is
  /// kept in events().
  std::optional<nlohmann::json> wait_for(const std::function<bool(const nlohmann::json&)>& match,
                                         std::chrono::milliseconds limit) {
    for (std::size_t i = checked_; i < events_.size(); ++i) {
      checked_ = i + 1;
      if (match(events_[i])) return events_[i];
    }
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto line = next_line(deadline);
      if (!line) return std::nullopt;
      checked_ = events_.size();
      if (!line->empty() && (*line)[0] == '{') {
        auto j = nlohmann::json::parse(*line, nullptr, false);
        if (!j.is_discarded()) {
          events_.push_back(j);
          checked_ = events_.size();
          if (match(j)) return j;
          continue;
        }
      }
      other_lines_.push_back(*line);
    }
    return std::nullopt;
  }

  std::optional<nlohmann::json> wait_event(const std::string& event,
                                           std::chrono::milliseconds limit,
                                           std::optional<int> replica = std::nullopt) {
    return wait_for(
        [&](const nlohmann::json& j) {
          return j.value("event", "") == event &&
                 (!replica || (j["replica"].is_number() && j["replica"] == *replica));
        },
        limit);
  }

  /// SIGTERM, then the exit code (bounded; SIGKILL after `limit`).
  int terminate(std::chrono::milliseconds limit = std::chrono::milliseconds(60'000)) {
    if (exit_code_) return *exit_code_;
    ::kill(pid_, SIGTERM);
    return wait_exit(limit);
  }

  /// Reads the rest of the events until berth exits (bounded).
  int wait_exit(std::chrono::milliseconds limit) {
    if (exit_code_) return *exit_code_;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (next_line(deadline)) {
      const std::string& line = last_line_;
      auto j = line.empty() || line[0] != '{' ? nlohmann::json()
                                              : nlohmann::json::parse(line, nullptr, false);
      if (j.is_object())
        events_.push_back(j);
      else
        other_lines_.push_back(line);
    }
    int status = 0;
    if (std::chrono::steady_clock::now() >= deadline) ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return *exit_code_;
  }

  const std::vector<nlohmann::json>& events() const { return events_; }
  const std::vector<std::string>& other_lines() const { return other_lines_; }
  std::vector<nlohmann::json> events_named(const std::string& name) const {
    std::vector<nlohmann::json> out;
    for (const auto& e : events_)
      if (e.value("event", "") == name) out.push_back(e);
    return out;
  }
  /// Everything read so far, for failure messages.
  std::string transcript() const {
    std::string out;
    for (const auto& e : events_) out += e.dump() + "\n";
    for (const auto& l : other_lines_) out += l + "\n";
    return out;
  }

 private:
  // One line from stderr, or nullopt at EOF or the deadline.
  std::optional<std::string> next_line(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        last_line_ = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return last_line_;
      }
      if (eof_) return std::nullopt;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
      if (n <= 0) continue;
      char buf[4096];
      ssize_t got = ::read(fd_, buf, sizeof buf);
      if (got <= 0) {
        eof_ = true;
        continue;
      }
      buffer_.append(buf, static_cast<std::size_t>(got));
    }
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
  std::string last_line_;
  std::size_t checked_ = 0;
  std::vector<nlohmann::json> events_;
  std::vector<std::string> other_lines_;
  std::optional<int> exit_code_;
};

}  // namespace berth::testing
