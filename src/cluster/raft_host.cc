#include "cluster/raft_host.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <utility>

#include "raft/codec.h"

namespace sb::cluster {

namespace {

// Proposal framing: tag, proposing node, its incarnation, sequence number,
// then the command. The tag lets a future format coexist in one log.
constexpr uint8_t kFrameTag = 0xB1;
constexpr size_t kFrameBytes = 1 + 8 + 8 + 8;

struct Frame {
  raft::NodeId origin = raft::kNone;
  uint64_t incarnation = 0;
  uint64_t seq = 0;
  std::string_view command;
};

std::string EncodeFrame(raft::NodeId origin, uint64_t incarnation, uint64_t seq,
                        std::string_view command) {
  raft::Writer w;
  w.U8(kFrameTag);
  w.U64(origin);
  w.U64(incarnation);
  w.U64(seq);
  w.out().append(command);
  return w.Take();
}

bool DecodeFrame(std::string_view data, Frame* f) {
  if (data.size() < kFrameBytes) return false;
  raft::Reader r(data.substr(0, kFrameBytes));
  uint8_t tag = 0;
  if (!r.U8(&tag) || tag != kFrameTag || !r.U64(&f->origin) || !r.U64(&f->incarnation) ||
      !r.U64(&f->seq))
    return false;
  f->command = data.substr(kFrameBytes);
  return true;
}

uint64_t RandomSeed() {
  std::random_device rd;
  return (uint64_t{rd()} << 32) ^ rd();
}

Status ShuttingDown() {
  return Status::Error(sqlstate::kAdminShutdown, "raft: the node is shutting down",
                       "retry on another node");
}

}  // namespace

RaftHost::RaftHost(RaftHostOptions options, ReplicatedStateMachine* machine,
                   RaftTransport* transport)
    : options_(std::move(options)), machine_(machine), transport_(transport) {}

RaftHost::~RaftHost() {
  Stop();
}

Status RaftHost::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return Status::Internal("raft host started twice");
  }
  if (options_.id == raft::kNone) return Status::InvalidArgument("raft host needs a node id");
  storage_ = std::make_unique<raft::DiskStorage>(options_.dir, options_.storage);
  auto loaded = storage_->Load();
  if (!loaded.ok()) return loaded.status();
  raft::InitialState st = std::move(*loaded);
  bool empty = st.hard_state == raft::HardState{} && st.snapshot.empty() && st.entries.empty();
  if (options_.fresh) {
    if (!empty)
      return Status::Error(
          "55000",
          "raft: cannot bootstrap a new group in " + options_.dir + ": it already holds Raft state",
          "start the node without bootstrapping to keep its state");
    std::vector<raft::NodeId> voters = options_.initial_voters;
    std::sort(voters.begin(), voters.end());
    voters.erase(std::unique(voters.begin(), voters.end()), voters.end());
    if (std::find(voters.begin(), voters.end(), options_.id) == voters.end())
      return Status::InvalidArgument(
          "raft: a bootstrapping node must be one of the initial voters");
    // The bootstrap configuration goes into the log as a committed entry 1,
    // identical on every initial voter: a configuration only in memory would
    // be gone after a restart, leaving a group in which nobody may vote.
    raft::Entry boot{1, 1, raft::EntryType::kConfChange,
                     raft::EncodeConfStateString(raft::ConfState{voters, {}})};
    raft::HardState hs{1, raft::kNone, 1};
    if (Status s = storage_->Save(&hs, {boot}, nullptr, true); !s.ok()) return s;
    st.hard_state = hs;
    st.entries = {boot};
  }
  if (!st.snapshot.empty()) {
    if (Status s = machine_->Restore(st.snapshot.data); !s.ok())
      return s.Annotate("raft: restoring the state machine from snapshot " +
                        std::to_string(st.snapshot.meta.index));
  }
  last_snapshot_index_ = st.snapshot.meta.index;

  raft::Config cfg;
  cfg.id = options_.id;
  cfg.election_ticks = options_.election_ticks;
  cfg.heartbeat_ticks = options_.heartbeat_ticks;
  cfg.forward_proposals = options_.forward_proposals;
  // Elections need nodes to disagree on timeouts; the host is not replayed by
  // the simulator, so real entropy is fine here.
  uint64_t x = RandomSeed() ^ (options_.id * 0x9E3779B97F4A7C15ull);
  cfg.random = [x]() mutable {
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  raft_ = std::make_unique<raft::Raft>(std::move(cfg), std::move(st));
  incarnation_ = RandomSeed();
  Publish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
  }
  loop_thread_ = std::thread([this] { Loop(); });
  tick_thread_ = std::thread([this] { TickLoop(); });
  return Status::Ok();
}

void RaftHost::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  tick_cv_.notify_all();
  if (tick_thread_.joinable()) tick_thread_.join();
  if (loop_thread_.joinable()) loop_thread_.join();
  FailAllPending(ShuttingDown());
}

raft::ConfState RaftHost::conf() const {
  std::lock_guard<std::mutex> lock(mu_);
  return conf_;
}

Status RaftHost::fatal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fatal_;
}

Result<std::string> RaftHost::Propose(std::string command, std::chrono::milliseconds timeout) {
  auto pending = std::make_shared<Pending>();
  auto result = pending->done.get_future();
  uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fatal_.ok()) return fatal_;
    if (!started_ || stop_) return ShuttingDown();
    seq = next_seq_++;
    pending_[seq] = pending;
    proposals_.emplace_back(seq, EncodeFrame(options_.id, incarnation_, seq, command));
  }
  cv_.notify_one();
  if (result.wait_for(timeout) == std::future_status::ready) return result.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(pending_index_, [seq](const auto& kv) { return kv.second == seq; });
    if (pending_.erase(seq) == 1)
      return Status::Error(
          sqlstate::kQueryCanceled,
          "raft: proposal not applied within " + std::to_string(timeout.count()) + " ms",
          "it may still be applied later; retry only if the command is "
          "idempotent");
  }
  // The loop took it out of pending_ and is completing it right now.
  return result.get();
}

Status RaftHost::AddLearner(raft::NodeId node, std::chrono::milliseconds timeout) {
  return ChangeConf({raft::ConfChange::Kind::kAddLearner, node}, timeout);
}
Status RaftHost::PromoteVoter(raft::NodeId node, std::chrono::milliseconds timeout) {
  return ChangeConf({raft::ConfChange::Kind::kPromoteVoter, node}, timeout);
}
Status RaftHost::RemoveNode(raft::NodeId node, std::chrono::milliseconds timeout) {
  return ChangeConf({raft::ConfChange::Kind::kRemoveNode, node}, timeout);
}

Status RaftHost::ChangeConf(raft::ConfChange change, std::chrono::milliseconds timeout) {
  auto pending = std::make_shared<PendingConf>();
  auto result = pending->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fatal_.ok()) return fatal_;
    if (!started_ || stop_) return ShuttingDown();
    conf_requests_.push_back({change, pending});
  }
  cv_.notify_one();
  if (result.wait_for(timeout) == std::future_status::ready) return result.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = pending_conf_.begin(); it != pending_conf_.end(); ++it) {
      if (it->second == pending) {
        pending_conf_.erase(it);
        return Status::Error(
            sqlstate::kQueryCanceled,
            "raft: membership change not applied within " + std::to_string(timeout.count()) + " ms",
            "check conf() before retrying");
      }
    }
    for (auto it = conf_requests_.begin(); it != conf_requests_.end(); ++it) {
      if (it->pending == pending) {
        conf_requests_.erase(it);
        return Status::Error(sqlstate::kQueryCanceled, "raft: membership change not started",
                             "retry");
      }
    }
  }
  // The loop holds the request between its queue and pending_conf_, or is
  // completing it right now; give it one more timeout, never forever.
  if (result.wait_for(timeout) == std::future_status::ready) return result.get();
  return Status::Error(sqlstate::kQueryCanceled, "raft: membership change outcome unknown",
                       "check conf() before retrying");
}

Status RaftHost::Step(raft::NodeId from, std::string_view encoded) {
  auto m = raft::DecodeMessage(encoded);
  if (!m.ok()) return m.status();
  if (from != raft::kNone && m->from != from)
    return Status::Error(sqlstate::kProtocolViolation,
                         "raft: message claims sender " + std::to_string(m->from) +
                             " but came from node " + std::to_string(from));
  if (m->to != options_.id)
    return Status::Error(sqlstate::kProtocolViolation,
                         "raft: message for node " + std::to_string(m->to) + " reached node " +
                             std::to_string(options_.id),
                         "check the raft id to node mapping of the transport");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stop_) return ShuttingDown();
    // Raft recovers from lost messages; an unbounded inbox behind a stuck
    // disk would not recover from running out of memory.
    if (inbox_.size() >= options_.max_inbox) return Status::Ok();
    inbox_.push_back(std::move(*m));
  }
  cv_.notify_one();
  return Status::Ok();
}

void RaftHost::TickLoop() {
  auto next = std::chrono::steady_clock::now() + options_.tick_interval;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (tick_cv_.wait_until(lock, next, [this] { return stop_; })) break;
    // Ticks missed while the loop was busy are delivered together, so
    // logical time keeps pace with the wall clock.
    ++ticks_;
    next += options_.tick_interval;
    cv_.notify_one();
  }
}

void RaftHost::Loop() {
  for (;;) {
    int ticks = 0;
    std::deque<raft::Message> msgs;
    std::deque<std::pair<uint64_t, std::string>> props;
    std::deque<ConfRequest> confs;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, options_.tick_interval, [this] {
        return stop_ || ticks_ > 0 || !inbox_.empty() || !proposals_.empty() ||
               !conf_requests_.empty();
      });
      if (stop_) return;
      std::swap(ticks, ticks_);
      msgs.swap(inbox_);
      props.swap(proposals_);
      confs.swap(conf_requests_);
    }
    for (int i = 0; i < ticks; ++i) raft_->Tick();
    for (const raft::Message& m : msgs) {
      if (Status s = raft_->Step(m); !s.ok())
        spdlog::debug("raft {}: dropped {}: {}", options_.id, m.ToString(), s.ToString());
    }
    for (auto& [seq, data] : props) {
      auto r = raft_->Propose(std::move(data));
      if (r.ok()) {
        if (!r->forwarded) {
          std::lock_guard<std::mutex> lock(mu_);
          pending_index_[r->index] = seq;
        }
        continue;
      }
      std::shared_ptr<Pending> p;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = pending_.find(seq);
        if (it == pending_.end()) continue;  // timed out already
        p = it->second;
        pending_.erase(it);
      }
      p->done.set_value(r.status());
    }
    for (ConfRequest& c : confs) {
      auto r = raft_->ProposeConfChange(c.change);
      if (!r.ok()) {
        c.pending->done.set_value(r.status());
        continue;
      }
      c.pending->term = r->term;
      std::lock_guard<std::mutex> lock(mu_);
      pending_conf_[r->index] = c.pending;
    }
    if (!DrainReady()) return;
    MaybeSnapshot();
    Publish();
  }
}

bool RaftHost::DrainReady() {
  auto send = [this](std::vector<raft::Message>& msgs) {
    for (raft::Message& m : msgs) transport_->Send(m.to, raft::EncodeMessage(m));
  };
  while (raft_->HasReady()) {
    raft::Ready rd = raft_->GetReady();
    send(rd.early_messages);
    if (rd.hard_state || rd.snapshot || !rd.entries.empty()) {
      Status s = storage_->Save(rd.hard_state ? &*rd.hard_state : nullptr, rd.entries,
                                rd.snapshot ? &*rd.snapshot : nullptr, rd.MustSync());
      if (!s.ok()) {
        // Continuing would acknowledge writes that are not durable.
        Fail(s.Annotate("raft: persisting the log"));
        return false;
      }
    }
    send(rd.messages);
    if (rd.snapshot) {
      if (Status s = machine_->Restore(rd.snapshot->data); !s.ok()) {
        Fail(s.Annotate("raft: installing the leader's snapshot"));
        return false;
      }
      last_snapshot_index_ = rd.snapshot->meta.index;
      std::lock_guard<std::mutex> lock(mu_);
      conf_ = rd.snapshot->meta.conf;
      // Our proposals at covered indexes may or may not be in the snapshot;
      // they are left to time out.
      pending_index_.erase(pending_index_.begin(),
                           pending_index_.upper_bound(rd.snapshot->meta.index));
      // Changes at or below the snapshot were decided without us seeing the
      // entry; their outcome is unknown here.
      while (!pending_conf_.empty() && pending_conf_.begin()->first <= rd.snapshot->meta.index) {
        pending_conf_.begin()->second->done.set_value(Status::Error(
            raft::kNotLeaderCode, "raft: membership change outcome unknown (snapshot installed)",
            "check conf() and retry if needed"));
        pending_conf_.erase(pending_conf_.begin());
      }
    }
    for (const raft::Entry& e : rd.committed_entries) ApplyEntry(e);
    // ReadIndex is not exposed by the host yet, so read_states stay empty.
    raft_->Advance(rd);
  }
  return true;
}

void RaftHost::ApplyEntry(const raft::Entry& e) {
  const bool is_conf = e.type == raft::EntryType::kConfChange;
  Frame f;
  const bool framed = !is_conf && DecodeFrame(e.data, &f);
  const bool ours = framed && f.origin == options_.id && f.incarnation == incarnation_;
  // Requests the leader placed at this index complete here: with success if
  // the entry is theirs, else with SB010 — a new leader overwrote it, so it
  // will never apply and a retry is safe.
  std::shared_ptr<Pending> overwritten;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = pending_conf_.find(e.index); it != pending_conf_.end()) {
      it->second->done.set_value(
          is_conf && it->second->term == e.term
              ? Status::Ok()
              : Status::Error(raft::kNotLeaderCode,
                              "raft: leadership changed before the membership change committed",
                              "retry on the new leader"));
      pending_conf_.erase(it);
    }
    if (auto at = pending_index_.find(e.index); at != pending_index_.end()) {
      if (!ours || f.seq != at->second) {
        if (auto it = pending_.find(at->second); it != pending_.end()) {
          overwritten = it->second;
          pending_.erase(it);
        }
      }
      pending_index_.erase(at);
    }
    if (is_conf) {
      if (auto cs = raft::DecodeConfStateString(e.data); cs.ok()) conf_ = *cs;
    }
  }
  if (overwritten)
    overwritten->done.set_value(Status::Error(
        raft::kNotLeaderCode, "raft: leadership changed; the proposal was not applied",
        "retry; the new leader never saw it"));
  if (is_conf || e.data.empty()) return;  // configuration, or a new leader's no-op
  if (!framed) {
    // Not proposed through a host; still part of the replicated history.
    machine_->Apply(e.index, e.data);
    return;
  }
  std::string result = machine_->Apply(e.index, f.command);
  if (!ours) return;
  std::shared_ptr<Pending> p;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(f.seq);
    if (it == pending_.end()) return;  // timed out, or a duplicate
    p = it->second;
    pending_.erase(it);
  }
  p->done.set_value(std::move(result));
}

void RaftHost::MaybeSnapshot() {
  raft::Index applied = raft_->applied();
  if (options_.snapshot_interval == 0 ||
      applied < last_snapshot_index_ + options_.snapshot_interval)
    return;
  if (Status s = raft_->Compact(applied, machine_->Snapshot()); !s.ok()) {
    spdlog::warn("raft {}: snapshot at {} skipped: {}", options_.id, applied, s.ToString());
    return;
  }
  if (Status s = storage_->Compact(raft_->snapshot()); !s.ok()) {
    Fail(s.Annotate("raft: writing snapshot"));
    return;
  }
  last_snapshot_index_ = applied;
  ++snapshots_taken_;
}

void RaftHost::Publish() {
  leader_ = raft_->leader();
  term_ = raft_->term();
  commit_ = raft_->commit();
  applied_ = raft_->applied();
  role_ = raft_->role();
  std::lock_guard<std::mutex> lock(mu_);
  conf_ = raft_->conf();
}

void RaftHost::Fail(Status status) {
  spdlog::error("raft {}: stopping: {}", options_.id, status.ToString());
  {
    std::lock_guard<std::mutex> lock(mu_);
    fatal_ = status;
  }
  FailAllPending(status);
}

void RaftHost::FailAllPending(const Status& status) {
  std::map<uint64_t, std::shared_ptr<Pending>> pending;
  std::map<raft::Index, std::shared_ptr<PendingConf>> pending_conf;
  std::deque<ConfRequest> queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending.swap(pending_);
    pending_index_.clear();
    pending_conf.swap(pending_conf_);
    queued.swap(conf_requests_);
    proposals_.clear();
  }
  for (auto& [seq, p] : pending) p->done.set_value(status);
  for (auto& [index, p] : pending_conf) p->done.set_value(status);
  for (ConfRequest& c : queued) c.pending->done.set_value(status);
}

}  // namespace sb::cluster
