// Maps SQLite result codes to Status values carrying PostgreSQL SQLSTATEs.
#pragma once

#include <sqlite3.h>

#include <string>

#include "common/status.h"

namespace sb::storage {

// rc is an (extended) SQLite result code; db (may be null) supplies the error
// message. A plain SQLITE_ERROR (e.g. "no such table" while preparing: SQL the
// SQL layer should have rejected) becomes XX000 "shard SQL failed: <text>".
Status StatusFromSqlite(int rc, sqlite3* db);

// Same mapping with an explicit message (exposed for tests).
Status StatusFromSqliteMessage(int rc, const std::string& message);

}  // namespace sb::storage
