// SQLite functions over intervals (common/interval.h's stored form), the
// translation of PostgreSQL's interval operators and extract():
//   sb_ts_add_iv(timestamp|date, interval, sign)  timestamp ± interval
//   sb_ts_diff(timestamp|date, timestamp|date)   timestamp - timestamp
//   sb_ts_micros(timestamp|date)  microseconds since the epoch (an integer)
//   sb_age(timestamp|date, timestamp|date)  age(a, b): years, months, days, time
//   sb_make_interval(y, mon, w, d, h, min, s)  make_interval()
//   sb_ivsum(a)            sum(interval), also as a window function
//   sb_justify(kind, a)     justify_hours / _days / _interval (kind 'hours', ...)
//   sb_iv_add(a, b, sign), sb_iv_neg(a), sb_iv_mul(a, x), sb_iv_div(a, x)
//   sb_iv_extract(unit, a)  extract(): a scaled integer, IntervalExtractScale
//   sb_iv_part(unit, a)     date_part(): double precision
// and the collation sb_interval, which compares intervals by span alone.
#pragma once

#include <sqlite3.h>

#include <string_view>

namespace sb::exec {

void RegisterIntervalFunctions(sqlite3* db);

// Display scale of PostgreSQL 15's extract(unit FROM interval): 6 for second
// and epoch, 3 for milliseconds, 0 for the others; -1 for a unit intervals
// do not have (the error comes at run time, as in PostgreSQL).
int IntervalExtractScale(std::string_view unit);

}  // namespace sb::exec
