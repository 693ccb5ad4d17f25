// How a cloud adapter reaches its provider's API: JSON over HTTPS with a
// bearer key, sent through the core's client. The request is the same for
// every such API; what a failed answer means is the provider's dialect, so
// each adapter hands in the function that reads its own error envelope.
#pragma once

#include <nlohmann/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/expected.h"
#include "berth/config/config.h"
#include "berth/http/http.h"
#include "berth/provider/provider.h"

namespace berth {

class HttpApi {
 public:
  using ErrorReader = ProviderError (*)(const HttpResponse&);

  /// Reaches `config.base_url`, or `default_base_url` when the config names
  /// none, with `config.api_key`.
  HttpApi(const ProviderConfig& config, const ProviderContext& context,
          std::string_view default_base_url, ErrorReader read_error);

  /// Why `config` cannot make an adapter of `type` on an HTTP API (no client,
  /// no api_key); nullopt when it can. Factories ask before building one.
  static std::optional<std::string> config_error(const ProviderConfig& config,
                                                 const ProviderContext& context,
                                                 std::string_view type);

  /// One request, the key in the Authorization header and, with `secrets`
  /// (values the body carries), in the trace's redaction list. A 2xx answer
  /// comes back as it arrived; a transport failure becomes
  /// http_errors::from_failure, any other answer what `read_error` makes of it.
  Expected<HttpResponse, ProviderError> send(const std::string& method, const std::string& path,
                                             const nlohmann::json* body, bool idempotent,
                                             std::vector<std::string> secrets = {});

  /// send(), then the answer's body, which must be a JSON object.
  Expected<nlohmann::json, ProviderError> send_json(const std::string& method,
                                                    const std::string& path,
                                                    const nlohmann::json* body, bool idempotent,
                                                    std::vector<std::string> secrets = {});

  /// GETs every path (idempotent), at most `parallel` at once, and hands each
  /// JSON answer to `read` as it arrives, in the thread that fetched it, so
  /// no more than `parallel` answers are held at a time. The first failure in
  /// path order, of a request or of `read`, is the result.
  using AnswerReader =
      std::function<Expected<void, ProviderError>(std::size_t index, nlohmann::json&& answer)>;
  /// With `wanted`, a path is asked only if wanted(index) still says so when
  /// its turn comes (an adapter whose earlier answers already hold its
  /// `limit` of offers needs no more).
  using AnswerWanted = std::function<bool(std::size_t index)>;
  Expected<void, ProviderError> get_json_each(const std::vector<std::string>& paths,
                                              std::size_t parallel, const AnswerReader& read,
                                              const AnswerWanted& wanted = {});
  /// The same, each 2xx answer handed over as it arrived, for a reader that
  /// streams its body instead of building a document of it.
  using ResponseReader =
      std::function<Expected<void, ProviderError>(std::size_t index, const HttpResponse& answer)>;
  Expected<void, ProviderError> get_each(const std::vector<std::string>& paths,
                                         std::size_t parallel, const ResponseReader& read,
                                         const AnswerWanted& wanted = {});

  /// How a text answer (a log) is read: what it may be (Accept), the most
  /// of it kept (its newest bytes), and for a stream, the silence that ends it.
  struct TextAnswer {
    std::string accept = "text/plain";
    std::size_t max_bytes = 0;
    Duration stream_quiet{0};
    std::function<bool(std::string_view)> is_keepalive;  // HttpRequest::is_keepalive
  };

  /// A GET whose answer is text, not JSON: the key in the Authorization
  /// header, failures read as send() reads them.
  Expected<HttpResponse, ProviderError> get_text(const std::string& path, const TextAnswer& how);

  /// A GET of a URL the API handed out (a presigned download): sent without
  /// the API key, which must not reach another host. A non-2xx answer is
  /// returned as it arrived, for the adapter to read.
  Expected<HttpResponse, ProviderError> fetch_url(const std::string& url, const TextAnswer& how);

  /// The full URL a request to `path` goes to.
  std::string url(const std::string& path) const;

  /// A 2xx answer's body as a JSON object; bad-response when it is not one.
  static Expected<nlohmann::json, ProviderError> object_body(const HttpResponse& response);

 private:
  HttpClient* http_;
  std::string base_url_;
  std::string api_key_;
  ErrorReader read_error_;
};

}  // namespace berth
