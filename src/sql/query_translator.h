// Translates a whole PostgreSQL SELECT (joins, derived tables, CTEs (also
// WITH RECURSIVE), set operations, subqueries in expressions, window functions) into one
// SQLite query that the coordinator runs over its inputs: every base-table
// reference becomes a table _rN of the coordinator's in-memory database,
// filled from the shards with the filters that can be pushed down to them.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "exec/plan.h"
#include "meta/catalog.h"
#include "sql/parser.h"
#include "sql/select_clauses.h"
#include "sql/translator.h"

namespace sb::sql {

// One base-table reference of the query, read from the shards.
struct BaseInput {
  const meta::TableDef* table = nullptr;
  std::string alias;      // how the query names it
  std::string temp_name;  // _rN at the coordinator
  // Conditions on this table alone that may be applied on the shards (its
  // rows cannot be null-extended by an outer join at the place of the
  // condition); the coordinator applies them again, which is harmless.
  std::vector<Json> pushed;
  // Columns the query reads at the coordinator (only these are fetched).
  std::vector<bool> used;
};

struct QueryOutput {
  std::string sql;
  std::vector<exec::OutputColumn> columns;
  // The names the columns have without the `names` given to Select (a set
  // operation's are its left operand's): what a caller that renamed the
  // columns for its own SQL shows the user.
  std::vector<std::string> source_names;
};

class QueryTranslator {
 public:
  using Lookup = std::function<Result<const meta::TableDef*>(const Json& range_var)>;

  QueryTranslator(Lookup lookup, std::string_view text, ParamTypes* params)
      : lookup_(std::move(lookup)), text_(text), params_(params) {}

  // `select` is a SelectStmt body. `outer` resolves correlated references;
  // `names` (optional) renames the output columns.
  Result<QueryOutput> Select(const Json& select, Translator* outer,
                             const std::vector<std::string>* names = nullptr);

  const std::vector<BaseInput>& inputs() const { return inputs_; }

 private:
  struct Cte {
    std::string name;
    const meta::TableDef* def;
  };
  struct Level;  // one SELECT's FROM being translated
  // The recursive term of WITH RECURSIVE `name`: its output columns take
  // the non-recursive term's types.
  struct RecursiveTerm {
    std::string name;
    std::vector<exec::OutputColumn> columns;
  };

  Result<QueryOutput> SelectLevel(const Json& select, Translator* outer,
                                  const std::vector<std::string>* names,
                                  const RecursiveTerm* recursive);
  Result<std::string> RecursiveCte(const Json& cte, const std::string& name,
                                   const std::vector<std::string>& colnames, Translator* outer);

  // The SQL of SELECT DISTINCT ON (on_items) over select_sql (see the definition).
  Result<std::string> DistinctOn(const Json& on_items, const std::vector<Target>& targets,
                                 const std::vector<SortItem>& sorts, const QueryOutput& out,
                                 const std::string& select_sql, size_t after_targets,
                                 Translator* tr);
  Result<QueryOutput> Values(const Json& s, Translator* outer,
                             const std::vector<std::string>* names);
  Result<QueryOutput> SetOperation(const Json& select, Translator* outer,
                                   const std::vector<std::string>* names);
  // Both append the item's output columns to `columns` in PostgreSQL's order
  // (what an unqualified * lists): a join's merged USING/NATURAL columns
  // first, then its left side's other columns, then its right side's.
  Result<std::string> FromItem(const Json& item, Level* level, bool nullable,
                               std::vector<Target>* columns);
  Result<std::string> Join(const Json& join, Level* level, bool nullable,
                           std::vector<Target>* columns);
  Result<Translated> Subquery(const Json& sublink, Translator* self);
  Result<Translated> QuantifiedComparison(bool any, const std::string& op, const Json& test,
                                          const QueryOutput& q, Translator* self, int loc);
  Result<Translated> Window(const Json& func_call, Translator* self);
  Result<std::string> WindowSpec(const Json& over, Translator* self);
  void Prepare(Translator* tr);
  // The table a derived table or CTE is to the query around it; 0A000 when
  // two of its columns share a name.
  Result<const meta::TableDef*> Synthesize(const std::string& name,
                                           const std::vector<exec::OutputColumn>& columns);
  const Cte* FindCte(const std::string& name) const;

  Lookup lookup_;
  std::string_view text_;
  ParamTypes* params_;
  std::vector<BaseInput> inputs_;
  bool set_operand_ = false;                // the next SelectLevel is a set operation's operand
  std::vector<Cte> ctes_;                   // visible CTEs, innermost last
  std::deque<meta::TableDef> synthesized_;  // derived tables and CTEs (stable addresses)
};

}  // namespace sb::sql
