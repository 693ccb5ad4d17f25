// Errors in user files (templates, config): each names file:line:col, shows
// the source line with a caret, and may carry a hint.
#pragma once

#include <string>
#include <vector>

namespace berth {

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when the error is about the whole file
  int column = 0;  // 1-based
  std::string message;
  std::string source_line;  // the offending line, without its newline
  std::string hint;         // "did you mean 'memory'?" etc; may be empty
};

using Diagnostics = std::vector<Diagnostic>;

/// "file:line:col: error: message\n  source\n  ^\nhint: ..." exactly as printed.
std::string format_diagnostic(const Diagnostic& d);

/// The closest of `candidates` to `word` by edit distance, or "" when none is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace berth
