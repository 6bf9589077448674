#include "rpc/server.h"

#include <utility>

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_context.h>

#include "proto/node.grpc.pb.h"
#include "rpc/credentials.h"
#include "rpc/grpc_runtime.h"
#include "rpc/wire.h"

namespace sb::rpc {
namespace {

class GrpcRowBatchSink : public RowBatchSink {
 public:
  GrpcRowBatchSink(grpc::ServerContext* ctx, grpc::ServerWriter<RowBatch>* writer)
      : ctx_(ctx), writer_(writer) {}
  bool Write(const RowBatch& batch) override {
    return !ctx_->IsCancelled() && writer_->Write(batch);
  }
  bool IsCancelled() const override { return ctx_->IsCancelled(); }
  std::chrono::system_clock::time_point deadline() const override { return ctx_->deadline(); }

 private:
  grpc::ServerContext* ctx_;
  grpc::ServerWriter<RowBatch>* writer_;
};

class GrpcShardTxnStream : public ShardTxnStream {
 public:
  GrpcShardTxnStream(grpc::ServerContext* ctx,
                     grpc::ServerReaderWriter<ShardTxnReply, ShardTxnRequest>* stream)
      : ctx_(ctx), stream_(stream) {}
  bool Read(ShardTxnRequest* request) override { return stream_->Read(request); }
  bool Write(const ShardTxnReply& reply) override {
    return !ctx_->IsCancelled() && stream_->Write(reply);
  }
  bool IsCancelled() const override { return ctx_->IsCancelled(); }

 private:
  grpc::ServerContext* ctx_;
  grpc::ServerReaderWriter<ShardTxnReply, ShardTxnRequest>* stream_;
};

Status NotServed(const char* method) {
  return Status::NotSupported(std::string("this node does not serve ") + method);
}

}  // namespace

Status NodeTransportHandler::OnShardTransaction(const Uuid&, ShardTxnStream&) {
  return NotServed("ShardTransaction");
}
Status NodeTransportHandler::OnInitCluster(const Uuid&, const InitRequest&, InitReply*) {
  return NotServed("InitCluster");
}
Status NodeTransportHandler::OnJoin(const Uuid&, const JoinRequest&, JoinReply*) {
  return NotServed("Join");
}
Status NodeTransportHandler::OnRemoveNode(const Uuid&, const RemoveRequest&, RemoveReply*) {
  return NotServed("RemoveNode");
}
Status NodeTransportHandler::OnInjectFault(const Uuid&, const FaultRequest&, FaultReply*) {
  return NotServed("InjectFault");
}
Status NodeTransportHandler::OnClusterStatus(const Uuid&, const StatusRequest&, StatusReply*) {
  return NotServed("ClusterStatus");
}

class RpcServer::Service final : public NodeTransport::Service {
 public:
  Service(std::shared_ptr<const PeerAuthenticator> auth, NodeTransportHandler* handler,
          std::set<std::string> open_to_non_members, Uuid self)
      : auth_(std::move(auth)),
        handler_(handler),
        open_(std::move(open_to_non_members)),
        self_(self) {}

  grpc::Status Raft(grpc::ServerContext* ctx, const RaftBatch* req, RaftAck* resp) override {
    Uuid from;
    if (auto st = Authorize(ctx, "Raft", req->from_node(), &from); !st.ok()) return st;
    std::vector<std::string> messages(req->messages().begin(), req->messages().end());
    Status st = handler_->OnRaft(from, messages);
    if (!st.ok()) return ToGrpcStatus(st);
    resp->set_accepted(static_cast<uint32_t>(messages.size()));
    return grpc::Status::OK;
  }

  // One handler thread per peer stream for its lifetime; every batch is
  // checked against the identity the TLS handshake established.
  grpc::Status RaftStream(grpc::ServerContext* ctx, grpc::ServerReader<RaftBatch>* reader,
                          RaftAck* resp) override {
    Uuid from;
    if (auto st = Authorize(ctx, "RaftStream", {}, &from); !st.ok()) return st;
    RaftBatch batch;
    std::vector<std::string> messages;
    uint64_t accepted = 0;
    while (reader->Read(&batch)) {
      if (auto st = CheckClaim(batch.from_node(), from); !st.ok()) return st;
      messages.assign(std::make_move_iterator(batch.mutable_messages()->begin()),
                      std::make_move_iterator(batch.mutable_messages()->end()));
      if (Status st = handler_->OnRaft(from, messages); !st.ok()) return ToGrpcStatus(st);
      accepted += messages.size();
    }
    resp->set_accepted(accepted);
    return grpc::Status::OK;
  }

  grpc::Status Ping(grpc::ServerContext* ctx, const PingRequest* req, PingReply* resp) override {
    Uuid from;
    if (auto st = Authorize(ctx, "Ping", req->from_node(), &from); !st.ok()) return st;
    auto epoch = handler_->OnPing(from, req->epoch());
    if (!epoch.ok()) return ToGrpcStatus(epoch.status());
    resp->set_node(UuidToBytes(self_));
    resp->set_epoch(*epoch);
    resp->set_schema_version(handler_->AppliedSchemaVersion());
    return grpc::Status::OK;
  }

  grpc::Status ExecuteSubplan(grpc::ServerContext* ctx, const SubplanRequest* req,
                              grpc::ServerWriter<RowBatch>* writer) override {
    Uuid from;
    if (auto st = Authorize(ctx, "ExecuteSubplan", {}, &from); !st.ok()) return st;
    GrpcRowBatchSink sink(ctx, writer);
    Status st = handler_->OnExecuteSubplan(from, *req, sink);
    if (st.ok() && ctx->IsCancelled())
      return grpc::Status(grpc::StatusCode::CANCELLED, "caller cancelled the subplan");
    return ToGrpcStatus(st);
  }

  grpc::Status ShardTransaction(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<ShardTxnReply, ShardTxnRequest>* stream) override {
    Uuid from;
    if (auto st = Authorize(ctx, "ShardTransaction", {}, &from); !st.ok()) return st;
    GrpcShardTxnStream txn(ctx, stream);
    Status st = handler_->OnShardTransaction(from, txn);
    if (st.ok() && ctx->IsCancelled())
      return grpc::Status(grpc::StatusCode::CANCELLED, "caller cancelled the transaction");
    return ToGrpcStatus(st);
  }

  grpc::Status InitCluster(grpc::ServerContext* ctx, const InitRequest* req,
                           InitReply* resp) override {
    Uuid from;
    if (auto st = Authorize(ctx, "InitCluster", {}, &from); !st.ok()) return st;
    return ToGrpcStatus(handler_->OnInitCluster(from, *req, resp));
  }

  grpc::Status Join(grpc::ServerContext* ctx, const JoinRequest* req, JoinReply* resp) override {
    Uuid from;
    if (auto st = Authorize(ctx, "Join", req->member().node_uuid(), &from); !st.ok()) return st;
    return ToGrpcStatus(handler_->OnJoin(from, *req, resp));
  }

  grpc::Status ClusterStatus(grpc::ServerContext* ctx, const StatusRequest* req,
                             StatusReply* resp) override {
    Uuid from;
    if (auto st = Authorize(ctx, "ClusterStatus", {}, &from); !st.ok()) return st;
    return ToGrpcStatus(handler_->OnClusterStatus(from, *req, resp));
  }

  grpc::Status RemoveNode(grpc::ServerContext* ctx, const RemoveRequest* req,
                          RemoveReply* resp) override {
    Uuid from;
    if (auto st = Authorize(ctx, "RemoveNode", {}, &from); !st.ok()) return st;
    return ToGrpcStatus(handler_->OnRemoveNode(from, *req, resp));
  }

  grpc::Status InjectFault(grpc::ServerContext* ctx, const FaultRequest* req,
                           FaultReply* resp) override {
    Uuid from;
    if (auto st = Authorize(ctx, "InjectFault", {}, &from); !st.ok()) return st;
    return ToGrpcStatus(handler_->OnInjectFault(from, *req, resp));
  }

 private:
  // The caller is who its certificate says; a node id in the request is a
  // claim that must agree with it (empty: no claim).
  grpc::Status Authorize(grpc::ServerContext* ctx, const std::string& method,
                         const std::string& claimed, Uuid* from) const {
    auto auth_ctx = ctx->auth_context();
    if (!auth_ctx) {
      auth_->CountRejection(RejectReason::kPlaintext);
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no transport security");
    }
    PeerVerdict verdict = auth_->CheckCall(*auth_ctx, open_.contains(method));
    if (!verdict.ok()) return rpc::ToGrpcStatus(verdict);
    *from = verdict.identity->node_id;
    return CheckClaim(claimed, *from);
  }

  static grpc::Status CheckClaim(const std::string& claimed, const Uuid& from) {
    if (claimed.empty()) return grpc::Status::OK;
    auto claim = UuidFromBytes(claimed);
    if (!claim.ok() || *claim != from)
      return grpc::Status(
          grpc::StatusCode::PERMISSION_DENIED,
          "request claims another node than the caller's certificate (" + from.ToString() + ")");
    return grpc::Status::OK;
  }

  std::shared_ptr<const PeerAuthenticator> auth_;
  NodeTransportHandler* handler_;
  std::set<std::string> open_;
  Uuid self_;
};

struct RpcServer::Impl {
  std::unique_ptr<Service> service;
  std::unique_ptr<grpc::Server> server;
  bool stopped = false;
};

RpcServer::RpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RpcServer::~RpcServer() {
  Stop(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<RpcServer>> RpcServer::Start(RpcServerOptions options) {
  ConfigureGrpcRuntime();
  if (options.handler == nullptr || !options.auth)
    return Status::InvalidArgument("rpc server needs a handler and a peer authenticator");
  SB_ASSIGN_OR_RETURN(security::NodeIdentity self,
                      security::ReadNodeIdentity(options.identity.cert_pem));
  SB_ASSIGN_OR_RETURN(auto creds, MakeServerCredentials(options.identity, options.auth));

  auto impl = std::make_unique<Impl>();
  impl->service = std::make_unique<Service>(options.auth, options.handler,
                                            std::move(options.open_to_non_members), self.node_id);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, creds, &port);
  builder.RegisterService(impl->service.get());
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  // The sync server hands each call to a thread that was polling; with the
  // defaults (1..2 pollers) concurrent subplans make it create and destroy a
  // thread per call. Keeping more pollers alive removes that churn.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 4);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 64);
  impl->server = builder.BuildAndStart();
  if (!impl->server || port == 0)
    return Status::Error(kSqlstateConnectionFailure,
                         "cannot listen for node connections on " + options.listen_address,
                         "check that the address is local and the port is free");
  std::unique_ptr<RpcServer> server(new RpcServer(std::move(impl)));
  server->port_ = port;
  server->node_id_ = self.node_id;
  return server;
}

void RpcServer::Stop(std::chrono::milliseconds grace) {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->server->Shutdown(std::chrono::system_clock::now() + grace);
  impl_->server->Wait();
}

}  // namespace sb::rpc
