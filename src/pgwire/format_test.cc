#include "pgwire/format.h"

#include <gtest/gtest.h>

#include "pgwire/session.h"

namespace sb::pgwire {
namespace {

std::string Bin(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

std::string ToText(uint32_t type, const std::string& bin) {
  std::string text;
  Status st = BinaryToText(type, bin, 1, &text);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return text;
}

std::string ToBinary(uint32_t type, const std::string& text) {
  std::string out;
  Status st = TextToBinary(type, text, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

TEST(BinaryToText, IntegersAreBigEndianSigned) {
  EXPECT_EQ(ToText(oid::kInt2, Bin({0xFF, 0xFE})), "-2");
  EXPECT_EQ(ToText(oid::kInt4, Bin({0, 0, 1, 0})), "256");
  EXPECT_EQ(ToText(oid::kInt8, Bin({0x80, 0, 0, 0, 0, 0, 0, 0})), "-9223372036854775808");
}

TEST(BinaryToText, FloatsUseShortestExactFormAndSpecials) {
  EXPECT_EQ(ToText(oid::kFloat8, Bin({0x3F, 0xF8, 0, 0, 0, 0, 0, 0})), "1.5");
  EXPECT_EQ(ToText(oid::kFloat4, Bin({0x3D, 0xCC, 0xCC, 0xCD})), "0.1");
  EXPECT_EQ(ToText(oid::kFloat8, Bin({0x7F, 0xF0, 0, 0, 0, 0, 0, 0})), "Infinity");
  EXPECT_EQ(ToText(oid::kFloat8, Bin({0xFF, 0xF0, 0, 0, 0, 0, 0, 0})), "-Infinity");
  EXPECT_EQ(ToText(oid::kFloat4, Bin({0x7F, 0xC0, 0, 0})), "NaN");
}

TEST(BinaryToText, BoolByteaUuidText) {
  EXPECT_EQ(ToText(oid::kBool, Bin({1})), "t");
  EXPECT_EQ(ToText(oid::kBool, Bin({0})), "f");
  EXPECT_EQ(ToText(oid::kBytea, Bin({0x00, 0xAB, 0x10})), "\\x00ab10");
  EXPECT_EQ(ToText(oid::kBytea, ""), "\\x");
  EXPECT_EQ(ToText(oid::kUuid, Bin({0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23,
                                    0x45, 0x67, 0x89, 0xab, 0xcd, 0xef})),
            "12345678-9abc-def0-0123-456789abcdef");
  EXPECT_EQ(ToText(oid::kText, "héllo"), "héllo");
  EXPECT_EQ(ToText(oid::kVarchar, "v"), "v");
}

TEST(BinaryToText, WrongLengthIs22P03NamingParameter) {
  std::string text;
  Status st = BinaryToText(oid::kInt4, Bin({1, 2}), 3, &text);
  EXPECT_EQ(st.code(), "22P03");
  EXPECT_NE(st.message().find("bind parameter 3"), std::string::npos);
  EXPECT_NE(st.message().find("expected 4 bytes, got 2"), std::string::npos);
  EXPECT_EQ(BinaryToText(oid::kUuid, Bin({1}), 1, &text).code(), "22P03");
  EXPECT_EQ(BinaryToText(oid::kText, std::string("a\0b", 3), 1, &text).code(), "22P03");
}

TEST(BinaryToText, UnsupportedTypeIs0A000NamingType) {
  std::string text;
  Status st = BinaryToText(1083 /* time */, Bin({0, 0, 0, 0, 0, 0, 0, 0}), 1, &text);
  EXPECT_EQ(st.code(), "0A000");
  EXPECT_NE(st.message().find("OID 1083"), std::string::npos);
}

TEST(BinaryToText, DatesAndTimestampsCountFrom2000) {
  EXPECT_EQ(ToText(oid::kDate, Bin({0, 0, 0, 1})), "2000-01-02");
  EXPECT_EQ(ToText(oid::kDate, Bin({0xFF, 0xFF, 0xFF, 0xFF})), "1999-12-31");
  EXPECT_EQ(ToText(oid::kDate, Bin({0x7F, 0xFF, 0xFF, 0xFF})), "infinity");
  // 1 second and 1.5 seconds after the epoch.
  EXPECT_EQ(ToText(oid::kTimestamp, Bin({0, 0, 0, 0, 0, 0x0F, 0x42, 0x40})), "2000-01-01 00:00:01");
  EXPECT_EQ(ToText(oid::kTimestamptz, Bin({0, 0, 0, 0, 0, 0x16, 0xE3, 0x60})),
            "2000-01-01 00:00:01.5+00");
  EXPECT_EQ(ToText(oid::kTimestamp, Bin({0x80, 0, 0, 0, 0, 0, 0, 0})), "-infinity");
  std::string text;
  EXPECT_EQ(BinaryToText(oid::kDate, Bin({0x10, 0, 0, 0}), 2, &text).code(), "22008");
}

TEST(BinaryToText, NumericDigitsWeightAndScale) {
  // 1.5: ndigits 2, weight 0, sign +, dscale 1, digits 1 5000.
  EXPECT_EQ(ToText(oid::kNumeric, Bin({0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88})), "1.5");
  // -0.00001: ndigits 1, weight -2, sign -, dscale 5, digits 1000.
  EXPECT_EQ(ToText(oid::kNumeric, Bin({0, 1, 0xFF, 0xFE, 0x40, 0, 0, 5, 0x03, 0xE8})), "-0.00001");
  // 1000000: ndigits 1, weight 1, digits 100.
  EXPECT_EQ(ToText(oid::kNumeric, Bin({0, 1, 0, 1, 0, 0, 0, 0, 0, 100})), "1000000");
  EXPECT_EQ(ToText(oid::kNumeric, Bin({0, 0, 0, 0, 0, 0, 0, 2})), "0.00");
  EXPECT_EQ(ToText(oid::kNumeric, Bin({0, 0, 0, 0, 0xC0, 0, 0, 0})), "NaN");
  std::string text;
  EXPECT_EQ(BinaryToText(oid::kNumeric, Bin({0, 2, 0, 0, 0, 0, 0, 0, 0, 1}), 1, &text).code(),
            "22P03");
  EXPECT_EQ(BinaryToText(oid::kNumeric, Bin({0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10}), 1, &text).code(),
            "22P03");  // digit 10000
}

TEST(TextToBinary, IntegersAndRangeChecks) {
  EXPECT_EQ(ToBinary(oid::kInt2, "-2"), Bin({0xFF, 0xFE}));
  EXPECT_EQ(ToBinary(oid::kInt4, "256"), Bin({0, 0, 1, 0}));
  EXPECT_EQ(ToBinary(oid::kInt8, "1"), Bin({0, 0, 0, 0, 0, 0, 0, 1}));
  std::string out;
  EXPECT_EQ(TextToBinary(oid::kInt2, "40000", &out).code(), "22P02");
  EXPECT_EQ(TextToBinary(oid::kInt4, "12x", &out).code(), "22P02");
  EXPECT_EQ(TextToBinary(oid::kInt8, "", &out).code(), "22P02");
}

TEST(TextToBinary, FloatsBoolsAndSpecials) {
  EXPECT_EQ(ToBinary(oid::kFloat8, "1.5"), Bin({0x3F, 0xF8, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(ToBinary(oid::kFloat8, "-Infinity"), Bin({0xFF, 0xF0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(ToBinary(oid::kFloat4, "0.1"), Bin({0x3D, 0xCC, 0xCC, 0xCD}));
  EXPECT_EQ(ToBinary(oid::kFloat4, "NaN").size(), 4u);
  EXPECT_EQ(ToBinary(oid::kBool, "t"), Bin({1}));
  EXPECT_EQ(ToBinary(oid::kBool, "false"), Bin({0}));
  std::string out;
  EXPECT_EQ(TextToBinary(oid::kBool, "maybe", &out).code(), "22P02");
}

TEST(TextToBinary, ByteaHexAndEscapeForms) {
  EXPECT_EQ(ToBinary(oid::kBytea, "\\x00ab10"), Bin({0x00, 0xAB, 0x10}));
  EXPECT_EQ(ToBinary(oid::kBytea, "a\\\\b\\001"), Bin({'a', '\\', 'b', 1}));
  std::string out;
  EXPECT_EQ(TextToBinary(oid::kBytea, "\\x0", &out).code(), "22P02");
}

TEST(TextToBinary, UuidRoundTrip) {
  std::string uuid = "12345678-9abc-def0-0123-456789abcdef";
  std::string bin = ToBinary(oid::kUuid, uuid);
  ASSERT_EQ(bin.size(), 16u);
  EXPECT_EQ(ToText(oid::kUuid, bin), uuid);
  std::string out;
  EXPECT_EQ(TextToBinary(oid::kUuid, "1234", &out).code(), "22P02");
}

TEST(TextToBinary, FailureLeavesOutputUntouchedForScalars) {
  std::string out = "keep";
  EXPECT_FALSE(TextToBinary(oid::kInt4, "nope", &out).ok());
  EXPECT_EQ(out, "keep");
}

TEST(TextToBinary, NumericRoundTripsThroughBinary) {
  for (const char* v : {"1.5", "-0.00001", "1000000", "0.00", "123456789.123456789", "NaN",
                        "Infinity", "-Infinity", "0.0001", "99990000"}) {
    EXPECT_EQ(ToText(oid::kNumeric, ToBinary(oid::kNumeric, v)), v);
  }
  EXPECT_EQ(ToBinary(oid::kNumeric, "1.5"), Bin({0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88}));
  EXPECT_EQ(ToText(oid::kNumeric, ToBinary(oid::kNumeric, "007.50")), "7.50");
  std::string out;
  EXPECT_EQ(TextToBinary(oid::kNumeric, "1.2.3", &out).code(), "22P02");
  EXPECT_EQ(TextToBinary(oid::kNumeric, "-", &out).code(), "22P02");
}

TEST(TextToBinary, DatesAndTimestamps) {
  EXPECT_EQ(ToBinary(oid::kDate, "2000-01-02"), Bin({0, 0, 0, 1}));
  EXPECT_EQ(ToBinary(oid::kDate, "infinity"), Bin({0x7F, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(ToBinary(oid::kTimestamp, "2000-01-01 00:00:01"),
            Bin({0, 0, 0, 0, 0, 0x0F, 0x42, 0x40}));
  // The zone offset is applied for timestamptz: 01:00:01+01 is 00:00:01 UTC.
  EXPECT_EQ(ToBinary(oid::kTimestamptz, "2000-01-01 01:00:01+01"),
            Bin({0, 0, 0, 0, 0, 0x0F, 0x42, 0x40}));
  std::string out;
  EXPECT_EQ(TextToBinary(oid::kDate, "not a date", &out).code(), "22P02");
}

TEST(IntervalBinary, RoundTripsAsPostgresIntervalSend) {
  std::string out;
  ASSERT_TRUE(TextToBinary(oid::kInterval, "1 mon 2 days 03:04:05.5", &out).ok());
  // int64 micros (3:04:05.5 = 11045500000), int32 days, int32 months.
  EXPECT_EQ(out, Bin({0, 0, 0, 2, 0x92, 0x5C, 0xF4, 0x60, 0, 0, 0, 2, 0, 0, 0, 1}));
  std::string text;
  ASSERT_TRUE(BinaryToText(oid::kInterval, out, 1, &text).ok());
  EXPECT_EQ(text, "1 mon 2 days 03:04:05.5");
  ASSERT_TRUE(BinaryToText(oid::kInterval,
                           Bin({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0xFF,
                                0xFF, 0xFF, 0xFF}),
                           1, &text)
                  .ok());
  EXPECT_EQ(text, "-1 mons -00:00:00.000001");
  EXPECT_EQ(BinaryToText(oid::kInterval, Bin({0, 0, 0}), 2, &text).code(), "22P03");
  EXPECT_FALSE(TextToBinary(oid::kInterval, "fortnight", &out).ok());
  EXPECT_TRUE(SupportsBinary(oid::kInterval));
}

TEST(TextToBinary, UnsupportedTypesAre0A000) {
  std::string out;
  Status st = TextToBinary(1083 /* time */, "10:00", &out);
  EXPECT_EQ(st.code(), "0A000");
  EXPECT_NE(st.message().find("OID 1083"), std::string::npos);
  EXPECT_FALSE(SupportsBinary(1083));
  EXPECT_TRUE(SupportsBinary(oid::kNumeric));
  EXPECT_TRUE(SupportsBinary(oid::kInt8));
  EXPECT_TRUE(SupportsBinary(oid::kUuid));
}

}  // namespace
}  // namespace sb::pgwire
