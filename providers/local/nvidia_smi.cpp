#include "providers/local/nvidia_smi.h"

#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <sstream>

#include "berth/common/text.h"
#include "berth/template/gpu_catalog.h"
#include "providers/common/catalog_gpu.h"

namespace berth {
namespace {

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string field;
  while (std::getline(ss, field, ',')) out.emplace_back(trim(field));
  return out;
}

// nvidia-smi writes "[N/A]" or "[Not Supported]" for fields a driver lacks.
std::optional<double> number(const std::string& s) {
  if (s.empty() || s[0] == '[') return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

std::vector<std::string> nvidia_smi_query_argv() {
  return {"nvidia-smi", "--query-gpu=name,memory.total,compute_cap,driver_version",
          "--format=csv,noheader,nounits"};
}

Expected<OfferGpu, std::string> parse_nvidia_smi_gpus(std::string_view csv) {
  std::map<std::string, std::pair<OfferGpu, int>> groups;  // by model
  std::stringstream ss{std::string(csv)};
  std::string line;
  while (std::getline(ss, line)) {
    if (trim(line).empty()) continue;
    auto f = split_csv(line);
    if (f.size() < 2 || f[0].empty())
      return unexpected("unexpected nvidia-smi output line: '" + std::string(trim(line)) + "'");
    OfferGpu g;
    auto mib = number(f[1]);
    std::optional<double> reported_gb;
    if (mib) reported_gb = *mib * 1048576.0 / 1e9;
    if (const GpuModel* m = normalize_gpu_name(f[0], reported_gb)) {
      g = catalog_gpu(*m);
    } else {
      g.model = "unknown:" + f[0];
      if (reported_gb) g.vram_gb = std::round(*reported_gb * 10) / 10;
    }
    if (f.size() >= 3)
      if (auto cc = number(f[2])) g.compute_capability = *cc;
    auto& slot = groups[g.model];
    slot.first = g;
    ++slot.second;
  }
  OfferGpu best;
  int best_count = 0;
  for (auto& [model, entry] : groups) {
    auto& [g, n] = entry;
    bool more_memory = g.vram_gb.value_or(0) > best.vram_gb.value_or(0);
    if (n > best_count || (n == best_count && more_memory)) {
      best = g;
      best_count = n;
    }
  }
  best.count = best_count;
  return best;
}

std::optional<double> parse_nvidia_smi_cuda(std::string_view output) {
  static const std::regex re(R"(CUDA Version:\s*([0-9]+(\.[0-9]+)?))");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_search(output.begin(), output.end(), m, re)) return std::nullopt;
  return std::strtod(m[1].str().c_str(), nullptr);
}

}  // namespace berth
