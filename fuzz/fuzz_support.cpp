#include "fuzz_support.h"

#include <iterator>

#include "berth/config/config.h"
#include "berth/http/http.h"
#include "berth/provider/provider.h"
#include "berth/template/launch_template.h"
#include "berth/template/workload_spec.h"

namespace berth::fuzz {

namespace {

class AnsweringHttp final : public HttpClient {
 public:
  long status = 200;
  std::string body;
  Expected<HttpResponse, HttpFailure> send(const HttpRequest&) override {
    HttpResponse r;
    r.status = status;
    r.body = body;
    r.headers["content-type"] = "application/json";
    if (status == 429 || status == 503) r.headers["retry-after"] = "2";
    return r;
  }
};

WorkloadSpec container() {
  LaunchTemplate t;
  t.name = "fuzz";
  t.hash = "abc123def456";
  t.image = {"registry.example.com/team/app:1", false};
  t.command = ContainerCommand{false, {{"serve", false}}};
  t.env = {{"MODEL", {"m", false}}, {"TOKEN", {"secret-value", true}}};
  t.ports = {PortMapping{8000, std::nullopt, "tcp"}};
  WorkloadSpec s = resolve_workload(t);
  s.image_process = ImageProcess{{"/usr/bin/entry"}, {"arg"}, "/app"};
  return s;
}

// Each adapter's offers carry what its launch needs (launch_data).
nlohmann::json launch_data(const std::string& type) {
  if (type == "lambda") return {{"instance_type", "gpu_1x_a10"}, {"region", "us-east-1"}};
  if (type == "runpod")
    return {{"gpu_id", "NVIDIA A40"}, {"count", 1}, {"cloud", "SECURE"}, {"data_center", "US-KS-2"}};
  return {{"ask_id", "1001"}};
}

}  // namespace

long status_for(std::uint8_t selector) {
  static const long kStatuses[] = {200, 200, 200, 200, 201, 204, 301, 400, 401, 403,
                                   404, 409, 410, 422, 429, 500, 502, 503};
  return kStatuses[selector % std::size(kStatuses)];
}

void exercise_adapter(const std::string& type, long status, const std::string& body) {
  static AnsweringHttp http;
  http.status = status;
  http.body = body;
  ProviderConfig config;
  config.name = "fz";
  config.type = type;
  config.api_key = "fuzz-api-key-0123456789";
  config.base_url = "https://api.example.test";
  config.settings = nlohmann::json::object();
  ProviderContext context;
  context.http = &http;
  const ProviderType* t = find_provider_type(type);
  if (!t) __builtin_trap();
  auto made = t->create(config, context);
  if (!made) __builtin_trap();  // a valid config always makes an adapter
  Provider& p = **made;

  (void)p.list_offers({});
  (void)p.list();
  (void)p.get("i-123");
  (void)p.terminate("i-123");
  (void)p.check_credentials();
  (void)p.logs("1", 50);  // the log answer: SSE (RunPod), a request and a file (Vast.ai)
  static const WorkloadSpec spec = container();
  LaunchRequest request;
  request.name = "berth-fuzz-0-abc123def456";
  request.labels = {{"berth-deployment", "fuzz"}};
  request.offer.provider = "fz";
  request.offer.id = "offer-1";
  request.offer.launch_data = launch_data(type);
  request.ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK9S berth@fuzz";
  request.container = &spec;
  (void)p.plan_launch(request);
  (void)p.launch(request);
  (void)p.release("fuzz", {});
}

}  // namespace berth::fuzz
