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

}  // namespace berth
