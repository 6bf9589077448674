// sb_ordered_set through SQLite. Expected values are PostgreSQL 15's.
#include "exec/ordered_set_aggregates.h"

#include <gtest/gtest.h>

#include <string>

#include "exec/test_sqlite.h"

namespace sb::exec {
namespace {

class OrderedSetAggregatesTest : public testing::SqliteFunctionsTest {
 protected:
  // The aggregate over 1.5, 2.25, 3, 3 and a NULL (scaled by 100, as
  // numeric(12,2) is stored), or over `values` when given.
  std::string Over(const std::string& call,
                   const std::string& values = "(150), (225), (300), (300), (NULL)") {
    return Eval("(SELECT " + call + " FROM (WITH v(x) AS (VALUES " + values +
                ") SELECT * FROM v))");
  }
};

TEST_F(OrderedSetAggregatesTest, PercentilesAndMode) {
  EXPECT_EQ(Over("sb_ordered_set('cont', 0.5, x * 1.0, 0)"), "262.5");
  EXPECT_EQ(Over("sb_ordered_set('disc', 0.5, x, 0)"), "225");
  EXPECT_EQ(Over("sb_ordered_set('cont', 0.3, x * 1.0, 1)"), "300.0");  // DESC
  EXPECT_EQ(Over("sb_ordered_set('mode', NULL, x, 0)"), "300");
  EXPECT_EQ(Over("sb_ordered_set('disc', 0, x, 0)"), "150");
  EXPECT_EQ(Over("sb_ordered_set('disc', 1, x, 0)"), "300");
  // Ties in mode(): the first in sort order.
  EXPECT_EQ(Over("sb_ordered_set('mode', NULL, x, 0)", "('b'), ('a'), ('b'), ('a')"), "a");
  EXPECT_EQ(Over("sb_ordered_set('mode', NULL, x, 1)", "('b'), ('a'), ('b'), ('a')"), "b");
  // Decimal text by value.
  EXPECT_EQ(Over("sb_ordered_set('disc', 0.5, x, 4)", "('10'), ('9.5'), ('100')"), "10");
}

TEST_F(OrderedSetAggregatesTest, NoRowsNullFractionAndOutOfRange) {
  EXPECT_EQ(Over("sb_ordered_set('cont', 0.5, x, 0)", "(NULL)"), "NULL");
  EXPECT_EQ(Over("sb_ordered_set('cont', NULL, x, 0)"), "NULL");
  EXPECT_EQ(Over("sb_ordered_set('cont', 1.5, x, 0)"), "ERROR 22003");
  EXPECT_EQ(Over("sb_ordered_set('disc', -0.1, x, 0)"), "ERROR 22003");
}

}  // namespace
}  // namespace sb::exec
