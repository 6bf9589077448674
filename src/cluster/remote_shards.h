// The coordinator's side of distributed execution across nodes: an
// exec::ShardPlacement that knows, from the replicated cluster state, which
// node owns each shard, and reaches the owners of shards this node does not
// own over the NodeTransport service (ExecuteSubplan for reads,
// ShardTransaction for writes). Requests carry the shard-map version the
// route was resolved with and the schema version the plan was made with.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/uuid.h"
#include "exec/shard_placement.h"
#include "rpc/client.h"

namespace sb::cluster {

// What the placement needs to know about a shard at this moment.
struct ShardLocation {
  Uuid owner;
  std::string owner_address;  // RPC address
  uint64_t shard_map_version = 0;
};

class RemoteShards : public exec::ShardPlacement {
 public:
  using Locate = std::function<Result<ShardLocation>(int shard)>;
  using Dial = std::function<Result<std::unique_ptr<rpc::PeerClient>>(const std::string& address,
                                                                      const Uuid& node)>;
  RemoteShards(Uuid self, Locate locate, Dial dial)
      : self_(self), locate_(std::move(locate)), dial_(std::move(dial)) {}

  bool IsLocal(int shard) const override;
  Status Read(int shard, uint64_t schema_version, const std::string& sql,
              const std::vector<Value>& params, exec::CancelState* cancel,
              const exec::RowSink& sink) override;
  Result<std::unique_ptr<exec::RemoteWrite>> BeginWrite(int shard,
                                                        uint64_t schema_version) override;
  uint64_t MapVersion() const override;
  std::string Where(int shard) const override;

  // Upper bound of one subplan call; statement_timeout and cancellation stop
  // calls earlier through the session's CancelState.
  static constexpr std::chrono::hours kCallLimit{24};

 private:
  struct Peer {
    std::string address;
    std::shared_ptr<rpc::PeerClient> client;
  };
  Result<std::shared_ptr<rpc::PeerClient>> ClientFor(const ShardLocation& loc);

  Uuid self_;
  Locate locate_;
  Dial dial_;
  std::mutex mu_;
  std::map<Uuid, Peer> peers_;
};

// The error a coordinator reports when a shard's owner cannot be reached:
// SB002 naming the shard and the node, so the user knows which data is out
// of reach (no partial results, R06-11).
Status ShardUnavailable(int shard, const ShardLocation& loc, const Status& cause);

}  // namespace sb::cluster
