// Reading a template's YAML tree into typed values. Every problem is recorded
// and reading goes on, so one run reports all of a file's errors.
#include "template/template_parser.h"

#include <algorithm>
#include <cstdlib>

#include "berth/template/gpu_catalog.h"
#include "input/lexical.h"

namespace berth {

const std::map<std::string, std::vector<std::string>>& template_keys() {
  static const std::map<std::string, std::vector<std::string>> keys = {
      {"",
       {"name", "image", "command", "entrypoint", "env", "registry_auth", "resources", "ports",
        "volumes", "health", "placement", "replicas", "spread", "restart", "shm_size", "ipc"}},
      {"registry_auth", {"username", "password"}},
      {"resources", {"gpu", "cuda", "cpus", "memory", "disk", "arch"}},
      {"resources.gpu",
       {"count", "vram", "total_vram", "compute_capability", "models", "exclude_models", "vendor"}},
      {"ports[]", {"container", "host", "protocol"}},
      {"volumes[]", {"name", "source", "path", "readonly", "size"}},
      {"health", {"http", "tcp", "exec", "interval", "timeout", "failures", "grace"}},
      {"health.http", {"port", "path"}},
      {"placement", {"providers", "exclude_providers", "regions", "max_price", "spot", "boot_timeout",
                     "ssh_timeout", "strict", "volumes", "offers",
                     "min_reliability", "min_inet_mbps"}},
      {"restart", {"max_restarts", "window", "backoff", "on"}},
  };
  return keys;
}

namespace {

const std::vector<std::string>& keys(const std::string& section) {
  return template_keys().at(section);
}

// A whole number written in a range or a count: "8", never "8.5" or "-1".
Expected<long long, std::string> parse_count(std::string_view text) {
  auto v = parse_whole_number(text);
  if (v && *v < 0) return unexpected("'" + std::string(text) + "' is negative; counts start at 0");
  return v;
}

// CUDA compute capability and driver versions: "8.0", "12.1", "9".
Expected<double, std::string> parse_version(std::string_view text) {
  const std::string s(text);
  if (!lexical::is_version(s))
    return unexpected("expected a version such as 8.0 or 12.1, got '" + s + "'");
  return std::strtod(s.c_str(), nullptr);
}

using Reader = YamlReader;

auto count_parser() {
  return [](std::string_view s) -> Expected<long long, std::string> { return parse_count(s); };
}
auto size_parser() {
  return [](std::string_view s) -> Expected<std::uint64_t, std::string> { return parse_size(s); };
}
auto version_parser() {
  return [](std::string_view s) -> Expected<double, std::string> { return parse_version(s); };
}
auto duration_parser() {
  return [](std::string_view s) -> Expected<Duration, std::string> { return parse_duration(s); };
}

void read_models(Reader& r, const Reader::Field& f, std::vector<std::string>& out) {
  auto names = r.string_list(f);
  if (!names) return;
  for (std::size_t i = 0; i < names->size(); ++i) {
    const auto& name = (*names)[i];
    auto models = find_gpu_models(name);
    if (models.empty()) {
      auto close = suggest_gpu_models(name);
      r.error(f.value[i].Mark(), f.path + ": unknown GPU model '" + name + "'",
              close.empty() ? "run 'berth gpus' for the models berth knows"
                            : "did you mean " + quoted_list(close) + "? ('berth gpus' lists all)");
      continue;
    }
    for (const auto* m : models)
      if (std::find(out.begin(), out.end(), m->name) == out.end()) out.push_back(m->name);
  }
}

// `gpu: "H100:8"` (or `gpu: H100`): one model and an exact count, as
// SkyPilot's accelerators are written; the same as {models: [H100], count: 8}.
void read_gpu_shorthand(Reader& r, const Reader::Field& section, GpuRequirement& gpu) {
  auto text = r.string(section);
  if (!text) return;
  std::string model = *text;
  int count = 1;
  if (auto colon = text->rfind(':'); colon != std::string::npos) {
    model = text->substr(0, colon);
    auto n = parse_count(text->substr(colon + 1));
    if (!n || *n < 1 || *n > 64) {
      r.error(section.mark,
              section.path + ": '" + *text + "' is not MODEL:COUNT (COUNT 1 to 64)",
              "e.g. gpu: \"H100:8\", or gpu: {models: [H100], count: 8}");
      return;
    }
    count = static_cast<int>(*n);
  }
  auto models = find_gpu_models(model);
  if (models.empty()) {
    auto close = suggest_gpu_models(model);
    r.error(section.mark, section.path + ": unknown GPU model '" + model + "'",
            close.empty() ? "run 'berth gpus' for the models berth knows"
                          : "did you mean " + quoted_list(close) + "? ('berth gpus' lists all)");
    return;
  }
  gpu.count = Range<int>{count, count};
  for (const auto* m : models)
    if (std::find(gpu.models.begin(), gpu.models.end(), m->name) == gpu.models.end())
      gpu.models.push_back(m->name);
  if (std::all_of(models.begin(), models.end(),
                  [](const auto* m) { return m->vendor == GpuVendor::kAmd; }))
    gpu.vendor = GpuVendor::kAmd;
}

void read_gpu(Reader& r, const Reader::Field& section, GpuRequirement& gpu) {
  gpu.count = Range<int>{1, 1};  // a gpu section without a count asks for one GPU
  if (section.value.IsScalar()) return read_gpu_shorthand(r, section, gpu);
  auto fields = r.fields(section.value, section.mark, section.path, keys("resources.gpu"));
  if (!fields) return;
  bool vendor_given = false;
  for (const auto& f : *fields) {
    if (f.key == "count") {
      if (auto v = r.range<int>(f, count_parser(), true, "1, 2..8 or 4..")) gpu.count = *v;
    } else if (f.key == "vram") {
      if (auto v = r.range<std::uint64_t>(f, size_parser(), false, "24GB.. or 24GB..80GB"))
        gpu.vram = *v;
    } else if (f.key == "total_vram") {
      if (auto v = r.range<std::uint64_t>(f, size_parser(), false, "80GB.. or 160GB..640GB"))
        gpu.total_vram = *v;
    } else if (f.key == "compute_capability") {
      if (auto v = r.range<double>(f, version_parser(), false, "8.0.. or 8.0..9.0"))
        gpu.compute_capability = *v;
    } else if (f.key == "models") {
      read_models(r, f, gpu.models);
    } else if (f.key == "exclude_models") {
      read_models(r, f, gpu.exclude_models);
    } else if (f.key == "vendor") {
      if (auto v = r.choice(f, {"nvidia", "amd"})) {
        gpu.vendor = *v == "amd" ? GpuVendor::kAmd : GpuVendor::kNvidia;
        vendor_given = true;
      }
    }
  }
  // `models: [MI300X]` says AMD without saying `vendor: amd`.
  if (!vendor_given && !gpu.models.empty() &&
      std::all_of(gpu.models.begin(), gpu.models.end(), [](const std::string& n) {
        const auto* m = find_gpu_model(n);
        return m && m->vendor == GpuVendor::kAmd;
      }))
    gpu.vendor = GpuVendor::kAmd;
}

void read_resources(Reader& r, const Reader::Field& section, Resources& res) {
  auto fields = r.fields(section.value, section.mark, section.path, keys("resources"));
  if (!fields) return;
  for (const auto& f : *fields) {
    if (f.key == "gpu") {
      read_gpu(r, f, res.gpu);
    } else if (f.key == "cuda") {
      if (auto v = r.range<double>(f, version_parser(), false, "12.1.. or 12.1..12.8"))
        res.cuda = *v;
    } else if (f.key == "cpus") {
      if (auto v = r.range<int>(f, count_parser(), true, "8.. or 4..16")) res.cpus = *v;
    } else if (f.key == "memory") {
      if (auto v = r.range<std::uint64_t>(f, size_parser(), false, "32GB.. or 16GiB..64GiB"))
        res.memory = *v;
    } else if (f.key == "disk") {
      if (auto v = r.range<std::uint64_t>(f, size_parser(), false, "100GB.. or 50GB..1TB"))
        res.disk = *v;
    } else if (f.key == "arch") {
      if (auto v = r.choice(f, {"x86_64", "arm64"}))
        res.arch = *v == "arm64" ? CpuArch::kArm64 : CpuArch::kX86_64;
    }
  }
}

struct DockerPort {
  std::string host, container, proto;
};

// "8000:80" or "8000:80/udp": digits, ':', digits, an optional /tcp or /udp.
std::optional<DockerPort> docker_port(const std::string& text) {
  auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 5 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  std::string_view t = text;
  DockerPort out;
  if (auto slash = t.find('/'); slash != std::string_view::npos) {
    out.proto = std::string(t.substr(slash + 1));
    if (out.proto != "tcp" && out.proto != "udp") return std::nullopt;
    t = t.substr(0, slash);
  }
  auto colon = t.find(':');
  if (colon == std::string_view::npos || !digits(t.substr(0, colon)) ||
      !digits(t.substr(colon + 1)))
    return std::nullopt;
  out.host = std::string(t.substr(0, colon));
  out.container = std::string(t.substr(colon + 1));
  return out;
}

void read_ports(Reader& r, const Reader::Field& section, std::vector<PortMapping>& out) {
  if (!section.value.IsSequence()) {
    r.error(section.mark, "ports: expected a list, got " + describe(section.value),
            "write ports: [8000] or ports: [{container: 8888, host: 18888}]");
    return;
  }
  for (std::size_t i = 0; i < section.value.size(); ++i) {
    const YAML::Node& item = section.value[i];
    const std::string path = "ports[" + std::to_string(i) + "]";
    r.where().set(path, item.Mark());
    PortMapping port;
    if (item.IsScalar()) {
      // docker's "HOST:CONTAINER[/PROTO]": say how berth writes it.
      if (auto d = docker_port(item.Scalar())) {
        r.error(item.Mark(), path + ": '" + item.Scalar() + "' is docker's HOST:CONTAINER form",
                d->host == d->container && d->proto.empty()
                    ? "write " + d->container + " (published on the same host port)"
                    : "write {container: " + d->container + ", host: " + d->host +
                          (d->proto.empty() ? "" : ", protocol: " + d->proto) + "}");
        continue;
      }
      if (auto v = r.integer(item, section.mark, path, 1, 65535)) {
        port.container = static_cast<int>(*v);
        out.push_back(port);
      }
      continue;
    }
    auto fields = r.fields(item, section.mark, path, keys("ports[]"));
    if (!fields) continue;
    bool ok = true, has_container = false;
    for (const auto& f : *fields) {
      if (f.key == "container") {
        auto v = r.integer(f, 1, 65535);
        ok = ok && v;
        if (v) port.container = static_cast<int>(*v), has_container = true;
      } else if (f.key == "host") {
        auto v = r.integer(f, 1, 65535);
        ok = ok && v;
        if (v) port.host = static_cast<int>(*v);
      } else if (f.key == "protocol") {
        auto v = r.choice(f, {"tcp", "udp"});
        ok = ok && v;
        if (v) port.protocol = *v;
      }
    }
    if (!has_container && ok) {
      r.error(item.Mark(), path + ": missing required key 'container'",
              "write {container: 8888} or {container: 8888, host: 18888}");
      continue;
    }
    if (ok) out.push_back(port);
  }
}

void read_volumes(Reader& r, const Reader::Field& section, const std::filesystem::path& base_dir,
                  std::vector<Volume>& out) {
  if (!section.value.IsSequence()) {
    r.error(section.mark, "volumes: expected a list, got " + describe(section.value),
            "write volumes: [{name: cache, path: /cache}]");
    return;
  }
  for (std::size_t i = 0; i < section.value.size(); ++i) {
    const YAML::Node& item = section.value[i];
    const std::string path = "volumes[" + std::to_string(i) + "]";
    r.where().set(path, item.Mark());
    auto fields = r.fields(item, section.mark, path, keys("volumes[]"));
    if (!fields) continue;
    Volume v;
    bool ok = true, has_name = false, has_source = false, has_path = false;
    for (const auto& f : *fields) {
      if (f.key == "readonly") {
        auto b = r.boolean(f);
        ok = ok && b;
        if (b) v.readonly = *b;
        continue;
      }
      if (f.key == "size") {
        auto text = r.string(f);
        if (!text) {
          ok = false;
          continue;
        }
        auto bytes = parse_size(*text);
        if (!bytes) {
          r.error(f.mark, f.path + ": " + bytes.error(), "e.g. size: 100GB");
          ok = false;
          continue;
        }
        v.size_bytes = *bytes;
        continue;
      }
      auto s = r.string(f);
      if (!s) {
        ok = false;
        continue;
      }
      if (f.key == "name") {
        v.name = *s, has_name = true;
      } else if (f.key == "source") {
        has_source = true;
        std::filesystem::path src(*s);
        v.source = (src.is_absolute() ? src : base_dir / src).lexically_normal().string();
        if (s->empty()) {
          r.error(f.mark, f.path + ": empty source path");
          ok = false;
        }
      } else if (f.key == "path") {
        v.path = *s, has_path = true;
      }
    }
    if (!ok) continue;
    if (has_name && has_source) {
      r.error(item.Mark(), path +
                               ": a volume has either 'name' (persistent) or 'source' "
                               "(local directory), not both");
      continue;
    }
    if (!has_name && !has_source) {
      r.error(item.Mark(),
              path +
                  ": a volume needs 'name' (persistent) or 'source' (local "
                  "directory)",
              "e.g. {name: hf-cache, path: /root/.cache/huggingface}");
      continue;
    }
    if (v.size_bytes && !has_name) {
      r.error(item.Mark(), path + ": 'size' is for a named volume kept by the provider",
              "drop size:, or give the volume a name: instead of source:");
      continue;
    }
    if (!has_path) {
      r.error(item.Mark(), path + ": missing required key 'path'",
              "the absolute path in the container, e.g. path: /data");
      continue;
    }
    v.kind = has_name ? Volume::Kind::kNamed : Volume::Kind::kBind;
    out.push_back(std::move(v));
  }
}

void read_health(Reader& r, const Reader::Field& section, HealthCheck& h) {
  auto fields = r.fields(section.value, section.mark, section.path, keys("health"));
  if (!fields) return;
  int kinds = 0;
  for (const auto& f : *fields) {
    if (f.key == "http") {
      ++kinds;
      h.kind = HealthCheck::Kind::kHttp;
      auto sub = r.fields(f.value, f.mark, f.path, keys("health.http"));
      if (!sub) continue;
      bool has_port = false;
      for (const auto& g : *sub) {
        if (g.key == "port") {
          if (auto v = r.integer(g, 1, 65535)) h.port = static_cast<int>(*v);
          has_port = true;
        } else if (g.key == "path") {
          if (auto v = r.string(g)) h.path = *v;
        }
      }
      if (!has_port)
        r.error(f.mark, "health.http: missing required key 'port'",
                "write http: {port: 8000, path: /health}");
    } else if (f.key == "tcp") {
      ++kinds;
      h.kind = HealthCheck::Kind::kTcp;
      if (auto v = r.integer(f, 1, 65535)) h.port = static_cast<int>(*v);
    } else if (f.key == "exec") {
      ++kinds;
      h.kind = HealthCheck::Kind::kExec;
      if (auto v = r.string_list(f)) h.exec = *v;
    } else if (f.key == "interval" || f.key == "timeout" || f.key == "grace") {
      auto s = r.string(f);
      if (!s) continue;
      auto d = parse_duration(*s);
      if (!d) {
        r.error(f.mark, f.path + ": " + d.error());
        continue;
      }
      (f.key == "interval" ? h.interval : f.key == "timeout" ? h.timeout : h.grace) = *d;
    } else if (f.key == "failures") {
      if (auto v = r.integer(f, 1, 1000)) h.failures = static_cast<int>(*v);
    }
  }
  if (kinds == 0)
    r.error(section.mark, "health: needs one check: http, tcp or exec",
            "e.g. http: {port: 8000, path: /health}");
  else if (kinds > 1)
    r.error(section.mark, "health: give exactly one of http, tcp or exec");
}

void read_placement(Reader& r, const Reader::Field& section, PlacementPolicy& p) {
  auto fields = r.fields(section.value, section.mark, section.path, keys("placement"));
  if (!fields) return;
  for (const auto& f : *fields) {
    if (f.key == "providers") {
      if (auto v = r.string_list(f)) p.providers = *v;
    } else if (f.key == "exclude_providers") {
      if (auto v = r.string_list(f)) p.exclude_providers = *v;
    } else if (f.key == "regions") {
      if (auto v = r.string_list(f)) p.regions = *v;
    } else if (f.key == "offers") {
      if (auto v = r.string_list(f)) p.offers = *v;
    } else if (f.key == "min_reliability") {
      if (auto v = r.number(f)) p.min_reliability = *v;
    } else if (f.key == "min_inet_mbps") {
      if (auto v = r.number(f)) p.min_inet_mbps = *v;
    } else if (f.key == "max_price") {
      if (auto v = r.number(f)) p.max_price = *v;
    } else if (f.key == "spot") {
      if (auto v = r.choice(f, {"never", "allow", "only"}))
        p.spot = *v == "only"    ? SpotPolicy::kOnly
                 : *v == "allow" ? SpotPolicy::kAllow
                                 : SpotPolicy::kNever;
    } else if (f.key == "strict") {
      if (auto b = r.boolean(f)) p.strict = *b;
    } else if (f.key == "volumes") {
      if (auto v = r.choice(f, {"prefer", "require"})) p.volumes_required = *v == "require";
    } else if (f.key == "boot_timeout" || f.key == "ssh_timeout") {
      auto s = r.string(f);
      if (!s) continue;
      if (auto d = parse_duration(*s))
        (f.key == "boot_timeout" ? p.boot_timeout : p.ssh_timeout) = *d;
      else
        r.error(f.mark, f.path + ": " + d.error());
    }
  }
}

void read_restart(Reader& r, const Reader::Field& section, RestartPolicy& p) {
  auto fields = r.fields(section.value, section.mark, section.path, keys("restart"));
  if (!fields) return;
  for (const auto& f : *fields) {
    if (f.key == "max_restarts") {
      if (auto v = r.integer(f, 0, 1'000'000)) p.max_restarts = static_cast<int>(*v);
    } else if (f.key == "window") {
      auto s = r.string(f);
      if (!s) continue;
      if (auto d = parse_duration(*s))
        p.window = *d;
      else
        r.error(f.mark, f.path + ": " + d.error());
    } else if (f.key == "backoff") {
      if (auto v = r.range<Duration>(f, duration_parser(), true, "10s..10m")) p.backoff = *v;
    } else if (f.key == "on") {
      auto words = r.string_list(f);
      if (!words) continue;
      p.on.clear();
      for (std::size_t i = 0; i < words->size(); ++i) {
        if (auto c = failure_class_from_string((*words)[i])) {
          p.on.insert(*c);
          continue;
        }
        const std::vector<std::string> all = {"instance-lost", "preempted", "container-exit",
                                              "unhealthy", "unreachable"};
        std::string suggestion = did_you_mean((*words)[i], all);
        r.error(f.value[i].Mark(), f.path + ": unknown failure '" + (*words)[i] + "'",
                suggestion.empty() ? "expected " + quoted_list(all)
                                   : "did you mean '" + suggestion + "'?");
      }
    }
  }
}

std::optional<std::vector<TemplateString>> expanded_list(Reader& r, const Reader::Field& f) {
  std::vector<TemplateString> out;
  bool ok = true;
  for (std::size_t i = 0; i < f.value.size(); ++i) {
    const std::string p = f.path + "[" + std::to_string(i) + "]";
    r.where().set(p, f.value[i].Mark());
    if (auto s = r.expanded(f.value[i], f.mark, p))
      out.push_back(std::move(*s));
    else
      ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

void read_template(const YamlDocument& doc, const std::filesystem::path& base_dir,
                   const Environment& env, UnsetVariables unset, DiagnosticSink& sink,
                   LaunchTemplate& t, ValueLocations& where) {
  Reader::Options options;
  options.sections = &template_keys();
  options.unset = unset;
  Reader r(doc, sink, where, env, options);
  const YAML::Node& root = doc.root;
  t.resources.gpu.count = Range<int>{0, 0};  // no gpu section: a CPU-only workload
  YAML::Mark start;
  start.line = 0, start.column = 0;
  where.set("", start);
  if (!root.IsMap()) {
    r.error(mark_of(root, start),
            "a template is a mapping of keys (name:, image:, ...), got " + describe(root),
            "'berth init' writes a starter template");
    return;
  }
  auto fields = r.fields(root, start, "", keys(""));
  if (!fields) return;
  bool has_name = false, has_image = false;
  for (const auto& f : *fields) {
    if (f.key == "name") {
      has_name = true;
      if (auto v = r.string(f)) t.name = *v;
    } else if (f.key == "image") {
      has_image = true;
      if (auto v = r.expanded(f.value, f.mark, f.path)) t.image = *v;
    } else if (f.key == "command") {
      if (f.value.IsSequence()) {
        if (auto v = expanded_list(r, f)) t.command = ContainerCommand{false, std::move(*v)};
      } else if (f.value.IsScalar()) {
        if (auto v = r.expanded(f.value, f.mark, f.path)) t.command = ContainerCommand{true, {*v}};
      } else {
        r.error(f.mark, "command: expected a list (exec form) or a string (run with sh -c), got " +
                            describe(f.value));
      }
    } else if (f.key == "entrypoint") {
      if (f.value.IsSequence()) {
        if (auto v = expanded_list(r, f)) t.entrypoint = std::move(*v);
      } else if (f.value.IsScalar()) {
        if (auto v = r.expanded(f.value, f.mark, f.path)) t.entrypoint = {{*v}};
      } else {
        r.error(f.mark, "entrypoint: expected a list or a string, got " + describe(f.value));
      }
    } else if (f.key == "env") {
      if (!f.value.IsMap()) {
        r.error(f.mark, "env: expected a mapping of NAME: value, got " + describe(f.value));
        continue;
      }
      std::vector<std::string> seen;
      for (auto it = f.value.begin(); it != f.value.end(); ++it) {
        const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
        const std::string path = "env." + key;
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
          r.error(it->first.Mark(), "duplicate key '" + key + "' in env",
                  "each variable may be set once; remove one of them");
          continue;
        }
        seen.push_back(key);
        where.set(path, it->first.Mark());
        if (!it->second.IsScalar()) {
          r.error(it->second.IsNull() ? it->first.Mark() : mark_of(it->second, it->first.Mark()),
                  path + ": expected a string value, got " + describe(it->second),
                  it->second.IsNull() ? "write " + key + ": \"\" for an empty value" : "");
          continue;
        }
        if (auto v = r.expanded(it->second, it->first.Mark(), path))
          t.env.emplace_back(key, std::move(*v));
      }
    } else if (f.key == "registry_auth") {
      auto sub = r.fields(f.value, f.mark, f.path, keys("registry_auth"));
      if (!sub) continue;
      RegistryAuth auth;
      int given = 0;
      for (const auto& g : *sub) {
        auto v = r.expanded(g.value, g.mark, g.path);
        if (!v) continue;
        ++given;
        (g.key == "username" ? auth.username : auth.password) = std::move(*v);
      }
      if (sub->size() < 2)
        r.error(f.mark, "registry_auth: needs both 'username' and 'password'",
                "e.g. password: ${REGISTRY_PASSWORD}");
      else if (given == 2)
        t.registry_auth = std::move(auth);
    } else if (f.key == "resources") {
      read_resources(r, f, t.resources);
    } else if (f.key == "ports") {
      read_ports(r, f, t.ports);
    } else if (f.key == "volumes") {
      read_volumes(r, f, base_dir, t.volumes);
    } else if (f.key == "health") {
      read_health(r, f, t.health);
    } else if (f.key == "placement") {
      read_placement(r, f, t.placement);
    } else if (f.key == "replicas") {
      if (auto v = r.integer(f, -1000, 1000)) t.replicas = static_cast<int>(*v);
    } else if (f.key == "spread") {
      if (auto v = r.choice(f, {"none", "provider", "region"}))
        t.spread = *v == "provider" ? Spread::kProvider
                   : *v == "region" ? Spread::kRegion
                                    : Spread::kNone;
    } else if (f.key == "restart") {
      read_restart(r, f, t.restart);
    } else if (f.key == "shm_size") {
      if (auto text = r.string(f)) {
        auto bytes = parse_size(*text);
        if (!bytes)
          r.error(f.mark, f.path + ": " + bytes.error(), "e.g. shm_size: 16GB");
        else if (*bytes == 0)
          r.error(f.mark, f.path + ": the shared memory size must be more than 0",
                  "e.g. shm_size: 16GB; leave it out for the runtime's default");
        else
          t.shm_size = *bytes;
      }
    } else if (f.key == "ipc") {
      if (auto v = r.choice(f, {"private", "host"})) t.ipc_host = *v == "host";
    }
  }
  t.unset_variables = r.unset();
  if (!has_name && !r.suggested("name"))
    r.error(start, "missing required key 'name'", "e.g. name: llama-chat (the deployment's name)");
  if (!has_image && !r.suggested("image"))
    r.error(start, "missing required key 'image'", "e.g. image: vllm/vllm-openai:v0.6.3");
}

}  // namespace berth
