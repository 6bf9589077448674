#define SQLITE_ENABLE_SESSION
#define SQLITE_ENABLE_PREUPDATE_HOOK
#include <sqlite3.h>

#include "storage/shard_store.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "storage/test_util.h"

namespace sb::storage {
namespace {

using testing::Exec;
using testing::Query;
using testing::TempDir;

std::unique_ptr<ShardStore> OpenStore(const std::string& path, ShardOptions options = {},
                                      int index = 0) {
  options.path = path;
  auto store = ShardStore::Open(index, std::move(options));
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::unique_ptr<ShardConnection> AcquireOk(ShardStore& store) {
  auto conn = store.Acquire();
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  return conn.ok() ? std::move(conn).value() : nullptr;
}

uint64_t CommitOk(ShardConnection& conn, uint64_t hlc) {
  auto lsn = conn.Commit(hlc);
  EXPECT_TRUE(lsn.ok()) << lsn.status().ToString();
  return lsn.ok() ? *lsn : ~uint64_t{0};
}

uint64_t LastLsn(ShardStore& store) {
  auto lsn = store.LastLsn();
  EXPECT_TRUE(lsn.ok()) << lsn.status().ToString();
  return lsn.ok() ? *lsn : ~uint64_t{0};
}

// ---------------------------------------------------------------------------
// Open and pragmas

TEST(ShardStoreOpen, SetsWalModeSynchronousAndForeignKeysOnEveryConnection) {
  TempDir dir;
  const std::pair<const char*, int64_t> cases[] = {
      {"OFF", 0}, {"NORMAL", 1}, {"FULL", 2}, {"extra", 3}};
  for (const auto& [name, level] : cases) {
    ShardOptions opt;
    opt.synchronous = name;
    auto store = OpenStore(dir.File(std::string("s_") + name + ".db"), opt);
    ASSERT_NE(store, nullptr);
    // Two simultaneous connections: both get the settings.
    auto a = AcquireOk(*store);
    auto b = AcquireOk(*store);
    for (ShardConnection* c : {a.get(), b.get()}) {
      auto mode = Query(*c, "PRAGMA journal_mode");
      ASSERT_EQ(mode.size(), 1u);
      EXPECT_EQ(std::get<std::string>(mode[0][0]), "wal");
      auto sync = Query(*c, "PRAGMA synchronous");
      ASSERT_EQ(sync.size(), 1u);
      EXPECT_EQ(std::get<int64_t>(sync[0][0]), level) << name;
      auto fk = Query(*c, "PRAGMA foreign_keys");
      ASSERT_EQ(fk.size(), 1u);
      EXPECT_EQ(std::get<int64_t>(fk[0][0]), 1);
    }
  }
}

TEST(ShardStoreOpen, RejectsInvalidSynchronousValue) {
  TempDir dir;
  ShardOptions opt;
  opt.path = dir.File("s.db");
  opt.synchronous = "FAST";
  auto store = ShardStore::Open(0, opt);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), sqlstate::kInvalidParameterValue);
  EXPECT_NE(store.status().message().find("FAST"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(opt.path));
}

TEST(ShardStoreOpen, RunsOnOpenHookOnEveryNewConnection) {
  TempDir dir;
  std::atomic<int> calls{0};
  ShardOptions opt;
  opt.on_open = [&](sqlite3* db) {
    ++calls;
    sqlite3_create_function(
        db, "sb_answer", 0, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
        [](sqlite3_context* ctx, int, sqlite3_value**) { sqlite3_result_int(ctx, 42); }, nullptr,
        nullptr);
  };
  auto store = OpenStore(dir.File("s.db"), opt);
  ASSERT_NE(store, nullptr);
  auto a = AcquireOk(*store);
  auto b = AcquireOk(*store);
  EXPECT_EQ(calls.load(), 2);
  auto rows = Query(*b, "SELECT sb_answer()");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(rows[0][0]), 42);
}

TEST(ShardStoreOpen, CreatesWriteAfterLogTable) {
  TempDir dir;
  auto store = OpenStore(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto conn = AcquireOk(*store);
  auto rows = Query(*conn, "SELECT name, type, pk FROM pragma_table_info('_sb_wal') ORDER BY cid");
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(std::get<std::string>(rows[0][0]), "lsn");
  EXPECT_EQ(std::get<int64_t>(rows[0][2]), 1);
  EXPECT_EQ(std::get<std::string>(rows[3][0]), "payload");
  EXPECT_EQ(std::get<std::string>(rows[3][1]), "BLOB");
  auto strict = Query(*conn, "SELECT strict FROM pragma_table_list WHERE name = '_sb_wal'");
  ASSERT_EQ(strict.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(strict[0][0]), 1);
  EXPECT_EQ(LastLsn(*store), 0u);
}

TEST(ShardStoreOpen, NonDatabaseFileGivesCleanError) {
  TempDir dir;
  const std::string path = dir.File("garbage.db");
  {
    std::ofstream f(path);
    for (int i = 0; i < 200; ++i) f << "this is definitely not a sqlite database file\n";
  }
  ShardOptions opt;
  opt.path = path;
  auto store = ShardStore::Open(3, opt);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), sqlstate::kDataCorrupted) << store.status().ToString();
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status().ToString();
  EXPECT_NE(store.status().message().find("shard 3"), std::string::npos);
}

TEST(ShardStoreOpen, CorruptDatabaseGivesCleanError) {
  TempDir dir;
  const std::string path = dir.File("corrupt.db");
  {
    auto store = OpenStore(path);
    ASSERT_NE(store, nullptr);
    auto conn = AcquireOk(*store);
    Exec(*conn, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    Exec(*conn, "PRAGMA wal_checkpoint(TRUNCATE)");
  }
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  {
    // Keep the 100-byte header, scribble over the schema page.
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    const std::string junk(900, '\xa5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  ShardOptions opt;
  opt.path = path;
  auto store = ShardStore::Open(1, opt);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), sqlstate::kDataCorrupted) << store.status().ToString();
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status().ToString();
}

TEST(ShardStoreOpen, UnopenablePathGivesIoError) {
  TempDir dir;
  ShardOptions opt;
  opt.path = dir.File("no/such/dir/s.db");
  auto store = ShardStore::Open(0, opt);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), sqlstate::kIoError) << store.status().ToString();
  EXPECT_NE(store.status().message().find(opt.path), std::string::npos);
}

// ---------------------------------------------------------------------------
// Execute

TEST(ShardStoreExecute, BindsAndReturnsEveryValueKind) {
  TempDir dir;
  auto store = OpenStore(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto conn = AcquireOk(*store);
  Exec(*conn, "CREATE TABLE t(id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, n)");
  const std::string blob("a\0b\xff", 4);
  const std::string text("h\xc3\xa9llo");
  int64_t changes = -1;
  ASSERT_TRUE(conn->Execute("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                            {int64_t{1}, int64_t{-9007199254740993}, 2.5, text, Blob{blob},
                             std::monostate{}},
                            nullptr, &changes)
                  .ok());
  EXPECT_EQ(changes, 1);
  auto rows = Query(*conn, "SELECT i, r, s, b, n, typeof(b) FROM t WHERE id = ?1", {int64_t{1}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Value(int64_t{-9007199254740993}));
  EXPECT_EQ(rows[0][1], Value(2.5));
  EXPECT_EQ(rows[0][2], Value(text));
  EXPECT_EQ(rows[0][3], Value(Blob{blob}));
  EXPECT_TRUE(IsNull(rows[0][4]));
  EXPECT_EQ(rows[0][5], Value(std::string("blob")));
  // Empty blob stays a blob; empty string stays a string.
  Exec(*conn, "INSERT INTO t(id, s, b) VALUES (2, ?1, ?2)", {std::string(), Blob{}});
  rows = Query(*conn, "SELECT s, b FROM t WHERE id = 2");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Value(std::string()));
  EXPECT_EQ(rows[0][1], Value(Blob{}));
  // UPDATE reports changes.
  ASSERT_TRUE(conn->Execute("UPDATE t SET i = 0", {}, nullptr, &changes).ok());
  EXPECT_EQ(changes, 2);
}

TEST(ShardStoreExecute, SinkErrorStopsTheStatement) {
  TempDir dir;
  auto store = OpenStore(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto conn = AcquireOk(*store);
  int seen = 0;
  Status st = conn->Execute(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) "
      "SELECT x FROM c",
      {},
      [&](const Row&) { return ++seen == 3 ? Status::Error("P0001", "stop here") : Status::Ok(); });
  EXPECT_EQ(st.code(), "P0001");
  EXPECT_EQ(seen, 3);
  // The cached statement was reset: running it again starts from the top.
  seen = 0;
  st = conn->Execute(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) "
      "SELECT x FROM c",
      {}, [&](const Row& r) {
        if (seen++ == 0) {
          EXPECT_EQ(r[0], Value(int64_t{1}));
        }
        return Status::Ok();
      });
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen, 100);
}

TEST(ShardStoreExecute, SinkMayReenterWithTheSameStatement) {
  TempDir dir;
  auto store = OpenStore(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto conn = AcquireOk(*store);
  Exec(*conn, "CREATE TABLE t(id INTEGER PRIMARY KEY)");
  Exec(*conn, "INSERT INTO t VALUES (1), (2), (3)");
  const std::string sql = "SELECT id FROM t WHERE id >= ?1 ORDER BY id";
  (void)Query(*conn, sql, {int64_t{1}});  // now cached
  int inner_total = 0;
  auto outer = Query(*conn, sql, {int64_t{1}});
  Status st = conn->Execute(sql, {int64_t{1}}, [&](const Row& r) {
    return conn->Execute(sql, {r[0]}, [&](const Row&) {
      ++inner_total;
      return Status::Ok();
    });
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(outer.size(), 3u);
  EXPECT_EQ(inner_total, 3 + 2 + 1);
}

TEST(ShardStoreExecute, CachedStatementSeesSchemaChanges) {
  TempDir dir;
  auto store = OpenStore(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto conn = AcquireOk(*store);
  auto other = AcquireOk(*store);
  Exec(*conn, "CREATE TABLE t(a INTEGER PRIMARY KEY)");
  Exec(*conn, "INSERT INTO t VALUES (1)");
  EXPECT_EQ(Query(*conn, "SELECT * FROM t")[0].size(), 1u);
  Exec(*other, "ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'");
  auto rows = Query(*conn, "SELECT * FROM t");
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].size(), 2u);
  EXPECT_EQ(rows[0][1], Value(std::string("x")));
}

TEST(ShardStoreExecute, RunsMultipleStatements) {
  TempDir dir;
  auto store = OpenStore(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto conn = AcquireOk(*store);
  Exec(*conn, "CREATE TABLE a(x INTEGER PRIMARY KEY); CREATE TABLE b(y INTEGER PRIMARY KEY);");
  EXPECT_EQ(Query(*conn, "SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'b')")[0][0],
            Value(int64_t{2}));
}

// ---------------------------------------------------------------------------
// Error mapping

class ShardStoreErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore(dir_.File("s.db"));
    ASSERT_NE(store_, nullptr);
    conn_ = AcquireOk(*store_);
    Exec(*conn_,
         "CREATE TABLE parent(id INTEGER PRIMARY KEY, code TEXT UNIQUE);"
         "CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL "
         "REFERENCES parent(id), qty INTEGER CONSTRAINT sb_22003_qty CHECK (qty BETWEEN -32768 "
         "AND 32767), name TEXT CONSTRAINT sb_22001_name CHECK (length(name) <= 4), "
         "flag TEXT CONSTRAINT sb_22P02_flag CHECK (flag IN ('t', 'f')), "
         "pos INTEGER CHECK (pos > 0), other INTEGER CONSTRAINT positive_other CHECK (other > 0))");
    Exec(*conn_, "INSERT INTO parent VALUES (1, 'a')");
  }
  Status Run(const std::string& sql) { return conn_->Execute(sql, {}, nullptr); }

  TempDir dir_;
  std::unique_ptr<ShardStore> store_;
  std::unique_ptr<ShardConnection> conn_;
};

TEST_F(ShardStoreErrors, UniqueAndPrimaryKeyViolationsAre23505) {
  Status st = Run("INSERT INTO parent VALUES (1, 'b')");
  EXPECT_EQ(st.code(), sqlstate::kUniqueViolation);
  EXPECT_EQ(st.message(), "duplicate key value violates unique constraint");
  EXPECT_NE(st.detail().find("parent.id"), std::string::npos) << st.detail();
  st = Run("INSERT INTO parent VALUES (2, 'a')");
  EXPECT_EQ(st.code(), sqlstate::kUniqueViolation);
  EXPECT_NE(st.detail().find("UNIQUE constraint failed: parent.code"), std::string::npos);
}

TEST_F(ShardStoreErrors, NotNullViolationIs23502) {
  Status st = Run("INSERT INTO child(id, parent_id) VALUES (1, NULL)");
  EXPECT_EQ(st.code(), sqlstate::kNotNullViolation);
  EXPECT_EQ(st.message(),
            "null value in column \"parent_id\" of relation \"child\" violates not-null "
            "constraint");
}

TEST_F(ShardStoreErrors, ForeignKeyViolationIs23503) {
  Status st = Run("INSERT INTO child(id, parent_id) VALUES (1, 99)");
  EXPECT_EQ(st.code(), sqlstate::kForeignKeyViolation) << st.ToString();
  Exec(*conn_, "INSERT INTO child(id, parent_id) VALUES (1, 1)");
  st = Run("DELETE FROM parent WHERE id = 1");
  EXPECT_EQ(st.code(), sqlstate::kForeignKeyViolation) << st.ToString();
}

TEST_F(ShardStoreErrors, PlainCheckViolationIs23514) {
  Status st = Run("INSERT INTO child(id, parent_id, pos) VALUES (1, 1, -1)");
  EXPECT_EQ(st.code(), sqlstate::kCheckViolation) << st.ToString();
  st = Run("INSERT INTO child(id, parent_id, other) VALUES (1, 1, -1)");
  EXPECT_EQ(st.code(), sqlstate::kCheckViolation) << st.ToString();
  EXPECT_EQ(st.message(), "new row violates check constraint \"positive_other\"");
}

TEST_F(ShardStoreErrors, NamedRangeAndLengthChecksMapToTheirSqlstate) {
  Status st = Run("INSERT INTO child(id, parent_id, qty) VALUES (1, 1, 40000)");
  EXPECT_EQ(st.code(), sqlstate::kNumericValueOutOfRange) << st.ToString();
  EXPECT_EQ(st.message(), "value for column \"qty\" is out of range for its type");
  st = Run("INSERT INTO child(id, parent_id, name) VALUES (1, 1, 'abcdef')");
  EXPECT_EQ(st.code(), sqlstate::kStringDataRightTruncation) << st.ToString();
  EXPECT_EQ(st.message(), "value too long for column \"name\"");
  st = Run("INSERT INTO child(id, parent_id, flag) VALUES (1, 1, 'maybe')");
  EXPECT_EQ(st.code(), "22P02") << st.ToString();
  EXPECT_NE(st.message().find("\"flag\""), std::string::npos);
  // Valid values pass all of them.
  EXPECT_TRUE(
      Run("INSERT INTO child(id, parent_id, qty, name, flag) VALUES (1, 1, 5, 'ab', 't')").ok());
}

TEST_F(ShardStoreErrors, UnknownTableIsInternalErrorWithSqliteText) {
  Status st = Run("SELECT * FROM nope");
  EXPECT_EQ(st.code(), sqlstate::kInternalError);
  EXPECT_EQ(st.message(), "shard SQL failed: no such table: nope");
}

TEST_F(ShardStoreErrors, FunctionErrorsMayCarryASqlstate) {
  sqlite3_create_function(
      conn_->raw(), "sb_fail", 0, SQLITE_UTF8, nullptr,
      [](sqlite3_context* ctx, int, sqlite3_value**) {
        sqlite3_result_error(ctx, "22012: division by zero", -1);
      },
      nullptr, nullptr);
  Status st = Run("SELECT sb_fail()");
  EXPECT_EQ(st.code(), sqlstate::kDivisionByZero);
  EXPECT_EQ(st.message(), "division by zero");
}

TEST_F(ShardStoreErrors, BusyShardIs40001) {
  ShardOptions opt;
  opt.busy_timeout_ms = 0;
  auto second = OpenStore(dir_.File("s.db"), opt);
  ASSERT_NE(second, nullptr);
  auto other = AcquireOk(*second);
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Status st = other->BeginWrite();
  EXPECT_EQ(st.code(), sqlstate::kSerializationFailure) << st.ToString();
  EXPECT_EQ(st.message(), "could not serialize access: shard is busy");
  EXPECT_FALSE(other->in_transaction());
  EXPECT_TRUE(conn_->Rollback().ok());
  EXPECT_TRUE(other->BeginWrite().ok());
  EXPECT_TRUE(other->Rollback().ok());
}

TEST_F(ShardStoreErrors, WritersOfOneShardQueueAndTheNextStartsWhenTheFirstCommits) {
  auto other = AcquireOk(*store_);
  ASSERT_TRUE(conn_->BeginWrite().ok());
  std::atomic<bool> began{false};
  Status second;
  std::thread waiter([&] {
    second = other->BeginWrite();
    began = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(began.load()) << "the second writer must wait for the first";
  EXPECT_TRUE(conn_->Commit(1).ok());
  waiter.join();
  EXPECT_TRUE(second.ok()) << second.ToString();
  EXPECT_TRUE(other->in_transaction());
  EXPECT_TRUE(other->Rollback().ok());
  // Both handles are free again: a third writer gets the lock at once.
  ASSERT_TRUE(conn_->BeginWrite().ok());
  EXPECT_TRUE(conn_->Rollback().ok());
}

TEST(ShardStoreWriters, AWriterWaitingPastTheBusyTimeoutGets40001NamingTheShard) {
  TempDir dir;
  ShardOptions opt;
  opt.busy_timeout_ms = 50;
  auto store = OpenStore(dir.File("s.db"), opt, 7);
  ASSERT_NE(store, nullptr);
  auto a = AcquireOk(*store);
  auto b = AcquireOk(*store);
  ASSERT_TRUE(a->BeginWrite().ok());
  Status st = b->BeginWrite();
  EXPECT_EQ(st.code(), sqlstate::kSerializationFailure) << st.ToString();
  EXPECT_NE(st.detail().find("shard 7"), std::string::npos) << st.detail();
  EXPECT_FALSE(b->in_transaction());
  // A connection destroyed inside its transaction releases the lock.
  a.reset();
  EXPECT_TRUE(b->BeginWrite().ok());
  EXPECT_TRUE(b->BeginDdl().code() == sqlstate::kActiveSqlTransaction);
  EXPECT_TRUE(b->Rollback().ok());
  EXPECT_TRUE(b->BeginDdl().ok());
  Exec(*b, "CREATE TABLE t(k INTEGER PRIMARY KEY)");
  EXPECT_TRUE(b->CommitDdl().ok());
  auto c = AcquireOk(*store);
  EXPECT_TRUE(c->BeginWrite().ok());
  EXPECT_TRUE(c->Rollback().ok());
}

TEST_F(ShardStoreErrors, DeferredForeignKeyFailsAtCommitAndRollsBack) {
  Exec(*conn_,
       "CREATE TABLE dchild(id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id) "
       "DEFERRABLE INITIALLY DEFERRED)");
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "INSERT INTO dchild VALUES (1, 77)");
  auto lsn = conn_->Commit(5);
  ASSERT_FALSE(lsn.ok());
  EXPECT_EQ(lsn.status().code(), sqlstate::kForeignKeyViolation) << lsn.status().ToString();
  EXPECT_FALSE(conn_->in_transaction());
  EXPECT_TRUE(Query(*conn_, "SELECT * FROM dchild").empty());
  EXPECT_EQ(LastLsn(*store_), 0u);
}

TEST(ShardStoreInterrupt, LongQueryInterruptedFromAnotherThreadIs57014) {
  TempDir dir;
  auto store = OpenStore(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto conn = AcquireOk(*store);
  std::atomic<bool> done{false};
  Status result;
  std::thread runner([&] {
    // Bounded (about 10^10 steps), but far longer than the test waits.
    result = conn->Execute(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000000) "
        "SELECT count(*) FROM c",
        {}, nullptr);
    done = true;
  });
  // An interrupt that lands before the statement starts is forgotten by
  // SQLite, so keep interrupting until the statement ends.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  while (!done && std::chrono::steady_clock::now() < deadline) {
    conn->Interrupt();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  runner.join();
  EXPECT_EQ(result.code(), sqlstate::kQueryCanceled) << result.ToString();
  EXPECT_EQ(result.message(), "canceling statement due to user request");
  // The connection is usable afterwards.
  auto rows = Query(*conn, "SELECT 1");
  ASSERT_EQ(rows.size(), 1u);
}

TEST(ShardStoreInterrupt, InterruptedWriteAbortsTheTransaction) {
  TempDir dir;
  auto store = OpenStore(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  auto conn = AcquireOk(*store);
  Exec(*conn, "CREATE TABLE t(id INTEGER PRIMARY KEY)");
  ASSERT_TRUE(conn->BeginWrite().ok());
  Exec(*conn, "INSERT INTO t VALUES (0)");
  std::atomic<bool> done{false};
  Status result;
  std::thread runner([&] {
    result = conn->Execute(
        "INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
        "WHERE x < 10000000000) SELECT x FROM c",
        {}, nullptr);
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  while (!done && std::chrono::steady_clock::now() < deadline) {
    conn->Interrupt();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  runner.join();
  EXPECT_EQ(result.code(), sqlstate::kQueryCanceled) << result.ToString();
  // SQLite rolled the whole transaction back; Commit says so and logs nothing.
  EXPECT_TRUE(conn->in_transaction());
  auto lsn = conn->Commit(1);
  ASSERT_FALSE(lsn.ok());
  EXPECT_EQ(lsn.status().code(), sqlstate::kInFailedTransaction);
  EXPECT_FALSE(conn->in_transaction());
  EXPECT_TRUE(Query(*conn, "SELECT * FROM t").empty());
  EXPECT_EQ(LastLsn(*store), 0u);
}

// ---------------------------------------------------------------------------
// Transactions and the write-after log

class ShardStoreWal : public ::testing::Test {
 protected:
  void SetUp() override {
    ShardOptions opt;
    opt.generation = 7;
    store_ = OpenStore(dir_.File("s.db"), opt, /*index=*/5);
    ASSERT_NE(store_, nullptr);
    conn_ = AcquireOk(*store_);
    Exec(*conn_, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n REAL)");
  }

  TempDir dir_;
  std::unique_ptr<ShardStore> store_;
  std::unique_ptr<ShardConnection> conn_;
};

TEST_F(ShardStoreWal, OneRecordPerCommittedWriteTransaction) {
  EXPECT_EQ(LastLsn(*store_), 0u);  // DDL is not logged
  ASSERT_TRUE(conn_->BeginWrite().ok());
  EXPECT_TRUE(conn_->in_transaction());
  Exec(*conn_, "INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', NULL)");
  Exec(*conn_, "UPDATE t SET v = 'c' WHERE id = 2");
  EXPECT_EQ(CommitOk(*conn_, 1000), 1u);
  EXPECT_FALSE(conn_->in_transaction());

  auto recs = store_->ReadWal(1, 10);
  ASSERT_TRUE(recs.ok()) << recs.status().ToString();
  ASSERT_EQ(recs->size(), 1u);
  const WalRecord& r = (*recs)[0];
  EXPECT_EQ(r.lsn, 1u);
  EXPECT_EQ(r.generation, 7u);
  EXPECT_EQ(r.hlc, 1000u);
  EXPECT_FALSE(r.payload.empty());
  EXPECT_EQ(r.checksum, XXH64(r.payload.data(), r.payload.size(), 0));

  // Rolled back: no record.
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "INSERT INTO t VALUES (3, 'x', 0)");
  ASSERT_TRUE(conn_->Rollback().ok());
  EXPECT_EQ(LastLsn(*store_), 1u);

  // No changes: no record, Commit returns 0.
  ASSERT_TRUE(conn_->BeginWrite().ok());
  (void)Query(*conn_, "SELECT * FROM t");
  EXPECT_EQ(CommitOk(*conn_, 1001), 0u);
  // Changes that cancel out: no record.
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "INSERT INTO t VALUES (4, 'y', 0)");
  Exec(*conn_, "DELETE FROM t WHERE id = 4");
  EXPECT_EQ(CommitOk(*conn_, 1002), 0u);
  // A failed statement's partial effects are not in the record.
  ASSERT_TRUE(conn_->BeginWrite().ok());
  EXPECT_FALSE(conn_->Execute("INSERT INTO t VALUES (5, 'p', 0), (1, 'dup', 0)", {}, nullptr).ok());
  EXPECT_TRUE(conn_->in_transaction());
  EXPECT_EQ(CommitOk(*conn_, 1003), 0u);
  // Read transactions never log.
  ASSERT_TRUE(conn_->BeginRead().ok());
  EXPECT_EQ(Query(*conn_, "SELECT count(*) FROM t")[0][0], Value(int64_t{2}));
  EXPECT_EQ(CommitOk(*conn_, 1004), 0u);

  EXPECT_EQ(LastLsn(*store_), 1u);
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "DELETE FROM t WHERE id = 1");
  EXPECT_EQ(CommitOk(*conn_, 1005), 2u);
  EXPECT_EQ(LastLsn(*store_), 2u);
}

TEST_F(ShardStoreWal, TransactionStateErrors) {
  ASSERT_TRUE(conn_->BeginWrite().ok());
  EXPECT_EQ(conn_->BeginWrite().code(), sqlstate::kActiveSqlTransaction);
  EXPECT_EQ(conn_->BeginRead().code(), sqlstate::kActiveSqlTransaction);
  ASSERT_TRUE(conn_->Rollback().ok());
  EXPECT_TRUE(conn_->Rollback().ok());  // always safe
  auto lsn = conn_->Commit(1);
  ASSERT_FALSE(lsn.ok());
  EXPECT_EQ(lsn.status().code(), sqlstate::kNoActiveSqlTransaction);
}

TEST_F(ShardStoreWal, WriteInsideReadTransactionIsRefusedNotSilentlyUnlogged) {
  ASSERT_TRUE(conn_->BeginRead().ok());
  Exec(*conn_, "INSERT INTO t VALUES (1, 'a', 0)");
  auto lsn = conn_->Commit(1);
  ASSERT_FALSE(lsn.ok());
  EXPECT_FALSE(conn_->in_transaction());
  EXPECT_TRUE(Query(*conn_, "SELECT * FROM t").empty());
  EXPECT_EQ(LastLsn(*store_), 0u);
  // DDL alone in a read transaction is allowed (it is never logged anyway).
  ASSERT_TRUE(conn_->BeginRead().ok());
  Exec(*conn_, "CREATE TABLE t2(id INTEGER PRIMARY KEY)");
  EXPECT_EQ(CommitOk(*conn_, 1), 0u);
  EXPECT_TRUE(Query(*conn_, "SELECT * FROM t2").empty());
}

TEST_F(ShardStoreWal, CommitThroughExecuteIsRefusedSoNothingEscapesTheLog) {
  for (bool write : {true, false}) {
    ASSERT_TRUE(write ? conn_->BeginWrite().ok() : conn_->BeginRead().ok());
    Exec(*conn_, "INSERT INTO t VALUES (1, 'a', 0)");
    Status st = conn_->Execute("COMMIT", {}, nullptr);
    EXPECT_EQ(st.code(), sqlstate::kInvalidTransactionState) << st.ToString();
    EXPECT_TRUE(Query(*conn_, "SELECT * FROM t").empty());
    // The API still reports the failed transaction and cleans up.
    auto lsn = conn_->Commit(1);
    EXPECT_FALSE(lsn.ok());
    EXPECT_FALSE(conn_->in_transaction());
  }
  EXPECT_EQ(LastLsn(*store_), 0u);
  // Outside API transactions plain statements still autocommit.
  Exec(*conn_, "INSERT INTO t VALUES (1, 'a', 0)");
  EXPECT_EQ(Query(*conn_, "SELECT * FROM t").size(), 1u);
}

TEST_F(ShardStoreWal, TablesCreatedInsideTheTransactionAreCaptured) {
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "CREATE TABLE later(k TEXT PRIMARY KEY, v INTEGER)");
  Exec(*conn_, "INSERT INTO later VALUES ('k', 1)");
  EXPECT_EQ(CommitOk(*conn_, 1), 1u);
  auto recs = store_->ReadWal(1, 1);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 1u);
  // The changeset names the table.
  sqlite3_changeset_iter* it = nullptr;
  std::string payload = (*recs)[0].payload;
  ASSERT_EQ(sqlite3changeset_start(&it, static_cast<int>(payload.size()), payload.data()),
            SQLITE_OK);
  ASSERT_EQ(sqlite3changeset_next(it), SQLITE_ROW);
  const char* table = nullptr;
  int ncol = 0, op = 0, indirect = 0;
  ASSERT_EQ(sqlite3changeset_op(it, &table, &ncol, &op, &indirect), SQLITE_OK);
  EXPECT_STREQ(table, "later");
  EXPECT_EQ(op, SQLITE_INSERT);
  EXPECT_EQ(sqlite3changeset_next(it), SQLITE_DONE);
  sqlite3changeset_finalize(it);
}

TEST_F(ShardStoreWal, WritesToATableWithoutPrimaryKeyAreRefused) {
  Exec(*conn_, "CREATE TABLE nopk(a INTEGER, b TEXT)");
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "INSERT INTO t VALUES (1, 'kept out too', 0)");
  Exec(*conn_, "INSERT INTO nopk VALUES (1, 'x')");
  auto lsn = conn_->Commit(1);
  ASSERT_FALSE(lsn.ok());
  EXPECT_EQ(lsn.status().code(), sqlstate::kFeatureNotSupported);
  EXPECT_NE(lsn.status().message().find("\"nopk\" has no primary key"), std::string::npos)
      << lsn.status().ToString();
  EXPECT_FALSE(conn_->in_transaction());
  EXPECT_TRUE(Query(*conn_, "SELECT * FROM nopk").empty());
  EXPECT_TRUE(Query(*conn_, "SELECT * FROM t").empty());
  EXPECT_EQ(LastLsn(*store_), 0u);
  // A later transaction that does not touch it is fine.
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "INSERT INTO t VALUES (1, 'v', 0)");
  EXPECT_EQ(CommitOk(*conn_, 1), 1u);
  // The answer is cached per handle but follows schema changes made elsewhere.
  auto other = AcquireOk(*store_);
  Exec(*other, "DROP TABLE nopk; CREATE TABLE nopk(a INTEGER PRIMARY KEY, b TEXT)");
  Exec(*other, "DROP TABLE t; CREATE TABLE t(id INTEGER, v TEXT, n REAL)");
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "INSERT INTO nopk VALUES (1, 'x')");
  EXPECT_EQ(CommitOk(*conn_, 2), 2u);
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "INSERT INTO t VALUES (1, 'v', 0)");
  lsn = conn_->Commit(3);
  ASSERT_FALSE(lsn.ok());
  EXPECT_NE(lsn.status().message().find("\"t\" has no primary key"), std::string::npos);
  EXPECT_EQ(LastLsn(*store_), 2u);
}

TEST_F(ShardStoreWal, DroppingATableAfterWritingItInTheSameTransactionFailsCleanly) {
  // The session extension cannot build a changeset for it; the error must say
  // what happened (not "has no primary key") and nothing may be committed.
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "CREATE TABLE scratch(id INTEGER PRIMARY KEY)");
  Exec(*conn_, "INSERT INTO scratch VALUES (1)");
  Exec(*conn_, "INSERT INTO t VALUES (1, 'x', 0)");
  Exec(*conn_, "DROP TABLE scratch");
  auto lsn = conn_->Commit(1);
  ASSERT_FALSE(lsn.ok());
  EXPECT_EQ(lsn.status().code(), sqlstate::kFeatureNotSupported) << lsn.status().ToString();
  EXPECT_NE(lsn.status().message().find("dropping"), std::string::npos);
  EXPECT_TRUE(Query(*conn_, "SELECT id FROM t").empty());
  EXPECT_EQ(LastLsn(*store_), 0u);
}

TEST_F(ShardStoreWal, AlteringATableAfterWritingItInTheSameTransactionFailsCleanly) {
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "INSERT INTO t VALUES (1, 'a', 0)");
  Exec(*conn_, "ALTER TABLE t ADD COLUMN w TEXT");
  Exec(*conn_, "INSERT INTO t VALUES (2, 'a', 0, 'w')");
  auto lsn = conn_->Commit(1);
  ASSERT_FALSE(lsn.ok());
  EXPECT_EQ(lsn.status().code(), sqlstate::kFeatureNotSupported) << lsn.status().ToString();
  EXPECT_FALSE(conn_->in_transaction());
  EXPECT_EQ(Query(*conn_, "SELECT * FROM t").size(), 0u);
  EXPECT_EQ(Query(*conn_, "SELECT * FROM pragma_table_info('t')").size(), 3u);
  EXPECT_EQ(LastLsn(*store_), 0u);
}

TEST_F(ShardStoreWal, DestroyingAConnectionRollsBackItsTransaction) {
  {
    auto c = AcquireOk(*store_);
    ASSERT_TRUE(c->BeginWrite().ok());
    Exec(*c, "INSERT INTO t VALUES (9, 'gone', 0)");
  }
  auto c = AcquireOk(*store_);
  EXPECT_FALSE(c->in_transaction());
  EXPECT_TRUE(Query(*c, "SELECT * FROM t").empty());
  EXPECT_EQ(LastLsn(*store_), 0u);
  // And the write lock was released.
  ASSERT_TRUE(c->BeginWrite().ok());
  ASSERT_TRUE(c->Rollback().ok());
}

TEST_F(ShardStoreWal, LsnsAreContiguousOver1000Transactions) {
  for (int i = 1; i <= 1000; ++i) {
    ASSERT_TRUE(conn_->BeginWrite().ok());
    Exec(*conn_, "INSERT INTO t VALUES (?1, 'v', 0)", {int64_t{i}});
    ASSERT_EQ(CommitOk(*conn_, static_cast<uint64_t>(10 * i)), static_cast<uint64_t>(i));
  }
  auto recs = store_->ReadWal(1, 5000);
  ASSERT_TRUE(recs.ok()) << recs.status().ToString();
  ASSERT_EQ(recs->size(), 1000u);
  for (size_t i = 0; i < recs->size(); ++i) {
    EXPECT_EQ((*recs)[i].lsn, i + 1);
    EXPECT_EQ((*recs)[i].hlc, 10 * (i + 1));
  }
  // from_lsn and max_records.
  recs = store_->ReadWal(998, 2);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[0].lsn, 998u);
  EXPECT_EQ((*recs)[1].lsn, 999u);
  recs = store_->ReadWal(1001, 10);
  ASSERT_TRUE(recs.ok());
  EXPECT_TRUE(recs->empty());
  EXPECT_EQ(LastLsn(*store_), 1000u);
}

TEST_F(ShardStoreWal, LsnsAreContiguousWithConcurrentWriters) {
  constexpr int kThreads = 4;
  constexpr int kTxnsPerThread = 100;
  std::vector<std::vector<uint64_t>> lsns(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto conn = store_->Acquire();
      if (!conn.ok()) {
        errors[t] = conn.status().ToString();
        return;
      }
      for (int i = 0; i < kTxnsPerThread; ++i) {
        Status st = (*conn)->BeginWrite();
        if (st.ok()) {
          st = (*conn)->Execute("INSERT INTO t VALUES (?1, 'c', 0)",
                                {int64_t{t * kTxnsPerThread + i + 1}}, nullptr);
        }
        if (!st.ok()) {
          errors[t] = st.ToString();
          return;
        }
        auto lsn = (*conn)->Commit(static_cast<uint64_t>(i));
        if (!lsn.ok()) {
          errors[t] = lsn.status().ToString();
          return;
        }
        lsns[t].push_back(*lsn);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<uint64_t> all;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
    EXPECT_TRUE(std::is_sorted(lsns[t].begin(), lsns[t].end()));
    all.insert(all.end(), lsns[t].begin(), lsns[t].end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kTxnsPerThread));
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 1);
  auto recs = store_->ReadWal(1, 1000);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), all.size());
  EXPECT_EQ(recs->back().lsn, all.size());
}

// Applies every record to a fresh plain SQLite database holding the same schema.
void ApplyAll(sqlite3* db, const std::vector<WalRecord>& recs) {
  for (const WalRecord& r : recs) {
    std::string payload = r.payload;
    int rc = sqlite3changeset_apply(
        db, static_cast<int>(payload.size()), payload.data(), nullptr,
        [](void*, int, sqlite3_changeset_iter*) { return SQLITE_CHANGESET_ABORT; }, nullptr);
    ASSERT_EQ(rc, SQLITE_OK) << "lsn " << r.lsn << ": " << sqlite3_errmsg(db);
  }
}

std::vector<Row> Dump(sqlite3* db, const char* sql) {
  std::vector<Row> rows;
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    Row row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_INTEGER:
          row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
          break;
        case SQLITE_FLOAT:
          row.emplace_back(sqlite3_column_double(stmt, i));
          break;
        case SQLITE_NULL:
          row.emplace_back(std::monostate{});
          break;
        default:
          row.emplace_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
                                       static_cast<size_t>(sqlite3_column_bytes(stmt, i))));
      }
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  return rows;
}

TEST_F(ShardStoreWal, ChangesetsReproduceTheDataOnAFreshDatabase) {
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "INSERT INTO t VALUES (1, 'one', 1.0), (2, 'two', 2.0), (3, 'three', NULL)");
  ASSERT_EQ(CommitOk(*conn_, 1), 1u);
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "UPDATE t SET v = 'TWO', n = 22.5 WHERE id = 2");
  Exec(*conn_, "DELETE FROM t WHERE id = 3");
  Exec(*conn_, "INSERT INTO t VALUES (4, 'four', 4.0)");
  ASSERT_EQ(CommitOk(*conn_, 2), 2u);
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "UPDATE t SET id = 10 WHERE id = 1");  // primary key change
  ASSERT_EQ(CommitOk(*conn_, 3), 3u);

  auto recs = store_->ReadWal(1, 100);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 3u);

  sqlite3* replica = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("replica.db").c_str(), &replica), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(replica, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n REAL)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  ApplyAll(replica, *recs);
  auto expected = Query(*conn_, "SELECT id, v, n FROM t ORDER BY id");
  auto actual = Dump(replica, "SELECT id, v, n FROM t ORDER BY id");
  sqlite3_close(replica);
  EXPECT_EQ(expected.size(), 3u);
  EXPECT_EQ(actual, expected);
}

TEST_F(ShardStoreWal, CorruptPayloadIsDetected) {
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(conn_->BeginWrite().ok());
    Exec(*conn_, "INSERT INTO t VALUES (?1, 'v', 0)", {int64_t{i}});
    ASSERT_EQ(CommitOk(*conn_, 1), static_cast<uint64_t>(i));
  }
  Exec(*conn_,
       "UPDATE _sb_wal SET payload = substr(payload, 1, length(payload) - 1) WHERE lsn = 2");
  auto recs = store_->ReadWal(1, 10);
  ASSERT_FALSE(recs.ok());
  EXPECT_EQ(recs.status().code(), sqlstate::kDataCorrupted);
  EXPECT_EQ(recs.status().message(), "write-after log record 2 of shard 5 is corrupt");
  // Records before the damage are still readable.
  recs = store_->ReadWal(1, 1);
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ(recs->size(), 1u);
  // So is a corrupted checksum.
  Exec(*conn_, "UPDATE _sb_wal SET checksum = checksum + 1 WHERE lsn = 3");
  recs = store_->ReadWal(3, 10);
  ASSERT_FALSE(recs.ok());
  EXPECT_EQ(recs.status().message(), "write-after log record 3 of shard 5 is corrupt");
}

TEST_F(ShardStoreWal, ReopenKeepsLastLsnAndContinuesFromIt) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(conn_->BeginWrite().ok());
    Exec(*conn_, "INSERT INTO t VALUES (?1, 'v', 0)", {int64_t{i}});
    ASSERT_EQ(CommitOk(*conn_, 1), static_cast<uint64_t>(i));
  }
  conn_.reset();
  store_.reset();
  auto store = OpenStore(dir_.File("s.db"), {}, 5);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(LastLsn(*store), 5u);
  auto conn = AcquireOk(*store);
  ASSERT_TRUE(conn->BeginWrite().ok());
  Exec(*conn, "INSERT INTO t VALUES (6, 'v', 0)");
  EXPECT_EQ(CommitOk(*conn, 1), 6u);
  EXPECT_EQ(Query(*conn, "SELECT count(*) FROM t")[0][0], Value(int64_t{6}));
}

TEST_F(ShardStoreWal, RecordsTheConfiguredGenerationAndFullHlcRange) {
  ASSERT_TRUE(conn_->BeginWrite().ok());
  Exec(*conn_, "INSERT INTO t VALUES (1, 'v', 0)");
  const uint64_t big_hlc = (uint64_t{1} << 63) + 12345;  // high bit set
  ASSERT_EQ(CommitOk(*conn_, big_hlc), 1u);
  auto recs = store_->ReadWal(0, 10);
  ASSERT_TRUE(recs.ok()) << recs.status().ToString();
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_EQ((*recs)[0].hlc, big_hlc);
  EXPECT_EQ((*recs)[0].generation, 7u);
  EXPECT_TRUE(store_->ReadWal(1, 0)->empty());
}

// ---------------------------------------------------------------------------
// Pool

TEST(ShardStorePool, ReusesIdleConnections) {
  TempDir dir;
  ShardOptions opt;
  int opened = 0;
  opt.on_open = [&](sqlite3*) { ++opened; };
  auto store = OpenStore(dir.File("s.db"), opt);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(opened, 1);  // Open's own connection, now idle
  sqlite3* first = nullptr;
  {
    auto c = AcquireOk(*store);
    first = c->raw();
  }
  {
    auto c = AcquireOk(*store);
    EXPECT_EQ(c->raw(), first);
  }
  EXPECT_EQ(opened, 1);
  {
    auto a = AcquireOk(*store);
    auto b = AcquireOk(*store);
    EXPECT_NE(a->raw(), b->raw());
    EXPECT_EQ(opened, 2);
  }
  {
    auto a = AcquireOk(*store);
    auto b = AcquireOk(*store);
    EXPECT_EQ(opened, 2);  // both came back from the pool
  }
}

TEST(ShardStorePool, KeepsAtMostMaxIdleConnections) {
  TempDir dir;
  ShardOptions opt;
  opt.max_idle_connections = 1;
  int opened = 0;
  opt.on_open = [&](sqlite3*) { ++opened; };
  auto store = OpenStore(dir.File("s.db"), opt);
  ASSERT_NE(store, nullptr);
  {
    auto a = AcquireOk(*store);
    auto b = AcquireOk(*store);
    auto c = AcquireOk(*store);
  }
  EXPECT_EQ(opened, 3);
  {
    auto a = AcquireOk(*store);
    auto b = AcquireOk(*store);
  }
  EXPECT_EQ(opened, 4);  // only one of the three was kept
}

TEST(ShardStorePool, ConcurrentAcquireIsSafe) {
  TempDir dir;
  auto store = OpenStore(dir.File("s.db"));
  ASSERT_NE(store, nullptr);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto c = store->Acquire();
        if (!c.ok() || !(*c)->Execute("SELECT 1", {}, nullptr).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace sb::storage
