// SSH transport and the container runtime commands against the real thing:
// sshd hosts on loopback addresses running podman, and a registry with auth
// (tests/e2e/env.sh).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "berth/host/container_runtime.h"
#include "berth/host/ssh.h"
#include "support/e2e_env.h"

using namespace berth;
namespace fs = std::filesystem;

namespace {

// A command's stdout, or why it failed (its exit code and stderr, or the
// SSH failure).
Expected<std::string, std::string> output_of(SshSession& s, const std::vector<std::string>& argv) {
  auto r = s.run(argv);
  if (!r) return unexpected(r.error().message);
  if (!r->ok()) return unexpected("exit code " + std::to_string(r->exit_code) + ": " + r->err);
  return r->out;
}

struct Fixture {
  const e2e::Environment& env;
  e2e::Scratch scratch;
  SshKey key;

  explicit Fixture(const e2e::Environment& e) : env(e) {
    auto k = ensure_ssh_key(scratch.state_dir(), std::nullopt);
    REQUIRE(k);
    key = *k;
    env.authorize(key.public_key);
  }

  SshOptions options(const std::string& deployment) const {
    SshOptions o;
    o.state_dir = scratch.state_dir();
    o.deployment = deployment;
    o.identity = key.private_key;
    o.config_file = "/dev/null";
    o.connect_timeout = Duration{10'000};
    return o;
  }

  std::unique_ptr<SshSession> session(const std::string& host, const std::string& deployment) {
    const auto& h = env.host(host);
    return std::make_unique<SshSession>(SshTarget{h.address, h.port, h.user}, options(deployment));
  }
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_nul(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    auto end = s.find('\0', start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("ssh: hostile argv and a stdin secret arrive literally and execute nothing",
          "[e2e][ssh]") {
  BERTH_E2E_ENV(env);
  Fixture f(*env);
  auto s = f.session("h1", "ssh-hostile");
  REQUIRE(s->open());

  std::string marker = (f.scratch.path() / "pwned").string();
  std::vector<std::string> hostile = {"$(touch " + marker + ")",
                                      "`touch " + marker + "`",
                                      "; touch " + marker,
                                      "&& touch " + marker + " #",
                                      "x\ntouch " + marker,
                                      "'\"'\"\\",
                                      "$HOME ${PATH} $$",
                                      "",
                                      "-n",
                                      "--help",
                                      "héllo ✓ 日本語",
                                      "*"};
  std::vector<std::string> argv = {"printf", "%s\\0"};
  argv.insert(argv.end(), hostile.begin(), hostile.end());
  auto r = s->run(argv);
  REQUIRE(r);
  CHECK(r->exit_code == 0);
  CHECK(split_nul(r->out) == hostile);

  // The secret travels on stdin; the remote process list never shows it.
  std::string secret = "s3cret-$(touch " + marker + ")-'\"\n-end";
  auto c = s->run({"sh", "-c", "cat; ps -eo args >&2"}, secret);
  REQUIRE(c);
  CHECK(c->out == secret);
  CHECK(c->err.find("s3cret") == std::string::npos);
  CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("ssh: one handshake per host for many commands", "[e2e][ssh]") {
  BERTH_E2E_ENV(env);
  Fixture f(*env);
  const std::string accepted = "Accepted publickey";
  int before = env->count_in_sshd_log("h2", accepted);
  {
    auto s = f.session("h2", "ssh-mux");
    REQUIRE(s->open());
    REQUIRE(s->open());  // idempotent
    for (int i = 0; i < 12; ++i) {
      auto r = s->run({"echo", std::to_string(i)});
      REQUIRE(r);
      CHECK(r->out == std::to_string(i) + "\n");
    }
    // Concurrent commands share the master as well.
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&] {
        auto r = s->run({"true"});
        if (r && r->ok()) ++ok;
      });
    for (auto& t : threads) t.join();
    CHECK(ok == 4);
    CHECK(s->handshakes() == 1);
    s->close();
    CHECK_FALSE(fs::exists(s->control_path()));
  }
  // sshd logs asynchronously to the file; it has done so by the time the
  // master's exit was confirmed, but give the write a bounded moment.
  int after = before;
  for (int i = 0; i < 50 && after == before; ++i) {
    after = env->count_in_sshd_log("h2", accepted);
    if (after == before) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(after - before == 1);
}

TEST_CASE("ssh: a changed host key is refused with a typed error", "[e2e][ssh]") {
  BERTH_E2E_ENV(env);
  Fixture f(*env);
  {
    auto s = f.session("h4", "ssh-pinned");
    REQUIRE(s->open());
    REQUIRE(output_of(*s, {"true"}));
    CHECK(fs::exists(s->known_hosts()));
  }
  env->rekey("h4");
  auto s = f.session("h4", "ssh-pinned");
  auto opened = s->open();
  REQUIRE_FALSE(opened);
  CHECK(opened.error().kind == SshError::Kind::kHostKeyChanged);
  CHECK(opened.error().message == "host key for " + env->host("h4").address + " changed");
  auto r = s->run({"true"});
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == SshError::Kind::kHostKeyChanged);

  // Another deployment has not pinned this host yet: accept-new takes it.
  auto other = f.session("h4", "ssh-pinned-other");
  CHECK(other->open());
}

TEST_CASE("ssh: unreachable hosts, rejected keys and failing commands are told apart",
          "[e2e][ssh]") {
  BERTH_E2E_ENV(env);
  Fixture f(*env);
  const auto& h = env->host("h1");

  // An address of the environment's own net that no host listens on (they
  // are .21 to .24), so environments on other nets never meet here.
  const std::string nowhere = h.address.substr(0, h.address.rfind('.')) + ".29";
  SshSession nobody(SshTarget{nowhere, h.port, "root"}, f.options("ssh-errors"));
  auto refused = nobody.open();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == SshError::Kind::kUnreachable);
  CHECK(refused.error().message.find(nowhere) != std::string::npos);

  e2e::Scratch other;
  auto stranger = ensure_ssh_key(other.state_dir(), std::nullopt);
  REQUIRE(stranger);
  auto o = f.options("ssh-errors");
  o.identity = stranger->private_key;
  SshSession unknown_key(SshTarget{h.address, h.port, "root"}, o);
  auto denied = unknown_key.open();
  REQUIRE_FALSE(denied);
  CHECK(denied.error().kind == SshError::Kind::kAuth);

  auto s = f.session("h1", "ssh-errors");
  REQUIRE(s->open());
  // A command that ran and failed is its result, not an SSH failure.
  auto failed = s->run({"sh", "-c", "echo oops >&2; exit 3"});
  REQUIRE(failed);
  CHECK(failed->exit_code == 3);
  CHECK(failed->err == "oops\n");
  // A remote command's own 255 is a result, not an SSH failure.
  auto r255 = s->run({"sh", "-c", "exit 255"});
  REQUIRE(r255);
  CHECK(r255->exit_code == 255);
  // A timed-out command is stopped on the host too, not only here.
  const std::string token = std::to_string(900000 + (::getpid() % 99999));
  // The deadline leaves the command time to start and report its pid on a
  // loaded machine; a command cancelled before it even started is not killed.
  auto slow = s->run({"sh", "-c", "sleep " + token + "; :"}, std::nullopt, Duration{5'000});
  REQUIRE_FALSE(slow);
  CHECK(slow.error().kind == SshError::Kind::kTimeout);
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    auto p = system_process_runner().run({.argv = {"pgrep", "-f", "sleep " + token}});
    REQUIRE(p);
    gone = p->exit_code == 1;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(gone);
}

TEST_CASE("ssh key: generated once, 0600, reused", "[e2e][ssh]") {
  e2e::Scratch scratch;
  auto a = ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(a);
  struct stat st {};
  REQUIRE(::stat(a->private_key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(a->public_key.rfind("ssh-ed25519 ", 0) == 0);
  auto b = ensure_ssh_key(scratch.state_dir(), std::nullopt);
  REQUIRE(b);
  CHECK(b->public_key == a->public_key);

  // A configured key without its .pub: the public half is derived.
  fs::copy_file(a->private_key, scratch.path() / "mykey");
  auto c = ensure_ssh_key(scratch.state_dir(), scratch.path() / "mykey");
  REQUIRE(c);
  CHECK(c->private_key == scratch.path() / "mykey");
  CHECK(c->public_key.substr(0, 80) == a->public_key.substr(0, 80));
  CHECK_FALSE(ensure_ssh_key(scratch.state_dir(), scratch.path() / "nope"));
}

TEST_CASE("runtime over ssh: private pull, hostile env, labels, ports, logs, removal",
          "[e2e][ssh][container_runtime]") {
  BERTH_E2E_ENV(env);
  Fixture f(*env);
  for (std::string runtime_name : {"docker", "podman"}) {
    DYNAMIC_SECTION("runtime " << runtime_name) {
      const std::string host = runtime_name == "docker" ? "h2" : "h3";
      const auto& h = env->host(host);
      auto rt = *container_runtime(runtime_name);
      auto s = f.session(host, "ssh-runtime");
      REQUIRE(s->open());
      // The replica's private directory, as the deploy uses it.
      const std::string instance = "berth-ssh-runtime-0-" + runtime_name;
      auto home = output_of(*s, {"sh", "-c", "printf %s \"$HOME\""});
      REQUIRE(home);
      const std::string dir = *home + "/.berth/" + instance;
      (void)s->run({"rm", "-rf", "--", dir});

      // Private image: credentials only in a 0600 auth file unpacked from
      // the command's stdin, removed after.
      PrivateDirCommand pull;
      pull.instance = instance;
      pull.files_on_stdin = true;
      pull.argv = pull_argv(rt, env->registry.image, std::string("config.json"));
      auto pulled = s->run(private_dir_argv(rt, pull),
                           private_files_tar({{"config.json",
                                               registry_auth_file(image_registry(env->registry.image),
                                                                  env->registry.username,
                                                                  env->registry.password)}}));
      REQUIRE(pulled);
      INFO(pulled->err);
      CHECK(pulled->exit_code == 0);
      CHECK_FALSE(fs::exists(dir + "/config.json"));
      // Without credentials the registry refuses.
      auto anonymous = s->run({rt.program, "pull", env->registry.image + "-nope"});
      REQUIRE(anonymous);
      CHECK(anonymous->exit_code != 0);

      std::string marker = (f.scratch.path() / "pwned").string();
      std::vector<std::pair<std::string, std::string>> vars = {
          {"PLAIN", "hello world"},
          {"SUBST", "$(touch " + marker + ")"},
          {"TICKS", "`touch " + marker + "`"},
          {"QUOTES", "'\"'; touch " + marker + " && echo \""},
          {"MULTI", "line1\n$(touch " + marker + ")\nline3"},
          {"UNICODE", "héllo ✓ 日本語"},
          {"SECRET", "tok-" + runtime_name + "-9f8e7d"},
      };
      auto files = env_files(vars);
      REQUIRE(files);
      ContainerIdentity id{"ssh-runtime", 0, "0123abcd", instance};
      ContainerSpec spec;
      spec.name = id.instance;
      spec.image = env->registry.image;
      spec.labels = id.labels();
      spec.ports = {{8000, 18080, "tcp"}};
      spec.mounts = {{volume_name("ssh-runtime", "cache"), "/cache", false}};
      // The env files travel as the deploy sends them: a tar on the start's
      // stdin, unpacked into the private directory the start runs in.
      auto secret_files = attach_env(spec, *files);
      auto argv = run_argv(rt, spec);
      REQUIRE(argv);
      (void)s->run(remove_argv(rt, {spec.name}));
      PrivateDirCommand start;
      start.instance = instance;
      start.files_on_stdin = true;
      start.argv = *argv;
      auto started = s->run(private_dir_argv(rt, start), private_files_tar(secret_files));
      REQUIRE(started);
      INFO(started->err);
      REQUIRE(started->exit_code == 0);
      CHECK_FALSE(fs::exists(dir + "/env"));
      CHECK_FALSE(fs::exists(dir + "/env.sh"));

      for (const auto& [name, value] : vars) {
        auto got = s->run(exec_argv(rt, spec.name, {"printenv", name}, false, false));
        REQUIRE(got);
        CHECK(got->out == value + "\n");
      }
      CHECK_FALSE(fs::exists(marker));
      // No secret on any command line the runtime saw.
      CHECK(read_file(h.runtime_log).find("tok-" + runtime_name) == std::string::npos);

      auto ps = output_of(*s, ps_argv(rt, {{kLabelDeployment, "ssh-runtime"}}));
      REQUIRE(ps);
      auto listed = parse_ps(*ps);
      REQUIRE(listed);
      bool found = false;
      for (const auto& c : *listed)
        if (c.name == spec.name) {
          found = true;
          CHECK(c.labels.at(kLabelInstance) == spec.name);
          CHECK(c.state == "running");
        }
      CHECK(found);
      auto inspected = output_of(*s, inspect_argv(rt, spec.name));
      REQUIRE(inspected);
      auto state = parse_inspect(*inspected);
      REQUIRE(state);
      CHECK(state->running);
      CHECK(state->labels.at(kLabelHash) == "0123abcd");

      // Published on the host's own address.
      auto curl = system_process_runner().run(
          {.argv = {"curl", "-s", "--max-time", "5", "--retry", "10", "--retry-delay", "1",
                    "--retry-connrefused", "http://" + h.address + ":18080/"}});
      REQUIRE(curl);
      CHECK(curl->out == "hello from berth\n");

      auto logs = s->run(logs_argv(rt, spec.name, false, 10));
      REQUIRE(logs);
      CHECK(logs->exit_code == 0);

      REQUIRE(output_of(*s, remove_argv(rt, {spec.name})));
      CHECK(env->berth_containers(host, "ssh-runtime").empty());
    }
  }
}
