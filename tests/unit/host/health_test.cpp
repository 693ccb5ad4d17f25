#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "berth/host/health.h"

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

namespace {
// A host that answers every command with one exit code and records the argv.
class ExecHost : public Host {
 public:
  explicit ExecHost(int exit_code, bool timed_out = false) : exit_code_(exit_code), timed_out_(timed_out) {}
  std::string address() const override { return "127.0.0.1"; }
  Expected<ProcessResult, std::string> run(const HostCommand& c) override {
    argv = c.argv;
    timeout = c.timeout;
    ProcessResult r;
    r.exit_code = exit_code_;
    r.timed_out = timed_out_;
    return r;
  }
  Expected<int, std::string> login_shell() override { return 0; }
  std::vector<std::string> argv;
  std::optional<Duration> timeout;

 private:
  int exit_code_;
  bool timed_out_;
};
}  // namespace

TEST_CASE("check_health: one check for every kind, at the published port", "[health]") {
  HealthTarget target;
  target.address = "127.0.0.1";
  HealthCheck none;
  CHECK(*check_health(none, target) == "no health check");

  // http and tcp probe the port the container port is published on.
  OneShotServer s("HTTP/1.1 204 No Content\r\n\r\n");
  HealthCheck http;
  http.kind = HealthCheck::Kind::kHttp;
  http.port = 8000;
  http.path = "/ready";
  http.timeout = Duration{2000};
  target.published = {{8000, s.port}};
  CHECK(target.port_for(8000) == s.port);
  CHECK(target.port_for(9000) == 9000);
  CHECK(check_health(http, target));

  // exec runs the command in the container, through the runtime, within the
  // check's timeout; where no runtime reaches the container it is not checked.
  HealthCheck exec;
  exec.kind = HealthCheck::Kind::kExec;
  exec.exec = {"pg_isready", "-q"};
  exec.timeout = Duration{1234};
  auto unreached = check_health(exec, target);
  REQUIRE(unreached);
  CHECK(unreached->find("not checked") != std::string::npos);
  ContainerRuntime podman{ContainerRuntime::Kind::kPodman, "podman"};
  ExecHost ok(0), failing(3), slow(0, true);
  target.runtime = &podman;
  target.container = "berth-db-0-abc123def456";
  target.host = &ok;
  CHECK(*check_health(exec, target) == "exit code 0");
  REQUIRE(ok.argv.size() >= 4);
  CHECK(ok.argv.front() == "podman");
  CHECK(ok.argv[ok.argv.size() - 3] == "berth-db-0-abc123def456");
  CHECK(ok.argv.back() == "-q");
  CHECK(ok.timeout == Duration{1234});
  target.host = &failing;
  CHECK(check_health(exec, target).error() == "exit code 3");
  target.host = &slow;
  CHECK(check_health(exec, target).error() == "timed out");
}

TEST_CASE("health and ports labels: what the deploy writes, status reads back", "[health]") {
  HealthCheck http;
  http.kind = HealthCheck::Kind::kHttp;
  http.port = 8080;
  http.path = "/v1/health?deep=1";
  auto read = parse_health_label(health_label(http), Duration{5000});
  REQUIRE(read);
  CHECK(read->kind == HealthCheck::Kind::kHttp);
  CHECK(read->port == 8080);
  CHECK(read->path == "/v1/health?deep=1");
  CHECK(read->timeout == Duration{5000});
  HealthCheck tcp;
  tcp.kind = HealthCheck::Kind::kTcp;
  tcp.port = 5432;
  REQUIRE(parse_health_label(health_label(tcp), Duration{5000}));
  CHECK(parse_health_label("tcp:5432", Duration{5000})->port == 5432);
  CHECK(parse_health_label("exec", Duration{5000})->kind == HealthCheck::Kind::kExec);
  CHECK(parse_health_label("none", Duration{5000})->kind == HealthCheck::Kind::kNone);
  // Labels berth did not write are not guessed at.
  for (const char* bad : {"", "http", "http:80", "http:80:", "http:0:/", "http:65536:/",
                          "http:+80:/", "http: 80:/", "tcp:80x", "tcp:", "udp:53", "exec:ls"})
    CHECK_FALSE(parse_health_label(bad, Duration{5000}));

  std::vector<PortMapping> ports = {{8000, std::nullopt, "tcp"}, {22, 2222, "tcp"}};
  CHECK(ports_label(ports) == "8000:8000,2222:22");
  auto published = parse_ports_label(ports_label(ports));
  REQUIRE(published);
  CHECK(*published == std::map<int, int>{{8000, 8000}, {22, 2222}});
  CHECK(parse_ports_label("")->empty());
  for (const char* bad : {"8000", "8000:", ":8000", "8000:8000,", "a:1", "1:70000", "-1:5",
                          "8000:8000,,1:1", "99999999999:1"})
    CHECK_FALSE(parse_ports_label(bad));
}
