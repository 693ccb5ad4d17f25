#include <catch2/catch.hpp>
#include <set>

#include "berth/template/gpu_catalog.h"
#include "providers/common/catalog_gpu.h"

using namespace berth;

namespace {

std::string normalized(std::string_view raw, std::optional<double> vram = std::nullopt) {
  const GpuModel* m = normalize_gpu_name(raw, vram);
  return m ? m->name : "<none>";
}

}  // namespace

TEST_CASE("catalog names are unique and every model is complete", "[catalog]") {
  std::set<std::string> names;
  for (const auto& m : gpu_catalog()) {
    CHECK(names.insert(m.name).second);
    CHECK(m.vram_gb > 0);
    CHECK_FALSE(m.architecture.empty());
    if (m.vendor == GpuVendor::kNvidia)
      CHECK(m.compute_capability.has_value());
    else
      CHECK_FALSE(m.compute_capability.has_value());
  }
  CHECK(names.size() > 80);
}

TEST_CASE("every alias leads back to its own model", "[catalog]") {
  for (const auto& m : gpu_catalog()) {
    INFO(m.name);
    CHECK(normalized(m.name) == m.name);
    CHECK(find_gpu_model(m.name) == &m);
    for (const auto& a : m.aliases) {
      INFO(a);
      const GpuModel* n = normalize_gpu_name(a, m.vram_gb);
      REQUIRE(n != nullptr);
      CHECK(n->name == m.name);
    }
  }
}

TEST_CASE("facts from the vendors' model data", "[catalog]") {
  auto* h100 = find_gpu_model("H100");
  REQUIRE(h100);
  CHECK(h100->vram_gb == 80);
  CHECK(*h100->compute_capability == Approx(9.0));
  CHECK(find_gpu_model("B300")->compute_capability == Approx(10.3));  // NVIDIA's table wins
  CHECK(find_gpu_model("RTX4090")->vram_gb == 24);
  CHECK(find_gpu_model("RTX5090")->vram_gb == 32);
  CHECK(find_gpu_model("H100-NVL")->vram_gb == 94);
  CHECK(find_gpu_model("H200")->vram_gb == 141);
  CHECK(find_gpu_model("L40S")->compute_capability == Approx(8.9));
  CHECK(find_gpu_model("MI300X")->vendor == GpuVendor::kAmd);
  CHECK(find_gpu_model("MI300X")->vram_gb == 192);
  CHECK(find_gpu_model("MI355X")->architecture == "CDNA4");
  CHECK(find_gpu_model("V100-32GB")->vram_gb == 32);
  CHECK(find_gpu_model("A100-40GB")->vram_gb == 40);
  CHECK(find_gpu_model("a100-80gb")->vram_gb == 80);
  CHECK(find_gpu_model("RTX PRO 6000")->name == "RTXPRO6000");
  CHECK(find_gpu_model("no-such-gpu") == nullptr);
}

TEST_CASE("a family name in a template means all of its variants", "[catalog]") {
  auto names = [](std::string_view n) {
    std::vector<std::string> out;
    for (const auto* m : find_gpu_models(n)) out.push_back(m->name);
    return out;
  };
  CHECK(names("A100") == std::vector<std::string>{"A100-40GB", "A100-80GB"});
  CHECK(names("V100") == std::vector<std::string>{"V100-16GB", "V100-32GB"});
  CHECK(names("A100-80GB") == std::vector<std::string>{"A100-80GB"});
  CHECK(names("H100") == std::vector<std::string>{"H100"});
  CHECK(names("RTX 4090") == std::vector<std::string>{"RTX4090"});
  CHECK(names("NVIDIA A100 80GB PCIe") == std::vector<std::string>{"A100-80GB"});
  CHECK(names("H10O").empty());
}

// Every spelling the providers' APIs use (providers/*/*_provider.h).
TEST_CASE("provider spellings normalize to catalog models", "[catalog]") {
  // Vast.ai gpu_name (gpu_ram in MB picks the variant)
  CHECK(normalized("H100 SXM") == "H100");
  CHECK(normalized("H100 PCIE") == "H100");
  CHECK(normalized("H100 NVL") == "H100-NVL");
  CHECK(normalized("RTX 4090") == "RTX4090");
  CHECK(normalized("RTX_4090") == "RTX4090");
  CHECK(normalized("RTX A6000") == "RTXA6000");
  CHECK(normalized("Tesla V100") == "V100-16GB");
  CHECK(normalized("Tesla V100", 32.5) == "V100-32GB");
  CHECK(normalized("A100 SXM4") == "A100-40GB");
  CHECK(normalized("A100 SXM4", 81920 / 1000.0) == "A100-80GB");
  CHECK(normalized("A100 PCIE", 40960 / 1000.0) == "A100-40GB");
  CHECK(normalized("A100X") == "A100-80GB");
  CHECK(normalized("H100 SXM", 81559 / 1000.0) == "H100");
  CHECK(normalized("RTX 6000Ada") == "RTX6000-Ada");
  // RunPod type ids and display names
  CHECK(normalized("NVIDIA GeForce RTX 4090") == "RTX4090");
  CHECK(normalized("NVIDIA H100 80GB HBM3") == "H100");
  CHECK(normalized("NVIDIA A100 80GB PCIe") == "A100-80GB");
  CHECK(normalized("NVIDIA RTX A6000") == "RTXA6000");
  CHECK(normalized("AMD Instinct MI300X OAM") == "MI300X");
  CHECK(normalized("A100 PCIe", 80) == "A100-80GB");
  CHECK(normalized("NVIDIA A40") == "A40");
  CHECK(normalized("NVIDIA RTX 6000 Ada Generation") == "RTX6000-Ada");
  CHECK(normalized("NVIDIA H200") == "H200");
  CHECK(normalized("NVIDIA L40S") == "L40S");
  CHECK(normalized("NVIDIA A100-SXM4-80GB") == "A100-80GB");
  CHECK(normalized("NVIDIA H100 NVL") == "H100-NVL");
  CHECK(normalized("NVIDIA GeForce RTX 3090 Ti") == "RTX3090Ti");
  CHECK(normalized("NVIDIA RTX 4000 Ada Generation") == "RTX4000-Ada");
  CHECK(normalized("NVIDIA RTX PRO 6000 Blackwell Server Edition") == "RTXPRO6000");
  CHECK(normalized("Tesla V100-SXM2-32GB") == "V100-32GB");
  // Vast.ai's older card names
  CHECK(normalized("Q RTX 6000") == "RTX6000");
  CHECK(normalized("Q RTX 8000") == "RTX8000");
  CHECK(normalized("GTX 1080 Ti") == "GTX1080Ti");
  // Lambda instance types and descriptions
  CHECK(normalized("gpu_1x_a10") == "A10");
  CHECK(normalized("gpu_8x_h100_sxm5") == "H100");
  CHECK(normalized("gpu_1x_gh200") == "GH200");
  CHECK(normalized("8x H100 (80 GB SXM5)") == "H100");
  CHECK(normalized("1x A10 (24 GB PCIe)") == "A10");
  CHECK(normalized("H100 (80 GB SXM5)") == "H100");
  CHECK(normalized("1x GH200 (96 GB)") == "GH200");
  CHECK(normalized("GH200 (96 GB)") == "GH200");
  CHECK(normalized("gpu_8x_a100_80gb_sxm4") == "A100-80GB");
  CHECK(normalized("gpu_1x_a100_sxm4") == "A100-40GB");
  CHECK(normalized("8x A100 (40 GB SXM4)") == "A100-40GB");
  CHECK(normalized("gpu_1x_rtx6000") == "RTX6000");
  CHECK(normalized("gpu_8x_v100") == "V100-16GB");
  CHECK(normalized("gpu_8x_b200_sxm6") == "B200");
  CHECK(normalized("gpu_8x_v100_n") == "V100-16GB");
  CHECK(normalized("gpu_4x_a6000") == "RTXA6000");
  CHECK(normalized("gpu_1x_h100_pcie") == "H100");
  // Shadeform shade_instance_type and gpu_type
  CHECK(normalized("A100_80Gx8") == "A100-80GB");
  CHECK(normalized("A6000") == "RTXA6000");
  CHECK(normalized("H100x8") == "H100");
  // Verda instance types and GPU descriptions
  CHECK(normalized("1H100.80S.30V") == "H100");
  CHECK(normalized("8H100.80S.176V") == "H100");
  CHECK(normalized("8x H100 SXM5 80GB") == "H100");
  CHECK(normalized("1A100.40S.22V") == "A100-40GB");
  CHECK(normalized("8A100.80S.176V") == "A100-80GB");
  CHECK(normalized("1L40S.20V") == "L40S");
  CHECK(normalized("1RTX6000ADA.10V") == "RTX6000-Ada");
  // Hyperstack flavors and GPU names
  CHECK(normalized("n3-A100x1") == "A100-40GB");
  CHECK(normalized("n3-H100x1") == "H100");
  CHECK(normalized("A100-80G-PCIe") == "A100-80GB");
  CHECK(normalized("H100-80G-PCIe") == "H100");
  CHECK(normalized("RTX-A6000") == "RTXA6000");
  // Prime Intellect
  CHECK(normalized("H100_80GB") == "H100");
  CHECK(normalized("A100_80GB") == "A100-80GB");
  // Yotta
  CHECK(normalized("NVIDIA_L4_24G") == "L4");
  CHECK(normalized("NVIDIA_H100_80GB_HBM3_80G") == "H100");
  CHECK(normalized("NVIDIA_GeForce_RTX_5090_32G") == "RTX5090");
  // Vultr plan ids (total VRAM in the id), TensorDock, Fluidstack, Paperspace
  CHECK(normalized("vcg-a100-12c-120g-80vram") == "A100-80GB");
  CHECK(normalized("geforcertx4090-pcie-24gb") == "RTX4090");
  CHECK(normalized("H100_SXM5_80GB") == "H100");
  CHECK(normalized("A100-80G") == "A100-80GB");
}

TEST_CASE("normalizing folds case and spacing, and snaps reported memory", "[catalog]") {
  CHECK(normalized("h100") == "H100");
  CHECK(normalized("  H100  ") == "H100");
  CHECK(normalized("rtx-4090") == "RTX4090");
  CHECK(normalized("RTX 4080 SUPER") == "RTX4080SUPER");
  CHECK(normalized("RTX 4080S") == "RTX4080SUPER");
  CHECK(normalized("RTX 4080") == "RTX4080");
  CHECK(normalized("RTX 3060", 12.0) == "RTX3060-12GB");
  CHECK(normalized("RTX 3060", 8.0) == "RTX3060-8GB");
  CHECK(normalized("RTX 5060 Ti", 16.3) == "RTX5060Ti-16GB");
  CHECK(normalized("H200 NVL") == "H200");
  CHECK(normalized("Quadro RTX 6000") == "RTX6000");
  CHECK(normalized("RTX PRO 6000 Blackwell Server Edition") == "RTXPRO6000");
  CHECK(normalized("GB300") == "B300");
  CHECK(normalized("MI250X") == "MI250X");
  CHECK(normalized("MI250") == "MI250");
  CHECK(normalized("Tesla T4") == "T4");
  CHECK(normalized("A10G") == "A10G");
}

TEST_CASE("unknown spellings are not guessed", "[catalog]") {
  CHECK(normalized("") == "<none>");
  CHECK(normalized("Radeon 7900 XTX") == "<none>");
  CHECK(normalized("gpu_1x_quantum9000") == "<none>");
  CHECK(normalized("8x") == "<none>");
  CHECK(normalized("80GB") == "<none>");
}

TEST_CASE("suggestions come from the catalog", "[catalog]") {
  auto s = suggest_gpu_models("H10O");
  REQUIRE_FALSE(s.empty());
  CHECK(s[0] == "H100");
  auto r = suggest_gpu_models("RTX409");
  REQUIRE_FALSE(r.empty());
  CHECK(r[0] == "RTX4090");
  CHECK(suggest_gpu_models("zzzzzzzzzz").empty());
}

TEST_CASE("an instance's GPUs for listings: the first name the catalog knows, else the last as is",
          "[catalog]") {
  CHECK(instance_gpu({"NVIDIA GeForce RTX 4090", "RTX 4090"}, 2) == "RTX4090 ×2");
  CHECK(instance_gpu({"", "H100 SXM"}, 8) == "H100 ×8");
  CHECK(instance_gpu({"acme-x1", "Acme Accelerator X1"}, 1) == "unknown:Acme Accelerator X1 ×1");
  CHECK(instance_gpu({"acme-x1", ""}, 1) == "unknown:acme-x1 ×1");
  CHECK(instance_gpu({"H100 SXM"}, 0).empty());
}
