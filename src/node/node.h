// One ScratchBird process in single-node mode: opens (or creates) the data
// directory, its shards and catalog, and serves SQL (PostgreSQL protocol) and
// HTTP (/metrics, /healthz).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "observability/metrics.h"

namespace sb::cluster {
class ClusterNode;
}

namespace sb::node {

struct NodeOptions {
  std::string data_dir;
  std::string sql_host = "127.0.0.1";
  uint16_t sql_port = 4050;  // 0 = any free port
  std::string http_host = "127.0.0.1";
  uint16_t http_port = 8947;       // 0 = any free port
  std::optional<uint32_t> shards;  // default 16 on creation; must match on reopen
  std::string synchronous = "FULL";
  // With synchronous FULL/EXTRA: one group-commit log for all shards (one
  // fdatasync per group of concurrent commits) instead of an fsync per shard
  // commit. Both are durable; see docs/storage.md.
  bool group_commit = true;
  int max_connections = 200;
  // Set: run as a member of a multi-node cluster (issue 5). The data
  // directory then holds the cluster state (cluster.json, raft/) and this
  // node's shard files (shards/); the shard count and the catalog come from
  // the cluster, so `shards` is ignored, and SQL is refused (SB034) until the
  // node belongs to an initialised cluster.
  struct Cluster {
    std::string certs_dir;
    std::string rpc_listen = "127.0.0.1:7947";
    std::string rpc_advertise;
    std::vector<std::string> join;
  };
  std::optional<Cluster> cluster;
};

// Parses "host:port" (port 0 allowed). Errors name the flag.
Status ParseListen(const std::string& flag, const std::string& value, std::string* host,
                   uint16_t* port);

class Node {
 public:
  static Result<std::unique_ptr<Node>> Start(const NodeOptions& options);
  ~Node();

  uint16_t sql_port() const;
  // The registry /metrics shows; other parts of the process (the cluster
  // node) add their metrics here.
  observability::Registry& metrics();
  uint16_t http_port() const;
  uint32_t shard_count() const;
  const std::string& data_dir() const;
  // Cluster mode only (null otherwise): the node's cluster seat.
  cluster::ClusterNode* cluster_node() const;
  // Stops serving: closes listeners and connections, rolls back open
  // transactions, closes the shards.
  void Stop();

 private:
  Node();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::node
