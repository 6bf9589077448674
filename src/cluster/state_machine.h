// The application side of a Raft group run by RaftHost: every node applies
// the same committed commands in the same order, so Apply must be
// deterministic (no clocks, randomness or local state beyond the machine's).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sb::cluster {

class ReplicatedStateMachine {
 public:
  virtual ~ReplicatedStateMachine() = default;
  // Called on the host's loop thread once per committed command, in log
  // order. The result goes back to the proposer when it proposed on this node.
  virtual std::string Apply(uint64_t index, std::string_view command) = 0;
  // The whole state, as Restore() takes it. Called on the loop thread.
  virtual std::string Snapshot() const = 0;
  // Replaces the whole state (a snapshot from disk or from the leader).
  virtual Status Restore(std::string_view snapshot) = 0;
};

}  // namespace sb::cluster
