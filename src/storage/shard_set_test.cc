#include "storage/shard_set.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "storage/test_util.h"

namespace sb::storage {
namespace {

using testing::Exec;
using testing::Query;
using testing::TempDir;

std::unique_ptr<ShardSet> OpenSet(const std::string& dir, int n) {
  ShardOptions base;
  base.path = "/ignored/path.db";
  base.synchronous = "NORMAL";
  auto set = ShardSet::Open(dir, n, base);
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return set.ok() ? std::move(set).value() : nullptr;
}

std::vector<std::string> Tables(ShardStore& store) {
  auto conn = store.Acquire();
  EXPECT_TRUE(conn.ok());
  std::vector<std::string> names;
  for (const Row& r : Query(**conn,
                            "SELECT name FROM sqlite_schema WHERE type IN ('table', 'index') "
                            "AND name NOT LIKE 'sqlite%' ORDER BY name")) {
    names.push_back(std::get<std::string>(r[0]));
  }
  return names;
}

TEST(ShardSet, OpenCreatesNumberedFilesWithTheBaseOptions) {
  TempDir tmp;
  const std::string dir = tmp.File("data/shards");  // created on demand
  auto set = OpenSet(dir, 4);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->size(), 4);
  for (int i = 0; i < 4; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/shard_%03d.db", i);
    EXPECT_TRUE(std::filesystem::exists(dir + name)) << name;
    EXPECT_EQ(set->shard(i).shard_index(), i);
    EXPECT_EQ(set->shard(i).options().path, dir + name);
    auto conn = set->shard(i).Acquire();
    ASSERT_TRUE(conn.ok());
    EXPECT_EQ(Query(**conn, "PRAGMA synchronous")[0][0], Value(int64_t{1}));
  }
  EXPECT_FALSE(std::filesystem::exists("/ignored/path.db"));
  // Reopening finds the same files; a bad count is refused.
  set.reset();
  EXPECT_NE(OpenSet(dir, 4), nullptr);
  auto bad = ShardSet::Open(dir, 0, ShardOptions{});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), sqlstate::kInvalidParameterValue);
}

TEST(ShardSet, ApplyDdlEverywhereChangesEveryShard) {
  TempDir tmp;
  auto set = OpenSet(tmp.path(), 4);
  ASSERT_NE(set, nullptr);
  Status st = set->ApplyDdlEverywhere(
      {"CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)",
       "CREATE INDEX accounts_balance ON accounts(balance)"});
  ASSERT_TRUE(st.ok()) << st.ToString();
  for (int i = 0; i < set->size(); ++i) {
    EXPECT_EQ(Tables(set->shard(i)),
              (std::vector<std::string>{"_sb_wal", "accounts", "accounts_balance"}))
        << "shard " << i;
    // DDL is not logged.
    EXPECT_EQ(*set->shard(i).LastLsn(), 0u);
  }
  // The new table is usable and its writes are logged.
  auto conn = set->shard(2).Acquire();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->BeginWrite().ok());
  Exec(**conn, "INSERT INTO accounts VALUES (1, 100)");
  auto lsn = (*conn)->Commit(1);
  ASSERT_TRUE(lsn.ok());
  EXPECT_EQ(*lsn, 1u);
}

TEST(ShardSet, ApplyDdlEverywhereFailureOnOneShardChangesNoShard) {
  TempDir tmp;
  auto set = OpenSet(tmp.path(), 4);
  ASSERT_NE(set, nullptr);
  {
    auto conn = set->shard(2).Acquire();
    ASSERT_TRUE(conn.ok());
    Exec(**conn, "CREATE TABLE orders(x TEXT PRIMARY KEY)");
  }
  std::vector<std::vector<std::string>> before;
  for (int i = 0; i < set->size(); ++i) before.push_back(Tables(set->shard(i)));

  Status st = set->ApplyDdlEverywhere(
      {"CREATE TABLE customers(id INTEGER PRIMARY KEY)",
       "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers(id))"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("shard 2"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("already exists"), std::string::npos) << st.ToString();
  for (int i = 0; i < set->size(); ++i) {
    EXPECT_EQ(Tables(set->shard(i)), before[static_cast<size_t>(i)]) << "shard " << i;
    // No write lock is left behind.
    auto conn = set->shard(i).Acquire();
    ASSERT_TRUE(conn.ok());
    EXPECT_FALSE((*conn)->in_transaction());
    ASSERT_TRUE((*conn)->BeginWrite().ok()) << "shard " << i;
    ASSERT_TRUE((*conn)->Rollback().ok());
  }
  // After fixing the conflict the same DDL succeeds everywhere.
  {
    auto conn = set->shard(2).Acquire();
    ASSERT_TRUE(conn.ok());
    Exec(**conn, "DROP TABLE orders");
  }
  st = set->ApplyDdlEverywhere(
      {"CREATE TABLE customers(id INTEGER PRIMARY KEY)",
       "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers(id))"});
  EXPECT_TRUE(st.ok()) << st.ToString();
  for (int i = 0; i < set->size(); ++i) {
    EXPECT_EQ(Tables(set->shard(i)), (std::vector<std::string>{"_sb_wal", "customers", "orders"}));
  }
}

TEST(ShardSet, ApplyDdlEverywhereWaitsForAnotherWriterInsteadOfFailing) {
  TempDir tmp;
  auto set = OpenSet(tmp.path(), 2);
  ASSERT_NE(set, nullptr);
  ASSERT_TRUE(set->ApplyDdlEverywhere({"CREATE TABLE t(id INTEGER PRIMARY KEY)"}).ok());
  auto conn = set->shard(1).Acquire();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->BeginWrite().ok());
  Exec(**conn, "INSERT INTO t VALUES (1)");
  std::thread committer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto lsn = (*conn)->Commit(1);
    EXPECT_TRUE(lsn.ok());
  });
  Status st = set->ApplyDdlEverywhere({"CREATE TABLE u(id INTEGER PRIMARY KEY)"});
  committer.join();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(*set->shard(1).LastLsn(), 1u);
}

}  // namespace
}  // namespace sb::storage
