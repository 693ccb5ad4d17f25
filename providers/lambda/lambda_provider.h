// Lambda Cloud (API v1): a VM provider. berth starts the container on the
// VM over SSH, so it honours every workload feature (README.md here says how).
//
// Wire facts. Source: Lambda's OpenAPI 1.8.3 as vendored in
// alexandervaneck/lambda-ai-cloud-api-client openapi-1.8.3.json @ b7035f7b,
// unless marked otherwise; [3p] = seen in dstack's and SkyPilot's
// lambda_cloud code only; [unverified] = no document settles it.
// - Base https://cloud.lambda.ai/api/v1, `Authorization: Bearer <key>`.
// - Success is {"data": ...}, failure {"error": {code, message, suggestion?}};
//   branch on `code` (global/invalid-api-key, .../insufficient-capacity, ...).
// - GET /instance-types: `data` is a MAP keyed by type name; each value has
//   instance_type {name, description, gpu_description, price_cents_per_hour
//   (integer cents for the whole instance), specs {vcpus, memory_gib,
//   storage_gib, gpus}} and regions_with_capacity_available [{name}]. VRAM is
//   only in gpu_description ("H100 (80 GB SXM5)").
// - POST /instance-operations/launch {region_name, instance_type_name,
//   ssh_key_names: [one registered name], name, tags [{key, value}]} ->
//   data.instance_ids. Invalid bodies: 400 global/invalid-parameters. Keys:
//   GET/POST /ssh-keys (duplicate name: global/duplicate).
// - GET /instances/{id}, GET /instances (no name filter); status booting |
//   active | unhealthy | terminating | terminated | preempted; running means
//   active with `ip`. SSH ubuntu@ip:22. `unhealthy` also shows while a VM
//   boots [3p: SkyPilot treats it as still starting]: the core counts it as
//   booting until the boot deadline.
// - POST /instance-operations/terminate {instance_ids}; unknown id is 404
//   global/object-does-not-exist.
// - Capacity: 400 instance-operations/launch/insufficient-capacity, even for a
//   region listed with capacity. Rate limits: about one request per second,
//   one launch per 12 s, 429 global/rate-limited without Retry-After [3p;
//   the 429 body is unverified]: Capabilities::pacing spaces launches 12 s.
// - Region {name, description}: name is one of PublicRegionCode (us-east-1,
//   europe-central-1, asia-northeast-1, me-west-1, ...), description "the
//   location represented by the region code" ("California, USA"). berth's
//   location: what the code says (us-* is the US, europe-* Europe, asia-* and
//   me-* Asia, australia-* Australia), refined by the description read as
//   "State, Country" [the description's form is unverified beyond the
//   document's one example]; a description that contradicts the code is
//   ignored.
// - No instance-type field states the CPU architecture (ImageArchitecture
//   x86_64 | arm64 is only for VM images). GH200 types (gpu_1x_gh200) are
//   arm64: the GH200 is a Grace (Arm) superchip; every other type is taken
//   as x86_64 [unverified].
// - Boots of large images take well over 10 minutes [3p: dstack allows 30]:
//   boot deadline 30 minutes.
// - Persistent filesystems: listed at GET /file-systems but made and removed
//   at /filesystems (the document's own spelling of both paths). POST
//   /filesystems (FilesystemCreateRequest) {name ^[a-zA-Z]+[0-9a-zA-Z-]*$ at
//   most 60, region} -> {"data": Filesystem {id, name, mount_point (the
//   default, /lambda/nfs/<name> in the example), is_in_use, region {name,
//   description}, bytes_used?}}; no size. DELETE /filesystems/{id} ->
//   {"data": {deleted_ids}}; 400 filesystems/filesystem-in-use while mounted;
//   404 global/object-does-not-exist. Launch mounts them with
//   file_system_mounts [{mount_point ^(/home|/lambda/nfs|/data)...,
//   file_system_id}]; one in another region is 400
//   instance-operations/launch/file-system-in-wrong-region.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "berth/common/expected.h"
#include "berth/config/config.h"
#include "berth/provider/provider.h"
#include "berth/template/location.h"

namespace berth::lambda {

inline constexpr const char* kDefaultBaseUrl = "https://cloud.lambda.ai/api/v1";

/// An offer's location from a Region's name and description.
Location region_location(const std::string& name, const std::string& description);
/// The CPU architecture of an instance type with these GPUs.
CpuArch type_arch(const OfferGpu& gpu);
/// The region codes of Lambda's document (PublicRegionCode, OpenAPI 1.8.3).
const std::vector<std::string>& region_codes();

Expected<std::unique_ptr<Provider>, std::string> create(const ProviderConfig& config,
                                                        ProviderContext& context);

}  // namespace berth::lambda
