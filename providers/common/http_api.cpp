#include "providers/common/http_api.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "berth/http/json_answer.h"
#include "providers/common/http_errors.h"
#include "providers/common/json_util.h"
#include "providers/common/url.h"

namespace berth {

HttpApi::HttpApi(const ProviderConfig& config, const ProviderContext& context,
                 std::string_view default_base_url, ErrorReader read_error)
    : http_(context.http),
      base_url_(config.base_url.empty() ? std::string(default_base_url) : config.base_url),
      api_key_(config.api_key),
      read_error_(read_error) {}

std::optional<std::string> HttpApi::config_error(const ProviderConfig& config,
                                                 const ProviderContext& context,
                                                 std::string_view type) {
  if (!context.http) return std::string("no HTTP client");
  if (config.api_key.empty())
    return "provider '" + config.name + "' (" + std::string(type) + ") needs api_key";
  return std::nullopt;
}

Expected<HttpResponse, ProviderError> HttpApi::send(const std::string& method,
                                                    const std::string& path,
                                                    const nlohmann::json* body, bool idempotent,
                                                    std::vector<std::string> secrets) {
  HttpRequest req;
  req.method = method;
  req.url = url(path);
  req.headers = {{"Authorization", "Bearer " + api_key_}, {"Accept", "application/json"}};
  if (body) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body->dump();
  }
  req.idempotent = idempotent;
  req.secrets = std::move(secrets);
  req.secrets.push_back(api_key_);
  auto resp = http_->send(req);
  if (!resp) return unexpected(http_errors::from_failure(resp.error()));
  if (!http_errors::is_success(*resp)) return unexpected(read_error_(*resp));
  return std::move(*resp);
}

Expected<nlohmann::json, ProviderError> HttpApi::send_json(const std::string& method,
                                                           const std::string& path,
                                                           const nlohmann::json* body,
                                                           bool idempotent,
                                                           std::vector<std::string> secrets) {
  auto r = send(method, path, body, idempotent, std::move(secrets));
  if (!r) return unexpected(r.error());
  return object_body(*r);
}

Expected<void, ProviderError> HttpApi::get_json_each(const std::vector<std::string>& paths,
                                                     std::size_t parallel,
                                                     const AnswerReader& read,
                                                     const AnswerWanted& wanted) {
  return get_each(
      paths, parallel,
      [&](std::size_t i, const HttpResponse& answer) -> Expected<void, ProviderError> {
        auto body = object_body(answer);
        if (!body) return unexpected(body.error());
        return read(i, std::move(*body));
      },
      wanted);
}

Expected<void, ProviderError> HttpApi::get_each(const std::vector<std::string>& paths,
                                                std::size_t parallel, const ResponseReader& read,
                                                const AnswerWanted& wanted) {
  std::vector<std::optional<ProviderError>> failed(paths.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < paths.size();) {
      if (wanted && !wanted(i)) continue;
      auto answer = send("GET", paths[i], nullptr, true);
      if (!answer) {
        failed[i] = answer.error();
        continue;
      }
      if (auto r = read(i, *answer); !r) failed[i] = r.error();
    }
  };
  std::vector<std::thread> threads;
  const std::size_t n = std::min(std::max<std::size_t>(parallel, 1), paths.size());
  for (std::size_t t = 1; t < n; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  for (auto& f : failed)
    if (f) return unexpected(std::move(*f));
  return {};
}

Expected<nlohmann::json, ProviderError> HttpApi::object_body(const HttpResponse& response) {
  std::string why;
  auto parsed = parse_json_answer(response.body, &why);
  if (!parsed && why != kMalformedJson)  // too large to read: say so, not "malformed"
    return unexpected(http_errors::bad_response(why, response));
  if (!parsed || !parsed->is_object())
    return unexpected(http_errors::bad_response("not a JSON object", response));
  return std::move(*parsed);
}

Expected<HttpResponse, ProviderError> HttpApi::get_text(const std::string& path,
                                                        const TextAnswer& how) {
  HttpRequest req;
  req.url = url(path);
  req.headers = {{"Authorization", "Bearer " + api_key_}, {"Accept", how.accept}};
  req.secrets = {api_key_};
  req.max_response_bytes = how.max_bytes;
  req.keep_last_bytes = how.max_bytes > 0;
  req.stream_quiet = how.stream_quiet;
  req.is_keepalive = how.is_keepalive;
  auto resp = http_->send(req);
  if (!resp) return unexpected(http_errors::from_failure(resp.error()));
  if (!http_errors::is_success(*resp)) return unexpected(read_error_(*resp));
  return std::move(*resp);
}

Expected<HttpResponse, ProviderError> HttpApi::fetch_url(const std::string& target,
                                                         const TextAnswer& how) {
  HttpRequest req;
  req.url = target;
  req.headers = {{"Accept", how.accept}};
  req.secrets = {api_key_};
  req.max_response_bytes = how.max_bytes;
  req.keep_last_bytes = how.max_bytes > 0;
  req.stream_quiet = how.stream_quiet;
  auto resp = http_->send(req);
  if (!resp) return unexpected(http_errors::from_failure(resp.error()));
  return std::move(*resp);
}

std::string HttpApi::url(const std::string& path) const { return url::join(base_url_, path); }

}  // namespace berth
