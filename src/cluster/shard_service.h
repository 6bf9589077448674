// The owner's side of distributed execution (R06-01/09/10/11, R05-24): runs
// subplans (ExecuteSubplan) and shard write transactions (ShardTransaction)
// that coordinators on other nodes send for shards this node owns, against
// the local shard files. Every request names the shard, the shard-map version
// and the schema version it was planned with; `check` refuses the request
// (SB003, retryable) when this node does not own the shard at that version or
// its catalog is at another version.
#pragma once

#include <functional>

#include "common/status.h"
#include "proto/node.pb.h"
#include "rpc/server.h"
#include "storage/shard_set.h"

namespace sb::cluster {

class ShardService {
 public:
  using TargetCheck = std::function<Status(const rpc::ShardTarget& target)>;
  ShardService(storage::ShardSet* shards, TargetCheck check)
      : shards_(shards), check_(std::move(check)) {}

  // Streams the statement's rows in batches; stops when the caller goes away.
  Status ExecuteSubplan(const rpc::SubplanRequest& request, rpc::RowBatchSink& sink);
  // Serves one transaction until commit, rollback, an error (rolled back and
  // returned) or a broken stream (rolled back).
  Status ShardTransaction(rpc::ShardTxnStream& stream);

  // Rows per batch: big enough to amortise the per-message cost, small
  // enough that a batch never approaches the gRPC message limit.
  static constexpr int kBatchRows = 512;
  static constexpr size_t kBatchBytes = 1 << 20;

 private:
  Result<storage::ShardStore*> Target(const rpc::ShardTarget& target);
  storage::ShardSet* shards_;
  TargetCheck check_;
};

}  // namespace sb::cluster
