// The Raft-replicated cluster state machine (issue 5): membership
// (SBCLUSTER-02), the shard map (R05-07/08/10/11), the catalog with its schema
// version (C-28) and the configuration epochs (epoch_chain.h). Apply is pure
// and deterministic, so every node that applies the same committed entries
// holds byte-identical Snapshot() output.
//
// Every configuration change is sealed by the signed epoch that travels in the
// same entry: the epoch's shard_map_hash holds EpochBindingHash(), the SHA-256
// of the canonical membership + shard map the command produces
// (docs/cluster-state.md). An entry that fails any check — undecodable, a
// refused command, a binding or policy mismatch, a bad epoch (signature, gap,
// chain) — is a rejected no-op: nothing but LastAppliedIndex() changes,
// rejected_entries() goes up, and the reason comes back for the node to log
// and alert on (C-33). Never a crash, never a downgrade.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ed25519.h"
#include "common/sha256.h"
#include "common/status.h"
#include "common/uuid.h"
#include "meta/catalog.h"
#include "meta/cluster_command.h"
#include "meta/epoch.h"
#include "meta/epoch_chain.h"

namespace sb::meta {

inline constexpr std::string_view kShardMapCanonicalTag{"SBCSM\x01", 6};
inline constexpr std::string_view kBindingCanonicalTag{"SBCMB\x01", 6};
inline constexpr std::string_view kClusterSnapshotTag{"SBCST\x01", 6};

struct Member {
  MemberInfo info;
  MemberRole role = MemberRole::kLearner;
  MemberState state = MemberState::kJoining;
  friend bool operator==(const Member&, const Member&) = default;
};

// Membership and shard map: the part of the state an epoch seals.
struct ClusterTopology {
  bool initialized = false;
  Uuid cluster_uuid;
  std::map<Uuid, Member> members;        // REMOVED ones stay (never reused)
  uint64_t shard_map_version = 0;        // 1 from InitCluster on
  std::vector<uint32_t> vnode_to_shard;  // vnode → shard index
  std::vector<Uuid> shard_owner;         // shard index → owner node
};

struct ApplyResult {
  bool applied = false;             // the entry changed the state
  bool rejected = false;            // an invalid committed entry, applied as a no-op
  std::optional<CommandType> type;  // unset when the entry did not decode
  uint64_t epoch_number = 0;        // the epoch the entry published, when applied
  Status reason;                    // why it was rejected (or ignored); OK otherwise
};

class ClusterState {
 public:
  ClusterState();

  // Applies the committed entry at `raft_index`. Safe for any bytes. An empty
  // entry is the Raft leader's no-op: the index advances, nothing else. An
  // index at or below LastAppliedIndex() is ignored with an error and changes
  // nothing (not even the counter): it is a caller bug, not a bad entry.
  ApplyResult Apply(uint64_t raft_index, std::string_view entry);

  // What EpochBindingHash() would be after `command`, or the command's
  // refusal: what a proposer puts in the epoch's shard_map_hash.
  Result<Sha256Digest> BindingHashAfter(const Command& command) const;

  bool initialized() const { return topo_.initialized; }
  const Uuid& cluster_uuid() const { return topo_.cluster_uuid; }

  // Every member ever added, REMOVED ones included, ascending node UUID.
  std::vector<Member> Members() const;
  const Member* FindMember(const Uuid& node) const;
  // Raft ids for the Raft core's ConfState, ascending; REMOVED excluded.
  std::vector<uint64_t> VoterRaftIds() const;
  std::vector<uint64_t> LearnerRaftIds() const;

  uint32_t ShardCount() const { return static_cast<uint32_t>(topo_.shard_owner.size()); }
  uint32_t VnodeCount() const { return static_cast<uint32_t>(topo_.vnode_to_shard.size()); }
  // Owner of shard index `shard` (0-based; shard_001 is 0), unset when out of range.
  std::optional<Uuid> ShardOwner(uint32_t shard) const;
  std::optional<uint32_t> ShardOfVnode(uint32_t vnode) const;
  // Shard indexes owned by `node`, ascending.
  std::vector<uint32_t> ShardsOf(const Uuid& node) const;
  // 1 from InitCluster on; 0 before.
  uint64_t ShardMapVersion() const { return topo_.shard_map_version; }
  // SHA-256 of the canonical shard map (version, cluster, vnode → shard,
  // shard → owner).
  Sha256Digest ShardMapHash() const;
  // SHA-256 of the canonical membership + ShardMapHash(): what the current
  // epoch's shard_map_hash holds.
  Sha256Digest EpochBindingHash() const;

  // 0 until the first CatalogDdl applies; each applied DDL adds one.
  uint64_t SchemaVersion() const { return schema_version_; }
  // CanonicalCatalogJson of the current catalog.
  const std::string& CatalogJson() const { return catalog_json_; }

  const EpochChain& epoch_chain() const { return chain_; }
  // Epochs 1..current; Epochs()[i].number == i + 1.
  const std::vector<ClusterConfigEpoch>& Epochs() const { return chain_.History(); }

  uint64_t LastAppliedIndex() const { return last_applied_; }
  // Committed entries rejected since this object was built; a process metric
  // for the alert, not replicated state, so not in the snapshot.
  uint64_t rejected_entries() const { return rejected_; }

  // The whole state for a Raft snapshot (log compaction), epoch history
  // included; Restore re-checks its structure and that the current epoch
  // seals the restored membership and shard map.
  std::string Snapshot() const;
  static Result<ClusterState> Restore(std::string_view bytes);

 private:
  using Topology = ClusterTopology;
  Result<Topology> Stage(const Command& command) const;
  Status CheckEpochBinding(const Command& command, const Topology& next,
                           const ClusterConfigEpoch& epoch) const;
  Status SignersFor(const Command& command, SignerRegistry* out) const;
  ApplyResult Reject(ApplyResult result, Status reason);

  Topology topo_;
  uint64_t schema_version_ = 0;
  std::string catalog_json_;
  EpochChain chain_;
  uint64_t last_applied_ = 0;
  uint64_t rejected_ = 0;
};

// For proposers (still pure): the next epoch for `command` — number + 1, the
// current hash as prev, the binding hash of the state the command produces,
// the current policy hashes (PublishEpoch: its own), created_at = published_at
// = now_ns, `signer` as admin — signed with `key`, and encoded together with
// the command. The result is dry-run applied to a copy of `current`, so a
// command the state machine would refuse fails here with the same reason
// (R01-04: the leader checks before proposing). CatalogDdl has no epoch and
// ignores signer, key, now_ns and description.
Result<std::string> BuildSignedEntry(const ClusterState& current, Command command,
                                     const Uuid& signer, const Ed25519PrivateKey& key,
                                     int64_t now_ns, std::string description);

// The catalog's canonical JSON, carried by CatalogDdl: {"tables":[…]} with
// TableToJson per table in name order, compact, keys sorted. The schema
// version is not in it (the state machine owns that number).
std::string CanonicalCatalogJson(const Catalog& catalog);
// Parses canonical catalog JSON, refusing (CATALOG_INVALID, SB036) anything
// that is not exactly CanonicalCatalogJson of the catalog it describes.
Result<Catalog> CatalogFromCanonicalJson(std::string_view json, uint64_t schema_version);

}  // namespace sb::meta
