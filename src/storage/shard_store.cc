// The session API is declared by <sqlite3.h> only with these defined; they must
// precede every include that could pull in <sqlite3.h>.
#define SQLITE_ENABLE_SESSION
#define SQLITE_ENABLE_PREUPDATE_HOOK
#include <sqlite3.h>

#include "storage/shard_store.h"

#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <cstring>
#include <mutex>

#include "storage/change_capture.h"
#include "storage/sqlite_error.h"

namespace sb::storage {

namespace {

constexpr const char* kWalTable = "_sb_wal";
constexpr size_t kMaxCachedStatements = 128;
// A one-row table SyncToDisk writes to: a commit at synchronous=FULL syncs the
// WAL only when it writes a frame.
constexpr const char* kCreateSyncTable =
    "CREATE TABLE IF NOT EXISTS _sb_sync(id INTEGER PRIMARY KEY, n INTEGER NOT NULL)";

bool IsBlank(const char* p) {
  if (p == nullptr) return true;
  for (; *p != '\0'; ++p) {
    if (!std::isspace(static_cast<unsigned char>(*p)) && *p != ';') return false;
  }
  return true;
}

Status BindParams(sqlite3* db, sqlite3_stmt* stmt, const std::vector<Value>& params) {
  const int count = sqlite3_bind_parameter_count(stmt);
  const int n = std::min<int>(count, static_cast<int>(params.size()));
  for (int i = 0; i < n; ++i) {
    const Value& v = params[static_cast<size_t>(i)];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(v)) {
      rc = sqlite3_bind_null(stmt, i + 1);
    } else if (const auto* iv = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, i + 1, *iv);
    } else if (const auto* dv = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, i + 1, *dv);
    } else if (const auto* sv = std::get_if<std::string>(&v)) {
      rc = sqlite3_bind_text64(stmt, i + 1, sv->data(), sv->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    } else if (const auto* bv = std::get_if<Blob>(&v)) {
      rc = sqlite3_bind_blob64(stmt, i + 1, bv->bytes.data(), bv->bytes.size(), SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) return StatusFromSqlite(rc, db);
  }
  return Status::Ok();
}

Row ReadRow(sqlite3_stmt* stmt) {
  const int n = sqlite3_column_count(stmt);
  Row row;
  row.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER:
        row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
        break;
      case SQLITE_FLOAT:
        row.emplace_back(sqlite3_column_double(stmt, i));
        break;
      case SQLITE_TEXT: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        const int len = sqlite3_column_bytes(stmt, i);
        row.emplace_back(std::string(p ? p : "", static_cast<size_t>(len)));
        break;
      }
      case SQLITE_BLOB: {
        const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
        const int len = sqlite3_column_bytes(stmt, i);
        row.emplace_back(Blob{std::string(p ? p : "", p ? static_cast<size_t>(len) : 0)});
        break;
      }
      default:
        row.emplace_back(std::monostate{});
        break;
    }
  }
  return row;
}

// Steps a bound statement to completion, feeding rows to sink.
Status StepAll(sqlite3* db, sqlite3_stmt* stmt, const RowSink& sink, int64_t* changes) {
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      if (sink) {
        Status st = sink(ReadRow(stmt));
        if (!st.ok()) return st;
      }
      continue;
    }
    if (rc == SQLITE_DONE) {
      if (changes != nullptr) *changes = sqlite3_changes64(db);
      return Status::Ok();
    }
    return StatusFromSqlite(rc, db);
  }
}

// Runs a statement without parameters or results on db (pragmas, BEGIN/COMMIT).
Status ExecSimple(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  sqlite3_free(err);
  return StatusFromSqlite(rc, db);
}

// Runs sql and returns the first column of the first row as text ("" if none).
Result<std::string> QueryText(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    Status st = StatusFromSqlite(rc, db);
    sqlite3_finalize(stmt);
    return st;
  }
  std::string out;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    if (p != nullptr) out = p;
  } else if (rc != SQLITE_DONE) {
    Status st = StatusFromSqlite(rc, db);
    sqlite3_finalize(stmt);
    return st;
  }
  sqlite3_finalize(stmt);
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Adds the database path to open-time errors.
Status OpenError(const Status& st, int shard_index, const std::string& path) {
  if (st.code() == sqlstate::kDataCorrupted) {
    return Status(sqlstate::kDataCorrupted, "shard " + std::to_string(shard_index) +
                                                " database \"" + path +
                                                "\" is not a SQLite database or is corrupt")
        .WithDetail(st.message());
  }
  return st.Annotate("shard " + std::to_string(shard_index) + " database \"" + path + "\"");
}

}  // namespace

// ---------------------------------------------------------------------------
// ShardConnection

// Installed on a handle while a ShardConnection borrows it.
int ShardConnection::CommitGuard(void* ctx) {
  const auto* conn = static_cast<const ShardConnection*>(ctx);
  return conn->in_txn_ && !conn->committing_ ? 1 : 0;
}

ShardConnection::ShardConnection(ShardStore* owner, sqlite3* db) : owner_(owner), db_(db) {
  sqlite3_commit_hook(db_, &ShardConnection::CommitGuard, this);
}

ShardConnection::~ShardConnection() {
  (void)Rollback();
  sqlite3_commit_hook(db_, nullptr, nullptr);
  owner_->Release(db_);
}

bool ShardConnection::in_transaction() const {
  return in_txn_ || sqlite3_get_autocommit(db_) == 0;
}

void ShardConnection::Interrupt() {
  sqlite3_interrupt(db_);
}

Status ShardConnection::Execute(const std::string& sql, const std::vector<Value>& params,
                                const RowSink& sink, int64_t* changes) {
  if (changes != nullptr) *changes = 0;
  // Fast path: a cached single statement that is not running right now (a sink
  // may re-enter Execute with the same text; that gets a fresh statement).
  auto* stmts = handle_ != nullptr ? &handle_->statements : nullptr;
  if (stmts != nullptr) {
    auto it = stmts->find(sql);
    if (it != stmts->end() && !sqlite3_stmt_busy(it->second)) {
      sqlite3_stmt* stmt = it->second;
      Status st = BindParams(db_, stmt, params);
      if (st.ok()) st = StepAll(db_, stmt, sink, changes);
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
      return st;
    }
  }

  const char* cursor = sql.c_str();
  const char* end = cursor + sql.size();
  bool first = true;
  while (cursor < end && !IsBlank(cursor)) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, cursor, static_cast<int>(end - cursor),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return StatusFromSqlite(rc, db_);
    }
    if (stmt == nullptr) break;  // only whitespace or comments left
    const bool single = first && IsBlank(tail);
    first = false;
    Status st = BindParams(db_, stmt, params);
    int64_t stmt_changes = 0;
    if (st.ok()) st = StepAll(db_, stmt, sink, &stmt_changes);
    if (changes != nullptr) *changes = stmt_changes;
    const bool cacheable = single && stmts != nullptr && stmts->find(sql) == stmts->end();
    if (cacheable) {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
      if (stmts->size() >= kMaxCachedStatements) {
        // Simple bound: drop idle entries wholesale (busy ones belong to
        // callers further up this stack and are kept).
        for (auto e = stmts->begin(); e != stmts->end();) {
          if (!sqlite3_stmt_busy(e->second)) {
            sqlite3_finalize(e->second);
            e = stmts->erase(e);
          } else {
            ++e;
          }
        }
      }
      stmts->emplace(sql, stmt);
    } else {
      sqlite3_finalize(stmt);
    }
    if (!st.ok()) return st;
    cursor = tail;
  }
  return Status::Ok();
}

Status ShardConnection::BeginRead() {
  if (in_transaction()) {
    return Status(sqlstate::kActiveSqlTransaction, "there is already a transaction in progress");
  }
  SB_RETURN_IF_ERROR(Control("BEGIN"));
  begin_total_changes_ = sqlite3_total_changes64(db_);
  in_txn_ = true;
  write_txn_ = false;
  return Status::Ok();
}

Status ShardConnection::BeginWrite() {
  if (in_transaction()) {
    return Status(sqlstate::kActiveSqlTransaction, "there is already a transaction in progress");
  }
  SB_RETURN_IF_ERROR(LockWriter());
  if (Status st = Control("BEGIN IMMEDIATE"); !st.ok()) {
    write_lock_ = {};
    return st;
  }
  int64_t schema_version = -1;
  Status st = Execute("PRAGMA main.schema_version", {}, [&](const Row& r) {
    if (const auto* v = std::get_if<int64_t>(&r[0])) schema_version = *v;
    return Status::Ok();
  });
  if (!st.ok()) {
    (void)Control("ROLLBACK");
    write_lock_ = {};
    return st.Annotate("could not start change capture");
  }
  if (!handle_->capture) {
    handle_->capture =
        std::make_unique<ChangeCapture>(db_, std::vector<std::string>{kWalTable, "_sb_sync"});
  }
  capture_ = handle_->capture.get();
  capture_->Begin(schema_version);
  in_txn_ = true;
  write_txn_ = true;
  return Status::Ok();
}

Result<uint64_t> ShardConnection::Commit(uint64_t hlc) {
  SB_ASSIGN_OR_RETURN(uint64_t lsn, PrepareCommit(hlc));
  SB_RETURN_IF_ERROR(FinishCommit());
  return lsn;
}

Result<uint64_t> ShardConnection::PrepareCommit(uint64_t hlc) {
  if (prepared_) {
    return Status(sqlstate::kInternalError, "the shard transaction is already prepared");
  }
  if (!in_transaction()) {
    return Status(sqlstate::kNoActiveSqlTransaction, "there is no transaction in progress");
  }
  if (sqlite3_get_autocommit(db_) != 0) {
    // SQLite already rolled the transaction back (e.g. after SQLITE_FULL,
    // IOERR or an interrupt); nothing of it can be committed.
    (void)Rollback();
    return Status(sqlstate::kInFailedTransaction,
                  "current transaction is aborted: the shard rolled it back after an error");
  }
  uint64_t lsn = 0;
  if (capture_ != nullptr) {
    // Tables without a PRIMARY KEY have no key to find their rows by on a
    // replica; committing their changes would leave replicas silently behind.
    for (const std::string& table : capture_->tables()) {
      if (!capture_->HasPrimaryKey(table)) {
        (void)Rollback();
        return Status(sqlstate::kFeatureNotSupported,
                      "table \"" + table +
                          "\" has no primary key, so its changes cannot be written to the "
                          "write-after log",
                      "Give every table a PRIMARY KEY (NOT NULL) before writing to it.");
      }
    }
    Result<std::string> changeset =
        capture_->Changeset([this](const std::string& sql, const std::vector<Value>& params,
                                   const std::function<Status(const Row&)>& sink) {
          return Execute(sql, params, sink);
        });
    capture_->End();
    capture_ = nullptr;
    if (!changeset.ok()) {
      (void)Rollback();
      return changeset.status().code() == sqlstate::kFeatureNotSupported
                 ? changeset.status()
                 : changeset.status().Annotate("could not build changeset");
    }
    if (!changeset->empty()) {
      std::string payload = std::move(*changeset);
      const uint64_t checksum = XXH64(payload.data(), payload.size(), 0);
      Result<uint64_t> next = [&]() -> Result<uint64_t> {
        // The writer lock is held, so the last committed LSN cannot move
        // under us; it is read from the table once per store.
        if (owner_->last_lsn_ == 0) {
          uint64_t max_lsn = 0;
          SB_RETURN_IF_ERROR(
              Execute("SELECT COALESCE(MAX(lsn), 0) FROM _sb_wal", {}, [&](const Row& r) {
                max_lsn = static_cast<uint64_t>(std::get<int64_t>(r[0]));
                return Status::Ok();
              }));
          return max_lsn + 1;
        }
        return owner_->last_lsn_ + 1;
      }();
      Status st = next.status();
      if (st.ok()) {
        lsn = *next;
        st = Execute(
            "INSERT INTO _sb_wal(lsn, generation, hlc, payload, checksum) "
            "VALUES (?1, ?2, ?3, ?4, ?5)",
            {static_cast<int64_t>(lsn), static_cast<int64_t>(owner_->options_.generation),
             static_cast<int64_t>(hlc), Blob{payload}, static_cast<int64_t>(checksum)},
            nullptr);
      }
      if (!st.ok()) {
        (void)Rollback();
        return st.Annotate("could not write write-after log record");
      }
      if (CommitLog* log = owner_->options_.commit_log; log != nullptr) {
        CommitLogRecord record;
        record.shard = static_cast<uint32_t>(owner_->shard_index_);
        record.lsn = lsn;
        record.generation = owner_->options_.generation;
        record.hlc = hlc;
        record.payload = std::move(payload);
        Result<uint64_t> ticket = log->Append(record);
        if (!ticket.ok()) {
          (void)Rollback();
          return ticket.status();
        }
        logged_lsn_ = lsn;
        log_ticket_ = *ticket;
      }
    }
  } else if (in_txn_ && !write_txn_ && sqlite3_total_changes64(db_) != begin_total_changes_) {
    // A transaction begun with BeginRead changed rows (DDL does not count):
    // those changes were not captured, and committing them would leave
    // replicas silently behind.
    (void)Rollback();
    return Status(sqlstate::kInternalError,
                  "shard write inside a read transaction cannot be logged; rolled back");
  }
  prepared_ = true;
  prepared_lsn_ = lsn;
  return lsn;
}

Status ShardConnection::FinishCommit() {
  if (!prepared_) {
    return Status(sqlstate::kInternalError, "the shard transaction was not prepared");
  }
  if (logged_lsn_ != 0) {
    // Durable in the commit log before it becomes visible in the shard, as
    // PostgreSQL flushes its WAL before a commit is visible: no reader sees a
    // change that a crash could still take back.
    if (Status st = owner_->options_.commit_log->WaitDurable(log_ticket_); !st.ok()) {
      (void)Rollback();
      return st;
    }
  }
  committing_ = true;
  Status st = Control("COMMIT");
  committing_ = false;
  if (!st.ok()) {
    (void)Rollback();
    return st;
  }
  if (prepared_lsn_ != 0) owner_->last_lsn_ = prepared_lsn_;
  in_txn_ = false;
  write_txn_ = false;
  prepared_ = false;
  prepared_lsn_ = 0;
  logged_lsn_ = 0;
  write_lock_ = {};
  return Status::Ok();
}

Status ShardConnection::CancelLoggedCommit() {
  CommitLogRecord abort;
  abort.kind = CommitLogRecord::Kind::kAbort;
  abort.shard = static_cast<uint32_t>(owner_->shard_index_);
  abort.lsn = logged_lsn_;
  abort.generation = owner_->options_.generation;
  logged_lsn_ = 0;
  return owner_->options_.commit_log->AppendDurable(abort);
}

Status ShardConnection::LockWriter() {
  std::unique_lock<std::timed_mutex> lock(owner_->write_mu_, std::defer_lock);
  const int wait_ms = std::max(0, owner_->options_.busy_timeout_ms);
  if (!lock.try_lock_for(std::chrono::milliseconds(wait_ms))) {
    return Status(sqlstate::kSerializationFailure, "could not serialize access: shard is busy")
        .WithDetail("another transaction held the write lock of shard " +
                    std::to_string(owner_->shard_index_) + " for longer than " +
                    std::to_string(wait_ms) + " ms");
  }
  write_lock_ = std::move(lock);
  return Status::Ok();
}

Status ShardConnection::Control(const char* sql) {
  return Execute(sql, {}, nullptr);
}

Status ShardConnection::BeginDdl() {
  if (in_transaction()) {
    return Status(sqlstate::kActiveSqlTransaction, "there is already a transaction in progress");
  }
  SB_RETURN_IF_ERROR(LockWriter());
  Status st = Status::Ok();
  if (owner_->options_.commit_log != nullptr) {
    st = Control("PRAGMA synchronous=FULL");
    ddl_sync_raised_ = st.ok();
  }
  if (st.ok()) st = Control("BEGIN IMMEDIATE");
  if (!st.ok()) {
    LowerDdlSync();
    write_lock_ = {};
  }
  return st;
}

Status ShardConnection::CommitDdl() {
  Status st = Control("COMMIT");
  if (!st.ok()) {
    (void)Rollback();
    return st;
  }
  LowerDdlSync();
  write_lock_ = {};
  return Status::Ok();
}

Status ShardConnection::Rollback() {
  // A logged commit that will not happen must not come back at recovery. If
  // the abort cannot be written the log is failed and refuses every commit
  // until a restart; the client was told its commit failed.
  if (logged_lsn_ != 0) (void)CancelLoggedCommit();
  prepared_ = false;
  prepared_lsn_ = 0;
  if (capture_ != nullptr) {
    capture_->End();
    capture_ = nullptr;
  }
  in_txn_ = false;
  write_txn_ = false;
  Status st = sqlite3_get_autocommit(db_) != 0 ? Status::Ok() : Control("ROLLBACK");
  LowerDdlSync();
  // Released only after the rollback: the next writer must not find the
  // SQLite write lock still taken.
  write_lock_ = {};
  return st;
}

void ShardConnection::LowerDdlSync() {
  if (!ddl_sync_raised_) return;
  ddl_sync_raised_ = false;
  (void)Control("PRAGMA synchronous=NORMAL");
}

Status ShardConnection::ApplyLoggedCommit(const CommitLogRecord& record) {
  SB_RETURN_IF_ERROR(LockWriter());
  SB_RETURN_IF_ERROR(Control("BEGIN IMMEDIATE"));
  in_txn_ = true;  // the commit hook lets only our own COMMIT through
  const std::string where = "commit log record for LSN " + std::to_string(record.lsn) +
                            " of shard " + std::to_string(owner_->shard_index_);
  // Any conflict means the shard is not the state the changeset was captured
  // against; applying part of it would corrupt the shard silently.
  auto on_conflict = [](void*, int, sqlite3_changeset_iter*) { return SQLITE_CHANGESET_ABORT; };
  int rc = sqlite3changeset_apply(db_, static_cast<int>(record.payload.size()),
                                  const_cast<char*>(record.payload.data()), nullptr, on_conflict,
                                  nullptr);
  if (rc != SQLITE_OK) {
    Status cause = StatusFromSqlite(rc, db_);
    (void)Rollback();
    return Status(sqlstate::kDataCorrupted, "cannot re-apply the " + where,
                  "The shard does not match the commit log; restore the data directory from a "
                  "backup.")
        .WithDetail(cause.message());
  }
  const uint64_t checksum = XXH64(record.payload.data(), record.payload.size(), 0);
  Status st = Execute(
      "INSERT INTO _sb_wal(lsn, generation, hlc, payload, checksum) VALUES (?1, ?2, ?3, ?4, ?5)",
      {static_cast<int64_t>(record.lsn), static_cast<int64_t>(record.generation),
       static_cast<int64_t>(record.hlc), Blob{record.payload}, static_cast<int64_t>(checksum)},
      nullptr);
  if (st.ok()) {
    committing_ = true;
    st = Control("COMMIT");
    committing_ = false;
  }
  if (!st.ok()) {
    (void)Rollback();
    return st.Annotate("cannot re-apply the " + where);
  }
  in_txn_ = false;
  owner_->last_lsn_ = record.lsn;
  write_lock_ = {};
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// ShardStore

std::string SynchronousMode(const ShardOptions& options) {
  return Upper(options.synchronous);
}

Result<std::unique_ptr<ShardStore>> ShardStore::Open(int shard_index, ShardOptions options) {
  // SQLite's allocation statistics take a process-wide mutex on every malloc
  // and free; nothing here reads them, and with many shard connections
  // working at once that mutex shows up in profiles. Only possible before
  // SQLite initialises; if something used SQLite earlier it stays on.
  static std::once_flag memstatus_off;
  std::call_once(memstatus_off, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  const std::string sync = SynchronousMode(options);
  if (sync != "OFF" && sync != "NORMAL" && sync != "FULL" && sync != "EXTRA") {
    return Status::InvalidArgument("invalid synchronous setting \"" + options.synchronous +
                                       "\" for shard " + std::to_string(shard_index),
                                   "Use OFF, NORMAL, FULL or EXTRA.");
  }
  options.synchronous = sync;
  if (options.path.empty()) {
    return Status::InvalidArgument("shard " + std::to_string(shard_index) +
                                   ": database path is empty");
  }
  std::unique_ptr<ShardStore> store(new ShardStore(shard_index, std::move(options)));
  SB_ASSIGN_OR_RETURN(sqlite3 * db, store->OpenConnection());
  Status st = ExecSimple(db,
                         "CREATE TABLE IF NOT EXISTS _sb_wal("
                         "lsn INTEGER PRIMARY KEY, generation INTEGER NOT NULL, "
                         "hlc INTEGER NOT NULL, payload BLOB NOT NULL, "
                         "checksum INTEGER NOT NULL) STRICT");
  if (st.ok() && store->options_.commit_log != nullptr) {
    st = ExecSimple(db, kCreateSyncTable);
  }
  if (!st.ok()) {
    store->CloseConnection(db);
    return OpenError(st, shard_index, store->options_.path);
  }
  store->Release(db);
  return store;
}

ShardStore::~ShardStore() {
  std::vector<sqlite3*> idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle.swap(idle_);
  }
  for (sqlite3* db : idle) CloseConnection(db);
}

Result<sqlite3*> ShardStore::OpenConnection() {
  const std::string& path = options_.path;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
      nullptr);
  if (rc != SQLITE_OK) {
    Status st = db != nullptr ? StatusFromSqlite(rc, db) : Status::IoError("out of memory");
    sqlite3_close_v2(db);
    if (st.code() == sqlstate::kInternalError) st = Status::IoError(st.message());
    return Status(st.code(), "could not open shard " + std::to_string(shard_index_) +
                                 " database \"" + path + "\": " + st.message());
  }
  sqlite3_extended_result_codes(db, 1);
  auto fail = [&](const Status& s) -> Status {
    sqlite3_close_v2(db);
    return OpenError(s, shard_index_, path);
  };
  sqlite3_busy_timeout(db, options_.busy_timeout_ms);
  Result<std::string> mode = QueryText(db, "PRAGMA journal_mode=WAL");
  if (!mode.ok()) return fail(mode.status());
  if (Upper(*mode) != "WAL") {
    return fail(Status::IoError("could not enable WAL journal mode (got \"" + *mode + "\")"));
  }
  // With the commit log, a commit is durable once its log record is; the
  // shard's own WAL needs syncing only at checkpoints (SyncToDisk).
  const std::string sync = options_.commit_log != nullptr ? "NORMAL" : options_.synchronous;
  Status st = ExecSimple(db, ("PRAGMA synchronous=" + sync).c_str());
  if (st.ok()) st = ExecSimple(db, "PRAGMA foreign_keys=ON");
  if (!st.ok()) return fail(st);
  if (options_.on_open) options_.on_open(db);
  {
    std::lock_guard<std::mutex> lock(mu_);
    handles_[db];
  }
  return db;
}

void ShardStore::CloseConnection(sqlite3* db) {
  std::unordered_map<std::string, sqlite3_stmt*> stmts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = handles_.find(db);
    if (it != handles_.end()) {
      stmts.swap(it->second.statements);
      handles_.erase(it);
    }
  }
  for (auto& [sql, stmt] : stmts) sqlite3_finalize(stmt);
  sqlite3_close_v2(db);
}

void ShardStore::Release(sqlite3* db) {
  if (sqlite3_get_autocommit(db) == 0) {
    // Never pool a handle with an open transaction.
    if (ExecSimple(db, "ROLLBACK").ok() == false) {
      CloseConnection(db);
      return;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < options_.max_idle_connections) {
      idle_.push_back(db);
      return;
    }
  }
  CloseConnection(db);
}

Result<std::unique_ptr<ShardConnection>> ShardStore::Acquire() {
  sqlite3* db = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      db = idle_.back();
      idle_.pop_back();
    }
  }
  if (db == nullptr) {
    SB_ASSIGN_OR_RETURN(db, OpenConnection());
  }
  std::unique_ptr<ShardConnection> conn(new ShardConnection(this, db));
  {
    std::lock_guard<std::mutex> lock(mu_);
    conn->handle_ = &handles_[db];
  }
  return conn;
}

Result<uint64_t> ShardStore::LastLsn() {
  SB_ASSIGN_OR_RETURN(auto conn, Acquire());
  uint64_t lsn = 0;
  SB_RETURN_IF_ERROR(
      conn->Execute("SELECT COALESCE(MAX(lsn), 0) FROM _sb_wal", {}, [&](const Row& r) {
        lsn = static_cast<uint64_t>(std::get<int64_t>(r[0]));
        return Status::Ok();
      }));
  return lsn;
}

Status ShardStore::SyncToDisk() {
  // Without the commit log every commit was already as durable as the
  // shard's synchronous setting makes it.
  if (options_.commit_log == nullptr) return Status::Ok();
  SB_ASSIGN_OR_RETURN(auto conn, Acquire());
  // A commit at FULL that writes a WAL frame syncs the WAL file: every earlier
  // frame with it. The _sb_sync write is not captured for the write-after log
  // (this transaction does not begin with BeginWrite).
  SB_RETURN_IF_ERROR(conn->BeginDdl());
  Status st = conn->Execute(
      "INSERT INTO _sb_sync(id, n) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1", {},
      nullptr);
  if (!st.ok()) {
    (void)conn->Rollback();
    return st.Annotate("could not sync shard " + std::to_string(shard_index_));
  }
  return conn->CommitDdl();
}

Status ShardStore::ApplyLoggedCommit(const CommitLogRecord& record) {
  SB_ASSIGN_OR_RETURN(auto conn, Acquire());
  return conn->ApplyLoggedCommit(record);
}

Result<std::vector<WalRecord>> ShardStore::ReadWal(uint64_t from_lsn, size_t max_records) {
  std::vector<WalRecord> out;
  if (max_records == 0) return out;
  const int64_t from =
      from_lsn > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(from_lsn);
  const int64_t limit =
      max_records > static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(max_records);
  SB_ASSIGN_OR_RETURN(auto conn, Acquire());
  Status st = conn->Execute(
      "SELECT lsn, generation, hlc, payload, checksum FROM _sb_wal "
      "WHERE lsn >= ?1 ORDER BY lsn LIMIT ?2",
      {from, limit}, [&](const Row& r) -> Status {
        WalRecord rec;
        const auto* lsn = std::get_if<int64_t>(&r[0]);
        const auto* gen = std::get_if<int64_t>(&r[1]);
        const auto* hlc = std::get_if<int64_t>(&r[2]);
        const auto* payload = std::get_if<Blob>(&r[3]);
        const auto* sum = std::get_if<int64_t>(&r[4]);
        rec.lsn = lsn ? static_cast<uint64_t>(*lsn) : 0;
        auto corrupt = [&]() {
          return Status(sqlstate::kDataCorrupted, "write-after log record " +
                                                      std::to_string(rec.lsn) + " of shard " +
                                                      std::to_string(shard_index_) + " is corrupt");
        };
        if (!lsn || !gen || !hlc || !payload || !sum) return corrupt();
        rec.generation = static_cast<uint64_t>(*gen);
        rec.hlc = static_cast<uint64_t>(*hlc);
        rec.payload = payload->bytes;
        rec.checksum = static_cast<uint64_t>(*sum);
        if (XXH64(rec.payload.data(), rec.payload.size(), 0) != rec.checksum) return corrupt();
        out.push_back(std::move(rec));
        return Status::Ok();
      });
  if (!st.ok()) return st;
  return out;
}

}  // namespace sb::storage
