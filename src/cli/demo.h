// `scratchbird demo`: a throwaway local cluster with sample data, showcase
// queries and their plans, then psql (or a script) against it.
//
// With nodes == 1 one node runs in this process. With nodes > 1 the demo
// makes a throwaway CA and node certificates in a temporary directory,
// starts `nodes` `scratchbird start` child processes on 127.0.0.1 (node 1
// first, the others joining through it), runs `cluster init` on node 1,
// waits until every node is a voter and the shards are spread, loads the
// sample data through node 1 and runs the showcase queries through node 2.
// Every child is stopped by its PID and the directory removed on every way
// out (script done, Ctrl-C, SIGTERM, error).
#pragma once

#include <string>

namespace sb::cli {

struct DemoOptions {
  std::string script;  // run this SQL file with psql and exit
  std::string sql_listen = "127.0.0.1:4050";
  std::string http_listen = "127.0.0.1:8947";
  int customers = 2000;
  int nodes = 1;      // 1..9; > 1: that many `scratchbird start` child processes
  bool keep = false;  // keep the data directory afterwards
};

// Returns the process exit code.
int RunDemo(const DemoOptions& options);

}  // namespace sb::cli
