// One HTTP client for every provider (ARCHITECTURE.md, http): libcurl's multi interface on a
// single event-loop thread, so requests from all providers run concurrently;
// connect and total timeouts; TLS verification always on; retries with
// jittered exponential backoff for transient failures and 429 (honouring
// Retry-After); a response size cap; `-vv` tracing with credentials redacted.
//
// One answer's memory is bounded: its body, decoded (gzip, deflate, brotli,
// zstd: libcurl decodes before berth sees a byte), is held once, in a buffer
// that never grows past the cap (kMaxAnswerBytes unless a request asks for
// less); the transfer is aborted at the first byte beyond it. Headers are
// capped too (kMaxHeaderBytes). What reading the body builds is bounded where
// it is read (berth/http/json_answer.h). README.md states the budget; bench/
// answer_memory_bench.cpp measures it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/common/environment.h"
#include "berth/common/expected.h"
#include "berth/common/units.h"

namespace berth {

/// The largest answer body berth accepts, decoded: ~35,000 Vast.ai offers.
inline constexpr std::size_t kMaxAnswerBytes = 32u << 20;
/// The most header bytes one answer may send.
inline constexpr std::size_t kMaxHeaderBytes = 256u << 10;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Safe to send again after a failure whose effect is unknown (5xx, timeout
  /// after sending). Launch calls are not: only connect failures and 429 are
  /// retried for them.
  bool idempotent = true;
  /// Values that must never appear in traces (API keys, tokens).
  std::vector<std::string> secrets;
  /// A tighter cap than HttpOptions::max_response_bytes for this request (0:
  /// the client's): a caller expecting a small document need not buffer a
  /// flood before it can refuse it.
  std::size_t max_response_bytes = 0;
  /// An answer larger than the cap keeps its last bytes (HttpResponse::cut)
  /// instead of failing: for logs, whose newest lines are the ones wanted.
  bool keep_last_bytes = false;
  /// A stream that never ends by itself (server-sent events): once the
  /// answer's headers arrived, the transfer ends, as a complete answer, when
  /// nothing more arrived for this long, or when the budget runs out after
  /// a 2xx status. 0: an ordinary answer.
  Duration stream_quiet{0};
  /// For a stream: tells a piece of the answer that only keeps the
  /// connection alive (an SSE comment). Such a piece is dropped and does
  /// not count as something arriving. Called on the client's loop thread.
  std::function<bool(std::string_view piece)> is_keepalive;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  Duration elapsed{0};
  /// The body lost its beginning to the size cap (HttpRequest::keep_last_bytes).
  bool cut = false;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpFailure {
  enum class Kind { kConnect, kTimeout, kTls, kTooLarge, kCancelled, kOther };
  Kind kind = Kind::kOther;
  std::string message;
};

struct HttpProxy {
  std::string url;       // "http://proxy:3128", "socks5h://..."; empty: no proxy
  std::string variable;  // the environment variable it came from, for -v
  std::string no_proxy;  // hosts that bypass it, as no_proxy spells them
};

struct HttpOptions {
  Duration connect_timeout{10'000};
  /// Budget for one send() including its retries and backoff waits: a slow
  /// answer ends as kTimeout, a long Retry-After ends with the 429 itself.
  Duration total_timeout{60'000};
  int max_attempts = 4;           // first try plus retries
  Duration backoff_base{500};     // doubled per attempt, with full jitter
  Duration backoff_cap{20'000};
  std::size_t max_response_bytes = kMaxAnswerBytes;
  int trace_level = 0;  // 1 = -v: the proxy; 2 = -vv: method, URL, status, timing; 3 adds headers
  std::function<void(const std::string&)> trace_sink;  // default: stderr
  /// Redacted from every trace line besides each request's own secrets (the
  /// provider set passes every credential of the config here).
  std::vector<std::string> secrets;
  /// Polled by the transfer loop and by backoff waits; when it becomes true
  /// (a SIGINT handler may set it) every send() ends with kCancelled.
  const std::atomic<bool>* cancel = nullptr;
  /// The libcurl opened on the first request (see src/http/curl_loader.h).
  std::string curl_library = "libcurl.so.4";
  /// The proxy https requests go through (none when its url is empty).
  /// libcurl never reads the environment itself: the proxy is this one or
  /// none. Plain http (loopback only) never goes through a proxy, since its
  /// headers, the API key among them, would reach the proxy readable.
  HttpProxy proxy;
};

/// The proxy for https requests as the environment names it, by libcurl's
/// rules: https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY (the first set),
/// and the hosts in no_proxy (or NO_PROXY) that bypass it.
HttpProxy https_proxy_from(const Environment& env);

/// How the CLI turns `-v` and `--timeout` into client options: `-v` (1) says
/// which proxy is used, `-vv` (2) and above trace, `--timeout` caps the total
/// budget of each request; the proxy comes from the process environment.
HttpOptions http_options_for_cli(int verbosity, std::optional<Duration> timeout);

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  /// Blocking for the caller, thread-safe: many threads may send at once and
  /// their transfers run concurrently. Retries happen inside; the response
  /// returned is the last one received (its status may be any code).
  virtual Expected<HttpResponse, HttpFailure> send(const HttpRequest& request) = 0;
};

std::unique_ptr<HttpClient> make_curl_http_client(HttpOptions options);

}  // namespace berth
