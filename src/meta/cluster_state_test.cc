#include "meta/cluster_state.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

#include "meta/test_util.h"

namespace sb::meta {
namespace {

using testing::Key;
using testing::U;

constexpr int64_t kT0 = 1767225600000000000;

class ClusterStateTest : public ::testing::Test {
 protected:
  const Uuid cluster_ = U("0190f3a0-1b2c-7d4e-8f60-718293a4b5c6");
  // Listed out of UUID order on purpose: placement follows UUID order.
  const Uuid n_[5] = {
      U("0190f3a0-0000-7000-8000-0000000000c2"), U("0190f3a0-0000-7000-8000-0000000000c3"),
      U("0190f3a0-0000-7000-8000-0000000000c1"), U("0190f3a0-0000-7000-8000-0000000000c4"),
      U("0190f3a0-0000-7000-8000-0000000000c5")};
  Ed25519PrivateKey k_[5] = {Key('a'), Key('b'), Key('c'), Key('d'), Key('e')};
  int64_t now_ = kT0;

  MemberInfo Info(int i) {
    MemberInfo m;
    m.node_uuid = n_[i];
    m.raft_id = static_cast<uint64_t>(i + 1);
    m.rpc_address = "127.0.0.1:" + std::to_string(7947 + 10 * i);
    m.sql_address = "127.0.0.1:" + std::to_string(4050 + 10 * i);
    m.http_address = "127.0.0.1:" + std::to_string(8947 + 10 * i);
    m.signing_key = k_[i].public_key();
    return m;
  }

  InitCluster Init(uint32_t shards = 16) {
    InitCluster init;
    init.cluster_uuid = cluster_;
    init.shard_count = shards;
    init.members = {Info(0), Info(1), Info(2)};
    return init;
  }

  // A proposer's entry signed by member `signer`; fails the test if refused.
  std::string Signed(const ClusterState& s, Command cmd, int signer = 0) {
    now_ += 1000;
    Result<std::string> e =
        BuildSignedEntry(s, std::move(cmd), n_[signer], k_[signer], now_, "test step");
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : std::string();
  }

  // An entry built by hand, bypassing the proposer's checks: the epoch
  // follows the current one, seals `binding` (default: the current state,
  // which is what a refused command would leave), and `mutate` may change it
  // before it is signed by `signer`.
  std::string Forged(const ClusterState& s, Command cmd, int signer = 0,
                     std::function<void(ClusterConfigEpoch*)> mutate = nullptr) {
    ClusterConfigEpoch e;
    const EpochChain& chain = s.epoch_chain();
    e.number = chain.current_number() + 1;
    e.cluster_uuid = cluster_;
    e.prev_epoch_hash = chain.current_hash();
    if (const ClusterConfigEpoch* cur = chain.Current()) {
      e = *cur;
      e.signatures.clear();
      e.number = chain.current_number() + 1;
      e.prev_epoch_hash = chain.current_hash();
    }
    Result<Sha256Digest> after = s.BindingHashAfter(cmd);
    e.shard_map_hash = after.ok() ? *after : s.EpochBindingHash();
    e.created_at_ns = e.published_at_ns = (now_ += 1000);
    e.admin_uuids = {n_[signer]};
    e.description = "forged";
    if (mutate) mutate(&e);
    EXPECT_TRUE(SignEpoch(&e, n_[signer], k_[signer]).ok());
    const bool needs_epoch = CommandNeedsEpoch(cmd);
    return EncodeClusterEntry({std::move(cmd), needs_epoch ? EncodeEpochEntry(e) : ""});
  }

  // Applies `entry` at the next index to every replica and checks they agree.
  std::vector<ApplyResult> ApplyAll(std::vector<ClusterState>* replicas, const std::string& entry) {
    std::vector<ApplyResult> out;
    for (ClusterState& r : *replicas) out.push_back(r.Apply(r.LastAppliedIndex() + 1, entry));
    for (size_t i = 1; i < replicas->size(); ++i) {
      EXPECT_EQ((*replicas)[i].Snapshot(), (*replicas)[0].Snapshot()) << "replica " << i;
      EXPECT_EQ(out[i].applied, out[0].applied);
      EXPECT_EQ(out[i].reason.code(), out[0].reason.code());
    }
    return out;
  }

  ClusterState Initialized(uint32_t shards = 16) {
    ClusterState s;
    ApplyResult r = s.Apply(1, Signed(s, Init(shards)));
    EXPECT_TRUE(r.applied) << r.reason.ToString();
    return s;
  }

  static Catalog OneTable(const std::string& name) {
    TableDef t;
    t.name = name;
    ColumnDef id;
    id.name = "id";
    id.type.id = TypeId::kInt8;
    id.not_null = true;
    t.columns.push_back(id);
    t.shard_key = {0};
    t.primary_key = {0};
    Catalog c;
    c.PutTable(t);
    return c;
  }
};

TEST_F(ClusterStateTest, InitPlacesShardsRoundRobinInUuidOrder) {
  ClusterState s = Initialized(16);
  ASSERT_TRUE(s.initialized());
  EXPECT_EQ(s.cluster_uuid(), cluster_);
  EXPECT_EQ(s.ShardCount(), 16u);
  EXPECT_EQ(s.VnodeCount(), 256u);
  EXPECT_EQ(s.ShardMapVersion(), 1u);
  // Ascending UUIDs: ...c1 (n_[2]), ...c2 (n_[0]), ...c3 (n_[1]).
  const Uuid order[3] = {n_[2], n_[0], n_[1]};
  for (uint32_t shard = 0; shard < 16; ++shard) {
    EXPECT_EQ(s.ShardOwner(shard), order[shard % 3]) << "shard " << shard;
  }
  EXPECT_FALSE(s.ShardOwner(16).has_value());
  EXPECT_EQ(s.ShardsOf(order[0]), (std::vector<uint32_t>{0, 3, 6, 9, 12, 15}));
  EXPECT_EQ(s.ShardsOf(order[1]), (std::vector<uint32_t>{1, 4, 7, 10, 13}));
  EXPECT_EQ(s.ShardsOf(order[2]), (std::vector<uint32_t>{2, 5, 8, 11, 14}));
  for (uint32_t v = 0; v < 256; ++v) EXPECT_EQ(s.ShardOfVnode(v), v % 16);

  std::vector<Member> members = s.Members();
  ASSERT_EQ(members.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(members[i].info.node_uuid, order[i]);
    EXPECT_EQ(members[i].role, MemberRole::kVoter);
    EXPECT_EQ(members[i].state, MemberState::kActive);
  }
  EXPECT_EQ(s.VoterRaftIds(), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(s.LearnerRaftIds().empty());

  // Genesis seals the state: shard_map_hash is the binding hash.
  ASSERT_EQ(s.Epochs().size(), 1u);
  EXPECT_EQ(s.Epochs()[0].number, 1u);
  EXPECT_EQ(s.Epochs()[0].shard_map_hash, s.EpochBindingHash());
  EXPECT_NE(s.ShardMapHash(), s.EpochBindingHash());
  EXPECT_EQ(s.SchemaVersion(), 0u);
  EXPECT_EQ(s.CatalogJson(), "{\"tables\":[]}");
  EXPECT_EQ(s.LastAppliedIndex(), 1u);
  EXPECT_EQ(s.rejected_entries(), 0u);

  // A second init is refused.
  ApplyResult again = s.Apply(2, Forged(s, Init(16)));
  EXPECT_TRUE(again.rejected);
  EXPECT_EQ(again.reason.code(), cluster_sqlstate::kAlreadyInitialized);
}

TEST_F(ClusterStateTest, InitRefusesBadShapes) {
  ClusterState s;
  InitCluster zero = Init(0);
  EXPECT_FALSE(BuildSignedEntry(s, zero, n_[0], k_[0], kT0, "").ok());
  InitCluster too_many = Init(300);  // more shards than vnodes
  EXPECT_FALSE(BuildSignedEntry(s, too_many, n_[0], k_[0], kT0, "").ok());
  InitCluster dup_raft = Init();
  dup_raft.members[1].raft_id = dup_raft.members[0].raft_id;
  EXPECT_FALSE(BuildSignedEntry(s, dup_raft, n_[0], k_[0], kT0, "").ok());
  InitCluster dup_key = Init();
  dup_key.members[1].signing_key = dup_key.members[0].signing_key;
  EXPECT_FALSE(BuildSignedEntry(s, dup_key, n_[0], k_[0], kT0, "").ok());
  InitCluster not_v7 = Init();
  not_v7.members[0].node_uuid = U("0190f3a0-0000-4000-8000-0000000000c1");
  EXPECT_FALSE(BuildSignedEntry(s, not_v7, n_[0], k_[0], kT0, "").ok());
  // Signed by a node that is not a founding member.
  EXPECT_FALSE(BuildSignedEntry(s, Init(), n_[3], k_[3], kT0, "").ok());
  // Only InitCluster before the cluster exists.
  ApplyResult r = s.Apply(1, Forged(s, AddLearner{Info(3)}));
  EXPECT_EQ(r.reason.code(), cluster_sqlstate::kNotInitialized);
  EXPECT_FALSE(s.initialized());
  EXPECT_EQ(s.rejected_entries(), 1u);
}

TEST_F(ClusterStateTest, ThreeReplicasApplyingTheSameEntriesAreIdentical) {
  std::vector<ClusterState> replicas(3);
  ClusterState& leader = replicas[0];
  auto step = [&](Command cmd, int signer = 0) {
    std::string entry = Signed(leader, std::move(cmd), signer);
    for (const ApplyResult& r : ApplyAll(&replicas, entry)) {
      EXPECT_TRUE(r.applied) << r.reason.ToString();
    }
  };
  step(Init());
  step(AddLearner{Info(3)});
  step(SetNodeState{n_[3], MemberState::kActive}, 1);
  step(PromoteVoter{n_[3]}, 2);
  step(SetNodeState{n_[1], MemberState::kLeaving});
  step(SetNodeState{n_[1], MemberState::kActive}, 1);
  step(
      CatalogDdl{"CREATE TABLE t (id bigint PRIMARY KEY)", CanonicalCatalogJson(OneTable("t")), 0});
  PublishEpoch policy;
  policy.policies.ca_policy.fill(0xCA);
  policy.min_node_version = 100000;
  step(policy, 3);
  step(AddLearner{Info(4)});
  step(RemoveMember{n_[4]});
  EXPECT_EQ(leader.Epochs().size(), 9u);  // every step but the DDL is an epoch
  EXPECT_EQ(leader.SchemaVersion(), 1u);
  EXPECT_EQ(leader.Epochs().back().ca_policy_hash, policy.policies.ca_policy);
  EXPECT_EQ(leader.Epochs().back().shard_map_hash, leader.EpochBindingHash());
  EXPECT_EQ(leader.VoterRaftIds(), (std::vector<uint64_t>{1, 2, 3, 4}));
  for (const ClusterState& r : replicas) EXPECT_EQ(r.rejected_entries(), 0u);
}

TEST_F(ClusterStateTest, LearnerJoinsThenIsPromoted) {
  ClusterState s = Initialized();
  ApplyResult r = s.Apply(2, Signed(s, AddLearner{Info(3)}));
  ASSERT_TRUE(r.applied) << r.reason.ToString();
  EXPECT_EQ(r.epoch_number, 2u);
  ASSERT_NE(s.FindMember(n_[3]), nullptr);
  EXPECT_EQ(s.FindMember(n_[3])->role, MemberRole::kLearner);
  EXPECT_EQ(s.FindMember(n_[3])->state, MemberState::kJoining);
  EXPECT_EQ(s.LearnerRaftIds(), (std::vector<uint64_t>{4}));
  EXPECT_TRUE(s.ShardsOf(n_[3]).empty());  // no automatic rebalancing

  // The same UUID, Raft id or key again is refused, at the proposer and at apply.
  MemberInfo same_raft = Info(4);
  same_raft.raft_id = 4;
  MemberInfo same_key = Info(4);
  same_key.signing_key = k_[3].public_key();
  for (const MemberInfo& m : {Info(3), same_raft, same_key}) {
    EXPECT_FALSE(BuildSignedEntry(s, AddLearner{m}, n_[0], k_[0], kT0, "").ok());
    ApplyResult dup = s.Apply(s.LastAppliedIndex() + 1, Forged(s, AddLearner{m}));
    EXPECT_TRUE(dup.rejected);
    EXPECT_EQ(dup.reason.code(), cluster_sqlstate::kMembershipRefused) << dup.reason.ToString();
  }
  // Only members from before a change sign it; an outsider's key is unknown.
  EXPECT_FALSE(BuildSignedEntry(s, PromoteVoter{n_[3]}, n_[4], k_[4], kT0, "").ok());

  r = s.Apply(s.LastAppliedIndex() + 1, Signed(s, PromoteVoter{n_[3]}));
  ASSERT_TRUE(r.applied) << r.reason.ToString();
  EXPECT_EQ(s.FindMember(n_[3])->role, MemberRole::kVoter);
  EXPECT_EQ(s.FindMember(n_[3])->state, MemberState::kActive);
  EXPECT_EQ(s.VoterRaftIds(), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(s.LearnerRaftIds().empty());

  // Only a learner is promoted; unknown nodes are refused.
  for (const Uuid& node : {n_[3], n_[0], n_[4]}) {
    ApplyResult bad = s.Apply(s.LastAppliedIndex() + 1, Forged(s, PromoteVoter{node}));
    EXPECT_TRUE(bad.rejected);
    EXPECT_EQ(bad.reason.code(), cluster_sqlstate::kMembershipRefused);
  }
  // The new voter now signs epochs.
  r = s.Apply(s.LastAppliedIndex() + 1, Signed(s, SetNodeState{n_[3], MemberState::kLeaving}, 3));
  EXPECT_TRUE(r.applied) << r.reason.ToString();
  // Transitions outside the table are refused.
  ApplyResult bad =
      s.Apply(s.LastAppliedIndex() + 1, Forged(s, SetNodeState{n_[3], MemberState::kJoining}));
  EXPECT_EQ(bad.reason.code(), cluster_sqlstate::kMembershipRefused);
  bad = s.Apply(s.LastAppliedIndex() + 1, Forged(s, SetNodeState{n_[3], MemberState::kRemoved}));
  EXPECT_EQ(bad.reason.code(), cluster_sqlstate::kMembershipRefused);
}

TEST_F(ClusterStateTest, RemoveIsRefusedWhileTheNodeOwnsShards) {
  std::vector<ClusterState> replicas(3);
  ApplyAll(&replicas, Signed(replicas[0], Init()));
  const ClusterState& s = replicas[0];

  Result<std::string> refused = BuildSignedEntry(s, RemoveMember{n_[1]}, n_[0], k_[0], now_, "");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), cluster_sqlstate::kMembershipRefused);
  EXPECT_NE(refused.status().message().find("still owns 5 shard(s) (shard_003"), std::string::npos)
      << refused.status().message();

  // Forced into the log anyway: a rejected no-op everywhere.
  const std::string before = s.Snapshot();
  std::vector<ApplyResult> out = ApplyAll(&replicas, Forged(s, RemoveMember{n_[1]}));
  for (const ApplyResult& r : out) {
    EXPECT_TRUE(r.rejected);
    EXPECT_EQ(r.type, CommandType::kRemoveMember);
    EXPECT_EQ(r.reason.code(), cluster_sqlstate::kMembershipRefused);
  }
  for (const ClusterState& r : replicas) {
    EXPECT_EQ(r.rejected_entries(), 1u);
    EXPECT_EQ(r.FindMember(n_[1])->state, MemberState::kActive);
    EXPECT_EQ(r.Epochs().size(), 1u);
  }

  // A node without shards leaves; its record stays and is never reused.
  ApplyAll(&replicas, Signed(s, AddLearner{Info(3)}));
  std::vector<ApplyResult> removed = ApplyAll(&replicas, Signed(s, RemoveMember{n_[3]}));
  EXPECT_TRUE(removed[0].applied) << removed[0].reason.ToString();
  EXPECT_EQ(s.FindMember(n_[3])->state, MemberState::kRemoved);
  EXPECT_TRUE(s.LearnerRaftIds().empty());
  EXPECT_EQ(s.Members().size(), 4u);
  EXPECT_FALSE(BuildSignedEntry(s, AddLearner{Info(3)}, n_[0], k_[0], now_, "").ok());
  EXPECT_FALSE(BuildSignedEntry(s, RemoveMember{n_[3]}, n_[0], k_[0], now_, "").ok());
  // A removed node no longer signs.
  EXPECT_FALSE(
      BuildSignedEntry(s, SetNodeState{n_[0], MemberState::kLeaving}, n_[3], k_[3], now_, "").ok());
  EXPECT_NE(before, s.Snapshot());
}

TEST_F(ClusterStateTest, LastVoterIsNotRemoved) {
  ClusterState s;
  InitCluster one = Init(1);
  one.members = {Info(0), Info(1)};
  ASSERT_TRUE(s.Apply(1, Signed(s, one)).applied);
  // n_[1] (…c3) sorts after n_[0] (…c2): n_[0] owns the single shard.
  EXPECT_EQ(s.ShardOwner(0), n_[0]);
  ASSERT_TRUE(s.Apply(2, Signed(s, RemoveMember{n_[1]})).applied);
  // Today shard ownership refuses this first (every voter left owns shards
  // until shards can move); the last-voter guard is there for that day.
  Result<std::string> last = BuildSignedEntry(s, RemoveMember{n_[0]}, n_[0], k_[0], now_, "");
  EXPECT_FALSE(last.ok());
}

TEST_F(ClusterStateTest, TamperedEntriesAreRejectedNoOpsEverywhere) {
  std::vector<ClusterState> replicas(3);
  ApplyAll(&replicas, Signed(replicas[0], Init()));
  const ClusterState& s = replicas[0];
  const std::string good = Signed(s, AddLearner{Info(3)});

  std::vector<std::pair<std::string, std::string>> bad;
  std::string sig = good;
  sig[sig.size() - 1] ^= 0x01;  // the entry ends with the epoch's last signature byte
  bad.push_back({"flipped signature byte", sig});
  bad.push_back({"wrong prev hash", Forged(s, AddLearner{Info(3)}, 0, [](ClusterConfigEpoch* e) {
                   e->prev_epoch_hash[5] ^= 0x40;
                 })});
  bad.push_back({"epoch number gap",
                 Forged(s, AddLearner{Info(3)}, 0, [](ClusterConfigEpoch* e) { e->number += 1; })});
  bad.push_back({"replayed genesis number",
                 Forged(s, AddLearner{Info(3)}, 0, [](ClusterConfigEpoch* e) { e->number = 1; })});
  bad.push_back({"binding of another state",
                 Forged(s, AddLearner{Info(3)}, 0,
                        [&](ClusterConfigEpoch* e) { e->shard_map_hash = s.EpochBindingHash(); })});
  bad.push_back(
      {"policy riding along", Forged(s, AddLearner{Info(3)}, 0,
                                     [](ClusterConfigEpoch* e) { e->ca_policy_hash.fill(0x66); })});
  bad.push_back({"signed by a non-member", Forged(s, AddLearner{Info(3)}, 4)});
  bad.push_back({"foreign cluster", Forged(s, AddLearner{Info(3)}, 0, [](ClusterConfigEpoch* e) {
                   e->cluster_uuid = U("0190f3a0-1b2c-7d4e-8f60-000000000000");
                 })});
  std::string body = good;
  body[6 + 1 + 4 + 20] ^= 0x01;  // inside the learner's Raft id
  bad.push_back({"command changed after signing", body});

  const std::string clean = s.Snapshot();
  uint64_t rejected = 0;
  for (const auto& [what, entry] : bad) {
    std::vector<ApplyResult> out = ApplyAll(&replicas, entry);
    ++rejected;
    for (const ClusterState& r : replicas) {
      EXPECT_TRUE(out[0].rejected) << what;
      EXPECT_EQ(r.rejected_entries(), rejected) << what;
      EXPECT_EQ(r.Epochs().size(), 1u) << what;
      EXPECT_EQ(r.FindMember(n_[3]), nullptr) << what;
      EXPECT_EQ(r.EpochBindingHash(), r.Epochs().back().shard_map_hash) << what;
    }
    EXPECT_FALSE(out[0].reason.ok()) << what;
  }
  // Each reason names its check.
  ClusterState probe = s;
  EXPECT_EQ(probe.Apply(1000, bad[0].second).reason.code(), epoch_sqlstate::kSignatureInvalid);
  EXPECT_EQ(probe.Apply(1001, bad[1].second).reason.code(), epoch_sqlstate::kInvalidHashChain);
  EXPECT_EQ(probe.Apply(1002, bad[2].second).reason.code(), epoch_sqlstate::kEpochNumberGap);
  EXPECT_EQ(probe.Apply(1003, bad[4].second).reason.code(),
            cluster_sqlstate::kEpochBindingMismatch);
  EXPECT_EQ(probe.Apply(1004, bad[5].second).reason.code(),
            cluster_sqlstate::kEpochBindingMismatch);
  EXPECT_EQ(probe.Apply(1005, bad[6].second).reason.code(), epoch_sqlstate::kSignatureInvalid);
  EXPECT_EQ(probe.Apply(1006, bad[7].second).reason.code(), epoch_sqlstate::kWrongCluster);

  // The untouched entry still applies afterwards, everywhere.
  for (const ApplyResult& r : ApplyAll(&replicas, good)) EXPECT_TRUE(r.applied);
  EXPECT_NE(s.FindMember(n_[3]), nullptr);
}

TEST_F(ClusterStateTest, CatalogDdlIsSerializedBySchemaVersion) {
  ClusterState before_init;
  const std::string json_t = CanonicalCatalogJson(OneTable("t"));
  ApplyResult r =
      before_init.Apply(1, EncodeClusterEntry({CatalogDdl{"CREATE TABLE t", json_t, 0}, ""}));
  EXPECT_EQ(r.reason.code(), cluster_sqlstate::kNotInitialized);

  std::vector<ClusterState> replicas(3);
  ApplyAll(&replicas, Signed(replicas[0], Init()));
  const ClusterState& s = replicas[0];
  // Two DDLs planned against version 0 race; the first committed wins.
  const std::string first = Signed(s, CatalogDdl{"CREATE TABLE t (id bigint)", json_t, 0});
  const std::string second =
      Signed(s, CatalogDdl{"CREATE TABLE u (id bigint)", CanonicalCatalogJson(OneTable("u")), 0});
  for (const ApplyResult& a : ApplyAll(&replicas, first)) EXPECT_TRUE(a.applied);
  for (const ApplyResult& a : ApplyAll(&replicas, second)) {
    EXPECT_TRUE(a.rejected);
    EXPECT_EQ(a.reason.code(), cluster_sqlstate::kSchemaVersionMismatch);
    EXPECT_NE(a.reason.message().find("planned against schema version 0"), std::string::npos);
  }
  EXPECT_EQ(s.SchemaVersion(), 1u);
  EXPECT_EQ(s.CatalogJson(), json_t);
  EXPECT_EQ(s.Epochs().size(), 1u);  // DDL is not an epoch
  Result<Catalog> catalog = CatalogFromCanonicalJson(s.CatalogJson(), s.SchemaVersion());
  ASSERT_TRUE(catalog.ok());
  EXPECT_NE(catalog->FindTable("t"), nullptr);

  // Not canonical or not a catalog: refused.
  for (const std::string& json :
       {std::string("{\"tables\": []}"), std::string("[]"), std::string("{\"tables\":[1]}"),
        std::string("not json"), std::string("{\"tables\":[],\"x\":1}")}) {
    ApplyResult bad = replicas[0].Apply(s.LastAppliedIndex() + 1,
                                        EncodeClusterEntry({CatalogDdl{"DDL", json, 1}, ""}));
    EXPECT_EQ(bad.reason.code(), cluster_sqlstate::kCatalogInvalid) << json;
  }
  EXPECT_EQ(s.SchemaVersion(), 1u);
}

TEST_F(ClusterStateTest, PublishEpochChangesPoliciesOnly) {
  ClusterState s = Initialized();
  const Sha256Digest binding = s.EpochBindingHash();
  PublishEpoch p;
  p.policies.security_bundle.fill(0x5B);
  p.min_node_version = 101000;
  ApplyResult r = s.Apply(2, Signed(s, p, 1));
  ASSERT_TRUE(r.applied) << r.reason.ToString();
  EXPECT_EQ(r.epoch_number, 2u);
  EXPECT_EQ(s.Epochs().back().security_bundle_hash, p.policies.security_bundle);
  EXPECT_EQ(s.Epochs().back().min_node_version, 101000u);
  EXPECT_EQ(s.EpochBindingHash(), binding);
  // Later membership epochs carry the policies along unchanged.
  ASSERT_TRUE(s.Apply(3, Signed(s, AddLearner{Info(3)})).applied);
  EXPECT_EQ(s.Epochs().back().security_bundle_hash, p.policies.security_bundle);
  // An epoch whose hashes differ from its PublishEpoch is refused.
  PublishEpoch q = p;
  q.policies.ca_policy.fill(0x01);
  ApplyResult bad = s.Apply(4, Forged(s, q));
  EXPECT_EQ(bad.reason.code(), cluster_sqlstate::kEpochBindingMismatch);
}

TEST_F(ClusterStateTest, EmptyEntriesAndStaleIndexes) {
  ClusterState s = Initialized();
  const std::string snap = s.Snapshot();
  ApplyResult noop = s.Apply(2, "");
  EXPECT_FALSE(noop.applied);
  EXPECT_FALSE(noop.rejected);
  EXPECT_TRUE(noop.reason.ok());
  EXPECT_EQ(s.LastAppliedIndex(), 2u);
  ApplyResult stale = s.Apply(2, Signed(s, AddLearner{Info(3)}));
  EXPECT_FALSE(stale.applied);
  EXPECT_FALSE(stale.rejected);
  EXPECT_FALSE(stale.reason.ok());
  EXPECT_EQ(s.FindMember(n_[3]), nullptr);
  EXPECT_EQ(s.rejected_entries(), 0u);
}

TEST_F(ClusterStateTest, SnapshotRestoreRoundTripThenContinue) {
  ClusterState empty_restored = *ClusterState::Restore(ClusterState().Snapshot());
  EXPECT_EQ(empty_restored.Snapshot(), ClusterState().Snapshot());

  ClusterState s = Initialized();
  ASSERT_TRUE(s.Apply(2, Signed(s, AddLearner{Info(3)})).applied);
  ASSERT_TRUE(
      s.Apply(3, Signed(s, CatalogDdl{"DDL", CanonicalCatalogJson(OneTable("t")), 0})).applied);
  ASSERT_TRUE(s.Apply(4, Signed(s, PromoteVoter{n_[3]})).applied);
  ASSERT_TRUE(s.Apply(5, "garbage").rejected);

  const std::string snap = s.Snapshot();
  Result<ClusterState> restored = ClusterState::Restore(snap);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->Snapshot(), snap);
  EXPECT_EQ(restored->LastAppliedIndex(), 5u);
  EXPECT_EQ(restored->rejected_entries(), 0u);  // a process metric, not state
  EXPECT_EQ(restored->Members(), s.Members());
  EXPECT_EQ(restored->SchemaVersion(), 1u);
  ASSERT_EQ(restored->Epochs().size(), s.Epochs().size());
  for (size_t i = 0; i < s.Epochs().size(); ++i) {
    EXPECT_EQ(EpochHash(restored->Epochs()[i]), EpochHash(s.Epochs()[i]));
  }

  // Both go on applying the same entries and stay identical.
  std::vector<ClusterState> pair = {s, *restored};
  for (const ApplyResult& r : ApplyAll(&pair, Signed(s, AddLearner{Info(4)}, 3))) {
    EXPECT_TRUE(r.applied) << r.reason.ToString();
  }
  for (const ApplyResult& r : ApplyAll(&pair, Signed(pair[0], RemoveMember{n_[4]}))) {
    EXPECT_TRUE(r.applied) << r.reason.ToString();
  }

  // Every truncation, trailing bytes and a tampered sealed field are refused.
  for (size_t n = 0; n < snap.size(); n += 7) {
    EXPECT_FALSE(ClusterState::Restore(snap.substr(0, n)).ok()) << "cut at " << n;
  }
  EXPECT_FALSE(ClusterState::Restore(snap + "x").ok());
  std::string tampered = snap;
  const size_t owner_of_shard0 = 6 + 8 + 1 + 16 + 8 + 4 + 256 * 4 + 4;
  tampered[owner_of_shard0 + 15] ^= 0x01;  // shard 0 now owned by someone else
  Result<ClusterState> bad = ClusterState::Restore(tampered);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), sqlstate::kDataCorrupted);
}

// Random, truncated, bit-flipped and spliced entries against a live state:
// never a crash, and the state changes only when the entry is valid (then it
// is exactly one sealed step forward).
TEST_F(ClusterStateTest, FuzzApplyNeverCrashesOrCorrupts) {
  ClusterState base = Initialized();
  ASSERT_TRUE(base.Apply(2, Signed(base, AddLearner{Info(3)})).applied);
  std::vector<std::string> corpus = {
      Signed(base, PromoteVoter{n_[3]}),
      Signed(base, AddLearner{Info(4)}, 1),
      Signed(base, SetNodeState{n_[0], MemberState::kLeaving}, 2),
      Signed(base, RemoveMember{n_[3]}),
      Signed(base, CatalogDdl{"CREATE TABLE t", CanonicalCatalogJson(OneTable("t")), 0}),
      Signed(base, PublishEpoch{}),
  };
  std::mt19937_64 rng(0x5bc1u);
  int applied = 0;
  int rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const std::string& seed = corpus[rng() % corpus.size()];
    std::string input;
    switch (rng() % 5) {
      case 0:
        input.resize(rng() % 200);
        for (char& c : input) c = static_cast<char>(rng());
        if (rng() % 2) input.replace(0, std::min<size_t>(6, input.size()), kClusterEntryTag);
        break;
      case 1:
        input = seed.substr(0, rng() % seed.size());
        break;
      case 2:
      case 3:
        input = seed;
        for (int k = 1 + static_cast<int>(rng() % 2); k > 0; --k) {
          input[rng() % input.size()] ^= static_cast<char>(1u << (rng() % 8));
        }
        break;
      default: {
        const std::string& other = corpus[rng() % corpus.size()];
        input = seed.substr(0, rng() % seed.size()) + other.substr(rng() % other.size());
        break;
      }
    }
    if (input.empty()) continue;  // the leader's no-op, covered elsewhere
    ClusterState s = base;
    ClusterState control = base;
    ApplyResult r = s.Apply(3, input);
    control.Apply(3, "");
    ASSERT_NE(r.applied, r.rejected) << "iteration " << iter;
    if (!r.applied) {
      ++rejected;
      ASSERT_EQ(s.Snapshot(), control.Snapshot()) << "iteration " << iter;
      ASSERT_EQ(s.rejected_entries(), 1u);
    } else {
      ++applied;
      // Only fields outside the signature and the command can differ from
      // the seed (published_at): still a sealed one-step change.
      ASSERT_EQ(s.LastAppliedIndex(), 3u);
      if (r.type != CommandType::kCatalogDdl) {
        ASSERT_EQ(s.Epochs().size(), base.Epochs().size() + 1) << "iteration " << iter;
        ASSERT_EQ(s.Epochs().back().shard_map_hash, s.EpochBindingHash());
      } else {
        ASSERT_EQ(s.SchemaVersion(), 1u);
      }
      ASSERT_TRUE(ClusterState::Restore(s.Snapshot()).ok());
    }
  }
  EXPECT_GT(rejected, 2500);
  EXPECT_GT(applied, 0);

  // Mutated snapshots: Restore never crashes; what it accepts re-encodes
  // to the same bytes.
  const std::string snap = base.Snapshot();
  for (int iter = 0; iter < 2000; ++iter) {
    std::string input = snap;
    if (rng() % 2) {
      input[rng() % input.size()] ^= static_cast<char>(1u << (rng() % 8));
    } else {
      input.resize(rng() % input.size());
    }
    Result<ClusterState> r = ClusterState::Restore(input);
    if (r.ok()) {
      ASSERT_EQ(r->Snapshot(), input) << "snapshot iteration " << iter;
    }
  }
}

}  // namespace
}  // namespace sb::meta
