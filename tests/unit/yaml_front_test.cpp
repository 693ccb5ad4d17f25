// The YAML front end templates and the config share (src/yaml_document.h,
// src/yaml_reader.h): what it refuses, and how `${VAR}` reads in flow
// collections, checked through both kinds of file.
#include <catch2/catch.hpp>

#include "berth/config.h"
#include "berth/launch_template.h"
#include "yaml_document.h"

using namespace berth;

namespace {

const Environment kEnv = Environment::from_map({{"TAG", "v2"}, {"K", "key-1"}, {"P", "p"}});

Expected<LaunchTemplate, Diagnostics> parse(const std::string& text) {
  return parse_template(text, "t.yaml", kEnv);
}

std::string errors_of(const Diagnostics& ds) {
  std::string out;
  for (const auto& d : ds) out += format_diagnostic(d);
  return out;
}

}  // namespace

TEST_CASE("flow ${VAR} values are quoted before YAML reads them, and only they",
          "[yaml-front]") {
  auto q = quote_flow_variables("a: {x: ${K}, y: [${P}, it's], z: pre-${P}-post}  # {${P}\n");
  CHECK(q.text == "a: {x: '${K}', y: ['${P}', it's], z: 'pre-${P}-post'}  # {${P}\n");
  CHECK(q.inserted.at(0) == std::vector<int>{7, 12, 19, 24, 37, 51});
  // Block scalars, quoted values and plain text outside flow stay as written.
  const std::string untouched =
      "s: |\n  {a: ${P}}\n  [${P}]\nt: \"{a: ${P}}\"\nu: echo [${P}]\nv: >-\n  x {${P}}\nw: ok\n";
  CHECK(quote_flow_variables(untouched).text == untouched);
  CHECK(quote_flow_variables(untouched).inserted.empty());
  // An apostrophe inside a plain value opens no quote.
  CHECK(quote_flow_variables("a: it's\nb: {c: ${P}}\n").text == "a: it's\nb: {c: '${P}'}\n");
}

TEST_CASE("templates read flow ${VAR} values as written", "[yaml-front]") {
  auto t = parse(
      "name: app\nimage: busybox\nenv: {A: ${TAG}, B: x-${TAG}-y, C: \"${TAG}\"}\n"
      "placement: {providers: [${P}-*]}\n");
  INFO((t ? "" : errors_of(t.error())));
  REQUIRE(t);
  REQUIRE(t->env.size() == 3);
  CHECK(t->env[0].second.value == "v2");
  CHECK(t->env[0].second.secret);
  CHECK(t->env[1].second.value == "x-v2-y");
  CHECK(t->env[2].second.value == "v2");
  // Not expanded there, but read as the plain value it was written as.
  CHECK(t->placement.providers == std::vector<std::string>{"${P}-*"});

  // Positions stay those of the text as written; a flow value berth quoted
  // is no "string" the user quoted.
  auto bad = parse("name: app\nimage: busybox\nports: [${P}]\nenv: {A: ${NOPE}}\n");
  REQUIRE_FALSE(bad);
  const auto all = errors_of(bad.error());
  INFO(all);
  CHECK_THAT(all, Catch::Contains("t.yaml:3:9: error: ports[0]: expected a whole number, got "
                                  "'${P}'"));
  CHECK_THAT(all, Catch::Contains("t.yaml:4:10: error: env.A: environment variable NOPE is not set"));
  CHECK_THAT(all, !Catch::Contains("remove the quotes"));
}
