// The cluster daemon and its admin commands (issue 5):
//   scratchbird start --data-dir D --certs-dir C --rpc-listen H:P
//                     --sql-listen H:P --http-listen H:P [--join H:P,...]
//   scratchbird cluster init   --host H:P --certs-dir C [--shards N]
//   scratchbird cluster status --host H:P --certs-dir C
//   scratchbird node ls        --host H:P --certs-dir C
//   scratchbird shard ls       --host H:P --certs-dir C
//
// The admin commands speak the node RPC (mTLS) and authenticate with a node
// certificate: --certs-dir is either one node directory or the admin's certs
// directory, whose first node directory under nodes/ is used. Node RPC only
// admits node certificates; client certificates are for SQL.
#pragma once

#include <memory>

namespace CLI {
class App;
}  // namespace CLI

namespace sb::cli {

class ClusterCommands {
 public:
  // Registers `start`, `cluster`, `node` and `shard` on app.
  explicit ClusterCommands(CLI::App& app);
  ~ClusterCommands();
  ClusterCommands(const ClusterCommands&) = delete;
  ClusterCommands& operator=(const ClusterCommands&) = delete;

  // True when the command line chose one of them.
  bool parsed() const;
  // Runs it. `start` returns when a shutdown signal arrives; the admin
  // commands print a table. Exit code 0, or 1 with a one-line
  // "scratchbird cluster: ..." message on stderr.
  int Run() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sb::cli
