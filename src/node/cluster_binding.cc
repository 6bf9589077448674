#include "node/cluster_binding.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "meta/shard_map.h"
#include "meta/system_views.h"

namespace sb::node {
namespace {

constexpr std::chrono::milliseconds kDdlTimeout{30000};
// How long an owner waits to apply a schema version a coordinator already
// planned with before refusing the subplan (SB003).
constexpr std::chrono::milliseconds kCatchUpWait{5000};

const char* KindName(exec::DdlPlan::Kind k) {
  switch (k) {
    case exec::DdlPlan::Kind::kCreateTable:
      return "create_table";
    case exec::DdlPlan::Kind::kDropTable:
      return "drop_table";
    case exec::DdlPlan::Kind::kCreateIndex:
      return "create_index";
    case exec::DdlPlan::Kind::kDropIndex:
      return "drop_index";
    case exec::DdlPlan::Kind::kAddColumn:
      return "add_column";
  }
  return "?";
}

}  // namespace

ClusterBinding::ClusterBinding(Uuid self, std::string shards_dir,
                               storage::ShardOptions shard_options,
                               observability::Registry* registry)
    : shards_dir_(std::move(shards_dir)),
      shard_options_(std::move(shard_options)),
      registry_(registry),
      self_(self) {}

ClusterBinding::~ClusterBinding() {
  Detach();
}

void ClusterBinding::Attach(cluster::ClusterNode* node) {
  node_.store(node);
  if (service_) node->SetShardService(service_.get());
}

void ClusterBinding::Detach() {
  if (cluster::ClusterNode* n = node_.exchange(nullptr); n != nullptr) n->SetShardService(nullptr);
}

std::string ClusterBinding::EncodeDdlStatement(const exec::DdlPlan& plan, std::string_view sql) {
  nlohmann::json j = {{"sql", std::string(sql)},
                      {"kind", KindName(plan.kind)},
                      {"table", plan.table_name},
                      {"command_tag", plan.command_tag},
                      {"shard_statements", plan.shard_statements}};
  return j.dump();
}

Result<exec::DdlPlan> ClusterBinding::DecodeDdlStatement(std::string_view statement) {
  auto j = nlohmann::json::parse(statement, nullptr, false);
  auto bad = [] {
    return Status(sqlstate::kDataCorrupted, "a replicated schema change is not readable");
  };
  if (j.is_discarded() || !j.is_object() || !j.contains("kind") || !j.contains("table") ||
      !j.contains("shard_statements") || !j["shard_statements"].is_array())
    return bad();
  exec::DdlPlan plan{};
  const std::string kind = j["kind"].get<std::string>();
  bool known = false;
  for (auto k : {exec::DdlPlan::Kind::kCreateTable, exec::DdlPlan::Kind::kDropTable,
                 exec::DdlPlan::Kind::kCreateIndex, exec::DdlPlan::Kind::kDropIndex,
                 exec::DdlPlan::Kind::kAddColumn}) {
    if (kind == KindName(k)) {
      plan.kind = k;
      known = true;
    }
  }
  if (!known) return bad();
  plan.table_name = j["table"].get<std::string>();
  plan.command_tag = j.value("command_tag", "");
  for (const auto& s : j["shard_statements"]) {
    if (!s.is_string()) return bad();
    plan.shard_statements.push_back(s.get<std::string>());
  }
  return plan;
}

Status ClusterBinding::ProposeDdl(const exec::DdlPlan& plan, std::string_view statement,
                                  const meta::Catalog& base, const meta::Catalog& next) {
  cluster::ClusterNode* node = node_.load();
  if (node == nullptr) return Status::Error(sqlstate::kAdminShutdown, "the node is stopping");
  meta::CatalogDdl ddl;
  ddl.statement = EncodeDdlStatement(plan, statement);
  ddl.catalog_json = meta::CanonicalCatalogJson(next);
  ddl.expected_schema_version = base.schema_version();
  Status st = node->ProposeCatalog(ddl, kDdlTimeout);
  if (st.ok()) {
    // Committed and applied here; return once the other nodes applied it
    // too, so the next statement on any node plans with the new schema.
    for (const Uuid& late : node->WaitForSchemaEverywhere(next.schema_version(), kCatchUpWait))
      spdlog::warn("node {} has not applied schema version {} yet", late.ToString(),
                   next.schema_version());
  }
  if (st.code() == meta::cluster_sqlstate::kSchemaVersionMismatch) {
    // Another node's DDL committed first; the statement was planned against
    // a catalog that is no longer current.
    return Status(sqlstate::kSerializationFailure,
                  "another schema change committed first: " + st.message(),
                  "Run the statement again.");
  }
  return st;
}

Result<std::vector<Row>> ClusterBinding::SystemViewRows(const meta::TableDef& view) {
  cluster::ClusterNode* node = node_.load();
  if (node == nullptr) return Status(sqlstate::kAdminShutdown, "the node is stopping");
  meta::SystemViewContext context;
  context.self = self_;
  context.leader_raft_id = node->leader_raft_id();
  return node->ReadState([&](const meta::ClusterState& s) {
    return meta::ClusterSystemViewRows(view.name, s, context);
  });
}

Result<cluster::ShardLocation> ClusterBinding::Locate(int shard) const {
  cluster::ClusterNode* node = node_.load();
  if (node == nullptr)
    return Status(sqlstate::kShardUnavailable, "the node is starting or stopping");
  return node->ReadState([&](const meta::ClusterState& s) -> Result<cluster::ShardLocation> {
    auto owner = s.ShardOwner(static_cast<uint32_t>(shard));
    if (!owner)
      return Status(sqlstate::kStaleShardVersion,
                    fmt::format("shard index {} is not in the shard map", shard));
    cluster::ShardLocation loc;
    loc.owner = *owner;
    loc.shard_map_version = s.ShardMapVersion();
    if (const meta::Member* m = s.FindMember(*owner); m != nullptr)
      loc.owner_address = m->info.rpc_address;
    return loc;
  });
}

Status ClusterBinding::CheckTarget(const rpc::ShardTarget& target) const {
  cluster::ClusterNode* node = node_.load();
  Engine* engine = engine_ready_.load();
  if (node == nullptr || engine == nullptr)
    return Status(sqlstate::kStaleShardVersion, "this node is starting or stopping");
  const std::string name = meta::ShardMap::ShardName(target.shard_index());
  Status owner = node->ReadState([&](const meta::ClusterState& s) {
    if (s.ShardMapVersion() != target.shard_map_version())
      return Status(sqlstate::kStaleShardVersion,
                    fmt::format("{}: the request was routed with shard map version {}, this "
                                "node is at version {}",
                                name, target.shard_map_version(), s.ShardMapVersion()));
    auto o = s.ShardOwner(target.shard_index());
    if (!o || *o != self_)
      return Status(sqlstate::kStaleShardVersion,
                    fmt::format("{} is not owned by this node at shard map version {}", name,
                                s.ShardMapVersion()));
    return Status::Ok();
  });
  SB_RETURN_IF_ERROR(owner);
  uint64_t mine = engine->catalog()->schema_version();
  // A coordinator ahead of us ran a schema change that committed but that
  // this node has not applied yet (it returns as soon as *its* node applied
  // it): wait for our Raft apply to catch up rather than refuse, so a
  // statement right after DDL (COPY included) is not bounced.
  const auto wait_until = std::chrono::steady_clock::now() + kCatchUpWait;
  while (mine < target.schema_version() && std::chrono::steady_clock::now() < wait_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    mine = engine->catalog()->schema_version();
  }
  if (mine != target.schema_version())
    return Status(sqlstate::kStaleShardVersion,
                  fmt::format("{}: the statement was planned against schema version {}, this "
                              "node is at version {}",
                              name, target.schema_version(), mine),
                  "The coordinator retries once both have applied the same schema changes.");
  return Status::Ok();
}

Status ClusterBinding::OpenEngine(const meta::ClusterState& state) {
  const uint32_t shards = state.ShardCount();
  if (shards < 1 || shards > state.VnodeCount())
    return Status::InvalidArgument(
        fmt::format("the cluster has {} shards over {} vnodes; a node serves 1 to {} shards",
                    shards, state.VnodeCount(), state.VnodeCount()));
  SB_ASSIGN_OR_RETURN(
      auto set, storage::ShardSet::Open(shards_dir_, static_cast<int>(shards), shard_options_));
  if (set->recovered_commits() > 0)
    spdlog::info("re-applied {} commits from the commit log that the shards had not synced",
                 set->recovered_commits());
  auto engine = std::make_unique<Engine>(std::move(set), shards, registry_);
  remote_ = std::make_unique<cluster::RemoteShards>(
      self_, [this](int shard) { return Locate(shard); },
      [this](const std::string& address,
             const Uuid& node) -> Result<std::unique_ptr<rpc::PeerClient>> {
        cluster::ClusterNode* n = node_.load();
        if (n == nullptr) return Status(sqlstate::kAdminShutdown, "the node is stopping");
        return n->Dial(address, node);
      });
  engine->executor().SetPlacement(remote_.get());
  engine->executor().SetSystemViews(this);
  SB_ASSIGN_OR_RETURN(
      meta::Catalog catalog,
      meta::CatalogFromCanonicalJson(
          state.CatalogJson().empty() ? meta::CanonicalCatalogJson({}) : state.CatalogJson(),
          state.SchemaVersion()));
  SB_RETURN_IF_ERROR(
      engine->OpenInCluster(std::make_shared<const meta::Catalog>(std::move(catalog)), this));
  SB_ASSIGN_OR_RETURN(uint64_t local, engine->LocalSchemaVersion());
  if (local > state.SchemaVersion()) {
    // Replay from an older snapshot: the entries that follow bring the
    // replicated catalog up to the shards' version.
    spdlog::info("shards are at schema version {}, the cluster state at {} (replaying)", local,
                 state.SchemaVersion());
  }
  service_ = std::make_unique<cluster::ShardService>(
      &engine->shards(), [this](const rpc::ShardTarget& t) { return CheckTarget(t); });
  engine_ = std::move(engine);
  engine_ready_.store(engine_.get());
  if (cluster::ClusterNode* n = node_.load(); n != nullptr) n->SetShardService(service_.get());
  spdlog::info("opened {} shards for the cluster; this node owns {}", shards,
               state.ShardsOf(self_).size());
  return Status::Ok();
}

void ClusterBinding::OnApplied(const meta::ApplyResult* result, std::string_view command,
                               const meta::ClusterState& state) {
  if (!state.initialized()) return;
  if (!engine_) {
    if (failed_) return;
    Status st = OpenEngine(state);
    if (!st.ok()) {
      failed_ = true;
      spdlog::error("cannot open the shards for the cluster: {} [{}]", st.message(), st.code());
      return;
    }
  }
  auto catalog_of_state = [&]() -> Result<std::shared_ptr<const meta::Catalog>> {
    SB_ASSIGN_OR_RETURN(meta::Catalog c,
                        meta::CatalogFromCanonicalJson(state.CatalogJson(), state.SchemaVersion()));
    return std::make_shared<const meta::Catalog>(std::move(c));
  };
  if (result == nullptr) {
    // A snapshot replaced the state: the statements of the schema changes it
    // covers are gone, so shards that missed them cannot catch up here.
    auto local = engine_->LocalSchemaVersion();
    if (local.ok() && *local < state.SchemaVersion())
      spdlog::error(
          "this node's shards are at schema version {} but the cluster snapshot it restored is "
          "at {}; their owner refuses queries until the shards are rebuilt (docs/operations.md)",
          *local, state.SchemaVersion());
    return;
  }
  if (!result->applied || result->type != meta::CommandType::kCatalogDdl) return;
  auto entry = meta::DecodeClusterEntry(command);
  const auto* ddl = entry.ok() ? std::get_if<meta::CatalogDdl>(&entry->command) : nullptr;
  if (ddl == nullptr) return;
  auto plan = DecodeDdlStatement(ddl->statement);
  auto next = catalog_of_state();
  Status st = !plan.ok() ? plan.status() : !next.ok() ? next.status() : Status::Ok();
  if (st.ok()) st = engine_->ApplyReplicatedDdl(*plan, *next);
  if (!st.ok()) {
    spdlog::error("could not apply schema version {} to this node's shards: {} [{}]",
                  state.SchemaVersion(), st.message(), st.code());
    return;
  }
  spdlog::info("schema version {} applied: {}", state.SchemaVersion(),
               plan->command_tag.empty() ? "DDL" : plan->command_tag);
}

}  // namespace sb::node
