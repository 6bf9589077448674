#include "meta/epoch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "meta/epoch_chain.h"
#include "meta/test_util.h"

namespace sb::meta {
namespace {

using testing::Key;
using testing::U;

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

Sha256Digest Filled(uint8_t b) {
  Sha256Digest d;
  d.fill(b);
  return d;
}

// Keys from fixed seeds so every run signs the same bytes.
// The epoch of tests/golden/cce_golden.py; keep the two in step.
ClusterConfigEpoch GoldenEpoch() {
  ClusterConfigEpoch e;
  e.number = 7;
  e.cluster_uuid = U("0190f3a0-1b2c-7d4e-8f60-718293a4b5c6");
  for (size_t i = 0; i < 32; ++i) e.prev_epoch_hash[i] = static_cast<uint8_t>(i);
  e.ca_policy_hash = Filled(0x11);
  e.security_bundle_hash = Filled(0x22);
  e.shard_map_hash = Filled(0x33);
  // replication and scheduler policies absent: zeros (C-06).
  e.backup_policy_hash = Filled(0x55);
  e.capability_matrix_hash = Filled(0x77);
  e.created_at_ns = 1767225600123456789;
  e.published_at_ns = 1767225601000000000;
  e.admin_uuids = {U("0190f3a0-0000-7000-8000-00000000000b"),
                   U("0190f3a0-0000-7000-8000-00000000000a")};
  e.description = "Add node n4 \xe2\x80\x94 caf\xc3\xa9";  // U+2014, U+00E9
  e.min_node_version = 102003;
  return e;
}

// Output of `python3 tests/golden/cce_golden.py`, which builds the bytes from
// the documented layout without any project code.
constexpr char kGoldenCanonicalHex[] =
    "53424343450100000000000000070190f3a01b2c7d4e8f60718293a4b5c600010203040506070809"
    "0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f111111111111111111111111111111111111"
    "11111111111111111111111111112222222222222222222222222222222222222222222222222222"
    "22222222222233333333333333333333333333333333333333333333333333333333333333330000"
    "00000000000000000000000000000000000000000000000000000000000055555555555555555555"
    "55555555555555555555555555555555555555555555000000000000000000000000000000000000"
    "00000000000000000000000000007777777777777777777777777777777777777777777777777777"
    "77777777777718867251f555cd15000000020190f3a000007000800000000000000a0190f3a00000"
    "7000800000000000000b00000015416464206e6f6465206e3420e2809420636166c3a900018e73";
constexpr char kGoldenHashHex[] =
    "7b43c83e370d68dfc8b22913d329a589978faa27a43e3e63504edd2736210cd6";
constexpr char kGoldenEntryHex[] =
    "5342434352010000016753424343450100000000000000070190f3a01b2c7d4e8f60718293a4b5c6"
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f1111111111111111"
    "11111111111111111111111111111111111111111111111122222222222222222222222222222222"
    "22222222222222222222222222222222333333333333333333333333333333333333333333333333"
    "33333333333333330000000000000000000000000000000000000000000000000000000000000000"
    "55555555555555555555555555555555555555555555555555555555555555550000000000000000"
    "00000000000000000000000000000000000000000000000077777777777777777777777777777777"
    "7777777777777777777777777777777718867251f555cd15000000020190f3a00000700080000000"
    "0000000a0190f3a000007000800000000000000b00000015416464206e6f6465206e3420e2809420"
    "636166c3a900018e73188672522994ca00000000010190f3a00000700080000000000000c1ababab"
    "abababababababababababababababababababababababababababababababababababababababab"
    "ababababababababababababababababababababab";

TEST(EpochGoldenTest, CanonicalBytesAndHash) {
  ClusterConfigEpoch e = GoldenEpoch();
  std::string canonical = CanonicalBytes(e);
  EXPECT_EQ(canonical.size(), 359u);
  EXPECT_EQ(Hex(canonical), kGoldenCanonicalHex);
  EXPECT_EQ(Sha256Hex(EpochHash(e)), kGoldenHashHex);
}

TEST(EpochGoldenTest, EntryBytes) {
  ClusterConfigEpoch e = GoldenEpoch();
  EpochSignature sig;
  sig.signer = U("0190f3a0-0000-7000-8000-0000000000c1");
  sig.signature.fill(0xab);
  e.signatures.push_back(sig);
  std::string entry = EncodeEpochEntry(e);
  EXPECT_EQ(Hex(entry), kGoldenEntryHex);

  Result<ClusterConfigEpoch> back = DecodeEpochEntry(entry);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  // Decoding yields the canonical (sorted) admin order.
  std::sort(e.admin_uuids.begin(), e.admin_uuids.end());
  EXPECT_EQ(*back, e);
}

TEST(EpochHashTest, AdminOrderDoesNotMatter) {
  ClusterConfigEpoch a = GoldenEpoch();
  ClusterConfigEpoch b = GoldenEpoch();
  std::reverse(b.admin_uuids.begin(), b.admin_uuids.end());
  EXPECT_EQ(CanonicalBytes(a), CanonicalBytes(b));
  EXPECT_EQ(EpochHash(a), EpochHash(b));

  // Five admins in every rotation hash the same.
  ClusterConfigEpoch c = GoldenEpoch();
  for (int i = 0; i < 5; ++i) {
    Uuid::Bytes bytes{};
    bytes[0] = static_cast<uint8_t>(0x90 - 7 * i);
    c.admin_uuids.push_back(Uuid(bytes));
  }
  const Sha256Digest expected = EpochHash(c);
  for (size_t r = 1; r < c.admin_uuids.size(); ++r) {
    ClusterConfigEpoch d = c;
    std::rotate(d.admin_uuids.begin(), d.admin_uuids.begin() + r, d.admin_uuids.end());
    EXPECT_EQ(EpochHash(d), expected) << r;
  }
}

TEST(EpochHashTest, UnhashedFieldsDoNotChangeTheHash) {
  ClusterConfigEpoch a = GoldenEpoch();
  ClusterConfigEpoch b = GoldenEpoch();
  b.published_at_ns += 12345;  // C-02
  b.state = EpochState::kEffective;
  b.effective_at_ns = 42;
  b.signatures.push_back({U("0190f3a0-0000-7000-8000-0000000000c1"), {}});
  EXPECT_EQ(EpochHash(a), EpochHash(b));
}

TEST(EpochHashTest, EveryHashedFieldChangesTheHash) {
  const Sha256Digest base = EpochHash(GoldenEpoch());
  auto changed = [&](auto mutate) {
    ClusterConfigEpoch e = GoldenEpoch();
    mutate(e);
    return EpochHash(e) != base;
  };
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.number++; }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.cluster_uuid = Uuid(); }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.prev_epoch_hash[31] ^= 1; }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.ca_policy_hash[0] ^= 1; }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.security_bundle_hash[0] ^= 1; }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.shard_map_hash[0] ^= 1; }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.replication_policy_hash[0] ^= 1; }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.backup_policy_hash[0] ^= 1; }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.scheduler_policy_hash[0] ^= 1; }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.capability_matrix_hash[0] ^= 1; }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.created_at_ns--; }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.admin_uuids.pop_back(); }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.description += "."; }));
  EXPECT_TRUE(changed([](ClusterConfigEpoch& e) { e.min_node_version++; }));
  // Swapping two config hashes is a different epoch: positions are fixed.
  EXPECT_TRUE(
      changed([](ClusterConfigEpoch& e) { std::swap(e.ca_policy_hash, e.shard_map_hash); }));
}

TEST(EpochHashTest, GenesisCanonicalFormStartsWithTagAndZeroPrev) {
  ClusterConfigEpoch g;
  g.number = 1;
  g.cluster_uuid = U("0190f3a0-1b2c-7d4e-8f60-718293a4b5c6");
  std::string c = CanonicalBytes(g);
  EXPECT_EQ(c.size(), 306u);  // fixed part, no admins, empty description
  EXPECT_EQ(c.substr(0, 6), std::string("SBCCE\x01", 6));
  EXPECT_EQ(c.substr(30, 32 * 8), std::string(32 * 8, '\0'));  // prev + 7 absent hashes
}

TEST(EpochSignTest, SignEpochReplacesTheSignersEarlierSignature) {
  ClusterConfigEpoch e = GoldenEpoch();
  Ed25519PrivateKey key = Key('k');
  Uuid signer = U("0190f3a0-0000-7000-8000-0000000000c1");
  ASSERT_TRUE(SignEpoch(&e, signer, key).ok());
  ASSERT_EQ(e.signatures.size(), 1u);
  EXPECT_TRUE(
      Ed25519Verify(key.public_key(), DigestBytes(EpochHash(e)), e.signatures[0].signature));
  e.description = "edited";
  ASSERT_TRUE(SignEpoch(&e, signer, key).ok());
  ASSERT_EQ(e.signatures.size(), 1u);
  EXPECT_TRUE(
      Ed25519Verify(key.public_key(), DigestBytes(EpochHash(e)), e.signatures[0].signature));
}

TEST(SignerRegistryTest, OneKeyPerSigner) {
  SignerRegistry reg;
  Ed25519PrivateKey a = Key('a');
  Ed25519PrivateKey b = Key('b');
  Uuid s1 = U("0190f3a0-0000-7000-8000-000000000001");
  Uuid s2 = U("0190f3a0-0000-7000-8000-000000000002");
  ASSERT_TRUE(reg.Add(s1, a.public_key()).ok());
  EXPECT_FALSE(reg.Add(s2, a.public_key()).ok());  // same key, second uuid
  ASSERT_TRUE(reg.Add(s2, b.public_key()).ok());
  ASSERT_TRUE(reg.Add(s1, a.public_key()).ok());  // re-adding is fine
  EXPECT_EQ(reg.size(), 2u);
  ASSERT_NE(reg.Find(s2), nullptr);
  EXPECT_EQ(*reg.Find(s2), b.public_key());
  reg.Remove(s2);
  EXPECT_EQ(reg.Find(s2), nullptr);
}

// ---------------------------------------------------------------------------
// ValidateNext

class ValidateNextTest : public ::testing::Test {
 protected:
  const Uuid cluster_ = U("0190f3a0-1b2c-7d4e-8f60-718293a4b5c6");
  const Uuid s1_ = U("0190f3a0-0000-7000-8000-0000000000c1");
  const Uuid s2_ = U("0190f3a0-0000-7000-8000-0000000000c2");
  const Uuid s3_ = U("0190f3a0-0000-7000-8000-0000000000c3");
  const Uuid stranger_ = U("0190f3a0-0000-7000-8000-0000000000ff");
  Ed25519PrivateKey k1_ = Key('1');
  Ed25519PrivateKey k2_ = Key('2');
  Ed25519PrivateKey k3_ = Key('3');
  Ed25519PrivateKey k_stranger_ = Key('x');
  SignerRegistry signers_;
  EpochChain chain_{cluster_};

  void SetUp() override {
    ASSERT_TRUE(signers_.Add(s1_, k1_.public_key()).ok());
    ASSERT_TRUE(signers_.Add(s2_, k2_.public_key()).ok());
    ASSERT_TRUE(signers_.Add(s3_, k3_.public_key()).ok());
    // Epochs 1..3 applied.
    for (int i = 0; i < 3; ++i) {
      ApplyOutcome out = chain_.Apply(EncodeEpochEntry(Next()), signers_);
      ASSERT_TRUE(out.applied) << out.reason.ToString();
    }
    ASSERT_EQ(chain_.current_number(), 3u);
  }

  // The valid successor of the chain's current epoch, signed by s1.
  ClusterConfigEpoch Next(uint64_t number_offset = 1) {
    ClusterConfigEpoch e;
    e.number = chain_.current_number() + number_offset;
    e.cluster_uuid = cluster_;
    e.prev_epoch_hash = chain_.current_hash();
    e.shard_map_hash = Sha256("shard map " + std::to_string(e.number));
    e.created_at_ns = 1767225600000000000 + static_cast<int64_t>(e.number);
    e.published_at_ns = e.created_at_ns + 1;
    e.admin_uuids = {s1_};
    e.description = "epoch " + std::to_string(e.number);
    EXPECT_TRUE(SignEpoch(&e, s1_, k1_).ok());
    return e;
  }

  Status Validate(const ClusterConfigEpoch& e, uint32_t min_signatures = 1) {
    return ValidateNext(chain_, e, signers_, min_signatures);
  }
};

TEST_F(ValidateNextTest, AcceptsTheSignedSuccessor) {
  Status st = Validate(Next());
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(ValidateNextTest, GenesisNeedsNumberOneAndZeroPrev) {
  EpochChain empty(cluster_);
  ClusterConfigEpoch g;
  g.number = 1;
  g.cluster_uuid = cluster_;
  ASSERT_TRUE(SignEpoch(&g, s1_, k1_).ok());
  EXPECT_TRUE(ValidateNext(empty, g, signers_, 1).ok());

  ClusterConfigEpoch two = g;
  two.number = 2;
  ASSERT_TRUE(SignEpoch(&two, s1_, k1_).ok());
  EXPECT_EQ(ValidateNext(empty, two, signers_, 1).code(), epoch_sqlstate::kEpochNumberGap);

  ClusterConfigEpoch zero = g;
  zero.number = 0;
  ASSERT_TRUE(SignEpoch(&zero, s1_, k1_).ok());
  EXPECT_EQ(ValidateNext(empty, zero, signers_, 1).code(), epoch_sqlstate::kEpochNumberGap);

  ClusterConfigEpoch nonzero_prev = g;
  nonzero_prev.prev_epoch_hash[0] = 1;
  ASSERT_TRUE(SignEpoch(&nonzero_prev, s1_, k1_).ok());
  EXPECT_EQ(ValidateNext(empty, nonzero_prev, signers_, 1).code(),
            epoch_sqlstate::kInvalidHashChain);
}

TEST_F(ValidateNextTest, NumberGapAndDowngradeAreRefused) {
  Status skip = Validate(Next(2));  // N+2
  EXPECT_EQ(skip.code(), epoch_sqlstate::kEpochNumberGap) << skip.ToString();
  EXPECT_NE(skip.message().find("EPOCH_NUMBER_GAP"), std::string::npos);

  // N-1 and N: never a downgrade or a replay, whatever else is right.
  for (uint64_t number : {uint64_t{2}, uint64_t{3}}) {
    ClusterConfigEpoch old = *chain_.Get(number);
    Status st = Validate(old);
    EXPECT_EQ(st.code(), epoch_sqlstate::kEpochNumberGap) << st.ToString();
    EXPECT_NE(st.message().find("never applied"), std::string::npos) << st.message();
  }
  ClusterConfigEpoch back = Next();
  back.number = 2;
  ASSERT_TRUE(SignEpoch(&back, s1_, k1_).ok());
  EXPECT_EQ(Validate(back).code(), epoch_sqlstate::kEpochNumberGap);
}

TEST_F(ValidateNextTest, AnyFlippedByteOfPrevBreaksTheChain) {
  for (size_t i = 0; i < 32; ++i) {
    ClusterConfigEpoch e = Next();
    e.prev_epoch_hash[i] ^= 0x01;
    ASSERT_TRUE(SignEpoch(&e, s1_, k1_).ok());  // validly signed, wrong history
    Status st = Validate(e);
    EXPECT_EQ(st.code(), epoch_sqlstate::kInvalidHashChain) << i << ": " << st.ToString();
    EXPECT_NE(st.message().find("INVALID_HASH_CHAIN"), std::string::npos);
  }
}

TEST_F(ValidateNextTest, WrongOrNilClusterIsRefused) {
  ClusterConfigEpoch e = Next();
  e.cluster_uuid = U("0190f3a0-1b2c-7d4e-8f60-000000000000");
  ASSERT_TRUE(SignEpoch(&e, s1_, k1_).ok());
  EXPECT_EQ(Validate(e).code(), epoch_sqlstate::kWrongCluster);

  e.cluster_uuid = Uuid();
  ASSERT_TRUE(SignEpoch(&e, s1_, k1_).ok());
  EXPECT_EQ(Validate(e).code(), epoch_sqlstate::kWrongCluster);
}

TEST_F(ValidateNextTest, UnsignedEpochIsRefusedEvenWithZeroMinimum) {
  ClusterConfigEpoch e = Next();
  e.signatures.clear();
  EXPECT_EQ(Validate(e, 0).code(), epoch_sqlstate::kSignatureInvalid);
  EXPECT_EQ(Validate(e, 1).code(), epoch_sqlstate::kSignatureInvalid);
}

TEST_F(ValidateNextTest, SignatureByAKeyOutsideTheRegistry) {
  ClusterConfigEpoch e = Next();
  e.signatures.clear();
  ASSERT_TRUE(SignEpoch(&e, stranger_, k_stranger_).ok());
  Status st = Validate(e);
  EXPECT_EQ(st.code(), epoch_sqlstate::kSignatureInvalid) << st.ToString();
  EXPECT_NE(st.message().find("not an authorized signer"), std::string::npos);

  // A registered uuid with an unregistered key.
  e.signatures.clear();
  ASSERT_TRUE(SignEpoch(&e, s2_, k_stranger_).ok());
  EXPECT_EQ(Validate(e).code(), epoch_sqlstate::kSignatureInvalid);
}

TEST_F(ValidateNextTest, CorruptedSignature) {
  for (size_t i : {size_t{0}, size_t{31}, size_t{32}, size_t{63}}) {
    ClusterConfigEpoch e = Next();
    e.signatures[0].signature[i] ^= 0x80;
    Status st = Validate(e);
    EXPECT_EQ(st.code(), epoch_sqlstate::kSignatureInvalid) << i << ": " << st.ToString();
    EXPECT_NE(st.message().find("does not verify"), std::string::npos);
  }
  // A valid signature, but over another epoch's hash.
  ClusterConfigEpoch e = Next();
  e.signatures[0] = chain_.Current()->signatures[0];
  EXPECT_EQ(Validate(e).code(), epoch_sqlstate::kSignatureInvalid);
}

TEST_F(ValidateNextTest, TwoOfThreePolicy) {
  ClusterConfigEpoch one = Next();
  Status st = Validate(one, 2);
  EXPECT_EQ(st.code(), epoch_sqlstate::kSignatureInvalid) << st.ToString();
  EXPECT_NE(st.message().find("2 required"), std::string::npos);

  // The same signer twice does not make two.
  ClusterConfigEpoch twice = Next();
  twice.signatures.push_back(twice.signatures[0]);
  st = Validate(twice, 2);
  EXPECT_EQ(st.code(), epoch_sqlstate::kSignatureInvalid) << st.ToString();
  EXPECT_NE(st.message().find("more than once"), std::string::npos);

  ClusterConfigEpoch two = Next();
  ASSERT_TRUE(SignEpoch(&two, s3_, k3_).ok());
  st = Validate(two, 2);
  EXPECT_TRUE(st.ok()) << st.ToString();

  // One good and one bad signature: the set fails as a whole.
  ClusterConfigEpoch mixed = Next();
  ASSERT_TRUE(SignEpoch(&mixed, s2_, k2_).ok());
  ASSERT_TRUE(SignEpoch(&mixed, s3_, k3_).ok());
  mixed.signatures[1].signature[5] ^= 1;
  EXPECT_EQ(Validate(mixed, 2).code(), epoch_sqlstate::kSignatureInvalid);
}

TEST_F(ValidateNextTest, MalformedRecords) {
  ClusterConfigEpoch dup = Next();
  dup.admin_uuids.push_back(dup.admin_uuids[0]);
  ASSERT_TRUE(SignEpoch(&dup, s1_, k1_).ok());
  EXPECT_EQ(Validate(dup).code(), epoch_sqlstate::kEpochMalformed);

  ClusterConfigEpoch bad_utf8 = Next();
  bad_utf8.description = "caf\xc3";  // truncated sequence
  ASSERT_TRUE(SignEpoch(&bad_utf8, s1_, k1_).ok());
  EXPECT_EQ(Validate(bad_utf8).code(), epoch_sqlstate::kEpochMalformed);

  ClusterConfigEpoch long_desc = Next();
  long_desc.description.assign(kMaxEpochDescriptionBytes + 1, 'x');
  ASSERT_TRUE(SignEpoch(&long_desc, s1_, k1_).ok());
  EXPECT_EQ(Validate(long_desc).code(), epoch_sqlstate::kEpochMalformed);
}

// ---------------------------------------------------------------------------
// Entry codec

TEST(EpochCodecTest, RejectsEveryTruncation) {
  ClusterConfigEpoch e = GoldenEpoch();
  ASSERT_TRUE(SignEpoch(&e, U("0190f3a0-0000-7000-8000-0000000000c1"), Key('k')).ok());
  std::string entry = EncodeEpochEntry(e);
  ASSERT_TRUE(DecodeEpochEntry(entry).ok());
  for (size_t n = 0; n < entry.size(); ++n) {
    Result<ClusterConfigEpoch> r = DecodeEpochEntry(std::string_view(entry).substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), epoch_sqlstate::kEpochMalformed) << n;
  }
  Result<ClusterConfigEpoch> trailing = DecodeEpochEntry(entry + '\0');
  ASSERT_FALSE(trailing.ok());
  EXPECT_NE(trailing.status().message().find("trailing"), std::string::npos);
}

TEST(EpochCodecTest, SizeCapIsCheckedBeforeParsing) {
  std::string entry = EncodeEpochEntry(GoldenEpoch());
  EXPECT_TRUE(DecodeEpochEntry(entry, entry.size()).ok());
  Result<ClusterConfigEpoch> r = DecodeEpochEntry(entry, entry.size() - 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), epoch_sqlstate::kEpochTooLarge);
  // Garbage over the cap is refused as too large, unread.
  EXPECT_EQ(DecodeEpochEntry(std::string(100, 'z'), 99).status().code(),
            epoch_sqlstate::kEpochTooLarge);
}

TEST(EpochCodecTest, RejectsNonCanonicalEncodings) {
  const std::string entry = EncodeEpochEntry(GoldenEpoch());
  // Canonical offsets inside the entry start after tag (6) and length (4).
  const size_t c = 10;
  const size_t admins_at = c + 298;  // first admin UUID; the second follows

  std::string swapped = entry;  // admins in descending order
  std::swap_ranges(swapped.begin() + admins_at, swapped.begin() + admins_at + 16,
                   swapped.begin() + admins_at + 16);
  EXPECT_NE(DecodeEpochEntry(swapped).status().message().find("ascending"), std::string::npos);

  std::string repeated = entry;  // the same admin twice
  std::copy_n(entry.begin() + admins_at, 16, repeated.begin() + admins_at + 16);
  EXPECT_EQ(DecodeEpochEntry(repeated).status().code(), epoch_sqlstate::kEpochMalformed);

  std::string bad_tag = entry;
  bad_tag[c + 5] = 0x02;  // canonical form version 2 is unknown
  EXPECT_EQ(DecodeEpochEntry(bad_tag).status().code(), epoch_sqlstate::kEpochMalformed);

  std::string bad_entry_tag = entry;
  bad_entry_tag[0] = 'X';
  EXPECT_EQ(DecodeEpochEntry(bad_entry_tag).status().code(), epoch_sqlstate::kEpochMalformed);

  const size_t desc_at = admins_at + 32 + 4;  // "Add node n4 — café"
  std::string overlong = entry;               // 'A' as the overlong pair C1 81
  overlong[desc_at] = static_cast<char>(0xC1);
  overlong[desc_at + 1] = static_cast<char>(0x81);
  EXPECT_NE(DecodeEpochEntry(overlong).status().message().find("UTF-8"), std::string::npos);

  std::string surrogate = entry;  // the em dash E2 80 94 becomes ED A0 80 (U+D800)
  const size_t dash_at = desc_at + 12;
  ASSERT_EQ(static_cast<uint8_t>(surrogate[dash_at]), 0xE2);
  surrogate[dash_at] = static_cast<char>(0xED);
  surrogate[dash_at + 1] = static_cast<char>(0xA0);
  surrogate[dash_at + 2] = static_cast<char>(0x80);
  EXPECT_NE(DecodeEpochEntry(surrogate).status().message().find("UTF-8"), std::string::npos);
}

TEST(EpochCodecTest, HugeCountsAreRefusedWithoutAllocating) {
  const std::string entry = EncodeEpochEntry(GoldenEpoch());
  const size_t admin_count_at = 10 + 294;
  std::string many_admins = entry;
  for (int i = 0; i < 4; ++i) many_admins[admin_count_at + i] = static_cast<char>(0xff);
  EXPECT_EQ(DecodeEpochEntry(many_admins).status().code(), epoch_sqlstate::kEpochMalformed);

  std::string long_canonical = entry;  // canonical length 0xffffffff
  for (int i = 0; i < 4; ++i) long_canonical[6 + i] = static_cast<char>(0xff);
  EXPECT_EQ(DecodeEpochEntry(long_canonical).status().code(), epoch_sqlstate::kEpochMalformed);

  std::string many_sigs = entry;  // the last 4 bytes are the signature count
  for (size_t i = entry.size() - 4; i < entry.size(); ++i) many_sigs[i] = static_cast<char>(0xff);
  EXPECT_EQ(DecodeEpochEntry(many_sigs).status().code(), epoch_sqlstate::kEpochMalformed);
  std::string some_sigs = entry;
  some_sigs[entry.size() - 1] = 3;  // 3 claimed, none present
  EXPECT_EQ(DecodeEpochEntry(some_sigs).status().code(), epoch_sqlstate::kEpochMalformed);
}

// Property: over random, truncated, spliced and bit-flipped versions of valid
// entries, Decode never crashes or reads out of bounds (run under
// -DSB_SANITIZE=ON to check the latter), and whatever it accepts re-encodes to
// exactly the same bytes (one encoding per record).
TEST(EpochCodecTest, DecoderFuzzProperty) {
  std::mt19937_64 rng(20260101);
  std::vector<std::string> seeds;
  {
    ClusterConfigEpoch e = GoldenEpoch();
    seeds.push_back(EncodeEpochEntry(e));
    ASSERT_TRUE(SignEpoch(&e, U("0190f3a0-0000-7000-8000-0000000000c1"), Key('k')).ok());
    ASSERT_TRUE(SignEpoch(&e, U("0190f3a0-0000-7000-8000-0000000000c2"), Key('l')).ok());
    seeds.push_back(EncodeEpochEntry(e));
    ClusterConfigEpoch g;
    g.number = 1;
    seeds.push_back(EncodeEpochEntry(g));
  }
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  int accepted = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    std::string in = seeds[pick(seeds.size())];
    switch (rng() % 6) {
      case 0:  // truncate
        in.resize(pick(in.size() + 1));
        break;
      case 1:  // flip 1..4 bits
        for (int k = 1 + pick(4); k > 0; --k)
          in[pick(in.size())] ^= static_cast<char>(1 << pick(8));
        break;
      case 2:  // overwrite a 4-byte window (often a length) with random bytes
        for (size_t at = pick(in.size() - 3), k = 0; k < 4; ++k)
          in[at + k] = static_cast<char>(rng());
        break;
      case 3:  // insert or delete a run
        if (rng() % 2) {
          in.insert(pick(in.size() + 1), std::string(1 + pick(20), static_cast<char>(rng())));
        } else {
          size_t at = pick(in.size());
          in.erase(at, 1 + pick(20));
        }
        break;
      case 4: {  // random bytes, sometimes behind a valid tag
        std::string junk(pick(600), '\0');
        for (char& ch : junk) ch = static_cast<char>(rng());
        in = (rng() % 2 ? std::string(kEpochEntryTag) : std::string()) + junk;
        break;
      }
      case 5:  // splice two seeds
        in = in.substr(0, pick(in.size())) + seeds[pick(seeds.size())].substr(pick(300));
        break;
    }
    Result<ClusterConfigEpoch> r = DecodeEpochEntry(in);
    if (r.ok()) {
      ++accepted;
      ASSERT_EQ(Hex(EncodeEpochEntry(*r)), Hex(in)) << "iteration " << iter;
    } else {
      const std::string& code = r.status().code();
      ASSERT_TRUE(code == epoch_sqlstate::kEpochMalformed || code == epoch_sqlstate::kEpochTooLarge)
          << code;
    }
  }
  // Some mutations (of unchecked bytes such as hashes) stay decodable.
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace sb::meta
