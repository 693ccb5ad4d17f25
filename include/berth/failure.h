// What the user sees when a command fails, and the exit code it maps to
// (SPEC §4). Modules return their own typed errors; the CLI turns them into a
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
  kInterrupted = 130,
};

struct Failure {
  ExitCode code = ExitCode::kInternal;
  std::string message;  // one line, no "berth: error:" prefix
  std::string hint;     // optional: what to do about it
};

}  // namespace berth
