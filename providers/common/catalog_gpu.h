// An offer's GPUs as berth's catalog describes them. Each adapter finds the
// model from its own API's spelling (normalize_gpu_name); what berth records
// of a model it knows is the same whichever provider rents it.
#pragma once

#include "berth/gpu_catalog.h"
#include "berth/offer.h"

namespace berth {

/// `count` GPUs of `model`: its canonical name, vendor, nominal VRAM and
/// compute capability.
OfferGpu catalog_gpu(const GpuModel& model, int count = 0);

}  // namespace berth
