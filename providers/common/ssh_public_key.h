// OpenSSH public keys as provider accounts keep them. berth registers its own
// key with accounts that store keys (Lambda, Vast.ai) and finds it there
// again by the key itself, whatever comment either side attached to it.
#pragma once

#include <string>
#include <string_view>

namespace berth::ssh_public_key {

/// "ssh-ed25519 AAAA... berth@host" -> "ssh-ed25519 AAAA...": the key's type
/// and base64 blob, without the comment.
std::string material(std::string_view line);

/// Whether two one-line keys are the same key, comments aside.
bool same(std::string_view a, std::string_view b);

}  // namespace berth::ssh_public_key
