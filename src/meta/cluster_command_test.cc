#include "meta/cluster_command.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "meta/test_util.h"

namespace sb::meta {
namespace {

using testing::U;

MemberInfo Info(std::string_view uuid, uint64_t raft_id, uint8_t key_byte) {
  MemberInfo m;
  m.node_uuid = U(uuid);
  m.raft_id = raft_id;
  m.rpc_address = "127.0.0.1:" + std::to_string(7946 + raft_id);
  m.sql_address = "127.0.0.1:" + std::to_string(4049 + raft_id);
  m.http_address = "";
  m.signing_key.fill(key_byte);
  return m;
}

// Placeholder epoch bytes: the entry codec carries them without decoding.
const std::string kEpoch = "epoch-entry-bytes";

std::vector<ClusterEntry> Samples() {
  InitCluster init;
  init.cluster_uuid = U("0190f3a0-1b2c-7d4e-8f60-718293a4b5c6");
  init.shard_count = 16;
  init.members = {Info("0190f3a0-0000-7000-8000-0000000000c1", 1, 0x11),
                  Info("0190f3a0-0000-7000-8000-0000000000c2", 2, 0x22)};
  CatalogDdl ddl{"CREATE TABLE t (id int PRIMARY KEY, name text) -- café", "{\"tables\":[]}", 7};
  PublishEpoch publish;
  publish.policies.ca_policy.fill(0xCA);
  publish.policies.capability_matrix.fill(0x77);
  publish.min_node_version = 102003;
  return {
      {init, kEpoch},
      {AddLearner{Info("0190f3a0-0000-7000-8000-0000000000c3", 3, 0x33)}, kEpoch},
      {PromoteVoter{U("0190f3a0-0000-7000-8000-0000000000c3")}, kEpoch},
      {RemoveMember{U("0190f3a0-0000-7000-8000-0000000000c3")}, kEpoch},
      {SetNodeState{U("0190f3a0-0000-7000-8000-0000000000c2"), MemberState::kLeaving}, kEpoch},
      {ddl, ""},
      {publish, kEpoch},
  };
}

TEST(ClusterCommandTest, EveryCommandRoundTrips) {
  for (const ClusterEntry& e : Samples()) {
    const std::string bytes = EncodeClusterEntry(e);
    Result<ClusterEntry> back = DecodeClusterEntry(bytes);
    ASSERT_TRUE(back.ok()) << CommandTypeName(TypeOf(e.command)) << ": "
                           << back.status().ToString();
    EXPECT_EQ(*back, e);
    EXPECT_EQ(EncodeClusterEntry(*back), bytes);
    EXPECT_EQ(static_cast<uint8_t>(bytes[6]), static_cast<uint8_t>(TypeOf(e.command)));
  }
}

// The layout of docs/cluster-state.md, byte for byte, for one small command.
TEST(ClusterCommandTest, LayoutOfPromoteVoter) {
  const std::string bytes =
      EncodeClusterEntry({PromoteVoter{U("0190f3a0-0000-7000-8000-0000000000c3")}, "EP"});
  const std::string expected = std::string("SBCMD\x01", 6) + std::string("\x03", 1) +
                               std::string("\x00\x00\x00\x10", 4) +
                               std::string(
                                   "\x01\x90\xf3\xa0\x00\x00\x70\x00\x80\x00\x00\x00\x00"
                                   "\x00\x00\xc3",
                                   16) +
                               std::string("\x00\x00\x00\x02", 4) + "EP";
  EXPECT_EQ(bytes, expected);
}

TEST(ClusterCommandTest, InitMembersAreEncodedSortedAndMustDecodeSorted) {
  InitCluster init = std::get<InitCluster>(Samples()[0].command);
  InitCluster reversed = init;
  std::swap(reversed.members[0], reversed.members[1]);
  EXPECT_EQ(EncodeClusterEntry({reversed, kEpoch}), EncodeClusterEntry({init, kEpoch}));

  // Hand-build a body with the members out of order, and one with a repeat.
  for (bool repeat : {false, true}) {
    std::string body;
    wire::PutUuid(&body, init.cluster_uuid);
    wire::PutU32(&body, 16);
    wire::PutU32(&body, 256);
    wire::PutU32(&body, 2);
    wire::PutMemberInfo(&body, init.members[1]);
    wire::PutMemberInfo(&body, init.members[repeat ? 1 : 0]);
    std::string entry(kClusterEntryTag);
    wire::PutU8(&entry, 1);
    wire::PutString(&entry, body);
    wire::PutString(&entry, kEpoch);
    Result<ClusterEntry> r = DecodeClusterEntry(entry);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), cluster_sqlstate::kEntryMalformed);
  }
}

TEST(ClusterCommandTest, EveryTruncationAndTrailingByteIsRefused) {
  for (const ClusterEntry& e : Samples()) {
    const std::string bytes = EncodeClusterEntry(e);
    for (size_t n = 0; n < bytes.size(); ++n) {
      Result<ClusterEntry> r = DecodeClusterEntry(std::string_view(bytes).substr(0, n));
      ASSERT_FALSE(r.ok()) << CommandTypeName(TypeOf(e.command)) << " cut at " << n;
      EXPECT_EQ(r.status().code(), cluster_sqlstate::kEntryMalformed);
    }
    EXPECT_FALSE(DecodeClusterEntry(bytes + '\0').ok());
  }
}

TEST(ClusterCommandTest, RefusesBadTagTypeEnumsAndEpochPresence) {
  std::string bytes = EncodeClusterEntry(Samples()[2]);
  for (size_t i = 0; i < 6; ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x01;
    EXPECT_FALSE(DecodeClusterEntry(bad).ok()) << "tag byte " << i;
  }
  for (uint8_t type : {0, 8, 255}) {
    std::string bad = bytes;
    bad[6] = static_cast<char>(type);
    EXPECT_FALSE(DecodeClusterEntry(bad).ok()) << "type " << int{type};
  }
  // SetNodeState with state 4 (past REMOVED).
  std::string set = EncodeClusterEntry(Samples()[4]);
  set[6 + 1 + 4 + 16] = 4;
  EXPECT_FALSE(DecodeClusterEntry(set).ok());
  // A configuration command without its epoch, and a DDL with one.
  EXPECT_FALSE(DecodeClusterEntry(EncodeClusterEntry({Samples()[2].command, ""})).ok());
  EXPECT_FALSE(DecodeClusterEntry(EncodeClusterEntry({Samples()[5].command, kEpoch})).ok());
  // A DDL statement that is not UTF-8.
  CatalogDdl ddl = std::get<CatalogDdl>(Samples()[5].command);
  ddl.statement = "CREATE TABLE \xC0\xAF";
  EXPECT_FALSE(DecodeClusterEntry(EncodeClusterEntry({ddl, ""})).ok());
  // An address length past its limit.
  AddLearner add = std::get<AddLearner>(Samples()[1].command);
  add.member.http_address = std::string(kMaxAddressBytes + 1, 'a');
  EXPECT_FALSE(DecodeClusterEntry(EncodeClusterEntry({add, kEpoch})).ok());
}

TEST(ClusterCommandTest, Utf8) {
  EXPECT_TRUE(IsStrictUtf8("plain ascii"));
  EXPECT_TRUE(IsStrictUtf8("caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsStrictUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsStrictUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsStrictUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsStrictUtf8("\xE2\x80"));          // truncated
  EXPECT_FALSE(IsStrictUtf8("\x80"));              // stray continuation
}

// Random, truncated, bit-flipped and spliced inputs: the decoder never
// crashes, and whatever it accepts re-encodes to the same bytes.
TEST(ClusterCommandTest, FuzzDecoderNeverCrashesAndIsCanonical) {
  std::vector<std::string> corpus;
  for (const ClusterEntry& e : Samples()) corpus.push_back(EncodeClusterEntry(e));
  std::mt19937_64 rng(20260105);
  size_t accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    const std::string& base = corpus[rng() % corpus.size()];
    std::string input;
    switch (rng() % 4) {
      case 0:  // random bytes
        input.resize(rng() % 96);
        for (char& c : input) c = static_cast<char>(rng());
        if (rng() % 2) input.replace(0, std::min<size_t>(6, input.size()), kClusterEntryTag);
        break;
      case 1:  // truncation
        input = base.substr(0, rng() % (base.size() + 1));
        break;
      case 2:  // bit flips
        input = base;
        for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
          input[rng() % input.size()] ^= static_cast<char>(1u << (rng() % 8));
        }
        break;
      default: {  // splice two entries
        const std::string& other = corpus[rng() % corpus.size()];
        input = base.substr(0, rng() % base.size()) + other.substr(rng() % other.size());
        break;
      }
    }
    Result<ClusterEntry> r = DecodeClusterEntry(input);
    if (r.ok()) {
      ++accepted;
      ASSERT_EQ(EncodeClusterEntry(*r), input) << "iteration " << iter;
    } else {
      ASSERT_EQ(r.status().code(), cluster_sqlstate::kEntryMalformed) << "iteration " << iter;
    }
  }
  EXPECT_GT(accepted, 0u);  // flips inside fields still decode; the loop saw both sides
}

}  // namespace
}  // namespace sb::meta
