// Turns one parsed statement into a plan (exec/plan.h) against the catalog:
// name and type resolution, shard-key routing analysis, pushdown and the
// merge strategy. Never executes anything.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "exec/plan.h"
#include "meta/catalog.h"
#include "sql/parser.h"
#include "sql/translator.h"

namespace sb::sql {

struct TransactionCommand {
  enum class Op { kBegin, kCommit, kRollback } op;
};

struct SetCommand {
  std::string name;   // lower-cased
  std::string value;  // empty with is_reset
  bool is_reset = false;
  bool reset_all = false;
};

struct ShowCommand {
  std::string name;  // lower-cased; "all" for SHOW ALL
};

struct PlannedStatement;

struct ExplainCommand {
  bool analyze = false;
  std::shared_ptr<PlannedStatement> inner;
};

struct EmptyCommand {
  std::string command_tag;  // statements accepted and ignored, e.g. DISCARD ALL
};

// SQL DEALLOCATE: closes a protocol-level prepared statement by name.
struct DeallocateCommand {
  std::string name;  // empty with `all`
  bool all = false;
};

struct PlannedStatement {
  std::variant<exec::SelectPlan, exec::InsertPlan, exec::ModifyPlan, exec::DdlPlan, exec::CopyPlan,
               TransactionCommand, SetCommand, ShowCommand, ExplainCommand, EmptyCommand,
               DeallocateCommand>
      plan;
  std::vector<SqlType> param_types;  // $1..$n
  bool returns_rows() const;
  std::vector<exec::OutputColumn> columns() const;
  bool is_write() const;
};

class Planner {
 public:
  explicit Planner(const meta::Catalog* catalog) : catalog_(catalog) {}

  // `full_text` is the whole query string the statement came from (positions
  // are relative to it). declared_params: types from Parse (may be unknown).
  Result<PlannedStatement> Plan(const ParsedStatement& stmt, std::string_view full_text,
                                const std::vector<SqlType>& declared_params = {});

 private:
  Result<exec::SelectPlan> PlanSelect(const Json& select, Translator* outer_scope_unused,
                                      std::string_view text, ParamTypes* params);
  Result<exec::InsertPlan> PlanInsert(const Json& insert, std::string_view text,
                                      ParamTypes* params);
  Result<exec::ModifyPlan> PlanModify(const Json& stmt, bool is_update, std::string_view text,
                                      ParamTypes* params);
  Result<exec::DdlPlan> PlanCreateTable(const ParsedStatement& stmt, std::string_view text);
  Result<exec::DdlPlan> PlanDrop(const Json& drop);
  Result<exec::DdlPlan> PlanCreateIndex(const Json& index);
  Result<exec::DdlPlan> PlanAlterTable(const Json& alter, std::string_view text);
  Result<exec::CopyPlan> PlanCopy(const Json& copy);
  // A user table, or a sys.* view (meta/system_views.h); 42P01 otherwise.
  Result<const meta::TableDef*> LookupTable(const Json& range_var) const;
  // A table a statement may change: a sys.* view is 42809 ("cannot
  // <action> system view ...").
  Result<const meta::TableDef*> LookupWritableTable(const Json& range_var,
                                                    const char* action) const;
  // A join whose rows each live on one shard: sharded tables joined on their
  // (single-column) shard keys, REPLICATED tables only where every row also
  // has a sharded table's row. It runs whole on each shard.
  struct CoLocatedJoin {
    std::vector<Relation> scope;
    int key_rel = 0;  // a sharded relation on no nullable side
  };
  std::optional<CoLocatedJoin> AnalyzeCoLocation(const Json& select, std::string_view text);
  Result<std::string> JoinSql(const Json& join, Translator* tr);
  // Joins, subqueries, set operations, CTEs and windows: the base tables are
  // read from the shards and the whole query runs at the coordinator.
  Result<exec::SelectPlan> PlanCoordinatorSelect(const Json& select, std::string_view text,
                                                 ParamTypes* params);

  const meta::Catalog* catalog_;
};

// The SQLite CREATE TABLE statement for a table definition.
std::string SqliteCreateTable(const meta::TableDef& table);
// The column definition used by CREATE TABLE and ALTER TABLE ADD COLUMN.
std::string SqliteColumnDef(const meta::ColumnDef& column);

}  // namespace sb::sql
