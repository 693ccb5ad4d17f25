#include "berth/template/schema.h"

#include <string>

namespace berth {

namespace {

using nlohmann::json;

// Value forms, as regular expressions the parser agrees with (units.cpp and
// template_parser.cpp): sizes, durations, counts and versions, alone or as ranges.
const std::string kSize = "[0-9]+(\\.[0-9]+)? ?([kKmMgGtTpP]|[kKmMgGtT][iI])?[bB]";
const std::string kDuration = "([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+";
const std::string kCount = "\\+?[0-9]+";
const std::string kVersion = "[0-9]{1,3}(\\.[0-9]{1,3})?";

std::string range_of(const std::string& v) {
  return "^(" + v + "|" + v + "\\.\\.|\\.\\." + v + "|" + v + "\\.\\." + v + ")$";
}

json object(json properties, json required = json::array()) {
  json o = {
      {"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
  if (!required.empty()) o["required"] = std::move(required);
  return o;
}

json ref(const char* name) { return {{"$ref", std::string("#/$defs/") + name}}; }

json described(json schema, const char* description) {
  schema["description"] = description;
  return schema;
}

json string_list() { return {{"type", "array"}, {"items", {{"type", "string"}}}}; }

json defs() {
  json d;
  d["sizeRange"] = {{"type", "string"},
                    {"pattern", range_of(kSize)},
                    {"description",
                     "A size (MB GB TB decimal, MiB GiB TiB binary) or range: 24GB.., "
                     "24GB..80GB, ..48GB. One value means at least that."}};
  d["size"] = {{"type", "string"},
               {"pattern", "^" + std::string(kSize) + "$"},
               {"description", "A size: MB GB TB decimal, MiB GiB TiB binary (100GB)."}};
  d["countRange"] = {
      {"description", "A count or range: 2, 1..8, 4.., ..2. One value means exactly that."},
      {"anyOf", json::array({{{"type", "integer"}, {"minimum", 0}},
                             {{"type", "string"}, {"pattern", range_of(kCount)}}})}};
  d["versionRange"] = {
      {"description", "A version or range: 8.0.., 8.0..9.0, 12.1. One value means at least that."},
      {"anyOf", json::array({{{"type", "number"}, {"minimum", 0}},
                             {{"type", "string"}, {"pattern", range_of(kVersion)}}})}};
  d["duration"] = {{"type", "string"},
                   {"pattern", "^" + kDuration + "$"},
                   {"description", "A duration: 250ms, 90s, 10m, 1h30m."}};
  d["durationRange"] = {{"type", "string"},
                        {"pattern", range_of(kDuration)},
                        {"description", "A duration or range: 10s..10m."}};
  d["port"] = {{"type", "integer"}, {"minimum", 1}, {"maximum", 65535}};
  d["scalar"] = {{"type", json::array({"string", "number", "boolean"})}};
  d["stringOrList"] = {{"anyOf", json::array({{{"type", "string"}},
                                              {{"type", "array"}, {"items", ref("scalar")}}})}};
  return d;
}

json resources() {
  json gpu = object({
      {"count", described(ref("countRange"), "GPUs per instance; 0 = CPU-only. Default 1.")},
      {"vram", described(ref("sizeRange"),
                         "Memory per GPU, compared with the catalog's "
                         "nominal size.")},
      {"total_vram", described(ref("sizeRange"), "Memory across all GPUs of the instance.")},
      {"compute_capability", described(ref("versionRange"), "CUDA compute capability (NVIDIA).")},
      {"models", described(string_list(),
                           "Allowed models: catalog names or aliases "
                           "('berth gpus').")},
      {"exclude_models", described(string_list(), "Models never to use.")},
      {"vendor", {{"enum", json::array({"nvidia", "amd"})}, {"default", "nvidia"}}},
  });
  gpu["description"] = "GPU requirements; leave out for a CPU-only workload.";
  gpu = {{"description", "GPU requirements; leave out for a CPU-only workload. A string is the "
                         "shorthand MODEL or MODEL:COUNT (\"H100:8\")."},
         {"anyOf", json::array({gpu, {{"type", "string"},
                                      {"pattern", "^[^:]+(:[0-9]+)?$"}}})}};
  return object({
      {"gpu", gpu},
      {"cuda", described(ref("versionRange"), "Minimum host CUDA driver version.")},
      {"cpus", described(ref("countRange"), "vCPUs.")},
      {"memory", described(ref("sizeRange"), "RAM.")},
      {"disk", described(ref("sizeRange"), "Disk.")},
      {"arch", described({{"enum", json::array({"x86_64", "arm64"})}},
                         "CPU architecture the image runs on. Default: the image's platform "
                         "where 'up' reads it, else x86_64.")},
  });
}

json ports() {
  json mapping = object({{"container", ref("port")},
                         {"host", ref("port")},
                         {"protocol", {{"enum", json::array({"tcp", "udp"})}}}},
                        {"container"});
  return {{"type", "array"},
          {"description", "Container ports to publish: 8000 or {container, host, protocol}."},
          {"items", {{"anyOf", json::array({ref("port"), mapping})}}}};
}

json volumes() {
  json v = object({{"name", {{"type", "string"}, {"pattern", "^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"}}},
                   {"source", {{"type", "string"}, {"minLength", 1}}},
                   {"path", {{"type", "string"}, {"pattern", "^/"}}},
                   {"readonly", {{"type", "boolean"}}},
                   {"size", described(ref("size"),
                                      "With name: a volume the provider keeps apart from any "
                                      "instance (10GB-4096GB), bound to where it was made.")}},
                  {"path"});
  v["oneOf"] = json::array({{{"required", {"name"}}}, {{"required", {"source"}}}});
  return {{"type", "array"},
          {"description",
           "Named volumes persist on the host; with size, the provider keeps them across "
           "redeploys; source directories are copied from beside the template."},
          {"items", v}};
}

json health() {
  json h = object({
      {"http", object({{"port", ref("port")}, {"path", {{"type", "string"}, {"pattern", "^/"}}}},
                      {"port"})},
      {"tcp", ref("port")},
      {"exec", {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 1}}},
      {"interval", ref("duration")},
      {"timeout", ref("duration")},
      {"failures", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}},
      {"grace", ref("duration")},
  });
  h["oneOf"] =
      json::array({{{"required", {"http"}}}, {{"required", {"tcp"}}}, {{"required", {"exec"}}}});
  return h;
}

json restart() {
  return object({
      {"max_restarts", {{"type", "integer"}, {"minimum", 0}, {"maximum", 1000000}}},
      {"window", ref("duration")},
      {"backoff", ref("durationRange")},
      {"on",
       {{"type", "array"},
        {"items",
         {{"enum", json::array({"instance-lost", "preempted", "container-exit", "unhealthy",
                                "unreachable"})}}}}},
  });
}

}  // namespace

nlohmann::json launch_template_schema() {
  json properties = {
      {"name",
       {{"type", "string"},
        {"pattern", "^[a-z][a-z0-9-]{0,38}$"},
        {"description", "Deployment name."}}},
      {"image", {{"type", "string"}, {"minLength", 1}, {"description", "OCI image reference."}}},
      {"command", described(ref("stringOrList"), "A list runs as is; a string runs with sh -c.")},
      {"entrypoint", ref("stringOrList")},
      {"env",
       {{"type", "object"},
        {"additionalProperties", ref("scalar")},
        {"description",
         "Environment; ${VAR} and ${VAR:-default} expand from the "
         "launching environment and are kept secret."}}},
      {"registry_auth",
       object({{"username", {{"type", "string"}}}, {"password", {{"type", "string"}}}},
              {"username", "password"})},
      {"resources", resources()},
      {"ports", ports()},
      {"volumes", volumes()},
      {"health", health()},
      {"placement", object({{"providers", string_list()},
                            {"exclude_providers", string_list()},
                            {"regions", string_list()},
                            {"offers", described(string_list(),
                                                 "Offer ids to pin to (globs over the id berth "
                                                 "offers shows, or provider/id); any offer when "
                                                 "empty.")},
                            {"max_price",
                             {{"type", "number"},
                              {"exclusiveMinimum", 0},
                              {"description", "USD per hour per replica."}}},
                            {"spot", {{"enum", json::array({"never", "allow", "only"})}}},
                            {"min_reliability",
                             {{"type", "number"},
                              {"minimum", 0},
                              {"maximum", 1},
                              {"description",
                               "Lowest host reliability score (Vast.ai, 0-1); offers that report "
                               "none pass."}}},
                            {"min_inet_mbps",
                             {{"type", "number"},
                              {"exclusiveMinimum", 0},
                              {"description",
                               "Lowest download bandwidth in Mbps (Vast.ai); offers that report "
                               "none pass."}}},
                            {"boot_timeout",
                             described(ref("duration"),
                                       "How long a launched instance may go without progress "
                                       "before berth gives it up and tries the next offer; "
                                       "default per provider.")},
                            {"volumes",
                             {{"enum", {"prefer", "require"}},
                              {"description",
                               "Where the deployment's provider volumes already live: offers "
                               "there rank first (prefer, the default), or are the only ones "
                               "allowed (require)."}}},
                            {"ssh_timeout",
                             described(ref("duration"),
                                       "How long an instance the provider reports running may "
                                       "take to answer on SSH before berth gives it up and "
                                       "tries the next offer; default 3m.")},
                            {"strict",
                             {{"type", "boolean"},
                              {"description",
                               "Reject offers that do not report a constrained vCPU count, RAM, "
                               "disk or host CUDA version instead of keeping them with a "
                               "warning."}}}})},
      {"replicas", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}},
      {"spread", {{"enum", json::array({"none", "provider", "region"})}}},
      {"restart", restart()},
      {"shm_size", described(ref("size"),
                             "The container's /dev/shm size (docker --shm-size); what NCCL "
                             "needs for multi-GPU serving. Not on RunPod or Vast.ai.")},
      {"ipc", {{"enum", json::array({"private", "host"})},
               {"description", "host: share the host's IPC namespace (docker --ipc host). "
                               "Not on RunPod or Vast.ai."}}},
  };
  json schema = {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
                 {"$id", "urn:berth:launch-template:v1"},
                 {"title", "berth launch template"},
                 {"description", "What a workload needs, never where it runs."}};
  schema.update(object(std::move(properties), {"name", "image"}));
  schema["$defs"] = defs();
  return schema;
}

}  // namespace berth
