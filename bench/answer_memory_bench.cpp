// What one hostile provider answer costs: the real `berth offers` against a
// loopback server that stands in for Lambda, RunPod and Vast.ai at once and
// answers every request of theirs with the same body: 200 MB of JSON (with
// and without a Content-Length), a gzip bomb (~100 kB that decodes to
// 100 MiB), the largest document berth reads whole, a flood of values and a
// flood of offers. The three providers are asked concurrently, as `offers`
// always does, so each case holds three such answers at once. Peak RSS comes
// from wait4()'s rusage of the berth process; the first case (small, valid
// answers) is the baseline the others are compared with.
//
//   cmake --build build --target berth answer_memory_bench
//   build/answer_memory_bench [PATH_TO_BERTH] [RUNS_PER_CASE]
//
// Exits non-zero when any case costs more than three answers' budget
// (README.md, "Memory") over the baseline.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "berth/common/process.h"
#include "berth/http/http.h"
#include "berth/http/json_answer.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

// README.md's figure for one answer.
constexpr double kBudgetMiB = 80;

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}
bool send_all(int fd, const std::string& s) { return send_all(fd, s.data(), s.size()); }

// Writes one answer's body; `emit` is called with each piece in order.
using Producer = std::function<void(const std::function<bool(const std::string&)>& emit)>;

struct Case {
  std::string name;
  Producer body;
  std::string encoding;      // Content-Encoding, if any
  bool with_length = false;  // Content-Length (else chunked)
  std::size_t length = 0;
};

// `head`, then `item` joined by commas until `total` bytes, then `tail`.
Producer repeated(std::string head, std::string item, std::string tail, std::size_t total) {
  return [=](const auto& emit) {
    std::string chunk;
    std::size_t sent = 0;
    if (!emit(head)) return;
    sent += head.size();
    bool first = true;
    while (sent + item.size() + 1 + tail.size() <= total) {
      if (!first) chunk += ',';
      chunk += item;
      sent += item.size() + (first ? 0 : 1);
      first = false;
      if (chunk.size() >= (64u << 10)) {
        if (!emit(chunk)) return;
        chunk.clear();
      }
    }
    chunk += tail;
    emit(chunk);
  };
}

// `head`, `count` items joined by commas, `tail`.
Producer counted(std::string head, std::string item, std::string tail, std::size_t count) {
  return [=](const auto& emit) {
    std::string chunk = head;
    for (std::size_t i = 0; i < count; ++i) {
      if (i) chunk += ',';
      chunk += item;
      if (chunk.size() >= (64u << 10)) {
        if (!emit(chunk)) return;
        chunk.clear();
      }
    }
    chunk += tail;
    emit(chunk);
  };
}

std::size_t size_of(const Producer& p) {
  std::size_t n = 0;
  p([&](const std::string& s) {
    n += s.size();
    return true;
  });
  return n;
}

std::atomic<const Case*> g_case{nullptr};

void serve(int fd) {
  std::string request;
  char buf[16384];
  std::size_t header_end;
  while ((header_end = request.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    request.append(buf, static_cast<std::size_t>(n));
  }
  // Requests carry small bodies (Vast's search): read them off the socket.
  std::size_t length = 0;
  auto cl = request.find("Content-Length:");
  if (cl == std::string::npos) cl = request.find("content-length:");
  if (cl != std::string::npos && cl < header_end)
    length = std::strtoul(request.c_str() + cl + 15, nullptr, 10);
  while (request.size() < header_end + 4 + length) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    request.append(buf, static_cast<std::size_t>(n));
  }
  const Case& c = *g_case.load();
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n";
  if (!c.encoding.empty()) head += "Content-Encoding: " + c.encoding + "\r\n";
  head += c.with_length ? "Content-Length: " + std::to_string(c.length) + "\r\n"
                        : std::string("Transfer-Encoding: chunked\r\n");
  head += "\r\n";
  if (!send_all(fd, head)) return;
  bool ok = true;
  c.body([&](const std::string& piece) {
    if (!ok || piece.empty()) return ok;
    if (c.with_length) return ok = send_all(fd, piece);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    return ok = send_all(fd, size) && send_all(fd, piece) && send_all(fd, "\r\n", 2);
  });
  if (ok && !c.with_length) send_all(fd, "0\r\n\r\n");
}

struct Run {
  int exit_code = -1;
  double peak_mib = 0;
  double wall_ms = 0;
  std::string first_line;
};

Run run_berth(const std::string& berth, const fs::path& config, const fs::path& err_path) {
  std::vector<std::string> args = {berth, "--config", config.string(), "offers"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = -1;
  Run r;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) return r;
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  r.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
  std::ifstream in(err_path);
  std::getline(in, r.first_line);
  if (r.first_line.size() > 110) r.first_line = r.first_line.substr(0, 107) + "...";
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string berth =
      argc > 1 ? argv[1] : (fs::read_symlink("/proc/self/exe").parent_path() / "berth").string();
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  ::signal(SIGPIPE, SIG_IGN);

  // The gzip bomb: 100 MiB of spaces, compressed (~100 kB), made by a child
  // process: berth's peak RSS as wait4() reports it starts from this
  // process's own (posix_spawn shares its memory until exec), which must
  // therefore stay small.
  fs::path bomb_file =
      fs::temp_directory_path() / ("berth-answer-bench-" + std::to_string(getpid()) + ".gz");
  auto gz = berth::system_process_runner().run(
      {.argv = {"sh", "-c", "head -c 104857600 /dev/zero | tr '\\0' ' ' | gzip -9 > \"$1\"", "sh",
                bomb_file.string()}});
  std::string bomb;
  {
    std::ifstream in(bomb_file, std::ios::binary);
    bomb.assign(std::istreambuf_iterator<char>(in), {});
  }
  fs::remove(bomb_file);
  if (!gz || !gz->ok() || bomb.empty()) {
    std::fprintf(stderr, "gzip failed\n");
    return 1;
  }
  auto bomb_body = [bomb](const auto& emit) {
    for (std::size_t at = 0; at < bomb.size(); at += 16384)
      if (!emit(bomb.substr(at, 16384))) return;
  };
  const std::size_t k200MB = 200'000'000;
  const std::string offer = R"({"id":1,"gpu_name":"RTX 4090","num_gpus":1,"dph_total":0.5})";

  std::vector<Case> cases = {
      {"small valid answers (baseline)", counted(R"({"data":{},"offers":[)", offer, "]}", 10), "",
       false, 0},
      {"200 MB of JSON, chunked (no length)", repeated(R"({"data":[)", "0", "]}", k200MB), "",
       false, 0},
      {"200 MB of JSON with Content-Length", repeated(R"({"data":[)", "0", "]}", k200MB), "", true,
       0},
      {"gzip bomb, ~100 kB -> 100 MiB, with length", bomb_body, "gzip", true, bomb.size()},
      {"gzip bomb, ~100 kB -> 100 MiB, chunked", bomb_body, "gzip", false, 0},
      {"largest document read whole ([{},...])",
       counted(R"({"data":[)", "{}", "]}", berth::kMaxJsonValues - 3), "", false, 0},
      {"8 MiB of values ([{},...]), refused", repeated(R"({"data":[)", "{}", "]}", 8u << 20), "",
       false, 0},
      {"100,000 minimal offers (Vast's limit at most)",
       counted(R"({"offers":[)", offer, "]}", 100'000), "", false, 0},
      {"32 MiB of minimal offers, refused",
       repeated(R"({"offers":[)", offer, "]}", berth::kMaxAnswerBytes - 16), "", false, 0},
  };
  for (auto& c : cases)
    if (c.with_length && c.length == 0) c.length = size_of(c.body);

  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 64) != 0) {
    std::perror("bind");
    return 1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  std::thread([listener] {
    for (;;) {
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::thread([fd] {
        serve(fd);
        ::close(fd);
      }).detach();
    }
  }).detach();

  fs::path dir = fs::temp_directory_path() / ("berth-answer-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  fs::path config = dir / "config.yaml";
  std::ofstream(config) << "providers:\n"
                        << "  lambda: {type: lambda, api_key: ${BENCH_KEY}, base_url: " << base
                        << "/api/v1}\n"
                        << "  runpod: {type: runpod, api_key: ${BENCH_KEY}, base_url: " << base
                        << "}\n"
                        << "  vast: {type: vastai, api_key: ${BENCH_KEY}, base_url: " << base
                        << ", limit: 100000}\n";
  setenv("BENCH_KEY", "bench-key-0123456789", 1);

  std::printf("berth offers, three providers answering at once (%s)\n", berth.c_str());
  std::printf("%-44s %10s %10s %9s %5s  %s\n", "answer (each provider's)", "peak RSS", "over base",
              "wall", "exit", "first line on stderr");
  double baseline = 0;
  bool over = false;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    g_case.store(&cases[i]);
    Run best;
    for (int rep = 0; rep < runs; ++rep) {  // the lowest: the least disturbed run
      Run r = run_berth(berth, config, dir / "err.txt");
      if (rep == 0 || r.peak_mib < best.peak_mib) best = r;
    }
    if (i == 0) baseline = best.peak_mib;
    double extra = best.peak_mib - baseline;
    if (extra > 3 * kBudgetMiB) over = true;
    std::printf("%-44s %6.1f MiB %6.1f MiB %6.0f ms %5d  %s\n", cases[i].name.c_str(),
                best.peak_mib, extra, best.wall_ms, best.exit_code, best.first_line.c_str());
  }
  std::printf("budget: %.0f MiB per answer, %.0f MiB for three over the baseline: %s\n", kBudgetMiB,
              3 * kBudgetMiB, over ? "EXCEEDED" : "met");
  fs::remove_all(dir);
  return over ? 2 : 0;
}
