#define SQLITE_ENABLE_SESSION
#define SQLITE_ENABLE_PREUPDATE_HOOK
#include <sqlite3.h>

#include "storage/change_capture.h"

#include <gtest/gtest.h>

#include <random>

namespace sb::storage {
namespace {

Value ColumnValue(sqlite3_stmt* stmt, int c) {
  switch (sqlite3_column_type(stmt, c)) {
    case SQLITE_INTEGER:
      return Value(std::in_place_type<int64_t>, sqlite3_column_int64(stmt, c));
    case SQLITE_FLOAT:
      return Value(std::in_place_type<double>, sqlite3_column_double(stmt, c));
    case SQLITE_TEXT:
      return Value(std::in_place_type<std::string>,
                   reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)),
                   static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
    case SQLITE_BLOB:
      return Value(std::in_place_type<Blob>,
                   Blob{std::string(static_cast<const char*>(sqlite3_column_blob(stmt, c)),
                                    static_cast<size_t>(sqlite3_column_bytes(stmt, c)))});
    default:
      return Value();
  }
}

// Runs sql with params on db; rows to sink. Status carries SQLite's text.
Status Run(sqlite3* db, const std::string& sql, const std::vector<Value>& params,
           const std::function<Status(const Row&)>& sink) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Status(sqlstate::kInternalError, sqlite3_errmsg(db));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const int at = static_cast<int>(i + 1);
    const Value& v = params[i];
    if (const auto* n = std::get_if<int64_t>(&v)) sqlite3_bind_int64(stmt, at, *n);
    if (const auto* d = std::get_if<double>(&v)) sqlite3_bind_double(stmt, at, *d);
    if (const auto* s = std::get_if<std::string>(&v)) {
      sqlite3_bind_text(stmt, at, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
    }
    if (const auto* b = std::get_if<Blob>(&v)) {
      sqlite3_bind_blob(stmt, at, b->bytes.data(), static_cast<int>(b->bytes.size()),
                        SQLITE_TRANSIENT);
    }
  }
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    Row row;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) row.push_back(ColumnValue(stmt, c));
    if (sink) {
      Status st = sink(row);
      if (!st.ok()) {
        sqlite3_finalize(stmt);
        return st;
      }
    }
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return Status(sqlstate::kUniqueViolation, sqlite3_errmsg(db));
  return Status::Ok();
}

Status Exec(sqlite3* db, const std::string& sql, const std::vector<Value>& params = {}) {
  return Run(db, sql, params, nullptr);
}

CaptureQuery QueryOn(sqlite3* db) {
  return [db](const std::string& sql, const std::vector<Value>& params,
              const std::function<Status(const Row&)>& sink) { return Run(db, sql, params, sink); };
}

const char* kSchema =
    "CREATE TABLE t1(id INTEGER PRIMARY KEY, a TEXT, b REAL, c BLOB);"
    // Key order differs from column order.
    "CREATE TABLE t2(k1 TEXT NOT NULL, v INTEGER, k2 INTEGER NOT NULL, PRIMARY KEY(k2, k1));"
    "CREATE TABLE t3(x TEXT PRIMARY KEY, y ANY) STRICT, WITHOUT ROWID;"
    "CREATE UNIQUE INDEX t1_a ON t1(a);"
    "CREATE TABLE nopk(a INTEGER);";

std::string Dump(sqlite3* db) {
  std::string out;
  for (const char* sql :
       {"SELECT id, a, typeof(a), b, typeof(b), hex(c), typeof(c) FROM t1 ORDER BY id",
        "SELECT k1, k2, v, typeof(v) FROM t2 ORDER BY k2, k1",
        "SELECT x, y, typeof(y) FROM t3 ORDER BY x"}) {
    EXPECT_TRUE(Run(db, sql, {}, [&](const Row& r) {
                  for (const Value& v : r) {
                    std::visit(
                        [&](const auto& x) {
                          using T = std::decay_t<decltype(x)>;
                          if constexpr (std::is_same_v<T, std::monostate>) {
                            out += "NULL";
                          } else if constexpr (std::is_same_v<T, Blob>) {
                            out += x.bytes;
                          } else if constexpr (std::is_same_v<T, std::string>) {
                            out += x;
                          } else {
                            out += std::to_string(x);
                          }
                        },
                        v);
                    out += "|";
                  }
                  out += "\n";
                  return Status::Ok();
                }).ok());
    out += "--\n";
  }
  return out;
}

struct Databases {
  sqlite3* live = nullptr;
  sqlite3* replica = nullptr;
  Databases() {
    EXPECT_EQ(sqlite3_open(":memory:", &live), SQLITE_OK);
    EXPECT_EQ(sqlite3_open(":memory:", &replica), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(live, kSchema, nullptr, nullptr, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(replica, kSchema, nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ~Databases() {
    sqlite3_close(live);
    sqlite3_close(replica);
  }
};

int AbortOnConflict(void*, int, sqlite3_changeset_iter*) {
  return SQLITE_CHANGESET_ABORT;
}

Status Apply(sqlite3* db, const std::string& changeset) {
  const int rc = sqlite3changeset_apply(db, static_cast<int>(changeset.size()),
                                        const_cast<char*>(changeset.data()), nullptr,
                                        &AbortOnConflict, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : Status(sqlstate::kInternalError, sqlite3_errstr(rc));
}

// One random statement against the live database; constraint failures are
// part of the test (the statement is undone, the transaction goes on).
void RandomStatement(std::mt19937_64& rng, sqlite3* db) {
  auto pick = [&](int n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  auto text = [&]() { return std::string("s") + std::to_string(pick(8)); };
  auto any = [&]() -> Value {
    switch (pick(5)) {
      case 0:
        return std::monostate{};
      case 1:
        return pick(100);
      case 2:
        return static_cast<double>(pick(100)) / 4;
      case 3:
        return text();
      default:
        return Blob{std::string("\0b", 2) + std::to_string(pick(9))};
    }
  };
  switch (pick(12)) {
    case 0:
    case 1:
      (void)Exec(db, "INSERT INTO t1 VALUES (?1, ?2, ?3, ?4)",
                 {pick(30), text(), static_cast<double>(pick(10)), any()});
      break;
    case 2:
      (void)Exec(db, "UPDATE t1 SET b = b + 1, c = ?2 WHERE id = ?1", {pick(30), any()});
      break;
    case 3:  // may hit the unique index half-way: the statement is undone
      (void)Exec(db, "UPDATE t1 SET a = ?1 WHERE id >= ?2", {text(), pick(30)});
      break;
    case 4:
      (void)Exec(db, "UPDATE t1 SET id = id + 100 WHERE id = ?1", {pick(30)});  // key change
      break;
    case 5:
      (void)Exec(db, "DELETE FROM t1 WHERE id % 7 = ?1", {pick(7)});
      break;
    case 6:
      (void)Exec(db, "INSERT INTO t2 VALUES (?1, ?2, ?3)", {text(), pick(5), pick(4)});
      break;
    case 7:
      (void)Exec(db, "UPDATE t2 SET v = ?1 WHERE k2 = ?2", {pick(3), pick(4)});
      break;
    case 8:
      (void)Exec(db, "DELETE FROM t2 WHERE k1 = ?1", {text()});
      break;
    case 9:
      (void)Exec(db, "INSERT INTO t3 VALUES (?1, ?2) ON CONFLICT(x) DO UPDATE SET y = excluded.y",
                 {text(), any()});
      break;
    case 10:
      (void)Exec(db, "DELETE FROM t3 WHERE x = ?1", {text()});
      break;
    default:  // delete then insert the same key: an UPDATE (or nothing)
      (void)Exec(db, "DELETE FROM t3 WHERE x = 's1'");
      (void)Exec(db, "INSERT INTO t3 VALUES ('s1', ?1)", {any()});
      break;
  }
}

TEST(ChangeCapture, RandomTransactionsReplayToTheSameDatabase) {
  Databases dbs;
  ChangeCapture capture(dbs.live, {});
  std::mt19937_64 rng(20261126);
  int committed = 0, empty = 0;
  for (int txn = 0; txn < 400; ++txn) {
    ASSERT_TRUE(Exec(dbs.live, "BEGIN").ok());
    capture.Begin(1);
    const int statements = 1 + static_cast<int>(rng() % 6);
    for (int s = 0; s < statements; ++s) RandomStatement(rng, dbs.live);
    auto changeset = capture.Changeset(QueryOn(dbs.live));
    capture.End();
    ASSERT_TRUE(changeset.ok()) << changeset.status().ToString();
    if (rng() % 5 == 0) {
      ASSERT_TRUE(Exec(dbs.live, "ROLLBACK").ok());
      continue;
    }
    ASSERT_TRUE(Exec(dbs.live, "COMMIT").ok());
    ++committed;
    if (changeset->empty()) ++empty;
    Status st = Apply(dbs.replica, *changeset);
    ASSERT_TRUE(st.ok()) << "transaction " << txn << ": " << st.ToString();
    ASSERT_EQ(Dump(dbs.replica), Dump(dbs.live)) << "after transaction " << txn;
  }
  EXPECT_GT(committed, 250);
  EXPECT_LT(empty, committed);  // the mix really changed rows
}

TEST(ChangeCapture, ChangesThatCancelOutProduceNothing) {
  Databases dbs;
  ChangeCapture capture(dbs.live, {});
  ASSERT_TRUE(Exec(dbs.live, "INSERT INTO t1 VALUES (1, 'a', 1.0, NULL)").ok());
  ASSERT_TRUE(Exec(dbs.live, "BEGIN").ok());
  capture.Begin(1);
  ASSERT_TRUE(Exec(dbs.live, "INSERT INTO t1 VALUES (2, 'b', 2.0, NULL)").ok());
  ASSERT_TRUE(Exec(dbs.live, "DELETE FROM t1 WHERE id = 2").ok());
  ASSERT_TRUE(Exec(dbs.live, "UPDATE t1 SET a = 'z' WHERE id = 1").ok());
  ASSERT_TRUE(Exec(dbs.live, "UPDATE t1 SET a = 'a' WHERE id = 1").ok());
  auto changeset = capture.Changeset(QueryOn(dbs.live));
  ASSERT_TRUE(changeset.ok());
  EXPECT_EQ(*changeset, "");
  capture.End();
  ASSERT_TRUE(Exec(dbs.live, "COMMIT").ok());
}

TEST(ChangeCapture, AnUndoneStatementLeavesNoTrace) {
  Databases dbs;
  ChangeCapture capture(dbs.live, {});
  ASSERT_TRUE(Exec(dbs.live,
                   "INSERT INTO t1 VALUES (1, 'a', 1, NULL), (2, 'b', 2, NULL), (3, 'c', 3, NULL)")
                  .ok());
  ASSERT_TRUE(Exec(dbs.replica,
                   "INSERT INTO t1 SELECT 1, 'a', 1, NULL UNION ALL "
                   "SELECT 2, 'b', 2, NULL UNION ALL SELECT 3, 'c', 3, NULL")
                  .ok());
  ASSERT_TRUE(Exec(dbs.live, "BEGIN").ok());
  capture.Begin(1);
  // Changes rows 1 and 2, then fails on the unique index at row 3: undone.
  EXPECT_FALSE(
      Exec(dbs.live, "UPDATE t1 SET b = b * 10, a = CASE id WHEN 3 THEN 'a' ELSE a END").ok());
  ASSERT_TRUE(Exec(dbs.live, "UPDATE t1 SET b = 99 WHERE id = 3").ok());
  auto changeset = capture.Changeset(QueryOn(dbs.live));
  capture.End();
  ASSERT_TRUE(changeset.ok());
  ASSERT_TRUE(Exec(dbs.live, "COMMIT").ok());
  ASSERT_TRUE(Apply(dbs.replica, *changeset).ok());
  EXPECT_EQ(Dump(dbs.replica), Dump(dbs.live));
  // Exactly one change: the UPDATE of row 3.
  sqlite3_changeset_iter* it = nullptr;
  ASSERT_EQ(sqlite3changeset_start(&it, static_cast<int>(changeset->size()),
                                   const_cast<char*>(changeset->data())),
            SQLITE_OK);
  int changes = 0;
  while (sqlite3changeset_next(it) == SQLITE_ROW) {
    const char* table = nullptr;
    int columns = 0, op = 0, indirect = 0;
    sqlite3changeset_op(it, &table, &columns, &op, &indirect);
    EXPECT_EQ(op, SQLITE_UPDATE);
    ++changes;
  }
  sqlite3changeset_finalize(it);
  EXPECT_EQ(changes, 1);
}

TEST(ChangeCapture, SkippedTablesAndTablesWithoutAKeyAreNotCaptured) {
  Databases dbs;
  ChangeCapture capture(dbs.live, {"t3"});
  ASSERT_TRUE(Exec(dbs.live, "BEGIN").ok());
  capture.Begin(1);
  ASSERT_TRUE(Exec(dbs.live, "INSERT INTO t3 VALUES ('x', 1)").ok());
  ASSERT_TRUE(Exec(dbs.live, "INSERT INTO nopk VALUES (1)").ok());
  EXPECT_EQ(capture.tables(), std::vector<std::string>{"nopk"});
  EXPECT_FALSE(capture.HasPrimaryKey("nopk"));
  auto changeset = capture.Changeset(QueryOn(dbs.live));
  ASSERT_TRUE(changeset.ok());
  EXPECT_EQ(*changeset, "");
  capture.End();
  ASSERT_TRUE(Exec(dbs.live, "ROLLBACK").ok());
}

TEST(ChangeCapture, AlteringATableAfterChangingItsRowsIsRefused) {
  Databases dbs;
  ChangeCapture capture(dbs.live, {});
  ASSERT_TRUE(Exec(dbs.live, "BEGIN").ok());
  capture.Begin(1);
  ASSERT_TRUE(Exec(dbs.live, "INSERT INTO t1 VALUES (1, 'a', 1, NULL)").ok());
  ASSERT_TRUE(Exec(dbs.live, "ALTER TABLE t1 ADD COLUMN d INTEGER").ok());
  auto changeset = capture.Changeset(QueryOn(dbs.live));
  EXPECT_EQ(changeset.status().code(), sqlstate::kFeatureNotSupported);
  capture.End();
  ASSERT_TRUE(Exec(dbs.live, "ROLLBACK").ok());
}

TEST(ChangeCapture, VarintsAndValuesUseTheChangesetEncoding) {
  std::string out;
  AppendChangesetValue(&out, std::string(200, 'x'));
  // Text tag, then 200 as a two-byte varint (0x81 0x48), then the bytes.
  ASSERT_EQ(out.size(), 1u + 2u + 200u);
  EXPECT_EQ(out[0], 0x03);
  EXPECT_EQ(static_cast<unsigned char>(out[1]), 0x81);
  EXPECT_EQ(static_cast<unsigned char>(out[2]), 0x48);
  out.clear();
  AppendChangesetValue(&out, int64_t{-2});
  EXPECT_EQ(out, std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xfe", 9));
}

}  // namespace
}  // namespace sb::storage
