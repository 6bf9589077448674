// Runs distributed plans against the local shards: routing at Bind, parallel
// dispatch with one deadline and cancellation, the merge, and the
// single-shard transaction rules (R05-14, R06-07/09/10/11).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "exec/plan.h"
#include "exec/shard_placement.h"
#include "exec/sql_functions.h"
#include "exec/thread_pool.h"
#include "meta/catalog.h"
#include "meta/shard_map.h"
#include "storage/shard_set.h"

namespace sb::exec {

// One session's cancellation state: CancelRequest and statement_timeout stop
// every running shard statement (sqlite3 progress handler + interrupt).
class CancelState {
 public:
  CancelState();
  ~CancelState();
  void Reset(std::chrono::milliseconds timeout);
  // Interrupts the running statements if the deadline has passed (called by
  // the timeout watchdog: the progress handler alone misses statements that
  // spend long between VM steps, e.g. in one expensive function call).
  void InterruptIfTimedOut();
  // CancelRequest from the client: stops the running statement.
  void Cancel();
  // Stops the statement's other subplans after one failed (no partial
  // results); unlike Cancel, not the user's doing.
  void StopStatement();
  bool ShouldStop() const;
  bool cancelled_by_user() const { return user_cancelled_.load(); }
  bool timed_out() const;
  void Register(storage::ShardConnection* c);
  void Unregister(storage::ShardConnection* c);
  // Anything else a cancellation must stop (a remote subplan's call); `key`
  // identifies it for Unregister.
  void Register(const void* key, std::function<void()> interrupt);
  void Unregister(const void* key);

 private:
  void InterruptAll();
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> user_cancelled_{false};
  // steady_clock ticks; max() = no deadline. Atomic: the watchdog reads it.
  std::atomic<std::chrono::steady_clock::rep> deadline_{std::chrono::steady_clock::rep{INT64_MAX}};
  mutable std::mutex mu_;
  std::vector<std::pair<const void*, std::function<void()>>> running_;
};

// Registers an interrupt with a CancelState for the life of the scope.
class InterruptScope {
 public:
  InterruptScope(CancelState* cancel, const void* key, std::function<void()> interrupt)
      : cancel_(cancel), key_(key) {
    if (cancel_ != nullptr) cancel_->Register(key_, std::move(interrupt));
  }
  ~InterruptScope() {
    if (cancel_ != nullptr) cancel_->Unregister(key_);
  }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  CancelState* cancel_;
  const void* key_;
};

// One shard's write transaction inside a statement: local or remote.
class ShardWriter;

// A session's transaction: the first write binds it to one shard.
struct TxnState {
  bool in_block = false;  // inside BEGIN ... COMMIT
  bool failed = false;    // an error happened inside the block
  int bound_shard = -1;
  std::unique_ptr<storage::ShardConnection> conn;  // the bound shard's write transaction
  std::unique_ptr<RemoteWrite> remote;             // or its owner's, on another node
  bool bound() const { return conn || remote; }
};

struct ExecOptions {
  bool allow_multi_shard_writes = false;
  // scratchbird.join_memory_limit: bytes of shard rows a query may gather
  // at the coordinator for joins, subqueries and set operations (53200 past it).
  int64_t join_memory_limit = int64_t{256} << 20;
  // scratchbird.max_merge_memory: bytes of shard rows one query may hold at
  // the coordinator while merging a scatter (53200 past it).
  int64_t max_merge_memory = int64_t{512} << 20;
  const StatementContext* context = nullptr;
  CancelState* cancel = nullptr;
  // The catalog version the statement was planned against; owners of remote
  // shards refuse other versions (SB003).
  uint64_t schema_version = 0;
};

struct ShardStat {
  int shard;
  int64_t rows;
  int64_t micros;
};

struct ExecResult {
  std::vector<Row> rows;
  int64_t affected = 0;
  std::vector<ShardStat> stats;
};

// The rows of the sys.* views (meta/system_views.h), in stored form with one
// value per column of the view's definition: the node answers from what it
// knows (the replicated cluster state, or a single node's facts).
class SystemViewSource {
 public:
  virtual ~SystemViewSource() = default;
  virtual Result<std::vector<Row>> SystemViewRows(const meta::TableDef& view) = 0;
};

class Executor {
 public:
  Executor(storage::ShardSet* shards, meta::ShardMap map, size_t parallelism);

  const meta::ShardMap& shard_map() const { return map_; }
  // In a cluster: where shards live (not owned; outlives the executor). Null
  // (the default): every shard is local. Set before the first statement.
  void SetPlacement(ShardPlacement* placement) { placement_ = placement; }
  bool IsLocal(int shard) const { return placement_ == nullptr || placement_->IsLocal(shard); }
  uint64_t map_version() const {
    return placement_ != nullptr ? placement_->MapVersion() : map_.version();
  }
  // EXPLAIN's name of a shard: "shard_007", in a cluster with where it runs
  // ("shard_007@local", "shard_007@127.0.0.1:7948").
  std::string ShardLabel(int shard) const;
  int shard_count() const { return shards_->size(); }
  // Where the sys.* views' rows come from (not owned; outlives the executor).
  // Null: queries on them fail. Set before the first statement.
  void SetSystemViews(SystemViewSource* source) { system_views_ = source; }

  // The shards a route reaches with these parameter values (sorted, unique).
  Result<std::vector<int>> ResolveRoute(const RouteSpec& route, const std::vector<Value>& params);

  Result<ExecResult> Select(const SelectPlan& plan, const std::vector<Value>& params, TxnState* txn,
                            const ExecOptions& opts);
  Result<ExecResult> Insert(const InsertPlan& plan, const std::vector<Value>& params, TxnState* txn,
                            const ExecOptions& opts);
  Result<ExecResult> Modify(const ModifyPlan& plan, const std::vector<Value>& params, TxnState* txn,
                            const ExecOptions& opts);
  // COPY FROM STDIN: `data` is the whole stream.
  Result<ExecResult> Copy(const CopyPlan& plan, std::string_view data, TxnState* txn,
                          const ExecOptions& opts);

  Status Commit(TxnState* txn);
  void Rollback(TxnState* txn);

  // Applies DDL on every shard and records the table definition (or its
  // removal) in each shard's _sb_catalog in the same transaction.
  Status ApplyDdl(const DdlPlan& plan, uint64_t new_schema_version);
  // Reads the catalog back from the shards (shard 0 is authoritative; the
  // others must agree).
  Result<meta::Catalog> LoadCatalog();
  // Creates the catalog tables on every shard if missing.
  Status InitCatalogTables();

 private:
  struct Prepared;
  Result<Value> SourceValue(const ValueSource& v, const std::vector<Value>& params) const;
  Result<uint32_t> VnodeOfKey(const meta::TableDef& table, const Row& row) const;
  // Bytes of shard rows a statement may gather at the coordinator.
  // The bytes of rows held at the coordinator, against the setting that caps them.
  struct MemoryBudget {
    MemoryBudget(int64_t limit_bytes, std::string setting_name, std::string hint_text)
        : limit(limit_bytes), setting(std::move(setting_name)), hint(std::move(hint_text)) {}
    int64_t limit = 0;  // 0: unlimited
    std::string setting;
    std::string hint;
    std::atomic<int64_t> used{0};
    Status Charge(int64_t bytes);
  };
  Result<std::vector<std::vector<Row>>> RunOnShards(const std::vector<int>& shards,
                                                    const std::string& sql,
                                                    const std::vector<Value>& params, TxnState* txn,
                                                    const ExecOptions& opts,
                                                    std::vector<ShardStat>* stats,
                                                    MemoryBudget* budget = nullptr);
  // Reads every input from the shards, loads them into the coordinator's
  // database and runs the plan's coordinator_sql over them.
  Result<std::vector<Row>> RunWithInputs(const SelectPlan& plan, const std::vector<Value>& params,
                                         TxnState* txn, const ExecOptions& opts,
                                         std::vector<ShardStat>* stats);
  // A system-view input: the view's rows filtered by the input's SQL, run
  // at the coordinator.
  Result<std::vector<std::vector<Row>>> ReadSystemView(const CoordinatorInput& input,
                                                       const std::vector<Value>& params,
                                                       const ExecOptions& opts);
  Result<std::vector<Row>> RunOnCoordinator(const std::string& sql,
                                            const std::vector<Value>& params,
                                            const std::vector<std::vector<Row>>* partials,
                                            int width, const ExecOptions& opts);
  // Writes full rows (all table columns) to their shards, atomically across
  // shards in autocommit, or inside the session's bound transaction.
  Result<ExecResult> WriteRows(const meta::TableDef& table, std::vector<Row> rows,
                               const std::string& returning_sql, TxnState* txn,
                               const ExecOptions& opts);
  Result<std::vector<int>> WriteTargets(const meta::TableDef& table, bool multi_ok,
                                        const std::vector<int>& shards, TxnState* txn,
                                        const char* what) const;
  // Fills columns the statement did not give (defaults, hidden row id).
  Status CompleteRow(const meta::TableDef& t, const std::vector<bool>& given, const TxnState* txn,
                     const ExecOptions& opts, int* rowid_shard, Row* row);
  int64_t NextRowid();
  // A new hidden row id; inside a transaction, one that routes to
  // *target_shard (set from the first id when still -1).
  Result<Value> RowidFor(const meta::TableDef& table, const TxnState* txn, int* target_shard);

  Result<ExecResult> WriteOnShards(
      const std::vector<int>& shards, TxnState* txn, const ExecOptions& opts,
      const std::function<Status(ShardWriter&, int shard, ExecResult*)>& body);

  storage::ShardSet* shards_;
  ShardPlacement* placement_ = nullptr;
  SystemViewSource* system_views_ = nullptr;
  meta::ShardMap map_;
  ThreadPool pool_;
  std::atomic<uint64_t> reference_read_rr_{0};
  std::mutex rowid_mu_;
  int64_t last_rowid_ = 0;
};

// Rewrites errors raised by ScratchBird's SQL functions ("sb:NNNNN:msg") into
// their SQLSTATE and message.
Status NormalizeError(Status st);

}  // namespace sb::exec
