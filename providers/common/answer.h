// The edge of a cloud adapter, where an answer that has arrived becomes
// berth's values. Adapters read through json_util, which throws ShapeError at
// the first thing it does not expect; here that becomes a bad-response error,
// so a shape an adapter does not understand is never taken for "nothing
// there" (a paid instance must not vanish from berth's view).
#pragma once

#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "berth/common/expected.h"
#include "berth/provider/instance.h"
#include "berth/provider/provider.h"
#include "providers/common/json_util.h"

namespace berth::answer {

namespace detail {
template <class T>
struct Result {
  using type = Expected<T, ProviderError>;
};
template <class T>
struct Result<Expected<T, ProviderError>> {
  using type = Expected<T, ProviderError>;
};
}  // namespace detail

/// What `reading()` returns, or bad-response "unexpected <what>: <why>" when
/// it throws. `reading` may return an Expected itself, for answers whose
/// shape also says something else (an instance the API reports as absent).
template <class Reading>
typename detail::Result<std::invoke_result_t<Reading&>>::type read(std::string_view what,
                                                                   Reading&& reading) {
  try {
    return reading();
  } catch (const std::exception& e) {
    return unexpected(ProviderError{ProviderError::Kind::kBadResponse,
                                    "unexpected " + std::string(what) + ": " + e.what()});
  }
}

/// What a failed terminate call leaves: success when the instance is already
/// gone (Provider::terminate is idempotent), the failure otherwise.
inline Expected<void, ProviderError> unless_gone(const ProviderError& error) {
  if (error.kind == ProviderError::Kind::kNotFound) return {};
  return unexpected(error);
}

/// The entries of an account-wide listing that are berth's, converted by
/// `to_instance`: those whose `name_key` starts "berth-" (Provider::list).
/// Other tools' entries are skipped before the rest of them is read, so their
/// shapes cannot fail the listing.
template <class ToInstance>
std::vector<Instance> berth_instances(const nlohmann::json& entries, std::string_view name_key,
                                      ToInstance&& to_instance) {
  std::vector<Instance> out;
  for (const nlohmann::json& entry : entries) {
    auto name = json_util::opt_string(entry, name_key);
    if (!name || name->rfind("berth-", 0) != 0) continue;
    out.push_back(to_instance(entry));
  }
  return out;
}

}  // namespace berth::answer
