// A provider mock (providers/<name>/mock.py) running as a real process on
// loopback for the length of a test: started with --port 0, its port read
// from --port-file, stopped (SIGTERM, then SIGKILL) when the fixture goes.
// Control calls (/_mock/...) use plain libcurl so that they never go through
// the client under test.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "berth/http/http.h"
#include "berth/provider/provider.h"

namespace berth::testing {

class MockServer {
 public:
  /// `name` is "lambda", "runpod" or "vastai"; `extra_args` are passed to the
  /// mock (e.g. {"--boot-seconds", "0.5", "--ssh-host", "127.0.0.21:2222"}).
  explicit MockServer(const std::string& name, std::vector<std::string> extra_args = {});
  ~MockServer();
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  int port() const { return port_; }
  /// http://127.0.0.1:PORT
  std::string url() const;
  const std::string& api_key() const { return api_key_; }

  /// POST /_mock/fault with this document.
  void fault(const nlohmann::json& fault);
  void set_state(const std::string& instance_id, const nlohmann::json& status);
  /// With the provider's status message too (Vast.ai's status_msg).
  void set_state(const std::string& instance_id, const nlohmann::json& status,
                 const std::string& status_msg);
  /// The whole state document: {"status", "status_msg", and what else the
  /// provider's mock pins (Vast.ai: "cur_state", "intended_status")}.
  void set_state_fields(const std::string& instance_id, const nlohmann::json& fields);
  void set_catalog(const nlohmann::json& catalog);
  /// The instance's log from now on: {"text": lines} or {"raw": answer body}.
  void set_logs(const std::string& instance_id, const nlohmann::json& logs);
  /// How long instances launched from now on provision and boot.
  void set_timing(double provision_seconds, double boot_seconds);
  void reset();
  nlohmann::json instances();
  nlohmann::json requests();
  /// Request bodies the vendor's document refuses, as the mock refused them
  /// (GET /_mock/violations): empty when berth sent only valid requests.
  nlohmann::json violations();
  /// What the vendor's schema for `operation` (its operationId) says of
  /// `body`, sent nowhere: the messages, empty when it is valid.
  nlohmann::json check(const std::string& operation, const nlohmann::json& body);

 private:
  nlohmann::json control(const std::string& method, const std::string& path,
                         const nlohmann::json* body);

  int pid_ = -1;
  int port_ = 0;
  std::string api_key_ = "test-key";
  std::string dir_;
};

/// An HTTP client for adapter tests: real libcurl, short timeouts, and by
/// default no retries, so each injected fault reaches the adapter as sent.
std::unique_ptr<HttpClient> test_http_client(int max_attempts = 1, int total_timeout_ms = 5000);

/// The registered adapter of `type`, configured against `server` (base_url
/// + `path_prefix`, the mock's API key) with `settings` as extra config keys.
std::unique_ptr<Provider> make_adapter(const std::string& type, const MockServer& server,
                                       HttpClient& http, const std::string& path_prefix = "",
                                       nlohmann::json settings = nlohmann::json::object(),
                                       const std::string& api_key = "");

}  // namespace berth::testing
