#include "meta/system_views.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/datetime.h"
#include "common/sha256.h"
#include "meta/shard_map.h"

namespace sb::meta {
namespace {

ColumnDef Col(const char* name, TypeId type) {
  ColumnDef c;
  c.name = name;
  c.type = SqlType::Of(type);
  return c;
}

TableDef View(const char* name, std::vector<ColumnDef> columns) {
  TableDef t;
  t.name = name;
  t.columns = std::move(columns);
  t.replicated = true;  // no shard key; never routed to shards
  t.system_view = true;
  return t;
}

std::vector<TableDef> BuildViews() {
  std::vector<TableDef> v;
  v.push_back(View(kSysEpochs,
                   {Col("epoch", TypeId::kInt8), Col("cluster_id", TypeId::kUuid),
                    Col("prev_hash", TypeId::kText), Col("hash", TypeId::kText),
                    Col("shard_map_hash", TypeId::kText), Col("created_at", TypeId::kTimestamptz),
                    Col("published_at", TypeId::kTimestamptz), Col("state", TypeId::kText),
                    Col("description", TypeId::kText), Col("admins", TypeId::kText),
                    Col("signers", TypeId::kText), Col("signature_count", TypeId::kInt4),
                    Col("min_node_version", TypeId::kInt4)}));
  v.push_back(View(
      kSysNodes,
      {Col("node_id", TypeId::kUuid), Col("raft_id", TypeId::kInt8), Col("role", TypeId::kText),
       Col("state", TypeId::kText), Col("is_leader", TypeId::kBool), Col("is_self", TypeId::kBool),
       Col("rpc_address", TypeId::kText), Col("sql_address", TypeId::kText),
       Col("http_address", TypeId::kText), Col("shards_owned", TypeId::kInt4)}));
  v.push_back(
      View(kSysShards, {Col("shard_id", TypeId::kText), Col("shard_index", TypeId::kInt4),
                        Col("owner_node", TypeId::kUuid), Col("owner_rpc_address", TypeId::kText),
                        Col("owner_sql_address", TypeId::kText), Col("vnodes", TypeId::kInt4),
                        Col("shard_map_version", TypeId::kInt8), Col("is_local", TypeId::kBool)}));
  return v;
}

Value Text(const std::string& s) {
  return s.empty() ? Value{} : Value{s};
}
Value Bool(bool b) {
  return int64_t{b ? 1 : 0};
}
Value Int(uint64_t n) {
  return static_cast<int64_t>(n);
}
// A timestamptz in stored form, NULL outside the storable years.
Value Timestamp(int64_t ns) {
  const int64_t micros = ns / 1000;
  if (micros < MinStorableMicros() || micros > MaxStorableMicros()) return {};
  return MicrosToTimestamp(micros);
}
std::string Hex(const Sha256Digest& d) {
  return Sha256Hex(d);
}
std::string UuidList(std::vector<Uuid> ids) {
  std::sort(ids.begin(), ids.end());
  std::string out;
  for (const Uuid& u : ids) out += (out.empty() ? "" : ",") + u.ToString();
  return out;
}

Status UnknownView(std::string_view view) {
  return Status(sqlstate::kUndefinedTable,
                fmt::format("relation \"{}.{}\" does not exist", kSystemSchema, view));
}

}  // namespace

const std::vector<TableDef>& SystemViews() {
  static const std::vector<TableDef>* views = new std::vector<TableDef>(BuildViews());
  return *views;
}

const TableDef* FindSystemView(std::string_view name) {
  for (const TableDef& t : SystemViews()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Result<std::vector<Row>> ClusterSystemViewRows(std::string_view view, const ClusterState& state,
                                               const SystemViewContext& context) {
  std::vector<Row> rows;
  if (view == kSysNodes) {
    for (const Member& m : state.Members()) {
      const Uuid& id = m.info.node_uuid;
      rows.push_back({id.ToString(), Int(m.info.raft_id), std::string(MemberRoleName(m.role)),
                      std::string(MemberStateName(m.state)),
                      Bool(context.leader_raft_id != 0 && m.info.raft_id == context.leader_raft_id),
                      Bool(id == context.self), Text(m.info.rpc_address), Text(m.info.sql_address),
                      Text(m.info.http_address), Int(state.ShardsOf(id).size())});
    }
    return rows;
  }
  if (view == kSysShards) {
    std::vector<uint64_t> vnodes(state.ShardCount(), 0);
    for (uint32_t v = 0; v < state.VnodeCount(); ++v) {
      auto s = state.ShardOfVnode(v);
      if (s && *s < vnodes.size()) ++vnodes[*s];
    }
    for (uint32_t i = 0; i < state.ShardCount(); ++i) {
      auto owner = state.ShardOwner(i);
      const Member* m = owner ? state.FindMember(*owner) : nullptr;
      rows.push_back({ShardMap::ShardName(i), Int(i), owner ? Value{owner->ToString()} : Value{},
                      m ? Text(m->info.rpc_address) : Value{},
                      m ? Text(m->info.sql_address) : Value{}, Int(vnodes[i]),
                      Int(state.ShardMapVersion()), Bool(owner && *owner == context.self)});
    }
    return rows;
  }
  if (view == kSysEpochs) {
    for (const ClusterConfigEpoch& e : state.Epochs()) {
      std::vector<Uuid> signers;
      for (const EpochSignature& s : e.signatures) signers.push_back(s.signer);
      rows.push_back({Int(e.number), e.cluster_uuid.ToString(), Hex(e.prev_epoch_hash),
                      Hex(EpochHash(e)), Hex(e.shard_map_hash), Timestamp(e.created_at_ns),
                      Timestamp(e.published_at_ns), std::string(EpochStateName(e.state)),
                      Text(e.description), Text(UuidList(e.admin_uuids)), Text(UuidList(signers)),
                      Int(e.signatures.size()), Int(e.min_node_version)});
    }
    return rows;
  }
  return UnknownView(view);
}

Result<std::vector<Row>> SingleNodeSystemViewRows(std::string_view view,
                                                  const SingleNodeFacts& facts) {
  std::vector<Row> rows;
  const std::string self = Uuid().ToString();
  if (view == kSysNodes) {
    rows.push_back({self, Value{}, std::string("VOTER"), std::string("ACTIVE"), Bool(true),
                    Bool(true), Value{}, Text(facts.sql_address), Text(facts.http_address),
                    Int(facts.shard_count)});
    return rows;
  }
  if (view == kSysShards) {
    if (facts.shard_count == 0) return rows;
    for (uint32_t i = 0; i < facts.shard_count; ++i) {
      // The initial map: vnode v belongs to shard v mod shard_count.
      const uint32_t vnodes =
          facts.vnode_count / facts.shard_count + (i < facts.vnode_count % facts.shard_count);
      rows.push_back({ShardMap::ShardName(i), Int(i), self, Value{}, Text(facts.sql_address),
                      Int(vnodes), Int(1), Bool(true)});
    }
    return rows;
  }
  if (view == kSysEpochs) return rows;
  return UnknownView(view);
}

}  // namespace sb::meta
