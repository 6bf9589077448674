#include "storage/sqlite_value.h"

#include <string>

namespace sb::storage {

Value ValueFromSqlite(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_value_int64(v));
    case SQLITE_FLOAT:
      return sqlite3_value_double(v);
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                         static_cast<size_t>(sqlite3_value_bytes(v)));
    case SQLITE_BLOB: {
      // sqlite3_value_blob is null for a zero-length blob.
      const void* data = sqlite3_value_blob(v);
      const int n = sqlite3_value_bytes(v);
      return Blob{n > 0 ? std::string(static_cast<const char*>(data), static_cast<size_t>(n))
                        : std::string()};
    }
    default:
      return std::monostate{};
  }
}

}  // namespace sb::storage
