// Local subprocesses as a seam: argv vectors only (never a shell string built
// from user data), stdin from a buffer or /dev/null, output captured, own
// process group so a terminal ^C reaches berth first and berth decides.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/common/expected.h"
#include "berth/common/units.h"

namespace berth {

struct ProcessSpec {
  std::vector<std::string> argv;
  std::optional<std::string> stdin_data;  // nullopt = /dev/null
  std::map<std::string, std::string> extra_env;
  std::optional<Duration> timeout;        // killed (SIGTERM, then SIGKILL) after this
  bool inherit_stdio = false;             // interactive: ssh shells, logs -f
  const std::atomic<bool>* cancel = nullptr;  // polled; kills the child when set
  /// With a cancel or timeout due, the child is killed only once its stderr
  /// so far satisfies this, or `stop_wait` later: an SSH client must first
  /// hear which remote process to stop, or that process outlives it.
  std::function<bool(const std::string& err)> ready_to_stop;
  Duration stop_wait{3'000};
};

struct ProcessResult {
  int exit_code = -1;    // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  bool cancelled = false;
  std::string out;
  std::string err;
  bool ok() const { return exit_code == 0; }
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  /// Fails only when the program could not be started at all.
  virtual Expected<ProcessResult, std::string> run(const ProcessSpec& spec) = 0;
};

/// posix_spawn-based runner.
ProcessRunner& system_process_runner();

/// Finds `program` on PATH; nullopt when absent.
std::optional<std::string> find_program(const std::string& program);

}  // namespace berth
