#include "providers/lambda/lambda_provider.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <regex>

#include "berth/config/config.h"
#include "berth/http/http.h"
#include "berth/template/gpu_catalog.h"
#include "providers/common/answer.h"
#include "providers/common/catalog_gpu.h"
#include "providers/common/http_api.h"
#include "providers/common/http_errors.h"
#include "providers/common/json_util.h"
#include "providers/common/provider_adapter.h"
#include "providers/common/ssh_public_key.h"
#include "providers/common/url.h"

namespace berth::lambda {

namespace {

using nlohmann::json;
namespace ju = json_util;
using Kind = ProviderError::Kind;

constexpr double kGibInGb = 1.073741824;

// The error codes Lambda documents (OpenAPI 1.8.3 ErrorCode); clients must
// branch on the code, never on the message.
Kind kind_for_code(const std::string& code, long status) {
  if (code == "global/invalid-api-key" || code == "global/account-inactive" ||
      code == "global/invalid-address")
    return Kind::kAuth;
  if (code == "instance-operations/launch/insufficient-capacity") return Kind::kNoCapacity;
  if (code == "global/quota-exceeded") return Kind::kQuota;
  if (code == "global/object-does-not-exist") return Kind::kNotFound;
  if (code == "global/invalid-parameters" || code == "global/duplicate" ||
      code == "instance-operations/launch/file-system-in-wrong-region" ||
      code == "filesystems/filesystem-in-use" ||
      code == "firewall-rulesets/firewall-ruleset-in-use")
    return Kind::kInvalidRequest;
  if (code == "global/internal-error" || code.rfind("provider/", 0) == 0) return Kind::kTransient;
  // An unknown code: the status class decides.
  if (status >= 500) return Kind::kTransient;
  if (status == 401 || status == 403) return Kind::kAuth;
  return Kind::kInvalidRequest;
}

// Maps a non-2xx answer. 429 and 5xx are decided by status (their bodies are
// not specified and often not JSON); otherwise the {"error":{code,message}}
// envelope decides.
ProviderError error_from(const HttpResponse& r) {
  if (r.status == 429) return http_errors::from_status(r, "rate limited");
  std::string code, message;
  if (auto body = ju::parse(r.body); body && body->is_object()) {
    auto it = body->find("error");
    if (it != body->end() && it->is_object()) {
      code = it->value("code", "");
      message = it->value("message", "");
      std::string suggestion = it->value("suggestion", "");
      if (!suggestion.empty()) message += " " + suggestion;
    }
  }
  if (code.empty()) {
    if (r.status >= 500) return http_errors::from_status(r, http_errors::excerpt(r.body));
    if (r.status >= 400 && r.status < 500 && r.status != 404)
      return http_errors::from_status(r, http_errors::excerpt(r.body));
    // What answered says whether the base URL is wrong (another server's page).
    if (r.status == 404)
      return http_errors::from_status(
          r, r.body.empty() ? "not found" : "not found: " + http_errors::excerpt(r.body));
    return http_errors::bad_response("no error envelope", r);
  }
  ProviderError e;
  e.kind = kind_for_code(code, r.status);
  e.message = (message.empty() ? code : message) + " (" + code + ")";
  return e;
}

// "H100 (80 GB SXM5)" -> model "H100", form "SXM5", 80 GB. "Tesla V100 (16 GB)".
struct GpuDescription {
  std::string model;
  std::string form;
  std::optional<double> vram_gb;
};

GpuDescription parse_gpu_description(const std::string& text) {
  static const std::regex re(
      R"(^\s*(?:\d+x\s+)?(?:Tesla\s+)?(.+?)\s*\((\d+(?:\.\d+)?)\s*GB\s*([^)]*)\))");
  GpuDescription d;
  std::smatch m;
  if (std::regex_search(text, m, re)) {
    d.model = m[1].str();
    d.vram_gb = std::stod(m[2].str());
    d.form = m[3].str();
  } else {
    d.model = text;
  }
  return d;
}

// The GPUs of an instance type: "gpu_description" (else "description")
// through the catalog, the count from specs.gpus.
OfferGpu type_gpu(const json& type, const std::string& type_name) {
  OfferGpu gpu;
  const json* specs = ju::find(type, "specs");
  gpu.count = specs && specs->is_object()
                  ? static_cast<int>(ju::opt_number(*specs, "gpus").value_or(0))
                  : 0;
  if (gpu.count <= 0) return gpu;
  std::string desc = ju::opt_string(type, "gpu_description").value_or("");
  if (desc.empty()) desc = ju::opt_string(type, "description").value_or("");
  GpuDescription d = parse_gpu_description(desc);
  const GpuModel* model = nullptr;
  for (const std::string& raw :
       {d.form.empty() ? d.model : d.model + " " + d.form, d.model, desc, type_name}) {
    if (raw.empty()) continue;
    if ((model = normalize_gpu_name(raw, d.vram_gb))) break;
  }
  if (model) return catalog_gpu(*model, gpu.count);
  gpu.model = "unknown:" + (desc.empty() ? type_name : desc);
  gpu.vram_gb = d.vram_gb;
  return gpu;
}

Capabilities lambda_capabilities() {
  Capabilities c;
  c.labels = true;  // a VM: the core starts the container over SSH, so it honours everything
  c.volumes = true;  // persistent filesystems, region bound, mounted on the VM
  // Large images take well over 10 minutes to boot and pull (dstack allows 30).
  c.boot_timeout = Duration{1'800'000};
  // One launch per 12 s; the 429 (global/rate-limited) has no Retry-After.
  // Spaced 12.5 s: a margin for requests that take different times on the wire.
  c.pacing = {Duration{12'500}, Duration{12'000}};
  return c;
}

class LambdaProvider final : public ProviderAdapter {
 public:
  LambdaProvider(const ProviderConfig& config, ProviderContext& context)
      : ProviderAdapter(config.name, "lambda", lambda_capabilities()),
        api_(config, context, kDefaultBaseUrl, error_from),
        max_offers_(offer_limit(config) + 1) {}

  Expected<std::vector<Offer>, ProviderError> list_offers(const OfferQuery& query) override;
  Expected<Instance, ProviderError> launch(const LaunchRequest& request) override;
  Expected<std::vector<PlannedRequest>, ProviderError> plan_launch(
      const LaunchRequest& request) override;
  Expected<Instance, ProviderError> get(const std::string& instance_id) override;
  Expected<std::vector<Instance>, ProviderError> list() override;
  Expected<void, ProviderError> terminate(const std::string& instance_id) override;
  Expected<void, ProviderError> check_credentials() override;
  Expected<std::vector<ProviderVolume>, ProviderError> list_volumes() override;
  Expected<ProviderVolume, ProviderError> create_volume(const std::string& name, double size_gb,
                                                        const Offer& at) override;
  Expected<void, ProviderError> delete_volume(const std::string& id) override;

 private:
  ProviderVolume to_volume(const json& fs) const;
  // One call: success gives the parsed "data" member.
  Expected<json, ProviderError> call(const std::string& method, const std::string& path,
                                     const json* body, bool idempotent);
  Expected<std::string, ProviderError> ensure_ssh_key(const std::string& public_key);
  Instance to_instance(const json& data) const;

  HttpApi api_;
  // The `limit` and one more, which tells the core the answer held more
  // (ProviderSet::list_offers cuts it and says so).
  std::size_t max_offers_;
};

Expected<json, ProviderError> LambdaProvider::call(const std::string& method,
                                                   const std::string& path, const json* body,
                                                   bool idempotent) {
  auto resp = api_.send(method, path, body, idempotent);
  if (!resp) return unexpected(resp.error());
  const HttpResponse& r = *resp;
  auto parsed = ju::parse(r.body);
  if (!parsed) return unexpected(http_errors::bad_response("malformed JSON", r));
  if (!parsed->is_object() || !parsed->contains("data"))
    return unexpected(http_errors::bad_response("no \"data\" envelope", r));
  return std::move((*parsed)["data"]);
}

Expected<std::vector<Offer>, ProviderError> LambdaProvider::list_offers(const OfferQuery& query) {
  if (query.spot == SpotPolicy::kOnly) return std::vector<Offer>{};  // no spot market
  auto data = call("GET", "/instance-types", nullptr, true);
  if (!data) return unexpected(data.error());
  return answer::read("instance-types shape", [&] {
    std::vector<Offer> offers;
    // A map keyed by instance-type name, not a list.
    if (!data->is_object()) throw ju::ShapeError("\"data\" should be an object keyed by type");
    for (const auto& [key, entry] : data->items()) {
      if (offers.size() >= max_offers_) break;  // the rest is not read
      const json& type = ju::object_at(entry, "instance_type");
      const json& specs = ju::object_at(type, "specs");
      std::string type_name = ju::opt_string(type, "name").value_or(key);
      double cents = ju::number_at(type, "price_cents_per_hour");
      OfferGpu gpu = type_gpu(type, type_name);

      const json& regions = ju::array_at(entry, "regions_with_capacity_available");
      for (const json& region : regions) {
        if (offers.size() >= max_offers_) break;
        Offer o;
        o.provider = name_;
        o.region = ju::string_at(region, "name");
        o.location = region_location(o.region, ju::opt_string(region, "description").value_or(""));
        o.arch = type_arch(gpu);
        o.id = type_name + "@" + o.region;
        o.gpu = gpu;
        if (auto v = ju::opt_number(specs, "vcpus")) o.vcpus = static_cast<int>(*v);
        if (auto v = ju::opt_number(specs, "memory_gib")) o.memory_gb = *v * kGibInGb;
        if (auto v = ju::opt_number(specs, "storage_gib")) o.disk_gb = *v * kGibInGb;
        o.price_per_hour = cents / 100.0;
        o.launch_data = {{"instance_type", type_name}, {"region", o.region}};
        offers.push_back(std::move(o));
      }
    }
    return offers;
  });
}

// Lambda refers to SSH keys by name. The name is derived from the key itself
// (FNV-1a over the key type and blob), so every berth run with the same key
// finds the same registration and two different keys never collide by name.
std::string key_name_for(const std::string& public_key) {
  std::string blob = ssh_public_key::material(public_key);
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : blob) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string("berth-") + buf;
}

Expected<std::string, ProviderError> LambdaProvider::ensure_ssh_key(const std::string& public_key) {
  std::string wanted = key_name_for(public_key);
  auto keys = call("GET", "/ssh-keys", nullptr, true);
  if (!keys) return unexpected(keys.error());
  auto registered = answer::read("ssh-keys shape", [&]() -> std::optional<std::string> {
    if (!keys->is_array()) throw ju::ShapeError("\"data\" should be a list of keys");
    for (const json& k : *keys) {
      auto pk = ju::opt_string(k, "public_key");
      if (pk && ssh_public_key::same(*pk, public_key)) return ju::string_at(k, "name");
    }
    for (const json& k : *keys)
      if (ju::opt_string(k, "name") == wanted) return wanted;
    return std::nullopt;
  });
  if (!registered) return unexpected(registered.error());
  if (*registered) return **registered;
  json body = {{"name", wanted}, {"public_key", public_key}};
  auto added = call("POST", "/ssh-keys", &body, false);
  if (!added) {
    // Another berth registered the same key in between: that is what we wanted.
    if (added.error().message.find("global/duplicate") != std::string::npos) return wanted;
    return unexpected(added.error());
  }
  return wanted;
}

std::optional<ProviderError> launch_error(const LaunchRequest& request) {
  const json& ld = request.offer.launch_data;
  if (!ld.is_object() || !ld.contains("instance_type") || !ld.contains("region"))
    return ProviderError{Kind::kInvalidRequest, "offer " + request.offer.id + " has no launch data"};
  if (request.ssh_public_key.empty())
    return ProviderError{Kind::kInvalidRequest, "no SSH public key to install"};
  return std::nullopt;
}

json launch_body(const LaunchRequest& request, const std::string& key_name) {
  const json& ld = request.offer.launch_data;
  json tags = json::array();
  for (const auto& [k, v] : request.labels) tags.push_back({{"key", k}, {"value", v}});
  json body = {{"region_name", ld["region"]},
               {"instance_type_name", ld["instance_type"]},
               {"ssh_key_names", {key_name}},
               {"name", request.name}};
  if (!tags.empty()) body["tags"] = tags;
  // Provider volumes: the filesystems the core found or made in the offer's
  // region, each at its own mount point on the VM; the core binds that
  // directory into the container.
  if (!request.volumes.empty()) {
    json mounts = json::array();
    for (const auto& v : request.volumes)
      mounts.push_back({{"mount_point", v.host_path}, {"file_system_id", v.id}});
    body["file_system_mounts"] = mounts;
  }
  return body;
}

Expected<std::vector<PlannedRequest>, ProviderError> LambdaProvider::plan_launch(
    const LaunchRequest& request) {
  if (auto bad = launch_error(request)) return unexpected(*bad);
  std::string key = key_name_for(request.ssh_public_key);
  return std::vector<PlannedRequest>{
      {"POST", api_.url("/ssh-keys"), {{"name", key}, {"public_key", request.ssh_public_key}},
       "when the account does not have berth's key yet (GET /ssh-keys)"},
      {"POST", api_.url("/instance-operations/launch"), launch_body(request, key), ""}};
}

Expected<Instance, ProviderError> LambdaProvider::launch(const LaunchRequest& request) {
  if (auto bad = launch_error(request)) return unexpected(*bad);
  const json& ld = request.offer.launch_data;
  auto key = ensure_ssh_key(request.ssh_public_key);
  if (!key) return unexpected(key.error());

  json body = launch_body(request, *key);
  // Not idempotent: a launch whose answer was lost may have created an
  // instance; the core finds it by name rather than launching twice.
  auto data = call("POST", "/instance-operations/launch", &body, false);
  if (!data) return unexpected(data.error());
  auto id = answer::read("launch answer", [&] {
    const json& ids = ju::array_at(*data, "instance_ids");
    if (ids.empty()) throw ju::ShapeError("instance_ids is empty");
    return ju::id_text(ids.at(0));
  });
  if (!id) return unexpected(id.error());
  Instance inst;
  inst.id = *id;
  inst.provider = name_;
  inst.name = request.name;
  inst.region = ld["region"].get<std::string>();
  inst.state = InstanceState::kProvisioning;
  inst.raw_state = "launching";
  inst.ssh_user = "ubuntu";
  inst.ssh_port = 22;
  inst.price_per_hour = request.offer.price_per_hour;
  inst.offer_id = request.offer.id;
  inst.labels = request.labels;
  return inst;
}

// Filesystem: {id, name, mount_point, created, created_by, is_in_use,
// region: {name, description}, bytes_used?}. No size: it grows as it fills.
ProviderVolume LambdaProvider::to_volume(const json& fs) const {
  ProviderVolume v;
  v.provider = name_;
  v.id = ju::id_at(fs, "id");
  v.name = ju::string_at(fs, "name");
  v.region = ju::string_at(ju::member(fs, "region"), "name");
  if (auto it = fs.find("is_in_use"); it != fs.end() && it->is_boolean()) v.in_use = it->get<bool>();
  v.host_path = ju::opt_string(fs, "mount_point").value_or("/lambda/nfs/" + v.name);
  return v;
}

Expected<std::vector<ProviderVolume>, ProviderError> LambdaProvider::list_volumes() {
  auto data = call("GET", "/file-systems", nullptr, true);
  if (!data) return unexpected(data.error());
  return answer::read("filesystems answer", [&] {
    if (!data->is_array()) throw ju::ShapeError("data should be an array");
    std::vector<ProviderVolume> out;
    for (const json& fs : *data)
      if (is_berth_volume(ju::opt_string(fs, "name").value_or(""))) out.push_back(to_volume(fs));
    return out;
  });
}

// FilesystemCreateRequest: name ^[a-zA-Z]+[0-9a-zA-Z-]*$, at most 60.
static bool filesystem_name_ok(const std::string& name) {
  if (name.empty() || name.size() > 60 || !std::isalpha(static_cast<unsigned char>(name[0])))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

Expected<ProviderVolume, ProviderError> LambdaProvider::create_volume(const std::string& name,
                                                                      double /*size_gb*/,
                                                                      const Offer& at) {
  if (!filesystem_name_ok(name))
    return unexpected(ProviderError{
        Kind::kInvalidRequest,
        "Lambda filesystem names hold only letters, digits and '-', at most 60: '" + name +
            "' cannot be one (rename the deployment or the volume)"});
  json body = {{"name", name}, {"region", at.region}};
  auto data = call("POST", "/filesystems", &body, false);
  if (!data) return unexpected(data.error());
  return answer::read("filesystem answer", [&] { return to_volume(*data); });
}

Expected<void, ProviderError> LambdaProvider::delete_volume(const std::string& id) {
  auto data = call("DELETE", "/filesystems/" + url::segment(id), nullptr, true);
  if (!data) return answer::unless_gone(data.error());
  return {};
}

Instance LambdaProvider::to_instance(const json& d) const {
  Instance inst;
  inst.provider = name_;
  inst.id = ju::id_at(d, "id");
  inst.name = ju::opt_string(d, "name").value_or("");
  inst.raw_state = ju::string_at(d, "status");
  std::string ip = ju::opt_string(d, "ip").value_or("");
  const std::string& s = inst.raw_state;
  if (s == "active")
    inst.state = ip.empty() ? InstanceState::kBooting : InstanceState::kRunning;
  else if (s == "booting")
    inst.state = InstanceState::kBooting;
  else if (s == "unhealthy")
    inst.state = InstanceState::kUnhealthy;  // also seen while booting: the core decides
  else if (s == "terminating")
    inst.state = InstanceState::kStopping;
  else if (s == "terminated")
    inst.state = InstanceState::kTerminated;
  else if (s == "preempted")
    inst.state = InstanceState::kPreempted;
  else
    inst.state = InstanceState::kUnknown;
  inst.host = ip;
  inst.ssh_user = "ubuntu";
  inst.ssh_port = 22;
  if (const json* region = ju::find(d, "region"); region && region->is_object())
    inst.region = ju::opt_string(*region, "name").value_or("");
  if (const json* type = ju::find(d, "instance_type"); type && type->is_object()) {
    if (auto cents = ju::opt_number(*type, "price_cents_per_hour"))
      inst.price_per_hour = *cents / 100.0;
    if (auto tn = ju::opt_string(*type, "name"); tn && !inst.region.empty())
      inst.offer_id = *tn + "@" + inst.region;
    inst.gpu = gpu_summary(type_gpu(*type, ju::opt_string(*type, "name").value_or("")));
  }
  if (const json* tags = ju::find(d, "tags"); tags && tags->is_array())
    for (const json& t : *tags)
      if (t.is_object())
        inst.labels[ju::string_at(t, "key")] = ju::opt_string(t, "value").value_or("");
  return inst;
}

Expected<Instance, ProviderError> LambdaProvider::get(const std::string& instance_id) {
  auto data = call("GET", "/instances/" + url::segment(instance_id), nullptr, true);
  if (!data) return unexpected(data.error());
  return answer::read("instance shape", [&] { return to_instance(*data); });
}

Expected<std::vector<Instance>, ProviderError> LambdaProvider::list() {
  auto data = call("GET", "/instances", nullptr, true);
  if (!data) return unexpected(data.error());
  return answer::read("instances shape", [&] {
    if (!data->is_array()) throw ju::ShapeError("\"data\" should be a list of instances");
    return answer::berth_instances(*data, "name", [this](const json& d) { return to_instance(d); });
  });
}

Expected<void, ProviderError> LambdaProvider::terminate(const std::string& instance_id) {
  json body = {{"instance_ids", {instance_id}}};
  auto data = call("POST", "/instance-operations/terminate", &body, true);
  if (!data) return answer::unless_gone(data.error());
  if (!data->is_object() || !data->contains("terminated_instances"))
    return unexpected(
        ProviderError{Kind::kBadResponse, "terminate answer has no terminated_instances"});
  return {};
}

Expected<void, ProviderError> LambdaProvider::check_credentials() {
  auto data = call("GET", "/ssh-keys", nullptr, true);
  if (!data) return unexpected(data.error());
  return {};
}

}  // namespace

const std::vector<std::string>& region_codes() {
  static const std::vector<std::string> codes = {
      "europe-central-1", "asia-south-1",  "australia-east-1", "me-west-1",
      "asia-northeast-1", "asia-northeast-2", "us-east-1",     "us-west-2",
      "us-west-1",        "us-south-1",    "us-west-3",        "us-midwest-1",
      "us-east-2",        "us-south-2",    "us-south-3",       "us-east-3",
      "us-midwest-2"};
  return codes;
}

Location region_location(const std::string& name, const std::string& description) {
  // What the code itself says: a country, or only a continent.
  struct Prefix {
    const char* prefix;
    const char* country;
    const char* continent;
  };
  static const Prefix kPrefixes[] = {
      {"us-", "us", "na"},       {"europe-", "", "eu"}, {"asia-", "", "as"},
      {"me-", "", "as"},         {"australia-", "au", "oc"},
  };
  Location by_name;
  for (const auto& p : kPrefixes)
    if (name.rfind(p.prefix, 0) == 0) {
      by_name = *p.country ? location_of_country(p.country) : Location{"", p.continent, ""};
      break;
    }
  if (by_name.continent.empty()) return {};  // a code berth does not know: unknown
  Location by_description = parse_place(description);
  if (by_description.continent != by_name.continent) return by_name;
  if (!by_name.country.empty() && by_description.country != by_name.country) return by_name;
  return by_description;
}

CpuArch type_arch(const OfferGpu& gpu) {
  if (auto a = arch_of_gpu(gpu); a != CpuArch::kUnknown) return a;
  return CpuArch::kX86_64;
}

Expected<std::unique_ptr<Provider>, std::string> create(const ProviderConfig& config,
                                                        ProviderContext& context) {
  if (auto error = HttpApi::config_error(config, context, "lambda")) return unexpected(*error);
  return std::unique_ptr<Provider>(std::make_unique<LambdaProvider>(config, context));
}

}  // namespace berth::lambda
