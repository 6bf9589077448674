#include "storage/shard_set.h"

#include <sqlite3.h>

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

// --- Group commit and recovery from the commit log -------------------------

std::unique_ptr<ShardSet> OpenDurableSet(const std::string& dir, int n) {
  ShardOptions base;
  base.synchronous = "FULL";  // group commit on (the default)
  auto set = ShardSet::Open(dir, n, base);
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return set.ok() ? std::move(set).value() : nullptr;
}

void Insert(ShardSet& set, int shard, int64_t id) {
  auto conn = set.shard(shard).Acquire();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->BeginWrite().ok());
  Exec(**conn, "INSERT INTO t VALUES (?1, 'v')", {id});
  auto lsn = (*conn)->Commit(7);
  ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
}

std::vector<int64_t> Ids(ShardSet& set, int shard) {
  auto conn = set.shard(shard).Acquire();
  EXPECT_TRUE(conn.ok());
  std::vector<int64_t> ids;
  for (const Row& r : Query(**conn, "SELECT id FROM t ORDER BY id")) {
    ids.push_back(std::get<int64_t>(r[0]));
  }
  return ids;
}

// Closed cleanly, a shard's database file holds all of it (SQLite checkpoints
// and removes the WAL when the last connection closes). Restoring an older
// copy is what a power loss does to commits the shard had not synced yet.
void SaveShard(const std::string& dir, int shard, const std::string& to) {
  std::filesystem::copy_file(ShardSet::ShardPath(dir, shard), to,
                             std::filesystem::copy_options::overwrite_existing);
}
void RestoreShard(const std::string& dir, int shard, const std::string& from) {
  const std::string path = ShardSet::ShardPath(dir, shard);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  std::filesystem::copy_file(from, path, std::filesystem::copy_options::overwrite_existing);
}

// A durable set of `n` shards with table t, closed again, and a copy of shard
// 0 as it is now at `saved` (the state a later power loss goes back to).
void CreateTableAndSaveShard0(const std::string& dir, int n, const std::string& saved) {
  {
    auto set = OpenDurableSet(dir, n);
    ASSERT_NE(set, nullptr);
    ASSERT_TRUE(set->ApplyDdlEverywhere({"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"}).ok());
  }
  SaveShard(dir, 0, saved);
}

TEST(ShardSetRecovery, CommitsAShardLostAreReappliedFromTheCommitLog) {
  TempDir tmp;
  const std::string dir = tmp.File("shards");
  {
    auto set = OpenDurableSet(dir, 2);
    ASSERT_NE(set, nullptr);
    ASSERT_NE(set->commit_log(), nullptr);
    ASSERT_TRUE(set->ApplyDdlEverywhere({"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"}).ok());
    Insert(*set, 0, 1);
    auto conn = set->shard(0).Acquire();
    ASSERT_TRUE(conn.ok());
    // The shard itself does not sync at COMMIT; the commit log does.
    EXPECT_EQ(Query(**conn, "PRAGMA synchronous")[0][0], Value(int64_t{1}));
  }
  SaveShard(dir, 0, tmp.File("shard0.lsn1"));
  {
    auto set = OpenDurableSet(dir, 2);
    Insert(*set, 0, 2);
    Insert(*set, 0, 3);
    Insert(*set, 1, 10);
  }
  RestoreShard(dir, 0, tmp.File("shard0.lsn1"));
  auto set = OpenDurableSet(dir, 2);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->recovered_commits(), 2u);
  EXPECT_EQ(Ids(*set, 0), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(Ids(*set, 1), (std::vector<int64_t>{10}));
  // The write-after log is whole again, with the original records.
  auto wal = set->shard(0).ReadWal(1, 10);
  ASSERT_TRUE(wal.ok());
  ASSERT_EQ(wal->size(), 3u);
  EXPECT_EQ((*wal)[2].lsn, 3u);
  EXPECT_EQ((*wal)[2].hlc, 7u);
  // And the next commit continues the LSN sequence.
  Insert(*set, 0, 4);
  EXPECT_EQ(*set->shard(0).LastLsn(), 4u);
}

TEST(ShardSetRecovery, ARolledBackOrFailedCommitIsNotReapplied) {
  TempDir tmp;
  const std::string dir = tmp.File("shards");
  CreateTableAndSaveShard0(dir, 1, tmp.File("shard0.empty"));
  {
    auto set = OpenDurableSet(dir, 1);
    // Logged, then rolled back before COMMIT (another shard of the same
    // statement failed): LSN 1 is cancelled and reused.
    auto conn = set->shard(0).Acquire();
    ASSERT_TRUE((*conn)->BeginWrite().ok());
    Exec(**conn, "INSERT INTO t VALUES (100, 'rolled back')");
    auto lsn = (*conn)->PrepareCommit(1);
    ASSERT_TRUE(lsn.ok());
    EXPECT_EQ(*lsn, 1u);
    ASSERT_TRUE((*conn)->Rollback().ok());
    conn->reset();
    Insert(*set, 0, 1);  // LSN 1 again
    // Logged and rolled back with nothing after it.
    auto again = set->shard(0).Acquire();
    ASSERT_TRUE((*again)->BeginWrite().ok());
    Exec(**again, "INSERT INTO t VALUES (200, 'rolled back')");
    ASSERT_TRUE((*again)->PrepareCommit(1).ok());
    ASSERT_TRUE((*again)->Rollback().ok());
  }
  RestoreShard(dir, 0, tmp.File("shard0.empty"));
  auto set = OpenDurableSet(dir, 1);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->recovered_commits(), 1u);
  EXPECT_EQ(Ids(*set, 0), (std::vector<int64_t>{1}));
  EXPECT_EQ(*set->shard(0).LastLsn(), 1u);
}

TEST(ShardSetRecovery, AShardThatDoesNotMatchTheLogIsRefusedWithXX001) {
  TempDir tmp;
  const std::string dir = tmp.File("shards");
  CreateTableAndSaveShard0(dir, 1, tmp.File("shard0.empty"));
  {
    auto set = OpenDurableSet(dir, 1);
    Insert(*set, 0, 5);
  }
  RestoreShard(dir, 0, tmp.File("shard0.empty"));
  {
    // The restored shard gained a row the log's changeset inserts too.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(ShardSet::ShardPath(dir, 0).c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO t VALUES (5, 'other')", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  ShardOptions base;
  auto set = ShardSet::Open(dir, 1, base);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), sqlstate::kDataCorrupted) << set.status().ToString();
  EXPECT_NE(set.status().message().find("LSN 1 of shard 0"), std::string::npos)
      << set.status().ToString();
}

TEST(ShardSetRecovery, AGapBetweenTheShardAndTheLogIsRefusedWithXX001) {
  TempDir tmp;
  const std::string dir = tmp.File("shards");
  CreateTableAndSaveShard0(dir, 1, tmp.File("shard0.empty"));
  {
    auto set = OpenDurableSet(dir, 1);
    Insert(*set, 0, 1);
  }
  {
    // Reopening trims the log: LSN 1 is now only in the shard.
    auto set = OpenDurableSet(dir, 1);
    Insert(*set, 0, 2);
  }
  RestoreShard(dir, 0, tmp.File("shard0.empty"));
  ShardOptions base;
  auto set = ShardSet::Open(dir, 1, base);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), sqlstate::kDataCorrupted);
  EXPECT_NE(set.status().message().find("ends at LSN 0 but the commit log continues at LSN 2"),
            std::string::npos)
      << set.status().ToString();
}

TEST(ShardSetRecovery, AStatementOverSeveralShardsWaitsForOneFlush) {
  TempDir tmp;
  auto set = OpenDurableSet(tmp.File("shards"), 4);
  ASSERT_TRUE(set->ApplyDdlEverywhere({"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"}).ok());
  const uint64_t flushes_before = set->commit_log()->stats().flushes;
  std::vector<std::unique_ptr<ShardConnection>> conns;
  for (int i = 0; i < 4; ++i) {
    auto conn = set->shard(i).Acquire();
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*conn)->BeginWrite().ok());
    Exec(**conn, "INSERT INTO t VALUES (?1, 'v')", {int64_t{i}});
    conns.push_back(std::move(*conn));
  }
  for (auto& c : conns) ASSERT_TRUE(c->PrepareCommit(1).ok());
  for (auto& c : conns) ASSERT_TRUE(c->FinishCommit().ok());
  EXPECT_EQ(set->commit_log()->stats().flushes, flushes_before + 1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Ids(*set, i), (std::vector<int64_t>{i}));
}

TEST(ShardSetRecovery, TrimSyncsTheShardsAndEmptiesTheLog) {
  TempDir tmp;
  const std::string dir = tmp.File("shards");
  auto set = OpenDurableSet(dir, 2);
  ASSERT_TRUE(set->ApplyDdlEverywhere({"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"}).ok());
  for (int64_t id = 1; id <= 10; ++id) Insert(*set, static_cast<int>(id % 2), id);
  ASSERT_TRUE(set->TrimCommitLog().ok());
  EXPECT_EQ(set->commit_log()->closed_bytes(), 0u);
  set.reset();
  // Nothing is left to recover, and nothing was lost.
  set = OpenDurableSet(dir, 2);
  EXPECT_EQ(set->recovered_commits(), 0u);
  EXPECT_EQ(Ids(*set, 0), (std::vector<int64_t>{2, 4, 6, 8, 10}));
}

TEST(ShardSetRecovery, StartingWithoutGroupCommitStillRecoversAndRemovesTheLog) {
  TempDir tmp;
  const std::string dir = tmp.File("shards");
  CreateTableAndSaveShard0(dir, 1, tmp.File("shard0.empty"));
  {
    auto set = OpenDurableSet(dir, 1);
    Insert(*set, 0, 1);
  }
  RestoreShard(dir, 0, tmp.File("shard0.empty"));
  ShardOptions base;
  base.group_commit = false;
  auto set = ShardSet::Open(dir, 1, base);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ((*set)->commit_log(), nullptr);
  EXPECT_EQ((*set)->recovered_commits(), 1u);
  EXPECT_EQ(Ids(**set, 0), (std::vector<int64_t>{1}));
  EXPECT_FALSE(std::filesystem::exists(dir + "/commitlog"));
  auto conn = (*set)->shard(0).Acquire();
  EXPECT_EQ(Query(**conn, "PRAGMA synchronous")[0][0], Value(int64_t{2}));  // FULL
}

}  // namespace
}  // namespace sb::storage
