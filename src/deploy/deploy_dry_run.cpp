// `up --dry-run`: the launch requests and the container's process, built by
// the same code `up` runs (launch_request, the adapters' plan_launch, the
// image reader), with nothing sent.
#include <fmt/format.h>

#include "berth/common/redact.h"
#include "berth/common/shell_quote.h"
#include "berth/deploy/deploy.h"
#include "berth/deploy/deployments.h"
#include "berth/http/http.h"

namespace berth {

LaunchRequest launch_request(const LaunchTemplate& workload, int replica, const Offer& offer,
                             const std::string& ssh_public_key, const WorkloadSpec& container) {
  LaunchRequest request;
  request.name = instance_name(workload.name, replica, workload.hash);
  request.labels = {{kInstanceLabelDeployment, workload.name},
                    {kInstanceLabelReplica, std::to_string(replica)},
                    {kInstanceLabelHash, workload.hash}};
  request.offer = offer;
  request.ssh_public_key = ssh_public_key;
  request.container = &container;
  return request;
}

namespace {

void redact_strings(nlohmann::json& j, const std::vector<std::string>& secrets) {
  if (j.is_string()) {
    j = redact(j.get<std::string>(), secrets);
  } else if (j.is_object() || j.is_array()) {
    for (auto& v : j) redact_strings(v, secrets);
  }
}

// "<the image's ENTRYPOINT> <the image's CMD>" with the template's overrides,
// when the image's own part was not read.
std::string symbolic_process(const WorkloadSpec& c) {
  std::vector<std::string> words;
  if (c.entrypoint) {
    for (const auto& a : *c.entrypoint) words.push_back(shell_quote(a));
  } else {
    words.push_back("<the image's ENTRYPOINT>");
  }
  if (c.command) {
    for (const auto& a : *c.command) words.push_back(shell_quote(a));
  } else if (!c.entrypoint) {
    words.push_back("<the image's CMD>");
  }
  return fmt::format("{}", fmt::join(words, " "));
}

}  // namespace

Expected<std::vector<DryRunReplica>, Failure> dry_run(const LaunchTemplate& workload,
                                                      const Plan& plan, DeployContext& ctx) {
  WorkloadSpec container = resolve_workload(workload);
  const auto secrets = container.secrets();
  std::vector<DryRunReplica> out;
  for (const auto& placement : plan.placement) {
    Provider* provider = ctx.provider ? ctx.provider(placement.offer.provider) : nullptr;
    if (!provider)
      return unexpected(Failure{ExitCode::kInvalidInput,
                                "provider '" + placement.offer.provider + "' is not configured",
                                ""});
    bool needs_image = !(container.entrypoint && container.command);
    if (needs_image && !container.image_process && ctx.read_image &&
        provider->capabilities().starts_process) {
      // The provider starts the process itself: what it would send depends
      // on the image, and `up` would fail here too when it cannot be read.
      auto read = ctx.read_image(container);
      if (!read) return unexpected(read.error());
      container.image_process = std::move(*read);
    }
    DryRunReplica r;
    r.replica = placement.replica;
    r.offer = placement.offer;
    auto request =
        launch_request(workload, placement.replica, placement.offer, ctx.ssh_public_key, container);
    // Provider volumes: the one the plan found where the offer is, else the
    // one `up` would make there first (its id not known yet).
    std::vector<std::string> to_make;
    if (provider->capabilities().volumes)
      for (const auto& v : workload.volumes) {
        if (!v.provider_volume()) continue;
        const std::string name = provider_volume_name(workload.name, v.name);
        if (const VolumeHome* home = volume_home_at(plan.volume_homes, v.name, placement.offer)) {
          request.volumes.push_back({v.name, home->id, v.path, home->host_path});
        } else {
          request.volumes.push_back({v.name, "<the id of " + name + ">", v.path, ""});
          to_make.push_back(name);
        }
      }
    auto planned = provider->plan_launch(request);
    if (!planned)
      return unexpected(Failure{ExitCode::kProviderFailed,
                                provider->name() + " cannot launch this: " + planned.error().message,
                                ""});
    r.requests = std::move(*planned);
    // The launch itself is the last request: it waits for those volumes.
    if (!to_make.empty() && !r.requests.empty()) {
      auto& launch = r.requests.back();
      launch.note = (launch.note.empty() ? "" : launch.note + "; ") + "after making " +
                    fmt::format("{}", fmt::join(to_make, ", ")) + " in " + placement.offer.region;
    }
    for (auto& req : r.requests) redact_strings(req.body, secrets);
    if (auto argv = container.process()) {
      r.process = *argv;
      if (container.args_secret)
        for (auto& a : *r.process) a = redact(a, secrets);
      r.process_text = shell_join(*r.process);
    } else {
      r.process_text = symbolic_process(container);
      if (container.args_secret) r.process_text = redact(r.process_text, secrets);
    }
    out.push_back(std::move(r));
  }
  return out;
}

nlohmann::json to_json(const DryRunReplica& r) {
  nlohmann::json requests = nlohmann::json::array();
  for (const auto& q : r.requests) {
    nlohmann::json one = {{"method", q.method}, {"url", q.url}, {"body", q.body}};
    if (!q.note.empty()) one["when"] = q.note;
    requests.push_back(std::move(one));
  }
  return {{"replica", r.replica},
          {"offer", to_json(r.offer)},
          {"requests", requests},
          {"process", r.process ? nlohmann::json(*r.process) : nlohmann::json(nullptr)},
          {"process_text", r.process_text}};
}

}  // namespace berth
