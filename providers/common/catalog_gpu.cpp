#include "providers/common/catalog_gpu.h"

namespace berth {

OfferGpu catalog_gpu(const GpuModel& model, int count) {
  OfferGpu gpu;
  gpu.model = model.name;
  gpu.vendor = model.vendor;
  gpu.count = count;
  gpu.vram_gb = model.vram_gb;
  gpu.compute_capability = model.compute_capability;
  return gpu;
}

std::string instance_gpu(std::initializer_list<std::string> raw_names, int count) {
  OfferGpu gpu;
  gpu.count = count;
  for (const std::string& raw : raw_names) {
    if (raw.empty()) continue;
    if (const GpuModel* model = normalize_gpu_name(raw)) return gpu_summary(catalog_gpu(*model, count));
    gpu.model = "unknown:" + raw;
  }
  return gpu_summary(gpu);
}

CpuArch arch_of_gpu(const OfferGpu& gpu) {
  if (gpu.count > 0 && (gpu.model == "GH200" || gpu.model == "GB200")) return CpuArch::kArm64;
  return CpuArch::kUnknown;
}

}  // namespace berth
