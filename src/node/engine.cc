#include "node/engine.h"

#include <thread>

namespace sb::node {

namespace {
observability::Registry& RegistryOr(observability::Registry* given,
                                    std::unique_ptr<observability::Registry>* own) {
  if (given != nullptr) return *given;
  *own = std::make_unique<observability::Registry>();
  return **own;
}
}  // namespace

Engine::Engine(std::unique_ptr<storage::ShardSet> shards, uint32_t shard_count,
               observability::Registry* registry)
    : shards_(std::move(shards)),
      shard_count_(shard_count),
      metrics_(RegistryOr(registry, &own_metrics_)) {
  // Enough workers that a 16-shard scatter runs all subplans at once.
  size_t workers = std::max<size_t>(shard_count_, 4);
  executor_ = std::make_unique<exec::Executor>(shards_.get(), meta::ShardMap::Initial(shard_count_),
                                               workers);
  metrics_.DeclareCounter("scratchbird_queries_total", "Statements executed, by type and status.");
  metrics_.DeclareCounter("scratchbird_query_errors_total", "Failed statements, by SQLSTATE.");
  metrics_.DeclareHistogram(
      "scratchbird_query_duration_seconds", "Statement duration in seconds.",
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  metrics_.DeclareGauge("scratchbird_active_connections", "Open client connections.");
  metrics_.DeclareGauge("scratchbird_active_queries", "Statements running now.");
  metrics_.DeclareCounter("scratchbird_shard_queries_total", "Subplans run, by shard.");
  metrics_.DeclareGauge("scratchbird_shards", "Shards in this node's data directory.");
  metrics_.Set("scratchbird_shards", {}, shard_count_);
  metrics_.Set("scratchbird_active_connections", {}, 0);
  metrics_.Set("scratchbird_active_queries", {}, 0);
  metrics_.DeclareCounter("scratchbird_commit_log_records_total",
                          "Records appended to the group-commit log.");
  metrics_.DeclareCounter("scratchbird_commit_log_flushes_total",
                          "fdatasync calls of the group-commit log (records / flushes = the "
                          "average commit group).");
  metrics_.DeclareGauge("scratchbird_commit_log_segments", "Group-commit log segment files.");
}

std::string Engine::RenderMetrics() {
  if (storage::CommitLog* log = shards_->commit_log(); log != nullptr) {
    const storage::CommitLogStats stats = log->stats();
    metrics_.Set("scratchbird_commit_log_records_total", {}, static_cast<double>(stats.records));
    metrics_.Set("scratchbird_commit_log_flushes_total", {}, static_cast<double>(stats.flushes));
    metrics_.Set("scratchbird_commit_log_segments", {}, static_cast<double>(stats.segments));
  }
  return metrics_.RenderPrometheus();
}

Status Engine::Open() {
  SB_RETURN_IF_ERROR(executor_->InitCatalogTables());
  SB_ASSIGN_OR_RETURN(meta::Catalog c, executor_->LoadCatalog());
  std::lock_guard<std::mutex> l(catalog_mu_);
  catalog_ = std::make_shared<const meta::Catalog>(std::move(c));
  return Status::Ok();
}

Status Engine::OpenInCluster(std::shared_ptr<const meta::Catalog> catalog, DdlProposer* proposer) {
  SB_RETURN_IF_ERROR(executor_->InitCatalogTables());
  proposer_ = proposer;
  std::lock_guard<std::mutex> l(catalog_mu_);
  catalog_ = std::move(catalog);
  return Status::Ok();
}

Result<uint64_t> Engine::LocalSchemaVersion() {
  SB_ASSIGN_OR_RETURN(meta::Catalog local, executor_->LoadCatalog());
  return local.schema_version();
}

Status Engine::ApplyReplicatedDdl(const exec::DdlPlan& plan,
                                  std::shared_ptr<const meta::Catalog> next) {
  SB_ASSIGN_OR_RETURN(uint64_t local, LocalSchemaVersion());
  if (local < next->schema_version()) {
    exec::DdlPlan applied = plan;
    if (const meta::TableDef* t = next->FindTable(plan.table_name); t != nullptr)
      applied.new_table = *t;
    SB_RETURN_IF_ERROR(executor_->ApplyDdl(applied, next->schema_version()));
  }
  std::lock_guard<std::mutex> l(catalog_mu_);
  catalog_ = std::move(next);
  return Status::Ok();
}

std::shared_ptr<const meta::Catalog> Engine::catalog() const {
  std::lock_guard<std::mutex> l(catalog_mu_);
  return catalog_;
}

Result<exec::DdlPlan> Engine::RunDdl(const sql::ParsedStatement& stmt, std::string_view text) {
  std::lock_guard<std::mutex> ddl(ddl_mu_);
  auto current = catalog();
  sql::Planner planner(current.get());
  SB_ASSIGN_OR_RETURN(sql::PlannedStatement planned, planner.Plan(stmt, text));
  auto* plan = std::get_if<exec::DdlPlan>(&planned.plan);
  if (plan == nullptr) return Status::Internal("not a schema change");
  if (plan->if_exists_noop) return *plan;
  const uint64_t version = current->schema_version() + 1;
  auto next = std::make_shared<meta::Catalog>(*current);
  if (plan->kind == exec::DdlPlan::Kind::kDropTable) {
    next->DropTable(plan->table_name);
  } else if (plan->new_table) {
    next->PutTable(*plan->new_table);
  }
  next->set_schema_version(version);
  if (proposer_ != nullptr) {
    // Every node, this one included, applies it when the entry commits.
    SB_RETURN_IF_ERROR(proposer_->ProposeDdl(*plan, text, *current, *next));
    return *plan;
  }
  SB_RETURN_IF_ERROR(executor_->ApplyDdl(*plan, version));
  std::lock_guard<std::mutex> l(catalog_mu_);
  catalog_ = std::move(next);
  return *plan;
}

}  // namespace sb::node
