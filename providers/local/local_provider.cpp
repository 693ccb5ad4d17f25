#include "providers/local/local_provider.h"

#include <sched.h>
#include <sys/statvfs.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include "providers/local/container_instances.h"
#include "providers/local/nvidia_smi.h"

namespace berth {
namespace {

constexpr Duration kProbeTimeout{15'000};
constexpr Duration kRuntimeTimeout{60'000};

ProviderError error(ProviderError::Kind kind, std::string message) {
  return ProviderError{kind, std::move(message), std::nullopt};
}

int cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::optional<double> mem_total_gb(const std::filesystem::path& meminfo) {
  std::ifstream in(meminfo);
  std::string key;
  while (in >> key) {
    if (key == "MemTotal:") {
      double kib = 0;
      if (in >> kib) return kib * 1024 / 1e9;
      return std::nullopt;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

// The state directory may not exist yet: its nearest existing ancestor is on
// the same filesystem.
std::optional<double> free_disk_gb(std::filesystem::path path) {
  if (path.empty()) path = "/";
  std::error_code ec;
  while (!std::filesystem::exists(path, ec) && path.has_parent_path() && path != path.parent_path())
    path = path.parent_path();
  struct statvfs st {};
  if (statvfs(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize) / 1e9;
}

std::string first_line(const std::string& text) {
  auto end = text.find('\n');
  std::string line = text.substr(0, end);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

}  // namespace

LocalProvider::LocalProvider(std::string name, ContainerRuntime runtime, ProcessRunner& processes,
                             LocalMachine machine)
    : ProviderAdapter(std::move(name), "local",
                      [] {
                        Capabilities c = kContainerHostCapabilities;
                        c.runs = Capabilities::Runs::kThisMachine;
                        return c;
                      }()),
      runtime_(std::move(runtime)),
      processes_(processes),
      machine_(std::move(machine)) {}

HostIdentity LocalProvider::identity() const {
  HostIdentity h;
  h.provider = name_;
  h.region = "local";
  h.host = "127.0.0.1";
  h.ssh_port = 0;
  h.offer_id = "local";
  return h;
}

Expected<std::vector<Offer>, ProviderError> LocalProvider::list_offers(const OfferQuery&) {
  Offer o;
  o.provider = name_;
  o.id = "local";
  o.region = "local";  // location unknown
  // Containers here run on this machine's own architecture: berth's own.
#if defined(__x86_64__)
  o.arch = CpuArch::kX86_64;
#elif defined(__aarch64__)
  o.arch = CpuArch::kArm64;
#endif
  o.vcpus = machine_.cpus ? *machine_.cpus : cpu_count();
  o.memory_gb = mem_total_gb(machine_.meminfo);
  o.disk_gb = free_disk_gb(machine_.disk);
  o.price_per_hour = 0;
  o.available = 1;
  // No nvidia-smi (it cannot be started) or no usable driver: a CPU-only
  // machine, which is what a CPU-only template needs and a GPU one rejects.
  auto smi = processes_.run({.argv = nvidia_smi_query_argv(), .timeout = kProbeTimeout});
  if (smi && smi->ok()) {
    auto gpu = parse_nvidia_smi_gpus(smi->out);
    if (!gpu) return unexpected(error(ProviderError::Kind::kBadResponse, gpu.error()));
    o.gpu = *gpu;
    if (o.gpu.count > 0) {
      auto header = processes_.run({.argv = {"nvidia-smi"}, .timeout = kProbeTimeout});
      if (header && header->ok()) o.cuda = parse_nvidia_smi_cuda(header->out);
    }
  }
  return std::vector<Offer>{std::move(o)};
}

Expected<ProcessResult, ProviderError> LocalProvider::run_runtime(
    const std::vector<std::string>& argv) {
  auto r = processes_.run({.argv = argv, .timeout = kRuntimeTimeout});
  if (!r)
    return unexpected(error(ProviderError::Kind::kInvalidRequest,
                            "cannot run the container runtime '" + runtime_.program +
                                "': " + r.error() + " (set runtime: docker|podman in the config)"));
  if (r->timed_out)
    return unexpected(error(ProviderError::Kind::kTransient,
                            "'" + runtime_.program + " " + argv.at(1) + "' timed out"));
  if (!r->ok())
    return unexpected(error(ProviderError::Kind::kTransient,
                            "'" + runtime_.program + " " + argv.at(1) + "' failed (exit " +
                                std::to_string(r->exit_code) + "): " + first_line(r->err)));
  return std::move(*r);
}

Expected<std::vector<ContainerSummary>, ProviderError> LocalProvider::containers(
    const std::map<std::string, std::string>& filter) {
  auto r = run_runtime(ps_argv(runtime_, filter));
  if (!r) return unexpected(r.error());
  auto parsed = parse_ps(r->out);
  if (!parsed)
    return unexpected(error(ProviderError::Kind::kBadResponse,
                            "unreadable '" + runtime_.program + " ps' output: " + parsed.error()));
  return std::move(*parsed);
}

Expected<Instance, ProviderError> LocalProvider::launch(const LaunchRequest& request) {
  Instance i;
  i.provider = name_;
  i.id = request.name;
  i.name = request.name;
  i.region = "local";
  i.state = InstanceState::kRunning;
  i.raw_state = "this machine";
  i.host = "127.0.0.1";
  i.ssh_port = 0;  // no SSH: deploy runs the runtime directly
  i.ssh_user.clear();
  i.price_per_hour = 0;
  i.offer_id = request.offer.id;
  i.labels = request.labels;
  return i;
}

Expected<Instance, ProviderError> LocalProvider::get(const std::string& instance_id) {
  auto found = containers(instance_container_filter(instance_id));
  if (!found) return unexpected(found.error());
  auto instances = instances_from_containers(*found, identity());
  for (auto& i : instances)
    if (i.id == instance_id) return std::move(i);
  return unexpected(
      error(ProviderError::Kind::kNotFound, "no container of " + instance_id + " on this machine"));
}

Expected<std::vector<Instance>, ProviderError> LocalProvider::list() {
  auto found = containers(berth_container_filter());
  if (!found) return unexpected(found.error());
  return instances_from_containers(*found, identity());
}

Expected<void, ProviderError> LocalProvider::terminate(const std::string& instance_id) {
  auto found = containers(instance_container_filter(instance_id));
  if (!found) return unexpected(found.error());
  std::vector<std::string> ids;
  for (const auto& c : *found) ids.push_back(c.id.empty() ? c.name : c.id);
  if (ids.empty()) return {};  // already gone
  auto r = run_runtime(remove_argv(runtime_, ids));
  if (!r) return unexpected(r.error());
  return {};
}

Expected<void, ProviderError> LocalProvider::check_credentials() {
  auto r = containers(berth_container_filter());
  if (!r) return unexpected(r.error());
  return {};
}

ProviderType local_provider_type() {
  return ProviderType{
      "local",
      {},
      "",
      [](const ProviderConfig& config,
         ProviderContext& context) -> Expected<std::unique_ptr<Provider>, std::string> {
        auto runtime = container_runtime(runtime_for_this_machine(context.runtime));
        if (!runtime) return unexpected(runtime.error());
        ProcessRunner& processes = context.processes ? *context.processes : system_process_runner();
        LocalMachine machine;
        machine.disk = context.state_dir;
        return std::unique_ptr<Provider>(
            new LocalProvider(config.name, *runtime, processes, std::move(machine)));
      }};
}

}  // namespace berth
