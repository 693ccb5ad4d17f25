// Where an offer is and what CPU it has, in one vocabulary across providers
// (docs/templates.md, "Regions"): ISO 3166-1 alpha-2 countries, GeoNames
// continent codes, `<country>-<code>` sub-regions; and the rule by which
// placement.regions globs match them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/template/launch_template.h"

namespace berth {

/// A normalized location. Each field is lower case, or empty when unknown;
/// nothing is guessed.
struct Location {
  std::string country;    // ISO 3166-1 alpha-2: "us", "de", "se"
  std::string continent;  // af an as eu na oc sa (GeoNames' continent codes)
  std::string subregion;  // "<country>-<code>": "us-tx", "ca-qc"
  bool operator==(const Location&) const = default;
};

/// The continent of an ISO 3166-1 alpha-2 code ("de" -> "eu"), any case;
/// empty when `country` is not one.
std::string continent_of(std::string_view country);

/// The location of a country code and, optionally, a sub-region code within
/// it ("us", "tx"); an unknown country gives an empty location, an unknown
/// sub-region leaves the sub-region empty. Only US states (and DC) and
/// Canadian provinces are known sub-regions.
Location location_of_country(std::string_view country, std::string_view subregion_code = "");

/// A country's ISO code from its English name or code ("Sweden", "USA",
/// "United States", "se"), any case; empty when unknown.
std::string country_code(std::string_view name_or_code);

/// A sub-region's code ("tx") from its name or code ("Texas", "TX",
/// "Washington DC") within `country` ("us" or "ca"); empty when unknown.
std::string subregion_code(std::string_view country, std::string_view name_or_code);

/// A place written for people, "City, ST, US", "Texas, USA", "Sweden, SE",
/// "SE", "Germany": the last comma-separated part names the country (a code
/// or a name), an earlier part a state or province where the country has them.
/// Anything unrecognized gives an empty location.
Location parse_place(std::string_view text);

/// A word of the location vocabulary, as an ssh host's `region:` may be
/// written: a country ("de"; a code that is both, like "sa", is the
/// country), a continent ("eu", only the continent known), a sub-region
/// ("us-tx"), or "<continent>-<country>" ("eu-de"); otherwise an empty
/// location.
Location location_from_word(std::string_view word);

/// The most specific known part, for tables: "us-tx", "de", "eu"; "-" when
/// unknown.
std::string location_summary(const Location& location);

/// Whether a placement.regions glob matches an offer with this raw region
/// and location. Case-insensitive; the glob (fnmatch) is tried against each of:
/// the raw region, the country, the continent, `<country>-<subregion code>`
/// (`<country>-` when the sub-region is unknown, so `us-*` takes every US
/// offer), and `<continent>-<country>` (`<continent>-` when the country is
/// unknown, so `eu-*` takes every European offer).
bool region_glob_matches(std::string_view glob, std::string_view raw_region,
                         const Location& location);

/// A glob with no wildcard character (`*`, `?`, `[`).
bool is_plain_word(std::string_view glob);

/// A plain word that is in the location vocabulary (location_from_word gives
/// a location).
bool is_location_word(std::string_view word);

/// The plain words among `globs` that are not location words and equal
/// (ignoring case) none of `raw_regions`: most likely typos, since such a
/// word matches no offer but one whose raw region is exactly that word.
std::vector<std::string> unknown_region_words(const std::vector<std::string>& globs,
                                              const std::vector<std::string>& raw_regions);

/// "x86_64", "arm64", "unknown".
std::string to_string(CpuArch a);
/// "x86_64" | "arm64" (the template's and JSON's spelling); nullopt otherwise.
std::optional<CpuArch> cpu_arch_from_name(std::string_view name);
/// An OCI platform architecture: "amd64" -> x86_64, "arm64" -> arm64;
/// nullopt for others ("arm", "ppc64le", "s390x", ...).
std::optional<CpuArch> cpu_arch_from_oci(std::string_view architecture);

}  // namespace berth
