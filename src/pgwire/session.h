// The contract between the PostgreSQL protocol layer and the SQL engine above
// it. pgwire/ knows messages and formats; the Session knows SQL. node/ provides
// the implementation and hands a SessionFactory to the server.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sb::pgwire {

// PostgreSQL type OIDs the engine reports (pg_type.oid).
namespace oid {
inline constexpr uint32_t kUnspecified = 0;
inline constexpr uint32_t kBool = 16;
inline constexpr uint32_t kBytea = 17;
inline constexpr uint32_t kInt8 = 20;
inline constexpr uint32_t kInt2 = 21;
inline constexpr uint32_t kInt4 = 23;
inline constexpr uint32_t kText = 25;
inline constexpr uint32_t kFloat4 = 700;
inline constexpr uint32_t kFloat8 = 701;
inline constexpr uint32_t kVarchar = 1043;
inline constexpr uint32_t kDate = 1082;
inline constexpr uint32_t kTimestamp = 1114;
inline constexpr uint32_t kTimestamptz = 1184;
inline constexpr uint32_t kInterval = 1186;
inline constexpr uint32_t kNumeric = 1700;
inline constexpr uint32_t kUuid = 2950;
}  // namespace oid

struct ColumnDesc {
  std::string name;
  uint32_t type_oid = oid::kText;
  int16_t type_size = -1;  // pg_type.typlen
  int32_t type_modifier = -1;
};

// A value in PostgreSQL text format; nullopt is SQL NULL.
using TextValue = std::optional<std::string>;
using TextRow = std::vector<TextValue>;

// The outcome of one statement.
struct StatementResult {
  // Non-empty when the statement returns rows (RowDescription + DataRows).
  std::vector<ColumnDesc> columns;
  bool returns_rows = false;
  std::vector<TextRow> rows;
  // CommandComplete tag, e.g. "SELECT 3", "INSERT 0 1", "BEGIN".
  std::string command_tag;
  // Set when the statement is COPY ... FROM STDIN: the server must run the
  // copy-in sub-protocol and then call Session::CopyIn with copy_handle.
  bool copy_in = false;
  int copy_column_count = 0;
  bool copy_csv = false;
  uint64_t copy_handle = 0;
  // NoticeResponse messages to send before the result (e.g. warnings).
  std::vector<std::string> notices;
};

// What Parse + Describe(statement) need to know.
struct PreparedInfo {
  std::vector<uint32_t> param_type_oids;  // resolved (never 0 after Prepare)
  std::vector<ColumnDesc> columns;        // empty if no rows are returned
  bool returns_rows = false;
};

class PreparedStatement {
 public:
  virtual ~PreparedStatement() = default;
  virtual const PreparedInfo& info() const = 0;
};

// The connection's named protocol-level prepared statements, which SQL
// DEALLOCATE closes (the names belong to the protocol layer, the statement
// text to the session).
class StatementNames {
 public:
  virtual ~StatementNames() = default;
  // Closes the named statement; false if there is none.
  virtual bool CloseStatement(std::string_view name) = 0;
  virtual void CloseAllStatements() = 0;
};

// One client connection's engine state. Calls come from the connection's own
// thread, except Cancel(), which may come from any thread.
class Session {
 public:
  virtual ~Session() = default;

  // Set by the connection once the session is open; outlives the session.
  void set_statement_names(StatementNames* names) { statement_names_ = names; }

  // Server parameters reported with ParameterStatus after authentication
  // (server_version, client_encoding, DateStyle, ...).
  virtual std::vector<std::pair<std::string, std::string>> StartupParameters() = 0;

  // Runs a simple-query string, which may hold several statements; returns one
  // result per statement executed. On the first failing statement, returns the
  // results of the statements before it and the error (the caller sends those
  // results, then the ErrorResponse).
  virtual std::vector<StatementResult> ExecuteSimple(std::string_view sql, Status* error) = 0;

  // Extended protocol: Parse. param_type_oids may hold zeros (unspecified).
  virtual Result<std::shared_ptr<PreparedStatement>> Prepare(
      std::string_view sql, const std::vector<uint32_t>& param_type_oids) = 0;

  // Extended protocol: Bind + Execute, with parameters in text format (the
  // server converts binary parameters to text first). Runs the statement to
  // completion; the server handles row limits and portal suspension.
  virtual Result<StatementResult> ExecutePrepared(const PreparedStatement& stmt,
                                                  const std::vector<TextValue>& params) = 0;

  // COPY FROM STDIN: the whole data stream received in CopyData messages.
  // Returns the result carrying the "COPY n" tag.
  virtual Result<StatementResult> CopyIn(uint64_t copy_handle, std::string_view data) = 0;
  // Abandons a copy (CopyFail or a protocol error).
  virtual void CopyAbort(uint64_t copy_handle) = 0;

  // 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block.
  virtual char TransactionStatus() const = 0;

  // Called by the extended protocol when an error occurred and Sync arrives,
  // and on connection close: the session must mark/abort as PostgreSQL does.
  virtual void OnError() = 0;

  // Asks the running statement to stop with SQLSTATE 57014. Thread-safe.
  virtual void Cancel() = 0;

 protected:
  StatementNames* statement_names_ = nullptr;
};

class SessionFactory {
 public:
  virtual ~SessionFactory() = default;
  // Validates the startup packet (user, database, options); returns a
  // session or an error sent as ErrorResponse (e.g. 3D000 for an unknown database).
  virtual Result<std::unique_ptr<Session>> Open(const std::string& user,
                                                const std::string& database) = 0;
};

}  // namespace sb::pgwire
