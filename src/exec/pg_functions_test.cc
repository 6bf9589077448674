#include "exec/pg_functions.h"

#include <gtest/gtest.h>

#include <vector>

#include "exec/sql_functions.h"
#include "exec/test_sqlite.h"

namespace sb::exec {
namespace {

bool Like(std::string_view text, std::string_view pattern) {
  auto r = LikeMatch(text, pattern);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() && *r;
}

TEST(PgFunctionsTest, LikeMatchesAsPostgres) {
  EXPECT_TRUE(Like("abc", "a%"));
  EXPECT_FALSE(Like("abc", "A%"));  // case-sensitive
  EXPECT_TRUE(Like("abc", "_b_"));
  EXPECT_TRUE(Like("héllo", "h_llo"));  // '_' is one character, not one byte
  EXPECT_FALSE(Like("héllo", "h__llo"));
  EXPECT_TRUE(Like("a%c", "a\\%c"));
  EXPECT_FALSE(Like("abc", "a\\%c"));
  EXPECT_TRUE(Like("", "%"));
  EXPECT_TRUE(Like("", "%%"));
  EXPECT_FALSE(Like("", "_"));
  EXPECT_TRUE(Like("aXbXc", "%b%c"));
  EXPECT_TRUE(Like("mississippi", "%iss%ppi"));
  EXPECT_FALSE(Like("mississippi", "%iss%ppx"));
  EXPECT_TRUE(Like("abc", "%_%_%_"));
  EXPECT_FALSE(Like("ab", "%_%_%_"));
}

// Reference LIKE semantics by dynamic programming over characters.
bool ReferenceLike(const std::vector<std::string>& t, const std::vector<std::string>& p) {
  // Tokens: literal characters, "%" or "_" (escapes already resolved).
  std::vector<std::vector<bool>> m(p.size() + 1, std::vector<bool>(t.size() + 1, false));
  m[0][0] = true;
  for (size_t i = 1; i <= p.size(); ++i) {
    for (size_t j = 0; j <= t.size(); ++j) {
      if (p[i - 1] == "%") {
        m[i][j] = m[i - 1][j] || (j > 0 && m[i][j - 1]);
      } else if (j > 0) {
        m[i][j] = m[i - 1][j - 1] && (p[i - 1] == "_" || p[i - 1] == "=" + t[j - 1]);
      }
    }
  }
  return m[p.size()][t.size()];
}

TEST(PgFunctionsTest, LikeAgreesWithAReferenceMatcher) {
  const char* const kAlphabet[] = {"a", "b", "\xc3\xa9", "%", "_", "\\"};
  uint64_t seed = 12345;
  auto next = [&] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<unsigned>(seed >> 33);
  };
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text, pattern;
    std::vector<std::string> tchars, ptokens;
    for (unsigned i = 0, n = next() % 7; i < n; ++i) {
      std::string c = kAlphabet[next() % 3];
      text += c;
      tchars.push_back(c);
    }
    for (unsigned i = 0, n = next() % 7; i < n; ++i) {
      std::string c = kAlphabet[next() % 6];
      if (c == "\\") {
        std::string lit = kAlphabet[next() % 6];
        pattern += "\\" + lit;
        ptokens.push_back("=" + lit);
      } else {
        pattern += c;
        ptokens.push_back(c == "%" || c == "_" ? c : "=" + c);
      }
    }
    auto r = LikeMatch(text, pattern);
    ASSERT_TRUE(r.ok()) << text << " LIKE " << pattern;
    ASSERT_EQ(*r, ReferenceLike(tchars, ptokens)) << text << " LIKE " << pattern;
  }
}

TEST(PgFunctionsTest, TrailingEscapeFailsOnlyWhenTheMatchReachesIt) {
  auto r = LikeMatch("abc", "a\\");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "22025");
  EXPECT_EQ(r.status().message(), "LIKE pattern must not end with escape character");
  // 'x' fails first, so PostgreSQL never looks at the escape.
  r = LikeMatch("abc", "x\\");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_FALSE(LikeMatch("abc", "%\\").ok());
}

TEST(PgFunctionsTest, LikeEscapeRewritesToBackslashForm) {
  EXPECT_EQ(*LikeEscape("a#_c", "#"), "a\\_c");
  EXPECT_EQ(*LikeEscape("a\\c", "#"), "a\\\\c");  // a backslash becomes literal
  EXPECT_EQ(*LikeEscape("a##c", "#"), "a\\#c");
  EXPECT_EQ(*LikeEscape("a\\c", ""), "a\\\\c");  // no escape at all
  EXPECT_EQ(*LikeEscape("a\\%", "\\"), "a\\%");
  auto r = LikeEscape("x", "ab");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "22025");
  EXPECT_EQ(r.status().message(), "invalid escape string");
  EXPECT_TRUE(LikeEscape("x", "é").ok());  // one character, two bytes
}

TEST(PgFunctionsTest, SubstrFollowsPostgresForStartsBelowOne) {
  EXPECT_EQ(*PgSubstr("hello", -1, true, 3, false), "h");
  EXPECT_EQ(*PgSubstr("hello", 0, false, 0, false), "hello");
  EXPECT_EQ(*PgSubstr("hello", 2, false, 0, false), "ello");
  EXPECT_EQ(*PgSubstr("hello", 10, false, 0, false), "");
  EXPECT_EQ(*PgSubstr("hello", -5, true, 3, false), "");
  EXPECT_EQ(*PgSubstr("héllo", 2, true, 2, false), "él");
  EXPECT_EQ(*PgSubstr("héllo", 2, true, 2, true), "é");  // bytes
  EXPECT_EQ(*PgSubstr("hello", 2, true, 2147483647, false), "ello");
  auto r = PgSubstr("hello", 1, true, -1, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "22011");
}

TEST(PgFunctionsTest, DateUnitsDecodeLikePostgres) {
  EXPECT_EQ(DecodeDateUnit("year"), DateUnit::kYear);
  EXPECT_EQ(DecodeDateUnit("yrs"), DateUnit::kYear);
  EXPECT_EQ(DecodeDateUnit("microseconds"), DateUnit::kMicroseconds);  // first 10 bytes
  EXPECT_EQ(DecodeDateUnit("timezone_hour"), DateUnit::kTimezoneHour);
  EXPECT_EQ(DecodeDateUnit("epoch"), DateUnit::kEpoch);
  EXPECT_EQ(DecodeDateUnit("foo"), DateUnit::kUnknown);
}

TEST(PgFunctionsTest, ExtractScalesAndValues) {
  EXPECT_EQ(ExtractScale("second", DateKind::kTimestamp), 6);
  EXPECT_EQ(ExtractScale("milliseconds", DateKind::kTimestamp), 3);
  EXPECT_EQ(ExtractScale("epoch", DateKind::kDate), 0);
  EXPECT_EQ(ExtractScale("hour", DateKind::kDate), -1);
  EXPECT_EQ(ExtractScale("julian", DateKind::kTimestamp), -2);
  EXPECT_EQ(*ExtractNumeric("Year", "2024-02-29", DateKind::kDate), 2024);
  EXPECT_EQ(*ExtractNumeric("week", "2024-12-30", DateKind::kDate), 1);
  EXPECT_EQ(*ExtractNumeric("isoyear", "2024-12-30", DateKind::kDate), 2025);
  EXPECT_EQ(*ExtractNumeric("week", "2021-01-03", DateKind::kDate), 53);
  EXPECT_EQ(*ExtractNumeric("isoyear", "2021-01-03", DateKind::kDate), 2020);
  EXPECT_EQ(*ExtractNumeric("julian", "2024-02-29", DateKind::kDate), 2460370);
  EXPECT_EQ(*ExtractNumeric("second", "2024-02-29 13:14:15.500000", DateKind::kTimestamp),
            15500000);
  EXPECT_EQ(*ExtractNumeric("epoch", "1969-12-31 23:59:59.500000", DateKind::kTimestamp), -500000);
  auto r = ExtractNumeric("hour", "2024-01-01", DateKind::kDate);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "0A000");
  EXPECT_EQ(r.status().message(), "unit \"hour\" not supported for type date");
  r = ExtractNumeric("foo", "2024-01-01 00:00:00", DateKind::kTimestamp);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "22023");
  EXPECT_EQ(r.status().message(),
            "unit \"foo\" not recognized for type timestamp without time zone");
}

TEST(PgFunctionsTest, DatePartAndTrunc) {
  EXPECT_EQ(*DatePartFloat("julian", "2024-01-01 12:00:00", DateKind::kTimestamp), 2460311.5);
  EXPECT_EQ(*DatePartFloat("hour", "2024-02-29", DateKind::kDate), 0.0);
  EXPECT_EQ(*DateTrunc("week", "2024-02-29 13:14:15.5", DateKind::kTimestamp),
            "2024-02-26 00:00:00.000000");
  EXPECT_EQ(*DateTrunc("millennium", "2000-05-05 00:00:00", DateKind::kTimestamp),
            "1001-01-01 00:00:00.000000");
  EXPECT_EQ(*DateTrunc("milliseconds", "2024-05-05 01:02:03.456789", DateKind::kTimestamp),
            "2024-05-05 01:02:03.456000");
  auto r = DateTrunc("decade", "0005-05-05 00:00:00", DateKind::kTimestamp);  // year 0
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "22008");
  r = DateTrunc("dow", "2024-05-05 00:00:00", DateKind::kTimestamp);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "22023");  // date_trunc knows only interval units
  r = DateTrunc("timezone", "2024-05-05 00:00:00", DateKind::kTimestamp);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "0A000");
}

// The SQL functions through SQLite, as shards and the coordinator run them.
using PgSqlFunctionsTest = testing::SqliteFunctionsTest;

TEST_F(PgSqlFunctionsTest, TextFunctions) {
  EXPECT_EQ(Eval("sb_split_part('abc', '', 2)"), "");  // empty, not NULL
  EXPECT_EQ(Eval("sb_split_part('a,b,c', ',', -1)"), "c");
  EXPECT_EQ(Eval("sb_split_part('a,b', ',', 0)"), "ERROR 22023");
  EXPECT_EQ(Eval("sb_lpad('hi', 5, 'xy')"), "xyxhi");
  EXPECT_EQ(Eval("sb_rpad('héllo', 2, ' ')"), "hé");
  EXPECT_EQ(Eval("sb_left('hello', -2)"), "hel");
  EXPECT_EQ(Eval("sb_right('hello', -2)"), "llo");
  EXPECT_EQ(Eval("sb_repeat('ab', 3)"), "ababab");
  EXPECT_EQ(Eval("sb_repeat('x', 2000000000)"), "ERROR 54000");
  EXPECT_EQ(Eval("sb_reverse('héllo')"), "olléh");
  EXPECT_EQ(Eval("sb_initcap('hELLO wORLD-foo 3am')"), "Hello World-Foo 3am");
  EXPECT_EQ(Eval("sb_md5('abc')"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Eval("sb_concat('a', NULL, 'b')"), "ab");
  EXPECT_EQ(Eval("sb_concat_ws(NULL, 'a')"), "NULL");
  EXPECT_EQ(Eval("sb_concat_ws(',', 'a', NULL, 'b')"), "a,b");
  EXPECT_EQ(Eval("sb_like('abc', 'a\\', 0)"), "ERROR 22025");
  EXPECT_EQ(Eval("sb_like('ABC', 'a%', 1)"), "1");
  EXPECT_EQ(Eval("hex(sb_bytea_concat(X'ab', X'cd'))"), "ABCD");
}

TEST_F(PgSqlFunctionsTest, MathFunctions) {
  EXPECT_EQ(Eval("sb_sqrt(-1.0)"), "ERROR 2201F");
  EXPECT_EQ(Eval("sb_ln(0.0)"), "ERROR 2201E");
  EXPECT_EQ(Eval("sb_log10(-1.0)"), "ERROR 2201E");
  EXPECT_EQ(Eval("sb_exp(1000.0)"), "ERROR 22003");
  EXPECT_EQ(Eval("sb_exp(-1000.0)"), "ERROR 22003");
  EXPECT_EQ(Eval("sb_pow(0.0, -1.0)"), "ERROR 2201F");
  EXPECT_EQ(Eval("sb_pow(-8.0, 0.5)"), "ERROR 2201F");
  EXPECT_EQ(Eval("sb_pow(2.0, 10.0)"), "1024.0");
  EXPECT_EQ(Eval("sb_fround(2.5)"), "2.0");  // float round is half-even
  EXPECT_EQ(Eval("sb_ftrunc(-2.7)"), "-2.0");
  EXPECT_EQ(Eval("sb_iabs(-2147483648, 32)"), "ERROR 22003");
  EXPECT_EQ(Eval("sb_iabs(-2147483648, 64)"), "2147483648");
  // numeric round is half away from zero; scaled input 1234567 = 1234.567
  EXPECT_EQ(Eval("sb_numround(1234567, 3, 2, 0)"), "123457");
  EXPECT_EQ(Eval("sb_numround(1234567, 3, -2, 0)"), "1200");
  EXPECT_EQ(Eval("sb_numround(-25, 1, 0, 0)"), "-3");
  EXPECT_EQ(Eval("sb_numround(-25, 1, 0, 1)"), "-2");
  EXPECT_EQ(Eval("sb_numround(-25, 1, 0, 2)"), "-2");
  EXPECT_EQ(Eval("sb_numround(-25, 1, 0, 3)"), "-3");
  EXPECT_EQ(Eval("sb_numround(15, 1, 3, 0)"), "1500");
  EXPECT_EQ(Eval("sb_numround('2.345', 0, 2, 0)"), "235");  // decimal text input
  EXPECT_EQ(Eval("sb_numround(9000000000000000000, 0, 5, 0)"), "ERROR 0A000");
  EXPECT_EQ(Eval("sb_greatest(1, NULL, 3)"), "3");
  EXPECT_EQ(Eval("sb_least(NULL, NULL)"), "NULL");
  EXPECT_EQ(Eval("sb_greatest('a', 'B')"), "a");
}

TEST_F(PgSqlFunctionsTest, DateFunctions) {
  EXPECT_EQ(Eval("sb_date_add('2024-02-28', 2)"), "2024-03-01");
  EXPECT_EQ(Eval("sb_date_add('9999-12-31', 1)"), "ERROR 22008");
  EXPECT_EQ(Eval("sb_extract('epoch', '2024-02-29 13:14:15.500000', 1)"), "1709212455500000");
  EXPECT_EQ(Eval("sb_date_part('second', '2024-02-29 13:14:15.500000', 1)"), "15.5");
  EXPECT_EQ(Eval("sb_date_trunc('month', '2024-02-29 13:14:15.500000', 2)"),
            "2024-02-01 00:00:00.000000");
  EXPECT_EQ(Eval("sb_ts_round('2024-02-29 13:14:15.500000', 0)"), "2024-02-29 13:14:16.000000");
  EXPECT_EQ(Eval("sb_ts_round('2024-02-29 13:14:15.123456', 2)"), "2024-02-29 13:14:15.120000");
}

}  // namespace
}  // namespace sb::exec
