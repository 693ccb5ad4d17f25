// On the host: volume sources, registry credentials, pull, private env files
// and the container itself. Every command is an argv vector; secrets reach
// the host only through stdin, as 0600 files in the replica's private
// directory that the command using them removes. Round trips are what a
// deploy's time goes to: a pinned image already on the host starts in one
// remote command, directory and secrets included.
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "berth/common/cancel.h"
#include "deploy/deploy_internal.h"

namespace berth {

namespace deploy_detail {
namespace {

std::string last_line(const std::string& s) {
  auto text = s;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  auto nl = text.rfind('\n');  // the last line is where runtimes put the reason
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

std::string failure_text(const Expected<ProcessResult, std::string>& r) {
  if (!r) return r.error();
  if (r->cancelled) return "interrupted";
  if (r->timed_out) return "timed out";
  std::string why = last_line(r->err.empty() ? r->out : r->err);
  return why.empty() ? "exit code " + std::to_string(r->exit_code) : why;
}

bool succeeded(const Expected<ProcessResult, std::string>& r) { return r && r->ok(); }

// A local file or directory, as a tar stream, unpacked at `dest` on the host.
Expected<void, std::string> copy_source(Host& host, const std::filesystem::path& source,
                                        const std::string& dest) {
  std::error_code ec;
  if (!std::filesystem::exists(source, ec))
    return unexpected("volume source " + source.string() + " does not exist");
  bool dir = std::filesystem::is_directory(source, ec);
  // "--": a file named like an option ("--to-command=...") is a file.
  std::vector<std::string> tar = {"tar",
                                  "-C",
                                  dir ? source.string() : source.parent_path().string(),
                                  "-cf",
                                  "-",
                                  "--",
                                  dir ? "." : source.filename().string()};
  auto packed = system_process_runner().run(ProcessSpec{.argv = tar, .cancel = &cancel_flag()});
  if (!succeeded(packed)) return unexpected("cannot read " + source.string() + ": " + failure_text(packed));
  auto unpacked = host.run(HostCommand{
      .argv = {"sh", "-c", "rm -rf -- \"$1\" && mkdir -p -- \"$1\" && tar -C \"$1\" -xf -", "sh",
               dest},
      .stdin_data = packed->out});
  if (!succeeded(unpacked)) return unexpected("cannot copy " + source.string() + ": " + failure_text(unpacked));
  return {};
}

GpuAccess gpu_access(const Offer& offer) {
  if (offer.gpu.count <= 0) return GpuAccess::kNone;
  return offer.gpu.vendor == GpuVendor::kAmd ? GpuAccess::kAmd : GpuAccess::kNvidia;
}

// A digest, or a tag other than "latest", names one image for good.
bool image_is_pinned(const std::string& image) {
  if (image.find('@') != std::string::npos) return true;
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return false;
  return image.substr(colon + 1) != "latest";
}

}  // namespace

ContainerIdentity identity_for(const LaunchTemplate& workload, int replica) {
  ContainerIdentity id;
  id.deployment = workload.name;
  id.replica = replica;
  id.hash = workload.hash;
  id.instance = instance_name(workload.name, replica, workload.hash);
  return id;
}

Expected<std::string, std::string> host_work_dir(Host& host, const std::string& instance_name) {
  auto r = host.run(HostCommand{
      .argv = {"sh", "-c", "umask 077 && mkdir -p \"$HOME/.berth/$1\" && cd \"$HOME/.berth/$1\" && pwd",
               "sh", instance_name},
      .timeout = Duration{60'000}});
  if (!succeeded(r)) return unexpected("cannot prepare a directory on the host: " + failure_text(r));
  std::string dir = last_line(r->out);
  if (dir.empty() || dir[0] != '/') return unexpected("unexpected answer from the host: " + dir);
  return dir;
}

Expected<void, Failure> start_on_host(Run& run, int replica, const Instance& instance, Host& host,
                                      Created& created, const Offer& offer) {
  const auto& w = run.workload;
  const auto& rt = runtime_for(instance, run.ctx);
  auto identity = identity_for(w, replica);
  auto host_failure = [&](std::string message) {
    return unexpected(Failure{ExitCode::kProviderFailed, message + " on " + host.address(), ""});
  };
  auto workload_failure = [&](std::string message, std::string hint = "") {
    return unexpected(Failure{ExitCode::kWorkloadFailed, std::move(message), std::move(hint)});
  };

  // Bind mounts need the private directory's absolute path; nothing else
  // does, so without volumes no round trip is spent on it.
  std::vector<std::string> bind_sources;
  std::string dir;
  int index = 0;
  for (const auto& v : w.volumes) {
    if (v.kind != Volume::Kind::kBind) continue;
    if (run.cancelled()) return unexpected(interrupted_failure());
    if (dir.empty()) {
      auto d = host_work_dir(host, identity.instance);
      if (!d) return host_failure(d.error());
      dir = *d;
      created.private_dir = true;
    }
    std::filesystem::path src = v.source;
    if (src.is_relative()) src = w.source.parent_path() / src;
    std::string dest = dir + "/volume-" + std::to_string(index++);
    run.phase(replica, "copying " + v.source);
    if (auto c = copy_source(host, src, dest); !c) return host_failure(c.error());
    bind_sources.push_back(
        std::filesystem::is_directory(src) ? dest : dest + "/" + src.filename().string());
  }

  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& [k, v] : w.env) env.emplace_back(k, v.value);
  auto files = env_files(env);
  if (!files) return workload_failure("env: " + files.error());
  std::map<std::string, std::string> volume_dirs;
  for (const auto& v : created.volumes)
    if (!v.host_path.empty()) volume_dirs[v.name] = v.host_path;
  auto spec = container_spec(w, identity, gpu_access(offer), bind_sources, volume_dirs);
  if (!spec) return workload_failure(spec.error());
  spec->labels[kLabelHealth] = health_label(w.health);
  spec->labels[kLabelPorts] = ports_label(w.ports);
  if (std::string gpu = gpu_summary(offer.gpu); !gpu.empty()) spec->labels[kLabelGpu] = gpu;
  // The secrets travel as files in the start command's stdin, unpacked in
  // the private directory, where the start runs: paths are relative.
  const auto secret_files = attach_env(*spec, *files);
  spec->pull = "never";  // berth pulls, below, on its own terms
  // A container of this very instance left by an interrupted run on a host
  // that outlives instances would block the name.
  const bool stale = host_outlives_instance(run.ctx, instance);
  spec->replace = stale;
  auto argv = run_argv(rt, *spec);
  if (!argv) return workload_failure(argv.error());

  const std::string& image = w.image.value;
  // One remote command: directory, secret files, stale container, start.
  // With `check_image` it starts nothing when the image is absent: false.
  auto start = [&](bool check_image) -> Expected<bool, Failure> {
    if (run.cancelled()) return unexpected(interrupted_failure());
    PrivateDirCommand c;
    c.instance = identity.instance;
    c.files_on_stdin = !secret_files.empty();
    if (stale && rt.kind == ContainerRuntime::Kind::kDocker) c.remove_first = identity.instance;
    if (check_image) c.check_image = image;
    c.argv = *argv;
    created.private_dir = true;
    created.container_started = true;
    auto started = host.run(
        HostCommand{.argv = private_dir_argv(rt, c),
                    .stdin_data = c.files_on_stdin ? std::optional(private_files_tar(secret_files))
                                                   : std::nullopt,
                    .timeout = run.ctx.options.start_timeout});
    if (run.cancelled()) return unexpected(interrupted_failure());
    if (started && started->out.find(kPrivateDirFailed) != std::string::npos)
      return unexpected(Failure{
          ExitCode::kProviderFailed,
          "cannot prepare a directory on " + host.address() + ": " + failure_text(started), ""});
    if (started && started->ok() && started->out.find(kImageMissing) != std::string::npos)
      return false;
    if (!succeeded(started))
      return unexpected(Failure{ExitCode::kWorkloadFailed,
                                "the container did not start: " + failure_text(started), ""});
    return true;
  };

  // Like Kubernetes' IfNotPresent: a pinned reference (a tag other than
  // latest, or a digest) already on the host is not pulled again, and the
  // start finds that out itself; a mutable one always is pulled, so
  // `latest` never runs stale.
  if (image_is_pinned(image)) {
    run.phase(replica, "starting the container (" + image + " is pinned: pulled only if missing)");
    auto started = start(true);
    if (!started) return unexpected(started.error());
    if (*started) return {};
    run.phase(replica, image + " is not on " + host.address());
  }

  std::optional<std::string> auth_file;
  std::vector<std::pair<std::string, std::string>> auth;
  if (w.registry_auth) {
    auth_file = "config.json";  // docker reads <DOCKER_CONFIG>/config.json
    auth.emplace_back(*auth_file,
                      registry_auth_file(image_registry(image), w.registry_auth->username.value,
                                         w.registry_auth->password.value));
  }
  if (run.cancelled()) return unexpected(interrupted_failure());
  run.phase(replica, "pulling " + image);
  PrivateDirCommand pull;
  pull.instance = identity.instance;
  pull.files_on_stdin = !auth.empty();
  pull.argv = pull_argv(rt, image, auth_file);  // removes the auth file when done
  created.private_dir = true;
  auto pulled = host.run(HostCommand{
      .argv = private_dir_argv(rt, pull),
      .stdin_data = pull.files_on_stdin ? std::optional(private_files_tar(auth)) : std::nullopt,
      .timeout = run.ctx.options.pull_timeout});
  if (run.cancelled()) return unexpected(interrupted_failure());
  if (pulled && pulled->out.find(kPrivateDirFailed) != std::string::npos)
    return host_failure("cannot prepare a directory: " + failure_text(pulled));
  bool pull_failed = !succeeded(pulled);
  if (pull_failed)  // an image built on the host itself has no registry to come from
    run.phase(replica, "pull failed (" + failure_text(pulled) + "); trying the image present on " +
                           host.address());
  else
    run.phase(replica, "starting the container");
  auto started = start(pull_failed);
  if (!started) return unexpected(started.error());
  if (!*started)
    return workload_failure("cannot pull " + image + ": " + failure_text(pulled),
                            w.registry_auth ? "check registry_auth and the image name"
                                            : "check the image name; private images need "
                                              "registry_auth");
  return {};
}

void remove_container(const ContainerRuntime& rt, Host& host, const std::string& container) {
  run_best_effort(host, HostCommand{.argv = remove_replica_argv(rt, container),
                                    .timeout = Duration{120'000},
                                    .cancellable = false});
}

}  // namespace deploy_detail
}  // namespace berth
