#include "berth/host/ssh.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <deque>

#include "support/temp_dir.h"

using namespace berth;
using Argv = std::vector<std::string>;

namespace {

// Records every ssh invocation and answers from a script.
class FakeRunner : public ProcessRunner {
 public:
  std::vector<ProcessSpec> calls;
  std::deque<ProcessResult> answers;

  Expected<ProcessResult, std::string> run(const ProcessSpec& spec) override {
    calls.push_back(spec);
    if (answers.empty()) return ProcessResult{.exit_code = 0};
    auto r = answers.front();
    answers.pop_front();
    return r;
  }
};

ProcessResult result(int code, std::string err = "", std::string out = "") {
  ProcessResult r;
  r.exit_code = code;
  r.err = std::move(err);
  r.out = std::move(out);
  return r;
}

SshOptions options() {
  SshOptions o;
  o.state_dir = "/tmp/berth-ssh-unit/state";
  o.deployment = "web";
  o.identity = "/keys/id";
  o.connect_timeout = Duration{7'000};
  return o;
}

bool has_option(const Argv& argv, const std::string& option) {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i)
    if (argv[i] == "-o" && argv[i + 1] == option) return true;
  return false;
}

}  // namespace

TEST_CASE("ssh argv pins host keys per deployment and multiplexes", "[ssh]") {
  FakeRunner runner;
  SshSession s({"203.0.113.5", 2222, "ubuntu"}, options(), runner);
  auto argv = s.ssh_argv({}, "'echo' 'hi'");
  CHECK(argv.front() == "ssh");
  CHECK(has_option(argv, "BatchMode=yes"));
  CHECK(has_option(argv, "StrictHostKeyChecking=accept-new"));
  CHECK(has_option(argv, "UserKnownHostsFile=/tmp/berth-ssh-unit/state/known_hosts/web"));
  CHECK(has_option(argv, "ConnectTimeout=7"));
  CHECK(has_option(argv, "ControlPath=" + s.control_path().string()));
  CHECK(std::none_of(argv.begin(), argv.end(), [](const std::string& a) {
    return a.find("=no") != std::string::npos &&
           a.find("StrictHostKeyChecking") != std::string::npos;
  }));
  Argv tail(argv.end() - 7, argv.end());
  CHECK(tail == Argv{"-p", "2222", "-l", "ubuntu", "--", "203.0.113.5", "'echo' 'hi'"});
  CHECK(s.control_path().parent_path() == "/tmp/berth-ssh-unit/state/ssh");
}

TEST_CASE("control sockets differ per host and deployment and fit a socket path", "[ssh]") {
  FakeRunner runner;
  SshSession a({"h", 22, "root"}, options(), runner);
  auto o = options();
  o.deployment = "other";
  SshSession b({"h", 22, "root"}, o, runner);
  SshSession c({"h2", 22, "root"}, options(), runner);
  CHECK(a.control_path() != b.control_path());
  CHECK(a.control_path() != c.control_path());
  o.state_dir = "/very/long/state/directory/that/would/not/fit/into/a/unix/socket/path/at/all/x";
  SshSession d({"h", 22, "root"}, o, runner);
  CHECK(d.control_path().string().size() < 90);
}

TEST_CASE("open makes one master, once", "[ssh]") {
  FakeRunner runner;
  runner.answers = {result(255, "Control socket connect(...): No such file or directory\n"),
                    result(0)};
  SshSession s({"h", 22, "root"}, options(), runner);
  REQUIRE(s.open());
  REQUIRE(runner.calls.size() == 2);
  const auto& master = runner.calls[1].argv;
  CHECK(has_option(master, "ControlMaster=yes"));
  CHECK(std::find(master.begin(), master.end(), "-N") != master.end());
  CHECK(std::find(master.begin(), master.end(), "-f") != master.end());
  CHECK(s.handshakes() == 1);

  // A master that is already up (from an earlier command) is reused.
  FakeRunner again;
  again.answers = {result(0, "Master running (pid=1)\n")};
  SshSession t({"h", 22, "root"}, options(), again);
  REQUIRE(t.open());
  CHECK(again.calls.size() == 1);
  CHECK(t.handshakes() == 0);
}

TEST_CASE("close ends only the master this session opened", "[ssh]") {
  FakeRunner runner;
  runner.answers = {result(255, "no master"), result(0)};
  {
    SshSession s({"h", 22, "root"}, options(), runner);
    REQUIRE(s.open());
  }
  REQUIRE(runner.calls.size() == 3);
  auto& exit_argv = runner.calls[2].argv;
  CHECK(std::find(exit_argv.begin(), exit_argv.end(), "exit") != exit_argv.end());

  FakeRunner untouched;
  { SshSession s({"h", 22, "root"}, options(), untouched); }
  CHECK(untouched.calls.empty());
}

TEST_CASE("ssh failures are typed", "[ssh]") {
  auto open_with = [](ProcessResult r) {
    FakeRunner runner;
    runner.answers = {result(255, "no master"), r};
    SshSession s({"198.51.100.7", 22, "root"}, options(), runner);
    auto opened = s.open();
    REQUIRE_FALSE(opened);
    return opened.error();
  };
  auto changed = open_with(result(255,
                                  "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
                                  "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
                                  "Host key verification failed.\n"));
  CHECK(changed.kind == SshError::Kind::kHostKeyChanged);
  CHECK(changed.message == "host key for 198.51.100.7 changed");
  CHECK(open_with(result(255, "root@198.51.100.7: Permission denied (publickey).\n")).kind ==
        SshError::Kind::kAuth);
  auto refused =
      open_with(result(255, "ssh: connect to host 198.51.100.7 port 22: Connection refused\n"));
  CHECK(refused.kind == SshError::Kind::kUnreachable);
  CHECK(refused.message.find("Connection refused") != std::string::npos);
  ProcessResult timed = result(-1);
  timed.timed_out = true;
  CHECK(open_with(timed).kind == SshError::Kind::kTimeout);
  ProcessResult cancelled = result(-1);
  cancelled.cancelled = true;
  CHECK(open_with(cancelled).kind == SshError::Kind::kCancelled);
}

TEST_CASE("run quotes argv once and returns remote failures as results", "[ssh]") {
  FakeRunner runner;
  runner.answers = {result(3, "berth-remote-pid:4242\nboom\n", "partial")};
  SshSession s({"h", 22, "root"}, options(), runner);
  auto r = s.run({"echo", "$(reboot)", "it's"}, std::string("secret"));
  REQUIRE(r);
  CHECK(r->exit_code == 3);
  CHECK(r->err == "boom\n");  // the pid line is berth's, not the command's
  REQUIRE(runner.calls.size() == 1);
  const std::string quoted = "'echo' '$(reboot)' 'it'\\''s'";
  const std::string& remote = runner.calls[0].argv.back();
  CHECK(remote.substr(remote.size() - quoted.size() - 5) == "exec " + quoted);
  CHECK(runner.calls[0].stdin_data == std::optional<std::string>("secret"));
  for (const auto& a : runner.calls[0].argv) CHECK(a.find("secret") == std::string::npos);

  // A remote 255 without ssh's own words is the command's exit code.
  runner.answers = {result(255, "app: fatal\n")};
  auto r255 = s.run({"app"});
  REQUIRE(r255);
  CHECK(r255->exit_code == 255);

  // A command that fails is its result, with its own words.
  runner.answers = {result(2, "line1\nline2\nno such file\n")};
  auto checked = s.run({"cat", "/nope"});
  REQUIRE(checked);
  CHECK(checked->exit_code == 2);
  CHECK(checked->err.find("no such file") != std::string::npos);

  CHECK_FALSE(s.run({"echo", std::string("a\0b", 3)}));
  CHECK_FALSE(s.run({}));
}

TEST_CASE("interactive sessions inherit the terminal", "[ssh]") {
  FakeRunner runner;
  runner.answers = {result(5)};
  SshSession s({"h", 22, "root"}, options(), runner);
  auto code = s.interactive({}, true);
  REQUIRE(code);
  CHECK(*code == 5);
  REQUIRE(runner.calls.size() == 1);
  CHECK(runner.calls[0].inherit_stdio);
  auto& argv = runner.calls[0].argv;
  CHECK(std::find(argv.begin(), argv.end(), "-t") != argv.end());
  CHECK(argv.back() == "h");  // no command: a login shell
}

TEST_CASE("a cancelled remote command's process group is killed on the host", "[ssh]") {
  FakeRunner runner;
  ProcessResult cancelled = result(-1, "berth-remote-pid:4242\n");
  cancelled.cancelled = true;
  runner.answers = {cancelled, result(0)};
  SshSession s({"h", 22, "root"}, options(), runner);
  auto r = s.run({"docker", "pull", "img"});
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == SshError::Kind::kCancelled);
  REQUIRE(runner.calls.size() == 2);
  const std::string& kill = runner.calls[1].argv.back();
  CHECK(kill.find("kill -TERM") != std::string::npos);
  CHECK(kill.find("'4242'") != std::string::npos);
  CHECK(runner.calls[1].cancel == nullptr);  // cleanup runs after ^C too
}

namespace {

// A session whose state path is too long for a socket, so its control socket
// goes to $XDG_RUNTIME_DIR/berth/, here a test folder.
struct RuntimeDirSession {
  berth::testing::TempDir runtime;
  std::string saved;
  bool had = false;
  RuntimeDirSession() {
    if (const char* v = std::getenv("XDG_RUNTIME_DIR")) {
      saved = v;
      had = true;
    }
    ::setenv("XDG_RUNTIME_DIR", runtime.path().c_str(), 1);
  }
  ~RuntimeDirSession() {
    if (had)
      ::setenv("XDG_RUNTIME_DIR", saved.c_str(), 1);
    else
      ::unsetenv("XDG_RUNTIME_DIR");
  }
  std::filesystem::path socket_dir() const { return runtime.path() / "berth"; }
  Expected<void, SshError> open(FakeRunner& runner) const {
    auto o = options();
    o.state_dir = runtime.path() / std::string(100, 's');
    SshSession s({"h", 22, "root"}, o, runner);
    REQUIRE(s.control_path().parent_path() == socket_dir());
    return s.open();
  }
};

}  // namespace

TEST_CASE("the control socket lives only in a folder berth made and nobody else can enter",
          "[ssh]") {
  SECTION("made with mode 0700 when absent, used when it is so") {
    RuntimeDirSession rt;
    FakeRunner runner;
    REQUIRE(rt.open(runner));
    struct stat st {};
    REQUIRE(::lstat(rt.socket_dir().c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK((st.st_mode & 07777) == 0700);
    CHECK(st.st_uid == ::geteuid());
    FakeRunner again;
    CHECK(rt.open(again));
  }
  SECTION("a symbolic link is refused, even to a folder of this user's") {
    RuntimeDirSession rt;
    std::filesystem::create_directory(rt.runtime.path() / "elsewhere");
    ::chmod((rt.runtime.path() / "elsewhere").c_str(), 0700);
    std::filesystem::create_directory_symlink(rt.runtime.path() / "elsewhere", rt.socket_dir());
    FakeRunner runner;
    auto r = rt.open(runner);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == SshError::Kind::kLocal);
    CHECK(r.error().message.find("symbolic link") != std::string::npos);
    CHECK(runner.calls.empty());  // no ssh was started
  }
  SECTION("a folder others may enter or write to is refused, not repaired") {
    RuntimeDirSession rt;
    std::filesystem::create_directory(rt.socket_dir());
    ::chmod(rt.socket_dir().c_str(), 0777);
    FakeRunner runner;
    auto r = rt.open(runner);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("open to other users (mode 0777)") != std::string::npos);
    CHECK(runner.calls.empty());
    struct stat st {};
    REQUIRE(::lstat(rt.socket_dir().c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0777);
  }
  SECTION("a folder another user owns is refused") {
    RuntimeDirSession rt;
    std::filesystem::create_directory(rt.socket_dir());
    ::chmod(rt.socket_dir().c_str(), 0700);
    if (::chown(rt.socket_dir().c_str(), 65534, 65534) != 0) {
      WARN("cannot give a folder to another user here (not root): not checked");
      return;
    }
    FakeRunner runner;
    auto r = rt.open(runner);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("belongs to uid 65534") != std::string::npos);
    CHECK(runner.calls.empty());
  }
}
