#include "sql/grouping_sets.h"

#include <gtest/gtest.h>

#include <string>

#include "sql/parser.h"

namespace sb::sql {
namespace {

Json Body(const std::string& sql) {
  auto parsed = Parse(sql);
  EXPECT_TRUE(parsed.ok()) << sql;
  return parsed->statements.at(0).body();
}

// The UNION ALL operands, left to right.
void Branches(const Json& u, std::vector<Json>* out) {
  if (u.value("op", "SETOP_NONE") == "SETOP_NONE") {
    out->push_back(u);
    return;
  }
  Branches(Get(u, "larg"), out);
  Branches(Get(u, "rarg"), out);
}

size_t CountBranches(const std::string& sql) {
  auto u = ExpandGroupingSets(Body(sql));
  EXPECT_TRUE(u.ok()) << sql << ": " << u.status().ToString();
  std::vector<Json> b;
  if (u.ok()) Branches(*u, &b);
  return b.size();
}

TEST(GroupingSetsTest, RollupCubeAndSetsExpandLikePostgres) {
  EXPECT_EQ(CountBranches("SELECT a, b, count(*) FROM t GROUP BY ROLLUP (a, b)"), 3u);
  EXPECT_EQ(CountBranches("SELECT a, b, count(*) FROM t GROUP BY CUBE (a, b)"), 4u);
  EXPECT_EQ(CountBranches("SELECT a, count(*) FROM t GROUP BY GROUPING SETS ((a, b), a, ())"), 3u);
  // Items multiply: c with each of ROLLUP's three sets, times CUBE's two.
  EXPECT_EQ(CountBranches("SELECT count(*) FROM t GROUP BY c, ROLLUP (a, b), CUBE (d)"), 6u);
  EXPECT_FALSE(HasGroupingSets(Body("SELECT a FROM t GROUP BY a")));
  EXPECT_TRUE(HasGroupingSets(Body("SELECT a FROM t GROUP BY ROLLUP (a)")));
}

TEST(GroupingSetsTest, RolledUpColumnsReadAsNullOutsideAggregatesAndGroupingIsAMask) {
  auto u = ExpandGroupingSets(
      Body("SELECT a, grouping(a, b), sum(a) FROM t GROUP BY ROLLUP (a, b) ORDER BY a"));
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  std::vector<Json> b;
  Branches(*u, &b);
  ASSERT_EQ(b.size(), 3u);
  const Json& last = Get(b[2], "targetList");  // the empty set
  EXPECT_TRUE(Get(Get(At(last, 0), "ResTarget"), "val").contains("A_Const"));
  EXPECT_EQ(Get(At(last, 0), "ResTarget").value("name", ""), "a");
  EXPECT_EQ(
      Get(Get(Get(Get(At(last, 1), "ResTarget"), "val"), "A_Const"), "ival").value("ival", -1), 3);
  EXPECT_TRUE(Get(Get(At(last, 2), "ResTarget"), "val").contains("FuncCall"));  // sum(a) stays
  EXPECT_TRUE(b[2].contains("havingClause"));  // one group even for no rows
  EXPECT_TRUE(u->contains("sortClause"));
}

TEST(GroupingSetsTest, UnsupportedShapesAre0A000) {
  for (const char* sql : {"SELECT DISTINCT a FROM t GROUP BY ROLLUP (a)",
                          "SELECT a, rank() OVER () FROM t GROUP BY ROLLUP (a)",
                          "SELECT a FROM t GROUP BY ROLLUP (a) ORDER BY b",
                          "SELECT count(*) FROM t GROUP BY CUBE (a, b, c, d, e, f, g)"}) {
    auto u = ExpandGroupingSets(Body(sql));
    ASSERT_FALSE(u.ok()) << sql;
    EXPECT_EQ(u.status().code(), "0A000") << sql;
  }
  auto bad = ExpandGroupingSets(Body("SELECT grouping(z) FROM t GROUP BY ROLLUP (a)"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), "42803");
}

}  // namespace
}  // namespace sb::sql
