// Startup and validate latency of the real binary, as a user sees it:
// fork + exec + exit, measured from outside. Reports median wall time and
// peak RSS (from wait4's rusage) over many runs; see bench/README.md.
//
//   validate_bench BERTH_BINARY TEMPLATE [RUNS]
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Sample {
  double wall_ms = 0;
  double cpu_ms = 0;  // user + system: what the run costs, whatever else the machine does
  long max_rss_kb = 0;
  int status = 0;
};

Sample run_once(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_RDWR);
    dup2(null, 0), dup2(null, 1), dup2(null, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  Sample s;
  struct rusage usage {};
  wait4(pid, &s.status, 0, &usage);
  s.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  s.max_rss_kb = usage.ru_maxrss;
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; };
  s.cpu_ms = ms(usage.ru_utime) + ms(usage.ru_stime);
  return s;
}

void measure(const std::string& label, const std::vector<std::string>& args, int runs) {
  for (int i = 0; i < 5; ++i) run_once(args);  // warm the page cache
  std::vector<double> wall, cpu;
  long rss = 0;
  for (int i = 0; i < runs; ++i) {
    Sample s = run_once(args);
    if (!WIFEXITED(s.status) || WEXITSTATUS(s.status) != 0) {
      std::fprintf(stderr, "%s: exited with status %d\n", label.c_str(), s.status);
      std::exit(1);
    }
    wall.push_back(s.wall_ms);
    cpu.push_back(s.cpu_ms);
    rss = std::max(rss, s.max_rss_kb);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  auto pct = [&](double p) { return wall[static_cast<std::size_t>(p * (wall.size() - 1))]; };
  std::printf("| %-26s | %5d | %9.2f | %6.2f | %6.2f | %13.2f | %12.1f |\n", label.c_str(), runs,
              pct(0.5), pct(0.9), wall.front(), cpu[cpu.size() / 2],
              static_cast<double>(rss) / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s BERTH_BINARY TEMPLATE [RUNS]\n", argv[0]);
    return 2;
  }
  const std::string berth = argv[1], tmpl = argv[2];
  const int runs = argc > 3 ? std::max(1, std::atoi(argv[3])) : 300;
  std::printf("| %-26s | %5s | %9s | %6s | %6s | %13s | %12s |\n", "command", "runs", "median ms",
              "p90 ms", "min ms", "median CPU ms", "peak RSS MiB");
  std::printf(
      "|----------------------------|-------|-----------|--------|--------|---------------|"
      "--------------|\n");
  // The floor: what fork + exec + exit of a trivial program costs on this machine.
  measure("/bin/true (baseline)", {"/bin/true"}, runs);
  measure("berth --version", {berth, "--version"}, runs);
  measure("berth validate " + tmpl.substr(tmpl.find_last_of('/') + 1), {berth, "validate", tmpl},
          runs);
  return 0;
}
