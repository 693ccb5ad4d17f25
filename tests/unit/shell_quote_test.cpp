#include <catch2/catch.hpp>

#include "berth/process.h"
#include "berth/shell_quote.h"

using namespace berth;

TEST_CASE("shell_quote wraps in single quotes and escapes embedded ones", "[shell_quote]") {
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("plain") == "'plain'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("''") == "''\\'''\\'''");
  CHECK(shell_join({"podman", "ps", "-a"}) == "'podman' 'ps' '-a'");
  CHECK(shell_join({}) == "");
}

TEST_CASE("hostile values survive a real shell literally", "[shell_quote]") {
  const std::vector<std::string> hostile = {
      "$(touch /tmp/berth-quote-never)",
      "`id`",
      "a'b\"c",
      "'; rm -rf / #",
      "$HOME ${PATH} $$ $?",
      "line1\nline2",
      "tab\there",
      "*.cpp ? [a-z]",
      "back\\slash\\",
      "!event ~user &bg |pipe ;seq <in >out",
      "",
      "'",
      "\\'",
      "ünïcödé ✓",
  };
  for (const auto& value : hostile) {
    // printf %s prints its argument unchanged: what sh received is what we quoted.
    std::string script = "printf %s " + shell_quote(value);
    auto r = system_process_runner().run({.argv = {"sh", "-c", script}});
    REQUIRE(r);
    CHECK(r->exit_code == 0);
    CHECK(r->out == value);
  }
  auto joined = system_process_runner().run(
      {.argv = {"sh", "-c", "printf '[%s]' " + shell_join(hostile)}});
  REQUIRE(joined);
  std::string expected;
  for (const auto& v : hostile) expected += "[" + v + "]";
  CHECK(joined->out == expected);
}
