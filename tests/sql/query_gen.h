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
// non-shard-key column across shards, min/max of boolean).
//
// Besides single-table queries it generates joins between the dataset's
// tables (co-located on customer_id, with a REPLICATED table, and on columns
// that are not the shard key; INNER and LEFT, some RIGHT and FULL, ON and
// USING, extra ON conditions), uncorrelated IN / EXISTS / scalar subqueries
// and subqueries in FROM. Those carry a category other than "single": the
// cluster may refuse them with 0A000 until it supports them.
//
// Queries are kept as clauses (QuerySpec) so that a failing one can be
// shrunk clause by clause, and as ternary-logic-partitioning cases (TlpCase)
// that need no second engine.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataset.h"
#include "diff_harness.h"

namespace sbtest {

// A piece of SQL in both dialects, with simpler replacements (the operands of
// AND / OR / NOT, or a join without its extra ON condition) for shrinking.
struct Piece {
  std::string pg, lite;
  std::vector<Piece> simpler;
};

// The category of a query with no join and no subquery: it must always run.
inline constexpr const char* kSingleTable = "single";

// One SELECT as clauses. WHERE and HAVING are ANDed lists.
struct QuerySpec {
  std::string label;
  std::string category = kSingleTable;
  bool distinct = false;
  std::vector<Piece> select;
  Piece from;
  std::vector<Piece> where;
  std::vector<Piece> group_by;
  std::vector<Piece> having;
  std::vector<Piece> order_by;
  std::string limit_pg, limit_lite;
  bool ordered = false;  // ORDER BY fully determines the row order
  std::vector<Param> params;

  DiffQuery Render() const;
};

// Ternary logic partitioning: for a base query and a predicate p, the rows of
// the base query are the multiset union of the rows of the base query
// restricted by p, by NOT p and by p IS NULL, all run on the cluster.
struct TlpCase {
  enum class Kind {
    kWhere,      // p in WHERE; rows: multiset union
    kAggregate,  // p in WHERE; [GROUP BY keys] aggregates re-combined per group
    kDistinct,   // p in WHERE; SELECT DISTINCT: set union
    kGroupKeys,  // p in WHERE; GROUP BY keys without aggregates: set union
    kHaving,     // p in HAVING; groups: multiset union
  };
  enum class Combine { kSum, kMin, kMax, kAnd, kOr };
  Kind kind = Kind::kWhere;
  std::string label;
  QuerySpec base;  // without p
  Piece p;
  int n_keys = 0;                // kAggregate: the leading group-key columns
  std::vector<Combine> combine;  // kAggregate: one per column after the keys

  // The base query and its three partitions (p, NOT p, p IS NULL).
  QuerySpec Partition(int which) const;
  static const char* KindName(Kind k);
};

class QueryGen {
 public:
  QueryGen(uint64_t seed, const Dataset* ds);
  // The next differential query: single-table, join or subquery.
  QuerySpec NextSpec();
  DiffQuery Next() { return NextSpec().Render(); }
  // The next TLP case (single-table or join base).
  TlpCase NextTlp();
  // Percent of NextSpec() queries that are joins, subqueries in WHERE or the
  // select list, and subqueries in FROM.
  void set_mix(int join_percent, int subquery_percent, int derived_percent = 5) {
    join_pct_ = join_percent;
    subquery_pct_ = subquery_percent;
    derived_pct_ = derived_percent;
  }

 private:
  enum class T { kInt, kNum, kNumFree, kFloat, kText, kBool, kDate, kUuid };
  struct E {
    std::string pg, lite;
    T type = T::kInt;
    int scale = 0;      // kNum
    bool exact = true;  // the oracle computes exactly the same value (sortable, groupable)
    bool is_column = false;
    bool agg = false;
    std::vector<E> kids{};  // operands of AND / OR / NOT, for shrinking
  };
  struct Source {
    const TableSpec* table;
    std::string alias;
  };

  uint64_t Below(uint64_t n) { return rng_() % n; }
  bool Pct(int p) { return Below(100) < static_cast<uint64_t>(p); }
  template <typename V>
  const V& Pick(const std::vector<V>& v) {
    return v[Below(v.size())];
  }
  static Piece ToPiece(const E& e);

  // Scope: the tables of the FROM clause being generated.
  bool Qualified() const { return scope_.size() > 1 || qualify_; }
  const Source& OwnerOf(const ColumnSpec& c) const;
  std::vector<std::string> UniqueKeys() const;  // qualified as columns are
  void SetSingleScope(const TableSpec* t);

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
  E TlpAggregate(TlpCase::Combine* how);
  E HavingPred(const std::vector<E>& aggs, const std::vector<E>& keys, int depth);
  E Bin(const E& a, const std::string& op, const E& b, T type) const;
  std::string OrderItem(const std::string& pg_expr, const std::string& lite_expr,
                        std::string* lite_out);
  Piece ShardPin(std::vector<Param>* params, bool* one_place);

  // FROM clauses.
  // The FROM clause of a join; a join written as a table list adds its
  // conditions to `where`.
  Piece JoinFrom(std::string* category, std::vector<Piece>* where);
  const TableSpec* SecondCopy(const std::string& name);
  Piece SubqueryPred(std::string* category);
  // A subquery in FROM (projection, DISTINCT, ORDER BY ... LIMIT, or groups)
  // over one table; the scope becomes its columns, as table "d".
  Piece DerivedFrom(std::string* category);

  // Shapes: fill the select list and what follows; `q` has FROM and WHERE.
  void PlainQuery(QuerySpec* q, bool allow_limit);
  void AggregateQuery(QuerySpec* q, bool one_place, bool scalar);
  void DistinctQuery(QuerySpec* q);
  std::string Shape(QuerySpec* q, bool one_place);

  std::mt19937_64 rng_;
  const Dataset* ds_;
  std::vector<Source> scope_;
  std::map<std::string, std::unique_ptr<TableSpec>> second_copies_;  // self-joins
  bool qualify_ = false;
  bool using_join_ = false;  // USING: no SELECT * (column order differs by engine)
  int counter_ = 0;
  int join_pct_ = 20;
  int subquery_pct_ = 10;
  int derived_pct_ = 5;
  std::unique_ptr<TableSpec> derived_;
};

}  // namespace sbtest
