#include "sql/planner.h"

#include <gtest/gtest.h>

namespace sb::sql {
namespace {

class PlannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Exec(
        "CREATE TABLE orders (customer_id uuid, order_id bigint, total numeric(10,2), status text, "
        "PRIMARY KEY (customer_id, order_id)) SHARD BY HASH (customer_id)");
    Exec("CREATE TABLE products (id int PRIMARY KEY, name text) REPLICATED");
    Exec("CREATE TABLE events (a int, b text)");
    Exec(
        "CREATE TABLE customers (customer_id uuid PRIMARY KEY, name text) SHARD BY HASH "
        "(customer_id)");
  }

  // Plans a CREATE TABLE and records it in the catalog.
  void Exec(const std::string& sql) {
    auto r = Plan(sql);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto& ddl = std::get<exec::DdlPlan>(r->plan);
    catalog_.PutTable(*ddl.new_table);
  }

  Result<PlannedStatement> Plan(const std::string& sql) {
    auto parsed = Parse(sql);
    if (!parsed.ok()) return parsed.status();
    Planner planner(&catalog_);
    return planner.Plan(parsed->statements.at(0), parsed->text);
  }

  exec::SelectPlan Select(const std::string& sql) {
    auto r = Plan(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::get<exec::SelectPlan>(r->plan) : exec::SelectPlan{};
  }

  meta::Catalog catalog_;
};

TEST_F(PlannerTest, EqualityOnTheShardKeyRunsOnOneShard) {
  auto p = Select(
      "SELECT order_id FROM orders WHERE customer_id = '01234567-89ab-cdef-0123-456789abcdef'");
  EXPECT_EQ(p.route.kind, exec::RouteSpec::Kind::kKeyTuples);
  ASSERT_EQ(p.route.tuples.size(), 1u);
  EXPECT_TRUE(p.single_shard);
  EXPECT_EQ(std::get<std::string>(*p.route.tuples[0][0].constant),
            "01234567-89ab-cdef-0123-456789abcdef");
}

TEST_F(PlannerTest, ParameterOnTheShardKeyRoutesAtBindAndIsTypedByTheColumn) {
  auto r = Plan("SELECT order_id FROM orders WHERE customer_id = $1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto& p = std::get<exec::SelectPlan>(r->plan);
  ASSERT_EQ(p.route.tuples.size(), 1u);
  EXPECT_EQ(p.route.tuples[0][0].param, 1);
  ASSERT_EQ(r->param_types.size(), 1u);
  EXPECT_EQ(r->param_types[0].id, TypeId::kUuid);
}

TEST_F(PlannerTest, InListGivesOneTuplePerValue) {
  auto p = Select(
      "SELECT * FROM orders WHERE customer_id IN ('01234567-89ab-cdef-0123-456789abcdef', "
      "'11234567-89ab-cdef-0123-456789abcdef', '21234567-89ab-cdef-0123-456789abcdef')");
  EXPECT_EQ(p.route.kind, exec::RouteSpec::Kind::kKeyTuples);
  EXPECT_EQ(p.route.tuples.size(), 3u);
  EXPECT_FALSE(p.single_shard);
}

TEST_F(PlannerTest, OtherPredicatesScatterToAllShards) {
  auto p = Select("SELECT order_id FROM orders WHERE status = 'NEW'");
  EXPECT_EQ(p.route.kind, exec::RouteSpec::Kind::kAllShards);
  EXPECT_EQ(p.merge, exec::SelectPlan::Merge::kConcat);
  EXPECT_NE(p.shard_sql.find("WHERE"), std::string::npos);
}

TEST_F(PlannerTest, OrderByLimitPushesLimitPlusOffsetAndMergeSorts) {
  auto p =
      Select("SELECT order_id, total FROM orders ORDER BY total DESC, order_id LIMIT 10 OFFSET 20");
  EXPECT_EQ(p.merge, exec::SelectPlan::Merge::kSortMerge);
  EXPECT_NE(p.shard_sql.find("LIMIT (10 + 20)"), std::string::npos) << p.shard_sql;
  ASSERT_EQ(p.sort_keys.size(), 2u);
  EXPECT_TRUE(p.sort_keys[0].descending);
  EXPECT_TRUE(p.sort_keys[0].nulls_first);  // PostgreSQL: DESC defaults to NULLS FIRST
  EXPECT_FALSE(p.sort_keys[1].nulls_first);
}

TEST_F(PlannerTest, SortOnAColumnNotSelectedAddsAHiddenColumn) {
  auto p = Select("SELECT order_id FROM orders ORDER BY total");
  EXPECT_EQ(p.output.size(), 1u);
  EXPECT_EQ(p.shard_width, 2);
  EXPECT_EQ(p.sort_keys[0].column, 1);
}

TEST_F(PlannerTest, GroupByMergesPartialAggregatesAtTheCoordinator) {
  auto p = Select(
      "SELECT status, count(*), sum(total), avg(total) FROM orders GROUP BY status HAVING count(*) "
      "> 1");
  EXPECT_EQ(p.merge, exec::SelectPlan::Merge::kCoordinator);
  EXPECT_NE(p.shard_sql.find("GROUP BY"), std::string::npos);
  EXPECT_NE(p.coordinator_sql.find("sb_numavg(sum("), std::string::npos) << p.coordinator_sql;
  EXPECT_NE(p.coordinator_sql.find("HAVING"), std::string::npos);
  EXPECT_EQ(p.output[1].type.id, TypeId::kInt8);
  EXPECT_EQ(p.output[3].type.id, TypeId::kNumeric);
}

TEST_F(PlannerTest, GroupingOnTheShardKeyPushesHavingAndLimitDown) {
  auto p = Select(
      "SELECT customer_id, sum(total) s FROM orders GROUP BY customer_id "
      "HAVING sum(total) > 1000 ORDER BY s DESC LIMIT 5");
  EXPECT_EQ(p.merge, exec::SelectPlan::Merge::kSortMerge);
  EXPECT_NE(p.shard_sql.find("HAVING"), std::string::npos) << p.shard_sql;
  EXPECT_NE(p.shard_sql.find("LIMIT 5"), std::string::npos) << p.shard_sql;
  ASSERT_TRUE(p.limit.has_value());
}

TEST_F(PlannerTest, UngroupedColumnIsAGroupingError) {
  auto r = Plan("SELECT status, order_id, count(*) FROM orders GROUP BY status");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "42803");
}

TEST_F(PlannerTest, ReferenceTableReadsGoToAnyOneShard) {
  auto p = Select("SELECT name FROM products WHERE id = 3");
  EXPECT_EQ(p.route.kind, exec::RouteSpec::Kind::kAnyOneShard);
  EXPECT_TRUE(p.single_shard);
}

TEST_F(PlannerTest, QueryWithoutFromRunsAtTheCoordinator) {
  auto p = Select("SELECT 1 + 2 AS three");
  EXPECT_EQ(p.route.kind, exec::RouteSpec::Kind::kCoordinator);
  EXPECT_EQ(p.output[0].name, "three");
}

TEST_F(PlannerTest, UpdatingTheShardKeyIsRefused) {
  auto r = Plan(
      "UPDATE orders SET customer_id = '01234567-89ab-cdef-0123-456789abcdef' WHERE order_id = 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "0A000");
}

TEST_F(PlannerTest, JoinsRunAtTheCoordinatorWithFiltersPushedToEachInput) {
  // events is not sharded by the join column: not co-located.
  auto p = Select(
      "SELECT o.order_id, e.b FROM orders o JOIN events e ON e.a = o.order_id "
      "WHERE o.status = 'new' AND e.a > 3 AND (o.order_id = e.a OR o.status IS NULL)");
  ASSERT_EQ(p.inputs.size(), 2u);
  EXPECT_EQ(p.inputs[0].route.kind, exec::RouteSpec::Kind::kAllShards);
  EXPECT_NE(p.inputs[0].shard_sql.find("\"o\".\"status\" = 'new'"), std::string::npos)
      << p.inputs[0].shard_sql;
  // The condition over both tables stays at the coordinator only.
  EXPECT_EQ(p.inputs[0].shard_sql.find("IS NULL"), std::string::npos) << p.inputs[0].shard_sql;
  EXPECT_NE(p.inputs[1].shard_sql.find("> 3"), std::string::npos) << p.inputs[1].shard_sql;
  EXPECT_NE(p.coordinator_sql.find("JOIN \"_r1\" AS \"e\""), std::string::npos)
      << p.coordinator_sql;
  ASSERT_EQ(p.output.size(), 2u);
  EXPECT_EQ(p.output[1].name, "b");
}

TEST_F(PlannerTest, CoordinatorInputsFetchOnlyTheColumnsTheQueryReads) {
  auto p = Select(
      "SELECT o.status, count(*) FROM orders o JOIN events e ON e.a = o.order_id "
      "GROUP BY o.status");
  ASSERT_EQ(p.inputs.size(), 2u);
  EXPECT_EQ(p.inputs[0].width, 2);  // order_id, status
  EXPECT_EQ(p.inputs[0].shard_sql.find("total"), std::string::npos) << p.inputs[0].shard_sql;
  EXPECT_EQ(p.inputs[1].width, 1);  // a
  // count(*) alone still fetches one column per row.
  auto c = Select("SELECT count(*) FROM orders o, events e");
  ASSERT_EQ(c.inputs.size(), 2u);
  EXPECT_EQ(c.inputs[0].width, 1);
  EXPECT_EQ(c.inputs[1].width, 1);
}

TEST_F(PlannerTest, TheNullableSideOfAnOuterJoinGetsNoPushedFilter) {
  auto p = Select(
      "SELECT o.order_id FROM orders o LEFT JOIN events e ON e.a = o.order_id "
      "WHERE e.b IS NULL");
  ASSERT_EQ(p.inputs.size(), 2u);
  EXPECT_EQ(p.inputs[1].shard_sql.find("WHERE"), std::string::npos) << p.inputs[1].shard_sql;
}

TEST_F(PlannerTest, ACoLocatedJoinRunsWholeOnEachShard) {
  auto p = Select(
      "SELECT c.name, sum(o.total) FROM customers c JOIN orders o ON o.customer_id = "
      "c.customer_id LEFT JOIN products p ON p.id = o.order_id GROUP BY c.name");
  EXPECT_TRUE(p.inputs.empty());
  EXPECT_TRUE(p.colocated_join);
  EXPECT_NE(p.shard_sql.find("JOIN \"orders\" AS \"o\""), std::string::npos) << p.shard_sql;
  EXPECT_EQ(p.merge, exec::SelectPlan::Merge::kCoordinator);  // two-phase GROUP BY name
  // Grouped by the shard key: the aggregation completes on the shards.
  auto g = Select(
      "SELECT c.customer_id, count(*) FROM customers c JOIN orders o ON o.customer_id = "
      "c.customer_id GROUP BY c.customer_id");
  EXPECT_TRUE(g.colocated_join);
  EXPECT_NE(g.merge, exec::SelectPlan::Merge::kCoordinator);
  // A shard-key equality routes the whole join to one shard.
  auto one = Select(
      "SELECT o.order_id FROM customers c JOIN orders o ON o.customer_id = c.customer_id WHERE "
      "c.customer_id = '7f1c3b0e-0000-4000-8000-000000000001'");
  EXPECT_TRUE(one.single_shard);
}

TEST_F(PlannerTest, JoinsThatAreNotCoLocatedRunAtTheCoordinator) {
  // Not on the shard key.
  EXPECT_EQ(
      Select("SELECT 1 FROM customers c JOIN orders o ON o.order_id::text = c.name").inputs.size(),
      2u);
  // A reference table on the preserved side of an outer join would repeat
  // its unmatched rows once per shard.
  auto p = Select("SELECT 1 FROM products p LEFT JOIN orders o ON o.order_id = p.id");
  EXPECT_FALSE(p.colocated_join);
  EXPECT_EQ(p.inputs.size(), 2u);
  // Only reference tables: any one shard has them all.
  auto r = Select("SELECT 1 FROM products p JOIN products q ON q.id = p.id");
  EXPECT_TRUE(r.colocated_join);
  EXPECT_EQ(r.route.kind, exec::RouteSpec::Kind::kAnyOneShard);
}

TEST_F(PlannerTest, ShardKeyEqualityRoutesAnInputToOneShard) {
  auto p = Select(
      "SELECT count(*) FROM orders o WHERE o.customer_id = "
      "'7f1c3b0e-0000-4000-8000-000000000001' AND o.order_id IN (SELECT id FROM products)");
  ASSERT_EQ(p.inputs.size(), 2u);
  EXPECT_EQ(p.inputs[0].route.kind, exec::RouteSpec::Kind::kKeyTuples);
}

TEST_F(PlannerTest, IntersectAllAndExceptAllNumberTheCopiesOfEachRow) {
  for (const char* op : {"INTERSECT ALL", "EXCEPT ALL"}) {
    auto p = Select(std::string("SELECT order_id FROM orders ") + op +
                    " SELECT id FROM products ORDER BY 1");
    EXPECT_EQ(p.inputs.size(), 2u) << op;
    EXPECT_NE(p.coordinator_sql.find("row_number() OVER (PARTITION BY c0)"), std::string::npos)
        << p.coordinator_sql;
  }
}

TEST_F(PlannerTest, RecursiveCtesAndNamedWindowsRunAtTheCoordinator) {
  auto r = Select(
      "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM "
      "r");
  EXPECT_EQ(r.coordinator_sql.rfind("WITH RECURSIVE \"r\"(\"n\") AS (SELECT * FROM (", 0), 0u)
      << r.coordinator_sql;
  auto w = Select("SELECT row_number() OVER w FROM products WINDOW w AS (ORDER BY id)");
  EXPECT_EQ(w.inputs.size(), 1u);
  EXPECT_NE(w.coordinator_sql.find("OVER (ORDER BY"), std::string::npos) << w.coordinator_sql;
  EXPECT_EQ(Plan("SELECT 1 FROM products WINDOW w AS (ORDER BY nosuch)").status().code(), "42703");
  EXPECT_EQ(
      Plan("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT count(*) FROM r) SELECT n FROM r")
          .status()
          .code(),
      "42P19");
}

TEST_F(PlannerTest, QueryShapesOutsideTheSupportedSetAreRefusedWithFeatureNotSupported) {
  EXPECT_EQ(Plan("SELECT * FROM orders o, LATERAL (SELECT o.id) x").status().code(), "0A000");
  EXPECT_EQ(
      Plan("SELECT count(*) OVER (ORDER BY name RANGE 1 PRECEDING) FROM products").status().code(),
      "0A000");
  EXPECT_EQ(
      Plan("SELECT 1 FROM orders WHERE (order_id, order_id) > ANY (SELECT id, id FROM products)")
          .status()
          .code(),
      "0A000");
  EXPECT_EQ(Plan("SELECT order_id FROM orders UNION SELECT id, name FROM products").status().code(),
            "42601");
  EXPECT_EQ(Plan("SELECT * FROM orders o, products o").status().code(), "42712");
}

TEST_F(PlannerTest, UnknownTableAndColumnUsePostgresSqlstates) {
  EXPECT_EQ(Plan("SELECT * FROM nope").status().code(), "42P01");
  EXPECT_EQ(Plan("SELECT nope FROM orders").status().code(), "42703");
}

TEST_F(PlannerTest, DefaultShardKeyIsThePrimaryKey) {
  const auto* t = catalog_.FindTable("products");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->replicated);
  auto r = Plan("CREATE TABLE kv (k bigint PRIMARY KEY, v text)");
  ASSERT_TRUE(r.ok());
  const auto& kv = *std::get<exec::DdlPlan>(r->plan).new_table;
  ASSERT_EQ(kv.shard_key.size(), 1u);
  EXPECT_EQ(kv.columns[kv.shard_key[0]].name, "k");
}

TEST_F(PlannerTest, TableWithoutPrimaryKeyGetsAHiddenRowidShardKey) {
  const auto* t = catalog_.FindTable("events");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->shard_key.size(), 1u);
  EXPECT_EQ(t->columns[t->shard_key[0]].name, meta::kRowidColumn);
  EXPECT_TRUE(t->columns[t->shard_key[0]].hidden);
  EXPECT_EQ(t->visible_column_count(), 2);
}

TEST_F(PlannerTest, ShardKeyFromWithOption) {
  auto r = Plan("CREATE TABLE w (a int, b text, c int) WITH (shard_key = 'a, b')");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(std::get<exec::DdlPlan>(r->plan).new_table->shard_key, (std::vector<int>{0, 1}));
}

TEST_F(PlannerTest, InvalidDistributionsAreRefused) {
  EXPECT_EQ(Plan("CREATE TABLE r (a int) SHARD BY RANGE (a)").status().code(), "0A000");
  EXPECT_EQ(Plan("CREATE TABLE f (a float8 PRIMARY KEY)").status().code(), "0A000");
  EXPECT_EQ(Plan("CREATE TABLE u (a int, b int UNIQUE) SHARD BY HASH (a)").status().code(),
            "0A000");
  EXPECT_EQ(Plan("CREATE TABLE n (a numeric PRIMARY KEY)").status().code(), "0A000");
}

TEST_F(PlannerTest, SqliteDdlCarriesRangeChecksAndStrictTypes) {
  auto r = Plan("CREATE TABLE s (a smallint PRIMARY KEY, b varchar(3), c numeric(5,2))");
  ASSERT_TRUE(r.ok());
  const std::string& ddl = std::get<exec::DdlPlan>(r->plan).shard_statements[0];
  EXPECT_NE(ddl.find("STRICT"), std::string::npos);
  EXPECT_NE(ddl.find("sb_22003_a"), std::string::npos);
  EXPECT_NE(ddl.find("sb_22001_b"), std::string::npos);
  EXPECT_NE(ddl.find("\"c\" > -100000 AND \"c\" < 100000"), std::string::npos) << ddl;
}

TEST_F(PlannerTest, InsertValuesAreCoercedToColumnTypes) {
  auto r =
      Plan("INSERT INTO orders VALUES ('01234567-89ab-cdef-0123-456789abcdef', 1, 12.5, 'NEW')");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& ins = std::get<exec::InsertPlan>(r->plan);
  ASSERT_EQ(ins.rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(*ins.rows[0][2].constant), 1250);  // numeric(10,2) stored scaled
}

TEST_F(PlannerTest, InsertValueOverflowIsAnError) {
  auto r = Plan(
      "INSERT INTO orders VALUES ('01234567-89ab-cdef-0123-456789abcdef', 1, 123456789.5, 'NEW')");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "22003");
}

TEST_F(PlannerTest, NumericComparisonAlignsScales) {
  auto p = Select("SELECT order_id FROM orders WHERE total > 100");
  EXPECT_NE(p.shard_sql.find("> 10000"), std::string::npos) << p.shard_sql;
}

TEST_F(PlannerTest, UntypedParameterBesideNumericStaysExact) {
  // Typing $1 from the other operand would round it to that scale; it is
  // unconstrained numeric (decimal text), as in PostgreSQL.
  auto p = Select("SELECT total + $1 FROM orders");
  EXPECT_NE(p.shard_sql.find("sb_decop('+'"), std::string::npos) << p.shard_sql;
  // A value beside numeric(p,s) in COALESCE or CASE becomes exact decimal
  // text, as PostgreSQL's unconstrained numeric: nothing is rounded.
  EXPECT_TRUE(Plan("SELECT coalesce(total, $1) FROM orders").ok());
  EXPECT_TRUE(Plan("SELECT CASE WHEN order_id > 1 THEN $1 ELSE total END FROM orders").ok());
  EXPECT_TRUE(Plan("SELECT CASE WHEN order_id > 1 THEN $1 ELSE 'x' END FROM orders").ok());
  EXPECT_TRUE(Plan("SELECT total + $1::numeric(12,3) FROM orders").ok());
  EXPECT_TRUE(Plan("SELECT order_id FROM orders WHERE total > $1").ok());
}

TEST_F(PlannerTest, LikeIsTranslatedWithAnEscapeCharacter) {
  auto p = Select("SELECT order_id FROM orders WHERE status LIKE 'N%'");
  EXPECT_NE(p.shard_sql.find("LIKE 'N%' ESCAPE"), std::string::npos) << p.shard_sql;
}

TEST_F(PlannerTest, CountDistinctOffTheShardKeyCountsAtTheCoordinator) {
  // Equal values may sit on several shards: the rows meet at the coordinator.
  auto p = Select("SELECT count(DISTINCT status) FROM orders");
  EXPECT_EQ(p.inputs.size(), 1u);
  EXPECT_NE(p.coordinator_sql.find("count(DISTINCT"), std::string::npos) << p.coordinator_sql;
  // On the shard key, per-shard counts add up.
  auto k = Select("SELECT count(DISTINCT customer_id) FROM orders");
  EXPECT_TRUE(k.inputs.empty());
}

TEST_F(PlannerTest, SystemViewsRunAtTheCoordinatorFromTheNodesRows) {
  auto p =
      Select("SELECT shard_id, owner_node FROM sys.shards WHERE is_local ORDER BY shard_index");
  EXPECT_EQ(p.merge, exec::SelectPlan::Merge::kCoordinator);
  ASSERT_EQ(p.inputs.size(), 1u);
  const auto& in = p.inputs[0];
  EXPECT_EQ(in.system_view, "shards");
  EXPECT_EQ(in.route.kind, exec::RouteSpec::Kind::kCoordinator);
  ASSERT_NE(in.route.table, nullptr);
  EXPECT_TRUE(in.route.table->system_view);
  EXPECT_NE(in.shard_sql.find("FROM sys.\"shards\" AS \"shards\" WHERE"), std::string::npos)
      << in.shard_sql;
  EXPECT_NE(in.description.find("sys.shards"), std::string::npos);
  ASSERT_EQ(p.output.size(), 2u);
  EXPECT_EQ(p.output[0].type.id, TypeId::kText);
  EXPECT_EQ(p.output[1].type.id, TypeId::kUuid);

  auto all = Select("SELECT * FROM sys.nodes");
  ASSERT_EQ(all.inputs.size(), 1u);
  EXPECT_EQ(all.inputs[0].system_view, "nodes");
  std::vector<std::string> names;
  for (const auto& c : all.output) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"node_id", "raft_id", "role", "state", "is_leader",
                                             "is_self", "rpc_address", "sql_address",
                                             "http_address", "shards_owned"}));
  EXPECT_EQ(all.output[4].type.id, TypeId::kBool);

  auto agg = Select("SELECT count(*), max(epoch) FROM sys.epochs");
  ASSERT_EQ(agg.inputs.size(), 1u);
  EXPECT_EQ(agg.inputs[0].system_view, "epochs");
}

TEST_F(PlannerTest, JoinsOfSystemViewsAndTablesAreNeverCoLocated) {
  auto p = Select(
      "SELECT n.node_id, count(*) FROM sys.shards s JOIN sys.nodes n ON s.owner_node = n.node_id "
      "GROUP BY n.node_id");
  EXPECT_FALSE(p.colocated_join);
  ASSERT_EQ(p.inputs.size(), 2u);
  EXPECT_EQ(p.inputs[0].system_view, "shards");
  EXPECT_EQ(p.inputs[1].system_view, "nodes");

  auto mixed =
      Select("SELECT p.name, s.shard_id FROM products p JOIN sys.shards s ON s.shard_index = p.id");
  EXPECT_FALSE(mixed.colocated_join);
  ASSERT_EQ(mixed.inputs.size(), 2u);
  EXPECT_TRUE(mixed.inputs[0].system_view.empty());
  EXPECT_EQ(mixed.inputs[1].system_view, "shards");

  auto sub = Select("SELECT order_id FROM orders WHERE status IN (SELECT role FROM sys.nodes)");
  ASSERT_EQ(sub.inputs.size(), 2u);
  EXPECT_EQ(sub.inputs[1].system_view, "nodes");
}

TEST_F(PlannerTest, UnknownSystemViewsAndUnqualifiedNamesAreUndefinedTables) {
  auto unknown = Plan("SELECT * FROM sys.tables");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), "42P01");
  EXPECT_NE(unknown.status().message().find("sys.tables"), std::string::npos);
  EXPECT_NE(unknown.status().hint().find("sys.nodes"), std::string::npos);
  // The views live in schema sys only.
  auto bare = Plan("SELECT * FROM nodes");
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.status().code(), "42P01");
}

TEST_F(PlannerTest, WritesAndDdlOnSystemViewsAreRefused) {
  for (const char* sql : {
           "INSERT INTO sys.nodes (role) VALUES ('VOTER')",
           "UPDATE sys.shards SET owner_node = NULL WHERE shard_index = 0",
           "DELETE FROM sys.epochs",
           "COPY sys.nodes FROM STDIN",
           "CREATE INDEX ON sys.nodes (role)",
           "ALTER TABLE sys.nodes ADD COLUMN x int",
           "DROP TABLE sys.nodes",
           "CREATE TABLE sys.mine (a int PRIMARY KEY)",
       }) {
    auto r = Plan(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), "42809") << sql << ": " << r.status().ToString();
  }
  auto ins = Plan("INSERT INTO sys.nodes (role) VALUES ('VOTER')");
  EXPECT_EQ(ins.status().message(), "cannot insert into system view \"sys.nodes\"");
  auto drop = Plan("DROP TABLE IF EXISTS sys.nothing");
  ASSERT_TRUE(drop.ok()) << drop.status().ToString();
  EXPECT_TRUE(std::get<exec::DdlPlan>(drop->plan).if_exists_noop);
}

}  // namespace
}  // namespace sb::sql
