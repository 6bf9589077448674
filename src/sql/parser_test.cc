#include "sql/parser.h"

#include <gtest/gtest.h>

namespace sb::sql {
namespace {

TEST(ParserTest, ParsesMultipleStatements) {
  auto r = Parse("SELECT 1; SELECT 2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->statements.size(), 2u);
  EXPECT_EQ(r->statements[0].kind(), "SelectStmt");
  EXPECT_EQ(r->statements[1].location, 9);  // starts right after the ";"
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
