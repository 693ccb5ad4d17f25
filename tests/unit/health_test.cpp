#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "berth/health.h"

using namespace berth;
using Clock = std::chrono::steady_clock;

TEST_CASE("failures count only after grace and only when consecutive", "[health]") {
  HealthCheck c;
  c.failures = 3;
  c.grace = Duration{10'000};
  auto t0 = Clock::time_point{};
  HealthTracker t(c, t0);
  for (int i = 0; i < 10; ++i) CHECK(t.record(false, t0 + std::chrono::seconds(i)) == HealthState::kStarting);
  CHECK(t.record(false, t0 + std::chrono::seconds(11)) == HealthState::kStarting);
  CHECK(t.record(false, t0 + std::chrono::seconds(12)) == HealthState::kStarting);
  CHECK(t.record(true, t0 + std::chrono::seconds(13)) == HealthState::kHealthy);
  CHECK(t.consecutive_failures() == 0);
  // After the first success, grace no longer applies.
  CHECK(t.record(false, t0 + std::chrono::seconds(14)) == HealthState::kHealthy);
  CHECK(t.record(false, t0 + std::chrono::seconds(15)) == HealthState::kHealthy);
  CHECK(t.record(false, t0 + std::chrono::seconds(16), "HTTP 503") == HealthState::kUnhealthy);
  CHECK(t.last_detail() == "HTTP 503");
}

namespace {
// A one-shot loopback server answering with a fixed response.
struct OneShotServer {
  int fd = -1;
  int port = 0;
  std::thread thread;
  explicit OneShotServer(std::string response) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    ::listen(fd, 1);
    thread = std::thread([this, response] {
      int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      char buf[1024];
      (void)::recv(c, buf, sizeof buf, 0);
      (void)::send(c, response.data(), response.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~OneShotServer() {
    ::shutdown(fd, SHUT_RDWR);
    thread.join();
    ::close(fd);
  }
};
}  // namespace

TEST_CASE("http probe: 2xx is healthy, 5xx is not, refused says so", "[health]") {
  {
    OneShotServer s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    CHECK(probe_http("127.0.0.1", s.port, "/health", Duration{2000}));
  }
  {
    OneShotServer s("HTTP/1.0 503 Service Unavailable\r\n\r\n");
    auto r = probe_http("127.0.0.1", s.port, "/", Duration{2000});
    REQUIRE_FALSE(r);
    CHECK(r.error() == "HTTP 503 Service Unavailable");
  }
  int port;
  {
    OneShotServer s("HTTP/1.0 200 OK\r\n\r\n");
    port = s.port;
    CHECK(probe_tcp("127.0.0.1", port, Duration{2000}));
  }
  auto refused = probe_tcp("127.0.0.1", port, Duration{2000});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().find("refused") != std::string::npos);
}
