// `berth plan TEMPLATE --offers FILE` on a saved listing of N offers, as a
// user runs it: the real binary, fork + exec + exit, timed from outside, with
// its peak RSS from wait4()'s rusage. The listing is generated here from a
// fixed seed, offer by offer through berth's own to_json and written exactly
// as `berth offers -o json` writes it (two-space indentation): RunPod (both
// tiers, 1-8 GPUs, data centers), Vast.ai (hosts with vCPUs, RAM, disk,
// reliability, bandwidth; some interruptible), Lambda (GH200 on arm64) and
// two SSH hosts, every offer with its raw region, a normalized location and
// its architecture. The template asks for what a real one does (GPU count,
// VRAM, compute capability, CPUs, memory, arch, regions by normalized glob,
// a price cap), over two replicas spread by provider.
//
// The same offers are also written one per line, tab-separated, and an awk
// program applies the same filter and picks the cheapest: the floor of
// reading that much text.
//
//   cmake --build build-release --target berth plan_offers_bench
//   build-release/plan_offers_bench [PATH_TO_BERTH] [N] [RUNS]
//
// With N = 0 (the default) it runs 1,000, 10,000, 100,000 and 1,000,000.
//
//   build-release/plan_offers_bench PATH_TO_BERTH hostile [RUNS]
//
// runs `berth offers -o json` against a loopback server that answers every
// RunPod catalog request (one per tier and GPU count, four at once) with the
// same 2.8 MB catalog: one GPU in 41,500 data centers with stock (within
// the 250,000 values an answer read as a document may hold), 41,500 offers
// per answer without the provider's `limit`.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "berth/provider/offer.h"

namespace fs = std::filesystem;
using berth::CpuArch;
using berth::Offer;

namespace {

struct Gpu {
  const char* model;
  const char* runpod_id;
  const char* vast_name;
  double vram, cc, base_price;
};
const Gpu kGpus[] = {
    {"H100", "NVIDIA H100 80GB HBM3", "H100 SXM", 80, 9.0, 2.49},
    {"H200", "NVIDIA H200", "H200", 141, 9.0, 3.59},
    {"A100-80GB", "NVIDIA A100-SXM4-80GB", "A100 SXM4", 80, 8.0, 1.39},
    {"A100-40GB", "NVIDIA A100 80GB PCIe", "A100 PCIE", 40, 8.0, 1.09},
    {"L40S", "NVIDIA L40S", "L40S", 48, 8.9, 0.86},
    {"RTX4090", "NVIDIA GeForce RTX 4090", "RTX 4090", 24, 8.9, 0.34},
    {"RTXA6000", "NVIDIA RTX A6000", "RTX A6000", 48, 8.6, 0.49},
    {"A40", "NVIDIA A40", "A40", 48, 8.6, 0.39},
};

struct Place {
  const char* region;
  const char* country;
  const char* continent;
  const char* subregion;
};
const Place kRunpodDcs[] = {
    {"US-KS-2", "us", "na", "us-ks"}, {"US-TX-3", "us", "na", "us-tx"},
    {"US-CA-2", "us", "na", "us-ca"}, {"US-GA-1", "us", "na", "us-ga"},
    {"CA-MTL-1", "ca", "na", "ca-qc"}, {"EU-RO-1", "ro", "eu", ""},
    {"EU-SE-1", "se", "eu", ""},       {"EU-NL-1", "nl", "eu", ""},
    {"EUR-IS-1", "is", "eu", ""},      {"AP-JP-1", "jp", "as", ""},
};
const Place kVastPlaces[] = {
    {"us-texas", "us", "na", "us-tx"},   {"us-california", "us", "na", "us-ca"},
    {"us-new-york", "us", "na", "us-ny"}, {"us", "us", "na", ""},
    {"ca-quebec", "ca", "na", "ca-qc"},   {"se-sweden", "se", "eu", ""},
    {"de-germany", "de", "eu", ""},       {"fr-france", "fr", "eu", ""},
    {"pl-poland", "pl", "eu", ""},        {"cn-china", "cn", "as", ""},
    {"jp-japan", "jp", "as", ""},         {"au-australia", "au", "oc", ""},
};
const Place kLambdaRegions[] = {
    {"us-east-1", "us", "na", "us-va"}, {"us-west-1", "us", "na", "us-ca"},
    {"us-south-1", "us", "na", "us-tx"}, {"europe-central-1", "de", "eu", ""},
    {"asia-northeast-1", "jp", "as", ""}, {"me-west-1", "il", "as", ""},
};

void place(Offer& o, const Place& p) {
  o.region = p.region;
  o.location = {p.country, p.continent, p.subregion};
}

double cents(double usd) { return std::round(usd * 100) / 100; }

// One offer of the seeded catalog.
Offer make(std::mt19937_64& rng, std::size_t i) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  auto unit = [&] { return static_cast<double>(rng() % 1'000'000) / 1e6; };
  Offer o;
  o.arch = CpuArch::kX86_64;
  const std::size_t kind = pick(100);
  if (kind < 40) {  // RunPod: a GPU, a tier, a count, a data center
    const Gpu& g = kGpus[pick(std::size(kGpus))];
    const int counts[] = {1, 2, 4, 8};
    const int count = counts[pick(4)];
    const bool secure = pick(2) == 0;
    const Place& dc = kRunpodDcs[pick(std::size(kRunpodDcs))];
    o.provider = "runpod";
    place(o, dc);
    o.id = std::string(g.runpod_id) + (secure ? "/secure/" : "/community/") + dc.region + "/x" +
           std::to_string(count) + "/" + std::to_string(i);
    o.gpu = {g.model, berth::GpuVendor::kNvidia, count, g.vram, g.cc};
    o.price_per_hour = cents(g.base_price * (secure ? 1.2 : 0.9) * count);
    const char* stock[] = {"low", "medium", "high"};
    o.stock = stock[pick(3)];
    o.cuda = 12.0 + static_cast<double>(pick(9)) / 10;
    o.settable = berth::fact_bit(berth::HostFact::kDisk);
    o.launch_data = {{"gpu_id", g.runpod_id},
                     {"count", count},
                     {"cloud", secure ? "SECURE" : "COMMUNITY"},
                     {"data_center", dc.region}};
  } else if (kind < 85) {  // Vast.ai: one host's ask
    const Gpu& g = kGpus[pick(std::size(kGpus))];
    const int counts[] = {1, 1, 1, 2, 2, 4, 8};
    const int count = counts[pick(7)];
    o.provider = "vast";
    place(o, kVastPlaces[pick(std::size(kVastPlaces))]);
    const long long ask = 10'000'000 + static_cast<long long>(i);
    o.id = std::to_string(ask);
    o.gpu = {g.model, berth::GpuVendor::kNvidia, count, g.vram, g.cc};
    o.vcpus = static_cast<int>(8 * count + pick(24) * count);
    o.memory_gb = std::round((32 + unit() * 200) * count * 10) / 10;
    o.disk_gb = std::round(50 + unit() * 2000);
    o.price_per_hour = cents(g.base_price * (0.6 + unit() * 0.8) * count);
    o.cuda = 11.8 + static_cast<double>(pick(11)) / 10;
    o.reliability = std::round((0.9 + unit() * 0.1) * 10000) / 10000;
    o.inet_down_mbps = std::round(100 + unit() * 5000);
    o.available = 1;
    o.launch_data = {{"ask_id", std::to_string(ask)}};
    if (pick(10) == 0) {
      o.id += "-bid";
      o.spot = true;
      o.price_per_hour = cents(o.price_per_hour * 0.5);
      o.launch_data["bid"] = o.price_per_hour;
    }
  } else if (kind < 97) {  // Lambda: an instance type in a region
    const bool gh200 = pick(4) == 0;
    const Gpu& g = gh200 ? Gpu{"GH200", "", "", 96, 9.0, 1.49} : kGpus[pick(3)];
    const int counts[] = {1, 2, 4, 8};
    const int count = gh200 ? 1 : counts[pick(4)];
    const Place& r = kLambdaRegions[pick(std::size(kLambdaRegions))];
    o.provider = "lambda";
    place(o, r);
    std::string type = "gpu_" + std::to_string(count) + "x_" + g.model;
    for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    o.id = type + "@" + r.region + "/" + std::to_string(i);
    o.arch = gh200 ? CpuArch::kArm64 : CpuArch::kX86_64;
    o.gpu = {g.model, berth::GpuVendor::kNvidia, count, g.vram, g.cc};
    o.vcpus = 26 * count;
    o.memory_gb = 241.6 * count;
    o.disk_gb = 2952.8 * count;
    o.price_per_hour = cents(g.base_price * count);
    o.launch_data = {{"instance_type", type}, {"region", r.region}};
  } else {  // SSH hosts of one's own
    o.provider = "lab";
    o.region = "lab-" + std::to_string(pick(2));
    o.location = {"de", "eu", ""};
    o.id = "gpu" + std::to_string(i) + ".lab.example";
    o.gpu = {"RTX4090", berth::GpuVendor::kNvidia, 2, 24, 8.9};
    o.vcpus = 32;
    o.memory_gb = 128;
    o.disk_gb = 1800;
    o.price_per_hour = 0;
    o.launch_data = {{"host", o.id}, {"user", "root"}, {"port", 22}};
  }
  return o;
}

// The listing as `berth offers -o json` prints it (print_json: dump(2)),
// and the same offers as tab-separated lines for awk.
void write_catalog(std::size_t n, const fs::path& json_path, const fs::path& tsv_path) {
  std::mt19937_64 rng(20261207);
  std::FILE* j = std::fopen(json_path.c_str(), "w");
  std::FILE* t = std::fopen(tsv_path.c_str(), "w");
  std::fputs("{\n  \"errors\": [],\n  \"offers\": [", j);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    Offer o = make(rng, i);
    const std::string text = berth::to_json(o).dump(2);
    out.clear();
    out += i ? ",\n    " : "\n    ";
    for (char c : text) {
      out += c;
      if (c == '\n') out += "    ";
    }
    std::fwrite(out.data(), 1, out.size(), j);
    auto num = [](const auto& v) { return v ? std::to_string(*v) : std::string("-"); };
    std::fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%g\t%g\t%s\t%s\t%s\t%.2f\n", o.provider.c_str(),
                 o.id.c_str(), o.region.c_str(), o.location.country.c_str(),
                 o.location.continent.c_str(), o.arch == CpuArch::kArm64 ? "arm64" : "x86_64",
                 o.gpu.count, o.gpu.vram_gb.value_or(0), o.gpu.compute_capability.value_or(0),
                 num(o.vcpus).c_str(), num(o.memory_gb).c_str(), o.spot ? "spot" : "-",
                 o.price_per_hour);
  }
  std::fputs(n ? "\n  ]\n}\n" : "]\n}\n", j);
  std::fclose(j);
  std::fclose(t);
}

const char* kTemplate = R"(name: bench
image: vllm/vllm-openai:v0.6.3
resources:
  gpu:
    count: 1..2
    vram: 40GB..
    compute_capability: 8.0..
  cpus: 8..
  memory: 64GB..
  arch: x86_64
placement:
  regions: [us-*, eu-*]
  max_price: 6.00
replicas: 2
spread: provider
)";

// The same filter in awk: count, VRAM, compute capability, vCPUs and RAM
// (unknown passes, as berth keeps such offers with a warning), arch, region
// by country or continent, price; the cheapest match.
const char* kAwk =
    R"($7>=1 && $7<=2 && $8>=40 && $9>=8.0 && ($10=="-" || $10>=8) && )"
    R"(($11=="-" || $11>=64) && $6=="x86_64" && ($4=="us" || $5=="eu") && $13<=6.0 )"
    R"({n++; if (!best || $13<min) {min=$13; best=$2}} END {print n, best, min})";

struct Sample {
  double wall_ms = 0, cpu_ms = 0, rss_mib = 0;
  int status = -1;
};

Sample run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  Sample s;
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) return s;
  posix_spawn_file_actions_destroy(&actions);
  rusage usage{};
  wait4(pid, &s.status, 0, &usage);
  s.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; };
  s.cpu_ms = ms(usage.ru_utime) + ms(usage.ru_stime);
  s.rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  return s;
}

struct Summary {
  double best_wall, median_wall, best_cpu, median_cpu, rss;
};

Summary measure(const std::vector<std::string>& args, int runs, int ok_status) {
  run(args);  // warm the page cache
  std::vector<double> wall, cpu;
  double rss = 0;
  for (int i = 0; i < runs; ++i) {
    Sample s = run(args);
    if (!WIFEXITED(s.status) || WEXITSTATUS(s.status) != ok_status) {
      std::fprintf(stderr, "%s: exit status %d\n", args[0].c_str(), s.status);
      std::exit(1);
    }
    wall.push_back(s.wall_ms);
    cpu.push_back(s.cpu_ms);
    rss = std::max(rss, s.rss_mib);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall.front(), wall[wall.size() / 2], cpu.front(), cpu[cpu.size() / 2], rss};
}

// The hostile catalog and a server that answers every request with it.
std::string hostile_catalog() {
  static const char* kPlaces[] = {"US-KS-2", "US-TX-3", "EU-RO-1", "CA-MTL-1", "US-CA-2"};
  std::string centers;
  for (int i = 0; i < 41'500; ++i) {
    if (i) centers += ",";
    centers += std::string(R"({"id":")") + kPlaces[i % 5] + "-rack-0000000000000000-" +
               std::to_string(i) + R"(","availability":"HIGH"})";
  }
  return R"({"gpus":[{"id":"NVIDIA H100 80GB HBM3","name":"H100 SXM","memory":80,)"
         R"("secure":true,"community":true,"price":{"secure":2.99,"community":1.99},)"
         R"("maxCount":{"secure":8,"community":8},"dataCenters":[)" +
         centers + "]}]}";
}

void answer(int fd, const std::string& body) {
  std::string request;
  char buf[16384];
  while (request.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    request.append(buf, static_cast<std::size_t>(n));
  }
  std::string out = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (std::size_t at = 0; at < out.size();) {
    ssize_t n = ::send(fd, out.data() + at, out.size() - at, MSG_NOSIGNAL);
    if (n <= 0) return;
    at += static_cast<std::size_t>(n);
  }
}

int hostile(const std::string& berth, int runs) {
  ::signal(SIGPIPE, SIG_IGN);
  static const std::string body = hostile_catalog();
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 64) != 0)
    return 1;
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread([listener] {
    for (;;) {
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::thread([fd] {
        answer(fd, body);
        ::close(fd);
      }).detach();
    }
  }).detach();
  const fs::path dir =
      fs::temp_directory_path() / ("berth-plan-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path config = dir / "config.yaml";
  std::ofstream(config) << "providers:\n  runpod: {type: runpod, api_key: ${BENCH_KEY}, "
                        << "base_url: http://127.0.0.1:" << ntohs(addr.sin_port) << "}\n";
  ::setenv("BENCH_KEY", "bench-key-0123456789", 1);
  std::printf("berth offers -o json, RunPod answering %.2f MB catalogs (%s), %d runs\n",
              static_cast<double>(body.size()) / 1e6, berth.c_str(), runs);
  Summary r = measure({berth, "--config", config.string(), "offers", "-o", "json"}, runs, 0);
  std::printf("wall best/median %.1f / %.1f ms, CPU best/median %.1f / %.1f ms, peak %.1f MiB\n",
              r.best_wall, r.median_wall, r.best_cpu, r.median_cpu, r.rss);
  fs::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string berth =
      argc > 1 ? argv[1] : (fs::read_symlink("/proc/self/exe").parent_path() / "berth").string();
  if (argc > 2 && std::string(argv[2]) == "hostile")
    return hostile(berth, argc > 3 ? std::max(1, std::atoi(argv[3])) : 7);
  const std::size_t only = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
  const int runs = argc > 3 ? std::max(1, std::atoi(argv[3])) : 7;
  std::vector<std::size_t> sizes = {1'000, 10'000, 100'000, 1'000'000};
  if (only) sizes = {only};

  const fs::path dir = fs::temp_directory_path() / ("berth-plan-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path tmpl = dir / "bench.yaml";
  std::ofstream(tmpl) << kTemplate;

  std::printf("berth plan --offers (%s), %d runs after one warm-up; sizeof(Offer) %zu bytes\n",
              berth.c_str(), runs, sizeof(Offer));
  std::printf("%10s %9s | %-21s %-21s %9s %9s | %-21s %9s\n", "offers", "file MB",
              "wall best/median ms", "CPU best/median ms", "peak MiB", "B/offer", "awk wall ms",
              "awk MiB");
  for (std::size_t n : sizes) {
    const fs::path json = dir / "offers.json", tsv = dir / "offers.tsv";
    write_catalog(n, json, tsv);
    const double mb = static_cast<double>(fs::file_size(json)) / 1e6;
    // Exit 0: a placement; 5 would be none (not expected of this catalog).
    Summary b = measure({berth, "plan", tmpl.string(), "--offers", json.string(), "-o", "json"},
                        runs, 0);
    Summary a = measure({"awk", "-F\t", kAwk, tsv.string()}, runs, 0);
    // Memory per offer: the peak over what a listing of 1,000 costs.
    static double base_rss = 0;
    if (base_rss == 0) base_rss = n <= 1000 ? b.rss : 0;
    const double per_offer = n > 1000 && base_rss > 0
                                 ? (b.rss - base_rss) * 1048576.0 / static_cast<double>(n)
                                 : 0;
    std::printf("%10zu %9.1f | %9.1f / %-9.1f %9.1f / %-9.1f %9.1f %9.0f | %9.1f / %-9.1f %9.1f\n",
                n, mb, b.best_wall, b.median_wall, b.best_cpu, b.median_cpu, b.rss, per_offer,
                a.best_wall, a.median_wall, a.rss);
    std::fflush(stdout);
  }
  fs::remove_all(dir);
  return 0;
}
