// The read-only system views of schema `sys` (issue: "Views through SQL:
// sys.nodes, sys.shards, sys.epochs"; "the epoch history is kept and
// queryable"). Their definitions are fixed TableDefs with system_view set;
// their rows are built here, in stored form (common/value_codec.h), from the
// replicated cluster state (cluster mode) or from a single node's facts. Pure:
// the node passes in what it knows (which node it is, which node it thinks
// leads), so every function here is deterministic.
//
// Columns (docs/sql.md, "System views"):
//   sys.nodes   node_id uuid, raft_id bigint, role text, state text,
//               is_leader boolean, is_self boolean, rpc_address text,
//               sql_address text, http_address text, shards_owned integer
//   sys.shards  shard_id text, shard_index integer, owner_node uuid,
//               owner_rpc_address text, owner_sql_address text, vnodes integer,
//               shard_map_version bigint, is_local boolean
//   sys.epochs  epoch bigint, cluster_id uuid, prev_hash text, hash text,
//               shard_map_hash text, created_at timestamptz,
//               published_at timestamptz, state text, description text,
//               admins text, signers text, signature_count integer,
//               min_node_version integer
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"
#include "common/value.h"
#include "meta/catalog.h"
#include "meta/cluster_state.h"

namespace sb::meta {

inline constexpr const char* kSystemSchema = "sys";
inline constexpr const char* kSysNodes = "nodes";
inline constexpr const char* kSysShards = "shards";
inline constexpr const char* kSysEpochs = "epochs";

// Every system view, in name order (epochs, nodes, shards). Stable addresses
// for the life of the process.
const std::vector<TableDef>& SystemViews();
// The view sys.<name>, or null.
const TableDef* FindSystemView(std::string_view name);

// What a node knows about its own place when it answers.
struct SystemViewContext {
  Uuid self;                    // the node answering
  uint64_t leader_raft_id = 0;  // the Raft leader it knows of; 0: none known
};

// The rows of sys.<view> from the cluster state (one value per column of
// the view's definition, stored form). 42P01 for an unknown view.
Result<std::vector<Row>> ClusterSystemViewRows(std::string_view view, const ClusterState& state,
                                               const SystemViewContext& context);

// A single-node server: one node (nil UUID, VOTER, ACTIVE, leader, itself)
// owning every shard at shard map version 1, and no epochs.
struct SingleNodeFacts {
  uint32_t shard_count = 0;
  uint32_t vnode_count = 256;
  std::string sql_address;   // host:port, may be empty
  std::string http_address;  // may be empty
};
Result<std::vector<Row>> SingleNodeSystemViewRows(std::string_view view,
                                                  const SingleNodeFacts& facts);

}  // namespace sb::meta
