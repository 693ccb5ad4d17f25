#include "berth/template/location.h"
#include "berth/common/text.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace berth {

namespace {

// Every ISO 3166-1 alpha-2 code by GeoNames' continent (countryInfo.txt).
const std::map<std::string, std::string>& continents() {
  static const std::map<std::string, std::string> table = [] {
    const std::pair<const char*, const char*> groups[] = {
        {"af",
         "dz ao bj bw bf bi cv cm cf td km cg cd ci dj eg gq er sz et ga gm gh gn gw ke ls lr ly "
         "mg mw ml mr mu yt ma mz na ne ng re rw sh st sn sc sl so za ss sd tz tg tn ug eh zm zw"},
        {"an", "aq bv gs hm tf"},
        {"as",
         "af am az bh bd bt io bn kh cn cx cc ge hk in id ir iq il jp jo kz kw kg la lb mo my mv "
         "mn mm np kp om pk ps ph qa sa sg kr lk sy tw tj th tl tr tm ae uz vn ye"},
        {"eu",
         "ax al ad at by be ba bg hr cy cz dk ee fo fi fr de gi gr gg va hu is ie im it je lv li "
         "lt lu mt md mc me nl mk no pl pt ro ru sm rs sk si es sj se ch ua gb"},
        {"na",
         "ai ag aw bs bb bz bm bq vg ca ky cr cu cw dm do sv gl gd gp gt ht hn jm mq mx ms ni pa "
         "pr bl kn lc mf pm vc sx tt tc us vi"},
        {"oc", "as au ck fj pf gu ki mh fm nr nc nz nu nf mp pw pg pn ws sb tk to tv um vu wf"},
        {"sa", "ar bo br cl co ec fk gf gy py pe sr uy ve"},
    };
    std::map<std::string, std::string> t;
    for (const auto& [continent, codes] : groups) {
      std::string_view rest = codes;
      while (!rest.empty()) {
        auto sp = rest.find(' ');
        t.emplace(std::string(rest.substr(0, sp)), continent);
        rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
      }
    }
    return t;
  }();
  return table;
}

bool is_continent(std::string_view c) {
  static const char* const kContinents[] = {"af", "an", "as", "eu", "na", "oc", "sa"};
  return std::find(std::begin(kContinents), std::end(kContinents), c) != std::end(kContinents);
}

// English names as providers write them; codes are looked up directly.
const std::map<std::string, std::string>& country_names() {
  static const std::map<std::string, std::string> t = {
      {"united states", "us"}, {"united states of america", "us"}, {"usa", "us"},
      {"canada", "ca"}, {"mexico", "mx"}, {"brazil", "br"}, {"argentina", "ar"},
      {"chile", "cl"}, {"colombia", "co"}, {"united kingdom", "gb"}, {"uk", "gb"},
      {"great britain", "gb"}, {"england", "gb"}, {"ireland", "ie"}, {"france", "fr"},
      {"germany", "de"}, {"netherlands", "nl"}, {"the netherlands", "nl"}, {"belgium", "be"},
      {"luxembourg", "lu"}, {"switzerland", "ch"}, {"austria", "at"}, {"italy", "it"},
      {"spain", "es"}, {"portugal", "pt"}, {"sweden", "se"}, {"norway", "no"},
      {"denmark", "dk"}, {"finland", "fi"}, {"iceland", "is"}, {"poland", "pl"},
      {"czechia", "cz"}, {"czech republic", "cz"}, {"slovakia", "sk"}, {"hungary", "hu"},
      {"romania", "ro"}, {"bulgaria", "bg"}, {"greece", "gr"}, {"croatia", "hr"},
      {"slovenia", "si"}, {"serbia", "rs"}, {"estonia", "ee"}, {"latvia", "lv"},
      {"lithuania", "lt"}, {"ukraine", "ua"}, {"moldova", "md"}, {"belarus", "by"},
      {"russia", "ru"}, {"turkey", "tr"}, {"israel", "il"}, {"united arab emirates", "ae"},
      {"uae", "ae"}, {"saudi arabia", "sa"}, {"qatar", "qa"}, {"india", "in"},
      {"china", "cn"}, {"hong kong", "hk"}, {"taiwan", "tw"}, {"japan", "jp"},
      {"south korea", "kr"}, {"korea", "kr"}, {"singapore", "sg"}, {"malaysia", "my"},
      {"thailand", "th"}, {"vietnam", "vn"}, {"indonesia", "id"}, {"philippines", "ph"},
      {"kazakhstan", "kz"}, {"georgia", "ge"}, {"armenia", "am"}, {"australia", "au"},
      {"new zealand", "nz"}, {"south africa", "za"}, {"egypt", "eg"}, {"nigeria", "ng"},
      {"kenya", "ke"},
  };
  return t;
}

const std::map<std::string, std::string>& us_states() {
  static const std::map<std::string, std::string> t = {
      {"alabama", "al"}, {"alaska", "ak"}, {"arizona", "az"}, {"arkansas", "ar"},
      {"california", "ca"}, {"colorado", "co"}, {"connecticut", "ct"}, {"delaware", "de"},
      {"florida", "fl"}, {"georgia", "ga"}, {"hawaii", "hi"}, {"idaho", "id"},
      {"illinois", "il"}, {"indiana", "in"}, {"iowa", "ia"}, {"kansas", "ks"},
      {"kentucky", "ky"}, {"louisiana", "la"}, {"maine", "me"}, {"maryland", "md"},
      {"massachusetts", "ma"}, {"michigan", "mi"}, {"minnesota", "mn"}, {"mississippi", "ms"},
      {"missouri", "mo"}, {"montana", "mt"}, {"nebraska", "ne"}, {"nevada", "nv"},
      {"new hampshire", "nh"}, {"new jersey", "nj"}, {"new mexico", "nm"}, {"new york", "ny"},
      {"north carolina", "nc"}, {"north dakota", "nd"}, {"ohio", "oh"}, {"oklahoma", "ok"},
      {"oregon", "or"}, {"pennsylvania", "pa"}, {"rhode island", "ri"},
      {"south carolina", "sc"}, {"south dakota", "sd"}, {"tennessee", "tn"}, {"texas", "tx"},
      {"utah", "ut"}, {"vermont", "vt"}, {"virginia", "va"}, {"washington", "wa"},
      {"west virginia", "wv"}, {"wisconsin", "wi"}, {"wyoming", "wy"},
      {"district of columbia", "dc"}, {"washington dc", "dc"}, {"washington d.c.", "dc"},
  };
  return t;
}

const std::map<std::string, std::string>& ca_provinces() {
  static const std::map<std::string, std::string> t = {
      {"alberta", "ab"}, {"british columbia", "bc"}, {"manitoba", "mb"},
      {"new brunswick", "nb"}, {"newfoundland and labrador", "nl"}, {"nova scotia", "ns"},
      {"ontario", "on"}, {"prince edward island", "pe"}, {"quebec", "qc"},
      {"québec", "qc"}, {"saskatchewan", "sk"}, {"northwest territories", "nt"},
      {"nunavut", "nu"}, {"yukon", "yt"},
  };
  return t;
}

const std::map<std::string, std::string>* subregions_of(std::string_view country) {
  if (country == "us") return &us_states();
  if (country == "ca") return &ca_provinces();
  return nullptr;
}

bool glob_match(const std::string& glob, const std::string& text) {
  return !text.empty() && fnmatch(glob.c_str(), text.c_str(), 0) == 0;
}

}  // namespace

std::string continent_of(std::string_view country) {
  auto it = continents().find(ascii_lower(country));
  return it == continents().end() ? "" : it->second;
}

std::string subregion_code(std::string_view country, std::string_view name_or_code) {
  const auto* table = subregions_of(ascii_lower(country));
  if (!table) return "";
  std::string key = ascii_lower(trim(name_or_code));
  if (auto it = table->find(key); it != table->end()) return it->second;
  for (const auto& [name, code] : *table)
    if (code == key) return code;
  return "";
}

Location location_of_country(std::string_view country, std::string_view subregion) {
  Location l;
  l.continent = continent_of(country);
  if (l.continent.empty()) return l;
  l.country = ascii_lower(country);
  if (auto code = subregion_code(l.country, subregion); !code.empty())
    l.subregion = l.country + "-" + code;
  return l;
}

std::string country_code(std::string_view name_or_code) {
  std::string key = ascii_lower(trim(name_or_code));
  if (key.size() == 2) return continent_of(key).empty() ? "" : key;
  auto it = country_names().find(key);
  return it == country_names().end() ? "" : it->second;
}

Location parse_place(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    auto comma = text.find(',');
    parts.push_back(trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  std::string country = country_code(parts.back());
  if (country.empty()) return {};
  // The nearest earlier part that names a state or province: "Dallas, TX, US"
  // and "Texas, US" both say us-tx.
  for (std::size_t i = parts.size() - 1; i-- > 0;)
    if (auto code = subregion_code(country, parts[i]); !code.empty())
      return location_of_country(country, code);
  return location_of_country(country);
}

Location location_from_word(std::string_view word) {
  std::string w = ascii_lower(trim(word));
  if (w.size() == 2) {
    if (auto l = location_of_country(w); !l.country.empty()) return l;
    return is_continent(w) ? Location{"", w, ""} : Location{};
  }
  auto dash = w.find('-');
  if (dash != 2 || w.size() < 4) return {};
  std::string head = w.substr(0, 2), tail = w.substr(3);
  // "<country>-<sub-region>": "us-tx".
  if (auto l = location_of_country(head, tail); !l.subregion.empty()) return l;
  // "<continent>-<country>": "eu-de".
  if (is_continent(head) && continent_of(tail) == head) return location_of_country(tail);
  return {};
}

std::string location_summary(const Location& l) {
  if (!l.subregion.empty()) return l.subregion;
  if (!l.country.empty()) return l.country;
  if (!l.continent.empty()) return l.continent;
  return "-";
}

bool is_plain_word(std::string_view glob) {
  return glob.find_first_of("*?[") == std::string_view::npos;
}

bool is_location_word(std::string_view word) {
  return !location_from_word(word).continent.empty();
}

bool region_glob_matches(std::string_view glob_text, std::string_view raw_region,
                         const Location& l) {
  const std::string glob = ascii_lower(glob_text);
  if (glob_match(glob, ascii_lower(raw_region))) return true;
  if (glob_match(glob, l.country) || glob_match(glob, l.continent)) return true;
  if (!l.country.empty() &&
      glob_match(glob, l.subregion.empty() ? l.country + "-" : l.subregion))
    return true;
  if (!l.continent.empty() && glob_match(glob, l.continent + "-" + l.country)) return true;
  return false;
}

std::vector<std::string> unknown_region_words(const std::vector<std::string>& globs,
                                              const std::vector<std::string>& raw_regions) {
  std::vector<std::string> out;
  for (const auto& g : globs) {
    if (!is_plain_word(g) || is_location_word(g)) continue;
    const std::string word = ascii_lower(g);
    if (std::none_of(raw_regions.begin(), raw_regions.end(),
                     [&](const std::string& r) { return iequals(r, word); }))
      out.push_back(g);
  }
  return out;
}

std::string to_string(CpuArch a) {
  switch (a) {
    case CpuArch::kX86_64:
      return "x86_64";
    case CpuArch::kArm64:
      return "arm64";
    case CpuArch::kUnknown:
      break;
  }
  return "unknown";
}

std::optional<CpuArch> cpu_arch_from_name(std::string_view name) {
  if (name == "x86_64") return CpuArch::kX86_64;
  if (name == "arm64") return CpuArch::kArm64;
  return std::nullopt;
}

std::optional<CpuArch> cpu_arch_from_oci(std::string_view architecture) {
  if (architecture == "amd64") return CpuArch::kX86_64;
  if (architecture == "arm64") return CpuArch::kArm64;
  return std::nullopt;
}

}  // namespace berth
