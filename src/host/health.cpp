#include "berth/host/health.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace berth {

std::string to_string(HealthState s) {
  switch (s) {
    case HealthState::kStarting: return "starting";
    case HealthState::kHealthy: return "healthy";
    case HealthState::kUnhealthy: return "unhealthy";
  }
  return "unknown";
}

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// A socket that owns its descriptor, so every early return closes it.
struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

Expected<void, std::string> connect_with_deadline(Socket& sock, const std::string& host, int port,
                                                  Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) return unexpected("cannot resolve " + host + ": " + gai_strerror(rc));
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) continue;
    int r = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int n = ::poll(&p, 1, remaining_ms(deadline));
      if (n <= 0) {
        ::close(fd);
        last_error = n == 0 ? "connection timed out" : std::strerror(errno);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      r = err == 0 ? 0 : -1;
      errno = err;
    }
    if (r == 0) {
      sock.fd = fd;
      freeaddrinfo(res);
      return {};
    }
    last_error = std::strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(res);
  return unexpected(host + ":" + service + ": " + last_error);
}

}  // namespace

Expected<void, std::string> probe_tcp(const std::string& host, int port, Duration timeout) {
  Socket sock;
  return connect_with_deadline(sock, host, port, Clock::now() + timeout);
}

Expected<void, std::string> probe_http(const std::string& host, int port, const std::string& path,
                                       Duration timeout) {
  auto deadline = Clock::now() + timeout;
  Socket sock;
  if (auto c = connect_with_deadline(sock, host, port, deadline); !c) return c;
  std::string target = path.empty() || path[0] != '/' ? "/" + path : path;
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + host + ":" +
                        std::to_string(port) +
                        "\r\nUser-Agent: berth-health\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    pollfd p{sock.fd, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return unexpected(std::string("timed out"));
    ssize_t n = ::send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return unexpected(std::string("send: ") + std::strerror(errno));
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  // Only the status line matters.
  std::string head;
  while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
    pollfd p{sock.fd, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0)
      return unexpected(std::string("timed out waiting for a response"));
    char buf[1024];
    ssize_t n = ::recv(sock.fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return unexpected(std::string("recv: ") + std::strerror(errno));
    }
    head.append(buf, static_cast<std::size_t>(n));
  }
  auto eol = head.find("\r\n");
  std::string line = head.substr(0, eol);
  if (line.rfind("HTTP/", 0) != 0 || line.size() < 12)
    return unexpected(line.empty() ? std::string("connection closed without a response")
                                   : "not an HTTP response: " + line.substr(0, 40));
  int status = std::atoi(line.substr(9, 3).c_str());
  if (status >= 200 && status < 400) return {};
  return unexpected("HTTP " + line.substr(9));
}

int HealthTarget::port_for(int container_port) const {
  auto it = published.find(container_port);
  return it == published.end() ? container_port : it->second;
}

Expected<std::string, std::string> check_health(const HealthCheck& check,
                                                const HealthTarget& target) {
  switch (check.kind) {
    case HealthCheck::Kind::kNone: return std::string("no health check");
    case HealthCheck::Kind::kHttp: {
      auto r = probe_http(target.address, target.port_for(check.port), check.path, check.timeout);
      if (!r) return unexpected(r.error());
      return std::string("ok");
    }
    case HealthCheck::Kind::kTcp: {
      auto r = probe_tcp(target.address, target.port_for(check.port), check.timeout);
      if (!r) return unexpected(r.error());
      return std::string("ok");
    }
    case HealthCheck::Kind::kExec: break;
  }
  if (!target.host || !target.runtime)
    return std::string("exec checks need the container runtime; not checked");
  auto r = target.host->run(HostCommand{
      .argv = exec_argv(*target.runtime, target.container, check.exec, false, false),
      .timeout = check.timeout});
  if (!r) return unexpected(r.error());
  if (r->timed_out) return unexpected(std::string("timed out"));
  if (!r->ok()) return unexpected("exit code " + std::to_string(r->exit_code));
  return std::string("exit code 0");
}

HealthTracker::HealthTracker(const HealthCheck& check, Clock::time_point started)
    : check_(check), started_(started) {}

HealthState HealthTracker::record(bool ok, Clock::time_point now, std::string detail) {
  detail_ = std::move(detail);
  if (ok) {
    failures_ = 0;
    ever_healthy_ = true;
    state_ = HealthState::kHealthy;
    return state_;
  }
  // The start period: a workload still loading its model is not failing yet.
  if (!ever_healthy_ && now - started_ < check_.grace) return state_;
  ++failures_;
  if (failures_ >= std::max(1, check_.failures)) state_ = HealthState::kUnhealthy;
  return state_;
}

}  // namespace berth
