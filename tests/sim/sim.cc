#include "sim.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <sstream>
#include <unordered_map>

namespace sb::sim {

using raft::ConfChange;
using raft::Entry;
using raft::EntryType;
using raft::HardState;
using raft::Index;
using raft::InitialState;
using raft::Message;
using raft::NodeId;
using raft::Raft;
using raft::Ready;
using raft::Role;
using raft::Snapshot;
using raft::Term;

// ---------------------------------------------------------------------------
// SimStorage

Result<InitialState> SimStorage::Load() {
  InitialState st;
  st.hard_state = hs;
  st.snapshot = snap;
  st.entries = log;
  return st;
}

static void AppendEntries(SimStorage& s, const std::vector<Entry>& ents, size_t n) {
  for (size_t i = 0; i < n && i < ents.size(); ++i) {
    const Entry& e = ents[i];
    Index base = s.snap.meta.index;
    if (e.index <= base) continue;
    size_t pos = e.index - base - 1;
    if (pos > s.log.size()) break;  // never leave a gap
    s.log.resize(pos);
    s.log.push_back(e);
  }
}

Status SimStorage::Save(const HardState* h, const std::vector<Entry>& entries,
                        const Snapshot* installed, bool /*sync*/) {
  if (installed) {
    snap = *installed;
    log.clear();
  }
  AppendEntries(*this, entries, entries.size());
  if (h) hs = *h;
  return Status::Ok();
}

Status SimStorage::Compact(const Snapshot& s) {
  if (s.meta.index <= snap.meta.index) return Status::Ok();
  std::vector<Entry> rest;
  for (auto& e : log)
    if (e.index > s.meta.index) rest.push_back(e);
  log = std::move(rest);
  snap = s;
  return Status::Ok();
}

void SimStorage::SaveTorn(const Ready& rd, size_t records) {
  if (rd.snapshot) {
    if (records == 0) return;
    --records;
    snap = *rd.snapshot;
    log.clear();
  }
  size_t n = std::min(records, rd.entries.size());
  AppendEntries(*this, rd.entries, n);
  records -= n;
  if (records > 0 && rd.hard_state) hs = *rd.hard_state;
}

// ---------------------------------------------------------------------------

namespace {

constexpr uint64_t kMs = 1000;
constexpr uint64_t kSec = 1000 * kMs;
constexpr uint64_t kMaxEvents = 20'000'000;

uint64_t Fnv(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}
uint64_t Mix(uint64_t a, uint64_t b) {
  a ^= b + 0x9E3779B97F4A7C15ull + (a << 6) + (a >> 2);
  a *= 0xBF58476D1CE4E5B9ull;
  return a ^ (a >> 31);
}
uint64_t EntryHash(const Entry& e) {
  return Mix(Mix(Fnv(e.data), e.term), static_cast<uint64_t>(e.type) + 1);
}

struct ClientOp {
  uint64_t id = 0;
  int client = 0;
  int kind = kPut;
  std::string key;
  uint64_t value = 0;  // put input / get output
  uint64_t call = 0;
  uint64_t ret = kPending;
  bool done = false;
  bool timed_out = false;
  NodeId node = 0;
};

struct SimNode {
  NodeId id = 0;
  bool up = true;
  uint64_t incarnation = 0;
  std::unique_ptr<Raft> raft;
  SimStorage disk;
  KvStore kv;
  Index kv_applied = 0;
  bool busy = false;
  std::optional<Ready> inflight;
  uint64_t tick_us = 100 * kMs;
  bool disk_slow = false;
  // Shadow log for log matching: chain hash per index from shadow_base.
  Index shadow_base = 0;
  std::vector<uint64_t> shadow{0};
  Index checked_commit = 0;
  std::unordered_map<uint64_t, size_t> pending_puts;   // op id -> op
  std::unordered_map<uint64_t, size_t> pending_reads;  // ctx -> op
  std::vector<std::pair<Index, size_t>> read_waits;
  Role last_role = Role::kFollower;
  Term last_term = 0;
};

struct Client {
  int id = 0;
  NodeId target = 1;
  size_t cur = SIZE_MAX;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& o) : opts_(o), rng_(o.seed * 0x2545F4914F6CDD1Dull + 17) {}

  SimResult Run();

 private:
  struct Event {
    uint64_t t;
    uint64_t seq;
    std::function<void()> fn;
  };
  struct EvCmp {
    bool operator()(const Event& a, const Event& b) const {
      return a.t != b.t ? a.t > b.t : a.seq > b.seq;
    }
  };

  void At(uint64_t t, std::function<void()> fn) { q_.push(Event{t, seq_++, std::move(fn)}); }
  bool tracing() const { return opts_.trace != nullptr; }
  void Trace(const std::string& s) {
    if (!opts_.trace) return;
    char b[32];
    std::snprintf(b, sizeof b, "[%9.4fs] ", static_cast<double>(now_) / kSec);
    *opts_.trace << b << s << "\n";
  }
  void Fail(const std::string& why) {
    if (res_.ok) {
      res_.ok = false;
      char b[32];
      std::snprintf(b, sizeof b, "t=%.4fs: ", static_cast<double>(now_) / kSec);
      res_.failure = b + why;
      res_.safety = !(why.starts_with("liveness") || why.starts_with("event budget"));
      Trace("VIOLATION: " + why);
    }
  }
  SimNode& N(NodeId id) { return *nodes_[id - 1]; }

  raft::Config MakeConfig(SimNode& n);
  void StartNode(SimNode& n);
  void ScheduleTick(SimNode& n);
  void Process(SimNode& n);
  void Complete(SimNode& n, Ready& rd);
  void CheckReady(SimNode& n, const Ready& rd);
  void CheckLeader(SimNode& n);
  void CheckCommit(SimNode& n);
  void Apply(SimNode& n, const Entry& e);
  void SendMsg(const Message& m);
  void Deliver(const Message& m);
  bool Blocked(NodeId a, NodeId b) const { return blocked_.count({a, b}) > 0; }
  void Crash(SimNode& n);
  void Restart(SimNode& n);
  void FaultStep();
  void AdminStep();
  void TransferStep();
  void Heal();
  void ClientIssue(Client& c);
  void ClientDone(Client& c, size_t op);
  void CheckStableLeader();
  SimNode* CurrentLeader();
  void FinalChecks();

  SimOptions opts_;
  Rng rng_;
  SimResult res_;
  std::priority_queue<Event, std::vector<Event>, EvCmp> q_;
  uint64_t seq_ = 0;
  uint64_t now_ = 0;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  double drop_ = 0, dup_ = 0;
  uint64_t disk_base_us_ = 100;
  Index compact_every_ = 100;
  size_t max_inflight_ = 4, max_entries_ = 8, chunk_ = 1024;
  bool forward_ = true;
  int voters_ = 3, spares_ = 0;
  uint64_t heal_at_ = 0, end_at_ = 0, clients_stop_at_ = 0;
  bool healed_ = false;
  uint64_t stable_leader_at_ = 0;
  std::vector<std::string> keys_;

  // Global observations for invariants.
  std::map<std::pair<Index, Term>, uint64_t> chain_;  // (index, term) -> chain hash
  std::vector<Term> committed_;                       // committed_[i] = term, 0 unknown
  std::vector<Term> commit_term_;                     // upper bound of the term it committed in
  std::vector<uint64_t> applied_;                     // entry hash applied at index
  std::map<Index, uint64_t> state_hash_;              // kv state hash at snapshot index
  std::map<Term, NodeId> leaders_;
  std::vector<ClientOp> ops_;
  std::vector<Client> clients_;
  uint64_t next_op_ = 0;
};

raft::Config Simulation::MakeConfig(SimNode& n) {
  raft::Config c;
  c.id = n.id;
  c.election_ticks = 10;
  c.heartbeat_ticks = 1;
  c.pre_vote = opts_.pre_vote;
  c.leader_noop = opts_.leader_noop;
  c.check_quorum = true;
  c.forward_proposals = forward_;
  c.max_inflight_msgs = max_inflight_;
  c.max_msg_entries = max_entries_;
  c.snapshot_chunk_bytes = chunk_;
  // Small uncommitted-data limits on some seeds (drawn without touching rng_).
  c.max_uncommitted_bytes = (opts_.seed % 4 == 1) ? 300 + (opts_.seed * 7919) % 3000 : 0;
  c.bugs = opts_.bugs;
  auto r = std::make_shared<Rng>(opts_.seed * 1000003 + n.id * 7919 + n.incarnation * 104729);
  c.random = [r]() { return r->Next(); };
  return c;
}

void Simulation::StartNode(SimNode& n) {
  auto st = n.disk.Load();
  n.raft = std::make_unique<Raft>(MakeConfig(n), std::move(*st));
  n.up = true;
  n.busy = false;
  n.inflight.reset();
  n.kv.Restore(n.disk.snap.data);
  n.kv_applied = n.disk.snap.meta.index;
  n.last_role = Role::kFollower;
  n.last_term = n.raft->term();
  // Rebuild the shadow log from what is durable and check it against history.
  n.shadow_base = n.disk.snap.meta.index;
  n.shadow.clear();
  if (n.shadow_base == 0) {
    n.shadow.push_back(0);
  } else {
    auto it = chain_.find({n.disk.snap.meta.index, n.disk.snap.meta.term});
    if (it == chain_.end()) {
      Fail("node " + std::to_string(n.id) +
           " recovered a snapshot at an index/term no leader created");
      n.shadow.push_back(0);
    } else {
      n.shadow.push_back(it->second);
    }
  }
  for (const Entry& e : n.disk.log) {
    uint64_t ch = Mix(n.shadow.back(), EntryHash(e));
    n.shadow.push_back(ch);
    auto it = chain_.find({e.index, e.term});
    if (it != chain_.end() && it->second != ch)
      Fail("log matching: node " + std::to_string(n.id) + " recovered a different log at index " +
           std::to_string(e.index));
  }
  n.checked_commit = n.disk.snap.meta.index;
  ScheduleTick(n);
}

void Simulation::ScheduleTick(SimNode& n) {
  NodeId id = n.id;
  uint64_t inc = n.incarnation;
  At(now_ + n.tick_us, [this, id, inc]() {
    SimNode& x = N(id);
    if (!x.up || x.incarnation != inc) return;
    x.raft->Tick();
    Process(x);
    ScheduleTick(x);
  });
}

void Simulation::CheckLeader(SimNode& n) {
  Raft& r = *n.raft;
  if (r.role() != n.last_role || r.term() != n.last_term) {
    if (tracing())
      Trace("n" + std::to_string(n.id) + " becomes " + raft::RoleName(r.role()) + " term " +
            std::to_string(r.term()) + " last=" + std::to_string(r.last_index()) + "/t" +
            std::to_string(r.last_term()) + " commit=" + std::to_string(r.commit()) + " conf " +
            r.conf().ToString());
    n.last_role = r.role();
    n.last_term = r.term();
  }
  if (r.role() != Role::kLeader) return;
  auto [it, fresh] = leaders_.emplace(r.term(), n.id);
  if (!fresh) {
    if (it->second != n.id)
      Fail("election safety: nodes " + std::to_string(it->second) + " and " + std::to_string(n.id) +
           " are both leader in term " + std::to_string(r.term()));
    return;
  }
  ++res_.elections;
  // Leader completeness: every entry committed in an earlier term is in the log.
  for (Index i = committed_.empty() ? 0 : committed_.size() - 1; i > 0; --i) {
    if (committed_[i] == 0 || commit_term_[i] >= r.term()) continue;
    if (i <= r.first_index() - 1) break;  // covered by its snapshot
    if (i > r.last_index() || r.TermAt(i) != committed_[i])
      Fail("leader completeness: node " + std::to_string(n.id) + " leads term " +
           std::to_string(r.term()) + " without committed entry " + std::to_string(i) + "/t" +
           std::to_string(committed_[i]) + " (its term there: " + std::to_string(r.TermAt(i)) +
           ", last " + std::to_string(r.last_index()) + ")");
    break;
  }
}

void Simulation::CheckCommit(SimNode& n) {
  Raft& r = *n.raft;
  Index c = r.commit();
  if (c <= n.checked_commit) return;
  if (r.role() == Role::kLeader && r.TermAt(c) != 0 && r.TermAt(c) < r.term()) {
    ++res_.old_term_commits;
    Trace("n" + std::to_string(n.id) + " (leader, term " + std::to_string(r.term()) +
          ") committed up to an entry of older term " + std::to_string(r.TermAt(c)));
  }
  if (opts_.crash_after_commit > 0 && r.role() == Role::kLeader && now_ < heal_at_ &&
      rng_.Chance(opts_.crash_after_commit)) {
    // Nemesis: kill a leader right after it advanced its commit index, before
    // it can tell anyone.
    NodeId id = n.id;
    uint64_t inc = n.incarnation;
    At(now_, [this, id, inc]() {
      SimNode& x = N(id);
      if (!x.up || x.incarnation != inc) return;
      Crash(x);
      At(std::min(now_ + rng_.Range(10 * kMs, 1 * kSec), heal_at_), [this, id]() {
        SimNode& y = N(id);
        if (!y.up) Restart(y);
      });
    });
  }
  for (Index i = n.checked_commit + 1; i <= c; ++i) {
    Term t = r.TermAt(i);
    if (t == 0) continue;
    if (committed_.size() <= i) {
      committed_.resize(i + 1, 0);
      commit_term_.resize(i + 1, 0);
    }
    if (committed_[i] == 0) {
      committed_[i] = t;
      commit_term_[i] = r.term();
    } else if (committed_[i] != t) {
      Fail("committed entry lost: node " + std::to_string(n.id) + " has index " +
           std::to_string(i) + " committed with term " + std::to_string(t) +
           " but it was committed earlier with term " + std::to_string(committed_[i]));
      return;
    }
  }
  n.checked_commit = c;
}

void Simulation::CheckReady(SimNode& n, const Ready& rd) {
  if (rd.snapshot) {
    const auto& m = rd.snapshot->meta;
    auto it = chain_.find({m.index, m.term});
    if (it == chain_.end()) {
      Fail("node " + std::to_string(n.id) + " installs snapshot " + std::to_string(m.index) + "/t" +
           std::to_string(m.term) + " that matches no log entry ever created");
      return;
    }
    n.shadow_base = m.index;
    n.shadow.assign(1, it->second);
  }
  for (const Entry& e : rd.entries) {
    if (e.index <= n.shadow_base) continue;
    size_t pos = e.index - n.shadow_base;
    if (pos > n.shadow.size()) {
      Fail("node " + std::to_string(n.id) + " persists entry " + std::to_string(e.index) +
           " leaving a gap in its log");
      return;
    }
    n.shadow.resize(pos);
    uint64_t ch = Mix(n.shadow.back(), EntryHash(e));
    n.shadow.push_back(ch);
    auto [it, fresh] = chain_.emplace(std::make_pair(e.index, e.term), ch);
    if (!fresh && it->second != ch) {
      Fail("log matching: node " + std::to_string(n.id) + " has entry " + std::to_string(e.index) +
           "/t" + std::to_string(e.term) + " whose log prefix differs from another node's");
      return;
    }
  }
}

void Simulation::Process(SimNode& n) {
  while (res_.ok && n.up && !n.busy) {
    CheckLeader(n);
    CheckCommit(n);
    if (!n.raft->HasReady()) break;
    Ready rd = n.raft->GetReady();
    CheckReady(n, rd);
    for (const Message& m : rd.early_messages) SendMsg(m);
    if (rd.MustSync()) {
      n.busy = true;
      uint64_t lat = disk_base_us_ + rng_.Range(0, disk_base_us_);
      if (n.disk_slow) lat += rng_.Range(20 * kMs, 200 * kMs);
      n.inflight = std::move(rd);
      NodeId id = n.id;
      uint64_t inc = n.incarnation;
      At(now_ + lat, [this, id, inc]() {
        SimNode& x = N(id);
        if (!x.up || x.incarnation != inc || !x.busy) return;
        Ready r = std::move(*x.inflight);
        x.inflight.reset();
        x.busy = false;
        Complete(x, r);
        Process(x);
      });
      return;
    }
    Complete(n, rd);
  }
  if (n.up && res_.ok) {
    CheckLeader(n);
    CheckCommit(n);
  }
}

void Simulation::Apply(SimNode& n, const Entry& e) {
  if (e.index != n.kv_applied + 1) {
    Fail("node " + std::to_string(n.id) + " applies index " + std::to_string(e.index) + " after " +
         std::to_string(n.kv_applied));
    return;
  }
  if (applied_.size() <= e.index) applied_.resize(e.index + 1, 0);
  uint64_t h = Mix(EntryHash(e), e.index);
  if (applied_[e.index] == 0) {
    applied_[e.index] = h;
    ++res_.commits;
  } else if (applied_[e.index] != h) {
    Fail("state machine safety: node " + std::to_string(n.id) +
         " applies a different entry at index " + std::to_string(e.index) + " than another node");
    return;
  }
  n.kv_applied = e.index;
  if (e.type == EntryType::kConfChange) {
    ++res_.conf_changes;
    if (tracing()) {
      auto cs = raft::DecodeConfStateString(e.data);
      Trace("n" + std::to_string(n.id) + " applies conf " + std::to_string(e.index) + " " +
            (cs.ok() ? cs->ToString() : "?"));
    }
    return;
  }
  uint64_t op = n.kv.Apply(e.data);
  if (op != 0) {
    auto it = n.pending_puts.find(op);
    if (it != n.pending_puts.end()) {
      size_t oi = it->second;
      n.pending_puts.erase(it);
      ClientOp& o = ops_[oi];
      if (!o.done && !o.timed_out) {
        o.done = true;
        o.ret = now_;
        ++res_.ops_ok;
        if (tracing())
          Trace("client " + std::to_string(o.client) + " put " + o.key + "=" +
                std::to_string(o.value) + " ok via n" + std::to_string(n.id) + " at index " +
                std::to_string(e.index));
        ClientDone(clients_[o.client], oi);
      }
    }
  }
}

void Simulation::Complete(SimNode& n, Ready& rd) {
  (void)n.disk.Save(rd.hard_state ? &*rd.hard_state : nullptr, rd.entries,
                    rd.snapshot ? &*rd.snapshot : nullptr);
  for (const Message& m : rd.messages) SendMsg(m);
  if (rd.snapshot) {
    n.kv.Restore(rd.snapshot->data);
    n.kv_applied = rd.snapshot->meta.index;
    ++res_.snapshots_sent;
    Trace("n" + std::to_string(n.id) + " installs snapshot at " +
          std::to_string(rd.snapshot->meta.index));
    auto it = state_hash_.find(rd.snapshot->meta.index);
    uint64_t h = Fnv(rd.snapshot->data);
    if (it != state_hash_.end() && it->second != h)
      Fail("state machine safety: snapshot at " + std::to_string(rd.snapshot->meta.index) +
           " differs between nodes");
  }
  for (const Entry& e : rd.committed_entries) {
    if (e.index <= n.kv_applied) continue;
    Apply(n, e);
    if (!res_.ok) return;
  }
  for (const auto& rs : rd.read_states) {
    auto it = n.pending_reads.find(rs.ctx);
    if (it == n.pending_reads.end()) continue;
    n.read_waits.push_back({rs.index, it->second});
    n.pending_reads.erase(it);
  }
  for (size_t i = 0; i < n.read_waits.size();) {
    auto [idx, oi] = n.read_waits[i];
    if (idx > n.kv_applied) {
      ++i;
      continue;
    }
    ClientOp& o = ops_[oi];
    if (!o.done && !o.timed_out) {
      o.done = true;
      o.value = n.kv.Get(o.key);
      o.ret = now_;
      ++res_.ops_ok;
      ++res_.reads_ok;
      if (tracing())
        Trace("client " + std::to_string(o.client) + " get " + o.key + " -> " +
              std::to_string(o.value) + " via n" + std::to_string(n.id) + " read index " +
              std::to_string(idx));
      ClientDone(clients_[o.client], oi);
    }
    n.read_waits.erase(n.read_waits.begin() + static_cast<long>(i));
  }
  n.raft->Advance(rd);
  if (opts_.snapshots && n.kv_applied >= n.raft->snapshot().meta.index + compact_every_) {
    std::string data = n.kv.Serialize();
    uint64_t h = Fnv(data);
    auto [it, fresh] = state_hash_.emplace(n.kv_applied, h);
    if (!fresh && it->second != h)
      Fail("state machine safety: node " + std::to_string(n.id) + " state at index " +
           std::to_string(n.kv_applied) + " differs from another node's");
    if (n.raft->Compact(n.kv_applied, std::move(data)).ok()) {
      (void)n.disk.Compact(n.raft->snapshot());
      Trace("n" + std::to_string(n.id) + " compacts log to " + std::to_string(n.kv_applied));
    }
  }
}

void Simulation::SendMsg(const Message& m) {
  ++res_.messages;
  if (Blocked(m.from, m.to)) {
    if (tracing()) Trace("  partitioned: " + m.ToString());
    return;
  }
  if (drop_ > 0 && rng_.Chance(drop_)) {
    if (tracing()) Trace("  dropped: " + m.ToString());
    return;
  }
  int copies = (dup_ > 0 && rng_.Chance(dup_)) ? 2 : 1;
  for (int c = 0; c < copies; ++c) {
    uint64_t delay = rng_.Range(200, 5 * kMs);
    if (rng_.Chance(0.05)) delay += rng_.Range(0, 100 * kMs);
    At(now_ + delay, [this, m]() { Deliver(m); });
  }
}

void Simulation::Deliver(const Message& m) {
  if (m.to == 0 || m.to > nodes_.size()) return;
  SimNode& n = N(m.to);
  if (!n.up || Blocked(m.from, m.to)) return;
  if (tracing()) Trace("  deliver " + m.ToString());
  Status st = n.raft->Step(m);
  if (!st.ok()) Fail("simulator delivered a bad message: " + st.message());
  Process(n);
}

void Simulation::Crash(SimNode& n) {
  if (!n.up) return;
  ++res_.crashes;
  size_t records = 0;
  if (n.inflight) {
    const Ready& rd = *n.inflight;
    size_t total = (rd.snapshot ? 1 : 0) + rd.entries.size() + (rd.hard_state ? 1 : 0);
    records = rng_.Uniform(total + 1);
    if (records < total) ++res_.torn_writes;
    n.disk.SaveTorn(rd, records);
  }
  Trace("n" + std::to_string(n.id) + " CRASH (kept " + std::to_string(records) +
        " unsynced records)");
  n.up = false;
  n.busy = false;
  n.inflight.reset();
  n.raft.reset();
  n.pending_puts.clear();
  n.pending_reads.clear();
  n.read_waits.clear();
  ++n.incarnation;
}

void Simulation::Restart(SimNode& n) {
  if (n.up) return;
  Trace("n" + std::to_string(n.id) + " RESTART from disk: snapshot " +
        std::to_string(n.disk.snap.meta.index) + ", " + std::to_string(n.disk.log.size()) +
        " entries, term " + std::to_string(n.disk.hs.term) + " vote " +
        std::to_string(n.disk.hs.vote) + " commit " + std::to_string(n.disk.hs.commit));
  StartNode(n);
  Process(n);
}

void Simulation::FaultStep() {
  if (now_ >= heal_at_) return;
  uint64_t r = rng_.Uniform(100);
  size_t total = nodes_.size();
  if (r < (opts_.chaos ? 45 : 25) && opts_.crashes) {
    SimNode* l = CurrentLeader();
    SimNode& n = (l && rng_.Chance(0.5)) ? *l : N(1 + rng_.Uniform(total));
    if (n.up) {
      Crash(n);
      NodeId id = n.id;
      uint64_t inc = n.incarnation;
      uint64_t down =
          opts_.chaos ? rng_.Range(10 * kMs, 1 * kSec) : rng_.Range(100 * kMs, 4 * kSec);
      At(std::min(now_ + down, heal_at_), [this, id, inc]() {
        SimNode& x = N(id);
        if (!x.up && x.incarnation == inc) Restart(x);
      });
    }
  } else if (r < 45 && opts_.partitions) {
    blocked_.clear();
    std::vector<int> side(total + 1);
    for (size_t i = 1; i <= total; ++i) side[i] = static_cast<int>(rng_.Uniform(2));
    if (SimNode* l = CurrentLeader(); l && rng_.Chance(0.5)) {
      // Isolate the leader, alone or with a minority.
      for (size_t i = 1; i <= total; ++i) side[i] = 0;
      side[l->id] = 1;
    }
    bool asym = rng_.Chance(0.3);
    for (size_t a = 1; a <= total; ++a)
      for (size_t b = 1; b <= total; ++b)
        if (a != b && side[a] != side[b] && (!asym || side[a] == 0)) blocked_.insert({a, b});
    std::string desc;
    for (size_t i = 1; i <= total; ++i) desc += (side[i] ? "B" : "A");
    ++res_.partitions;
    Trace(std::string(asym ? "asymmetric " : "") + "PARTITION " + desc);
  } else if (r < 60) {
    if (!blocked_.empty()) Trace("partition healed");
    blocked_.clear();
  } else if (r < 70) {
    // One-way link failures.
    for (int k = 0; k < 2; ++k) {
      NodeId a = 1 + rng_.Uniform(total), b = 1 + rng_.Uniform(total);
      if (a != b) {
        blocked_.insert({a, b});
        Trace("link " + std::to_string(a) + "->" + std::to_string(b) + " cut");
      }
    }
  } else if (r < 80) {
    SimNode& n = N(1 + rng_.Uniform(total));
    n.disk_slow = !n.disk_slow;
    Trace("n" + std::to_string(n.id) + " disk " + (n.disk_slow ? "slow" : "normal"));
  } else {
    static const double kDrops[] = {0, 0.01, 0.05, 0.2};
    drop_ = kDrops[rng_.Uniform(4)];
    Trace("drop rate " + std::to_string(drop_));
  }
  uint64_t gap = opts_.chaos ? rng_.Range(10 * kMs, 300 * kMs) : rng_.Range(50 * kMs, 1500 * kMs);
  At(now_ + gap, [this]() { FaultStep(); });
}

SimNode* Simulation::CurrentLeader() {
  SimNode* best = nullptr;
  for (auto& p : nodes_) {
    if (p->up && p->raft->role() == Role::kLeader &&
        (!best || p->raft->term() > best->raft->term()))
      best = p.get();
  }
  return best;
}

void Simulation::AdminStep() {
  if (now_ >= heal_at_) return;
  At(now_ + rng_.Range(500 * kMs, 3 * kSec), [this]() { AdminStep(); });
  SimNode* l = CurrentLeader();
  if (!l) return;
  const raft::ConfState& cs = l->raft->conf();
  ConfChange cc;
  if (!cs.learners.empty()) {
    cc.kind = ConfChange::Kind::kPromoteVoter;
    cc.node = cs.learners[rng_.Uniform(cs.learners.size())];
  } else {
    std::vector<NodeId> outside;
    for (auto& p : nodes_)
      if (!cs.Contains(p->id)) outside.push_back(p->id);
    if (!outside.empty() && (cs.voters.size() <= 3 || rng_.Chance(0.5))) {
      cc.kind = ConfChange::Kind::kAddLearner;
      cc.node = outside[rng_.Uniform(outside.size())];
    } else if (cs.voters.size() > 3) {
      cc.kind = ConfChange::Kind::kRemoveNode;
      cc.node = cs.voters[rng_.Uniform(cs.voters.size())];
    } else {
      return;
    }
  }
  static const char* kNames[] = {"add-learner", "promote", "remove"};
  auto r = l->raft->ProposeConfChange(cc);
  Trace("admin: " + std::string(kNames[static_cast<int>(cc.kind)]) + " n" +
        std::to_string(cc.node) + " via leader n" + std::to_string(l->id) + ": " +
        (r.ok() ? "proposed at " + std::to_string(r->index) : r.status().message()));
  Process(*l);
}

void Simulation::TransferStep() {
  if (now_ >= heal_at_) return;
  At(now_ + rng_.Range(1 * kSec, 5 * kSec), [this]() { TransferStep(); });
  SimNode* l = CurrentLeader();
  if (!l) return;
  const auto& voters = l->raft->conf().voters;
  if (voters.empty()) return;
  NodeId target = voters[rng_.Uniform(voters.size())];
  Status s = l->raft->TransferLeadership(target);
  ++res_.transfers;
  Trace("admin: transfer leadership n" + std::to_string(l->id) + " -> n" + std::to_string(target) +
        ": " + (s.ok() ? "started" : s.message()));
  Process(*l);
}

void Simulation::Heal() {
  healed_ = true;
  Trace("=== faults stop: heal network, restart crashed nodes ===");
  blocked_.clear();
  drop_ = 0;
  dup_ = 0;
  for (auto& p : nodes_) p->disk_slow = false;
  for (auto& p : nodes_)
    if (!p->up) Restart(*p);
}

void Simulation::ClientDone(Client& c, size_t op) {
  if (c.cur != op) return;
  c.cur = SIZE_MAX;
  int id = c.id;
  At(now_ + rng_.Range(1 * kMs, 30 * kMs), [this, id]() { ClientIssue(clients_[id]); });
}

void Simulation::ClientIssue(Client& c) {
  if (now_ >= clients_stop_at_ || !res_.ok) return;
  int cid = c.id;
  auto retry = [this, cid](uint64_t delay) {
    At(now_ + delay, [this, cid]() { ClientIssue(clients_[cid]); });
  };
  SimNode& n = N(c.target);
  if (!n.up) {
    c.target = 1 + rng_.Uniform(nodes_.size());
    retry(20 * kMs);
    return;
  }
  ClientOp o;
  o.id = ++next_op_;
  o.client = c.id;
  o.kind = rng_.Chance(0.5) ? kPut : kGet;
  o.key = keys_[rng_.Uniform(keys_.size())];
  o.call = now_;
  o.node = n.id;
  Status st;
  if (o.kind == kPut) {
    o.value = o.id;
    auto r = n.raft->Propose(EncodePut(KvCommand{o.id, o.key, o.value}));
    st = r.status();
  } else {
    st = n.raft->ReadIndex(o.id);
  }
  if (!st.ok()) {
    NodeId hint = n.raft->leader();
    c.target = hint != raft::kNone ? hint : 1 + rng_.Uniform(nodes_.size());
    Process(n);
    retry(hint != raft::kNone ? 1 * kMs : 50 * kMs);
    return;
  }
  size_t oi = ops_.size();
  ops_.push_back(o);
  c.cur = oi;
  if (o.kind == kPut) {
    n.pending_puts[o.id] = oi;
  } else {
    n.pending_reads[o.id] = oi;
  }
  if (tracing())
    Trace("client " + std::to_string(c.id) + " invokes " +
          (o.kind == kPut ? "put " + o.key + "=" + std::to_string(o.value) : "get " + o.key) +
          " at n" + std::to_string(n.id));
  At(now_ + 1 * kSec, [this, oi, cid]() {
    ClientOp& x = ops_[oi];
    if (x.done) return;
    x.timed_out = true;
    ++res_.ops_timeout;
    if (tracing())
      Trace("client " + std::to_string(cid) + " op " + std::to_string(x.id) + " timed out");
    Client& cl = clients_[cid];
    cl.target = 1 + rng_.Uniform(nodes_.size());
    ClientDone(cl, oi);
  });
  Process(n);
}

void Simulation::CheckStableLeader() {
  for (auto& p : nodes_) {
    if (!p->up || p->raft->role() != Role::kLeader) continue;
    const Raft& l = *p->raft;
    bool all = true;
    for (NodeId v : l.conf().voters) {
      SimNode& x = N(v);
      if (!x.up) continue;
      if (x.raft->leader() != l.id() || x.raft->term() != l.term()) {
        all = false;
        break;
      }
    }
    if (all) {
      stable_leader_at_ = now_;
      return;
    }
  }
}

void Simulation::FinalChecks() {
  if (!res_.ok) return;
  if (stable_leader_at_ == 0) {
    Fail("liveness: no leader recognised by all live voters within 5s after faults stopped");
    return;
  }
  SimNode* lp = CurrentLeader();
  if (!lp) {
    Fail("liveness: no leader at the end of the run");
    return;
  }
  const Raft& l = *lp->raft;
  if (l.commit() != l.last_index()) {
    Fail("liveness: leader n" + std::to_string(l.id()) +
         " has uncommitted entries at the end (commit " + std::to_string(l.commit()) + ", last " +
         std::to_string(l.last_index()) + ")");
    return;
  }
  std::vector<NodeId> members = l.conf().voters;
  members.insert(members.end(), l.conf().learners.begin(), l.conf().learners.end());
  for (NodeId id : members) {
    SimNode& x = N(id);
    if (!x.up) continue;
    if (x.kv_applied != l.commit()) {
      Fail("liveness: n" + std::to_string(id) + " applied " + std::to_string(x.kv_applied) +
           " but the leader committed " + std::to_string(l.commit()));
      return;
    }
    for (const ClientOp& o : ops_) {
      if (o.kind == kPut && o.done && !x.kv.HasApplied(o.id)) {
        Fail("acknowledged put " + std::to_string(o.id) + " is not applied on n" +
             std::to_string(id));
        return;
      }
    }
  }
  std::vector<Op> hist;
  for (const ClientOp& o : ops_) {
    if (o.kind == kGet && !o.done) continue;  // an unanswered read constrains nothing
    Op h;
    h.client = o.client;
    h.key = o.key;
    h.kind = o.kind;
    h.id = o.id;
    if (o.kind == kPut) {
      h.input = o.value;
    } else {
      h.output = o.value;
    }
    h.call = o.call;
    h.ret = o.done ? o.ret : kPending;
    hist.push_back(h);
  }
  LinReport rep = CheckLinearizable(hist, RegisterModel());
  if (rep.result == LinResult::kViolation)
    Fail("linearizability violated on key " + rep.key + ": " + rep.detail);
}

SimResult Simulation::Run() {
  // Parameters derived from the seed.
  static const int kVoters[] = {3, 3, 5, 5, 7};
  voters_ = opts_.voters > 0 ? opts_.voters : kVoters[rng_.Uniform(5)];
  spares_ = opts_.spares >= 0 ? opts_.spares : std::min(2, 7 - voters_);
  if (!opts_.membership) spares_ = 0;
  static const double kDrops[] = {0, 0.01, 0.05, 0.1};
  drop_ = opts_.drop >= 0 ? opts_.drop : kDrops[rng_.Uniform(4)];
  dup_ = rng_.Chance(0.5) ? 0.02 : 0;
  disk_base_us_ = rng_.Range(50, 2000);
  compact_every_ = rng_.Range(20, 200);
  max_inflight_ = rng_.Range(1, 8);
  max_entries_ = rng_.Range(1, 16);
  if (opts_.max_msg_entries > 0) max_entries_ = static_cast<size_t>(opts_.max_msg_entries);
  chunk_ = rng_.Range(128, 4096);
  forward_ = rng_.Chance(0.5);
  for (int i = 0; i < 3; ++i) keys_.push_back("k" + std::to_string(i));
  heal_at_ = static_cast<uint64_t>(opts_.fault_seconds * kSec);
  end_at_ = heal_at_ + static_cast<uint64_t>(opts_.settle_seconds * kSec);
  clients_stop_at_ = end_at_ > 5 * kSec ? end_at_ - 5 * kSec : 0;

  raft::ConfState initial;
  for (int i = 1; i <= voters_; ++i) initial.voters.push_back(i);
  std::ostringstream sum;
  sum << "voters=" << voters_ << " spares=" << spares_ << " drop=" << drop_ << " dup=" << dup_
      << " disk_us=" << disk_base_us_ << " compact_every=" << compact_every_
      << " inflight=" << max_inflight_ << " entries/msg=" << max_entries_ << " chunk=" << chunk_
      << " forward=" << forward_;
  res_.summary = sum.str();
  Trace("seed " + std::to_string(opts_.seed) + ": " + res_.summary);

  for (int i = 1; i <= voters_ + spares_; ++i) {
    auto n = std::make_unique<SimNode>();
    n->id = i;
    n->tick_us = 100 * kMs * rng_.Range(80, 120) / 100;  // clock skew
    if (i <= voters_) n->disk.snap.meta.conf = initial;
    n->disk_slow = opts_.slow_disks;
    nodes_.push_back(std::move(n));
  }
  for (auto& p : nodes_) StartNode(*p);
  for (int i = 0; i < opts_.clients; ++i) {
    Client c;
    c.id = i;
    c.target = 1 + rng_.Uniform(voters_);
    clients_.push_back(c);
    At(rng_.Range(0, 100 * kMs), [this, i]() { ClientIssue(clients_[i]); });
  }
  if (opts_.fault_seconds > 0) {
    At(rng_.Range(500 * kMs, 2 * kSec), [this]() { FaultStep(); });
    if (opts_.membership && spares_ + voters_ > 3)
      At(rng_.Range(1 * kSec, 3 * kSec), [this]() { AdminStep(); });
    if (opts_.transfers) At(rng_.Range(1 * kSec, 4 * kSec), [this]() { TransferStep(); });
  }
  At(heal_at_, [this]() { Heal(); });

  while (!q_.empty() && res_.ok) {
    Event ev = q_.top();
    q_.pop();
    if (ev.t > end_at_) break;
    now_ = ev.t;
    ev.fn();
    if (++res_.events > kMaxEvents) Fail("event budget exhausted (message storm or livelock)");
    if (healed_ && stable_leader_at_ == 0) {
      if (now_ <= heal_at_ + 5 * kSec) {
        CheckStableLeader();
      }
    }
  }
  now_ = end_at_;
  FinalChecks();
  return res_;
}

}  // namespace

SimResult RunSimulation(const SimOptions& opts) {
  Simulation s(opts);
  return s.Run();
}

}  // namespace sb::sim
