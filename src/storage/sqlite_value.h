// Conversions between SQLite's dynamically typed values and Value, shared by
// change capture (preupdate values) and the SQL functions the shards run.
#pragma once

#include <sqlite3.h>

#include "common/value.h"

namespace sb::storage {

// INTEGER → int64_t, FLOAT → double, TEXT → std::string, BLOB → Blob (an
// empty one for a zero-length blob), NULL → std::monostate.
Value ValueFromSqlite(sqlite3_value* v);

}  // namespace sb::storage
