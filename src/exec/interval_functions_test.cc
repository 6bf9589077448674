// The interval SQL functions through SQLite, as shards and the coordinator
// run them; interval arguments are stored forms built by common/interval.h.
#include "exec/interval_functions.h"

#include <gtest/gtest.h>

#include <string>

#include "common/interval.h"
#include "exec/test_sqlite.h"

namespace sb::exec {
namespace {

class IntervalFunctionsTest : public testing::SqliteFunctionsTest {
 protected:
  // The stored form of an interval literal, quoted for SQL.
  static std::string Iv(const char* text) {
    return "'" + EncodeStoredInterval(*ParseIntervalInput(text)) + "'";
  }
  static std::string Show(const std::string& stored) {
    auto iv = DecodeStoredInterval(stored);
    return iv.ok() ? FormatIntervalOutput(*iv) : stored;
  }
};

TEST_F(IntervalFunctionsTest, TimestampsAndDatesPlusIntervals) {
  EXPECT_EQ(Eval("sb_ts_add_iv('2024-01-31 10:00:00.000000', " + Iv("1 mon") + ", 1)"),
            "2024-02-29 10:00:00.000000");
  EXPECT_EQ(Eval("sb_ts_add_iv('2024-03-01', " + Iv("1 hour") + ", -1)"),
            "2024-02-29 23:00:00.000000");  // a date is its midnight
  EXPECT_EQ(Eval("sb_ts_add_iv('9999-12-31', " + Iv("1 day") + ", 1)"), "ERROR 22008");
  EXPECT_EQ(Eval("sb_ts_add_iv(NULL, " + Iv("1 day") + ", 1)"), "NULL");
  EXPECT_EQ(Show(Eval("sb_ts_diff('2024-03-01', '2024-02-28 12:00:00')")), "1 day 12:00:00");
}

TEST_F(IntervalFunctionsTest, TimestampsAsMicrosecondsSinceTheEpoch) {
  EXPECT_EQ(Eval("sb_ts_micros('1970-01-02')"), "86400000000");
  EXPECT_EQ(Eval("sb_ts_micros('1969-12-31 23:59:59.500000')"), "-500000");
  EXPECT_EQ(Eval("sb_ts_micros(NULL)"), "NULL");
  EXPECT_EQ(Eval("sb_ts_micros('not a date')"), "ERROR 22007");
}

TEST_F(IntervalFunctionsTest, AgeIsTheSymbolicDifferenceAsInPostgres) {
  EXPECT_EQ(Show(Eval("sb_age('2024-03-31 10:00:00', '2024-02-29 12:30:15.5')")),
            "1 mon 1 day 21:29:44.5");
  EXPECT_EQ(Show(Eval("sb_age('2024-01-31', '2024-03-01')")), "-1 mons -1 days");
  EXPECT_EQ(Show(Eval("sb_age('2025-01-01', '2020-02-29')")), "4 years 10 mons 1 day");
  EXPECT_EQ(Show(Eval("sb_age('2000-01-01', '2000-01-01')")), "00:00:00");
  EXPECT_EQ(Show(Eval("sb_age('2023-03-01', '2023-01-31')")), "1 mon 1 day");
  EXPECT_EQ(Show(Eval("sb_age('2023-01-31', '2023-03-01 01:00:00')")), "-1 mons -1 days -01:00:00");
  EXPECT_EQ(Eval("sb_age(NULL, '2023-01-31')"), "NULL");
}

TEST_F(IntervalFunctionsTest, SumAddsEachFieldAndAWindowTakesRowsBackOut) {
  const std::string rows = "(SELECT 1 AS i, " + Iv("1 mon 2 days") + " AS x UNION ALL SELECT 2, " +
                           Iv("-3 days 04:00") + " UNION ALL SELECT 3, NULL)";
  EXPECT_EQ(Show(Eval("(SELECT sb_ivsum(x) FROM " + rows + ")")), "1 mon -1 days +04:00:00");
  EXPECT_EQ(Eval("(SELECT sb_ivsum(x) FROM " + rows + " WHERE i = 3)"), "NULL");
  // ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING: the first row leaves the second frame.
  auto stored = [](const char* text) { return EncodeStoredInterval(*ParseIntervalInput(text)); };
  EXPECT_EQ(Eval("(SELECT group_concat(s, '|') FROM (SELECT sb_ivsum(x) OVER (ORDER BY i ROWS "
                 "BETWEEN CURRENT ROW AND 1 FOLLOWING) AS s FROM " +
                 rows + "))"),
            stored("1 mon -1 days 04:00") + "|" + stored("-3 days 04:00"));
  EXPECT_EQ(Eval("(SELECT sb_ivsum(x) FROM (SELECT " + Iv("2147483647 mons") +
                 " AS x UNION ALL SELECT " + Iv("1 mon") + "))"),
            "ERROR 22008");
}

TEST_F(IntervalFunctionsTest, IntervalArithmetic) {
  EXPECT_EQ(Show(Eval("sb_iv_add(" + Iv("1 mon") + ", " + Iv("2 days") + ", -1)")),
            "1 mon -2 days");
  EXPECT_EQ(Show(Eval("sb_iv_neg(" + Iv("-1 day 02:00") + ")")), "1 day -02:00:00");
  EXPECT_EQ(Show(Eval("sb_iv_mul(" + Iv("1 mon") + ", 1.5)")), "1 mon 15 days");
  EXPECT_EQ(Show(Eval("sb_iv_div(" + Iv("1 day") + ", 3)")), "08:00:00");
  EXPECT_EQ(Eval("sb_iv_div(" + Iv("1 day") + ", 0)"), "ERROR 22012");
  EXPECT_EQ(Eval("sb_iv_neg('not an interval')"), "ERROR 22007");
}

TEST_F(IntervalFunctionsTest, ExtractAndDatePart) {
  EXPECT_EQ(IntervalExtractScale("epoch"), 6);
  EXPECT_EQ(IntervalExtractScale("Hours"), 0);
  EXPECT_EQ(IntervalExtractScale("dow"), -1);
  EXPECT_EQ(Eval("sb_iv_extract('epoch', " + Iv("1 day 2 hours") + ")"), "93600000000");
  EXPECT_EQ(Eval("sb_iv_extract('hour', " + Iv("-27 hours") + ")"), "-27");
  EXPECT_EQ(Eval("sb_iv_extract('year', " + Iv("14 months") + ")"), "1");
  EXPECT_EQ(Eval("sb_iv_extract('month', " + Iv("14 months") + ")"), "2");
  EXPECT_EQ(Eval("sb_iv_extract('second', " + Iv("1 min 2.5 sec") + ")"), "2500000");
  EXPECT_EQ(Eval("sb_iv_part('epoch', " + Iv("1 mon") + ")"), "2592000.0");
  EXPECT_EQ(Eval("sb_iv_extract('dow', " + Iv("1 day") + ")"), "ERROR 0A000");
  EXPECT_EQ(Eval("sb_iv_extract('fortnight', " + Iv("1 day") + ")"), "ERROR 22023");
}

TEST_F(IntervalFunctionsTest, TheIntervalCollationComparesBySpanAlone) {
  EXPECT_EQ(Eval(Iv("1 mon") + " = " + Iv("30 days") + " COLLATE sb_interval"), "1");
  EXPECT_EQ(Eval(Iv("1 mon") + " = " + Iv("30 days")), "0");  // the stored forms differ
  EXPECT_EQ(Eval(Iv("1 day") + " < " + Iv("25 hours") + " COLLATE sb_interval"), "1");
  EXPECT_EQ(Eval(Iv("-1 day") + " < " + Iv("0 days") + " COLLATE sb_interval"), "1");
  EXPECT_EQ(
      Eval("(SELECT count(DISTINCT x COLLATE sb_interval) FROM (SELECT " + Iv("1 mon") +
           " AS x UNION ALL SELECT " + Iv("30 days") + " UNION ALL SELECT " + Iv("1 day") + "))"),
      "2");
}

}  // namespace
}  // namespace sb::exec
