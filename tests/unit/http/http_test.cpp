#include "berth/http/http.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "berth/common/process.h"
#include "http/http_retry.h"
#include "providers/common/http_errors.h"
#include "support/loopback_server.h"

using namespace berth;
using berth::testing::LoopbackServer;
using berth::testing::ReceivedRequest;
using berth::testing::ScriptedReply;
using namespace std::chrono_literals;

namespace {

// Fast retries so the tests spend no time in backoff; no test asserts timing.
HttpOptions quick_options() {
  HttpOptions o;
  o.connect_timeout = Duration{2'000};
  o.total_timeout = Duration{10'000};
  o.backoff_base = Duration{1};
  o.backoff_cap = Duration{5};
  o.max_attempts = 3;
  return o;
}

HttpRequest get(const std::string& url) {
  HttpRequest r;
  r.url = url;
  return r;
}

}  // namespace

TEST_CASE("http client sends headers and body and reads status, headers and body", "[http]") {
  LoopbackServer server([](const ReceivedRequest& req) {
    return ScriptedReply{201,
                         {{"X-Reply", "yes"}, {"Content-Type", "application/json"}},
                         "{\"got\":\"" + req.body + "\"}"};
  });
  auto client = make_curl_http_client(quick_options());
  HttpRequest req;
  req.method = "POST";
  req.url = server.url("/v1/things?x=1");
  req.headers = {{"Content-Type", "application/json"}, {"X-Custom", "abc"}};
  req.body = "payload";
  auto r = client->send(req);
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(r->header("x-reply") == "yes");
  CHECK(r->body == "{\"got\":\"payload\"}");
  auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].target == "/v1/things?x=1");
  CHECK(seen[0].headers["x-custom"] == "abc");
  CHECK(seen[0].headers.count("expect") == 0);
}

TEST_CASE("http client sends DELETE without a body and returns 204 empty bodies", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) { return ScriptedReply{204, {}, ""}; });
  auto client = make_curl_http_client(quick_options());
  HttpRequest req = get(server.url("/pods/abc"));
  req.method = "DELETE";
  auto r = client->send(req);
  REQUIRE(r);
  CHECK(r->status == 204);
  CHECK(r->body.empty());
  CHECK(server.requests().at(0).method == "DELETE");
}

TEST_CASE("http client runs transfers of many callers at the same time", "[http]") {
  // Each request waits inside the server until all five have arrived: a
  // client that sent them one after another would never get there.
  constexpr int kCallers = 5;
  std::mutex m;
  std::condition_variable cv;
  int inside = 0;
  bool all_arrived = false;
  LoopbackServer server([&](const ReceivedRequest&) {
    std::unique_lock lock(m);
    if (++inside == kCallers) all_arrived = true;
    cv.notify_all();
    cv.wait_for(lock, 10s, [&] { return all_arrived; });
    return ScriptedReply{200, {}, "ok"};
  });
  auto client = make_curl_http_client(quick_options());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kCallers; ++i)
    threads.emplace_back([&] {
      if (auto r = client->send(get(server.url("/slow"))); r && r->status == 200) ++ok;
    });
  for (auto& t : threads) t.join();
  CHECK(all_arrived);
  CHECK(ok == kCallers);
}

TEST_CASE("http client retries 429 honouring Retry-After, plain-text bodies included", "[http]") {
  std::atomic<int> calls{0};
  LoopbackServer server([&](const ReceivedRequest&) {
    if (calls++ == 0)
      return ScriptedReply{
          429, {{"Retry-After", "0"}, {"Content-Type", "text/plain"}}, "Too Many Requests"};
    return ScriptedReply{200, {}, "[]"};
  });
  auto client = make_curl_http_client(quick_options());
  HttpRequest req = get(server.url("/"));
  req.idempotent = false;  // 429 means the server did nothing: even a launch is retried
  auto r = client->send(req);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(server.request_count() == 2);
}

TEST_CASE("http client retries 429 without Retry-After by backing off", "[http]") {
  std::atomic<int> calls{0};
  LoopbackServer server([&](const ReceivedRequest&) {
    if (calls++ < 2) return ScriptedReply{429, {}, "slow down"};
    return ScriptedReply{200, {}, "fine"};
  });
  auto client = make_curl_http_client(quick_options());
  auto r = client->send(get(server.url("/")));
  REQUIRE(r);
  CHECK(r->body == "fine");
  CHECK(server.request_count() == 3);
}

TEST_CASE("http client returns the 429 when Retry-After outlasts its budget", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    return ScriptedReply{429, {{"Retry-After", "3600"}}, "{}"};
  });
  auto client = make_curl_http_client(quick_options());
  auto r = client->send(get(server.url("/")));
  REQUIRE(r);
  CHECK(r->status == 429);
  CHECK(r->header("retry-after") == "3600");
  CHECK(server.request_count() == 1);
}

TEST_CASE("http client retries 5xx only for idempotent requests", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    return ScriptedReply{503, {}, "unavailable"};
  });
  auto client = make_curl_http_client(quick_options());
  SECTION("idempotent: every attempt is used, the last answer returned") {
    auto r = client->send(get(server.url("/")));
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(server.request_count() == 3);
  }
  SECTION("a launch is sent once") {
    HttpRequest req = get(server.url("/launch"));
    req.method = "POST";
    req.idempotent = false;
    auto r = client->send(req);
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(server.request_count() == 1);
  }
}

TEST_CASE("http client reports refused connections as connect failures", "[http]") {
  int port;
  {
    LoopbackServer gone([](const ReceivedRequest&) { return ScriptedReply{}; });
    port = gone.port();
  }
  auto client = make_curl_http_client(quick_options());
  auto r = client->send(get("http://127.0.0.1:" + std::to_string(port) + "/"));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == HttpFailure::Kind::kConnect);
}

TEST_CASE("http client times out a hung response and does not resend a launch", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    ScriptedReply reply;
    reply.hang = true;
    return reply;
  });
  auto options = quick_options();
  options.total_timeout = Duration{400};
  auto client = make_curl_http_client(options);
  HttpRequest req = get(server.url("/launch"));
  req.method = "POST";
  req.idempotent = false;
  auto r = client->send(req);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == HttpFailure::Kind::kTimeout);
  CHECK(server.request_count() == 1);
}

TEST_CASE("http client answers slow responses within the budget", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    ScriptedReply reply{200, {}, "late"};
    reply.delay = 200ms;
    return reply;
  });
  auto client = make_curl_http_client(quick_options());
  auto r = client->send(get(server.url("/")));
  REQUIRE(r);
  CHECK(r->body == "late");
}

TEST_CASE("http client caps the response size", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    return ScriptedReply{200, {}, std::string(100'000, 'x')};
  });
  auto options = quick_options();
  options.max_response_bytes = 1'000;
  auto client = make_curl_http_client(options);
  auto r = client->send(get(server.url("/huge")));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == HttpFailure::Kind::kTooLarge);
  CHECK(server.request_count() == 1);
}

TEST_CASE("http client applies a request's own tighter size cap", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    return ScriptedReply{200, {}, std::string(10'000, 'x')};
  });
  auto client = make_curl_http_client(quick_options());
  auto small = get(server.url("/doc"));
  small.max_response_bytes = 1'000;
  auto r = client->send(small);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == HttpFailure::Kind::kTooLarge);
  CHECK(r.error().message.find("1000 byte") != std::string::npos);
  auto roomy = get(server.url("/doc"));
  roomy.max_response_bytes = 20'000;
  auto ok = client->send(roomy);
  REQUIRE(ok);
  CHECK(ok->body.size() == 10'000);
}

TEST_CASE("http client reports a truncated body as a failure, never as a short answer", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    ScriptedReply reply{200, {}, "{\"data\": [1, 2, 3, 4, 5, 6, 7, 8]}"};
    reply.truncate = true;
    return reply;
  });
  auto client = make_curl_http_client(quick_options());
  auto r = client->send(get(server.url("/")));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == HttpFailure::Kind::kTimeout);
  CHECK(server.request_count() == 3);  // idempotent: retried, broke every time
}

TEST_CASE("http client ends every wait when cancelled", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    ScriptedReply reply;
    reply.hang = true;
    return reply;
  });
  std::atomic<bool> cancel{false};
  auto options = quick_options();
  options.total_timeout = Duration{60'000};
  options.cancel = &cancel;
  auto client = make_curl_http_client(options);
  std::thread interrupter([&] {
    while (server.request_count() == 0) std::this_thread::sleep_for(5ms);
    cancel = true;
  });
  auto r = client->send(get(server.url("/")));
  interrupter.join();
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == HttpFailure::Kind::kCancelled);
}

TEST_CASE("http client refuses plain http beyond loopback and keeps TLS verification", "[http]") {
  auto client = make_curl_http_client(quick_options());
  auto r = client->send(get("http://cloud.example.com/api"));
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("TLS") != std::string::npos);

  // An https URL to a server that does not speak TLS fails as TLS, not as data.
  LoopbackServer plain([](const ReceivedRequest&) { return ScriptedReply{200, {}, "ok"}; });
  plain.set_greeting("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  auto t = client->send(get("https://127.0.0.1:" + std::to_string(plain.port()) + "/"));
  REQUIRE_FALSE(t);
  INFO(t.error().message);
  CHECK(t.error().kind == HttpFailure::Kind::kTls);
}

TEST_CASE("http trace names method, URL, status and time with credentials redacted", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) { return ScriptedReply{200, {}, "{}"}; });
  std::vector<std::string> lines;
  std::mutex m;
  auto options = quick_options();
  options.trace_level = 3;
  options.secrets = {"config-secret-123"};
  options.trace_sink = [&](const std::string& line) {
    std::lock_guard lock(m);
    lines.push_back(line);
  };
  auto client = make_curl_http_client(options);
  HttpRequest req = get(server.url("/offers?api_key=query-secret-456&limit=5"));
  req.headers = {{"Authorization", "Bearer request-secret-789"}, {"X-Echo", "config-secret-123"}};
  req.secrets = {"request-secret-789"};
  REQUIRE(client->send(req));
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  INFO(all);
  CHECK(all.find("GET http://127.0.0.1:") != std::string::npos);
  CHECK(all.find("-> HTTP 200 (") != std::string::npos);
  CHECK(all.find(" ms)") != std::string::npos);
  CHECK(all.find("limit=5") != std::string::npos);
  CHECK(all.find("query-secret-456") == std::string::npos);
  CHECK(all.find("request-secret-789") == std::string::npos);
  CHECK(all.find("config-secret-123") == std::string::npos);
  // The server did get the real values: redaction is for traces only.
  auto seen = server.requests().at(0);
  CHECK(seen.headers["authorization"] == "Bearer request-secret-789");
}

TEST_CASE("retry policy: what is sent again", "[http]") {
  using http_retry::Outcome;
  using http_retry::should_retry;
  CHECK(should_retry(Outcome::kRateLimited, false));
  CHECK(should_retry(Outcome::kNotConnected, false));
  CHECK_FALSE(should_retry(Outcome::kServerError, false));
  CHECK(should_retry(Outcome::kServerError, true));
  CHECK_FALSE(should_retry(Outcome::kTimedOut, false));
  CHECK(should_retry(Outcome::kTimedOut, true));
  CHECK_FALSE(should_retry(Outcome::kFatal, true));
  CHECK_FALSE(should_retry(Outcome::kSuccess, true));
}

TEST_CASE("retry policy: Retry-After in seconds and as an HTTP-date", "[http]") {
  using http_retry::parse_retry_after;
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  CHECK(parse_retry_after("120", now) == Duration{120'000});
  CHECK(parse_retry_after(" 0 ", now) == Duration{0});
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) == Duration{30'000});
  CHECK(parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now) == Duration{60'000});
  CHECK(parse_retry_after("Wed Oct 21 07:28:05 2015", now) == Duration{5'000});
  CHECK(parse_retry_after("Tue, 20 Oct 2015 07:28:00 GMT", now) == Duration{0});
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("-5", now));
}

TEST_CASE("retry policy: a Retry-After however far away waits a day at the most", "[http]") {
  using http_retry::parse_retry_after;
  auto now = std::chrono::system_clock::from_time_t(1445412480);
  const Duration day{http_retry::kMaxRetryAfterSeconds * 1000};
  CHECK(parse_retry_after("999999999999", now) == day);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == Duration{0});
  CHECK(parse_retry_after("Thu, 22 Oct 2015 07:28:00 GMT", now) == day);
  // Past 2262 system_clock (nanoseconds in 64 bits) overflows.
  for (const char* far : {"Fri, 01 Jan 2300 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
                          "Sun Jan  1 00:00:00 3000"}) {
    INFO(far);
    CHECK(parse_retry_after(far, now) == day);
  }
  // An adapter reads the header the same way.
  HttpResponse r;
  r.status = 429;
  r.headers["retry-after"] = "Fri, 31 Dec 9999 23:59:59 GMT";
  auto e = http_errors::from_status(r, "slow down");
  REQUIRE(e.retry_after);
  CHECK(*e.retry_after == day);
}

TEST_CASE("retry policy: full-jitter exponential backoff stays under its ceiling", "[http]") {
  using http_retry::backoff_delay;
  CHECK(backoff_delay(0, Duration{500}, Duration{20'000}, 0.999) <= Duration{500});
  CHECK(backoff_delay(3, Duration{500}, Duration{20'000}, 0.999) <= Duration{4'000});
  CHECK(backoff_delay(3, Duration{500}, Duration{20'000}, 0.999) > Duration{3'000});
  CHECK(backoff_delay(30, Duration{500}, Duration{20'000}, 0.999) <= Duration{20'000});
  CHECK(backoff_delay(30, Duration{500}, Duration{20'000}, 0.0) == Duration{0});
}

TEST_CASE("cli flags become client options", "[http]") {
  auto quiet = http_options_for_cli(0, std::nullopt);
  CHECK(quiet.trace_level == 0);
  auto traced = http_options_for_cli(2, Duration{5'000});
  CHECK(traced.trace_level == 2);
  CHECK(traced.total_timeout == Duration{5'000});
  CHECK(traced.connect_timeout <= Duration{5'000});
  CHECK(http_options_for_cli(-1, std::nullopt).trace_level == 0);
}

TEST_CASE("http client returns a 503 whose Retry-After outlasts its budget", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    return ScriptedReply{503, {{"Retry-After", "600"}}, "down"};
  });
  auto client = make_curl_http_client(quick_options());
  auto r = client->send(get(server.url("/")));
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(server.request_count() == 1);  // no point asking again before the server said
}

TEST_CASE("http client without a loadable libcurl fails each request, naming the package",
          "[http]") {
  auto options = quick_options();
  options.curl_library = "libberth-no-such-curl.so.4";
  auto client = make_curl_http_client(options);
  auto r = client->send(get("http://127.0.0.1:9/"));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == HttpFailure::Kind::kOther);
  CHECK_THAT(r.error().message, Catch::Contains("libberth-no-such-curl.so.4") &&
                                    Catch::Contains("libcurl4"));
}

namespace {

std::string gzipped(const std::string& text) {
  auto r = system_process_runner().run({.argv = {"gzip", "-c", "-9"}, .stdin_data = text});
  REQUIRE(r);
  REQUIRE(r->ok());
  return r->out;
}

}  // namespace

TEST_CASE("http client caps the decoded size of a compressed answer", "[http]") {
  // 8 MiB of spaces packed into ~8 KB: the cap counts what berth would hold.
  const std::string bomb = gzipped(std::string(8u << 20, ' '));
  REQUIRE(bomb.size() < 64'000);
  LoopbackServer server([&](const ReceivedRequest&) {
    return ScriptedReply{200, {{"Content-Encoding", "gzip"}}, bomb};
  });
  auto options = quick_options();
  options.max_response_bytes = 1u << 20;
  auto client = make_curl_http_client(options);
  auto r = client->send(get(server.url("/bomb")));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == HttpFailure::Kind::kTooLarge);
  CHECK(server.request_count() == 1);  // never sent again

  // Under the cap, the decoded body arrives whole.
  auto roomy = get(server.url("/bomb"));
  options.max_response_bytes = 16u << 20;
  auto ok = make_curl_http_client(options)->send(roomy);
  REQUIRE(ok);
  CHECK(ok->body.size() == (8u << 20));
}

TEST_CASE("http client refuses an answer whose headers never end", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    ScriptedReply reply{200, {}, "{}"};
    for (int i = 0; i < 400; ++i)
      reply.headers.emplace_back("X-Pad-" + std::to_string(i), std::string(1000, 'h'));
    return reply;
  });
  auto client = make_curl_http_client(quick_options());
  auto r = client->send(get(server.url("/")));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == HttpFailure::Kind::kTooLarge);
  CHECK(r.error().message.find("headers") != std::string::npos);
}

TEST_CASE("http client sends plain http only to a loopback address, never to a name", "[http]") {
  auto client = make_curl_http_client(quick_options());
  for (const char* url :
       {"http://127.attacker.example/api", "http://127.0.0.1.nip.io/", "http://localhost:9/",
        "http://127.0.0.1x/", "http://[::ffff:7f00:1]/", "http://10.0.0.1/"}) {
    INFO(url);
    auto r = client->send(get(url));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == HttpFailure::Kind::kOther);
    CHECK(r.error().message.find("refusing plain http") != std::string::npos);
  }
  // Numeric spellings of a loopback address are one, as libcurl reads them.
  LoopbackServer server([](const ReceivedRequest&) { return ScriptedReply{200, {}, "ok"}; });
  for (std::string host : {"127.0.0.1", "127.1", "0x7f.0.0.1"}) {
    INFO(host);
    auto r = client->send(get("http://" + host + ":" + std::to_string(server.port()) + "/"));
    REQUIRE(r);
    CHECK(r->body == "ok");
  }
}

TEST_CASE("http client never sends plain http through a proxy, whatever the environment says",
          "[http]") {
  LoopbackServer origin([](const ReceivedRequest&) { return ScriptedReply{200, {}, "direct"}; });
  LoopbackServer proxy([](const ReceivedRequest&) { return ScriptedReply{200, {}, "proxied"}; });
  // libcurl would read these itself were the proxy left to it.
  const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  ::setenv("http_proxy", proxy_url.c_str(), 1);
  ::setenv("all_proxy", proxy_url.c_str(), 1);
  auto options = quick_options();
  options.proxy = HttpProxy{proxy_url, "https_proxy", ""};
  auto client = make_curl_http_client(options);
  auto req = get(origin.url("/offers"));
  req.headers = {{"Authorization", "Bearer proxy-must-not-see-this"}};
  auto r = client->send(req);
  ::unsetenv("http_proxy");
  ::unsetenv("all_proxy");
  REQUIRE(r);
  CHECK(r->body == "direct");
  CHECK(proxy.request_count() == 0);
}

TEST_CASE("http client reaches https origins through a proxy only as a CONNECT tunnel", "[http]") {
  LoopbackServer proxy([](const ReceivedRequest&) { return ScriptedReply{403, {}, "no"}; });
  std::vector<std::string> lines;
  std::mutex m;
  auto options = quick_options();
  options.max_attempts = 1;
  options.trace_level = 1;
  options.trace_sink = [&](const std::string& line) {
    std::lock_guard lock(m);
    lines.push_back(line);
  };
  options.proxy = HttpProxy{"http://user:proxy-pass-123@127.0.0.1:" + std::to_string(proxy.port()),
                            "HTTPS_PROXY", "internal.example"};
  auto client = make_curl_http_client(options);
  auto req = get("https://api.example.com/v1/things");
  req.headers = {{"Authorization", "Bearer tunnel-secret-456"}};
  auto r = client->send(req);
  REQUIRE_FALSE(r);  // this proxy refuses every tunnel
  auto seen = proxy.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "CONNECT");
  CHECK(seen[0].target == "api.example.com:443");
  CHECK(seen[0].headers.count("authorization") == 0);
  // -v says which proxy, once, without its password.
  REQUIRE(client->send(req).has_value() == false);
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  INFO(all);
  REQUIRE(lines.size() == 1);
  CHECK(all.find("http://[REDACTED]@127.0.0.1:") != std::string::npos);
  CHECK(all.find("$HTTPS_PROXY") != std::string::npos);
  CHECK(all.find("internal.example") != std::string::npos);
  CHECK(all.find("proxy-pass-123") == std::string::npos);
}

TEST_CASE("the https proxy comes from the environment by libcurl's rules", "[http]") {
  CHECK(https_proxy_from(Environment::from_map({})).url.empty());
  // http_proxy names a proxy for plain http, which berth never uses.
  CHECK(https_proxy_from(Environment::from_map({{"http_proxy", "http://p:1"}})).url.empty());
  auto lower = https_proxy_from(Environment::from_map(
      {{"https_proxy", "http://a:1"}, {"HTTPS_PROXY", "http://b:1"}, {"no_proxy", ".corp"}}));
  CHECK(lower.url == "http://a:1");
  CHECK(lower.variable == "https_proxy");
  CHECK(lower.no_proxy == ".corp");
  auto all =
      https_proxy_from(Environment::from_map({{"ALL_PROXY", "socks5h://c:1"}, {"NO_PROXY", "x"}}));
  CHECK(all.url == "socks5h://c:1");
  CHECK(all.variable == "ALL_PROXY");
  CHECK(all.no_proxy == "x");
}

TEST_CASE("http client keeps only the newest bytes of a large answer when asked", "[http][logs]") {
  std::string body;
  for (int i = 0; i < 200000; ++i) body += "line " + std::to_string(i) + "\n";
  LoopbackServer server([&](const auto&) { return ScriptedReply{200, {}, body}; });
  auto client = make_curl_http_client(quick_options());
  auto req = get(server.url("/log"));
  req.max_response_bytes = 64 << 10;
  auto refused = client->send(req);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == HttpFailure::Kind::kTooLarge);
  req.keep_last_bytes = true;
  auto kept = client->send(req);
  REQUIRE(kept);
  CHECK(kept->cut);
  CHECK(kept->body.size() <= (64u << 10));
  CHECK(kept->body.size() > (16u << 10));
  CHECK(body.size() >= kept->body.size());
  CHECK(body.compare(body.size() - kept->body.size(), kept->body.size(), kept->body) == 0);
  // A small answer is whole and not cut.
  req.max_response_bytes = body.size() + 1;
  auto whole = client->send(req);
  REQUIRE(whole);
  CHECK_FALSE(whole->cut);
  CHECK(whole->body == body);
}
