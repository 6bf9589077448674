#include "exec/executor.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "common/key_encoding.h"
#include "common/shard_router.h"
#include "common/value_codec.h"
#include "exec/merge.h"

namespace sb::exec {
namespace {

using Clock = std::chrono::steady_clock;

int ProgressHandler(void* arg) {
  return static_cast<CancelState*>(arg)->ShouldStop() ? 1 : 0;
}

// Installs the cancellation hook on a connection for one statement.
class CancelGuard {
 public:
  CancelGuard(storage::ShardConnection* conn, CancelState* cancel) : conn_(conn), cancel_(cancel) {
    if (cancel_ == nullptr) return;
    sqlite3_progress_handler(conn_->raw(), 1000, ProgressHandler, cancel_);
    cancel_->Register(conn_);
  }
  ~CancelGuard() {
    if (cancel_ == nullptr) return;
    cancel_->Unregister(conn_);
    sqlite3_progress_handler(conn_->raw(), 0, nullptr, nullptr);
  }

 private:
  storage::ShardConnection* conn_;
  CancelState* cancel_;
};

Status CancelError(const Status& st, const ExecOptions& opts) {
  if (st.code() == sqlstate::kQueryCanceled && opts.cancel != nullptr && opts.cancel->timed_out()) {
    return Status(sqlstate::kQueryCanceled, "canceling statement due to statement timeout");
  }
  return st;
}

std::string InsertSql(const meta::TableDef& t, size_t rows, const std::string& returning) {
  std::string sql = "INSERT INTO \"" + t.name + "\" (";
  for (size_t i = 0; i < t.columns.size(); ++i)
    sql += (i ? ", \"" : "\"") + t.columns[i].name + "\"";
  sql += ") VALUES ";
  int n = 1;
  for (size_t r = 0; r < rows; ++r) {
    sql += r ? ", (" : "(";
    for (size_t i = 0; i < t.columns.size(); ++i) sql += (i ? ", ?" : "?") + std::to_string(n++);
    sql += ")";
  }
  return sql + returning;
}

std::string NowStored(const ExecOptions& opts) {
  if (opts.context != nullptr) {
    auto it = opts.context->values.find("statement_timestamp");
    if (it != opts.context->values.end()) return it->second;
  }
  return "1970-01-01 00:00:00.000000";
}

Result<Value> DefaultValue(const meta::ColumnDef& c, const ExecOptions& opts) {
  if (c.default_now) {
    std::string now = NowStored(opts);
    if (c.type.id == TypeId::kDate) return Value(now.substr(0, 10));
    return Value(now);
  }
  if (c.default_text) return ParseTextValue(c.type, *c.default_text);
  return Value(std::monostate{});
}

// COPY text format: one line per row, fields split by the delimiter,
// backslash escapes, \N (or the NULL string) for NULL.
Result<std::vector<std::vector<std::optional<std::string>>>> ParseCopyText(std::string_view data,
                                                                           const CopyPlan& p) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  size_t pos = 0;
  int line_no = 0;
  while (pos < data.size()) {
    size_t eol = data.find('\n', pos);
    std::string_view line =
        data.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? data.size() : eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line == "\\.") break;
    if (p.header && line_no == 1) continue;
    std::vector<std::optional<std::string>> fields;
    std::string raw, val;
    auto finish = [&]() {
      if (raw == p.null_string) {
        fields.push_back(std::nullopt);
      } else {
        fields.push_back(val);
      }
      raw.clear();
      val.clear();
    };
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (c == p.delimiter) {
        finish();
        continue;
      }
      raw += c;
      if (c != '\\' || i + 1 >= line.size()) {
        val += c;
        continue;
      }
      char n = line[++i];
      raw += n;
      switch (n) {
        case 'b':
          val += '\b';
          break;
        case 'f':
          val += '\f';
          break;
        case 'n':
          val += '\n';
          break;
        case 'r':
          val += '\r';
          break;
        case 't':
          val += '\t';
          break;
        case 'v':
          val += '\v';
          break;
        case 'x': {
          int v = 0, k = 0;
          while (k < 2 && i + 1 < line.size() &&
                 std::isxdigit(static_cast<unsigned char>(line[i + 1]))) {
            char h = line[++i];
            raw += h;
            v = v * 16 + (std::isdigit(static_cast<unsigned char>(h))
                              ? h - '0'
                              : (std::tolower(h) - 'a' + 10));
            ++k;
          }
          val += static_cast<char>(v);
          break;
        }
        default:
          if (n >= '0' && n <= '7') {
            int v = n - '0', k = 1;
            while (k < 3 && i + 1 < line.size() && line[i + 1] >= '0' && line[i + 1] <= '7') {
              v = v * 8 + (line[++i] - '0');
              raw += line[i];
              ++k;
            }
            val += static_cast<char>(v);
          } else {
            val += n;  // \\, \<delimiter> and any other character stand for themselves
          }
      }
    }
    finish();
    rows.push_back(std::move(fields));
  }
  return rows;
}

// COPY CSV format: quoted fields may hold delimiters, quotes ("") and newlines;
// an unquoted field equal to the NULL string is NULL.
Result<std::vector<std::vector<std::optional<std::string>>>> ParseCopyCsv(std::string_view data,
                                                                          const CopyPlan& p) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::vector<std::optional<std::string>> fields;
  std::string val;
  bool quoted = false, was_quoted = false, in_quotes = false, row_has_data = false;
  int line_no = 1;
  auto finish_field = [&]() {
    if (!was_quoted && val == p.null_string) {
      fields.push_back(std::nullopt);
    } else {
      fields.push_back(val);
    }
    val.clear();
    was_quoted = false;
  };
  auto finish_row = [&]() {
    finish_field();
    if (!(p.header && line_no == 1)) rows.push_back(std::move(fields));
    fields.clear();
    row_has_data = false;
  };
  for (size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (in_quotes) {
      if (c == p.quote) {
        if (i + 1 < data.size() && data[i + 1] == p.quote) {
          val += c;
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        val += c;
      }
      continue;
    }
    if (c == p.quote) {
      in_quotes = true;
      quoted = was_quoted = true;
      row_has_data = true;
    } else if (c == p.delimiter) {
      finish_field();
      row_has_data = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
      if (!row_has_data && val.empty() && fields.empty()) {
        ++line_no;
        continue;  // blank line
      }
      if (fields.empty() && val == "\\." && !was_quoted) break;
      finish_row();
      ++line_no;
    } else {
      val += c;
      row_has_data = true;
    }
  }
  if (in_quotes) {
    return Status(sqlstate::kInvalidTextRepresentation, "unterminated CSV quoted field");
  }
  if (row_has_data || !val.empty() || !fields.empty()) {
    if (!(fields.empty() && val == "\\." && !was_quoted)) finish_row();
  }
  (void)quoted;
  return rows;
}

thread_local sqlite3* tls_coordinator_db = nullptr;

Result<sqlite3*> CoordinatorDb() {
  if (tls_coordinator_db != nullptr) return tls_coordinator_db;
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    sqlite3_close(db);
    return Status::Internal("cannot open the coordinator's merge database");
  }
  RegisterSqlFunctions(db);
  tls_coordinator_db = db;
  return db;
}

Status SqliteStatus(sqlite3* db, int rc) {
  std::string msg = sqlite3_errmsg(db);
  if (rc == SQLITE_INTERRUPT)
    return Status(sqlstate::kQueryCanceled, "canceling statement due to user request");
  if ((rc & 0xff) == SQLITE_NOMEM)
    return Status(sqlstate::kOutOfMemory, "out of memory in the merge stage");
  if (msg == "integer overflow") {
    return Status(sqlstate::kNumericValueOutOfRange, "integer out of range in an aggregate");
  }
  return NormalizeError(Status(sqlstate::kInternalError, "merge stage failed: " + msg));
}

void BindValue(sqlite3_stmt* stmt, int i, const Value& v) {
  if (auto* x = std::get_if<int64_t>(&v)) {
    sqlite3_bind_int64(stmt, i, *x);
  } else if (auto* d = std::get_if<double>(&v)) {
    sqlite3_bind_double(stmt, i, *d);
  } else if (auto* s = std::get_if<std::string>(&v)) {
    sqlite3_bind_text64(stmt, i, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  } else if (auto* b = std::get_if<Blob>(&v)) {
    sqlite3_bind_blob64(stmt, i, b->bytes.data(), b->bytes.size(), SQLITE_TRANSIENT);
  } else {
    sqlite3_bind_null(stmt, i);
  }
}

Value ColumnValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, i);
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
                         static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
    case SQLITE_BLOB:
      return Blob{std::string(static_cast<const char*>(sqlite3_column_blob(stmt, i)),
                              static_cast<size_t>(sqlite3_column_bytes(stmt, i)))};
    default:
      return std::monostate{};
  }
}

// A SQLite identifier in double quotes.
std::string QuoteName(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// --- CancelState ---

namespace {

// One thread for the process that interrupts statements past their deadline.
class TimeoutWatchdog {
 public:
  static TimeoutWatchdog& Get() {
    static TimeoutWatchdog* w = new TimeoutWatchdog();  // lives until exit
    return *w;
  }
  void Add(CancelState* s) {
    std::lock_guard<std::mutex> l(mu_);
    states_.insert(s);
  }
  void Remove(CancelState* s) {
    std::lock_guard<std::mutex> l(mu_);
    states_.erase(s);
  }

 private:
  TimeoutWatchdog() {
    std::thread([this] {
      for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::lock_guard<std::mutex> l(mu_);
        for (auto* s : states_) s->InterruptIfTimedOut();
      }
    }).detach();
  }
  std::mutex mu_;
  std::set<CancelState*> states_;
};

}  // namespace

CancelState::CancelState() {
  TimeoutWatchdog::Get().Add(this);
}
CancelState::~CancelState() {
  TimeoutWatchdog::Get().Remove(this);
}

void CancelState::InterruptIfTimedOut() {
  if (!timed_out()) return;
  InterruptAll();
}

void CancelState::InterruptAll() {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [key, interrupt] : running_) interrupt();
}

void CancelState::Reset(std::chrono::milliseconds timeout) {
  cancelled_ = false;
  user_cancelled_ = false;
  deadline_ = timeout.count() > 0 ? (Clock::now() + timeout).time_since_epoch().count() : INT64_MAX;
}

void CancelState::Cancel() {
  user_cancelled_ = true;
  StopStatement();
}

void CancelState::StopStatement() {
  cancelled_ = true;
  InterruptAll();
}

bool CancelState::ShouldStop() const {
  if (cancelled_.load(std::memory_order_relaxed)) return true;
  return timed_out();
}

bool CancelState::timed_out() const {
  const auto d = deadline_.load(std::memory_order_relaxed);
  return d != INT64_MAX && Clock::now().time_since_epoch().count() >= d;
}

void CancelState::Register(storage::ShardConnection* c) {
  Register(c, [c] { c->Interrupt(); });
}

void CancelState::Unregister(storage::ShardConnection* c) {
  Unregister(static_cast<const void*>(c));
}

void CancelState::Register(const void* key, std::function<void()> interrupt) {
  std::lock_guard<std::mutex> l(mu_);
  running_.emplace_back(key, std::move(interrupt));
}

void CancelState::Unregister(const void* key) {
  std::lock_guard<std::mutex> l(mu_);
  running_.erase(std::remove_if(running_.begin(), running_.end(),
                                [key](const auto& r) { return r.first == key; }),
                 running_.end());
}

Status NormalizeError(Status st) {
  if (st.ok()) return st;
  std::string code, text;
  if (SplitSqlstatePrefix(st.message(), &code, &text)) return Status(code, text, st.hint());
  return st;
}

// --- Executor ---

Executor::Executor(storage::ShardSet* shards, meta::ShardMap map, size_t parallelism)
    : shards_(shards), map_(std::move(map)), pool_(parallelism) {}

std::string Executor::ShardLabel(int shard) const {
  std::string name = meta::ShardMap::ShardName(static_cast<uint32_t>(shard));
  if (placement_ == nullptr) return name;
  return name + "@" + placement_->Where(shard);
}

int64_t Executor::NextRowid() {
  // Unique across restarts as long as the clock does not run backwards by
  // more than the restart takes: microseconds × 16 plus a counter.
  std::lock_guard<std::mutex> l(rowid_mu_);
  last_rowid_ = std::max(last_rowid_ + 1, NowMicros() * 16);
  return last_rowid_;
}

Result<Value> Executor::RowidFor(const meta::TableDef& table, const TxnState* txn,
                                 int* target_shard) {
  const int64_t id = NextRowid();
  const bool rowid_is_key =
      table.shard_key.size() == 1 && table.columns[table.shard_key[0]].name == meta::kRowidColumn;
  if (!txn->in_block || !rowid_is_key) return Value(id);
  // Inside a transaction every generated row id must fall on the shard the
  // transaction writes to, or a table without a primary key could not take
  // two INSERTs in one transaction. About shard_count draws are needed.
  Row key(table.columns.size());
  for (int tries = 0; tries < 100000; ++tries) {
    const int64_t candidate = tries == 0 ? id : NextRowid();
    key[table.shard_key[0]] = candidate;
    SB_ASSIGN_OR_RETURN(uint32_t vnode, VnodeOfKey(table, key));
    const int shard = static_cast<int>(map_.ShardOfVnode(vnode));
    if (*target_shard < 0) *target_shard = shard;
    if (shard == *target_shard) return Value(candidate);
  }
  return Status::Internal("could not generate a row id for the transaction's shard");
}

Result<Value> Executor::SourceValue(const ValueSource& v, const std::vector<Value>& params) const {
  if (v.constant) return *v.constant;
  if (!v.expression_sql.empty()) {
    SB_ASSIGN_OR_RETURN(std::vector<Row> rows,
                        const_cast<Executor*>(this)->RunOnCoordinator(
                            "SELECT " + v.expression_sql, params, nullptr, 0, ExecOptions{}));
    if (rows.size() != 1 || rows[0].size() != 1)
      return Status::Internal("expression gave no value");
    return rows[0][0];
  }
  if (v.param < 1 || v.param > static_cast<int>(params.size())) {
    return Status(sqlstate::kProtocolViolation, fmt::format("there is no parameter ${}", v.param));
  }
  const Value& p = params[v.param - 1];
  if (IsNull(p) || v.param_type == v.type || v.param_type.id == TypeId::kUnknown) return p;
  return CastValue(p, v.param_type, v.type);
}

Result<uint32_t> Executor::VnodeOfKey(const meta::TableDef& table, const Row& row) const {
  std::string key;
  for (int k : table.shard_key) {
    const auto& col = table.columns[k];
    SB_ASSIGN_OR_RETURN(std::string enc, EncodeKeyValue(col.type, row[k], col.name));
    key += enc;
  }
  return map_.VnodeOfHash(HashShardKey(key));
}

Result<std::vector<int>> Executor::ResolveRoute(const RouteSpec& route,
                                                const std::vector<Value>& params) {
  std::vector<int> out;
  const int n = shards_->size();
  switch (route.kind) {
    case RouteSpec::Kind::kCoordinator:
      return out;
    case RouteSpec::Kind::kAnyOneShard: {
      // Any shard holds every row of a reference table; one this node owns
      // saves the hop (and, inside a transaction, the bound shard sees the
      // transaction's own writes).
      const uint64_t start = reference_read_rr_++;
      int chosen = static_cast<int>(start % static_cast<uint64_t>(n));
      for (int k = 0; k < n; ++k) {
        const int s =
            static_cast<int>((start + static_cast<uint64_t>(k)) % static_cast<uint64_t>(n));
        if (IsLocal(s)) {
          chosen = s;
          break;
        }
      }
      out.push_back(chosen);
      return out;
    }
    case RouteSpec::Kind::kAllShards:
      for (int i = 0; i < n; ++i) out.push_back(i);
      return out;
    case RouteSpec::Kind::kKeyTuples:
      break;
  }
  std::set<int> shards;
  for (const auto& tuple : route.tuples) {
    Row row(route.table->columns.size());
    bool has_null = false;
    for (size_t i = 0; i < tuple.size(); ++i) {
      SB_ASSIGN_OR_RETURN(Value v, SourceValue(tuple[i], params));
      has_null = has_null || IsNull(v);
      row[route.table->shard_key[i]] = std::move(v);
    }
    if (has_null) {
      // key = NULL matches no row; any one shard gives the right (empty) answer.
      shards.insert(0);
      continue;
    }
    SB_ASSIGN_OR_RETURN(uint32_t vnode, VnodeOfKey(*route.table, row));
    shards.insert(static_cast<int>(map_.ShardOfVnode(vnode)));
  }
  out.assign(shards.begin(), shards.end());
  return out;
}

namespace {

// Runs statements on the coordinator's in-memory database; `stage` names
// the step in the (internal) error.
Status ExecCoordinatorSql(sqlite3* db, const std::string& sql, const char* stage) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Status::Internal(std::string(stage) + " failed: " + msg);
  return Status::Ok();
}

int64_t ApproximateBytes(const Row& row) {
  int64_t n = 16;
  for (const Value& v : row) {
    n += 16;
    if (const auto* t = std::get_if<std::string>(&v)) n += static_cast<int64_t>(t->size());
    if (const auto* b = std::get_if<Blob>(&v)) n += static_cast<int64_t>(b->bytes.size());
  }
  return n;
}

}  // namespace

Status Executor::MemoryBudget::Charge(int64_t bytes) {
  if (limit <= 0) return Status::Ok();
  if (used.fetch_add(bytes) + bytes <= limit) return Status::Ok();
  return Status(sqlstate::kOutOfMemory,
                fmt::format("the rows this query gathers at the coordinator exceed {} ({} bytes)",
                            setting, limit),
                hint);
}

Result<std::vector<std::vector<Row>>> Executor::RunOnShards(
    const std::vector<int>& shards, const std::string& sql, const std::vector<Value>& params,
    TxnState* txn, const ExecOptions& opts, std::vector<ShardStat>* stats, MemoryBudget* budget) {
  std::vector<std::vector<Row>> results(shards.size());
  std::vector<Status> statuses(shards.size());
  std::vector<ShardStat> local_stats(shards.size());
  auto run_one = [&](size_t i) {
    const int shard = shards[i];
    auto start = Clock::now();
    StatementContextScope scope(opts.context);
    auto& rows = results[i];
    auto collect = [&rows, budget](const Row& r) {
      if (budget != nullptr) SB_RETURN_IF_ERROR(budget->Charge(ApproximateBytes(r)));
      rows.push_back(r);
      return Status::Ok();
    };
    auto finish = [&] {
      local_stats[i] = {
          shard, static_cast<int64_t>(rows.size()),
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count()};
      if (!statuses[i].ok() && opts.cancel != nullptr && shards.size() > 1) {
        opts.cancel->StopStatement();  // no partial results: stop the other shards early
      }
    };
    if (txn != nullptr && txn->remote && txn->bound_shard == shard) {
      // Read your own writes inside a transaction held on another node.
      RemoteWrite* remote = txn->remote.get();
      InterruptScope interrupt(opts.cancel, remote, [remote] { remote->Interrupt(); });
      statuses[i] = remote->Execute(sql, params, collect, nullptr);
      finish();
      return;
    }
    if (!IsLocal(shard) && !(txn != nullptr && txn->conn && txn->bound_shard == shard)) {
      statuses[i] = placement_->Read(shard, opts.schema_version, sql, params, opts.cancel, collect);
      finish();
      return;
    }
    std::unique_ptr<storage::ShardConnection> owned;
    storage::ShardConnection* conn = nullptr;
    if (txn != nullptr && txn->conn && txn->bound_shard == shard) {
      conn = txn->conn.get();  // read your own writes inside the transaction
    } else {
      auto c = shards_->shard(shard).Acquire();
      if (!c.ok()) {
        statuses[i] = c.status();
        return;
      }
      owned = std::move(*c);
      conn = owned.get();
    }
    CancelGuard guard(conn, opts.cancel);
    statuses[i] = conn->Execute(sql, params, collect);
    finish();
  };
  if (shards.size() == 1) {
    run_one(0);
  } else {
    std::vector<std::future<void>> futures;
    futures.reserve(shards.size());
    for (size_t i = 0; i < shards.size(); ++i)
      futures.push_back(pool_.Submit([&, i] { run_one(i); }));
    for (auto& f : futures) f.get();
  }
  if (stats != nullptr) *stats = local_stats;
  // Report the first real failure (not the cancellations it caused).
  const Status* first = nullptr;
  for (size_t i = 0; i < shards.size(); ++i) {
    if (statuses[i].ok()) continue;
    if (first == nullptr || (first->code() == sqlstate::kQueryCanceled &&
                             statuses[i].code() != sqlstate::kQueryCanceled)) {
      first = &statuses[i];
    }
  }
  if (first != nullptr) {
    size_t idx = static_cast<size_t>(first - statuses.data());
    Status st = CancelError(NormalizeError(*first), opts);
    const std::string shard_name = meta::ShardMap::ShardName(static_cast<uint32_t>(shards[idx]));
    if (st.code() == sqlstate::kInternalError || st.code() == sqlstate::kIoError ||
        st.code() == sqlstate::kDataCorrupted || st.code() == sqlstate::kShardUnavailable) {
      return Status(st.code(),
                    fmt::format("Distributed query failed due to subplan failure on shard {}: {}",
                                shard_name, st.message()),
                    st.hint());
    }
    if (shards.size() > 1) st.WithDetail("on shard " + shard_name);
    return st;
  }
  return results;
}

Result<std::vector<Row>> Executor::RunOnCoordinator(const std::string& sql,
                                                    const std::vector<Value>& params,
                                                    const std::vector<std::vector<Row>>* partials,
                                                    int width, const ExecOptions& opts) {
  SB_ASSIGN_OR_RETURN(sqlite3 * db, CoordinatorDb());
  StatementContextScope scope(opts.context);
  std::vector<Row> out;
  auto exec = [db](const std::string& s) { return ExecCoordinatorSql(db, s, "merge stage"); };
  if (partials != nullptr) {
    std::string create = "DROP TABLE IF EXISTS _p; CREATE TABLE _p(";
    std::string insert = "INSERT INTO _p VALUES (";
    for (int i = 0; i < width; ++i) {
      create += (i ? ", c" : "c") + std::to_string(i);
      insert += i ? ", ?" : "?";
    }
    SB_RETURN_IF_ERROR(exec(create + ")"));
    SB_RETURN_IF_ERROR(exec("BEGIN"));
    sqlite3_stmt* ins = nullptr;
    if (sqlite3_prepare_v2(db, (insert + ")").c_str(), -1, &ins, nullptr) != SQLITE_OK) {
      Status st = SqliteStatus(db, SQLITE_ERROR);
      (void)exec("ROLLBACK");
      return st;
    }
    for (const auto& run : *partials) {
      for (const auto& row : run) {
        for (int i = 0; i < width; ++i) BindValue(ins, i + 1, row[i]);
        sqlite3_step(ins);
        sqlite3_reset(ins);
      }
    }
    sqlite3_finalize(ins);
    SB_RETURN_IF_ERROR(exec("COMMIT"));
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db, rc);
  const int nparams = sqlite3_bind_parameter_count(stmt);
  for (int i = 0; i < nparams && i < static_cast<int>(params.size()); ++i)
    BindValue(stmt, i + 1, params[i]);
  if (opts.cancel != nullptr) sqlite3_progress_handler(db, 1000, ProgressHandler, opts.cancel);
  const int ncols = sqlite3_column_count(stmt);
  // The coordinator's own result is held in memory too (a recursive CTE or a
  // cross join can make it far larger than its inputs): capped by
  // scratchbird.max_merge_memory like the rows gathered from the shards.
  MemoryBudget result_budget(
      opts.max_merge_memory, "scratchbird.max_merge_memory",
      "The query's result at the coordinator is too large; add a LIMIT or a filter, or raise "
      "scratchbird.max_merge_memory.");
  Status over;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    Row r;
    r.reserve(ncols);
    for (int i = 0; i < ncols; ++i) r.push_back(ColumnValue(stmt, i));
    over = result_budget.Charge(ApproximateBytes(r));
    if (!over.ok()) break;
    out.push_back(std::move(r));
  }
  sqlite3_progress_handler(db, 0, nullptr, nullptr);
  Status st = !over.ok() ? over : rc == SQLITE_DONE ? Status::Ok() : SqliteStatus(db, rc);
  sqlite3_finalize(stmt);
  if (partials != nullptr) (void)exec("DROP TABLE IF EXISTS _p");
  if (!st.ok()) return CancelError(st, opts);
  return out;
}

Result<std::vector<std::vector<Row>>> Executor::ReadSystemView(const CoordinatorInput& in,
                                                               const std::vector<Value>& params,
                                                               const ExecOptions& opts) {
  const meta::TableDef* view = in.route.table;
  if (view == nullptr || !view->system_view) {
    return Status::Internal("a system-view input without the view's definition");
  }
  if (system_views_ == nullptr) {
    return Status(sqlstate::kFeatureNotSupported,
                  fmt::format("system view sys.{} is not available on this node", view->name));
  }
  SB_ASSIGN_OR_RETURN(std::vector<Row> rows, system_views_->SystemViewRows(*view));
  SB_ASSIGN_OR_RETURN(sqlite3 * db, CoordinatorDb());
  auto exec = [db](const std::string& s) { return ExecCoordinatorSql(db, s, "coordinator stage"); };
  // The views' rows live in the schema `sys` of the coordinator database
  // (an attached in-memory database), so the input's SQL reads them under
  // the name the query gave.
  thread_local sqlite3* attached = nullptr;  // the thread's database, once attached
  if (attached != db) {
    SB_RETURN_IF_ERROR(exec("ATTACH DATABASE ':memory:' AS sys"));
    attached = db;
  }
  const std::string table = "sys." + QuoteName(in.system_view);
  struct DropTable {
    std::function<Status(const std::string&)> exec;
    std::string table;
    ~DropTable() { (void)exec("DROP TABLE IF EXISTS " + table); }
  } drop{exec, table};
  // Columns named as the view defines them, so the input's SQL reads them.
  std::string create = "DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table + "(";
  std::string insert = "INSERT INTO " + table + " VALUES (";
  const size_t width = view->columns.size();
  for (size_t i = 0; i < width; ++i) {
    create += (i ? ", " : "") + QuoteName(view->columns[i].name) + " " +
              view->columns[i].type.StorageClass();
    insert += i ? ", ?" : "?";
  }
  SB_RETURN_IF_ERROR(exec(create + ")"));
  sqlite3_stmt* ins = nullptr;
  if (sqlite3_prepare_v2(db, (insert + ")").c_str(), -1, &ins, nullptr) != SQLITE_OK) {
    return SqliteStatus(db, SQLITE_ERROR);
  }
  Status st = Status::Ok();
  for (const Row& row : rows) {
    if (row.size() != width) {
      st = Status::Internal(fmt::format("system view sys.{}: a row has {} values for {} columns",
                                        view->name, row.size(), width));
      break;
    }
    for (size_t i = 0; i < width; ++i) BindValue(ins, static_cast<int>(i) + 1, row[i]);
    int rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (rc != SQLITE_DONE) {
      st = SqliteStatus(db, rc);
      break;
    }
  }
  sqlite3_finalize(ins);
  SB_RETURN_IF_ERROR(st);
  SB_ASSIGN_OR_RETURN(std::vector<Row> filtered,
                      RunOnCoordinator(in.shard_sql, params, nullptr, 0, opts));
  std::vector<std::vector<Row>> runs;
  runs.push_back(std::move(filtered));
  return runs;
}

Result<std::vector<Row>> Executor::RunWithInputs(const SelectPlan& plan,
                                                 const std::vector<Value>& params, TxnState* txn,
                                                 const ExecOptions& opts,
                                                 std::vector<ShardStat>* stats) {
  SB_ASSIGN_OR_RETURN(sqlite3 * db, CoordinatorDb());
  auto exec = [db](const std::string& s) { return ExecCoordinatorSql(db, s, "coordinator stage"); };
  // The coordinator database is reused by the thread: always leave it empty.
  struct DropInputs {
    std::function<Status(const std::string&)> exec;
    const SelectPlan& plan;
    ~DropInputs() {
      (void)exec("ROLLBACK");
      for (const auto& in : plan.inputs) (void)exec("DROP TABLE IF EXISTS " + in.name);
    }
  } drop{exec, plan};
  MemoryBudget budget(
      opts.join_memory_limit, "scratchbird.join_memory_limit",
      "Co-locate the joined tables (shard them by the join key) so the join runs on the shards, "
      "filter on the shard key, or raise scratchbird.join_memory_limit.");
  for (const auto& in : plan.inputs) {
    std::vector<std::vector<Row>> runs;
    if (!in.system_view.empty()) {
      SB_ASSIGN_OR_RETURN(runs, ReadSystemView(in, params, opts));
    } else {
      SB_ASSIGN_OR_RETURN(std::vector<int> shards, ResolveRoute(in.route, params));
      std::vector<ShardStat> input_stats;
      SB_ASSIGN_OR_RETURN(
          runs, RunOnShards(shards, in.shard_sql, params, txn, opts, &input_stats, &budget));
      if (stats != nullptr) stats->insert(stats->end(), input_stats.begin(), input_stats.end());
    }
    SB_RETURN_IF_ERROR(exec("DROP TABLE IF EXISTS " + in.name + "; CREATE TABLE " + in.name + "(" +
                            in.columns_sql + ")"));
    std::string insert = "INSERT INTO " + in.name + " VALUES (";
    for (int i = 0; i < in.width; ++i) insert += i ? ", ?" : "?";
    insert += ")";
    SB_RETURN_IF_ERROR(exec("BEGIN"));
    sqlite3_stmt* ins = nullptr;
    if (sqlite3_prepare_v2(db, insert.c_str(), -1, &ins, nullptr) != SQLITE_OK) {
      return SqliteStatus(db, SQLITE_ERROR);
    }
    for (auto& run : runs) {
      for (const auto& row : run) {
        for (int i = 0; i < in.width; ++i) BindValue(ins, i + 1, row[i]);
        sqlite3_step(ins);
        sqlite3_reset(ins);
      }
      run.clear();
    }
    sqlite3_finalize(ins);
    SB_RETURN_IF_ERROR(exec("COMMIT"));
  }
  return RunOnCoordinator(plan.coordinator_sql, params, nullptr, 0, opts);
}

Result<ExecResult> Executor::Select(const SelectPlan& plan, const std::vector<Value>& params,
                                    TxnState* txn, const ExecOptions& opts) {
  ExecResult result;
  SB_ASSIGN_OR_RETURN(std::vector<int> shards, ResolveRoute(plan.route, params));
  std::vector<Row> rows;
  if (!plan.inputs.empty()) {
    SB_ASSIGN_OR_RETURN(rows, RunWithInputs(plan, params, txn, opts, &result.stats));
  } else if (plan.route.kind == RouteSpec::Kind::kCoordinator) {
    SB_ASSIGN_OR_RETURN(rows, RunOnCoordinator(plan.shard_sql, params, nullptr, 0, opts));
  } else {
    // One shard's rows pass through as they are; a merge holds them all.
    MemoryBudget budget(
        shards.size() > 1 ? opts.max_merge_memory : 0, "scratchbird.max_merge_memory",
        "Narrow the query (a WHERE on the shard key, LIMIT, fewer columns), aggregate on the "
        "shards, or raise scratchbird.max_merge_memory.");
    SB_ASSIGN_OR_RETURN(
        auto runs, RunOnShards(shards, plan.shard_sql, params, txn, opts, &result.stats, &budget));
    int64_t offset = 0;
    std::optional<int64_t> limit;
    if (plan.merge != SelectPlan::Merge::kCoordinator) {
      if (plan.offset) {
        SB_ASSIGN_OR_RETURN(Value v, SourceValue(*plan.offset, params));
        if (!IsNull(v)) offset = std::get<int64_t>(v);
      }
      if (plan.limit) {
        SB_ASSIGN_OR_RETURN(Value v, SourceValue(*plan.limit, params));
        if (!IsNull(v)) limit = std::get<int64_t>(v);
      }
    }
    switch (plan.merge) {
      case SelectPlan::Merge::kConcat:
        for (auto& run : runs) {
          for (auto& r : run) {
            if (limit && static_cast<int64_t>(rows.size()) >= *limit) break;
            if (offset > 0) {
              --offset;
              continue;
            }
            rows.push_back(std::move(r));
          }
        }
        break;
      case SelectPlan::Merge::kSortMerge:
        rows = MergeSorted(std::move(runs), plan.sort_keys, offset, limit);
        break;
      case SelectPlan::Merge::kCoordinator:
        SB_ASSIGN_OR_RETURN(
            rows, RunOnCoordinator(plan.coordinator_sql, params, &runs, plan.shard_width, opts));
        break;
    }
  }
  const size_t width = plan.output.size();
  for (auto& r : rows) {
    if (r.size() > width) r.resize(width);
  }
  result.rows = std::move(rows);
  return result;
}

Result<std::vector<int>> Executor::WriteTargets(const meta::TableDef& table, bool multi_ok,
                                                const std::vector<int>& shards, TxnState* txn,
                                                const char* what) const {
  if (txn->in_block) {
    if (table.replicated) {
      return Status(
          sqlstate::kFeatureNotSupported,
          fmt::format(
              "writing to reference table \"{}\" inside a transaction block is not supported",
              table.name),
          "Reference tables are copied to every shard; write them in autocommit mode.");
    }
    if (shards.size() > 1) {
      return Status(
          sqlstate::kFeatureNotSupported,
          fmt::format("this {} writes to {} shards; a transaction can write to only one shard",
                      what, shards.size()),
          "Split the statement so that each transaction writes rows with the same shard key "
          "(or run it in autocommit mode).");
    }
    if (txn->bound_shard >= 0 && !shards.empty() && shards[0] != txn->bound_shard) {
      return Status(
          sqlstate::kFeatureNotSupported,
          fmt::format(
              "cross-shard transactions are not supported: this transaction is bound to {} by its "
              "first write, and this {} writes to {}",
              meta::ShardMap::ShardName(txn->bound_shard), what,
              meta::ShardMap::ShardName(static_cast<uint32_t>(shards[0]))),
          "All writes of a transaction must have the same shard key value (or co-located keys). "
          "ROLLBACK, then write the rows of each shard in its own transaction.");
    }
    return shards;
  }
  if (shards.size() > 1 && !multi_ok) {
    std::string keys;
    for (int k : table.shard_key) keys += (keys.empty() ? "" : ", ") + table.columns[k].name;
    return Status(
        sqlstate::kFeatureNotSupported,
        fmt::format("{} on sharded table \"{}\" must target a single shard", what, table.name),
        fmt::format("Add equality conditions on the shard key ({}) to the WHERE clause, or SET "
                    "scratchbird.allow_multi_shard_writes = on to run it on every shard "
                    "separately (not atomic across shards).",
                    keys));
  }
  return shards;
}

// One shard's write transaction in a statement: a local connection, or a
// transaction held open on the shard's owner.
class ShardWriter {
 public:
  ShardWriter(storage::ShardConnection* local, RemoteWrite* remote)
      : local_(local), remote_(remote) {}
  Status Execute(const std::string& sql, const std::vector<Value>& params, const RowSink& sink,
                 int64_t* changes = nullptr) {
    if (local_ != nullptr) return local_->Execute(sql, params, sink, changes);
    return remote_->Execute(sql, params, sink, changes);
  }

 private:
  storage::ShardConnection* local_;
  RemoteWrite* remote_;
};

namespace {

// Interrupts a local or remote write for a cancellation, for one scope.
struct WriteCancelScope {
  WriteCancelScope(storage::ShardConnection* local, RemoteWrite* remote, CancelState* cancel)
      : local_guard(local != nullptr ? std::make_optional<CancelGuard>(local, cancel)
                                     : std::nullopt),
        remote_scope(remote != nullptr ? cancel : nullptr, remote,
                     [remote] { remote->Interrupt(); }) {}
  std::optional<CancelGuard> local_guard;
  InterruptScope remote_scope;
};

}  // namespace

// Runs `body` on each target shard inside a write transaction: the session's
// bound transaction in a block, else one transaction per shard committed only
// after every shard succeeded. Shards on other nodes are written through
// transactions their owners hold; their commits are not atomic with each
// other (no two-phase commit): a commit failing on one owner after another
// owner committed leaves the committed shards committed, and the error says
// how many (docs/deviations.md).
Result<ExecResult> Executor::WriteOnShards(
    const std::vector<int>& shards, TxnState* txn, const ExecOptions& opts,
    const std::function<Status(ShardWriter&, int shard, ExecResult*)>& body) {
  ExecResult result;
  StatementContextScope scope(opts.context);
  if (txn->in_block) {
    if (shards.empty()) return result;
    if (!txn->bound()) {
      if (IsLocal(shards[0])) {
        SB_ASSIGN_OR_RETURN(txn->conn, shards_->shard(shards[0]).Acquire());
        Status st = txn->conn->BeginWrite();
        if (!st.ok()) {
          txn->conn.reset();
          return st;
        }
      } else {
        SB_ASSIGN_OR_RETURN(txn->remote, placement_->BeginWrite(shards[0], opts.schema_version));
      }
      txn->bound_shard = shards[0];
    }
    WriteCancelScope guard(txn->conn.get(), txn->remote.get(), opts.cancel);
    ShardWriter writer(txn->conn.get(), txn->remote.get());
    SB_RETURN_IF_ERROR(CancelError(NormalizeError(body(writer, shards[0], &result)), opts));
    return result;
  }
  struct Target {
    std::unique_ptr<storage::ShardConnection> local;
    std::unique_ptr<RemoteWrite> remote;
  };
  std::vector<Target> targets;
  auto rollback_all = [&]() {
    for (auto& t : targets) {
      if (t.local) (void)t.local->Rollback();
      if (t.remote) (void)t.remote->Rollback();
    }
  };
  for (int s : shards) {  // ascending order: writers never wait on each other in a cycle
    Target t;
    if (IsLocal(s)) {
      auto c = shards_->shard(s).Acquire();
      if (!c.ok()) {
        rollback_all();
        return c.status();
      }
      Status st = (*c)->BeginWrite();
      if (!st.ok()) {
        rollback_all();
        return st;
      }
      t.local = std::move(*c);
    } else {
      auto r = placement_->BeginWrite(s, opts.schema_version);
      if (!r.ok()) {
        rollback_all();
        return r.status();
      }
      t.remote = std::move(*r);
    }
    targets.push_back(std::move(t));
  }
  for (size_t i = 0; i < shards.size(); ++i) {
    WriteCancelScope guard(targets[i].local.get(), targets[i].remote.get(), opts.cancel);
    ShardWriter writer(targets[i].local.get(), targets[i].remote.get());
    Status st = body(writer, shards[i], &result);
    if (!st.ok()) {
      rollback_all();
      return CancelError(NormalizeError(st), opts);
    }
  }
  const uint64_t hlc = static_cast<uint64_t>(NowMicros());
  // Every local shard's commit is queued in the commit log first, so they all
  // become durable in one flush rather than one after another.
  for (auto& t : targets) {
    if (!t.local) continue;
    auto lsn = t.local->PrepareCommit(hlc);
    if (!lsn.ok()) {
      rollback_all();
      return lsn.status();
    }
  }
  // Remote commits next: while none has committed, a failure still rolls
  // every shard back, the prepared local ones included.
  size_t committed = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!targets[i].remote) continue;
    auto lsn = targets[i].remote->Commit(hlc);
    if (!lsn.ok()) {
      Status st = lsn.status();
      for (size_t j = 0; j < targets.size(); ++j) {
        if (j == i) continue;
        if (targets[j].local) (void)targets[j].local->Rollback();
        if (targets[j].remote && j > i) (void)targets[j].remote->Rollback();
      }
      if (committed > 0) {
        st.WithDetail(
            fmt::format("{} of {} shards had already committed", committed, targets.size()));
      }
      return st;
    }
    ++committed;
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!targets[i].local) continue;
    Status st = targets[i].local->FinishCommit();
    if (!st.ok()) {
      for (size_t j = i + 1; j < targets.size(); ++j)
        if (targets[j].local) (void)targets[j].local->Rollback();
      if (committed > 0) {
        st.WithDetail(
            fmt::format("{} of {} shards had already committed", committed, targets.size()));
      }
      return st;
    }
    ++committed;
  }
  return result;
}

Result<ExecResult> Executor::WriteRows(const meta::TableDef& table, std::vector<Row> rows,
                                       const std::string& returning_sql, TxnState* txn,
                                       const ExecOptions& opts) {
  std::map<int, std::vector<Row*>> by_shard;
  const int vnode_col = table.FindColumn(meta::kVnodeColumn);
  for (auto& row : rows) {
    if (table.replicated) {
      for (int s = 0; s < shards_->size(); ++s) by_shard[s].push_back(&row);
      continue;
    }
    SB_ASSIGN_OR_RETURN(uint32_t vnode, VnodeOfKey(table, row));
    if (vnode_col >= 0) row[vnode_col] = static_cast<int64_t>(vnode);
    by_shard[static_cast<int>(map_.ShardOfVnode(vnode))].push_back(&row);
  }
  std::vector<int> shards;
  for (const auto& [s, _] : by_shard) shards.push_back(s);
  SB_ASSIGN_OR_RETURN(shards,
                      WriteTargets(table, /*multi_ok=*/!txn->in_block, shards, txn, "INSERT"));
  const size_t ncols = table.columns.size();
  const size_t chunk = std::max<size_t>(1, std::min<size_t>(500, 30000 / ncols));
  const int first_shard = shards.empty() ? -1 : shards[0];
  auto body = [&](ShardWriter& conn, int shard, ExecResult* result) -> Status {
    const auto& list = by_shard[shard];
    for (size_t off = 0; off < list.size(); off += chunk) {
      size_t n = std::min(chunk, list.size() - off);
      std::vector<Value> params;
      params.reserve(n * ncols);
      for (size_t r = 0; r < n; ++r) {
        for (const auto& v : *list[off + r]) params.push_back(v);
      }
      bool keep = !table.replicated || shard == first_shard;
      SB_RETURN_IF_ERROR(
          conn.Execute(InsertSql(table, n, returning_sql), params, [&](const Row& r) {
            if (keep) result->rows.push_back(r);
            return Status::Ok();
          }));
      if (keep) result->affected += static_cast<int64_t>(n);
    }
    return Status::Ok();
  };
  return WriteOnShards(shards, txn, opts, body);
}

Status Executor::CompleteRow(const meta::TableDef& t, const std::vector<bool>& given,
                             const TxnState* txn, const ExecOptions& opts, int* rowid_shard,
                             Row* row) {
  for (size_t c = 0; c < t.columns.size(); ++c) {
    if (given[c] || t.columns[c].hidden) continue;
    SB_ASSIGN_OR_RETURN((*row)[c], DefaultValue(t.columns[c], opts));
  }
  const int rowid_col = t.FindColumn(meta::kRowidColumn);
  if (rowid_col >= 0) {
    SB_ASSIGN_OR_RETURN((*row)[rowid_col], RowidFor(t, txn, rowid_shard));
  }
  return Status::Ok();
}

Result<ExecResult> Executor::Insert(const InsertPlan& plan, const std::vector<Value>& params,
                                    TxnState* txn, const ExecOptions& opts) {
  const meta::TableDef& t = *plan.table;
  std::vector<Row> rows;
  rows.reserve(plan.rows.size());
  int rowid_shard = txn->in_block ? txn->bound_shard : -1;
  for (const auto& src : plan.rows) {
    Row row(t.columns.size());
    std::vector<bool> given(t.columns.size(), false);
    for (size_t i = 0; i < src.size(); ++i) {
      const int c = plan.columns[i];
      given[c] = true;
      if (src[i].param == -1) {  // DEFAULT
        SB_ASSIGN_OR_RETURN(row[c], DefaultValue(t.columns[c], opts));
      } else {
        SB_ASSIGN_OR_RETURN(row[c], SourceValue(src[i], params));
      }
    }
    SB_RETURN_IF_ERROR(CompleteRow(t, given, txn, opts, &rowid_shard, &row));
    rows.push_back(std::move(row));
  }
  return WriteRows(t, std::move(rows), plan.returning_sql, txn, opts);
}

Result<ExecResult> Executor::Modify(const ModifyPlan& plan, const std::vector<Value>& params,
                                    TxnState* txn, const ExecOptions& opts) {
  const meta::TableDef& t = *plan.table;
  SB_ASSIGN_OR_RETURN(std::vector<int> shards, ResolveRoute(plan.route, params));
  const char* what = plan.is_update ? "UPDATE" : "DELETE";
  SB_ASSIGN_OR_RETURN(
      shards, WriteTargets(t, t.replicated || opts.allow_multi_shard_writes, shards, txn, what));
  const int first_shard = shards.empty() ? -1 : shards[0];
  auto body = [&](ShardWriter& conn, int shard, ExecResult* result) -> Status {
    bool keep = !t.replicated || shard == first_shard;
    int64_t changes = 0;
    SB_RETURN_IF_ERROR(conn.Execute(
        plan.shard_sql, params,
        [&](const Row& r) {
          if (keep) result->rows.push_back(r);
          return Status::Ok();
        },
        &changes));
    if (keep) result->affected += changes;
    return Status::Ok();
  };
  return WriteOnShards(shards, txn, opts, body);
}

Result<ExecResult> Executor::Copy(const CopyPlan& plan, std::string_view data, TxnState* txn,
                                  const ExecOptions& opts) {
  const meta::TableDef& t = *plan.table;
  auto parsed = plan.csv ? ParseCopyCsv(data, plan) : ParseCopyText(data, plan);
  if (!parsed.ok()) return parsed.status();
  std::vector<Row> rows;
  rows.reserve(parsed->size());
  int rowid_shard = txn->in_block ? txn->bound_shard : -1;
  int line = plan.header ? 1 : 0;
  for (const auto& fields : *parsed) {
    ++line;
    if (fields.size() != plan.columns.size()) {
      return Status(sqlstate::kBadCopyFileFormat,
                    fields.size() < plan.columns.size()
                        ? "missing data for column \"" +
                              t.columns[plan.columns[fields.size()]].name + "\""
                        : std::string("extra data after last expected column"))
          .WithDetail(fmt::format("COPY {}, line {}", t.name, line));
    }
    Row row(t.columns.size());
    std::vector<bool> given(t.columns.size(), false);
    for (size_t i = 0; i < fields.size(); ++i) {
      const int c = plan.columns[i];
      given[c] = true;
      if (!fields[i]) continue;
      auto v = ParseTextValue(t.columns[c].type, *fields[i]);
      if (!v.ok()) {
        Status st = v.status();
        return st.WithDetail(fmt::format("COPY {}, line {}, column {}: \"{}\"", t.name, line,
                                         t.columns[c].name, *fields[i]));
      }
      row[c] = std::move(*v);
    }
    SB_RETURN_IF_ERROR(CompleteRow(t, given, txn, opts, &rowid_shard, &row));
    rows.push_back(std::move(row));
  }
  return WriteRows(t, std::move(rows), "", txn, opts);
}

Status Executor::Commit(TxnState* txn) {
  Status st;
  if (txn->conn) {
    auto lsn = txn->conn->Commit(static_cast<uint64_t>(NowMicros()));
    if (!lsn.ok()) {
      (void)txn->conn->Rollback();
      st = lsn.status();
    }
  }
  if (txn->remote) {
    auto lsn = txn->remote->Commit(static_cast<uint64_t>(NowMicros()));
    if (!lsn.ok()) st = lsn.status();  // the owner rolled back
  }
  txn->conn.reset();
  txn->remote.reset();
  txn->bound_shard = -1;
  txn->in_block = false;
  txn->failed = false;
  return st;
}

void Executor::Rollback(TxnState* txn) {
  if (txn->conn) (void)txn->conn->Rollback();
  if (txn->remote) (void)txn->remote->Rollback();
  txn->conn.reset();
  txn->remote.reset();
  txn->bound_shard = -1;
  txn->in_block = false;
  txn->failed = false;
}

Status Executor::InitCatalogTables() {
  return shards_->ApplyDdlEverywhere(
      {"CREATE TABLE IF NOT EXISTS _sb_catalog(name TEXT PRIMARY KEY, definition TEXT NOT NULL) "
       "STRICT",
       "CREATE TABLE IF NOT EXISTS _sb_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT"});
}

Status Executor::ApplyDdl(const DdlPlan& plan, uint64_t new_schema_version) {
  std::vector<std::string> stmts = plan.shard_statements;
  auto quote = [](const std::string& s) {
    std::string o = "'";
    for (char c : s) {
      if (c == '\'') o += '\'';
      o += c;
    }
    return o + "'";
  };
  if (plan.kind == DdlPlan::Kind::kDropTable) {
    stmts.push_back("DELETE FROM _sb_catalog WHERE name = " + quote(plan.table_name));
  } else if (plan.new_table) {
    stmts.push_back("INSERT OR REPLACE INTO _sb_catalog(name, definition) VALUES (" +
                    quote(plan.table_name) + ", " +
                    quote(meta::TableToJson(*plan.new_table).dump()) + ")");
  }
  stmts.push_back("INSERT OR REPLACE INTO _sb_meta(key, value) VALUES ('schema_version', '" +
                  std::to_string(new_schema_version) + "')");
  return shards_->ApplyDdlEverywhere(stmts);
}

Result<meta::Catalog> Executor::LoadCatalog() {
  meta::Catalog catalog;
  std::string reference;
  for (int s = 0; s < shards_->size(); ++s) {
    SB_ASSIGN_OR_RETURN(auto conn, shards_->shard(s).Acquire());
    std::string dump;
    std::vector<std::pair<std::string, std::string>> entries;
    SB_RETURN_IF_ERROR(conn->Execute(
        "SELECT name, definition FROM _sb_catalog ORDER BY name", {}, [&](const Row& r) {
          entries.emplace_back(std::get<std::string>(r[0]), std::get<std::string>(r[1]));
          return Status::Ok();
        }));
    std::string version = "0";
    SB_RETURN_IF_ERROR(conn->Execute("SELECT value FROM _sb_meta WHERE key = 'schema_version'", {},
                                     [&](const Row& r) {
                                       version = std::get<std::string>(r[0]);
                                       return Status::Ok();
                                     }));
    for (const auto& [n, d] : entries) dump += n + "\n" + d + "\n";
    dump += version;
    if (s == 0) {
      reference = dump;
      for (const auto& [n, d] : entries) {
        auto j = nlohmann::json::parse(d, nullptr, false);
        if (j.is_discarded()) {
          return Status(sqlstate::kDataCorrupted,
                        "catalog entry for table \"" + n + "\" is not valid JSON");
        }
        SB_ASSIGN_OR_RETURN(meta::TableDef t, meta::TableFromJson(j));
        catalog.PutTable(std::move(t));
      }
      catalog.set_schema_version(std::stoull(version));
    } else if (dump != reference) {
      return Status(sqlstate::kDataCorrupted,
                    fmt::format("the catalog of {} differs from shard_001's; the data directory is "
                                "inconsistent (was a schema change interrupted?)",
                                meta::ShardMap::ShardName(static_cast<uint32_t>(s))),
                    "Restore the data directory from a backup.");
    }
  }
  return catalog;
}

}  // namespace sb::exec
