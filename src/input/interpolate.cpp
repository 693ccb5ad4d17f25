#include "input/interpolate.h"

#include "input/lexical.h"

namespace berth {

Expected<Interpolated, InterpolationError> interpolate(std::string_view text,
                                                       const Environment& env,
                                                       UnsetVariables unset) {
  Interpolated out;
  out.value.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out.value += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out.value += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out.value += c;
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos)
      return unexpected(InterpolationError{i, "unterminated '${' (no closing '}')",
                                           "write ${NAME}, or $$ for a literal '$'"});
    std::string_view inner = text.substr(i + 2, close - i - 2);
    std::string_view name = inner;
    std::optional<std::string_view> fallback;
    if (auto sep = inner.find(":-"); sep != std::string_view::npos) {
      name = inner.substr(0, sep);
      fallback = inner.substr(sep + 2);
    }
    // The default runs to the first '}': "${A:-${B}}" would leave a stray
    // '}' behind and take "${B" as text. Defaults are literal; say so.
    if (fallback && fallback->find("${") != std::string_view::npos)
      return unexpected(InterpolationError{
          i, "a default cannot hold another ${...}: '${" + std::string(inner) + "}'",
          "defaults are literal text, up to the first '}'; write ${NAME:-text}"});
    if (!lexical::is_env_name(name))
      return unexpected(InterpolationError{
          i, "invalid variable reference '${" + std::string(inner) + "}'",
          "variable names are letters, digits and '_'; defaults are written ${NAME:-default}"});
    auto value = env.get(name);
    // Like the shell's ${VAR:-default}: an empty variable takes the default too.
    if (fallback && (!value || value->empty())) value = std::string(*fallback);
    if (!value && unset == UnsetVariables::kRecord) {
      out.unset.emplace_back(name);
      value = std::string();
    }
    if (!value)
      return unexpected(
          InterpolationError{i, "environment variable " + std::string(name) + " is not set",
                             "export " + std::string(name) + " before running berth, or write ${" +
                                 std::string(name) + ":-default}"});
    out.value += *value;
    if (!out.expanded) out.first_variable = std::string(name);
    out.expanded = true;
    i = close;
  }
  return out;
}

}  // namespace berth
