// Real gRPC over 127.0.0.1 between RpcServer and PeerClient (and clients
// that break the rules), with certificates minted per test.
#include "rpc/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "proto/node.grpc.pb.h"
#include "raft/codec.h"
#include "rpc/client.h"
#include "rpc/grpc_log.h"
#include "rpc/test_pki.h"
#include "rpc/wire.h"

namespace sb::rpc {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using testing::NewUuid;
using testing::TestCluster;

class RecordingHandler : public NodeTransportHandler {
 public:
  explicit RecordingHandler(uint64_t epoch) : epoch_(epoch) {}

  Status OnRaft(const Uuid& from, const std::vector<std::string>& messages) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!raft_error_.ok()) return raft_error_;
    raft_from_ = from;
    raft_messages_.insert(raft_messages_.end(), messages.begin(), messages.end());
    return Status::Ok();
  }
  Result<uint64_t> OnPing(const Uuid& from, uint64_t their_epoch) override {
    std::lock_guard<std::mutex> lock(mu_);
    pinged_by_.insert(from);
    their_epoch_ = their_epoch;
    return epoch_;
  }
  Status OnExecuteSubplan(const Uuid& /*from*/, const SubplanRequest& request,
                          RowBatchSink& sink) override {
    if (request.sql() == "fail") return Status::Error(sqlstate::kUniqueViolation, "duplicate key");
    for (uint32_t i = 0; i < request.target().shard_index(); ++i) {
      RowBatch batch;
      RowToWire(Row{Value(int64_t{i}), Value(), Value(std::string("x")), Value(0.5),
                    Value(Blob{std::string("\0b", 2)})},
                batch.add_rows());
      if (!sink.Write(batch)) break;
    }
    return Status::Ok();
  }

  std::mutex mu_;
  uint64_t epoch_;
  Uuid raft_from_;
  std::vector<std::string> raft_messages_;  // every message received, in order
  Status raft_error_;                       // non-OK: OnRaft refuses with it
  std::set<Uuid> pinged_by_;
  uint64_t their_epoch_ = 0;
};

// One node: its identity, a server on a free loopback port, and a registry.
struct Node {
  Uuid id = NewUuid();
  security::TlsIdentity identity;
  observability::Registry registry;
  std::set<Uuid> members;  // empty: everyone
  std::shared_ptr<PeerAuthenticator> auth;
  RecordingHandler handler{0};
  std::unique_ptr<RpcServer> server;

  Node(const TestCluster& cluster, uint64_t epoch, std::set<std::string> open = {})
      : identity(cluster.Node(id)), handler(epoch) {
    PeerAuthOptions opts;
    opts.ca_cert_pem = identity.ca_cert_pem;
    opts.registry = &registry;
    opts.is_member = [this](const Uuid& n) { return members.empty() || members.contains(n); };
    auth = std::make_shared<PeerAuthenticator>(std::move(opts));
    RpcServerOptions so;
    so.listen_address = "127.0.0.1:0";
    so.identity = identity;
    so.auth = auth;
    so.handler = &handler;
    so.open_to_non_members = std::move(open);
    auto started = RpcServer::Start(std::move(so));
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (started.ok()) server = std::move(*started);
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(server->port()); }

  std::unique_ptr<PeerClient> Dial(const Node& peer) const { return Dial(peer.address(), peer.id); }
  std::unique_ptr<PeerClient> Dial(const std::string& address, std::optional<Uuid> expected) const {
    PeerClientOptions o;
    o.address = address;
    o.expected_node = expected;
    o.identity = identity;
    o.auth = auth;
    o.default_timeout = milliseconds(3000);
    auto client = PeerClient::Create(std::move(o));
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(*client) : nullptr;
  }

  double Rejected(const char* reason) const {
    return registry.Value(kRejectedConnectionsMetric, {{"reason", reason}});
  }
  // Handshake refusals are counted on gRPC's threads; the failed call may
  // return to the client a moment before.
  double AwaitRejected(const char* reason) const {
    for (int i = 0; i < 100 && Rejected(reason) == 0; ++i)
      std::this_thread::sleep_for(milliseconds(20));
    return Rejected(reason);
  }
};

// A raw Ping with arbitrary channel credentials.
grpc::Status RawPing(const std::string& address, std::shared_ptr<grpc::ChannelCredentials> creds) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto stub = NodeTransport::NewStub(grpc::CreateCustomChannel(address, creds, args));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(3000));
  PingRequest req;
  PingReply reply;
  return stub->Ping(&ctx, req, &reply);
}

TEST(RpcServerTest, TwoNodesPingEachOtherOverMutualTls) {
  TestCluster cluster = TestCluster::Create();
  Node a(cluster, 7);
  Node b(cluster, 9);
  ASSERT_TRUE(a.server && b.server);
  EXPECT_NE(a.server->port(), 0);

  auto ab = a.Dial(b);
  auto ping = ab->Ping(7);
  ASSERT_TRUE(ping.ok()) << ping.status().ToString();
  EXPECT_EQ(ping->node, b.id);
  EXPECT_EQ(ping->epoch, 9u);

  auto ba = b.Dial(a);
  auto back = ba->Ping(9);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->node, a.id);
  EXPECT_EQ(back->epoch, 7u);

  std::lock_guard<std::mutex> lock(b.handler.mu_);
  EXPECT_EQ(b.handler.pinged_by_, std::set<Uuid>{a.id});
  EXPECT_EQ(b.handler.their_epoch_, 7u);
  EXPECT_EQ(a.Rejected("wrong_ca") + b.Rejected("wrong_ca"), 0);
}

TEST(RpcServerTest, RaftMessagesArriveByteForByteWithTheSender) {
  TestCluster cluster = TestCluster::Create();
  Node a(cluster, 1);
  Node b(cluster, 1);

  raft::Message m;
  m.type = raft::MsgType::kAppend;
  m.from = 1;
  m.to = 2;
  m.term = 5;
  m.index = 41;
  m.log_term = 4;
  m.commit = 40;
  m.entries.push_back(raft::Entry{5, 42, raft::EntryType::kNormal, std::string("x\0y", 3)});
  raft::Writer w;
  w.U8(static_cast<uint8_t>(m.type));
  w.U64(m.from);
  w.U64(m.to);
  w.U64(m.term);
  w.U64(m.log_term);
  w.U64(m.index);
  w.U64(m.commit);
  w.U32(static_cast<uint32_t>(m.entries.size()));
  for (const auto& e : m.entries) raft::EncodeEntry(w, e);
  std::string encoded = w.Take();

  auto client = a.Dial(b);
  Status st = client->SendRaft({encoded, std::string()});
  ASSERT_TRUE(st.ok()) << st.ToString();

  std::lock_guard<std::mutex> lock(b.handler.mu_);
  EXPECT_EQ(b.handler.raft_from_, a.id);
  ASSERT_EQ(b.handler.raft_messages_.size(), 2u);
  EXPECT_EQ(b.handler.raft_messages_[0], encoded);
  EXPECT_EQ(b.handler.raft_messages_[1], "");
  raft::Reader r(b.handler.raft_messages_[0]);
  uint8_t type = 0;
  uint64_t from = 0;
  ASSERT_TRUE(r.U8(&type) && r.U64(&from));
  EXPECT_EQ(from, 1u);
}

TEST(RpcServerTest, RaftStreamDeliversBatchesInOrderAndAcksEveryMessage) {
  TestCluster cluster = TestCluster::Create();
  Node a(cluster, 1);
  Node b(cluster, 1);
  auto client = a.Dial(b);
  auto stream = client->OpenRaftStream(milliseconds(5000));
  ASSERT_TRUE(stream->Write({"m1", "m2"}));
  ASSERT_TRUE(stream->Write({"m3"}));
  ASSERT_TRUE(stream->Write({std::string("\0m4", 3)}));
  Status st = stream->Finish();
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::lock_guard<std::mutex> lock(b.handler.mu_);
  EXPECT_EQ(b.handler.raft_from_, a.id);
  EXPECT_EQ(b.handler.raft_messages_,
            (std::vector<std::string>{"m1", "m2", "m3", std::string("\0m4", 3)}));
}

TEST(RpcServerTest, RaftStreamEndsWithTheReceiversErrorAndItsSqlstate) {
  TestCluster cluster = TestCluster::Create();
  Node a(cluster, 1);
  Node b(cluster, 1);
  {
    std::lock_guard<std::mutex> lock(b.handler.mu_);
    b.handler.raft_error_ = Status::Error("28000", "raft: node is not a peer of this raft group");
  }
  auto stream = a.Dial(b)->OpenRaftStream(milliseconds(5000));
  // The first write may be buffered before the receiver refuses it; at the
  // latest, Finish reports the refusal.
  (void)stream->Write({"m"});
  Status st = stream->Finish();
  EXPECT_EQ(st.code(), "28000") << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("not a peer"));
}

TEST(RpcServerTest, ClientWithCertificateOfAnotherCaIsRefused) {
  TestCluster cluster = TestCluster::Create();
  TestCluster other = TestCluster::Create();
  Node server(cluster, 1);
  grpc::Status st = RawPing(server.address(), testing::RogueCredentials(other.Node(NewUuid())));
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.error_code(),
              ::testing::AnyOf(grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_GE(server.AwaitRejected("wrong_ca"), 1);
  std::lock_guard<std::mutex> lock(server.handler.mu_);
  EXPECT_TRUE(server.handler.pinged_by_.empty());
}

TEST(RpcServerTest, OurClientRefusesAServerOfAnotherCa) {
  TestCluster cluster = TestCluster::Create();
  TestCluster other = TestCluster::Create();
  Node server(other, 1);
  Node client(cluster, 1);
  auto ping = client.Dial(server.address(), std::nullopt)->Ping(1);
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.status().code(), kSqlstateConnectionFailure);
  EXPECT_THAT(ping.status().message(), HasSubstr(server.address()));
  EXPECT_GE(client.AwaitRejected("wrong_ca"), 1);
}

TEST(RpcServerTest, PlaintextClientIsRefused) {
  TestCluster cluster = TestCluster::Create();
  Node server(cluster, 1);
  InstallGrpcLogBridge(&server.registry);
  grpc::Status st = RawPing(server.address(), grpc::InsecureChannelCredentials());
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  EXPECT_GE(server.AwaitRejected("plaintext"), 1);
  InstallGrpcLogBridge(nullptr);
  std::lock_guard<std::mutex> lock(server.handler.mu_);
  EXPECT_TRUE(server.handler.pinged_by_.empty());
}

TEST(RpcServerTest, ExpiredClientCertificateIsRefused) {
  TestCluster cluster = TestCluster::Create();
  Node server(cluster, 1);
  grpc::Status st = RawPing(server.address(),
                            testing::RogueCredentials(cluster.Node(NewUuid(), testing::Expired())));
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.error_code(),
              ::testing::AnyOf(grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_GE(server.AwaitRejected("expired"), 1);
  EXPECT_EQ(server.Rejected("wrong_ca"), 0);
}

TEST(RpcServerTest, CertificateWithoutNodeIdentityIsRefused) {
  TestCluster cluster = TestCluster::Create();
  Node server(cluster, 1);
  grpc::Status st = RawPing(server.address(), testing::RogueCredentials(cluster.Client("alice")));
  EXPECT_FALSE(st.ok());
  EXPECT_GE(server.AwaitRejected("bad_san"), 1);
}

TEST(RpcServerTest, NodeOfTheClusterThatIsNotAMemberIsDenied) {
  TestCluster cluster = TestCluster::Create();
  Node server(cluster, 1);
  Node stranger(cluster, 1);
  server.members = {server.id};

  auto client = stranger.Dial(server);
  auto ping = client->Ping(1);
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.status().code(), kSqlstateConnectionFailure);
  EXPECT_THAT(ping.status().message(), HasSubstr("not a member"));
  EXPECT_EQ(server.Rejected("not_member"), 1);

  // Raw, to see the gRPC code itself.
  grpc::Status raw = RawPing(server.address(), testing::RogueCredentials(stranger.identity));
  EXPECT_EQ(raw.error_code(), grpc::StatusCode::PERMISSION_DENIED) << raw.error_message();
  EXPECT_EQ(server.Rejected("not_member"), 2);
}

TEST(RpcServerTest, MethodsOpenToNonMembersAdmitThem) {
  TestCluster cluster = TestCluster::Create();
  Node server(cluster, 3, {"Ping"});
  Node joiner(cluster, 0);
  server.members = {server.id};
  auto client = joiner.Dial(server);
  auto ping = client->Ping(0);
  ASSERT_TRUE(ping.ok()) << ping.status().ToString();
  EXPECT_EQ(ping->epoch, 3u);
  Status raft = client->SendRaft({"m"});
  EXPECT_FALSE(raft.ok());
  EXPECT_EQ(server.Rejected("not_member"), 1);
  auto stream = client->OpenRaftStream(milliseconds(3000));
  (void)stream->Write({"m"});
  EXPECT_EQ(stream->Finish().code(), kSqlstateConnectionFailure);
  EXPECT_EQ(server.Rejected("not_member"), 2);
  std::lock_guard<std::mutex> lock(server.handler.mu_);
  EXPECT_TRUE(server.handler.raft_messages_.empty());
}

TEST(RpcServerTest, ClientRefusesAServerThatIsNotTheExpectedNode) {
  TestCluster cluster = TestCluster::Create();
  Node server(cluster, 1);
  Node client(cluster, 1);
  auto ping = client.Dial(server.address(), NewUuid())->Ping(1, milliseconds(2000));
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.status().code(), kSqlstateConnectionFailure);
  EXPECT_GE(client.AwaitRejected("bad_san"), 1);
}

TEST(RpcServerTest, SubplanRowsStreamAndHandlerErrorsKeepTheirSqlstate) {
  TestCluster cluster = TestCluster::Create();
  Node a(cluster, 1);
  Node b(cluster, 1);
  auto client = a.Dial(b);

  SubplanRequest req;
  req.mutable_target()->set_shard_index(3);
  req.set_sql("SELECT n FROM t");
  std::vector<Row> rows;
  Status st = client->ExecuteSubplan(req, [&](const RowBatch& batch) {
    for (const auto& r : batch.rows()) rows.push_back(RowFromWire(r));
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(rows.size(), 3u);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rows[static_cast<size_t>(i)], (Row{Value(i), Value(), Value(std::string("x")),
                                                 Value(0.5), Value(Blob{std::string("\0b", 2)})}));
  }

  req.set_sql("fail");
  st = client->ExecuteSubplan(req, [](const RowBatch&) { return Status::Ok(); });
  EXPECT_EQ(st.code(), sqlstate::kUniqueViolation);
  EXPECT_THAT(st.message(), HasSubstr("duplicate key"));
}

TEST(RpcServerTest, UnreachablePeerFailsWithConnectionFailureWithinTheDeadline) {
  TestCluster cluster = TestCluster::Create();
  Node a(cluster, 1);
  int port = a.server->port();
  a.server->Stop();
  auto start = std::chrono::steady_clock::now();
  auto ping = a.Dial("127.0.0.1:" + std::to_string(port), a.id)->Ping(1, milliseconds(500));
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.status().code(), kSqlstateConnectionFailure);
  EXPECT_THAT(ping.status().message(), HasSubstr(a.id.ToString()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

}  // namespace
}  // namespace sb::rpc
