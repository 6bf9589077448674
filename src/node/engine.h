// The node's SQL engine: the shards, the executor and the current catalog,
// shared by every session. Schema changes are serialised here and publish a
// new immutable catalog snapshot; sessions plan against the snapshot they
// hold, so a concurrent DROP never pulls a table out from under a plan.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "exec/executor.h"
#include "meta/catalog.h"
#include "observability/metrics.h"
#include "sql/planner.h"
#include "storage/shard_set.h"

namespace sb::node {

inline constexpr const char* kServerVersion = "15.0";
inline constexpr const char* kProductVersion = "0.1.0";

// In a cluster the catalog is replicated state: a schema change is proposed
// to the cluster and every node applies it to its own shards when the entry
// commits (ApplyReplicatedDdl).
class DdlProposer {
 public:
  virtual ~DdlProposer() = default;
  // Commits `plan` (planned against `base`) with the catalog it produces and
  // returns once this node applied it.
  virtual Status ProposeDdl(const exec::DdlPlan& plan, std::string_view statement,
                            const meta::Catalog& base, const meta::Catalog& next) = 0;
};

class Engine {
 public:
  // `registry` (not owned, may be null: one of its own) receives the metrics.
  Engine(std::unique_ptr<storage::ShardSet> shards, uint32_t shard_count,
         observability::Registry* registry = nullptr);
  // Creates the catalog tables if needed and loads the catalog.
  Status Open();
  // Cluster mode: creates the catalog tables, takes `catalog` (the cluster's)
  // as the current one, and sends DDL to `proposer` (not owned).
  Status OpenInCluster(std::shared_ptr<const meta::Catalog> catalog, DdlProposer* proposer);
  // Cluster mode, on the Raft apply thread: applies a committed schema
  // change to this node's shards (unless they already have `next`'s schema
  // version: a replayed entry) and makes `next` current.
  Status ApplyReplicatedDdl(const exec::DdlPlan& plan, std::shared_ptr<const meta::Catalog> next);
  // The schema version recorded in this node's shards.
  Result<uint64_t> LocalSchemaVersion();

  std::shared_ptr<const meta::Catalog> catalog() const;
  exec::Executor& executor() { return *executor_; }
  storage::ShardSet& shards() { return *shards_; }
  observability::Registry& metrics() { return metrics_; }
  // The Prometheus exposition, with the storage figures read at this moment.
  std::string RenderMetrics();
  // Commits re-applied from the commit log at startup.
  uint64_t recovered_commits() const { return shards_->recovered_commits(); }
  uint32_t shard_count() const { return shard_count_; }

  // Plans and applies a DDL statement under the schema lock; returns the plan
  // that was applied (for its notice and command tag).
  Result<exec::DdlPlan> RunDdl(const sql::ParsedStatement& stmt, std::string_view text);

  uint64_t NextSessionId() { return ++session_ids_; }

 private:
  std::unique_ptr<storage::ShardSet> shards_;
  uint32_t shard_count_;
  std::unique_ptr<exec::Executor> executor_;
  mutable std::mutex catalog_mu_;
  std::shared_ptr<const meta::Catalog> catalog_;
  std::mutex ddl_mu_;
  DdlProposer* proposer_ = nullptr;
  std::unique_ptr<observability::Registry> own_metrics_;
  observability::Registry& metrics_;
  std::atomic<uint64_t> session_ids_{0};
};

}  // namespace sb::node
