// `berth offers` wall time against five provider mocks that each take 300 ms
// to answer the offers call: concurrency makes it ~300 ms, a sequence would
// take 1.5 s. The mocks are the test mocks (providers/*/mock.py) on loopback,
// slowed with their fault API; the binary is the real one.
//
//   offers_bench [RUNS] [PATH_TO_BERTH]     (default: 10 runs, ./berth beside this program)
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Mock {
  std::string type;
  std::string key;
  pid_t pid = -1;
  int port = 0;
};

pid_t spawn(const std::vector<std::string>& args, const char* out_path = nullptr) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (out_path)
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

bool post(const std::string& url, const std::string& body) {
  CURL* c = curl_easy_init();
  curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(
      c, CURLOPT_WRITEFUNCTION, +[](char*, size_t s, size_t n, void*) { return s * n; });
  long status = 0;
  bool ok = curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status < 300;
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  fs::path berth =
      argc > 2 ? fs::path(argv[2]) : fs::read_symlink("/proc/self/exe").parent_path() / "berth";
  fs::path providers = fs::path(BERTH_SOURCE_DIR) / "providers";
  fs::path dir = fs::temp_directory_path() / ("berth-offers-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  std::vector<Mock> providers = {{"lambda", "bench-key-1"},
                                 {"lambda", "bench-key-2"},
                                 {"runpod", "bench-key-3"},
                                 {"runpod", "bench-key-4"},
                                 {"vastai", "bench-key-5"}};
  std::string config = "providers:\n";
  int failures = 0;
  for (std::size_t i = 0; i < providers.size(); ++i) {
    auto& m = providers[i];
    fs::path port_file = dir / ("port" + std::to_string(i));
    m.pid = spawn({"python3", (providers / m.type / "mock.py").string(), "--port", "0",
                   "--port-file", port_file.string(), "--api-key", m.key},
                  (dir / ("mock" + std::to_string(i) + ".log")).c_str());
    for (int wait = 0; wait < 200 && m.port == 0; ++wait) {
      std::ifstream in(port_file);
      if (!(in >> m.port)) m.port = 0;
      if (m.port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (m.port == 0) {
      std::fprintf(stderr, "mock %zu did not start\n", i);
      ++failures;
      continue;
    }
    std::string base = "http://127.0.0.1:" + std::to_string(m.port);
    // Every offers request of this mock sleeps 300 ms before its real answer.
    post(base + "/_mock/fault", R"({"op": "offers", "delay": 0.3, "times": 100000})");
    std::string url = m.type == "lambda" ? base + "/api/v1" : base;
    config += "  p" + std::to_string(i) + ": {type: " + m.type + ", api_key: ${BENCH_KEY_" +
              std::to_string(i) + "}, base_url: " + url + "}\n";
    setenv(("BENCH_KEY_" + std::to_string(i)).c_str(), m.key.c_str(), 1);
  }
  fs::path config_file = dir / "config.yaml";
  std::ofstream(config_file) << config;

  std::vector<double> walls;
  for (int r = 0; r < runs + 1 && failures == 0; ++r) {
    auto start = Clock::now();
    pid_t pid =
        spawn({berth.string(), "--config", config_file.string(), "-q", "offers", "-o", "json"},
              (dir / "out.json").c_str());
    int status = 0;
    waitpid(pid, &status, 0);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "berth offers failed (status %d)\n", status);
      ++failures;
      break;
    }
    if (r > 0) walls.push_back(ms);  // the first run warms the page cache
  }
  std::size_t offers = 0;
  {
    std::ifstream in(dir / "out.json");
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    for (std::size_t p = 0; (p = text.find("\"price_per_hour\"", p)) != std::string::npos; ++p)
      ++offers;
  }
  for (auto& m : providers)
    if (m.pid > 0) {
      kill(m.pid, SIGTERM);
      waitpid(m.pid, nullptr, 0);
    }
  fs::remove_all(dir);
  if (failures || walls.empty()) return 1;
  std::sort(walls.begin(), walls.end());
  std::printf("berth offers, 5 providers answering after 300 ms each, %zu offers listed\n", offers);
  std::printf("runs %zu  best %.0f ms  median %.0f ms  worst %.0f ms  (target < 400 ms)\n",
              walls.size(), walls.front(), walls[walls.size() / 2], walls.back());
  return walls[walls.size() / 2] < 400 ? 0 : 2;
}
