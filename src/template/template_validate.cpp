// What a template's values mean together (docs/templates.md). Reading has already
// checked types and units; these rules catch templates that parse but could
// never be placed or would misbehave once deployed.
#include <algorithm>
#include <cstdio>
#include <map>

#include "berth/template/gpu_catalog.h"
#include "input/lexical.h"
#include "template/template_parser.h"

namespace berth {

namespace {

// "my_models.v2" -> "my-models-v2"
std::string dashed(std::string s) {
  for (char& c : s)
    if (c == '_' || c == '.') c = '-';
  return s;
}

class Rules {
 public:
  Rules(const ValueLocations& where, DiagnosticSink& sink) : where_(where), sink_(sink) {}

  void error(const std::string& path, std::string message, std::string hint = "") {
    ++errors_;
    auto [line, col] = where_.at(path);
    sink_.error(line, col, path.empty() ? message : path + ": " + message, std::move(hint));
  }
  bool given(const std::string& path) const { return where_.has(path); }
  int errors() const { return errors_; }

  template <class T, class Show>
  void range(const std::string& path, const Range<T>& r, Show show, bool positive) {
    if (!given(path)) return;
    if (r.min && r.max && *r.max < *r.min)
      error(path, "inverted range: " + show(*r.min) + " is more than " + show(*r.max),
            "write the smaller value first, e.g. " + show(*r.max) + ".." + show(*r.min));
    if (positive && ((r.min && !(T{} < *r.min)) || (r.max && !(T{} < *r.max))))
      error(path, "must be greater than zero");
  }

 private:
  const ValueLocations& where_;
  DiagnosticSink& sink_;
  int errors_ = 0;
};

// A value as shown inside a message: control characters would garble the
// terminal (or forge lines), so they show as '?'.
std::string printable(const std::string& s) {
  std::string out = s;
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  return out;
}

// A ${VAR} value is a secret, and everything in `command` and `entrypoint`
// is a process argument: visible in the host's process list, docker's
// inspect output and berth's own progress (src/deploy/deploy.cpp refuses it too,
// at `up`; here it is refused at load, with its position).
void check_no_secret_args(Rules& rules, const std::string& key,
                          const std::vector<TemplateString>& args, bool shell) {
  for (std::size_t i = 0; i < args.size(); ++i)
    if (args[i].secret)
      rules.error(shell ? key : key + "[" + std::to_string(i) + "]",
                  "a ${VAR} value in '" + key + "' would appear on a command line",
                  "pass it through 'env:' and refer to it from the program instead");
}

std::string show_size(std::uint64_t b) { return format_size(b); }
std::string show_int(int v) { return std::to_string(v); }
std::string show_version(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  std::string s = buf;
  if (s.find('.') == std::string::npos) s += ".0";
  return s;
}
std::string show_duration(Duration d) { return format_duration(d); }

bool satisfies(const GpuModel& m, const GpuRequirement& gpu) {
  if (m.vendor != gpu.vendor) return false;
  const auto vram = static_cast<std::uint64_t>(m.vram_gb * 1e9);
  if (!gpu.vram.contains(vram)) return false;
  if (!gpu.compute_capability.unbounded() &&
      (!m.compute_capability || !gpu.compute_capability.contains(*m.compute_capability)))
    return false;
  if (!gpu.models.empty() &&
      std::find(gpu.models.begin(), gpu.models.end(), m.name) == gpu.models.end())
    return false;
  if (std::find(gpu.exclude_models.begin(), gpu.exclude_models.end(), m.name) !=
      gpu.exclude_models.end())
    return false;
  return true;
}

void check_gpu(Rules& rules, const GpuRequirement& gpu) {
  const int errors_before = rules.errors();
  rules.range("resources.gpu.count", gpu.count, show_int, false);
  if (gpu.count.max && *gpu.count.max > 64)
    rules.error("resources.gpu.count", "no instance has more than 64 GPUs");
  rules.range("resources.gpu.vram", gpu.vram, show_size, true);
  rules.range("resources.gpu.total_vram", gpu.total_vram, show_size, true);
  rules.range("resources.gpu.compute_capability", gpu.compute_capability, show_version, true);
  const bool cpu_only = gpu.count.max && *gpu.count.max == 0;
  if (cpu_only) {
    for (const char* key : {"vram", "total_vram", "compute_capability", "models"})
      if (rules.given(std::string("resources.gpu.") + key))
        rules.error(std::string("resources.gpu.") + key,
                    "GPU constraints on a CPU-only workload (count is 0)",
                    "remove it, or ask for GPUs with count: 1..");
    return;
  }
  if (gpu.vendor == GpuVendor::kAmd && rules.given("resources.gpu.compute_capability")) {
    rules.error("resources.gpu.compute_capability",
                "compute capability is NVIDIA's (CUDA); AMD GPUs have none",
                "use models: [MI300X, ...] or vram: to choose AMD GPUs");
    return;
  }
  bool contradictory = false;
  for (const auto& name : gpu.models) {
    const auto* m = find_gpu_model(name);
    if (m && m->vendor != gpu.vendor && rules.given("resources.gpu.vendor"))
      rules.error("resources.gpu.models",
                  name + " is " + (m->vendor == GpuVendor::kAmd ? "an AMD" : "an NVIDIA") +
                      " GPU but vendor is " + to_string(gpu.vendor));
    if (std::find(gpu.exclude_models.begin(), gpu.exclude_models.end(), name) !=
        gpu.exclude_models.end())
      rules.error("resources.gpu.exclude_models", name + " is both allowed and excluded"),
          contradictory = true;
  }
  if (!gpu.models.empty() && rules.given("resources.gpu.vendor") == false) {
    bool amd = false, nvidia = false;
    for (const auto& name : gpu.models)
      if (const auto* m = find_gpu_model(name))
        (m->vendor == GpuVendor::kAmd ? amd : nvidia) = true;
    if (amd && nvidia)
      rules.error("resources.gpu.models", "mixes NVIDIA and AMD models",
                  "one workload image runs on one vendor; set vendor: and keep its models");
  }
  // After an error here the catalog check would only repeat it in other words.
  if (contradictory || rules.errors() > errors_before) return;
  // Constraints no GPU in the catalog meets would reject every known offer.
  const auto& catalog = gpu_catalog();
  const bool any = std::any_of(catalog.begin(), catalog.end(),
                               [&](const GpuModel& m) { return satisfies(m, gpu); });
  if (!any)
    rules.error("resources.gpu",
                "no " + to_string(gpu.vendor) + " GPU model satisfies these constraints together",
                "check vram, compute_capability, models and vendor against 'berth gpus'");
  if (gpu.total_vram.max && gpu.count.min && gpu.vram.min &&
      *gpu.total_vram.max < *gpu.vram.min * static_cast<std::uint64_t>(*gpu.count.min))
    rules.error("resources.gpu.total_vram", "at most " + format_size(*gpu.total_vram.max) +
                                                " in total cannot hold " +
                                                std::to_string(*gpu.count.min) +
                                                " GPUs of at least " + format_size(*gpu.vram.min));
}

void check_ports(Rules& rules, const LaunchTemplate& t) {
  std::map<std::pair<int, std::string>, std::size_t> container, host;
  for (std::size_t i = 0; i < t.ports.size(); ++i) {
    const auto& p = t.ports[i];
    const std::string path = "ports[" + std::to_string(i) + "]";
    auto [it, fresh] = container.emplace(std::make_pair(p.container, p.protocol), i);
    if (!fresh)
      rules.error(path, "container port " + std::to_string(p.container) + "/" + p.protocol +
                            " is already published by ports[" + std::to_string(it->second) + "]");
    const int hp = p.host.value_or(p.container);
    auto [hit, hfresh] = host.emplace(std::make_pair(hp, p.protocol), i);
    if (!hfresh && fresh)
      rules.error(path,
                  "host port " + std::to_string(hp) + "/" + p.protocol +
                      " is already used by ports[" + std::to_string(hit->second) + "]",
                  "give one of them another host: port");
  }
}

void check_volumes(Rules& rules, const LaunchTemplate& t) {
  std::map<std::string, std::size_t> paths;
  for (std::size_t i = 0; i < t.volumes.size(); ++i) {
    const auto& v = t.volumes[i];
    const std::string path = "volumes[" + std::to_string(i) + "]";
    if (v.path.empty() || v.path[0] != '/')
      rules.error(path + ".path", "container path '" + v.path + "' is not absolute",
                  "write it from the root, e.g. /data");
    else if (auto [it, fresh] = paths.emplace(v.path, i); !fresh)
      rules.error(path + ".path", "'" + v.path + "' is already mounted by volumes[" +
                                      std::to_string(it->second) + "]");
    if (v.kind == Volume::Kind::kNamed && !lexical::is_volume_name(v.name))
      rules.error(path + ".name", "volume name '" + v.name + "' is not valid",
                  "use letters, digits, '-', '_' and '.', starting with a letter or digit");
    // A provider volume is named berth-<deployment>-<name> at the provider;
    // the strictest names (Lambda's filesystems, providers/lambda/README.md)
    // hold only letters, digits and '-', at most 60: a template that runs
    // anywhere keeps to them.
    if (v.provider_volume() && lexical::is_volume_name(v.name)) {
      const std::string at_provider = "berth-" + t.name + "-" + v.name;
      if (v.name.find_first_of("_.") != std::string::npos)
        rules.error(path + ".name",
                    "a provider volume's name holds only letters, digits and '-': '" + v.name +
                        "' (Lambda's filesystems take no other)",
                    "rename it, e.g. '" + dashed(v.name) + "'");
      else if (at_provider.size() > 60)
        rules.error(path + ".name",
                    "the volume's name at the provider, '" + at_provider + "', is " +
                        std::to_string(at_provider.size()) + " characters; at most 60 fit " +
                        "every provider",
                    "shorten the volume's or the deployment's name");
    }
    // The providers' own bounds: RunPod network volumes take 10-4096 GB.
    if (v.size_bytes && (*v.size_bytes < kMinProviderVolumeBytes ||
                         *v.size_bytes > kMaxProviderVolumeBytes))
      rules.error(path + ".size", "a provider volume is 10GB to 4096GB",
                  "e.g. size: 100GB");
  }
}

void check_health(Rules& rules, const LaunchTemplate& t) {
  const auto& h = t.health;
  if (h.kind == HealthCheck::Kind::kNone) return;
  if (h.kind == HealthCheck::Kind::kHttp || h.kind == HealthCheck::Kind::kTcp) {
    const std::string path = h.kind == HealthCheck::Kind::kHttp ? "health.http.port" : "health.tcp";
    const bool published = std::any_of(t.ports.begin(), t.ports.end(), [&](const PortMapping& p) {
      return p.container == h.port && p.protocol == "tcp";
    });
    if (h.port > 0 && !published)
      rules.error(path, "port " + std::to_string(h.port) + " is not among the published ports",
                  "add " + std::to_string(h.port) + " to ports:, or check the port number");
  }
  if (h.kind == HealthCheck::Kind::kHttp && (h.path.empty() || h.path[0] != '/'))
    rules.error("health.http.path", "HTTP path '" + printable(h.path) + "' must start with '/'");
  else if (h.kind == HealthCheck::Kind::kHttp && !lexical::is_http_path(h.path))
    // It goes into the request line as it is: a space or a line break there
    // would make every probe fail (after a whole deploy) or forge the request.
    rules.error("health.http.path",
                "HTTP path '" + printable(h.path) +
                    "' holds a character a URL path cannot carry (a space, a control character, "
                    "'#', a non-ASCII byte or a lone '%')",
                "percent-encode it, e.g. /my%20app/health");
  if (h.kind == HealthCheck::Kind::kExec && h.exec.empty())
    rules.error("health.exec", "empty command", "e.g. exec: [pg_isready, -h, localhost]");
  if (rules.given("health.interval") && h.interval.count() <= 0)
    rules.error("health.interval", "must be greater than zero");
  if (rules.given("health.timeout") && h.timeout.count() <= 0)
    rules.error("health.timeout", "must be greater than zero");
}

}  // namespace

void validate_template(const LaunchTemplate& t, const ValueLocations& where,
                       DiagnosticSink& sink) {
  Rules rules(where, sink);
  if (where.has("name") && !lexical::is_deployment_name(t.name))
    rules.error("name", "'" + t.name + "' is not a valid deployment name",
                "use 1 to 39 lower-case letters, digits and '-', starting with a letter "
                "(^[a-z][a-z0-9-]{0,38}$)");
  if (where.has("image") && t.image.secret)
    rules.error("image",
                "a ${VAR} value in 'image' would appear on command lines and in progress output",
                "write the image reference itself; a private registry's credentials go in "
                "registry_auth");
  else if (where.has("image") && t.image.value.empty())
    rules.error("image", "empty image reference", "e.g. image: vllm/vllm-openai:v0.6.3");
  if (where.has("image") && !t.image.secret &&
      t.image.value.find_first_of(" \t\n") != std::string::npos)
    rules.error("image", "an image reference has no spaces");
  if (t.command && !t.command->shell && t.command->argv.empty() && where.has("command"))
    rules.error("command", "empty command", "leave 'command' out to use the image's default");
  if (t.command) check_no_secret_args(rules, "command", t.command->argv, t.command->shell);
  if (t.entrypoint) check_no_secret_args(rules, "entrypoint", *t.entrypoint, false);
  for (const auto& [key, value] : t.env) {
    if (!lexical::is_env_name(key))
      rules.error("env." + key, "'" + printable(key) + "' is not a valid environment variable name",
                  "use letters, digits and '_', not starting with a digit");
    else if (value.value.find('\0') != std::string::npos)
      rules.error("env." + key, "the value holds a NUL byte, which no environment variable can carry");
  }
  // Registry credentials go into an HTTP header (and docker login): one line.
  if (t.registry_auth)
    for (const auto& [key, value] :
         {std::pair{"username", &t.registry_auth->username},
          std::pair{"password", &t.registry_auth->password}})
      if (find_control_character(value->value, false) != std::string::npos)
        rules.error(std::string("registry_auth.") + key,
                    "the value holds a control character (a line break, NUL, ...); a credential "
                    "is one line of text");

  check_gpu(rules, t.resources.gpu);
  rules.range("resources.cuda", t.resources.cuda, show_version, true);
  rules.range("resources.cpus", t.resources.cpus, show_int, true);
  rules.range("resources.memory", t.resources.memory, show_size, true);
  rules.range("resources.disk", t.resources.disk, show_size, true);
  check_ports(rules, t);
  check_volumes(rules, t);
  check_health(rules, t);

  if (where.has("placement.min_reliability") && t.placement.min_reliability &&
      (*t.placement.min_reliability < 0 || *t.placement.min_reliability > 1))
    rules.error("placement.min_reliability", "must be between 0 and 1 (Vast.ai's score)",
                "e.g. 0.98; leave it out for no floor");
  if (where.has("placement.min_inet_mbps") && t.placement.min_inet_mbps &&
      *t.placement.min_inet_mbps <= 0)
    rules.error("placement.min_inet_mbps", "must be more than 0 (download Mbps)",
                "leave min_inet_mbps out for no floor");
  if (where.has("placement.max_price") && t.placement.max_price && *t.placement.max_price <= 0)
    rules.error("placement.max_price", "must be more than 0 (USD per hour per replica)",
                "leave max_price out for no price cap");
  if (where.has("placement.ssh_timeout") && t.placement.ssh_timeout &&
      t.placement.ssh_timeout->count() <= 0)
    rules.error("placement.ssh_timeout", "must be greater than zero",
                "leave ssh_timeout out for the default of 3m");
  if (where.has("placement.boot_timeout") && t.placement.boot_timeout &&
      t.placement.boot_timeout->count() <= 0)
    rules.error("placement.boot_timeout", "must be greater than zero",
                "leave boot_timeout out for the provider's own deadline");
  if (t.placement.volumes_required && where.has("placement.volumes") &&
      std::none_of(t.volumes.begin(), t.volumes.end(),
                   [](const Volume& v) { return v.provider_volume(); }))
    rules.error("placement.volumes", "require needs a provider volume: one with name: and size:",
                "add size: to a named volume, or remove placement.volumes");
  if (where.has("replicas") && t.replicas < 1)
    rules.error("replicas", "must be at least 1, got " + std::to_string(t.replicas));
  if (t.spread != Spread::kNone && t.replicas == 1 && where.has("spread"))
    rules.error("spread", "spreading needs more than one replica",
                "set replicas: 2 or more, or remove spread");
  rules.range("restart.backoff", t.restart.backoff, show_duration, true);
  if (where.has("restart.window") && t.restart.window.count() <= 0)
    rules.error("restart.window", "must be greater than zero");
}

}  // namespace berth
