// RaftHost end to end: three hosts with real DiskStorage, first over
// in-memory links, then over the mTLS gRPC transport on 127.0.0.1. Every
// wait is bounded; the only timing assertions are generous liveness bounds.
#include "cluster/raft_host.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "cluster/grpc_transport.h"
#include "raft/codec.h"
#include "rpc/server.h"
#include "rpc/test_pki.h"

namespace sb::cluster {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Appends every command to a list; Apply returns the list's new length, so a
// proposer learns its position in the agreed order.
class AppendLog : public ReplicatedStateMachine {
 public:
  std::string Apply(uint64_t /*index*/, std::string_view command) override {
    std::lock_guard<std::mutex> lock(mu_);
    log_.emplace_back(command);
    return std::to_string(log_.size());
  }
  std::string Snapshot() const override {
    std::lock_guard<std::mutex> lock(mu_);
    raft::Writer w;
    w.U32(static_cast<uint32_t>(log_.size()));
    for (const auto& c : log_) w.Bytes(c);
    return w.Take();
  }
  Status Restore(std::string_view snapshot) override {
    raft::Reader r(snapshot);
    uint32_t n = 0;
    std::vector<std::string> log;
    if (!r.U32(&n)) return Status::Error(sqlstate::kDataCorrupted, "bad snapshot");
    for (uint32_t i = 0; i < n; ++i) {
      std::string c;
      if (!r.Bytes(&c)) return Status::Error(sqlstate::kDataCorrupted, "bad snapshot");
      log.push_back(std::move(c));
    }
    std::lock_guard<std::mutex> lock(mu_);
    log_ = std::move(log);
    ++restores_;
    return Status::Ok();
  }
  std::vector<std::string> log() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  int restores() const {
    std::lock_guard<std::mutex> lock(mu_);
    return restores_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> log_;
  int restores_ = 0;
};

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::seconds limit = std::chrono::seconds(10)) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return pred();
}

// In-memory links between hosts; a detached host is unreachable (its
// messages and messages to it are lost, as with a dead node).
class Network {
 public:
  class Link : public RaftTransport {
   public:
    Link(Network* net, raft::NodeId from) : net_(net), from_(from) {}
    void Send(uint64_t to, std::string encoded) override { net_->Deliver(from_, to, encoded); }

   private:
    Network* net_;
    raft::NodeId from_;
  };

  void Attach(raft::NodeId id, RaftHost* host) {
    std::lock_guard<std::mutex> lock(mu_);
    hosts_[id] = host;
  }
  void Detach(raft::NodeId id) {
    std::lock_guard<std::mutex> lock(mu_);
    hosts_.erase(id);
  }
  RaftTransport* LinkFor(raft::NodeId id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& l = links_[id];
    if (!l) l = std::make_unique<Link>(this, id);
    return l.get();
  }

 private:
  void Deliver(raft::NodeId from, raft::NodeId to, const std::string& encoded) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!hosts_.contains(from)) return;
    auto it = hosts_.find(to);
    if (it == hosts_.end()) return;
    Status s = it->second->Step(from, encoded);
    EXPECT_TRUE(s.ok() || s.code() == sqlstate::kAdminShutdown) << s.ToString();
  }

  std::mutex mu_;
  std::map<raft::NodeId, RaftHost*> hosts_;
  std::map<raft::NodeId, std::unique_ptr<Link>> links_;
};

struct TempDir {
  std::string path;
  TempDir() {
    path = (std::filesystem::temp_directory_path() /
            ("sb_cluster_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

RaftHostOptions HostOptions(raft::NodeId id, const std::string& root, bool fresh) {
  RaftHostOptions o;
  o.id = id;
  o.dir = root + "/n" + std::to_string(id);
  o.fresh = fresh;
  o.initial_voters = {1, 2, 3};
  o.tick_interval = milliseconds(20);
  o.storage.sync = false;  // durability is DiskStorage's own test's concern
  return o;
}

// Hosts with their machines, addressed by raft id 1..3.
struct Group {
  std::map<raft::NodeId, std::unique_ptr<AppendLog>> machines;
  std::map<raft::NodeId, RaftHost*> hosts;  // running hosts, not owned

  raft::NodeId Leader() const {
    // A leader only counts once every running host agrees on it.
    raft::NodeId leader = raft::kNone;
    for (const auto& [id, h] : hosts) {
      if (!h) continue;
      if (h->role() == raft::Role::kLeader) leader = id;
    }
    if (leader == raft::kNone) return raft::kNone;
    for (const auto& [id, h] : hosts)
      if (h && h->leader() != leader) return raft::kNone;
    return leader;
  }

  // Proposes until applied, riding out elections (bounded attempts).
  Result<std::string> ProposeOn(raft::NodeId id, const std::string& cmd) {
    Status last;
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto r = hosts.at(id)->Propose(cmd, milliseconds(3000));
      if (r.ok()) return r;
      last = r.status();
      // Only "no leader yet" is safe to retry: a timed-out command may
      // still be applied, and retrying would apply it twice.
      if (last.code() != raft::kNotLeaderCode) return last;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return last;
  }

  bool AllLogsEqual(size_t size) const {
    std::vector<std::string> first;
    bool have = false;
    for (const auto& [id, h] : hosts) {
      if (!h) continue;
      auto log = machines.at(id)->log();
      if (log.size() != size) return false;
      if (!have) first = log, have = true;
      if (log != first) return false;
    }
    return true;
  }

  // Proposes `per_node` commands from every running host concurrently.
  void ProposeFromAll(int per_node, const std::string& tag) {
    std::vector<std::thread> threads;
    for (const auto& [id, h] : hosts) {
      if (!h) continue;
      threads.emplace_back([this, id = id, per_node, tag] {
        for (int i = 0; i < per_node; ++i) {
          std::string cmd = tag + "-" + std::to_string(id) + "-" + std::to_string(i);
          auto r = ProposeOn(id, cmd);
          ASSERT_TRUE(r.ok()) << cmd << ": " << r.status().ToString();
          // Apply returns the log length: our own command must be there.
          size_t pos = std::stoul(*r);
          auto log = machines.at(id)->log();
          ASSERT_GE(log.size(), pos);
          EXPECT_EQ(log[pos - 1], cmd);
        }
      });
    }
    for (auto& t : threads) t.join();
  }

  void StopAll() {
    for (auto& [id, h] : hosts)
      if (h) h->Stop();
  }
};

struct MemoryGroup : Group {
  Network net;
  std::string root;
  std::map<raft::NodeId, std::unique_ptr<RaftHost>> owned;

  Status StartHost(raft::NodeId id, bool fresh, uint64_t snapshot_interval = 1000) {
    machines[id] = std::make_unique<AppendLog>();
    RaftHostOptions o = HostOptions(id, root, fresh);
    o.snapshot_interval = snapshot_interval;
    owned[id] = std::make_unique<RaftHost>(o, machines[id].get(), net.LinkFor(id));
    hosts[id] = owned[id].get();
    net.Attach(id, hosts[id]);
    Status s = hosts[id]->Start();
    if (!s.ok()) StopHost(id);
    return s;
  }
  // Crash-stop: unreachable first, so no other loop is inside its Step.
  void StopHost(raft::NodeId id) {
    net.Detach(id);
    owned[id]->Stop();
    hosts.erase(id);
    owned.erase(id);
  }
  ~MemoryGroup() {
    for (auto& [id, h] : hosts) net.Detach(id);
    StopAll();
  }
};

TEST(RaftHostTest, ThreeHostsAgreeOnTheOrderOfProposalsFromEveryNode) {
  TempDir dir;
  MemoryGroup g;
  g.root = dir.path;
  for (raft::NodeId id = 1; id <= 3; ++id) ASSERT_TRUE(g.StartHost(id, true).ok());
  ASSERT_TRUE(WaitFor([&] { return g.Leader() != raft::kNone; }, std::chrono::seconds(5)))
      << "no leader within 5 s";

  // 67 + 67 + 66 would need uneven loops; 3 x 67 = 201 keeps it simple.
  g.ProposeFromAll(67, "a");
  ASSERT_TRUE(WaitFor([&] { return g.AllLogsEqual(201); }))
      << "logs: " << g.machines[1]->log().size() << "/" << g.machines[2]->log().size() << "/"
      << g.machines[3]->log().size();
  for (raft::NodeId id = 1; id <= 3; ++id) {
    EXPECT_TRUE(g.hosts[id]->fatal().ok());
    EXPECT_EQ(g.hosts[id]->conf().voters, (std::vector<raft::NodeId>{1, 2, 3}));
  }
}

TEST(RaftHostTest, BootstrapIsRefusedOnADirectoryWithState) {
  TempDir dir;
  MemoryGroup g;
  g.root = dir.path;
  ASSERT_TRUE(g.StartHost(1, true).ok());
  g.StopHost(1);
  Status s = g.StartHost(1, true);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), "55000");
}

TEST(RaftHostTest, NewLeaderAfterLeaderStopsAndRestartedNodeCatchesUp) {
  TempDir dir;
  MemoryGroup g;
  g.root = dir.path;
  for (raft::NodeId id = 1; id <= 3; ++id) ASSERT_TRUE(g.StartHost(id, true).ok());
  ASSERT_TRUE(WaitFor([&] { return g.Leader() != raft::kNone; }, std::chrono::seconds(5)));
  g.ProposeFromAll(10, "before");
  ASSERT_TRUE(WaitFor([&] { return g.AllLogsEqual(30); }));

  raft::NodeId old_leader = g.Leader();
  ASSERT_NE(old_leader, raft::kNone);
  g.StopHost(old_leader);
  ASSERT_TRUE(WaitFor(
      [&] {
        raft::NodeId l = g.Leader();
        return l != raft::kNone && l != old_leader;
      },
      std::chrono::seconds(5)))
      << "no new leader within 5 s";

  g.ProposeFromAll(10, "during");
  ASSERT_TRUE(WaitFor([&] { return g.AllLogsEqual(50); }));

  // The restarted node replays its own log and then fetches what it missed.
  ASSERT_TRUE(g.StartHost(old_leader, false).ok());
  ASSERT_TRUE(WaitFor([&] { return g.AllLogsEqual(50); }))
      << "restarted node applied " << g.machines[old_leader]->log().size();
  g.ProposeFromAll(5, "after");
  ASSERT_TRUE(WaitFor([&] { return g.AllLogsEqual(65); }));
}

TEST(RaftHostTest, LaggingNodeCatchesUpThroughASnapshot) {
  TempDir dir;
  MemoryGroup g;
  g.root = dir.path;
  for (raft::NodeId id = 1; id <= 3; ++id) ASSERT_TRUE(g.StartHost(id, true, 50).ok());
  ASSERT_TRUE(WaitFor([&] { return g.Leader() != raft::kNone; }, std::chrono::seconds(5)));
  raft::NodeId leader = g.Leader();
  raft::NodeId lagging = leader == 3 ? 2 : 3;
  g.ProposeFromAll(4, "warm");
  ASSERT_TRUE(WaitFor([&] { return g.AllLogsEqual(12); }));

  g.StopHost(lagging);
  for (int i = 0; i < 200; ++i) {
    auto r = g.ProposeOn(leader, "bulk-" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_GE(g.hosts[leader]->snapshots_taken(), 3u);

  ASSERT_TRUE(g.StartHost(lagging, false, 50).ok());
  int restores_at_start = g.machines[lagging]->restores();
  ASSERT_TRUE(WaitFor([&] { return g.AllLogsEqual(212); }))
      << "lagging node applied " << g.machines[lagging]->log().size();
  EXPECT_GT(g.machines[lagging]->restores(), restores_at_start)
      << "caught up without installing the leader's snapshot";
  // The group keeps working after the install.
  g.ProposeFromAll(3, "post");
  ASSERT_TRUE(WaitFor([&] { return g.AllLogsEqual(221); }));
}

TEST(RaftHostTest, ProposeFailsWithLeaderHintWithoutForwarding) {
  TempDir dir;
  MemoryGroup g;
  g.root = dir.path;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    g.machines[id] = std::make_unique<AppendLog>();
    RaftHostOptions o = HostOptions(id, g.root, true);
    o.forward_proposals = false;
    g.owned[id] = std::make_unique<RaftHost>(o, g.machines[id].get(), g.net.LinkFor(id));
    g.hosts[id] = g.owned[id].get();
    g.net.Attach(id, g.hosts[id]);
    ASSERT_TRUE(g.hosts[id]->Start().ok());
  }
  ASSERT_TRUE(WaitFor([&] { return g.Leader() != raft::kNone; }, std::chrono::seconds(5)));
  raft::NodeId leader = g.Leader();
  raft::NodeId follower = leader == 1 ? 2 : 1;
  auto r = g.hosts[follower]->Propose("x", milliseconds(1000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), raft::kNotLeaderCode);
  EXPECT_NE(r.status().message().find(std::to_string(leader)), std::string::npos)
      << r.status().ToString();
  EXPECT_TRUE(g.hosts[leader]->Propose("y", milliseconds(3000)).ok());
}

TEST(RaftHostTest, MembershipChangesAddPromoteAndRemoveANode) {
  TempDir dir;
  MemoryGroup g;
  g.root = dir.path;
  for (raft::NodeId id = 1; id <= 3; ++id) ASSERT_TRUE(g.StartHost(id, true).ok());
  ASSERT_TRUE(WaitFor([&] { return g.Leader() != raft::kNone; }, std::chrono::seconds(5)));
  g.ProposeFromAll(3, "m");
  raft::NodeId leader = g.Leader();
  raft::NodeId follower = leader == 1 ? 2 : 1;
  Status s = g.hosts[follower]->AddLearner(4, milliseconds(1000));
  EXPECT_EQ(s.code(), raft::kNotLeaderCode) << s.ToString();

  // A node that is neither fresh nor bootstrapped waits to be added.
  ASSERT_TRUE(g.StartHost(4, false).ok());
  ASSERT_TRUE(g.hosts[leader]->AddLearner(4, milliseconds(5000)).ok());
  ASSERT_TRUE(WaitFor([&] { return g.AllLogsEqual(9); }));
  Status promoted;
  ASSERT_TRUE(WaitFor([&] {
    promoted = g.hosts[leader]->PromoteVoter(4, milliseconds(5000));
    return promoted.ok();
  })) << promoted.ToString();
  // Done on the leader; the new voter hears of it a moment later.
  EXPECT_TRUE(WaitFor([&] {
    return g.hosts[4]->conf().voters == std::vector<raft::NodeId>{1, 2, 3, 4};
  })) << g.hosts[4]->conf().ToString();
  raft::NodeId removed = follower;
  ASSERT_TRUE(g.hosts[leader]->RemoveNode(removed, milliseconds(5000)).ok());
  g.StopHost(removed);
  g.ProposeFromAll(2, "after");
  ASSERT_TRUE(WaitFor([&] { return g.AllLogsEqual(15); }));
}

// One node over gRPC: identity, server, transport, host.
struct GrpcNode {
  // Routes the server's Raft calls to the receiver once it exists; the
  // server has to run before the peers' addresses are known.
  class Handler : public rpc::NodeTransportHandler {
   public:
    void Set(RaftBatchReceiver* r) {
      std::lock_guard<std::mutex> lock(mu_);
      receiver_ = r;
    }
    Status OnRaft(const Uuid& from, const std::vector<std::string>& messages) override {
      std::lock_guard<std::mutex> lock(mu_);
      if (!receiver_) return Status::Error(sqlstate::kAdminShutdown, "raft not running");
      return receiver_->OnRaft(from, messages);
    }
    Result<uint64_t> OnPing(const Uuid&, uint64_t) override { return uint64_t{0}; }
    Status OnExecuteSubplan(const Uuid&, const rpc::SubplanRequest&, rpc::RowBatchSink&) override {
      return Status::NotSupported("not in this test");
    }

   private:
    std::mutex mu_;
    RaftBatchReceiver* receiver_ = nullptr;
  };

  Uuid uuid = rpc::testing::NewUuid();
  security::TlsIdentity identity;
  std::shared_ptr<rpc::PeerAuthenticator> auth;
  Handler handler;
  std::unique_ptr<rpc::RpcServer> server;
  std::unique_ptr<GrpcRaftTransport> transport;
  std::unique_ptr<RaftHost> host;
  std::unique_ptr<RaftBatchReceiver> receiver;

  void Shutdown() {
    handler.Set(nullptr);
    if (server) server->Stop(milliseconds(200));
    if (host) host->Stop();
    if (transport) transport->Stop();
  }
};

TEST(RaftHostTest, ThreeNodesOverMutualTlsGrpc) {
  TempDir dir;
  auto cluster = rpc::testing::TestCluster::Create();
  Group g;
  std::map<raft::NodeId, std::unique_ptr<GrpcNode>> nodes;
  std::map<raft::NodeId, RaftPeer> peers;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    auto n = std::make_unique<GrpcNode>();
    n->identity = cluster.Node(n->uuid);
    rpc::PeerAuthOptions ao;
    ao.ca_cert_pem = n->identity.ca_cert_pem;
    n->auth = std::make_shared<rpc::PeerAuthenticator>(std::move(ao));
    rpc::RpcServerOptions so;
    so.listen_address = "127.0.0.1:0";
    so.identity = n->identity;
    so.auth = n->auth;
    so.handler = &n->handler;
    auto server = rpc::RpcServer::Start(std::move(so));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    n->server = std::move(*server);
    peers[id] = RaftPeer{"127.0.0.1:" + std::to_string(n->server->port()), n->uuid};
    nodes[id] = std::move(n);
  }
  for (auto& [id, n] : nodes) {
    std::map<raft::NodeId, RaftPeer> others = peers;
    others.erase(id);
    GrpcRaftTransportOptions to;
    to.identity = n->identity;
    to.auth = n->auth;
    n->transport = std::make_unique<GrpcRaftTransport>(to, others);
    g.machines[id] = std::make_unique<AppendLog>();
    n->host = std::make_unique<RaftHost>(HostOptions(id, dir.path, true), g.machines[id].get(),
                                         n->transport.get());
    n->receiver = std::make_unique<RaftBatchReceiver>(n->host.get(), n->transport.get());
    n->handler.Set(n->receiver.get());
  }
  for (auto& [id, n] : nodes) {
    ASSERT_TRUE(n->host->Start().ok());
    g.hosts[id] = n->host.get();
  }

  bool elected = WaitFor([&] { return g.Leader() != raft::kNone; }, std::chrono::seconds(5));
  EXPECT_TRUE(elected) << "no leader within 5 s over gRPC";
  if (elected) {
    g.ProposeFromAll(20, "grpc");
    EXPECT_TRUE(WaitFor([&] { return g.AllLogsEqual(60); }));

    // A dead peer must not stall the others.
    raft::NodeId old_leader = g.Leader();
    g.hosts.erase(old_leader);
    nodes[old_leader]->Shutdown();
    EXPECT_TRUE(WaitFor(
        [&] {
          raft::NodeId l = g.Leader();
          return l != raft::kNone && l != old_leader;
        },
        std::chrono::seconds(5)))
        << "no new leader within 5 s after the leader stopped";
    g.ProposeFromAll(5, "after");
    EXPECT_TRUE(WaitFor([&] { return g.AllLogsEqual(70); }));
    for (auto& [id, n] : nodes) {
      if (g.hosts.contains(id)) {
        EXPECT_GT(n->transport->sent(), 0u);
      }
    }
  }
  for (auto& [id, n] : nodes) n->Shutdown();
}

}  // namespace
}  // namespace sb::cluster
