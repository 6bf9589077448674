#include "rpc/client.h"

#include <utility>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include "proto/node.grpc.pb.h"
#include "rpc/credentials.h"
#include "rpc/grpc_runtime.h"
#include "rpc/wire.h"

namespace sb::rpc {

struct PeerClient::Impl {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<NodeTransport::Stub> stub;
};

PeerClient::PeerClient(PeerClientOptions options, Uuid self, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), self_(self), impl_(std::move(impl)) {}

PeerClient::~PeerClient() = default;

Result<std::unique_ptr<PeerClient>> PeerClient::Create(PeerClientOptions options) {
  ConfigureGrpcRuntime();
  if (options.address.empty()) return Status::InvalidArgument("peer address is empty");
  SB_ASSIGN_OR_RETURN(security::NodeIdentity self,
                      security::ReadNodeIdentity(options.identity.cert_pem));
  SB_ASSIGN_OR_RETURN(
      auto creds, MakeChannelCredentials(options.identity, options.auth, options.expected_node));
  grpc::ChannelArguments args;
  // Channels with different credentials to one address must not share a
  // connection from gRPC's global pool (tests, and a node re-keying).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // A restarted peer should be reachable again within a heartbeat or two,
  // not after gRPC's default backoff of up to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  auto impl = std::make_unique<Impl>();
  impl->channel = grpc::CreateCustomChannel(options.address, creds, args);
  impl->stub = NodeTransport::NewStub(impl->channel);
  return std::unique_ptr<PeerClient>(
      new PeerClient(std::move(options), self.node_id, std::move(impl)));
}

std::string PeerClient::PeerName() const {
  std::string name = "node ";
  name += options_.expected_node ? options_.expected_node->ToString() : std::string("?");
  return name + " at " + options_.address;
}

std::chrono::system_clock::time_point PeerClient::Deadline(
    std::chrono::milliseconds timeout) const {
  return std::chrono::system_clock::now() +
         (timeout.count() > 0 ? timeout : options_.default_timeout);
}

Status PeerClient::SendRaft(const std::vector<std::string>& messages,
                            std::chrono::milliseconds timeout) {
  RaftBatch req;
  req.set_from_node(UuidToBytes(self_));
  for (const auto& m : messages) req.add_messages(m);
  RaftAck ack;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(timeout));
  grpc::Status st = impl_->stub->Raft(&ctx, req, &ack);
  if (!st.ok()) return FromGrpcStatus(st, PeerName());
  if (ack.accepted() != messages.size())
    return Status::Error(kSqlstateConnectionFailure,
                         PeerName() + " accepted " + std::to_string(ack.accepted()) + " of " +
                             std::to_string(messages.size()) + " raft messages");
  return Status::Ok();
}

namespace {

class GrpcRaftStreamCall : public RaftStreamCall {
 public:
  GrpcRaftStreamCall(NodeTransport::Stub* stub, std::chrono::system_clock::time_point deadline,
                     const Uuid& self, std::string peer)
      : peer_(std::move(peer)) {
    ctx_.set_deadline(deadline);
    stream_ = stub->RaftStream(&ctx_, &ack_);
    batch_.set_from_node(UuidToBytes(self));
  }
  ~GrpcRaftStreamCall() override {
    if (!finished_) {
      ctx_.TryCancel();
      (void)stream_->Finish();
    }
  }
  bool Write(const std::vector<std::string>& messages) override {
    batch_.clear_messages();
    for (const auto& m : messages) batch_.add_messages(m);
    if (!stream_->Write(batch_)) return false;
    written_ += messages.size();
    return true;
  }
  Status Finish() override {
    if (finished_) return Status::Ok();
    finished_ = true;
    stream_->WritesDone();
    grpc::Status st = stream_->Finish();
    if (!st.ok()) return FromGrpcStatus(st, peer_);
    if (ack_.accepted() != written_)
      return Status::Error(kSqlstateConnectionFailure,
                           peer_ + " accepted " + std::to_string(ack_.accepted()) + " of " +
                               std::to_string(written_) + " streamed raft messages");
    return Status::Ok();
  }
  void Cancel() override { ctx_.TryCancel(); }

 private:
  grpc::ClientContext ctx_;
  std::string peer_;
  RaftAck ack_;
  RaftBatch batch_;  // reused: its from_node is set once
  uint64_t written_ = 0;
  std::unique_ptr<grpc::ClientWriter<RaftBatch>> stream_;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<RaftStreamCall> PeerClient::OpenRaftStream(std::chrono::milliseconds lifetime) {
  return std::make_unique<GrpcRaftStreamCall>(impl_->stub.get(), Deadline(lifetime), self_,
                                              PeerName());
}

Result<PingResult> PeerClient::Ping(uint64_t my_epoch, std::chrono::milliseconds timeout) {
  PingRequest req;
  req.set_from_node(UuidToBytes(self_));
  req.set_epoch(my_epoch);
  PingReply reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(timeout));
  auto start = std::chrono::steady_clock::now();
  grpc::Status st = impl_->stub->Ping(&ctx, req, &reply);
  if (!st.ok()) return FromGrpcStatus(st, PeerName());
  PingResult result;
  auto node = UuidFromBytes(reply.node());
  if (!node.ok()) return node.status().Annotate(PeerName());
  result.node = *node;
  result.epoch = reply.epoch();
  result.schema_version = reply.schema_version();
  result.round_trip = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  return result;
}

Status PeerClient::ExecuteSubplan(const SubplanRequest& request,
                                  const std::function<Status(const RowBatch&)>& on_batch,
                                  std::chrono::milliseconds timeout,
                                  const std::function<void(std::function<void()>)>& on_call) {
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(timeout));
  if (on_call) on_call([&ctx] { ctx.TryCancel(); });
  struct EndCall {
    const std::function<void(std::function<void()>)>& on_call;
    ~EndCall() {
      if (on_call) on_call({});
    }
  } end_call{on_call};
  auto reader = impl_->stub->ExecuteSubplan(&ctx, request);
  RowBatch batch;
  Status consumer;
  while (reader->Read(&batch)) {
    consumer = on_batch(batch);
    if (!consumer.ok()) {
      ctx.TryCancel();
      break;
    }
  }
  grpc::Status st = reader->Finish();
  if (!consumer.ok()) return consumer;
  return FromGrpcStatus(st, PeerName());
}

namespace {

class GrpcShardTxnCall : public ShardTxnCall {
 public:
  GrpcShardTxnCall(NodeTransport::Stub* stub, std::chrono::system_clock::time_point deadline,
                   std::string peer)
      : peer_(std::move(peer)) {
    ctx_.set_deadline(deadline);
    stream_ = stub->ShardTransaction(&ctx_);
  }
  ~GrpcShardTxnCall() override {
    if (!finished_) {
      ctx_.TryCancel();
      (void)stream_->Finish();
    }
  }
  bool Write(const ShardTxnRequest& request) override { return stream_->Write(request); }
  bool Read(ShardTxnReply* reply) override { return stream_->Read(reply); }
  Status Finish() override {
    if (finished_) return Status::Ok();
    finished_ = true;
    // Drain what the owner still sent, so Finish does not wait on unread data.
    ShardTxnReply ignored;
    stream_->WritesDone();
    while (stream_->Read(&ignored)) {
    }
    return FromGrpcStatus(stream_->Finish(), peer_);
  }
  void Cancel() override { ctx_.TryCancel(); }

 private:
  grpc::ClientContext ctx_;
  std::string peer_;
  std::unique_ptr<grpc::ClientReaderWriter<ShardTxnRequest, ShardTxnReply>> stream_;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<ShardTxnCall> PeerClient::OpenShardTransaction(std::chrono::milliseconds timeout) {
  return std::make_unique<GrpcShardTxnCall>(impl_->stub.get(), Deadline(timeout), PeerName());
}

Result<InitReply> PeerClient::InitCluster(const InitRequest& request,
                                          std::chrono::milliseconds timeout) {
  InitReply reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(timeout));
  grpc::Status st = impl_->stub->InitCluster(&ctx, request, &reply);
  if (!st.ok()) return FromGrpcStatus(st, PeerName());
  return reply;
}

Result<JoinReply> PeerClient::Join(const JoinRequest& request, std::chrono::milliseconds timeout) {
  JoinReply reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(timeout));
  grpc::Status st = impl_->stub->Join(&ctx, request, &reply);
  if (!st.ok()) return FromGrpcStatus(st, PeerName());
  return reply;
}

Result<RemoveReply> PeerClient::RemoveNode(const RemoveRequest& request,
                                           std::chrono::milliseconds timeout) {
  RemoveReply reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(timeout));
  grpc::Status st = impl_->stub->RemoveNode(&ctx, request, &reply);
  if (!st.ok()) return FromGrpcStatus(st, PeerName());
  return reply;
}

Result<FaultReply> PeerClient::InjectFault(const FaultRequest& request,
                                           std::chrono::milliseconds timeout) {
  FaultReply reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(timeout));
  grpc::Status st = impl_->stub->InjectFault(&ctx, request, &reply);
  if (!st.ok()) return FromGrpcStatus(st, PeerName());
  return reply;
}

Result<StatusReply> PeerClient::ClusterStatus(std::chrono::milliseconds timeout) {
  StatusReply reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(timeout));
  grpc::Status st = impl_->stub->ClusterStatus(&ctx, StatusRequest(), &reply);
  if (!st.ok()) return FromGrpcStatus(st, PeerName());
  return reply;
}

}  // namespace sb::rpc
