// Turning a template's text into a yaml-cpp node tree safely: one document,
// bounded nesting, bounded alias expansion, parse errors as diagnostics.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>

#include "template_source.h"

namespace berth {

/// Deeper than any template needs; refused before anything recurses on it.
inline constexpr int kMaxYamlDepth = 64;
/// Nodes after expanding aliases: a real template has a few hundred; an alias
/// bomb ("billion laughs") has billions.
inline constexpr std::size_t kMaxYamlNodes = 100'000;

/// The document's root node, or nullopt with the reasons in `sink`.
/// An empty document (only comments or whitespace) is reported as such.
std::optional<YAML::Node> load_yaml_document(const SourceText& source, DiagnosticSink& sink);

}  // namespace berth
