// berth gpus: the built-in GPU catalog.
#include <cstdio>

#include "berth/provider/offer.h"
#include "berth/template/gpu_catalog.h"
#include "cli/app.h"

namespace berth::cli {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string cc_text(const GpuModel& m) {
  if (!m.compute_capability) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f", *m.compute_capability);
  return buf;
}

int run_gpus(const GlobalOptions& g) {
  const auto& catalog = gpu_catalog();
  if (g.output == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : catalog) {
      nlohmann::json cc = nullptr;
      if (m.compute_capability) cc = *m.compute_capability;
      list.push_back({{"name", m.name},
                      {"vendor", to_string(m.vendor)},
                      {"vram_gb", m.vram_gb},
                      {"compute_capability", cc},
                      {"architecture", m.architecture},
                      {"aliases", m.aliases}});
    }
    print_json({{"gpus", list}});
    return 0;
  }
  Table table({"MODEL", "VENDOR", "VRAM", "CC", "ARCH", "ALIASES"},
              {false, false, true, true, false, false});
  for (const auto& m : catalog) {
    std::string aliases;
    for (const auto& a : m.aliases) aliases += (aliases.empty() ? "" : ", ") + a;
    table.add_row({m.name, to_string(m.vendor), number(m.vram_gb) + "GB", cc_text(m),
                   m.architecture, aliases});
  }
  std::string out = g.output == "csv" ? table.render_csv() : table.render();
  print_text(stdout, out);
  return 0;
}

}  // namespace

void setup_gpus(CLI::App& app, GlobalOptions& g, RunState& s) {
  auto* sub = app.add_subcommand("gpus", "List the GPU models berth knows");
  sub->footer(
      "VRAM is the nominal per-GPU memory that templates' vram: compares with.\n"
      "-o json prints {\"gpus\": [{\"name\", \"vendor\", \"vram_gb\", \"compute_capability\",\n"
      "\"architecture\", \"aliases\"}]}.");
  sub->callback([&g, &s] { s.exit_code = run_gpus(g); });
}

}  // namespace berth::cli
