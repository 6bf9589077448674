// PostgreSQL's scalar functions as SQLite functions, registered with the
// other ScratchBird functions (exec/sql_functions.h) on every shard
// connection and on the coordinator. Each one follows PostgreSQL 15's
// semantics and error codes exactly (lc_ctype = C, session time zone UTC);
// sql/scalar_functions.cc decides which of them a call translates to.
//
// Values arrive in the stored form of common/value_codec.h: text as UTF-8,
// numeric(p<=18,s) as a scaled int64, date/timestamp as canonical text.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/sql_type.h"
#include "common/status.h"

namespace sb::exec {

void RegisterPgFunctions(sqlite3* db);

// ---- Pure helpers (also used at plan time and by unit tests) ----

// LIKE matching as PostgreSQL's MatchText: `pattern` uses '\' as its escape
// character (see LikeEscape). 22025 when the scan reaches an escape at the
// end of the pattern (PostgreSQL errors only if the match gets that far).
Result<bool> LikeMatch(std::string_view text, std::string_view pattern);
// like_escape(pattern, escape): rewrites a pattern with escape character
// `escape` ("" = none) into the '\'-escaped form. 22025 "invalid escape
// string" if `escape` is longer than one character.
Result<std::string> LikeEscape(std::string_view pattern, std::string_view escape);
// ASCII-only case mapping, as PostgreSQL's lower()/upper() with lc_ctype = C.
std::string AsciiLower(std::string_view s);

// Date/time field names for extract/date_part/date_trunc (PostgreSQL's
// DecodeUnits/DecodeSpecial: lowercased, matched on the first 10 bytes).
enum class DateUnit {
  kUnknown,
  kMicroseconds,
  kMilliseconds,
  kSecond,
  kMinute,
  kHour,
  kDay,
  kWeek,
  kMonth,
  kQuarter,
  kYear,
  kDecade,
  kCentury,
  kMillennium,
  kDow,
  kIsodow,
  kDoy,
  kIsoyear,
  kJulian,
  kEpoch,
  kTimezone,
  kTimezoneHour,
  kTimezoneMinute,
};
DateUnit DecodeDateUnit(std::string_view lowercased);

// The kind of value extract/date_part/date_trunc work on (the int passed to
// the SQL functions).
enum class DateKind { kDate = 0, kTimestamp = 1, kTimestamptz = 2 };

// Display scale of PostgreSQL 15's extract(unit FROM <kind>) (a numeric);
// -1 when the call fails (unknown or unsupported unit; the error then comes
// from ExtractNumeric at run time, as in PostgreSQL) and -2 for results
// ScratchBird cannot hold in a scaled numeric (julian of a timestamp).
int ExtractScale(std::string_view unit_text, DateKind kind);
// extract(unit FROM value) as a scaled integer with ExtractScale's scale.
Result<int64_t> ExtractNumeric(std::string_view unit_text, std::string_view stored, DateKind kind);
// date_part(unit, value): double precision.
Result<double> DatePartFloat(std::string_view unit_text, std::string_view stored, DateKind kind);
// date_trunc(unit, timestamp) on the canonical timestamp text.
Result<std::string> DateTrunc(std::string_view unit_text, std::string_view stored, DateKind kind);

// substr/substring(s, start [, count]) on characters (or bytes with
// by_bytes), with PostgreSQL's rules for a start below 1; 22011 for a
// negative count.
Result<std::string> PgSubstr(std::string_view s, int64_t start, bool has_count, int64_t count,
                             bool by_bytes);

}  // namespace sb::exec
