// Captures one write transaction's row changes and writes them as a changeset
// in SQLite's session changeset format, so sqlite3changeset_apply (replay,
// replicas) applies it like one from the session extension.
//
// Why not the session extension itself: it re-reads each table's layout
// (PRAGMA table_info, twice) and prepares a SELECT, a SAVEPOINT and a RELEASE
// for every transaction, because a session cannot be reused; that was most of
// the CPU of a one-row INSERT. Here the table layouts and the SELECTs are
// cached per SQLite handle.
//
// How: SQLite's preupdate hook reports every row change before it happens.
// The first time a transaction touches a row (table + primary key), the row
// as it was is kept (or "absent", for an insert). At the end the row is read
// again by its key and compared: absent → present is an INSERT, present →
// absent a DELETE, changed values an UPDATE, and equal (or absent → absent)
// nothing. A statement that failed and was undone leaves no trace, since only
// the rows' final state counts; a changed primary key is a DELETE of the old
// key plus an INSERT of the new one, as with the session extension.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace sb::storage {

// The layout of one table as the changeset needs it.
struct CapturedTableLayout {
  int column_count = 0;
  // Per column: 0, or its 1-based position in the primary key.
  std::vector<int> pk_position;
  // Column indexes of the primary key, in key order.
  std::vector<int> pk_columns;
  // SELECT * FROM t WHERE pk1 IS ?1 AND ... (reads a row's final state).
  std::string select_sql;
};

// Runs a statement on the capturing connection (its statement cache).
using CaptureQuery = std::function<Status(const std::string& sql, const std::vector<Value>& params,
                                          const std::function<Status(const Row&)>& sink)>;

class ChangeCapture {
 public:
  // `skip` names tables whose changes are not captured (the log itself).
  ChangeCapture(sqlite3* db, std::vector<std::string> skip);
  ~ChangeCapture();
  ChangeCapture(const ChangeCapture&) = delete;
  ChangeCapture& operator=(const ChangeCapture&) = delete;

  // Starts capturing on the handle (installs the preupdate hook) and forgets
  // what an earlier transaction touched. Layouts are kept while the schema
  // version stays `schema_version`.
  void Begin(int64_t schema_version);
  // Stops capturing (removes the hook).
  void End();

  // Tables the transaction changed, in the order first changed (including
  // tables without a primary key, which are not captured: the caller refuses
  // to commit them).
  const std::vector<std::string>& tables() const { return table_order_; }
  bool HasPrimaryKey(const std::string& table) const;

  // The changeset of the transaction so far ("" when nothing changed).
  Result<std::string> Changeset(const CaptureQuery& query);

 private:
  struct TouchedRow {
    bool existed = false;
    Row before;  // all columns, when existed
  };
  struct TableChanges {
    std::shared_ptr<const CapturedTableLayout> layout;  // null: no primary key
    // Encoded key → the row before the transaction, by first touch.
    std::map<std::string, TouchedRow> rows;
    std::vector<Row> keys;  // key values in first-touch order
  };

  static void OnPreupdate(void* ctx, sqlite3* db, int op, const char* db_name, const char* table,
                          sqlite3_int64 old_rowid, sqlite3_int64 new_rowid);
  void Record(int op, const char* table);
  TableChanges* Touch(const char* table);
  std::shared_ptr<const CapturedTableLayout> LayoutOf(const std::string& table);

  sqlite3* db_;
  std::vector<std::string> skip_;
  int64_t schema_version_ = -1;
  std::unordered_map<std::string, std::shared_ptr<const CapturedTableLayout>> layouts_;
  std::unordered_map<std::string, TableChanges> changes_;
  std::vector<std::string> table_order_;
  Status hook_error_;  // the first failure inside the hook, reported by Changeset
};

// The changeset value encoding of one value (exposed for tests).
void AppendChangesetValue(std::string* out, const Value& v);

}  // namespace sb::storage
