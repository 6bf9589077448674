// One `scratchbird start` child process for the multi-node e2e tests, on
// ports chosen once and kept across restarts (a node must come back on the
// RPC address it joined with), stopped only through its own PID.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "e2e_util.h"

namespace sb::e2e {

class ClusterProcess {
 public:
  // Data in base/data<index>, certificates expected in base/node<index>.
  ClusterProcess(std::string base, int index);
  ~ClusterProcess() { Stop(); }
  ClusterProcess(const ClusterProcess&) = delete;
  ClusterProcess& operator=(const ClusterProcess&) = delete;

  std::string certs() const { return base_ + "/node" + std::to_string(index_); }
  const std::string& rpc() const { return rpc_; }
  const std::string& http() const { return http_; }
  int http_port() const;
  int sql_port() const { return sql_port_; }
  int index() const { return index_; }
  bool running() const;
  std::string conninfo() const;
  // The child gets SB_FAULT_INJECTION=1 (cluster inject-fault).
  void EnableFaultInjection() { fault_injection_ = true; }

  // Starts the process (joining through `join` when not empty) and waits up
  // to 30 s until it logs that it started.
  bool Start(const std::string& join);
  // SIGTERM, wait up to 10 s, then SIGKILL. The exit code, or -1 when killed.
  int Stop();
  // SIGKILL at once (a crash).
  void Kill9();
  // This start's log (stdout and stderr).
  std::string log() const;

 private:
  std::string base_;
  int index_;
  std::string rpc_, http_, log_;
  int sql_port_ = 0;
  int starts_ = 0;
  bool fault_injection_ = false;
  pid_t pid_ = -1;
};

// Runs `scratchbird args...` (30 s limit).
ProgramResult Cli(std::vector<std::string> args);

}  // namespace sb::e2e
