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

class Engine {
 public:
  Engine(std::unique_ptr<storage::ShardSet> shards, uint32_t shard_count);
  // Creates the catalog tables if needed and loads the catalog.
  Status Open();

  std::shared_ptr<const meta::Catalog> catalog() const;
  exec::Executor& executor() { return *executor_; }
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
  observability::Registry metrics_;
  std::atomic<uint64_t> session_ids_{0};
};

}  // namespace sb::node
