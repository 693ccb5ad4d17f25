#include "berth/host/container_runtime.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "berth/common/process.h"

using namespace berth;
using Argv = std::vector<std::string>;

namespace {

ContainerRuntime docker() { return *container_runtime("docker"); }
ContainerRuntime podman() { return *container_runtime("podman"); }

ContainerSpec basic_spec() {
  ContainerSpec s;
  s.name = "berth-hello-0-abc";
  s.image = "localhost/berth-demo:1";
  s.labels = {{"berth.deployment", "hello"}};
  s.ports = {{8080, std::nullopt, "tcp"}, {53, 5353, "udp"}};
  s.mounts = {{"berth-hello-cache", "/cache", false}, {"/srv/data", "/data", true}};
  s.args = {"httpd", "-f"};
  return s;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("berth-rt-" + std::to_string(getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

}  // namespace

TEST_CASE("runtime names", "[container_runtime]") {
  CHECK(docker().kind == ContainerRuntime::Kind::kDocker);
  CHECK(podman().program == "podman");
  CHECK_FALSE(container_runtime("containerd"));
}

TEST_CASE("run argv keeps every value a separate element", "[container_runtime]") {
  auto argv = run_argv(docker(), basic_spec());
  REQUIRE(argv);
  CHECK(*argv == Argv{"docker",
                      "run",
                      "-d",
                      "--name",
                      "berth-hello-0-abc",
                      "--label",
                      "berth.deployment=hello",
                      "-p",
                      "8080:8080/tcp",
                      "-p",
                      "5353:53/udp",
                      "-v",
                      "berth-hello-cache:/cache",
                      "-v",
                      "/srv/data:/data:ro",
                      "--restart",
                      "unless-stopped",
                      "localhost/berth-demo:1",
                      "httpd",
                      "-f"});
}

TEST_CASE("GPU access only when the placement has GPUs", "[container_runtime]") {
  auto spec = basic_spec();
  auto has = [](const Argv& a, const std::string& s) {
    return std::find(a.begin(), a.end(), s) != a.end();
  };
  CHECK_FALSE(has(*run_argv(docker(), spec), "--gpus"));
  CHECK_FALSE(has(*run_argv(podman(), spec), "--device"));
  spec.gpus = GpuAccess::kNvidia;
  auto d = *run_argv(docker(), spec);
  auto it = std::find(d.begin(), d.end(), "--gpus");
  REQUIRE(it != d.end());
  CHECK(*(it + 1) == "all");
  auto p = *run_argv(podman(), spec);
  it = std::find(p.begin(), p.end(), "--device");
  REQUIRE(it != p.end());
  CHECK(*(it + 1) == "nvidia.com/gpu=all");
  spec.gpus = GpuAccess::kAmd;
  CHECK(has(*run_argv(podman(), spec), "/dev/kfd"));
}

TEST_CASE("entrypoint lists and shell commands", "[container_runtime]") {
  LaunchTemplate t;
  t.name = "hello";
  t.image = {"img:1", false};
  ContainerIdentity id{"hello", 0, "abc", "berth-hello-0-abc"};

  t.command = ContainerCommand{true, {{"echo $HOME && sleep 1", false}}};
  auto s = container_spec(t, id, GpuAccess::kNone, {});
  REQUIRE(s);
  auto argv = *run_argv(docker(), *s);
  Argv tail(argv.end() - 5, argv.end());
  CHECK(tail == Argv{"--entrypoint", "sh", "img:1", "-c", "echo $HOME && sleep 1"});

  t.entrypoint = std::vector<TemplateString>{{"tini", false}, {"--", false}};
  s = container_spec(t, id, GpuAccess::kNone, {});
  REQUIRE(s);
  argv = *run_argv(docker(), *s);
  tail.assign(argv.end() - 7, argv.end());
  CHECK(tail == Argv{"--entrypoint", "tini", "img:1", "--", "sh", "-c", "echo $HOME && sleep 1"});

  t.entrypoint = std::vector<TemplateString>{};
  t.command = ContainerCommand{false, {{"a b", false}, {"$(x)", false}}};
  s = container_spec(t, id, GpuAccess::kNone, {});
  REQUIRE(s);
  argv = *run_argv(podman(), *s);
  tail.assign(argv.end() - 5, argv.end());
  CHECK(tail == Argv{"--entrypoint", "", "img:1", "a b", "$(x)"});
}

TEST_CASE("container spec from a template", "[container_runtime]") {
  LaunchTemplate t;
  t.name = "web";
  t.image = {"reg.example:5000/team/web:2", false};
  t.ports = {{80, 8080, "tcp"}};
  t.volumes = {{Volume::Kind::kNamed, "cache", "", "/cache", false},
               {Volume::Kind::kBind, "", "./data", "/data", true}};
  ContainerIdentity id{"web", 1, "0123456789ab", "berth-web-1-0123456789ab"};
  auto s = container_spec(t, id, GpuAccess::kNvidia, {".berth/web/volumes/0"});
  REQUIRE(s);
  CHECK(s->name == "berth-web-1-0123456789ab");
  CHECK(s->labels ==
        std::map<std::string, std::string>{{"berth.deployment", "web"},
                                           {"berth.replica", "1"},
                                           {"berth.hash", "0123456789ab"},
                                           {"berth.instance", "berth-web-1-0123456789ab"}});
  REQUIRE(s->mounts.size() == 2);
  CHECK(s->mounts[0].source == "berth-web-cache");
  CHECK(s->mounts[1].source == ".berth/web/volumes/0");
  CHECK(s->mounts[1].readonly);
  CHECK(s->gpus == GpuAccess::kNvidia);

  CHECK_FALSE(container_spec(t, id, GpuAccess::kNone, {}));  // source not copied

  t.command = ContainerCommand{false, {{"--token", false}, {"s3cret", true}}};
  auto secret = container_spec(t, id, GpuAccess::kNone, {"x"});
  REQUIRE_FALSE(secret);
  CHECK(secret.error().find("env") != std::string::npos);

  t.image = {"--privileged", false};
  CHECK_FALSE(container_spec(t, id, GpuAccess::kNone, {"x"}));
}

TEST_CASE("env files split single-line and multi-line values", "[container_runtime]") {
  auto f = env_files(
      {{"A", "plain"}, {"B", "two\nlines"}, {"C", "$(x) `y` 'q' \"d\""}, {"D", ""}, {"E", "cr\r"}});
  REQUIRE(f);
  CHECK(f->env_file == "A=plain\nC=$(x) `y` 'q' \"d\"\nD=\n");
  CHECK(f->env_file_names == Argv{"A", "C", "D"});
  CHECK(f->passthrough_names == Argv{"B", "E"});
  CHECK(f->shell_exports == "export B='two\nlines'\nexport E='cr\r'\n");

  CHECK_FALSE(env_files({{"BAD NAME", "x"}}));
  CHECK_FALSE(env_files({{"A=B", "x"}}));
  CHECK_FALSE(env_files({{"#A", "x"}}));
  CHECK_FALSE(env_files({{"", "x"}}));
  CHECK_FALSE(env_files({{"A", std::string("a\0b", 3)}}));
  CHECK_FALSE(env_files({{"PATH", "a\nb"}}));
  CHECK_FALSE(env_files({{"my.var", "a\nb"}}));
  CHECK(env_files({{"PATH", "/opt/bin:/usr/bin"}}));
  CHECK(env_files({{"my.var", "x"}}));
}

TEST_CASE("env files never export what steers the runtime client", "[container_runtime]") {
  // Which engine it talks to, with what TLS trust, through which proxy, on
  // which storage, how podman re-executes itself.
  for (const char* name : {"CONTAINER_HOST",
                           "CONTAINER_CONNECTION",
                           "CONTAINER_SSHKEY",
                           "STORAGE_DRIVER",
                           "STORAGE_OPTS",
                           "DOCKER_HOST",
                           "DOCKER_TLS_VERIFY",
                           "DOCKER_CERT_PATH",
                           "SSL_CERT_FILE",
                           "SSL_CERT_DIR",
                           "http_proxy",
                           "HTTPS_PROXY",
                           "all_proxy",
                           "NO_PROXY",
                           "Https_Proxy",
                           "PODMAN_USERNS",
                           "_CONTAINERS_USERNS_CONFIGURED",
                           "CONTAINERS_CONF",
                           "NOTIFY_SOCKET",
                           "GODEBUG"}) {
    INFO(name);
    CHECK_FALSE(env_files({{name, "a\nb"}}));
    // On one line it goes into the env file, read by the runtime for the
    // container, never into the client's own environment.
    auto single = env_files({{name, "x"}});
    REQUIRE(single);
    CHECK(single->passthrough_names.empty());
  }
  CHECK(env_files({{"CONTAINERISED", "a\nb"}}));  // not a prefix match on a word
  CHECK(env_files({{"MY_HTTP_PROXY_URL", "a\nb"}}));
}

TEST_CASE("run argv never carries env values", "[container_runtime]") {
  auto files = env_files({{"TOKEN", "s3cret-value"}, {"KEY", "-----BEGIN\nabc\n-----END"}});
  REQUIRE(files);
  auto spec = basic_spec();
  auto secret_files = attach_env(spec, *files);
  CHECK(secret_files == std::vector<std::pair<std::string, std::string>>{
                            {"env", files->env_file}, {"env.sh", files->shell_exports}});
  auto argv = run_argv(docker(), spec);
  REQUIRE(argv);
  for (const auto& a : *argv) {
    CHECK(a.find("s3cret") == std::string::npos);
    CHECK(a.find("BEGIN") == std::string::npos);
  }
  CHECK(std::find(argv->begin(), argv->end(), "--env-file") != argv->end());
  CHECK(std::find(argv->begin(), argv->end(), "KEY") != argv->end());
}

TEST_CASE("env reaches the runtime literally and its files are removed", "[container_runtime]") {
  TempDir dir;
  // A stand-in runtime that reports what it was given.
  auto fake = dir.path / "fake-runtime";
  {
    std::ofstream f(fake);
    f << "#!/bin/sh\n"
         "printf 'ARGS'; for a in \"$@\"; do printf '[%s]' \"$a\"; done; printf '\\n'\n"
         "prev=\n"
         "for a in \"$@\"; do if [ \"$prev\" = --env-file ]; then printf 'FILE:'; cat \"$a\"; fi; "
         "prev=$a; done\n"
         "printf 'ML=%s|\\n' \"$ML\"\n"
         "exit 7\n";
  }
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  ContainerRuntime rt{ContainerRuntime::Kind::kDocker, fake.string()};

  std::string marker = (dir.path / "pwned").string();
  std::string hostile_ml = "x\n$(touch " + marker + ")\n`touch " + marker + "`'\"; ";
  auto files = env_files({{"ONE", "$(touch " + marker + ")"}, {"ML", hostile_ml}});
  REQUIRE(files);
  // As the deploy starts a container: the files unpacked from the start's
  // stdin into the private directory ($HOME/.berth/INSTANCE), the run there.
  auto spec = basic_spec();
  auto secret_files = attach_env(spec, *files);
  auto argv = run_argv(rt, spec);
  REQUIRE(argv);
  PrivateDirCommand start;
  start.instance = "berth-x-0-abc";
  start.files_on_stdin = true;
  start.argv = *argv;
  const auto private_dir = dir.path / ".berth" / start.instance;
  const std::string env_path = (private_dir / "env").string();
  const std::string exports_path = (private_dir / "env.sh").string();
  auto r = system_process_runner().run({.argv = private_dir_argv(rt, start),
                                        .stdin_data = private_files_tar(secret_files),
                                        .extra_env = {{"HOME", dir.path.string()}}});
  REQUIRE(r);
  INFO(r->err);
  CHECK(r->exit_code == 7);  // the runtime's exit code comes through
  CHECK(r->out.find("FILE:ONE=$(touch " + marker + ")\n") != std::string::npos);
  CHECK(r->out.find("ML=" + hostile_ml + "|\n") != std::string::npos);
  CHECK(r->out.find("[-e][ML]") != std::string::npos);
  struct stat dst {};
  REQUIRE(stat(private_dir.c_str(), &dst) == 0);
  CHECK((dst.st_mode & 0777) == 0700);
  CHECK_FALSE(std::filesystem::exists(env_path));
  CHECK_FALSE(std::filesystem::exists(exports_path));
  CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("registry credentials travel in an auth file", "[container_runtime]") {
  CHECK(image_registry("ubuntu") == "docker.io");
  CHECK(image_registry("vllm/vllm-openai:v0.6.3") == "docker.io");
  CHECK(image_registry("127.0.0.1:5000/berth/demo:1") == "127.0.0.1:5000");
  CHECK(image_registry("ghcr.io/org/img") == "ghcr.io");
  CHECK(image_registry("localhost/berth-demo:1") == "localhost");

  auto auth = nlohmann::json::parse(registry_auth_file("127.0.0.1:5000", "berth", "p@ss:w"));
  CHECK(auth["auths"]["127.0.0.1:5000"]["auth"] == "YmVydGg6cEBzczp3");
  auto hub = nlohmann::json::parse(registry_auth_file("docker.io", "u", "p"));
  CHECK(hub["auths"].contains("https://index.docker.io/v1/"));

  CHECK(pull_argv(podman(), "img:1", std::nullopt) == Argv{"podman", "pull", "img:1"});
  auto p = pull_argv(podman(), "img:1", std::string("d/config.json"));
  CHECK(Argv(p.begin() + 3, p.end()) ==
        Argv{"sh", "d/config.json", "podman", "pull", "--authfile", "d/config.json", "img:1"});
  auto d = pull_argv(docker(), "img:1", std::string("d/config.json"));
  CHECK(Argv(d.begin() + 4, d.end()) == Argv{"d/config.json", "env", "DOCKER_CONFIG=d",
                                             "REGISTRY_AUTH_FILE=d/config.json", "docker", "pull",
                                             "img:1"});
}

TEST_CASE("auth file is removed after the pull", "[container_runtime]") {
  TempDir dir;
  ContainerRuntime rt{ContainerRuntime::Kind::kPodman, "echo"};
  // As the deploy pulls: the auth file unpacked from stdin into the private
  // directory, 0600, the pull run there, the file gone after.
  PrivateDirCommand pull;
  pull.instance = "berth-x-0-abc";
  pull.files_on_stdin = true;
  pull.argv = pull_argv(rt, "img:1", std::string("config.json"));
  const auto file = dir.path / ".berth" / pull.instance / "config.json";
  auto r = system_process_runner().run(
      {.argv = private_dir_argv(rt, pull),
       .stdin_data = private_files_tar({{"config.json", "{}"}}),
       .extra_env = {{"HOME", dir.path.string()}}});
  REQUIRE(r);
  INFO(r->err);
  CHECK(r->out == "pull --authfile config.json img:1\n");
  CHECK_FALSE(std::filesystem::exists(file));
}

TEST_CASE("other runtime commands", "[container_runtime]") {
  CHECK(ps_argv(docker(), {{"berth.deployment", "hello"}, {"berth.replica", ""}}) ==
        Argv{"docker", "ps", "-a", "--no-trunc", "--filter", "label=berth.deployment=hello",
             "--filter", "label=berth.replica", "--format", "{{json .}}"});
  CHECK(ps_argv(podman(), {}).back() == "json");
  CHECK(logs_argv(docker(), "c", true, 50) == Argv{"docker", "logs", "--tail", "50", "-f", "c"});
  CHECK(logs_argv(podman(), "c", false, std::nullopt) == Argv{"podman", "logs", "c"});
  CHECK(exec_argv(docker(), "c", {"sh", "-c", "a;b"}, true, false) ==
        Argv{"docker", "exec", "-i", "c", "sh", "-c", "a;b"});
  CHECK(remove_argv(podman(), {"a", "b"}) == Argv{"podman", "rm", "-f", "--time", "0", "a", "b"});
  CHECK(remove_argv(docker(), {"a"}) == Argv{"docker", "rm", "-f", "a"});
  CHECK(inspect_argv(docker(), "c") == Argv{"docker", "inspect", "--type", "container", "c"});
}

TEST_CASE("ps output of either runtime", "[container_runtime]") {
  std::string docker_out =
      R"({"Command":"\"httpd\"","ID":"abc123","Image":"img:1","Labels":"berth.deployment=hello,berth.replica=0","Names":"berth-hello-0-x","State":"running","Status":"Up 3 minutes"})"
      "\n"
      R"({"ID":"def456","Image":"img:1","Labels":"","Names":"other","State":"exited","Status":"Exited (1) 2 seconds ago"})"
      "\n";
  auto d = parse_ps(docker_out);
  REQUIRE(d);
  REQUIRE(d->size() == 2);
  CHECK((*d)[0].id == "abc123");
  CHECK((*d)[0].name == "berth-hello-0-x");
  CHECK((*d)[0].labels.at("berth.replica") == "0");
  CHECK((*d)[1].state == "exited");

  std::string podman_out = R"([{"Id":"abc","Names":["berth-hello-0-x"],"Image":"img:1",
    "Labels":{"berth.deployment":"hello"},"State":"running","Status":"Up 2 seconds"}])";
  auto p = parse_ps(podman_out);
  REQUIRE(p);
  REQUIRE(p->size() == 1);
  CHECK((*p)[0].name == "berth-hello-0-x");
  CHECK((*p)[0].labels.at("berth.deployment") == "hello");

  // podman's {{json .}}: one pretty-printed object after another.
  std::string podman_lines =
      "{\n  \"Id\": \"a1\",\n  \"Names\": [\"x\"],\n  \"Labels\": null,\n"
      "  \"Command\": [\"sh\", \"}{\\\"\"]\n}\n{\n  \"Id\": \"b2\",\n"
      "  \"Names\": [\"y\"]\n}\n";
  auto pl = parse_ps(podman_lines);
  REQUIRE(pl);
  REQUIRE(pl->size() == 2);
  CHECK((*pl)[0].name == "x");
  CHECK((*pl)[0].labels.empty());
  CHECK((*pl)[1].id == "b2");

  CHECK(parse_ps("")->empty());
  CHECK(parse_ps("[]")->empty());
  CHECK_FALSE(parse_ps("not json"));
  CHECK_FALSE(parse_ps("[1]"));
}

TEST_CASE("inspect output of either runtime", "[container_runtime]") {
  auto d = parse_inspect(R"([{"Id":"abc","Name":"/web","RestartCount":2,
    "State":{"Status":"exited","Running":false,"ExitCode":137,"StartedAt":"2026-01-01T00:00:00Z",
             "Health":{"Status":"unhealthy"}},"Config":{"Labels":{"berth.hash":"h"}}}])");
  REQUIRE(d);
  CHECK(d->name == "web");
  CHECK(d->status == "exited");
  CHECK_FALSE(d->running);
  CHECK(d->exit_code == 137);
  CHECK(d->restart_count == 2);
  CHECK(d->health == std::optional<std::string>("unhealthy"));
  CHECK(d->labels.at("berth.hash") == "h");

  auto p = parse_inspect(R"([{"Id":"abc","Name":"web","State":{"Status":"running","Running":true,
    "ExitCode":0,"Healthcheck":{"Status":"healthy"}}}])");
  REQUIRE(p);
  CHECK(p->running);
  CHECK(p->health == std::optional<std::string>("healthy"));

  auto none = parse_inspect(R"([{"Id":"a","State":{"Status":"running","Running":true}}])");
  REQUIRE(none);
  CHECK_FALSE(none->health);
  CHECK_FALSE(parse_inspect("[]"));
  CHECK_FALSE(parse_inspect("{}"));
}

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A stand-in runtime: logs its argv, fails `run` with 125 and knows only
// the images listed in $DIR/images.
std::filesystem::path fake_runtime(const std::filesystem::path& dir) {
  auto fake = dir / "fake-runtime";
  std::ofstream(fake) << "#!/bin/sh\n"
                         "echo \"$*\" >> \""
                      << (dir / "runtime.log").string()
                      << "\"\n"
                         "case $1 in\n"
                         "  run) echo 'Error: image not known' >&2; exit 125 ;;\n"
                         "  image) grep -qx \"$3\" \""
                      << (dir / "images").string()
                      << "\" ;;\n"
                         "esac\n";
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  std::ofstream(dir / "images") << "known:1\n";
  return fake;
}

}  // namespace

TEST_CASE("private files reach the host as one tar stream, 0600 and literal",
          "[container_runtime]") {
  TempDir dir;
  std::string hostile = "A=$(touch " + (dir.path / "pwned").string() + ")\n`id`'\"\\ \n";
  std::string big(70'000, 'x');  // more than one block, not a multiple of 512
  auto tar = private_files_tar({{"env", hostile}, {"env.sh", big}, {"config.json", ""}});
  CHECK(tar.size() % 512 == 0);
  auto home = dir.path / "home";
  std::filesystem::create_directories(home);
  PrivateDirCommand c;
  c.instance = "berth-x-0-abc";
  c.files_on_stdin = true;
  c.argv = {"sh", "-c", "pwd; ls"};
  auto r = system_process_runner().run({.argv = private_dir_argv(podman(), c),
                                        .stdin_data = tar,
                                        .extra_env = {{"HOME", home.string()}}});
  REQUIRE(r);
  INFO(r->err);
  REQUIRE(r->exit_code == 0);
  auto private_dir = home / ".berth" / "berth-x-0-abc";
  // The command ran in the private directory, which holds the files.
  CHECK(r->out == private_dir.string() + "\nconfig.json\nenv\nenv.sh\n");
  CHECK(read_file(private_dir / "env") == hostile);
  CHECK(read_file(private_dir / "env.sh") == big);
  CHECK(read_file(private_dir / "config.json").empty());
  for (const char* f : {"env", "env.sh", "config.json"}) {
    struct stat st {};
    REQUIRE(stat((private_dir / f).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  struct stat dst {};
  REQUIRE(stat(private_dir.c_str(), &dst) == 0);
  CHECK((dst.st_mode & 0777) == 0700);
  CHECK_FALSE(std::filesystem::exists(dir.path / "pwned"));

  // And one command removes the container and the directory again.
  auto fake = fake_runtime(dir.path);
  ContainerRuntime rt{ContainerRuntime::Kind::kDocker, fake.string()};
  auto removed = system_process_runner().run(
      {.argv = remove_replica_argv(rt, "berth-x-0-abc"), .extra_env = {{"HOME", home.string()}}});
  REQUIRE(removed);
  CHECK(removed->exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(private_dir));
  CHECK(read_file(dir.path / "runtime.log") == "rm -f berth-x-0-abc\n");
}

TEST_CASE("a start that finds its image absent says so and starts nothing", "[container_runtime]") {
  TempDir dir;
  auto fake = fake_runtime(dir.path);
  ContainerRuntime rt{ContainerRuntime::Kind::kDocker, fake.string()};
  auto home = dir.path / "home";
  std::filesystem::create_directories(home);
  PrivateDirCommand c;
  c.instance = "berth-x-0-abc";
  c.remove_first = "berth-x-0-abc";  // docker: the stale container goes first
  c.argv = {fake.string(), "run", "-d", "--pull=never", "missing:1"};
  auto run = [&](const std::string& image) {
    c.check_image = image;
    auto r = system_process_runner().run(
        {.argv = private_dir_argv(rt, c), .extra_env = {{"HOME", home.string()}}});
    REQUIRE(r);
    return *r;
  };
  auto missing = run("missing:1");
  CHECK(missing.exit_code == 0);
  CHECK(missing.out == std::string(kImageMissing) + "\n");
  CHECK(read_file(dir.path / "runtime.log") ==
        "rm -f berth-x-0-abc\nrun -d --pull=never missing:1\nimage inspect missing:1\n");
  // The image is there: the start's own failure comes back as it is.
  auto failed = run("known:1");
  CHECK(failed.exit_code == 125);
  CHECK(failed.err.find("image not known") != std::string::npos);
  CHECK(failed.out.find(kImageMissing) == std::string::npos);
  // Without the check, no inspect at all.
  std::filesystem::remove(dir.path / "runtime.log");
  CHECK(run("").exit_code == 125);
  CHECK(read_file(dir.path / "runtime.log") ==
        "rm -f berth-x-0-abc\nrun -d --pull=never missing:1\n");
}

TEST_CASE("run's pull policy and podman's replace", "[container_runtime]") {
  auto spec = basic_spec();
  spec.pull = "never";
  spec.replace = true;
  auto p = *run_argv(podman(), spec);
  CHECK(std::find(p.begin(), p.end(), "--pull=never") != p.end());
  CHECK(std::find(p.begin(), p.end(), "--replace") != p.end());
  auto d = *run_argv(docker(), spec);
  CHECK(std::find(d.begin(), d.end(), "--pull=never") != d.end());
  CHECK(std::find(d.begin(), d.end(), "--replace") == d.end());  // docker has none
  // Both come before the image: they are the runtime's, not the container's.
  auto image = std::find(p.begin(), p.end(), spec.image);
  CHECK(std::find(p.begin(), image, "--pull=never") != image);
}

TEST_CASE("a provider volume mounted on the VM is bound into the container",
          "[container_runtime][volumes]") {
  LaunchTemplate t;
  t.name = "train";
  t.image = {"img:1", false};
  t.volumes = {Volume{Volume::Kind::kNamed, "ckpt", "", "/ckpt", false, 200'000'000'000ull},
               Volume{Volume::Kind::kNamed, "cache", "", "/cache", false, std::nullopt}};
  ContainerIdentity id{"train", 0, "abc", "berth-train-0-abc"};
  auto has = [](const Argv& a, const std::string& s) {
    return std::find(a.begin(), a.end(), s) != a.end();
  };
  auto s = container_spec(t, id, GpuAccess::kNone, {}, {{"ckpt", "/lambda/nfs/berth-train-ckpt"}});
  REQUIRE(s);
  auto argv = *run_argv(docker(), *s);
  CHECK(has(argv, "/lambda/nfs/berth-train-ckpt:/ckpt"));
  CHECK(has(argv, "berth-train-cache:/cache"));  // the host's runtime volume, as before
  // Without the provider's directory (ssh, local): the host's named volume.
  s = container_spec(t, id, GpuAccess::kNone, {});
  REQUIRE(s);
  CHECK(has(*run_argv(docker(), *s), "berth-train-ckpt:/ckpt"));
}

TEST_CASE("shm_size and ipc: host reach docker and podman as flags", "[container_runtime]") {
  LaunchTemplate t;
  t.name = "serve";
  t.image = {"img:1", false};
  t.shm_size = 16'000'000'000ull;
  t.ipc_host = true;
  ContainerIdentity id{"serve", 0, "abc", "berth-serve-0-abc"};
  auto s = container_spec(t, id, GpuAccess::kNone, {});
  REQUIRE(s);
  for (const auto& rt : {docker(), podman()}) {
    auto argv = *run_argv(rt, *s);
    auto shm = std::find(argv.begin(), argv.end(), "--shm-size");
    REQUIRE(shm != argv.end());
    CHECK(*(shm + 1) == "16000000000b");
    auto ipc = std::find(argv.begin(), argv.end(), "--ipc");
    REQUIRE(ipc != argv.end());
    CHECK(*(ipc + 1) == "host");
  }
  t.shm_size.reset();
  t.ipc_host = false;
  s = container_spec(t, id, GpuAccess::kNone, {});
  REQUIRE(s);
  auto argv = *run_argv(docker(), *s);
  CHECK(std::find(argv.begin(), argv.end(), "--shm-size") == argv.end());
  CHECK(std::find(argv.begin(), argv.end(), "--ipc") == argv.end());
}
