// The template hash names a deployment's instances and tells `up` whether a
// running deployment is the same as the template now. It covers every value
// of the loaded template, expanded secrets included (a rotated token must
// redeploy). Formatting, comments and key order do not count; where the file
// lives counts only through bind-volume sources, which resolve against it.
#include <cstdio>

#include "template/template_parser.h"

namespace berth {

namespace {

// Length-prefixed fields: no two different templates serialize the same way.
class Canonical {
 public:
  Canonical& operator<<(const std::string& s) {
    out_ += std::to_string(s.size());
    out_ += ':';
    out_ += s;
    return *this;
  }
  Canonical& operator<<(const char* s) { return *this << std::string(s); }
  Canonical& operator<<(long long v) { return *this << std::to_string(v); }
  Canonical& operator<<(int v) { return *this << static_cast<long long>(v); }
  Canonical& operator<<(std::uint64_t v) { return *this << std::to_string(v); }
  Canonical& operator<<(bool v) { return *this << (v ? "1" : "0"); }
  Canonical& operator<<(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return *this << std::string(buf);
  }
  Canonical& operator<<(Duration d) { return *this << static_cast<long long>(d.count()); }
  Canonical& operator<<(const TemplateString& s) { return *this << s.value; }
  template <class T>
  Canonical& operator<<(const std::optional<T>& v) {
    if (!v) return *this << "-";
    return *this << "+" << *v;
  }
  template <class T>
  Canonical& operator<<(const Range<T>& r) {
    return *this << r.min << r.max;
  }
  template <class T>
  Canonical& operator<<(const std::vector<T>& list) {
    *this << static_cast<long long>(list.size());
    for (const auto& item : list) *this << item;
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

std::uint64_t fnv1a(const std::string& data) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string template_hash(const LaunchTemplate& t) {
  Canonical c;
  c << "berth-template-v1" << t.name << t.image;
  c << t.command.has_value();
  if (t.command) c << t.command->shell << t.command->argv;
  c << t.entrypoint;
  c << static_cast<long long>(t.env.size());
  for (const auto& [k, v] : t.env) c << k << v;
  c << t.registry_auth.has_value();
  if (t.registry_auth) c << t.registry_auth->username << t.registry_auth->password;
  const auto& g = t.resources.gpu;
  c << g.count << g.vram << g.total_vram << g.compute_capability << g.models << g.exclude_models
    << static_cast<int>(g.vendor);
  c << t.resources.cuda << t.resources.cpus << t.resources.memory << t.resources.disk;
  // Only when written, so templates without it keep the hashes they had.
  if (t.resources.arch) c << "arch" << static_cast<int>(*t.resources.arch);
  c << static_cast<long long>(t.ports.size());
  for (const auto& p : t.ports) c << p.container << p.host << p.protocol;
  c << static_cast<long long>(t.volumes.size());
  for (const auto& v : t.volumes) {
    c << static_cast<int>(v.kind) << v.name << v.source << v.path << v.readonly;
    if (v.size_bytes) c << "size" << *v.size_bytes;  // only when written, as below
  }
  const auto& h = t.health;
  c << static_cast<int>(h.kind) << h.port << h.path << h.exec << h.interval << h.timeout
    << h.failures << h.grace;
  const auto& p = t.placement;
  c << p.providers << p.exclude_providers << p.regions << p.max_price << static_cast<int>(p.spot);
  // Only when written, so templates without it keep their hash.
  if (!p.offers.empty()) c << "offers" << p.offers;
  if (p.min_reliability) c << "min_reliability" << *p.min_reliability;
  if (p.min_inet_mbps) c << "min_inet_mbps" << *p.min_inet_mbps;
  if (p.volumes_required) c << "volumes_required";
  c << t.replicas << static_cast<int>(t.spread);
  c << t.restart.max_restarts << t.restart.window << t.restart.backoff;
  c << static_cast<long long>(t.restart.on.size());
  for (auto f : t.restart.on) c << static_cast<int>(f);
  if (t.shm_size) c << "shm_size" << *t.shm_size;
  if (t.ipc_host) c << "ipc_host";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%012llx",
                static_cast<unsigned long long>(fnv1a(c.str()) & 0xFFFFFFFFFFFFull));
  return buf;
}

}  // namespace berth
