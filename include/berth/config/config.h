// berth's configuration (docs/config.md): which providers to ask, with what
// credentials (by reference only), and how to reach hosts.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/common/environment.h"
#include "berth/common/expected.h"
#include "berth/input/diagnostics.h"
#include "berth/provider/provider.h"

namespace berth {

struct SshHostConfig {
  std::string address;
  std::string user = "root";
  int port = 22;
  std::optional<std::string> gpu_model;  // absent = discover over SSH
  std::optional<int> gpu_count;
  double price_per_hour = 0;
  std::string region = "local";
};

struct ProviderConfig {
  std::string name;  // the key under providers:
  std::string type;
  std::string api_key;   // expanded; secret
  std::string base_url;  // empty = the adapter's default
  std::vector<SshHostConfig> hosts;  // type ssh, read by its adapter (providers/ssh)
  /// The type's own keys as its ProviderType::read_settings stored them
  /// (already checked), or as written for a type without one.
  nlohmann::json settings;
  /// offers_timeout: the deadline for listing its offers; absent = the
  /// adapter's default (Capabilities::offers_timeout).
  std::optional<Duration> offers_timeout;
};

/// A provider the config describes but whose credential is missing: its
/// api_key's variable is unset, empty or blank, or its api_key_file does
/// not exist or is empty. It is left out of `providers`; every other
/// provider works (docs/config.md, "A missing credential").
struct DisabledProvider {
  std::string name;
  std::string type;
  std::string reason;    // "RUNPOD_API_KEY is not set", "api_key_file '/k' does not exist"
  std::string variable;  // RUNPOD_API_KEY; empty when a file is missing
  std::string where;     // "config.yaml:3:5", where the credential is written
  std::string base_url;  // as configured; empty = the type's default
};

/// How many offers one provider's listing may hold: its `limit` setting
/// (docs/config.md), read for every type by the core when the config is
/// loaded. Adapters stop reading an answer there, and ProviderSet cuts what
/// an adapter returns beyond it.
inline constexpr int kDefaultOfferLimit = 2000;
inline constexpr int kMaxOfferLimit = 100'000;
/// The provider's `limit`, else kDefaultOfferLimit.
std::size_t offer_limit(const ProviderConfig& config);

struct Config {
  std::vector<ProviderConfig> providers;
  std::vector<DisabledProvider> disabled;  // in file order
  std::optional<std::filesystem::path> ssh_key;  // absent = berth's own key
  std::string runtime = "docker";                // docker | podman
  std::string source;                            // file path, or "(embedded default)"
  std::vector<std::string> secrets() const;      // every credential value, for redaction
  /// Credentials other than api_key (values read by `*_file:` keys, or of
  /// keys named like tokens and passwords); secrets() includes them.
  std::vector<std::string> other_secrets;
};

/// --config FILE, else $BERTH_CONFIG, else $XDG_CONFIG_HOME/berth/config.yaml
/// (~/.config/berth/config.yaml), else the embedded default: `local` plus each
/// cloud whose API-key variable is set.
/// `types` is the registry of provider types, a parameter so tests can hand
/// in their own. Every error of the file is reported, each at file:line:col;
/// a file that is not a regular file of at most 1 MiB is refused unread.
Expected<Config, Diagnostics> load_config(const std::optional<std::filesystem::path>& explicit_path,
                                          const Environment& env,
                                          const std::vector<ProviderType>& types = provider_types());
/// `name` is the path used in diagnostics; relative `*_file:` paths are
/// resolved against its directory.
Expected<Config, Diagnostics> parse_config(const std::string& text, const std::string& name,
                                           const Environment& env,
                                           const std::vector<ProviderType>& types = provider_types());
/// The configuration used when no file exists: `local` (when registered)
/// plus every type whose api_key_env variable is set, named after its type.
Config default_config(const Environment& env,
                      const std::vector<ProviderType>& types = provider_types());

/// berth's own state directory for caches (generated key, known_hosts):
/// $XDG_STATE_HOME/berth or ~/.local/state/berth.
std::filesystem::path state_dir(const Environment& env);

/// "provider 'runpod' is disabled: RUNPOD_API_KEY is not set": how every
/// command names a disabled provider.
std::string describe(const DisabledProvider& d);
/// Creates the state directory, and any missing parent, with mode 0700, and
/// tightens one of ours that exists already: it holds the SSH key, pinned
/// host keys and SSH control sockets. Everything that puts files there
/// calls it first, whether or not berth's own key is used.
Expected<void, std::string> make_state_dir(const std::filesystem::path& dir);

}  // namespace berth
