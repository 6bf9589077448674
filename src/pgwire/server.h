// The PostgreSQL wire-protocol server: a listener with one thread per client
// connection (blocking I/O, as the engine below is blocking). Each connection
// runs startup, then simple and extended query, COPY FROM STDIN and cancel,
// against a Session obtained from the SessionFactory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "pgwire/session.h"

namespace sb::pgwire {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4050;  // 0 = ephemeral (see Server::port())
  int max_connections = 200;
  // Largest frontend message body accepted; larger ones are a protocol error.
  size_t max_message_bytes = 256u << 20;
  // Largest total COPY FROM STDIN data stream accepted per COPY.
  size_t max_copy_bytes = size_t{1} << 30;
  // A client must complete the startup packet exchange within this time.
  int startup_timeout_ms = 60000;
  // On Stop(), connections get this long to finish after being told to stop
  // before their sockets are shut down hard.
  int stop_grace_ms = 2000;
};

class Server {
 public:
  // factory must outlive the server.
  Server(ServerOptions options, SessionFactory* factory);
  ~Server();  // Stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens, then spawns the accept thread. Fails with 58030 if the
  // address cannot be bound, XX000 if called twice.
  Status Start();
  // Closes the listener and all connections (clients get FATAL 57P01 when
  // possible), cancels running statements and joins all threads. Idempotent.
  void Stop();

  // The bound port (useful with port 0); 0 before Start().
  uint16_t port() const;
  // Connections currently served (not counting refused ones).
  int active_connections() const;
  // Connections refused with 53300 because max_connections was reached.
  uint64_t connections_rejected() const;

  // Counters since Start(), for metrics.
  struct Stats {
    int active_connections = 0;
    uint64_t connections_accepted = 0;  // TCP connections accepted (all kinds)
    uint64_t connections_rejected = 0;  // refused with 53300
    uint64_t sessions_opened = 0;       // successful startups
    uint64_t protocol_errors = 0;       // connections closed with 08P01
    uint64_t cancel_requests = 0;       // CancelRequests that matched a connection
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::pgwire
