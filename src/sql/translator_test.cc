// Expression translation checked end to end: each expression is translated
// as the planner would (SELECT <expr> with no FROM), run by SQLite with
// ScratchBird's SQL functions, and its text output and type OID compared
// with PostgreSQL 15's (lc_collate/lc_ctype C, TimeZone UTC). The expected
// values in kPostgresCases were produced by a real PostgreSQL 15 server; the
// few deliberate differences (refusals) are marked.
#include "sql/translator.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/value_codec.h"
#include "exec/sql_functions.h"

namespace sb::sql {
namespace {

struct Outcome {
  std::string text;  // PostgreSQL text output, "NULL", or "ERROR <sqlstate>"
  uint32_t oid = 0;
  std::string sql;
};

class TranslatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    exec::RegisterSqlFunctions(db_);
    ctx_.values["statement_timestamp"] = "2024-02-29 13:14:15.678901";
    ctx_.values["session_user"] = "tester";
  }
  void TearDown() override { sqlite3_close(db_); }

  Result<Translated> Translate(const std::string& expr, ParamTypes* params = nullptr) {
    auto parsed = Parse("SELECT " + expr);
    if (!parsed.ok()) return parsed.status();
    text_ = parsed->text;
    const Json& val = Get(At(Get(parsed->statements.at(0).body(), "targetList"), 0), "ResTarget");
    ParamTypes local;
    Translator tr({}, text_, params != nullptr ? params : &local);
    return tr.Expr(Get(val, "val"));
  }

  Outcome Run(const std::string& expr) {
    Outcome out;
    auto t = Translate(expr);
    if (!t.ok()) {
      out.text = "ERROR " + t.status().code();
      return out;
    }
    out.oid = t->type.oid();
    out.sql = t->sql;
    exec::StatementContextScope scope(&ctx_);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, ("SELECT " + t->sql).c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      out.text = std::string("PREPARE FAILED: ") + sqlite3_errmsg(db_);
      return out;
    }
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      Value v;
      switch (sqlite3_column_type(stmt, 0)) {
        case SQLITE_INTEGER:
          v = static_cast<int64_t>(sqlite3_column_int64(stmt, 0));
          break;
        case SQLITE_FLOAT:
          v = sqlite3_column_double(stmt, 0);
          break;
        case SQLITE_TEXT:
          v = std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                          static_cast<size_t>(sqlite3_column_bytes(stmt, 0)));
          break;
        case SQLITE_BLOB:
          v = Blob{std::string(static_cast<const char*>(sqlite3_column_blob(stmt, 0)),
                               static_cast<size_t>(sqlite3_column_bytes(stmt, 0)))};
          break;
        default:
          break;
      }
      if (IsNull(v)) {
        out.text = "NULL";
      } else if (t->type.id == TypeId::kNumeric && std::holds_alternative<std::string>(v)) {
        out.text = std::get<std::string>(v);  // decimal text, printed as is
      } else {
        out.text = FormatTextValue(t->type, v);
      }
    } else {
      std::string code, msg;
      out.text = exec::SplitSqlstatePrefix(sqlite3_errmsg(db_), &code, &msg)
                     ? "ERROR " + code
                     : std::string("SQLITE ERROR: ") + sqlite3_errmsg(db_);
    }
    sqlite3_finalize(stmt);
    return out;
  }

  std::string Text(const std::string& expr) { return Run(expr).text; }

  sqlite3* db_ = nullptr;
  exec::StatementContext ctx_;
  std::string text_;
};

struct Case {
  const char* expr;
  const char* expected;  // text output, "NULL" or "ERROR <sqlstate>"
  uint32_t oid;          // RowDescription type OID (0 for errors)
};

// Produced by PostgreSQL 15.18 (database with LC_COLLATE/LC_CTYPE 'C').
const Case kPostgresCases[] = {
#include "translator_test_cases.inc"
};

TEST_F(TranslatorTest, ExpressionsMatchPostgres) {
  int failures = 0;
  for (const Case& c : kPostgresCases) {
    Outcome o = Run(c.expr);
    bool ok = o.text == c.expected && (c.oid == 0 || o.oid == c.oid);
    if (!ok) {
      ++failures;
      ADD_FAILURE() << "SELECT " << c.expr << "\n  expected: " << c.expected << " (oid " << c.oid
                    << ")\n  got:      " << o.text << " (oid " << o.oid << ")\n  sql: " << o.sql;
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST_F(TranslatorTest, ConstantLikePatternsRunAsSqliteLike) {
  // Native LIKE can use an index; the shard connections make it case-sensitive.
  EXPECT_EQ(Run("'abc' LIKE 'a%'").sql, "('abc' LIKE 'a%' ESCAPE '\\')");
  EXPECT_EQ(Run("'abc' ILIKE 'A%'").sql, "(lower('abc') LIKE 'a%' ESCAPE '\\')");
  EXPECT_EQ(Run("'a_c' LIKE 'a#_c' ESCAPE '#'").sql, "('a_c' LIKE 'a\\_c' ESCAPE '\\')");
  // A pattern that can fail at run time goes through PostgreSQL's matcher.
  EXPECT_EQ(Run("'abc' LIKE 'x\\'").sql, "sb_like('abc', 'x\\', 0)");
  EXPECT_EQ(Text("'abc' LIKE 'a%' ESCAPE 'ab'"), "ERROR 22025");
}

TEST_F(TranslatorTest, CurrentTimestampIsTheStatementTimestamp) {
  EXPECT_EQ(Text("now()"), "2024-02-29 13:14:15.678901+00");
  EXPECT_EQ(Text("current_timestamp"), "2024-02-29 13:14:15.678901+00");
  EXPECT_EQ(Text("current_timestamp(0)"), "2024-02-29 13:14:16+00");
  EXPECT_EQ(Text("localtimestamp(3)"), "2024-02-29 13:14:15.679");
  EXPECT_EQ(Text("current_date"), "2024-02-29");
  EXPECT_EQ(Text("extract(year from now())"), "2024");
  EXPECT_EQ(Text("date_trunc('hour', now())"), "2024-02-29 13:00:00+00");
  EXPECT_EQ(Text("current_date - 1"), "2024-02-28");
}

TEST_F(TranslatorTest, ParametersTakeThePostgresParameterTypes) {
  struct {
    const char* expr;
    TypeId param;
  } const cases[] = {
      {"substr($1, 2)", TypeId::kText},
      {"left('abc', $1)", TypeId::kInt4},
      {"sqrt($1)", TypeId::kFloat8},
      {"$1 LIKE 'a%'", TypeId::kText},
      {"date '2024-01-01' + $1", TypeId::kInt4},
      {"lpad('x', 3, $1)", TypeId::kText},
      {"round($1::numeric(6,2), 1)", TypeId::kNumeric},
  };
  for (const auto& c : cases) {
    ParamTypes params;
    auto t = Translate(c.expr, &params);
    ASSERT_TRUE(t.ok()) << c.expr << ": " << t.status().ToString();
    EXPECT_EQ(params.Get(1).id, c.param) << c.expr;
  }
  ParamTypes params;
  auto t = Translate("round($1, 2)", &params);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), "42P18");  // its scale would be guessed
}

TEST_F(TranslatorTest, AggregatesInsideScalarExpressionsAreNoticed) {
  for (const char* e :
       {"nullif(count(*), 0)", "greatest(max(1), 0)", "round(avg(1), 2)",
        "count(*) IS DISTINCT FROM 3", "count(*) IN (1, 2)", "count(*) BETWEEN SYMMETRIC 3 AND 1",
        "lower(max('a')) LIKE 'a%'", "bool_and(true) IS TRUE"}) {
    auto parsed = Parse(std::string("SELECT ") + e);
    ASSERT_TRUE(parsed.ok());
    ParamTypes params;
    Translator tr({}, parsed->text, &params);
    tr.set_allow_aggregates(true);
    const Json& val =
        Get(Get(At(Get(parsed->statements.at(0).body(), "targetList"), 0), "ResTarget"), "val");
    auto t = tr.Expr(val);
    ASSERT_TRUE(t.ok()) << e << ": " << t.status().ToString();
    EXPECT_TRUE(t->contains_aggregate) << e;
  }
}

TEST_F(TranslatorTest, UnconstrainedNumericKeepsItsPrecisionAndComparesByValue) {
  // Like avg(), numeric division gives decimal text; unifying it with 0
  // must not round it to 0 fraction digits.
  EXPECT_EQ(Text("coalesce(7 / 2.0, 0)"), "3.5000000000000000");
  EXPECT_EQ(Text("CASE WHEN true THEN 1 / 3.0 ELSE 1 END"), "0.33333333333333333333");
  EXPECT_EQ(Text("round(coalesce(2 / 3.0, 0), 3)"), "0.667");
  // They compare by value, not as text.
  EXPECT_EQ(Text("nullif(1 / 3.0, 1)"), "0.33333333333333333333");
  EXPECT_EQ(Text("nullif(2 / 4.0, 0.5)"), "NULL");
  EXPECT_EQ(Text("1 / 3.0 IN (1, 2)"), "f");
  EXPECT_EQ(Text("2 / 4.0 = 0.5"), "t");
  EXPECT_EQ(Text("10 / 1.0 > 9.5 / 1"), "t");  // '10.0…' < '9.5…' as text
  EXPECT_EQ(Text("2 / 4.0 BETWEEN 0.25 AND 0.5"), "t");
  // Arithmetic keeps each value's own scale, as PostgreSQL.
  EXPECT_EQ(Text("1 / 4.0 * 2 + 1"), "1.50000000000000000000");
  EXPECT_EQ(Text("-(1 / 4.0)"), "-0.25000000000000000000");
}

}  // namespace
}  // namespace sb::sql

namespace sb::sql {
namespace {

std::string NameOf(const std::string& expr) {
  auto parsed = Parse("SELECT " + expr);
  if (!parsed.ok()) return "PARSE ERROR";
  const Json& target = Get(At(Get(parsed->statements.at(0).body(), "targetList"), 0), "ResTarget");
  return Translator::ColumnName(Get(target, "val"));
}

// PostgreSQL's output column names (FigureColname), checked against
// PostgreSQL 15.
TEST(TranslatorColumnNameTest, FollowsPostgres) {
  EXPECT_EQ(NameOf("2.5::float8::int"), "int4");
  EXPECT_EQ(NameOf("DATE '2024-02-29'::text"), "text");
  EXPECT_EQ(NameOf("'2024-02-29 23:59:59'::timestamp::date::text"), "text");
  EXPECT_EQ(NameOf("x::text"), "x");
  EXPECT_EQ(NameOf("CASE WHEN true THEN 'one' ELSE name END"), "name");
  EXPECT_EQ(NameOf("CASE WHEN true THEN 'one' ELSE 'other' END"), "case");
  EXPECT_EQ(NameOf("CASE WHEN true THEN 'one' ELSE 'x'::text END"), "case");
  EXPECT_EQ(NameOf("extract(year from now())"), "extract");
  EXPECT_EQ(NameOf("trim(both 'x' from 'xax')"), "btrim");
  EXPECT_EQ(NameOf("position('a' in 'abc')"), "position");
  EXPECT_EQ(NameOf("substring('abc' from 2)"), "substring");
  EXPECT_EQ(NameOf("greatest(1, 2)"), "greatest");
  EXPECT_EQ(NameOf("nullif(1, 2)"), "nullif");
  EXPECT_EQ(NameOf("current_timestamp(0)"), "current_timestamp");
  EXPECT_EQ(NameOf("'a' COLLATE \"C\""), "?column?");
  EXPECT_EQ(NameOf("x COLLATE \"C\""), "x");
  EXPECT_EQ(NameOf("1 + 1"), "?column?");
  EXPECT_EQ(NameOf("(SELECT 1 AS one)"), "one");
  EXPECT_EQ(NameOf("EXISTS (SELECT 1)"), "exists");
}

}  // namespace
}  // namespace sb::sql
