// An offer's GPUs as berth's catalog describes them. Each adapter finds the
// model from its own API's spelling (normalize_gpu_name); what berth records
// of a model it knows is the same whichever provider rents it.
#pragma once

#include <initializer_list>
#include <string>

#include "berth/provider/offer.h"
#include "berth/template/gpu_catalog.h"

namespace berth {

/// `count` GPUs of `model`: its canonical name, vendor, nominal VRAM and
/// compute capability.
OfferGpu catalog_gpu(const GpuModel& model, int count = 0);

/// What an instance runs, for listings (gpu_summary: "H100 ×8"): the first
/// of `raw_names` the catalog knows, else "unknown:<last non-empty name>"
/// (list the API's id first, its most descriptive name last).
/// Empty when `count` is 0.
std::string instance_gpu(std::initializer_list<std::string> raw_names, int count);

/// The host CPU an offer of these GPUs must have, whichever provider rents
/// it: a Grace superchip (GH200, GB200) is its own host CPU, an arm64 one.
/// kUnknown for every other model (the GPU does not say).
CpuArch arch_of_gpu(const OfferGpu& gpu);

}  // namespace berth
