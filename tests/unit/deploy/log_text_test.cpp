// Reading container logs from untrusted answers: SSE framing (RunPod), plain
// text (Vast.ai, runtimes), each bounded; and the block `up` prints.
#include <catch2/catch.hpp>

#include "berth/common/output.h"
#include "berth/deploy/log_text.h"
#include "berth/provider/provider.h"
#include "providers/common/sse.h"
#include "providers/runpod/runpod_provider.h"

using namespace berth;

TEST_CASE("sse: events, comments, CRLF and CR line ends, multi-line data", "[sse][logs]") {
  std::string text =
      ": hello\r\n"
      "id: 1\r\ndata: one\r\n\r\n"
      "event: x\rdata:two\rdata:  three\r\r"
      "retry: 5\nunknown: y\nnocolon\ndata: four\n\n";
  auto events = sse::parse(text, 10, 1000);
  REQUIRE(events.size() == 3);
  CHECK(events[0].id == "1");
  CHECK(events[0].data == "one");
  CHECK(events[1].type == "x");
  CHECK(events[1].data == "two\n three");
  CHECK(events[2].data == "four");
}

TEST_CASE("sse: only the last events, data capped, a cut front skipped, a final event kept",
          "[sse][logs]") {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "data: " + std::to_string(i) + "\n\n";
  auto last = sse::parse(text, 3, 1000);
  REQUIRE(last.size() == 3);
  CHECK(last[0].data == "97");
  CHECK(last[2].data == "99");
  auto capped = sse::parse("data: " + std::string(10000, 'x') + "\ndata: y\n\n", 5, 100);
  REQUIRE(capped.size() == 1);
  CHECK(capped[0].data.size() == 100);
  // A front cut mid-event: that partial event is not read as one.
  auto cut = sse::parse("ta: tail of a cut event\n\ndata: whole\n\n", 5, 100, true);
  REQUIRE(cut.size() == 1);
  CHECK(cut[0].data == "whole");
  // The documented example ends its event with one newline.
  auto unterminated = sse::parse("id: a\ndata: {\"line\":\"x\"}\n", 5, 100);
  REQUIRE(unterminated.size() == 1);
  CHECK(sse::parse("", 5, 100).empty());
  CHECK(sse::parse(std::string("\0\0\xff\xfe", 4), 5, 100).empty());
}

TEST_CASE("sse: keep-alive pieces are only comments", "[sse][logs]") {
  CHECK(sse::only_comments(": keep-alive\n\n"));
  CHECK(sse::only_comments(":\r\n"));
  CHECK_FALSE(sse::only_comments(": keep-alive\ndata: x\n\n"));
  CHECK_FALSE(sse::only_comments(": cut mid-li"));
  CHECK_FALSE(sse::only_comments("\n"));
  CHECK_FALSE(sse::only_comments(""));
}

TEST_CASE("runpod: log stream lines, hostile events skipped, bounded", "[runpod][sse][logs]") {
  std::string body =
      "id: t/1\ndata: {\"ts\":\"t\",\"source\":\"container\",\"line\":\"Model loaded.\"}\n\n"
      "id: t/2\ndata: {\"ts\":\"t\",\"source\":\"system\",\"line\":\"pulling\"}\n\n"
      "data: not json\n\n"
      "data: [1,2]\n\n"
      "data: {\"line\": 5}\n\n"
      "data: {\"source\":\"container\",\"line\":\"\\u001b]0;pwned\\u0007\\u001b[2Jred\\r\\nsecond\"}\n\n"
      "data: {\"source\":\"container\",\"line\":\"" + std::string(100000, 'A') + "\"}\n\n";
  auto lines = runpod::parse_log_stream(body, 10);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "Model loaded.");
  CHECK(lines[1] == "\x1b]0;pwned\x07\x1b[2Jred");  // as sent but its CRLF; print_text escapes it
  CHECK(lines[2] == "second");
  CHECK(lines[3].size() < kMaxLogLineBytes + 64);
  CHECK(lines[3].find("more bytes]") != std::string::npos);
  // Printed, nothing of it can drive the terminal.
  std::string shown = terminal_text(lines[1]);
  CHECK(shown.find('\x1b') == std::string::npos);
  CHECK(shown.find('\x07') == std::string::npos);
  CHECK(terminal_text("a\rb").find('\r') == std::string::npos);
  CHECK(runpod::parse_log_stream(body, 2).size() == 2);
  CHECK(runpod::parse_log_stream("garbage\x01\x02", 10).empty());
}

TEST_CASE("log text: last lines, CRLF, a cut front, long lines cut on a character",
          "[logs]") {
  CHECK(last_log_lines("a\nb\r\nc\n", 2) == std::vector<std::string>{"b", "c"});
  CHECK(last_log_lines("a\nb\nc", 5) == std::vector<std::string>{"a", "b", "c"});
  CHECK(last_log_lines("partial\nwhole\n", 5, true) == std::vector<std::string>{"whole"});
  CHECK(last_log_lines("", 5).empty());
  CHECK(last_log_lines("x\n", 0).empty());
  std::string wide;
  for (int i = 0; i < 3000; ++i) wide += "\xc3\xa9";  // é, two bytes each
  auto cut = last_log_lines(wide, 1);
  REQUIRE(cut.size() == 1);
  CHECK(cut[0].rfind("\xc3\xa9", 0) == 0);
  CHECK(cut[0].find(" [... ") == kMaxLogLineBytes);
  CHECK(terminal_text(cut[0]).find("\\x") == std::string::npos);  // no half character
}

TEST_CASE("log block: delimited, every line prefixed", "[logs]") {
  auto block = log_block("last 2 lines of the log", {"berth: error: forged", "ok"});
  CHECK(block ==
        "----- last 2 lines of the log -----\n"
        "  | berth: error: forged\n"
        "  | ok\n"
        "----- end of the log -----\n");
  CHECK(log_block("t", {}).find("(the log is empty)") != std::string::npos);
}
