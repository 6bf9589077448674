// The node's gRPC server for the NodeTransport service (proto/node.proto).
// It owns the network side only: every call is authenticated (TLS in the
// handshake, then PeerAuthenticator per call), the sender identity comes from
// the certificate, and the work is delegated to a NodeTransportHandler that
// the node wires to Raft, the meta state and the executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/support/status.h>

#include "common/status.h"
#include "common/uuid.h"
#include "proto/node.pb.h"
#include "rpc/peer_auth.h"
#include "security/tls_context.h"

namespace sb::rpc {

// Where ExecuteSubplan sends its rows. Write returns false once the caller
// has gone (cancelled, deadline passed, connection lost): stop producing.
class RowBatchSink {
 public:
  virtual ~RowBatchSink() = default;
  virtual bool Write(const RowBatch& batch) = 0;
  virtual bool IsCancelled() const = 0;
  // The caller's deadline; time_point::max() if it set none.
  virtual std::chrono::system_clock::time_point deadline() const = 0;
};

// One ShardTransaction stream, server side. Read returns false when the
// caller half-closed or went away; Write false once it has gone.
class ShardTxnStream {
 public:
  virtual ~ShardTxnStream() = default;
  virtual bool Read(ShardTxnRequest* request) = 0;
  virtual bool Write(const ShardTxnReply& reply) = 0;
  virtual bool IsCancelled() const = 0;
};

// Called on gRPC's threads, concurrently; implementations synchronize. `from`
// is the verified node identity of the caller.
class NodeTransportHandler {
 public:
  virtual ~NodeTransportHandler() = default;
  // Hands raft::Message encodings (src/raft/codec) to the Raft core, in order.
  virtual Status OnRaft(const Uuid& from, const std::vector<std::string>& messages) = 0;
  // Returns this node's newest applied configuration epoch.
  virtual Result<uint64_t> OnPing(const Uuid& from, uint64_t their_epoch) = 0;
  // The schema version this node's shards have applied, reported in every
  // PingReply (0 by default: a node without shards).
  virtual uint64_t AppliedSchemaVersion() const { return 0; }
  virtual Status OnExecuteSubplan(const Uuid& from, const SubplanRequest& request,
                                  RowBatchSink& sink) = 0;
  // Serves one ShardTransaction stream until the transaction ends; the
  // default refuses with 0A000.
  virtual Status OnShardTransaction(const Uuid& from, ShardTxnStream& stream);
  // Cluster administration (issue 5). Defaults refuse with 0A000 so handlers
  // that serve only node traffic need not implement them.
  virtual Status OnInitCluster(const Uuid& from, const InitRequest& request, InitReply* reply);
  virtual Status OnJoin(const Uuid& from, const JoinRequest& request, JoinReply* reply);
  virtual Status OnClusterStatus(const Uuid& from, const StatusRequest& request,
                                 StatusReply* reply);
  virtual Status OnRemoveNode(const Uuid& from, const RemoveRequest& request, RemoveReply* reply);
  virtual Status OnInjectFault(const Uuid& from, const FaultRequest& request, FaultReply* reply);
};

struct RpcServerOptions {
  // "host:port"; port 0 picks a free port (RpcServer::port()).
  std::string listen_address;
  security::TlsIdentity identity;
  std::shared_ptr<const PeerAuthenticator> auth;
  NodeTransportHandler* handler = nullptr;  // not owned; outlives the server
  // Methods (as named in node.proto, e.g. "Ping") that nodes outside the
  // current configuration may call: the join handshake. Empty by default.
  std::set<std::string> open_to_non_members;
  int max_message_bytes = 64 << 20;  // Raft snapshot chunks, row batches
};

class RpcServer {
 public:
  // Binds and starts serving; fails with SQLSTATE 08006 if the address
  // cannot be bound.
  static Result<std::unique_ptr<RpcServer>> Start(RpcServerOptions options);
  ~RpcServer();  // Stop()

  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // The bound port (the chosen one when the address asked for port 0).
  int port() const { return port_; }
  const Uuid& node_id() const { return node_id_; }

  // Stops accepting calls, gives running calls `grace` to finish and then
  // cancels them. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(1000));

 private:
  class Service;
  struct Impl;
  explicit RpcServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  Uuid node_id_;
};

}  // namespace sb::rpc
