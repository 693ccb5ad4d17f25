// The YAML front end templates and the config share (src/input/yaml_document.h,
// src/input/yaml_reader.h): what it refuses, and how `${VAR}` reads in flow
// collections, checked through both kinds of file.
#include <catch2/catch.hpp>

#include "berth/config/config.h"
#include "berth/template/launch_template.h"
#include "input/yaml_document.h"

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

TEST_CASE("a quote that is never closed is refused where it opened", "[yaml-front]") {
  auto never = parse("name: \"app\nimage: busybox\n");
  REQUIRE_FALSE(never);
  REQUIRE(never.error().size() == 1);
  CHECK(format_diagnostic(never.error()[0]) ==
        "t.yaml:1:7: error: this double-quoted value is never closed (it would run to the end "
        "of the file)\n"
        "  name: \"app\n"
        "        ^\n"
        "  hint: add the closing \" on this line\n");
  auto single = parse("name: app\nimage: busybox\nenv:\n  A: 'it''s\n  B: x\n");
  REQUIRE_FALSE(single);
  CHECK_THAT(errors_of(single.error()),
             Catch::Contains("t.yaml:4:6: error: this single-quoted value is never closed"));
}

TEST_CASE("a quote closed lines later, past lines indented like keys, is refused",
          "[yaml-front]") {
  // The quote on A's line is closed by the one opening C's value: B would
  // silently become part of A.
  auto keys = parse("name: app\nimage: busybox\nenv:\n  A: \"x\n  B: y\n  C: \"z\"\n");
  REQUIRE_FALSE(keys);
  const auto all = errors_of(keys.error());
  INFO(all);
  CHECK_THAT(all, Catch::StartsWith("t.yaml:4:6: error: this double-quoted value is not closed on "
                                    "its line and runs on to line 5, which is indented like a "
                                    "key\n"));
  // In a flow mapping: the next top-level key is not part of the value either.
  auto flow = parse("env: {A: \"x, B: y}\nname: app\nimage: \"busybox\"\n");
  REQUIRE_FALSE(flow);
  CHECK_THAT(errors_of(flow.error()),
             Catch::Contains("t.yaml:1:10: error: this double-quoted value is not closed on its "
                             "line and runs on to line 2"));
}

TEST_CASE("quoted values may go on over lines indented more than their key", "[yaml-front]") {
  auto t = parse(
      "name: app\nimage: busybox\n"
      "env:\n"
      "  A: \"line one\n"
      "    line two\"\n"
      "  B: 'it''s\n"
      "\n"
      "    fine'\n"
      "  C: \"a \\\" b\n"
      "     c\"\n"
      "  D:\n"
      "    \"on the next\n"
      "     line\"\n"
      "command: \"echo a\n"
      "  b\"\n"
      "placement: {providers: [\"x\n"
      "  y\"]}\n");
  INFO((t ? "" : errors_of(t.error())));
  REQUIRE(t);
  REQUIRE(t->env.size() == 4);
  CHECK(t->env[0].second.value == "line one line two");
  CHECK(t->env[1].second.value == "it's\nfine");
  CHECK(t->env[2].second.value == "a \" b c");
  CHECK(t->env[3].second.value == "on the next line");
  REQUIRE(t->command);
  CHECK(t->command->argv[0].value == "echo a b");
  CHECK(t->placement.providers == std::vector<std::string>{"x y"});
}

TEST_CASE("an alias inside the node its anchor names is refused, not walked forever",
          "[yaml-front]") {
  for (const std::string text : {"name: app\nimage: x\nenv: &a {A: *a}\n",
                                 "name: app\nimage: x\nplacement: {providers: &p [*p]}\n",
                                 "x: &a [*a]\nname: app\nimage: x\n"}) {
    auto t = parse(text);
    REQUIRE_FALSE(t);
    INFO(errors_of(t.error()));
    REQUIRE(t.error().size() == 1);
    CHECK(t.error()[0].line > 0);
    CHECK_THAT(t.error()[0].message, Catch::Contains("would be infinite"));
  }
}
