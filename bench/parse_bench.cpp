// Parsing and normalizing a marketplace answer: 50,000 Vast.ai offers, each
// with the ~70 fields the real API sends, read through the registered vastai
// adapter (the same code path as `berth offers`), with the HTTP client
// replaced by one that returns the prepared body. Reports the best and median
// wall time over several runs and the process's peak RSS.
//
//   cmake --build build-release --target parse_bench
//   ./build-release/parse_bench [N] [wide]
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "berth/config/config.h"
#include "berth/http/http.h"
#include "berth/provider/provider.h"

using namespace berth;

namespace {

// Hands out the prepared answer the way a transfer would: the response owns
// the body, so only one copy exists while the adapter reads it.
class CannedHttpClient : public HttpClient {
 public:
  std::string next_body;
  Expected<HttpResponse, HttpFailure> send(const HttpRequest&) override {
    HttpResponse r;
    r.status = 200;
    r.body = std::move(next_body);
    return r;
  }
};

const char* kGpus[][3] = {
    // name, MB per GPU, compute_cap
    {"RTX 4090", "24564", "890"},  {"RTX 3090", "24576", "860"},  {"H100 SXM", "81559", "900"},
    {"A100 PCIE", "81920", "800"}, {"A100 SXM4", "40960", "800"}, {"RTX A6000", "49140", "860"},
    {"L40S", "46068", "890"},      {"RTX 5090", "32607", "1200"}, {"Tesla V100", "16384", "700"},
    {"RTX 3060", "12288", "860"},  {"H200", "143771", "900"},     {"Q RTX 8000", "49152", "750"},
};
const char* kPlaces[] = {"Texas, US",      "Quebec, CA",       "Oregon, US",   "Sweden",
                         "Poland, PL",     "Bavaria, DE",      "Hokkaido, JP", "Victoria, AU",
                         "California, US", "North Holland, NL"};

// The offer fields the reference documents (~40, about 1 KB of JSON each).
// `wide` adds the ~35 further fields a live answer also carries (nested
// search/instance price breakdowns, hardware details), about 1.8 KB each.
std::string generate(int n, bool wide) {
  std::string out;
  out.reserve(static_cast<std::size_t>(n) * (wide ? 1900 : 1150));
  out += "{\"offers\": [";
  char buf[4096];
  unsigned seed = 12345;
  auto rnd = [&]() { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff; };
  for (int i = 0; i < n; ++i) {
    const auto& g = kGpus[rnd() % (sizeof kGpus / sizeof kGpus[0])];
    int num = 1 << (rnd() % 4);
    int cores = 16 * (1 + rnd() % 8);
    double eff = cores * num / 8.0;
    double dph = 0.1 + (rnd() % 4000) / 1000.0 * num;
    const char* place = kPlaces[rnd() % (sizeof kPlaces / sizeof kPlaces[0])];
    int len = std::snprintf(
        buf, sizeof buf,
        "%s{\"id\": %d, \"ask_contract_id\": %d, \"bundle_id\": %d, \"machine_id\": %d, "
        "\"host_id\": %d, \"gpu_name\": \"%s\", \"num_gpus\": %d, \"gpu_ram\": %s, "
        "\"gpu_total_ram\": %d, \"compute_cap\": %s, "
        "\"cpu_name\": \"AMD EPYC 7763 64-Core Processor\", "
        "\"cpu_cores\": %d, \"cpu_cores_effective\": %.1f, "
        "\"cpu_ram\": %d, \"disk_space\": %.1f, \"disk_bw\": 3200.5, "
        "\"dph_base\": %.4f, \"dph_total\": %.4f, \"min_bid\": "
        "%.4f, \"storage_cost\": 0.1, \"inet_up\": 812.4, "
        "\"inet_down\": 907.1, "
        "\"reliability\": 0.9931, \"reliability2\": 0.9931, \"geolocation\": \"%s\", "
        "\"verification\": \"verified\", \"verified\": true, "
        "\"rentable\": true, \"rented\": false, \"direct_port_count\": 100, "
        "\"cuda_max_good\": 12.4, \"driver_version\": \"550.54.14\", \"public_ipaddr\": "
        "\"203.0.113.%d\", \"hosting_type\": 0, \"datacenter\": null, \"static_ip\": true, "
        "\"is_bid\": false, \"total_flops\": 82.6, \"dlperf\": 48.3, "
        "\"dlperf_per_dphtotal\": 120.1",
        i ? ", " : "", 10'000'000 + i, 10'000'000 + i, 20'000'000 + i, 40'000 + i % 9000,
        100'000 + i % 3000, g[0], num, g[1], std::atoi(g[1]) * num, g[2], cores, eff, cores * 4000,
        100.0 + rnd() % 2000, dph * 0.93, dph, dph * 0.5, place, i % 250);
    out.append(buf, static_cast<std::size_t>(len));
    if (wide) {
      len = std::snprintf(
          buf, sizeof buf,
          ", \"gpu_frac\": 1.0, \"gpu_arch\": \"nvidia\", \"gpu_mem_bw\": 1008.0, "
          "\"gpu_max_power\": 450.0, \"gpu_max_temp\": 83.0, \"gpu_lanes\": 16, "
          "\"gpu_display_active\": false, \"cpu_arch\": \"amd64\", \"cpu_ghz\": 2.45, "
          "\"disk_name\": \"Samsung SSD 980 PRO 2TB\", \"storage_total_cost\": 0.0139, "
          "\"inet_up_cost\": 0.0, \"inet_down_cost\": 0.0, \"geolocode\": %d, "
          "\"external\": false, \"pci_gen\": 4.0, \"pcie_bw\": 25.1, "
          "\"flops_per_dphtotal\": 206.5, \"duration\": 2592000.0, \"end_date\": null, "
          "\"start_date\": 1764460800.0, \"os_version\": \"22.04\", \"mobo_name\": "
          "\"ROME2D16\", \"has_avx\": 1, \"score\": 180.4, \"vms_enabled\": false, "
          "\"time_remaining\": \"\", \"time_remaining_isbid\": \"\", \"webpage\": null, "
          "\"logo\": \"/static/logos/vastai_small2.png\", \"search\": {\"gpuCostPerHour\": "
          "%.4f, \"diskHour\": 0.0139, \"totalHour\": %.4f, \"discountTotalHour\": 0, "
          "\"discountedTotalPerHour\": %.4f}, \"instance\": {\"gpuCostPerHour\": %.4f, "
          "\"diskHour\": 0.0139, \"totalHour\": %.4f}",
          i % 50000, dph, dph, dph, dph, dph);
      out.append(buf, static_cast<std::size_t>(len));
    }
    out += '}';
  }
  out += "]}";
  return out;
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 50'000;
  bool wide = argc > 2 && std::string(argv[2]) == "wide";
  CannedHttpClient http;
  std::size_t size = 0;
  ProviderContext context;
  context.http = &http;
  ProviderConfig config;
  config.name = "vast";
  config.type = "vastai";
  config.api_key = "bench";
  auto provider = find_provider_type("vastai")->create(config, context);
  if (!provider) {
    std::fprintf(stderr, "cannot create the vastai adapter: %s\n", provider.error().c_str());
    return 1;
  }

  auto cpu_ms = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
  };
  std::vector<double> ms, cpu;
  std::size_t count = 0;
  long rss_before = 0;
  for (int run = 0; run < 7; ++run) {
    http.next_body = generate(n, wide);  // outside the timed part
    size = http.next_body.size();
    if (run == 0) rss_before = peak_rss_kb();
    double cpu_start = cpu_ms();
    auto start = std::chrono::steady_clock::now();
    auto offers = (*provider)->list_offers({});
    auto end = std::chrono::steady_clock::now();
    cpu.push_back(cpu_ms() - cpu_start);
    if (!offers) {
      std::fprintf(stderr, "parse failed: %s\n", offers.error().message.c_str());
      return 1;
    }
    count = offers->size();
    ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("vastai offers parsed and normalized: %zu\n", count);
  std::printf("answer size: %.1f MB (%.0f bytes per offer)\n", size / 1e6,
              static_cast<double>(size) / n);
  std::printf("wall: best %.1f ms, median %.1f ms over %zu runs\n", ms.front(), ms[ms.size() / 2],
              ms.size());
  std::printf("cpu:  best %.1f ms, median %.1f ms\n", cpu.front(), cpu[cpu.size() / 2]);
  std::printf("peak RSS: %.1f MB (%.1f MB with only the answer in memory)\n",
              peak_rss_kb() / 1024.0, rss_before / 1024.0);
  return 0;
}
