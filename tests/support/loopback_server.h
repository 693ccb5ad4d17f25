// A tiny HTTP/1.1 server on 127.0.0.1 for client tests: each request is
// answered by a handler that can delay, hang, truncate or flood the answer.
// One thread per connection; stop() (or the destructor) ends every one.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace berth::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;                          // path and query
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct ScriptedReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  // before the status line
  bool hang = false;                   // never answer (until the server stops)
  bool truncate = false;               // announce the full length, send half, close
  bool close_without_answer = false;
};

class LoopbackServer {
 public:
  using Handler = std::function<ScriptedReply(const ReceivedRequest&)>;

  explicit LoopbackServer(Handler handler);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "") const;
  std::vector<ReceivedRequest> requests() const;
  std::size_t request_count() const;
  void stop();
  /// Bytes written as soon as a connection is accepted, before any request
  /// (a server that is not speaking the protocol the client expects).
  void set_greeting(std::string bytes);

 private:
  void accept_loop();
  void serve(int fd);
  bool serve_one(int fd, std::string& buffer);
  bool wait_or_stop(std::chrono::milliseconds d);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
  std::vector<ReceivedRequest> requests_;
  std::string greeting_;
};

}  // namespace berth::testing
