#include "exec/executor.h"

#include <gtest/gtest.h>

#include "meta/system_views.h"

#include <filesystem>
#include <set>

namespace sb::exec {
namespace {

namespace fs = std::filesystem;

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sb_exec_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    storage::ShardOptions so;
    so.synchronous = "OFF";
    so.on_open = [](sqlite3* db) { RegisterSqlFunctions(db); };
    auto set = storage::ShardSet::Open(dir_.string(), 4, so);
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    shards_ = std::move(*set);
    exec_ = std::make_unique<Executor>(shards_.get(), meta::ShardMap::Initial(4), 4);
    ASSERT_TRUE(exec_->InitCatalogTables().ok());

    table_.name = "kv";
    table_.columns = {{"k", SqlType::Of(TypeId::kInt8), true, false, {}},
                      {"v", SqlType::Of(TypeId::kText), false, false, {}},
                      {meta::kVnodeColumn, SqlType::Of(TypeId::kInt4), true, true, {}}};
    table_.shard_key = {0};
    table_.primary_key = {0};
    DdlPlan ddl;
    ddl.kind = DdlPlan::Kind::kCreateTable;
    ddl.table_name = "kv";
    ddl.new_table = table_;
    ddl.shard_statements = {
        "CREATE TABLE \"kv\" (\"k\" INTEGER NOT NULL PRIMARY KEY, \"v\" TEXT, \"_sb_vnode\" "
        "INTEGER NOT NULL) STRICT"};
    ASSERT_TRUE(exec_->ApplyDdl(ddl, 1).ok());
  }
  void TearDown() override {
    exec_.reset();
    shards_.reset();
    fs::remove_all(dir_);
  }

  InsertPlan InsertOf(std::vector<int64_t> keys) {
    InsertPlan p;
    p.table = &table_;
    p.columns = {0, 1};
    for (int64_t k : keys) {
      ValueSource key{SqlType::Of(TypeId::kInt8), Value(k), 0, {}, {}};
      ValueSource val{
          SqlType::Of(TypeId::kText), Value(std::string("v") + std::to_string(k)), 0, {}, {}};
      p.rows.push_back({key, val});
    }
    return p;
  }

  int64_t CountOn(int shard) {
    auto c = shards_->shard(shard).Acquire();
    int64_t n = -1;
    EXPECT_TRUE((*c)->Execute("SELECT count(*) FROM kv", {},
                              [&](const Row& r) {
                                n = std::get<int64_t>(r[0]);
                                return Status::Ok();
                              })
                    .ok());
    return n;
  }

  int64_t Total() {
    int64_t n = 0;
    for (int s = 0; s < 4; ++s) n += CountOn(s);
    return n;
  }

  // Shard of key k under the executor's own routing.
  int ShardOf(int64_t k) {
    RouteSpec r;
    r.kind = RouteSpec::Kind::kKeyTuples;
    r.table = &table_;
    r.tuples = {{ValueSource{SqlType::Of(TypeId::kInt8), Value(k), 0, {}, {}}}};
    auto shards = exec_->ResolveRoute(r, {});
    EXPECT_TRUE(shards.ok());
    return shards->at(0);
  }

  // Two keys that live on different shards.
  std::pair<int64_t, int64_t> KeysOnTwoShards() {
    for (int64_t b = 2; b < 1000; ++b) {
      if (ShardOf(b) != ShardOf(1)) return {1, b};
    }
    ADD_FAILURE() << "no two keys on different shards";
    return {1, 2};
  }

  fs::path dir_;
  std::unique_ptr<storage::ShardSet> shards_;
  std::unique_ptr<Executor> exec_;
  meta::TableDef table_;
  ExecOptions opts_;
};

TEST_F(ExecutorTest, InsertedRowsLandOnTheShardTheirKeyHashesTo) {
  TxnState txn;
  auto r = exec_->Insert(InsertOf({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), {}, &txn, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->affected, 10);
  EXPECT_EQ(Total(), 10);
  for (int64_t k = 1; k <= 10; ++k) {
    auto c = shards_->shard(ShardOf(k)).Acquire();
    int found = 0;
    ASSERT_TRUE((*c)->Execute("SELECT count(*) FROM kv WHERE k = ?1", {Value(k)},
                              [&](const Row& row) {
                                found = static_cast<int>(std::get<int64_t>(row[0]));
                                return Status::Ok();
                              })
                    .ok());
    EXPECT_EQ(found, 1) << "key " << k;
  }
}

TEST_F(ExecutorTest, SecondShardInATransactionIsRefusedAndNothingCommits) {
  auto [a, b] = KeysOnTwoShards();
  TxnState txn;
  txn.in_block = true;
  ASSERT_TRUE(exec_->Insert(InsertOf({a}), {}, &txn, opts_).ok());
  auto second = exec_->Insert(InsertOf({b}), {}, &txn, opts_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), "0A000");
  EXPECT_NE(second.status().message().find("cross-shard"), std::string::npos);
  exec_->Rollback(&txn);
  EXPECT_EQ(Total(), 0);
}

TEST_F(ExecutorTest, SameShardTransactionCommitsAllItsWrites) {
  int64_t same = 2;
  while (ShardOf(same) != ShardOf(1)) ++same;
  TxnState txn;
  txn.in_block = true;
  ASSERT_TRUE(exec_->Insert(InsertOf({1}), {}, &txn, opts_).ok());
  ASSERT_TRUE(exec_->Insert(InsertOf({same}), {}, &txn, opts_).ok());
  EXPECT_EQ(Total(), 0);  // not visible to other connections before COMMIT
  ASSERT_TRUE(exec_->Commit(&txn).ok());
  EXPECT_EQ(Total(), 2);
}

TEST_F(ExecutorTest, MultiShardAutocommitInsertIsAllOrNothing) {
  auto [a, b] = KeysOnTwoShards();
  TxnState txn;
  ASSERT_TRUE(exec_->Insert(InsertOf({b}), {}, &txn, opts_).ok());
  // a is new, b is a duplicate on another shard: the whole statement fails.
  auto r = exec_->Insert(InsertOf({a, b}), {}, &txn, opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "23505");
  EXPECT_EQ(Total(), 1);
}

TEST_F(ExecutorTest, ScatterSelectMergesSortedRunsWithLimit) {
  TxnState txn;
  ASSERT_TRUE(exec_->Insert(InsertOf({5, 3, 9, 1, 7, 2, 8}), {}, &txn, opts_).ok());
  SelectPlan p;
  p.route.kind = RouteSpec::Kind::kAllShards;
  p.shard_sql = "SELECT k FROM kv ORDER BY k DESC LIMIT 4";
  p.shard_width = 1;
  p.merge = SelectPlan::Merge::kSortMerge;
  p.sort_keys = {{0, true, true}};
  p.limit = ValueSource{SqlType::Of(TypeId::kInt8), Value(int64_t{3}), 0, {}, {}};
  p.offset = ValueSource{SqlType::Of(TypeId::kInt8), Value(int64_t{1}), 0, {}, {}};
  p.output = {{"k", SqlType::Of(TypeId::kInt8)}};
  auto r = exec_->Select(p, {}, &txn, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(r->rows[0][0]), 8);
  EXPECT_EQ(std::get<int64_t>(r->rows[2][0]), 5);
}

TEST_F(ExecutorTest, CoordinatorStageReaggregatesPartials) {
  TxnState txn;
  ASSERT_TRUE(exec_->Insert(InsertOf({1, 2, 3, 4, 5, 6}), {}, &txn, opts_).ok());
  SelectPlan p;
  p.route.kind = RouteSpec::Kind::kAllShards;
  p.shard_sql = "SELECT count(*), sum(k) FROM kv";
  p.shard_width = 2;
  p.merge = SelectPlan::Merge::kCoordinator;
  p.coordinator_sql = "SELECT sum(c0), sum(c1) FROM _p";
  p.output = {{"count", SqlType::Of(TypeId::kInt8)}, {"sum", SqlType::Of(TypeId::kInt8)}};
  auto r = exec_->Select(p, {}, &txn, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(r->rows[0][0]), 6);
  EXPECT_EQ(std::get<int64_t>(r->rows[0][1]), 21);
}

TEST_F(ExecutorTest, StatementTimeoutInterruptsEveryShard) {
  SelectPlan p;
  p.route.kind = RouteSpec::Kind::kAllShards;
  // Runs for a long time on every shard unless interrupted.
  p.shard_sql =
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) "
      "SELECT count(*) FROM c";
  p.shard_width = 1;
  p.output = {{"count", SqlType::Of(TypeId::kInt8)}};
  CancelState cancel;
  cancel.Reset(std::chrono::milliseconds(100));
  ExecOptions opts;
  opts.cancel = &cancel;
  TxnState txn;
  auto r = exec_->Select(p, {}, &txn, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "57014");
  EXPECT_NE(r.status().message().find("statement timeout"), std::string::npos)
      << r.status().message();
}

TEST_F(ExecutorTest, CoordinatorResultPastMaxMergeMemoryFailsCleanly) {
  SelectPlan p;
  p.route.kind = RouteSpec::Kind::kCoordinator;
  // An endless recursive CTE at the coordinator: stopped by the memory cap,
  // not by exhausting memory.
  p.shard_sql =
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x, 'padding' FROM c";
  p.shard_width = 2;
  p.output = {{"x", SqlType::Of(TypeId::kInt8)}, {"t", SqlType::Of(TypeId::kText)}};
  ExecOptions opts;
  opts.max_merge_memory = 1 << 20;
  TxnState txn;
  auto r = exec_->Select(p, {}, &txn, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "53200");
  EXPECT_NE(r.status().message().find("scratchbird.max_merge_memory"), std::string::npos)
      << r.status().message();
  // A result within the cap is returned whole.
  p.shard_sql =
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) "
      "SELECT x, 'padding' FROM c";
  auto ok = exec_->Select(p, {}, &txn, opts);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->rows.size(), 1000u);
}

TEST_F(ExecutorTest, FailedShardFailsTheWholeQuery) {
  SelectPlan p;
  p.route.kind = RouteSpec::Kind::kAllShards;
  p.shard_sql = "SELECT sb_div(1, 0)";
  p.shard_width = 1;
  p.output = {{"x", SqlType::Of(TypeId::kInt4)}};
  TxnState txn;
  auto r = exec_->Select(p, {}, &txn, opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "22012");
}

TEST_F(ExecutorTest, CatalogRoundTripsThroughEveryShard) {
  auto c = exec_->LoadCatalog();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->schema_version(), 1u);
  ASSERT_NE(c->FindTable("kv"), nullptr);
  EXPECT_EQ(c->FindTable("kv")->shard_key, (std::vector<int>{0}));
}

TEST_F(ExecutorTest, CopyTextAndCsvParseEscapesQuotesAndNulls) {
  CopyPlan text;
  text.table = &table_;
  text.columns = {0, 1};
  TxnState txn;
  auto r = exec_->Copy(text, "1\ta\\tb\n2\t\\N\n\\.\n", &txn, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->affected, 2);
  CopyPlan csv = text;
  csv.csv = true;
  csv.delimiter = ',';
  csv.null_string = "";
  r = exec_->Copy(csv, "3,\"x,\"\"y\"\"\"\n4,\n", &txn, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Total(), 4);
  auto c = shards_->shard(ShardOf(3)).Acquire();
  std::string v;
  ASSERT_TRUE((*c)->Execute("SELECT v FROM kv WHERE k = 3", {},
                            [&](const Row& row) {
                              v = std::get<std::string>(row[0]);
                              return Status::Ok();
                            })
                  .ok());
  EXPECT_EQ(v, "x,\"y\"");
}

TEST_F(ExecutorTest, CopyReportsTheBadLine) {
  CopyPlan text;
  text.table = &table_;
  text.columns = {0, 1};
  TxnState txn;
  auto r = exec_->Copy(text, "1\ta\nnot-a-number\tb\n", &txn, opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "22P02");
  EXPECT_NE(r.status().detail().find("line 2"), std::string::npos) << r.status().detail();
  EXPECT_EQ(Total(), 0);
}

// A provider with two nodes and the shards of the 4-shard test set.
class FakeSystemViews : public SystemViewSource {
 public:
  Result<std::vector<Row>> SystemViewRows(const meta::TableDef& view) override {
    ++calls;
    std::vector<Row> rows;
    if (view.name == "nodes") {
      rows.push_back({std::string("00000000-0000-7000-8000-000000000001"), int64_t{11},
                      std::string("VOTER"), std::string("ACTIVE"), int64_t{1}, int64_t{1},
                      std::string("127.0.0.1:7001"), std::string("127.0.0.1:4001"), Value{},
                      int64_t{3}});
      rows.push_back({std::string("00000000-0000-7000-8000-000000000002"), int64_t{22},
                      std::string("VOTER"), std::string("ACTIVE"), int64_t{0}, int64_t{0},
                      std::string("127.0.0.1:7002"), std::string("127.0.0.1:4002"), Value{},
                      int64_t{1}});
    } else if (view.name == "shards") {
      for (int i = 0; i < 4; ++i) {
        rows.push_back({meta::ShardMap::ShardName(i), int64_t{i},
                        std::string(i < 3 ? "00000000-0000-7000-8000-000000000001"
                                          : "00000000-0000-7000-8000-000000000002"),
                        Value{}, Value{}, int64_t{64}, int64_t{1}, int64_t{i < 3}});
      }
    } else {
      return Status(sqlstate::kUndefinedTable, "no such view");
    }
    return rows;
  }
  int calls = 0;
};

CoordinatorInput ViewInput(const std::string& view, const std::string& name,
                           const std::string& sql) {
  CoordinatorInput in;
  in.name = name;
  in.system_view = view;
  in.route.kind = RouteSpec::Kind::kCoordinator;
  in.route.table = meta::FindSystemView(view);
  in.shard_sql = sql;
  return in;
}

TEST_F(ExecutorTest, SystemViewInputsReadTheProviderAndFilterAtTheCoordinator) {
  FakeSystemViews views;
  exec_->SetSystemViews(&views);
  TxnState txn;
  ASSERT_TRUE(exec_->Insert(InsertOf({1, 2, 3}), {}, &txn, opts_).ok());
  SelectPlan plan;
  plan.route.kind = RouteSpec::Kind::kCoordinator;
  plan.merge = SelectPlan::Merge::kCoordinator;
  // Shards of the leader, joined with their node, parameters in the filter.
  auto shards = ViewInput("shards", "_r0",
                          "SELECT s.shard_id, s.owner_node FROM sys.\"shards\" AS s "
                          "WHERE s.shard_index >= ?1");
  shards.columns_sql = "shard_id TEXT, owner_node TEXT";
  shards.width = 2;
  auto nodes = ViewInput("nodes", "_r1", "SELECT n.node_id, n.raft_id FROM sys.\"nodes\" AS n");
  nodes.columns_sql = "node_id TEXT, raft_id INTEGER";
  nodes.width = 2;
  CoordinatorInput kv;  // a shard input beside them
  kv.name = "_r2";
  kv.columns_sql = "k INTEGER";
  kv.width = 1;
  kv.route.kind = RouteSpec::Kind::kAllShards;
  kv.shard_sql = "SELECT k FROM kv";
  plan.inputs = {shards, nodes, kv};
  plan.coordinator_sql =
      "SELECT _r0.shard_id, _r1.raft_id, (SELECT count(*) FROM _r2) FROM _r0 JOIN _r1 ON "
      "_r0.owner_node = _r1.node_id ORDER BY 1";
  plan.output = {{"shard_id", SqlType::Of(TypeId::kText)},
                 {"raft_id", SqlType::Of(TypeId::kInt8)},
                 {"count", SqlType::Of(TypeId::kInt8)}};
  auto r = exec_->Select(plan, {Value(int64_t{1})}, &txn, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(std::get<std::string>(r->rows[0][0]), "shard_002");
  EXPECT_EQ(std::get<int64_t>(r->rows[0][1]), 11);
  EXPECT_EQ(std::get<std::string>(r->rows[2][0]), "shard_004");
  EXPECT_EQ(std::get<int64_t>(r->rows[2][1]), 22);
  EXPECT_EQ(std::get<int64_t>(r->rows[2][2]), 3);
  EXPECT_EQ(views.calls, 2);
  // The coordinator database is left clean: the same plan runs again.
  auto again = exec_->Select(plan, {Value(int64_t{3})}, &txn, opts_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->rows.size(), 1u);
}

TEST_F(ExecutorTest, SystemViewErrorsReachTheClient) {
  TxnState txn;
  SelectPlan plan;
  plan.route.kind = RouteSpec::Kind::kCoordinator;
  plan.merge = SelectPlan::Merge::kCoordinator;
  auto nodes = ViewInput("nodes", "_r0", "SELECT n.node_id FROM sys.\"nodes\" AS n");
  nodes.columns_sql = "node_id TEXT";
  nodes.width = 1;
  plan.inputs = {nodes};
  plan.coordinator_sql = "SELECT count(*) FROM _r0";
  plan.output = {{"count", SqlType::Of(TypeId::kInt8)}};
  // No provider: refused, not an empty view.
  auto none = exec_->Select(plan, {}, &txn, opts_);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), sqlstate::kFeatureNotSupported);
  FakeSystemViews views;
  exec_->SetSystemViews(&views);
  plan.inputs[0] = ViewInput("epochs", "_r0", "SELECT e.epoch FROM sys.\"epochs\" AS e");
  plan.inputs[0].columns_sql = "epoch INTEGER";
  plan.inputs[0].width = 1;
  auto failed = exec_->Select(plan, {}, &txn, opts_);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), sqlstate::kUndefinedTable);
}

}  // namespace
}  // namespace sb::exec
