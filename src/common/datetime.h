// Calendar arithmetic (proleptic Gregorian, pure integer math, no C library
// time zone) and the canonical text forms dates and timestamps are stored in:
//   date       "YYYY-MM-DD"                  (years 0001..9999)
//   timestamp  "YYYY-MM-DD HH:MM:SS.ffffff"  (always 6 fraction digits, UTC for timestamptz)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sb {

inline constexpr int64_t kMicrosPerSecond = 1000000;
inline constexpr int64_t kMicrosPerDay = 86400LL * kMicrosPerSecond;
inline constexpr int kMinYear = 1;
inline constexpr int kMaxYear = 9999;

struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

// A timestamp's calendar fields (UTC).
struct DateTimeFields {
  CivilDate date;
  int hour = 0, minute = 0, second = 0;
  int micros = 0;    // 0..999999
  int64_t days = 0;  // since 1970-01-01
};
// micros: since 1970-01-01 00:00:00 UTC (negative before).
DateTimeFields BreakDownTimestamp(int64_t micros);

// Days since 1970-01-01 of a (valid) proleptic Gregorian date.
int64_t DaysFromCivil(int year, int month, int day);
CivilDate CivilFromDays(int64_t days);
bool IsLeapYear(int year);
int DaysInMonth(int year, int month);
bool IsValidCivil(int year, int month, int day);

// Range of storable days / micros (0001-01-01 .. 9999-12-31 23:59:59.999999).
int32_t MinStorableDays();
int32_t MaxStorableDays();
int64_t MinStorableMicros();
int64_t MaxStorableMicros();

// Canonical forms (strict; 22007 if malformed, 22008 if out of range).
Result<int32_t> DateToDays(std::string_view canonical);
// Microseconds since 1970-01-01 00:00:00 UTC. Also accepts the canonical form
// with fewer fraction digits or none.
Result<int64_t> TimestampToMicros(std::string_view canonical);
std::string DaysToDate(int32_t days);
std::string MicrosToTimestamp(int64_t micros);

// PostgreSQL-style input (value_codec uses these): surrounding whitespace;
// 'YYYY-MM-DD' (1- or 2-digit month/day). Errors quote the whole input:
// 22007 'invalid input syntax for type <type_name>: "<text>"', 22008
// 'date/time field value out of range: "<text>"'.
Result<int32_t> ParseDateInput(std::string_view text);
// 'YYYY-MM-DD[ T]HH:MM[:SS[.fraction]]' or a date alone (midnight), optionally
// followed by a zone: 'Z', 'UTC', '+HH', '+HH:MM', '+HHMM' (also '-').
// with_time_zone: the zone shifts the result to UTC (none = UTC). Without
// time zone the zone is accepted and ignored, like PostgreSQL.
Result<int64_t> ParseTimestampInput(std::string_view text, bool with_time_zone);

// Timestamp output: canonical form with trailing fraction zeros (and the dot)
// trimmed: "2026-01-05 10:00:00", "2026-01-05 10:00:00.5".
std::string FormatTimestampOutput(int64_t micros);

}  // namespace sb
