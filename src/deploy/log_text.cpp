#include "berth/deploy/log_text.h"

#include <deque>

#include <fmt/format.h>

#include "berth/provider/provider.h"

namespace berth {

std::string bounded_log_line(std::string_view line, std::size_t max_bytes) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.size() <= max_bytes) return std::string(line);
  // Cut on a UTF-8 character boundary: no half character reaches the screen.
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) --end;
  return fmt::format("{} [... {} more bytes]", line.substr(0, end), line.size() - end);
}

std::vector<std::string> last_log_lines(std::string_view text, std::size_t tail, bool cut_front) {
  std::deque<std::string_view> kept;
  if (tail == 0) return {};
  std::size_t start = 0;
  if (cut_front) {
    auto nl = text.find('\n');
    start = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    kept.push_back(text.substr(start, end - start));
    if (kept.size() > tail) kept.pop_front();
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  std::vector<std::string> out;
  out.reserve(kept.size());
  for (auto l : kept) out.push_back(bounded_log_line(l, kMaxLogLineBytes));
  return out;
}

std::string log_block(const std::string& title, const std::vector<std::string>& lines) {
  std::string out = "----- " + title + " -----\n";
  if (lines.empty()) out += "  (the log is empty)\n";
  for (const auto& l : lines) out += "  | " + l + "\n";
  out += "----- end of the log -----\n";
  return out;
}

}  // namespace berth
