#include "berth/template/launch_template.h"

#include <algorithm>

#include "berth/input/user_file.h"

#include "input/source_text.h"
#include "input/yaml_document.h"
#include "template/template_parser.h"

namespace berth {

namespace {

Expected<LaunchTemplate, Diagnostics> parse_source(const SourceText& source,
                                                   const std::filesystem::path& base_dir,
                                                   const Environment& env,
                                                   UnsetVariables unset) {
  DiagnosticSink sink(source);
  auto doc = load_yaml_source(source, template_file(), sink);
  if (!doc) return unexpected(sink.take());
  LaunchTemplate t;
  ValueLocations where;
  read_template(*doc, base_dir, env, unset, sink, t, where);
  validate_template(t, where, sink);
  if (!sink.empty()) return unexpected(sink.take());
  t.hash = template_hash(t);
  return t;
}

}  // namespace

Expected<LaunchTemplate, Diagnostics> load_template(const std::filesystem::path& file,
                                                    const Environment& env,
                                                    UnsetVariables unset) {
  const std::string name = file.string();
  auto whole_file_error = [&](std::string message, std::string hint) {
    Diagnostic d;
    d.file = name;
    d.message = std::move(message);
    d.hint = std::move(hint);
    return unexpected(Diagnostics{d});
  };
  auto text = read_user_file(file, kMaxTemplateBytes);
  if (!text) {
    const auto& e = text.error();
    switch (e.kind) {
      case FileReadError::Kind::kMissing:
      case FileReadError::Kind::kUnreadable:
        return whole_file_error("cannot read the template: " + e.reason, "");
      case FileReadError::Kind::kNotRegular:
        return whole_file_error("is " + e.reason + ", not a template file", "");
      case FileReadError::Kind::kTooBig:
        // Refused before reading: a template is never this big.
        return whole_file_error("file is " + format_size(e.size) +
                                    "; a launch template may be at most 1 MiB",
                                "is this the right file?");
    }
  }
  auto t = parse_source(SourceText(name, std::move(*text)), file.parent_path(), env, unset);
  if (t) t->source = file;
  return t;
}

Expected<LaunchTemplate, Diagnostics> parse_template(const std::string& text,
                                                     const std::string& name,
                                                     const Environment& env,
                                                     UnsetVariables unset) {
  auto t = parse_source(SourceText(name, text), std::filesystem::path(name).parent_path(), env,
                        unset);
  if (t) t->source = name;
  return t;
}

std::string unset_variable_names(const LaunchTemplate& t) {
  std::vector<std::string> seen;
  std::string out;
  for (const auto& u : t.unset_variables) {
    if (std::find(seen.begin(), seen.end(), u.name) != seen.end()) continue;
    seen.push_back(u.name);
    out += (out.empty() ? "" : ", ") + u.name;
  }
  return out;
}

std::string to_string(GpuVendor v) { return v == GpuVendor::kAmd ? "amd" : "nvidia"; }

std::string to_string(FailureClass c) {
  switch (c) {
    case FailureClass::kInstanceLost:
      return "instance-lost";
    case FailureClass::kPreempted:
      return "preempted";
    case FailureClass::kContainerExit:
      return "container-exit";
    case FailureClass::kUnhealthy:
      return "unhealthy";
    case FailureClass::kUnreachable:
      return "unreachable";
  }
  return "unknown";
}

std::optional<FailureClass> failure_class_from_string(std::string_view s) {
  for (auto c :
       {FailureClass::kInstanceLost, FailureClass::kPreempted, FailureClass::kContainerExit,
        FailureClass::kUnhealthy, FailureClass::kUnreachable})
    if (to_string(c) == s) return c;
  return std::nullopt;
}

}  // namespace berth
