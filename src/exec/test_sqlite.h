// Test-only: an in-memory SQLite connection with ScratchBird's SQL functions,
// as shards and the coordinator run them, and a one-value evaluator.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "exec/sql_functions.h"

namespace sb::exec::testing {

class SqliteFunctionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    RegisterSqlFunctions(db_);
  }
  void TearDown() override { sqlite3_close(db_); }

  // First column of `SELECT sql` as text ("NULL" for NULL, "ERROR <code>").
  std::string Eval(const std::string& sql) { return Column("SELECT " + sql); }

  // The first column of every row of a query, joined with '|'; a failure
  // adds "ERROR <code>" (or SQLite's message).
  std::string Column(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      return std::string("PREPARE ") + sqlite3_errmsg(db_);
    }
    std::string out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (!out.empty()) out += "|";
      out += sqlite3_column_type(stmt, 0) == SQLITE_NULL
                 ? "NULL"
                 : reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    if (rc != SQLITE_DONE) {
      std::string code, text;
      out += SplitSqlstatePrefix(sqlite3_errmsg(db_), &code, &text) ? "ERROR " + code
                                                                    : sqlite3_errmsg(db_);
    }
    sqlite3_finalize(stmt);
    return out;
  }

  sqlite3* db_ = nullptr;
};

}  // namespace sb::exec::testing
