// The commands carried in the Raft entries of the cluster state machine
// (issue 5, SBCLUSTER-02 membership, R05-07/08/10/11 shard map, C-28 catalog)
// and their binary codec. cluster_state.h applies them.
//
// One Raft entry = one command plus, for every command that changes
// membership, the shard map or policies, the signed configuration epoch that
// records the change (EncodeEpochEntry bytes). Layout, big-endian, no padding:
//
//   size  field
//      6  tag "SBCMD" 0x01 (name and version of this layout)
//      1  u8 command type (CommandType)
//      4  u32 n = body length
//      n  body (per command, docs/cluster-state.md)
//      4  u32 m = epoch entry length (0 only for CatalogDdl)
//      m  EncodeEpochEntry bytes
//
// Decoding is strict: each command has exactly one encoding (members sorted,
// enums in range, no trailing bytes), so Encode(Decode(x)) == x for every
// accepted x, and no input can make the decoder read out of bounds, crash or
// allocate more than the input's size.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/ed25519.h"
#include "common/sha256.h"
#include "common/status.h"
#include "common/uuid.h"
#include "meta/epoch.h"

namespace sb::meta {

// SQLSTATEs of the cluster state machine; messages start with the condition's
// name so logs and alerts can be grepped for it. SB020..SB025 are the epoch
// errors (epoch.h); a rejected epoch inside an entry keeps its own code.
namespace cluster_sqlstate {
inline constexpr const char* kEntryMalformed = "SB030";         // ENTRY_MALFORMED
inline constexpr const char* kMembershipRefused = "SB031";      // MEMBERSHIP_REFUSED
inline constexpr const char* kEpochBindingMismatch = "SB032";   // EPOCH_BINDING_MISMATCH
inline constexpr const char* kSchemaVersionMismatch = "SB033";  // SCHEMA_VERSION_MISMATCH
inline constexpr const char* kNotInitialized = "SB034";         // CLUSTER_NOT_INITIALIZED
inline constexpr const char* kAlreadyInitialized = "SB035";     // CLUSTER_ALREADY_INITIALIZED
inline constexpr const char* kCatalogInvalid = "SB036";         // CATALOG_INVALID
}  // namespace cluster_sqlstate

inline constexpr std::string_view kClusterEntryTag{"SBCMD\x01", 6};

// Limits that keep every accepted entry well below the Raft entry cap
// (kDefaultMaxEpochEntryBytes, C-04) and every length within its prefix.
inline constexpr size_t kMaxClusterEntryBytes = kDefaultMaxEpochEntryBytes;
inline constexpr size_t kMaxInitialMembers = 1024;
inline constexpr size_t kMaxAddressBytes = 1024;
inline constexpr size_t kMaxDdlStatementBytes = size_t{1} << 20;
inline constexpr size_t kMaxCatalogJsonBytes = size_t{8} << 20;
inline constexpr uint32_t kMaxVnodeCount = 65536;
inline constexpr uint32_t kDefaultVnodeCount = 256;  // R05-02

// R02-06 bit values; VOTER and LEARNER are exclusive (C-40), so a member holds
// exactly one of them.
enum class MemberRole : uint8_t { kVoter = 1, kLearner = 2 };
// The lifecycle. JOINING and REMOVED keep the spec's numbers (R02-07);
// ACTIVE stands for ENABLED (1); LEAVING (2) is a draining node on its way out
// and takes the slot of DISABLED, which this state machine does not model yet.
enum class MemberState : uint8_t { kJoining = 0, kActive = 1, kLeaving = 2, kRemoved = 3 };
const char* MemberRoleName(MemberRole role);
const char* MemberStateName(MemberState state);

// What a command says about a node: its identity and where to reach it.
struct MemberInfo {
  Uuid node_uuid;                  // UUIDv7, never reused (R02-01)
  uint64_t raft_id = 0;            // the Raft core's NodeId; never 0, never reused
  std::string rpc_address;         // host:port, printable ASCII; required
  std::string sql_address;         // may be empty
  std::string http_address;        // may be empty
  Ed25519PublicKey signing_key{};  // epoch signatures by this node (C-21)
  friend bool operator==(const MemberInfo&, const MemberInfo&) = default;
};

// The six configuration hashes other than shard_map_hash, in epoch order.
struct PolicyHashes {
  Sha256Digest ca_policy{};
  Sha256Digest security_bundle{};
  Sha256Digest replication_policy{};
  Sha256Digest backup_policy{};
  Sha256Digest scheduler_policy{};
  Sha256Digest capability_matrix{};
  friend bool operator==(const PolicyHashes&, const PolicyHashes&) = default;
};

// `cluster init`: the cluster's identity, the fixed shard count and the first
// members, all VOTER and ACTIVE. Shards go round-robin over the members in
// ascending node-UUID order (shard i → member i mod N), vnode v → shard
// v mod shard_count (R05-08). Members are encoded ascending, so the order the
// caller lists them in does not matter.
struct InitCluster {
  Uuid cluster_uuid;
  uint32_t shard_count = 16;
  uint32_t vnode_count = kDefaultVnodeCount;
  std::vector<MemberInfo> members;
  friend bool operator==(const InitCluster&, const InitCluster&) = default;
};
// A new node enters as a Raft learner in state JOINING (R02-09, C-14).
struct AddLearner {
  MemberInfo member;
  friend bool operator==(const AddLearner&, const AddLearner&) = default;
};
// A caught-up learner becomes a voter and ACTIVE. While the catalog has
// never held a table (schema version 0) every shard is empty, and the
// promotion also spreads the shards round-robin over the voters again
// (shard map version + 1).
struct PromoteVoter {
  Uuid node_uuid;
  friend bool operator==(const PromoteVoter&, const PromoteVoter&) = default;
};
// Graceful leave; refused while the node owns shards. The record stays, as
// REMOVED, so its UUID, Raft id and key are never reused.
struct RemoveMember {
  Uuid node_uuid;
  friend bool operator==(const RemoveMember&, const RemoveMember&) = default;
};
// JOINING → ACTIVE, ACTIVE → LEAVING (drain), LEAVING → ACTIVE.
struct SetNodeState {
  Uuid node_uuid;
  MemberState state = MemberState::kActive;
  friend bool operator==(const SetNodeState&, const SetNodeState&) = default;
};
// DDL run on any node: the statement, the whole catalog after it (canonical
// JSON, CanonicalCatalogJson in cluster_state.h) and the schema version it was
// planned against. Applies only if that is still the current version, which
// serializes racing DDL (C-28). Carries no epoch.
struct CatalogDdl {
  std::string statement;  // UTF-8
  std::string catalog_json;
  uint64_t expected_schema_version = 0;
  friend bool operator==(const CatalogDdl&, const CatalogDdl&) = default;
};
// A policy change: the epoch it travels with must carry exactly these hashes
// and this min_node_version, and leave membership and shard map as they are.
struct PublishEpoch {
  PolicyHashes policies;
  uint32_t min_node_version = 0;
  friend bool operator==(const PublishEpoch&, const PublishEpoch&) = default;
};

using Command = std::variant<InitCluster, AddLearner, PromoteVoter, RemoveMember, SetNodeState,
                             CatalogDdl, PublishEpoch>;

// The u8 in the entry; the variant index + 1.
enum class CommandType : uint8_t {
  kInitCluster = 1,
  kAddLearner = 2,
  kPromoteVoter = 3,
  kRemoveMember = 4,
  kSetNodeState = 5,
  kCatalogDdl = 6,
  kPublishEpoch = 7,
};
CommandType TypeOf(const Command& command);
const char* CommandTypeName(CommandType type);
// Everything but CatalogDdl changes configuration and needs an epoch.
bool CommandNeedsEpoch(const Command& command);

struct ClusterEntry {
  Command command;
  std::string epoch_entry;  // EncodeEpochEntry bytes; empty for CatalogDdl
  friend bool operator==(const ClusterEntry&, const ClusterEntry&) = default;
};

// The entry bytes. Members of InitCluster are written in ascending UUID order.
std::string EncodeClusterEntry(const ClusterEntry& entry);
// Strict inverse of EncodeClusterEntry; ENTRY_MALFORMED (SB030) for a wrong
// tag or type, truncation, trailing bytes, unsorted or repeated members, an
// out-of-range enum, a length over its limit, invalid UTF-8 in the statement,
// or an epoch present/absent against CommandNeedsEpoch. The epoch bytes are
// not decoded here (the state machine decodes and validates them).
Result<ClusterEntry> DecodeClusterEntry(std::string_view bytes);

// Big-endian primitives shared by the entry codec and the state snapshot.
namespace wire {
void PutU8(std::string* out, uint8_t v);
void PutU32(std::string* out, uint32_t v);
void PutU64(std::string* out, uint64_t v);
void PutUuid(std::string* out, const Uuid& v);
template <size_t N>
void PutArray(std::string* out, const std::array<uint8_t, N>& bytes) {
  out->append(reinterpret_cast<const char*>(bytes.data()), N);
}
// u32 length + bytes; the caller keeps lengths within u32.
void PutString(std::string* out, std::string_view v);
void PutMemberInfo(std::string* out, const MemberInfo& m);

// Every read checks what is left first; after one failed read every later
// read fails too, so a decoder can check once at the end.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }
  size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }

  uint8_t U8();
  uint32_t U32();
  uint64_t U64();
  Uuid ReadUuid();
  std::string_view Raw(size_t n);
  // u32 length + bytes, refused (reader failed) when longer than max_len.
  std::string_view String(size_t max_len);
  template <size_t N>
  std::array<uint8_t, N> Array() {
    std::array<uint8_t, N> out{};
    std::string_view b = Raw(N);
    if (b.size() == N) std::copy(b.begin(), b.end(), out.begin());
    return out;
  }
  MemberInfo ReadMemberInfo();
  void Fail() { ok_ = false; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};
}  // namespace wire

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsStrictUtf8(std::string_view s);

}  // namespace sb::meta
