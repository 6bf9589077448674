// Deterministic simulator for the Raft core: N nodes in one thread, a
// simulated clock and network, simulated disks, crashes, partitions,
// membership changes, leadership transfers and KV clients, all driven by one
// seed. Safety invariants are checked after every event; liveness and
// linearizability at the end of the run.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "kv.h"
#include "linearizability.h"
#include "raft/codec.h"
#include "raft/raft.h"
#include "raft/storage.h"

namespace sb::sim {

// Deterministic PRNG (SplitMix64); the standard distributions are not
// portable, so all draws go through these helpers.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Uniform(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Uniform(hi - lo + 1); }  // inclusive
  bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }

 private:
  uint64_t s_;
};

// A simulated disk: what was synced survives a crash; an in-flight write
// survives only as a random prefix of its records.
class SimStorage : public raft::Storage {
 public:
  Result<raft::InitialState> Load() override;
  Status Save(const raft::HardState* hs, const std::vector<raft::Entry>& entries,
              const raft::Snapshot* installed, bool sync = true) override;
  Status Compact(const raft::Snapshot& snap) override;
  // Applies the first `records` records of a Ready (snapshot, entries..., hard state).
  void SaveTorn(const raft::Ready& rd, size_t records);

  raft::Snapshot snap;
  raft::HardState hs;
  std::vector<raft::Entry> log;  // entries after snap.meta.index
};

struct SimOptions {
  uint64_t seed = 1;
  int voters = 0;   // 0: derived from the seed (3, 5 or 7)
  int spares = -1;  // nodes that may join as learners; -1: derived
  double fault_seconds = 20;
  double settle_seconds = 12;
  int clients = 4;
  bool crashes = true;
  bool partitions = true;
  bool membership = true;
  bool transfers = true;
  bool snapshots = true;
  double drop = -1;  // -1: derived from the seed
  bool pre_vote = true;
  bool leader_noop = true;
  int max_msg_entries = 0;  // 0: derived from the seed
  bool chaos = false;
  bool slow_disks = false;
  double crash_after_commit = 0;  // chance to crash a leader right after its commit advances  //
                                  // every disk starts slow (long fsyncs widen crash windows) //
                                  // many more, shorter faults (crash/partition storms)
  raft::BugSwitches bugs;
  std::ostream* trace = nullptr;  // readable event trace when set
};

struct SimResult {
  bool ok = true;
  std::string failure;  // first violated property, with context
  bool safety = false;  // the failure is a safety violation (not liveness)
  uint64_t events = 0;
  uint64_t messages = 0;
  uint64_t ops_ok = 0, ops_timeout = 0, reads_ok = 0;
  uint64_t partitions = 0, torn_writes = 0;
  uint64_t commits = 0;
  uint64_t old_term_commits = 0;  // a leader's commit index landed on an older-term entry
  uint64_t crashes = 0, elections = 0, conf_changes = 0, transfers = 0, snapshots_sent = 0;
  std::string summary;  // one-line parameter summary of the run
};

SimResult RunSimulation(const SimOptions& opts);

}  // namespace sb::sim
