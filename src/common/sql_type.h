// SQL types of the cluster's PostgreSQL dialect: identity, PostgreSQL catalog
// facts (OID, typlen, typmod, format_type name), SQLite storage class, name
// resolution and the common type of two operands.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sb {

enum class TypeId {
  kUnknown,
  kInt2,
  kInt4,
  kInt8,
  kFloat4,
  kFloat8,
  kNumeric,
  kText,
  kVarchar,
  kBool,
  kDate,
  kTimestamp,
  kTimestamptz,
  kUuid,
  kBytea,
  // Expressions only (timestamp arithmetic); not a column type. Stored as
  // text in common/interval.h's form.
  kInterval
};

struct SqlType {
  TypeId id = TypeId::kUnknown;  // kUnknown = untyped literal or NULL
  int precision = -1;            // numeric(p,s): p; varchar(n): n; -1 = unspecified
  int scale = 0;                 // numeric scale
  bool operator==(const SqlType&) const = default;

  static SqlType Of(TypeId id);
  static SqlType Numeric(int precision, int scale);
  static SqlType Varchar(int length);

  // PG OIDs: bool 16, bytea 17, int8 20, int2 21, int4 23, text 25, float4 700,
  // float8 701, varchar 1043, date 1082, timestamp 1114, timestamptz 1184,
  // numeric 1700, uuid 2950; unknown -> 25 (text).
  uint32_t oid() const;
  // pg_type.typlen (-1 for varlena).
  int16_t typlen() const;
  // PG atttypmod: varchar n+4; numeric ((p<<16)|s)+4; else -1.
  int32_t typmod() const;
  // PG format_type spelling ("integer", "numeric(10,2)", "character varying(20)").
  std::string Name() const;
  // SQLite STRICT column type: "INTEGER" (ints, bool, scaled numeric), "REAL"
  // (floats), "TEXT" (text, varchar, date, timestamps, uuid and numeric stored
  // as text, see NumericIsScaled), "BLOB" (bytea).
  const char* StorageClass() const;
  bool IsInteger() const;  // int2/4/8
  bool IsNumber() const;   // ints, floats, numeric
};

// Largest numeric precision stored as a scaled int64 (value * 10^scale).
inline constexpr int kMaxScaledNumericPrecision = 18;

// True for numeric(p,s) with 1 <= p <= 18: stored as int64 value * 10^scale.
// Other numerics (unconstrained, or p > 18) are stored as canonical decimal
// text with the value's own scale (unconstrained) or exactly `scale`
// fraction digits (p > 18).
inline bool NumericIsScaled(const SqlType& t) {
  return t.id == TypeId::kNumeric && t.precision >= 1 && t.precision <= kMaxScaledNumericPrecision;
}

// Resolves a type name as libpg_query's TypeName gives it ({"pg_catalog",
// "int4"}, {"varchar"}, {"double precision"}, ...) with its integer typmods.
// Unsupported types -> 0A000; unknown names -> 42704; bad typmods -> 22023.
Result<SqlType> ResolveTypeName(const std::vector<std::string>& names,
                                const std::vector<int>& typmods);

// The common type two operands are promoted to for comparison, arithmetic,
// UNION and CASE (int2 < int4 < int8 < numeric < float4 < float8; text/varchar
// -> text; unknown adopts the other side; date < timestamp < timestamptz).
// A numeric result has precision -1 and the larger scale. Incompatible types
// -> 42883 "operator does not exist: <a> <op> <b>".
Result<SqlType> CommonType(const SqlType& a, const SqlType& b, std::string_view op_for_error);

}  // namespace sb
