// What the user sees when a command fails, and the exit code it maps to
// (docs/json.md, exit codes). Modules return their own typed errors; the CLI turns them into a
// Failure at its edge.
#pragma once

#include <string>

namespace berth {

enum class ExitCode : int {
  kOk = 0,
  kInternal = 1,
  kUsage = 2,
  kInvalidInput = 3,    // invalid template or config
  kAuth = 4,            // a provider rejected the credentials
  kNoPlacement = 5,     // no offer satisfies the template
  kProviderFailed = 6,  // every attempt failed at the provider API or host
  kWorkloadFailed = 7,  // container did not start or never became healthy
  kNotFound = 8,        // the named deployment (or replica) does not exist
  kInterrupted = 130,
};

/// "workload-failed", "no-placement", ...: an exit code as a machine-readable
/// word (the reason of an "error" event with -o json).
inline const char* exit_code_name(ExitCode code) {
  switch (code) {
    case ExitCode::kOk:
      return "ok";
    case ExitCode::kInternal:
      return "internal";
    case ExitCode::kUsage:
      return "usage";
    case ExitCode::kInvalidInput:
      return "invalid-input";
    case ExitCode::kAuth:
      return "auth";
    case ExitCode::kNoPlacement:
      return "no-placement";
    case ExitCode::kProviderFailed:
      return "provider-failed";
    case ExitCode::kWorkloadFailed:
      return "workload-failed";
    case ExitCode::kNotFound:
      return "not-found";
    case ExitCode::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

struct Failure {
  ExitCode code = ExitCode::kInternal;
  std::string message;  // one line, no "berth: error:" prefix
  std::string hint;     // optional: what to do about it
};

}  // namespace berth
