// The launch template's internals: reading the YAML tree into a
// LaunchTemplate (types, units, keys) and checking what the values mean
// together (ranges, ports, health, placement). launch_template.cpp ties them.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/common/environment.h"
#include "berth/template/launch_template.h"
#include "input/source_text.h"
#include "input/yaml_document.h"
#include "input/yaml_reader.h"

namespace berth {

/// Reads the document into `out`, reporting type, unit, key and catalog
/// errors. Relative volume sources resolve against `base_dir`. With
/// UnsetVariables::kRecord an unset ${VAR} is listed in out.unset_variables.
void read_template(const YamlDocument& doc, const std::filesystem::path& base_dir,
                   const Environment& env, UnsetVariables unset, DiagnosticSink& sink,
                   LaunchTemplate& out, ValueLocations& where);

/// Semantic rules of docs/templates.md over a template that read without errors in
/// the fields involved.
void validate_template(const LaunchTemplate& t, const ValueLocations& where,
                       DiagnosticSink& sink);

/// 12 hex digits over every value that is deployed (expanded values included).
std::string template_hash(const LaunchTemplate& t);

/// The keys each mapping accepts: "" (top level), "registry_auth", "resources",
/// "resources.gpu", "ports[]", "volumes[]", "health", "health.http",
/// "placement", "restart". The JSON Schema is checked against these.
const std::map<std::string, std::vector<std::string>>& template_keys();

}  // namespace berth
