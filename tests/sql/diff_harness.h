// Differential-test harness: a real `scratchbird start-single-node` child
// process spoken to through libpq, a plain SQLite database (the oracle) holding
// the same rows, and the comparison of their results after normalisation.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct pg_conn;
struct sqlite3;

namespace sbtest {

// A normalised result value: numbers as integers or doubles, everything else
// (text, dates, uuids) as text. Booleans become the integers 0 and 1.
struct NVal {
  enum class Kind { kNull, kInt, kReal, kText };
  Kind kind = Kind::kNull;
  int64_t i = 0;
  double d = 0;
  std::string s;

  static NVal Null() { return {}; }
  static NVal Int(int64_t v) { return {Kind::kInt, v, 0, {}}; }
  static NVal Real(double v) { return {Kind::kReal, 0, v, {}}; }
  static NVal Text(std::string v) { return {Kind::kText, 0, 0, std::move(v)}; }
  std::string ToString() const;
};

struct ResultSet {
  bool ok = true;
  std::string sqlstate;  // on error (the cluster's SQLSTATE; "SQLITE" for the oracle)
  std::string error;
  std::vector<std::string> columns;
  std::vector<std::vector<NVal>> rows;
  std::string Describe(size_t max_rows = 40) const;
};

// A statement parameter: its text for the cluster (nullopt = NULL) and its
// value for the oracle.
struct Param {
  std::optional<std::string> pg_text;
  NVal lite;
};

// One query, written once and rendered per engine.
struct DiffQuery {
  std::string label;
  std::string pg;    // PostgreSQL dialect, sent to the cluster
  std::string lite;  // SQLite dialect, run on the oracle
  // True when ORDER BY fully determines the order of the result rows.
  bool ordered = false;
  std::vector<Param> params;  // $n / ?n
};

// Empty when the two results are the same: same columns count, same rows
// (as multisets unless `ordered`), numbers compared numerically with a
// relative tolerance of 1e-9 when either side is not an integer, text exactly.
std::string CompareResults(const ResultSet& cluster, const ResultSet& oracle, bool ordered);

// The scratchbird child process on 127.0.0.1 with a temporary data directory.
class ClusterProcess {
 public:
  ClusterProcess() = default;
  ~ClusterProcess();
  ClusterProcess(const ClusterProcess&) = delete;
  ClusterProcess& operator=(const ClusterProcess&) = delete;

  // Starts the node with `shards` shards and waits until it accepts
  // connections. Returns an error message, or empty on success.
  std::string Start(int shards);
  // SIGTERM, wait for exit (SIGKILL if it does not exit), remove the data directory.
  void Stop();
  int sql_port() const { return sql_port_; }
  std::string conninfo() const;
  std::string LogTail() const;

 private:
  pid_t pid_ = -1;
  int sql_port_ = 0;
  std::string dir_;
};

// A libpq connection to the cluster.
class PgClient {
 public:
  explicit PgClient(const std::string& conninfo);
  ~PgClient();
  PgClient(const PgClient&) = delete;
  PgClient& operator=(const PgClient&) = delete;
  bool connected() const;
  std::string connect_error() const;
  // Simple query protocol when there are no parameters, else extended.
  ResultSet Query(const std::string& sql, const std::vector<Param>& params = {});
  // Extended protocol with a named prepared statement.
  std::string Prepare(const std::string& name, const std::string& sql);
  ResultSet ExecPrepared(const std::string& name, const std::vector<Param>& params);

 private:
  pg_conn* conn_ = nullptr;
};

// The oracle: one plain in-memory SQLite database.
class Oracle {
 public:
  Oracle();
  ~Oracle();
  Oracle(const Oracle&) = delete;
  Oracle& operator=(const Oracle&) = delete;
  ResultSet Query(const std::string& sql, const std::vector<Param>& params = {});
  sqlite3* db() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace sbtest
