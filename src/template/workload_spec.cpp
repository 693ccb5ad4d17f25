#include "berth/template/workload_spec.h"

#include <algorithm>
#include <array>


namespace berth {

namespace {

struct FeatureText {
  const char* name;
  const char* description;
};

constexpr std::array<FeatureText, static_cast<std::size_t>(WorkloadFeature::kCount_)> kFeatures{{
    {"entrypoint", "override the image entrypoint"},
    {"registry_auth", "pull a private image (registry_auth)"},
    {"named_volume", "keep a named volume"},
    {"named_volumes", "keep more than one named volume"},
    {"bind_volume", "copy a local directory to the host (volumes with source:)"},
    {"readonly_volume", "mount a named volume read-only"},
    {"provider_volume", "keep a volume across redeploys (volumes with size:)"},
    {"udp_port", "publish a UDP port"},
    {"host_port", "publish on a chosen host port (ports with host:)"},
    {"long_env_value", "pass an env value longer than 256 characters"},
    {"shm_size", "set the container's shared memory size (shm_size)"},
    {"ipc_host", "share the host's IPC namespace (ipc: host)"},
}};

}  // namespace

const char* describe(WorkloadFeature f) {
  return kFeatures[static_cast<std::size_t>(f)].description;
}

const char* feature_name(WorkloadFeature f) { return kFeatures[static_cast<std::size_t>(f)].name; }

std::optional<WorkloadFeature> feature_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kFeatures.size(); ++i)
    if (name == kFeatures[i].name) return static_cast<WorkloadFeature>(i);
  return std::nullopt;
}

std::vector<WorkloadFeature> features_in(FeatureSet set) {
  std::vector<WorkloadFeature> out;
  for (int i = 0; i < static_cast<int>(WorkloadFeature::kCount_); ++i)
    if (set & (FeatureSet{1} << i)) out.push_back(static_cast<WorkloadFeature>(i));
  return out;
}

FeatureSet WorkloadSpec::features() const {
  FeatureSet f = 0;
  if (entrypoint) f |= feature_bit(WorkloadFeature::kEntrypoint);
  if (registry) f |= feature_bit(WorkloadFeature::kRegistryAuth);
  int named = 0;
  for (const auto& v : volumes) {
    if (v.kind == Volume::Kind::kBind) {
      f |= feature_bit(WorkloadFeature::kBindVolume);
    } else {
      ++named;
      if (v.readonly) f |= feature_bit(WorkloadFeature::kReadonlyVolume);
      if (v.size_bytes) f |= feature_bit(WorkloadFeature::kProviderVolume);
    }
  }
  if (named >= 1) f |= feature_bit(WorkloadFeature::kNamedVolume);
  if (named >= 2) f |= feature_bit(WorkloadFeature::kNamedVolumes);
  for (const auto& p : ports) {
    if (p.protocol == "udp") f |= feature_bit(WorkloadFeature::kUdpPort);
    if (p.host) f |= feature_bit(WorkloadFeature::kHostPort);
  }
  for (const auto& e : env)
    if (e.value.size() > 256) f |= feature_bit(WorkloadFeature::kLongEnvValue);
  if (shm_size) f |= feature_bit(WorkloadFeature::kShmSize);
  if (ipc_host) f |= feature_bit(WorkloadFeature::kIpcHost);
  return f;
}

Expected<std::vector<std::string>, std::string> WorkloadSpec::process() const {
  // docker: --entrypoint replaces the image's ENTRYPOINT and clears its CMD;
  // arguments after the image replace the CMD.
  if ((!entrypoint || !command) && !image_process)
    return unexpected("the image's entrypoint and command of " + image +
                      " are needed and were not read");
  std::vector<std::string> argv = entrypoint ? *entrypoint : image_process->entrypoint;
  const std::vector<std::string>* cmd = nullptr;
  if (command) cmd = &*command;
  else if (!entrypoint) cmd = &image_process->cmd;
  if (cmd) argv.insert(argv.end(), cmd->begin(), cmd->end());
  if (argv.empty()) return unexpected("image " + image + " has no entrypoint or command to run");
  return argv;
}

std::vector<std::string> WorkloadSpec::secrets() const {
  std::vector<std::string> out;
  auto add = [&out](const std::string& s) {
    if (!s.empty()) out.push_back(s);
  };
  if (image_secret) add(image);
  for (const auto& e : env)
    if (e.secret) add(e.value);
  if (args_secret) {
    for (const auto& a : entrypoint.value_or(std::vector<std::string>{})) add(a);
    for (const auto& a : command.value_or(std::vector<std::string>{})) add(a);
  }
  if (registry) {
    add(registry->password);
    if (registry->username_secret) add(registry->username);
  }
  return out;
}

long long WorkloadSpec::disk_gb(long long fallback) const {
  if (disk_bytes) return static_cast<long long>((*disk_bytes + 999'999'999) / 1'000'000'000);
  if (disk_max_bytes)
    return std::max(1LL, std::min(fallback, static_cast<long long>(*disk_max_bytes /
                                                                    1'000'000'000)));
  return fallback;
}

WorkloadSpec resolve_workload(const LaunchTemplate& w) {
  WorkloadSpec s;
  s.image = w.image.value;
  s.image_secret = w.image.secret;
  if (w.entrypoint) {
    s.entrypoint.emplace();
    for (const auto& a : *w.entrypoint) {
      s.entrypoint->push_back(a.value);
      s.args_secret = s.args_secret || a.secret;
    }
  }
  if (w.command) {
    std::vector<std::string> cmd;
    for (const auto& a : w.command->argv) {
      cmd.push_back(a.value);
      s.args_secret = s.args_secret || a.secret;
    }
    if (w.command->shell) {
      std::string script = cmd.empty() ? "" : cmd.front();
      // A string command is a shell script. Run by an explicit entrypoint
      // (tini, dumb-init) as its command; without one, the image's own
      // ENTRYPOINT must not swallow the shell, so sh becomes the entrypoint.
      if (s.entrypoint) {
        s.command = std::vector<std::string>{"sh", "-c", script};
      } else {
        s.entrypoint = std::vector<std::string>{"sh"};
        s.command = std::vector<std::string>{"-c", script};
      }
    } else {
      s.command = std::move(cmd);
    }
  }
  for (const auto& [name, value] : w.env) s.env.push_back({name, value.value, value.secret});
  s.ports = w.ports;
  if (w.registry_auth)
    s.registry = RegistryLogin{image_registry(w.image.value), w.registry_auth->username.value,
                               w.registry_auth->password.value,
                               w.registry_auth->username.secret};
  s.volumes = w.volumes;
  s.shm_size = w.shm_size;
  s.ipc_host = w.ipc_host;
  s.disk_bytes = w.resources.disk.min;
  s.disk_max_bytes = w.resources.disk.max;
  s.min_cuda = w.resources.cuda.min;
  return s;
}

std::string image_registry(std::string_view image) {
  auto slash = image.find('/');
  if (slash == std::string_view::npos) return "docker.io";
  auto first = image.substr(0, slash);
  if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
      first == "localhost")
    return std::string(first);
  return "docker.io";
}

}  // namespace berth
