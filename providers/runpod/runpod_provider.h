// RunPod (REST v2): container-native; the pod is the container.
//
// Wire facts. Source: runpod/docs api-reference-v2/openapi.json @ a900806e
// unless marked otherwise; [docs] = runpod/docs prose at the same commit;
// [3p] = SkyPilot's and dstack's runpod code; [unverified] = no document
// settles it. README.md beside this file says what berth does with them.
// - Base https://api.runpod.io, `Authorization: Bearer <key>`. REST v1 is
//   retired on 2026-11-15; GraphQL answers 200 for failures. Neither is used.
// - Errors are RFC 9457 problem+json {title, status, detail, errors?}: 422
//   the body breaks the contract (never retry); 400 a cross-field rule, or
//   capacity ("could not be placed" / "no longer any instances available":
//   detail text only, no code [3p for the wording]); 402 balance (stop); 403
//   no access to that GPU pool (skip the candidate); 429 with Retry-After;
//   5xx retry.
// - GET /v2/catalog/gpus?include=AVAILABILITY&product=POD&cloud=SECURE|
//   COMMUNITY&count=N -> {"gpus": [{id, name, manufacturer, memory (GB per
//   GPU), secure, community, price {secure, community} (USD/h for ONE GPU),
//   maxCount {secure, community} (a ceiling, not stock), availability,
//   dataCenters [{id, availability NONE|LOW|MEDIUM|HIGH}], cudaVersions}]}.
//   `cloud` and `count` scope the stock (defaults SECURE and 1): dataCenters
//   lists only data centers with stock for that tier and count, and is
//   omitted when there is none. Stock is a level, never a count.
// - POST /v2/pods (CreatePodRequest, unevaluatedProperties: false) {name,
//   image, gpu {id, count, minCudaVersion "major.minor"}, cloud,
//   dataCenterIds, disk (GB, ephemeral), ports ["8000/tcp"], env {string:
//   string}, args (a STRING), registry (a credential id), mounts {persistent
//   {size >= 10 GB, path}}} -> 201 Pod. There is no entrypoint field: `args`
//   is the "container start command", a command line or a JSON object
//   {"cmd": [...], "entrypoint": [...]} [docs: pods/templates/
//   manage-templates.mdx @ 24b395b2; that the JSON form's entrypoint clears
//   the image's CMD as docker's does is unverified]. RunPod images append
//   env PUBLIC_KEY to root's authorized_keys [3p].
// - POST /v2/registries {name, username, password} -> 201 {id, name}; GET
//   /v2/registries; DELETE /v2/registries/{id} -> 204.
// - GET /v2/pods/{id}: status PROVISIONING | STARTING | RUNNING | EXITED |
//   ERROR | TERMINATED; ssh.direct {host, port, username} is null until the
//   pod runs; runtime.ports [{private, public, type, ip}]; createdAt
//   (date-time: `status` counts age and cost from it; that RunPod bills
//   from then, not from startedAt, is unverified).
// - GET /v2/pods -> {"pods": [...]} (no name filter). DELETE /v2/pods/{id} ->
//   204 with no body; 404 when unknown.
// - Data center ids (dataCenters[].id, Pod.dataCenterId): US-KS-2,
//   US-TX-3, US-CA-2, EU-RO-1 in the document's examples, names like "US
//   Texas 3"; GET /v2/catalog/datacenters puts each in a continental region
//   (NORTH_AMERICA, EUROPE, ...). berth reads an id as <area>-<place>-<n>:
//   a table for the ids seen (CA-MTL-1 is Montreal [3p]), else US-<state>,
//   CA-<province> and <EU|EUR|AP|OC|SEA>-<country> when the place is a code
//   of that area [the scheme beyond the examples is unverified]; any other
//   id is an unknown location.
// - No field states the host CPU architecture: unknown, but for Grace GPUs
//   (GH200), which are arm64 hosts.
// - GET /v2/pods/{id}/logs?source=container|system&tail=N (0..5000, default
//   100: lines backfilled before live streaming) -> 200 text/event-stream;
//   each event "id: <ts>/<seq>" and "data: {\"ts\", \"source\", \"line\"}".
//   The stream stays open (Connection: keep-alive) after the backfill; errors
//   are problem+json (401, 403, 404, 429). Whether one `line` may hold a
//   newline is unverified: berth splits it.
// - Network volumes: POST /v2/network-volumes (CreateNetworkVolumeRequest,
//   additionalProperties: false) {name, size (integer GB, 10..4096),
//   dataCenter} -> 201 NetworkVolume {id, name, size, dataCenter, type}; GET
//   /v2/network-volumes -> {"networkVolumes": [...]} (names need not be
//   unique); DELETE /v2/network-volumes/{id} -> 204, 404 when unknown. A pod
//   mounts one with mounts.network [{volumeId, path}] (maxItems 1, exclusive
//   with mounts.persistent), and only "in the same data center as the pod"
//   (NetworkMount.volumeId). What deleting a volume a live pod uses answers is
//   not in the document [unverified: the mock refuses it with a 400
//   problem]; neither is the error for a pod in another data center
//   [unverified: a 400 problem there too].
// - Boots: pulls of multi-GB images take long [3p: dstack allows 20 min].
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/expected.h"
#include "berth/config/config.h"
#include "berth/provider/provider.h"
#include "berth/template/location.h"

namespace berth::runpod {

inline constexpr const char* kDefaultBaseUrl = "https://api.runpod.io";

/// A data center id's location ("US-KS-2" -> us, us-ks, na); unknown when
/// the id does not say.
Location data_center_location(const std::string& id);
/// The ids whose location the table above states.
std::vector<std::string> known_data_centers();

/// Settings: `cloud: secure | community | all` (default all).
Expected<std::unique_ptr<Provider>, std::string> create(const ProviderConfig& config,
                                                        ProviderContext& context);
/// The container log lines of a GET /v2/pods/{id}/logs answer (SSE), the
/// last `tail` of them, each bounded (berth/deploy/log_text.h); events of another
/// source, or whose data is not the documented object, are skipped.
/// `cut_front`: the answer lost its beginning to the size cap.
std::vector<std::string> parse_log_stream(std::string_view body, std::size_t tail,
                                          bool cut_front = false);

/// Reads `cloud` from the config into settings["cloud"], an error at its position.
void read_settings(const ProviderSettings& settings, ProviderConfig& out);

}  // namespace berth::runpod
