// The deploy engine's HostConnector over SSH: one SshSession (one master
// connection, one handshake) per host and deployment for a whole command,
// with SSH failures mapped to the engine's HostError kinds.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "berth/common/process.h"
#include "berth/common/units.h"
#include "berth/host/host.h"

namespace berth {

struct SshHostOptions {
  std::filesystem::path state_dir;  // berth's state directory (state_dir())
  std::filesystem::path identity;   // private key (ensure_ssh_key)
  Duration connect_timeout{15'000};
  std::optional<std::string> config_file;  // ssh -F; tests pass /dev/null
  std::string program = "ssh";
};

std::unique_ptr<HostConnector> make_ssh_host_connector(
    SshHostOptions options, ProcessRunner& runner = system_process_runner());

}  // namespace berth
