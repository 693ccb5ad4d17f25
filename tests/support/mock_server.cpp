#include "support/mock_server.h"

#include <curl/curl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "berth/config/config.h"

extern char** environ;

namespace berth::testing {

namespace {

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

MockServer::MockServer(const std::string& name, std::vector<std::string> extra_args) {
  char tmpl[] = "/tmp/berth-mock-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  std::string port_file = dir_ + "/port";
  std::string script = std::string(BERTH_SOURCE_DIR) + "/providers/" + name + "/mock.py";
  std::vector<std::string> args = {"python3",     script,    "--port",    "0",
                                   "--port-file", port_file, "--api-key", api_key_};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawnp(&pid, "python3", nullptr, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot start python3 for the " + name + " mock");
  pid_ = pid;
  // Bounded wait for the mock to report its port.
  for (int i = 0; i < 200 && port_ == 0; ++i) {
    std::ifstream in(port_file);
    int p = 0;
    if (in >> p) {
      port_ = p;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("the " + name + " mock exited at start");
    }
  }
  if (port_ == 0) throw std::runtime_error("the " + name + " mock did not report a port");
}

MockServer::~MockServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string MockServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

nlohmann::json MockServer::control(const std::string& method, const std::string& path,
                                   const nlohmann::json* body) {
  CURL* c = curl_easy_init();
  std::string out, payload = body ? body->dump() : "";
  std::string u = url() + path;
  curl_easy_setopt(c, CURLOPT_URL, u.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  struct curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  }
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK || status != 200)
    throw std::runtime_error("mock control " + method + " " + path + " failed: " + out);
  return nlohmann::json::parse(out);
}

void MockServer::fault(const nlohmann::json& f) { control("POST", "/_mock/fault", &f); }

void MockServer::set_logs(const std::string& id, const nlohmann::json& logs) {
  control("POST", "/_mock/instances/" + id + "/logs", &logs);
}

void MockServer::set_state(const std::string& id, const nlohmann::json& status) {
  nlohmann::json body = {{"status", status}};
  control("POST", "/_mock/instances/" + id + "/state", &body);
}

void MockServer::set_state(const std::string& id, const nlohmann::json& status,
                           const std::string& status_msg) {
  nlohmann::json body = {{"status", status}, {"status_msg", status_msg}};
  control("POST", "/_mock/instances/" + id + "/state", &body);
}

void MockServer::set_state_fields(const std::string& id, const nlohmann::json& fields) {
  control("POST", "/_mock/instances/" + id + "/state", &fields);
}

void MockServer::set_timing(double provision_seconds, double boot_seconds) {
  nlohmann::json body = {{"provision_seconds", provision_seconds}, {"boot_seconds", boot_seconds}};
  control("POST", "/_mock/timing", &body);
}

void MockServer::set_catalog(const nlohmann::json& catalog) {
  control("PUT", "/_mock/catalog", &catalog);
}

void MockServer::reset() {
  nlohmann::json empty = nlohmann::json::object();
  control("POST", "/_mock/reset", &empty);
}

nlohmann::json MockServer::instances() { return control("GET", "/_mock/instances", nullptr); }
nlohmann::json MockServer::requests() { return control("GET", "/_mock/requests", nullptr); }
nlohmann::json MockServer::violations() { return control("GET", "/_mock/violations", nullptr); }
nlohmann::json MockServer::check(const std::string& operation, const nlohmann::json& body) {
  return control("POST", "/_mock/check/" + operation, &body)["messages"];
}

std::unique_ptr<HttpClient> test_http_client(int max_attempts, int total_timeout_ms) {
  HttpOptions o;
  o.connect_timeout = Duration{2000};
  o.total_timeout = Duration{total_timeout_ms};
  o.max_attempts = max_attempts;
  o.backoff_base = Duration{20};
  o.backoff_cap = Duration{200};
  return make_curl_http_client(o);
}

std::unique_ptr<Provider> make_adapter(const std::string& type, const MockServer& server,
                                       HttpClient& http, const std::string& path_prefix,
                                       nlohmann::json settings, const std::string& api_key) {
  const ProviderType* t = find_provider_type(type);
  if (!t) throw std::runtime_error("no provider type " + type);
  ProviderConfig config;
  config.name = "my-" + type;
  config.type = type;
  config.api_key = api_key.empty() ? server.api_key() : api_key;
  config.base_url = server.url() + path_prefix;
  config.settings = std::move(settings);
  // Adapters keep the client pointer, not the context.
  ProviderContext context;
  context.http = &http;
  auto p = t->create(config, context);
  if (!p) throw std::runtime_error("cannot create " + type + ": " + p.error());
  return std::move(*p);
}

}  // namespace berth::testing
