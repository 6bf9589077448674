// One shard's storage: a SQLite database in WAL mode with a small connection
// pool. Every write transaction records its changes (SQLite session extension
// changeset) in _sb_wal inside the same SQLite transaction, so the log and the
// data can never disagree (DESIGN.md, "Write-after log").
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/value.h"
#include "storage/change_capture.h"
#include "storage/commit_log.h"

namespace sb::storage {

namespace internal {
// Per-SQLite-handle state the pool keeps across borrows (addition).
struct HandleState {
  // Prepared statements by SQL text.
  std::unordered_map<std::string, sqlite3_stmt*> statements;
  // Change capture for write transactions; keeps table layouts and is
  // reused by every transaction on the handle.
  std::unique_ptr<ChangeCapture> capture;
};
}  // namespace internal

struct ShardOptions {
  std::string path;                  // database file
  std::string synchronous = "FULL";  // PRAGMA synchronous: OFF|NORMAL|FULL|EXTRA
  int busy_timeout_ms = 5000;
  uint64_t generation = 1;  // written into every _sb_wal record
  size_t max_idle_connections = 8;
  // ShardSet: with synchronous FULL or EXTRA, make commits durable through one
  // group-commit log for all shards (storage/commit_log.h) instead of an
  // fsync per shard commit.
  bool group_commit = true;
  // Set by ShardSet when group commit is on: commits are appended to this log
  // and made durable there before the SQLite COMMIT, which runs at
  // synchronous=NORMAL. Null: SQLite's own synchronous setting decides.
  CommitLog* commit_log = nullptr;
  // Called on every new SQLite connection (register SQL functions, collations).
  std::function<void(sqlite3*)> on_open;
};

// options.synchronous in upper case, as the checks compare it ("full" is FULL).
std::string SynchronousMode(const ShardOptions& options);

// Receives result rows; returning an error stops the statement with it.
using RowSink = std::function<Status(const Row& row)>;

class ShardStore;

// A connection borrowed from a shard's pool; returned on destruction (rolled
// back first if a transaction is still open).
class ShardConnection {
 public:
  ~ShardConnection();
  ShardConnection(const ShardConnection&) = delete;
  ShardConnection& operator=(const ShardConnection&) = delete;

  // Prepares, binds params (positional ?1..?n) and steps sql to completion.
  // Rows go to sink (may be null). *changes (may be null) gets
  // sqlite3_changes() for DML. SQLite errors map to SQLSTATEs: constraint
  // violations to 23xxx, SQLITE_INTERRUPT to 57014, BUSY to 40001, others XX000.
  Status Execute(const std::string& sql, const std::vector<Value>& params, const RowSink& sink,
                 int64_t* changes = nullptr);

  // BEGIN (deferred): a read snapshot is taken at the first read.
  Status BeginRead();
  // BEGIN IMMEDIATE and start capturing changes to every user table.
  Status BeginWrite();
  // Writes one _sb_wal record (next contiguous LSN, generation, hlc, changeset,
  // checksum) if the transaction changed anything, then COMMITs. Returns the
  // LSN written, or 0 when there was nothing to log.
  Result<uint64_t> Commit(uint64_t hlc);
  // Commit in two steps, so a statement that writes several shards waits for
  // one group-commit flush instead of one per shard: PrepareCommit writes the
  // _sb_wal record and queues it in the commit log; FinishCommit waits until
  // it is durable and COMMITs. Between the two, Rollback cancels the queued
  // record with an abort record.
  Result<uint64_t> PrepareCommit(uint64_t hlc);
  Status FinishCommit();
  // ROLLBACK if a transaction is open; always safe to call.
  Status Rollback();
  // BEGIN IMMEDIATE without change capture, for schema changes that every
  // shard applies itself (ShardSet::ApplyDdlEverywhere); ends with CommitDdl
  // or Rollback.
  Status BeginDdl();
  Status CommitDdl();
  bool in_transaction() const;

  // Stops the running statement (SQLITE_INTERRUPT). Thread-safe.
  void Interrupt();

  sqlite3* raw() { return db_; }

 private:
  friend class ShardStore;
  ShardConnection(ShardStore* owner, sqlite3* db);
  ShardStore* owner_;
  sqlite3* db_;
  ChangeCapture* capture_ = nullptr;  // capturing this transaction's changes
  bool in_txn_ = false;
  // Additions: the handle's cached state (owned by the store, outlives this
  // borrow), and whether the open txn began with BeginWrite.
  internal::HandleState* handle_ = nullptr;
  bool write_txn_ = false;
  // Set while Commit() runs COMMIT; a commit hook refuses any other COMMIT of a
  // transaction begun with BeginRead/BeginWrite (e.g. Execute("COMMIT")),
  // which would bypass the write-after log.
  bool committing_ = false;
  static int CommitGuard(void* ctx);
  // sqlite3_total_changes64() at BeginRead: DML in a read transaction is
  // refused at Commit (it would not be logged).
  int64_t begin_total_changes_ = 0;
  // The shard's in-process writer lock, held from BeginWrite/BeginDdl until
  // the transaction ends (see ShardStore::write_mu_).
  std::unique_lock<std::timed_mutex> write_lock_;
  Status LockWriter();
  // Runs a transaction-control statement through the statement cache.
  Status Control(const char* sql);
  // A record queued in the commit log by PrepareCommit and not yet committed
  // (lsn 0: none), and its ticket.
  uint64_t logged_lsn_ = 0;
  uint64_t prepared_lsn_ = 0;  // the LSN PrepareCommit wrote (0: none)
  uint64_t log_ticket_ = 0;
  bool prepared_ = false;
  // BeginDdl raised synchronous to FULL (group commit runs SQLite at NORMAL,
  // but schema changes are not in the commit log and must reach the disk at
  // COMMIT themselves).
  bool ddl_sync_raised_ = false;
  void LowerDdlSync();
  // Appends an abort record for logged_lsn_ and waits for it.
  Status CancelLoggedCommit();
  // Re-applies a commit found in the commit log (recovery).
  Status ApplyLoggedCommit(const CommitLogRecord& record);
};

struct WalRecord {
  uint64_t lsn;
  uint64_t generation;
  uint64_t hlc;
  std::string payload;  // SQLite changeset
  uint64_t checksum;    // XXH64 of payload
};

class ShardStore {
 public:
  // Creates or opens the database: WAL mode, synchronous, foreign_keys=ON,
  // busy_timeout, and the _sb_wal table.
  static Result<std::unique_ptr<ShardStore>> Open(int shard_index, ShardOptions options);
  ~ShardStore();

  int shard_index() const { return shard_index_; }
  const ShardOptions& options() const { return options_; }

  Result<std::unique_ptr<ShardConnection>> Acquire();

  // Highest LSN in _sb_wal (0 when empty).
  Result<uint64_t> LastLsn();
  // Makes every commit so far durable in the shard's own files (a commit at
  // synchronous=FULL syncs the whole SQLite WAL; earlier checkpoints already
  // synced the database file). Waits for the shard's writer lock, so commits
  // queued in the commit log for this shard have finished first.
  Status SyncToDisk();
  // Re-applies a commit that the commit log holds and the shard lost: the
  // changeset and its _sb_wal record in one transaction. XX001 when the
  // changeset conflicts with the shard (the shard is not the prefix the
  // record was captured against).
  Status ApplyLoggedCommit(const CommitLogRecord& record);
  // Records with lsn >= from_lsn in order, verifying each checksum (XX001 on mismatch).
  Result<std::vector<WalRecord>> ReadWal(uint64_t from_lsn, size_t max_records);

 private:
  friend class ShardConnection;
  ShardStore(int shard_index, ShardOptions options)
      : shard_index_(shard_index), options_(std::move(options)) {}
  Result<sqlite3*> OpenConnection();
  void Release(sqlite3* db);

  int shard_index_;
  ShardOptions options_;
  std::mutex mu_;
  // Writers of this shard queue here rather than in SQLite's busy handler,
  // which sleeps 1, 2, 5, 10 ... ms between retries: a waiting writer starts
  // the moment the previous one commits instead of up to milliseconds later.
  std::timed_mutex write_mu_;
  // The last LSN committed through this store, 0 until the first commit
  // (then read from _sb_wal). Read and written only under write_mu_.
  uint64_t last_lsn_ = 0;
  std::vector<sqlite3*> idle_;
  // Additions: state of every open handle (idle or borrowed); an entry is
  // erased only when its handle is closed.
  std::unordered_map<sqlite3*, internal::HandleState> handles_;
  void CloseConnection(sqlite3* db);
};

}  // namespace sb::storage
