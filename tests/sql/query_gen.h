// A small random query generator over the dataset's fixed schema. Each query is
// built once, as a tree of expressions that know how to spell themselves in
// PostgreSQL (for the cluster) and in SQLite (for the oracle), and is fully
// determined by the seed.
//
// It only generates queries whose answer is exactly defined in both engines:
// ORDER BY always ends with a unique key (so LIMIT/OFFSET pick the same rows),
// GROUP BY and DISTINCT keys are expressions the oracle computes exactly, no
// division by columns (PostgreSQL raises 22012 where SQLite returns NULL), no
// arithmetic that could overflow, and no construct the cluster deliberately
// refuses with 0A000 (comparing unconstrained numeric, COUNT(DISTINCT) of a
// non-shard-key column across shards, min/max of boolean, joins, subqueries).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "dataset.h"
#include "diff_harness.h"

namespace sbtest {

class QueryGen {
 public:
  QueryGen(uint64_t seed, const Dataset* ds);
  DiffQuery Next();

 private:
  enum class T { kInt, kNum, kNumFree, kFloat, kText, kBool, kDate, kUuid };
  struct E {
    std::string pg, lite;
    T type = T::kInt;
    int scale = 0;      // kNum
    bool exact = true;  // the oracle computes exactly the same value (sortable, groupable)
    bool is_column = false;
    bool agg = false;
  };

  uint64_t Below(uint64_t n) { return rng_() % n; }
  bool Pct(int p) { return Below(100) < static_cast<uint64_t>(p); }
  template <typename V>
  const V& Pick(const std::vector<V>& v) {
    return v[Below(v.size())];
  }

  // Expressions.
  std::vector<const ColumnSpec*> Columns(std::initializer_list<CType> types) const;
  E Column(const ColumnSpec& c) const;
  E Lit(T type, int scale = 2);
  E ValueLit(const ColumnSpec& c);  // a value present in the column (or a near miss)
  E IntExpr(int depth);
  E NumExpr(int depth);
  E FloatExpr(int depth);
  E TextExpr(int depth);
  E DateExpr(int depth);
  E Pred(int depth);
  E Compare(int depth);
  E Projection();
  E GroupKey();
  E Aggregate(bool one_place);
  E HavingPred(const std::vector<E>& aggs, const std::vector<E>& keys, int depth);
  E Bin(const E& a, const std::string& op, const E& b, T type) const;
  std::string OrderItem(const std::string& pg_expr, const std::string& lite_expr,
                        std::string* lite_out);

  DiffQuery PlainQuery(const std::string& where_pg, const std::string& where_lite);
  DiffQuery AggregateQuery(const std::string& where_pg, const std::string& where_lite,
                           bool one_place, bool scalar);
  DiffQuery DistinctQuery(const std::string& where_pg, const std::string& where_lite);

  std::mt19937_64 rng_;
  const Dataset* ds_;
  const TableSpec* table_ = nullptr;
  std::vector<Param> params_;
  int counter_ = 0;
};

}  // namespace sbtest
