// Raft traffic between nodes over the mTLS NodeTransport service.
//
// Outgoing: GrpcRaftTransport keeps one PeerClient and one sender thread per
// peer, fed by a bounded queue, so a slow or dead peer costs the Raft loop
// nothing but dropped messages (Raft resends what matters). Messages to one
// peer leave in order on one long-lived RaftStream, batched when they pile
// up; a stream costs a write per batch where a unary call cost a round trip
// before the next batch could leave (docs/raft.md, "Transport").
//
// Incoming: RaftBatchReceiver turns a RaftBatch from an authenticated node
// into RaftHost::Step calls, after checking that the node's certificate
// identity is the raft id the messages claim to come from.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cluster/raft_host.h"
#include "common/status.h"
#include "common/uuid.h"
#include "raft/types.h"
#include "rpc/client.h"
#include "rpc/peer_auth.h"
#include "security/tls_context.h"

namespace sb::cluster {

// How to reach the node behind a raft id.
struct RaftPeer {
  std::string address;  // "host:port" of its RPC port
  Uuid node;            // its certificate identity
  bool operator==(const RaftPeer&) const = default;
};

struct GrpcRaftTransportOptions {
  security::TlsIdentity identity;  // what this node presents
  std::shared_ptr<const rpc::PeerAuthenticator> auth;
  size_t max_queue = 4096;  // messages waiting per peer; more are dropped
  size_t max_batch = 256;   // messages per Raft call
  // Deadline of a unary Raft call (peers without RaftStream).
  std::chrono::milliseconds call_timeout{1000};
  // Deadline of one RaftStream; a stream past it is replaced on the next
  // write. Long, because a stream is cheap to keep and replacing it may lose
  // the messages in flight (Raft resends them).
  std::chrono::milliseconds stream_lifetime{std::chrono::hours(1)};
  // Pause after a failed call so an unreachable peer is not redialled in a
  // tight loop; messages arriving meanwhile queue up (and overflow).
  std::chrono::milliseconds retry_pause{100};
};

class GrpcRaftTransport : public RaftTransport {
 public:
  GrpcRaftTransport(GrpcRaftTransportOptions options, std::map<raft::NodeId, RaftPeer> peers);
  ~GrpcRaftTransport() override;  // Stop()
  GrpcRaftTransport(const GrpcRaftTransport&) = delete;
  GrpcRaftTransport& operator=(const GrpcRaftTransport&) = delete;

  // Queues and returns at once; drops when `to` is unknown or its queue full.
  void Send(uint64_t to, std::string encoded) override;

  // Replaces the peer map (membership changed, a node moved). Peers whose
  // address or identity changed get a fresh connection; removed peers'
  // queued messages are dropped.
  void SetPeers(std::map<raft::NodeId, RaftPeer> peers);
  // The raft id of an authenticated node, if it is a known peer.
  std::optional<raft::NodeId> RaftIdOf(const Uuid& node) const;

  // Stops every sender thread. Idempotent.
  void Stop();

  uint64_t dropped() const;
  uint64_t sent() const;

 private:
  class PeerSender;

  GrpcRaftTransportOptions options_;
  mutable std::mutex mu_;
  std::map<raft::NodeId, RaftPeer> peers_;
  std::map<raft::NodeId, std::unique_ptr<PeerSender>> senders_;
  uint64_t dropped_unknown_ = 0;
  uint64_t retired_dropped_ = 0;
  uint64_t retired_sent_ = 0;
};

// The Raft part of an rpc::NodeTransportHandler: the node's handler forwards
// OnRaft here.
class RaftBatchReceiver {
 public:
  // Neither is owned; both outlive the receiver.
  RaftBatchReceiver(RaftHost* host, const GrpcRaftTransport* peers);
  // 28000 when `from` is not a known peer; 08P01 when a message is malformed
  // or claims another sender (the messages before it were delivered).
  Status OnRaft(const Uuid& from, const std::vector<std::string>& messages);

 private:
  RaftHost* host_;
  const GrpcRaftTransport* peers_;
};

}  // namespace sb::cluster
