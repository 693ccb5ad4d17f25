// Reading a file a user named — a template, the config, a key file
// (`api_key_file:`), saved offers (`plan --offers`) — through one bounded
// reader: a regular file only (a FIFO would block forever, /dev/zero would
// fill memory), never more than a cap, opened without blocking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "berth/common/expected.h"

namespace berth {

struct FileReadError {
  enum class Kind {
    kMissing,     // no such file
    kUnreadable,  // exists, but cannot be opened or read (`reason` says why)
    kNotRegular,  // a directory, FIFO, device or socket (`reason`: "a named pipe")
    kTooBig,      // `size` bytes (at least), more than the cap
  };
  Kind kind = Kind::kUnreadable;
  std::string reason;  // strerror's text, or what the file is instead
  std::uint64_t size = 0;

  /// "does not exist", "cannot be read: Permission denied", "is a named
  /// pipe, not a regular file", "is 2.1 MB, more than the 1 MiB allowed".
  std::string describe(std::size_t max_bytes) const;
};

/// The whole content of `path`, if it is a regular file of at most
/// `max_bytes` bytes. Never blocks on a FIFO, never reads past the cap.
Expected<std::string, FileReadError> read_user_file(const std::filesystem::path& path,
                                                    std::size_t max_bytes);

/// "1 MiB", "64 KiB", "32 MiB": how the caps read in messages.
std::string format_cap(std::size_t bytes);

}  // namespace berth
