#include "sql/parser.h"

#include <gtest/gtest.h>

#include "sql/translator.h"

namespace sb::sql {
namespace {

TEST(ParserTest, ParsesMultipleStatements) {
  auto r = Parse("SELECT 1; SELECT 2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->statements.size(), 2u);
  EXPECT_EQ(r->statements[0].kind(), "SelectStmt");
  EXPECT_EQ(r->statements[1].location, 9);  // starts right after the ";"
}

// libpg_query prints 0 and negative integers as "ival": {}; the parser writes
// the values back, so trees that differ only in such a constant differ.
TEST(ParserTest, ZeroAndNegativeIntegerConstantsKeepTheirValue) {
  auto r = Parse("SELECT 0, -7, -( 5), (-(5)), -(-(-5)), -(- -3), -/*x*/5, - -- c\n 4, 12");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Json& targets = Get(Get(r->statements[0].node, "SelectStmt"), "targetList");
  std::vector<int64_t> values;
  for (const auto& t : targets) {
    const Json& v = Get(Get(t, "ResTarget"), "val");
    ASSERT_TRUE(v.contains("A_Const")) << v.dump();
    values.push_back(ConstIntValue(Get(v, "A_Const"), r->text));
    EXPECT_TRUE(Get(Get(v, "A_Const"), "ival").contains("ival")) << v.dump();
  }
  EXPECT_EQ(values, (std::vector<int64_t>{0, -7, -5, -5, -5, -3, -5, -4, 12}));
  auto a = Parse("SELECT n * 0, n * (-1), n * (-5)");
  ASSERT_TRUE(a.ok());
  const Json& list = Get(Get(a->statements[0].node, "SelectStmt"), "targetList");
  EXPECT_FALSE(SameExpression(Get(At(list, 0), "ResTarget"), Get(At(list, 1), "ResTarget")));
  EXPECT_FALSE(SameExpression(Get(At(list, 1), "ResTarget"), Get(At(list, 2), "ResTarget")));
}

TEST(ParserTest, SyntaxErrorHasSqlstateAndPosition) {
  auto r = Parse("SELEC 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "42601");
  EXPECT_EQ(r.status().position(), 1);
}

TEST(ParserTest, ShardByHashIsRecordedAndStripped) {
  auto r = Parse("CREATE TABLE t (a int, b text, c int) SHARD BY HASH (a, \"b\")");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& d = r->statements[0].distribution;
  ASSERT_EQ(d.shard_by_hash.size(), 2u);
  EXPECT_EQ(d.shard_by_hash[0], "a");
  EXPECT_EQ(d.shard_by_hash[1], "b");
  EXPECT_FALSE(d.replicated);
  EXPECT_EQ(r->statements[0].kind(), "CreateStmt");
}

TEST(ParserTest, ReplicatedIsRecorded) {
  auto r = Parse("create table p (id int primary key, name text) replicated; select 1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->statements[0].distribution.replicated);
  EXPECT_FALSE(r->statements[1].distribution.replicated);
}

TEST(ParserTest, ShardByInsideStringsIsIgnored) {
  auto r = Parse("CREATE TABLE t (a text default 'SHARD BY HASH (x)')");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->statements[0].distribution.shard_by_hash.empty());
}

TEST(ParserTest, ShardByRangeIsFlagged) {
  auto r = Parse("CREATE TABLE t (a int) SHARD BY RANGE (a)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->statements[0].distribution.shard_by_range);
}

TEST(ParserTest, MalformedShardByIsASyntaxError) {
  auto r = Parse("CREATE TABLE t (a int) SHARD BY HASH a");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "42601");
}

TEST(ParserTest, NegativeIntegerConstantsAreRecovered) {
  auto r = Parse("SELECT -5, 0, 7");
  ASSERT_TRUE(r.ok());
  const auto& targets = r->statements[0].body()["targetList"];
  EXPECT_EQ(ConstIntValue(targets[0]["ResTarget"]["val"]["A_Const"], r->text), -5);
  EXPECT_EQ(ConstIntValue(targets[1]["ResTarget"]["val"]["A_Const"], r->text), 0);
  EXPECT_EQ(ConstIntValue(targets[2]["ResTarget"]["val"]["A_Const"], r->text), 7);
}

}  // namespace
}  // namespace sb::sql
