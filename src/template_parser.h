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

#include "berth/environment.h"
#include "berth/launch_template.h"
#include "template_source.h"

namespace berth {

/// Where each value was written: "resources.gpu.count", "ports[1].host" ->
/// yaml-cpp (line, byte column), both 0-based. Validation points its errors here.
class TemplateLocations {
 public:
  void set(const std::string& path, const YAML::Mark& mark);
  /// The position of `path`, else of its nearest recorded parent, else 0:0.
  std::pair<int, int> at(const std::string& path) const;
  /// Given and read without error: validation only judges such values.
  bool has(const std::string& path) const {
    return marks_.count(path) > 0 && failed_.count(path) == 0;
  }
  /// The value at `path` could not be read (its error is already reported).
  void fail(const std::string& path) { failed_.insert(path); }

 private:
  std::map<std::string, std::pair<int, int>> marks_;
  std::set<std::string> failed_;
};

/// Reads `root` into `out`, reporting type, unit, key and catalog errors.
/// Relative volume sources resolve against `base_dir`.
void read_template(const YAML::Node& root, const std::filesystem::path& base_dir,
                   const Environment& env, DiagnosticSink& sink, LaunchTemplate& out,
                   TemplateLocations& where);

/// Semantic rules of docs/templates.md over a template that read without errors in
/// the fields involved.
void validate_template(const LaunchTemplate& t, const TemplateLocations& where,
                       DiagnosticSink& sink);

/// 12 hex digits over every value that is deployed (expanded values included).
std::string template_hash(const LaunchTemplate& t);

/// The keys each mapping accepts: "" (top level), "registry_auth", "resources",
/// "resources.gpu", "ports[]", "volumes[]", "health", "health.http",
/// "placement", "restart". The JSON Schema is checked against these.
const std::map<std::string, std::vector<std::string>>& template_keys();

}  // namespace berth
