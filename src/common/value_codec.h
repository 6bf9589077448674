// Stored representation of SQL values (what the SQLite shard holds) and the
// conversions PostgreSQL defines between text, stored values and types.
//
// Stored form per type:
//   int2/int4/int8            int64
//   float4/float8             double (float4 holds a float widened to double)
//   numeric(p,s), 1<=p<=18    int64 = value * 10^s ("scaled", NumericIsScaled)
//   numeric(p,s), p > 18      string, canonical decimal with exactly s fraction digits
//   numeric (unconstrained)   string, canonical decimal text keeping the value's scale
//   text/varchar/unknown      string
//   bool                      int64 0/1
//   date                      string "YYYY-MM-DD" (years 0001..9999)
//   timestamp                 string "YYYY-MM-DD HH:MM:SS.ffffff" (6 fraction digits)
//   timestamptz               same form, converted to UTC
//   uuid                      string, lowercase "8-4-4-4-12"
//   bytea                     Blob
#pragma once

#include <string>
#include <string_view>

#include "common/decimal.h"
#include "common/sql_type.h"
#include "common/status.h"
#include "common/value.h"

namespace sb {

// Parses PostgreSQL text input into the stored form, with PostgreSQL's
// SQLSTATEs and messages.
Result<Value> ParseTextValue(const SqlType& type, std::string_view text);

// PostgreSQL text output of a stored (non-NULL) value.
std::string FormatTextValue(const SqlType& type, const Value& stored);

// PostgreSQL cast semantics between supported types on stored values. NULL
// casts to NULL. Unsupported pair -> 42846 "cannot cast type X to Y".
Result<Value> CastValue(const Value& stored, const SqlType& from, const SqlType& to);

// Helpers.
// PostgreSQL (>= 12) float output: shortest round-trip digits, exponent form
// when the decimal exponent is < -4 or >= 15 (float8) / >= 6 (float4).
std::string FormatFloat8(double v);
std::string FormatFloat4(float v);
// A stored numeric (scaled int64 or decimal text) as a Decimal.
Result<Decimal> StoredToDecimal(const SqlType& numeric_type, const Value& stored);
// A Decimal in the stored form of `numeric_type`, rounded to its scale and
// checked against its precision (22003 "numeric field overflow").
Result<Value> DecimalToStored(const SqlType& numeric_type, const Decimal& d);
// Number of characters (UTF-8 code points) in s.
size_t Utf8Length(std::string_view s);

}  // namespace sb
