// The Raft consensus core: a deterministic, I/O-free state machine in the
// style of etcd's raft library.
//
// Inputs: Step(message), Tick(), Propose(), ProposeConfChange(),
// TransferLeadership(), ReadIndex(), Compact(). Output: a Ready batch that the
// caller persists, sends and applies, then acknowledges with Advance(). There
// are no sockets, files, threads, clocks or global randomness here: time is
// Tick() and randomness comes from Config::random.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "raft/types.h"

namespace sb::raft {

// SQLSTATEs of the consensus layer (class SB).
inline constexpr const char* kNotLeaderCode = "SB010";    // redirect to the hinted leader
inline constexpr const char* kConfRefusedCode = "SB011";  // membership change refused
inline constexpr const char* kBusyCode = "SB012";         // too much uncommitted data

struct Config {
  NodeId id = kNone;
  int election_ticks = 10;  // randomized timeout is in [election_ticks, 2*election_ticks)
  int heartbeat_ticks = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  bool forward_proposals = true;  // else proposals on followers fail with a leader hint
  size_t max_inflight_msgs = 64;  // per follower, in replicate state
  size_t max_msg_entries = 256;   // entries per append message
  size_t max_msg_bytes = 1 << 20;
  size_t snapshot_chunk_bytes = 64 << 10;
  // A leader refuses proposals while this many payload bytes are uncommitted
  // (0: unlimited), so a leader without a quorum does not grow without bound.
  size_t max_uncommitted_bytes = 64 << 20;
  // Append an empty entry on election (etcd style) so that the leader's term
  // commits promptly. Raft stays safe without it; tests turn it off to widen
  // the windows in which old-term entries are exposed.
  bool leader_noop = true;
  // Injected randomness (must be deterministic for a deterministic run).
  std::function<uint64_t()> random;
  BugSwitches bugs;  // tests only
};

struct ProposeResult {
  Index index = 0;  // 0 when forwarded
  Term term = 0;
  bool forwarded = false;
};

// Replication progress of one peer as seen by the leader.
struct Progress {
  enum class State : uint8_t { kProbe, kReplicate, kSnapshot };
  Index match = 0;
  Index next = 1;
  State state = State::kProbe;
  bool probe_sent = false;     // probe: one append outstanding
  std::deque<Index> inflight;  // replicate: last index of each unacked append
  bool recent_active = false;  // heard from during the current check-quorum window
  bool was_active = false;     // heard from during the previous window
  bool acked_since_hb = false;
  uint64_t read_seq = 0;  // highest heartbeat round acknowledged
  // snapshot state
  Index snap_index = 0;
  uint64_t snap_offset = 0;
  bool snap_acked = false;
};

class Raft {
 public:
  Raft(Config config, InitialState state);

  // Processes one message from the network (or a local one).
  Status Step(const Message& m);
  // Advances logical time by one tick.
  void Tick();

  Result<ProposeResult> Propose(std::string data);
  Result<ProposeResult> ProposeConfChange(const ConfChange& cc);
  Status TransferLeadership(NodeId target);
  // Requests a linearizable read; completes as a ReadState with the same ctx.
  Status ReadIndex(uint64_t ctx);
  // Starts an election now (tests, bootstrap of a single node).
  Status Campaign();

  bool HasReady() const;
  // Takes the next batch. Must be followed by Advance() before the next call.
  Ready GetReady();
  void Advance(const Ready& rd);

  // The application took a snapshot of its state at `index` (<= applied).
  // Entries up to index are dropped from memory.
  Status Compact(Index index, std::string data);

  // Introspection.
  NodeId id() const { return cfg_.id; }
  Term term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId leader() const { return leader_; }
  Role role() const { return role_; }
  Index commit() const { return commit_; }
  Index applied() const { return applied_; }
  Index first_index() const { return offset_ + 1; }
  Index last_index() const { return offset_ + log_.size(); }
  Term last_term() const { return TermAt(last_index()); }
  // Term of the entry at i; 0 if unknown (compacted or beyond the end).
  Term TermAt(Index i) const;
  const Entry* EntryAt(Index i) const;
  const ConfState& conf() const { return conf_; }
  const Snapshot& snapshot() const { return snapshot_; }
  const std::map<NodeId, Progress>& progress() const { return prs_; }
  NodeId lead_transferee() const { return lead_transferee_; }

 private:
  bool IsVoter(NodeId id) const { return conf_.IsVoter(id); }
  bool Promotable() const { return IsVoter(cfg_.id); }
  size_t Quorum() const { return conf_.voters.size() / 2 + 1; }
  void Send(Message m);
  void ResetRandomizedTimeout();
  void Reset(Term term);
  void BecomeFollower(Term term, NodeId leader);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void StartElection(bool pre, bool transfer);
  void Poll(NodeId from, bool granted, bool pre);

  Status StepLeader(const Message& m);
  Status StepFollower(const Message& m);
  Status StepCandidate(const Message& m);
  void HandleAppend(const Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshotChunk(const Message& m);
  void HandleAppendResp(const Message& m);
  void HandleHeartbeatResp(const Message& m);
  void HandleSnapshotResp(const Message& m);
  void HandleReadIndexRequest(NodeId from, uint64_t ctx);
  void HandleVoteRequest(const Message& m);

  // Log.
  bool MatchTerm(Index i, Term t) const { return TermAt(i) == t && (t != 0 || i == 0); }
  bool IsUpToDate(Index last_index, Term last_term) const;
  // Appends entries at their indexes, truncating a conflicting suffix.
  void AppendToLog(const std::vector<Entry>& ents);
  void TruncateFrom(Index i);
  Index FindConflictByTerm(Index i, Term t) const;
  void CommitTo(Index c);
  void RestoreSnapshot(const Snapshot& s);
  void ApplyConf(const ConfState& cs);
  ConfState ConfAt(Index i) const;

  // Leader.
  Index AppendLocal(EntryType type, std::string data);
  void BroadcastAppend();
  void BroadcastCommit();
  void BroadcastHeartbeat();
  bool SendAppend(NodeId to, bool send_if_empty);
  void SendSnapshotChunk(NodeId to, Progress& pr);
  void SendHeartbeat(NodeId to);
  bool MaybeCommit();
  void ConfirmReads();
  bool QuorumActive() const;
  HardState CurrentHardState() const;
  void AbortTransfer() {
    lead_transferee_ = kNone;
    transfer_elapsed_ = 0;
  }

  Config cfg_;
  Term term_ = 0;
  NodeId vote_ = kNone;
  NodeId leader_ = kNone;
  Role role_ = Role::kFollower;

  // Log: entries (offset_, offset_ + log_.size()] live in log_; offset_term_
  // is the term at offset_ (the snapshot point).
  Index offset_ = 0;
  Term offset_term_ = 0;
  std::deque<Entry> log_;
  Index commit_ = 0;
  Index applied_ = 0;
  Index unstable_from_ = 1;                   // first index not yet handed out in a Ready
  Index stable_to_ = 0;                       // last index known durable
  Snapshot snapshot_;                         // latest snapshot (own or installed)
  std::optional<Snapshot> pending_snapshot_;  // received, to be persisted and applied
  bool ready_outstanding_ = false;
  Index ready_applied_to_ = 0;  // committed entries handed out so far

  ConfState conf_;
  std::vector<std::pair<Index, ConfState>> conf_history_;  // (index, config) in log order

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_timeout_ = 0;
  std::map<NodeId, Progress> prs_;
  std::map<NodeId, bool> votes_;
  NodeId lead_transferee_ = kNone;
  size_t uncommitted_bytes_ = 0;
  bool UncommittedFull(size_t more) const {
    return cfg_.max_uncommitted_bytes > 0 && uncommitted_bytes_ > 0 &&
           uncommitted_bytes_ + more > cfg_.max_uncommitted_bytes;
  }
  int transfer_elapsed_ = 0;

  // Read index.
  struct PendingRead {
    Index index;
    uint64_t ctx;
    NodeId from;
    uint64_t seq;
  };
  uint64_t hb_seq_ = 0;
  std::deque<PendingRead> pending_reads_;
  std::vector<ReadState> read_states_;

  // Incoming snapshot being assembled from chunks.
  SnapshotMeta incoming_meta_;
  std::string incoming_data_;
  bool incoming_active_ = false;

  std::vector<Message> msgs_;
  HardState last_hs_;
  SoftState last_ss_;
};

}  // namespace sb::raft
