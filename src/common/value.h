// A value as SQLite stores it (the shard engine's representation). The SQL
// type that gives it meaning lives in the catalog (common/sql_type.h).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace sb {

struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
  auto operator<=>(const Blob&) const = default;
};

// monostate = SQL NULL. int64 for integers, booleans (0/1) and scaled numerics;
// double for real/double precision; string for text, varchar, uuid, date and
// timestamps (canonical text forms, see sql_type.h); Blob for bytea.
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;
using Row = std::vector<Value>;

inline bool IsNull(const Value& v) {
  return std::holds_alternative<std::monostate>(v);
}

}  // namespace sb
