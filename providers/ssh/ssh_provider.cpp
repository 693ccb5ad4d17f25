#include "providers/ssh/ssh_provider.h"

#include <algorithm>
#include <cctype>
#include <future>
#include <map>
#include <sstream>

#include "berth/common/cancel.h"
#include "berth/common/shell_quote.h"
#include "berth/provider/provider_settings.h"
#include "berth/template/gpu_catalog.h"
#include "berth/template/location.h"
#include "providers/common/catalog_gpu.h"
#include "providers/local/nvidia_smi.h"

namespace berth {
namespace {

constexpr Duration kSshTimeout{60'000};
constexpr int kCommandMissing = 127;  // the remote shell found no such program

ProviderError error(ProviderError::Kind kind, std::string message) {
  return ProviderError{kind, std::move(message), std::nullopt};
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

/// Runs `fn` for every host at once: one unreachable host must not make the
/// others wait for its connect timeout in turn.
template <class T, class Fn>
std::vector<Expected<T, ProviderError>> for_each_host(const std::vector<SshHostConfig>& hosts,
                                                      Fn fn) {
  std::vector<std::future<Expected<T, ProviderError>>> futures;
  // Each host's thread keeps the caller's call deadline (berth/common/cancel.h): the
  // provider's offers deadline bounds its SSH runs too.
  const auto deadline = call_deadline();
  for (const auto& h : hosts)
    futures.push_back(std::async(std::launch::async, [&fn, &h, deadline] {
      ScopedCallDeadline scoped(deadline);
      return fn(h);
    }));
  std::vector<Expected<T, ProviderError>> out;
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

/// One error for the provider naming every failing host; auth when any host
/// refused the key (the user must act), the hosts' own kind when they all
/// failed alike (a changed host key), transient otherwise.
ProviderError combine(const std::vector<std::pair<std::string, ProviderError>>& failures) {
  ProviderError e;
  e.kind = ProviderError::Kind::kTransient;
  bool alike = !failures.empty();
  for (const auto& [host, f] : failures) {
    alike = alike && f.kind == failures.front().second.kind;
    if (!e.message.empty()) e.message += "; ";
    e.message += f.message;
  }
  if (alike) e.kind = failures.front().second.kind;
  for (const auto& [host, f] : failures)
    if (f.kind == ProviderError::Kind::kAuth) e.kind = f.kind;
  return e;
}

// `uname -m`: x86_64, aarch64 (Linux) or arm64; anything else is unknown.
CpuArch arch_from_uname(const std::string& text) {
  std::string word;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) word += c;
  if (word == "x86_64" || word == "amd64") return CpuArch::kX86_64;
  if (word == "aarch64" || word == "arm64") return CpuArch::kArm64;
  return CpuArch::kUnknown;
}

/// The probe's output is sections introduced by "@@ name" lines.
std::map<std::string, std::string> sections(const std::string& out) {
  std::map<std::string, std::string> s;
  std::string current;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("@@ ", 0) == 0) {
      current = line.substr(3);
      auto space = current.find(' ');
      if (space != std::string::npos) {  // "@@ ps-exit 0": a value on the marker line
        s[current.substr(0, space)] = current.substr(space + 1);
        current.clear();
      } else {
        s[current];
      }
      continue;
    }
    if (!current.empty()) s[current] += line + "\n";
  }
  return s;
}

std::optional<double> first_number(const std::string& text, int field) {
  std::istringstream in(text);
  std::string token;
  for (int i = 0; i <= field; ++i)
    if (!(in >> token)) return std::nullopt;
  try {
    std::size_t used = 0;
    double v = std::stod(token, &used);
    if (used != token.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

int exit_code(const std::map<std::string, std::string>& s, const std::string& key) {
  auto it = s.find(key);
  if (it == s.end()) return -1;
  auto v = first_number(it->second, 0);
  return v ? static_cast<int>(*v) : -1;
}

OfferGpu configured_gpu(const SshHostConfig& h) {
  OfferGpu g;
  g.count = h.gpu_count.value_or(1);
  const GpuModel* m = find_gpu_model(*h.gpu_model);
  if (!m) m = normalize_gpu_name(*h.gpu_model);
  if (m) return catalog_gpu(*m, g.count);
  g.model = "unknown:" + *h.gpu_model;
  return g;
}

}  // namespace

std::string host_key(const SshHostConfig& host) {
  return host.user + "@" + host.address + ":" + std::to_string(host.port);
}

SshProvider::SshProvider(std::string name, std::vector<SshHostConfig> hosts,
                         ContainerRuntime runtime, ProcessRunner& processes, SshOptions ssh)
    : ProviderAdapter(std::move(name), "ssh", kContainerHostCapabilities),
      hosts_(std::move(hosts)),
      runtime_(std::move(runtime)),
      processes_(processes),
      ssh_(std::move(ssh)) {}

HostIdentity SshProvider::identity(const SshHostConfig& host) const {
  HostIdentity h;
  h.provider = name_;
  h.region = host.region;
  h.host = host.address;
  h.ssh_port = host.port;
  h.ssh_user = host.user;
  h.price_per_hour = host.price_per_hour;
  h.offer_id = host_key(host);
  h.id_prefix = host_key(host) + "/";
  return h;
}

const SshHostConfig* SshProvider::find_host(const std::string& key) const {
  for (const auto& h : hosts_)
    if (host_key(h) == key) return &h;
  return nullptr;
}

// berth's own key is created on first use, not when the provider is built:
// `berth providers` must not write keys.
Expected<SshOptions, ProviderError> SshProvider::session_options() {
  std::lock_guard<std::mutex> lock(key_mutex_);
  // known_hosts and control sockets go there even with a configured key.
  if (!state_dir_ready_ && !key_error_) {
    if (auto made = make_state_dir(ssh_.state_dir); !made) key_error_ = made.error();
    state_dir_ready_ = true;
  }
  if (ssh_.identity.empty() && !key_error_) {
    auto key = ensure_ssh_key(ssh_.state_dir, std::nullopt, processes_);
    if (key)
      ssh_.identity = key->private_key;
    else
      key_error_ = key.error();
  }
  if (key_error_)
    return unexpected(error(ProviderError::Kind::kInvalidRequest,
                            "no SSH key for provider " + name_ + ": " + *key_error_));
  return ssh_;
}

Expected<ProcessResult, ProviderError> SshProvider::run_remote(const SshHostConfig& host,
                                                               const std::vector<std::string>& argv,
                                                               bool must_succeed) {
  auto options = session_options();
  if (!options) return unexpected(options.error());
  SshSession session(SshTarget{host.address, host.port, host.user}, *options, processes_);
  auto r = session.run(argv, std::nullopt, kSshTimeout);
  const std::string where = host_key(host);
  if (!r) {
    const SshError& e = r.error();
    // A host whose key changed is not a rejected credential (exit 4, "check
    // the API keys"): it is a host berth refuses to trust, which no retry
    // fixes. Its message says so and what to do.
    if (e.kind == SshError::Kind::kHostKeyChanged)
      return unexpected(error(
          ProviderError::Kind::kInvalidRequest,
          e.message + ": it no longer matches the key pinned in " + session.known_hosts().string() +
              "; if the host was really reinstalled, remove its line there and retry, "
              "otherwise someone may be intercepting the connection"));
    auto kind = ProviderError::Kind::kTransient;
    if (e.kind == SshError::Kind::kAuth)
      kind = ProviderError::Kind::kAuth;
    else if (e.kind == SshError::Kind::kLocal)
      kind = ProviderError::Kind::kInvalidRequest;
    return unexpected(error(kind, e.message));  // it names the host
  }
  if (must_succeed && !r->ok())
    return unexpected(error(ProviderError::Kind::kTransient,
                            "'" + argv.at(0) + (argv.size() > 1 ? " " + argv[1] : "") + "' on " +
                                where + " failed (exit " + std::to_string(r->exit_code) +
                                "): " + last_line(r->err)));
  return std::move(*r);
}

Expected<std::vector<ContainerSummary>, ProviderError> SshProvider::containers(
    const SshHostConfig& host, const std::map<std::string, std::string>& filter) {
  auto r = run_remote(host, ps_argv(runtime_, filter));
  if (!r) return unexpected(r.error());
  auto parsed = parse_ps(r->out);
  if (!parsed)
    return unexpected(error(ProviderError::Kind::kBadResponse,
                            "unreadable '" + runtime_.program + " ps' output from " +
                                host_key(host) + ": " + parsed.error()));
  return std::move(*parsed);
}

// One round trip per host: CPUs, RAM, free disk, berth's containers (for
// `available`) and, unless the config names the GPUs, what nvidia-smi sees.
// Every token that is not a constant of this file is quoted.
Expected<Offer, ProviderError> SshProvider::probe(const SshHostConfig& host) {
  auto ps = shell_command(ps_argv(runtime_, berth_container_filter()));
  auto smi = shell_command(nvidia_smi_query_argv());
  if (!ps || !smi) return unexpected(error(ProviderError::Kind::kInvalidRequest, "bad argv"));
  std::string script =
      "echo '@@ nproc'; nproc; echo '@@ meminfo'; grep MemTotal /proc/meminfo; "
      "echo '@@ df'; df -Pk / | tail -n 1; echo '@@ ps'; " +
      *ps + "; rc=$?; echo; echo \"@@ ps-exit $rc\"; ";
  const bool discover = !host.gpu_model && host.gpu_count.value_or(1) != 0;
  if (discover)
    script += "echo '@@ gpu'; " + *smi + " 2>&1; rc=$?; echo; echo \"@@ gpu-exit $rc\"; ";
  script += "echo '@@ arch'; uname -m 2>/dev/null; ";
  script += "echo '@@ cuda'; nvidia-smi 2>/dev/null | grep 'CUDA Version'; true";

  auto r = run_remote(host, {"sh", "-c", script}, false);
  if (!r) return unexpected(r.error());
  const std::string where = host_key(host);
  auto s = sections(r->out);

  Offer o;
  o.provider = name_;
  o.id = where;
  o.region = host.region;
  // The config's `region:` is a location when it is a word of berth's
  // vocabulary ("de", "us-tx", "eu"); otherwise the location is unknown.
  o.location = location_from_word(host.region);
  o.arch = arch_from_uname(s["arch"]);
  o.price_per_hour = host.price_per_hour;
  o.launch_data = {{"host", host.address}, {"port", host.port}, {"user", host.user}};
  if (auto n = first_number(s["nproc"], 0)) o.vcpus = static_cast<int>(*n);
  if (auto kib = first_number(s["meminfo"], 1)) o.memory_gb = *kib * 1024 / 1e9;
  if (auto kib = first_number(s["df"], 3)) o.disk_gb = *kib * 1024 / 1e9;
  o.cuda = parse_nvidia_smi_cuda(s["cuda"]);

  int ps_exit = exit_code(s, "ps-exit");
  if (ps_exit != 0)
    return unexpected(error(ProviderError::Kind::kTransient,
                            "'" + runtime_.program + " ps' on " + where + " failed (exit " +
                                std::to_string(ps_exit) + "): " + last_line(r->err)));
  auto containers = parse_ps(s["ps"]);
  if (!containers)
    return unexpected(error(ProviderError::Kind::kBadResponse, "unreadable '" + runtime_.program +
                                                                   " ps' output from " + where +
                                                                   ": " + containers.error()));
  o.available = instances_from_containers(*containers, identity(host)).empty() ? 1 : 0;

  if (!discover) {
    if (host.gpu_model) o.gpu = configured_gpu(host);
    return o;
  }
  int gpu_exit = exit_code(s, "gpu-exit");
  if (gpu_exit == kCommandMissing) return o;  // no nvidia-smi: no NVIDIA GPU, a CPU host
  if (gpu_exit != 0)
    return unexpected(error(ProviderError::Kind::kTransient,
                            "nvidia-smi on " + where + " failed (exit " + std::to_string(gpu_exit) +
                                "): " + last_line(s["gpu"]) +
                                "; declare the GPUs in the config (gpus: {model, count})"));
  auto gpu = parse_nvidia_smi_gpus(s["gpu"]);
  if (!gpu) return unexpected(error(ProviderError::Kind::kBadResponse, where + ": " + gpu.error()));
  o.gpu = *gpu;
  return o;
}

Expected<std::vector<Offer>, ProviderError> SshProvider::list_offers(const OfferQuery&) {
  auto results = for_each_host<Offer>(hosts_, [this](const SshHostConfig& h) { return probe(h); });
  std::vector<Offer> offers;
  std::vector<std::pair<std::string, ProviderError>> failures;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i])
      offers.push_back(std::move(*results[i]));
    else
      failures.emplace_back(host_key(hosts_[i]), results[i].error());
  }
  if (!failures.empty()) return unexpected(combine(failures));
  return offers;
}

Expected<std::vector<Instance>, ProviderError> SshProvider::host_instances(
    const SshHostConfig& host) {
  auto found = containers(host, berth_container_filter());
  if (!found) return unexpected(found.error());
  return instances_from_containers(*found, identity(host));
}

Expected<std::vector<Instance>, ProviderError> SshProvider::list() {
  auto results = for_each_host<std::vector<Instance>>(
      hosts_, [this](const SshHostConfig& h) { return host_instances(h); });
  std::vector<Instance> all;
  std::vector<std::pair<std::string, ProviderError>> failures;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i]) {
      failures.emplace_back(host_key(hosts_[i]), results[i].error());
      continue;
    }
    for (auto& inst : *results[i]) all.push_back(std::move(inst));
  }
  // A host that did not answer may hold instances: never report "none".
  if (!failures.empty()) return unexpected(combine(failures));
  return all;
}

Expected<Instance, ProviderError> SshProvider::launch(const LaunchRequest& request) {
  const SshHostConfig* host = find_host(request.offer.id);
  if (!host)
    return unexpected(error(ProviderError::Kind::kInvalidRequest,
                            "no host " + request.offer.id + " in provider " + name_));
  // One launch at a time: two replicas failing over to the same free host
  // must not both get it.
  std::lock_guard lock(launch_mutex_);
  const std::string key = host_key(*host);
  if (auto r = reserved_.find(key); r != reserved_.end() && r->second != request.name)
    return unexpected(error(ProviderError::Kind::kNoCapacity,
                            key + " is taken by " + r->second + ", launched just before"));
  auto running = host_instances(*host);
  if (!running) return unexpected(running.error());
  for (const auto& i : *running)
    if (i.name != request.name)
      return unexpected(
          error(ProviderError::Kind::kNoCapacity, key + " already runs " + i.name));
  reserved_[key] = request.name;
  Instance i;
  i.provider = name_;
  i.id = host_key(*host) + "/" + request.name;
  i.name = request.name;
  i.region = host->region;
  i.state = InstanceState::kRunning;
  i.raw_state = "reserved";
  i.host = host->address;
  i.ssh_port = host->port;
  i.ssh_user = host->user;
  i.price_per_hour = host->price_per_hour;
  i.offer_id = host_key(*host);
  i.labels = request.labels;
  return i;
}

namespace {
struct InstanceRef {
  std::string host;
  std::string name;
};
std::optional<InstanceRef> split_instance_id(const std::string& id) {
  auto slash = id.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == id.size()) return std::nullopt;
  return InstanceRef{id.substr(0, slash), id.substr(slash + 1)};
}
}  // namespace

Expected<Instance, ProviderError> SshProvider::get(const std::string& instance_id) {
  auto ref = split_instance_id(instance_id);
  const SshHostConfig* host = ref ? find_host(ref->host) : nullptr;
  if (!host)
    return unexpected(error(ProviderError::Kind::kNotFound,
                            "no instance " + instance_id + " in provider " + name_));
  auto found = containers(*host, instance_container_filter(ref->name));
  if (!found) return unexpected(found.error());
  for (auto& i : instances_from_containers(*found, identity(*host)))
    if (i.id == instance_id) return std::move(i);
  return unexpected(
      error(ProviderError::Kind::kNotFound, "no container of " + ref->name + " on " + ref->host));
}

Expected<void, ProviderError> SshProvider::terminate(const std::string& instance_id) {
  auto ref = split_instance_id(instance_id);
  const SshHostConfig* host = ref ? find_host(ref->host) : nullptr;
  if (!host)
    return unexpected(error(ProviderError::Kind::kInvalidRequest,
                            "instance " + instance_id + " is on no host of provider " + name_ +
                                "; was the host removed from the config?"));
  auto found = containers(*host, instance_container_filter(ref->name));
  if (!found) return unexpected(found.error());
  std::vector<std::string> ids;
  for (const auto& c : *found) ids.push_back(c.id.empty() ? c.name : c.id);
  if (ids.empty()) {  // already gone (or never started)
    release_reservation(ref->host, ref->name);
    return {};
  }
  auto r = run_remote(*host, remove_argv(runtime_, ids));
  if (!r) return unexpected(r.error());
  release_reservation(ref->host, ref->name);
  return {};
}

void SshProvider::release_reservation(const std::string& key, const std::string& name) {
  std::lock_guard lock(launch_mutex_);
  if (auto r = reserved_.find(key); r != reserved_.end() && r->second == name) reserved_.erase(r);
}

Expected<void, ProviderError> SshProvider::check_credentials() {
  auto results =
      for_each_host<bool>(hosts_, [this](const SshHostConfig& h) -> Expected<bool, ProviderError> {
        auto r = run_remote(h, {"true"});
        if (!r) return unexpected(r.error());
        return true;
      });
  std::vector<std::pair<std::string, ProviderError>> failures;
  for (std::size_t i = 0; i < results.size(); ++i)
    if (!results[i]) failures.emplace_back(host_key(hosts_[i]), results[i].error());
  if (!failures.empty()) return unexpected(combine(failures));
  return {};
}

namespace {

// An address or user goes into ssh's argv and into host keys: no option
// look-alikes, no spaces, no control characters.
bool argv_word(const std::string& s) {
  if (s.empty() || s[0] == '-') return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7F) return false;
  return true;
}

void read_host_gpus(const SettingValue& value, SshHostConfig& host) {
  auto entries = value.entries({"model", "count"}, " under gpus");
  if (!entries) return;
  for (const auto& [key, v] : *entries) {
    if (key == "model") {
      auto name = v.text();
      if (!name) continue;
      // A declared host is the user's own: a typo here should stop berth,
      // not turn into an "unknown:" model no template ever matches.
      const GpuModel* model = find_gpu_model(*name);
      if (!model) model = normalize_gpu_name(*name);
      if (!model) {
        auto suggestions = suggest_gpu_models(*name);
        v.error("unknown GPU model '" + (v.from_file() ? std::string("(from a file)") : *name) +
                    "'",
                suggestions.empty() ? "run 'berth gpus' for the catalog"
                                    : "did you mean '" + suggestions.front() + "'?");
        continue;
      }
      host.gpu_model = model->name;
    } else if (auto n = v.integer(0, 64)) {
      host.gpu_count = static_cast<int>(*n);
    }
  }
}

}  // namespace

void read_ssh_settings(const ProviderSettings& settings, ProviderConfig& out) {
  auto hosts = settings.get("hosts");
  if (!hosts) {
    settings.error("provider '" + settings.name() + "' (type ssh) declares no hosts",
                   "add hosts: [{address: HOST_OR_IP, user: USER}]");
    return;
  }
  auto items = hosts->items();
  if (!items) return;
  if (items->empty())
    hosts->error("provider '" + settings.name() + "' (type ssh) declares no hosts",
                 "add hosts: [{address: HOST_OR_IP, user: USER}]");
  for (const auto& item : *items) {
    if (!item.is_mapping()) {
      item.error("each host must be a mapping with at least 'address:'",
                 "e.g. - {address: 10.0.0.5, user: ubuntu}");
      continue;
    }
    auto entries =
        item.entries({"address", "user", "port", "gpus", "price_per_hour", "region"}, " for a host");
    if (!entries) continue;
    SshHostConfig host;
    bool has_address = false;
    for (const auto& [key, v] : *entries) {
      if (key == "address" || key == "user") {
        auto text = v.text();
        if (!text) continue;
        if (!argv_word(*text)) {
          v.error(key + " must be one word (no spaces or control characters) not starting with '-'",
                  key == "address" ? "a host name or IP address" : "the user berth logs in as");
          continue;
        }
        (key == "address" ? host.address : host.user) = *text;
        has_address = has_address || key == "address";
      } else if (key == "region") {
        if (auto text = v.text()) host.region = *text;
      } else if (key == "port") {
        if (auto n = v.integer(1, 65535)) host.port = static_cast<int>(*n);
      } else if (key == "price_per_hour") {
        if (auto n = v.number(0, 1'000'000)) host.price_per_hour = *n;
      } else if (key == "gpus") {
        read_host_gpus(v, host);
      }
    }
    if (!has_address && std::none_of(entries->begin(), entries->end(),
                                     [](const auto& e) { return e.first == "address"; }))
      item.error("host has no address", "add address: HOST_OR_IP");
    out.hosts.push_back(std::move(host));
  }
}

ProviderType ssh_provider_type() {
  return ProviderType{
      "ssh",
      {"hosts"},
      "",
      [](const ProviderConfig& config,
         ProviderContext& context) -> Expected<std::unique_ptr<Provider>, std::string> {
        if (config.hosts.empty())
          return unexpected("provider '" + config.name + "' (type ssh) declares no hosts");
        for (const auto& h : config.hosts)
          if (h.address.empty() || h.address[0] == '-' || h.user.empty() || h.user[0] == '-')
            return unexpected("provider '" + config.name + "': host '" + h.address +
                              "' needs an address and a user that do not start with '-'");
        auto runtime = container_runtime(context.runtime);
        if (!runtime) return unexpected(runtime.error());
        SshOptions options;
        options.state_dir =
            context.state_dir.empty() ? state_dir(Environment::process()) : context.state_dir;
        options.identity = context.ssh_key;
        options.connect_timeout = Duration{10'000};
        ProcessRunner& processes = context.processes ? *context.processes : system_process_runner();
        return std::unique_ptr<Provider>(
            new SshProvider(config.name, config.hosts, *runtime, processes, std::move(options)));
      },
      read_ssh_settings};
}

}  // namespace berth
