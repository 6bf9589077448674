#include "exec/decimal_functions.h"

#include <cmath>
#include <string>

#include "common/decimal.h"
#include "common/decimal_dispersion.h"
#include "exec/merge.h"
#include "exec/sqlite_args.h"

namespace sb::exec {
namespace {

// An integer, or decimal text (a REAL argument goes through its text form).
Result<Decimal> DecimalFromArg(sqlite3_value* v) {
  if (sqlite3_value_type(v) == SQLITE_INTEGER) {
    return Decimal{static_cast<__int128>(sqlite3_value_int64(v)), 0};
  }
  return ParseDecimal(ArgText(v));
}

void DecOpFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  const std::string_view op = ArgText(argv[0]);
  auto a = DecimalFromArg(argv[1]);
  if (!a.ok()) return SetError(ctx, a.status());
  auto b = DecimalFromArg(argv[2]);
  if (!b.ok()) return SetError(ctx, b.status());
  Result<Decimal> r =
      Status("42883", "operator does not exist: numeric " + std::string(op) + " numeric");
  if (op == "+") {
    r = DecimalAdd(*a, *b);
  } else if (op == "-") {
    r = DecimalSub(*a, *b);
  } else if (op == "*") {
    r = DecimalMul(*a, *b);
  } else if (op == "/") {
    r = DecimalDivLikePostgres(*a, *b);
  } else if (op == "%") {
    r = DecimalMod(*a, *b);
  }
  if (!r.ok()) return SetError(ctx, r.status());
  SetText(ctx, FormatDecimal(*r));
}

// abs() keeps the scale; sign() is -1, 0 or 1 (scale 0), as PostgreSQL's numeric_sign.
void DecUnaryFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  const std::string_view fn = ArgText(argv[0]);
  auto d = DecimalFromArg(argv[1]);
  if (!d.ok()) return SetError(ctx, d.status());
  if (fn == "abs") {
    if (d->unscaled < 0) d->unscaled = -d->unscaled;
    return SetText(ctx, FormatDecimal(*d));
  }
  if (fn == "sign") return sqlite3_result_int(ctx, d->unscaled < 0 ? -1 : d->unscaled > 0 ? 1 : 0);
  SetError(ctx, "42883", "function " + std::string(fn) + "(numeric) does not exist");
}

// sb_numvar(count, sum, sum_of_squares, kind): var_samp/var_pop/stddev_samp/
// stddev_pop of integers or numeric, exactly (common/decimal_dispersion.h).
void NumVarFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  const int64_t count = sqlite3_value_int64(argv[0]);
  auto kind = DispersionFromName(ArgText(argv[3]));
  if (!kind) return SetError(ctx, "42883", "unknown dispersion " + std::string(ArgText(argv[3])));
  if (count == 0 || sqlite3_value_type(argv[1]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  auto r = NumericDispersion(count, ArgText(argv[1]), ArgText(argv[2]), *kind);
  if (!r.ok()) return SetError(ctx, r.status());
  if (!r->has_value()) return sqlite3_result_null(ctx);
  SetText(ctx, **r);
}

// sb_fltvar(count, sum, sum_of_squares, kind): the same over double
// precision, in long double; a numerator below zero (rounding) is 0.
void FloatVarFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  const int64_t count = sqlite3_value_int64(argv[0]);
  auto kind = DispersionFromName(ArgText(argv[3]));
  if (!kind) return SetError(ctx, "42883", "unknown dispersion " + std::string(ArgText(argv[3])));
  const bool sample = *kind == Dispersion::kVarSamp || *kind == Dispersion::kStddevSamp;
  if (count == 0 || (sample && count == 1)) return sqlite3_result_null(ctx);
  const long double n = static_cast<long double>(count);
  const long double sum = sqlite3_value_double(argv[1]);
  const long double squares = sqlite3_value_double(argv[2]);
  long double numerator = n * squares - sum * sum;
  if (numerator < 0) numerator = 0;
  long double v = numerator / (n * (sample ? n - 1 : n));
  if (*kind == Dispersion::kStddevSamp || *kind == Dispersion::kStddevPop) v = std::sqrt(v);
  sqlite3_result_double(ctx, static_cast<double>(v));
}

// sum(): the total at the largest scale seen so far.
struct DecSumState {
  AggregateInt128 total;
  int64_t rows;
  int scale;
  bool failed;
};

// The window form also counts the rows of each scale in the frame, so the
// result scale can shrink again when the widest value leaves.
inline constexpr int kWindowMaxScale = 63;
struct DecSumWindowState {
  DecSumState sum;
  int64_t rows_with_scale[kWindowMaxScale + 1];
};

void SumOverflow(sqlite3_context* ctx, DecSumState* st) {
  st->failed = true;
  SetError(ctx, "22003", "numeric value out of range in sum");
}

// Adds (sign +1) or removes (-1) one value; false once the sum has failed.
bool Accumulate(sqlite3_context* ctx, DecSumState* st, sqlite3_value* arg, int sign,
                int* value_scale) {
  auto d = DecimalFromArg(arg);
  if (!d.ok()) {
    st->failed = true;
    SetError(ctx, d.status());
    return false;
  }
  if (d->scale > st->scale) {
    auto widened = Rescale(Decimal{st->total, st->scale}, d->scale);
    if (!widened.ok()) {
      SumOverflow(ctx, st);
      return false;
    }
    st->total = widened->unscaled;
    st->scale = d->scale;
  }
  auto v = Rescale(*d, st->scale);
  __int128 delta = v.ok() ? (sign > 0 ? v->unscaled : -v->unscaled) : 0;
  __int128 total = 0;
  if (!v.ok() || __builtin_add_overflow(static_cast<__int128>(st->total), delta, &total)) {
    SumOverflow(ctx, st);
    return false;
  }
  st->total = total;
  st->rows += sign;
  *value_scale = d->scale;
  return true;
}

void DecSumStep(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* st = static_cast<DecSumState*>(sqlite3_aggregate_context(ctx, sizeof(DecSumState)));
  if (st == nullptr) return sqlite3_result_error_nomem(ctx);
  if (st->failed || sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  int scale = 0;
  Accumulate(ctx, st, argv[0], +1, &scale);
}

void ResultSum(sqlite3_context* ctx, const DecSumState* st, int display_scale) {
  if (st == nullptr || st->failed || st->rows == 0) return sqlite3_result_null(ctx);
  // Rows wider than display_scale have left the frame, so the digits dropped
  // here are zeros.
  auto shown = Rescale(Decimal{st->total, st->scale}, display_scale);
  if (!shown.ok()) return SetError(ctx, shown.status());
  SetText(ctx, FormatDecimal(*shown));
}

void DecSumFinal(sqlite3_context* ctx) {
  auto* st = static_cast<DecSumState*>(sqlite3_aggregate_context(ctx, 0));
  ResultSum(ctx, st, st == nullptr ? 0 : st->scale);
}

void DecSumWindowChange(sqlite3_context* ctx, sqlite3_value* arg, int sign) {
  auto* st =
      static_cast<DecSumWindowState*>(sqlite3_aggregate_context(ctx, sizeof(DecSumWindowState)));
  if (st == nullptr) return sqlite3_result_error_nomem(ctx);
  if (st->sum.failed || sqlite3_value_type(arg) == SQLITE_NULL) return;
  int scale = 0;
  if (!Accumulate(ctx, &st->sum, arg, sign, &scale)) return;
  if (scale > kWindowMaxScale) {
    st->sum.failed = true;
    return SetError(ctx, "0A000",
                    "sum() over a window of numeric values with more than 63 fraction digits is "
                    "not supported");
  }
  st->rows_with_scale[scale] += sign;
}

void DecSumWindowStep(sqlite3_context* ctx, int, sqlite3_value** argv) {
  DecSumWindowChange(ctx, argv[0], +1);
}

void DecSumWindowInverse(sqlite3_context* ctx, int, sqlite3_value** argv) {
  DecSumWindowChange(ctx, argv[0], -1);
}

void DecSumWindowValue(sqlite3_context* ctx) {
  auto* st = static_cast<DecSumWindowState*>(sqlite3_aggregate_context(ctx, 0));
  if (st == nullptr) return sqlite3_result_null(ctx);
  int display_scale = 0;
  for (int s = kWindowMaxScale; s > 0; --s) {
    if (st->rows_with_scale[s] > 0) {
      display_scale = s;
      break;
    }
  }
  ResultSum(ctx, &st->sum, display_scale);
}

// GREATEST/LEAST over decimal text: NULLs ignored, NULL only if all are;
// among equal values the first wins ('1.5' before '1.50'), as in PostgreSQL.
void DecExtremeFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  const bool greatest = sqlite3_user_data(ctx) != nullptr;
  sqlite3_value* best = nullptr;
  for (int i = 0; i < argc; ++i) {
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) continue;
    if (best != nullptr) {
      const int c = CompareDecimalText(ArgText(best), ArgText(argv[i]));
      if (greatest ? c >= 0 : c <= 0) continue;
    }
    best = argv[i];
  }
  if (best == nullptr) return sqlite3_result_null(ctx);
  sqlite3_result_value(ctx, best);
}

}  // namespace

void RegisterDecimalFunctions(sqlite3* db) {
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  sqlite3_create_function(db, "sb_decop", 3, flags, nullptr, DecOpFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_decfn", 2, flags, nullptr, DecUnaryFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_numvar", 4, flags, nullptr, NumVarFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_fltvar", 4, flags, nullptr, FloatVarFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_decsum", 1, flags, nullptr, nullptr, DecSumStep, DecSumFinal);
  sqlite3_create_window_function(db, "sb_decsum_w", 1, flags, nullptr, DecSumWindowStep,
                                 DecSumWindowValue, DecSumWindowValue, DecSumWindowInverse,
                                 nullptr);
  static int greatest_marker = 1;
  sqlite3_create_function(db, "sb_greatest_dec", -1, flags, &greatest_marker, DecExtremeFn, nullptr,
                          nullptr);
  sqlite3_create_function(db, "sb_least_dec", -1, flags, nullptr, DecExtremeFn, nullptr, nullptr);
}

}  // namespace sb::exec
