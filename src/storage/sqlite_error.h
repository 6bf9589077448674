// Maps SQLite result codes to Status values carrying PostgreSQL SQLSTATEs.
#pragma once

#include <sqlite3.h>

#include <string>

#include "common/status.h"

namespace sb::storage {

// rc is an (extended) SQLite result code; db (may be null) supplies the error
// message. during_prepare marks errors from sqlite3_prepare*, where a plain
// SQLITE_ERROR means the SQL layer sent SQL the shard cannot compile.
Status StatusFromSqlite(int rc, sqlite3* db, bool during_prepare = false);

// Same mapping with an explicit message (exposed for tests).
Status StatusFromSqliteMessage(int rc, const std::string& message, bool during_prepare = false);

}  // namespace sb::storage
