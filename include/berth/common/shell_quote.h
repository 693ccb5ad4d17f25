// The one quoting function for remote commands. ssh hands the remote side a
// single string that a POSIX shell parses, so every token berth puts in it is
// quoted here and nowhere else: a value like `$(reboot)` stays literal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/common/expected.h"

namespace berth {

/// `text` as one POSIX shell word: single-quoted, each embedded single quote
/// written as '\''. The empty string becomes ''. A NUL byte cannot be part of
/// any process argument, so NUL bytes are dropped; callers that must not lose
/// bytes use shell_command, which refuses them.
std::string shell_quote(std::string_view text);

/// Every element quoted and joined with spaces: an argv for a remote shell.
std::string shell_join(const std::vector<std::string>& argv);

/// shell_join for commands berth sends: refuses an empty argv and any
/// argument with a NUL byte (naming it) instead of silently changing it.
Expected<std::string, std::string> shell_command(const std::vector<std::string>& argv);

}  // namespace berth
