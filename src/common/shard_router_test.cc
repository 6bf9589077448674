#include "common/shard_router.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "common/key_encoding.h"
#include "common/value_codec.h"

namespace sb {
namespace {

std::string Bytes(std::initializer_list<unsigned> b) {
  std::string s;
  for (unsigned c : b) s.push_back(static_cast<char>(c));
  return s;
}

std::string Key(const SqlType& t, const Value& v) {
  Result<std::string> r = EncodeKeyValue(t, v, "k");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

struct Golden {
  std::string encoded;
  uint64_t hash;
  uint32_t vnode;
  uint32_t shard_number;  // 1-based: shard_NNN
};

// req-05-06-11 §2.3 (libxxhash 0.8.1; V=256; shard = vnode mod 16 + 1).
TEST(ShardRouterTest, GoldenVectors) {
  const SqlType int4 = SqlType::Of(TypeId::kInt4);
  const SqlType text = SqlType::Of(TypeId::kText);
  const SqlType uuid = SqlType::Of(TypeId::kUuid);
  EXPECT_EQ(HashShardKey(""), 0xef46db3751d8e999ULL);

  std::string int12345 = Key(int4, Value(int64_t{12345}));
  EXPECT_EQ(int12345, Bytes({0x01, 0, 0, 0, 0, 0, 0, 0x30, 0x39}));
  std::string alice = Key(text, Value(std::string("alice")));
  EXPECT_EQ(alice, Bytes({0x02, 0, 0, 0, 5, 'a', 'l', 'i', 'c', 'e'}));

  const Golden goldens[] = {
      {int12345, 0x4ca757b1d8898e0dULL, 76, 13},
      {Key(int4, Value(int64_t{67890})), 0xe804ae0038a7e15eULL, 232, 9},
      {alice, 0x1d6df6348cf4fb63ULL, 29, 14},
      {Key(uuid, *ParseTextValue(uuid, "01234567-89ab-cdef-0123-456789abcdef")),
       0x31301b19c9365944ULL, 49, 2},
      {Key(int4, Value(int64_t{42})) + Key(text, Value(std::string("x"))), 0xa014024047373a23ULL,
       160, 1},
  };
  VnodeRing ring(256);
  for (const Golden& g : goldens) {
    uint64_t h = HashShardKey(g.encoded);
    EXPECT_EQ(h, g.hash) << std::hex << h;
    EXPECT_EQ(ring.VnodeOf(h), g.vnode);
    EXPECT_EQ(InitialShardOfVnode(ring.VnodeOf(h), 16) + 1, g.shard_number);
  }
}

TEST(ShardRouterTest, IntegerWidthsRouteIdentically) {
  uint64_t h2 = HashShardKey(Key(SqlType::Of(TypeId::kInt2), Value(int64_t{5})));
  uint64_t h4 = HashShardKey(Key(SqlType::Of(TypeId::kInt4), Value(int64_t{5})));
  uint64_t h8 = HashShardKey(Key(SqlType::Of(TypeId::kInt8), Value(int64_t{5})));
  EXPECT_EQ(h2, h4);
  EXPECT_EQ(h4, h8);
}

TEST(ShardRouterTest, RingBoundaries) {
  VnodeRing ring(256);
  EXPECT_EQ(ring.vnode_count(), 256u);
  EXPECT_EQ(ring.VnodeOf(0), 0u);
  EXPECT_EQ(ring.VnodeOf(0x0100000000000000ULL), 1u);
  EXPECT_EQ(ring.VnodeOf(0xFFFFFFFFFFFFFF00ULL), 255u);
  EXPECT_EQ(ring.VnodeOf(UINT64_MAX), 255u);
  const uint64_t width = UINT64_MAX / 256;
  EXPECT_EQ(width, 0x00FFFFFFFFFFFFFFULL);
  EXPECT_EQ(ring.RangeStart(0), 0u);
  EXPECT_EQ(ring.RangeStart(1), width);
  EXPECT_EQ(ring.RangeStart(255), 255 * width);
  // Range starts are inclusive, ends exclusive.
  for (uint32_t i = 1; i < 256; ++i) {
    ASSERT_EQ(ring.VnodeOf(ring.RangeStart(i)), i);
    ASSERT_EQ(ring.VnodeOf(ring.RangeStart(i) - 1), i - 1);
  }
}

TEST(ShardRouterTest, OtherRingSizes) {
  for (uint32_t v : {1u, 512u, 1024u}) {
    VnodeRing ring(v);
    EXPECT_EQ(ring.vnode_count(), v);
    EXPECT_EQ(ring.VnodeOf(0), 0u);
    EXPECT_EQ(ring.VnodeOf(UINT64_MAX), v - 1);
    EXPECT_EQ(ring.RangeStart(v - 1), uint64_t{v - 1} * (UINT64_MAX / v));
  }
}

TEST(ShardRouterTest, InitialMapIsVnodeModShards) {
  EXPECT_EQ(InitialShardOfVnode(0, 16), 0u);
  EXPECT_EQ(InitialShardOfVnode(17, 16), 1u);
  EXPECT_EQ(InitialShardOfVnode(255, 16), 15u);
  EXPECT_EQ(InitialShardOfVnode(10, 3), 1u);
  // 256 vnodes over 16 shards: 16 each.
  int counts[16] = {};
  for (uint32_t i = 0; i < 256; ++i) ++counts[InitialShardOfVnode(i, 16)];
  for (int c : counts) EXPECT_EQ(c, 16);
}

// R05-22: 16 shards, 256 vnodes, 1M random UUIDs -> each shard 62,500 +-10%.
TEST(ShardRouterTest, UniformityOverOneMillionUuids) {
  std::mt19937_64 rng(20260105);
  const SqlType uuid = SqlType::Of(TypeId::kUuid);
  VnodeRing ring(256);
  int counts[16] = {};
  const int kKeys = 1000000;
  for (int n = 0; n < kKeys; ++n) {
    uint64_t hi = rng(), lo = rng();
    hi = (hi & ~0xF000ULL) | 0x4000ULL;                         // version 4
    lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant
    char text[40];
    std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                  static_cast<unsigned>(lo >> 48),
                  static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
    Result<std::string> key = EncodeKeyValue(uuid, Value(std::string(text)), "id");
    ASSERT_TRUE(key.ok());
    ++counts[InitialShardOfVnode(ring.VnodeOf(HashShardKey(*key)), 16)];
  }
  int total = 0;
  for (int s = 0; s < 16; ++s) {
    total += counts[s];
    EXPECT_GE(counts[s], 56250) << "shard " << s;
    EXPECT_LE(counts[s], 68750) << "shard " << s;
  }
  EXPECT_EQ(total, kKeys);
}

}  // namespace
}  // namespace sb
