#include "berth/host/ssh_host.h"

#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <tuple>

#include "berth/common/cancel.h"
#include "berth/host/ssh.h"

namespace berth {
namespace {

class SshHost : public Host {
 public:
  explicit SshHost(std::unique_ptr<SshSession> session) : session_(std::move(session)) {}

  std::string address() const override { return session_->target().host; }

  Expected<ProcessResult, std::string> run(const HostCommand& c) override {
    if (c.interactive) {
      auto code = session_->interactive(c.argv, c.tty);
      if (!code) return unexpected(code.error().message);
      ProcessResult r;
      r.exit_code = *code;
      return r;
    }
    auto r = session_->run(c.argv, c.stdin_data, c.timeout, c.cancellable);
    if (r) return std::move(*r);
    // The engine reads cancelled/timed_out from the result, like a local run.
    const auto& e = r.error();
    if (e.kind == SshError::Kind::kCancelled || e.kind == SshError::Kind::kTimeout) {
      ProcessResult p;
      p.cancelled = e.kind == SshError::Kind::kCancelled;
      p.timed_out = e.kind == SshError::Kind::kTimeout;
      p.err = e.message;
      return p;
    }
    return unexpected(e.message);
  }

  Expected<int, std::string> login_shell() override {
    auto code = session_->interactive({}, ::isatty(0) && ::isatty(1));
    if (!code) return unexpected(code.error().message);
    return *code;
  }

  SshSession& session() { return *session_; }

 private:
  std::unique_ptr<SshSession> session_;
};

class SshHostConnector : public HostConnector {
 public:
  SshHostConnector(SshHostOptions options, ProcessRunner& runner)
      : options_(std::move(options)), runner_(runner) {}
  ~SshHostConnector() override { close_all(); }

  Expected<std::shared_ptr<Host>, HostError> connect(const Instance& instance,
                                                     const std::string& deployment) override {
    if (instance.host.empty())
      return unexpected(HostError{HostError::Kind::kUnreachable,
                                  "instance " + instance.id + " has no SSH address yet", ""});
    auto key = std::make_tuple(instance.ssh_user, instance.host, instance.ssh_port, deployment);
    // One slot per host: a handshake (up to connect_timeout) holds only its
    // own host's slot, so a host being connected to, say by a redeploy on
    // another thread, never stalls commands to hosts already connected.
    std::shared_ptr<Slot> slot;
    {
      std::lock_guard lock(mutex_);
      auto& s = hosts_[key];
      if (!s) s = std::make_shared<Slot>();
      slot = s;
    }
    std::lock_guard slot_lock(slot->mutex);
    if (slot->host) return std::shared_ptr<Host>(slot->host);

    SshOptions o;
    o.state_dir = options_.state_dir;
    o.deployment = deployment;
    o.identity = options_.identity;
    o.connect_timeout = options_.connect_timeout;
    o.config_file = options_.config_file;
    o.program = options_.program;
    o.cancel = &cancel_flag();
    auto session = std::make_unique<SshSession>(
        SshTarget{instance.host, instance.ssh_port, instance.ssh_user}, std::move(o), runner_);
    if (auto opened = session->open(); !opened) {
      const auto& e = opened.error();
      HostError he;
      he.message = e.message;
      switch (e.kind) {
        case SshError::Kind::kHostKeyChanged:
          he.kind = HostError::Kind::kHostKeyChanged;
          he.hint = "if the host was really replaced, remove " + session->known_hosts().string() +
                    "; otherwise someone may be intercepting";
          break;
        case SshError::Kind::kAuth:
          he.kind = HostError::Kind::kAuth;
          he.hint = "the host must accept berth's key (ssh.key in the config, or " +
                    (options_.state_dir / "id_ed25519.pub").string() + ")";
          break;
        case SshError::Kind::kUnreachable:
        case SshError::Kind::kTimeout:
          he.kind = HostError::Kind::kUnreachable;
          break;
        default:
          he.kind = HostError::Kind::kOther;
      }
      return unexpected(he);
    }
    handshakes_ += session->handshakes();
    slot->host = std::make_shared<SshHost>(std::move(session));
    return std::shared_ptr<Host>(slot->host);
  }

  int handshakes() const override { return handshakes_; }

  void close_all() override {
    std::map<Key, std::shared_ptr<Slot>> slots;
    {
      std::lock_guard lock(mutex_);
      slots.swap(hosts_);
    }
    for (auto& [key, slot] : slots) {
      std::lock_guard slot_lock(slot->mutex);
      if (slot->host) slot->host->session().close();
      slot->host.reset();
    }
  }

 private:
  using Key = std::tuple<std::string, std::string, int, std::string>;
  struct Slot {
    std::mutex mutex;  // held while connecting to this host
    std::shared_ptr<SshHost> host;
  };
  SshHostOptions options_;
  ProcessRunner& runner_;
  std::mutex mutex_;  // guards the map only
  std::map<Key, std::shared_ptr<Slot>> hosts_;
  std::atomic<int> handshakes_ = 0;
};

}  // namespace

std::unique_ptr<HostConnector> make_ssh_host_connector(SshHostOptions options,
                                                       ProcessRunner& runner) {
  return std::make_unique<SshHostConnector>(std::move(options), runner);
}

}  // namespace berth
