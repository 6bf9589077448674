// Translates PostgreSQL expressions (libpg_query parse tree) into SQLite SQL
// over the stored representation (common/value_codec.h), computing the
// PostgreSQL type of every expression on the way. Constants are coerced to
// their context's type at plan time; parameters take the type of their
// context. Anything without a faithful translation is refused with 0A000
// rather than risking a different answer than PostgreSQL would give.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/sql_type.h"
#include "common/status.h"
#include "common/value.h"
#include "meta/catalog.h"
#include "sql/parser.h"

namespace sb::sql {

struct Relation {
  std::string alias;  // name used to qualify columns (table name if no alias)
  const meta::TableDef* table = nullptr;
};

// Types of $1..$n, filled in as the statement is translated.
class ParamTypes {
 public:
  explicit ParamTypes(std::vector<SqlType> declared = {}) : types_(std::move(declared)) {}
  SqlType Get(int n) const;
  void Set(int n, const SqlType& t);
  int count() const { return static_cast<int>(types_.size()); }
  const std::vector<SqlType>& types() const { return types_; }
  int max_referenced() const { return max_referenced_; }
  void NoteReference(int n) { max_referenced_ = std::max(max_referenced_, n); }

 private:
  std::vector<SqlType> types_;
  int max_referenced_ = 0;
};

struct Translated {
  std::string sql;
  SqlType type;
  bool is_constant = false;
  Value constant;  // stored form (or raw text while type is kUnknown)
  int param = 0;   // > 0 when this is a bare $n
  bool contains_aggregate = false;
};

// SQL literal for a stored value.
std::string SqlLiteral(const Value& v);
std::string QuoteIdent(std::string_view name);

// How variance and standard deviation aggregate x: `function`(count(x),
// `sum`, `sum_of_squares`, kind) with the two sums as aggregate calls over x.
struct DispersionSums {
  std::string function;  // sb_numvar (exact) or sb_fltvar (double precision)
  std::string sum;
  std::string sum_of_squares;
  SqlType result;
};

class Translator {
 public:
  // Called first on every node; returning a value replaces the normal
  // translation (used for the coordinator stage of aggregation).
  using Override = std::function<std::optional<Result<Translated>>(const Json& node)>;

  Translator(std::vector<Relation> scope, std::string_view full_text, ParamTypes* params)
      : scope_(std::move(scope)), text_(full_text), params_(params) {}

  void set_override(Override o) { override_ = std::move(o); }
  void set_allow_aggregates(bool allow) { allow_aggregates_ = allow; }
  bool allow_aggregates() const { return allow_aggregates_; }
  // The next aggregate call translated is a window aggregate (agg(...) OVER):
  // every aggregate call it becomes gets `over` (" OVER (...)") appended
  // (avg is sb_numavg(sum OVER, count OVER)), and its argument may contain
  // plain aggregates of a grouped query. Empty: not a window aggregate.
  void set_window_over(std::string over) { window_over_ = std::move(over); }

  // Hooks for whole queries (sql/query_translator.h). Columns not found in
  // this scope resolve in `outer` (correlated subqueries).
  void set_outer(Translator* outer) { outer_ = outer; }
  // Translates SubLink nodes (subqueries in expressions); `self` is the
  // translator the subquery appears in (its outer scope).
  using SubqueryHandler = std::function<Result<Translated>(const Json& sublink, Translator* self)>;
  void set_subquery_handler(SubqueryHandler h) { subquery_handler_ = std::move(h); }
  // Translates function calls with OVER (window functions).
  using WindowHandler = std::function<Result<Translated>(const Json& func_call, Translator* self)>;
  void set_window_handler(WindowHandler h) { window_handler_ = std::move(h); }
  // An unqualified name merged by JOIN ... USING resolves to `expr`.
  void SetMergedColumn(const std::string& name, Translated expr);
  void AddRelation(Relation r) { scope_.push_back(std::move(r)); }
  // Told of every column a translated expression reads (relation, column).
  using ColumnObserver = std::function<void(const Relation& rel, int column)>;
  void set_column_observer(ColumnObserver o) { column_observer_ = std::move(o); }

  Result<Translated> Expr(const Json& node);
  // Expr, then Coerce to `to`.
  Result<Translated> ExprAs(const Json& node, const SqlType& to);
  // Converts to type `to` as an implicit (assignment) or explicit cast.
  Result<Translated> Coerce(Translated t, const SqlType& to, bool explicit_cast = false);
  // A boolean condition (WHERE, HAVING, JOIN ON).
  Result<Translated> Condition(const Json& node);

  // Resolves a column reference to (relation index, column index).
  Result<std::pair<int, int>> ResolveColumn(const Json& column_ref);

  // `node` with every column reference that resolves in this scope written
  // as alias.column (subqueries and USING-merged names are left as they are),
  // so that SameExpression sees o.status and status as the same column.
  Json Canonical(const Json& node);

  // PostgreSQL's output column name for an expression (FigureColname).
  static std::string ColumnName(const Json& node);

  const std::vector<Relation>& scope() const { return scope_; }
  std::string_view text() const { return text_; }
  ParamTypes* params() { return params_; }

  static bool IsAggregateCall(const Json& node);

  // Converts items to their common type (CASE/COALESCE/GREATEST rules:
  // unknowns adopt the others' type, all-unknown becomes text).
  Result<std::vector<Translated>> Unify(std::vector<Translated> items, std::string_view what);
  // Unify for values that become one result (CASE, COALESCE, GREATEST,
  // LEAST, VALUES, set operations): numeric values of different scales keep
  // them, as decimal text.
  Result<std::vector<Translated>> UnifyValues(std::vector<Translated> items, std::string_view what);
  // Unify for operands that are compared (IN, BETWEEN, NULLIF, ...); the
  // results are in KeySql form.
  Result<std::vector<Translated>> UnifyForComparison(std::vector<Translated> items,
                                                     std::string_view what, int location);

  // The sums var_samp/stddev & co. of x are computed from (besides
  // count(x)), and the final function over count, sum and sum of squares.
  Result<DispersionSums> DispersionInputs(const Translated& x, bool window);

  // SQL that compares, groups and deduplicates t's values as PostgreSQL
  // does where their stored form would not: an interval by its span
  // ('1 mon' = '30 days'), an unconstrained numeric (decimal text) by value
  // under the sb_decimal collation ('1.5' = '1.50', '10' > '9.5').
  static std::string KeySql(const std::string& sql, const SqlType& type);
  static std::string KeySql(const Translated& t) { return KeySql(t.sql, t.type); }

 private:
  Result<Translated> Const(const Json& a_const);
  Result<Translated> Column(const Json& column_ref);
  Result<Translated> Param(const Json& param_ref);
  Result<Translated> AExpr(const Json& a_expr);
  Result<Translated> Comparison(const std::string& op, const Json& l, const Json& r, int location);
  // timestamp/date ± interval, timestamp - timestamp, interval ± interval,
  // interval × / number; nullopt when neither side is (or becomes) one.
  Result<std::optional<Translated>> IntervalArithmetic(const std::string& op, Translated* a,
                                                       Translated* b, int location);
  Result<Translated> Arithmetic(const std::string& op, const Json* l, const Json& r, int location);
  // a op b on decimal text (sb_decop), each value keeping its own scale.
  Result<Translated> DecimalTextArithmetic(const std::string& op, Translated a, Translated b,
                                           bool contains_aggregate, int location);
  Result<Translated> BoolExpr(const Json& bool_expr);
  Result<Translated> Func(const Json& func_call);
  Result<Translated> OrderedSetAggregate(const Json& func_call_body, const std::string& name,
                                         int location);
  Result<Translated> Case(const Json& case_expr);
  Result<Translated> Cast(const Json& type_cast);
  Result<Translated> SqlValueFunction(const Json& svf);
  Result<Translated> Like(const Json& a_expr);
  Status NotSupported(const std::string& what, int location) const;

  std::vector<Relation> scope_;
  std::string_view text_;
  ParamTypes* params_;
  Override override_;
  bool allow_aggregates_ = false;
  std::string window_over_;
  // ", key, flags, ..." of the ORDER BY of the string_agg call being
  // translated (sb_string_agg's trailing arguments); empty: no ORDER BY.
  std::string agg_order_sql_;
  Translator* outer_ = nullptr;
  SubqueryHandler subquery_handler_;
  WindowHandler window_handler_;
  ColumnObserver column_observer_;
  std::vector<std::pair<std::string, Translated>> merged_columns_;
};

// Deep equality of parse-tree nodes, ignoring source locations.
bool SameExpression(const Json& a, const Json& b);

}  // namespace sb::sql
