// Vast.ai: a container-native marketplace.
//
// Facts (vast-ai/docs api-reference/openapi.yaml, rate-limits-and-errors.mdx,
// creating-instances-with-api.mdx; Vast's own CLI; dstack and SkyPilot's vast
// code; shared/reference/provider-apis.md section 3):
// - Base https://console.vast.ai, `Authorization: Bearer <key>`; paths end in
//   a slash. Errors are usually {"success": false, "error": code, "msg"}, some
//   only msg/message/detail; 429s are often plain text without Retry-After.
// - POST /api/v0/bundles/ with operator-object filters ({"num_gpus": {"gte":
//   1}, "gpu_name": {"in": [...]}, ...}, "order", "type", "limit") ->
//   {"offers": [...]}: gpu_ram MB per GPU, cpu_ram MB for the whole machine
//   (share = cpu_cores_effective / cpu_cores), disk_space GB, dph_total USD/h,
//   compute_cap = CC x 100, cuda_max_good, geolocation "City, CC".
// - PUT /api/v0/asks/{id}/ {image, label, disk, runtype, env, onstart,
//   image_login} -> {"success": true, "new_contract": <instance id>}; 404 with
//   no_such_ask in msg or 410 no_such_ask when the ask is gone (capacity).
// - SSH keys are account-wide: GET/POST /api/v0/ssh/ {"ssh_key"}.
// - GET /api/v0/instances/{id}/ -> {"instances": {...}} (one object under a
//   plural key); actual_status null -> loading -> running (exited, offline,
//   unknown are bad); ports {"22/tcp": [{"HostPort": "41234"}]} (a string) once
//   running; SSH root@public_ipaddr:HostPort.
// - GET /api/v1/instances?limit=25&after_token=... pages by next_token.
// - DELETE /api/v0/instances/{id}/ -> {"success": true}; 404 not_found or
//   no_such_instance when already gone.
#pragma once

#include <memory>
#include <string>

#include "berth/config.h"
#include "berth/expected.h"
#include "berth/provider.h"

namespace berth::vastai {

inline constexpr const char* kDefaultBaseUrl = "https://console.vast.ai";

/// Settings: `verified_only: true|false` (default true), `limit: N` offers per
/// query (default 1000).
Expected<std::unique_ptr<Provider>, std::string> create(const ProviderConfig& config,
                                                        ProviderContext& context);

}  // namespace berth::vastai
