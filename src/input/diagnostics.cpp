#include "berth/input/diagnostics.h"

#include <algorithm>
#include <cctype>

namespace berth {

std::string format_diagnostic(const Diagnostic& d) {
  std::string out = d.file;
  if (d.line > 0) {
    out += ":" + std::to_string(d.line);
    if (d.column > 0) out += ":" + std::to_string(d.column);
  }
  out += ": error: " + d.message + "\n";
  if (d.line > 0 && !d.source_line.empty()) {
    // Tabs keep their width in the caret line so the caret lands under the column.
    std::string src = d.source_line;
    if (src.size() > 160) src = src.substr(0, 157) + "...";
    out += "  " + src + "\n  ";
    // Columns count code points, so the caret lands right after non-ASCII text.
    int col = std::max(1, d.column);
    int seen = 0;
    for (std::size_t i = 0; i < src.size() && seen + 1 < col; ++i) {
      const unsigned char c = static_cast<unsigned char>(src[i]);
      if ((c & 0xC0) == 0x80) continue;  // continuation byte
      out += c == '\t' ? '\t' : ' ';
      ++seen;
    }
    out += "^\n";
  }
  if (!d.hint.empty()) out += "  hint: " + d.hint + "\n";
  return out;
}

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                               std::tolower(static_cast<unsigned char>(b[j - 1]))
                                           ? 0
                                           : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  // Close enough to be a typo: at most a third of the word, and at least one edit allowed.
  std::size_t limit = std::max<std::size_t>(1, (word.size() + 2) / 3);
  return best_distance <= limit ? best : std::string();
}

}  // namespace berth
