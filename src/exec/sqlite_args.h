// Plumbing shared by ScratchBird's SQLite functions: reading arguments and
// reporting errors with their SQLSTATE (the "sb:NNNNN:" message prefix that
// SplitSqlstatePrefix in exec/sql_functions.h takes off again).
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace sb::exec {

inline void SetError(sqlite3_context* ctx, std::string_view code, std::string_view message) {
  std::string m = "sb:";
  m.append(code).append(":").append(message);
  sqlite3_result_error(ctx, m.c_str(), static_cast<int>(m.size()));
}

inline void SetError(sqlite3_context* ctx, const Status& st) {
  SetError(ctx, st.code(), st.message());
}

inline bool AnyNull(int argc, sqlite3_value** argv) {
  for (int i = 0; i < argc; ++i) {
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) return true;
  }
  return false;
}

// The argument as text (SQLite converts numbers); empty for NULL.
inline std::string_view ArgText(sqlite3_value* v) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
  return p == nullptr ? std::string_view()
                      : std::string_view(p, static_cast<size_t>(sqlite3_value_bytes(v)));
}

// A 128-bit integer for state in sqlite3_aggregate_context() memory, which
// SQLite aligns to 8 bytes only; __int128's own 16-byte alignment lets the
// compiler use aligned SSE moves that fault there.
using AggregateInt128 = __int128 __attribute__((aligned(8)));

inline void SetText(sqlite3_context* ctx, const std::string& s) {
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

}  // namespace sb::exec
