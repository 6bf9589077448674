#include "diff_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../free_port.h"

namespace sbtest {
namespace {

// PostgreSQL type OIDs the cluster sends.
constexpr unsigned kBoolOid = 16;
constexpr unsigned kInt8Oid = 20;
constexpr unsigned kInt2Oid = 21;
constexpr unsigned kInt4Oid = 23;
constexpr unsigned kFloat4Oid = 700;
constexpr unsigned kFloat8Oid = 701;
constexpr unsigned kNumericOid = 1700;

constexpr double kRelTolerance = 1e-9;

NVal FromPgText(unsigned oid, const char* text) {
  std::string s(text);
  switch (oid) {
    case kBoolOid:
      return NVal::Int(s == "t" ? 1 : 0);
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
      return NVal::Int(std::strtoll(text, nullptr, 10));
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      if (s == "NaN") return NVal::Real(std::nan(""));
      return NVal::Real(std::strtod(text, nullptr));
    default:
      return NVal::Text(std::move(s));
  }
}

ResultSet FromPgResult(PGresult* res, PGconn* conn) {
  ResultSet out;
  if (res == nullptr) {
    out.ok = false;
    out.sqlstate = "NORES";
    out.error = PQerrorMessage(conn);
    return out;
  }
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    out.ok = false;
    const char* code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    out.sqlstate = code ? code : "?????";
    out.error = PQresultErrorMessage(res);
    while (!out.error.empty() && out.error.back() == '\n') out.error.pop_back();
    PQclear(res);
    return out;
  }
  const int nf = PQnfields(res);
  for (int c = 0; c < nf; ++c) out.columns.push_back(PQfname(res, c));
  for (int r = 0; r < PQntuples(res); ++r) {
    std::vector<NVal> row;
    row.reserve(nf);
    for (int c = 0; c < nf; ++c) {
      row.push_back(PQgetisnull(res, r, c) ? NVal::Null()
                                           : FromPgText(PQftype(res, c), PQgetvalue(res, r, c)));
    }
    out.rows.push_back(std::move(row));
  }
  PQclear(res);
  return out;
}

// Numbers order before text; NULL first. Used only to pair rows up.
int CompareForSort(const NVal& a, const NVal& b) {
  auto rank = [](const NVal& v) {
    switch (v.kind) {
      case NVal::Kind::kNull:
        return 0;
      case NVal::Kind::kInt:
      case NVal::Kind::kReal:
        return 1;
      case NVal::Kind::kText:
        return 2;
    }
    return 3;
  };
  int ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 1) {
    if (a.kind == NVal::Kind::kInt && b.kind == NVal::Kind::kInt)
      return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
    double x = a.kind == NVal::Kind::kInt ? static_cast<double>(a.i) : a.d;
    double y = b.kind == NVal::Kind::kInt ? static_cast<double>(b.i) : b.d;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ra == 2) return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  return 0;
}

bool SameValue(const NVal& a, const NVal& b) {
  using K = NVal::Kind;
  if (a.kind == K::kNull || b.kind == K::kNull) return a.kind == b.kind;
  if (a.kind == K::kText || b.kind == K::kText) return a.kind == b.kind && a.s == b.s;
  if (a.kind == K::kInt && b.kind == K::kInt) return a.i == b.i;
  double x = a.kind == K::kInt ? static_cast<double>(a.i) : a.d;
  double y = b.kind == K::kInt ? static_cast<double>(b.i) : b.d;
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  if (x == y) return true;
  double scale = std::max({1.0, std::fabs(x), std::fabs(y)});
  return std::fabs(x - y) <= kRelTolerance * scale;
}

bool SameRow(const std::vector<NVal>& a, const std::vector<NVal>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!SameValue(a[i], b[i])) return false;
  }
  return true;
}

std::string RowString(const std::vector<NVal>& row) {
  std::string s = "(";
  for (size_t i = 0; i < row.size(); ++i) s += (i ? ", " : "") + row[i].ToString();
  return s + ")";
}

int FreePort() {
  return sb::test_support::FreePort();
}

}  // namespace

std::string NVal::ToString() const {
  switch (kind) {
    case Kind::kNull:
      return "NULL";
    case Kind::kInt:
      return std::to_string(i);
    case Kind::kReal: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      return buf;
    }
    case Kind::kText:
      return "'" + s + "'";
  }
  return "?";
}

std::string ResultSet::Describe(size_t max_rows) const {
  std::ostringstream o;
  if (!ok) {
    o << "ERROR " << sqlstate << ": " << error << "\n";
    return o.str();
  }
  o << rows.size() << " row(s); columns:";
  for (const auto& c : columns) o << " " << c;
  o << "\n";
  for (size_t r = 0; r < rows.size() && r < max_rows; ++r) o << "  " << RowString(rows[r]) << "\n";
  if (rows.size() > max_rows) o << "  ... " << rows.size() - max_rows << " more\n";
  return o.str();
}

std::string CompareResults(const ResultSet& cluster, const ResultSet& oracle, bool ordered) {
  if (!cluster.ok || !oracle.ok) {
    if (!cluster.ok && !oracle.ok) return "both engines failed (a bad query in the corpus)";
    return !cluster.ok ? "the cluster failed, the oracle did not" : "the oracle failed";
  }
  if (!cluster.rows.empty() && !oracle.rows.empty() &&
      cluster.rows[0].size() != oracle.rows[0].size()) {
    return "different column counts";
  }
  if (cluster.columns.size() != 0 && !oracle.columns.empty() &&
      cluster.columns.size() != oracle.columns.size()) {
    return "different column counts";
  }
  if (cluster.rows.size() != oracle.rows.size()) {
    return "different row counts: cluster " + std::to_string(cluster.rows.size()) + ", oracle " +
           std::to_string(oracle.rows.size());
  }
  if (ordered) {
    for (size_t r = 0; r < cluster.rows.size(); ++r) {
      if (!SameRow(cluster.rows[r], oracle.rows[r])) {
        return "row " + std::to_string(r) + " differs: cluster " + RowString(cluster.rows[r]) +
               ", oracle " + RowString(oracle.rows[r]);
      }
    }
    return {};
  }
  auto less = [](const std::vector<NVal>& a, const std::vector<NVal>& b) {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      int c = CompareForSort(a[i], b[i]);
      if (c != 0) return c < 0;
    }
    return a.size() < b.size();
  };
  auto a = cluster.rows, b = oracle.rows;
  std::sort(a.begin(), a.end(), less);
  std::sort(b.begin(), b.end(), less);
  bool same = true;
  for (size_t r = 0; r < a.size() && same; ++r) same = SameRow(a[r], b[r]);
  if (same) return {};
  // Values within tolerance may sort differently: pair rows up greedily.
  std::vector<bool> used(b.size(), false);
  for (const auto& row : a) {
    bool found = false;
    for (size_t j = 0; j < b.size() && !found; ++j) {
      if (!used[j] && SameRow(row, b[j])) used[j] = found = true;
    }
    if (!found) return "cluster row " + RowString(row) + " has no match in the oracle's result";
  }
  return {};
}

// --- ClusterProcess ---

ClusterProcess::~ClusterProcess() {
  Stop();
}

std::string ClusterProcess::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(sql_port_) +
         " dbname=scratchbird user=difftest connect_timeout=10";
}

std::string ClusterProcess::LogTail() const {
  std::ifstream in(dir_ + "/node.log");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
}

std::string ClusterProcess::Start(int shards) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/sb-difftest-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) return "mkdtemp failed: " + std::string(strerror(errno));
  dir_ = buf.data();
  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    sql_port_ = FreePort();
    int http_port = FreePort();
    if (sql_port_ == 0 || http_port == 0 || sql_port_ == http_port) continue;
    std::string data = dir_ + "/data";
    std::string sql_listen = "127.0.0.1:" + std::to_string(sql_port_);
    std::string http_listen = "127.0.0.1:" + std::to_string(http_port);
    std::string shard_arg = std::to_string(shards);
    std::string log = dir_ + "/node.log";
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return "fork failed: " + std::string(strerror(errno));
    if (pid == 0) {
      // The node must not outlive the test binary, whatever happens to it.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      execl(SB_BINARY, SB_BINARY, "start-single-node", "--data-dir", data.c_str(), "--sql-listen",
            sql_listen.c_str(), "--http-listen", http_listen.c_str(), "--shards", shard_arg.c_str(),
            "--synchronous", "OFF", static_cast<char*>(nullptr));
      _exit(127);
    }
    pid_ = pid;
    // Wait until it accepts connections, or exits (a port taken meanwhile).
    for (int i = 0; i < 600; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        last_error = "scratchbird exited during startup:\n" + LogTail();
        break;
      }
      if (PQping(conninfo().c_str()) == PQPING_OK) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (pid_ > 0) {
      Stop();
      return "scratchbird did not accept connections in 30 s:\n" + LogTail();
    }
    std::filesystem::remove_all(data);
  }
  return last_error.empty() ? "could not find free ports" : last_error;
}

void ClusterProcess::Stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    bool exited = false;
    for (int i = 0; i < 200 && !exited; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (!exited) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

// --- PgClient ---

PgClient::PgClient(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}

PgClient::~PgClient() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool PgClient::connected() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

std::string PgClient::connect_error() const {
  return conn_ == nullptr ? "out of memory" : PQerrorMessage(conn_);
}

namespace {
std::vector<const char*> ParamPointers(const std::vector<Param>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.pg_text ? p.pg_text->c_str() : nullptr);
  return values;
}
}  // namespace

ResultSet PgClient::Query(const std::string& sql, const std::vector<Param>& params) {
  if (params.empty()) return FromPgResult(PQexec(conn_, sql.c_str()), conn_);
  auto values = ParamPointers(params);
  return FromPgResult(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                   values.data(), nullptr, nullptr, 0),
                      conn_);
}

std::string PgClient::Prepare(const std::string& name, const std::string& sql) {
  ResultSet r = FromPgResult(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), conn_);
  return r.ok ? std::string() : r.sqlstate + ": " + r.error;
}

ResultSet PgClient::ExecPrepared(const std::string& name, const std::vector<Param>& params) {
  auto values = ParamPointers(params);
  return FromPgResult(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                                     values.data(), nullptr, nullptr, 0),
                      conn_);
}

// --- Oracle ---

Oracle::Oracle() {
  sqlite3_open(":memory:", &db_);
  // PostgreSQL's LIKE is case-sensitive.
  sqlite3_exec(db_, "PRAGMA case_sensitive_like = ON", nullptr, nullptr, nullptr);
}

Oracle::~Oracle() {
  sqlite3_close(db_);
}

ResultSet Oracle::Query(const std::string& sql, const std::vector<Param>& params) {
  ResultSet out;
  const char* tail = sql.c_str();
  // Runs every statement of `sql`; the result is the last statement's rows.
  while (tail != nullptr && *tail != '\0') {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, tail, -1, &stmt, &tail);
    if (rc != SQLITE_OK) {
      out.ok = false;
      out.sqlstate = "SQLITE";
      out.error = sqlite3_errmsg(db_);
      return out;
    }
    if (stmt == nullptr) break;  // whitespace or comment
    for (size_t i = 0; i < params.size(); ++i) {
      const NVal& v = params[i].lite;
      int idx = static_cast<int>(i + 1);
      switch (v.kind) {
        case NVal::Kind::kNull:
          sqlite3_bind_null(stmt, idx);
          break;
        case NVal::Kind::kInt:
          sqlite3_bind_int64(stmt, idx, v.i);
          break;
        case NVal::Kind::kReal:
          sqlite3_bind_double(stmt, idx, v.d);
          break;
        case NVal::Kind::kText:
          sqlite3_bind_text(stmt, idx, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT);
          break;
      }
    }
    out.columns.clear();
    out.rows.clear();
    const int nc = sqlite3_column_count(stmt);
    for (int c = 0; c < nc; ++c) out.columns.push_back(sqlite3_column_name(stmt, c));
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<NVal> row;
      for (int c = 0; c < nc; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            row.push_back(NVal::Int(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            row.push_back(NVal::Real(sqlite3_column_double(stmt, c)));
            break;
          case SQLITE_NULL:
            row.push_back(NVal::Null());
            break;
          default:
            row.push_back(
                NVal::Text(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)),
                                       static_cast<size_t>(sqlite3_column_bytes(stmt, c)))));
        }
      }
      out.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) {
      out.ok = false;
      out.sqlstate = "SQLITE";
      out.error = sqlite3_errmsg(db_);
      sqlite3_finalize(stmt);
      return out;
    }
    sqlite3_finalize(stmt);
  }
  return out;
}

}  // namespace sbtest
