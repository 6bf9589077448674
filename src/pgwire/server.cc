#include "pgwire/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "pgwire/connection.h"

namespace sb::pgwire {

namespace {

// At most this many refused clients are answered concurrently; beyond that
// new connections over the limit are closed without a message.
constexpr int kMaxConcurrentRefusals = 16;
constexpr int32_t kMinPid = 1000;

// After the last message, waits briefly for the client to close its side so
// that our final message is not lost to a TCP reset caused by unread input.
void LingeringClose(int fd) {
  shutdown(fd, SHUT_WR);
  timeval tv{};
  tv.tv_usec = 100 * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[8192];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  size_t drained = 0;
  while (drained < (4u << 20) && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      drained += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
}

std::string FormatPeer(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    port = ntohs(a->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    port = ntohs(a->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return "unknown client";
}

// Logs at most once per second per call site, counting what was suppressed.
class RateLimitedLog {
 public:
  template <typename F>
  void Log(F&& emit) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (now - last_ < std::chrono::seconds(1)) {
      ++suppressed_;
      return;
    }
    last_ = now;
    emit(suppressed_);
    suppressed_ = 0;
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_{};
  uint64_t suppressed_ = 0;
};

}  // namespace

struct Server::Impl final : ConnectionHost {
  struct Worker {
    int fd = -1;  // -1 once closed
    bool refusal = false;
    bool done = false;
    int32_t secret = 0;
    Session* session = nullptr;  // set while the session is cancellable
    std::string peer;
    std::thread thread;
  };

  Impl(ServerOptions o, SessionFactory* f) : options(std::move(o)), factory(f) {
    std::random_device rd;
    next_pid = kMinPid + static_cast<int32_t>(rd() % 1000000);
  }

  // ConnectionHost.
  void AttachSession(int32_t pid, int32_t secret, Session* session) override {
    std::lock_guard lock(mu);
    auto it = workers.find(pid);
    if (it == workers.end()) return;
    it->second->secret = secret;
    it->second->session = session;
    sessions_opened.fetch_add(1);
  }
  void DetachSession(int32_t pid) override {
    std::lock_guard lock(mu);
    auto it = workers.find(pid);
    if (it != workers.end()) it->second->session = nullptr;
  }
  bool CancelBackend(int32_t pid, int32_t secret) override {
    std::lock_guard lock(mu);
    auto it = workers.find(pid);
    if (it == workers.end()) return false;
    Worker& w = *it->second;
    if (w.session == nullptr || w.secret != secret) return false;
    w.session->Cancel();
    cancel_requests.fetch_add(1);
    return true;
  }
  bool stopping() const override { return stop_requested.load(); }

  void Wake() {
    char b = 1;
    if (wake_write >= 0) {
      ssize_t n = write(wake_write, &b, 1);
      (void)n;  // a full pipe already guarantees a wake-up
    }
  }

  int32_t NextPidLocked() {
    while (true) {
      int32_t pid = next_pid;
      next_pid = next_pid >= INT32_MAX - 1 ? kMinPid : next_pid + 1;
      if (workers.find(pid) == workers.end()) return pid;
    }
  }

  void Serve(Worker* w, int32_t pid) {
    bool refused = false;
    bool linger = false;
    {
      Connection conn(w->fd, pid, options, factory, this);
      conn.set_peer(w->peer);
      if (w->refusal) {
        refused =
            conn.RunRefusal(Status(sqlstate::kTooManyConnections, "sorry, too many clients already",
                                   "Close idle connections or raise max_connections."));
      } else {
        conn.Run();
      }
      linger = conn.sent_fatal();
      if (conn.fatal_code() == sqlstate::kProtocolViolation) protocol_errors.fetch_add(1);
    }  // the session is detached and destroyed here
    if (linger) LingeringClose(w->fd);
    {
      std::lock_guard lock(mu);
      close(w->fd);
      w->fd = -1;
      w->done = true;
      if (w->refusal) {
        --refusing;
        if (refused) {
          rejected.fetch_add(1);
          refusal_log.Log([&](uint64_t suppressed) {
            spdlog::warn(
                "pgwire: refused connection from {}: too many clients (max_connections={}); "
                "{} more refusals not logged",
                w->peer, options.max_connections, suppressed);
          });
        }
      } else {
        --active;
      }
      cv.notify_all();
    }
    Wake();
  }

  void Spawn(int fd, std::string peer) {
    accepted.fetch_add(1);
    std::unique_lock lock(mu);
    const bool refuse = active >= options.max_connections;
    if (refuse && refusing >= kMaxConcurrentRefusals) {
      lock.unlock();
      rejected.fetch_add(1);
      close(fd);
      return;
    }
    int32_t pid = NextPidLocked();
    auto w = std::make_unique<Worker>();
    Worker* raw = w.get();
    w->fd = fd;
    w->refusal = refuse;
    w->peer = std::move(peer);
    try {
      w->thread = std::thread(&Impl::Serve, this, raw, pid);
    } catch (const std::system_error&) {
      lock.unlock();
      close(fd);
      return;
    }
    if (refuse) {
      ++refusing;
    } else {
      ++active;
    }
    workers.emplace(pid, std::move(w));
  }

  void Reap() {
    std::vector<std::unique_ptr<Worker>> finished;
    {
      std::lock_guard lock(mu);
      for (auto it = workers.begin(); it != workers.end();) {
        if (it->second->done) {
          finished.push_back(std::move(it->second));
          it = workers.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& w : finished) {
      if (w->thread.joinable()) w->thread.join();
    }
  }

  void AcceptLoop() {
    std::vector<pollfd> fds;
    for (int fd : listen_fds) fds.push_back({fd, POLLIN, 0});
    fds.push_back({wake_read, POLLIN, 0});
    while (!stop_requested.load()) {
      for (pollfd& p : fds) p.revents = 0;
      int n = poll(fds.data(), fds.size(), -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      if (fds.back().revents != 0) {
        char buf[256];
        while (read(wake_read, buf, sizeof(buf)) > 0) {
        }
        Reap();
      }
      if (stop_requested.load()) break;
      for (size_t i = 0; i + 1 < fds.size(); ++i) {
        if ((fds[i].revents & POLLIN) == 0) continue;
        // Listening sockets are non-blocking: a client that vanished between
        // poll and accept gives EAGAIN instead of blocking the loop.
        sockaddr_storage peer{};
        socklen_t peer_len = sizeof(peer);
        int fd = accept4(fds[i].fd, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            int err = errno;
            accept_error_log.Log([&](uint64_t suppressed) {
              spdlog::error("pgwire: accept failed: {} ({} similar errors not logged)",
                            std::strerror(err), suppressed);
            });
            // Out of descriptors or memory: back off instead of spinning.
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
          continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        Spawn(fd, FormatPeer(peer));
      }
    }
  }

  void CloseListeners() {
    for (int fd : listen_fds) close(fd);
    listen_fds.clear();
  }

  Status Start() {
    {
      std::lock_guard lock(mu);
      if (started) return Status::Internal("pgwire server already started");
      started = true;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port_str = std::to_string(options.port);
    const char* host = options.host.empty() ? nullptr : options.host.c_str();
    const std::string where = options.host + ":" + port_str;
    int rc = getaddrinfo(host, port_str.c_str(), &hints, &res);
    if (rc != 0) {
      return Status::IoError("could not resolve listen address " + where + ": " + gai_strerror(rc));
    }
    // Listen on every address the host resolves to (e.g. 127.0.0.1 and ::1
    // for "localhost"), all on the same port; at least one must work.
    std::string last_error = "no usable address";
    uint16_t port = options.port;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
      int fd =
          socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
      if (fd < 0) {
        last_error = std::strerror(errno);
        continue;
      }
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      sockaddr_storage want{};
      std::memcpy(&want, ai->ai_addr, std::min<size_t>(ai->ai_addrlen, sizeof(want)));
      if (ai->ai_family == AF_INET6) {
        // Keep IPv6 sockets IPv6-only so "::" and "0.0.0.0" can coexist.
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        reinterpret_cast<sockaddr_in6*>(&want)->sin6_port = htons(port);
      } else {
        reinterpret_cast<sockaddr_in*>(&want)->sin_port = htons(port);
      }
      if (bind(fd, reinterpret_cast<sockaddr*>(&want), ai->ai_addrlen) != 0 ||
          listen(fd, 1024) != 0) {
        last_error = std::strerror(errno);
        close(fd);
        continue;
      }
      if (port == 0) {
        // Ephemeral: the first bind picks the port, the others reuse it.
        sockaddr_storage got{};
        socklen_t len = sizeof(got);
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&got), &len) == 0) {
          port = got.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&got)->sin6_port)
                                           : ntohs(reinterpret_cast<sockaddr_in*>(&got)->sin_port);
        }
      }
      listen_fds.push_back(fd);
    }
    freeaddrinfo(res);
    if (listen_fds.empty()) {
      return Status(sqlstate::kIoError, "could not listen on " + where + ": " + last_error,
                    "Check that the address is local and the port is free.");
    }
    bound_port = port;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
      Status st =
          Status::IoError(std::string("could not create wake-up pipe: ") + std::strerror(errno));
      CloseListeners();
      return st;
    }
    wake_read = pipefd[0];
    wake_write = pipefd[1];
    try {
      accept_thread = std::thread(&Impl::AcceptLoop, this);
    } catch (const std::system_error& e) {
      CloseListeners();
      return Status::Internal(std::string("could not start accept thread: ") + e.what());
    }
    return Status::Ok();
  }

  void Stop() {
    {
      std::lock_guard lock(mu);
      if (!started || stopped) return;
      stopped = true;
    }
    stop_requested.store(true);
    Wake();
    if (accept_thread.joinable()) accept_thread.join();
    CloseListeners();
    std::unique_lock lock(mu);
    // Tell every connection to finish: reads see EOF, running statements are
    // cancelled. Connections answer with FATAL 57P01 and exit.
    for (auto& [pid, w] : workers) {
      if (w->fd >= 0) shutdown(w->fd, SHUT_RD);
      if (w->session != nullptr) w->session->Cancel();
    }
    auto all_done = [this] {
      for (auto& [pid, w] : workers) {
        if (!w->done) return false;
      }
      return true;
    };
    cv.wait_for(lock, std::chrono::milliseconds(options.stop_grace_ms), all_done);
    // Stragglers (e.g. blocked writing to a client that does not read).
    for (auto& [pid, w] : workers) {
      if (w->fd >= 0) shutdown(w->fd, SHUT_RDWR);
    }
    std::map<int32_t, std::unique_ptr<Worker>> all;
    all.swap(workers);
    lock.unlock();
    for (auto& [pid, w] : all) {
      if (w->thread.joinable()) w->thread.join();
    }
    if (wake_read >= 0) close(wake_read);
    if (wake_write >= 0) close(wake_write);
    wake_read = wake_write = -1;
  }

  const ServerOptions options;
  SessionFactory* const factory;

  std::vector<int> listen_fds;
  int wake_read = -1;
  int wake_write = -1;
  std::thread accept_thread;
  std::atomic<bool> stop_requested{false};
  std::atomic<uint16_t> bound_port{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> sessions_opened{0};
  std::atomic<uint64_t> protocol_errors{0};
  std::atomic<uint64_t> cancel_requests{0};
  RateLimitedLog refusal_log;
  RateLimitedLog accept_error_log;

  mutable std::mutex mu;
  std::condition_variable cv;
  bool started = false;  // guarded by mu
  bool stopped = false;  // guarded by mu
  int active = 0;        // guarded by mu
  int refusing = 0;      // guarded by mu
  int32_t next_pid = kMinPid;
  std::map<int32_t, std::unique_ptr<Worker>> workers;  // by backend pid, guarded by mu
};

Server::Server(ServerOptions options, SessionFactory* factory)
    : impl_(std::make_unique<Impl>(std::move(options), factory)) {}

Server::~Server() {
  Stop();
}

Status Server::Start() {
  return impl_->Start();
}

void Server::Stop() {
  impl_->Stop();
}

uint16_t Server::port() const {
  return impl_->bound_port.load();
}

int Server::active_connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->active;
}

uint64_t Server::connections_rejected() const {
  return impl_->rejected.load();
}

Server::Stats Server::stats() const {
  Stats s;
  s.active_connections = active_connections();
  s.connections_accepted = impl_->accepted.load();
  s.connections_rejected = impl_->rejected.load();
  s.sessions_opened = impl_->sessions_opened.load();
  s.protocol_errors = impl_->protocol_errors.load();
  s.cancel_requests = impl_->cancel_requests.load();
  return s;
}

}  // namespace sb::pgwire
