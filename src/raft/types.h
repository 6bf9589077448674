// Plain data exchanged between the Raft core, its storage and its transport.
// Nothing here performs I/O; every type is a value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sb::raft {

using NodeId = uint64_t;  // 0 means "none"
using Term = uint64_t;
using Index = uint64_t;

inline constexpr NodeId kNone = 0;

enum class EntryType : uint8_t {
  kNormal = 0,      // application command (empty data: leader's no-op)
  kConfChange = 1,  // data is an encoded ConfState: the full new configuration
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;
  bool operator==(const Entry&) const = default;
};

// The membership configuration: voters decide, learners only receive the log.
struct ConfState {
  std::vector<NodeId> voters;    // sorted, unique
  std::vector<NodeId> learners;  // sorted, unique, disjoint from voters
  bool operator==(const ConfState&) const = default;
  bool IsVoter(NodeId id) const;
  bool IsLearner(NodeId id) const;
  bool Contains(NodeId id) const { return IsVoter(id) || IsLearner(id); }
  std::string ToString() const;
};

// Durable per-node state that must be on disk before any message that depends
// on it is sent.
struct HardState {
  Term term = 0;
  NodeId vote = kNone;
  Index commit = 0;
  bool operator==(const HardState&) const = default;
};

struct SnapshotMeta {
  Index index = 0;
  Term term = 0;
  ConfState conf;
  bool operator==(const SnapshotMeta&) const = default;
};

struct Snapshot {
  SnapshotMeta meta;
  std::string data;  // opaque application state
  bool empty() const { return meta.index == 0; }
  bool operator==(const Snapshot&) const = default;
};

enum class MsgType : uint8_t {
  kAppend,         // leader -> follower: entries after (index, log_term)
  kAppendResp,     // follower -> leader: accepted up to index, or reject + hint
  kVote,           // candidate -> voter
  kVoteResp,       //
  kPreVote,        // pre-candidate -> voter; does not disturb terms
  kPreVoteResp,    //
  kHeartbeat,      // leader -> follower: commit + read-index round (ctx)
  kHeartbeatResp,  //
  kSnapshot,       // leader -> follower: one chunk of a snapshot
  kSnapshotResp,   // follower -> leader: chunk acknowledged (index = bytes received)
  kProp,           // follower -> leader: forwarded proposal
  kReadIndex,      // follower -> leader: linearizable read request (ctx)
  kReadIndexResp,  // leader -> follower: read may be served at index
  kTimeoutNow,     // leader -> transferee: campaign now
};

const char* MsgTypeName(MsgType t);

struct Message {
  MsgType type = MsgType::kAppend;
  NodeId from = kNone;
  NodeId to = kNone;
  Term term = 0;
  Term log_term = 0;  // kAppend: term of entry at index; reject: hint term
  Index index = 0;    // kAppend: index preceding entries; resp: matched / rejected index
  std::vector<Entry> entries;
  Index commit = 0;
  bool reject = false;
  Index reject_hint = 0;
  uint64_t ctx = 0;  // heartbeat round / read-index ctx / campaign-transfer flag
  // kSnapshot chunk.
  SnapshotMeta snap_meta;
  uint64_t snap_offset = 0;
  std::string snap_data;
  bool snap_done = false;

  std::string ToString() const;
};

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* RoleName(Role r);

struct SoftState {
  NodeId leader = kNone;
  Role role = Role::kFollower;
  bool operator==(const SoftState&) const = default;
};

// A linearizable read may be served once the state machine applied `index`.
struct ReadState {
  Index index = 0;
  uint64_t ctx = 0;
};

// One batch of work for the application. Process in this order:
//  0. early_messages may be sent at once, in parallel with persisting (they
//     are the leader's appends/heartbeats; the leader counts itself towards a
//     quorum only after its own entries are durable);
//  1. persist snapshot (if any), then entries (overwriting any suffix from
//     entries[0].index), then hard_state, with one sync if must_sync (group
//     commit); a commit-index-only change needs no sync;
//  2. send messages (votes and acknowledgements depend on step 1);
//  3. apply snapshot (if any) then committed_entries to the state machine;
//  4. call Raft::Advance(ready).
struct Ready {
  std::optional<SoftState> soft_state;
  std::optional<HardState> hard_state;
  std::optional<Snapshot> snapshot;
  std::vector<Entry> entries;
  std::vector<Entry> committed_entries;
  std::vector<Message> early_messages;
  std::vector<Message> messages;
  std::vector<ReadState> read_states;
  bool must_sync = false;
  bool MustSync() const { return must_sync; }
};

// What a node recovered from its storage on (re)start.
struct InitialState {
  HardState hard_state;
  Snapshot snapshot;           // meta.conf holds the bootstrap configuration for a fresh node
  std::vector<Entry> entries;  // contiguous, starting at snapshot.meta.index + 1
};

// A membership change request: one voter change at a time.
struct ConfChange {
  enum class Kind : uint8_t { kAddLearner, kPromoteVoter, kRemoveNode };
  Kind kind = Kind::kAddLearner;
  NodeId node = kNone;
};

// Test-only switches that re-introduce known Raft bugs so that the simulator
// can show it catches them. Never set outside tests.
struct BugSwitches {
  bool commit_old_term_by_count = false;   // commit an old-term entry by counting replicas
  bool vote_without_log_check = false;     // grant votes without the up-to-date check
  bool vote_not_persisted = false;         // reply to a vote without persisting it
  bool ack_before_persist = false;         // acknowledge appends before they are durable
  bool read_index_without_quorum = false;  // serve ReadIndex without a heartbeat round
  bool truncate_on_append = false;         // drop the log after prev on every append, even
                                           // when a stale append's entries all match
};

}  // namespace sb::raft
