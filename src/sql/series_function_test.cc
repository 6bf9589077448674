#include "sql/series_function.h"

#include <gtest/gtest.h>

#include <string>

#include "sql/parser.h"

namespace sb::sql {
namespace {

// The rewrite of the first FROM item of `sql`, or "ERROR <code>".
std::string Rewrite(const std::string& sql, Json* out = nullptr) {
  auto parsed = Parse(sql);
  if (!parsed.ok()) return "PARSE " + parsed.status().message();
  const Json& item = At(Get(parsed->statements.at(0).body(), "fromClause"), 0);
  ParamTypes params;
  Translator tr({}, sql, &params);
  auto r = SeriesAsSubselect(item, &tr);
  if (!r.ok()) return "ERROR " + r.status().code();
  if (out != nullptr) *out = *r;
  return "ok";
}

TEST(SeriesFunctionTest, BecomesADerivedTableNamedLikePostgres) {
  Json sub;
  ASSERT_EQ(Rewrite("SELECT * FROM generate_series(1, 3)", &sub), "ok");
  ASSERT_TRUE(sub.contains("RangeSubselect"));
  EXPECT_EQ(Get(Get(sub, "RangeSubselect"), "alias").value("aliasname", ""), "generate_series");
  ASSERT_EQ(Rewrite("SELECT * FROM generate_series(1, 3) AS g", &sub), "ok");
  EXPECT_EQ(Get(Get(sub, "RangeSubselect"), "alias").value("aliasname", ""), "g");
}

TEST(SeriesFunctionTest, RefusesWhatItCannotRunFaithfully) {
  EXPECT_EQ(Rewrite("SELECT * FROM generate_series(1, 3, 0)"), "ERROR 22023");
  EXPECT_EQ(Rewrite("SELECT * FROM generate_series(timestamp '2024-01-01', timestamp "
                    "'2024-01-02', interval '0 days')"),
            "ERROR 22023");
  EXPECT_EQ(Rewrite("SELECT * FROM generate_series(timestamp '2024-01-01', timestamp "
                    "'2024-01-02')"),
            "ERROR 42883");
  EXPECT_EQ(Rewrite("SELECT * FROM generate_series(1, 3, (SELECT 1))"), "ERROR 0A000");
  EXPECT_EQ(Rewrite("SELECT * FROM generate_series(1, 3) WITH ORDINALITY"), "ERROR 0A000");
  EXPECT_EQ(Rewrite("SELECT * FROM unnest(ARRAY[1, 2])"), "ERROR 0A000");
  EXPECT_EQ(Rewrite("SELECT * FROM generate_series(1)"), "ERROR 42883");
}

}  // namespace
}  // namespace sb::sql
