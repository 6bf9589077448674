// The sys.* views (docs/sql.md, "System views") on a real single-node server:
// sys.shards lists every shard, owned here at shard map version 1; sys.nodes
// is this one node; sys.epochs is empty (a single node has no configuration
// epochs). Full SELECT works over them (WHERE, ORDER BY, aggregates, joins of
// views with each other and with tables, subqueries), the protocol types are
// the views' column types, and writes and DDL are refused with 42809.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "e2e_util.h"

namespace sb::e2e {
namespace {

constexpr const char* kNilUuid = "00000000-0000-0000-0000-000000000000";

class SysViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start({"--synchronous", "OFF"})) << server_.log();
    conn_ = std::make_unique<Conn>(server_.conninfo());
    ASSERT_TRUE(conn_->ok()) << conn_->error();
  }

  Result Ok(const std::string& sql) {
    Result r = conn_->Exec(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.error();
    return r;
  }

  TempDir dir_;
  ServerProcess server_{dir_.path()};
  std::unique_ptr<Conn> conn_;
};

TEST_F(SysViewsTest, ShardsListsEveryShardOwnedHere) {
  Result all = Ok("SELECT * FROM sys.shards");
  ASSERT_EQ(all.rows(), 16);
  ASSERT_EQ(all.cols(), 8);
  EXPECT_STREQ(PQfname(all.get(), 0), "shard_id");
  EXPECT_EQ(PQftype(all.get(), 1), 23u);    // integer
  EXPECT_EQ(PQftype(all.get(), 2), 2950u);  // uuid
  EXPECT_EQ(PQftype(all.get(), 7), 16u);    // boolean

  Result ordered =
      Ok("SELECT shard_id, shard_index, owner_node, shard_map_version, is_local, vnodes FROM "
         "sys.shards WHERE shard_index >= 14 ORDER BY shard_id DESC");
  EXPECT_EQ(ordered.lines(),
            (std::vector<std::string>{"shard_016|15|" + std::string(kNilUuid) + "|1|t|16",
                                      "shard_015|14|" + std::string(kNilUuid) + "|1|t|16"}));
  EXPECT_EQ(conn_->Scalar("SELECT sum(vnodes) FROM sys.shards WHERE is_local"), "256");
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM sys.shards WHERE NOT is_local"), "0");
  // Parameters in a filter over a view (extended protocol).
  Result p = conn_->Params("SELECT shard_id FROM sys.shards WHERE shard_index = $1", {"6"});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p.column(0), (std::vector<std::string>{"shard_007"}));
}

TEST_F(SysViewsTest, NodesIsThisNodeAndEpochsIsEmpty) {
  Result n = Ok(
      "SELECT node_id, role, state, is_leader, is_self, sql_address, shards_owned FROM sys.nodes");
  ASSERT_EQ(n.rows(), 1);
  EXPECT_EQ(n.at(0, 0), kNilUuid);
  EXPECT_EQ(n.at(0, 1), "VOTER");
  EXPECT_EQ(n.at(0, 2), "ACTIVE");
  EXPECT_EQ(n.at(0, 3), "t");
  EXPECT_EQ(n.at(0, 4), "t");
  EXPECT_EQ(n.at(0, 5), "127.0.0.1:" + std::to_string(server_.sql_port()));
  EXPECT_EQ(n.at(0, 6), "16");
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM sys.epochs"), "0");
  Result e = Ok("SELECT epoch, hash, created_at FROM sys.epochs ORDER BY epoch");
  EXPECT_EQ(e.rows(), 0);
  EXPECT_EQ(PQftype(e.get(), 0), 20u);    // bigint
  EXPECT_EQ(PQftype(e.get(), 2), 1184u);  // timestamptz
}

TEST_F(SysViewsTest, JoinsAggregatesAndSubqueriesOverViewsAndTables) {
  Result j =
      Ok("SELECT n.role, count(*) AS shards, min(s.shard_id) FROM sys.shards s JOIN sys.nodes n ON "
         "s.owner_node = n.node_id GROUP BY n.role ORDER BY 2 DESC");
  EXPECT_EQ(j.lines(), (std::vector<std::string>{"VOTER|16|shard_001"}));
  Ok("CREATE TABLE kv (k int PRIMARY KEY, v text)");
  Ok("INSERT INTO kv VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  Result mixed =
      Ok("SELECT kv.k, s.shard_id FROM kv JOIN sys.shards s ON s.shard_index = kv.k ORDER BY kv.k");
  EXPECT_EQ(mixed.lines(), (std::vector<std::string>{"1|shard_002", "2|shard_003", "3|shard_004"}));
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM kv WHERE k < (SELECT count(*) FROM sys.nodes) + 1"),
            "1");
  // EXPLAIN shows the view as a coordinator input.
  Result ex = Ok("EXPLAIN SELECT shard_id FROM sys.shards WHERE is_local");
  std::string plan;
  for (const auto& l : ex.column(0)) plan += l + "\n";
  EXPECT_NE(plan.find("sys.shards (system view"), std::string::npos) << plan;
}

TEST_F(SysViewsTest, WritesAndDdlAreRefused) {
  Result ins = conn_->Exec("INSERT INTO sys.nodes (role) VALUES ('VOTER')");
  EXPECT_EQ(ins.sqlstate(), "42809") << ins.error();
  EXPECT_EQ(ins.message(), "cannot insert into system view \"sys.nodes\"");
  for (const char* sql :
       {"UPDATE sys.shards SET is_local = false", "DELETE FROM sys.epochs", "DROP TABLE sys.shards",
        "CREATE TABLE sys.t (a int PRIMARY KEY)", "ALTER TABLE sys.nodes ADD COLUMN x int"}) {
    Result r = conn_->Exec(sql);
    EXPECT_EQ(r.sqlstate(), "42809") << sql << ": " << r.error();
  }
  Result unknown = conn_->Exec("SELECT * FROM sys.tables");
  EXPECT_EQ(unknown.sqlstate(), "42P01") << unknown.error();
  // The connection is still usable.
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM sys.shards"), "16");
}

}  // namespace
}  // namespace sb::e2e
