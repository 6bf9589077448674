// End-to-end test helpers: a real `scratchbird start-single-node` child
// process on a fresh data directory and free loopback ports, libpq
// connections and results, raw sockets, HTTP GET, and running other programs
// (psql, a second scratchbird) with a bounded wait.
#pragma once

#include <libpq-fe.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sb::e2e {

using namespace std::chrono_literals;

// A free TCP port on 127.0.0.1 (bind port 0, read it back, close).
int FreePort();

// A fresh empty directory under the system temp directory; removed with its
// contents by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Outcome of a program run to completion.
struct ProgramResult {
  bool exited = false;  // false: did not finish in time (it was killed)
  int exit_code = -1;   // when exited normally
  int signal = 0;       // when killed by a signal
  std::string output;   // stdout and stderr, interleaved
};

// Runs argv with stdin from `stdin_path` (or /dev/null), waits at most
// `timeout`, then kills the child by its PID.
ProgramResult RunProgram(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::string& stdin_path = "");

// A `scratchbird start-single-node` child process. Never stopped by name:
// only by the PID fork() returned.
class ServerProcess {
 public:
  // `data_dir` must outlive the process.
  explicit ServerProcess(std::string data_dir) : data_dir_(std::move(data_dir)) {}
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts on fresh free ports with extra arguments (e.g. {"--shards", "4"})
  // and waits (bounded) until the SQL port accepts connections. False if the
  // process exited or never became ready; log() tells why.
  bool Start(const std::vector<std::string>& extra_args = {});
  // SIGTERM, then SIGKILL after `grace`. Returns the exit code, or -1 if the
  // process had to be killed or died from a signal.
  int Stop(std::chrono::milliseconds grace = 10s);
  // SIGKILL and reap.
  void Kill9();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  int sql_port() const { return sql_port_; }
  int http_port() const { return http_port_; }
  const std::string& data_dir() const { return data_dir_; }
  // The child's stdout and stderr so far.
  std::string log() const;
  std::string conninfo(const std::string& dbname = "scratchbird") const;

 private:
  bool StartOnce(const std::vector<std::string>& extra_args);

  std::string data_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  int sql_port_ = 0;
  int http_port_ = 0;
};

// A PGresult with accessors; owns it.
class Result {
 public:
  explicit Result(PGresult* r = nullptr) : r_(r, PQclear) {}
  PGresult* get() const { return r_.get(); }
  ExecStatusType status() const { return PQresultStatus(r_.get()); }
  bool ok() const { return status() == PGRES_COMMAND_OK || status() == PGRES_TUPLES_OK; }
  std::string sqlstate() const { return Field(PG_DIAG_SQLSTATE); }
  std::string message() const { return Field(PG_DIAG_MESSAGE_PRIMARY); }
  std::string hint() const { return Field(PG_DIAG_MESSAGE_HINT); }
  std::string position() const { return Field(PG_DIAG_STATEMENT_POSITION); }
  std::string error() const { return r_ ? PQresultErrorMessage(r_.get()) : "no result"; }
  std::string tag() const { return r_ ? PQcmdStatus(r_.get()) : ""; }
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  int cols() const { return r_ ? PQnfields(r_.get()) : 0; }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  // The text value, or "NULL" for SQL NULL.
  std::string at(int row, int col) const {
    return null(row, col) ? "NULL" : PQgetvalue(r_.get(), row, col);
  }
  // Column `col` of every row.
  std::vector<std::string> column(int col) const;
  // Every row as "v1|v2|...".
  std::vector<std::string> lines() const;
  // The whole result as text (for failure messages).
  std::string dump() const;

 private:
  std::string Field(int code) const {
    const char* v = r_ ? PQresultErrorField(r_.get(), code) : nullptr;
    return v ? v : "";
  }
  std::shared_ptr<PGresult> r_;
};

// A libpq connection; owns it.
class Conn {
 public:
  explicit Conn(const std::string& conninfo);
  PGconn* get() const { return c_.get(); }
  bool ok() const { return PQstatus(c_.get()) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(c_.get()); }
  Result Exec(const std::string& sql) const { return Result(PQexec(c_.get(), sql.c_str())); }
  // PQexecParams with text parameters (std::nullopt = NULL), types inferred.
  Result Params(const std::string& sql,
                const std::vector<std::optional<std::string>>& params) const;
  Result Prepare(const std::string& name, const std::string& sql, int nparams) const;
  Result ExecPrepared(const std::string& name,
                      const std::vector<std::optional<std::string>>& params) const;
  // First column of the first row, or "<error: ...>".
  std::string Scalar(const std::string& sql) const;
  // COPY ... FROM STDIN with `data`; returns the final result.
  Result CopyIn(const std::string& sql, const std::string& data) const;
  char txn_status() const;  // 'I', 'T', 'E' or '?'

 private:
  std::shared_ptr<PGconn> c_;
};

// Connects a raw TCP socket to 127.0.0.1:port; -1 on failure.
int ConnectTcp(int port);
// Writes all of `data` (ignores EPIPE).
bool SendAll(int fd, const std::string& data);
// Reads until the peer closes, `max_bytes` arrive, or `timeout` passes.
// Sets *closed when the peer closed the connection (EOF or reset).
std::string ReadUntilClose(int fd, std::chrono::milliseconds timeout, bool* closed,
                           size_t max_bytes = 1 << 20);

struct HttpResponse {
  int status = 0;  // 0: no response
  std::string body;
};
// GET http://127.0.0.1:port<path> over a plain socket (HTTP/1.0).
HttpResponse HttpGet(int port, const std::string& path);

// Value of the first Prometheus sample "name{labels} value" (or "name value")
// whose line contains every string in `labels`; -1 when absent.
double MetricSample(const std::string& metrics, const std::string& name,
                    const std::vector<std::string>& labels);

// The 1-based shard number a uuid shard key lives on, computed with the
// routing code (common/) the server uses.
int ShardOfUuid(const std::string& uuid, int shard_count);
// A deterministic uuid text from a number.
std::string UuidFor(uint64_t n);
// The shard name ("shard_007") of 1-based shard number n.
std::string ShardName(int n);

}  // namespace sb::e2e
