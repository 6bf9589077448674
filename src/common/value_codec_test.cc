#include "common/value_codec.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sb {
namespace {

SqlType T(TypeId id) {
  return SqlType::Of(id);
}

// Parses and returns the PostgreSQL text output of the stored value.
std::string RoundTrip(const SqlType& t, std::string_view text) {
  Result<Value> v = ParseTextValue(t, text);
  if (!v.ok()) return "ERR " + v.status().code() + " " + v.status().message();
  return FormatTextValue(t, *v);
}

Status ParseError(const SqlType& t, std::string_view text) {
  Result<Value> v = ParseTextValue(t, text);
  if (v.ok()) return Status();
  return v.status();
}

TEST(ValueCodecTest, IntegersParseWithWhitespaceAndSigns) {
  EXPECT_EQ(*ParseTextValue(T(TypeId::kInt2), "  -32768 "), Value(int64_t{-32768}));
  EXPECT_EQ(*ParseTextValue(T(TypeId::kInt8), "+7"), Value(int64_t{7}));
  EXPECT_EQ(*ParseTextValue(T(TypeId::kInt8), "9223372036854775807"),
            Value(int64_t{9223372036854775807}));
  EXPECT_EQ(*ParseTextValue(T(TypeId::kInt8), "-9223372036854775808"),
            Value(std::numeric_limits<int64_t>::min()));
}

TEST(ValueCodecTest, IntegerErrorsMatchPostgres) {
  Status s = ParseError(T(TypeId::kInt4), "abc");
  EXPECT_EQ(s.code(), "22P02");
  EXPECT_EQ(s.message(), "invalid input syntax for type integer: \"abc\"");
  s = ParseError(T(TypeId::kInt4), "");
  EXPECT_EQ(s.message(), "invalid input syntax for type integer: \"\"");
  s = ParseError(T(TypeId::kInt2), "99999");
  EXPECT_EQ(s.code(), "22003");
  EXPECT_EQ(s.message(), "value \"99999\" is out of range for type smallint");
  s = ParseError(T(TypeId::kInt8), "9223372036854775808");
  EXPECT_EQ(s.code(), "22003");
  EXPECT_EQ(ParseError(T(TypeId::kInt4), "2147483648").code(), "22003");
  EXPECT_EQ(ParseError(T(TypeId::kInt4), "1.5").code(), "22P02");
  EXPECT_EQ(ParseError(T(TypeId::kInt4), "- 1").code(), "22P02");
}

TEST(ValueCodecTest, FloatsParseLikePostgres) {
  EXPECT_EQ(*ParseTextValue(T(TypeId::kFloat8), " 1.5e3 "), Value(1500.0));
  // SQLite would store NaN as NULL, so the input is refused rather than changed.
  EXPECT_EQ(ParseTextValue(T(TypeId::kFloat8), "NaN").status().code(), "0A000");
  EXPECT_EQ(ParseTextValue(T(TypeId::kFloat4), "nan").status().code(), "0A000");
  EXPECT_EQ(*ParseTextValue(T(TypeId::kFloat8), "Infinity"),
            Value(std::numeric_limits<double>::infinity()));
  EXPECT_EQ(*ParseTextValue(T(TypeId::kFloat8), "-Infinity"),
            Value(-std::numeric_limits<double>::infinity()));
  EXPECT_EQ(*ParseTextValue(T(TypeId::kFloat4), "0.1"), Value(static_cast<double>(0.1f)));
  Status s = ParseError(T(TypeId::kFloat8), "1e400");
  EXPECT_EQ(s.code(), "22003");
  EXPECT_EQ(s.message(), "\"1e400\" is out of range for type double precision");
  EXPECT_EQ(ParseError(T(TypeId::kFloat8), "1e-400").code(), "22003");
  s = ParseError(T(TypeId::kFloat4), "1e50");
  EXPECT_EQ(s.message(), "\"1e50\" is out of range for type real");
  s = ParseError(T(TypeId::kFloat8), "x1");
  EXPECT_EQ(s.code(), "22P02");
  EXPECT_EQ(s.message(), "invalid input syntax for type double precision: \"x1\"");
}

TEST(ValueCodecTest, Float8OutputMatchesPostgres15) {
  // Verified with PostgreSQL 15.
  EXPECT_EQ(FormatFloat8(1e15), "1e+15");
  EXPECT_EQ(FormatFloat8(123456789012345.0), "123456789012345");
  EXPECT_EQ(FormatFloat8(0.0001), "0.0001");
  EXPECT_EQ(FormatFloat8(0.00001), "1e-05");
  EXPECT_EQ(FormatFloat8(1e16), "1e+16");
  EXPECT_EQ(FormatFloat8(123456789012345680.0), "1.2345678901234568e+17");
  EXPECT_EQ(FormatFloat8(1.5e-7), "1.5e-07");
  EXPECT_EQ(FormatFloat8(0.1), "0.1");
  EXPECT_EQ(FormatFloat8(1e20), "1e+20");
  EXPECT_EQ(FormatFloat8(-1.5e300), "-1.5e+300");
  EXPECT_EQ(FormatFloat8(5e-324), "5e-324");
  EXPECT_EQ(FormatFloat8(1500), "1500");
  EXPECT_EQ(FormatFloat8(-0.000001), "-1e-06");
  EXPECT_EQ(FormatFloat8(-0.0), "-0");
  EXPECT_EQ(FormatFloat8(static_cast<double>(1.1f)), "1.100000023841858");
  EXPECT_EQ(FormatFloat8(std::nan("")), "NaN");
  EXPECT_EQ(FormatFloat8(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(FormatFloat8(std::numeric_limits<double>::infinity()), "Infinity");
}

TEST(ValueCodecTest, Float8OutputAvoidsBoundaryDigitsLikePostgres) {
  // The 16-digit form lies exactly halfway to the neighbouring double; PostgreSQL's
  // Ryu does not accept interval bounds and prints 17 digits (verified on PG 15).
  EXPECT_EQ(FormatFloat8(-33494840016690473.0), "-3.3494840016690472e+16");
  EXPECT_EQ(FormatFloat8(-77960682586956614.0), "-7.796068258695661e+16");
  EXPECT_EQ(FormatFloat8(-20921915760242247.0), "-2.0921915760242248e+16");
  EXPECT_EQ(FormatFloat8(-62063845827621564.0), "-6.206384582762157e+16");
}

TEST(ValueCodecTest, Float4OutputMatchesPostgres15) {
  EXPECT_EQ(FormatFloat4(1e6f), "1e+06");
  EXPECT_EQ(FormatFloat4(0.1f), "0.1");
  EXPECT_EQ(FormatFloat4(1e15f), "1e+15");
  EXPECT_EQ(FormatFloat4(1.5e-7f), "1.5e-07");
  EXPECT_EQ(FormatFloat4(16777216.0f), "1.6777216e+07");
  EXPECT_EQ(FormatFloat4(3.14159f), "3.14159");
  EXPECT_EQ(FormatFloat4(123456.7f), "123456.7");
  EXPECT_EQ(FormatFloat4(1234567.0f), "1.234567e+06");
  EXPECT_EQ(FormatFloat4(0.000123f), "0.000123");
  EXPECT_EQ(RoundTrip(T(TypeId::kFloat4), "3.4028235e38"), "3.4028235e+38");
  EXPECT_EQ(RoundTrip(T(TypeId::kFloat4), "1e-5"), "1e-05");
}

TEST(ValueCodecTest, ScaledNumericParseRoundsHalfAwayFromZero) {
  SqlType n62 = SqlType::Numeric(6, 2);
  EXPECT_EQ(*ParseTextValue(n62, " 12.345 "), Value(int64_t{1235}));
  EXPECT_EQ(*ParseTextValue(n62, "-12.345"), Value(int64_t{-1235}));
  EXPECT_EQ(RoundTrip(SqlType::Numeric(3, 2), "0.005"), "0.01");
  EXPECT_EQ(RoundTrip(SqlType::Numeric(3, 2), "-0.005"), "-0.01");
  EXPECT_EQ(RoundTrip(SqlType::Numeric(10, 2), "1.5e3"), "1500.00");
  EXPECT_EQ(FormatTextValue(SqlType::Numeric(10, 2), Value(int64_t{1050})), "10.50");
  EXPECT_EQ(FormatTextValue(SqlType::Numeric(10, 2), Value(int64_t{-5})), "-0.05");
  EXPECT_EQ(FormatTextValue(SqlType::Numeric(10, 0), Value(int64_t{-5})), "-5");
  EXPECT_EQ(RoundTrip(SqlType::Numeric(1, 1), "0.5"), "0.5");
}

TEST(ValueCodecTest, NumericOverflowHasPostgresDetail) {
  Status s = ParseError(SqlType::Numeric(5, 2), "12345.678");
  EXPECT_EQ(s.code(), "22003");
  EXPECT_EQ(s.message(), "numeric field overflow");
  EXPECT_EQ(s.detail(),
            "A field with precision 5, scale 2 must round to an absolute value less than 10^3.");
  s = ParseError(SqlType::Numeric(2, 2), "1");
  EXPECT_EQ(s.detail(),
            "A field with precision 2, scale 2 must round to an absolute value less than 1.");
  // 999.995 rounds to 1000.00: overflow after rounding.
  EXPECT_EQ(ParseError(SqlType::Numeric(5, 2), "999.995").code(), "22003");
  EXPECT_TRUE(ParseTextValue(SqlType::Numeric(5, 2), "999.994").ok());
  s = ParseError(SqlType::Numeric(5, 2), "x");
  EXPECT_EQ(s.code(), "22P02");
  EXPECT_EQ(s.message(), "invalid input syntax for type numeric: \"x\"");
}

TEST(ValueCodecTest, UnconstrainedAndWideNumericAreText) {
  SqlType n = SqlType::Numeric(-1, 0);
  EXPECT_EQ(*ParseTextValue(n, "1.50"), Value(std::string("1.50")));
  EXPECT_EQ(*ParseTextValue(n, "1.5e3"), Value(std::string("1500")));
  EXPECT_EQ(*ParseTextValue(n, "-0.00"), Value(std::string("0.00")));
  EXPECT_EQ(FormatTextValue(n, Value(std::string("1.50"))), "1.50");
  EXPECT_EQ(RoundTrip(SqlType::Numeric(25, 3), "12345678901234567890.5"),
            "12345678901234567890.500");
}

TEST(ValueCodecTest, TextAndVarchar) {
  EXPECT_EQ(*ParseTextValue(T(TypeId::kText), " a b "), Value(std::string(" a b ")));
  EXPECT_EQ(*ParseTextValue(SqlType::Varchar(3), "abc"), Value(std::string("abc")));
  Status s = ParseError(SqlType::Varchar(3), "abcd");
  EXPECT_EQ(s.code(), "22001");
  EXPECT_EQ(s.message(), "value too long for type character varying(3)");
  // Excess spaces are truncated silently, like PostgreSQL.
  EXPECT_EQ(*ParseTextValue(SqlType::Varchar(2), "ab  "), Value(std::string("ab")));
  // Length counts characters, not bytes.
  EXPECT_EQ(*ParseTextValue(SqlType::Varchar(2), "\xc3\xa9\xc3\xa9"),
            Value(std::string("\xc3\xa9\xc3\xa9")));
  EXPECT_EQ(ParseError(SqlType::Varchar(2), "\xc3\xa9\xc3\xa9x").code(), "22001");
}

TEST(ValueCodecTest, BoolAcceptsPostgresSpellings) {
  for (const char* t : {"t", "true", "TRUE", "yes", "Y", "on", "1", " t ", "tr"}) {
    EXPECT_EQ(*ParseTextValue(T(TypeId::kBool), t), Value(int64_t{1})) << t;
  }
  for (const char* f : {"f", "false", "no", "N", "off", "of", "0", "FALSE"}) {
    EXPECT_EQ(*ParseTextValue(T(TypeId::kBool), f), Value(int64_t{0})) << f;
  }
  Status s = ParseError(T(TypeId::kBool), "o");
  EXPECT_EQ(s.code(), "22P02");
  EXPECT_EQ(s.message(), "invalid input syntax for type boolean: \"o\"");
  EXPECT_EQ(ParseError(T(TypeId::kBool), "2").code(), "22P02");
  EXPECT_EQ(ParseError(T(TypeId::kBool), "truex").code(), "22P02");
  EXPECT_EQ(FormatTextValue(T(TypeId::kBool), Value(int64_t{1})), "t");
  EXPECT_EQ(FormatTextValue(T(TypeId::kBool), Value(int64_t{0})), "f");
}

TEST(ValueCodecTest, Dates) {
  EXPECT_EQ(*ParseTextValue(T(TypeId::kDate), "2026-1-5"), Value(std::string("2026-01-05")));
  EXPECT_EQ(*ParseTextValue(T(TypeId::kDate), " 2024-02-29 "), Value(std::string("2024-02-29")));
  Status s = ParseError(T(TypeId::kDate), "2026-02-30");
  EXPECT_EQ(s.code(), "22008");
  EXPECT_EQ(s.message(), "date/time field value out of range: \"2026-02-30\"");
  s = ParseError(T(TypeId::kDate), "x");
  EXPECT_EQ(s.code(), "22007");
  EXPECT_EQ(s.message(), "invalid input syntax for type date: \"x\"");
  EXPECT_EQ(ParseError(T(TypeId::kDate), "0000-01-01").code(), "22008");
  EXPECT_EQ(FormatTextValue(T(TypeId::kDate), Value(std::string("2026-01-05"))), "2026-01-05");
}

TEST(ValueCodecTest, Timestamps) {
  SqlType ts = T(TypeId::kTimestamp), tz = T(TypeId::kTimestamptz);
  EXPECT_EQ(*ParseTextValue(ts, "2026-01-05T10:00"),
            Value(std::string("2026-01-05 10:00:00.000000")));
  EXPECT_EQ(*ParseTextValue(ts, "2026-01-05"), Value(std::string("2026-01-05 00:00:00.000000")));
  EXPECT_EQ(RoundTrip(ts, "2026-01-05 10:00:00.1234567"), "2026-01-05 10:00:00.123457");
  EXPECT_EQ(RoundTrip(ts, "2026-01-05 10:00:00.5"), "2026-01-05 10:00:00.5");
  EXPECT_EQ(RoundTrip(ts, "2026-01-05 10:00:00"), "2026-01-05 10:00:00");
  // A zone on a timestamp without time zone is ignored (PostgreSQL).
  EXPECT_EQ(RoundTrip(ts, "2026-01-05 10:00:00+02"), "2026-01-05 10:00:00");
  EXPECT_EQ(RoundTrip(tz, "2026-01-05 10:00:00+02"), "2026-01-05 08:00:00+00");
  EXPECT_EQ(RoundTrip(tz, "2026-01-05 23:30-05:30"), "2026-01-06 05:00:00+00");
  EXPECT_EQ(RoundTrip(tz, "2026-01-05 01:00:00+0230"), "2026-01-04 22:30:00+00");
  EXPECT_EQ(RoundTrip(tz, "2026-01-05"), "2026-01-05 00:00:00+00");
  EXPECT_EQ(RoundTrip(tz, "2026-01-05T10:00:00Z"), "2026-01-05 10:00:00+00");
  EXPECT_EQ(RoundTrip(tz, "2026-01-05 10:00:00 UTC"), "2026-01-05 10:00:00+00");
  EXPECT_EQ(*ParseTextValue(tz, "2026-01-05 10:00:00.25-01"),
            Value(std::string("2026-01-05 11:00:00.250000")));
  Status s = ParseError(ts, "x");
  EXPECT_EQ(s.code(), "22007");
  EXPECT_EQ(s.message(), "invalid input syntax for type timestamp: \"x\"");
  s = ParseError(tz, "x");
  EXPECT_EQ(s.message(), "invalid input syntax for type timestamp with time zone: \"x\"");
  s = ParseError(ts, "2026-01-05 25:00");
  EXPECT_EQ(s.code(), "22008");
  EXPECT_EQ(s.message(), "date/time field value out of range: \"2026-01-05 25:00\"");
  s = ParseError(tz, "2026-01-05 10:00+16");
  EXPECT_EQ(s.code(), "22009");
  EXPECT_EQ(s.message(), "time zone displacement out of range: \"2026-01-05 10:00+16\"");
}

TEST(ValueCodecTest, DatetimeInputVariantsPostgresAccepts) {
  SqlType d = T(TypeId::kDate), ts = T(TypeId::kTimestamp);
  // All verified on PostgreSQL 15 (TimeZone UTC).
  EXPECT_EQ(RoundTrip(d, "2026/1/5"), "2026-01-05");
  EXPECT_EQ(RoundTrip(d, "20260105"), "2026-01-05");
  EXPECT_EQ(RoundTrip(d, "2026-01-05 23:00-05"), "2026-01-05");
  EXPECT_EQ(RoundTrip(d, "2026-01-05 24:00"), "2026-01-05");
  EXPECT_EQ(RoundTrip(d, "epoch"), "1970-01-01");
  EXPECT_EQ(ParseError(d, "2026-01-05 24:00:01").code(), "22008");
  EXPECT_EQ(ParseError(d, "2026-1/5").code(), "22007");
  EXPECT_EQ(RoundTrip(ts, "2026-01-05 24:00"), "2026-01-06 00:00:00");
  EXPECT_EQ(RoundTrip(ts, "2026-01-05 10:59:60.5"), "2026-01-05 11:00:00.5");
  EXPECT_EQ(RoundTrip(ts, "2026-01-05 10:59:59.9999999"), "2026-01-05 11:00:00");
  EXPECT_EQ(RoundTrip(ts, "2026-01-05 10:00:00.1234565"), "2026-01-05 10:00:00.123456");
  EXPECT_EQ(RoundTrip(ts, "2026-01-05 1:2:3"), "2026-01-05 01:02:03");
  EXPECT_EQ(RoundTrip(ts, "20260105 10:00"), "2026-01-05 10:00:00");
  EXPECT_EQ(RoundTrip(T(TypeId::kTimestamptz), "2026-01-05 10:00:00+02:3"),
            "2026-01-05 07:57:00+00");
  EXPECT_EQ(RoundTrip(T(TypeId::kTimestamptz), "2026-01-05+02"), "2026-01-04 22:00:00+00");
  EXPECT_EQ(RoundTrip(T(TypeId::kTimestamptz), "2026-01-05Z"), "2026-01-05 00:00:00+00");
  EXPECT_EQ(ParseError(T(TypeId::kTimestamptz), "2026-01-05-02").code(), "22007");
  EXPECT_EQ(ParseError(ts, "2026-01-05 24:00:00.5").code(), "22008");
  EXPECT_EQ(ParseError(ts, "2026-01-05 23:59:60.9999999").code(), "22008");
  EXPECT_EQ(ParseError(ts, "2026-01-05 10:60").code(), "22008");
}

TEST(ValueCodecTest, TimestampTextOrderIsTimeOrder) {
  std::string a =
      std::get<std::string>(*ParseTextValue(T(TypeId::kTimestamp), "2026-01-05 10:00:00.5"));
  std::string b =
      std::get<std::string>(*ParseTextValue(T(TypeId::kTimestamp), "2026-01-05 10:00:00.25"));
  std::string c = std::get<std::string>(*ParseTextValue(T(TypeId::kTimestamp), "2026-01-05 9:00"));
  EXPECT_LT(b, a);
  EXPECT_LT(c, b);
}

TEST(ValueCodecTest, Uuids) {
  const Value want(std::string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
  SqlType u = T(TypeId::kUuid);
  EXPECT_EQ(*ParseTextValue(u, "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}"), want);
  EXPECT_EQ(*ParseTextValue(u, "a0eebc999c0b4ef8bb6d6bb9bd380a11"), want);
  EXPECT_EQ(*ParseTextValue(u, "a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11"), want);
  Status s = ParseError(u, "zz");
  EXPECT_EQ(s.code(), "22P02");
  EXPECT_EQ(s.message(), "invalid input syntax for type uuid: \"zz\"");
  EXPECT_EQ(ParseError(u, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1").code(), "22P02");
  EXPECT_EQ(ParseError(u, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11x").code(), "22P02");
  EXPECT_EQ(ParseError(u, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").code(), "22P02");
  EXPECT_EQ(FormatTextValue(u, want), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
}

TEST(ValueCodecTest, Bytea) {
  SqlType b = T(TypeId::kBytea);
  EXPECT_EQ(*ParseTextValue(b, "\\x4142"), Value(Blob{"AB"}));
  EXPECT_EQ(*ParseTextValue(b, "\\x 41 42"), Value(Blob{"AB"}));
  EXPECT_EQ(*ParseTextValue(b, "abc"), Value(Blob{"abc"}));
  EXPECT_EQ(RoundTrip(b, "ab\\000c\\\\"), "\\x616200635c");
  Status s = ParseError(b, "\\xz1");
  EXPECT_EQ(s.code(), "22023");
  EXPECT_EQ(s.message(), "invalid hexadecimal digit: \"z\"");
  s = ParseError(b, "\\x1");
  EXPECT_EQ(s.message(), "invalid hexadecimal data: odd number of digits");
  EXPECT_EQ(ParseError(b, "\\X4142").code(), "22P02");  // only lowercase \x is hex
  s = ParseError(b, "a\\b");
  EXPECT_EQ(s.code(), "22P02");
  EXPECT_EQ(s.message(), "invalid input syntax for type bytea");
  EXPECT_EQ(FormatTextValue(b, Value(Blob{std::string("\x00\xff", 2)})), "\\x00ff");
}

Result<Value> Cast(const Value& v, const SqlType& from, const SqlType& to) {
  return CastValue(v, from, to);
}

TEST(CastValueTest, IntegerCastsCheckRange) {
  EXPECT_EQ(*Cast(Value(int64_t{5}), T(TypeId::kInt8), T(TypeId::kInt2)), Value(int64_t{5}));
  Result<Value> r = Cast(Value(int64_t{70000}), T(TypeId::kInt4), T(TypeId::kInt2));
  EXPECT_EQ(r.status().code(), "22003");
  EXPECT_EQ(r.status().message(), "smallint out of range");
  r = Cast(Value(int64_t{1} << 40), T(TypeId::kInt8), T(TypeId::kInt4));
  EXPECT_EQ(r.status().message(), "integer out of range");
  EXPECT_TRUE(IsNull(*Cast(Value(), T(TypeId::kInt8), T(TypeId::kInt2))));
}

TEST(CastValueTest, NumericCasts) {
  // int -> numeric(5,2): 1 -> 1.00.
  EXPECT_EQ(*Cast(Value(int64_t{1}), T(TypeId::kInt4), SqlType::Numeric(5, 2)),
            Value(int64_t{100}));
  EXPECT_EQ(Cast(Value(int64_t{1000}), T(TypeId::kInt4), SqlType::Numeric(5, 2)).status().code(),
            "22003");
  // numeric -> int rounds half away from zero: 10.5 -> 11, -2.5 -> -3.
  EXPECT_EQ(*Cast(Value(int64_t{105}), SqlType::Numeric(5, 1), T(TypeId::kInt4)),
            Value(int64_t{11}));
  EXPECT_EQ(*Cast(Value(std::string("-2.5")), SqlType::Numeric(-1, 0), T(TypeId::kInt4)),
            Value(int64_t{-3}));
  EXPECT_EQ(Cast(Value(std::string("1e10")), SqlType::Numeric(-1, 0), T(TypeId::kInt4))
                .status()
                .message(),
            "integer out of range");
  // numeric rescale: 1.005 (4,3) -> (3,2) = 1.01.
  EXPECT_EQ(*Cast(Value(int64_t{1005}), SqlType::Numeric(4, 3), SqlType::Numeric(3, 2)),
            Value(int64_t{101}));
  EXPECT_EQ(*Cast(Value(int64_t{1005}), SqlType::Numeric(4, 3), SqlType::Numeric(-1, 0)),
            Value(std::string("1.005")));
  EXPECT_EQ(*Cast(Value(std::string("12.5")), SqlType::Numeric(-1, 0), SqlType::Numeric(6, 3)),
            Value(int64_t{12500}));
}

TEST(CastValueTest, FloatCasts) {
  // float -> int rounds half to even (rint): 2.5 -> 2, 3.5 -> 4, -1.5 -> -2.
  EXPECT_EQ(*Cast(Value(2.5), T(TypeId::kFloat8), T(TypeId::kInt4)), Value(int64_t{2}));
  EXPECT_EQ(*Cast(Value(3.5), T(TypeId::kFloat8), T(TypeId::kInt4)), Value(int64_t{4}));
  EXPECT_EQ(*Cast(Value(-1.5), T(TypeId::kFloat8), T(TypeId::kInt8)), Value(int64_t{-2}));
  EXPECT_EQ(Cast(Value(1e20), T(TypeId::kFloat8), T(TypeId::kInt8)).status().message(),
            "bigint out of range");
  EXPECT_EQ(Cast(Value(std::nan("")), T(TypeId::kFloat8), T(TypeId::kInt4)).status().code(),
            "22003");
  EXPECT_EQ(*Cast(Value(1e18), T(TypeId::kFloat8), T(TypeId::kInt8)),
            Value(int64_t{1000000000000000000}));
  // float -> numeric goes through 15 (float8) / 6 (float4) significant digits.
  EXPECT_EQ(*Cast(Value(0.1), T(TypeId::kFloat8), SqlType::Numeric(-1, 0)),
            Value(std::string("0.1")));
  EXPECT_EQ(*Cast(Value(1e15), T(TypeId::kFloat8), SqlType::Numeric(-1, 0)),
            Value(std::string("1000000000000000")));
  EXPECT_EQ(
      *Cast(Value(static_cast<double>(1.234567f)), T(TypeId::kFloat4), SqlType::Numeric(-1, 0)),
      Value(std::string("1.23457")));
  EXPECT_EQ(*Cast(Value(1.1), T(TypeId::kFloat8), SqlType::Numeric(5, 2)), Value(int64_t{110}));
  // Non-finite floats: PostgreSQL 15 rejects infinity for numeric(p,s) with 22003;
  // NaN and unconstrained infinity have no stored form here (0A000).
  Result<Value> inf = Cast(Value(std::numeric_limits<double>::infinity()), T(TypeId::kFloat8),
                           SqlType::Numeric(5, 2));
  EXPECT_EQ(inf.status().code(), "22003");
  EXPECT_EQ(inf.status().detail(),
            "A field with precision 5, scale 2 cannot hold an infinite value.");
  EXPECT_EQ(Cast(Value(std::nan("")), T(TypeId::kFloat8), SqlType::Numeric(-1, 0)).status().code(),
            "0A000");
  // numeric / int -> float.
  EXPECT_EQ(*Cast(Value(int64_t{150}), SqlType::Numeric(5, 2), T(TypeId::kFloat8)), Value(1.5));
  EXPECT_EQ(*Cast(Value(int64_t{3}), T(TypeId::kInt4), T(TypeId::kFloat4)), Value(3.0));
  // float4 <-> float8.
  Value f4 = *ParseTextValue(T(TypeId::kFloat4), "1.1");
  Value f8 = *Cast(f4, T(TypeId::kFloat4), T(TypeId::kFloat8));
  EXPECT_EQ(FormatTextValue(T(TypeId::kFloat8), f8), "1.100000023841858");
  EXPECT_EQ(Cast(Value(1e300), T(TypeId::kFloat8), T(TypeId::kFloat4)).status().message(),
            "value out of range: overflow");
  EXPECT_EQ(Cast(Value(1e-300), T(TypeId::kFloat8), T(TypeId::kFloat4)).status().message(),
            "value out of range: underflow");
}

TEST(CastValueTest, ToAndFromText) {
  EXPECT_EQ(*Cast(Value(int64_t{1}), T(TypeId::kBool), T(TypeId::kText)),
            Value(std::string("true")));
  EXPECT_EQ(*Cast(Value(int64_t{-5}), SqlType::Numeric(10, 2), T(TypeId::kText)),
            Value(std::string("-0.05")));
  EXPECT_EQ(*Cast(Value(std::string("abc")), T(TypeId::kText), SqlType::Varchar(2)),
            Value(std::string("ab")));  // explicit cast truncates
  EXPECT_EQ(*Cast(Value(Blob{"ab"}), T(TypeId::kBytea), T(TypeId::kText)),
            Value(std::string("\\x6162")));
  EXPECT_EQ(*Cast(Value(std::string("abc")), T(TypeId::kText), T(TypeId::kBytea)),
            Value(Blob{"abc"}));
  EXPECT_EQ(*Cast(Value(std::string("42")), T(TypeId::kUnknown), T(TypeId::kInt4)),
            Value(int64_t{42}));
  EXPECT_EQ(Cast(Value(std::string("4x")), T(TypeId::kText), T(TypeId::kInt4)).status().code(),
            "22P02");
  EXPECT_EQ(*Cast(Value(std::string("2026-01-05 10:00:00.000000")), T(TypeId::kTimestamptz),
                  T(TypeId::kText)),
            Value(std::string("2026-01-05 10:00:00+00")));
}

TEST(CastValueTest, DatetimeAndBoolCasts) {
  EXPECT_EQ(*Cast(Value(std::string("2026-01-05")), T(TypeId::kDate), T(TypeId::kTimestamptz)),
            Value(std::string("2026-01-05 00:00:00.000000")));
  EXPECT_EQ(*Cast(Value(std::string("2026-01-05 10:00:00.500000")), T(TypeId::kTimestamp),
                  T(TypeId::kDate)),
            Value(std::string("2026-01-05")));
  EXPECT_EQ(*Cast(Value(std::string("0001-01-01 10:00:00.000000")), T(TypeId::kTimestamp),
                  T(TypeId::kDate)),
            Value(std::string("0001-01-01")));
  EXPECT_EQ(*Cast(Value(std::string("2026-01-05 10:00:00.000000")), T(TypeId::kTimestamp),
                  T(TypeId::kTimestamptz)),
            Value(std::string("2026-01-05 10:00:00.000000")));
  EXPECT_EQ(*Cast(Value(int64_t{5}), T(TypeId::kInt4), T(TypeId::kBool)), Value(int64_t{1}));
  EXPECT_EQ(*Cast(Value(int64_t{1}), T(TypeId::kBool), T(TypeId::kInt4)), Value(int64_t{1}));
  Result<Value> r = Cast(Value(int64_t{1}), T(TypeId::kInt8), T(TypeId::kBool));
  EXPECT_EQ(r.status().code(), "42846");
  EXPECT_EQ(r.status().message(), "cannot cast type bigint to boolean");
  r = Cast(Value(int64_t{1}), T(TypeId::kInt4), T(TypeId::kUuid));
  EXPECT_EQ(r.status().message(), "cannot cast type integer to uuid");
  EXPECT_EQ(
      Cast(Value(std::string("2026-01-05")), T(TypeId::kDate), T(TypeId::kInt4)).status().code(),
      "42846");
}

}  // namespace
}  // namespace sb
