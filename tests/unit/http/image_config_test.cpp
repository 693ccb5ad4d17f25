#include "berth/http/image_config.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "berth/http/http.h"
#include "support/loopback_server.h"

using namespace berth;
using berth::testing::LoopbackServer;
using berth::testing::ReceivedRequest;
using berth::testing::ScriptedReply;
using json = nlohmann::json;

namespace {

constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr const char* kDockerConfig = "application/vnd.docker.container.image.v1+json";

constexpr const char* kUser = "team";
constexpr const char* kPassword = "s3cret-pass";
constexpr const char* kBasic = "Basic dGVhbTpzM2NyZXQtcGFzcw==";  // team:s3cret-pass
constexpr const char* kToken = "tok-7f3a9c2e51";

// Fast retries so no test waits in backoff.
HttpOptions quick_options() {
  HttpOptions o;
  o.connect_timeout = Duration{2'000};
  o.total_timeout = Duration{10'000};
  o.backoff_base = Duration{1};
  o.backoff_cap = Duration{5};
  o.max_attempts = 3;
  return o;
}

std::string digest_of(char c) { return "sha256:" + std::string(64, c); }

std::string config_blob(const std::string& arch, const std::string& variant = "") {
  json doc = {{"architecture", arch},
              {"os", "linux"},
              {"config",
               {{"Entrypoint", {"/bin/serve", "--flag"}},
                {"Cmd", {"--port", "8000"}},
                {"Env", {"PATH=/usr/local/bin:/usr/bin", "MODEL=" + arch}},
                {"WorkingDir", "/app"},
                {"User", "1000:1000"}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}}};
  if (!variant.empty()) doc["variant"] = variant;
  return doc.dump();
}

std::string manifest_for(const std::string& config_digest, const std::string& config,
                         const char* media_type = kDockerManifest) {
  bool oci = std::string(media_type) == kOciManifest;
  return json{{"schemaVersion", 2},
              {"mediaType", media_type},
              {"config",
               {{"mediaType", oci ? "application/vnd.oci.image.config.v1+json" : kDockerConfig},
                {"digest", config_digest},
                {"size", config.size()}}},
              {"layers", json::array()}}
      .dump();
}

json index_entry(const std::string& digest, const std::string& os, const std::string& arch,
                 const std::string& variant = "") {
  json platform = {{"os", os}, {"architecture", arch}};
  if (!variant.empty()) platform["variant"] = variant;
  return {{"mediaType", kOciManifest}, {"digest", digest}, {"size", 500}, {"platform", platform}};
}

ScriptedReply document(const std::string& media_type, std::string body) {
  return ScriptedReply{200, {{"Content-Type", media_type}}, std::move(body)};
}

// A registry with the endpoints read_image_config uses, behind each of the
// authentication schemes clients meet: none, HTTP Basic (docker-registry with
// htpasswd), and token authentication (Docker Hub, ghcr.io), whose token
// service runs on the same server under /token.
class FakeRegistry {
 public:
  enum class Auth { kNone, kBasic, kToken };

  explicit FakeRegistry(Auth auth) : auth_(auth) {}

  std::string host() const { return "127.0.0.1:" + std::to_string(server_.port()); }
  ImageReference ref(const std::string& repository, const std::string& tag) const {
    return ImageReference{host(), repository, tag, ""};
  }
  std::string url(const std::string& path) const { return server_.url(path); }
  std::vector<ReceivedRequest> requests() const { return server_.requests(); }
  std::vector<ReceivedRequest> requests_to(const std::string& prefix) const {
    std::vector<ReceivedRequest> out;
    for (auto& r : server_.requests())
      if (r.target.rfind(prefix, 0) == 0) out.push_back(r);
    return out;
  }

  void put(const std::string& target, ScriptedReply reply) {
    std::lock_guard lock(mutex_);
    routes_[target] = std::move(reply);
  }
  // Anonymous tokens are refused: the repository is private.
  void token_needs_credentials() {
    std::lock_guard lock(mutex_);
    token_needs_credentials_ = true;
  }
  // The token service answers in OAuth2's spelling only.
  void token_as_access_token() {
    std::lock_guard lock(mutex_);
    access_token_ = true;
  }

  // An image with one manifest and its config at /v2/<repository>/...
  void put_image(const std::string& repository, const std::string& tag, const std::string& config,
                 char digest = 'c', const char* media_type = kDockerManifest) {
    put("/v2/" + repository + "/blobs/" + digest_of(digest), document(kDockerConfig, config));
    put("/v2/" + repository + "/manifests/" + tag,
        document(media_type, manifest_for(digest_of(digest), config, media_type)));
  }

 private:
  ScriptedReply handle(const ReceivedRequest& req) {
    std::lock_guard lock(mutex_);
    std::string authorization =
        req.headers.count("authorization") ? req.headers.at("authorization") : "";
    if (req.target.rfind("/token", 0) == 0) {
      if ((token_needs_credentials_ || !authorization.empty()) && authorization != kBasic)
        return ScriptedReply{401, {}, R"({"details":"incorrect username or password"})"};
      json answer = access_token_ ? json{{"access_token", kToken}, {"expires_in", 300}}
                                  : json{{"token", kToken}, {"expires_in", 300}};
      return ScriptedReply{200, {{"Content-Type", "application/json"}}, answer.dump()};
    }
    const char* unauthorized =
        R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})";
    if (auth_ == Auth::kBasic && authorization != kBasic)
      return ScriptedReply{401, {{"WWW-Authenticate", "Basic realm=\"fake\""}}, unauthorized};
    if (auth_ == Auth::kToken && authorization != std::string("Bearer ") + kToken) {
      auto slash = req.target.find("/manifests/");
      if (slash == std::string::npos) slash = req.target.find("/blobs/");
      std::string repository = req.target.substr(4, slash - 4);
      return ScriptedReply{
          401,
          {{"WWW-Authenticate",
            "Bearer realm=\"" + server_.url("/token") +
                "\",service=\"fake-registry\",scope=\"repository:" + repository + ":pull\""}},
          unauthorized};
    }
    if (auto it = routes_.find(req.target); it != routes_.end()) return it->second;
    return ScriptedReply{
        404,
        {{"Content-Type", "application/json"}},
        R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})"};
  }

  Auth auth_;
  std::mutex mutex_;
  std::map<std::string, ScriptedReply> routes_;
  bool token_needs_credentials_ = false;
  bool access_token_ = false;
  // Last, so that everything its handler reads exists before it starts and
  // after it stops.
  LoopbackServer server_{[this](const ReceivedRequest& r) { return handle(r); }};
};

std::optional<RegistryCredentials> team_credentials() {
  return RegistryCredentials{kUser, kPassword};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void check_amd64_config(const ImageConfig& c) {
  CHECK(c.entrypoint == std::vector<std::string>{"/bin/serve", "--flag"});
  CHECK(c.cmd == std::vector<std::string>{"--port", "8000"});
  CHECK(c.env == std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin", "MODEL=amd64"});
  CHECK(c.working_dir == "/app");
  CHECK(c.user == "1000:1000");
  CHECK(c.os == "linux");
  CHECK(c.architecture == "amd64");
  CHECK(c.variant.empty());
}

}  // namespace

// --- references ---

TEST_CASE("image references normalize as Docker's do", "[image_config]") {
  auto ubuntu = parse_image_reference("ubuntu");
  REQUIRE(ubuntu);
  CHECK(ubuntu->registry == "registry-1.docker.io");
  CHECK(ubuntu->repository == "library/ubuntu");
  CHECK(ubuntu->tag == "latest");
  CHECK(ubuntu->digest.empty());

  auto vllm = parse_image_reference("vllm/vllm-openai:v0.6.3");
  REQUIRE(vllm);
  CHECK(vllm->registry == "registry-1.docker.io");
  CHECK(vllm->repository == "vllm/vllm-openai");
  CHECK(vllm->tag == "v0.6.3");

  auto hub = parse_image_reference("docker.io/ubuntu:22.04");
  REQUIRE(hub);
  CHECK(hub->registry == "registry-1.docker.io");
  CHECK(hub->repository == "library/ubuntu");
  CHECK(hub->tag == "22.04");

  auto local = parse_image_reference("localhost:5000/x");
  REQUIRE(local);
  CHECK(local->registry == "localhost:5000");
  CHECK(local->repository == "x");  // library/ is Docker Hub's alone
  CHECK(local->tag == "latest");

  auto bare_localhost = parse_image_reference("localhost/x");
  REQUIRE(bare_localhost);
  CHECK(bare_localhost->registry == "localhost");

  auto ip = parse_image_reference("127.0.0.1:5000/a/b:1");
  REQUIRE(ip);
  CHECK(ip->registry == "127.0.0.1:5000");
  CHECK(ip->repository == "a/b");
  CHECK(ip->tag == "1");

  std::string hex(64, 'a');
  auto pinned = parse_image_reference("ghcr.io/o/r@sha256:" + hex);
  REQUIRE(pinned);
  CHECK(pinned->registry == "ghcr.io");
  CHECK(pinned->repository == "o/r");
  CHECK(pinned->tag.empty());  // the digest is what is fetched
  CHECK(pinned->digest == "sha256:" + hex);

  auto both = parse_image_reference("ghcr.io/o/r:1.2@sha256:" + hex);
  REQUIRE(both);
  CHECK(both->tag == "1.2");
  CHECK(both->digest == "sha256:" + hex);

  auto ipv6 = parse_image_reference("[::1]:5000/team/app:v1");
  REQUIRE(ipv6);
  CHECK(ipv6->registry == "[::1]:5000");
  CHECK(ipv6->repository == "team/app");

  // A first component without '.', ':' or upper case is a Docker Hub namespace.
  auto ns = parse_image_reference("nvidia/cuda:12.4.1-runtime-ubuntu22.04");
  REQUIRE(ns);
  CHECK(ns->registry == "registry-1.docker.io");
  CHECK(ns->repository == "nvidia/cuda");
  CHECK(ns->tag == "12.4.1-runtime-ubuntu22.04");
}

TEST_CASE("malformed image references are refused with the reason", "[image_config]") {
  auto why = [](std::string_view text) {
    auto r = parse_image_reference(text);
    REQUIRE_FALSE(r);
    return r.error();
  };
  CHECK(why("") == "empty image reference");
  CHECK(contains(why("Ubuntu"), "lower case"));
  CHECK(contains(why("team/App"), "lower case"));
  CHECK(contains(why("ubuntu:"), "tag"));
  CHECK(contains(why("ubuntu:-x"), "tag"));
  CHECK(contains(why("ubuntu:" + std::string(129, 'a')), "tag"));
  CHECK(contains(why("ubuntu@sha256:abc"), "digest"));
  CHECK(contains(why("ubuntu@md5:" + std::string(32, 'a')), "digest"));
  CHECK(contains(why("ubuntu@sha256:" + std::string(64, 'A')), "digest"));
  CHECK(contains(why("ubuntu@"), "digest"));
  CHECK(contains(why("my image"), "whitespace"));
  CHECK(contains(why(":tag"), "no repository"));
  CHECK(contains(why("ghcr.io/"), "no repository"));
  CHECK(contains(why("a//b"), "empty path component"));
  CHECK(contains(why("team/app/"), "empty path component"));
  CHECK(contains(why("team/-app"), "path component"));
  CHECK(contains(why("team/a..b"), "path component"));
  CHECK(contains(why("bad_host.io:port/x"), "registry host"));
  CHECK(contains(why("a/" + std::string(300, 'b')), "255"));
  CHECK(contains(why("ubuntu"
                     "\n"),
                 "whitespace"));
  // The message names the reference it refuses.
  CHECK(contains(why("Ubuntu"), "'Ubuntu'"));
}

// --- the protocol ---

TEST_CASE("image config is read from a registry without authentication", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kNone);
  registry.put_image("team/app", "1", config_blob("amd64"), 'c', kOciManifest);
  auto http = make_curl_http_client(quick_options());
  auto config = read_image_config(*http, registry.ref("team/app", "1"), std::nullopt);
  REQUIRE(config);
  check_amd64_config(*config);

  auto seen = registry.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].target == "/v2/team/app/manifests/1");
  for (const char* type : {kOciIndex, kOciManifest, kDockerList, kDockerManifest})
    CHECK(contains(seen[0].headers["accept"], type));
  CHECK(seen[1].target == "/v2/team/app/blobs/" + digest_of('c'));
  CHECK(seen[0].headers.count("authorization") == 0);
}

TEST_CASE("image config follows Docker Hub's anonymous token flow", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kToken);
  registry.put_image("library/ubuntu", "latest", config_blob("amd64"));
  auto http = make_curl_http_client(quick_options());
  auto config = read_image_config(*http, registry.ref("library/ubuntu", "latest"), std::nullopt);
  REQUIRE(config);
  check_amd64_config(*config);

  auto seen = registry.requests();
  REQUIRE(seen.size() == 4);
  CHECK(seen[0].target == "/v2/library/ubuntu/manifests/latest");
  CHECK(seen[0].headers.count("authorization") == 0);
  CHECK(seen[1].target ==
        "/token?service=fake-registry&scope=repository%3Alibrary%2Fubuntu%3Apull");
  CHECK(seen[1].headers.count("authorization") == 0);  // anonymous
  CHECK(seen[2].target == "/v2/library/ubuntu/manifests/latest");
  CHECK(seen[2].headers["authorization"] == std::string("Bearer ") + kToken);
  // The token covers the repository: the blob needs no second one.
  CHECK(seen[3].target == "/v2/library/ubuntu/blobs/" + digest_of('c'));
  CHECK(seen[3].headers["authorization"] == std::string("Bearer ") + kToken);
}

TEST_CASE("image config sends credentials to the token service when given", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kToken);
  registry.token_needs_credentials();
  registry.token_as_access_token();
  registry.put_image("team/private", "2", config_blob("amd64"));
  auto http = make_curl_http_client(quick_options());

  auto config = read_image_config(*http, registry.ref("team/private", "2"), team_credentials());
  REQUIRE(config);
  check_amd64_config(*config);
  auto tokens = registry.requests_to("/token");
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0].headers["authorization"] == kBasic);
  // The credentials go to the token service only, never to the registry.
  for (auto& r : registry.requests_to("/v2/")) CHECK(r.headers["authorization"] != kBasic);

  SECTION("without credentials the private repository is an auth failure") {
    auto refused = read_image_config(*http, registry.ref("team/private", "2"), std::nullopt);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ImageConfigError::Kind::kAuth);
    CHECK(contains(refused.error().message, "token service 127.0.0.1:"));
    CHECK(contains(refused.error().message, "of registry " + registry.host()));
    CHECK(contains(refused.error().message, "answered 401"));
    CHECK(contains(refused.error().message, "registry_auth"));
  }
  SECTION("wrong credentials are an auth failure that names neither the password nor a token") {
    auto refused = read_image_config(*http, registry.ref("team/private", "2"),
                                     RegistryCredentials{kUser, "wrong-pass"});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ImageConfigError::Kind::kAuth);
    CHECK(contains(refused.error().message, "answered 401"));
    CHECK(contains(refused.error().message, "incorrect username or password"));
    CHECK_FALSE(contains(refused.error().message, "wrong-pass"));
  }
}

TEST_CASE("image config answers HTTP Basic challenges with the credentials", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kBasic);
  registry.put_image("team/app", "1", config_blob("amd64"));
  auto http = make_curl_http_client(quick_options());

  auto config = read_image_config(*http, registry.ref("team/app", "1"), team_credentials());
  REQUIRE(config);
  check_amd64_config(*config);
  auto seen = registry.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].headers.count("authorization") == 0);  // anonymous first
  CHECK(seen[1].headers["authorization"] == kBasic);
  CHECK(seen[2].target == "/v2/team/app/blobs/" + digest_of('c'));
  CHECK(seen[2].headers["authorization"] == kBasic);  // no second 401 round trip
}

TEST_CASE("image config reports missing or wrong Basic credentials as auth", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kBasic);
  registry.put_image("team/app", "1", config_blob("amd64"));
  auto http = make_curl_http_client(quick_options());

  SECTION("none given") {
    auto r = read_image_config(*http, registry.ref("team/app", "1"), std::nullopt);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ImageConfigError::Kind::kAuth);
    CHECK(contains(r.error().message,
                   "registry " + registry.host() + " answered 401 for the manifest of team/app:1"));
    CHECK(contains(r.error().message, "registry_auth"));
    CHECK(registry.requests().size() == 1);
  }
  SECTION("wrong ones: one retry, then auth, and the password is not in the message") {
    auto r = read_image_config(*http, registry.ref("team/app", "1"),
                               RegistryCredentials{kUser, "wrong-pass"});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ImageConfigError::Kind::kAuth);
    CHECK(contains(r.error().message,
                   "registry " + registry.host() + " answered 401 for the manifest of team/app:1"));
    CHECK(contains(r.error().message, "UNAUTHORIZED: authentication required"));
    CHECK(contains(r.error().message, "; check registry_auth)"));
    CHECK_FALSE(contains(r.error().message, "wrong-pass"));
    CHECK(registry.requests().size() == 2);
  }
}

TEST_CASE("image config picks the platform's manifest from an index", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kToken);
  json index = {{"schemaVersion", 2},
                {"mediaType", kOciIndex},
                {"manifests",
                 {index_entry(digest_of('1'), "linux", "amd64"),
                  index_entry(digest_of('2'), "linux", "arm64", "v8"),
                  index_entry(digest_of('3'), "linux", "arm", "v7"),
                  index_entry(digest_of('4'), "unknown", "unknown")}}};
  registry.put("/v2/vllm/vllm-openai/manifests/v0.6.3", document(kOciIndex, index.dump()));
  for (auto [digest, arch, variant, config] :
       {std::tuple{'1', "amd64", "", 'a'}, std::tuple{'2', "arm64", "v8", 'b'},
        std::tuple{'3', "arm", "v7", 'd'}}) {
    std::string blob = config_blob(arch, variant);
    registry.put("/v2/vllm/vllm-openai/manifests/" + digest_of(digest),
                 document(kOciManifest, manifest_for(digest_of(config), blob, kOciManifest)));
    registry.put("/v2/vllm/vllm-openai/blobs/" + digest_of(config),
                 document("application/octet-stream", blob));
  }
  auto http = make_curl_http_client(quick_options());
  auto ref = registry.ref("vllm/vllm-openai", "v0.6.3");

  SECTION("amd64 by default") {
    auto config = read_image_config(*http, ref, std::nullopt);
    REQUIRE(config);
    check_amd64_config(*config);
    auto manifests = registry.requests_to("/v2/vllm/vllm-openai/manifests/");
    REQUIRE(manifests.size() == 3);  // 401, the index, the amd64 manifest
    CHECK(manifests[2].target == "/v2/vllm/vllm-openai/manifests/" + digest_of('1'));
    CHECK(registry.requests_to("/token").size() == 1);
  }
  SECTION("arm64 when asked, with or without its variant") {
    for (const char* platform : {"arm64", "arm64/v8"}) {
      auto config = read_image_config(*http, ref, std::nullopt, platform);
      REQUIRE(config);
      CHECK(config->architecture == "arm64");
      CHECK(config->variant == "v8");
      CHECK(config->env.back() == "MODEL=arm64");
    }
  }
  SECTION("32-bit arm as v7") {
    auto config = read_image_config(*http, ref, std::nullopt, "arm");
    REQUIRE(config);
    CHECK(config->architecture == "arm");
    CHECK(config->variant == "v7");
  }
  SECTION("a platform the index lacks is not-found, naming what it has") {
    auto r = read_image_config(*http, ref, std::nullopt, "s390x");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ImageConfigError::Kind::kNotFound);
    CHECK(contains(r.error().message, "registry " + registry.host()));
    CHECK(contains(r.error().message, "no linux/s390x manifest for vllm/vllm-openai:v0.6.3"));
    CHECK(contains(r.error().message, "linux/amd64, linux/arm64/v8, linux/arm/v7"));
    CHECK_FALSE(contains(r.error().message, "unknown"));
  }
  SECTION("an arm64 variant other than v8 is never taken for arm64") {
    json v9 = {{"schemaVersion", 2},
               {"mediaType", kOciIndex},
               {"manifests", {index_entry(digest_of('5'), "linux", "arm64", "v9")}}};
    registry.put("/v2/vllm/vllm-openai/manifests/v9", document(kOciIndex, v9.dump()));
    auto r =
        read_image_config(*http, registry.ref("vllm/vllm-openai", "v9"), std::nullopt, "arm64");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ImageConfigError::Kind::kNotFound);
  }
}

TEST_CASE("image config reads a Docker manifest list and an arm64 entry without a variant",
          "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kNone);
  json list = {{"schemaVersion", 2},
               {"mediaType", kDockerList},
               {"manifests",
                {index_entry(digest_of('1'), "linux", "amd64"),
                 index_entry(digest_of('2'), "linux", "arm64")}}};
  registry.put("/v2/team/app/manifests/1", document(kDockerList, list.dump()));
  std::string blob = config_blob("arm64");
  registry.put("/v2/team/app/manifests/" + digest_of('2'),
               document(kDockerManifest, manifest_for(digest_of('b'), blob)));
  registry.put("/v2/team/app/blobs/" + digest_of('b'), document(kDockerConfig, blob));
  auto http = make_curl_http_client(quick_options());
  auto config = read_image_config(*http, registry.ref("team/app", "1"), std::nullopt, "arm64");
  REQUIRE(config);
  CHECK(config->architecture == "arm64");
}

TEST_CASE("image config reads a digest-pinned reference by its digest", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kNone);
  registry.put_image("team/app", digest_of('9'), config_blob("amd64"));
  auto http = make_curl_http_client(quick_options());
  ImageReference ref{registry.host(), "team/app", "", digest_of('9')};
  auto config = read_image_config(*http, ref, std::nullopt);
  REQUIRE(config);
  CHECK(registry.requests().at(0).target == "/v2/team/app/manifests/" + digest_of('9'));
}

TEST_CASE("image config follows a blob redirect without the registry's credentials",
          "[image_config]") {
  std::string blob = config_blob("amd64");
  LoopbackServer storage([&](const ReceivedRequest&) {
    return ScriptedReply{200, {{"Content-Type", "application/octet-stream"}}, blob};
  });
  FakeRegistry registry(FakeRegistry::Auth::kToken);
  registry.put("/v2/team/app/manifests/1",
               document(kDockerManifest, manifest_for(digest_of('c'), blob)));
  registry.put(
      "/v2/team/app/blobs/" + digest_of('c'),
      ScriptedReply{307, {{"Location", storage.url("/bucket/c?X-Amz-Signature=abc123")}}, ""});
  auto http = make_curl_http_client(quick_options());
  auto config = read_image_config(*http, registry.ref("team/app", "1"), std::nullopt);
  REQUIRE(config);
  check_amd64_config(*config);
  auto fetched = storage.requests();
  REQUIRE(fetched.size() == 1);
  CHECK(fetched[0].target == "/bucket/c?X-Amz-Signature=abc123");
  CHECK(fetched[0].headers.count("authorization") == 0);
}

TEST_CASE("image config does not take storage refusing a redirect for bad credentials",
          "[image_config]") {
  LoopbackServer storage([](const ReceivedRequest&) {
    return ScriptedReply{403, {}, "<Error><Code>AccessDenied</Code></Error>"};
  });
  FakeRegistry registry(FakeRegistry::Auth::kNone);
  std::string blob = config_blob("amd64");
  registry.put("/v2/team/app/manifests/1",
               document(kDockerManifest, manifest_for(digest_of('c'), blob)));
  registry.put("/v2/team/app/blobs/" + digest_of('c'),
               ScriptedReply{307, {{"Location", storage.url("/bucket/c?X-Amz-Expires=1")}}, ""});
  auto http = make_curl_http_client(quick_options());
  auto r = read_image_config(*http, registry.ref("team/app", "1"), std::nullopt);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ImageConfigError::Kind::kBadAnswer);
  CHECK(r.error().message == "registry " + registry.host() +
                                 " (redirected to 127.0.0.1:" + std::to_string(storage.port()) +
                                 ") answered 403 for the config blob of team/app:1");
}

TEST_CASE("image config follows a relative redirect on the registry with its credentials",
          "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kBasic);
  std::string blob = config_blob("amd64");
  registry.put("/v2/team/app/manifests/1",
               document(kDockerManifest, manifest_for(digest_of('c'), blob)));
  registry.put("/v2/team/app/blobs/" + digest_of('c'),
               ScriptedReply{302, {{"Location", "/v2/team/app/blobs/moved"}}, ""});
  registry.put("/v2/team/app/blobs/moved", document(kDockerConfig, blob));
  auto http = make_curl_http_client(quick_options());
  auto config = read_image_config(*http, registry.ref("team/app", "1"), team_credentials());
  REQUIRE(config);
  auto moved = registry.requests_to("/v2/team/app/blobs/moved");
  REQUIRE(moved.size() == 1);
  CHECK(moved[0].headers["authorization"] == kBasic);  // same host: still the registry's
}

TEST_CASE("image config gives up on endless redirects", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kNone);
  std::string blob = config_blob("amd64");
  registry.put("/v2/team/app/manifests/1",
               document(kDockerManifest, manifest_for(digest_of('c'), blob)));
  registry.put(
      "/v2/team/app/blobs/" + digest_of('c'),
      ScriptedReply{307, {{"Location", registry.url("/v2/team/app/blobs/" + digest_of('c'))}}, ""});
  auto http = make_curl_http_client(quick_options());
  auto r = read_image_config(*http, registry.ref("team/app", "1"), std::nullopt);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ImageConfigError::Kind::kBadAnswer);
  CHECK(contains(r.error().message, "redirected more than 5 times"));
  CHECK(registry.requests_to("/v2/team/app/blobs/").size() == 6);
}

TEST_CASE("image config reports a missing manifest as not-found", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kNone);
  auto http = make_curl_http_client(quick_options());
  auto r = read_image_config(*http, registry.ref("team/app", "2"), std::nullopt);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ImageConfigError::Kind::kNotFound);
  CHECK(r.error().message == "registry " + registry.host() +
                                 " answered 404 for the manifest of team/app:2 "
                                 "(MANIFEST_UNKNOWN: manifest unknown)");
}

TEST_CASE("image config reports an unreachable registry", "[image_config]") {
  int port = 0;
  {
    LoopbackServer gone([](const ReceivedRequest&) { return ScriptedReply{}; });
    port = gone.port();
  }
  auto http = make_curl_http_client(quick_options());
  std::string host = "127.0.0.1:" + std::to_string(port);
  auto r = read_image_config(*http, ImageReference{host, "team/app", "1", ""}, std::nullopt);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ImageConfigError::Kind::kUnreachable);
  CHECK(contains(r.error().message,
                 "cannot reach registry " + host + " for the manifest of team/app:1"));
}

TEST_CASE("image config reports a registry failing with 5xx as unreachable", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kNone);
  registry.put("/v2/team/app/manifests/1", ScriptedReply{503, {}, "down for maintenance"});
  auto http = make_curl_http_client(quick_options());
  auto r = read_image_config(*http, registry.ref("team/app", "1"), std::nullopt);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ImageConfigError::Kind::kUnreachable);
  CHECK(contains(r.error().message, "answered 503"));
}

TEST_CASE("image config refuses oversize and garbage answers", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kNone);
  auto http = make_curl_http_client(quick_options());
  auto failure = [&](const std::string& tag) {
    auto r = read_image_config(*http, registry.ref("team/app", tag), std::nullopt);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ImageConfigError::Kind::kBadAnswer);
    CHECK(contains(r.error().message, "registry " + registry.host()));
    return r.error().message;
  };

  registry.put("/v2/team/app/manifests/huge",
               document(kDockerManifest, std::string(5u << 20, ' ')));
  CHECK(contains(failure("huge"), "larger than the 4194304 byte limit"));

  registry.put("/v2/team/app/manifests/html", document("text/html", "<html>hello</html>"));
  CHECK(contains(failure("html"), "other than a JSON object"));

  registry.put("/v2/team/app/manifests/schema1",
               document("application/vnd.docker.distribution.manifest.v1+prettyjws",
                        R"({"schemaVersion":1,"name":"team/app","fsLayers":[]})"));
  CHECK(contains(failure("schema1"), "schema 1"));

  registry.put("/v2/team/app/manifests/odd", document("application/vnd.example+json", "{}"));
  CHECK(contains(failure("odd"), "'application/vnd.example+json'"));

  // A manifest whose config digest could escape the blob path.
  registry.put(
      "/v2/team/app/manifests/evil",
      document(
          kDockerManifest,
          json{{"schemaVersion", 2},
               {"mediaType", kDockerManifest},
               {"config",
                {{"mediaType", kDockerConfig}, {"digest", "sha256:../../../etc"}, {"size", 10}}}}
              .dump()));
  CHECK(contains(failure("evil"), "config digest"));

  // A config blob that is not one, or not the size the manifest says.
  registry.put("/v2/team/app/manifests/garbage",
               document(kDockerManifest, manifest_for(digest_of('e'), "not json")));
  registry.put("/v2/team/app/blobs/" + digest_of('e'), document(kDockerConfig, "not json"));
  CHECK(contains(failure("garbage"), "not an image config"));

  registry.put("/v2/team/app/manifests/short",
               document(kDockerManifest, manifest_for(digest_of('f'), config_blob("amd64"))));
  registry.put("/v2/team/app/blobs/" + digest_of('f'), document(kDockerConfig, "{}"));
  CHECK(contains(failure("short"), "2 bytes where the manifest says"));

  json wrong_types = {{"os", "linux"}, {"config", {{"Cmd", "serve --port 80"}}}};
  registry.put("/v2/team/app/manifests/types",
               document(kDockerManifest, manifest_for(digest_of('0'), wrong_types.dump())));
  registry.put("/v2/team/app/blobs/" + digest_of('0'), document(kDockerConfig, wrong_types.dump()));
  CHECK(contains(failure("types"), "config.Cmd is not a list"));

  // An artifact (a Helm chart, a signature) is not a container image.
  registry.put(
      "/v2/team/app/manifests/chart",
      document(kOciManifest, json{{"schemaVersion", 2},
                                  {"mediaType", kOciManifest},
                                  {"config",
                                   {{"mediaType", "application/vnd.cncf.helm.config.v1+json"},
                                    {"digest", digest_of('h')},
                                    {"size", 10}}}}
                                 .dump()));
  CHECK(contains(failure("chart"), "not a container image"));
}

TEST_CASE("image config takes a config without settings as empty", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kNone);
  std::string blob = R"({"architecture":"amd64","os":"linux","config":{"Entrypoint":null}})";
  registry.put_image("team/scratch", "1", blob);
  auto http = make_curl_http_client(quick_options());
  auto config = read_image_config(*http, registry.ref("team/scratch", "1"), std::nullopt);
  REQUIRE(config);
  CHECK(config->entrypoint.empty());
  CHECK(config->cmd.empty());
  CHECK(config->env.empty());
  CHECK(config->working_dir.empty());
  CHECK(config->architecture == "amd64");
}

TEST_CASE("image config keeps credentials and tokens out of traces", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kToken);
  registry.token_needs_credentials();
  registry.put_image("team/private", "2", config_blob("amd64"));
  std::mutex m;
  std::vector<std::string> lines;
  auto options = quick_options();
  options.trace_level = 3;  // headers too
  options.trace_sink = [&](const std::string& line) {
    std::lock_guard lock(m);
    lines.push_back(line);
  };
  auto http = make_curl_http_client(options);
  auto config = read_image_config(*http, registry.ref("team/private", "2"), team_credentials());
  REQUIRE(config);
  REQUIRE_FALSE(lines.empty());
  bool saw_authorization = false;
  for (const auto& line : lines) {
    CHECK_FALSE(contains(line, kPassword));
    CHECK_FALSE(contains(line, kToken));
    CHECK_FALSE(contains(line, "dGVhbTpzM2NyZXQtcGFzcw=="));
    saw_authorization = saw_authorization || contains(line, "Authorization");
  }
  CHECK(saw_authorization);
}

TEST_CASE("image config reports a cancelled client as interrupted", "[image_config]") {
  FakeRegistry registry(FakeRegistry::Auth::kNone);
  std::atomic<bool> cancel{true};
  auto options = quick_options();
  options.cancel = &cancel;
  auto http = make_curl_http_client(options);
  auto r = read_image_config(*http, registry.ref("team/app", "1"), std::nullopt);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ImageConfigError::Kind::kInterrupted);
  CHECK(contains(r.error().message, "registry " + registry.host()));
}

TEST_CASE("image config error kinds have stable names", "[image_config]") {
  CHECK(to_string(ImageConfigError::Kind::kAuth) == "auth");
  CHECK(to_string(ImageConfigError::Kind::kNotFound) == "not-found");
  CHECK(to_string(ImageConfigError::Kind::kUnreachable) == "unreachable");
  CHECK(to_string(ImageConfigError::Kind::kBadAnswer) == "bad-answer");
  CHECK(to_string(ImageConfigError::Kind::kInterrupted) == "interrupted");
}

// --- the platforms an image runs on (a template's default resources.arch) ---

TEST_CASE("an image's platforms: its index's, or its one manifest's", "[image_config][arch]") {
  FakeRegistry registry(FakeRegistry::Auth::kNone);
  auto http = make_curl_http_client(quick_options());

  SECTION("a multi-platform index lists them, and read_image_config says so too") {
    json index = {{"schemaVersion", 2},
                  {"mediaType", kOciIndex},
                  {"manifests",
                   {index_entry(digest_of('1'), "linux", "amd64"),
                    index_entry(digest_of('2'), "linux", "arm64", "v8"),
                    index_entry(digest_of('4'), "unknown", "unknown")}}};
    registry.put("/v2/team/multi/manifests/1", document(kOciIndex, index.dump()));
    std::string blob = config_blob("amd64");
    registry.put("/v2/team/multi/manifests/" + digest_of('1'),
                 document(kOciManifest, manifest_for(digest_of('a'), blob, kOciManifest)));
    registry.put("/v2/team/multi/blobs/" + digest_of('a'), document(kDockerConfig, blob));
    auto platforms = read_image_platforms(*http, registry.ref("team/multi", "1"), std::nullopt);
    REQUIRE(platforms);
    CHECK(*platforms == std::vector<std::string>{"linux/amd64", "linux/arm64/v8"});
    CHECK(default_arch_of_platforms(*platforms) == CpuArch::kX86_64);
    auto config = read_image_config(*http, registry.ref("team/multi", "1"), std::nullopt);
    REQUIRE(config);
    CHECK(config->index_platforms == *platforms);
  }
  SECTION("an index with only arm64 is an arm64 image, not an error") {
    json index = {{"schemaVersion", 2},
                  {"mediaType", kOciIndex},
                  {"manifests", {index_entry(digest_of('2'), "linux", "arm64", "v8")}}};
    registry.put("/v2/team/grace/manifests/1", document(kOciIndex, index.dump()));
    auto platforms = read_image_platforms(*http, registry.ref("team/grace", "1"), std::nullopt);
    REQUIRE(platforms);
    CHECK(*platforms == std::vector<std::string>{"linux/arm64/v8"});
    CHECK(default_arch_of_platforms(*platforms) == CpuArch::kArm64);
  }
  SECTION("a single-platform arm64 image is arm64") {
    registry.put_image("team/one", "1", config_blob("arm64", "v8"), 'c', kOciManifest);
    auto platforms = read_image_platforms(*http, registry.ref("team/one", "1"), std::nullopt);
    REQUIRE(platforms);
    CHECK(*platforms == std::vector<std::string>{"linux/arm64/v8"});
    CHECK(default_arch_of_platforms(*platforms) == CpuArch::kArm64);
    auto config = read_image_config(*http, registry.ref("team/one", "1"), std::nullopt);
    REQUIRE(config);
    CHECK(config->index_platforms.empty());
  }
  SECTION("a missing image is still an error") {
    auto r = read_image_platforms(*http, registry.ref("team/none", "1"), std::nullopt);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ImageConfigError::Kind::kNotFound);
  }
}

TEST_CASE("the default arch of an image's platforms", "[image_config][arch]") {
  CHECK(default_arch_of_platforms({"linux/arm64/v8", "linux/amd64"}) == CpuArch::kX86_64);
  CHECK(default_arch_of_platforms({"linux/arm64"}) == CpuArch::kArm64);
  CHECK(default_arch_of_platforms({"linux/arm/v7", "windows/amd64"}) == std::nullopt);
  CHECK(default_arch_of_platforms({}) == std::nullopt);
}
