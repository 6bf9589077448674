// Where each shard's data lives. On a single node every shard is local; in a
// cluster (issue 5) a shard owned by another node is reached through this
// interface, which cluster/ implements over the NodeTransport gRPC service.
// The executor stays the same either way: it asks IsLocal and sends the same
// shard SQL to a local connection or to the owner.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace sb::exec {

class CancelState;

using RowSink = std::function<Status(const Row&)>;

// One open write transaction on a shard another node owns. The owner holds
// the shard's writer lock until Commit or Rollback (or until the connection
// breaks, which rolls back).
class RemoteWrite {
 public:
  virtual ~RemoteWrite() = default;
  virtual Status Execute(const std::string& sql, const std::vector<Value>& params,
                         const RowSink& sink, int64_t* changes) = 0;
  // The commit's LSN on the owner.
  virtual Result<uint64_t> Commit(uint64_t hlc) = 0;
  virtual Status Rollback() = 0;
  // Stops the running statement (any thread): statement cancellation.
  virtual void Interrupt() = 0;
};

class ShardPlacement {
 public:
  virtual ~ShardPlacement() = default;
  // True when this node owns the shard: its local file holds the data.
  virtual bool IsLocal(int shard) const = 0;
  // Runs a read-only statement on the owner of a remote shard, streaming the
  // rows to `sink`. `schema_version` is the catalog version the statement was
  // planned against; the owner refuses (SB003, retryable) if its differs or
  // it no longer owns the shard. `cancel` (may be null) interrupts the call.
  virtual Status Read(int shard, uint64_t schema_version, const std::string& sql,
                      const std::vector<Value>& params, CancelState* cancel,
                      const RowSink& sink) = 0;
  // Opens a write transaction on the owner of a remote shard.
  virtual Result<std::unique_ptr<RemoteWrite>> BeginWrite(int shard, uint64_t schema_version) = 0;
  // The shard map version routes are resolved with now (EXPLAIN).
  virtual uint64_t MapVersion() const = 0;
  // Where a shard's subplan runs, for EXPLAIN: "local" or the owner's RPC
  // address.
  virtual std::string Where(int shard) const = 0;
};

}  // namespace sb::exec
