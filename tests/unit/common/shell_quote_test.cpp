#include "berth/common/shell_quote.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "berth/common/process.h"

using namespace berth;

namespace {

// Runs `printf '%s\0' <joined argv>` through a real shell and splits what
// arrives, so the test checks what the shell does, not what we expect of it.
std::vector<std::string> through_shell(std::vector<std::string> shell,
                                       const std::vector<std::string>& argv) {
  auto joined = shell_command(argv);
  REQUIRE(joined);
  shell.push_back("-c");
  shell.push_back("printf '%s\\0' " + *joined);
  auto r = system_process_runner().run({.argv = shell});
  REQUIRE(r);
  REQUIRE(r->exit_code == 0);
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < r->out.size()) {
    auto end = r->out.find('\0', start);
    REQUIRE(end != std::string::npos);
    out.push_back(r->out.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Every POSIX shell a host might log in with.
std::vector<std::vector<std::string>> shells() {
  std::vector<std::vector<std::string>> found;
  for (const char* s : {"sh", "dash", "bash"})
    if (find_program(s)) found.push_back({s});
  if (find_program("busybox")) found.push_back({"busybox", "sh"});
  return found;
}

}  // namespace

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
  auto joined =
      system_process_runner().run({.argv = {"sh", "-c", "printf '[%s]' " + shell_join(hostile)}});
  REQUIRE(joined);
  std::string expected;
  for (const auto& v : hostile) expected += "[" + v + "]";
  CHECK(joined->out == expected);
}

TEST_CASE("shell_quote drops NUL bytes; shell_command refuses them", "[shell_quote]") {
  using namespace std::string_literals;
  CHECK(shell_quote("a\0b"s) == "'ab'");
  auto joined = shell_command({"echo", "a\0b"s});
  REQUIRE_FALSE(joined);
  CHECK(joined.error().find("argument 2") != std::string::npos);
  CHECK_FALSE(shell_command({}));
}

TEST_CASE("hostile arguments reach every shell literally and execute nothing", "[shell_quote]") {
  auto dir = std::filesystem::temp_directory_path() / ("berth-quote-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string marker = (dir / "pwned").string();
  std::vector<std::string> hostile = {
      "$(touch " + marker + ")",
      "`touch " + marker + "`",
      "; touch " + marker,
      "&& touch " + marker,
      "| touch " + marker,
      "x\ntouch " + marker + "\n",
      "'; touch " + marker + "; echo '",
      "\"$(touch " + marker + ")\"",
      "\\'\\\\",
      "'",
      "''",
      "\"",
      "$HOME ${PATH} $$ $? $1 $@ $*",
      "*",
      "~",
      "a b\tc",
      "",
      "-n",
      "--help",
      "-e",
      "#comment",
      "héllo wörld ✓ 日本語 \xf0\x9f\x9a\x80",
      "\x01\x02\x7f\xff\xfe",
      "!event",
      "{a,b}",
      "> " + marker,
  };
  for (const auto& shell : shells()) {
    INFO("shell: " << shell.front());
    auto got = through_shell(shell, hostile);
    CHECK(got == hostile);
    for (const auto& token : hostile) {
      INFO("token: " << token);
      CHECK(through_shell(shell, {token}) == std::vector<std::string>{token});
    }
  }
  CHECK_FALSE(std::filesystem::exists(marker));
  std::filesystem::remove_all(dir);
}

TEST_CASE("every byte value survives quoting", "[shell_quote]") {
  std::string all;
  for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
  CHECK(through_shell({"sh"}, {all, all + "'" + all}) ==
        std::vector<std::string>{all, all + "'" + all});
}
