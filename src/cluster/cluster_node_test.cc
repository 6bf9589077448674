// Three ClusterNodes in one process over real mTLS gRPC on 127.0.0.1, with
// certificates made the way `scratchbird cert` makes them: init on one node,
// two nodes join (learner, then voter), every node reports the same cluster,
// and a stopped node restarts from its data directory alone.
#include "cluster/cluster_node.h"

#include <gtest/gtest.h>

#include <map>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "rpc/wire.h"
#include "security/certs_dir.h"

namespace sb::cluster {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct TempDir {
  std::string path;
  TempDir() {
    path = (fs::temp_directory_path() /
            ("sb_cluster_node_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
               .string();
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  static inline int counter = 0;
};

template <typename Pred>
bool WaitFor(Pred pred, seconds limit = seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return pred();
}

ClusterNodeOptions Options(const std::string& data_dir, const std::string& certs_dir,
                           const std::string& rpc_listen, std::vector<std::string> join) {
  ClusterNodeOptions o;
  o.data_dir = data_dir;
  o.certs_dir = certs_dir;
  o.rpc_listen = rpc_listen;
  o.sql_address = "127.0.0.1:4050";
  o.join = std::move(join);
  o.join_retry = milliseconds(100);
  return o;
}

TEST(RaftIdTest, LastEightBytesNonZero) {
  Uuid a = *Uuid::Parse("0190f3a0-0000-7000-8000-0000000000c3");
  EXPECT_EQ(RaftIdFor(a), 0x00000000000000c3u);
  Uuid zero = *Uuid::Parse("0190f3a0-0000-7000-0000-000000000000");
  EXPECT_EQ(RaftIdFor(zero), 1u);
  Uuid top = *Uuid::Parse("0190f3a0-0000-7000-ffff-ffffffffffff");
  EXPECT_EQ(RaftIdFor(top), 0x7fffffffffffffffu);
}

TEST(ClusterStateMachineTest, RejectionRoundTrip) {
  Status st = ClusterStateMachine::DecodeResult(
      ClusterStateMachine::EncodeRejection(Status::Error("SB031", "MEMBERSHIP_REFUSED: no")));
  EXPECT_EQ(st.code(), "SB031");
  EXPECT_EQ(st.message(), "MEMBERSHIP_REFUSED: no");
  EXPECT_TRUE(ClusterStateMachine::DecodeResult("").ok());
  ClusterStateMachine m;
  EXPECT_FALSE(m.Apply(1, "garbage").empty());
  EXPECT_TRUE(m.Apply(2, "").empty());
}

TEST(ClusterStateMachineTest, ObserverSeesEveryApplyAndRejection) {
  int calls = 0, rejected = 0, restores = 0;
  std::vector<std::string> commands;
  ClusterStateMachine m(
      [&](const meta::ApplyResult* r, std::string_view command, const meta::ClusterState& state) {
        if (r == nullptr) {
          ++restores;
          return;
        }
        ++calls;
        commands.emplace_back(command);
        EXPECT_EQ(state.LastAppliedIndex(), static_cast<uint64_t>(calls));
        if (r->rejected) ++rejected;
      });
  m.Apply(1, "garbage");
  m.Apply(2, "");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(rejected, 1);
  // The observer gets the entry's bytes (the data plane decodes DDL from them).
  EXPECT_EQ(commands, (std::vector<std::string>{"garbage", ""}));

  // The snapshot carries the applied index; a restore replaces the state and
  // tells the observer (the node refreshes its peers from it).
  ClusterStateMachine copy(
      [&](const meta::ApplyResult* r, std::string_view, const meta::ClusterState&) {
        if (r == nullptr) ++restores;
      });
  ASSERT_TRUE(copy.Restore(m.Snapshot()).ok());
  EXPECT_EQ(restores, 1);
  EXPECT_EQ(copy.Read([](const meta::ClusterState& s) { return s.LastAppliedIndex(); }), 2u);
  EXPECT_FALSE(copy.Restore("not a snapshot").ok());
}

class ClusterNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    security::CreateCaOptions ca;
    ca.certs_dir = dir_.path + "/certs";
    auto created = security::CreateCa(ca);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    for (int i = 0; i < 3; ++i) {
      security::CreateNodeOptions no;
      no.certs_dir = ca.certs_dir;
      no.hosts = {"127.0.0.1"};
      auto node = security::CreateNode(no);
      ASSERT_TRUE(node.ok()) << node.status().ToString();
      node_dirs_.push_back(node->dir);
    }
  }

  std::string DataDir(int i) const { return dir_.path + "/data" + std::to_string(i); }

  TempDir dir_;
  std::vector<std::string> node_dirs_;
};

TEST_F(ClusterNodeTest, ThreeNodesFormRejoinAndAgree) {
  std::vector<std::unique_ptr<ClusterNode>> nodes(3);
  auto n1 = ClusterNode::Start(Options(DataDir(0), node_dirs_[0], "127.0.0.1:0", {}));
  ASSERT_TRUE(n1.ok()) << n1.status().ToString();
  nodes[0] = std::move(*n1);

  // Before init: uninitialised, and joining through it is refused.
  auto before = nodes[0]->ClusterStatus();
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->initialized());

  auto init = nodes[0]->Init(16);
  ASSERT_TRUE(init.ok()) << init.status().ToString();
  EXPECT_EQ(init->epoch(), 1u);
  auto again = nodes[0]->Init(16);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), meta::cluster_sqlstate::kAlreadyInitialized);

  std::string seed = nodes[0]->rpc_address();
  for (int i = 1; i < 3; ++i) {
    auto n = ClusterNode::Start(Options(DataDir(i), node_dirs_[i], "127.0.0.1:0", {seed}));
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    nodes[i] = std::move(*n);
  }
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(WaitFor([&] { return nodes[i]->IsVoter(); })) << "node " << i << " not a voter";

  // Every node converges on the same view: 3 active voters, one leader, the
  // same epoch (genesis + 2 × (learner, promote) = 5) and epoch hash.
  auto agree = [&] {
    std::vector<rpc::StatusReply> s;
    for (auto& n : nodes) {
      auto r = n->ClusterStatus();
      if (!r.ok()) return false;
      s.push_back(*r);
    }
    for (const auto& r : s) {
      if (r.members_size() != 3 || r.leader_raft_id() == 0 || r.epoch() != 5) return false;
      if (r.leader_raft_id() != s[0].leader_raft_id() || r.epoch_hash() != s[0].epoch_hash())
        return false;
      for (const auto& m : r.members())
        if (m.role() != "VOTER" || m.state() != "ACTIVE" || !m.reachable() || m.epoch() != 5)
          return false;
    }
    return true;
  };
  ASSERT_TRUE(WaitFor(agree)) << "nodes do not agree on the cluster";

  auto status = nodes[2]->ClusterStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->initialized());
  // Init placed every shard on node 1 (alone then); each promotion while no
  // table exists spread the (empty) shards over the voters again.
  EXPECT_EQ(status->shard_map_version(), 3u);
  ASSERT_EQ(status->shard_owner_size(), 16);
  std::map<Uuid, int> owned;
  for (const auto& owner : status->shard_owner()) ++owned[*rpc::UuidFromBytes(owner)];
  ASSERT_EQ(owned.size(), 3u);
  for (auto& n : nodes) EXPECT_GE(owned[n->node_id()], 5) << n->node_id().ToString();
  EXPECT_EQ(status->rejected_entries(), 0u);

  // A join sent to a follower is redirected to the leader.
  {
    auto key = Ed25519PrivateKey::Generate();
    ASSERT_TRUE(key.ok());
    Uuid stranger = *Uuid::GenerateV7();
    rpc::JoinRequest req;
    req.mutable_member()->set_node_uuid(rpc::UuidToBytes(stranger));
    req.mutable_member()->set_raft_id(RaftIdFor(stranger));
    req.mutable_member()->set_rpc_address("127.0.0.1:1");
    req.mutable_member()->set_signing_public_key(
        std::string(Ed25519PublicKeyBytes(key->public_key())));
    for (auto& n : nodes) {
      if (n->raft_id() == status->leader_raft_id()) continue;
      auto r = n->HandleJoin(stranger, req);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), "SB010");
      EXPECT_NE(r.status().hint().find("join through the leader at 127.0.0.1:"), std::string::npos)
          << r.status().hint();
    }
  }

  // Node 2 stops and restarts from its data directory alone (no --join).
  std::string address2 = nodes[1]->rpc_address();
  Uuid id2 = nodes[1]->node_id();
  nodes[1]->Stop();
  nodes[1].reset();
  auto remaining = [&] {
    auto r = nodes[0]->ClusterStatus();
    return r.ok() && r->leader_raft_id() != 0 && r->leader_raft_id() != RaftIdFor(id2);
  };
  EXPECT_TRUE(WaitFor(remaining)) << "the other two lost their leader";
  auto restarted = ClusterNode::Start(Options(DataDir(1), node_dirs_[1], address2, {}));
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  nodes[1] = std::move(*restarted);
  EXPECT_EQ(nodes[1]->node_id(), id2);
  EXPECT_TRUE(WaitFor(agree)) << "restarted node did not catch up";
  EXPECT_TRUE(nodes[1]->IsVoter());

  // A data directory belongs to its node.
  auto wrong = ClusterNode::Start(Options(DataDir(0), node_dirs_[2], "127.0.0.1:0", {}));
  EXPECT_FALSE(wrong.ok());

  for (auto& n : nodes) n->Stop();
}

}  // namespace
}  // namespace sb::cluster
