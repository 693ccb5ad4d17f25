// How long placement takes as offers and replicas grow, and how much memory
// it needs. Offers are generated from a fixed seed, so every run solves the
// same instances. Results are published in bench/README.md (Placement).
//
//   placement_bench            the whole table (markdown on stdout)
//   placement_bench N R SPREAD one case (SPREAD: none|provider|region), with peak RSS
#include <fmt/format.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "berth/placement/placement.h"

using namespace berth;

namespace {

struct Model {
  const char* name;
  double vram;
  double cc;
  double price;  // per GPU-hour, roughly
};

const Model kModels[] = {
    {"H100", 80, 9.0, 2.5},      {"H200", 141, 9.0, 3.5}, {"A100-80GB", 80, 8.0, 1.6},
    {"A100-40GB", 40, 8.0, 1.1}, {"L40S", 48, 8.9, 0.9},  {"RTX4090", 24, 8.9, 0.4},
    {"RTX3090", 24, 8.6, 0.25},  {"V100", 16, 7.0, 0.3},  {"MI300X", 192, 0, 3.0}};

std::vector<Offer> make_offers(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(0.7, 1.6);
  const int counts[] = {1, 2, 4, 8};
  std::vector<Offer> offers;
  offers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Model& m = kModels[rng() % std::size(kModels)];
    Offer o;
    o.provider = fmt::format("provider{}", rng() % 8);
    o.id = fmt::format("offer-{}", i);
    o.region = fmt::format("region-{}", rng() % 20);
    o.gpu.model = m.name;
    o.gpu.vendor = m.cc == 0 ? GpuVendor::kAmd : GpuVendor::kNvidia;
    o.gpu.count = counts[rng() % 4];
    o.gpu.vram_gb = m.vram;
    if (m.cc > 0) o.gpu.compute_capability = m.cc;
    o.vcpus = 8 * o.gpu.count;
    o.memory_gb = 64.0 * o.gpu.count;
    o.disk_gb = 200.0 * (1 + rng() % 5);
    // Cents, like most APIs: many exact ties, which the tie-breaks must sort.
    o.price_per_hour = std::round(m.price * o.gpu.count * jitter(rng) * 100) / 100;
    o.spot = rng() % 10 == 0;
    if (rng() % 3) o.available = static_cast<int>(rng() % 6);
    o.cuda = 12.0 + (rng() % 7) / 10.0;
    offers.push_back(std::move(o));
  }
  return offers;
}

LaunchTemplate workload(int replicas, Spread spread) {
  LaunchTemplate w;
  w.name = "bench";
  w.resources.gpu.count = {1, 4};
  w.resources.gpu.vram = {24'000'000'000ull, std::nullopt};
  w.resources.gpu.compute_capability = {8.0, std::nullopt};
  w.resources.memory = {32'000'000'000ull, std::nullopt};
  w.resources.cuda = {12.1, std::nullopt};
  w.placement.max_price = 6.0;
  w.placement.exclude_providers = {"provider7"};
  w.replicas = replicas;
  w.spread = spread;
  return w;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // KiB on Linux
}

struct Timing {
  double wall_ms;  // median
  double cpu_ms;   // median; what an idle machine's wall time comes to
};

double cpu_now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/// Medians over `runs` solves: the machine is shared, so CPU time is the
/// steadier figure.
Timing time_solve(const LaunchTemplate& w, const std::vector<Offer>& offers, int runs, Plan* last) {
  std::vector<double> wall, cpu;
  for (int r = 0; r < runs; ++r) {
    double cpu_start = cpu_now_ms();
    auto start = std::chrono::steady_clock::now();
    Plan plan = solve_placement(w, offers);
    auto end = std::chrono::steady_clock::now();
    cpu.push_back(cpu_now_ms() - cpu_start);
    wall.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    if (last) *last = std::move(plan);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

const char* spread_name(Spread s) {
  return s == Spread::kNone ? "none" : s == Spread::kProvider ? "provider" : "region";
}

int one_case(std::size_t n, int replicas, Spread spread) {
  auto offers = make_offers(n, 42);
  double before = peak_rss_mb();
  Plan plan;
  Timing t = time_solve(workload(replicas, spread), offers, 3, &plan);
  std::printf(
      "offers=%zu replicas=%d spread=%s wall=%.2f ms cpu=%.2f ms matching=%zu placed=%zu "
      "total=%.2f/h peak_rss=%.0f MB (offers alone %.0f MB)\n",
      n, replicas, spread_name(spread), t.wall_ms, t.cpu_ms, plan.offers_matching,
      plan.placement.size(), plan.total_price_per_hour, peak_rss_mb(), before);
  return plan.placement.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4) {
    std::string s = argv[3];
    Spread spread = s == "provider" ? Spread::kProvider
                    : s == "region" ? Spread::kRegion
                                    : Spread::kNone;
    return one_case(std::strtoull(argv[1], nullptr, 10), std::atoi(argv[2]), spread);
  }
  struct Shape {
    int replicas;
    Spread spread;
  };
  const Shape shapes[] = {{1, Spread::kNone},
                          {3, Spread::kNone},
                          {3, Spread::kProvider},
                          {3, Spread::kRegion},
                          {10, Spread::kRegion}};
  std::printf("| offers |");
  for (const auto& s : shapes) std::printf(" %d × %s |", s.replicas, spread_name(s.spread));
  std::printf("\n|---:|");
  for (std::size_t i = 0; i < std::size(shapes); ++i) std::printf("---:|");
  std::printf("\n");
  for (std::size_t n : {1'000ul, 10'000ul, 100'000ul, 1'000'000ul}) {
    auto offers = make_offers(n, 42);
    int runs = n >= 1'000'000 ? 3 : 7;
    std::printf("| %zu |", n);
    for (const auto& s : shapes) {
      Plan plan;
      Timing t = time_solve(workload(s.replicas, s.spread), offers, runs, &plan);
      if (plan.placement.empty())
        std::printf(" no placement |");
      else
        std::printf(" %.2f / %.2f |", t.wall_ms, t.cpu_ms);
      std::fflush(stdout);
    }
    std::printf("\n");
  }
  std::printf("\nwall / CPU milliseconds, medians; peak RSS of the whole run: %.0f MB\n",
              peak_rss_mb());
  return 0;
}
