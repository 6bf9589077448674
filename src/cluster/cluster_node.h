// One process's seat in the cluster (issue 5): the mTLS RPC server, the Raft
// host with its gRPC transport, and the replicated meta::ClusterState behind
// it. It answers the admin calls (`cluster init`, `cluster status`) and the
// join handshake, and drives its own join when started with --join.
//
// Lifecycle of a node's data directory:
//   - no cluster.json, no --join: the node waits, uninitialised, for
//     InitCluster. Init bootstraps a one-voter Raft group and proposes the
//     signed InitCluster entry (genesis epoch, every shard on this node).
//   - --join H:P,...: the node starts an empty Raft host and asks the leader
//     (found through ClusterStatus on a listed node) to add it. The leader
//     commits AddLearner and adds the Raft learner; the node catches up; on a
//     later Join call the leader sees it caught up and promotes it (Raft voter
//     + PromoteVoter). The node calls Join until it is a voter.
//   - cluster.json present: the Raft host restarts from data_dir/raft and the
//     node rejoins by itself; an unfinished join is resumed.
//
// Raft ids are RaftIdFor(node uuid): deterministic, so a node's id never
// depends on who added it, and recorded in the membership by the commands.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster/grpc_transport.h"
#include "cluster/raft_host.h"
#include "cluster/shard_service.h"
#include "cluster/state_machine.h"
#include "common/ed25519.h"
#include "common/status.h"
#include "common/uuid.h"
#include "meta/cluster_state.h"
#include "observability/metrics.h"
#include "proto/node.pb.h"
#include "rpc/peer_auth.h"
#include "rpc/server.h"
#include "security/certs_dir.h"

namespace sb::cluster {

inline constexpr const char* kRejectedClusterEntriesMetric =
    "scratchbird_rejected_cluster_entries_total";
inline constexpr const char* kClusterFile = "cluster.json";
inline constexpr uint32_t kDefaultShards = 16;

// The Raft id of a node: the last 8 bytes of its UUID (the random part of a
// UUIDv7, so ids of nodes created in the same millisecond still differ),
// top bit cleared, never 0.
uint64_t RaftIdFor(const Uuid& node);

// meta::ClusterState behind RaftHost. Apply runs on the host's loop thread;
// readers on other threads take the state through Read().
class ClusterStateMachine : public ReplicatedStateMachine {
 public:
  // Called on the loop thread after every apply and restore, without the
  // lock held; `result` is null after a restore.
  // `state` is the state just applied; it may be read without the lock, as
  // only the loop thread (the observer's thread) writes it.
  using Observer = std::function<void(const meta::ApplyResult* result, std::string_view command,
                                      const meta::ClusterState& state)>;
  explicit ClusterStateMachine(Observer observer = {}) : observer_(std::move(observer)) {}

  // The result is empty when the entry applied (or was a no-op), otherwise
  // EncodeRejection(reason): the proposer learns why its entry was refused.
  std::string Apply(uint64_t index, std::string_view command) override;
  std::string Snapshot() const override;
  Status Restore(std::string_view snapshot) override;

  // Runs f(const meta::ClusterState&) under the lock.
  template <typename F>
  auto Read(F&& f) const {
    std::lock_guard<std::mutex> lock(mu_);
    return f(state_);
  }

  static std::string EncodeRejection(const Status& reason);
  // OK for an empty result; the rejection otherwise.
  static Status DecodeResult(std::string_view result);

 private:
  mutable std::mutex mu_;
  meta::ClusterState state_;
  Observer observer_;
};

struct ClusterNodeOptions {
  std::string data_dir;   // holds cluster.json and raft/; created if missing
  std::string certs_dir;  // this node's certificate directory (cert create-node)
  std::string rpc_listen = "127.0.0.1:7947";  // port 0: any free port
  // What other nodes dial; default: the listen host with the bound port.
  std::string rpc_advertise;
  std::string sql_address;        // advertised in the membership, may be empty
  std::string http_address;       // likewise
  std::vector<std::string> join;  // RPC addresses of existing members
  std::chrono::milliseconds tick_interval{50};
  std::chrono::milliseconds join_retry{300};
  // Where the node's metrics go; null: a registry of its own (registry()).
  observability::Registry* registry = nullptr;
  // Called on the Raft loop thread after each applied entry (with its bytes)
  // and after a snapshot restore (result null), before anything waiting on
  // the entry is told it applied: the data plane follows the cluster state
  // here (opens the shards at init, applies replicated DDL).
  ClusterStateMachine::Observer on_applied;
  // The schema version this node's shards have applied (Ping reports it);
  // unset: 0.
  std::function<uint64_t()> applied_schema_version;
};

class ClusterNode {
 public:
  // Loads the credentials, starts the RPC server and, when the data
  // directory or --join says so, the Raft host and the join.
  static Result<std::unique_ptr<ClusterNode>> Start(ClusterNodeOptions options);
  ~ClusterNode();  // Stop()
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Stops the join, the RPC server, the Raft host and the transport.
  void Stop();

  const Uuid& node_id() const { return node_id_; }
  uint64_t raft_id() const { return raft_id_; }
  int rpc_port() const;
  const std::string& rpc_address() const { return rpc_address_; }
  observability::Registry& registry() { return *registry_; }

  // `cluster init` on this node: refused (SB035) once it belongs to a
  // cluster; otherwise bootstraps Raft here and commits the genesis epoch.
  Result<rpc::InitReply> Init(uint32_t shards);
  // The status this node sees (pings every member for health).
  Result<rpc::StatusReply> ClusterStatus();
  // The join handshake, leader side.
  Result<rpc::JoinReply> HandleJoin(const Uuid& from, const rpc::JoinRequest& request);
  // `node remove`, leader side: RemoveMember (refused while the node owns
  // shards), then the Raft configuration change. Idempotent.
  Result<rpc::RemoveReply> HandleRemove(const Uuid& node);
  // Test-only (SB_FAULT_INJECTION=1 at start): proposes an invalid entry of
  // the given kind; returns the rejection every node applies it as.
  Result<std::string> InjectFault(const std::string& kind);

  // Runs f(const meta::ClusterState&) on the applied state under its lock.
  template <typename F>
  auto ReadState(F&& f) const {
    return machine_->Read(std::forward<F>(f));
  }
  // A client for another node's RPC address, checked to be `expected`.
  Result<std::unique_ptr<rpc::PeerClient>> Dial(const std::string& address,
                                                std::optional<Uuid> expected) const;
  // Serves subplans and shard transactions from other nodes' coordinators
  // (null: refused, the node's shards are not open). Not owned.
  void SetShardService(ShardService* service) { shard_service_.store(service); }
  // Commits a CatalogDdl through Raft (from any node; followers forward to
  // the leader) and waits until this node applied it (the on_applied hook
  // has run). The entry's rejection (e.g. SB033, another DDL won) is the
  // result.
  Status ProposeCatalog(const meta::CatalogDdl& ddl, std::chrono::milliseconds timeout);
  // Waits until every other reachable member reports (Ping) schema version
  // `version` or newer, so a statement on any node sees a schema change that
  // returned. Members that do not answer are skipped: they catch up when they
  // come back, and their shards wait for it (SB003). Returns the members
  // that had not caught up by `timeout`.
  std::vector<Uuid> WaitForSchemaEverywhere(uint64_t version, std::chrono::milliseconds timeout);

  // True once this node's applied state lists it as an ACTIVE voter.
  bool IsVoter() const;
  uint64_t applied_epoch() const;
  uint64_t rejected_entries() const { return rejected_.load(); }
  // The Raft id of the leader this node knows of; 0 when none is known.
  uint64_t leader_raft_id() const {
    std::shared_ptr<RaftHost> h = host();
    return h ? h->leader() : 0;
  }

 private:
  class Handler;
  ClusterNode() = default;

  Status LoadOrCreateIdentityFile();
  Status SaveClusterFile(bool raft_started) const;
  Status StartHost(bool fresh);
  std::shared_ptr<RaftHost> host() const;
  void OnApplied(const meta::ApplyResult* result, std::string_view command,
                 const meta::ClusterState& state);
  void RefreshPeers();
  // Builds, signs and proposes `command` as leader; OK once applied here.
  Status ProposeCommand(meta::Command command, std::string description);
  meta::MemberInfo SelfInfo() const;
  void JoinLoop();
  Status TryJoinOnce();
  std::optional<std::string> LeaderAddress() const;

  ClusterNodeOptions options_;
  std::atomic<ShardService*> shard_service_{nullptr};
  security::NodeCredentials creds_;
  std::optional<Ed25519PrivateKey> signing_key_;
  Uuid node_id_;
  uint64_t raft_id_ = 0;
  std::string rpc_address_;

  std::unique_ptr<observability::Registry> own_registry_;
  observability::Registry* registry_ = nullptr;
  std::shared_ptr<rpc::PeerAuthenticator> auth_;
  std::unique_ptr<ClusterStateMachine> machine_;
  std::unique_ptr<GrpcRaftTransport> transport_;
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<rpc::RpcServer> server_;

  mutable std::mutex mu_;
  std::shared_ptr<RaftHost> host_;
  std::shared_ptr<RaftBatchReceiver> receiver_;
  // Peers a joining node learned from the leader before it applied anything.
  std::map<raft::NodeId, RaftPeer> seed_peers_;
  // Serialises RefreshPeers (loop and join threads) so an older peer map
  // never replaces a newer one.
  std::mutex peers_mu_;

  std::mutex init_mu_;     // one Init at a time
  std::mutex propose_mu_;  // one signed proposal at a time: each builds on the last
  std::mutex join_mu_;     // one membership change at a time on the leader

  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> rejected_{0};
  std::mutex join_wait_mu_;
  std::condition_variable join_wait_cv_;
  std::thread join_thread_;
  bool stopped_ = false;
};

}  // namespace sb::cluster
