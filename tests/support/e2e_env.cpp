#include "support/e2e_env.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;

TestHost host_from_json(const nlohmann::json& j) {
  TestHost h;
  h.name = j.at("name").get<std::string>();
  h.address = j.at("address").get<std::string>();
  h.port = j.value("port", 22);
  h.user = j.value("user", "root");
  if (j.contains("vm_port") && j["vm_port"].is_number_integer()) h.vm_port = j["vm_port"].get<int>();
  h.vm_user = j.value("vm_user", "ubuntu");
  h.dir = j.at("dir").get<std::string>();
  h.sshd_log = j.value("sshd_log", "");
  h.pid_file = j.value("pid_file", "");
  h.host_key = j.value("host_key", "");
  h.runtime_log = j.value("runtime_log", "");
  h.gpu_log = j.value("gpu_log", "");
  return h;
}

std::optional<Environment> load(const fs::path& root, std::string& error) {
  std::ifstream in(root / "env.json");
  if (!in) {
    error = (root / "env.json").string() + " is missing: run tests/e2e/env.sh start";
    return std::nullopt;
  }
  try {
    auto j = nlohmann::json::parse(in);
    Environment e;
    e.root = j.at("root").get<std::string>();
    e.script = j.at("script").get<std::string>();
    e.bin_dir = j.at("bin_dir").get<std::string>();
    e.authorized_keys = j.at("authorized_keys").get<std::string>();
    for (const auto& h : j.at("hosts")) e.hosts.push_back(host_from_json(h));
    e.local = host_from_json(j.at("local"));
    const auto& r = j.at("registry");
    e.registry = {r.at("address").get<std::string>(), r.at("username").get<std::string>(),
                  r.at("password").get<std::string>(), r.at("image").get<std::string>(),
                  r.at("entry_image").get<std::string>()};
    e.demo_image = j.at("demo_image").get<std::string>();
    return e;
  } catch (const std::exception& ex) {
    error = "cannot read " + (root / "env.json").string() + ": " + ex.what();
    return std::nullopt;
  }
}

}  // namespace

const Environment* Environment::get() {
  const char* root = std::getenv("BERTH_E2E_ROOT");
  if (!root || !*root) return nullptr;
  static std::string error;
  static std::optional<Environment> env = load(root, error);
  if (!env) FAIL(error);
  auto status = system_process_runner().run({.argv = {env->script.string(), "status"},
                                             .extra_env = {{"BERTH_E2E_ROOT", env->root.string()}},
                                             .timeout = Duration{30'000}});
  if (!status || !status->ok()) FAIL("the e2e environment under " << root << " is not running");
  return &*env;
}

const TestHost& Environment::host(const std::string& name) const {
  if (name == "local") return local;
  for (const auto& h : hosts)
    if (h.name == name) return h;
  FAIL("no e2e host " << name);
  return local;
}

void Environment::authorize(const std::string& public_key) const {
  std::ifstream in(authorized_keys);
  std::string line;
  while (std::getline(in, line))
    if (line == public_key) return;
  std::ofstream out(authorized_keys, std::ios::app);
  out << public_key << "\n";
  REQUIRE(out.good());
}

namespace {

void run_script(const Environment& env, const std::string& command, const std::string& host) {
  auto r = system_process_runner().run({.argv = {env.script.string(), command, host},
                                        .extra_env = {{"BERTH_E2E_ROOT", env.root.string()}},
                                        .timeout = Duration{60'000}});
  REQUIRE(r);
  INFO("env.sh " << command << " " << host << ": " << r->err);
  REQUIRE(r->exit_code == 0);
}

}  // namespace

void Environment::rekey(const std::string& host) const { run_script(*this, "rekey", host); }
void Environment::stop_host(const std::string& host) const { run_script(*this, "stophost", host); }
void Environment::start_host(const std::string& host) const {
  run_script(*this, "starthost", host);
}

std::string Environment::vm_endpoint(const std::string& name) const {
  const auto& h = host(name);
  if (!h.vm_port)
    FAIL("host " << name << " does not listen on port 22 (taken on this machine: see env.sh), "
                 "so a VM provider cannot reach it");
  return h.address + ":" + std::to_string(*h.vm_port);
}

int Environment::count_in_sshd_log(const std::string& name, const std::string& needle) const {
  std::ifstream in(host(name).sshd_log);
  std::string line;
  int n = 0;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

ProcessResult Environment::runtime(const std::string& name,
                                   const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {(bin_dir / "podman").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = system_process_runner().run(
      {.argv = argv, .extra_env = {{"BERTH_E2E_HOST", name}}, .timeout = Duration{120'000}});
  REQUIRE(r);
  return *r;
}

std::vector<std::string> Environment::runtime_processes(const std::string& name) const {
  std::vector<std::string> found;
  const std::string marker = std::string("BERTH_E2E_HOST=") + name;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    auto read = [&](const char* what) {
      std::ifstream in(entry.path() / what, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    };
    std::string environ = read("environ");
    std::string var;
    bool ours = false;
    for (std::istringstream vars(environ); std::getline(vars, var, '\0');)
      ours = ours || var == marker;
    if (!ours) continue;
    std::string cmdline = read("cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(bin_dir.string() + "/") != std::string::npos || cmdline.rfind("sleep ", 0) == 0)
      found.push_back(pid + ": " + cmdline);
  }
  return found;
}

std::vector<std::string> Environment::berth_containers(const std::string& name,
                                                       const std::string& deployment) const {
  auto r = runtime(
      name, {"ps", "-a", "--filter",
             deployment.empty() ? "label=berth.deployment" : "label=berth.deployment=" + deployment,
             "--format", "{{.Names}}"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> names;
  std::istringstream ss(r.out);
  std::string line;
  while (std::getline(ss, line))
    if (!line.empty()) names.push_back(line);
  return names;
}

std::map<std::string, std::string> Environment::local_runtime_env() const {
  const char* path = std::getenv("PATH");
  return {{"PATH", bin_dir.string() + ":" + (path ? path : "/usr/bin:/bin")},
          {"BERTH_E2E_HOST", "local"}};
}

std::string Environment::ssh_provider_config(const std::vector<std::string>& host_names,
                                             const std::string& runtime,
                                             const std::string& provider_name) const {
  std::ostringstream y;
  y << "providers:\n  " << provider_name << ":\n    type: ssh\n    hosts:\n";
  for (const auto& n : host_names) {
    const auto& h = host(n);
    y << "      - {address: " << h.address << ", port: " << h.port << ", user: " << h.user
      << ", price_per_hour: 0}\n";
  }
  y << "runtime: " << runtime << "\n";
  return y.str();
}

Scratch::Scratch() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("berth-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_ / "state" / "berth");
  fs::create_directories(path_ / "config");
}

Scratch::~Scratch() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path Scratch::write(const std::string& name, const std::string& content) const {
  fs::path p = path_ / name;
  fs::create_directories(p.parent_path());
  std::ofstream out(p);
  out << content;
  REQUIRE(out.good());
  return p;
}

std::map<std::string, std::string> Scratch::env(std::map<std::string, std::string> extra) const {
  extra.emplace("XDG_STATE_HOME", (path_ / "state").string());
  extra.emplace("XDG_CONFIG_HOME", (path_ / "config").string());
  return extra;
}

BerthRun run_berth(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env, Duration timeout) {
  std::vector<std::string> argv = {BERTH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = system_process_runner().run({.argv = argv, .extra_env = env, .timeout = timeout});
  REQUIRE(r);
  REQUIRE_FALSE(r->timed_out);
  return {r->exit_code, r->out, r->err};
}

}  // namespace berth::e2e
