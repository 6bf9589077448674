#include "common/uuid.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>
#include <unordered_set>

namespace sb {
namespace {

TEST(UuidTest, GeneratedV7HasVersionAndVariantBits) {
  for (int i = 0; i < 100; ++i) {
    auto u = Uuid::GenerateV7();
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    EXPECT_EQ(u->version(), 7);
    EXPECT_TRUE(u->is_rfc9562_variant());
    std::string s = u->ToString();
    EXPECT_EQ(s[14], '7') << s;
    EXPECT_TRUE(s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b') << s;
  }
}

TEST(UuidTest, TimestampIsCurrentUnixMillis) {
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto u = Uuid::GenerateV7();
  auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  ASSERT_TRUE(u.ok());
  EXPECT_GE(u->unix_ms(), static_cast<uint64_t>(before));
  EXPECT_LE(u->unix_ms(), static_cast<uint64_t>(after));
}

TEST(UuidTest, LaterMillisecondSortsLater) {
  auto a = Uuid::GenerateV7();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto b = Uuid::GenerateV7();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto c = Uuid::GenerateV7();
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_LT(*a, *b);
  EXPECT_LT(*b, *c);
  // The canonical text sorts the same way as the bytes.
  EXPECT_LT(a->ToString(), b->ToString());
  EXPECT_LT(b->ToString(), c->ToString());
}

TEST(UuidTest, GeneratedValuesAreDistinct) {
  std::unordered_set<Uuid> seen;
  for (int i = 0; i < 1000; ++i) {
    auto u = Uuid::GenerateV7();
    ASSERT_TRUE(u.ok());
    EXPECT_TRUE(seen.insert(*u).second);
  }
}

TEST(UuidTest, FromPartsLaysOutRfc9562Fields) {
  std::array<uint8_t, 10> ones;
  ones.fill(0xFF);
  Uuid u = Uuid::V7FromParts(0x0123456789ABULL, ones);
  EXPECT_EQ(u.ToString(), "01234567-89ab-7fff-bfff-ffffffffffff");
  EXPECT_EQ(u.unix_ms(), 0x0123456789ABULL);
  std::array<uint8_t, 10> zeros{};
  EXPECT_EQ(Uuid::V7FromParts(0, zeros).ToString(), "00000000-0000-7000-8000-000000000000");
}

TEST(UuidTest, FormatParseRoundTrip) {
  for (int i = 0; i < 50; ++i) {
    auto u = Uuid::GenerateV7();
    ASSERT_TRUE(u.ok());
    auto back = Uuid::Parse(u->ToString());
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, *u);
  }
  auto upper = Uuid::Parse("0190F1E2-ABCD-7EF0-8123-456789ABCDEF");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(upper->ToString(), "0190f1e2-abcd-7ef0-8123-456789abcdef");
  auto nil = Uuid::Parse("00000000-0000-0000-0000-000000000000");
  ASSERT_TRUE(nil.ok());
  EXPECT_TRUE(nil->is_nil());
  EXPECT_TRUE(Uuid().is_nil());
}

TEST(UuidTest, RejectsMalformedText) {
  for (const char* bad : {
           "",
           "0190f1e2abcd7ef08123456789abcdef",           // no hyphens
           "0190f1e2-abcd-7ef0-8123-456789abcde",        // short
           "0190f1e2-abcd-7ef0-8123-456789abcdef0",      // long
           "0190f1e2-abcd-7ef0-8123_456789abcdef",       // wrong separator
           "0190f1e-2abcd-7ef0-8123-456789abcdef",       // hyphen misplaced
           "0190f1e2-abcd-7ef0-8123-456789abcdeg",       // not hex
           "{0190f1e2-abcd-7ef0-8123-456789abcd}",       // braces
           " 0190f1e2-abcd-7ef0-8123-456789abcde",       // leading space
           "urn:uuid:0190f1e2-abcd-7ef0-8123-456789ab",  // URN prefix
           "0190f1e2-abcd-7ef0-8123-45678-abcdef",       // extra hyphen
       }) {
    auto r = Uuid::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), sqlstate::kInvalidTextRepresentation);
    }
  }
}

TEST(UuidTest, OrdersByBytes) {
  std::set<Uuid> ordered;
  for (const char* s :
       {"00000000-0000-7000-8000-000000000002", "00000000-0000-7000-8000-000000000001",
        "ffffffff-0000-7000-8000-000000000000"})
    ordered.insert(*Uuid::Parse(s));
  std::vector<std::string> got;
  for (const auto& u : ordered) got.push_back(u.ToString());
  EXPECT_EQ(got, (std::vector<std::string>{"00000000-0000-7000-8000-000000000001",
                                           "00000000-0000-7000-8000-000000000002",
                                           "ffffffff-0000-7000-8000-000000000000"}));
}

}  // namespace
}  // namespace sb
