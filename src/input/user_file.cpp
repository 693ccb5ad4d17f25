#include "berth/input/user_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "berth/common/units.h"

namespace berth {

namespace {

std::string what_it_is(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a named pipe";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string format_cap(std::size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1u << 10) && bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

std::string FileReadError::describe(std::size_t max_bytes) const {
  switch (kind) {
    case Kind::kMissing:
      return "does not exist";
    case Kind::kUnreadable:
      return "cannot be read: " + reason;
    case Kind::kNotRegular:
      return "is " + reason + ", not a regular file";
    case Kind::kTooBig:
      return "is " + format_size(size) + ", more than the " + format_cap(max_bytes) + " allowed";
  }
  return reason;
}

Expected<std::string, FileReadError> read_user_file(const std::filesystem::path& path,
                                                    std::size_t max_bytes) {
  using Kind = FileReadError::Kind;
  // O_NONBLOCK: opening a FIFO nobody writes to would otherwise wait forever.
  // It changes nothing for the regular files that are read below.
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)};
  if (f.fd < 0) {
    const int e = errno;
    return unexpected(FileReadError{e == ENOENT || e == ENOTDIR ? Kind::kMissing : Kind::kUnreadable,
                                    std::strerror(e), 0});
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    return unexpected(FileReadError{Kind::kUnreadable, std::strerror(errno), 0});
  if (!S_ISREG(st.st_mode))
    return unexpected(FileReadError{Kind::kNotRegular, what_it_is(st.st_mode), 0});
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    return unexpected(
        FileReadError{Kind::kTooBig, "", static_cast<std::uint64_t>(st.st_size)});
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  // A file may grow while it is read (or be a /proc file that says 0 bytes):
  // one byte past the cap is enough to refuse it.
  while (text.size() <= max_bytes) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return unexpected(FileReadError{Kind::kUnreadable, std::strerror(errno), 0});
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  if (text.size() > max_bytes) return unexpected(FileReadError{Kind::kTooBig, "", text.size()});
  return text;
}

}  // namespace berth
