// The adapter boundary (providers/README.md). An adapter translates between berth's Offer
// and Instance and one provider's API dialect; nothing else. Retries, failover,
// polling, SSH and rollback live in the core.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/common/expected.h"
#include "berth/common/units.h"
#include "berth/provider/instance.h"
#include "berth/provider/offer.h"
#include "berth/provider/provider_settings.h"
#include "berth/template/launch_template.h"
#include "berth/template/workload_spec.h"

namespace berth {

class HttpClient;
struct ProviderConfig;
class ProcessRunner;

struct ProviderError {
  enum class Kind {
    kAuth,            // credentials rejected: exit 4
    kNoCapacity,      // this offer cannot be had now: try the next one
    kQuota,           // account limit or balance: stop trying this provider
    kRateLimited,     // back off (retry_after when the API said)
    kTransient,       // 5xx, timeouts, connection failures
    kInvalidRequest,  // our request was wrong: a bug or bad template value
    kBadResponse,     // the API answered in a shape we do not understand
    kNotFound,        // the instance (or offer) does not exist
  };
  Kind kind = Kind::kTransient;
  std::string message;
  std::optional<std::chrono::milliseconds> retry_after;
  long http_status = 0;  // the answer's status, when an answer said so
  /// An instance the failed call made anyway (it bills): the core removes it.
  std::string created_instance;
};

std::string to_string(ProviderError::Kind k);  // "auth", "no-capacity", ...

/// How often a provider accepts launches (its documented rate limit): the
/// core spaces launches to one provider `min_interval` apart and, after the
/// provider refused one with 429, waits `penalty` before the next.
struct LaunchPacing {
  Duration min_interval{0};
  Duration penalty{0};
};

struct Capabilities {
  /// Where a workload runs, which decides how the core reaches it.
  enum class Runs {
    kVm,           // a VM berth starts the container on over SSH; it goes with the instance
    kHost,         // a machine berth starts containers on over SSH; it outlives them
    kThisMachine,  // this machine, its runtime called directly
    kPod,          // the instance is the container: image, env and ports go in the create call
  };
  Runs runs = Runs::kVm;
  bool in_pod() const { return runs == Runs::kPod; }
  /// The host stays when the instance goes: its container must be removed.
  bool host_outlives_instance() const { return runs == Runs::kHost || runs == Runs::kThisMachine; }
  /// Where a replica's container log is read: the runtime on the host berth
  /// started the container on (`logs --tail` over SSH, or here), or the
  /// provider's API (Provider::logs), where the instance is the container.
  enum class Logs { kRuntime, kApi };
  Logs logs = Logs::kRuntime;
  bool spot = false;
  bool labels = false;             // instances carry labels/tags besides the name
  /// The API keeps volumes apart from instances (list_volumes,
  /// create_volume, delete_volume): a template's provider volumes
  /// (volumes with size:) are made, found and attached through it.
  bool volumes = false;
  /// The workload features the provider can honour (workload_spec.h). A
  /// provider whose hosts berth starts containers on honours all of them.
  FeatureSet honours = kAllFeatures;
  /// The provider runs only what the launch tells it to start, not the
  /// image's ENTRYPOINT and CMD: the core reads those from the image's
  /// registry into WorkloadSpec::image_process before launching.
  bool starts_process = false;
  /// From launch until the instance runs, unless the template's
  /// placement.boot_timeout says otherwise.
  Duration boot_timeout{1'200'000};
  /// How long listing offers may take before the provider is reported late
  /// and left out (ProviderSet::list_offers), unless the config's
  /// offers_timeout says otherwise (docs/config.md).
  Duration offers_timeout{30'000};
  LaunchPacing pacing;
};

/// What reading a container log may hold: at most this many lines (RunPod's
/// documented maximum `tail`), each cut at kMaxLogLineBytes, from an answer
/// of at most kMaxLogAnswerBytes (its newest bytes, when it is larger).
inline constexpr int kMaxLogTail = 5000;
inline constexpr std::size_t kMaxLogLineBytes = 4096;
inline constexpr std::size_t kMaxLogAnswerBytes = 4u << 20;

/// What the template asks for, so adapters whose APIs filter server-side
/// (Vast.ai) can narrow the query. Adapters may ignore any of it: the core
/// filters every offer again.
struct OfferQuery {
  Range<int> gpu_count;
  std::optional<double> min_vram_gb;
  std::vector<std::string> models;  // canonical names from the template (gpu_catalog.h)
  std::optional<double> max_price;
  SpotPolicy spot = SpotPolicy::kNever;
  GpuVendor vendor = GpuVendor::kNvidia;
  std::optional<double> min_cuda;
  std::optional<double> min_reliability;  // placement.min_reliability
  std::optional<double> min_inet_mbps;    // placement.min_inet_mbps
};

/// A volume a provider keeps apart from any instance (a RunPod network
/// volume, a Lambda filesystem). berth's are named
/// berth-<deployment>-<volume name> (provider_volume_name).
struct ProviderVolume {
  std::string provider;  // the provider's name in berth's config
  std::string id;        // the provider's id for it
  std::string name;      // as the provider has it
  std::string region;    // where it is bound, as Offer::region spells it
  std::optional<double> size_gb;  // nullopt: it has no fixed size (Lambda)
  std::optional<bool> in_use;     // attached to an instance, where the API says
  /// Where it appears on a VM the provider starts (Lambda: its mount point);
  /// empty where the provider mounts it into the container itself.
  std::string host_path;
};

/// berth-<deployment>-<name>: how berth finds its provider volumes again.
std::string provider_volume_name(const std::string& deployment, const std::string& name);
/// Whether a provider's volume name is one of berth's ("berth-" first).
/// Deployment and volume names may both hold '-', so the name is shown
/// whole rather than split.
bool is_berth_volume(const std::string& provider_name);

/// A provider volume a launch attaches: the template's volume, the
/// provider's id for it, and where the container sees it.
struct AttachedVolume {
  std::string name;       // the template's volume name
  std::string id;         // ProviderVolume::id
  std::string path;       // in the container
  std::string host_path;  // ProviderVolume::host_path
};

/// Everything a launch needs. Container-native providers start `container`
/// in the create call; for the others the core starts it over SSH later.
struct LaunchRequest {
  std::string name;                           // berth-<deployment>-<replica>-<hash>
  std::map<std::string, std::string> labels;  // berth-deployment, berth-replica, berth-hash
  Offer offer;
  std::string ssh_public_key;                 // OpenSSH one-line format
  const WorkloadSpec* container = nullptr;    // resolved by the core; env holds secrets
  /// The template's provider volumes, made or found where `offer` is by the
  /// core before the launch, in template order.
  std::vector<AttachedVolume> volumes;
};

/// One request a launch would send (`up --dry-run`): built exactly as
/// launch() builds it, never sent.
struct PlannedRequest {
  std::string method;
  std::string url;
  nlohmann::json body;  // null for none
  std::string note;     // when it is sent only sometimes ("when the key is not registered yet")
};

class Provider {
 public:
  virtual ~Provider() = default;

  virtual const std::string& name() const = 0;  // the config name
  virtual std::string type() const = 0;         // "lambda", "runpod", ...
  virtual Capabilities capabilities() const = 0;

  virtual Expected<std::vector<Offer>, ProviderError> list_offers(const OfferQuery& query) = 0;
  /// Returns quickly with the new instance (usually still provisioning).
  virtual Expected<Instance, ProviderError> launch(const LaunchRequest& request) = 0;
  virtual Expected<Instance, ProviderError> get(const std::string& instance_id) = 0;
  /// berth's instances only (names starting "berth-"), including stopping ones.
  virtual Expected<std::vector<Instance>, ProviderError> list() = 0;
  /// Idempotent: an instance that is already gone is success.
  virtual Expected<void, ProviderError> terminate(const std::string& instance_id) = 0;
  /// One cheap authenticated call.
  virtual Expected<void, ProviderError> check_credentials() = 0;

  /// The last `tail` (1..kMaxLogTail) lines of the instance's container log,
  /// oldest first, as the API reports them: each without its line end and at
  /// most kMaxLogLineBytes (berth/deploy/log_text.h), not yet made terminal-safe.
  /// Only for Capabilities::Logs::kApi; the others answer invalid-request.
  virtual Expected<std::vector<std::string>, ProviderError> logs(const std::string& /*instance_id*/,
                                                                 int /*tail*/) {
    return unexpected(ProviderError{ProviderError::Kind::kInvalidRequest,
                                    "this provider's API returns no container log",
                                    std::nullopt, 0, ""});
  }

  /// The requests launch(request) would send, in order, without sending
  /// anything. Providers that launch nothing over an API (this machine, SSH
  /// hosts) have none.
  virtual Expected<std::vector<PlannedRequest>, ProviderError> plan_launch(
      const LaunchRequest& /*request*/) {
    return std::vector<PlannedRequest>{};
  }
  /// berth's provider volumes (names starting "berth-"), for
  /// Capabilities::volumes; the others have none.
  virtual Expected<std::vector<ProviderVolume>, ProviderError> list_volumes() {
    return std::vector<ProviderVolume>{};
  }
  /// Makes a volume named `name` of `size_gb` where `at` is (its data
  /// center or region), for Capabilities::volumes.
  virtual Expected<ProviderVolume, ProviderError> create_volume(const std::string& /*name*/,
                                                                double /*size_gb*/,
                                                                const Offer& /*at*/) {
    return unexpected(ProviderError{ProviderError::Kind::kInvalidRequest,
                                    "this provider's API keeps no volumes", std::nullopt, 0, ""});
  }
  /// Idempotent: a volume already gone is success. A volume in use is
  /// refused by the provider (kInvalidRequest with its message).
  virtual Expected<void, ProviderError> delete_volume(const std::string& /*id*/) {
    return unexpected(ProviderError{ProviderError::Kind::kInvalidRequest,
                                    "this provider's API keeps no volumes", std::nullopt, 0, ""});
  }
  /// Gives back what the provider keeps for a deployment besides its
  /// instances (RunPod's registry credentials) except what the template
  /// hashes in `keep` use. `down` calls it with none kept once every
  /// instance is gone; `up` with the new hash once old replicas are gone.
  virtual Expected<void, ProviderError> release(const std::string& /*deployment*/,
                                                const std::vector<std::string>& /*keep*/) {
    return {};
  }
};

/// What the core hands each adapter: shared services, never provider state.
struct ProviderContext {
  HttpClient* http = nullptr;
  ProcessRunner* processes = nullptr;
  std::string runtime = "docker";  // container runtime on hosts berth manages
  /// berth's state directory (known_hosts for adapters that reach hosts over
  /// SSH, the disk the local provider reports); empty = not known.
  std::filesystem::path state_dir;
  /// The private key adapters that SSH into hosts (type ssh) use: the
  /// config's ssh.key, or berth's own key. Empty = ssh's defaults.
  std::filesystem::path ssh_key;
};

using ProviderFactory = std::function<Expected<std::unique_ptr<Provider>, std::string>(
    const ProviderConfig& config, ProviderContext& context)>;

struct ProviderType {
  std::string type;                  // "lambda"
  std::vector<std::string> keys;     // config keys it accepts besides "type"
  std::string api_key_env;           // "LAMBDA_API_KEY" for the embedded default; "" if none
  ProviderFactory create;
  /// Checks and reads the type's own keys when the config is loaded, each
  /// error at its position; null = the keys are kept as written (settings).
  SettingsReader read_settings;
  /// The API endpoint when the config sets no base_url (the adapter's
  /// kDefaultBaseUrl); "" for types without an HTTP API (local, ssh).
  std::string default_base_url;
  /// Every raw region name the adapter knows from its provider's documents
  /// (Lambda's region codes, RunPod's data center ids); null: none.
  std::function<std::vector<std::string>()> known_regions;
};

/// The base URL a provider of this config talks to: its configured base_url,
/// else its type's default; "" for types without an HTTP API.
std::string effective_base_url(const ProviderConfig& config);

/// The registry, keyed by type; filled from providers/registry.cpp.
const std::vector<ProviderType>& provider_types();
const ProviderType* find_provider_type(const std::string& type);
/// Every raw region name an adapter knows from its provider's documents
/// (Lambda's region codes, RunPod's data center ids), for telling a region
/// word from a typo without asking any provider.
std::vector<std::string> known_provider_regions();
/// "LAMBDA_API_KEY, RUNPOD_API_KEY, VAST_API_KEY": the variables that enable
/// a provider in the embedded default, for hints.
std::string api_key_variables();

/// berth-<deployment>-<replica>-<hash>, and the reverse.
std::string instance_name(const std::string& deployment, int replica, const std::string& hash);
struct InstanceNameParts {
  std::string deployment;
  int replica = 0;
  std::string hash;
};
std::optional<InstanceNameParts> parse_instance_name(const std::string& name);

}  // namespace berth
