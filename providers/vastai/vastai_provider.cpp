#include "providers/vastai/vastai_provider.h"

#include <thread>

#include <cctype>

#include "berth/common/shell_quote.h"
#include "berth/common/text.h"
#include "berth/deploy/log_text.h"
#include "berth/http/http.h"
#include "providers/common/answer.h"
#include "providers/common/catalog_gpu.h"
#include "providers/common/http_api.h"
#include "providers/common/http_errors.h"
#include "providers/common/json_util.h"
#include "providers/common/provider_adapter.h"
#include "providers/common/ssh_public_key.h"
#include "providers/common/url.h"
#include "providers/vastai/vastai_offers.h"

namespace berth::vastai {

namespace {

using nlohmann::json;
namespace ju = json_util;
using Kind = ProviderError::Kind;

bool contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}

// Vast's envelope is usually {"success": false, "error": code, "msg": text},
// but some endpoints send only "msg", "message" or "detail", and 429s are
// often plain text.
ProviderError classify(const HttpResponse& r, const std::string& code, const std::string& msg,
                       const std::string& text);

ProviderError error_from(const HttpResponse& r) {
  std::string code, msg, created;
  if (auto body = ju::parse(r.body); body && body->is_object()) {
    // A failed rental may still have made an instance, which bills.
    if (const json* nc = ju::find(*body, "new_contract"); nc && !nc->is_null())
      created = ju::id_text(*nc);
    for (const char* k : {"error", "error_code"})
      if (auto it = body->find(k); it != body->end() && it->is_string()) {
        code = *it;
        break;
      }
    for (const char* k : {"msg", "message", "detail"})
      if (auto it = body->find(k); it != body->end() && it->is_string()) {
        msg = *it;
        break;
      }
  } else {
    msg = http_errors::excerpt(r.body);
  }
  std::string text = msg.empty() ? code : (code.empty() ? msg : msg + " (" + code + ")");
  ProviderError e = classify(r, code, msg, text);
  e.created_instance = created;
  return e;
}

ProviderError classify(const HttpResponse& r, const std::string& code, const std::string& msg,
                       const std::string& text) {
  if (r.status == 429) return http_errors::from_status(r, text.empty() ? "rate limited" : text);
  // The ask was rented by someone else, or cannot start (404 invalid_args
  // with no_such_ask in the message, or 410 no_such_ask).
  if ((r.status == 404 || r.status == 410) &&
      (code == "no_such_ask" || contains(msg, "no_such_ask")))
    return http_errors::with_kind(Kind::kNoCapacity, text, r);
  if (r.status == 404 && (code == "not_found" || code == "no_such_instance"))
    return http_errors::with_kind(Kind::kNotFound, text, r);
  if (r.status == 402 || code == "insufficient_credit" || code == "insufficient_funds")
    return http_errors::with_kind(Kind::kQuota, text, r);
  return http_errors::from_status(r, text);
}

// "registry.example.com:5000/team/app:1" -> "registry.example.com:5000";
// Docker Hub references have no registry part.
std::string registry_of(const std::string& image) {
  auto slash = image.find('/');
  if (slash == std::string::npos) return "";
  std::string first = image.substr(0, slash);
  if (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
      first == "localhost")
    return first;
  return "";
}

bool has_space(const std::string& s) {
  for (char c : s)
    if (std::isspace(static_cast<unsigned char>(c))) return true;
  return false;
}

constexpr long long kDefaultDiskGb = 50;
// Where the workload's output goes inside the instance.
constexpr const char* kWorkloadLog = "/var/log/berth-workload.log";

Capabilities vast_capabilities() {
  Capabilities c;
  c.runs = Capabilities::Runs::kPod;
  c.logs = Capabilities::Logs::kApi;  // PUT /api/v0/instances/request_logs/{id}
  // berth starts the process from onstart (see onstart_script), so any
  // entrypoint runs; named volumes are directories on the instance's own
  // disk, kept across its restarts and gone with it, as on any one host.
  // Ports are mapped to host ports Vast picks; env values are at most 256
  // characters (vast-ai/docs api-reference/openapi.yaml); nothing is copied
  // from this machine. Vast's own volumes (/api/v0/volumes) are bound to one
  // machine and carry no name berth could find them by again, so a volume
  // kept across redeploys (size:) is not offered here.
  c.honours = kAllFeatures & ~(feature_bit(WorkloadFeature::kHostPort) |
                               feature_bit(WorkloadFeature::kProviderVolume) |
                               feature_bit(WorkloadFeature::kLongEnvValue) |
                               feature_bit(WorkloadFeature::kBindVolume) |
                               feature_bit(WorkloadFeature::kReadonlyVolume) |
                               // No shared-memory or IPC setting in its API.
                               feature_bit(WorkloadFeature::kShmSize) |
                               feature_bit(WorkloadFeature::kIpcHost));
  c.starts_process = true;
  c.spot = true;  // interruptible (bid) rentals: vastai_provider.h
  c.boot_timeout = Duration{1'800'000};  // marketplace hosts pull slowly
  // Launch threshold 4.5 s, penalty 12 s, no Retry-After (vast-ai/docs
  // api-reference/rate-limits-and-errors.mdx); spaced 5 s, so that a first
  // request that was slower on the wire than the next cannot look too soon.
  c.pacing = {Duration{5'000}, Duration{12'000}};
  return c;
}

class VastProvider final : public ProviderAdapter {
 public:
  VastProvider(const ProviderConfig& config, ProviderContext& context, SearchOptions options)
      : ProviderAdapter(config.name, "vastai", vast_capabilities()),
        api_(config, context, kDefaultBaseUrl, error_from),
        options_(options) {}

  Expected<std::vector<Offer>, ProviderError> list_offers(const OfferQuery& query) override;
  Expected<std::vector<Offer>, ProviderError> search(const OfferQuery& query);
  Expected<Instance, ProviderError> launch(const LaunchRequest& request) override;
  Expected<Instance, ProviderError> get(const std::string& instance_id) override;
  Expected<std::vector<Instance>, ProviderError> list() override;
  Expected<void, ProviderError> terminate(const std::string& instance_id) override;
  Expected<void, ProviderError> check_credentials() override;
  Expected<std::vector<std::string>, ProviderError> logs(const std::string& instance_id,
                                                         int tail) override;
  Expected<std::vector<PlannedRequest>, ProviderError> plan_launch(
      const LaunchRequest& request) override;

 private:
  std::optional<ProviderError> launch_error(const LaunchRequest& request) const;
  Expected<json, ProviderError> ask_body(const LaunchRequest& request) const;
  static std::vector<std::string> launch_secrets(const WorkloadSpec& c);
  // A JSON object, or the failure Vast sends as 200 {"success": false}.
  Expected<json, ProviderError> call_json(const std::string& method, const std::string& path,
                                          const json* body, bool idempotent,
                                          std::vector<std::string> secrets = {});
  Expected<void, ProviderError> ensure_ssh_key(const std::string& public_key);
  Instance to_instance(const json& d) const;

  HttpApi api_;
  SearchOptions options_;
};

Expected<json, ProviderError> VastProvider::call_json(const std::string& method,
                                                      const std::string& path, const json* body,
                                                      bool idempotent,
                                                      std::vector<std::string> secrets) {
  auto r = api_.send(method, path, body, idempotent, std::move(secrets));
  if (!r) return unexpected(r.error());
  auto parsed = HttpApi::object_body(*r);
  if (!parsed) return unexpected(parsed.error());
  // Some failures arrive as 200 with {"success": false}.
  if (auto it = parsed->find("success"); it != parsed->end() && it->is_boolean() && !*it) {
    r->status = 400;  // read as the error it is, without a second copy of the body
    return unexpected(error_from(*r));
  }
  return std::move(*parsed);
}

// One search: on-demand asks, or with query.spot kOnly interruptible ones
// at their minimum bid, each bid at most max_price and what the create call
// takes.
Expected<std::vector<Offer>, ProviderError> VastProvider::search(const OfferQuery& query) {
  json body = offer_query(query, options_);
  // A search changes nothing: safe to repeat.
  auto r = api_.send("POST", "/api/v0/bundles/", &body, true);
  if (!r) return unexpected(r.error());
  const bool bids = query.spot == SpotPolicy::kOnly;
  auto offers = parse_offers(r->body, name_, options_.limit, bids);
  if (!offers) return unexpected(http_errors::bad_response(offers.error(), *r));
  if (bids)
    std::erase_if(*offers, [&](const Offer& o) {
      double bid = o.launch_data.value("bid", 0.0);
      return bid > kMaxBidPrice || (query.max_price && bid > *query.max_price);
    });
  return std::move(*offers);
}

// spot never: on-demand asks only, as ever; only: interruptible ones; allow:
// both, two searches.
Expected<std::vector<Offer>, ProviderError> VastProvider::list_offers(const OfferQuery& query) {
  if (query.spot != SpotPolicy::kAllow) return search(query);
  OfferQuery on_demand = query;
  on_demand.spot = SpotPolicy::kNever;
  auto offers = search(on_demand);
  if (!offers) return unexpected(offers.error());
  OfferQuery bids = query;
  bids.spot = SpotPolicy::kOnly;
  auto spot = search(bids);
  if (!spot) return unexpected(spot.error());
  offers->insert(offers->end(), std::make_move_iterator(spot->begin()),
                 std::make_move_iterator(spot->end()));
  return std::move(*offers);
}

Expected<void, ProviderError> VastProvider::ensure_ssh_key(const std::string& public_key) {
  // Keys are account-wide and reach every new instance. Look first, so a
  // registered key is not added again; if the listing cannot be read, adding
  // is still right, and an "already exists" answer is what we wanted.
  if (auto listed = api_.send("GET", "/api/v0/ssh/", nullptr, true); listed) {
    json keys = ju::parse(listed->body).value_or(json());
    const json* list = &keys;
    if (keys.is_object())
      for (const char* k : {"keys", "ssh_keys"})
        if (auto it = keys.find(k); it != keys.end()) list = &*it;
    if (list->is_array())
      for (const json& k : *list)
        if (k.is_object())
          // The listing names the key `key`; the POST answer `public_key`.
          for (const char* field : {"key", "public_key"})
            if (auto v = ju::opt_string(k, field); v && ssh_public_key::same(*v, public_key))
              return {};
  } else if (listed.error().kind == Kind::kAuth) {
    return unexpected(listed.error());
  }
  json body = {{"ssh_key", public_key}};
  auto r = call_json("POST", "/api/v0/ssh/", &body, true);
  if (!r) {
    const std::string& m = r.error().message;
    if (r.error().kind == Kind::kInvalidRequest &&
        (contains(m, "already") || contains(m, "duplicate") || contains(m, "exists")))
      return {};
    return unexpected(r.error());
  }
  return {};
}

std::optional<ProviderError> VastProvider::launch_error(const LaunchRequest& request) const {
  const json& ld = request.offer.launch_data;
  if (!ld.is_object() || !ld.contains("ask_id"))
    return ProviderError{Kind::kInvalidRequest, "offer " + request.offer.id + " has no launch data"};
  if (!request.container) return ProviderError{Kind::kInvalidRequest, "no container to start"};
  if (request.ssh_public_key.empty())
    return ProviderError{Kind::kInvalidRequest, "no SSH public key to install"};
  if (const auto& r = request.container->registry; r && (has_space(r->username) || has_space(r->password)))
    // image_login is a docker-login argument string that Vast splits on
    // spaces; a credential with whitespace cannot be expressed in it.
    return ProviderError{Kind::kInvalidRequest,
                         "registry credentials with whitespace cannot be passed to Vast.ai's "
                         "image_login"};
  return std::nullopt;
}

// With an SSH runtype Vast replaces the image's ENTRYPOINT with its own init,
// which starts sshd and then runs `onstart` (vast-ai/docs
// api-reference/creating-instances-with-api.mdx, "Entrypoint Behavior"). So
// onstart starts what `docker run` would have: the image's entrypoint and
// command (read from its registry by the core) with the template's
// overrides, in the image's working directory, in the background (onstart
// runs before the instance is handed over; that it must not block is
// unverified), its output in kWorkloadLog (`berth exec NAME -- cat` it) and
// in the container's log (`berth logs`). Every word is
// quoted: template values stay literal.
Expected<std::string, ProviderError> onstart_script(const WorkloadSpec& c) {
  auto argv = c.process();
  if (!argv) return unexpected(ProviderError{Kind::kInvalidRequest, argv.error()});
  std::string script = "mkdir -p /var/log; ";
  if (c.image_process && !c.image_process->working_dir.empty())
    script += "cd " + shell_quote(c.image_process->working_dir) + " || exit 1; ";
  // Its output goes to the file and to the container's own log (PID 1's
  // stdout, Vast's init), which is what Vast's logs endpoint returns; where
  // that cannot be opened, to the file alone.
  const std::string log = kWorkloadLog;
  script += "(exec " + shell_join(*argv) + ") </dev/null 2>&1 | (tee " + log +
            " >/proc/1/fd/1 2>/dev/null || cat >>" + log + ") &";
  return script;
}

Expected<json, ProviderError> VastProvider::ask_body(const LaunchRequest& request) const {
  const WorkloadSpec& c = *request.container;
  // env goes as an object, the form Vast's own CLI sends after parsing its
  // docker-flag string: {"KEY": "value", "-p 8000:8000": "1"}. Values then
  // never pass through a flag string where spaces, quotes or '=' would be
  // reinterpreted. (The document types env as a string; the vendor's CLI
  // sends the object.)
  json env = json::object();
  for (const auto& e : c.env) env[e.name] = e.value;
  for (const auto& p : c.ports) {
    std::string spec = std::to_string(p.container) + ":" + std::to_string(p.container);
    if (p.protocol == "udp") spec += "/udp";
    env["-p " + spec] = "1";
  }
  auto onstart = onstart_script(c);
  if (!onstart) return unexpected(onstart.error());
  json body = {{"client_id", "me"},
               {"image", c.image},
               {"label", request.name},
               {"runtype", "ssh_direct"},
               {"env", env},
               {"onstart", *onstart},
               {"disk", c.disk_gb(kDefaultDiskGb)},
               {"cancel_unavail", true}};
  // An interruptible offer is rented at its bid (`price`, USD/h per
  // machine); cancel_unavail stays true so that a bid that cannot start now
  // is refused rather than left waiting.
  if (const json* bid = ju::find(request.offer.launch_data, "bid"); bid && bid->is_number())
    body["price"] = bid->get<double>();
  if (c.registry) {
    std::string login = "-u " + c.registry->username + " -p " + c.registry->password;
    std::string reg = registry_of(c.image);
    if (!reg.empty()) login += " " + reg;
    body["image_login"] = login;
  }
  return body;
}

std::vector<std::string> VastProvider::launch_secrets(const WorkloadSpec& c) {
  auto secrets = c.secrets();
  if (c.registry) {
    std::string login = "-u " + c.registry->username + " -p " + c.registry->password;
    secrets.push_back(login);
  }
  return secrets;
}

Expected<std::vector<PlannedRequest>, ProviderError> VastProvider::plan_launch(
    const LaunchRequest& request) {
  if (auto bad = launch_error(request)) return unexpected(*bad);
  auto body = ask_body(request);
  if (!body) return unexpected(body.error());
  std::string ask_id = ju::id_text(request.offer.launch_data["ask_id"]);
  return std::vector<PlannedRequest>{
      {"POST", api_.url("/api/v0/ssh/"), {{"ssh_key", request.ssh_public_key}},
       "when the account does not have berth's key yet (GET /api/v0/ssh/)"},
      {"PUT", api_.url("/api/v0/asks/" + url::segment(ask_id) + "/"), *body, ""}};
}

Expected<Instance, ProviderError> VastProvider::launch(const LaunchRequest& request) {
  if (auto bad = launch_error(request)) return unexpected(*bad);
  auto body = ask_body(request);
  if (!body) return unexpected(body.error());
  std::string ask_id = ju::id_text(request.offer.launch_data["ask_id"]);
  if (auto key = ensure_ssh_key(request.ssh_public_key); !key) return unexpected(key.error());

  // Not idempotent: a rental whose answer was lost may exist; the core finds
  // it by label instead of renting twice.
  // A refusal can still name the instance it made (error_from reads
  // new_contract into created_instance): the core removes it.
  auto r = call_json("PUT", "/api/v0/asks/" + url::segment(ask_id) + "/", &*body, false,
                     launch_secrets(*request.container));
  if (!r) {
    ProviderError e = r.error();
    // A bid refused as a bad price (createInstance 400 invalid_price): the
    // ask's minimum bid rose since the listing, so it is not to be had at
    // the bid berth placed; the next offer may be. Without a bid the same
    // answer is a request berth got wrong.
    if (body->contains("price") && e.http_status == 400 && e.kind == Kind::kInvalidRequest &&
        contains(e.message, "invalid_price"))
      e.kind = Kind::kNoCapacity;
    return unexpected(std::move(e));
  }
  // The new instance's id.
  auto id = answer::read("rental answer", [&] { return ju::id_at(*r, "new_contract"); });
  if (!id) return unexpected(id.error());
  Instance inst;
  inst.id = *id;
  inst.provider = name_;
  inst.name = request.name;
  inst.region = request.offer.region;
  inst.state = InstanceState::kProvisioning;
  inst.raw_state = "created";
  inst.ssh_user = "root";
  inst.price_per_hour = request.offer.price_per_hour;
  inst.offer_id = request.offer.id;
  return inst;
}

int port_number(const json& v) {
  auto n = ju::as_number(v);  // HostPort is a string: "41234"
  if (!n) throw ju::ShapeError("HostPort should be a port number");
  return static_cast<int>(*n);
}

Instance VastProvider::to_instance(const json& d) const {
  Instance inst;
  inst.provider = name_;
  inst.id = ju::id_at(d, "id");
  inst.name = ju::opt_string(d, "label").value_or("");
  inst.ssh_user = "root";
  inst.price_per_hour = ju::opt_number(d, "dph_total").value_or(0);
  inst.created = ju::opt_unix_time(d, "start_date");
  if (auto raw = ju::opt_string(d, "gpu_name"))
    inst.gpu = instance_gpu({*raw}, static_cast<int>(ju::opt_number(d, "num_gpus").value_or(0)));
  if (auto geo = ju::opt_string(d, "geolocation")) inst.region = region_from_geolocation(*geo);
  inst.progress = ju::opt_string(d, "status_msg").value_or("");
  std::string host(trim(ju::opt_string(d, "public_ipaddr").value_or("")));

  // Docker-style {"22/tcp": [{"HostIp": "0.0.0.0", "HostPort": "41234"}]},
  // only populated once the container runs.
  std::optional<int> ssh_port;
  if (const json* ports = ju::find(d, "ports"); ports && ports->is_object()) {
    for (const auto& [spec, bindings] : ports->items()) {
      if (!bindings.is_array() || bindings.empty() || !bindings[0].is_object()) continue;
      const json* hp = ju::find(bindings[0], "HostPort");
      if (!hp) continue;
      int container = std::atoi(spec.c_str());
      int pub = port_number(*hp);
      if (spec == "22/tcp") ssh_port = pub;
      if (container > 0 && spec.find("/udp") == std::string::npos)
        inst.public_ports[container] = pub;
    }
  }

  const json* actual = ju::find(d, "actual_status");
  std::string status = actual && actual->is_string() ? actual->get<std::string>() : "";
  std::string intended = ju::opt_string(d, "intended_status").value_or("");
  inst.raw_state = status.empty() ? "provisioning" : status;
  std::string lowered_msg = inst.progress;
  for (auto& ch : lowered_msg) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const json* is_bid = ju::find(d, "is_bid");
  const std::string contract = ju::opt_string(d, "cur_state").value_or("");
  if (is_bid && is_bid->is_boolean() && is_bid->get<bool>() &&
      ((contract == "stopped" && intended != "stopped") || contains(lowered_msg, "outbid"))) {
    // An interruptible instance whose contract Vast stopped while its
    // renter still wants it running, or that says it was outbid: a spot
    // interruption (vastai_provider.h; how Vast shows one is unverified).
    inst.state = InstanceState::kPreempted;
    inst.raw_state = status.empty() ? "outbid" : status + ", outbid";
  } else if (status == "created" && contains(lowered_msg, "error"))
    // The container could not be made (an OCI runtime error, a pull that
    // failed): it will not start by waiting.
    inst.state = InstanceState::kFailed;
  else if (status.empty() || status == "created")
    inst.state = InstanceState::kProvisioning;
  else if (status == "loading")
    inst.state = InstanceState::kBooting;
  else if (status == "running")
    inst.state = (ssh_port && !host.empty()) ? InstanceState::kRunning : InstanceState::kBooting;
  else if (status == "exited" || status == "stopped")
    // Stopped on purpose, or the instance's container exited by itself.
    inst.state = intended == "stopped" ? InstanceState::kStopping : InstanceState::kExited;
  else if (status == "offline")
    inst.state = InstanceState::kFailed;
  else
    inst.state = InstanceState::kUnknown;
  if (inst.state == InstanceState::kRunning) {
    inst.host = host;
    inst.ssh_port = *ssh_port;
  } else if (!host.empty() && ssh_port) {
    inst.host = host;
    inst.ssh_port = *ssh_port;
  }
  return inst;
}

Expected<Instance, ProviderError> VastProvider::get(const std::string& instance_id) {
  auto r = call_json("GET", "/api/v0/instances/" + url::segment(instance_id) + "/", nullptr, true);
  if (!r) return unexpected(r.error());
  return answer::read("instance shape", [&]() -> Expected<Instance, ProviderError> {
    // A single object under a plural key; null when there is no such instance.
    const json& one = ju::member(*r, "instances");
    if (one.is_null())
      return unexpected(ProviderError{Kind::kNotFound, "instance " + instance_id + " not found"});
    if (!one.is_object()) throw ju::ShapeError("\"instances\" should be one object");
    return to_instance(one);
  });
}

Expected<std::vector<Instance>, ProviderError> VastProvider::list() {
  std::vector<Instance> out;
  std::string token;
  // Keyset pagination, 25 per page; bounded so a looping token cannot hang us.
  for (int page = 0; page < 2000; ++page) {
    // With the trailing slash, as the vendor's clients call it: the server
    // redirects without it, and berth follows no redirects.
    std::string path = "/api/v1/instances/?limit=25";
    if (!token.empty()) path += "&after_token=" + url::segment(token);
    auto r = call_json("GET", path, nullptr, true);
    if (!r) return unexpected(r.error());
    // An unexpected shape is an error, never "no instances" (a Vast API
    // change once hid running, billing instances from other tools).
    auto next = answer::read("instances shape", [&] {
      for (Instance& i : answer::berth_instances(ju::array_at(*r, "instances"), "label",
                                                 [this](const json& d) { return to_instance(d); }))
        out.push_back(std::move(i));
      const json* next_token = ju::find(*r, "next_token");
      return next_token ? ju::id_text(*next_token) : std::string();
    });
    if (!next) return unexpected(next.error());
    if (next->empty() || *next == token) return out;
    token = *next;
  }
  return unexpected(ProviderError{Kind::kBadResponse, "instance listing did not end"});
}

Expected<void, ProviderError> VastProvider::terminate(const std::string& instance_id) {
  auto r =
      call_json("DELETE", "/api/v0/instances/" + url::segment(instance_id) + "/", nullptr, true);
  if (!r) return answer::unless_gone(r.error());
  return {};
}

Expected<void, ProviderError> VastProvider::check_credentials() {
  auto r = call_json("GET", "/api/v0/users/current/", nullptr, true);
  if (!r) return unexpected(r.error());
  return {};
}

// The log is uploaded to the URL after the request answers ("wait a few
// seconds and then view the result_url", vast-ai/docs openapi.yaml on
// /execute/; the CLI's `show logs` polls it): until then the URL answers
// 403 or 404 [unverified which]. That wait is the API's flow, not a retry:
// the client's own retries still cover each fetch.
constexpr int kLogFetchTries = 20;
constexpr Duration kLogFetchGap{500};

Expected<std::vector<std::string>, ProviderError> VastProvider::logs(
    const std::string& instance_id, int tail) {
  tail = std::clamp(tail, 1, kMaxLogTail);
  json body = log_request_body(tail);
  auto answer = call_json("PUT", "/api/v0/instances/request_logs/" + url::segment(instance_id),
                          &body, true);
  if (!answer) return unexpected(answer.error());
  auto target = answer::read("request_logs shape", [&] { return log_url(*answer); });
  if (!target) return unexpected(target.error());
  for (int attempt = 1;; ++attempt) {
    auto r = api_.fetch_url(*target, {"text/plain, */*", kMaxLogAnswerBytes, Duration{0}});
    if (!r) return unexpected(r.error());
    if (http_errors::is_success(*r))
      return last_log_lines(r->body, static_cast<std::size_t>(tail), r->cut);
    if ((r->status != 403 && r->status != 404) || attempt >= kLogFetchTries)
      return unexpected(ProviderError{
          r->status >= 500 ? Kind::kTransient : Kind::kBadResponse,
          "the log at the URL Vast named did not arrive (HTTP " + std::to_string(r->status) + ")",
          std::nullopt, r->status, ""});
    std::this_thread::sleep_for(kLogFetchGap);
  }
}

}  // namespace

json log_request_body(int tail) { return {{"tail", std::to_string(tail)}}; }

std::string log_url(const json& answer) {
  std::string target = ju::string_at(answer, "result_url");
  // Only a web address is fetched; the client refuses plain http but to
  // this machine (a test double).
  if (target.rfind("https://", 0) != 0 && target.rfind("http://", 0) != 0)
    throw ju::ShapeError("result_url is not an http(s) URL");
  return target;
}

void read_settings(const ProviderSettings& settings, ProviderConfig& out) {
  if (auto v = settings.get("verified_only"))
    if (auto b = v->boolean()) out.settings["verified_only"] = *b;
  // `limit` is read by the core for every type (offer_limit, berth/config/config.h).
}

Expected<std::unique_ptr<Provider>, std::string> create(const ProviderConfig& config,
                                                        ProviderContext& context) {
  if (auto error = HttpApi::config_error(config, context, "vastai")) return unexpected(*error);
  SearchOptions options;
  options.limit = static_cast<int>(offer_limit(config));
  if (config.settings.is_object()) {
    if (auto it = config.settings.find("verified_only");
        it != config.settings.end() && !it->is_null()) {
      auto b = ju::as_bool(*it);
      if (!b)
        return unexpected("provider '" + config.name +
                          "' (vastai): verified_only must be true or false");
      options.verified_only = *b;
    }
    if (auto it = config.settings.find("limit"); it != config.settings.end() && !it->is_null()) {
      auto n = ju::as_number(*it);
      if (!n || *n < 1 || *n > 100000 || *n != static_cast<int>(*n))
        return unexpected("provider '" + config.name +
                          "' (vastai): limit must be a whole number "
                          "from 1 to 100000");
      options.limit = static_cast<int>(*n);
    }
  }
  return std::unique_ptr<Provider>(std::make_unique<VastProvider>(config, context, options));
}

}  // namespace berth::vastai
