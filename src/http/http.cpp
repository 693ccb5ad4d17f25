// The HTTP client: one libcurl multi handle driven by one event-loop thread.
// Callers block in send() while their transfers run concurrently with every
// other caller's; retries and backoff happen in the caller's thread so a long
// wait never stalls the loop.
#include "berth/http/http.h"
#include "berth/common/redact.h"
#include "berth/common/version.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "berth/common/cancel.h"
#include "berth/common/output.h"
#include "berth/common/text.h"
#include "http/curl_loader.h"
#include "http/http_retry.h"

namespace berth {

namespace {

const std::string& user_agent() {
  static const std::string ua = std::string("berth/") + version();
  return ua;
}

using Clock = std::chrono::steady_clock;

// How often the loop and backoff waits look at the cancel flag: a SIGINT
// handler can only set a flag, it cannot wake a condition variable.
constexpr Duration kCancelPoll{50};

// One attempt: an easy handle plus everything its callbacks write into.
struct Transfer {
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  std::size_t max_bytes = 0;
  bool keep_last = false;           // HttpRequest::keep_last_bytes
  Duration stream_quiet{0};         // HttpRequest::stream_quiet
  std::chrono::steady_clock::time_point last_data{};  // a header or body byte, last
  bool quiet_ended = false;         // a stream ended by its silence
  std::function<bool(std::string_view)> is_keepalive;  // HttpRequest::is_keepalive
  std::size_t header_bytes = 0;
  HttpResponse response;
  bool too_large = false;
  bool headers_too_large = false;
  bool cancelled = false;
  CURLcode result = CURLE_OK;
  bool done = false;
  std::mutex mutex;
  std::condition_variable cv;

  ~Transfer() {
    if (easy) curl_easy_cleanup(easy);
    if (header_list) curl_slist_free_all(header_list);
  }
};

// The body as libcurl hands it over, decoded: whatever the compression, the
// cap counts the bytes berth would hold. The buffer is the answer's only copy
// and is never copied to grow past 1 MiB: it is reserved at the announced
// length when that is the decoded length (no Content-Encoding), else grown
// from 64 KiB up to 1 MiB and then reserved at the cap in one step (pages
// the answer never fills are never touched, so they cost no memory).
constexpr std::size_t kGrowInPlaceUpTo = 1u << 20;

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t n = size * count;
  std::string& body = t->response.body;
  if (t->is_keepalive && t->is_keepalive(std::string_view(data, n))) return n;
  t->last_data = std::chrono::steady_clock::now();
  if (n > t->max_bytes - body.size() && t->keep_last) {
    // Only the newest max_bytes are kept: the oldest go, half the buffer at
    // a time (amortized), or all of it when this one piece fills the cap.
    t->response.cut = true;
    if (n >= t->max_bytes) {
      body.assign(data + (n - t->max_bytes), t->max_bytes);
      return n;
    }
    std::size_t drop = std::max(body.size() + n - t->max_bytes, body.size() / 2);
    body.erase(0, std::min(drop, body.size()));
  }
  if (n > t->max_bytes - body.size()) {
    t->too_large = true;
    return 0;  // makes curl abort with CURLE_WRITE_ERROR
  }
  if (body.size() + n > body.capacity()) {
    std::size_t want = std::max<std::size_t>(body.capacity() * 2, 64u << 10);
    if (body.empty() && t->response.header("content-encoding").empty()) {
      curl_off_t announced = -1;
      curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
      if (announced > 0) want = std::max(want, static_cast<std::size_t>(announced));
    }
    if (want > kGrowInPlaceUpTo) want = std::max(want, t->max_bytes);
    body.reserve(std::max(body.size() + n, std::min(want, t->max_bytes)));
  }
  body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t n = size * count;
  t->last_data = std::chrono::steady_clock::now();
  t->header_bytes += n;
  if (t->header_bytes > kMaxHeaderBytes) {
    t->headers_too_large = true;
    return 0;  // curl aborts the transfer
  }
  std::string line(data, n);
  // A new status line starts a new response (100 Continue, proxies): only
  // the final response's headers count.
  if (line.rfind("HTTP/", 0) == 0) {
    t->response.headers.clear();
    return n;
  }
  auto colon = line.find(':');
  if (colon != std::string::npos)
    t->response.headers[ascii_lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  return n;
}

// An address of this machine, written as one: 127.0.0.0/8 in dotted decimal
// (as libcurl normalizes IPv4 literals) or [::1]. A name is never loopback,
// "localhost" included: what it resolves to is not the URL's to say, and
// "127.attacker.example" is anybody's.
bool is_loopback_address(const std::string& host) {
  if (host == "[::1]" || host == "::1") return true;
  int parts = 0;
  std::size_t i = 0;
  bool first_is_127 = false;
  while (true) {
    std::size_t dot = host.find('.', i);
    std::string part = host.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    for (char c : part)
      if (c < '0' || c > '9') return false;
    int value = std::stoi(part);
    if (value > 255) return false;
    if (parts == 0) first_is_127 = value == 127;
    ++parts;
    if (dot == std::string::npos) break;
    i = dot + 1;
  }
  return parts == 4 && first_is_127;
}

// The scheme and host of a URL, lower-cased, as libcurl reads it (it also
// normalizes numeric IPv4 forms such as "127.1" or "0x7f.0.0.1").
struct UrlParts {
  std::string scheme;
  std::string host;
};

// TLS is never optional for credentials on the wire. Plain http is accepted
// only where nothing leaves the machine: loopback, for tests and local gateways.
Expected<UrlParts, HttpFailure> check_url(const std::string& url) {
  CURLU* u = curl_url();
  auto failure = [&](std::string message) -> Expected<UrlParts, HttpFailure> {
    curl_url_cleanup(u);
    return unexpected(HttpFailure{HttpFailure::Kind::kOther, std::move(message)});
  };
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return failure("malformed URL '" + url + "'");
  char* scheme = nullptr;
  char* host = nullptr;
  curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(u, CURLUPART_HOST, &host, 0);
  std::string s = scheme ? ascii_lower(scheme) : "";
  std::string h = host ? ascii_lower(host) : "";
  curl_free(scheme);
  curl_free(host);
  if (s == "https" || (s == "http" && is_loopback_address(h))) {
    curl_url_cleanup(u);
    return UrlParts{s, h};
  }
  if (s == "http")
    return failure("refusing plain http to '" + h +
                   "': credentials travel only over TLS (plain http is allowed to a loopback "
                   "address only: 127.0.0.0/8 or [::1], written as a number)");
  return failure("unsupported URL scheme in '" + url + "'");
}

// What -v says about the proxy: its URL without any user name or password.
std::string describe_proxy(const HttpProxy& proxy) {
  std::string url = proxy.url;
  auto scheme_end = url.find("://");
  auto host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  auto at = url.rfind('@');
  if (at != std::string::npos && at >= host_start)
    url = url.substr(0, host_start) + "[REDACTED]@" + url.substr(at + 1);
  std::string line =
      "http: https requests go through the proxy " + url + " (from $" + proxy.variable + ")";
  if (!proxy.no_proxy.empty()) line += ", except to " + proxy.no_proxy;
  return line + "; plain http to loopback never does";
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(HttpOptions options) : options_(std::move(options)) {
    if (!options_.trace_sink)
      options_.trace_sink = [](const std::string& line) { print_text(stderr, line + "\n"); };
  }

  ~CurlHttpClient() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    if (multi_) curl_multi_wakeup(multi_);
    if (loop_.joinable()) loop_.join();
    if (multi_) curl_multi_cleanup(multi_);
  }

  Expected<HttpResponse, HttpFailure> send(const HttpRequest& request) override {
    // libcurl is opened on the first request (it also runs curl_global_init),
    // so commands that send none never load it; without it, every request
    // fails like any other transport error, naming what to install.
    if (auto loaded = curl_loader::load(options_.curl_library); !loaded)
      return unexpected(HttpFailure{HttpFailure::Kind::kOther, loaded.error()});
    auto parts = check_url(request.url);
    if (!parts) return unexpected(parts.error());
    const bool proxied = parts->scheme == "https" && !options_.proxy.url.empty();
    if (proxied)
      std::call_once(proxy_said_,
                     [&] { trace(1, describe_proxy(options_.proxy), options_.secrets); });
    start_loop_once();
    // The thread's call deadline (berth/common/cancel.h), when earlier, ends it sooner.
    auto deadline = Clock::now() + options_.total_timeout;
    Duration budget = options_.total_timeout;
    if (auto call = call_deadline(); call && *call < deadline) {
      budget = std::chrono::duration_cast<Duration>(*call - Clock::now());
      deadline = *call;
    }
    std::vector<std::string> secrets = options_.secrets;
    secrets.insert(secrets.end(), request.secrets.begin(), request.secrets.end());

    for (int attempt = 0;; ++attempt) {
      if (cancelled()) return unexpected(HttpFailure{HttpFailure::Kind::kCancelled, "interrupted"});
      auto remaining = std::chrono::duration_cast<Duration>(deadline - Clock::now());
      if (remaining <= Duration{0})
        return unexpected(
            HttpFailure{HttpFailure::Kind::kTimeout,
                        fmt::format("no answer within {} ms",
                                    std::max<long long>(0, budget.count()))});
      auto result = perform(request, remaining, secrets, proxied);
      auto outcome = classify(result);
      bool last = attempt + 1 >= options_.max_attempts;
      if (!http_retry::should_retry(outcome, request.idempotent) || last) return result;

      Duration wait = http_retry::backoff_delay(attempt, options_.backoff_base,
                                                options_.backoff_cap, random_unit());
      // 429 always carries the server's wish; a 503 may (RFC 9110 §10.2.3).
      if (outcome == http_retry::Outcome::kRateLimited ||
          outcome == http_retry::Outcome::kServerError) {
        auto after = http_retry::parse_retry_after(result->header("retry-after"),
                                                   std::chrono::system_clock::now());
        if (after) wait = std::max(wait, *after);
      }
      // A wait that outlasts the budget cannot end in an answer: hand the
      // caller what we have (a 429 keeps its Retry-After for the adapter).
      if (Clock::now() + wait >= deadline) return result;
      trace(2,
            fmt::format("http: retrying {} {} in {} ms ({})", request.method, request.url,
                        wait.count(), describe(result)),
            secrets);
      if (!sleep_unless_cancelled(wait))
        return unexpected(HttpFailure{HttpFailure::Kind::kCancelled, "interrupted"});
    }
  }

 private:
  static std::string describe(const Expected<HttpResponse, HttpFailure>& r) {
    return r ? "HTTP " + std::to_string(r->status) : r.error().message;
  }

  static http_retry::Outcome classify(const Expected<HttpResponse, HttpFailure>& r) {
    using http_retry::Outcome;
    if (r) {
      if (r->status == 429) return Outcome::kRateLimited;
      if (r->status >= 500) return Outcome::kServerError;
      return Outcome::kSuccess;
    }
    switch (r.error().kind) {
      case HttpFailure::Kind::kConnect:
        return Outcome::kNotConnected;
      case HttpFailure::Kind::kTimeout:
        return Outcome::kTimedOut;
      default:
        return Outcome::kFatal;
    }
  }

  bool cancelled() const { return options_.cancel && options_.cancel->load(); }

  double random_unit() {
    std::lock_guard lock(rng_mutex_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }

  bool sleep_unless_cancelled(Duration wait) {
    auto until = Clock::now() + wait;
    while (Clock::now() < until) {
      if (cancelled()) return false;
      std::this_thread::sleep_for(std::min<Clock::duration>(kCancelPoll, until - Clock::now()));
    }
    return !cancelled();
  }

  void trace(int level, const std::string& line, const std::vector<std::string>& secrets) const {
    if (options_.trace_level < level) return;
    options_.trace_sink(redact(line, secrets));
  }

  void start_loop_once() {
    std::call_once(loop_started_, [this] {
      multi_ = curl_multi_init();
      loop_ = std::thread([this] { run_loop(); });
    });
  }

  // One attempt, on the loop thread; blocks this caller until it ends.
  Expected<HttpResponse, HttpFailure> perform(const HttpRequest& request, Duration budget,
                                              const std::vector<std::string>& secrets,
                                              bool proxied) {
    auto t = std::make_shared<Transfer>();
    t->max_bytes = request.max_response_bytes == 0
                       ? options_.max_response_bytes
                       : std::min(request.max_response_bytes, options_.max_response_bytes);
    t->keep_last = request.keep_last_bytes;
    t->stream_quiet = request.stream_quiet;
    t->is_keepalive = request.is_keepalive;
    t->easy = curl_easy_init();
    if (!t->easy)
      return unexpected(HttpFailure{HttpFailure::Kind::kOther, "curl_easy_init failed"});
    configure(*t, request, budget, proxied);

    trace(3, fmt::format("http: > {} {}", request.method, request.url), secrets);
    for (const auto& [name, value] : request.headers)
      trace(3, fmt::format("http: > {}: {}", name, value), secrets);

    auto started = Clock::now();
    {
      std::lock_guard lock(mutex_);
      pending_.push_back(t);
    }
    curl_multi_wakeup(multi_);
    {
      std::unique_lock lock(t->mutex);
      t->cv.wait(lock, [&] { return t->done; });
    }
    t->response.elapsed = std::chrono::duration_cast<Duration>(Clock::now() - started);

    auto result = finish(*t);
    trace(2,
          fmt::format("http: {} {} -> {} ({} ms)", request.method, request.url, describe(result),
                      t->response.elapsed.count()),
          secrets);
    if (result)
      for (const auto& [name, value] : result->headers)
        trace(3, fmt::format("http: < {}: {}", name, value), secrets);
    return result;
  }

  void configure(Transfer& t, const HttpRequest& request, Duration budget, bool proxied) {
    CURL* e = t.easy;
    curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
    // The proxy is set explicitly, always: left unset, libcurl would take one
    // from the environment, for plain http too (an empty string means none).
    // Through a proxy, https is a CONNECT tunnel: the proxy relays TLS it
    // cannot read, the Authorization header inside it.
    if (proxied) {
      curl_easy_setopt(e, CURLOPT_PROXY, options_.proxy.url.c_str());
      curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, 1L);
      curl_easy_setopt(e, CURLOPT_NOPROXY, options_.proxy.no_proxy.c_str());
    } else {
      curl_easy_setopt(e, CURLOPT_PROXY, "");
    }
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    // Verification is never turned off, whatever the URL or config says.
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    // A redirect could carry the Authorization header to another host.
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(options_.connect_timeout, budget).count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::max<Duration::rep>(1, budget.count())));
    if (!t.keep_last)
      curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t.max_bytes));
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent().c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);

    if (request.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
          request.method == "PATCH") {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, request.body.c_str());
      }
    }
    // Waiting for "100 Continue" only adds a round trip with these APIs.
    t.header_list = curl_slist_append(t.header_list, "Expect:");
    for (const auto& [name, value] : request.headers)
      t.header_list = curl_slist_append(t.header_list, (name + ": " + value).c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.header_list);
  }

  Expected<HttpResponse, HttpFailure> finish(Transfer& t) {
    using Kind = HttpFailure::Kind;
    if (t.cancelled) return unexpected(HttpFailure{Kind::kCancelled, "interrupted"});
    if (t.headers_too_large)
      return unexpected(HttpFailure{
          Kind::kTooLarge,
          fmt::format("response headers larger than the {} byte limit", kMaxHeaderBytes)});
    if (t.too_large || t.result == CURLE_FILESIZE_EXCEEDED)
      return unexpected(HttpFailure{
          Kind::kTooLarge, fmt::format("response larger than the {} byte limit", t.max_bytes)});
    if (t.result == CURLE_OK || t.quiet_ended) {
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.response.status);
      return std::move(t.response);
    }
    if (t.result == CURLE_OPERATION_TIMEDOUT && t.stream_quiet > Duration{0}) {
      // A stream that kept talking until the budget ran out: what arrived
      // is the answer, when the status said it would be one.
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.response.status);
      if (t.response.status >= 200 && t.response.status < 300) return std::move(t.response);
    }
    std::string what = curl_easy_strerror(t.result);
    switch (t.result) {
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_COULDNT_CONNECT:
        return unexpected(HttpFailure{Kind::kConnect, "cannot connect: " + what});
      case CURLE_OPERATION_TIMEDOUT: {
        // Timed out before the connection was up: nothing was sent, so even
        // a launch may be sent again.
        curl_off_t connected = 0;
        curl_easy_getinfo(t.easy, CURLINFO_CONNECT_TIME_T, &connected);
        if (connected == 0) return unexpected(HttpFailure{Kind::kConnect, "connection timed out"});
        return unexpected(HttpFailure{Kind::kTimeout, "no complete answer in time"});
      }
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CIPHER:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_ISSUER_ERROR:
        return unexpected(HttpFailure{Kind::kTls, "TLS failure: " + what});
      case CURLE_PARTIAL_FILE:
      case CURLE_RECV_ERROR:
      case CURLE_SEND_ERROR:
      case CURLE_GOT_NOTHING:
        // The connection broke mid-answer: as uncertain as a timeout.
        return unexpected(HttpFailure{Kind::kTimeout, "connection broke: " + what});
      default:
        return unexpected(HttpFailure{Kind::kOther, what});
    }
  }

  void run_loop() {
    std::set<std::shared_ptr<Transfer>> active;
    auto complete = [](Transfer& t) {
      std::lock_guard lock(t.mutex);
      t.done = true;
      t.cv.notify_all();
    };
    for (;;) {
      std::deque<std::shared_ptr<Transfer>> incoming;
      {
        std::lock_guard lock(mutex_);
        if (stopping_) break;
        incoming.swap(pending_);
      }
      for (auto& t : incoming) {
        curl_multi_add_handle(multi_, t->easy);
        active.insert(t);
      }
      if (cancelled()) {
        for (auto& t : active) {
          curl_multi_remove_handle(multi_, t->easy);
          t->cancelled = true;
          complete(*t);
        }
        active.clear();
      }
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Transfer* raw = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &raw);
        CURLcode code = msg->data.result;
        curl_multi_remove_handle(multi_, msg->easy_handle);
        auto it = std::find_if(active.begin(), active.end(),
                               [&](const auto& p) { return p.get() == raw; });
        if (it == active.end()) continue;
        (*it)->result = code;
        complete(**it);
        active.erase(it);
      }
      // Streams that went quiet after their headers are complete answers.
      const auto now = Clock::now();
      for (auto it = active.begin(); it != active.end();) {
        Transfer& t = **it;
        if (t.stream_quiet > Duration{0} && t.header_bytes > 0 &&
            now - t.last_data >= t.stream_quiet) {
          curl_multi_remove_handle(multi_, t.easy);
          t.quiet_ended = true;
          complete(t);
          it = active.erase(it);
        } else {
          ++it;
        }
      }
      curl_multi_poll(multi_, nullptr, 0, static_cast<int>(kCancelPoll.count()), nullptr);
    }
    // Shutting down: nobody may stay blocked on a transfer that will never end.
    std::lock_guard lock(mutex_);
    for (auto& t : pending_) active.insert(t);
    pending_.clear();
    for (auto& t : active) {
      curl_multi_remove_handle(multi_, t->easy);
      t->cancelled = true;
      complete(*t);
    }
  }

  HttpOptions options_;
  std::once_flag loop_started_;
  std::once_flag proxy_said_;
  CURLM* multi_ = nullptr;
  std::thread loop_;
  std::mutex mutex_;
  std::deque<std::shared_ptr<Transfer>> pending_;
  bool stopping_ = false;
  std::mutex rng_mutex_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_http_client(HttpOptions options) {
  return std::make_unique<CurlHttpClient>(std::move(options));
}

HttpProxy https_proxy_from(const Environment& env) {
  HttpProxy proxy;
  // libcurl's order; http_proxy is never read: it names a proxy for plain
  // http, which berth does not send through one.
  for (const char* name : {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    auto value = env.get(name);
    if (value && !value->empty()) {
      proxy.url = *value;
      proxy.variable = name;
      break;
    }
  }
  if (proxy.url.empty()) return proxy;
  for (const char* name : {"no_proxy", "NO_PROXY"}) {
    auto value = env.get(name);
    if (value && !value->empty()) {
      proxy.no_proxy = *value;
      break;
    }
  }
  return proxy;
}

HttpOptions http_options_for_cli(int verbosity, std::optional<Duration> timeout) {
  HttpOptions options;
  options.trace_level = std::max(0, verbosity);
  options.proxy = https_proxy_from(Environment::process());
  if (timeout) {
    options.total_timeout = std::min(options.total_timeout, *timeout);
    options.connect_timeout = std::min(options.connect_timeout, *timeout);
  }
  return options;
}

}  // namespace berth
