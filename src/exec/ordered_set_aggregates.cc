#include "exec/ordered_set_aggregates.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "exec/merge.h"
#include "exec/sql_functions.h"
#include "exec/sqlite_args.h"
#include "storage/sqlite_value.h"

namespace sb::exec {
namespace {

struct OrderedSet {
  std::string kind;
  std::optional<double> fraction;  // nullopt: NULL
  bool fraction_seen = false;
  SortKey key;
  std::vector<Row> values;  // one-column rows, for CompareRows
};

struct OrderedSetState {
  OrderedSet* set;  // owned; freed by the final call
};

void OrderedSetStep(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* st = static_cast<OrderedSetState*>(sqlite3_aggregate_context(ctx, sizeof(OrderedSetState)));
  if (st == nullptr) return sqlite3_result_error_nomem(ctx);
  if (st->set == nullptr) {
    st->set = new OrderedSet;
    st->set->kind = std::string(ArgText(argv[0]));
    const int64_t flags = sqlite3_value_int64(argv[3]);
    st->set->key.column = 0;
    st->set->key.descending = (flags & kOrderedAggDescending) != 0;
    st->set->key.decimal_text = (flags & kOrderedAggDecimalText) != 0;
    st->set->key.interval_span = (flags & kOrderedAggInterval) != 0;
  }
  OrderedSet& set = *st->set;
  if (!set.fraction_seen && set.kind != "mode") {
    // The fraction is the same for the whole group (PostgreSQL evaluates it once).
    set.fraction_seen = true;
    if (sqlite3_value_type(argv[1]) != SQLITE_NULL) set.fraction = sqlite3_value_double(argv[1]);
  }
  if (sqlite3_value_type(argv[2]) == SQLITE_NULL) return;
  set.values.push_back(Row{storage::ValueFromSqlite(argv[2])});
}

void OrderedSetFinal(sqlite3_context* ctx) {
  auto* st = static_cast<OrderedSetState*>(sqlite3_aggregate_context(ctx, 0));
  if (st == nullptr || st->set == nullptr) return sqlite3_result_null(ctx);
  std::unique_ptr<OrderedSet> set(st->set);
  st->set = nullptr;
  if (set->kind != "mode") {
    if (!set->fraction) return sqlite3_result_null(ctx);
    const double f = *set->fraction;
    if (!(f >= 0 && f <= 1)) {
      return SetError(ctx, "22003", fmt::format("percentile value {} is not between 0 and 1", f));
    }
  }
  if (set->values.empty()) return sqlite3_result_null(ctx);
  const std::vector<SortKey> keys{set->key};
  std::stable_sort(set->values.begin(), set->values.end(),
                   [&](const Row& a, const Row& b) { return CompareRows(a, b, keys) < 0; });
  const auto& v = set->values;
  const size_t n = v.size();
  auto result = [&](const Value& value) {
    const Value* p = &value;
    if (const auto* i = std::get_if<int64_t>(p)) return sqlite3_result_int64(ctx, *i);
    if (const auto* d = std::get_if<double>(p)) return sqlite3_result_double(ctx, *d);
    if (const auto* s = std::get_if<std::string>(p)) return SetText(ctx, *s);
    if (const auto* b = std::get_if<Blob>(p)) {
      return sqlite3_result_blob(ctx, b->bytes.data(), static_cast<int>(b->bytes.size()),
                                 SQLITE_TRANSIENT);
    }
    sqlite3_result_null(ctx);
  };
  if (set->kind == "disc") {
    // The first row whose cumulative share of the group reaches the fraction.
    const double want = *set->fraction * static_cast<double>(n);
    size_t idx = want <= 1 ? 0 : static_cast<size_t>(std::ceil(want)) - 1;
    return result(v[std::min(idx, n - 1)][0]);
  }
  if (set->kind == "cont") {
    auto number = [](const Value& x) {
      if (const auto* i = std::get_if<int64_t>(&x)) return static_cast<double>(*i);
      if (const auto* d = std::get_if<double>(&x)) return *d;
      return 0.0;
    };
    const double pos = *set->fraction * static_cast<double>(n - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = static_cast<size_t>(std::ceil(pos));
    const double a = number(v[lo][0]), b = number(v[hi][0]);
    return sqlite3_result_double(ctx, lo == hi ? a : a + (pos - static_cast<double>(lo)) * (b - a));
  }
  if (set->kind == "mode") {
    size_t best = 0, best_count = 0;
    for (size_t i = 0; i < n;) {
      size_t j = i;
      while (j < n && CompareRows(v[i], v[j], keys) == 0) ++j;
      if (j - i > best_count) {
        best = i;
        best_count = j - i;
      }
      i = j;
    }
    return result(v[best][0]);
  }
  SetError(ctx, "42883", "unknown ordered-set aggregate " + set->kind);
}

}  // namespace

void RegisterOrderedSetAggregates(sqlite3* db) {
  sqlite3_create_function(db, "sb_ordered_set", 4, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                          nullptr, OrderedSetStep, OrderedSetFinal);
}

}  // namespace sb::exec
