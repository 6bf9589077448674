// Distributed plans: plain data produced by sql/ and run by exec/. A plan can
// be printed (EXPLAIN) and tested without a cluster.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/sql_type.h"
#include "common/value.h"
#include "meta/catalog.h"

namespace sb::exec {

// A value known at plan time (stored form) or a statement parameter ($n),
// which is typed at plan time and converted to stored form at Bind.
struct ValueSource {
  SqlType type;                   // the type the value must have
  std::optional<Value> constant;  // set when known at plan time
  int param = 0;                  // 1-based $n when not constant
  SqlType param_type;             // the parameter's own type ($n::int, or inferred)
  // Otherwise: a column-free expression (SQLite SQL over ?N parameters, already
  // coerced to `type`), evaluated once per row at the coordinator.
  std::string expression_sql;
};

// Where a statement must run.
struct RouteSpec {
  enum class Kind {
    kAllShards,    // scatter to every shard
    kKeyTuples,    // the shards of the given shard-key tuples
    kAnyOneShard,  // reference tables only: any single shard holds all rows
    kCoordinator,  // no table: evaluate at the coordinator
  };
  Kind kind = Kind::kAllShards;
  const meta::TableDef* table = nullptr;         // whose shard key the tuples are
  std::vector<std::vector<ValueSource>> tuples;  // one value per shard-key column
};

struct OutputColumn {
  std::string name;
  SqlType type;
};

struct SortKey {
  int column;  // index in the shard output row
  bool descending = false;
  bool nulls_first = false;
  // Unconstrained numeric (decimal text): ordered by value, not bytewise.
  bool decimal_text = false;
  // Interval (stored form): ordered by its span key alone, so that '1 mon'
  // and '30 days' tie and the next key decides, as in PostgreSQL.
  bool interval_span = false;
};

// A base-table reference of a query run at the coordinator (joins that are
// not co-located, subqueries, set operations, windows): its rows are read
// from the shards (with the filters that apply to it alone) into the table
// `name` of the coordinator's in-memory database.
struct CoordinatorInput {
  std::string name;         // _r0, _r1, ...
  std::string columns_sql;  // column definitions for CREATE TABLE
  int width = 0;
  RouteSpec route;
  std::string shard_sql;
  std::string description;  // for EXPLAIN: "orders AS o, filter pushed: ..."
  // A system view (meta/system_views.h; route.table is its definition): the
  // executor loads the view's rows from its SystemViewSource into the
  // coordinator table sys."<system_view>" and runs shard_sql there instead
  // of on the shards (route.kind is kCoordinator).
  std::string system_view;
};

struct SelectPlan {
  RouteSpec route;
  // SQL each shard runs; parameters are SQLite ?N = statement parameter $N.
  std::string shard_sql;
  int shard_width = 0;  // columns in each shard row
  enum class Merge {
    kConcat,       // append shard results
    kSortMerge,    // k-way merge on sort_keys
    kCoordinator,  // load shard rows into _p(c0..) and run coordinator_sql
  };
  Merge merge = Merge::kConcat;
  std::vector<SortKey> sort_keys;
  std::optional<ValueSource> limit;  // applied at the coordinator (kConcat/kSortMerge)
  std::optional<ValueSource> offset;
  std::string coordinator_sql;
  // When not empty: coordinator_sql runs over these inputs (route and
  // shard_sql are unused).
  std::vector<CoordinatorInput> inputs;
  std::vector<OutputColumn> output;  // the first output.size() columns are returned
  // True when the whole query runs on exactly one shard (no merge work).
  bool single_shard = false;
  // The FROM clause is a co-located join that runs whole on each shard.
  bool colocated_join = false;
  std::string merge_description;  // for EXPLAIN
};

struct InsertPlan {
  const meta::TableDef* table = nullptr;
  std::vector<int> columns;                    // table column indices given by the user
  std::vector<std::vector<ValueSource>> rows;  // per row, one per entry of `columns`
  std::string returning_sql;                   // " RETURNING ..." or empty
  std::vector<OutputColumn> returning;
};

struct ModifyPlan {  // UPDATE or DELETE
  const meta::TableDef* table = nullptr;
  bool is_update = true;
  RouteSpec route;
  std::string shard_sql;  // includes RETURNING when present
  std::vector<OutputColumn> returning;
};

struct CopyPlan {
  const meta::TableDef* table = nullptr;
  std::vector<int> columns;
  bool csv = false;
  char delimiter = '\t';
  std::string null_string = "\\N";
  bool header = false;
  char quote = '"';
};

struct DdlPlan {
  enum class Kind { kCreateTable, kDropTable, kCreateIndex, kDropIndex, kAddColumn };
  Kind kind;
  std::string command_tag;  // "CREATE TABLE", ...
  std::string table_name;
  std::optional<meta::TableDef> new_table;    // the table's definition after the change
  std::vector<std::string> shard_statements;  // SQLite DDL run on every shard
  bool if_exists_noop = false;                // IF [NOT] EXISTS matched: nothing to do
  std::string notice;                         // sent to the client when non-empty
};

}  // namespace sb::exec
