#include "meta/epoch_chain.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "meta/test_util.h"

namespace sb::meta {
namespace {

using testing::Key;
using testing::U;

class EpochChainTest : public ::testing::Test {
 protected:
  const Uuid cluster_ = U("0190f3a0-1b2c-7d4e-8f60-718293a4b5c6");
  const Uuid node1_ = U("0190f3a0-0000-7000-8000-0000000000c1");
  const Uuid node2_ = U("0190f3a0-0000-7000-8000-0000000000c2");
  Ed25519PrivateKey k1_ = Key('1');
  Ed25519PrivateKey k2_ = Key('2');
  SignerRegistry signers_;

  void SetUp() override {
    ASSERT_TRUE(signers_.Add(node1_, k1_.public_key()).ok());
    ASSERT_TRUE(signers_.Add(node2_, k2_.public_key()).ok());
  }

  // The signed successor of `chain`'s current epoch.
  ClusterConfigEpoch Next(const EpochChain& chain) {
    ClusterConfigEpoch e;
    e.number = chain.current_number() + 1;
    e.cluster_uuid = cluster_;
    e.prev_epoch_hash = chain.current_hash();
    e.shard_map_hash = Sha256("shard map v" + std::to_string(e.number));
    e.created_at_ns = 1767225600000000000 + static_cast<int64_t>(e.number) * 1000;
    e.published_at_ns = e.created_at_ns + 10;
    e.admin_uuids = {node2_, node1_};
    e.description = "epoch " + std::to_string(e.number);
    EXPECT_TRUE(SignEpoch(&e, node1_, k1_).ok());
    return e;
  }

  std::string NextEntry(const EpochChain& chain) { return EncodeEpochEntry(Next(chain)); }

  // A chain with epochs 1..n applied.
  EpochChain Build(uint64_t n) {
    EpochChain chain(cluster_);
    for (uint64_t i = 0; i < n; ++i) {
      ApplyOutcome out = chain.Apply(NextEntry(chain), signers_);
      EXPECT_TRUE(out.applied) << out.reason.ToString();
    }
    return chain;
  }

  // Applies `entry`, which must be rejected with `code`, and checks that the
  // chain is exactly as before apart from the counter.
  void ExpectRejected(EpochChain& chain, std::string_view entry, const char* code,
                      uint32_t min_signatures = 1) {
    const std::string before = chain.Snapshot();
    const uint64_t rejected = chain.rejected_epochs();
    ApplyOutcome out = chain.Apply(entry, signers_, min_signatures);
    EXPECT_FALSE(out.applied);
    EXPECT_EQ(out.number, 0u);
    EXPECT_EQ(out.reason.code(), code) << out.reason.ToString();
    EXPECT_EQ(chain.rejected_epochs(), rejected + 1);
    EXPECT_EQ(chain.Snapshot(), before);
  }
};

TEST_F(EpochChainTest, EmptyChain) {
  EpochChain chain(cluster_);
  EXPECT_TRUE(chain.empty());
  EXPECT_EQ(chain.current_number(), 0u);
  EXPECT_EQ(chain.current_hash(), Sha256Digest{});
  EXPECT_EQ(chain.Current(), nullptr);
  EXPECT_EQ(chain.Get(0), nullptr);
  EXPECT_EQ(chain.Get(1), nullptr);
  EXPECT_TRUE(chain.History().empty());
}

TEST_F(EpochChainTest, AppliesAndKeepsHistory) {
  EpochChain chain(cluster_);
  std::vector<Sha256Digest> hashes;
  for (uint64_t n = 1; n <= 5; ++n) {
    ClusterConfigEpoch e = Next(chain);
    hashes.push_back(EpochHash(e));
    ApplyOutcome out = chain.Apply(EncodeEpochEntry(e), signers_);
    ASSERT_TRUE(out.applied) << out.reason.ToString();
    EXPECT_TRUE(out.reason.ok());
    EXPECT_EQ(out.number, n);
    EXPECT_EQ(chain.current_number(), n);
    EXPECT_EQ(chain.current_hash(), hashes.back());
  }
  ASSERT_EQ(chain.History().size(), 5u);
  for (uint64_t n = 1; n <= 5; ++n) {
    const ClusterConfigEpoch* e = chain.Get(n);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->number, n);
    EXPECT_EQ(&chain.History()[n - 1], e);
    EXPECT_EQ(*chain.HashOf(n), hashes[n - 1]);
    EXPECT_EQ(e->prev_epoch_hash, n == 1 ? Sha256Digest{} : hashes[n - 2]);
    EXPECT_EQ(e->state, n == 5 ? EpochState::kConverging : EpochState::kSuperseded);
    EXPECT_EQ(e->description, "epoch " + std::to_string(n));
  }
  EXPECT_EQ(chain.Current(), chain.Get(5));
  EXPECT_EQ(chain.Get(6), nullptr);
  EXPECT_EQ(chain.HashOf(6), nullptr);
  EXPECT_EQ(chain.rejected_epochs(), 0u);
}

TEST_F(EpochChainTest, GenesisPinsTheClusterWhenNotGiven) {
  EpochChain chain;
  EXPECT_FALSE(chain.cluster_uuid().has_value());
  ASSERT_TRUE(chain.Apply(NextEntry(chain), signers_).applied);
  ASSERT_TRUE(chain.cluster_uuid().has_value());
  EXPECT_EQ(*chain.cluster_uuid(), cluster_);

  ClusterConfigEpoch foreign = Next(chain);
  foreign.cluster_uuid = U("0190f3a0-1b2c-7d4e-8f60-0000000000aa");
  foreign.signatures.clear();
  ASSERT_TRUE(SignEpoch(&foreign, node1_, k1_).ok());
  ExpectRejected(chain, EncodeEpochEntry(foreign), epoch_sqlstate::kWrongCluster);
}

TEST_F(EpochChainTest, GenesisOfAnotherClusterIsRefused) {
  EpochChain chain(U("0190f3a0-1b2c-7d4e-8f60-0000000000bb"));
  ExpectRejected(chain, NextEntry(chain), epoch_sqlstate::kWrongCluster);
  EXPECT_TRUE(chain.empty());
}

TEST_F(EpochChainTest, InvalidEntriesAreRejectedNoOps) {
  EpochChain chain = Build(3);

  ClusterConfigEpoch skip = Next(chain);
  skip.number = 5;
  skip.signatures.clear();
  ASSERT_TRUE(SignEpoch(&skip, node1_, k1_).ok());
  ExpectRejected(chain, EncodeEpochEntry(skip), epoch_sqlstate::kEpochNumberGap);

  // Replaying a committed epoch (a downgrade to 2, or 3 again).
  ExpectRejected(chain, EncodeEpochEntry(*chain.Get(2)), epoch_sqlstate::kEpochNumberGap);
  ExpectRejected(chain, EncodeEpochEntry(*chain.Get(3)), epoch_sqlstate::kEpochNumberGap);

  ClusterConfigEpoch forked = Next(chain);
  forked.prev_epoch_hash[17] ^= 0x20;
  forked.signatures.clear();
  ASSERT_TRUE(SignEpoch(&forked, node1_, k1_).ok());
  ExpectRejected(chain, EncodeEpochEntry(forked), epoch_sqlstate::kInvalidHashChain);

  ClusterConfigEpoch bad_sig = Next(chain);
  bad_sig.signatures[0].signature[0] ^= 1;
  ExpectRejected(chain, EncodeEpochEntry(bad_sig), epoch_sqlstate::kSignatureInvalid);

  // 2-of-N: one signer listed twice.
  ClusterConfigEpoch twice = Next(chain);
  twice.signatures.push_back(twice.signatures[0]);
  ExpectRejected(chain, EncodeEpochEntry(twice), epoch_sqlstate::kSignatureInvalid, 2);

  ExpectRejected(chain, "", epoch_sqlstate::kEpochMalformed);
  ExpectRejected(chain, "not an epoch", epoch_sqlstate::kEpochMalformed);

  EpochChain small(cluster_, 100);
  ExpectRejected(small, NextEntry(small), epoch_sqlstate::kEpochTooLarge);

  EXPECT_EQ(chain.rejected_epochs(), 8u);
  EXPECT_EQ(chain.current_number(), 3u);
  // The chain still takes the right successor afterwards, and 2-of-N with two
  // distinct signers.
  ClusterConfigEpoch good = Next(chain);
  ASSERT_TRUE(SignEpoch(&good, node2_, k2_).ok());
  ApplyOutcome out = chain.Apply(EncodeEpochEntry(good), signers_, 2);
  EXPECT_TRUE(out.applied) << out.reason.ToString();
  EXPECT_EQ(out.number, 4u);
}

TEST_F(EpochChainTest, SignerRemovedFromTheRegistryNoLongerCounts) {
  EpochChain chain = Build(1);
  std::string entry = NextEntry(chain);
  signers_.Remove(node1_);
  ExpectRejected(chain, entry, epoch_sqlstate::kSignatureInvalid);
}

TEST_F(EpochChainTest, MarkEffective) {
  EpochChain chain = Build(2);
  const int64_t published = chain.Current()->published_at_ns;
  EXPECT_FALSE(chain.MarkEffective(1, published).ok());  // superseded
  EXPECT_FALSE(chain.MarkEffective(3, published).ok());  // not applied
  EXPECT_FALSE(chain.MarkEffective(2, published - 1).ok());
  EXPECT_EQ(chain.Current()->state, EpochState::kConverging);
  ASSERT_TRUE(chain.MarkEffective(2, published + 5).ok());
  EXPECT_EQ(chain.Current()->state, EpochState::kEffective);
  EXPECT_EQ(chain.Current()->effective_at_ns, published + 5);
  EXPECT_FALSE(chain.MarkEffective(2, published + 6).ok());  // already effective

  ASSERT_TRUE(chain.Apply(NextEntry(chain), signers_).applied);
  EXPECT_EQ(chain.Get(2)->state, EpochState::kSuperseded);
  EXPECT_EQ(chain.Get(2)->effective_at_ns, published + 5);
  EXPECT_EQ(chain.Get(3)->state, EpochState::kConverging);
}

TEST_F(EpochChainTest, SnapshotRoundTrip) {
  EpochChain chain = Build(4);
  ASSERT_TRUE(chain.MarkEffective(4, chain.Current()->published_at_ns + 1).ok());
  std::string snap = chain.Snapshot();

  Result<EpochChain> back = EpochChain::Restore(snap);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->History(), chain.History());
  EXPECT_EQ(back->current_hash(), chain.current_hash());
  EXPECT_EQ(back->cluster_uuid(), chain.cluster_uuid());
  EXPECT_EQ(back->Snapshot(), snap);
  for (uint64_t n = 1; n <= 4; ++n) EXPECT_EQ(*back->HashOf(n), *chain.HashOf(n));

  // The restored chain continues exactly like the original.
  std::string entry = NextEntry(chain);
  ApplyOutcome a = chain.Apply(entry, signers_);
  ApplyOutcome b = back->Apply(entry, signers_);
  EXPECT_TRUE(a.applied && b.applied);
  EXPECT_EQ(back->Snapshot(), chain.Snapshot());

  // Empty chains, with and without a pinned cluster.
  for (const EpochChain& empty : {EpochChain(), EpochChain(cluster_)}) {
    Result<EpochChain> r = EpochChain::Restore(empty.Snapshot());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->empty());
    EXPECT_EQ(r->cluster_uuid(), empty.cluster_uuid());
  }
}

TEST_F(EpochChainTest, RestoreRefusesDamagedSnapshots) {
  EpochChain chain = Build(3);
  const std::string snap = chain.Snapshot();
  for (size_t n = 0; n < snap.size(); ++n) {
    ASSERT_FALSE(EpochChain::Restore(std::string_view(snap).substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(EpochChain::Restore(snap + "x").ok());

  // Flipping a byte of epoch 1's hashed content breaks epoch 2's link.
  std::string tampered = snap;
  const size_t epoch1_description = 6 + 1 + 16 + 8 + 4 + 6 + 4 + 294 + 4 + 32 + 4;
  ASSERT_EQ(tampered.substr(epoch1_description, 7), "epoch 1");
  tampered[epoch1_description + 6] = '9';
  Result<EpochChain> r = EpochChain::Restore(tampered);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("prev_epoch_hash"), std::string::npos)
      << r.status().ToString();
}

// Property: Apply of random, truncated, bit-flipped and spliced entries never
// crashes; a refused entry leaves the chain byte-for-byte unchanged and counts
// once; an accepted one advances the chain by exactly one epoch. Only a
// change to published_at can be accepted: it is outside the signature (C-02).
TEST_F(EpochChainTest, ApplyFuzzProperty) {
  std::mt19937_64 rng(4242);
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  EpochChain chain = Build(2);
  uint64_t applied = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::string in = NextEntry(chain);
    switch (rng() % 5) {
      case 0:
        in.resize(pick(in.size()));
        break;
      case 1:
        for (int k = 1 + pick(3); k > 0; --k)
          in[pick(in.size())] ^= static_cast<char>(1 << pick(8));
        break;
      case 2:
        for (char& ch : in) ch = pick(50) == 0 ? static_cast<char>(rng()) : ch;
        break;
      case 3:
        in = EncodeEpochEntry(*chain.Get(1 + pick(chain.current_number())));
        break;
      case 4: {
        std::string junk(pick(400), '\0');
        for (char& ch : junk) ch = static_cast<char>(rng());
        in = junk;
        break;
      }
    }
    const std::string before = chain.Snapshot();
    const uint64_t number = chain.current_number();
    const uint64_t rejected = chain.rejected_epochs();
    ApplyOutcome out = chain.Apply(in, signers_);
    if (out.applied) {
      ++applied;
      ASSERT_EQ(chain.current_number(), number + 1);
      ASSERT_EQ(chain.rejected_epochs(), rejected);
      ASSERT_EQ(EncodeEpochEntry(*chain.Current()), in);
    } else {
      ASSERT_FALSE(out.reason.ok());
      ASSERT_EQ(chain.rejected_epochs(), rejected + 1);
      ASSERT_EQ(chain.Snapshot(), before) << "iteration " << iter;
    }
  }
  EXPECT_EQ(chain.rejected_epochs() + applied, 4000u);
  // The history still forms a valid chain.
  Result<EpochChain> restored = EpochChain::Restore(chain.Snapshot());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
}

}  // namespace
}  // namespace sb::meta
