// ScratchBird's SQLite aggregates run where shards and the coordinator run
// them: a plain in-memory SQLite connection with RegisterSqlFunctions.
#include "exec/sql_functions.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sb::exec {
namespace {

class SqlAggregatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    RegisterSqlFunctions(db_);
    Exec(
        "CREATE TABLE t(id INTEGER, v INTEGER, s TEXT, k INTEGER);"
        "INSERT INTO t VALUES (1, 9223372036854775807, 'b', 2), (2, 10, 'a', NULL),"
        "  (3, NULL, NULL, 1), (4, -5, 'c', 2), (5, 9223372036854775807, 'a', 3)");
  }
  void TearDown() override { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
  }

  // Every row's columns joined by '|' ("NULL" for NULL), or "ERROR <code>".
  std::vector<std::string> Rows(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      return {std::string("PREPARE ") + sqlite3_errmsg(db_)};
    std::vector<std::string> out;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        if (c > 0) row += "|";
        row += sqlite3_column_type(stmt, c) == SQLITE_NULL
                   ? "NULL"
                   : reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
      }
      out.push_back(row);
    }
    if (rc != SQLITE_DONE) {
      std::string code, text;
      out = {SplitSqlstatePrefix(sqlite3_errmsg(db_), &code, &text) ? "ERROR " + code
                                                                    : sqlite3_errmsg(db_)};
    }
    sqlite3_finalize(stmt);
    return out;
  }

  sqlite3* db_ = nullptr;
};

TEST_F(SqlAggregatesTest, SumiIsExactPastTheBigintRangeAsAnAggregate) {
  EXPECT_EQ(Rows("SELECT sb_sumi(v) FROM t"),
            std::vector<std::string>{"18446744073709551619"});  // 2 * (2^63 - 1) + 10 - 5
  EXPECT_EQ(Rows("SELECT sb_sumi(v) FROM t WHERE id = 3"), std::vector<std::string>{"NULL"});
  EXPECT_EQ(Rows("SELECT sb_sumi(v * 0.5) FROM t"), std::vector<std::string>{"ERROR 42804"});
}

TEST_F(SqlAggregatesTest, SumiAsAWindowTakesRowsLeavingTheFrameBackOut) {
  // A moving frame of two rows: the total goes past int64 and comes back.
  EXPECT_EQ(Rows("SELECT id, sb_sumi(v) OVER (ORDER BY id ROWS 1 PRECEDING) FROM t ORDER BY id"),
            (std::vector<std::string>{"1|9223372036854775807", "2|9223372036854775817", "3|10",
                                      "4|-5", "5|9223372036854775802"}));
  // A frame with only NULLs is NULL, as a sum over no values.
  EXPECT_EQ(Rows("SELECT id, sb_sumi(v) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND CURRENT "
                 "ROW) FROM t WHERE id = 3"),
            std::vector<std::string>{"3|NULL"});
}

TEST_F(SqlAggregatesTest, OrderedStringAggSortsByItsKeysAndSkipsNullValues) {
  // ORDER BY k ASC (NULLS LAST), then id DESC.
  EXPECT_EQ(Rows("SELECT sb_string_agg(s, ',', k, 0, id, 1) FROM t"),
            std::vector<std::string>{"c,b,a,a"});
  // k DESC with NULLS FIRST: the NULL key leads; the NULL value is skipped.
  EXPECT_EQ(Rows("SELECT sb_string_agg(s, '-', k, " +
                 std::to_string(kOrderedAggDescending | kOrderedAggNullsFirst) + ", id, 0) FROM t"),
            std::vector<std::string>{"a-a-b-c"});
  EXPECT_EQ(Rows("SELECT sb_string_agg(s, ',', k, 0) FROM t WHERE s IS NULL"),
            std::vector<std::string>{"NULL"});
  EXPECT_EQ(Rows("SELECT sb_string_agg(s, ',') FROM t"), std::vector<std::string>{"ERROR 42883"});
}

TEST_F(SqlAggregatesTest, OrderedStringAggDistinctDropsRepeatedValues) {
  EXPECT_EQ(Rows("SELECT sb_string_agg_distinct(s, ',', s, 1, s, 0, ',', 0) FROM t"),
            std::vector<std::string>{"c,b,a"});
}

TEST_F(SqlAggregatesTest, OrderedStringAggOrdersDecimalTextByValue) {
  Exec("CREATE TABLE d(x TEXT); INSERT INTO d VALUES ('10.5'), ('9'), ('-1'), ('100')");
  EXPECT_EQ(Rows("SELECT sb_string_agg(x, ' ', x, " + std::to_string(kOrderedAggDecimalText) +
                 ") FROM d"),
            std::vector<std::string>{"-1 9 10.5 100"});
  EXPECT_EQ(Rows("SELECT sb_string_agg(x, ' ', x, 0) FROM d"),  // bytewise without the flag
            std::vector<std::string>{"-1 10.5 100 9"});
}

}  // namespace
}  // namespace sb::exec
