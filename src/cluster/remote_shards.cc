#include "cluster/remote_shards.h"

#include <fmt/format.h>

#include "exec/executor.h"
#include "meta/shard_map.h"
#include "rpc/wire.h"

namespace sb::cluster {
namespace {

void FillTarget(int shard, const ShardLocation& loc, uint64_t schema_version,
                rpc::ShardTarget* target) {
  target->set_shard_index(static_cast<uint32_t>(shard));
  target->set_shard_map_version(loc.shard_map_version);
  target->set_schema_version(schema_version);
}

void FillParams(const std::vector<Value>& params,
                google::protobuf::RepeatedPtrField<rpc::Cell>* out) {
  out->Reserve(static_cast<int>(params.size()));
  for (const Value& v : params) rpc::ValueToCell(v, out->Add());
}

// A call that failed to reach the owner (as opposed to the owner's own
// error, which keeps its SQLSTATE).
bool Unreachable(const Status& st) {
  return st.code() == rpc::kSqlstateConnectionFailure;
}

class GrpcRemoteWrite : public exec::RemoteWrite {
 public:
  GrpcRemoteWrite(int shard, ShardLocation loc, std::shared_ptr<rpc::PeerClient> client,
                  std::unique_ptr<rpc::ShardTxnCall> call)
      : shard_(shard), loc_(std::move(loc)), client_(std::move(client)), call_(std::move(call)) {}
  ~GrpcRemoteWrite() override {
    if (!ended_) (void)Rollback();
  }

  Status Begin(const rpc::ShardTarget& target) {
    rpc::ShardTxnRequest req;
    *req.mutable_begin() = target;
    rpc::ShardTxnReply reply;
    return RoundTrip(
        req, [](const rpc::ShardTxnReply&) { return Status::Ok(); }, &reply);
  }

  Status Execute(const std::string& sql, const std::vector<Value>& params,
                 const exec::RowSink& sink, int64_t* changes) override {
    if (ended_) return Status::Internal("shard transaction already ended");
    rpc::ShardTxnRequest req;
    req.mutable_execute()->set_sql(sql);
    FillParams(params, req.mutable_execute()->mutable_params());
    rpc::ShardTxnReply reply;
    SB_RETURN_IF_ERROR(RoundTrip(
        req,
        [&](const rpc::ShardTxnReply& r) {
          if (!sink) return Status::Ok();
          for (const auto& w : r.rows()) SB_RETURN_IF_ERROR(sink(rpc::RowFromWire(w)));
          return Status::Ok();
        },
        &reply));
    if (changes != nullptr) *changes = reply.changes();
    return Status::Ok();
  }

  Result<uint64_t> Commit(uint64_t hlc) override {
    if (ended_) return Status::Internal("shard transaction already ended");
    rpc::ShardTxnRequest req;
    req.set_commit_hlc(hlc);
    rpc::ShardTxnReply reply;
    Status st = RoundTrip(
        req, [](const rpc::ShardTxnReply&) { return Status::Ok(); }, &reply);
    End();
    if (!st.ok()) return st;
    return reply.lsn();
  }

  Status Rollback() override {
    if (ended_) return Status::Ok();
    rpc::ShardTxnRequest req;
    req.set_rollback(true);
    rpc::ShardTxnReply reply;
    Status st = RoundTrip(
        req, [](const rpc::ShardTxnReply&) { return Status::Ok(); }, &reply);
    End();
    return st;
  }

  void Interrupt() override { call_->Cancel(); }

 private:
  // Sends one request and reads replies up to the one marked done; rows of
  // every reply go to on_rows. A failure ends the call (the owner rolled
  // back) and returns the owner's error.
  Status RoundTrip(const rpc::ShardTxnRequest& req,
                   const std::function<Status(const rpc::ShardTxnReply&)>& on_rows,
                   rpc::ShardTxnReply* last) {
    if (!call_->Write(req)) return Fail();
    for (;;) {
      if (!call_->Read(last)) return Fail();
      Status st = on_rows(*last);
      if (!st.ok()) {
        call_->Cancel();
        End();
        return st;
      }
      if (last->done()) return Status::Ok();
    }
  }
  Status Fail() {
    Status st = call_->Finish();
    ended_ = true;
    if (st.ok())
      st = Status(sqlstate::kShardUnavailable, "the shard transaction ended unexpectedly");
    if (Unreachable(st)) return ShardUnavailable(shard_, loc_, st);
    return st;
  }
  void End() {
    if (ended_) return;
    ended_ = true;
    (void)call_->Finish();
  }

  int shard_;
  ShardLocation loc_;
  std::shared_ptr<rpc::PeerClient> client_;  // keeps the channel alive
  std::unique_ptr<rpc::ShardTxnCall> call_;
  bool ended_ = false;
};

}  // namespace

Status ShardUnavailable(int shard, const ShardLocation& loc, const Status& cause) {
  return Status(sqlstate::kShardUnavailable,
                fmt::format("{} is unavailable: its owner, node {} at {}, cannot be reached ({})",
                            meta::ShardMap::ShardName(static_cast<uint32_t>(shard)),
                            loc.owner.ToString(), loc.owner_address, cause.message()),
                "Queries that need only shards of other nodes keep working; see `scratchbird "
                "cluster status` for the node's health.");
}

uint64_t RemoteShards::MapVersion() const {
  auto loc = locate_(0);
  return loc.ok() ? loc->shard_map_version : 0;
}

std::string RemoteShards::Where(int shard) const {
  auto loc = locate_(shard);
  if (!loc.ok()) return "unknown";
  return loc->owner == self_ ? "local" : loc->owner_address;
}

bool RemoteShards::IsLocal(int shard) const {
  auto loc = locate_(shard);
  return loc.ok() && loc->owner == self_;
}

Result<std::shared_ptr<rpc::PeerClient>> RemoteShards::ClientFor(const ShardLocation& loc) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(loc.owner);
  if (it != peers_.end() && it->second.address == loc.owner_address) return it->second.client;
  SB_ASSIGN_OR_RETURN(auto client, dial_(loc.owner_address, loc.owner));
  Peer p{loc.owner_address, std::shared_ptr<rpc::PeerClient>(std::move(client))};
  peers_[loc.owner] = p;
  return p.client;
}

Status RemoteShards::Read(int shard, uint64_t schema_version, const std::string& sql,
                          const std::vector<Value>& params, exec::CancelState* cancel,
                          const exec::RowSink& sink) {
  SB_ASSIGN_OR_RETURN(ShardLocation loc, locate_(shard));
  SB_ASSIGN_OR_RETURN(auto client, ClientFor(loc));
  rpc::SubplanRequest req;
  FillTarget(shard, loc, schema_version, req.mutable_target());
  req.set_sql(sql);
  FillParams(params, req.mutable_params());
  Status st = client->ExecuteSubplan(
      req,
      [&](const rpc::RowBatch& batch) {
        if (cancel != nullptr && cancel->ShouldStop()) {
          return Status(sqlstate::kQueryCanceled, "canceling statement due to user request");
        }
        for (const auto& w : batch.rows()) SB_RETURN_IF_ERROR(sink(rpc::RowFromWire(w)));
        return Status::Ok();
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(kCallLimit),
      [cancel, &req](std::function<void()> interrupt) {
        if (cancel == nullptr) return;
        if (interrupt)
          cancel->Register(&req, std::move(interrupt));
        else
          cancel->Unregister(&req);
      });
  if (st.ok()) return st;
  if (cancel != nullptr && cancel->ShouldStop())
    return Status(sqlstate::kQueryCanceled, "canceling statement due to user request");
  if (Unreachable(st)) return ShardUnavailable(shard, loc, st);
  return st;
}

Result<std::unique_ptr<exec::RemoteWrite>> RemoteShards::BeginWrite(int shard,
                                                                    uint64_t schema_version) {
  SB_ASSIGN_OR_RETURN(ShardLocation loc, locate_(shard));
  SB_ASSIGN_OR_RETURN(auto client, ClientFor(loc));
  auto call = client->OpenShardTransaction(
      std::chrono::duration_cast<std::chrono::milliseconds>(kCallLimit));
  auto txn = std::make_unique<GrpcRemoteWrite>(shard, loc, client, std::move(call));
  rpc::ShardTarget target;
  FillTarget(shard, loc, schema_version, &target);
  SB_RETURN_IF_ERROR(txn->Begin(target));
  return std::unique_ptr<exec::RemoteWrite>(std::move(txn));
}

}  // namespace sb::cluster
