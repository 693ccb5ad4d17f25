// What nvidia-smi says about a machine's GPUs, as an OfferGpu. Shared by the
// local provider (run here) and the ssh provider (run on each host).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/expected.h"
#include "berth/provider/offer.h"

namespace berth {

/// nvidia-smi --query-gpu=name,memory.total,compute_cap,driver_version
/// --format=csv,noheader,nounits
std::vector<std::string> nvidia_smi_query_argv();

/// Parses that CSV (one line per GPU; memory in MiB). Names go through the
/// GPU catalog; an unknown model stays "unknown:<raw name>" with its reported
/// memory. A machine with different models is offered as its largest group
/// of identical GPUs (ties: more memory), since one workload gets one kind.
/// Empty output means no GPUs (count 0).
Expected<OfferGpu, std::string> parse_nvidia_smi_gpus(std::string_view csv);

/// "CUDA Version: 12.4" from plain `nvidia-smi` output; nullopt when absent.
std::optional<double> parse_nvidia_smi_cuda(std::string_view output);

}  // namespace berth
