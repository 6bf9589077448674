#include "meta/system_views.h"

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "meta/test_util.h"

namespace sb::meta {
namespace {

using testing::Key;
using testing::U;

constexpr int64_t kT0 = 1767225600000000000;  // 2026-01-01 00:00:00 UTC

class SystemViewsTest : public ::testing::Test {
 protected:
  const Uuid cluster_ = U("0190f3a0-1b2c-7d4e-8f60-718293a4b5c6");
  const Uuid n_[2] = {U("0190f3a0-0000-7000-8000-0000000000c2"),
                      U("0190f3a0-0000-7000-8000-0000000000c1")};
  Ed25519PrivateKey k_[2] = {Key('a'), Key('b')};

  MemberInfo Info(int i) {
    MemberInfo m;
    m.node_uuid = n_[i];
    m.raft_id = static_cast<uint64_t>(i + 1);
    m.rpc_address = "127.0.0.1:" + std::to_string(7947 + i);
    m.sql_address = "127.0.0.1:" + std::to_string(4050 + i);
    m.signing_key = k_[i].public_key();
    return m;
  }

  // A two-member cluster of 4 shards, after one more epoch (a third node
  // added as learner).
  ClusterState State() {
    ClusterState s;
    InitCluster init;
    init.cluster_uuid = cluster_;
    init.shard_count = 4;
    init.members = {Info(0), Info(1)};
    auto e1 = BuildSignedEntry(s, init, n_[0], k_[0], kT0, "cluster init");
    EXPECT_TRUE(e1.ok()) << e1.status().ToString();
    EXPECT_TRUE(s.Apply(1, *e1).applied);
    MemberInfo third;
    third.node_uuid = U("0190f3a0-0000-7000-8000-0000000000c3");
    third.raft_id = 3;
    third.rpc_address = "127.0.0.1:7949";
    third.signing_key = Key('c').public_key();
    auto e2 = BuildSignedEntry(s, AddLearner{third}, n_[0], k_[0], kT0 + 1000000, "add learner");
    EXPECT_TRUE(e2.ok()) << e2.status().ToString();
    EXPECT_TRUE(s.Apply(2, *e2).applied);
    return s;
  }
};

TEST_F(SystemViewsTest, DefinitionsAreReadOnlyViewsOfSchemaSys) {
  ASSERT_EQ(SystemViews().size(), 3u);
  for (const char* name : {kSysNodes, kSysShards, kSysEpochs}) {
    const TableDef* t = FindSystemView(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_TRUE(t->system_view);
    EXPECT_TRUE(t->shard_key.empty());
  }
  EXPECT_EQ(FindSystemView("tables"), nullptr);
  EXPECT_EQ(FindSystemView(kSysNodes)->FindColumn("is_leader"), 4);
}

TEST_F(SystemViewsTest, RowsHaveOneStoredValuePerColumn) {
  ClusterState s = State();
  SystemViewContext ctx{n_[1], 2};  // answering node ...c1, which leads (raft id 2)
  for (const TableDef& view : SystemViews()) {
    auto rows = ClusterSystemViewRows(view.name, s, ctx);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_FALSE(rows->empty()) << view.name;
    for (const Row& r : *rows) EXPECT_EQ(r.size(), view.columns.size()) << view.name;
  }
  EXPECT_EQ(ClusterSystemViewRows("tables", s, ctx).status().code(), "42P01");
}

TEST_F(SystemViewsTest, NodesAndShardsFollowTheMembershipAndShardMap) {
  ClusterState s = State();
  SystemViewContext ctx{n_[1], 2};
  auto nodes = ClusterSystemViewRows(kSysNodes, s, ctx);
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 3u);  // ascending node UUID: c1, c2, c3
  const Row& c1 = (*nodes)[0];
  EXPECT_EQ(std::get<std::string>(c1[0]), "0190f3a0-0000-7000-8000-0000000000c1");
  EXPECT_EQ(std::get<int64_t>(c1[1]), 2);
  EXPECT_EQ(std::get<std::string>(c1[2]), "VOTER");
  EXPECT_EQ(std::get<std::string>(c1[3]), "ACTIVE");
  EXPECT_EQ(std::get<int64_t>(c1[4]), 1);  // leader
  EXPECT_EQ(std::get<int64_t>(c1[5]), 1);  // self
  EXPECT_EQ(std::get<std::string>(c1[6]), "127.0.0.1:7948");
  EXPECT_TRUE(IsNull(c1[8]));  // no HTTP address advertised
  EXPECT_EQ(std::get<int64_t>(c1[9]), 2);
  const Row& c3 = (*nodes)[2];
  EXPECT_EQ(std::get<std::string>(c3[2]), "LEARNER");
  EXPECT_EQ(std::get<std::string>(c3[3]), "JOINING");
  EXPECT_EQ(std::get<int64_t>(c3[4]), 0);
  EXPECT_EQ(std::get<int64_t>(c3[9]), 0);
  EXPECT_TRUE(IsNull(c3[7]));

  auto shards = ClusterSystemViewRows(kSysShards, s, ctx);
  ASSERT_TRUE(shards.ok());
  ASSERT_EQ(shards->size(), 4u);
  int64_t vnodes = 0, local = 0;
  for (const Row& r : *shards) {
    vnodes += std::get<int64_t>(r[5]);
    local += std::get<int64_t>(r[7]);
    EXPECT_EQ(std::get<int64_t>(r[6]), 1);  // shard map version
  }
  EXPECT_EQ(vnodes, 256);
  EXPECT_EQ(local, 2);
  EXPECT_EQ(std::get<std::string>((*shards)[0][0]), "shard_001");
  // Round robin in UUID order: shard_001 on ...c1.
  EXPECT_EQ(std::get<std::string>((*shards)[0][2]), "0190f3a0-0000-7000-8000-0000000000c1");
  EXPECT_EQ(std::get<std::string>((*shards)[0][3]), "127.0.0.1:7948");
}

TEST_F(SystemViewsTest, EpochsFormTheHashChain) {
  ClusterState s = State();
  auto epochs = ClusterSystemViewRows(kSysEpochs, s, {n_[0], 0});
  ASSERT_TRUE(epochs.ok());
  ASSERT_EQ(epochs->size(), 2u);
  const Row& first = (*epochs)[0];
  const Row& second = (*epochs)[1];
  EXPECT_EQ(std::get<int64_t>(first[0]), 1);
  EXPECT_EQ(std::get<std::string>(first[1]), cluster_.ToString());
  EXPECT_EQ(std::get<std::string>(first[2]), std::string(64, '0'));
  EXPECT_EQ(std::get<std::string>(first[3]), Sha256Hex(EpochHash(s.Epochs()[0])));
  EXPECT_EQ(std::get<std::string>(second[2]), std::get<std::string>(first[3]));
  EXPECT_EQ(std::get<std::string>(second[3]), Sha256Hex(s.epoch_chain().current_hash()));
  EXPECT_EQ(std::get<std::string>(first[5]), "2026-01-01 00:00:00.000000");
  EXPECT_EQ(std::get<std::string>(first[7]), "SUPERSEDED");
  EXPECT_EQ(std::get<std::string>(first[8]), "cluster init");
  EXPECT_EQ(std::get<std::string>(second[8]), "add learner");
  EXPECT_EQ(std::get<std::string>(first[10]), n_[0].ToString());
  EXPECT_EQ(std::get<int64_t>(first[11]), 1);
}

TEST_F(SystemViewsTest, SingleNodeOwnsEveryShardAndHasNoEpochs) {
  SingleNodeFacts f;
  f.shard_count = 16;
  f.sql_address = "127.0.0.1:4050";
  auto shards = SingleNodeSystemViewRows(kSysShards, f);
  ASSERT_TRUE(shards.ok());
  ASSERT_EQ(shards->size(), 16u);
  for (const Row& r : *shards) {
    EXPECT_EQ(std::get<int64_t>(r[5]), 16);
    EXPECT_EQ(std::get<int64_t>(r[7]), 1);
  }
  auto nodes = SingleNodeSystemViewRows(kSysNodes, f);
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ(std::get<std::string>((*nodes)[0][7]), "127.0.0.1:4050");
  EXPECT_EQ(std::get<int64_t>((*nodes)[0][9]), 16);
  auto epochs = SingleNodeSystemViewRows(kSysEpochs, f);
  ASSERT_TRUE(epochs.ok());
  EXPECT_TRUE(epochs->empty());
}

}  // namespace
}  // namespace sb::meta
