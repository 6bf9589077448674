#include "storage/sqlite_error.h"

#include <cctype>

namespace sb::storage {

namespace {

bool IsSqlstateChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

bool IsSqlstate(const std::string& s) {
  if (s.size() != 5) return false;
  for (char c : s) {
    if (!IsSqlstateChar(c)) return false;
  }
  return true;
}

// Returns the text after "<prefix>" in msg, or "" when msg does not start with it.
std::string After(const std::string& msg, const std::string& prefix) {
  if (msg.compare(0, prefix.size(), prefix) != 0) return {};
  return msg.substr(prefix.size());
}

Status CheckViolation(const std::string& msg) {
  // SQLite: "CHECK constraint failed: <name or expression>".
  std::string name = After(msg, "CHECK constraint failed: ");
  // The SQL layer names its range/length checks sb_<SQLSTATE>_<column>.
  if (name.size() > 9 && name.compare(0, 3, "sb_") == 0 && name[8] == '_') {
    const std::string code = name.substr(3, 5);
    const std::string column = name.substr(9);
    if (IsSqlstate(code)) {
      std::string text;
      if (code == sqlstate::kNumericValueOutOfRange) {
        text = "value for column \"" + column + "\" is out of range for its type";
      } else if (code == sqlstate::kStringDataRightTruncation) {
        text = "value too long for column \"" + column + "\"";
      } else {
        text = "invalid value for column \"" + column + "\"";
      }
      return Status(code, text).WithDetail(msg);
    }
  }
  std::string text = "new row violates check constraint";
  if (!name.empty()) text += " \"" + name + "\"";
  return Status(sqlstate::kCheckViolation, text).WithDetail(msg);
}

Status NotNullViolation(const std::string& msg) {
  // SQLite: "NOT NULL constraint failed: <table>.<column>".
  std::string target = After(msg, "NOT NULL constraint failed: ");
  const size_t dot = target.rfind('.');
  if (dot != std::string::npos && dot > 0 && dot + 1 < target.size()) {
    return Status(sqlstate::kNotNullViolation, "null value in column \"" + target.substr(dot + 1) +
                                                   "\" of relation \"" + target.substr(0, dot) +
                                                   "\" violates not-null constraint")
        .WithDetail(msg);
  }
  return Status(sqlstate::kNotNullViolation, "null value violates not-null constraint")
      .WithDetail(msg);
}

}  // namespace

Status StatusFromSqliteMessage(int rc, const std::string& msg) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
      return Status(sqlstate::kUniqueViolation, "duplicate key value violates unique constraint")
          .WithDetail(msg);
    case SQLITE_CONSTRAINT_NOTNULL:
      return NotNullViolation(msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return Status(sqlstate::kForeignKeyViolation,
                    "insert, update or delete violates a foreign key constraint")
          .WithDetail(msg);
    case SQLITE_CONSTRAINT_CHECK:
      return CheckViolation(msg);
    case SQLITE_CONSTRAINT_COMMITHOOK:
      return Status(sqlstate::kInvalidTransactionState,
                    "shard transaction was rolled back: it must be committed with "
                    "ShardConnection::Commit so its changes are logged");
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_INTERRUPT:
      return Status(sqlstate::kQueryCanceled, "canceling statement due to user request");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status(sqlstate::kSerializationFailure, "could not serialize access: shard is busy")
          .WithDetail(msg);
    case SQLITE_FULL:
      return Status(sqlstate::kDiskFull, "could not write shard database: disk full")
          .WithDetail(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status(sqlstate::kDataCorrupted, "shard database is corrupt: " + msg);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return Status(sqlstate::kIoError, "shard I/O error: " + msg);
    case SQLITE_NOMEM:
      return Status(sqlstate::kOutOfMemory, "out of memory");
    case SQLITE_TOOBIG:
      return Status(sqlstate::kProgramLimitExceeded, "shard SQL failed: " + msg);
    case SQLITE_ERROR:
    case SQLITE_CONSTRAINT:
      // SQL functions registered by the SQL layer may report a SQLSTATE by
      // starting their error message with it: "22012: division by zero".
      if (msg.size() > 7 && IsSqlstate(msg.substr(0, 5)) && msg[5] == ':' && msg[6] == ' ') {
        return Status(msg.substr(0, 5), msg.substr(7));
      }
      break;
    default:
      break;
  }
  return Status(sqlstate::kInternalError, "shard SQL failed: " + msg);
}

Status StatusFromSqlite(int rc, sqlite3* db) {
  std::string msg;
  if (db != nullptr && sqlite3_errcode(db) != SQLITE_OK) {
    msg = sqlite3_errmsg(db);
  } else {
    msg = sqlite3_errstr(rc);
  }
  return StatusFromSqliteMessage(rc, msg);
}

}  // namespace sb::storage
