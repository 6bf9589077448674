#include "exec/interval_functions.h"

#include <string>

#include "common/datetime.h"
#include "common/interval.h"
#include "exec/pg_functions.h"
#include "exec/sqlite_args.h"

namespace sb::exec {
namespace {

// A stored date ("YYYY-MM-DD") is midnight of that day.
Result<int64_t> TimestampArg(sqlite3_value* v) {
  std::string_view s = ArgText(v);
  if (s.size() == 10) {
    SB_ASSIGN_OR_RETURN(int32_t days, DateToDays(s));
    return static_cast<int64_t>(days) * kMicrosPerDay;
  }
  return TimestampToMicros(s);
}

void ResultInterval(sqlite3_context* ctx, const Result<Interval>& iv) {
  if (!iv.ok()) return SetError(ctx, iv.status());
  const std::string s = EncodeStoredInterval(*iv);
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

void TsAddFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto ts = TimestampArg(argv[0]);
  auto iv = DecodeStoredInterval(ArgText(argv[1]));
  if (!ts.ok()) return SetError(ctx, ts.status());
  if (!iv.ok()) return SetError(ctx, iv.status());
  Result<Interval> signed_iv = sqlite3_value_int(argv[2]) < 0 ? NegateInterval(*iv) : *iv;
  if (!signed_iv.ok()) return SetError(ctx, signed_iv.status());
  auto r = AddIntervalToTimestamp(*ts, *signed_iv);
  if (!r.ok()) return SetError(ctx, r.status());
  const std::string s = MicrosToTimestamp(*r);
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

// sb_age(a, b): PostgreSQL's age(a, b) of two timestamps or dates.
void AgeFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto a = TimestampArg(argv[0]);
  if (!a.ok()) return SetError(ctx, a.status());
  auto b = TimestampArg(argv[1]);
  if (!b.ok()) return SetError(ctx, b.status());
  ResultInterval(ctx, AgeBetween(*a, *b));
}

// sb_justify(kind, interval): kind 'hours', 'days' or 'interval'.
void JustifyFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto iv = DecodeStoredInterval(ArgText(argv[1]));
  if (!iv.ok()) return SetError(ctx, iv.status());
  const std::string_view kind = ArgText(argv[0]);
  if (kind == "hours") return ResultInterval(ctx, JustifyHours(*iv));
  if (kind == "days") return ResultInterval(ctx, JustifyDays(*iv));
  if (kind == "interval") return ResultInterval(ctx, JustifyInterval(*iv));
  SetError(ctx, "42883", "function justify_" + std::string(kind) + "(interval) does not exist");
}

// sb_make_interval(years, months, weeks, days, hours, mins, secs).
void MakeIntervalFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  ResultInterval(ctx, MakeInterval(sqlite3_value_int64(argv[0]), sqlite3_value_int64(argv[1]),
                                   sqlite3_value_int64(argv[2]), sqlite3_value_int64(argv[3]),
                                   sqlite3_value_int64(argv[4]), sqlite3_value_int64(argv[5]),
                                   sqlite3_value_double(argv[6])));
}

// sb_ts_micros(timestamp|date): microseconds since 1970-01-01, the numeric
// ORDER BY key of a RANGE frame with an interval offset.
void TsMicrosFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto ts = TimestampArg(argv[0]);
  if (!ts.ok()) return SetError(ctx, ts.status());
  sqlite3_result_int64(ctx, *ts);
}

void TsDiffFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto a = TimestampArg(argv[0]);
  auto b = TimestampArg(argv[1]);
  if (!a.ok()) return SetError(ctx, a.status());
  if (!b.ok()) return SetError(ctx, b.status());
  ResultInterval(ctx, TimestampDifference(*a, *b));
}

void IvAddFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto a = DecodeStoredInterval(ArgText(argv[0]));
  auto b = DecodeStoredInterval(ArgText(argv[1]));
  if (!a.ok()) return SetError(ctx, a.status());
  if (!b.ok()) return SetError(ctx, b.status());
  Result<Interval> rhs = sqlite3_value_int(argv[2]) < 0 ? NegateInterval(*b) : *b;
  if (!rhs.ok()) return SetError(ctx, rhs.status());
  ResultInterval(ctx, AddIntervals(*a, *rhs));
}

void IvNegFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto a = DecodeStoredInterval(ArgText(argv[0]));
  if (!a.ok()) return SetError(ctx, a.status());
  ResultInterval(ctx, NegateInterval(*a));
}

template <bool kDivide>
void IvScaleFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto a = DecodeStoredInterval(ArgText(argv[0]));
  if (!a.ok()) return SetError(ctx, a.status());
  const double x = sqlite3_value_double(argv[1]);
  ResultInterval(ctx, kDivide ? DivideInterval(*a, x) : MultiplyInterval(*a, x));
}

// sb_ivsum(x): sum(interval), months, days and microseconds each added up
// (22008 past their range), as PostgreSQL's interval_pl. Also a window
// function: a row leaving the frame is subtracted.
struct IvSumState {
  int64_t months, days, micros;  // wide: the range is checked on the result
  int64_t rows;
  bool failed;
};

void IvSumChange(sqlite3_context* ctx, sqlite3_value* arg, int sign) {
  auto* st = static_cast<IvSumState*>(sqlite3_aggregate_context(ctx, sizeof(IvSumState)));
  if (st == nullptr) return sqlite3_result_error_nomem(ctx);
  if (st->failed || sqlite3_value_type(arg) == SQLITE_NULL) return;
  auto iv = DecodeStoredInterval(ArgText(arg));
  if (!iv.ok()) {
    st->failed = true;
    return SetError(ctx, iv.status());
  }
  if (__builtin_add_overflow(st->months, sign * int64_t{iv->months}, &st->months) ||
      __builtin_add_overflow(st->days, sign * int64_t{iv->days}, &st->days) ||
      __builtin_add_overflow(st->micros, sign * iv->micros, &st->micros)) {
    st->failed = true;
    return SetError(ctx, "22008", "interval out of range");
  }
  st->rows += sign;
}

void IvSumStep(sqlite3_context* ctx, int, sqlite3_value** argv) {
  IvSumChange(ctx, argv[0], +1);
}

void IvSumInverse(sqlite3_context* ctx, int, sqlite3_value** argv) {
  IvSumChange(ctx, argv[0], -1);
}

void IvSumValue(sqlite3_context* ctx) {
  auto* st = static_cast<IvSumState*>(sqlite3_aggregate_context(ctx, 0));
  if (st == nullptr || st->rows == 0 || st->failed) return sqlite3_result_null(ctx);
  if (st->months < INT32_MIN || st->months > INT32_MAX || st->days < INT32_MIN ||
      st->days > INT32_MAX) {
    return SetError(ctx, "22008", "interval out of range");
  }
  ResultInterval(
      ctx, Interval{static_cast<int32_t>(st->months), static_cast<int32_t>(st->days), st->micros});
}

// PostgreSQL 15's interval_part_common: the value of `unit` in units of
// 10^-scale (scale as IntervalExtractScale).
Result<int64_t> ExtractScaled(std::string_view unit_text, const Interval& iv) {
  const std::string u = AsciiLower(unit_text);
  const DateUnit unit = DecodeDateUnit(u);
  const int64_t year = iv.months / 12, month = iv.months % 12;
  const int64_t hour = iv.micros / (3600 * kMicrosPerSecond);
  const int64_t minute = iv.micros / (60 * kMicrosPerSecond) % 60;
  const int64_t second_micros = iv.micros % (60 * kMicrosPerSecond);
  switch (unit) {
    case DateUnit::kMicroseconds:
      return second_micros;
    case DateUnit::kMilliseconds:
      return second_micros;  // scale 3: micros / 1000 with 3 decimals
    case DateUnit::kSecond:
      return second_micros;  // scale 6
    case DateUnit::kMinute:
      return minute;
    case DateUnit::kHour:
      return hour;
    case DateUnit::kDay:
      return iv.days;
    case DateUnit::kMonth:
      return month;
    case DateUnit::kQuarter:
      return month / 3 + 1;
    case DateUnit::kYear:
      return year;
    case DateUnit::kDecade:
      return year / 10;
    case DateUnit::kCentury:
      return year / 100;
    case DateUnit::kMillennium:
      return year / 1000;
    case DateUnit::kEpoch: {
      const int64_t secs = 31557600LL * year + 2592000LL * month + 86400LL * iv.days;
      return secs * kMicrosPerSecond + iv.micros;  // scale 6
    }
    default:
      return Status(unit == DateUnit::kUnknown ? "22023" : "0A000",
                    "unit \"" + u + "\" not " +
                        (unit == DateUnit::kUnknown ? "recognized" : "supported") +
                        " for type interval");
  }
}

void IvExtractFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto iv = DecodeStoredInterval(ArgText(argv[1]));
  if (!iv.ok()) return SetError(ctx, iv.status());
  auto v = ExtractScaled(ArgText(argv[0]), *iv);
  if (!v.ok()) return SetError(ctx, v.status());
  sqlite3_result_int64(ctx, *v);
}

void IvPartFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto iv = DecodeStoredInterval(ArgText(argv[1]));
  if (!iv.ok()) return SetError(ctx, iv.status());
  auto v = ExtractScaled(ArgText(argv[0]), *iv);
  if (!v.ok()) return SetError(ctx, v.status());
  const int scale = IntervalExtractScale(ArgText(argv[0]));
  double d = static_cast<double>(*v);
  for (int i = 0; i < scale; ++i) d /= 10;
  sqlite3_result_double(ctx, d);
}

}  // namespace

int IntervalExtractScale(std::string_view unit_text) {
  switch (DecodeDateUnit(AsciiLower(unit_text))) {
    case DateUnit::kSecond:
    case DateUnit::kEpoch:
      return 6;
    case DateUnit::kMilliseconds:
      return 3;
    case DateUnit::kMicroseconds:
    case DateUnit::kMinute:
    case DateUnit::kHour:
    case DateUnit::kDay:
    case DateUnit::kMonth:
    case DateUnit::kQuarter:
    case DateUnit::kYear:
    case DateUnit::kDecade:
    case DateUnit::kCentury:
    case DateUnit::kMillennium:
      return 0;
    default:
      return -1;
  }
}

namespace {

// Collation sb_interval: stored intervals by their span key alone, so that
// '1 mon' and '30 days' are equal under =, GROUP BY and DISTINCT.
int IntervalCollation(void*, int na, const void* a, int nb, const void* b) {
  return CompareIntervalSpans(
      std::string_view(static_cast<const char*>(a), static_cast<size_t>(na)),
      std::string_view(static_cast<const char*>(b), static_cast<size_t>(nb)));
}

}  // namespace

void RegisterIntervalFunctions(sqlite3* db) {
  const int det = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  sqlite3_create_function(db, "sb_ts_add_iv", 3, det, nullptr, TsAddFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_ts_diff", 2, det, nullptr, TsDiffFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_ts_micros", 1, det, nullptr, TsMicrosFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_age", 2, det, nullptr, AgeFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_make_interval", 7, det, nullptr, MakeIntervalFn, nullptr,
                          nullptr);
  sqlite3_create_function(db, "sb_justify", 2, det, nullptr, JustifyFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_iv_add", 3, det, nullptr, IvAddFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_iv_neg", 1, det, nullptr, IvNegFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_iv_mul", 2, det, nullptr, IvScaleFn<false>, nullptr, nullptr);
  sqlite3_create_function(db, "sb_iv_div", 2, det, nullptr, IvScaleFn<true>, nullptr, nullptr);
  sqlite3_create_function(db, "sb_iv_extract", 2, det, nullptr, IvExtractFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_iv_part", 2, det, nullptr, IvPartFn, nullptr, nullptr);
  sqlite3_create_window_function(db, "sb_ivsum", 1, det, nullptr, IvSumStep, IvSumValue, IvSumValue,
                                 IvSumInverse, nullptr);
  sqlite3_create_collation(db, "sb_interval", SQLITE_UTF8, nullptr, IntervalCollation);
}

}  // namespace sb::exec
