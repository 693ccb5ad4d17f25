#include "providers/ssh/ssh_provider.h"
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <mutex>

#include "berth/common/shell_quote.h"
#include "berth/config/config.h"
#include "berth/host/container_runtime.h"
#include "berth/placement/offer_search.h"
#include "support/temp_dir.h"

using namespace berth;

namespace {

/// Stands in for ssh: answers by what the remote command asks for, keyed by
/// the host address; records every argv.
class FakeSsh : public ProcessRunner {
 public:
  using Handler =
      std::function<ProcessResult(const std::string& address, const std::string& remote)>;
  Handler handler;
  std::vector<std::vector<std::string>> calls;

  Expected<ProcessResult, std::string> run(const ProcessSpec& spec) override {
    std::lock_guard<std::mutex> lock(mutex_);
    calls.push_back(spec.argv);
    REQUIRE(spec.argv.at(0) == "ssh");
    const auto& argv = spec.argv;
    // SshSession prefixes each remote command with one that reports the
    // remote pid (so a cancelled command can be killed); the handlers see
    // the command itself.
    std::string remote = argv.back();
    if (auto exec_at = remote.find("; exec "); exec_at != std::string::npos)
      remote = remote.substr(exec_at + 7);
    return handler(argv.at(argv.size() - 2), remote);
  }

 private:
  std::mutex mutex_;
};

ProcessResult result(int code, std::string out, std::string err = "") {
  ProcessResult r;
  r.exit_code = code;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string probe_output(const std::string& ps, const std::string& gpu, int gpu_exit) {
  std::string out =
      "@@ nproc\n32\n@@ meminfo\nMemTotal:       131072000 kB\n"
      "@@ df\n/dev/sda1 1000000000 400000000 500000000 45% /\n"
      "@@ ps\n" +
      ps + "\n@@ ps-exit 0\n";
  if (gpu_exit >= 0) out += "@@ gpu\n" + gpu + "\n@@ gpu-exit " + std::to_string(gpu_exit) + "\n";
  out += "@@ cuda\n| NVIDIA-SMI 550.54   Driver Version: 550.54   CUDA Version: 12.4 |\n";
  return out;
}

const char* kBusyPs = R"([{"Id": "c9", "Names": ["berth-chat-0-abc123"], "State": "running",
  "Labels": {"berth.deployment": "chat", "berth.replica": "0", "berth.hash": "abc123",
             "berth.instance": "berth-chat-0-abc123"}}])";

std::vector<SshHostConfig> hosts() {
  SshHostConfig a;
  a.address = "10.0.0.5";
  a.user = "ubuntu";
  a.port = 22;
  a.gpu_model = "RTX4090";
  a.gpu_count = 2;
  a.price_per_hour = 0.5;
  a.region = "lab-1";
  SshHostConfig b;
  b.address = "10.0.0.6";
  b.user = "root";
  b.port = 2222;
  return {a, b};
}

SshProvider make(FakeSsh& ssh) {
  SshOptions options;
  options.state_dir = "/tmp/berth-test-state";
  options.identity = "/tmp/berth-test-state/id_ed25519";
  options.connect_timeout = Duration{10'000};
  return SshProvider("lab", hosts(), ContainerRuntime{ContainerRuntime::Kind::kPodman, "podman"},
                     ssh, options);
}

}  // namespace

TEST_CASE("ssh runs through berth's SSH transport: batch mode, pinned keys, its key", "[ssh]") {
  FakeSsh ssh;
  ssh.handler = [](const std::string&, const std::string&) { return result(0, ""); };
  auto p = make(ssh);
  REQUIRE(p.check_credentials());
  const auto& argv = ssh.calls.at(0);
  auto has_arg = [&](const std::string& a) {
    return std::find(argv.begin(), argv.end(), a) != argv.end();
  };
  CHECK(has_arg("BatchMode=yes"));
  CHECK(has_arg("ConnectTimeout=10"));
  CHECK(has_arg("StrictHostKeyChecking=accept-new"));
  CHECK(has_arg("UserKnownHostsFile=/tmp/berth-test-state/known_hosts/default"));
  CHECK(has_arg("/tmp/berth-test-state/id_ed25519"));
  CHECK_FALSE(has_arg("StrictHostKeyChecking=no"));
  SshHostConfig h;
  h.address = "10.0.0.5";
  h.user = "ubuntu";
  h.port = 2222;
  CHECK(host_key(h) == "ubuntu@10.0.0.5:2222");
}

TEST_CASE("ssh offers: one per host, configured or discovered GPUs", "[ssh]") {
  FakeSsh ssh;
  ssh.handler = [](const std::string& address, const std::string& remote) {
    REQUIRE(has(remote, "@@ nproc"));
    if (address == "10.0.0.5") {
      CHECK_FALSE(has(remote, "@@ gpu"));  // declared in the config: no discovery
      return result(0, probe_output("[]", "", -1));
    }
    CHECK(has(remote, "--query-gpu=name,memory.total,compute_cap,driver_version"));
    return result(0, probe_output(kBusyPs, "NVIDIA H100 80GB HBM3, 81559, 9.0, 550.54", 0));
  };
  auto p = make(ssh);
  auto offers = p.list_offers({});
  REQUIRE(offers);
  REQUIRE(offers->size() == 2);
  const Offer& a = (*offers)[0];
  CHECK(a.provider == "lab");
  CHECK(a.id == "ubuntu@10.0.0.5:22");
  CHECK(a.region == "lab-1");
  CHECK(a.gpu.model == "RTX4090");
  CHECK(a.gpu.count == 2);
  CHECK(a.gpu.vram_gb == 24);
  CHECK(a.gpu.compute_capability == 8.9);
  CHECK(a.vcpus == 32);
  CHECK(*a.memory_gb == Approx(131072000.0 * 1024 / 1e9));
  CHECK(*a.disk_gb == Approx(500000000.0 * 1024 / 1e9));
  CHECK(a.cuda == 12.4);
  CHECK(a.price_per_hour == 0.5);
  CHECK(a.available == 1);
  CHECK(a.launch_data["host"] == "10.0.0.5");
  const Offer& b = (*offers)[1];
  CHECK(b.id == "root@10.0.0.6:2222");
  CHECK(b.region == "local");
  CHECK(b.gpu.model == "H100");
  CHECK(b.gpu.count == 1);
  CHECK(b.available == 0);  // already runs a berth instance
}

TEST_CASE("ssh host without nvidia-smi is a CPU host", "[ssh]") {
  FakeSsh ssh;
  ssh.handler = [](const std::string& address, const std::string&) {
    if (address == "10.0.0.5") return result(0, probe_output("[]", "", -1));
    return result(0, probe_output("[]", "sh: 1: nvidia-smi: not found", 127));
  };
  auto p = make(ssh);
  auto offers = p.list_offers({});
  REQUIRE(offers);
  CHECK((*offers)[1].gpu.count == 0);
}

TEST_CASE("ssh discovery failures name the host", "[ssh]") {
  FakeSsh ssh;
  SECTION("unreachable") {
    ssh.handler = [](const std::string& address, const std::string&) {
      if (address == "10.0.0.5") return result(0, probe_output("[]", "", -1));
      return result(255, "", "ssh: connect to host 10.0.0.6 port 2222: Connection refused\n");
    };
    auto offers = make(ssh).list_offers({});
    REQUIRE_FALSE(offers);
    CHECK(offers.error().kind == ProviderError::Kind::kTransient);
    CHECK(offers.error().message ==
          "cannot reach root@10.0.0.6:2222: ssh: connect to host 10.0.0.6 port 2222: "
          "Connection refused");
  }
  SECTION("key refused") {
    ssh.handler = [](const std::string&, const std::string&) {
      return result(255, "", "root@10.0.0.6: Permission denied (publickey).\n");
    };
    auto offers = make(ssh).list_offers({});
    REQUIRE_FALSE(offers);
    CHECK(offers.error().kind == ProviderError::Kind::kAuth);
    CHECK(has(offers.error().message, "ubuntu@10.0.0.5 rejected"));
    CHECK(has(offers.error().message, "root@10.0.0.6:2222"));
  }
  SECTION("host key changed: never taken for a rejected credential") {
    ssh.handler = [](const std::string& address, const std::string&) {
      if (address == "10.0.0.5") return result(0, probe_output("[]", "", -1));
      return result(255, "",
                    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
                    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
                    "Host key verification failed.\n");
    };
    auto offers = make(ssh).list_offers({});
    REQUIRE_FALSE(offers);
    CHECK(offers.error().kind != ProviderError::Kind::kAuth);
    CHECK(has(offers.error().message, "host key for 10.0.0.6 changed"));
    CHECK(has(offers.error().message, "/tmp/berth-test-state/known_hosts/"));
    CHECK(has(offers.error().message, "if the host was really reinstalled, remove its line"));
    // berth offers says "providers failed" (exit 6), not "check the API keys" (exit 4).
    ProviderReport report{"lab", 0, Duration{1}, offers.error()};
    auto failure = listing_failure({report});
    REQUIRE(failure);
    CHECK(failure->code == ExitCode::kProviderFailed);
  }
  SECTION("nvidia-smi broken") {
    ssh.handler = [](const std::string& address, const std::string&) {
      if (address == "10.0.0.5") return result(0, probe_output("[]", "", -1));
      return result(0, probe_output("[]",
                                    "NVIDIA-SMI has failed because it couldn't "
                                    "communicate with the NVIDIA driver.",
                                    9));
    };
    auto offers = make(ssh).list_offers({});
    REQUIRE_FALSE(offers);
    CHECK(offers.error().message ==
          "nvidia-smi on root@10.0.0.6:2222 failed (exit 9): NVIDIA-SMI has failed because it "
          "couldn't communicate with the NVIDIA driver.; declare the GPUs in the config "
          "(gpus: {model, count})");
  }
  SECTION("runtime missing") {
    ssh.handler = [](const std::string&, const std::string&) {
      std::string out = probe_output("", "", -1);
      out.replace(out.find("@@ ps-exit 0"), 12, "@@ ps-exit 127");
      return result(0, out, "sh: 1: podman: not found\n");
    };
    auto offers = make(ssh).list_offers({});
    REQUIRE_FALSE(offers);
    CHECK(has(offers.error().message,
              "'podman ps' on ubuntu@10.0.0.5:22 failed (exit 127): sh: 1: podman: not found"));
  }
}

TEST_CASE("ssh instances: labelled containers on every host", "[ssh]") {
  FakeSsh ssh;
  ssh.handler = [](const std::string& address, const std::string& remote) {
    CHECK(remote == shell_join({"podman", "ps", "-a", "--no-trunc", "--filter",
                                "label=berth.deployment", "--format", "json"}));
    return result(0, address == "10.0.0.6" ? kBusyPs : "[]");
  };
  auto p = make(ssh);
  auto list = p.list();
  REQUIRE(list);
  REQUIRE(list->size() == 1);
  const Instance& i = list->front();
  CHECK(i.id == "root@10.0.0.6:2222/berth-chat-0-abc123");
  CHECK(i.name == "berth-chat-0-abc123");
  CHECK(i.host == "10.0.0.6");
  CHECK(i.ssh_port == 2222);
  CHECK(i.ssh_user == "root");
  CHECK(i.state == InstanceState::kRunning);
  CHECK(i.offer_id == "root@10.0.0.6:2222");
}

TEST_CASE("ssh list fails when a host does not answer: never 'no instances'", "[ssh]") {
  FakeSsh ssh;
  ssh.handler = [](const std::string& address, const std::string&) {
    if (address == "10.0.0.6") return result(255, "", "Connection timed out\n");
    return result(0, "[]");
  };
  auto list = make(ssh).list();
  REQUIRE_FALSE(list);
  CHECK(list.error().kind == ProviderError::Kind::kTransient);
}

TEST_CASE("ssh launch reserves a free host", "[ssh]") {
  FakeSsh ssh;
  std::string ps = "[]";
  ssh.handler = [&](const std::string&, const std::string&) { return result(0, ps); };
  auto p = make(ssh);
  LaunchRequest req;
  req.name = "berth-web-0-fff000";
  req.offer.id = "root@10.0.0.6:2222";
  auto i = p.launch(req);
  REQUIRE(i);
  CHECK(i->id == "root@10.0.0.6:2222/berth-web-0-fff000");
  CHECK(i->state == InstanceState::kRunning);
  CHECK(i->host == "10.0.0.6");
  CHECK(i->ssh_port == 2222);
  CHECK(i->ssh_user == "root");

  // Reserved in this process before its container starts: another replica
  // launched meanwhile does not get it too; the same instance again does.
  LaunchRequest other = req;
  other.name = "berth-web-1-fff000";
  auto taken = p.launch(other);
  REQUIRE_FALSE(taken);
  CHECK(taken.error().kind == ProviderError::Kind::kNoCapacity);
  CHECK(taken.error().message ==
        "root@10.0.0.6:2222 is taken by berth-web-0-fff000, launched just before");
  CHECK(p.launch(req));
  REQUIRE(p.terminate(i->id));  // given up before it started: the host is free again
  auto freed = p.launch(other);
  REQUIRE(freed);
  REQUIRE(p.terminate(freed->id));

  ps = kBusyPs;  // another deployment holds it
  auto busy = p.launch(req);
  REQUIRE_FALSE(busy);
  CHECK(busy.error().kind == ProviderError::Kind::kNoCapacity);
  CHECK(busy.error().message == "root@10.0.0.6:2222 already runs berth-chat-0-abc123");

  req.name = "berth-chat-0-abc123";  // its own containers: the same instance again
  CHECK(p.launch(req));

  req.offer.id = "nobody@nowhere:22";
  auto unknown = p.launch(req);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().kind == ProviderError::Kind::kInvalidRequest);
}

TEST_CASE("ssh get and terminate address one host; terminate is idempotent", "[ssh]") {
  FakeSsh ssh;
  std::string ps = kBusyPs;
  std::vector<std::string> removed;
  ssh.handler = [&](const std::string& address, const std::string& remote) {
    CHECK(address == "10.0.0.6");
    if (has(remote, "'rm'")) {
      removed.push_back(remote);
      return result(0, "c9\n");
    }
    CHECK(has(remote, "'label=berth.instance=berth-chat-0-abc123'"));
    return result(0, ps);
  };
  auto p = make(ssh);
  const std::string id = "root@10.0.0.6:2222/berth-chat-0-abc123";
  auto got = p.get(id);
  REQUIRE(got);
  CHECK(got->id == id);
  REQUIRE(p.terminate(id));
  REQUIRE(removed.size() == 1);
  CHECK(removed[0] == shell_join(remove_argv(
                          ContainerRuntime{ContainerRuntime::Kind::kPodman, "podman"}, {"c9"})));
  ps = "[]";
  REQUIRE(p.terminate(id));
  CHECK(removed.size() == 1);
  auto gone = p.get(id);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().kind == ProviderError::Kind::kNotFound);
  auto stranger = p.get("not-an-id");
  REQUIRE_FALSE(stranger);
  CHECK(stranger.error().kind == ProviderError::Kind::kNotFound);
}

TEST_CASE("ssh remote commands keep hostile instance names literal", "[ssh]") {
  FakeSsh ssh;
  std::string seen;
  ssh.handler = [&](const std::string&, const std::string& remote) {
    seen = remote;
    return result(0, "[]");
  };
  auto p = make(ssh);
  const std::string hostile = "$(touch /tmp/berth-ssh-never)'`id`;reboot";
  REQUIRE(p.terminate("root@10.0.0.6:2222/" + hostile));
  // What a POSIX shell makes of the remote command: the same argv, unexpanded.
  auto r = system_process_runner().run({.argv = {"sh", "-c",
                                                 "for a in " + seen.substr(seen.find(' ') + 1) +
                                                     "; do printf '[%s]' \"$a\"; done"}});
  REQUIRE(r);
  CHECK(has(r->out, "[label=berth.instance=" + hostile + "]"));
  CHECK_FALSE(std::filesystem::exists("/tmp/berth-ssh-never"));
}

TEST_CASE("ssh check_credentials runs a no-op on every host", "[ssh]") {
  FakeSsh ssh;
  ssh.handler = [](const std::string&, const std::string& remote) {
    CHECK(remote == "'true'");
    return result(0, "");
  };
  auto p = make(ssh);
  CHECK(p.check_credentials());
  CHECK(ssh.calls.size() == 2);
}

TEST_CASE("ssh is registered and validates its hosts", "[ssh]") {
  const ProviderType* t = find_provider_type("ssh");
  REQUIRE(t);
  CHECK(t->keys == std::vector<std::string>{"hosts"});
  CHECK(t->api_key_env.empty());
  FakeSsh ssh;
  ProviderContext ctx;
  ctx.processes = &ssh;
  ctx.runtime = "docker";
  ctx.state_dir = "/tmp/berth-test-state";
  ProviderConfig pc;
  pc.name = "lab";
  pc.type = "ssh";
  auto none = t->create(pc, ctx);
  REQUIRE_FALSE(none);
  CHECK(none.error() == "provider 'lab' (type ssh) declares no hosts");
  SshHostConfig bad;
  bad.address = "-oProxyCommand=evil";
  pc.hosts = {bad};
  CHECK_FALSE(t->create(pc, ctx));
  pc.hosts = hosts();
  auto p = t->create(pc, ctx);
  REQUIRE(p);
  CHECK((*p)->type() == "ssh");
}

TEST_CASE("ssh with a configured key still keeps berth's state directory private", "[ssh]") {
  berth::testing::TempDir dir;
  const auto state = dir.path() / "state" / "berth";
  FakeSsh ssh;
  ssh.handler = [](const std::string&, const std::string&) { return result(0, ""); };
  SshOptions options;
  options.state_dir = state;
  options.identity = dir.path() / "my_key";  // ssh.key: berth's own key is never made
  SshProvider p("lab", hosts(), ContainerRuntime{ContainerRuntime::Kind::kPodman, "podman"}, ssh,
                options);
  REQUIRE(p.check_credentials());
  struct stat st {};
  REQUIRE(::stat(state.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat(state.parent_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}
