// shell_quote/shell_join (berth/common/shell_quote.h) round trip: arbitrary bytes,
// quoted, must come back from a POSIX shell's parse exactly. The input is
// split at NUL bytes into arguments (no argument can hold one). Every input
// is checked against an exact model of how sh reads the quoting; the first
// inputs of a run, and then one in a hundred, also go through a real
// `sh -c`, at most kMaxShells times per process: a shell costs a
// millisecond, the model a microsecond.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "berth/common/process.h"
#include "berth/common/shell_quote.h"

namespace {

constexpr int kMaxShells = 400;

// How sh reads a string made of single-quoted words, '\'' escapes and
// spaces: the words, or nothing when it is not of that form.
bool parse_quoted(const std::string& s, std::vector<std::string>* words) {
  std::string cur;
  bool in_word = false;
  for (std::size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == ' ') {
      if (!in_word) return false;  // shell_join puts exactly one space between words
      words->push_back(cur);
      cur.clear();
      in_word = false;
      ++i;
    } else if (c == '\'') {
      auto end = s.find('\'', i + 1);
      if (end == std::string::npos) return false;
      cur.append(s, i + 1, end - i - 1);
      in_word = true;
      i = end + 1;
    } else if (c == '\\' && i + 1 < s.size() && s[i + 1] == '\'') {
      cur += '\'';
      in_word = true;
      i += 2;
    } else {
      return false;  // anything else outside quotes would be shell syntax
    }
  }
  if (in_word) words->push_back(cur);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static int inputs = 0;
  static int shells = 0;
  std::vector<std::string> args(1);
  for (std::size_t i = 0; i < size && args.size() <= 16; ++i) {
    if (data[i] == 0)
      args.emplace_back();
    else
      args.back() += static_cast<char>(data[i]);
  }
  for (const auto& a : args) {
    std::vector<std::string> one;
    if (!parse_quoted(berth::shell_quote(a), &one) || one != std::vector<std::string>{a})
      __builtin_trap();
  }
  auto joined = berth::shell_command(args);
  if (!joined) __builtin_trap();  // no argument holds a NUL
  std::vector<std::string> words;
  if (!parse_quoted(*joined, &words) || words != args) __builtin_trap();

  if (++inputs > 50 && inputs % 100 != 0) return 0;
  if (shells >= kMaxShells) return 0;
  ++shells;
  // printf repeats its format for each argument: every argument, then NUL.
  auto r = berth::system_process_runner().run(
      {.argv = {"sh", "-c", "printf '%s\\0' " + *joined}, .timeout = berth::Duration{10'000}});
  if (!r || !r->ok()) __builtin_trap();
  std::string expected;
  for (const auto& a : args) expected += a + std::string(1, '\0');
  if (r->out != expected) __builtin_trap();
  return 0;
}
