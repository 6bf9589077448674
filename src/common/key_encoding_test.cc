#include "common/key_encoding.h"

#include <gtest/gtest.h>

#include "common/value_codec.h"

namespace sb {
namespace {

SqlType T(TypeId id) {
  return SqlType::Of(id);
}

std::string Hex(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string EncHex(const SqlType& t, const Value& v) {
  Result<std::string> r = EncodeKeyValue(t, v, "k");
  if (!r.ok()) return "ERR " + r.status().code();
  return Hex(*r);
}

// Encoding of PostgreSQL text input for the type.
std::string EncText(const SqlType& t, std::string_view text) {
  Result<Value> v = ParseTextValue(t, text);
  if (!v.ok()) return "PARSE " + v.status().ToString();
  return EncHex(t, *v);
}

TEST(KeyEncodingTest, GoldenByteLayouts) {
  EXPECT_EQ(EncHex(T(TypeId::kInt4), Value(int64_t{12345})), "010000000000003039");
  EXPECT_EQ(EncHex(T(TypeId::kText), Value(std::string("alice"))), "0200000005616c696365");
  EXPECT_EQ(EncText(T(TypeId::kUuid), "01234567-89ab-cdef-0123-456789abcdef"),
            "030123456789abcdef0123456789abcdef");
}

TEST(KeyEncodingTest, IntegerWidthsEncodeIdentically) {
  std::string a = EncHex(T(TypeId::kInt2), Value(int64_t{5}));
  EXPECT_EQ(a, "010000000000000005");
  EXPECT_EQ(EncHex(T(TypeId::kInt4), Value(int64_t{5})), a);
  EXPECT_EQ(EncHex(T(TypeId::kInt8), Value(int64_t{5})), a);
  EXPECT_EQ(EncHex(T(TypeId::kInt8), Value(int64_t{-1})), "01ffffffffffffffff");
}

TEST(KeyEncodingTest, TextAndVarcharEncodeIdentically) {
  EXPECT_EQ(EncHex(SqlType::Varchar(10), Value(std::string("alice"))),
            EncHex(T(TypeId::kText), Value(std::string("alice"))));
  EXPECT_EQ(EncHex(T(TypeId::kText), Value(std::string(""))), "0200000000");
}

TEST(KeyEncodingTest, UuidSpellingsEncodeIdentically) {
  std::string want = EncText(T(TypeId::kUuid), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(want, "03a0eebc999c0b4ef8bb6d6bb9bd380a11");
  EXPECT_EQ(EncText(T(TypeId::kUuid), "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}"), want);
  EXPECT_EQ(EncText(T(TypeId::kUuid), "a0eebc999c0b4ef8bb6d6bb9bd380a11"), want);
}

TEST(KeyEncodingTest, BoolDateTimestampBytea) {
  EXPECT_EQ(EncHex(T(TypeId::kBool), Value(int64_t{1})), "0401");
  EXPECT_EQ(EncHex(T(TypeId::kBool), Value(int64_t{0})), "0400");
  EXPECT_EQ(EncText(T(TypeId::kDate), "1970-01-02"), "0500000001");
  EXPECT_EQ(EncText(T(TypeId::kDate), "1969-12-31"), "05ffffffff");
  EXPECT_EQ(EncText(T(TypeId::kDate), "2026-01-05"), "0500004fea");  // 20458 days
  EXPECT_EQ(EncText(T(TypeId::kTimestamp), "1970-01-01 00:00:01"), "0600000000000f4240");
  // timestamptz encodes the UTC instant: the same instant in two zones is one key.
  EXPECT_EQ(EncText(T(TypeId::kTimestamptz), "1970-01-01 02:00:01+02"), "0600000000000f4240");
  EXPECT_EQ(EncText(T(TypeId::kTimestamp), "1969-12-31 23:59:59.999999"), "06ffffffffffffffff");
  EXPECT_EQ(EncHex(T(TypeId::kBytea), Value(Blob{"AB"})), "07000000024142");
}

TEST(KeyEncodingTest, NumericNormalisesScaleAndSign) {
  // numeric(10,2) 10.50 stored as 1050 -> "10.5".
  EXPECT_EQ(EncHex(SqlType::Numeric(10, 2), Value(int64_t{1050})), "080000000431302e35");
}

TEST(KeyEncodingTest, NumericSameValueAnyScaleSameKey) {
  std::string five = EncHex(SqlType::Numeric(-1, 0), Value(std::string("5")));
  EXPECT_EQ(five, "080000000135");
  EXPECT_EQ(EncHex(SqlType::Numeric(10, 2), Value(int64_t{500})), five);
  EXPECT_EQ(EncHex(SqlType::Numeric(-1, 0), Value(std::string("5.000"))), five);
  EXPECT_EQ(EncHex(SqlType::Numeric(18, 4), Value(int64_t{50000})), five);
  std::string zero = EncHex(SqlType::Numeric(-1, 0), Value(std::string("0")));
  EXPECT_EQ(zero, "080000000130");
  EXPECT_EQ(EncHex(SqlType::Numeric(-1, 0), Value(std::string("-0.00"))), zero);
  EXPECT_EQ(EncHex(SqlType::Numeric(5, 2), Value(int64_t{-5})),
            Hex(std::string("\x08\x00\x00\x00\x05-0.05", 10)));
  EXPECT_EQ(NormalizedNumericText("120.00"), "120");
  EXPECT_EQ(NormalizedNumericText("120"), "120");
  EXPECT_EQ(NormalizedNumericText("-0"), "0");
  EXPECT_EQ(NormalizedNumericText("-0.0"), "0");
  EXPECT_EQ(NormalizedNumericText("0.50"), "0.5");
}

TEST(KeyEncodingTest, NullKeyIs23502) {
  Result<std::string> r = EncodeKeyValue(T(TypeId::kInt4), Value(), "id");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "23502");
  EXPECT_EQ(r.status().message(), "shard key column \"id\" must not be null");
}

TEST(KeyEncodingTest, FloatKeyIs0A000) {
  EXPECT_EQ(EncodeKeyValue(T(TypeId::kFloat8), Value(1.5), "f").status().code(), "0A000");
  EXPECT_EQ(EncodeKeyValue(T(TypeId::kFloat4), Value(1.5), "f").status().code(), "0A000");
}

TEST(KeyEncodingTest, StoredFormMismatchIsInternalError) {
  EXPECT_EQ(EncodeKeyValue(T(TypeId::kInt4), Value(std::string("5")), "k").status().code(),
            "XX000");
}

}  // namespace
}  // namespace sb
