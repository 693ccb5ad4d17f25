// The built-in table of GPU models (`berth gpus`) and the normalizer that maps each
// provider's spelling of a model onto it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/template/launch_template.h"

namespace berth {

struct GpuModel {
  std::string name;                        // canonical: "H100", "A100-80GB", "RTX4090", "MI300X"
  GpuVendor vendor = GpuVendor::kNvidia;
  double vram_gb = 0;                      // nominal per-GPU memory
  std::optional<double> compute_capability;  // NVIDIA only
  std::string architecture;                // "Hopper", "CDNA3", ...
  std::vector<std::string> aliases;        // spellings accepted in templates and from providers
};

const std::vector<GpuModel>& gpu_catalog();

/// Finds a model by canonical name or alias (templates' `models:`), exact
/// after case/space folding. nullptr when unknown.
const GpuModel* find_gpu_model(std::string_view name);

/// Every model a template's `models:` entry names: one for a canonical name or
/// a variant's alias ("A100-80GB"), all variants for a family name ("A100",
/// "V100"). Empty when unknown.
std::vector<const GpuModel*> find_gpu_models(std::string_view name);

/// Maps a raw provider name ("NVIDIA H100 80GB HBM3", "gpu_8x_h100_sxm5",
/// "A100 SXM4", "A100_80Gx8") to a catalog model. `reported_vram_gb`, when the
/// provider gives it, picks between variants (A100 40/80GB) after snapping to
/// the nominal size within ~7%. nullptr when no model matches.
const GpuModel* normalize_gpu_name(std::string_view raw,
                                   std::optional<double> reported_vram_gb = std::nullopt);

/// Catalog names close to `name`, for "did you mean" in validation.
std::vector<std::string> suggest_gpu_models(std::string_view name);

}  // namespace berth
