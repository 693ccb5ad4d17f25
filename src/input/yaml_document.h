// The YAML front end every file berth reads as YAML goes through (templates,
// the config): size, NUL bytes and UTF-8 checks, then yaml-cpp under caps —
// one document, bounded nesting, bounded alias expansion, no alias cycles,
// no quoted value whose closing quote is missing — with every refusal at
// file:line:col.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "input/source_text.h"

namespace berth {

/// Deeper than any template or config needs; refused before anything recurses on it.
inline constexpr int kMaxYamlDepth = 64;
/// Nodes after expanding aliases: a real template has a few hundred; an alias
/// bomb ("billion laughs") has billions.
inline constexpr std::size_t kMaxYamlNodes = 100'000;

/// A parsed document. yaml-cpp parsed `text`: the source with quotes added
/// around plain `${VAR}` values inside flow collections (`{a: ${X}}`, where
/// YAML would read the `{` as a mapping); `inserted` says where.
struct YamlDocument {
  YAML::Node root;  // Null for an empty document, when the kind allows one
  std::string text;
  InsertedColumns inserted;

  /// A scalar written without quotes (quotes berth added do not count).
  bool written_plain(const YAML::Node& scalar) const;
  /// 1 when the scalar's characters start after an opening quote, else 0.
  int quote_width(const YAML::Node& scalar) const;
};

/// The pipeline of a YAML file's text: the size cap and encoding checks of
/// `kind`, then the capped loader. nullopt with the reasons in `sink`, which
/// from then on maps positions back to the source as written.
std::optional<YamlDocument> load_yaml_source(const SourceText& source, const FileKind& kind,
                                             DiagnosticSink& sink);

/// Single-quotes plain `${...}` scalars inside flow collections so that YAML
/// reads them as the user meant; block scalars, quoted scalars and comments
/// are left as they are. Exposed for tests.
YamlDocument quote_flow_variables(const std::string& text);

}  // namespace berth
