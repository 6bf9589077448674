// A throwaway PostgreSQL 15 server for oracle tests: initdb into a temporary
// directory, the postmaster as a child process on 127.0.0.1 (fsync off, C
// locale, UTC), stopped by its PID and the directory removed in Stop() or the
// destructor. When the test runs as root, initdb and postgres run as the
// `postgres` user (PostgreSQL refuses to run as root). The postmaster gets
// SIGKILL if the test process dies, so a crashed test leaves no server behind.
#pragma once

#include <sys/types.h>

#include <string>

namespace sbtest {

class PgServer {
 public:
  PgServer() = default;
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // The directory holding initdb and postgres: $SB_PG_BIN, else
  // /usr/lib/postgresql/15/bin.
  static std::string BinDir();
  // Empty when initdb and postgres are present; else why not (the test skips).
  static std::string Unavailable();

  // initdb + start, wait until it accepts connections. Error text or empty.
  std::string Start();
  // Fast shutdown (SIGINT) of the postmaster by PID, SIGKILL after 10 s,
  // then removes the directory. Safe to call twice.
  void Stop();

  int port() const { return port_; }
  std::string conninfo() const;
  std::string LogTail() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

}  // namespace sbtest
