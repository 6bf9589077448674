// GrpcRaftTransport over real mutual-TLS gRPC on 127.0.0.1: messages to a
// peer arrive in order on one stream, a restarted peer is reached again, and
// a peer that does not serve RaftStream still gets every batch by unary call.
#include "cluster/grpc_transport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "proto/node.grpc.pb.h"
#include "rpc/credentials.h"
#include "rpc/server.h"
#include "rpc/test_pki.h"

namespace sb::cluster {
namespace {

using std::chrono::milliseconds;

// Every message received, in order.
class Inbox {
 public:
  void Add(const std::vector<std::string>& messages) {
    std::lock_guard<std::mutex> lock(mu_);
    messages_.insert(messages_.end(), messages.begin(), messages.end());
  }
  std::vector<std::string> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  // Waits (bounded) until at least n messages arrived.
  bool AwaitCount(size_t n, milliseconds limit = milliseconds(5000)) const {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (Get().size() >= n) return true;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return Get().size() >= n;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> messages_;
};

class InboxHandler : public rpc::NodeTransportHandler {
 public:
  explicit InboxHandler(Inbox* inbox) : inbox_(inbox) {}
  Status OnRaft(const Uuid&, const std::vector<std::string>& messages) override {
    inbox_->Add(messages);
    return Status::Ok();
  }
  Result<uint64_t> OnPing(const Uuid&, uint64_t) override { return uint64_t{0}; }
  Status OnExecuteSubplan(const Uuid&, const rpc::SubplanRequest&, rpc::RowBatchSink&) override {
    return Status(sqlstate::kFeatureNotSupported, "not in this test");
  }

 private:
  Inbox* inbox_;
};

// A node of an older version: it serves the unary Raft call only, so
// RaftStream answers UNIMPLEMENTED (the generated base class does that).
class UnaryOnlyService final : public rpc::NodeTransport::Service {
 public:
  explicit UnaryOnlyService(Inbox* inbox) : inbox_(inbox) {}
  grpc::Status Raft(grpc::ServerContext*, const rpc::RaftBatch* req, rpc::RaftAck* resp) override {
    inbox_->Add({req->messages().begin(), req->messages().end()});
    resp->set_accepted(static_cast<uint64_t>(req->messages_size()));
    return grpc::Status::OK;
  }

 private:
  Inbox* inbox_;
};

struct Identity {
  Uuid id = rpc::testing::NewUuid();
  security::TlsIdentity tls;
  std::shared_ptr<rpc::PeerAuthenticator> auth;

  explicit Identity(const rpc::testing::TestCluster& cluster) : tls(cluster.Node(id)) {
    rpc::PeerAuthOptions ao;
    ao.ca_cert_pem = tls.ca_cert_pem;
    auth = std::make_shared<rpc::PeerAuthenticator>(std::move(ao));
  }
};

std::unique_ptr<rpc::RpcServer> Serve(const Identity& who, rpc::NodeTransportHandler* handler,
                                      const std::string& address = "127.0.0.1:0") {
  rpc::RpcServerOptions so;
  so.listen_address = address;
  so.identity = who.tls;
  so.auth = who.auth;
  so.handler = handler;
  auto server = rpc::RpcServer::Start(std::move(so));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

std::unique_ptr<GrpcRaftTransport> TransportTo(const Identity& from, const Identity& to, int port) {
  GrpcRaftTransportOptions o;
  o.identity = from.tls;
  o.auth = from.auth;
  o.retry_pause = milliseconds(20);
  return std::make_unique<GrpcRaftTransport>(
      o,
      std::map<raft::NodeId, RaftPeer>{{2, RaftPeer{"127.0.0.1:" + std::to_string(port), to.id}}});
}

std::vector<std::string> Numbered(const std::string& prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

// Sends "probe" until one arrives (about 5 s at most), then `prefix`0..n-1:
// the run must arrive whole and in order (probes still in flight may land
// before it and are left out).
void ExpectRunArrivesAfterProbes(GrpcRaftTransport* transport, const Inbox& inbox,
                                 const std::string& prefix, int n) {
  bool reached = false;
  for (int i = 0; i < 250 && !reached; ++i) {
    transport->Send(2, "probe");
    reached = inbox.AwaitCount(1, milliseconds(20));
  }
  ASSERT_TRUE(reached) << "no message reached the peer within 5 s";
  const size_t probes = inbox.Get().size();
  const auto expected = Numbered(prefix, 0, n);
  for (const auto& m : expected) transport->Send(2, m);
  ASSERT_TRUE(inbox.AwaitCount(probes + expected.size())) << inbox.Get().size() << " arrived";
  auto got = inbox.Get();
  got.erase(std::remove(got.begin(), got.end(), "probe"), got.end());
  EXPECT_EQ(got, expected);
}

TEST(GrpcRaftTransportTest, MessagesToOnePeerArriveInOrder) {
  auto cluster = rpc::testing::TestCluster::Create();
  Identity sender(cluster), receiver(cluster);
  Inbox inbox;
  InboxHandler handler(&inbox);
  auto server = Serve(receiver, &handler);
  ASSERT_NE(server, nullptr);
  auto transport = TransportTo(sender, receiver, server->port());

  const auto expected = Numbered("m", 0, 1000);
  for (const auto& m : expected) transport->Send(2, m);
  ASSERT_TRUE(inbox.AwaitCount(expected.size())) << inbox.Get().size() << " arrived";
  EXPECT_EQ(inbox.Get(), expected);
  // A batch is counted when its write returns, which can be after the peer
  // has read it: give the last count a moment.
  for (int i = 0; i < 500 && transport->sent() < expected.size(); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(transport->sent(), expected.size());
  EXPECT_EQ(transport->dropped(), 0u);
  transport->Stop();
  server->Stop(milliseconds(100));
}

TEST(GrpcRaftTransportTest, ARestartedPeerIsReachedAgain) {
  auto cluster = rpc::testing::TestCluster::Create();
  Identity sender(cluster), receiver(cluster);
  Inbox before, after;
  InboxHandler first(&before), second(&after);
  auto server = Serve(receiver, &first);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  auto transport = TransportTo(sender, receiver, port);
  transport->Send(2, "hello");
  ASSERT_TRUE(before.AwaitCount(1));

  // The stream to the old process breaks; the sender must notice and open
  // a new one to the new process on the same port.
  server->Stop(milliseconds(100));
  server = Serve(receiver, &second, "127.0.0.1:" + std::to_string(port));
  ASSERT_NE(server, nullptr);
  ExpectRunArrivesAfterProbes(transport.get(), after, "n", 100);
  transport->Stop();
  server->Stop(milliseconds(100));
}

TEST(GrpcRaftTransportTest, APeerWithoutRaftStreamGetsEveryBatchByUnaryCall) {
  auto cluster = rpc::testing::TestCluster::Create();
  Identity sender(cluster), receiver(cluster);
  Inbox inbox;
  UnaryOnlyService service(&inbox);
  auto creds = rpc::MakeServerCredentials(receiver.tls, receiver.auth);
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", *creds, &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_NE(port, 0);
  auto transport = TransportTo(sender, receiver, port);

  // Batches written before the sender learns that the peer has no
  // RaftStream are lost (as a lost message is to Raft); once one arrives by
  // unary call, every later one does, in order.
  // Batches written before the sender learns that the peer has no
  // RaftStream are lost (as a lost message is to Raft); after that, every
  // batch arrives by unary call, in order.
  ExpectRunArrivesAfterProbes(transport.get(), inbox, "u", 200);
  transport->Stop();
  server->Shutdown(std::chrono::system_clock::now() + milliseconds(100));
}

}  // namespace
}  // namespace sb::cluster
