#include "providers/runpod/runpod_provider.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>

#include <fmt/format.h>

#include "berth/common/text.h"
#include "berth/common/units.h"
#include "berth/config/config.h"
#include "berth/deploy/deployments.h"
#include "berth/deploy/log_text.h"
#include "berth/http/http.h"
#include "berth/template/gpu_catalog.h"
#include "providers/common/answer.h"
#include "providers/common/catalog_gpu.h"
#include "providers/common/http_api.h"
#include "providers/common/http_errors.h"
#include "providers/common/json_util.h"
#include "providers/common/provider_adapter.h"
#include "providers/common/sse.h"
#include "providers/common/url.h"
#include "providers/runpod/runpod_catalog.h"

namespace berth::runpod {

namespace {

using nlohmann::json;
namespace ju = json_util;
using Kind = ProviderError::Kind;

// RunPod's capacity failure has no machine-readable code: a 400 whose
// `detail` says the GPU could not be placed (v2 spec) or the wording seen in
// the wild.
bool is_capacity_detail(const std::string& detail) {
  std::string d = ascii_lower(detail);
  return d.find("no longer any instances available") != std::string::npos ||
         d.find("no instances currently available") != std::string::npos ||
         d.find("could not be placed") != std::string::npos ||
         d.find("does not have the resources to deploy") != std::string::npos;
}

// RFC 9457 problem+json: {"title","status","detail","errors"?}.
ProviderError error_from(const HttpResponse& r) {
  std::string detail;
  if (auto body = ju::parse(r.body); body && body->is_object()) {
    if (auto it = body->find("detail"); it != body->end() && it->is_string()) detail = *it;
    if (detail.empty())
      if (auto it = body->find("title"); it != body->end() && it->is_string()) detail = *it;
    if (auto it = body->find("errors"); it != body->end() && it->is_array()) {
      for (const json& e : *it)
        if (e.is_string()) detail += (detail.empty() ? "" : "; ") + e.get<std::string>();
    }
  } else if (r.status != 429 && !r.body.empty()) {
    // What the server answered, a proxy's error page summed up (excerpt).
    detail = http_errors::excerpt(r.body);
  }
  if (r.status == 400 && is_capacity_detail(detail))
    return http_errors::with_kind(Kind::kNoCapacity, detail, r);
  if (r.status == 402)
    return http_errors::with_kind(Kind::kQuota, detail.empty() ? "insufficient balance" : detail,
                                  r);
  if (r.status == 400 || r.status == 409 || r.status == 422)
    return http_errors::with_kind(Kind::kInvalidRequest, detail, r);
  return http_errors::from_status(r, detail);
}

enum class CloudChoice { kAll, kSecure, kCommunity };

// Container disk when the template names none, and the size of the one
// host-local persistent mount a named volume becomes (the API's floor is 10).
constexpr long long kDefaultDiskGb = 50;
constexpr long long kNamedVolumeGb = 50;

Capabilities runpod_capabilities() {
  Capabilities c;
  c.runs = Capabilities::Runs::kPod;
  c.logs = Capabilities::Logs::kApi;  // GET /v2/pods/{id}/logs
  // A pod publishes TCP and HTTP ports at public ports RunPod picks, mounts
  // at most one volume (mounts: persistent, host-local, or one network
  // volume, bound to its data center: maxItems 1 and mutually exclusive in
  // the v2 document's Mounts), and nothing from this machine.
  c.honours = kAllFeatures & ~(feature_bit(WorkloadFeature::kUdpPort) |
                               feature_bit(WorkloadFeature::kHostPort) |
                               feature_bit(WorkloadFeature::kNamedVolumes) |
                               feature_bit(WorkloadFeature::kBindVolume) |
                               feature_bit(WorkloadFeature::kReadonlyVolume) |
                               // No shared-memory or IPC setting in its API.
                               feature_bit(WorkloadFeature::kShmSize) |
                               feature_bit(WorkloadFeature::kIpcHost));
  c.volumes = true;  // /v2/network-volumes
  // Pulls of multi-GB inference images take a while (dstack allows 20 min).
  c.boot_timeout = Duration{1'200'000};
  // 429s carry Retry-After: no pacing of our own.
  return c;
}

class RunpodProvider final : public ProviderAdapter {
 public:
  RunpodProvider(const ProviderConfig& config, ProviderContext& context, CloudChoice cloud)
      : ProviderAdapter(config.name, "runpod", runpod_capabilities()),
        api_(config, context, kDefaultBaseUrl, error_from),
        cloud_(cloud),
        max_offers_(offer_limit(config) + 1) {}

  Expected<std::vector<Offer>, ProviderError> list_offers(const OfferQuery& query) override;
  Expected<Instance, ProviderError> launch(const LaunchRequest& request) override;
  Expected<Instance, ProviderError> get(const std::string& instance_id) override;
  Expected<std::vector<Instance>, ProviderError> list() override;
  Expected<void, ProviderError> terminate(const std::string& instance_id) override;
  Expected<void, ProviderError> check_credentials() override;
  Expected<std::vector<std::string>, ProviderError> logs(const std::string& instance_id,
                                                         int tail) override;
  Expected<std::vector<PlannedRequest>, ProviderError> plan_launch(
      const LaunchRequest& request) override;
  Expected<void, ProviderError> release(const std::string& deployment,
                                        const std::vector<std::string>& keep) override;
  Expected<std::vector<ProviderVolume>, ProviderError> list_volumes() override;
  Expected<ProviderVolume, ProviderError> create_volume(const std::string& name, double size_gb,
                                                        const Offer& at) override;
  Expected<void, ProviderError> delete_volume(const std::string& id) override;

  Instance to_instance(const json& pod) const;
  ProviderVolume to_volume(const json& v) const;

 private:
  std::optional<ProviderError> launch_error(const LaunchRequest& request) const;
  json pod_body(const LaunchRequest& request, const std::optional<std::string>& registry_id) const;
  Expected<std::string, ProviderError> registry_credential(const LaunchRequest& request);

  HttpApi api_;
  CloudChoice cloud_;
  // The `limit` and one more, which tells the core the answers held more
  // (ProviderSet::list_offers cuts it and says so).
  std::size_t max_offers_;
};

// The catalog's stock depends on the tier and the GPU count asked
// (`cloud`, `count`; SECURE and 1 when omitted): one answer per pair, each
// read only for that pair, so no offer claims stock the API did not report
// for exactly that tier and count. At most 4 requests at once.
constexpr std::size_t kCatalogParallel = 4;

std::vector<int> catalog_counts(const Range<int>& wanted) {
  std::vector<int> counts;
  for (int c : {1, 2, 4, 8})
    if (wanted.contains(c)) counts.push_back(c);
  // An exact count between the usual ones (3, 6, ...) is asked as such.
  if (wanted.min && *wanted.min >= 1 && *wanted.min <= 8 && wanted.contains(*wanted.min) &&
      std::find(counts.begin(), counts.end(), *wanted.min) == counts.end())
    counts.push_back(*wanted.min);
  std::sort(counts.begin(), counts.end());
  return counts;
}

Expected<std::vector<Offer>, ProviderError> RunpodProvider::list_offers(const OfferQuery& query) {
  if (query.spot == SpotPolicy::kOnly) return std::vector<Offer>{};
  struct Ask {
    const char* cloud;  // "secure" | "community": the catalog's keys
    int count;
  };
  std::vector<Ask> asks;
  for (const char* cloud : {"secure", "community"}) {
    if (cloud_ == CloudChoice::kSecure && std::string(cloud) != "secure") continue;
    if (cloud_ == CloudChoice::kCommunity && std::string(cloud) != "community") continue;
    for (int count : catalog_counts(query.gpu_count)) asks.push_back({cloud, count});
  }
  std::vector<std::string> paths;
  for (const auto& a : asks)
    paths.push_back(fmt::format("/v2/catalog/gpus?include=AVAILABILITY&product=POD&cloud={}&count={}",
                                std::string(a.cloud) == "secure" ? "SECURE" : "COMMUNITY",
                                a.count));
  std::vector<std::vector<Offer>> found(asks.size());
  // Offers are kept in ask order up to the limit: an ask whose earlier asks
  // already hold that many is not sent (a hostile catalog answered once
  // costs one reading, not eight).
  std::mutex mutex;
  std::vector<bool> answered(asks.size(), false);
  auto wanted = [&](std::size_t i) {
    std::lock_guard<std::mutex> lock(mutex);
    std::size_t before = 0;
    for (std::size_t j = 0; j < i; ++j)
      if (answered[j]) before += found[j].size();
    return before < max_offers_;
  };
  auto done = api_.get_each(
      paths, kCatalogParallel,
      [&](std::size_t i, const HttpResponse& answer) -> Expected<void, ProviderError> {
        auto offers =
            runpod::catalog_offers(answer.body, name_, asks[i].cloud, asks[i].count, max_offers_);
        if (!offers)
          return unexpected(
              http_errors::bad_response("unexpected catalog shape: " + offers.error(), answer));
        std::lock_guard<std::mutex> lock(mutex);
        found[i] = std::move(*offers);
        answered[i] = true;
        return {};
      },
      wanted);
  if (!done) return unexpected(done.error());
  std::vector<Offer> offers;
  for (auto& list : found)
    for (auto& o : list) {
      if (offers.size() == max_offers_) return offers;
      offers.push_back(std::move(o));
    }
  return offers;
}

std::string port_spec(const PortMapping& p) {
  return std::to_string(p.container) + "/" + (p.protocol == "udp" ? "udp" : "tcp");
}

// The container start command (`args`, a string). RunPod takes either a
// command line or a JSON object {"cmd": [...], "entrypoint": [...]}
// (runpod/docs pods/templates/manage-templates.mdx @ 24b395b2). berth sends
// the JSON object: every argument stays one argument, with its spaces,
// quotes, `$` and newlines, and no shell on RunPod's side splits it.
// Docker's rule: an entrypoint override clears the image's CMD.
std::optional<std::string> start_command(const WorkloadSpec& c) {
  if (!c.entrypoint && !c.command) return std::nullopt;  // the image's own
  json args = json::object();
  if (c.entrypoint) args["entrypoint"] = *c.entrypoint;
  if (c.command) args["cmd"] = *c.command;
  else args["cmd"] = json::array();
  return args.dump();
}

// The registry credential of a deployment's template: named after the
// template hash, which covers registry_auth, so a changed password makes a
// new credential and the old one goes when no replica uses it.
std::string credential_name(const LaunchRequest& request) {
  auto label = [&](const char* key) {
    auto it = request.labels.find(key);
    return it == request.labels.end() ? std::string() : it->second;
  };
  return "berth-" + label(kInstanceLabelDeployment) + "-" + label(kInstanceLabelHash);
}


json RunpodProvider::pod_body(const LaunchRequest& request,
                              const std::optional<std::string>& registry_id) const {
  const json& ld = request.offer.launch_data;
  const WorkloadSpec& c = *request.container;
  json env = json::object();
  for (const auto& e : c.env) env[e.name] = e.value;
  // RunPod images append PUBLIC_KEY to root's authorized_keys.
  if (!request.ssh_public_key.empty()) env["PUBLIC_KEY"] = request.ssh_public_key;

  json ports = json::array();
  bool has_ssh = false;
  for (const auto& p : c.ports) {
    ports.push_back(port_spec(p));
    has_ssh = has_ssh || (p.container == 22 && p.protocol != "udp");
  }
  if (!has_ssh) ports.push_back("22/tcp");

  json gpu = {{"id", ld["gpu_id"]}, {"count", ld["count"]}};
  // The host's CUDA: a floor, compared numerically ("12.11" > "12.2").
  if (c.min_cuda) gpu["minCudaVersion"] = fmt::format("{:.1f}", *c.min_cuda);
  json body = {{"name", request.name},
               {"image", c.image},
               {"gpu", gpu},
               {"cloud", ld["cloud"]},
               {"dataCenterIds", {ld["data_center"]}},
               {"ports", ports},
               {"env", env},
               {"disk", c.disk_gb(kDefaultDiskGb)}};
  if (auto args = start_command(c)) body["args"] = *args;
  if (registry_id) body["registry"] = *registry_id;
  // At most one named volume (Capabilities::honours): a provider volume is
  // the network volume the core found or made in the offer's data center.
  for (const auto& v : c.volumes)
    if (v.kind == Volume::Kind::kNamed && !v.provider_volume())
      body["mounts"] = {{"persistent", {{"size", kNamedVolumeGb}, {"path", v.path}}}};
  for (const auto& a : request.volumes)
    body["mounts"] = {{"network", json::array({{{"volumeId", a.id}, {"path", a.path}}})}};
  return body;
}

Expected<std::vector<PlannedRequest>, ProviderError> RunpodProvider::plan_launch(
    const LaunchRequest& request) {
  if (auto bad = launch_error(request)) return unexpected(*bad);
  std::vector<PlannedRequest> out;
  std::optional<std::string> registry_id;
  if (const auto& r = request.container->registry) {
    out.push_back({"POST", api_.url("/v2/registries"),
                   {{"name", credential_name(request)},
                    {"username", r->username},
                    {"password", r->password}},
                   "when no credential of this name exists yet (GET /v2/registries)"});
    registry_id = "<the credential's id>";
  }
  out.push_back({"POST", api_.url("/v2/pods"), pod_body(request, registry_id), ""});
  return out;
}

std::optional<ProviderError> RunpodProvider::launch_error(const LaunchRequest& request) const {
  const json& ld = request.offer.launch_data;
  if (!ld.is_object() || !ld.contains("gpu_id") || !ld.contains("count") || !ld.contains("cloud") ||
      !ld.contains("data_center"))
    return ProviderError{Kind::kInvalidRequest, "offer " + request.offer.id + " has no launch data"};
  if (!request.container)
    return ProviderError{Kind::kInvalidRequest, "no container to start"};
  return std::nullopt;
}

// Finds the deployment's credential by name, or makes it.
Expected<std::string, ProviderError> RunpodProvider::registry_credential(
    const LaunchRequest& request) {
  const RegistryLogin& login = *request.container->registry;
  std::string name = credential_name(request);
  auto listed = api_.send("GET", "/v2/registries", nullptr, true);
  if (!listed) return unexpected(listed.error());
  auto found = answer::read("registries shape", [&]() -> std::string {
    json all = ju::parse(listed->body).value_or(json());
    const json* list = &all;
    if (all.is_object()) list = &ju::member(all, "registries");
    if (!list->is_array()) throw ju::ShapeError("registries should be an array");
    for (const json& r : *list)
      if (ju::opt_string(r, "name").value_or("") == name) return ju::id_at(r, "id");
    return "";
  });
  if (!found) return unexpected(found.error());
  if (!found->empty()) return *found;
  json body = {{"name", name}, {"username", login.username}, {"password", login.password}};
  auto made = api_.send_json("POST", "/v2/registries", &body, false,
                             {login.password, login.username});
  if (!made) return unexpected(made.error());
  return answer::read("registry shape", [&] { return ju::id_at(*made, "id"); });
}

Expected<Instance, ProviderError> RunpodProvider::launch(const LaunchRequest& request) {
  if (auto bad = launch_error(request)) return unexpected(*bad);
  std::optional<std::string> registry_id;
  if (request.container->registry) {
    auto id = registry_credential(request);
    if (!id) return unexpected(id.error());
    registry_id = *id;
  }
  json body = pod_body(request, registry_id);
  // Not idempotent: a create whose answer was lost may have made a pod; the
  // core finds it by name instead of creating a second one.
  auto pod = api_.send_json("POST", "/v2/pods", &body, false, request.container->secrets());
  if (!pod && pod.error().http_status == 403) {
    // On create, 403 is "your account cannot access this GPU pool": that
    // candidate is out of reach, the next one may not be.
    ProviderError e = pod.error();
    e.kind = Kind::kNoCapacity;
    e.message = "no access to this GPU pool: " + e.message;
    return unexpected(e);
  }
  if (!pod) return unexpected(pod.error());
  return answer::read("pod shape", [&] {
    Instance inst = to_instance(*pod);
    if (inst.name.empty()) inst.name = request.name;
    inst.offer_id = request.offer.id;
    if (inst.price_per_hour == 0) inst.price_per_hour = request.offer.price_per_hour;
    return inst;
  });
}

Expected<void, ProviderError> RunpodProvider::release(const std::string& deployment,
                                                      const std::vector<std::string>& keep) {
  auto listed = api_.send("GET", "/v2/registries", nullptr, true);
  if (!listed) return unexpected(listed.error());
  auto ids = answer::read("registries shape", [&] {
    std::vector<std::string> out;
    json all = ju::parse(listed->body).value_or(json());
    const json* list = &all;
    if (all.is_object()) list = &ju::member(all, "registries");
    if (!list->is_array()) throw ju::ShapeError("registries should be an array");
    const std::string prefix = "berth-" + deployment + "-";
    for (const json& r : *list) {
      std::string name = ju::opt_string(r, "name").value_or("");
      if (name.rfind(prefix, 0) != 0) continue;
      std::string hash = name.substr(prefix.size());
      // Deployment names may contain '-': only a hash (no '-') ends ours.
      if (hash.find('-') != std::string::npos) continue;
      if (std::find(keep.begin(), keep.end(), hash) == keep.end()) out.push_back(ju::id_at(r, "id"));
    }
    return out;
  });
  if (!ids) return unexpected(ids.error());
  for (const auto& id : *ids) {
    auto r = api_.send("DELETE", "/v2/registries/" + url::segment(id), nullptr, true);
    if (!r) {
      if (auto gone = answer::unless_gone(r.error()); !gone) return gone;
    }
  }
  return {};
}

// NetworkVolume: {id, name, size (GB), dataCenter, type}.
ProviderVolume RunpodProvider::to_volume(const json& v) const {
  ProviderVolume out;
  out.provider = name_;
  out.id = ju::id_at(v, "id");
  out.name = ju::string_at(v, "name");
  out.region = ju::string_at(v, "dataCenter");
  out.size_gb = ju::opt_number(v, "size");
  return out;
}

Expected<std::vector<ProviderVolume>, ProviderError> RunpodProvider::list_volumes() {
  auto listed = api_.send("GET", "/v2/network-volumes", nullptr, true);
  if (!listed) return unexpected(listed.error());
  return answer::read("network volumes shape", [&] {
    json all = ju::parse(listed->body).value_or(json());
    const json* list = &all;
    if (all.is_object()) list = &ju::member(all, "networkVolumes");
    if (!list->is_array()) throw ju::ShapeError("networkVolumes should be an array");
    std::vector<ProviderVolume> out;
    for (const json& v : *list)
      if (is_berth_volume(ju::opt_string(v, "name").value_or(""))) out.push_back(to_volume(v));
    return out;
  });
}

Expected<ProviderVolume, ProviderError> RunpodProvider::create_volume(const std::string& name,
                                                                      double size_gb,
                                                                      const Offer& at) {
  const json& ld = at.launch_data;
  if (!ld.is_object() || !ld.contains("data_center"))
    return unexpected(ProviderError{Kind::kInvalidRequest, "offer " + at.id + " has no data center"});
  // Whole GB, 10..4096 (CreateNetworkVolumeRequest); the template checks the range.
  json body = {{"name", name},
               {"size", static_cast<long long>(std::ceil(size_gb - 1e-9))},
               {"dataCenter", ld["data_center"]}};
  auto made = api_.send_json("POST", "/v2/network-volumes", &body, false, {});
  if (!made) return unexpected(made.error());
  return answer::read("network volume shape", [&] { return to_volume(*made); });
}

Expected<void, ProviderError> RunpodProvider::delete_volume(const std::string& id) {
  auto r = api_.send("DELETE", "/v2/network-volumes/" + url::segment(id), nullptr, true);
  if (!r) return answer::unless_gone(r.error());
  return {};
}

Instance RunpodProvider::to_instance(const json& pod) const {
  Instance inst;
  inst.provider = name_;
  inst.id = ju::id_at(pod, "id");
  inst.name = ju::opt_string(pod, "name").value_or("");
  inst.raw_state = ju::string_at(pod, "status");
  inst.region = ju::opt_string(pod, "dataCenterId").value_or("");
  inst.price_per_hour = ju::opt_number(pod, "cost").value_or(0);
  // A date is never a reason to refuse the pod it describes.
  if (const json* at = ju::find(pod, "createdAt"); at && at->is_string())
    inst.created = parse_rfc3339(at->get<std::string>());
  inst.ssh_user = "root";
  if (const json* g = ju::find(pod, "gpu"); g && g->is_object())
    inst.gpu = instance_gpu({ju::opt_string(*g, "id").value_or(""),
                             ju::opt_string(*g, "displayName").value_or("")},
                            static_cast<int>(ju::opt_number(*g, "count").value_or(0)));

  // ssh.direct is null until 22/tcp is published and the pod runs.
  bool direct = false;
  if (const json* ssh = ju::find(pod, "ssh"); ssh && ssh->is_object())
    if (const json* d = ju::find(*ssh, "direct"); d && d->is_object()) {
      inst.host = ju::string_at(*d, "host");
      inst.ssh_port = static_cast<int>(ju::number_at(*d, "port"));
      inst.ssh_user = ju::opt_string(*d, "username").value_or("root");
      direct = !inst.host.empty();
    }
  if (const json* rt = ju::find(pod, "runtime"); rt && rt->is_object())
    if (const json* ports = ju::find(*rt, "ports"); ports && ports->is_array())
      for (const json& p : *ports) {
        auto priv = ju::opt_number(p, "private");
        auto pub = ju::opt_number(p, "public");
        if (priv && pub) inst.public_ports[static_cast<int>(*priv)] = static_cast<int>(*pub);
        if (!direct && priv && *priv == 22) {
          // SSH from the runtime port table when ssh.direct is missing.
          if (auto ip = ju::opt_string(p, "ip"); ip && !ip->empty() && pub) {
            inst.host = *ip;
            inst.ssh_port = static_cast<int>(*pub);
            direct = true;
          }
        }
      }

  const std::string& s = inst.raw_state;
  if (s == "PROVISIONING")
    inst.state = InstanceState::kProvisioning;
  else if (s == "STARTING")
    inst.state = InstanceState::kBooting;
  else if (s == "RUNNING")
    inst.state = direct ? InstanceState::kRunning : InstanceState::kBooting;
  else if (s == "EXITED")
    inst.state = InstanceState::kExited;  // the pod is its container: that exited
  else if (s == "ERROR")
    inst.state = InstanceState::kFailed;
  else if (s == "TERMINATED")
    inst.state = InstanceState::kTerminated;
  else
    inst.state = InstanceState::kUnknown;
  return inst;
}

Expected<Instance, ProviderError> RunpodProvider::get(const std::string& instance_id) {
  auto pod = api_.send_json("GET", "/v2/pods/" + url::segment(instance_id), nullptr, true);
  if (!pod) return unexpected(pod.error());
  return answer::read("pod shape", [&] { return to_instance(*pod); });
}

Expected<std::vector<Instance>, ProviderError> RunpodProvider::list() {
  auto root = api_.send_json("GET", "/v2/pods", nullptr, true);
  if (!root) return unexpected(root.error());
  return answer::read("pods shape", [&] {
    return answer::berth_instances(ju::array_at(*root, "pods"), "name",
                                   [this](const json& pod) { return to_instance(pod); });
  });
}

Expected<void, ProviderError> RunpodProvider::terminate(const std::string& instance_id) {
  // 204 with an empty body; 404 means it is already gone.
  auto r = api_.send("DELETE", "/v2/pods/" + url::segment(instance_id), nullptr, true);
  if (!r) return answer::unless_gone(r.error());
  return {};
}

Expected<void, ProviderError> RunpodProvider::check_credentials() {
  auto root = api_.send_json("GET", "/v2/pods", nullptr, true);
  if (!root) return unexpected(root.error());
  return {};
}

// The log stream holds its connection open after the backfill: the answer
// ends when nothing more came for this long.
constexpr Duration kLogStreamQuiet{1'500};

Expected<std::vector<std::string>, ProviderError> RunpodProvider::logs(
    const std::string& instance_id, int tail) {
  tail = std::clamp(tail, 1, kMaxLogTail);
  auto r = api_.get_text("/v2/pods/" + url::segment(instance_id) +
                             "/logs?source=container&tail=" + std::to_string(tail),
                         {"text/event-stream", kMaxLogAnswerBytes, kLogStreamQuiet, sse::only_comments});
  if (!r) return unexpected(r.error());
  return parse_log_stream(r->body, static_cast<std::size_t>(tail), r->cut);
}

}  // namespace

namespace {
struct DataCenter {
  const char* id;
  const char* country;
  const char* subregion;
};
// The ids of the document's examples and of the mock, and their places.
constexpr DataCenter kDataCenters[] = {
    {"US-KS-2", "us", "ks"}, {"US-TX-3", "us", "tx"}, {"US-CA-2", "us", "ca"},
    {"EU-RO-1", "ro", ""},   {"CA-MTL-1", "ca", "qc"},
};
}  // namespace

std::vector<std::string> known_data_centers() {
  std::vector<std::string> ids;
  for (const auto& dc : kDataCenters) ids.emplace_back(dc.id);
  return ids;
}

Location data_center_location(const std::string& raw) {
  std::string id = raw;
  for (auto& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& dc : kDataCenters)
    if (id == dc.id) return location_of_country(dc.country, dc.subregion);
  // <area>-<place>-<n>
  auto d1 = id.find('-');
  auto d2 = d1 == std::string::npos ? d1 : id.find('-', d1 + 1);
  if (d2 == std::string::npos || d2 + 1 >= id.size() ||
      !std::all_of(id.begin() + static_cast<long>(d2) + 1, id.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return {};
  std::string area = id.substr(0, d1), place = id.substr(d1 + 1, d2 - d1 - 1);
  if (area == "US") {
    auto l = location_of_country("us", place);
    return l.subregion.empty() ? Location{} : l;
  }
  if (area == "CA") {
    auto l = location_of_country("ca", place);
    return l.subregion.empty() ? Location{} : l;
  }
  static const std::pair<const char*, const char*> kAreas[] = {
      {"EU", "eu"}, {"EUR", "eu"}, {"AP", "as"}, {"SEA", "as"}, {"OC", "oc"}};
  for (const auto& [prefix, continent] : kAreas)
    if (area == prefix && place.size() == 2 && continent_of(place) == continent)
      return location_of_country(place);
  return {};
}

std::vector<std::string> parse_log_stream(std::string_view body, std::size_t tail, bool cut_front) {
  std::vector<std::string> lines;
  // Each event's data is {"source", "line", "ts"}; a line may hold several
  // lines of its own: each counts. Events that are not that are skipped.
  for (const auto& e : sse::parse(body, tail, kMaxLogAnswerBytes, cut_front)) {
    auto data = json_util::parse(e.data);
    if (!data || !data->is_object()) continue;
    auto source = data->find("source");
    if (source != data->end() && source->is_string() && *source != "container") continue;
    auto line = data->find("line");
    if (line == data->end() || !line->is_string()) continue;
    for (auto& l : last_log_lines(line->get_ref<const std::string&>(), tail))
      lines.push_back(std::move(l));
  }
  if (lines.size() > tail) lines.erase(lines.begin(), lines.end() - static_cast<long>(tail));
  return lines;
}

void read_settings(const ProviderSettings& settings, ProviderConfig& out) {
  if (auto v = settings.get("cloud"))
    if (auto cloud = v->choice({"secure", "community", "all"})) out.settings["cloud"] = *cloud;
}

Expected<std::unique_ptr<Provider>, std::string> create(const ProviderConfig& config,
                                                        ProviderContext& context) {
  if (auto error = HttpApi::config_error(config, context, "runpod")) return unexpected(*error);
  CloudChoice cloud = CloudChoice::kAll;
  if (config.settings.is_object())
    if (auto it = config.settings.find("cloud"); it != config.settings.end() && !it->is_null()) {
      std::string v = it->is_string() ? ascii_lower(it->get<std::string>()) : "";
      if (v == "secure")
        cloud = CloudChoice::kSecure;
      else if (v == "community")
        cloud = CloudChoice::kCommunity;
      else if (v == "all")
        cloud = CloudChoice::kAll;
      else
        return unexpected("provider '" + config.name +
                          "' (runpod): cloud must be secure, community or all");
    }
  return std::unique_ptr<Provider>(std::make_unique<RunpodProvider>(config, context, cloud));
}

}  // namespace berth::runpod
