#include "berth/template/gpu_catalog.h"
#include "berth/common/text.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

namespace berth {

namespace {

GpuModel nvidia(std::string name, double vram, double cc, std::string arch,
                std::vector<std::string> aliases = {}) {
  return GpuModel{std::move(name), GpuVendor::kNvidia, vram, cc,
                  std::move(arch), std::move(aliases)};
}

GpuModel amd(std::string name, double vram, std::string arch,
             std::vector<std::string> aliases = {}) {
  return GpuModel{std::move(name), GpuVendor::kAmd, vram,
                  std::nullopt,    std::move(arch), std::move(aliases)};
}

// Facts: the vendors' published model data (NVIDIA's CUDA GPU table wins over
// peers' catalogs). Variants whose nominal memory differs are separate models
// ("A100-40GB", "A100-80GB"); they share a family name ("A100") that templates
// may use for both. Within a family the smaller variant comes first: it is the
// answer when a provider names the family without saying how much memory.
std::vector<GpuModel> build_catalog() {
  return {
      // Blackwell
      nvidia("B300", 270, 10.3, "Blackwell", {"GB300", "B300 SXM6", "HGX B300"}),
      nvidia("GB200", 186, 10.0, "Blackwell", {"GB200 NVL72"}),
      nvidia("B200", 180, 10.0, "Blackwell", {"B200 SXM6", "HGX B200", "DGX B200"}),
      nvidia("RTXPRO6000", 96, 12.0, "Blackwell",
             {"RTX PRO 6000", "RTX PRO 6000 Blackwell", "RTX PRO 6000 Blackwell Server Edition",
              "RTX PRO 6000 Blackwell Workstation Edition", "RTX PRO 6000 WK",
              "RTX Pro 6000 Blackwell Max-Q", "RTX6000 Pro", "PRO6000"}),
      nvidia("RTXPRO5000", 48, 12.0, "Blackwell", {"RTX PRO 5000", "RTX PRO 5000 Blackwell"}),
      nvidia("RTXPRO4500", 32, 12.0, "Blackwell", {"RTX PRO 4500", "RTX PRO 4500 Blackwell"}),
      nvidia("RTXPRO4000", 24, 12.0, "Blackwell", {"RTX PRO 4000", "RTX PRO 4000 Blackwell"}),
      nvidia("RTXPRO2000", 16, 12.0, "Blackwell", {"RTX PRO 2000", "RTX PRO 2000 Blackwell"}),
      nvidia("GB10", 128, 12.1, "Blackwell", {"DGX Spark"}),
      nvidia("RTX5090", 32, 12.0, "Blackwell", {"RTX 5090", "GeForce RTX 5090"}),
      nvidia("RTX5080", 16, 12.0, "Blackwell", {"RTX 5080", "GeForce RTX 5080"}),
      nvidia("RTX5070Ti", 16, 12.0, "Blackwell", {"RTX 5070 Ti", "GeForce RTX 5070 Ti"}),
      nvidia("RTX5070", 12, 12.0, "Blackwell", {"RTX 5070", "GeForce RTX 5070"}),
      nvidia("RTX5060Ti-8GB", 8, 12.0, "Blackwell", {"RTX 5060 Ti"}),
      nvidia("RTX5060Ti-16GB", 16, 12.0, "Blackwell", {"RTX 5060 Ti"}),
      nvidia("RTX5060", 8, 12.0, "Blackwell", {"RTX 5060", "GeForce RTX 5060"}),
      // Hopper
      nvidia("H200", 141, 9.0, "Hopper",
             {"H200 SXM", "H200 SXM5", "H200 NVL", "H200 141GB HBM3e", "HGX H200"}),
      nvidia("GH200", 96, 9.0, "Hopper", {"GH200 480GB", "Grace Hopper"}),
      nvidia("H100-NVL", 94, 9.0, "Hopper", {"H100 NVL", "H100NVL"}),
      nvidia("H100", 80, 9.0, "Hopper",
             {"H100 SXM", "H100 SXM5", "H100 PCIe", "H100 80GB HBM3", "H100 PCIe 80GB", "H100 80GB",
              "HGX H100"}),
      nvidia("H800", 80, 9.0, "Hopper", {"H800 SXM", "H800 PCIe"}),
      nvidia("H20", 96, 9.0, "Hopper", {"H20 96GB"}),
      // Ada Lovelace
      nvidia("L40S", 48, 8.9, "Ada Lovelace"),
      nvidia("L40", 48, 8.9, "Ada Lovelace"),
      nvidia("L4", 24, 8.9, "Ada Lovelace"),
      nvidia("RTX6000-Ada", 48, 8.9, "Ada Lovelace",
             {"RTX 6000 Ada", "RTX 6000 Ada Generation", "RTX6000Ada", "RTX 6000Ada"}),
      nvidia("RTX5000-Ada", 32, 8.9, "Ada Lovelace",
             {"RTX 5000 Ada", "RTX 5000 Ada Generation", "RTX5000Ada", "RTX 5000Ada"}),
      nvidia("RTX4500-Ada", 24, 8.9, "Ada Lovelace",
             {"RTX 4500 Ada", "RTX 4500 Ada Generation", "RTX4500Ada", "RTX 4500Ada"}),
      nvidia("RTX4000-Ada", 20, 8.9, "Ada Lovelace",
             {"RTX 4000 Ada", "RTX 4000 Ada Generation", "RTX4000Ada", "RTX 4000Ada",
              "RTX 4000 SFF Ada", "RTX 4000 SFF Ada Generation"}),
      nvidia("RTX2000-Ada", 16, 8.9, "Ada Lovelace",
             {"RTX 2000 Ada", "RTX 2000 Ada Generation", "RTX2000Ada", "RTX 2000Ada"}),
      nvidia("RTX4090", 24, 8.9, "Ada Lovelace", {"RTX 4090", "GeForce RTX 4090"}),
      nvidia("RTX4080SUPER", 16, 8.9, "Ada Lovelace", {"RTX 4080 SUPER", "RTX 4080S"}),
      nvidia("RTX4080", 16, 8.9, "Ada Lovelace", {"RTX 4080", "GeForce RTX 4080"}),
      nvidia("RTX4070TiSUPER", 16, 8.9, "Ada Lovelace", {"RTX 4070 Ti SUPER"}),
      nvidia("RTX4070Ti", 12, 8.9, "Ada Lovelace", {"RTX 4070 Ti"}),
      nvidia("RTX4070SUPER", 12, 8.9, "Ada Lovelace", {"RTX 4070 SUPER", "RTX 4070S"}),
      nvidia("RTX4070", 12, 8.9, "Ada Lovelace", {"RTX 4070"}),
      nvidia("RTX4060Ti-8GB", 8, 8.9, "Ada Lovelace", {"RTX 4060 Ti"}),
      nvidia("RTX4060Ti-16GB", 16, 8.9, "Ada Lovelace", {"RTX 4060 Ti"}),
      nvidia("RTX4060", 8, 8.9, "Ada Lovelace", {"RTX 4060"}),
      // Ampere
      nvidia("A100-40GB", 40, 8.0, "Ampere",
             {"A100", "A100 SXM4", "A100 PCIe", "A100 SXM4 40GB", "A100 PCIe 40GB"}),
      nvidia("A100-80GB", 80, 8.0, "Ampere",
             {"A100", "A100 80GB", "A100 SXM4 80GB", "A100 PCIe 80GB", "A100X", "A100 80GB PCIe"}),
      nvidia("A800-40GB", 40, 8.0, "Ampere", {"A800"}),
      nvidia("A800-80GB", 80, 8.0, "Ampere", {"A800"}),
      nvidia("A30", 24, 8.0, "Ampere"),
      nvidia("A40", 48, 8.6, "Ampere"),
      nvidia("RTXA6000", 48, 8.6, "Ampere", {"RTX A6000", "A6000"}),
      nvidia("RTXA5000", 24, 8.6, "Ampere", {"RTX A5000", "A5000"}),
      nvidia("RTXA4500", 20, 8.6, "Ampere", {"RTX A4500", "A4500"}),
      nvidia("RTXA4000", 16, 8.6, "Ampere", {"RTX A4000", "A4000"}),
      nvidia("RTXA3000-6GB", 6, 8.6, "Ampere", {"RTX A3000", "A3000"}),
      nvidia("RTXA3000-12GB", 12, 8.6, "Ampere", {"RTX A3000", "A3000"}),
      nvidia("RTXA2000-6GB", 6, 8.6, "Ampere", {"RTX A2000", "A2000"}),
      nvidia("RTXA2000-12GB", 12, 8.6, "Ampere", {"RTX A2000", "A2000"}),
      nvidia("A10", 24, 8.6, "Ampere"),
      nvidia("A10G", 24, 8.6, "Ampere"),
      nvidia("A16", 16, 8.6, "Ampere"),
      nvidia("A2", 16, 8.6, "Ampere"),
      nvidia("RTX3090Ti", 24, 8.6, "Ampere", {"RTX 3090 Ti"}),
      nvidia("RTX3090", 24, 8.6, "Ampere", {"RTX 3090", "GeForce RTX 3090"}),
      nvidia("RTX3080Ti", 12, 8.6, "Ampere", {"RTX 3080 Ti"}),
      nvidia("RTX3080", 10, 8.6, "Ampere", {"RTX 3080"}),
      nvidia("RTX3070Ti", 8, 8.6, "Ampere", {"RTX 3070 Ti"}),
      nvidia("RTX3070", 8, 8.6, "Ampere", {"RTX 3070"}),
      nvidia("RTX3060Ti", 8, 8.6, "Ampere", {"RTX 3060 Ti"}),
      nvidia("RTX3060-8GB", 8, 8.6, "Ampere", {"RTX 3060"}),
      nvidia("RTX3060-12GB", 12, 8.6, "Ampere", {"RTX 3060"}),
      // Turing
      nvidia("RTX2080Ti", 11, 7.5, "Turing", {"RTX 2080 Ti"}),
      nvidia("RTX2080SUPER", 8, 7.5, "Turing", {"RTX 2080 SUPER"}),
      nvidia("RTX2080", 8, 7.5, "Turing", {"RTX 2080"}),
      nvidia("RTX2070SUPER", 8, 7.5, "Turing", {"RTX 2070 SUPER"}),
      nvidia("RTX2070", 8, 7.5, "Turing", {"RTX 2070"}),
      nvidia("RTX2060SUPER", 8, 7.5, "Turing", {"RTX 2060 SUPER"}),
      nvidia("RTX2060", 6, 7.5, "Turing", {"RTX 2060"}),
      nvidia("TitanRTX", 24, 7.5, "Turing", {"Titan RTX"}),
      nvidia("RTX8000", 48, 7.5, "Turing", {"Quadro RTX 8000", "RTX 8000"}),
      nvidia("RTX6000", 24, 7.5, "Turing", {"Quadro RTX 6000", "RTX 6000"}),
      nvidia("T4", 16, 7.5, "Turing", {"Tesla T4"}),
      // Volta and Pascal
      nvidia("V100-16GB", 16, 7.0, "Volta", {"V100", "Tesla V100", "V100 SXM2", "V100 PCIe"}),
      nvidia("V100-32GB", 32, 7.0, "Volta", {"V100", "V100S", "Tesla V100", "V100 SXM2 32GB"}),
      nvidia("P100", 16, 6.0, "Pascal", {"Tesla P100"}),
      nvidia("P40", 24, 6.1, "Pascal", {"Tesla P40"}),
      nvidia("P4", 8, 6.1, "Pascal", {"Tesla P4"}),
      nvidia("GTX1080Ti", 11, 6.1, "Pascal", {"GTX 1080 Ti", "GeForce GTX 1080 Ti"}),
      // AMD Instinct
      amd("MI355X", 288, "CDNA4", {"Instinct MI355X"}),
      amd("MI350X", 288, "CDNA4", {"Instinct MI350X"}),
      amd("MI325X", 288, "CDNA3", {"Instinct MI325X"}),
      amd("MI308X", 128, "CDNA3", {"Instinct MI308X"}),
      amd("MI300X", 192, "CDNA3", {"Instinct MI300X", "MI300X OAM"}),
      amd("MI300A", 128, "CDNA3", {"Instinct MI300A"}),
      amd("MI250X", 128, "CDNA2", {"Instinct MI250X"}),
      amd("MI250", 128, "CDNA2", {"Instinct MI250"}),
      amd("MI210", 64, "CDNA2", {"Instinct MI210"}),
      amd("MI100", 32, "CDNA", {"Instinct MI100"}),
  };
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

bool has_digit(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// "80gb", "80g", "24gib", "80vram" (Vultr), "80s" (Verda: 80 GB SXM) -> 80.
std::optional<double> memory_token(std::string_view t, bool allow_bare_letter) {
  std::size_t n = 0;
  while (n < t.size() && std::isdigit(static_cast<unsigned char>(t[n]))) ++n;
  if (n == 0 || n > 4) return std::nullopt;
  std::string_view unit = t.substr(n);
  // "80S" is Verda's 80 GB SXM, but "4080S" is a model number.
  if (n > 3 && (unit == "s" || unit == "p")) return std::nullopt;
  const double value = std::stod(std::string(t.substr(0, n)));
  if (unit == "gb" || unit == "g" || unit == "gib" || unit == "vram") return value;
  if (allow_bare_letter && (unit == "s" || unit == "p")) return value;
  return std::nullopt;
}

// What remains of a raw provider spelling once vendor words, counts, form
// factors and memory sizes are taken out: the family key ("h100", "a100",
// "rtx4090", "rtx6000ada"), plus every memory size the spelling mentioned.
struct Folded {
  std::string key;
  std::vector<double> memory_hints;
};

Folded fold_name(std::string_view raw) {
  static const std::vector<std::string> kNoise = {
      "nvidia", "amd",        "geforce", "tesla",  "instinct",    "radeon",    "quadro",
      "gpu",    "pcie",       "pci",     "e",      "sxm",         "sxm2",      "sxm3",
      "sxm4",   "sxm5",       "sxm6",    "oam",    "hbm",         "hbm2",      "hbm2e",
      "hbm3",   "hbm3e",      "gddr6",   "gddr6x", "gddr7",       "gb",        "gib",
      "g",      "generation", "edition", "server", "workstation", "blackwell", "vcg",
      "x",      "nvlink",     "max",     "q",      "wk",          "n"};
  static const std::vector<std::string> kGluedPrefixes = {"nvidia", "geforce",  "tesla",
                                                          "amd",    "instinct", "quadro"};
  Folded out;
  std::vector<std::string> tokens;
  std::string cur;
  const std::string low = ascii_lower(raw);
  for (std::size_t i = 0; i <= low.size(); ++i) {
    const char c = i < low.size() ? low[i] : ' ';
    if (std::isalnum(static_cast<unsigned char>(c))) {
      cur += c;
    } else if (!cur.empty()) {
      tokens.push_back(cur);
      cur.clear();
    }
  }
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    std::string t = tokens[i];
    // "80 GB": a bare number followed by a memory unit.
    if (all_digits(t) && t.size() <= 4 && i + 1 < tokens.size() &&
        (tokens[i + 1] == "gb" || tokens[i + 1] == "gib" || tokens[i + 1] == "g")) {
      out.memory_hints.push_back(std::stod(t));
      ++i;
      continue;
    }
    for (const auto& p : kGluedPrefixes)
      if (t.size() > p.size() && t.compare(0, p.size(), p) == 0) t = t.substr(p.size());
    // Counts: "8x", "x8", "gpu_8x", and glued ones: "8h100" (Verda), "a100x1", "80gx8".
    if (t.size() >= 2 && t.back() == 'x' && all_digits(t.substr(0, t.size() - 1))) continue;
    if (t.size() >= 2 && t.front() == 'x' && all_digits(t.substr(1))) continue;
    // A glued count follows a model number ("a100x1"), never a name's own x ("rtx5080").
    if (auto x = t.rfind('x'); x != std::string::npos && x > 0 && x + 1 < t.size() &&
                               t.size() - x - 1 <= 2 && all_digits(t.substr(x + 1)) &&
                               std::isdigit(static_cast<unsigned char>(t[x - 1])))
      t = t.substr(0, x);
    else if (x != std::string::npos && x > 0 && x + 1 < t.size() && t.size() - x - 1 <= 2 &&
             all_digits(t.substr(x + 1)) && (t[x - 1] == 'g' || t[x - 1] == 'b'))
      t = t.substr(0, x);
    if (std::isdigit(static_cast<unsigned char>(t[0]))) {
      std::size_t n = 0;
      while (n < t.size() && std::isdigit(static_cast<unsigned char>(t[n]))) ++n;
      if (n < t.size() && std::isalpha(static_cast<unsigned char>(t[n])) && has_digit(t.substr(n)))
        t = t.substr(n);
    }
    // Verda's "80S" (memory, form factor) and "176V" (vCPUs); Vultr's "12c" (cores).
    if (auto m = memory_token(t, /*allow_bare_letter=*/i > 0)) {
      out.memory_hints.push_back(*m);
      continue;
    }
    if (t.size() >= 2 && all_digits(t.substr(0, t.size() - 1)) &&
        (t.back() == 'v' || t.back() == 'c'))
      continue;
    // Hyperstack flavours: "n3-A100x1".
    if (t.size() == 2 && t[0] == 'n' && std::isdigit(static_cast<unsigned char>(t[1]))) continue;
    if (std::find(kNoise.begin(), kNoise.end(), t) != kNoise.end()) continue;
    kept.push_back(t);
  }
  for (const auto& t : kept) out.key += t;
  return out;
}

struct Index {
  // Family key -> models, catalog order (smaller variant first).
  std::map<std::string, std::vector<const GpuModel*>> by_family;
  // Canonical names and aliases folded without dropping memory: exact lookups.
  std::map<std::string, std::vector<const GpuModel*>> by_exact;
};

// Case-, space-, dash- and underscore-insensitive spelling of a name.
std::string simple_fold(std::string_view s) {
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void add_unique(std::vector<const GpuModel*>& list, const GpuModel* m) {
  if (std::find(list.begin(), list.end(), m) == list.end()) list.push_back(m);
}

const Index& index() {
  static const Index idx = [] {
    Index i;
    for (const auto& m : gpu_catalog()) {
      add_unique(i.by_family[fold_name(m.name).key], &m);
      add_unique(i.by_exact[simple_fold(m.name)], &m);
      for (const auto& a : m.aliases) {
        add_unique(i.by_family[fold_name(a).key], &m);
        add_unique(i.by_exact[simple_fold(a)], &m);
      }
    }
    return i;
  }();
  return idx;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// A reported size (81559 MiB read as 85.5 GB, or 79.6 GiB) matches a model's
// nominal size when within about 7%.
bool near(double reported, double nominal) {
  return std::abs(reported - nominal) <= 0.07 * nominal;
}

const GpuModel* pick_variant(const std::vector<const GpuModel*>& models,
                             const std::vector<double>& hints) {
  if (models.empty()) return nullptr;
  for (double h : hints)
    for (const auto* m : models)
      if (near(h, m->vram_gb)) return m;
  return models.front();
}

}  // namespace

const std::vector<GpuModel>& gpu_catalog() {
  static const std::vector<GpuModel> catalog = build_catalog();
  return catalog;
}

const GpuModel* find_gpu_model(std::string_view name) {
  const auto& idx = index();
  auto it = idx.by_exact.find(simple_fold(name));
  if (it != idx.by_exact.end()) return it->second.front();
  return nullptr;
}

std::vector<const GpuModel*> find_gpu_models(std::string_view name) {
  const auto& idx = index();
  // A canonical name is exactly one model, even when it is also a family's alias.
  for (const auto& m : gpu_catalog())
    if (simple_fold(m.name) == simple_fold(name)) return {&m};
  auto it = idx.by_exact.find(simple_fold(name));
  if (it != idx.by_exact.end()) return it->second;
  Folded f = fold_name(name);
  auto fam = idx.by_family.find(f.key);
  if (f.key.empty() || fam == idx.by_family.end()) return {};
  if (f.memory_hints.empty()) return fam->second;
  std::vector<const GpuModel*> out;
  for (const auto* m : fam->second)
    for (double h : f.memory_hints)
      if (near(h, m->vram_gb)) add_unique(out, m);
  return out;
}

const GpuModel* normalize_gpu_name(std::string_view raw, std::optional<double> reported_vram_gb) {
  const auto& idx = index();
  Folded f = fold_name(raw);
  if (reported_vram_gb && *reported_vram_gb > 0)
    f.memory_hints.insert(f.memory_hints.begin(), *reported_vram_gb);
  auto fam = idx.by_family.find(f.key);
  if (!f.key.empty() && fam != idx.by_family.end())
    return pick_variant(fam->second, f.memory_hints);
  // A spelling that is itself an alias ("A100X") even though folding changed it.
  auto it = idx.by_exact.find(simple_fold(raw));
  if (it != idx.by_exact.end()) return pick_variant(it->second, f.memory_hints);
  return nullptr;
}

std::vector<std::string> suggest_gpu_models(std::string_view name) {
  // Every spelling the catalog accepts is a candidate, so "A10O" can lead to
  // the family name "A100" as well as to "A10"; all equally close ones are shown.
  const std::string folded = simple_fold(name);
  // A model number alone ("4090", "a6000") is part of the names that carry
  // it: those, before anything merely a few edits away ("A4000").
  if (folded.size() >= 3 &&
      std::any_of(folded.begin(), folded.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::vector<std::string> containing;
    for (const auto& m : gpu_catalog())
      if (simple_fold(m.name).find(folded) != std::string::npos && containing.size() < 4)
        containing.push_back(m.name);
    if (!containing.empty()) return containing;
  }
  const std::size_t limit = std::max<std::size_t>(1, (folded.size() + 2) / 3);
  std::vector<std::pair<std::string, std::size_t>> scored;  // spelling, distance
  std::vector<std::string> seen;
  for (const auto& m : gpu_catalog()) {
    std::vector<std::string> spellings{m.name};
    spellings.insert(spellings.end(), m.aliases.begin(), m.aliases.end());
    for (const auto& sp : spellings) {
      const std::string f = simple_fold(sp);
      if (std::find(seen.begin(), seen.end(), f) != seen.end()) continue;
      seen.push_back(f);
      scored.emplace_back(sp, edit_distance(folded, f));
    }
  }
  std::size_t best = limit + 1;
  for (const auto& [sp, d] : scored) best = std::min(best, d);
  std::vector<std::string> out;
  for (const auto& [sp, d] : scored)
    if (d == best && out.size() < 4) out.push_back(sp);
  if (out.empty() && folded.size() >= 2)
    for (const auto& m : gpu_catalog())
      if (simple_fold(m.name).compare(0, folded.size(), folded) == 0 && out.size() < 4)
        out.push_back(m.name);
  return out;
}

}  // namespace berth
