// SQL functions ScratchBird registers in every SQLite connection (shards and
// the coordinator's merge database). They give SQLite PostgreSQL semantics
// where its own operators differ: exact numeric division and averages,
// division by zero as an error, integer overflow as an error, and casts that
// follow PostgreSQL's text formats and rounding.
#pragma once

#include <sqlite3.h>

#include <map>
#include <string>

#include "common/sql_type.h"

namespace sb::exec {

// Per-statement values read by sb_setting(name): session_user,
// statement_timestamp, server_version_full and the session's settings.
// Set on the thread that runs SQLite for the statement.
struct StatementContext {
  std::map<std::string, std::string> values;
};

// Makes `ctx` visible to sb_setting() on the calling thread until the guard
// is destroyed.
class StatementContextScope {
 public:
  explicit StatementContextScope(const StatementContext* ctx);
  ~StatementContextScope();
  StatementContextScope(const StatementContextScope&) = delete;
  StatementContextScope& operator=(const StatementContextScope&) = delete;

 private:
  const StatementContext* previous_;
};

const StatementContext* CurrentStatementContext();

// A SqlType packed into one integer, the form SQL text passes to sb_cast().
int64_t TypeCode(const SqlType& t);
SqlType TypeFromCode(int64_t code);

// Registers the functions and PostgreSQL-compatible pragmas on a connection.
void RegisterSqlFunctions(sqlite3* db);

// Flags after each key of sb_string_agg(value, delimiter, key, flags, ...),
// the translation of string_agg(value, delimiter ORDER BY key ...).
inline constexpr int kOrderedAggDescending = 1;
inline constexpr int kOrderedAggNullsFirst = 2;
inline constexpr int kOrderedAggDecimalText = 4;  // unconstrained numeric: by value
inline constexpr int kOrderedAggInterval = 8;     // interval: by span

// Errors raised by these functions carry their SQLSTATE as a message prefix
// "sb:NNNNN:"; this splits it off again (returns false if absent).
bool SplitSqlstatePrefix(const std::string& message, std::string* code, std::string* text);

}  // namespace sb::exec
