#include "cluster/shard_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include "meta/shard_map.h"
#include "rpc/wire.h"

namespace sb::cluster {
namespace {

std::vector<Value> Params(const google::protobuf::RepeatedPtrField<rpc::Cell>& cells) {
  std::vector<Value> out;
  out.reserve(static_cast<size_t>(cells.size()));
  for (const auto& c : cells) out.push_back(rpc::CellToValue(c));
  return out;
}

// Interrupts the connection's statement when `stop` says the caller has gone
// (cancelled, deadline passed): the coordinator's cancellation reaches the
// shard (R06-10).
class StopGuard {
 public:
  StopGuard(storage::ShardConnection* conn, std::function<bool()> stop)
      : conn_(conn), stop_(std::move(stop)) {
    sqlite3_progress_handler(conn_->raw(), 1000, &StopGuard::Poll, this);
  }
  ~StopGuard() { sqlite3_progress_handler(conn_->raw(), 0, nullptr, nullptr); }

 private:
  static int Poll(void* arg) { return static_cast<StopGuard*>(arg)->stop_() ? 1 : 0; }
  storage::ShardConnection* conn_;
  std::function<bool()> stop_;
};

// Collects rows into batches and hands each full one to `flush`.
class Batcher {
 public:
  explicit Batcher(std::function<bool(const rpc::RowBatch&)> flush) : flush_(std::move(flush)) {}
  Status Add(const Row& row) {
    rpc::WireRow* w = batch_.add_rows();
    rpc::RowToWire(row, w);
    bytes_ += w->ByteSizeLong();
    if (batch_.rows_size() >= ShardService::kBatchRows || bytes_ >= ShardService::kBatchBytes)
      return Flush();
    return Status::Ok();
  }
  Status Flush() {
    if (batch_.rows_size() == 0) return Status::Ok();
    if (!flush_(batch_))
      return Status(sqlstate::kQueryCanceled, "the coordinator cancelled the subplan");
    batch_.Clear();
    bytes_ = 0;
    return Status::Ok();
  }
  rpc::RowBatch& pending() { return batch_; }

 private:
  std::function<bool(const rpc::RowBatch&)> flush_;
  rpc::RowBatch batch_;
  size_t bytes_ = 0;
};

}  // namespace

Result<storage::ShardStore*> ShardService::Target(const rpc::ShardTarget& target) {
  if (target.shard_index() >= static_cast<uint32_t>(shards_->size()))
    return Status(sqlstate::kStaleShardVersion,
                  fmt::format("shard index {} is out of range (this node has {} shards)",
                              target.shard_index(), shards_->size()));
  if (Status st = check_(target); !st.ok()) {
    spdlog::warn("refused work for {}: {}", meta::ShardMap::ShardName(target.shard_index()),
                 st.message());
    return st;
  }
  return &shards_->shard(static_cast<int>(target.shard_index()));
}

Status ShardService::ExecuteSubplan(const rpc::SubplanRequest& request, rpc::RowBatchSink& sink) {
  SB_ASSIGN_OR_RETURN(storage::ShardStore * store, Target(request.target()));
  SB_ASSIGN_OR_RETURN(auto conn, store->Acquire());
  StopGuard guard(conn.get(), [&sink] { return sink.IsCancelled(); });
  Batcher batcher([&sink](const rpc::RowBatch& b) { return sink.Write(b); });
  SB_RETURN_IF_ERROR(conn->Execute(request.sql(), Params(request.params()),
                                   [&](const Row& r) { return batcher.Add(r); }));
  return batcher.Flush();
}

Status ShardService::ShardTransaction(rpc::ShardTxnStream& stream) {
  rpc::ShardTxnRequest request;
  if (!stream.Read(&request)) return Status::Ok();  // the caller left before beginning
  if (request.op_case() != rpc::ShardTxnRequest::kBegin)
    return Status(sqlstate::kProtocolViolation, "a shard transaction must start with begin");
  SB_ASSIGN_OR_RETURN(storage::ShardStore * store, Target(request.begin()));
  SB_ASSIGN_OR_RETURN(auto conn, store->Acquire());
  SB_RETURN_IF_ERROR(conn->BeginWrite());
  // Rolls back whatever path leaves this function without committing.
  struct RollbackUnlessDone {
    storage::ShardConnection* conn;
    bool done = false;
    ~RollbackUnlessDone() {
      if (!done) (void)conn->Rollback();
    }
  } guard{conn.get()};
  StopGuard stop(conn.get(), [&stream] { return stream.IsCancelled(); });
  rpc::ShardTxnReply begun;
  begun.set_done(true);
  if (!stream.Write(begun)) return Status::Ok();
  while (stream.Read(&request)) {
    rpc::ShardTxnReply reply;
    switch (request.op_case()) {
      case rpc::ShardTxnRequest::kExecute: {
        Batcher batcher([&stream](const rpc::RowBatch& b) {
          rpc::ShardTxnReply part;
          *part.mutable_rows() = b.rows();
          return stream.Write(part);
        });
        int64_t changes = 0;
        SB_RETURN_IF_ERROR(conn->Execute(
            request.execute().sql(), Params(request.execute().params()),
            [&](const Row& r) { return batcher.Add(r); }, &changes));
        *reply.mutable_rows() = batcher.pending().rows();
        reply.set_changes(changes);
        reply.set_done(true);
        if (!stream.Write(reply)) return Status::Ok();
        break;
      }
      case rpc::ShardTxnRequest::kCommitHlc: {
        SB_ASSIGN_OR_RETURN(uint64_t lsn, conn->Commit(request.commit_hlc()));
        guard.done = true;
        reply.set_lsn(lsn);
        reply.set_done(true);
        (void)stream.Write(reply);
        return Status::Ok();
      }
      case rpc::ShardTxnRequest::kRollback: {
        guard.done = true;
        SB_RETURN_IF_ERROR(conn->Rollback());
        reply.set_done(true);
        (void)stream.Write(reply);
        return Status::Ok();
      }
      default:
        return Status(sqlstate::kProtocolViolation, "unexpected message in a shard transaction");
    }
  }
  return Status::Ok();  // the stream broke: rolled back by the guard
}

}  // namespace sb::cluster
