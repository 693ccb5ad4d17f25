// The one quoting function for remote commands. ssh hands the remote side a
// single string that a POSIX shell parses, so every token berth puts in it is
// quoted here and nowhere else: a value like `$(reboot)` stays literal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth {

/// `text` as one POSIX shell word: single-quoted, each embedded single quote
/// written as '\''. The empty string becomes ''.
std::string shell_quote(std::string_view text);

/// Every element quoted and joined with spaces: an argv for a remote shell.
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace berth
