#include <catch2/catch.hpp>

#include "berth/deploy/deployments.h"

using namespace berth;

namespace {
Instance inst(std::string name, std::string provider = "lambda",
              InstanceState state = InstanceState::kRunning) {
  Instance i;
  i.name = std::move(name);
  i.provider = std::move(provider);
  i.id = i.name + "@" + i.provider;
  i.state = state;
  return i;
}
}  // namespace

TEST_CASE("instances group into deployments by name, across providers", "[deployments]") {
  auto d = group_deployments({inst("berth-web-1-aaaaaaaaaaaa", "runpod"),
                              inst("berth-web-0-aaaaaaaaaaaa"),
                              inst("berth-my-api-0-bbbbbbbbbbbb"),
                              inst("not-ours"),
                              inst("berth-web-2-aaaaaaaaaaaa", "vast", InstanceState::kTerminated)});
  REQUIRE(d.size() == 2);
  CHECK(d[0].name == "my-api");
  CHECK(d[1].name == "web");
  REQUIRE(d[1].replicas.size() == 2);
  CHECK(d[1].replicas[0].replica == 0);
  CHECK(d[1].replicas[1].instance.provider == "runpod");
  CHECK(d[1].template_hash == "aaaaaaaaaaaa");
}

TEST_CASE("labels identify instances whose names the provider changed", "[deployments]") {
  auto i = inst("renamed-by-provider");
  i.labels = {{"berth.deployment", "web"}, {"berth.replica", "3"}, {"berth.hash", "cccccccccccc"}};
  auto d = group_deployments({i});
  REQUIRE(d.size() == 1);
  CHECK(d[0].name == "web");
  CHECK(d[0].replicas[0].replica == 3);
}

TEST_CASE("mid-replacement, the hash most replicas run is the deployment's", "[deployments]") {
  auto d = group_deployments({inst("berth-web-0-bbbbbbbbbbbb"), inst("berth-web-1-aaaaaaaaaaaa"),
                              inst("berth-web-2-bbbbbbbbbbbb")});
  REQUIRE(d.size() == 1);
  CHECK(d[0].template_hash == "bbbbbbbbbbbb");
  auto listing = find_deployments(InstanceListing{{inst("berth-a-0-aaaaaaaaaaaa"), inst("berth-b-0-aaaaaaaaaaaa")}, {}},
                                  std::string("b"));
  REQUIRE(listing.deployments.size() == 1);
  CHECK(listing.deployments[0].name == "b");
}
