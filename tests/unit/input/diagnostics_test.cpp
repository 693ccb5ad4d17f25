#include "berth/input/diagnostics.h"

#include <catch2/catch.hpp>

#include "input/source_text.h"

using namespace berth;

TEST_CASE("a diagnostic shows file:line:col, the line, a caret and the hint", "[diagnostics]") {
  Diagnostic d{"t.yaml", 3, 5, "unknown key 'memroy'", "  memroy: 32GB", "did you mean 'memory'?"};
  CHECK(format_diagnostic(d) ==
        "t.yaml:3:5: error: unknown key 'memroy'\n"
        "    memroy: 32GB\n"
        "      ^\n"
        "  hint: did you mean 'memory'?\n");
}

TEST_CASE("a whole-file diagnostic has no position and no source line", "[diagnostics]") {
  Diagnostic d{"big.yaml", 0, 0, "file is 10MB", "", ""};
  CHECK(format_diagnostic(d) == "big.yaml: error: file is 10MB\n");
}

TEST_CASE("the caret counts code points and keeps tabs", "[diagnostics]") {
  Diagnostic d{"t.yaml", 1, 6, "m", "\"éé\": x", ""};
  CHECK(format_diagnostic(d) == "t.yaml:1:6: error: m\n  \"éé\": x\n       ^\n");
  Diagnostic tab{"t.yaml", 1, 3, "m", "\t\tx", ""};
  CHECK(format_diagnostic(tab) == "t.yaml:1:3: error: m\n  \t\tx\n  \t\t^\n");
}

TEST_CASE("did you mean picks a close candidate or nothing", "[diagnostics]") {
  std::vector<std::string> keys = {"memory", "disk", "cpus", "gpu"};
  CHECK(did_you_mean("memroy", keys) == "memory");
  CHECK(did_you_mean("cpu", keys) == "cpus");
  CHECK(did_you_mean("Disk", keys) == "disk");
  CHECK(did_you_mean("completely-different", keys) == "");
}

TEST_CASE("source columns convert yaml-cpp byte offsets to code points", "[diagnostics]") {
  SourceText src("t.yaml", "a: 1\nname: \"héllo\", x\r\n");
  CHECK(src.line(1) == "name: \"héllo\", x");
  CHECK(src.column(1, 0) == 1);
  CHECK(src.column(1, 15) == 15);  // the ',' after a two-byte 'é'
  CHECK(src.line(7).empty());
}

TEST_CASE("the sink sorts by position and shows unprintable bytes as '?'", "[diagnostics]") {
  SourceText src("t.yaml", "a: 1\nb: \x01x\n");
  DiagnosticSink sink(src);
  sink.error(1, 3, "second");
  sink.error(0, 0, "first");
  sink.error(0, 0, "first");  // the same error twice is said once
  auto all = sink.take();
  REQUIRE(all.size() == 2);
  CHECK(all[0].message == "first");
  CHECK(all[1].line == 2);
  CHECK(all[1].source_line == "b: ?x");
}

TEST_CASE("binary and invalid UTF-8 are refused at their position", "[diagnostics]") {
  SourceText nul("t.yaml", std::string("name: x\nimage: a\0b\n", 19));
  DiagnosticSink sink(nul);
  CHECK_FALSE(check_text_encoding(nul, sink));
  auto d = sink.take();
  REQUIRE(d.size() == 1);
  CHECK(d[0].line == 2);
  CHECK(d[0].column == 9);
  CHECK_THAT(d[0].message, Catch::Contains("NUL"));

  for (std::string bad : {"\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    SourceText s("t.yaml", "name: ok\nimage: " + bad + "\n");
    DiagnosticSink k(s);
    CHECK_FALSE(check_text_encoding(s, k));
    auto e = k.take();
    REQUIRE(e.size() == 1);
    CHECK(e[0].line == 2);
    CHECK(e[0].column == 8);
    CHECK_THAT(e[0].message, Catch::Contains("invalid UTF-8"));
  }
  SourceText good("t.yaml", "name: héllo 日本 🚀\n");
  DiagnosticSink g(good);
  CHECK(check_text_encoding(good, g));
}
