// RunPod (REST v2): container-native.
//
// Facts (runpod/docs api-reference-v2/openapi.json and migrate-from-v1.mdx;
// SkyPilot and dstack's runpod code; shared/reference/provider-apis.md 2.1):
// - Base https://api.runpod.io, `Authorization: Bearer <key>`. REST v1 is
//   retired on 2026-11-15; GraphQL answers 200 for failures. Neither is used.
// - Errors are RFC 9457 problem+json {title, status, detail, errors?}: 400
//   rule violation or capacity ("could not be placed" / "no longer any
//   instances available": detail text only, no code), 402 balance, 403 pool
//   access, 409 cluster pod, 422 contract violation (errors[]), 429 with
//   Retry-After, 5xx retry.
// - GET /v2/catalog/gpus?include=AVAILABILITY&product=POD -> {"gpus": [{id,
//   name, manufacturer, memory (GB per GPU), secure, community, price {secure,
//   community} (USD/h for ONE GPU), maxCount {secure, community},
//   availability, dataCenters [{id, availability NONE|LOW|MEDIUM|HIGH}],
//   cudaVersions}]}.
// - POST /v2/pods {name, image, gpu {id, count}, cloud, dataCenterIds, disk,
//   ports ["22/tcp"], env {PUBLIC_KEY: key}, args} -> 201 Pod. RunPod images
//   append PUBLIC_KEY to root's authorized_keys.
// - GET /v2/pods/{id}: status PROVISIONING | STARTING | RUNNING | EXITED |
//   ERROR | TERMINATED; ssh.direct {host, port, username} is null until the
//   pod runs; runtime.ports [{private, public, type, ip}].
// - GET /v2/pods -> {"pods": [...]} (no name filter). DELETE /v2/pods/{id} ->
//   204 with no body; 404 when unknown.
#pragma once

#include <memory>
#include <string>

#include "berth/config.h"
#include "berth/expected.h"
#include "berth/provider.h"

namespace berth::runpod {

inline constexpr const char* kDefaultBaseUrl = "https://api.runpod.io";

/// Settings: `cloud: secure | community | all` (default all).
Expected<std::unique_ptr<Provider>, std::string> create(const ProviderConfig& config,
                                                        ProviderContext& context);

}  // namespace berth::runpod
