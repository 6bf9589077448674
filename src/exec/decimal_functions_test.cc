// The unconstrained numeric functions through SQLite, as shards and the
// coordinator run them. Expected values are PostgreSQL 15's.
#include "exec/decimal_functions.h"

#include <gtest/gtest.h>

#include <string>

#include "exec/test_sqlite.h"

namespace sb::exec {
namespace {

using DecimalFunctionsTest = testing::SqliteFunctionsTest;

TEST_F(DecimalFunctionsTest, ArithmeticKeepsEachValuesScale) {
  EXPECT_EQ(Eval("sb_decop('+', '1.50', 2)"), "3.50");
  EXPECT_EQ(Eval("sb_decop('-', '5.00', 5)"), "0.00");
  EXPECT_EQ(Eval("sb_decop('*', '1.5', '2.25')"), "3.375");
  EXPECT_EQ(Eval("sb_decop('/', 10, '3.0')"), "3.3333333333333333");
  EXPECT_EQ(Eval("sb_decop('/', 1, 3)"), "0.33333333333333333333");
  EXPECT_EQ(Eval("sb_decop('%', '7.5', 2)"), "1.5");
  EXPECT_EQ(Eval("sb_decop('%', '-7.5', 2)"), "-1.5");  // the sign of the dividend
  EXPECT_EQ(Eval("sb_decop('-', 0, '2.50')"), "-2.50");
  EXPECT_EQ(Eval("sb_decop('+', NULL, 1)"), "NULL");
  EXPECT_EQ(Eval("sb_decop('/', '1.5', '0.00')"), "ERROR 22012");
  EXPECT_EQ(Eval("sb_decop('%', '1.5', 0)"), "ERROR 22012");
  EXPECT_EQ(Eval("sb_decop('+', 'abc', 1)"), "ERROR 22P02");
  EXPECT_EQ(Eval("sb_decop('*', '99999999999999999999', '99999999999999999999')"), "ERROR 22003");
  EXPECT_EQ(Eval("sb_decop('^', 1, 1)"), "ERROR 42883");
}

TEST_F(DecimalFunctionsTest, AbsKeepsTheScaleAndSignIsAnInteger) {
  EXPECT_EQ(Eval("sb_decfn('abs', '-2.50')"), "2.50");
  EXPECT_EQ(Eval("sb_decfn('abs', 3)"), "3");
  EXPECT_EQ(Eval("sb_decfn('sign', '-2.50')"), "-1");
  EXPECT_EQ(Eval("sb_decfn('sign', '0.00')"), "0");
  EXPECT_EQ(Eval("sb_decfn('sign', '0.01')"), "1");
  EXPECT_EQ(Eval("sb_decfn('abs', NULL)"), "NULL");
  EXPECT_EQ(Eval("sb_decfn('sqrt', 4)"), "ERROR 42883");
}

TEST_F(DecimalFunctionsTest, GreatestAndLeastCompareByValueAndKeepTheFirstOfEqualValues) {
  EXPECT_EQ(Eval("sb_greatest_dec('9.5', '10', NULL)"), "10");
  EXPECT_EQ(Eval("sb_least_dec('9.5', '10', '-0.5')"), "-0.5");
  EXPECT_EQ(Eval("sb_greatest_dec('1.5', '1.50')"), "1.5");
  EXPECT_EQ(Eval("sb_least_dec('1.50', '1.5')"), "1.50");
  EXPECT_EQ(Eval("sb_greatest_dec(NULL, NULL)"), "NULL");
}

TEST_F(DecimalFunctionsTest, VarianceAndStddevFromCountSumAndSquares) {
  EXPECT_EQ(Eval("sb_numvar(3, '6.75', '16.3125', 'stddev_pop')"), "0.61237243569579452455");
  EXPECT_EQ(Eval("sb_numvar(3, 7, 21, 'variance')"), "2.3333333333333333");
  EXPECT_EQ(Eval("sb_numvar(1, 7, 49, 'stddev')"), "NULL");
  EXPECT_EQ(Eval("sb_numvar(0, NULL, NULL, 'var_pop')"), "NULL");
  EXPECT_EQ(Eval("sb_numvar(3, 7, 21, 'median')"), "ERROR 42883");
  EXPECT_EQ(Eval("sb_fltvar(3, 7.0, 21.0, 'var_samp')"), "2.33333333333333");
  EXPECT_EQ(Eval("sb_fltvar(2, 2.0, 2.0, 'stddev_samp')"), "0.0");
  EXPECT_EQ(Eval("sb_fltvar(1, 2.0, 4.0, 'stddev_samp')"), "NULL");
}

TEST_F(DecimalFunctionsTest, SumTakesTheLargestScale) {
  EXPECT_EQ(Column("SELECT sb_decsum(x) FROM (WITH v(x) AS (VALUES ('1.5'), ('2.25'), (3), (NULL)) "
                   "SELECT * FROM v)"),
            "6.75");
  EXPECT_EQ(Column("SELECT sb_decsum(x) FROM (WITH v(x) AS (VALUES (NULL)) SELECT * FROM v)"),
            "NULL");
  EXPECT_EQ(Column("SELECT sb_decsum(x) FROM (SELECT 1 AS x WHERE 0)"), "NULL");
  // Past int64, within 38 digits.
  EXPECT_EQ(Column("SELECT sb_decsum(x) FROM (WITH v(x) AS (VALUES ('9223372036854775807.5'), "
                   "('9223372036854775807.5')) SELECT * FROM v)"),
            "18446744073709551615.0");
  EXPECT_EQ(Column("SELECT sb_decsum(x) FROM (WITH v(x) AS (VALUES "
                   "('99999999999999999999999999999999999999'), "
                   "(1)) SELECT * FROM v)"),
            "ERROR 22003");
  EXPECT_EQ(Column("SELECT sb_decsum(x) FROM (WITH v(x) AS (VALUES ('1'), ('x')) SELECT * FROM v)"),
            "ERROR 22P02");
}

TEST_F(DecimalFunctionsTest, WindowSumShrinksItsScaleWhenTheWidestValueLeaves) {
  // PostgreSQL: 1.25, 3.25, 5, 7.5 (rows 1 preceding .. current row).
  EXPECT_EQ(Column("SELECT sb_decsum_w(x) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT "
                   "ROW) FROM (WITH v(i, x) AS (VALUES (1, '1.25'), (2, 2), (3, 3), (4, '4.5')) "
                   "SELECT * FROM v)"),
            "1.25|3.25|5|7.5");
  EXPECT_EQ(Column("SELECT sb_decsum_w(x) OVER (ORDER BY i ROWS BETWEEN CURRENT ROW AND CURRENT "
                   "ROW) FROM (WITH v(i, x) AS (VALUES (1, NULL), (2, '2.0')) SELECT * FROM v)"),
            "NULL|2.0");
}

TEST_F(DecimalFunctionsTest, TheDecimalCollationComparesByValue) {
  EXPECT_EQ(Eval("'1.5' = '1.50' COLLATE sb_decimal"), "1");
  EXPECT_EQ(Eval("'10' > '9.99' COLLATE sb_decimal"), "1");
  EXPECT_EQ(Column("SELECT min(x COLLATE sb_decimal) FROM (WITH v(x) AS (VALUES ('10'), ('9.5'), "
                   "('-1')) SELECT * FROM v)"),
            "-1");
  EXPECT_EQ(Column("SELECT max(x COLLATE sb_decimal) FROM (WITH v(x) AS (VALUES ('10'), ('9.5'), "
                   "('-1')) SELECT * FROM v)"),
            "10");
  const std::string three = "(WITH v(x) AS (VALUES ('1.5'), ('1.50'), ('2')) SELECT * FROM v)";
  EXPECT_EQ(Column("SELECT count(*) FROM (SELECT x COLLATE sb_decimal AS y FROM " + three +
                   " GROUP BY 1)"),
            "2");
  EXPECT_EQ(
      Column("SELECT count(*) FROM (SELECT DISTINCT x COLLATE sb_decimal FROM " + three + ")"),
      "2");
}

}  // namespace
}  // namespace sb::exec
