// Helpers shared by the deploy end-to-end tests: a berth process in the
// background (for interrupts and for watching the process list while it
// runs), plain HTTP GETs against published endpoints, and a guard that
// removes whatever a failed test left behind.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/e2e_env.h"

extern char** environ;

namespace berth::e2e {

/// berth's config for the `local` provider through the environment's podman.
inline constexpr const char* kLocalConfig = "providers:\n  here: {type: local}\nruntime: podman\n";

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Polls `pred` every 50 ms until it holds or `limit` passes.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

/// berth running in the background, its output going to files.
class BackgroundBerth {
 public:
  BackgroundBerth(const std::filesystem::path& dir, const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env)
      : out_(dir / "bg.out"), err_(dir / "bg.err") {
    std::vector<std::string> argv = {BERTH_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) {
      std::string entry(*e);
      if (!env.count(entry.substr(0, entry.find('=')))) envs.push_back(entry);
    }
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int n = ::open("/dev/null", O_RDONLY);
      ::dup2(n, 0);
      ::dup2(o, 1);
      ::dup2(e, 2);
      std::vector<char*> a, en;
      for (auto& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      for (auto& s : envs) en.push_back(s.data());
      en.push_back(nullptr);
      ::execve(a[0], a.data(), en.data());
      ::_exit(127);
    }
  }
  ~BackgroundBerth() {
    if (pid_ > 0 && exit_code_ == kRunning) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::string err() const { return slurp(err_); }
  std::string out() const { return slurp(out_); }
  bool wait_for_stderr(const std::string& needle,
                       std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    return eventually([&] { return err().find(needle) != std::string::npos || finished(); }, limit) &&
           err().find(needle) != std::string::npos;
  }
  bool finished() {
    if (exit_code_ != kRunning) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return true;
    }
    return false;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  /// The exit code, or -1 when it did not end within `limit`.
  int wait(std::chrono::milliseconds limit = std::chrono::seconds(120)) {
    eventually([&] { return finished(); }, limit);
    return exit_code_ == kRunning ? -1 : exit_code_;
  }

 private:
  static constexpr int kRunning = -1000;
  std::filesystem::path out_, err_;
  pid_t pid_ = -1;
  int exit_code_ = kRunning;
};

/// GET http://host:port/path; the body, or "" when it fails.
inline std::string http_get(const std::string& host, int port, const std::string& path = "/") {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return "";
  int fd = ::socket(res->ai_family, res->ai_socktype, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  bool ok = ::connect(fd, res->ai_addr, res->ai_addrlen) == 0;
  freeaddrinfo(res);
  std::string response;
  if (ok) {
    std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n";
    (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

/// A template body (after `name:`) for the private entry image
/// (host/entry-serve.sh), its credentials from ${REG_USER} and ${REG_PASS},
/// serving on 8000 with a health check; `extra` adds keys.
inline std::string entry_template_body(const Environment& env, const std::string& extra) {
  return "image: " + env.registry.entry_image +
         "\nregistry_auth: {username: \"${REG_USER}\", password: \"${REG_PASS}\"}\n"
         "ports: [8000]\n"
         "health: {http: {port: 8000, path: /health}, interval: 1s, timeout: 2s, grace: 60s}\n"
         "resources: {gpu: {count: 1}}\n" +
         extra;
}

/// Runs `down` and removes leftover containers when a test ends, however it ends.
class DeploymentGuard {
 public:
  DeploymentGuard(const Environment& env, std::string deployment,
                  std::map<std::string, std::string> berth_env, std::vector<std::string> hosts)
      : env_(env), deployment_(std::move(deployment)), berth_env_(std::move(berth_env)),
        hosts_(std::move(hosts)) {}
  ~DeploymentGuard() {
    run_berth({"down", deployment_}, berth_env_);
    for (const auto& h : hosts_)
      for (const auto& c : env_.berth_containers(h, deployment_)) env_.runtime(h, {"rm", "-f", c});
  }

 private:
  const Environment& env_;
  std::string deployment_;
  std::map<std::string, std::string> berth_env_;
  std::vector<std::string> hosts_;
};

/// Makes one runtime step on a test host slow (60 s) while it lives: "pull"
/// or "start" (see host/runtime-wrapper.sh, which reads hosts/<name>/slow).
/// Works the same for a remote host (over SSH) and for "local".
class SlowRuntime {
 public:
  SlowRuntime(const Environment& env, const std::string& host, const std::string& step)
      : file_(env.host(host).dir / "slow") {
    if (step.empty()) return;
    std::ofstream(file_) << step;
    REQUIRE(std::filesystem::exists(file_));
  }
  ~SlowRuntime() {
    std::error_code ec;
    std::filesystem::remove(file_, ec);
  }
  SlowRuntime(const SlowRuntime&) = delete;
  SlowRuntime& operator=(const SlowRuntime&) = delete;

 private:
  std::filesystem::path file_;
};

struct Interrupted {
  int exit_code = -1;  // -1: berth did not end after the signal
  std::string err;
};

/// Runs `up -v TEMPLATE` in the background, sends `sig` once its stderr shows
/// `phase` (after `before_signal`, when given, has returned), and waits for
/// it to end.
inline Interrupted interrupt_up(const Scratch& scratch, const std::map<std::string, std::string>& env,
                                const std::filesystem::path& tmpl, const std::string& phase,
                                int sig = SIGINT, const std::function<void()>& before_signal = {}) {
  BackgroundBerth up(scratch.path(), {"up", "--yes", "-v", tmpl.string()}, env);
  INFO("waiting for '" << phase << "'");
  if (!up.wait_for_stderr(phase)) FAIL("never reached '" << phase << "':\n" << up.err());
  if (before_signal) before_signal();
  up.signal(sig);
  int code = up.wait();
  return {code, up.err()};
}

inline nlohmann::json parse_json(const std::string& text) {
  try {
    return nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    FAIL("not JSON (" << e.what() << "): " << text);
  }
  return {};
}

}  // namespace berth::e2e
