// PostgreSQL's interval: months, days and microseconds kept apart (a month
// is not a fixed number of days, nor a day a fixed number of hours across
// calendars), with its input syntax, its output style ("postgres"), and
// calendar arithmetic on timestamps. Time zone is always UTC here.
//
// Stored form (SQLite TEXT): "<span key> <months> <days> <micros>". The span
// key is 31 zero-padded digits of (span + 10^30), span = months * 30 days +
// days * 24 h + micros in microseconds (PostgreSQL's interval_cmp_value), so
// stored values sort and compare by text the way PostgreSQL orders intervals,
// and min/max/ORDER BY/merges need nothing special. Equality is by span
// too ('1 mon' = '30 days'): compare the first kIntervalSpanKeyLength bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sb {

// Length of the span key that leads an interval's stored form.
inline constexpr int kIntervalSpanKeyLength = 31;

// Orders two stored intervals by length alone (-1/0/1): their span keys.
int CompareIntervalSpans(std::string_view a, std::string_view b);

struct Interval {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
  bool operator==(const Interval&) const = default;
};

// '1 year 2 months', '3 days 04:05:06.5', '-1 week', '1.5 hours', '10'
// (seconds), '@ 1 day ago', 'P'-less PostgreSQL-style input. 22007
// 'invalid input syntax for type interval: "<text>"', 22015 on overflow.
Result<Interval> ParseIntervalInput(std::string_view text);
// PostgreSQL's default output: "1 year 2 mons 3 days 04:05:06.5",
// "-1 days +02:00:00", "00:00:00".
std::string FormatIntervalOutput(const Interval& iv);

std::string EncodeStoredInterval(const Interval& iv);
// XX000-free: 22007 when the text is not a stored interval.
Result<Interval> DecodeStoredInterval(std::string_view stored);

// timestamp (micros since the epoch) + iv, as PostgreSQL's timestamp_pl_interval:
// months first (the day clamped to the month's length), then days, then
// micros. 22008 'timestamp out of range' past the storable years.
Result<int64_t> AddIntervalToTimestamp(int64_t micros, const Interval& iv);
// a - b as PostgreSQL's timestamp_mi: whole days and the rest, with the
// signs of days and time made to agree.
Interval TimestampDifference(int64_t a_micros, int64_t b_micros);

// PostgreSQL's age(a, b): the "symbolic" difference in years, months, days
// and time, field by field with borrows (a month borrowed from is the
// earlier timestamp's month), e.g. age('2024-03-31', '2024-02-29 12:30') =
// 1 mon 1 day 11:30:00. Negative when a < b.
Interval AgeBetween(int64_t a_micros, int64_t b_micros);
// make_interval(years, months, weeks, days, hours, mins, secs): 22008 past
// the interval's range, as PostgreSQL.
Result<Interval> MakeInterval(int64_t years, int64_t months, int64_t weeks, int64_t days,
                              int64_t hours, int64_t minutes, double seconds);
// justify_hours / justify_days / justify_interval: whole 24-hour periods to
// days, whole 30-day periods to months, and signs made consistent.
Result<Interval> JustifyHours(const Interval& iv);
Result<Interval> JustifyDays(const Interval& iv);
Result<Interval> JustifyInterval(const Interval& iv);
Result<Interval> AddIntervals(const Interval& a, const Interval& b);
Result<Interval> NegateInterval(const Interval& a);
// iv * factor as PostgreSQL's interval_mul: fractional months spill into
// days (30 per month), fractional days into microseconds.
Result<Interval> MultiplyInterval(const Interval& iv, double factor);
// iv / divisor as PostgreSQL's interval_div; 22012 for zero.
Result<Interval> DivideInterval(const Interval& iv, double divisor);

}  // namespace sb
