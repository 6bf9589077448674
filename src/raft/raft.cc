#include "raft/raft.h"

#include <algorithm>
#include <sstream>

#include "raft/codec.h"

namespace sb::raft {

namespace {
constexpr uint64_t kCampaignTransfer = 1;

Status NotLeader(NodeId leader) {
  if (leader == kNone)
    return Status::Error(kNotLeaderCode, "raft: no leader is known",
                         "retry after an election completes");
  return Status::Error(kNotLeaderCode,
                       "raft: not the leader; leader is node " + std::to_string(leader),
                       "redirect the request to node " + std::to_string(leader));
}

void SortedInsert(std::vector<NodeId>& v, NodeId id) {
  auto it = std::lower_bound(v.begin(), v.end(), id);
  if (it == v.end() || *it != id) v.insert(it, id);
}
void Erase(std::vector<NodeId>& v, NodeId id) {
  v.erase(std::remove(v.begin(), v.end(), id), v.end());
}
}  // namespace

bool ConfState::IsVoter(NodeId id) const {
  return std::binary_search(voters.begin(), voters.end(), id);
}
bool ConfState::IsLearner(NodeId id) const {
  return std::binary_search(learners.begin(), learners.end(), id);
}
std::string ConfState::ToString() const {
  std::ostringstream os;
  os << "voters{";
  for (size_t i = 0; i < voters.size(); ++i) os << (i ? "," : "") << voters[i];
  os << "} learners{";
  for (size_t i = 0; i < learners.size(); ++i) os << (i ? "," : "") << learners[i];
  os << "}";
  return os.str();
}

const char* MsgTypeName(MsgType t) {
  switch (t) {
    case MsgType::kAppend:
      return "Append";
    case MsgType::kAppendResp:
      return "AppendResp";
    case MsgType::kVote:
      return "Vote";
    case MsgType::kVoteResp:
      return "VoteResp";
    case MsgType::kPreVote:
      return "PreVote";
    case MsgType::kPreVoteResp:
      return "PreVoteResp";
    case MsgType::kHeartbeat:
      return "Heartbeat";
    case MsgType::kHeartbeatResp:
      return "HeartbeatResp";
    case MsgType::kSnapshot:
      return "Snapshot";
    case MsgType::kSnapshotResp:
      return "SnapshotResp";
    case MsgType::kProp:
      return "Prop";
    case MsgType::kReadIndex:
      return "ReadIndex";
    case MsgType::kReadIndexResp:
      return "ReadIndexResp";
    case MsgType::kTimeoutNow:
      return "TimeoutNow";
  }
  return "?";
}

const char* RoleName(Role r) {
  switch (r) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

std::string Message::ToString() const {
  std::ostringstream os;
  os << MsgTypeName(type) << " " << from << "->" << to << " t" << term;
  switch (type) {
    case MsgType::kAppend:
      os << " prev=" << index << "/t" << log_term << " n=" << entries.size();
      if (!entries.empty())
        os << " [" << entries.front().index << ".." << entries.back().index << "]";
      os << " commit=" << commit;
      break;
    case MsgType::kAppendResp:
      os << (reject ? " REJECT idx=" : " ok idx=") << index;
      if (reject) os << " hint=" << reject_hint << "/t" << log_term;
      break;
    case MsgType::kVote:
    case MsgType::kPreVote:
      os << " last=" << index << "/t" << log_term << (ctx ? " force" : "");
      break;
    case MsgType::kVoteResp:
    case MsgType::kPreVoteResp:
      os << (reject ? " REJECT" : " GRANT");
      break;
    case MsgType::kHeartbeat:
      os << " commit=" << commit << " seq=" << ctx;
      break;
    case MsgType::kHeartbeatResp:
      os << " seq=" << ctx;
      break;
    case MsgType::kSnapshot:
      os << " snap=" << snap_meta.index << "/t" << snap_meta.term << " off=" << snap_offset
         << " len=" << snap_data.size() << (snap_done ? " done" : "");
      break;
    case MsgType::kSnapshotResp:
      os << " snap=" << index << " have=" << snap_offset << (reject ? " REJECT" : "");
      break;
    case MsgType::kReadIndex:
    case MsgType::kReadIndexResp:
      os << " idx=" << index << " ctx=" << ctx;
      break;
    default:
      break;
  }
  return os.str();
}

// ---------------------------------------------------------------------------

Raft::Raft(Config config, InitialState st) : cfg_(std::move(config)) {
  if (!cfg_.random) {
    uint64_t x = cfg_.id * 0x9E3779B97F4A7C15ull + 1;
    cfg_.random = [x]() mutable {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      return x;
    };
  }
  if (cfg_.election_ticks < 2) cfg_.election_ticks = 2;
  if (cfg_.heartbeat_ticks < 1) cfg_.heartbeat_ticks = 1;
  if (cfg_.max_inflight_msgs < 1) cfg_.max_inflight_msgs = 1;
  snapshot_ = std::move(st.snapshot);
  offset_ = snapshot_.meta.index;
  offset_term_ = snapshot_.meta.term;
  conf_history_.push_back({offset_, snapshot_.meta.conf});
  for (Entry& e : st.entries) {
    if (e.index != offset_ + log_.size() + 1) break;  // storage guarantees contiguity
    if (e.type == EntryType::kConfChange) {
      auto cs = DecodeConfStateString(e.data);
      if (cs.ok()) conf_history_.push_back({e.index, *cs});
    }
    log_.push_back(std::move(e));
  }
  conf_ = conf_history_.back().second;
  term_ = st.hard_state.term;
  vote_ = st.hard_state.vote;
  commit_ = std::min(std::max(st.hard_state.commit, offset_), last_index());
  applied_ = offset_;
  ready_applied_to_ = offset_;
  unstable_from_ = last_index() + 1;
  stable_to_ = last_index();
  last_hs_ = st.hard_state;
  Reset(term_);
  role_ = Role::kFollower;
  last_ss_ = SoftState{leader_, role_};
}

Term Raft::TermAt(Index i) const {
  if (i == offset_) return offset_term_;
  if (i < offset_ || i > last_index()) return 0;
  return log_[i - offset_ - 1].term;
}

const Entry* Raft::EntryAt(Index i) const {
  if (i <= offset_ || i > last_index()) return nullptr;
  return &log_[i - offset_ - 1];
}

void Raft::Send(Message m) {
  m.from = cfg_.id;
  if (m.type != MsgType::kPreVote && m.type != MsgType::kPreVoteResp &&
      m.type != MsgType::kVoteResp)
    m.term = term_;
  msgs_.push_back(std::move(m));
}

void Raft::ResetRandomizedTimeout() {
  randomized_timeout_ =
      cfg_.election_ticks +
      static_cast<int>(cfg_.random() % static_cast<uint64_t>(cfg_.election_ticks));
}

void Raft::Reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNone;
  }
  leader_ = kNone;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedTimeout();
  AbortTransfer();
  votes_.clear();
  pending_reads_.clear();
  prs_.clear();
}

void Raft::BecomeFollower(Term term, NodeId leader) {
  Reset(term);
  leader_ = leader;
  role_ = Role::kFollower;
}

void Raft::BecomePreCandidate() {
  votes_.clear();
  prs_.clear();
  pending_reads_.clear();
  leader_ = kNone;
  role_ = Role::kPreCandidate;
  ResetRandomizedTimeout();
}

void Raft::BecomeCandidate() {
  Reset(term_ + 1);
  vote_ = cfg_.id;
  role_ = Role::kCandidate;
}

void Raft::BecomeLeader() {
  role_ = Role::kLeader;
  leader_ = cfg_.id;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  AbortTransfer();
  prs_.clear();
  uncommitted_bytes_ = 0;
  auto add = [&](NodeId id) {
    Progress pr;
    pr.next = last_index() + 1;
    pr.recent_active = true;
    pr.was_active = true;
    if (id == cfg_.id) pr.match = stable_to_;
    prs_[id] = pr;
  };
  for (NodeId id : conf_.voters) add(id);
  for (NodeId id : conf_.learners) add(id);
  // A leader commits an entry of its own term before anything else (no-op).
  if (cfg_.leader_noop) {
    AppendLocal(EntryType::kNormal, "");
    BroadcastAppend();
  } else {
    for (auto& [id, pr] : prs_)
      if (id != cfg_.id) SendAppend(id, true);
  }
}

void Raft::StartElection(bool pre, bool transfer) {
  if (!Promotable()) return;
  if (pre) {
    BecomePreCandidate();
  } else {
    BecomeCandidate();
  }
  Term t = pre ? term_ + 1 : term_;
  for (NodeId id : conf_.voters) {
    if (id == cfg_.id) continue;
    Message m;
    m.type = pre ? MsgType::kPreVote : MsgType::kVote;
    m.to = id;
    m.term = t;
    m.index = last_index();
    m.log_term = last_term();
    m.ctx = transfer ? kCampaignTransfer : 0;
    Send(std::move(m));
  }
  Poll(cfg_.id, true, pre);
}

void Raft::Poll(NodeId from, bool granted, bool pre) {
  if (!IsVoter(from)) return;
  votes_.emplace(from, granted);
  size_t yes = 0, no = 0;
  for (auto& [id, g] : votes_) (g ? yes : no)++;
  if (yes >= Quorum()) {
    if (pre) {
      StartElection(false, false);
    } else {
      BecomeLeader();
    }
  } else if (no > conf_.voters.size() - Quorum()) {
    BecomeFollower(term_, kNone);
  }
}

Status Raft::Campaign() {
  if (role_ == Role::kLeader) return Status::Ok();
  if (!Promotable()) return Status::InvalidArgument("raft: this node is not a voter");
  StartElection(cfg_.pre_vote, false);
  return Status::Ok();
}

void Raft::Tick() {
  if (role_ == Role::kLeader) {
    ++heartbeat_elapsed_;
    ++election_elapsed_;
    if (lead_transferee_ != kNone && ++transfer_elapsed_ >= cfg_.election_ticks) AbortTransfer();
    if (election_elapsed_ >= cfg_.election_ticks) {
      election_elapsed_ = 0;
      if (cfg_.check_quorum) {
        if (!QuorumActive()) {
          BecomeFollower(term_, kNone);
          return;
        }
        for (auto& [id, pr] : prs_) {
          pr.was_active = pr.recent_active;
          pr.recent_active = (id == cfg_.id);
        }
      }
    }
    if (heartbeat_elapsed_ >= cfg_.heartbeat_ticks) {
      heartbeat_elapsed_ = 0;
      BroadcastHeartbeat();
    }
    return;
  }
  ++election_elapsed_;
  if (Promotable() && election_elapsed_ >= randomized_timeout_) {
    election_elapsed_ = 0;
    StartElection(cfg_.pre_vote, false);
  }
}

bool Raft::QuorumActive() const {
  size_t n = 0;
  for (NodeId id : conf_.voters) {
    if (id == cfg_.id) {
      ++n;
      continue;
    }
    auto it = prs_.find(id);
    if (it != prs_.end() && it->second.recent_active) ++n;
  }
  return n >= Quorum();
}

// ---------------------------------------------------------------------------

Status Raft::Step(const Message& m) {
  if (m.to != cfg_.id || m.from == kNone || m.from == cfg_.id)
    return Status::InvalidArgument("raft: message " + m.ToString() + " is not addressed to node " +
                                   std::to_string(cfg_.id));
  if (m.term > term_) {
    if (m.type == MsgType::kVote || m.type == MsgType::kPreVote) {
      bool force = m.ctx == kCampaignTransfer;
      bool in_lease =
          cfg_.check_quorum && leader_ != kNone && election_elapsed_ < cfg_.election_ticks;
      if (!force && in_lease) return Status::Ok();  // a live leader exists: ignore
    }
    if (m.type == MsgType::kPreVote) {
      // never change term on a pre-vote request
    } else if (m.type == MsgType::kPreVoteResp && !m.reject) {
      // granted pre-votes carry the future term
    } else if (m.type == MsgType::kAppend || m.type == MsgType::kHeartbeat ||
               m.type == MsgType::kSnapshot) {
      BecomeFollower(m.term, m.from);
    } else {
      BecomeFollower(m.term, kNone);
    }
  } else if (m.term < term_) {
    if ((cfg_.check_quorum || cfg_.pre_vote) &&
        (m.type == MsgType::kHeartbeat || m.type == MsgType::kAppend)) {
      // Tell a stale leader about the newer term so it steps down.
      Message r;
      r.type = MsgType::kAppendResp;
      r.to = m.from;
      Send(std::move(r));
    } else if (m.type == MsgType::kPreVote) {
      Message r;
      r.type = MsgType::kPreVoteResp;
      r.to = m.from;
      r.term = term_;
      r.reject = true;
      Send(std::move(r));
    }
    return Status::Ok();
  }

  if (m.type == MsgType::kVote || m.type == MsgType::kPreVote) {
    HandleVoteRequest(m);
    return Status::Ok();
  }
  switch (role_) {
    case Role::kLeader:
      return StepLeader(m);
    case Role::kFollower:
      return StepFollower(m);
    default:
      return StepCandidate(m);
  }
}

bool Raft::IsUpToDate(Index li, Term lt) const {
  return lt > last_term() || (lt == last_term() && li >= last_index());
}

void Raft::HandleVoteRequest(const Message& m) {
  bool pre = m.type == MsgType::kPreVote;
  bool can_vote =
      vote_ == m.from || (vote_ == kNone && leader_ == kNone) || (pre && m.term > term_);
  bool up = cfg_.bugs.vote_without_log_check || IsUpToDate(m.index, m.log_term);
  Message r;
  r.type = pre ? MsgType::kPreVoteResp : MsgType::kVoteResp;
  r.to = m.from;
  if (can_vote && up) {
    r.term = m.term;
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    r.term = term_;
    r.reject = true;
  }
  Send(std::move(r));
}

Status Raft::StepFollower(const Message& m) {
  switch (m.type) {
    case MsgType::kAppend:
      election_elapsed_ = 0;
      leader_ = m.from;
      HandleAppend(m);
      break;
    case MsgType::kHeartbeat:
      election_elapsed_ = 0;
      leader_ = m.from;
      HandleHeartbeat(m);
      break;
    case MsgType::kSnapshot:
      election_elapsed_ = 0;
      leader_ = m.from;
      HandleSnapshotChunk(m);
      break;
    case MsgType::kReadIndexResp:
      read_states_.push_back(ReadState{m.index, m.ctx});
      break;
    case MsgType::kTimeoutNow:
      if (Promotable()) StartElection(false, true);
      break;
    default:
      break;  // forwarded proposals and stale responses are dropped
  }
  return Status::Ok();
}

Status Raft::StepCandidate(const Message& m) {
  switch (m.type) {
    case MsgType::kAppend:
    case MsgType::kHeartbeat:
    case MsgType::kSnapshot:
      BecomeFollower(term_, m.from);
      return StepFollower(m);
    case MsgType::kPreVoteResp:
      if (role_ == Role::kPreCandidate) Poll(m.from, !m.reject, true);
      break;
    case MsgType::kVoteResp:
      if (role_ == Role::kCandidate) Poll(m.from, !m.reject, false);
      break;
    default:
      break;
  }
  return Status::Ok();
}

Status Raft::StepLeader(const Message& m) {
  switch (m.type) {
    case MsgType::kProp:
      if (lead_transferee_ != kNone) break;
      for (const Entry& e : m.entries) {
        if (e.type != EntryType::kNormal) continue;    // conf changes are never forwarded
        if (UncommittedFull(e.data.size())) continue;  // dropped; the caller retries
        AppendLocal(EntryType::kNormal, e.data);
      }
      BroadcastAppend();
      break;
    case MsgType::kAppendResp:
      HandleAppendResp(m);
      break;
    case MsgType::kHeartbeatResp:
      HandleHeartbeatResp(m);
      break;
    case MsgType::kSnapshotResp:
      HandleSnapshotResp(m);
      break;
    case MsgType::kReadIndex:
      HandleReadIndexRequest(m.from, m.ctx);
      break;
    default:
      break;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Follower side of replication.

void Raft::HandleAppend(const Message& m) {
  Message r;
  r.type = MsgType::kAppendResp;
  r.to = m.from;
  if (m.index < commit_) {
    r.index = commit_;
    Send(std::move(r));
    return;
  }
  if (MatchTerm(m.index, m.log_term)) {
    if (cfg_.bugs.truncate_on_append) TruncateFrom(std::max(m.index, commit_) + 1);
    AppendToLog(m.entries);
    Index last_new = m.index + m.entries.size();
    CommitTo(std::min(m.commit, last_new));
    r.index = last_new;
    Send(std::move(r));
    return;
  }
  Index hint = std::min(m.index, last_index());
  hint = FindConflictByTerm(hint, m.log_term);
  r.reject = true;
  r.index = m.index;
  r.reject_hint = hint;
  r.log_term = TermAt(hint);
  Send(std::move(r));
}

void Raft::HandleHeartbeat(const Message& m) {
  CommitTo(std::min(m.commit, last_index()));
  Message r;
  r.type = MsgType::kHeartbeatResp;
  r.to = m.from;
  r.ctx = m.ctx;
  Send(std::move(r));
}

void Raft::HandleSnapshotChunk(const Message& m) {
  const SnapshotMeta& meta = m.snap_meta;
  Message r;
  r.to = m.from;
  if (m.snap_offset == 0) {
    incoming_meta_ = meta;
    incoming_data_.clear();
    incoming_active_ = true;
  } else if (!incoming_active_ || !(incoming_meta_ == meta) ||
             m.snap_offset != incoming_data_.size()) {
    r.type = MsgType::kSnapshotResp;
    r.index = meta.index;
    r.reject = true;
    r.snap_offset = (incoming_active_ && incoming_meta_ == meta) ? incoming_data_.size() : 0;
    Send(std::move(r));
    return;
  }
  incoming_data_ += m.snap_data;
  if (!m.snap_done) {
    r.type = MsgType::kSnapshotResp;
    r.index = meta.index;
    r.snap_offset = incoming_data_.size();
    Send(std::move(r));
    return;
  }
  incoming_active_ = false;
  Snapshot s{meta, std::move(incoming_data_)};
  incoming_data_.clear();
  r.type = MsgType::kAppendResp;
  if (meta.index <= commit_) {
    r.index = commit_;
  } else if (MatchTerm(meta.index, meta.term)) {
    CommitTo(meta.index);
    r.index = commit_;
  } else {
    RestoreSnapshot(s);
    r.index = last_index();
  }
  Send(std::move(r));
}

void Raft::RestoreSnapshot(const Snapshot& s) {
  log_.clear();
  offset_ = s.meta.index;
  offset_term_ = s.meta.term;
  commit_ = offset_;
  snapshot_ = s;
  pending_snapshot_ = s;
  unstable_from_ = offset_ + 1;
  stable_to_ = std::min(stable_to_, offset_);
  ready_applied_to_ = offset_;
  conf_history_.clear();
  conf_history_.push_back({offset_, s.meta.conf});
  ApplyConf(s.meta.conf);
}

void Raft::AppendToLog(const std::vector<Entry>& ents) {
  size_t k = 0;
  for (; k < ents.size(); ++k) {
    const Entry& e = ents[k];
    if (e.index <= offset_) continue;
    if (e.index <= last_index() && TermAt(e.index) == e.term) continue;
    break;
  }
  if (k == ents.size()) return;
  if (ents[k].index <= last_index()) TruncateFrom(ents[k].index);
  bool conf_changed = false;
  for (; k < ents.size(); ++k) {
    const Entry& e = ents[k];
    if (e.index != last_index() + 1) break;  // defensive: never leave a gap
    log_.push_back(e);
    if (e.type == EntryType::kConfChange) {
      auto cs = DecodeConfStateString(e.data);
      if (cs.ok()) {
        conf_history_.push_back({e.index, *cs});
        conf_changed = true;
      }
    }
  }
  if (conf_changed) ApplyConf(conf_history_.back().second);
}

void Raft::TruncateFrom(Index i) {
  if (i <= offset_ || i > last_index()) return;
  log_.resize(i - offset_ - 1);
  unstable_from_ = std::min(unstable_from_, i);
  stable_to_ = std::min(stable_to_, i - 1);
  bool popped = false;
  while (conf_history_.size() > 1 && conf_history_.back().first >= i) {
    conf_history_.pop_back();
    popped = true;
  }
  if (popped) ApplyConf(conf_history_.back().second);
}

Index Raft::FindConflictByTerm(Index i, Term t) const {
  if (i > last_index()) i = last_index();
  while (i > offset_ && TermAt(i) > t) --i;
  return i;
}

void Raft::CommitTo(Index c) {
  c = std::min(c, last_index());
  if (c > commit_) commit_ = c;
}

ConfState Raft::ConfAt(Index i) const {
  ConfState cs = conf_history_.front().second;
  for (auto& [idx, c] : conf_history_) {
    if (idx <= i) cs = c;
  }
  return cs;
}

void Raft::ApplyConf(const ConfState& cs) {
  conf_ = cs;
  if (role_ == Role::kLeader) {
    for (auto it = prs_.begin(); it != prs_.end();) {
      if (!conf_.Contains(it->first) && it->first != cfg_.id) {
        it = prs_.erase(it);
      } else {
        ++it;
      }
    }
    auto add = [&](NodeId id) {
      if (prs_.count(id)) return;
      Progress pr;
      pr.next = last_index() + 1;
      pr.recent_active = true;
      prs_[id] = pr;
    };
    for (NodeId id : conf_.voters) add(id);
    for (NodeId id : conf_.learners) add(id);
    if (lead_transferee_ != kNone && !IsVoter(lead_transferee_)) AbortTransfer();
  } else if (!Promotable() && role_ != Role::kFollower) {
    BecomeFollower(term_, kNone);
  }
}

// ---------------------------------------------------------------------------
// Leader side of replication.

Index Raft::AppendLocal(EntryType type, std::string data) {
  Entry e;
  e.term = term_;
  e.index = last_index() + 1;
  e.type = type;
  e.data = std::move(data);
  bool conf = type == EntryType::kConfChange;
  ConfState cs;
  if (conf) {
    auto r = DecodeConfStateString(e.data);
    cs = r.ok() ? *r : conf_;
  }
  if (role_ == Role::kLeader) uncommitted_bytes_ += e.data.size();
  log_.push_back(std::move(e));
  if (conf) {
    conf_history_.push_back({last_index(), cs});
    ApplyConf(cs);
  }
  return last_index();
}

void Raft::BroadcastAppend() {
  for (auto& [id, pr] : prs_) {
    if (id == cfg_.id) continue;
    while (SendAppend(id, false)) {
    }
  }
}

// A new commit index goes to the followers at once, in an empty append if
// there is nothing else to send, instead of with the next heartbeat: a
// follower that proposed (or waits to serve a read) applies without waiting
// for a tick.
void Raft::BroadcastCommit() {
  for (auto& [id, pr] : prs_) {
    if (id == cfg_.id) continue;
    if (!SendAppend(id, true)) continue;
    while (SendAppend(id, false)) {
    }
  }
}

bool Raft::SendAppend(NodeId to, bool send_if_empty) {
  auto it = prs_.find(to);
  if (it == prs_.end()) return false;
  Progress& pr = it->second;
  switch (pr.state) {
    case Progress::State::kProbe:
      if (pr.probe_sent) return false;
      break;
    case Progress::State::kReplicate:
      if (pr.inflight.size() >= cfg_.max_inflight_msgs) return false;
      break;
    case Progress::State::kSnapshot:
      return false;
  }
  Index prev = pr.next - 1;
  Term prev_term = TermAt(prev);
  if (prev < offset_ || (prev_term == 0 && prev != 0)) {
    if (snapshot_.empty()) return false;
    pr.state = Progress::State::kSnapshot;
    pr.inflight.clear();
    pr.snap_index = snapshot_.meta.index;
    pr.snap_offset = 0;
    pr.snap_acked = false;
    SendSnapshotChunk(to, pr);
    return false;
  }
  Message m;
  m.type = MsgType::kAppend;
  m.to = to;
  m.index = prev;
  m.log_term = prev_term;
  size_t bytes = 0;
  for (Index i = pr.next; i <= last_index() && m.entries.size() < cfg_.max_msg_entries; ++i) {
    const Entry* e = EntryAt(i);
    if (!m.entries.empty() && bytes + e->data.size() > cfg_.max_msg_bytes) break;
    bytes += e->data.size();
    m.entries.push_back(*e);
  }
  if (m.entries.empty() && !send_if_empty) return false;
  m.commit = commit_;
  bool sent_entries = !m.entries.empty();
  if (pr.state == Progress::State::kReplicate) {
    if (sent_entries) {
      pr.next = m.entries.back().index + 1;
      pr.inflight.push_back(m.entries.back().index);
    }
  } else {
    pr.probe_sent = true;
  }
  Send(std::move(m));
  return sent_entries && pr.state == Progress::State::kReplicate;
}

void Raft::SendSnapshotChunk(NodeId to, Progress& pr) {
  if (pr.snap_index != snapshot_.meta.index) {
    pr.snap_index = snapshot_.meta.index;
    pr.snap_offset = 0;
  }
  if (pr.snap_offset > snapshot_.data.size()) pr.snap_offset = 0;
  Message m;
  m.type = MsgType::kSnapshot;
  m.to = to;
  m.snap_meta = snapshot_.meta;
  m.snap_offset = pr.snap_offset;
  m.snap_data = snapshot_.data.substr(pr.snap_offset, cfg_.snapshot_chunk_bytes);
  m.snap_done = pr.snap_offset + m.snap_data.size() >= snapshot_.data.size();
  Send(std::move(m));
}

void Raft::SendHeartbeat(NodeId to) {
  auto it = prs_.find(to);
  if (it == prs_.end()) return;
  Message m;
  m.type = MsgType::kHeartbeat;
  m.to = to;
  m.commit = std::min(it->second.match, commit_);
  m.ctx = hb_seq_;
  Send(std::move(m));
}

void Raft::BroadcastHeartbeat() {
  for (auto& [id, pr] : prs_) {
    if (id == cfg_.id) continue;
    SendHeartbeat(id);
    pr.acked_since_hb = false;
    if (pr.state == Progress::State::kSnapshot) {
      if (!pr.snap_acked) SendSnapshotChunk(id, pr);
      pr.snap_acked = false;
    }
  }
}

void Raft::HandleAppendResp(const Message& m) {
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  pr.acked_since_hb = true;
  if (m.reject) {
    if (m.index <= pr.match) return;  // stale: that prefix was acknowledged already
    if (pr.state == Progress::State::kReplicate) {
      pr.state = Progress::State::kProbe;
      pr.inflight.clear();
      pr.next = pr.match + 1;
    } else if (pr.state == Progress::State::kProbe) {
      if (pr.next - 1 != m.index) return;  // stale
    } else {
      return;
    }
    Index hint = m.reject_hint;
    if (m.log_term > 0) hint = FindConflictByTerm(hint, m.log_term);
    pr.next = std::max(std::min(m.index, hint + 1), pr.match + 1);
    pr.probe_sent = false;
    SendAppend(m.from, true);
    return;
  }
  bool updated = false;
  if (m.index > pr.match) {
    pr.match = m.index;
    updated = true;
  }
  pr.next = std::max(pr.next, m.index + 1);
  while (!pr.inflight.empty() && pr.inflight.front() <= m.index) pr.inflight.pop_front();
  switch (pr.state) {
    case Progress::State::kProbe:
      if (updated || m.index == pr.match) {
        pr.state = Progress::State::kReplicate;
        pr.next = pr.match + 1;
        pr.inflight.clear();
      }
      break;
    case Progress::State::kSnapshot:
      if (pr.match >= pr.snap_index) {
        pr.state = Progress::State::kReplicate;
        pr.next = pr.match + 1;
        pr.inflight.clear();
      }
      break;
    case Progress::State::kReplicate:
      break;
  }
  pr.probe_sent = false;
  if (updated && MaybeCommit()) {
    if (role_ != Role::kLeader) return;
    BroadcastCommit();
  }
  while (SendAppend(m.from, false)) {
  }
  auto it2 = prs_.find(m.from);
  if (it2 != prs_.end() && m.from == lead_transferee_ && it2->second.match == last_index()) {
    Message t;
    t.type = MsgType::kTimeoutNow;
    t.to = m.from;
    Send(std::move(t));
  }
}

void Raft::HandleHeartbeatResp(const Message& m) {
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  pr.read_seq = std::max(pr.read_seq, m.ctx);
  pr.probe_sent = false;
  if (pr.match < last_index()) {
    if (pr.state == Progress::State::kReplicate && !pr.acked_since_hb) {
      pr.state = Progress::State::kProbe;
      pr.next = pr.match + 1;
      pr.inflight.clear();
    }
    if (pr.state == Progress::State::kProbe) SendAppend(m.from, true);
  }
  ConfirmReads();
}

void Raft::HandleSnapshotResp(const Message& m) {
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (pr.state != Progress::State::kSnapshot || m.index != pr.snap_index) return;
  pr.snap_acked = true;
  pr.snap_offset = m.snap_offset;
  SendSnapshotChunk(m.from, pr);
}

bool Raft::MaybeCommit() {
  std::vector<Index> matches;
  for (NodeId id : conf_.voters) {
    auto it = prs_.find(id);
    matches.push_back(it == prs_.end() ? 0 : it->second.match);
  }
  if (matches.empty()) return false;
  std::sort(matches.begin(), matches.end(), std::greater<Index>());
  Index mci = matches[Quorum() - 1];
  if (mci <= commit_) return false;
  if (TermAt(mci) != term_ && !cfg_.bugs.commit_old_term_by_count) return false;
  for (Index i = commit_ + 1; i <= mci; ++i) {
    const Entry* e = EntryAt(i);
    if (e && e->term == term_) uncommitted_bytes_ -= std::min(uncommitted_bytes_, e->data.size());
  }
  commit_ = mci;
  // A leader removed from the voters steps down once its removal is committed.
  if (!IsVoter(cfg_.id) && conf_history_.back().first <= commit_) {
    BecomeFollower(term_, kNone);
  }
  return true;
}

void Raft::HandleReadIndexRequest(NodeId from, uint64_t ctx) {
  if (TermAt(commit_) != term_) return;  // not yet safe; the requester retries
  PendingRead r{commit_, ctx, from, ++hb_seq_};
  if (cfg_.bugs.read_index_without_quorum) r.seq = 0;  // "still leader, surely"
  pending_reads_.push_back(r);
  for (NodeId id : conf_.voters) {
    if (id != cfg_.id) SendHeartbeat(id);
  }
  ConfirmReads();
}

void Raft::ConfirmReads() {
  while (!pending_reads_.empty()) {
    const PendingRead& r = pending_reads_.front();
    size_t acks = 0;
    for (NodeId id : conf_.voters) {
      if (id == cfg_.id) {
        ++acks;
        continue;
      }
      auto it = prs_.find(id);
      if (it != prs_.end() && it->second.read_seq >= r.seq) ++acks;
    }
    if (acks < Quorum()) return;
    if (r.from == cfg_.id) {
      read_states_.push_back(ReadState{r.index, r.ctx});
    } else {
      Message m;
      m.type = MsgType::kReadIndexResp;
      m.to = r.from;
      m.index = r.index;
      m.ctx = r.ctx;
      Send(std::move(m));
    }
    pending_reads_.pop_front();
  }
}

// ---------------------------------------------------------------------------
// Application entry points.

Result<ProposeResult> Raft::Propose(std::string data) {
  if (role_ != Role::kLeader) {
    if (leader_ == kNone || !cfg_.forward_proposals) return NotLeader(leader_);
    Message m;
    m.type = MsgType::kProp;
    m.to = leader_;
    Entry e;
    e.data = std::move(data);
    m.entries.push_back(std::move(e));
    Send(std::move(m));
    ProposeResult r;
    r.forwarded = true;
    return r;
  }
  if (lead_transferee_ != kNone)
    return Status::Error(kNotLeaderCode, "raft: leadership transfer in progress",
                         "retry shortly; the leader is changing");
  if (UncommittedFull(data.size()))
    return Status::Error(kBusyCode, "raft: too much uncommitted data on the leader",
                         "a quorum may be unreachable; retry later");
  ProposeResult r;
  r.index = AppendLocal(EntryType::kNormal, std::move(data));
  r.term = term_;
  BroadcastAppend();
  return r;
}

Result<ProposeResult> Raft::ProposeConfChange(const ConfChange& cc) {
  if (role_ != Role::kLeader) return NotLeader(leader_);
  if (lead_transferee_ != kNone)
    return Status::Error(kNotLeaderCode, "raft: leadership transfer in progress");
  if (conf_history_.back().first > commit_)
    return Status::Error(kConfRefusedCode, "raft: a membership change is already in progress",
                         "wait until it commits and retry");
  if (TermAt(commit_) != term_)
    return Status::Error(kConfRefusedCode,
                         "raft: the leader has not committed an entry in its term yet",
                         "retry shortly");
  ConfState next = conf_;
  switch (cc.kind) {
    case ConfChange::Kind::kAddLearner:
      if (next.Contains(cc.node))
        return Status::Error(kConfRefusedCode,
                             "raft: node " + std::to_string(cc.node) + " is already a member");
      SortedInsert(next.learners, cc.node);
      break;
    case ConfChange::Kind::kPromoteVoter: {
      if (!next.IsLearner(cc.node))
        return Status::Error(kConfRefusedCode,
                             "raft: node " + std::to_string(cc.node) + " is not a learner",
                             "add it as a learner first and let it catch up");
      auto it = prs_.find(cc.node);
      if (it == prs_.end() || it->second.match < commit_)
        return Status::Error(kConfRefusedCode,
                             "raft: learner " + std::to_string(cc.node) + " has not caught up",
                             "retry once it has replicated the log");
      Erase(next.learners, cc.node);
      SortedInsert(next.voters, cc.node);
      break;
    }
    case ConfChange::Kind::kRemoveNode:
      if (!next.Contains(cc.node))
        return Status::Error(kConfRefusedCode,
                             "raft: node " + std::to_string(cc.node) + " is not a member");
      Erase(next.learners, cc.node);
      Erase(next.voters, cc.node);
      break;
  }
  if (next.voters.empty())
    return Status::Error(kConfRefusedCode, "raft: the change would leave no voters");
  size_t reachable = 0;
  for (NodeId id : next.voters) {
    if (id == cfg_.id) {
      ++reachable;
      continue;
    }
    auto it = prs_.find(id);
    if (it != prs_.end() && (it->second.recent_active || it->second.was_active)) ++reachable;
  }
  if (reachable < next.voters.size() / 2 + 1)
    return Status::Error(kConfRefusedCode,
                         "raft: the change would leave the cluster without a reachable quorum",
                         "restore connectivity to more voters first");
  ProposeResult r;
  r.index = AppendLocal(EntryType::kConfChange, EncodeConfStateString(next));
  r.term = term_;
  BroadcastAppend();
  return r;
}

Status Raft::TransferLeadership(NodeId target) {
  if (role_ != Role::kLeader) return NotLeader(leader_);
  if (target == cfg_.id) return Status::Ok();
  if (!IsVoter(target))
    return Status::InvalidArgument("raft: transfer target " + std::to_string(target) +
                                   " is not a voter");
  lead_transferee_ = target;
  transfer_elapsed_ = 0;
  auto& pr = prs_[target];
  if (pr.match == last_index()) {
    Message t;
    t.type = MsgType::kTimeoutNow;
    t.to = target;
    Send(std::move(t));
  } else {
    SendAppend(target, true);
  }
  return Status::Ok();
}

Status Raft::ReadIndex(uint64_t ctx) {
  if (role_ != Role::kLeader) {
    if (leader_ == kNone) return NotLeader(kNone);
    Message m;
    m.type = MsgType::kReadIndex;
    m.to = leader_;
    m.ctx = ctx;
    Send(std::move(m));
    return Status::Ok();
  }
  if (TermAt(commit_) != term_)
    return Status::Error(kNotLeaderCode, "raft: the leader has not committed in its term yet",
                         "retry shortly");
  HandleReadIndexRequest(cfg_.id, ctx);
  return Status::Ok();
}

Status Raft::Compact(Index index, std::string data) {
  if (index <= offset_) return Status::Ok();
  if (index > applied_)
    return Status::InvalidArgument("raft: cannot compact beyond the applied index");
  Snapshot s;
  s.meta.index = index;
  s.meta.term = TermAt(index);
  s.meta.conf = ConfAt(index);
  s.data = std::move(data);
  std::vector<std::pair<Index, ConfState>> hist;
  hist.push_back({index, s.meta.conf});
  for (auto& h : conf_history_)
    if (h.first > index) hist.push_back(h);
  conf_history_ = std::move(hist);
  while (!log_.empty() && log_.front().index <= index) log_.pop_front();
  offset_ = index;
  offset_term_ = s.meta.term;
  snapshot_ = std::move(s);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Ready / Advance.

HardState Raft::CurrentHardState() const {
  HardState hs{term_, vote_, commit_};
  if (cfg_.bugs.vote_not_persisted) hs.vote = kNone;
  return hs;
}

bool Raft::HasReady() const {
  if (ready_outstanding_) return false;
  return !msgs_.empty() || !read_states_.empty() || pending_snapshot_.has_value() ||
         unstable_from_ <= last_index() || commit_ > ready_applied_to_ ||
         !(CurrentHardState() == last_hs_) || !(SoftState{leader_, role_} == last_ss_);
}

Ready Raft::GetReady() {
  Ready rd;
  ready_outstanding_ = true;
  SoftState ss{leader_, role_};
  if (!(ss == last_ss_)) {
    rd.soft_state = ss;
    last_ss_ = ss;
  }
  HardState hs = CurrentHardState();
  if (!(hs == last_hs_)) {
    rd.hard_state = hs;
    if (hs.term != last_hs_.term || hs.vote != last_hs_.vote) rd.must_sync = true;
    last_hs_ = hs;
  }
  if (pending_snapshot_) {
    rd.snapshot = std::move(*pending_snapshot_);
    pending_snapshot_.reset();
  }
  for (Index i = std::max(unstable_from_, offset_ + 1); i <= last_index(); ++i)
    rd.entries.push_back(*EntryAt(i));
  unstable_from_ = last_index() + 1;
  for (Index i = std::max(ready_applied_to_, offset_) + 1; i <= commit_; ++i)
    rd.committed_entries.push_back(*EntryAt(i));
  ready_applied_to_ = std::max(ready_applied_to_, commit_);
  for (Message& m : msgs_) {
    bool early = m.type == MsgType::kAppend || m.type == MsgType::kHeartbeat ||
                 m.type == MsgType::kSnapshot || m.type == MsgType::kTimeoutNow ||
                 (cfg_.bugs.ack_before_persist && m.type == MsgType::kAppendResp);
    (early ? rd.early_messages : rd.messages).push_back(std::move(m));
  }
  msgs_.clear();
  if (!rd.entries.empty() || rd.snapshot) rd.must_sync = true;
  rd.read_states = std::move(read_states_);
  read_states_.clear();
  return rd;
}

void Raft::Advance(const Ready& rd) {
  ready_outstanding_ = false;
  if (rd.snapshot) {
    applied_ = std::max(applied_, rd.snapshot->meta.index);
    if (offset_ == rd.snapshot->meta.index) stable_to_ = std::max(stable_to_, offset_);
  }
  for (auto it = rd.entries.rbegin(); it != rd.entries.rend(); ++it) {
    if (it->index < unstable_from_ && TermAt(it->index) == it->term) {
      stable_to_ = std::max(stable_to_, it->index);
      break;
    }
  }
  if (!rd.committed_entries.empty())
    applied_ = std::max(applied_, rd.committed_entries.back().index);
  if (role_ == Role::kLeader) {
    auto it = prs_.find(cfg_.id);
    if (it != prs_.end() && stable_to_ > it->second.match) {
      it->second.match = stable_to_;
      it->second.next = std::max(it->second.next, stable_to_ + 1);
      if (MaybeCommit()) BroadcastCommit();
    }
  }
}

}  // namespace sb::raft
