#include "meta/cluster_state.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/shard_router.h"
#include "meta/shard_map.h"

namespace sb::meta {
namespace {

using wire::PutArray;
using wire::PutMemberInfo;
using wire::PutString;
using wire::PutU32;
using wire::PutU64;
using wire::PutU8;
using wire::PutUuid;

Status Refused(const std::string& what) {
  return Status(cluster_sqlstate::kMembershipRefused, "MEMBERSHIP_REFUSED: " + what);
}

Status BindingMismatch(const std::string& what) {
  return Status(cluster_sqlstate::kEpochBindingMismatch, "EPOCH_BINDING_MISMATCH: " + what);
}

Status CatalogInvalid(const std::string& what) {
  return Status(cluster_sqlstate::kCatalogInvalid, "CATALOG_INVALID: " + what);
}

Status NotInitialized() {
  return Status(cluster_sqlstate::kNotInitialized,
                "CLUSTER_NOT_INITIALIZED: only InitCluster may be applied before the cluster "
                "exists",
                "run `scratchbird cluster init` first");
}

Status CorruptSnapshot(const std::string& what) {
  return Status(sqlstate::kDataCorrupted, "cluster state snapshot: " + what);
}

std::string Name(const Uuid& node) {
  return node.ToString();
}

bool PrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

bool IsV7(const Uuid& u) {
  return u.version() == 7 && u.is_rfc9562_variant();
}

// Rules on one member's identity that do not depend on the others.
Status CheckMemberInfo(const MemberInfo& m) {
  if (!IsV7(m.node_uuid)) {
    return Refused("node uuid " + Name(m.node_uuid) + " is not a UUIDv7 (R02-01)");
  }
  if (m.raft_id == 0) return Refused("node " + Name(m.node_uuid) + " has Raft id 0");
  if (m.rpc_address.empty()) return Refused("node " + Name(m.node_uuid) + " has no RPC address");
  for (const std::string* a : {&m.rpc_address, &m.sql_address, &m.http_address}) {
    if (a->size() > kMaxAddressBytes || !PrintableAscii(*a)) {
      return Refused("node " + Name(m.node_uuid) + " has an address that is not host:port text");
    }
  }
  if (!Ed25519PublicKeyFromBytes(Ed25519PublicKeyBytes(m.signing_key)).ok()) {
    return Refused("node " + Name(m.node_uuid) + " has no valid Ed25519 signing key");
  }
  return Status::Ok();
}

// UUIDs, Raft ids and keys are never reused, REMOVED members included
// (R02-01, R02-15: one unique keypair per node).
Status CheckUnique(const std::map<Uuid, Member>& members, const MemberInfo& m) {
  for (const auto& [id, existing] : members) {
    if (id == m.node_uuid) {
      return Refused("node " + Name(id) + " is already a member (" +
                     MemberStateName(existing.state) + "); a node UUID is never reused");
    }
    if (existing.info.raft_id == m.raft_id) {
      return Refused("Raft id " + std::to_string(m.raft_id) + " already belongs to node " +
                     Name(id));
    }
    if (existing.info.signing_key == m.signing_key) {
      return Refused("the signing key of node " + Name(m.node_uuid) + " already belongs to node " +
                     Name(id));
    }
  }
  return Status::Ok();
}

std::vector<uint32_t> ShardsOwnedBy(const ClusterTopology& t, const Uuid& node) {
  std::vector<uint32_t> out;
  for (uint32_t s = 0; s < t.shard_owner.size(); ++s) {
    if (t.shard_owner[s] == node) out.push_back(s);
  }
  return out;
}

std::string ShardMapCanonical(const ClusterTopology& t) {
  std::string out(kShardMapCanonicalTag);
  PutU64(&out, t.shard_map_version);
  PutUuid(&out, t.cluster_uuid);
  PutU32(&out, static_cast<uint32_t>(t.vnode_to_shard.size()));
  for (uint32_t s : t.vnode_to_shard) PutU32(&out, s);
  PutU32(&out, static_cast<uint32_t>(t.shard_owner.size()));
  for (const Uuid& owner : t.shard_owner) PutUuid(&out, owner);
  return out;
}

void PutMember(std::string* out, const Member& m) {
  PutMemberInfo(out, m.info);
  PutU8(out, static_cast<uint8_t>(m.role));
  PutU8(out, static_cast<uint8_t>(m.state));
}

Sha256Digest BindingHash(const ClusterTopology& t) {
  std::string out(kBindingCanonicalTag);
  PutUuid(&out, t.cluster_uuid);
  PutU32(&out, static_cast<uint32_t>(t.members.size()));
  for (const auto& [id, m] : t.members) PutMember(&out, m);  // map order: ascending UUID
  PutArray(&out, Sha256(ShardMapCanonical(t)));
  return Sha256(out);
}

PolicyHashes PoliciesOf(const ClusterConfigEpoch& e) {
  return {e.ca_policy_hash,     e.security_bundle_hash,  e.replication_policy_hash,
          e.backup_policy_hash, e.scheduler_policy_hash, e.capability_matrix_hash};
}

void SetPolicies(ClusterConfigEpoch* e, const PolicyHashes& p) {
  e->ca_policy_hash = p.ca_policy;
  e->security_bundle_hash = p.security_bundle;
  e->replication_policy_hash = p.replication_policy;
  e->backup_policy_hash = p.backup_policy;
  e->scheduler_policy_hash = p.scheduler_policy;
  e->capability_matrix_hash = p.capability_matrix;
}

std::string ShardList(const std::vector<uint32_t>& shards) {
  std::string out;
  for (size_t i = 0; i < shards.size() && i < 4; ++i) {
    if (i) out += ", ";
    out += ShardMap::ShardName(shards[i]);
  }
  if (shards.size() > 4) out += ", …";
  return out;
}

}  // namespace

ClusterState::ClusterState() : catalog_json_(CanonicalCatalogJson(Catalog())) {}

Result<ClusterTopology> ClusterState::Stage(const Command& command) const {
  if (const auto* init = std::get_if<InitCluster>(&command)) {
    if (topo_.initialized) {
      return Status(
          cluster_sqlstate::kAlreadyInitialized,
          "CLUSTER_ALREADY_INITIALIZED: cluster " + Name(topo_.cluster_uuid) + " already exists");
    }
    if (!IsV7(init->cluster_uuid)) return Refused("cluster uuid is not a UUIDv7 (R02-01)");
    if (init->shard_count == 0 || init->vnode_count < init->shard_count ||
        init->vnode_count > kMaxVnodeCount) {
      return Refused("need 1 <= shard_count <= vnode_count <= " + std::to_string(kMaxVnodeCount) +
                     ", got " + std::to_string(init->shard_count) + " shards over " +
                     std::to_string(init->vnode_count) + " vnodes");
    }
    if (init->members.empty() || init->members.size() > kMaxInitialMembers) {
      return Refused("InitCluster needs 1 to " + std::to_string(kMaxInitialMembers) + " members");
    }
    ClusterTopology next;
    next.initialized = true;
    next.cluster_uuid = init->cluster_uuid;
    for (const MemberInfo& m : init->members) {
      SB_RETURN_IF_ERROR(CheckMemberInfo(m));
      SB_RETURN_IF_ERROR(CheckUnique(next.members, m));
      next.members[m.node_uuid] = Member{m, MemberRole::kVoter, MemberState::kActive};
    }
    // Round-robin in ascending node-UUID order, which is the map's order: the
    // placement cannot depend on how the proposer listed the members.
    std::vector<Uuid> order;
    for (const auto& [id, m] : next.members) order.push_back(id);
    next.shard_map_version = 1;
    for (uint32_t s = 0; s < init->shard_count; ++s) {
      next.shard_owner.push_back(order[s % order.size()]);
    }
    for (uint32_t v = 0; v < init->vnode_count; ++v) {
      next.vnode_to_shard.push_back(InitialShardOfVnode(v, init->shard_count));
    }
    return next;
  }
  if (!topo_.initialized) return NotInitialized();

  ClusterTopology next = topo_;
  auto find = [&](const Uuid& node) -> Result<Member*> {
    auto it = next.members.find(node);
    if (it == next.members.end()) return Refused("node " + Name(node) + " is not a member");
    if (it->second.state == MemberState::kRemoved) {
      return Refused("node " + Name(node) + " was removed");
    }
    return &it->second;
  };

  if (const auto* add = std::get_if<AddLearner>(&command)) {
    SB_RETURN_IF_ERROR(CheckMemberInfo(add->member));
    SB_RETURN_IF_ERROR(CheckUnique(next.members, add->member));
    next.members[add->member.node_uuid] =
        Member{add->member, MemberRole::kLearner, MemberState::kJoining};
  } else if (const auto* promote = std::get_if<PromoteVoter>(&command)) {
    SB_ASSIGN_OR_RETURN(Member * m, find(promote->node_uuid));
    if (m->role != MemberRole::kLearner) {
      return Refused("node " + Name(promote->node_uuid) + " is already a voter");
    }
    if (m->state == MemberState::kLeaving) {
      return Refused("node " + Name(promote->node_uuid) +
                     " is leaving; a leaving node is not "
                     "promoted");
    }
    m->role = MemberRole::kVoter;
    m->state = MemberState::kActive;
    if (schema_version_ == 0) {
      // No table has ever existed, so every shard is empty and moving one is
      // only a change of the map: spread the shards round-robin over the
      // voters again (ascending UUID order), so the nodes that join right
      // after `cluster init` share the data. Once a table exists, shards
      // move only with their data (rebalancing, a later issue).
      std::vector<Uuid> voters;
      for (const auto& [id, member] : next.members)
        if (member.role == MemberRole::kVoter && member.state == MemberState::kActive)
          voters.push_back(id);
      for (size_t s = 0; s < next.shard_owner.size(); ++s)
        next.shard_owner[s] = voters[s % voters.size()];
      ++next.shard_map_version;
    }
  } else if (const auto* remove = std::get_if<RemoveMember>(&command)) {
    SB_ASSIGN_OR_RETURN(Member * m, find(remove->node_uuid));
    std::vector<uint32_t> owned = ShardsOwnedBy(next, remove->node_uuid);
    if (!owned.empty()) {
      return Refused("node " + Name(remove->node_uuid) + " still owns " +
                     std::to_string(owned.size()) + " shard(s) (" + ShardList(owned) +
                     "); move them to other nodes before removing it")
          .WithHint("drain the node and move its shards first");
    }
    if (m->role == MemberRole::kVoter) {
      size_t voters = 0;
      for (const auto& [id, other] : next.members) {
        if (other.role == MemberRole::kVoter && other.state != MemberState::kRemoved) ++voters;
      }
      // C-17: never leave the cluster without a voter to commit anything.
      if (voters <= 1) return Refused("node " + Name(remove->node_uuid) + " is the last voter");
    }
    m->state = MemberState::kRemoved;
  } else if (const auto* set = std::get_if<SetNodeState>(&command)) {
    SB_ASSIGN_OR_RETURN(Member * m, find(set->node_uuid));
    const MemberState from = m->state;
    const MemberState to = set->state;
    const bool allowed = (from == MemberState::kJoining && to == MemberState::kActive) ||
                         (from == MemberState::kActive && to == MemberState::kLeaving) ||
                         (from == MemberState::kLeaving && to == MemberState::kActive);
    if (!allowed) {
      return Refused("node " + Name(set->node_uuid) + ": " + MemberStateName(from) + " -> " +
                     MemberStateName(to) + " is not an allowed transition" +
                     (to == MemberState::kRemoved ? " (use RemoveMember)" : ""));
    }
    m->state = to;
  }
  // CatalogDdl and PublishEpoch leave the topology as it is.
  return next;
}

Result<Sha256Digest> ClusterState::BindingHashAfter(const Command& command) const {
  SB_ASSIGN_OR_RETURN(ClusterTopology next, Stage(command));
  return BindingHash(next);
}

Status ClusterState::CheckEpochBinding(const Command& command, const ClusterTopology& next,
                                       const ClusterConfigEpoch& epoch) const {
  const Sha256Digest binding = BindingHash(next);
  if (epoch.shard_map_hash != binding) {
    return BindingMismatch("epoch " + std::to_string(epoch.number) +
                           " names membership/shard map " + Sha256Hex(epoch.shard_map_hash) +
                           " but the " + CommandTypeName(TypeOf(command)) +
                           " it carries produces " + Sha256Hex(binding));
  }
  if (const auto* init = std::get_if<InitCluster>(&command)) {
    if (epoch.cluster_uuid != init->cluster_uuid) {
      return BindingMismatch("genesis epoch is for cluster " + Name(epoch.cluster_uuid) +
                             ", the InitCluster for " + Name(init->cluster_uuid));
    }
    return Status::Ok();  // genesis sets the first policies
  }
  PolicyHashes policies;
  uint32_t min_node_version = 0;
  if (const auto* publish = std::get_if<PublishEpoch>(&command)) {
    policies = publish->policies;
    min_node_version = publish->min_node_version;
  } else if (const ClusterConfigEpoch* current = chain_.Current()) {
    // A membership change must not carry a policy change along unannounced.
    policies = PoliciesOf(*current);
    min_node_version = current->min_node_version;
  }
  if (PoliciesOf(epoch) != policies || epoch.min_node_version != min_node_version) {
    return BindingMismatch("epoch " + std::to_string(epoch.number) +
                           " carries policy hashes or a min_node_version other than its " +
                           CommandTypeName(TypeOf(command)) + " says");
  }
  return Status::Ok();
}

Status ClusterState::SignersFor(const Command& command, SignerRegistry* out) const {
  // Genesis is signed by a founding member; every later epoch by a member
  // that is in the cluster before the change (a joining node cannot vouch
  // for itself).
  if (const auto* init = std::get_if<InitCluster>(&command)) {
    for (const MemberInfo& m : init->members)
      SB_RETURN_IF_ERROR(out->Add(m.node_uuid, m.signing_key));
    return Status::Ok();
  }
  for (const auto& [id, m] : topo_.members) {
    if (m.state != MemberState::kRemoved) SB_RETURN_IF_ERROR(out->Add(id, m.info.signing_key));
  }
  return Status::Ok();
}

ApplyResult ClusterState::Reject(ApplyResult result, Status reason) {
  ++rejected_;
  result.applied = false;
  result.rejected = true;
  result.epoch_number = 0;
  result.reason = std::move(reason);
  return result;
}

ApplyResult ClusterState::Apply(uint64_t raft_index, std::string_view bytes) {
  ApplyResult result;
  if (raft_index <= last_applied_) {
    result.reason = Status::Internal("Raft index " + std::to_string(raft_index) +
                                     " is not after the last applied index " +
                                     std::to_string(last_applied_) + "; entry ignored");
    return result;
  }
  // A rejected entry is still applied (as a no-op), so the index moves on.
  last_applied_ = raft_index;
  if (bytes.empty()) return result;

  Result<ClusterEntry> decoded = DecodeClusterEntry(bytes);
  if (!decoded.ok()) return Reject(result, decoded.status());
  const ClusterEntry& entry = *decoded;
  result.type = TypeOf(entry.command);

  if (const auto* ddl = std::get_if<CatalogDdl>(&entry.command)) {
    if (!topo_.initialized) return Reject(result, NotInitialized());
    if (ddl->expected_schema_version != schema_version_) {
      return Reject(result, Status(cluster_sqlstate::kSchemaVersionMismatch,
                                   "SCHEMA_VERSION_MISMATCH: the DDL was planned against schema "
                                   "version " +
                                       std::to_string(ddl->expected_schema_version) +
                                       ", the catalog is at " + std::to_string(schema_version_),
                                   "another DDL committed first; run the statement again"));
    }
    Result<Catalog> catalog = CatalogFromCanonicalJson(ddl->catalog_json, schema_version_ + 1);
    if (!catalog.ok()) return Reject(result, catalog.status());
    catalog_json_ = ddl->catalog_json;
    ++schema_version_;
    result.applied = true;
    return result;
  }

  Result<ClusterTopology> next = Stage(entry.command);
  if (!next.ok()) return Reject(result, next.status());
  Result<ClusterConfigEpoch> epoch = DecodeEpochEntry(entry.epoch_entry, chain_.max_entry_bytes());
  if (!epoch.ok()) return Reject(result, epoch.status());
  Status bound = CheckEpochBinding(entry.command, *next, *epoch);
  if (!bound.ok()) return Reject(result, bound);
  SignerRegistry signers;
  Status registry = SignersFor(entry.command, &signers);
  if (!registry.ok()) return Reject(result, registry);
  // Last step: once the chain takes the epoch the topology must follow, and
  // nothing after this line can fail.
  ApplyOutcome outcome = chain_.Apply(entry.epoch_entry, signers, 1);
  if (!outcome.applied) return Reject(result, outcome.reason);
  topo_ = std::move(next).value();
  result.applied = true;
  result.epoch_number = outcome.number;
  return result;
}

std::vector<Member> ClusterState::Members() const {
  std::vector<Member> out;
  for (const auto& [id, m] : topo_.members) out.push_back(m);
  return out;
}

const Member* ClusterState::FindMember(const Uuid& node) const {
  auto it = topo_.members.find(node);
  return it == topo_.members.end() ? nullptr : &it->second;
}

std::vector<uint64_t> ClusterState::VoterRaftIds() const {
  std::vector<uint64_t> out;
  for (const auto& [id, m] : topo_.members) {
    if (m.role == MemberRole::kVoter && m.state != MemberState::kRemoved) {
      out.push_back(m.info.raft_id);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint64_t> ClusterState::LearnerRaftIds() const {
  std::vector<uint64_t> out;
  for (const auto& [id, m] : topo_.members) {
    if (m.role == MemberRole::kLearner && m.state != MemberState::kRemoved) {
      out.push_back(m.info.raft_id);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<Uuid> ClusterState::ShardOwner(uint32_t shard) const {
  if (shard >= topo_.shard_owner.size()) return std::nullopt;
  return topo_.shard_owner[shard];
}

std::optional<uint32_t> ClusterState::ShardOfVnode(uint32_t vnode) const {
  if (vnode >= topo_.vnode_to_shard.size()) return std::nullopt;
  return topo_.vnode_to_shard[vnode];
}

std::vector<uint32_t> ClusterState::ShardsOf(const Uuid& node) const {
  return ShardsOwnedBy(topo_, node);
}

Sha256Digest ClusterState::ShardMapHash() const {
  return Sha256(ShardMapCanonical(topo_));
}

Sha256Digest ClusterState::EpochBindingHash() const {
  return BindingHash(topo_);
}

std::string ClusterState::Snapshot() const {
  std::string out(kClusterSnapshotTag);
  PutU64(&out, last_applied_);
  PutU8(&out, topo_.initialized ? 1 : 0);
  PutUuid(&out, topo_.cluster_uuid);
  PutU64(&out, topo_.shard_map_version);
  PutU32(&out, static_cast<uint32_t>(topo_.vnode_to_shard.size()));
  for (uint32_t s : topo_.vnode_to_shard) PutU32(&out, s);
  PutU32(&out, static_cast<uint32_t>(topo_.shard_owner.size()));
  for (const Uuid& owner : topo_.shard_owner) PutUuid(&out, owner);
  PutU32(&out, static_cast<uint32_t>(topo_.members.size()));
  for (const auto& [id, m] : topo_.members) PutMember(&out, m);
  PutU64(&out, schema_version_);
  PutString(&out, catalog_json_);
  const std::string chain = chain_.Snapshot();
  PutU64(&out, chain.size());
  out += chain;
  return out;
}

Result<ClusterState> ClusterState::Restore(std::string_view bytes) {
  wire::Reader r(bytes);
  if (r.Raw(kClusterSnapshotTag.size()) != kClusterSnapshotTag) {
    return CorruptSnapshot("wrong tag or layout version");
  }
  ClusterState state;
  ClusterTopology& t = state.topo_;
  state.last_applied_ = r.U64();
  const uint8_t initialized = r.U8();
  t.initialized = initialized == 1;
  t.cluster_uuid = r.ReadUuid();
  t.shard_map_version = r.U64();
  const uint32_t vnodes = r.U32();
  if (!r.ok() || initialized > 1 || vnodes > kMaxVnodeCount) {
    return CorruptSnapshot("bad header");
  }
  for (uint32_t v = 0; v < vnodes && r.ok(); ++v) t.vnode_to_shard.push_back(r.U32());
  const uint32_t shards = r.U32();
  if (!r.ok() || shards > vnodes) return CorruptSnapshot("bad shard count");
  for (uint32_t s = 0; s < shards && r.ok(); ++s) t.shard_owner.push_back(r.ReadUuid());
  const uint32_t members = r.U32();
  for (uint32_t i = 0; i < members && r.ok(); ++i) {
    Member m;
    m.info = r.ReadMemberInfo();
    const uint8_t role = r.U8();
    const uint8_t st = r.U8();
    if (!r.ok()) break;
    if (role < 1 || role > 2 || st > static_cast<uint8_t>(MemberState::kRemoved)) {
      return CorruptSnapshot("member with an unknown role or state");
    }
    m.role = static_cast<MemberRole>(role);
    m.state = static_cast<MemberState>(st);
    if (!t.members.empty() && !(t.members.rbegin()->first < m.info.node_uuid)) {
      return CorruptSnapshot("members not in ascending UUID order");
    }
    Status valid = CheckMemberInfo(m.info);
    if (valid.ok()) valid = CheckUnique(t.members, m.info);
    if (!valid.ok()) return CorruptSnapshot(valid.message());
    t.members[m.info.node_uuid] = std::move(m);
  }
  state.schema_version_ = r.U64();
  state.catalog_json_ = std::string(r.String(kMaxCatalogJsonBytes));
  const uint64_t chain_len = r.U64();
  std::string_view chain_bytes = r.Raw(chain_len);
  if (!r.ok()) return CorruptSnapshot("truncated");
  if (!r.done()) return CorruptSnapshot("trailing bytes");

  Result<EpochChain> chain = EpochChain::Restore(chain_bytes);
  if (!chain.ok()) return CorruptSnapshot(chain.status().message());
  state.chain_ = std::move(chain).value();
  Result<Catalog> catalog = CatalogFromCanonicalJson(state.catalog_json_, state.schema_version_);
  if (!catalog.ok()) return CorruptSnapshot(catalog.status().message());

  if (!t.initialized) {
    if (!t.cluster_uuid.is_nil() || t.shard_map_version != 0 || vnodes != 0 || !t.members.empty() ||
        state.schema_version_ != 0 || !state.chain_.empty()) {
      return CorruptSnapshot("state before InitCluster is not empty");
    }
    return state;
  }
  if (!IsV7(t.cluster_uuid) || t.shard_map_version == 0 || shards == 0 || t.members.empty()) {
    return CorruptSnapshot("initialized state without cluster, shard map or members");
  }
  for (uint32_t s : t.vnode_to_shard) {
    if (s >= shards) return CorruptSnapshot("vnode mapped to a shard that does not exist");
  }
  for (const Uuid& owner : t.shard_owner) {
    auto it = t.members.find(owner);
    if (it == t.members.end() || it->second.state == MemberState::kRemoved) {
      return CorruptSnapshot("shard owned by a node that is not a member");
    }
  }
  // The current epoch must seal exactly what was restored, as it did when
  // this state was reached by applying entries.
  const ClusterConfigEpoch* current = state.chain_.Current();
  if (current == nullptr || current->cluster_uuid != t.cluster_uuid ||
      current->shard_map_hash != BindingHash(t)) {
    return CorruptSnapshot("the current epoch does not seal the restored membership and shard map");
  }
  return state;
}

Result<std::string> BuildSignedEntry(const ClusterState& current, Command command,
                                     const Uuid& signer, const Ed25519PrivateKey& key,
                                     int64_t now_ns, std::string description) {
  ClusterEntry entry{std::move(command), {}};
  if (CommandNeedsEpoch(entry.command)) {
    SB_ASSIGN_OR_RETURN(Sha256Digest binding, current.BindingHashAfter(entry.command));
    const EpochChain& chain = current.epoch_chain();
    ClusterConfigEpoch epoch;
    epoch.number = chain.current_number() + 1;
    epoch.prev_epoch_hash = chain.current_hash();
    if (const auto* init = std::get_if<InitCluster>(&entry.command)) {
      epoch.cluster_uuid = init->cluster_uuid;
    } else {
      epoch.cluster_uuid = current.cluster_uuid();
    }
    if (const ClusterConfigEpoch* cur = chain.Current()) {
      SetPolicies(&epoch, PoliciesOf(*cur));
      epoch.min_node_version = cur->min_node_version;
    }
    if (const auto* publish = std::get_if<PublishEpoch>(&entry.command)) {
      SetPolicies(&epoch, publish->policies);
      epoch.min_node_version = publish->min_node_version;
    }
    epoch.shard_map_hash = binding;
    epoch.created_at_ns = now_ns;
    // meta/ has no commit clock; the proposal time stands in for publication.
    epoch.published_at_ns = now_ns;
    epoch.admin_uuids = {signer};
    epoch.description = std::move(description);
    SB_RETURN_IF_ERROR(SignEpoch(&epoch, signer, key));
    entry.epoch_entry = EncodeEpochEntry(epoch);
  }
  std::string bytes = EncodeClusterEntry(entry);
  ClusterState trial = current;
  ApplyResult result = trial.Apply(current.LastAppliedIndex() + 1, bytes);
  if (!result.applied) return result.reason;
  return bytes;
}

std::string CanonicalCatalogJson(const Catalog& catalog) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& [name, table] : catalog.tables()) tables.push_back(TableToJson(table));
  nlohmann::json doc = nlohmann::json::object();
  doc["tables"] = std::move(tables);
  // `replace` instead of throwing keeps dump exception-free; a string that
  // needed replacing cannot come back byte-identical, so it is refused.
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Catalog> CatalogFromCanonicalJson(std::string_view json, uint64_t schema_version) {
  if (json.size() > kMaxCatalogJsonBytes) return CatalogInvalid("catalog JSON over the size cap");
  nlohmann::json doc = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.size() != 1 || !doc.contains("tables") ||
      !doc["tables"].is_array()) {
    return CatalogInvalid("catalog JSON is not an object {\"tables\": [...]}");
  }
  Catalog catalog;
  for (const nlohmann::json& jt : doc["tables"]) {
    if (!jt.is_object()) return CatalogInvalid("a table entry is not an object");
    Result<TableDef> table = TableFromJson(jt);
    if (!table.ok()) return CatalogInvalid(table.status().message());
    if (catalog.FindTable(table->name) != nullptr) {
      return CatalogInvalid("table " + table->name + " appears twice");
    }
    catalog.PutTable(std::move(table).value());
  }
  catalog.set_schema_version(schema_version);
  if (CanonicalCatalogJson(catalog) != json) {
    return CatalogInvalid("catalog JSON is not in canonical form (CanonicalCatalogJson)");
  }
  return catalog;
}

}  // namespace sb::meta
