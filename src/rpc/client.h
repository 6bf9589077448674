// A connection to one peer node: one gRPC channel over mutual TLS, checked to
// reach the node we meant (or, when dialling an address whose node we do not
// know yet, any member of the cluster). Calls carry deadlines; failures come
// back as Status with SQLSTATE 08006 and the peer named, unless the peer's
// handler failed with a SQLSTATE of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"
#include "proto/node.pb.h"
#include "rpc/peer_auth.h"
#include "security/tls_context.h"

namespace sb::rpc {

struct PeerClientOptions {
  std::string address;  // "host:port"
  // The node expected at the address; unset: any member (PeerAuthenticator).
  std::optional<Uuid> expected_node;
  security::TlsIdentity identity;  // what this node presents
  std::shared_ptr<const PeerAuthenticator> auth;
  std::chrono::milliseconds default_timeout{2000};
  int max_message_bytes = 64 << 20;
};

struct PingResult {
  Uuid node;
  uint64_t epoch = 0;
  uint64_t schema_version = 0;
  std::chrono::microseconds round_trip{0};
};

// The caller's end of one ShardTransaction stream. Not thread-safe except
// Cancel, which may be called from any thread (statement cancellation).
class ShardTxnCall {
 public:
  virtual ~ShardTxnCall() = default;
  virtual bool Write(const ShardTxnRequest& request) = 0;
  virtual bool Read(ShardTxnReply* reply) = 0;
  // After Read or Write failed: the call's outcome (the owner's error with its
  // SQLSTATE, or 08006). Ends the call.
  virtual Status Finish() = 0;
  virtual void Cancel() = 0;
};

// The sending end of one RaftStream call. Write and Finish belong to one
// thread; Cancel may be called from any thread (a sender being retired).
class RaftStreamCall {
 public:
  virtual ~RaftStreamCall() = default;
  // Hands the batch to the stream; false once the stream is broken.
  virtual bool Write(const std::vector<std::string>& messages) = 0;
  // Ends the stream: OK with every message accepted, else why it broke
  // (12 "not served" … as FromGrpcStatus maps it).
  virtual Status Finish() = 0;
  virtual void Cancel() = 0;
};

class PeerClient {
 public:
  // Creates the channel; connecting happens on the first call.
  static Result<std::unique_ptr<PeerClient>> Create(PeerClientOptions options);
  ~PeerClient();

  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // timeout zero: options.default_timeout.
  Status SendRaft(const std::vector<std::string>& messages,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // Opens a RaftStream; `lifetime` is its deadline (the stream is meant to be
  // replaced before then), so a Write stuck on a frozen peer ends at last.
  std::unique_ptr<RaftStreamCall> OpenRaftStream(std::chrono::milliseconds lifetime);
  Result<PingResult> Ping(uint64_t my_epoch,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // Streams the subplan's batches to on_batch in order; an error from
  // on_batch cancels the call and is returned. on_call, when set, gets a
  // function that cancels the call (from any thread) when the call starts,
  // and an empty function when it ends.
  Status ExecuteSubplan(const SubplanRequest& request,
                        const std::function<Status(const RowBatch&)>& on_batch,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(0),
                        const std::function<void(std::function<void()>)>& on_call = {});

  // Opens a ShardTransaction stream; `timeout` bounds the whole transaction.
  std::unique_ptr<ShardTxnCall> OpenShardTransaction(std::chrono::milliseconds timeout);

  // Cluster administration and the join handshake (issue 5).
  Result<InitReply> InitCluster(const InitRequest& request,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  Result<JoinReply> Join(const JoinRequest& request,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  Result<StatusReply> ClusterStatus(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  Result<RemoveReply> RemoveNode(const RemoveRequest& request,
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  Result<FaultReply> InjectFault(const FaultRequest& request,
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  const std::string& address() const { return options_.address; }
  const Uuid& self() const { return self_; }

 private:
  struct Impl;
  PeerClient(PeerClientOptions options, Uuid self, std::unique_ptr<Impl> impl);
  std::string PeerName() const;
  std::chrono::system_clock::time_point Deadline(std::chrono::milliseconds timeout) const;

  PeerClientOptions options_;
  Uuid self_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::rpc
