// RaftHost runs one raft::Raft on a real node: durable storage in a
// directory, a tick thread, and one loop thread that owns the core and
// handles its Ready batches in the order docs/raft.md prescribes. Messages
// leave through a RaftTransport and arrive through Step(), so the host runs
// the same over gRPC (grpc_transport.h) and over in-memory links in tests.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster/state_machine.h"
#include "common/status.h"
#include "raft/disk_storage.h"
#include "raft/raft.h"

namespace sb::cluster {

// Where the host's outgoing Raft messages go. Send must not block for long:
// it is called on the loop thread. Losing a message is fine (Raft resends);
// delivering one twice is not expected (see docs/raft.md, "Running on nodes").
class RaftTransport {
 public:
  virtual ~RaftTransport() = default;
  virtual void Send(uint64_t to, std::string encoded) = 0;
};

struct RaftHostOptions {
  raft::NodeId id = raft::kNone;
  std::string dir;  // DiskStorage directory, created if missing
  // Bootstrap a new group with `initial_voters`. Refused when the directory
  // already holds Raft state. A node that is not fresh and has no state waits
  // to be added by a leader (AddLearner on the leader).
  bool fresh = false;
  std::vector<raft::NodeId> initial_voters;
  std::chrono::milliseconds tick_interval{50};
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  // Snapshot the state machine and compact the log every this many applied
  // entries; 0 disables.
  uint64_t snapshot_interval = 1000;
  // Followers forward proposals to the leader; otherwise Propose fails there
  // with SB010 naming the leader.
  bool forward_proposals = true;
  // Incoming messages waiting for the loop beyond this are dropped.
  size_t max_inbox = 10000;
  raft::DiskStorageOptions storage;
};

class RaftHost {
 public:
  // `machine` and `transport` are not owned and must outlive the host.
  RaftHost(RaftHostOptions options, ReplicatedStateMachine* machine, RaftTransport* transport);
  ~RaftHost();  // Stop()
  RaftHost(const RaftHost&) = delete;
  RaftHost& operator=(const RaftHost&) = delete;

  // Loads storage (XX001 on corruption), restores the state machine from the
  // newest snapshot and starts the threads. A host starts once; to restart a
  // node, build a new host on the same directory.
  Status Start();
  // Stops the threads; pending proposals fail with 57P01. Idempotent.
  void Stop();

  // Replicates `command` and waits until this node applied it; returns what
  // ReplicatedStateMachine::Apply returned. SB010 when no leader is known (or
  // on a follower without forwarding), SB012 when the leader is overloaded,
  // 57014 on timeout — the command may still be applied later.
  Result<std::string> Propose(std::string command, std::chrono::milliseconds timeout);

  // Membership changes, leader only (SB010 with the leader hint elsewhere);
  // complete when this node applied the configuration entry.
  Status AddLearner(raft::NodeId node, std::chrono::milliseconds timeout);
  Status PromoteVoter(raft::NodeId node, std::chrono::milliseconds timeout);
  Status RemoveNode(raft::NodeId node, std::chrono::milliseconds timeout);

  // Delivers one encoded raft::Message from peer `from` (0: trust the
  // message's own sender field). Fails with 08P01 on a malformed message or a
  // sender mismatch; never blocks on the loop.
  Status Step(raft::NodeId from, std::string_view encoded);

  // Introspection, safe from any thread; updated after each loop iteration.
  raft::NodeId id() const { return options_.id; }
  raft::NodeId leader() const { return leader_.load(); }
  raft::Term term() const { return term_.load(); }
  raft::Index commit() const { return commit_.load(); }
  raft::Index applied() const { return applied_.load(); }
  raft::Role role() const { return role_.load(); }
  raft::ConfState conf() const;
  // Snapshots taken by this node since Start (tests, metrics).
  uint64_t snapshots_taken() const { return snapshots_taken_.load(); }
  // Non-OK once the host stopped on an unrecoverable error (disk failure).
  Status fatal() const;

 private:
  struct Pending {
    std::promise<Result<std::string>> done;
  };
  struct PendingConf {
    raft::Term term = 0;
    std::promise<Status> done;
  };
  struct ConfRequest {
    raft::ConfChange change;
    std::shared_ptr<PendingConf> pending;
  };

  Status ChangeConf(raft::ConfChange change, std::chrono::milliseconds timeout);
  void TickLoop();
  void Loop();
  // Handles every Ready the core has; false after a fatal error.
  bool DrainReady();
  void ApplyEntry(const raft::Entry& e);
  void MaybeSnapshot();
  void Publish();
  void Fail(Status status);
  void FailAllPending(const Status& status);

  RaftHostOptions options_;
  ReplicatedStateMachine* machine_;
  RaftTransport* transport_;
  std::unique_ptr<raft::DiskStorage> storage_;
  std::unique_ptr<raft::Raft> raft_;  // loop thread only, after Start

  // Identifies this incarnation's proposals in the log, so a restarted node
  // replaying its own older entries does not mistake them for new ones.
  uint64_t incarnation_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the loop thread
  std::condition_variable tick_cv_;  // wakes the tick thread on Stop
  bool stop_ = false;
  bool started_ = false;
  int ticks_ = 0;
  std::deque<raft::Message> inbox_;
  std::deque<std::pair<uint64_t, std::string>> proposals_;  // (seq, framed command)
  std::deque<ConfRequest> conf_requests_;
  uint64_t next_seq_ = 1;
  std::map<uint64_t, std::shared_ptr<Pending>> pending_;  // by seq
  // Where the leader put our proposals: another entry applied at that index
  // means ours was overwritten by a new leader and will never apply.
  std::map<raft::Index, uint64_t> pending_index_;                     // log index -> seq
  std::map<raft::Index, std::shared_ptr<PendingConf>> pending_conf_;  // by log index
  raft::ConfState conf_;
  Status fatal_;

  uint64_t last_snapshot_index_ = 0;  // loop thread only

  std::atomic<raft::NodeId> leader_{raft::kNone};
  std::atomic<raft::Term> term_{0};
  std::atomic<raft::Index> commit_{0};
  std::atomic<raft::Index> applied_{0};
  std::atomic<raft::Role> role_{raft::Role::kFollower};
  std::atomic<uint64_t> snapshots_taken_{0};

  std::thread tick_thread_;
  std::thread loop_thread_;
};

}  // namespace sb::cluster
