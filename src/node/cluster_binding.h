// Ties a node's SQL engine to its seat in the cluster (issue 5):
//   - when the replicated state first shows an initialised cluster, opens the
//     node's shard files (the cluster's shard count) and the engine, with the
//     cluster's catalog;
//   - routes subplans for shards other nodes own to them (RemoteShards) and
//     serves the subplans other coordinators send for shards this node owns
//     (ShardService), refusing stale shard-map or schema versions (R05-24);
//   - sends DDL through Raft and applies every committed schema change to
//     the local shards, in log order, on every node (C-28);
//   - answers the sys.* views (meta/system_views.h) from the applied state.
// Cluster-state callbacks run on the Raft loop thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "cluster/cluster_node.h"
#include "cluster/remote_shards.h"
#include "cluster/shard_service.h"
#include "node/engine.h"
#include "storage/shard_set.h"

namespace sb::node {

class ClusterBinding : public DdlProposer, public exec::SystemViewSource {
 public:
  ClusterBinding(Uuid self, std::string shards_dir, storage::ShardOptions shard_options,
                 observability::Registry* registry);
  ~ClusterBinding() override;

  // ClusterNodeOptions::on_applied.
  void OnApplied(const meta::ApplyResult* result, std::string_view command,
                 const meta::ClusterState& state);
  // Once the cluster node is running (its entries may apply before).
  void Attach(cluster::ClusterNode* node);
  // Stops serving other nodes before the engine goes away.
  void Detach();

  // The engine once the cluster is initialised and the shards are open;
  // null before.
  Engine* engine() const { return engine_ready_.load(); }

  Status ProposeDdl(const exec::DdlPlan& plan, std::string_view statement,
                    const meta::Catalog& base, const meta::Catalog& next) override;

  // The sys.* views from the cluster state this node has applied.
  Result<std::vector<Row>> SystemViewRows(const meta::TableDef& view) override;

  // The CatalogDdl statement field: the user's SQL and what each shard runs.
  static std::string EncodeDdlStatement(const exec::DdlPlan& plan, std::string_view sql);
  static Result<exec::DdlPlan> DecodeDdlStatement(std::string_view statement);

 private:
  Status OpenEngine(const meta::ClusterState& state);
  Status CheckTarget(const rpc::ShardTarget& target) const;
  Result<cluster::ShardLocation> Locate(int shard) const;

  std::string shards_dir_;
  storage::ShardOptions shard_options_;
  observability::Registry* registry_;
  std::atomic<cluster::ClusterNode*> node_{nullptr};
  Uuid self_;
  std::unique_ptr<Engine> engine_;
  std::atomic<Engine*> engine_ready_{nullptr};
  std::unique_ptr<cluster::RemoteShards> remote_;
  std::unique_ptr<cluster::ShardService> service_;
  bool failed_ = false;  // opening failed; logged once
};

}  // namespace sb::node
