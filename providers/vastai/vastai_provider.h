// Vast.ai: a container-native marketplace.
//
// Wire facts. Source: vast-ai/docs api-reference/openapi.yaml @ c6246226
// unless marked otherwise; [docs] = vast-ai/docs prose at that commit
// (creating-instances-with-api.mdx, rate-limits-and-errors.mdx); [cli] =
// Vast's own client vast-ai/vast-cli vast.py; [3p] = dstack's and SkyPilot's
// vast code; [unverified] = no document settles it. README.md beside this
// file says what berth does with them.
// - Base https://console.vast.ai, `Authorization: Bearer <key>`; paths end in
//   a slash (the documented clients call /api/v1/instances/ with it; berth
//   follows no redirects). Errors are usually {"success": false, "error":
//   code, "msg"}, some only msg/message/detail; 429s are plain text or JSON,
//   never with Retry-After [docs].
// - POST /api/v0/bundles/ with operator-object filters ({"num_gpus": {"gte":
//   1}, "gpu_name": {"in": [...]}, ...}, "order", "type", "limit") ->
//   {"offers": [...]}: gpu_ram MB per GPU, cpu_ram MB for the whole machine
//   (share = cpu_cores_effective / cpu_cores), disk_space GB, dph_total USD/h,
//   compute_cap = CC x 100, cuda_max_good, geolocation "City, CC",
//   reliability/reliability2 0-1 (filter `reliability` {"gte": x}), inet_down
//   (the OpenAPI says MB/s, the vendor's CLI shows Mbps: berth reads Mbps
//   [unverified]).
// - PUT /api/v0/asks/{id}/ {client_id, image, label, disk, runtype, env,
//   onstart, image_login, cancel_unavail} -> {"success": true,
//   "new_contract": <instance id>}. env is an object {"KEY": "value",
//   "-p 8000:8000": "1"} [docs; the OpenAPI types it as a string, the vendor's
//   CLI sends the object], values at most 256 characters. Runtypes ssh,
//   ssh_direct, ssh_proxy and jupyter* REPLACE the image's ENTRYPOINT and run
//   only `onstart` after Vast's own init [docs "Entrypoint Behavior"]; that
//   onstart must not block the init is unverified. image_login is a
//   docker-login argument string split on spaces [unverified]. 404 with
//   no_such_ask in msg or 410 no_such_ask when the ask is gone (capacity). A
//   refused rental can still carry new_contract: that instance exists and
//   bills [docs]. Launch rate limit: threshold 4.5 s, penalty 12 s [docs].
// - Interruptible rentals: the search's "type" is ondemand | bid | reserved
//   (the document's enum; its example and Vast's hello-world send
//   "on-demand", which berth keeps for on-demand); "bid" "uses minimum bid
//   price ... may be interrupted if outbid". Offers carry min_bid (USD/h).
//   The create call's `price` is the "bid price per machine (in $/hour).
//   Only for interruptible instances", 0.001..128; 400 invalid_price is a
//   documented create error (that it answers a bid below min_bid is
//   unverified). cancel_unavail "defaults to false for interruptibles".
//   Instances carry is_bid, min_bid, cur_state (the machine contract's
//   state), intended_status; how an outbid instance reads is not
//   documented [unverified: is_bid with cur_state "stopped" while
//   intended_status is not "stopped", or "outbid" in status_msg].
//   PUT /api/v0/instances/bid_price/{id}/ changes a bid (berth does not).
// - SSH keys are account-wide: GET /api/v0/ssh/ lists [{id, user_id, key,
//   ...}]; POST /api/v0/ssh/ {"ssh_key"} answers the key as `public_key`.
// - GET /api/v0/instances/{id}/ -> {"instances": {...}} (one object under a
//   plural key); actual_status null -> created -> loading -> running;
//   exited and offline are failures, and so is `created` with an error in
//   status_msg (an OCI runtime error, a failed pull); ports {"22/tcp":
//   [{"HostPort": "41234"}]} (a string) once running; SSH
//   root@public_ipaddr:HostPort. start_date: Unix seconds, a number
//   (`status` counts age and cost from it; that it is the rental's start
//   and not the machine's is unverified).
// - GET /api/v1/instances/?limit=25&after_token=... pages by next_token.
// - PUT /api/v0/instances/request_logs/{id} (no trailing slash in the
//   document) {"tail": "N" (a string), "filter"?, "daemon_logs"?: "true"} ->
//   {"success": true, "result_url": "<S3 URL>", "msg"}; 404 {error:
//   invalid_id}, 403 not_authorized. The log (plain text, the container's
//   output) is uploaded to result_url after the answer: fetched without the
//   API key; until it is there the URL answers 403/404 [unverified; the CLI
//   polls it].
// - DELETE /api/v0/instances/{id}/ -> {"success": true}; 404 not_found or
//   no_such_instance when already gone.
#pragma once

#include <memory>
#include <string>

#include "berth/common/expected.h"
#include "berth/config/config.h"
#include "berth/provider/provider.h"

#include <nlohmann/json.hpp>

namespace berth::vastai {

inline constexpr const char* kDefaultBaseUrl = "https://console.vast.ai";

/// Settings: `verified_only: true|false` (default true), `limit: N` offers per
/// query (default 1000).
Expected<std::unique_ptr<Provider>, std::string> create(const ProviderConfig& config,
                                                        ProviderContext& context);
/// The body of a request_logs call for the last `tail` lines.
nlohmann::json log_request_body(int tail);
/// The URL a request_logs answer names; throws json_util::ShapeError when it
/// names none, or one that is not http(s).
std::string log_url(const nlohmann::json& answer);

/// Reads `verified_only` and `limit` from the config into settings, each
/// error at its position.
void read_settings(const ProviderSettings& settings, ProviderConfig& out);

}  // namespace berth::vastai
