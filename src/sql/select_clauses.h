// Pieces of SELECT shared by the single-table planner and the query
// translator: target lists, ORDER BY, GROUP BY, LIMIT, and walks of the parse
// tree for aggregates and conjuncts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "exec/plan.h"
#include "sql/parser.h"
#include "sql/translator.h"

namespace sb::sql {

struct SortItem {
  Json expr;
  bool descending = false;
  bool nulls_first = false;
  int target = -1;  // index in the target list when it refers to an output column
};

struct Target {
  Json expr;
  std::string name;
};

// Source position (1-based) of a parse-tree node, 0 if unknown.
int Loc(const Json& body);
// 0A000 "<what> is not supported".
Status NotSupported(const std::string& what, int position = 0, std::string hint = {});
std::string Lower(std::string s);

// True if any object in the tree has `key` (e.g. "SubLink", "over").
bool ContainsKey(const Json& j, std::string_view key);
// A SortBy node's expression, direction and PostgreSQL's default NULL
// placement (last for ASC, first for DESC); ORDER BY ... USING is refused.
Result<SortItem> SortDirection(const Json& sort_by);

// True if the expression calls an aggregate (not looking into subqueries).
bool ContainsAggregate(const Json& j);

// SQLite runs HAVING only in a query it sees as aggregate, which takes an
// aggregate in the select list; in PostgreSQL, HAVING alone makes one
// group (SELECT 1 FROM t HAVING count(*) > 1). True when the select list
// must carry such an aggregate for this query.
bool NeedsAggregateMarker(const std::vector<Target>& targets, const std::vector<Json>& group_by,
                          const Json* having);
// The SQL of select-list item t: compared by value under DISTINCT (KeySql),
// and, for the first item of a query that NeedsAggregateMarker, wrapped in
// an aggregate that does not change its value.
std::string OutputSql(const Translated& t, bool distinct, bool aggregate_marker);
// The distinct aggregate calls of an expression (not looking into subqueries).
void CollectAggregates(const Json& j, std::vector<Json>* out);
// The AND-ed parts of a condition.
void Conjuncts(const Json& where, std::vector<const Json*>* out);

// SELECT list items, with * and rel.* expanded over the scope.
Result<std::vector<Target>> ExpandTargets(const Json& target_list,
                                          const std::vector<Relation>& scope);
// ORDER BY items: ordinals and output-column names refer to targets.
Result<std::vector<SortItem>> ResolveSort(const Json& sort_clause,
                                          const std::vector<Target>& targets,
                                          std::string_view text);
// Unconstrained numeric values are decimal text, ordered under sb_decimal.
bool IsDecimalText(const SqlType& t);
// "expr [COLLATE sb_decimal] ASC|DESC NULLS FIRST|LAST".
std::string SortSql(const Translated& expr, const SortItem& s);
// A LIMIT/OFFSET value: constant or parameter; nullopt for none/ALL/NULL.
Result<std::optional<exec::ValueSource>> LimitValue(const Json* node, Translator* tr);
std::string ValueSql(const exec::ValueSource& v);
// GROUP BY items: ordinals and output-column names refer to targets.
// PostgreSQL accepts any column of a table whose whole primary key is
// grouped (functional dependency). Grouping by such a column as well gives
// the same groups, so the ones the query uses outside aggregates (SELECT
// list, HAVING, ORDER BY) are appended to `group_by`; every later check and
// the generated SQL then treat them as grouped.
void AddFunctionallyDependentColumns(const std::vector<Target>& targets, const Json* having,
                                     const std::vector<SortItem>& sorts, Translator* tr,
                                     std::vector<Json>* group_by);
Result<std::vector<Json>> ResolveGroupBy(const Json& group_clause,
                                         const std::vector<Target>& targets, Translator* tr,
                                         std::string_view text);
// PostgreSQL's rule: outside aggregates, a selected column must be grouped
// (SQLite would silently pick a value from the group).
Status CheckGrouped(const std::vector<Target>& targets, const std::vector<Json>& group_by,
                    Translator* tr);
// The same rule for the arguments, PARTITION BY and ORDER BY of the window
// functions (and window definitions) in `tree`, in an aggregating query.
Status CheckGroupedWindows(const Json& tree, const std::vector<Json>& group_by);
// " GROUP BY ... HAVING ..." (either part empty when absent), checking the
// grouping rule when the query aggregates.
Result<std::string> GroupHavingSql(Translator* tr, const std::vector<Target>& targets,
                                   const std::vector<Json>& group_by, const Json* having,
                                   bool aggregated);

}  // namespace sb::sql
