// Durable storage for one Raft node, behind an interface so the core stays
// I/O-free and the simulator can substitute a storage that loses unsynced
// writes on a simulated crash.
#pragma once

#include <vector>

#include "common/status.h"
#include "raft/types.h"

namespace sb::raft {

class Storage {
 public:
  virtual ~Storage() = default;
  // Recovers exactly the durable state (snapshot, hard state, entries after the
  // snapshot). Fails with a clear message when the files are corrupt.
  virtual Result<InitialState> Load() = 0;
  // Persists one Ready: an installed snapshot (replaces the whole log), then
  // entries (each overwriting any suffix from its index), then the hard state,
  // made durable with one sync (group commit) when `sync` is set (pass
  // Ready::MustSync()). Returns only once durable.
  virtual Status Save(const HardState* hs, const std::vector<Entry>& entries,
                      const Snapshot* installed, bool sync = true) = 0;
  // Persists an application snapshot at snap.meta.index and drops the log
  // prefix it covers; later entries are kept.
  virtual Status Compact(const Snapshot& snap) = 0;
};

}  // namespace sb::raft
