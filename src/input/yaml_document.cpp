#include "input/yaml_document.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
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

std::vector<std::size_t> line_starts(const std::string& text) {
  std::vector<std::size_t> starts = {0};
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') starts.push_back(i + 1);
  return starts;
}

// A first pass over the parser's events, before any tree is built: it counts
// nesting and nodes, with each alias counted as the size of what it repeats,
// so bombs are refused without ever being expanded; it refuses an alias to a
// node that contains it (a cycle: every walk over the tree would recurse
// forever), and quoted values whose closing quote is missing.
class StructureGuard : public YAML::EventHandler {
 public:
  StructureGuard(const std::string& text, const FileKind& kind)
      : text_(text), starts_(line_starts(text)), kind_(kind) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(mark, anchor);
    if (tag == "!") check_quoted(mark);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    for (const auto& open : stack_)
      if (open.anchor == anchor)
        throw Refusal{mark,
                      "an alias (*) inside the node its anchor (&) names: the " +
                          kind_.short_noun + " would be infinite",
                      "an alias may repeat only a node that is complete before it"};
    auto it = sizes_.find(anchor);
    add(mark, it == sizes_.end() ? 1 : it->second);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override {
    open(mark, anchor, style);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    open(mark, anchor, style);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    std::size_t start;
    int column;
    bool flow;
  };

  void add(const YAML::Mark& mark, std::size_t n) {
    nodes_ += n;
    if (nodes_ > kMaxYamlNodes)
      throw Refusal{mark,
                    "document expands to more than " + std::to_string(kMaxYamlNodes) +
                        " YAML nodes (an alias bomb?)",
                    "anchors (&) and aliases (*) may repeat only small parts of a " +
                        kind_.short_noun};
  }
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(mark, 1);
    if (anchor) sizes_[anchor] = 1;
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor, YAML::EmitterStyle::value style) {
    add(mark, 1);
    if (static_cast<int>(stack_.size()) >= kMaxYamlDepth)
      throw Refusal{mark, "nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels",
                    "a " + kind_.noun + " needs only a few levels of nesting"};
    stack_.push_back({anchor, nodes_, mark.column, style == YAML::EmitterStyle::Flow});
  }
  void close() {
    if (stack_.empty()) return;
    const Open o = stack_.back();
    stack_.pop_back();
    if (o.anchor) sizes_[o.anchor] = nodes_ - o.start + 1;
  }

  std::size_t offset(const YAML::Mark& m) const {
    if (m.line < 0 || static_cast<std::size_t>(m.line) >= starts_.size()) return text_.size();
    return std::min(text_.size(), starts_[static_cast<std::size_t>(m.line)] +
                                      static_cast<std::size_t>(std::max(0, m.column)));
  }
  int line_of(std::size_t offset) const {
    return static_cast<int>(std::upper_bound(starts_.begin(), starts_.end(), offset) -
                            starts_.begin()) - 1;
  }

  // The rule for quoted values (docs/templates.md, "Quoted values"). yaml-cpp
  // takes a quote that is never closed to run to the end of the file, and a
  // quote closed lines later to swallow every key in between: a typo'd quote
  // silently becomes part of a value (and, in the config, may carry the next
  // line's credential into an error message). A quoted value may span lines,
  // as YAML allows, but
  //  - its closing quote must exist, and
  //  - every line it continues on must be indented more than the block
  //    mapping or list it belongs to (YAML's own rule, which yaml-cpp does not
  //    check): a line indented like a key is a key, not more of the value.
  // Both are reported at the opening quote.
  void check_quoted(const YAML::Mark& mark) {
    std::size_t p = offset(mark);
    // Node properties (&anchor, !tag) come before the quote.
    while (p < text_.size() && (text_[p] == '&' || text_[p] == '!')) {
      while (p < text_.size() && text_[p] != ' ' && text_[p] != '\t' && text_[p] != '\n') ++p;
      while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t' || text_[p] == '\n' ||
                                  text_[p] == '\r'))
        ++p;
    }
    if (p >= text_.size() || (text_[p] != '"' && text_[p] != '\'')) return;  // a block scalar
    const char quote = text_[p];
    std::size_t i = p + 1;
    bool closed = false;
    while (i < text_.size()) {
      const char c = text_[i];
      if (quote == '"' && c == '\\') {
        i += 2;
        continue;
      }
      if (c == quote) {
        if (quote == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
          i += 2;
          continue;
        }
        closed = true;
        break;
      }
      ++i;
    }
    const int open_line = line_of(p);
    YAML::Mark at;
    at.line = open_line;
    at.column = static_cast<int>(p - starts_[static_cast<std::size_t>(open_line)]);
    const std::string kind = quote == '"' ? "double" : "single";
    if (!closed)
      throw Refusal{at, "this " + kind + "-quoted value is never closed (it would run to the end of the file)",
                    std::string("add the closing ") + quote + " on this line"};
    const int close_line = line_of(i);
    if (close_line == open_line) return;
    int block_column = -1;
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it)
      if (!it->flow) {
        block_column = it->column;
        break;
      }
    for (int l = open_line + 1; l <= close_line; ++l) {
      const std::size_t begin = starts_[static_cast<std::size_t>(l)];
      std::size_t k = begin;
      while (k < text_.size() && (text_[k] == ' ' || text_[k] == '\t')) ++k;
      if (k >= text_.size() || text_[k] == '\n' || text_[k] == '\r') continue;  // blank
      if (static_cast<int>(k - begin) <= block_column)
        throw Refusal{at,
                      "this " + kind + "-quoted value is not closed on its line and runs on to line " +
                          std::to_string(l + 1) + ", which is indented like a key",
                      std::string("add the closing ") + quote +
                          " on this line; a value that goes on over several lines continues on "
                          "lines indented more than its key"};
    }
  }

  const std::string& text_;
  std::vector<std::size_t> starts_;
  const FileKind& kind_;
  std::size_t nodes_ = 0;
  std::vector<Open> stack_;
  std::map<YAML::anchor_t, std::size_t> sizes_;
};

// The nearest line above `line` (0-based) with something on it other than a
// comment; empty when there is none.
std::string previous_line(const SourceText& source, int line) {
  for (int l = line - 1; l >= 0; --l) {
    std::string text = source.line(l);
    auto i = text.find_first_not_of(" \t\r");
    if (i != std::string::npos && text[i] != '#') return text;
  }
  return "";
}

// yaml-cpp's messages are terse and lower-case; they are kept (users search
// for them) with a hint where the usual cause is known.
std::string hint_for(const std::string& msg, const std::string& line,
                     const std::string& previous) {
  // YAML forbids tabs in indentation; yaml-cpp's complaint never says so.
  if (line.find_first_not_of(" \t") != std::string::npos &&
      line.substr(0, line.find_first_not_of(" \t")).find('\t') != std::string::npos)
    return "indent with spaces: YAML does not allow tabs in indentation";
  if (msg.find("end of map not found") != std::string::npos ||
      msg.find("end of sequence not found") != std::string::npos)
    return "check the indentation of this block and the lines around it";
  if (msg.find("flow") != std::string::npos)
    return "a '[' or '{' is not closed; check brackets and commas";
  if (msg.find("illegal map value") != std::string::npos) {
    // A key indented deeper than the `key: value` line before it is the
    // usual cause; a second ': ' on one line the other.
    auto indent = [](const std::string& l) { return l.find_first_not_of(' '); };
    auto content = [](const std::string& l) {
      auto i = l.find_first_not_of(' ');
      return i == std::string::npos ? std::string() : l.substr(i);
    };
    const std::string prev = content(previous), here = content(line);
    bool prev_has_value = prev.find(": ") != std::string::npos && prev.back() != ':';
    if (!here.empty() && !prev.empty() && indent(line) > indent(previous) && prev_has_value &&
        here.find(": ") != std::string::npos)
      return "this line is indented deeper than the line before it, which already has a "
             "value: indent it like that line, or nest it under a key that ends with ':'";
    return "a value containing ': ' must be quoted";
  }
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

// Whether `content` (a line without its comment) ends in a block scalar
// indicator: "key: |", "- >-", "key: |2+".
bool ends_block_header(const std::string& content) {
  std::size_t end = content.find_last_not_of(" \t\r");
  if (end == std::string::npos) return false;
  std::size_t start = end;
  while (start > 0 && content[start - 1] != ' ' && content[start - 1] != '\t') --start;
  if (content[start] != '|' && content[start] != '>') return false;
  for (std::size_t i = start + 1; i <= end; ++i)
    if (!(content[i] == '+' || content[i] == '-' || (content[i] >= '1' && content[i] <= '9')))
      return false;
  // The indicator is a value: after "key:", "- ", or alone on its line.
  std::size_t before = content.find_last_not_of(" \t", start == 0 ? 0 : start - 1);
  return start == 0 || before == std::string::npos || content[before] == ':' ||
         content[before] == '-';
}

// The indentation a block scalar's content must exceed: the column of the
// key (or list dash) that holds it.
int block_parent_indent(const std::string& line) {
  std::size_t i = line.find_first_not_of(' ');
  if (i == std::string::npos) return 0;
  std::size_t dash = i;
  while (i + 1 < line.size() && line[i] == '-' && line[i + 1] == ' ') {
    dash = i;
    i = line.find_first_not_of(' ', i + 1);
    if (i == std::string::npos) return static_cast<int>(dash);
  }
  if (line[i] == '|' || line[i] == '>') return static_cast<int>(dash);
  return static_cast<int>(i);
}

}  // namespace

YamlDocument quote_flow_variables(const std::string& original) {
  YamlDocument out;
  int depth = 0;          // open flow collections
  char quote = 0;         // the quote a multi-line quoted scalar is still inside of
  int block_indent = -1;  // inside a block scalar: its parent's indentation
  std::size_t pos = 0;
  int line_no = 0;
  while (pos <= original.size()) {
    const std::size_t nl = original.find('\n', pos);
    const bool last = nl == std::string::npos;
    const std::string line = original.substr(pos, last ? std::string::npos : nl - pos);
    if (last && line.empty()) break;
    pos = last ? original.size() + 1 : nl + 1;
    const int this_line = line_no++;
    auto keep_line = [&] {
      out.text += line;
      if (!last) out.text += '\n';
    };

    if (block_indent >= 0) {
      const std::size_t first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos ||
          static_cast<int>(line.find_first_not_of(' ')) > block_indent) {
        keep_line();
        continue;
      }
      block_indent = -1;
    }

    std::vector<int> inserted;
    std::string result;
    std::size_t comment = std::string::npos;
    // Where a node may begin: at the line's first character, after "key: ",
    // after a block list's "- ", and in flow collections after '[', '{' and
    // ','. Only there do quotes open a quoted scalar and brackets a flow
    // collection; elsewhere they are characters of a plain scalar.
    bool expect_node = true;
    std::size_t node_start = 0;  // in `result`
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quote) {
        result += c;
        if (quote == '"' && c == '\\' && i + 1 < line.size())
          result += line[++i];
        else if (c == quote)
          quote = 0;
        continue;
      }
      const bool after_space = i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t';
      if (c == '#' && after_space) {
        comment = i;
        result += line.substr(i);
        break;
      }
      if (c == ' ' || c == '\t' || c == '\r') {
        result += c;
        continue;
      }
      const char next = i + 1 < line.size() ? line[i + 1] : ' ';
      const bool next_space = next == ' ' || next == '\t' || next == '\r';
      if (expect_node) {
        expect_node = false;
        node_start = result.size();
        if (c == '"' || c == '\'') {
          quote = c;
          result += c;
          continue;
        }
        if (c == '[' || c == '{') {
          ++depth;
          expect_node = true;
          result += c;
          continue;
        }
        if ((c == '-' || c == '?') && next_space) {
          expect_node = true;
          result += c;
          continue;
        }
      }
      if (c == '$' && next == '{' && depth > 0) {
        // A plain scalar holding "${" in a flow collection: quote it whole,
        // from its start to the next flow separator, stepping over ${...}.
        std::size_t end = i;
        while (end < line.size()) {
          if (line[end] == '$' && end + 1 < line.size() && line[end + 1] == '{') {
            auto close = line.find('}', end);
            end = close == std::string::npos ? line.size() : close + 1;
            continue;
          }
          if (line[end] == ',' || line[end] == '}' || line[end] == ']') break;
          if (line[end] == '#' && (line[end - 1] == ' ' || line[end - 1] == '\t')) break;
          if (line[end] == ':' && end + 1 < line.size() && line[end + 1] == ' ') break;
          ++end;
        }
        std::size_t content_end = end;
        while (content_end > i && (line[content_end - 1] == ' ' || line[content_end - 1] == '\t'))
          --content_end;
        const std::string before = result.substr(node_start);
        result.resize(node_start);
        inserted.push_back(static_cast<int>(result.size()));
        result += '\'';
        for (char s : before + line.substr(i, content_end - i)) {
          if (s == '\'') {
            inserted.push_back(static_cast<int>(result.size()));
            result += '\'';
          }
          result += s;
        }
        inserted.push_back(static_cast<int>(result.size()));
        result += '\'';
        result += line.substr(content_end, end - content_end);
        i = end - 1;
        continue;
      }
      result += c;
      if (c == ':' && next_space) {
        expect_node = true;
      } else if (depth > 0) {
        if (c == ',' || c == '[' || c == '{') expect_node = true;
        if (c == '[' || c == '{') ++depth;
        if (c == ']' || c == '}') --depth;
      }
    }
    if (depth == 0 && !quote && ends_block_header(line.substr(0, comment)))
      block_indent = block_parent_indent(line);
    out.text += result;
    if (!last) out.text += '\n';
    if (!inserted.empty()) out.inserted[this_line] = std::move(inserted);
  }
  return out;
}

namespace {

bool inserted_at(const YamlDocument& doc, const YAML::Mark& m) {
  auto it = doc.inserted.find(m.line);
  return it != doc.inserted.end() &&
         std::find(it->second.begin(), it->second.end(), m.column) != it->second.end();
}

char char_at(const YamlDocument& doc, const YAML::Mark& m) {
  if (m.line < 0 || m.column < 0) return 0;
  std::size_t p = 0;
  for (int l = 0; l < m.line; ++l) {
    p = doc.text.find('\n', p);
    if (p == std::string::npos) return 0;
    ++p;
  }
  p += static_cast<std::size_t>(m.column);
  return p < doc.text.size() ? doc.text[p] : 0;
}

}  // namespace

bool YamlDocument::written_plain(const YAML::Node& n) const {
  return n.Tag() == "?" || (n.Tag() == "!" && inserted_at(*this, n.Mark()));
}

int YamlDocument::quote_width(const YAML::Node& n) const {
  const char c = char_at(*this, n.Mark());
  return c == '"' || c == '\'' ? 1 : 0;
}

std::optional<YamlDocument> load_yaml_source(const SourceText& source, const FileKind& kind,
                                             DiagnosticSink& sink) {
  if (source.text().size() > kind.max_bytes) {
    sink.file_error("larger than " + std::to_string(kind.max_bytes >> 20) + " MiB; a " +
                        kind.noun + " is never that big",
                    "is this the right file?");
    return std::nullopt;
  }
  if (!check_text_encoding(source, sink, kind)) return std::nullopt;
  if (is_blank_document(source.text())) {
    if (kind.may_be_empty) return YamlDocument{};
    sink.error(0, 0, "the " + kind.short_noun + " is empty", kind.empty_hint);
    return std::nullopt;
  }
  YamlDocument doc = quote_flow_variables(source.text());
  sink.set_inserted(doc.inserted);
  try {
    std::istringstream in(doc.text);
    YAML::Parser parser(in);
    StructureGuard guard(doc.text, kind);
    if (!parser.HandleNextDocument(guard)) {
      if (kind.may_be_empty) return YamlDocument{};
      sink.error(0, 0, "the " + kind.short_noun + " is empty", kind.empty_hint);
      return std::nullopt;
    }
    StructureGuard second(doc.text, kind);
    if (parser.HandleNextDocument(second)) {
      // The second document's position: the first '---' after the first document.
      std::size_t pos = doc.text.find("\n---");
      int line0 = 0;
      if (pos != std::string::npos)
        for (std::size_t i = 0; i <= pos; ++i) line0 += doc.text[i] == '\n';
      sink.error(line0, 0, "a " + kind.short_noun + " file holds exactly one YAML document",
                 "put each " + kind.short_noun + " in its own file");
      return std::nullopt;
    }
  } catch (const Refusal& r) {
    sink.error(r.mark.line, r.mark.column, r.message, r.hint);
    return std::nullopt;
  } catch (const YAML::DeepRecursion& e) {
    sink.error(e.mark.line, e.mark.column,
               "nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels",
               "a " + kind.noun + " needs only a few levels of nesting");
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    sink.error(e.mark.line, e.mark.column, "invalid YAML: " + e.msg,
               hint_for(e.msg, source.line(e.mark.line), previous_line(source, e.mark.line)));
    return std::nullopt;
  }
  try {
    doc.root = YAML::Load(doc.text);
  } catch (const YAML::Exception& e) {
    sink.error(e.mark.line, e.mark.column, "invalid YAML: " + e.msg,
               hint_for(e.msg, source.line(e.mark.line), previous_line(source, e.mark.line)));
    return std::nullopt;
  }
  return doc;
}

}  // namespace berth
