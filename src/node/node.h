// One ScratchBird process in single-node mode: opens (or creates) the data
// directory, its shards and catalog, and serves SQL (PostgreSQL protocol) and
// HTTP (/metrics, /healthz).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "observability/metrics.h"

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
  // Stops serving: closes listeners and connections, rolls back open
  // transactions, closes the shards.
  void Stop();

 private:
  Node();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::node
