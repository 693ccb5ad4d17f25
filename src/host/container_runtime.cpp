#include "berth/host/container_runtime.h"

#include <unistd.h>

#include <array>
#include <charconv>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <sstream>

#include "berth/common/process.h"
#include "berth/common/shell_quote.h"

namespace berth {
namespace {

using Argv = std::vector<std::string>;

bool is_docker(const ContainerRuntime& rt) { return rt.kind == ContainerRuntime::Kind::kDocker; }

// The runtimes read --env-file line by line with Go's bufio.Scanner, which
// splits on \n, drops a trailing \r and gives up past 64 KiB: such values
// take the shell route instead.
bool fits_env_file(const std::string& value) {
  return value.find('\n') == std::string::npos && value.find('\r') == std::string::npos &&
         value.size() < 60'000;
}

bool is_shell_name(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// Variables that change how the shell or the runtime client itself behaves.
// A value for them exported into the client's environment would steer the
// client, not the container: which engine it talks to (DOCKER_HOST,
// CONTAINER_HOST, CONTAINER_CONNECTION), with what TLS trust (DOCKER_CERT_PATH,
// SSL_CERT_FILE), through which proxy, with which storage (STORAGE_DRIVER),
// or how podman re-executes itself (_CONTAINERS_USERNS_CONFIGURED).
bool steers_client(const std::string& name) {
  // clang-format off
  static const std::array<std::string_view, 22> exact = {
      "PATH", "HOME", "IFS", "ENV", "BASH_ENV", "SHELL", "TMPDIR", "PS4", "REGISTRY_AUTH_FILE",
      "STORAGE_DRIVER", "STORAGE_OPTS", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE",
      "OPENSSL_CONF", "GODEBUG", "GOTRACEBACK", "NOTIFY_SOCKET", "DBUS_SESSION_BUS_ADDRESS",
      "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"};
  static const std::array<std::string_view, 9> prefixes = {
      "LD_", "DOCKER_", "CONTAINERS_", "_CONTAINERS_", "CONTAINER_", "XDG_", "BUILDAH_", "PODMAN_",
      "GNUTLS_"};
  // Proxies, in the spellings Go's and libcurl's clients read (any case).
  static const std::array<std::string_view, 5> proxies = {
      "http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy"};
  // clang-format on
  for (auto e : exact)
    if (name == e) return true;
  for (auto p : prefixes)
    if (name.rfind(p, 0) == 0) return true;
  std::string lower = name;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto p : proxies)
    if (lower == p) return true;
  return false;
}

Expected<void, std::string> check_env_name(const std::string& name) {
  if (name.empty()) return unexpected(std::string("an environment variable has an empty name"));
  if (name[0] == '#') return unexpected("environment variable name '" + name + "' starts with '#'");
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (c == '=' || c == '*' || u <= ' ' || u == 0x7f)
      return unexpected("environment variable name '" + name +
                        "' contains '=', '*', whitespace or a control character");
  }
  return {};
}

// Sources the exports (if any), runs the runtime, and removes both secret
// files whatever happens, including when the run fails or is interrupted.
constexpr const char* kEnvWrapper =
    "e=$1; x=$2; shift 2\n"
    "cleanup() { if [ -n \"$e\" ]; then rm -f -- \"$e\"; fi; "
    "if [ -n \"$x\" ]; then rm -f -- \"$x\"; fi; }\n"
    "trap cleanup EXIT\n"
    "trap 'exit 130' INT TERM HUP\n"
    "if [ -n \"$x\" ]; then\n"
    "  case $x in */*) . \"$x\" ;; *) . \"./$x\" ;; esac\n"
    "fi\n"
    "\"$@\"\n";

// In the replica's private directory: make it, unpack the private files,
// remove a stale container, run the command. A failed command whose image
// is absent says so on stdout instead of failing: the caller pulls, then
// starts again.
constexpr const char* kPrivateDirScript =
    "umask 077\n"
    "d=$HOME/.berth/$1 f=$2 stale=$3 image=$4 rt=$5\n"
    "shift 5\n"
    "if ! { mkdir -p -- \"$d\" && cd -- \"$d\" && { [ \"$f\" != tar ] || tar -xof -; }; }; then\n"
    "  echo berth:private-dir-failed; exit 1\n"
    "fi\n"
    "if [ -n \"$stale\" ]; then \"$rt\" rm -f \"$stale\" >/dev/null 2>&1; fi\n"
    "\"$@\"; s=$?\n"
    "if [ \"$s\" -ne 0 ] && [ -n \"$image\" ] && ! \"$rt\" image inspect \"$image\" >/dev/null "
    "2>&1; then\n"
    "  echo berth:image-missing; exit 0\n"
    "fi\n"
    "exit \"$s\"\n";

// The container (quietly: it may not exist), then the private directory.
constexpr const char* kRemoveReplicaScript =
    "i=$1; shift; \"$@\" >/dev/null 2>&1; rm -rf -- \"$HOME/.berth/$i\"\n";

// Runs the command and then removes the auth file.
constexpr const char* kAuthWrapper =
    "f=$1; shift\n"
    "trap 'rm -f -- \"$f\"' EXIT\n"
    "trap 'exit 130' INT TERM HUP\n"
    "\"$@\"\n";

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base64(std::string_view in) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < in.size() ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Splits a stream of concatenated JSON values: docker prints one object per
// line, podman's {{json .}} pretty-prints each over many lines. A malformed
// stream yields a piece that fails to parse later.
std::vector<std::string_view> split_json_values(std::string_view text) {
  std::vector<std::string_view> values;
  std::size_t i = 0;
  while (true) {
    i = text.find_first_not_of(" \t\r\n", i);
    if (i == std::string_view::npos) break;
    std::size_t start = i;
    int depth = 0;
    bool in_string = false;
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (in_string) {
        if (c == '\\')
          ++i;
        else if (c == '"')
          in_string = false;
        continue;
      }
      if (c == '"')
        in_string = true;
      else if (c == '{' || c == '[')
        ++depth;
      else if (c == '}' || c == ']')
        --depth;
      if (depth <= 0 && (c == '}' || c == ']' || c == '\n')) break;
    }
    values.push_back(text.substr(start, std::min(i + 1, text.size()) - start));
    ++i;
  }
  return values;
}

std::map<std::string, std::string> labels_from_json(const nlohmann::json& j) {
  std::map<std::string, std::string> labels;
  if (j.is_object()) {
    for (const auto& [k, v] : j.items())
      if (v.is_string()) labels[k] = v.get<std::string>();
  } else if (j.is_string()) {
    // docker ps: "k=v,k2=v2"
    std::stringstream ss(j.get<std::string>());
    std::string item;
    while (std::getline(ss, item, ',')) {
      auto eq = item.find('=');
      if (eq != std::string::npos) labels[item.substr(0, eq)] = item.substr(eq + 1);
    }
  }
  return labels;
}

std::string string_field(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = j.find(k);
    if (it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

}  // namespace

Expected<ContainerRuntime, std::string> container_runtime(std::string_view name) {
  if (name == "docker") return ContainerRuntime{ContainerRuntime::Kind::kDocker, "docker"};
  if (name == "podman") return ContainerRuntime{ContainerRuntime::Kind::kPodman, "podman"};
  return unexpected("unknown container runtime '" + std::string(name) +
                    "' (expected docker or podman)");
}

std::map<std::string, std::string> ContainerIdentity::labels() const {
  return {{kLabelDeployment, deployment},
          {kLabelReplica, std::to_string(replica)},
          {kLabelHash, hash},
          {kLabelInstance, instance}};
}

namespace {

// A port number written by ports_label or health_label: digits only, 1-65535.
std::optional<int> port_number(std::string_view text) {
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || text[0] == '+' ||
      port < 1 || port > 65535)
    return std::nullopt;
  return port;
}

}  // namespace

std::string health_label(const HealthCheck& check) {
  switch (check.kind) {
    case HealthCheck::Kind::kHttp: return "http:" + std::to_string(check.port) + ":" + check.path;
    case HealthCheck::Kind::kTcp: return "tcp:" + std::to_string(check.port);
    case HealthCheck::Kind::kExec: return "exec";
    case HealthCheck::Kind::kNone: break;
  }
  return "none";
}

std::optional<HealthCheck> parse_health_label(std::string_view label, Duration timeout) {
  HealthCheck check;
  check.timeout = timeout;
  if (label == "none") return check;
  if (label == "exec") {
    check.kind = HealthCheck::Kind::kExec;
    return check;
  }
  const auto colon = label.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view kind = label.substr(0, colon), rest = label.substr(colon + 1);
  if (kind == "tcp") {
    auto port = port_number(rest);
    if (!port) return std::nullopt;
    check.kind = HealthCheck::Kind::kTcp;
    check.port = *port;
    return check;
  }
  if (kind != "http") return std::nullopt;
  const auto path_at = rest.find(':');
  if (path_at == std::string_view::npos) return std::nullopt;
  auto port = port_number(rest.substr(0, path_at));
  const std::string_view path = rest.substr(path_at + 1);
  if (!port || path.empty() || path[0] != '/') return std::nullopt;
  check.kind = HealthCheck::Kind::kHttp;
  check.port = *port;
  check.path = std::string(path);
  return check;
}

std::string ports_label(const std::vector<PortMapping>& ports) {
  std::string out;
  for (const auto& p : ports)
    out += (out.empty() ? "" : ",") + std::to_string(p.host.value_or(p.container)) + ":" +
           std::to_string(p.container);
  return out;
}

std::optional<std::map<int, int>> parse_ports_label(std::string_view label) {
  std::map<int, int> published;
  while (!label.empty()) {
    const auto comma = label.find(',');
    const std::string_view item = label.substr(0, comma);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto host = port_number(item.substr(0, colon));
    auto container = port_number(item.substr(colon + 1));
    if (!host || !container) return std::nullopt;
    published[*container] = *host;
    if (comma == std::string_view::npos) break;
    label.remove_prefix(comma + 1);
    if (label.empty()) return std::nullopt;  // a trailing comma
  }
  return published;
}

std::string volume_name(const std::string& deployment, const std::string& name) {
  return "berth-" + deployment + "-" + name;
}

Expected<EnvFiles, std::string> env_files(
    const std::vector<std::pair<std::string, std::string>>& env) {
  EnvFiles files;
  for (const auto& [name, value] : env) {
    if (auto ok = check_env_name(name); !ok) return unexpected(ok.error());
    if (value.find('\0') != std::string::npos)
      return unexpected("the value of " + name +
                        " contains a NUL byte, which no environment can carry");
    if (fits_env_file(value)) {
      files.env_file += name + "=" + value + "\n";
      files.env_file_names.push_back(name);
      continue;
    }
    if (!is_shell_name(name))
      return unexpected("the value of " + name +
                        " spans several lines, which needs a name of letters, digits and '_'");
    if (steers_client(name))
      return unexpected("the value of " + name +
                        " spans several lines, which berth cannot pass for this variable");
    files.shell_exports += "export " + name + "=" + shell_quote(value) + "\n";
    files.passthrough_names.push_back(name);
  }
  return files;
}

std::vector<std::pair<std::string, std::string>> attach_env(ContainerSpec& spec,
                                                            const EnvFiles& files) {
  std::vector<std::pair<std::string, std::string>> out;
  spec.env_file_path = files.env_file_names.empty() ? "" : "env";
  spec.shell_exports_path = files.passthrough_names.empty() ? "" : "env.sh";
  spec.passthrough_names = files.passthrough_names;
  if (!spec.env_file_path.empty()) out.emplace_back(spec.env_file_path, files.env_file);
  if (!spec.shell_exports_path.empty()) out.emplace_back(spec.shell_exports_path, files.shell_exports);
  return out;
}

Expected<ContainerSpec, std::string> container_spec(
    const LaunchTemplate& workload, const ContainerIdentity& identity, GpuAccess gpus,
    const std::vector<std::string>& bind_sources,
    const std::map<std::string, std::string>& volume_dirs) {
  ContainerSpec spec;
  spec.name = identity.instance;
  spec.image = workload.image.value;
  if (spec.image.empty() || spec.image[0] == '-')
    return unexpected("image '" + spec.image + "' is not an image reference");
  spec.labels = identity.labels();
  spec.ports = workload.ports;
  spec.gpus = gpus;
  spec.shm_bytes = workload.shm_size;
  spec.ipc_host = workload.ipc_host;

  std::size_t next_bind = 0;
  for (const auto& v : workload.volumes) {
    if (v.kind == Volume::Kind::kNamed) {
      auto dir = volume_dirs.find(v.name);
      spec.mounts.push_back({dir != volume_dirs.end() ? dir->second
                                                      : volume_name(identity.deployment, v.name),
                             v.path, v.readonly});
    } else {
      if (next_bind >= bind_sources.size())
        return unexpected("volume source " + v.source + " has not been copied to the host");
      spec.mounts.push_back({bind_sources[next_bind++], v.path, v.readonly});
    }
  }

  // A ${VAR} value would sit in the host's process list for anyone to read.
  auto plain = [](const TemplateString& s, const char* what) -> Expected<std::string, std::string> {
    if (s.secret)
      return unexpected(std::string(what) +
                        " uses a ${VAR} value, which would be visible in the host's process "
                        "list; pass it through env instead");
    return s.value;
  };
  std::vector<std::string> entry_rest;
  if (workload.entrypoint) {
    spec.entrypoint.emplace();
    for (const auto& e : *workload.entrypoint) {
      auto v = plain(e, "entrypoint");
      if (!v) return unexpected(v.error());
      spec.entrypoint->push_back(*v);
    }
  }
  if (workload.command) {
    std::vector<std::string> cmd;
    for (const auto& c : workload.command->argv) {
      auto v = plain(c, "command");
      if (!v) return unexpected(v.error());
      cmd.push_back(*v);
    }
    if (workload.command->shell) {
      std::string script = cmd.empty() ? "" : cmd.front();
      if (spec.entrypoint) {
        // An explicit entrypoint (tini, dumb-init) gets the shell as its command.
        spec.args = {"sh", "-c", script};
      } else {
        // Without one, the image's ENTRYPOINT must not swallow the shell.
        spec.entrypoint = std::vector<std::string>{"sh"};
        spec.args = {"-c", script};
      }
    } else {
      spec.args = cmd;
    }
  }
  return spec;
}

std::string private_files_tar(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out;
  const long long now = static_cast<long long>(std::time(nullptr));
  for (const auto& [name, content] : files) {
    std::array<char, 512> h{};
    auto field = [&h](std::size_t at, std::size_t width, const std::string& value) {
      std::copy_n(value.data(), std::min(value.size(), width), h.begin() + at);
    };
    // Numbers are zero-padded octal ending in NUL, as ustar wants them.
    auto octal = [&field](std::size_t at, std::size_t width, long long value) {
      std::ostringstream o;
      o << std::oct << value;
      std::string digits = o.str();
      field(at, width - 1,
            std::string(width - 1 - std::min(digits.size(), width - 1), '0') + digits);
    };
    field(0, 99, name);
    octal(100, 8, 0600);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, static_cast<long long>(content.size()));
    octal(136, 12, now);
    h[156] = '0';  // a regular file
    field(257, 6, std::string("ustar\0", 6));
    field(263, 2, "00");
    std::fill_n(h.begin() + 148, 8, ' ');  // the checksum counts its own field as spaces
    unsigned sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    std::fill_n(h.begin() + 148, 8, '\0');
    octal(148, 7, sum);  // six digits, NUL, space
    h[155] = ' ';
    out.append(h.data(), h.size());
    out += content;
    out.append((512 - content.size() % 512) % 512, '\0');
  }
  out.append(1024, '\0');  // two empty blocks end the archive
  return out;
}

std::vector<std::string> private_dir_argv(const ContainerRuntime& rt, const PrivateDirCommand& c) {
  Argv argv = {"sh",           "-c",          kPrivateDirScript,
               "sh",           c.instance,    c.files_on_stdin ? "tar" : "-",
               c.remove_first, c.check_image, rt.program};
  argv.insert(argv.end(), c.argv.begin(), c.argv.end());
  return argv;
}

std::vector<std::string> remove_replica_argv(const ContainerRuntime& rt,
                                             const std::string& instance) {
  Argv argv = {"sh", "-c", kRemoveReplicaScript, "sh", instance};
  auto rm = remove_argv(rt, {instance});
  argv.insert(argv.end(), rm.begin(), rm.end());
  return argv;
}

Expected<std::vector<std::string>, std::string> run_argv(const ContainerRuntime& rt,
                                                         const ContainerSpec& spec) {
  if (spec.name.empty()) return unexpected(std::string("container has no name"));
  if (spec.image.empty() || spec.image[0] == '-')
    return unexpected("image '" + spec.image + "' is not an image reference");
  if (!spec.passthrough_names.empty() && spec.shell_exports_path.empty())
    return unexpected(std::string("multi-line environment values need their exports file"));
  Argv run = {rt.program, "run", "-d", "--name", spec.name};
  for (const auto& [k, v] : spec.labels) {
    run.push_back("--label");
    run.push_back(k + "=" + v);
  }
  if (!spec.env_file_path.empty()) {
    run.push_back("--env-file");
    run.push_back(spec.env_file_path);
  }
  for (const auto& name : spec.passthrough_names) {
    run.push_back("-e");
    run.push_back(name);  // the value comes from the client's environment
  }
  for (const auto& p : spec.ports) {
    run.push_back("-p");
    run.push_back(std::to_string(p.host.value_or(p.container)) + ":" + std::to_string(p.container) +
                  "/" + p.protocol);
  }
  for (const auto& m : spec.mounts) {
    if (m.source.empty() || m.target.empty() || m.source.find(':') != std::string::npos ||
        m.target.find(':') != std::string::npos)
      return unexpected("volume " + m.source + " -> " + m.target +
                        " cannot be expressed as a mount (empty, or containing ':')");
    run.push_back("-v");
    run.push_back(m.source + ":" + m.target + (m.readonly ? ":ro" : ""));
  }
  // Both runtimes take a byte count with the unit "b".
  if (spec.shm_bytes) {
    run.push_back("--shm-size");
    run.push_back(std::to_string(*spec.shm_bytes) + "b");
  }
  if (spec.ipc_host) {
    run.push_back("--ipc");
    run.push_back("host");
  }
  switch (spec.gpus) {
    case GpuAccess::kNone:
      break;
    case GpuAccess::kNvidia:
      if (is_docker(rt)) {
        run.insert(run.end(), {"--gpus", "all"});
      } else {
        run.insert(run.end(), {"--device", "nvidia.com/gpu=all"});
      }
      break;
    case GpuAccess::kAmd:
      run.insert(run.end(), {"--device", "/dev/kfd", "--device", "/dev/dri"});
      break;
  }
  if (!spec.restart.empty()) run.insert(run.end(), {"--restart", spec.restart});
  if (!spec.pull.empty()) run.push_back("--pull=" + spec.pull);
  if (spec.replace && !is_docker(rt)) run.push_back("--replace");
  std::vector<std::string> args = spec.args;
  if (spec.entrypoint) {
    // --entrypoint takes one word; the rest of a list entrypoint goes first in
    // the arguments, which is what a list entrypoint means.
    run.push_back("--entrypoint");
    run.push_back(spec.entrypoint->empty() ? "" : spec.entrypoint->front());
    if (spec.entrypoint->size() > 1)
      args.insert(args.begin(), spec.entrypoint->begin() + 1, spec.entrypoint->end());
  }
  run.push_back(spec.image);
  run.insert(run.end(), args.begin(), args.end());

  if (spec.env_file_path.empty() && spec.shell_exports_path.empty()) return run;
  Argv wrapped = {"sh", "-c", kEnvWrapper, "sh", spec.env_file_path, spec.shell_exports_path};
  wrapped.insert(wrapped.end(), run.begin(), run.end());
  return wrapped;
}

std::string registry_auth_file(const std::string& registry, const std::string& username,
                               const std::string& password) {
  nlohmann::json auth = {{"auth", base64(username + ":" + password)}};
  nlohmann::json auths = nlohmann::json::object();
  auths[registry] = auth;
  // Docker keys Docker Hub by its historical index URL.
  if (registry == "docker.io") auths["https://index.docker.io/v1/"] = auth;
  return nlohmann::json{{"auths", auths}}.dump() + "\n";
}

std::vector<std::string> pull_argv(const ContainerRuntime& rt, const std::string& image,
                                   const std::optional<std::string>& auth_file) {
  if (!auth_file) return {rt.program, "pull", image};
  Argv pull;
  if (is_docker(rt)) {
    // docker reads <DOCKER_CONFIG>/config.json; a podman-docker shim reads
    // REGISTRY_AUTH_FILE. The file is named config.json for the former.
    pull = {"env",
            "DOCKER_CONFIG=" + parent_dir(*auth_file),
            "REGISTRY_AUTH_FILE=" + *auth_file,
            rt.program,
            "pull",
            image};
  } else {
    pull = {rt.program, "pull", "--authfile", *auth_file, image};
  }
  Argv wrapped = {"sh", "-c", kAuthWrapper, "sh", *auth_file};
  wrapped.insert(wrapped.end(), pull.begin(), pull.end());
  return wrapped;
}

std::vector<std::string> ps_argv(const ContainerRuntime& rt,
                                 const std::map<std::string, std::string>& labels) {
  Argv argv = {rt.program, "ps", "-a", "--no-trunc"};
  for (const auto& [k, v] : labels) {
    argv.push_back("--filter");
    argv.push_back(v.empty() ? "label=" + k : "label=" + k + "=" + v);
  }
  argv.push_back("--format");
  // Older docker clients print "json" literally for --format json.
  argv.push_back(is_docker(rt) ? "{{json .}}" : "json");
  return argv;
}

std::vector<std::string> logs_argv(const ContainerRuntime& rt, const std::string& container,
                                   bool follow, std::optional<int> tail) {
  Argv argv = {rt.program, "logs"};
  if (tail) {
    argv.push_back("--tail");
    argv.push_back(std::to_string(*tail));
  }
  if (follow) argv.push_back("-f");
  argv.push_back(container);
  return argv;
}

std::vector<std::string> exec_argv(const ContainerRuntime& rt, const std::string& container,
                                   const std::vector<std::string>& command, bool interactive,
                                   bool tty) {
  Argv argv = {rt.program, "exec"};
  if (interactive) argv.push_back("-i");
  if (tty) argv.push_back("-t");
  argv.push_back(container);
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

std::vector<std::string> remove_argv(const ContainerRuntime& rt,
                                     const std::vector<std::string>& containers) {
  Argv argv = {rt.program, "rm", "-f"};
  // docker rm -f kills at once; podman would wait 10 s for a graceful stop.
  if (!is_docker(rt)) argv.insert(argv.end(), {"--time", "0"});
  argv.insert(argv.end(), containers.begin(), containers.end());
  return argv;
}

std::vector<std::string> inspect_argv(const ContainerRuntime& rt, const std::string& container) {
  return {rt.program, "inspect", "--type", "container", container};
}

Expected<std::vector<ContainerSummary>, std::string> parse_ps(std::string_view output) {
  std::vector<nlohmann::json> items;
  try {
    for (auto text : split_json_values(output)) {
      auto value = nlohmann::json::parse(text);
      if (value.is_array()) {
        for (auto& e : value) items.push_back(e);
      } else {
        items.push_back(std::move(value));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return unexpected(std::string("unexpected container list from the runtime: ") + e.what());
  }
  std::vector<ContainerSummary> out;
  for (const auto& j : items) {
    if (!j.is_object()) return unexpected(std::string("unexpected container list entry"));
    ContainerSummary c;
    c.id = string_field(j, {"ID", "Id", "id"});
    auto names = j.find("Names");
    if (names != j.end() && names->is_array() && !names->empty() && (*names)[0].is_string())
      c.name = (*names)[0].get<std::string>();
    else if (names != j.end() && names->is_string())
      c.name = names->get<std::string>();
    c.image = string_field(j, {"Image"});
    c.state = string_field(j, {"State"});
    c.status = string_field(j, {"Status"});
    if (auto l = j.find("Labels"); l != j.end()) c.labels = labels_from_json(*l);
    if (c.id.empty() && c.name.empty())
      return unexpected(std::string("container list entry without id or name"));
    out.push_back(std::move(c));
  }
  return out;
}

Expected<ContainerState, std::string> parse_inspect(std::string_view output) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(output);
  } catch (const nlohmann::json::exception& e) {
    return unexpected(std::string("unexpected inspect output from the runtime: ") + e.what());
  }
  if (j.is_array()) {
    if (j.empty()) return unexpected(std::string("no such container"));
    j = j[0];
  }
  if (!j.is_object() || !j.contains("State") || !j["State"].is_object())
    return unexpected(std::string("inspect output without a State"));
  const auto& st = j["State"];
  ContainerState s;
  s.id = string_field(j, {"Id", "ID"});
  s.name = string_field(j, {"Name"});
  if (!s.name.empty() && s.name[0] == '/') s.name.erase(0, 1);  // docker's "/name"
  s.status = string_field(st, {"Status"});
  s.running = st.value("Running", false);
  s.exit_code = st.value("ExitCode", 0);
  s.started_at = string_field(st, {"StartedAt"});
  s.restart_count = j.value("RestartCount", 0);
  for (const char* key : {"Health", "Healthcheck"}) {
    auto h = st.find(key);
    if (h != st.end() && h->is_object()) {
      auto status = string_field(*h, {"Status"});
      if (!status.empty()) s.health = status;
      break;
    }
  }
  if (j.contains("Config") && j["Config"].is_object() && j["Config"].contains("Labels"))
    s.labels = labels_from_json(j["Config"]["Labels"]);
  return s;
}

std::string runtime_for_this_machine(const std::string& configured) {
  auto usable = [](const std::string& program) {
    if (!find_program(program)) return false;
    if (program != "docker") return true;
    const char* host = std::getenv("DOCKER_HOST");
    return (host && *host) || access("/var/run/docker.sock", F_OK) == 0;
  };
  if (usable(configured)) return configured;
  if (configured != "podman" && find_program("podman")) return "podman";
  return configured;
}

}  // namespace berth
