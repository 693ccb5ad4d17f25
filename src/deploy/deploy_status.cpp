#include "berth/deploy/deploy_status.h"

#include <set>

#include <fmt/format.h>

#include "berth/common/units.h"
#include "berth/host/container_runtime.h"
#include "berth/host/health.h"

namespace berth {

namespace {

// A probe of `status` waits at most this long (no template: no timeout of its own).
constexpr Duration kProbeTimeout{5'000};

// Health, start time and published endpoints of one replica's container.
void read_container(ReplicaStatus& out, const Deployment& d, const DeployedReplica& r,
                    DeployContext& ctx) {
  if (r.instance.state != InstanceState::kRunning) {
    out.health = to_string(r.instance.state);
    return;
  }
  if (runs_in_pod(ctx, r.instance)) {
    out.health = "running";
    return;
  }
  HostConnector* c = connector_for(r.instance, ctx);
  if (!c) return;
  auto host = c->connect(r.instance, d.name);
  if (!host) {
    out.health = "unreachable";
    return;
  }
  auto inspected = (*host)->run(
      HostCommand{.argv = inspect_argv(runtime_for(r.instance, ctx), replica_container(d.name, r.instance)),
                  .timeout = Duration{30'000}});
  if (!inspected || !inspected->ok()) {
    out.health = "no-container";
    return;
  }
  auto st = parse_inspect(inspected->out);
  if (!st) return;
  out.since = st->started_at;
  if (!st->running) {
    out.health = "exited (" + std::to_string(st->exit_code) + ")";
    return;
  }
  // The check the deploy ran and the ports it published, as it recorded
  // them on the container; a label berth did not write leaves health unknown.
  auto label = [&](const char* key) -> std::optional<std::string_view> {
    auto it = st->labels.find(key);
    if (it == st->labels.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  auto check = parse_health_label(label(kLabelHealth).value_or("none"), kProbeTimeout);
  auto ports = parse_ports_label(label(kLabelPorts).value_or(""));
  HealthTarget target;
  target.address = r.instance.host.empty() ? (*host)->address() : r.instance.host;
  if (ports) target.published = *ports;
  for (const auto& [container_port, host_port] : target.published)
    out.endpoints.push_back({container_port, target.address, host_port});
  if (!check || !ports) return;
  // An exec check's command is not on the container: that it runs is all
  // status can say.
  if (check->kind == HealthCheck::Kind::kNone || check->kind == HealthCheck::Kind::kExec) {
    out.health = "running";
    return;
  }
  out.health = check_health(*check, target) ? "healthy" : "unhealthy";
}

ReplicaStatus replica_status(const Deployment& d, const DeployedReplica& r, DeployContext& ctx,
                             std::chrono::system_clock::time_point now) {
  ReplicaStatus out;
  out.replica = &r;
  read_container(out, d, r, ctx);
  const Instance& i = r.instance;
  // The provider's own port table, less the SSH port: that is how berth
  // reaches the instance, not a service of the workload.
  for (const auto& [container, pub] : i.public_ports)
    if (!(container == 22 && pub == i.ssh_port)) out.endpoints.push_back({container, i.host, pub});
  Provider* p = ctx.provider ? ctx.provider(i.provider) : nullptr;
  const bool this_machine = p && p->capabilities().runs == Capabilities::Runs::kThisMachine;
  if (!this_machine && !i.host.empty() && i.ssh_port > 0)
    out.ssh = fmt::format("{}@{}:{}", i.ssh_user, i.host, i.ssh_port);
  auto seconds_since = [&](std::chrono::system_clock::time_point t) -> std::optional<long long> {
    if (t > now) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::seconds>(now - t).count();
  };
  if (auto started = parse_rfc3339(out.since)) out.uptime_seconds = seconds_since(*started);
  out.age_seconds = i.created ? seconds_since(*i.created) : out.uptime_seconds;
  if (out.age_seconds)
    out.cost_so_far = i.price_per_hour * static_cast<double>(*out.age_seconds) / 3600.0;
  return out;
}

bool serving(const std::string& health) { return health == "healthy" || health == "running"; }

}  // namespace

std::optional<DeploymentStatus> deployment_status(const Deployment& d, std::optional<int> wanted,
                                                  DeployContext& ctx,
                                                  std::chrono::system_clock::time_point now,
                                                  const std::function<bool()>& stop) {
  DeploymentStatus out;
  out.deployment = &d;
  std::set<int> up;  // replica indices with a serving instance
  int highest = -1;  // of the replicas running the deployment's template
  for (const auto& r : d.replicas) {
    if (stop && stop()) return std::nullopt;
    auto st = replica_status(d, r, ctx, now);
    if (r.hash == d.template_hash) highest = std::max(highest, r.replica);
    if (serving(st.health)) up.insert(r.replica);
    out.price_per_hour += r.instance.price_per_hour;
    if (st.cost_so_far) out.cost_so_far = out.cost_so_far.value_or(0) + *st.cost_so_far;
    if (st.age_seconds) out.age_seconds = std::max(out.age_seconds.value_or(0), *st.age_seconds);
    out.replicas.push_back(std::move(st));
  }
  // Wanted: the template's count when given; else as many as the highest
  // replica of the deployment's template implies.
  out.wanted_from_template = wanted.has_value();
  out.wanted = wanted.value_or(highest + 1);
  for (int r : up) out.running += r < out.wanted ? 1 : 0;
  out.health = out.running == 0 ? "down" : out.running < out.wanted ? "degraded" : "healthy";
  return out;
}

}  // namespace berth
