#include "berth/image_config.h"

#include <catch2/catch.hpp>

using namespace berth;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
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
