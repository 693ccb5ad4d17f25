#include "template_yaml.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <map>
#include <sstream>
#include <vector>

namespace berth {

namespace {

struct Refusal {
  YAML::Mark mark;
  std::string message;
  std::string hint;
};

// A first pass over the parser's events, before any tree is built: it counts
// nesting and nodes, with each alias counted as the size of what it repeats,
// so bombs are refused without ever being expanded.
class StructureGuard : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = sizes_.find(anchor);
    add(mark, it == sizes_.end() ? 1 : it->second);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

  std::size_t nodes() const { return nodes_; }

 private:
  void add(const YAML::Mark& mark, std::size_t n) {
    nodes_ += n;
    if (nodes_ > kMaxYamlNodes)
      throw Refusal{mark,
                    "document expands to more than " + std::to_string(kMaxYamlNodes) +
                        " YAML nodes (an alias bomb?)",
                    "anchors (&) and aliases (*) may repeat only small parts of a template"};
  }
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(mark, 1);
    if (anchor) sizes_[anchor] = 1;
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(mark, 1);
    if (static_cast<int>(stack_.size()) >= kMaxYamlDepth)
      throw Refusal{mark, "nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels",
                    "a launch template needs only a few levels of nesting"};
    stack_.push_back({anchor, nodes_});
  }
  void close() {
    if (stack_.empty()) return;
    auto [anchor, start] = stack_.back();
    stack_.pop_back();
    if (anchor) sizes_[anchor] = nodes_ - start + 1;
  }

  std::size_t nodes_ = 0;
  std::vector<std::pair<YAML::anchor_t, std::size_t>> stack_;
  std::map<YAML::anchor_t, std::size_t> sizes_;
};

// yaml-cpp's messages are terse and lower-case; they are kept (users search
// for them) with a hint where the usual cause is known.
std::string hint_for(const std::string& msg, const std::string& line) {
  // YAML forbids tabs in indentation; yaml-cpp's complaint never says so.
  if (line.find_first_not_of(" \t") != std::string::npos &&
      line.substr(0, line.find_first_not_of(" \t")).find('\t') != std::string::npos)
    return "indent with spaces: YAML does not allow tabs in indentation";
  if (msg.find("end of map not found") != std::string::npos ||
      msg.find("end of sequence not found") != std::string::npos)
    return "check the indentation of this block and the lines around it";
  if (msg.find("flow") != std::string::npos)
    return "a '[' or '{' is not closed; check brackets and commas";
  if (msg.find("illegal map value") != std::string::npos)
    return "a value containing ': ' must be quoted";
  if (msg.find("unknown escape") != std::string::npos)
    return "inside double quotes, write a literal backslash as \\\\ or use single quotes";
  return "";
}

bool is_blank_document(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::size_t i = line.find_first_not_of(" \t\r");
    if (i == std::string::npos || line[i] == '#') continue;
    if (line.compare(i, 3, "---") == 0 &&
        line.find_first_not_of(" \t\r", i + 3) == std::string::npos)
      continue;
    return false;
  }
  return true;
}

}  // namespace

std::optional<YAML::Node> load_yaml_document(const SourceText& source, DiagnosticSink& sink) {
  if (is_blank_document(source.text())) {
    sink.error(0, 0, "the template is empty",
               "a template needs at least 'name:' and 'image:'; 'berth init' writes a starter");
    return std::nullopt;
  }
  try {
    std::istringstream in(source.text());
    YAML::Parser parser(in);
    StructureGuard guard;
    if (!parser.HandleNextDocument(guard)) {
      sink.error(0, 0, "the template is empty",
                 "a template needs at least 'name:' and 'image:'; 'berth init' writes a starter");
      return std::nullopt;
    }
    StructureGuard second;
    if (parser.HandleNextDocument(second)) {
      // The second document's position: the first '---' after the first document.
      std::size_t pos = source.text().find("\n---");
      int line0 = 0;
      if (pos != std::string::npos)
        for (std::size_t i = 0; i <= pos; ++i) line0 += source.text()[i] == '\n';
      sink.error(line0, 0, "a template file holds exactly one YAML document",
                 "put each template in its own file");
      return std::nullopt;
    }
  } catch (const Refusal& r) {
    sink.error(r.mark.line, r.mark.column, r.message, r.hint);
    return std::nullopt;
  } catch (const YAML::DeepRecursion& e) {
    sink.error(e.mark.line, e.mark.column,
               "nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels",
               "a launch template needs only a few levels of nesting");
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    sink.error(e.mark.line, e.mark.column, "invalid YAML: " + e.msg,
               hint_for(e.msg, source.line(e.mark.line)));
    return std::nullopt;
  }
  try {
    return YAML::Load(source.text());
  } catch (const YAML::Exception& e) {
    sink.error(e.mark.line, e.mark.column, "invalid YAML: " + e.msg,
               hint_for(e.msg, source.line(e.mark.line)));
    return std::nullopt;
  }
}

}  // namespace berth
