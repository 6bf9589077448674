#include "exec/sql_functions.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "common/decimal.h"
#include "common/sql_type.h"
#include "common/value_codec.h"
#include "exec/decimal_functions.h"
#include "exec/interval_functions.h"
#include "exec/merge.h"
#include "exec/ordered_set_aggregates.h"
#include "exec/pg_functions.h"
#include "exec/sqlite_args.h"
#include "storage/sqlite_value.h"

namespace sb::exec {
namespace {

thread_local const StatementContext* tls_context = nullptr;

void ToSqlite(sqlite3_context* ctx, const Value& v) {
  if (auto* i = std::get_if<int64_t>(&v)) {
    sqlite3_result_int64(ctx, *i);
  } else if (auto* d = std::get_if<double>(&v)) {
    sqlite3_result_double(ctx, *d);
  } else if (auto* s = std::get_if<std::string>(&v)) {
    sqlite3_result_text(ctx, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
  } else if (auto* b = std::get_if<Blob>(&v)) {
    sqlite3_result_blob(ctx, b->bytes.data(), static_cast<int>(b->bytes.size()), SQLITE_TRANSIENT);
  } else {
    sqlite3_result_null(ctx);
  }
}

// sb_cast(value, from_type_code, to_type_code)
void CastFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  SqlType from = TypeFromCode(sqlite3_value_int64(argv[1]));
  SqlType to = TypeFromCode(sqlite3_value_int64(argv[2]));
  auto r = CastValue(storage::ValueFromSqlite(argv[0]), from, to);
  if (!r.ok()) return SetError(ctx, r.status().code(), r.status().message());
  ToSqlite(ctx, *r);
}

bool IsInt(sqlite3_value* v) {
  return sqlite3_value_type(v) == SQLITE_INTEGER;
}

// sb_div(a, b): integer division truncating toward zero, or float division;
// division by zero is an error as in PostgreSQL (SQLite returns NULL).
void DivFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  if (IsInt(argv[0]) && IsInt(argv[1])) {
    int64_t a = sqlite3_value_int64(argv[0]), b = sqlite3_value_int64(argv[1]);
    if (b == 0) return SetError(ctx, "22012", "division by zero");
    if (a == std::numeric_limits<int64_t>::min() && b == -1) {
      return SetError(ctx, "22003", "bigint out of range");
    }
    return sqlite3_result_int64(ctx, a / b);
  }
  double b = sqlite3_value_double(argv[1]);
  if (b == 0) return SetError(ctx, "22012", "division by zero");
  sqlite3_result_double(ctx, sqlite3_value_double(argv[0]) / b);
}

void ModFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  int64_t a = sqlite3_value_int64(argv[0]), b = sqlite3_value_int64(argv[1]);
  if (b == 0) return SetError(ctx, "22012", "division by zero");
  if (b == -1) return sqlite3_result_int64(ctx, 0);
  sqlite3_result_int64(ctx, a % b);
}

// sb_mul(a, b): integer multiplication that fails on overflow instead of
// silently turning into a float as SQLite does.
void MulFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  if (IsInt(argv[0]) && IsInt(argv[1])) {
    int64_t r;
    if (__builtin_mul_overflow(sqlite3_value_int64(argv[0]), sqlite3_value_int64(argv[1]), &r)) {
      return SetError(ctx, "22003", "value out of range: overflow");
    }
    return sqlite3_result_int64(ctx, r);
  }
  sqlite3_result_double(ctx, sqlite3_value_double(argv[0]) * sqlite3_value_double(argv[1]));
}

// sb_iarith(op, a, b, bits): integer + - * with PostgreSQL's overflow errors
// for the result type (smallint, integer or bigint).
void IntArithFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  const char op = static_cast<char>(sqlite3_value_text(argv[0])[0]);
  const int bits = sqlite3_value_int(argv[3]);
  if (!IsInt(argv[1]) || !IsInt(argv[2])) {
    double a = sqlite3_value_double(argv[1]), b = sqlite3_value_double(argv[2]);
    return sqlite3_result_double(ctx, op == '+' ? a + b : op == '-' ? a - b : a * b);
  }
  int64_t a = sqlite3_value_int64(argv[1]), b = sqlite3_value_int64(argv[2]), r = 0;
  bool overflow = op == '+'   ? __builtin_add_overflow(a, b, &r)
                  : op == '-' ? __builtin_sub_overflow(a, b, &r)
                              : __builtin_mul_overflow(a, b, &r);
  if (bits == 16) overflow = overflow || r < -32768 || r > 32767;
  if (bits == 32) overflow = overflow || r < INT32_MIN || r > INT32_MAX;
  if (overflow) {
    return SetError(ctx, "22003",
                    bits == 16   ? "smallint out of range"
                    : bits == 32 ? "integer out of range"
                                 : "bigint out of range");
  }
  sqlite3_result_int64(ctx, r);
}

Decimal DecimalArg(sqlite3_value* v, int scale) {
  Decimal d;
  d.unscaled = static_cast<__int128>(sqlite3_value_int64(v));
  d.scale = scale;
  return d;
}

// sb_numdiv(a, a_scale, b, b_scale): exact numeric division as PostgreSQL,
// returning the decimal text (unconstrained numeric).
void NumDivFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto r = DecimalDivLikePostgres(DecimalArg(argv[0], sqlite3_value_int(argv[1])),
                                  DecimalArg(argv[2], sqlite3_value_int(argv[3])));
  if (!r.ok()) return SetError(ctx, r.status().code(), r.status().message());
  std::string s = FormatDecimal(*r);
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

// sb_numavg(sum, count, scale): avg(integer or numeric) = sum / count with
// PostgreSQL's result scale; NULL when count is 0.
void NumAvgFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL ||
      sqlite3_value_int64(argv[1]) == 0) {
    return sqlite3_result_null(ctx);
  }
  Decimal sum;
  if (sqlite3_value_type(argv[0]) == SQLITE_INTEGER) {
    sum = DecimalArg(argv[0], sqlite3_value_int(argv[2]));
  } else if (sqlite3_value_type(argv[0]) == SQLITE_TEXT) {  // a wide sb_sumi() result
    auto d = ParseDecimal(reinterpret_cast<const char*>(sqlite3_value_text(argv[0])));
    if (!d.ok()) return SetError(ctx, d.status().code(), d.status().message());
    sum = *d;
    sum.scale = sqlite3_value_int(argv[2]);
  } else {
    return SetError(ctx, "22003", "numeric sum out of range");
  }
  auto r = DecimalDivLikePostgres(sum, DecimalArg(argv[1], 0));
  if (!r.ok()) return SetError(ctx, r.status().code(), r.status().message());
  std::string s = FormatDecimal(*r);
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

// Collation sb_decimal: unconstrained numeric values (decimal text) by value.
int DecimalCollation(void*, int na, const void* a, int nb, const void* b) {
  return CompareDecimalText(std::string_view(static_cast<const char*>(a), static_cast<size_t>(na)),
                            std::string_view(static_cast<const char*>(b), static_cast<size_t>(nb)));
}

// sb_numcmp(a, a_scale, b): -1/0/1 comparing the scaled numeric a with b, a
// decimal text (unconstrained numeric) or an integer, exactly.
void NumCmpFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  if (!IsInt(argv[0])) return SetError(ctx, "22003", "numeric value out of range");
  Decimal a = DecimalArg(argv[0], sqlite3_value_int(argv[1]));
  Decimal b;
  if (IsInt(argv[2])) {
    b = DecimalArg(argv[2], 0);
  } else {
    auto d = ParseDecimal(reinterpret_cast<const char*>(sqlite3_value_text(argv[2])));
    if (!d.ok()) return SetError(ctx, d.status().code(), d.status().message());
    b = *d;
  }
  sqlite3_result_int(ctx, CompareDecimal(a, b));
}

// sb_sumi(x): exact sum of integers (or of earlier sb_sumi results) in 128
// bits; int64 when it fits, decimal text beyond. Also a window function
// (sum(bigint) OVER ...): xInverse takes a row back out of the frame.
struct SumState {
  AggregateInt128 total;
  int64_t rows;  // non-NULL inputs in the sum (the frame, for a window)
  bool failed;
};

// The input as a 128-bit integer; false (with the error reported) if it is
// not an integer.
bool SumiInput(sqlite3_context* ctx, SumState* st, sqlite3_value* arg, __int128* v) {
  switch (sqlite3_value_type(arg)) {
    case SQLITE_INTEGER:
      *v = sqlite3_value_int64(arg);
      return true;
    case SQLITE_TEXT: {
      auto d = ParseDecimal(reinterpret_cast<const char*>(sqlite3_value_text(arg)));
      if (!d.ok() || d->scale != 0) {
        st->failed = true;
        SetError(ctx, "22003", "numeric value out of range in sum");
        return false;
      }
      *v = d->unscaled;
      return true;
    }
    default:
      st->failed = true;
      SetError(ctx, "42804", "sum of a non-integer value");
      return false;
  }
}

void SumiStep(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* st = static_cast<SumState*>(sqlite3_aggregate_context(ctx, sizeof(SumState)));
  if (st == nullptr || st->failed || sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  __int128 v = 0;
  if (!SumiInput(ctx, st, argv[0], &v)) return;
  __int128 total = 0;
  if (__builtin_add_overflow(static_cast<__int128>(st->total), v, &total)) {
    st->failed = true;
    return SetError(ctx, "22003", "numeric value out of range in sum");
  }
  st->total = total;
  ++st->rows;
}

void SumiInverse(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* st = static_cast<SumState*>(sqlite3_aggregate_context(ctx, sizeof(SumState)));
  if (st == nullptr || st->failed || sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  __int128 v = 0;
  if (!SumiInput(ctx, st, argv[0], &v)) return;
  // The row was added before, so taking it out returns to a reachable total.
  st->total -= v;
  --st->rows;
}

void SumiValue(sqlite3_context* ctx) {
  auto* st = static_cast<SumState*>(sqlite3_aggregate_context(ctx, 0));
  if (st == nullptr || st->rows == 0 || st->failed) return sqlite3_result_null(ctx);
  if (st->total >= INT64_MIN && st->total <= INT64_MAX) {
    return sqlite3_result_int64(ctx, static_cast<int64_t>(st->total));
  }
  std::string s = FormatDecimal(Decimal{st->total, 0});
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

// sb_string_agg(value, delimiter, key, flags, ...): string_agg with ORDER BY
// (sb_string_agg_distinct: with DISTINCT as well).
// The rows are kept until the end and sorted there with the coordinator
// merge's order (CompareRows), so the order holds on a shard and at the
// coordinator alike.
struct OrderedRows {
  std::vector<SortKey> keys;
  std::vector<Row> rows;  // value, delimiter, keys...
};

struct OrderedAggState {
  OrderedRows* rows;  // owned; freed by the final call
};

void OrderedStringAggStep(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto* st = static_cast<OrderedAggState*>(sqlite3_aggregate_context(ctx, sizeof(OrderedAggState)));
  if (st == nullptr) return sqlite3_result_error_nomem(ctx);
  if (argc < 4 || argc % 2 != 0) {
    return SetError(ctx, "42883", "sb_string_agg needs value, delimiter and key/flags pairs");
  }
  if (st->rows == nullptr) {
    st->rows = new OrderedRows;
    for (int i = 2; i < argc; i += 2) {
      const int64_t flags = sqlite3_value_int64(argv[i + 1]);
      SortKey k;
      k.column = i;
      k.descending = (flags & kOrderedAggDescending) != 0;
      k.nulls_first = (flags & kOrderedAggNullsFirst) != 0;
      k.decimal_text = (flags & kOrderedAggDecimalText) != 0;
      k.interval_span = (flags & kOrderedAggInterval) != 0;
      st->rows->keys.push_back(k);
    }
  }
  Row row;
  row.reserve(static_cast<size_t>(argc));
  for (int i = 0; i < argc; ++i) {
    // The flags columns stay NULL: only keys and the two values are read.
    const bool flags_column = i >= 3 && i % 2 == 1;
    row.push_back(flags_column ? Value() : storage::ValueFromSqlite(argv[i]));
  }
  st->rows->rows.push_back(std::move(row));
}

void OrderedStringAggFinal(sqlite3_context* ctx) {
  auto* st = static_cast<OrderedAggState*>(sqlite3_aggregate_context(ctx, 0));
  if (st == nullptr || st->rows == nullptr) return sqlite3_result_null(ctx);
  std::unique_ptr<OrderedRows> owned(st->rows);
  st->rows = nullptr;
  std::stable_sort(owned->rows.begin(), owned->rows.end(),
                   [&](const Row& a, const Row& b) { return CompareRows(a, b, owned->keys) < 0; });
  // sb_string_agg_distinct: the keys end with the value and the delimiter,
  // so equal rows are adjacent.
  const bool distinct = sqlite3_user_data(ctx) != nullptr;
  std::string out;
  bool any = false;
  const Row* previous = nullptr;
  for (const Row& r : owned->rows) {
    const auto* value = std::get_if<std::string>(&r[0]);
    if (value == nullptr) continue;  // NULL values are skipped, with their delimiter
    const bool repeat =
        distinct && previous != nullptr && (*previous)[0] == r[0] && (*previous)[1] == r[1];
    previous = &r;
    if (repeat) continue;
    if (any) {
      if (const auto* sep = std::get_if<std::string>(&r[1])) out += *sep;
    }
    out += *value;
    any = true;
  }
  if (!any) return sqlite3_result_null(ctx);
  sqlite3_result_text(ctx, out.data(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

// sb_single(x): the value of a scalar subquery's only row (NULL for none);
// a second row is PostgreSQL's error 21000 rather than SQLite's silent
// choice of the first.
struct SingleState {
  sqlite3_value* value;
  int64_t rows;
};

void SingleStep(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* st = static_cast<SingleState*>(sqlite3_aggregate_context(ctx, sizeof(SingleState)));
  if (st == nullptr) return sqlite3_result_error_nomem(ctx);
  if (++st->rows == 2) {
    return SetError(ctx, "21000", "more than one row returned by a subquery used as an expression");
  }
  if (st->rows == 1) st->value = sqlite3_value_dup(argv[0]);
}

void SingleFinal(sqlite3_context* ctx) {
  auto* st = static_cast<SingleState*>(sqlite3_aggregate_context(ctx, 0));
  if (st == nullptr || st->value == nullptr) return sqlite3_result_null(ctx);
  if (st->rows == 1) sqlite3_result_value(ctx, st->value);
  sqlite3_value_free(st->value);
  st->value = nullptr;
}

void SettingFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const char* name = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  if (tls_context == nullptr || name == nullptr) return sqlite3_result_null(ctx);
  auto it = tls_context->values.find(name);
  if (it == tls_context->values.end()) {
    return SetError(ctx, "42704",
                    std::string("unrecognized configuration parameter \"") + name + "\"");
  }
  sqlite3_result_text(ctx, it->second.data(), static_cast<int>(it->second.size()),
                      SQLITE_TRANSIENT);
}

}  // namespace

int64_t TypeCode(const SqlType& t) {
  return static_cast<int64_t>(t.id) * 1000000 + static_cast<int64_t>(t.precision + 1) * 1000 +
         t.scale;
}

SqlType TypeFromCode(int64_t code) {
  SqlType t;
  t.id = static_cast<TypeId>(code / 1000000);
  t.precision = static_cast<int>((code / 1000) % 1000) - 1;
  t.scale = static_cast<int>(code % 1000);
  return t;
}

StatementContextScope::StatementContextScope(const StatementContext* ctx) : previous_(tls_context) {
  tls_context = ctx;
}
StatementContextScope::~StatementContextScope() {
  tls_context = previous_;
}

const StatementContext* CurrentStatementContext() {
  return tls_context;
}

void RegisterSqlFunctions(sqlite3* db) {
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  sqlite3_create_function(db, "sb_cast", 3, flags, nullptr, CastFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_div", 2, flags, nullptr, DivFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_mod", 2, flags, nullptr, ModFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_mul", 2, flags, nullptr, MulFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_iarith", 4, flags, nullptr, IntArithFn, nullptr, nullptr);
  sqlite3_create_window_function(db, "sb_sumi", 1, flags, nullptr, SumiStep, SumiValue, SumiValue,
                                 SumiInverse, nullptr);
  sqlite3_create_function(db, "sb_string_agg", -1, flags, nullptr, nullptr, OrderedStringAggStep,
                          OrderedStringAggFinal);
  static int distinct_marker = 1;
  sqlite3_create_function(db, "sb_string_agg_distinct", -1, flags, &distinct_marker, nullptr,
                          OrderedStringAggStep, OrderedStringAggFinal);
  sqlite3_create_function(db, "sb_single", 1, flags, nullptr, nullptr, SingleStep, SingleFinal);
  sqlite3_create_function(db, "sb_numdiv", 4, flags, nullptr, NumDivFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_numavg", 3, flags, nullptr, NumAvgFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_numcmp", 3, flags, nullptr, NumCmpFn, nullptr, nullptr);
  sqlite3_create_function(db, "sb_setting", 1, SQLITE_UTF8, nullptr, SettingFn, nullptr, nullptr);
  sqlite3_create_collation(db, "sb_decimal", SQLITE_UTF8, nullptr, DecimalCollation);
  RegisterPgFunctions(db);
  RegisterIntervalFunctions(db);
  RegisterDecimalFunctions(db);
  RegisterOrderedSetAggregates(db);
  // PostgreSQL's LIKE is case-sensitive; SQLite's is not by default.
  sqlite3_exec(db, "PRAGMA case_sensitive_like = ON", nullptr, nullptr, nullptr);
}

bool SplitSqlstatePrefix(const std::string& message, std::string* code, std::string* text) {
  size_t p = message.find("sb:");
  if (p == std::string::npos || message.size() < p + 9 || message[p + 8] != ':') return false;
  *code = message.substr(p + 3, 5);
  *text = message.substr(p + 9);
  return true;
}

}  // namespace sb::exec
