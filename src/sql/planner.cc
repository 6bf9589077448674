#include "sql/planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>

#include "common/decimal_dispersion.h"
#include "common/value_codec.h"
#include "meta/system_views.h"
#include "sql/grouping_sets.h"
#include "sql/query_translator.h"
#include "sql/select_clauses.h"

namespace sb::sql {
namespace {

// The aggregate that sums values of type t exactly, and adds up its own
// partial sums: 128-bit for bigint, decimal text for unconstrained numeric,
// field by field for intervals.
std::string SumFunction(const SqlType& t) {
  return t.id == TypeId::kInt8       ? "sb_sumi("
         : IsDecimalText(t)          ? "sb_decsum("
         : t.id == TypeId::kInterval ? "sb_ivsum("
                                     : "sum(";
}

using exec::OutputColumn;
using exec::RouteSpec;
using exec::SelectPlan;
using exec::ValueSource;

constexpr size_t kMaxRouteTuples = 1024;

// The value of a routing candidate: a constant (optionally cast) or a parameter.
std::optional<ValueSource> RoutingValue(const Json& node, const SqlType& column_type,
                                        Translator* tr) {
  if (!node.contains("A_Const") && !node.contains("ParamRef") && !node.contains("TypeCast")) {
    return std::nullopt;
  }
  if (node.contains("TypeCast")) {
    const Json& arg = Get(Get(node, "TypeCast"), "arg");
    if (!arg.contains("A_Const") && !arg.contains("ParamRef")) return std::nullopt;
  }
  auto t = tr->Expr(node);
  if (!t.ok()) return std::nullopt;
  ValueSource vs;
  vs.type = column_type;
  if (t->is_constant) {
    if (IsNull(t->constant)) return std::nullopt;  // col = NULL matches nothing; scatter is correct
    auto v = t->type.id == TypeId::kUnknown
                 ? ParseTextValue(column_type, std::get<std::string>(t->constant))
                 : CastValue(t->constant, t->type, column_type);
    if (!v.ok()) return std::nullopt;  // the WHERE translation reports the error
    vs.constant = *v;
    return vs;
  }
  if (t->param > 0) {
    vs.param = t->param;
    vs.param_type = t->type.id == TypeId::kUnknown ? column_type : t->type;
    if (t->type.id == TypeId::kUnknown) tr->params()->Set(t->param, column_type);
    return vs;
  }
  return std::nullopt;
}

const Json* ColumnSide(const Json& cmp, bool left) {
  return &Get(cmp, "A_Expr")[left ? "lexpr" : "rexpr"];
}

// Finds the shard key values pinned by WHERE (equality or IN on every key
// column of the relation at scope index `rel`).
RouteSpec AnalyzeRoute(const Json* where, const meta::TableDef* table, int rel, Translator* tr) {
  RouteSpec route;
  route.table = table;
  if (table->replicated) {
    route.kind = RouteSpec::Kind::kAnyOneShard;
    return route;
  }
  route.kind = RouteSpec::Kind::kAllShards;
  if (where == nullptr) return route;
  std::vector<const Json*> conj;
  Conjuncts(*where, &conj);
  std::vector<std::vector<ValueSource>> per_column(table->shard_key.size());
  for (const Json* c : conj) {
    if (!c->contains("A_Expr")) continue;
    const Json& e = Get((*c), "A_Expr");
    std::string kind = e.value("kind", "");
    auto names = NameList(Get(e, "name"));
    std::string op = names.empty() ? "" : names.back();
    if (op != "=") continue;
    for (bool left : {true, false}) {
      const Json* col = ColumnSide(*c, left);
      if (!col->contains("ColumnRef")) continue;
      auto rc = tr->ResolveColumn(*col);
      if (!rc.ok() || rc->first != rel) continue;
      auto it = std::find(table->shard_key.begin(), table->shard_key.end(), rc->second);
      if (it == table->shard_key.end()) continue;
      size_t key_pos = static_cast<size_t>(it - table->shard_key.begin());
      const SqlType& ctype = table->columns[rc->second].type;
      std::vector<ValueSource> values;
      if (kind == "AEXPR_OP") {
        auto v = RoutingValue(*ColumnSide(*c, !left), ctype, tr);
        if (!v) continue;
        values.push_back(*v);
      } else if (kind == "AEXPR_IN" && left && Get(e, "rexpr").contains("List")) {
        bool all = true;
        for (const auto& item : Get(Get(Get(e, "rexpr"), "List"), "items")) {
          auto v = RoutingValue(item, ctype, tr);
          if (!v) {
            all = false;
            break;
          }
          values.push_back(*v);
        }
        if (!all) continue;
      } else {
        continue;
      }
      // Several conjuncts on one key column: keep the most selective.
      if (per_column[key_pos].empty() || values.size() < per_column[key_pos].size()) {
        per_column[key_pos] = values;
      }
    }
  }
  size_t combos = 1;
  for (const auto& v : per_column) {
    if (v.empty()) return route;
    combos *= v.size();
    if (combos > kMaxRouteTuples) return route;
  }
  std::vector<std::vector<ValueSource>> tuples{{}};
  for (const auto& values : per_column) {
    std::vector<std::vector<ValueSource>> next;
    for (const auto& t : tuples) {
      for (const auto& v : values) {
        auto n = t;
        n.push_back(v);
        next.push_back(std::move(n));
      }
    }
    tuples = std::move(next);
  }
  route.kind = RouteSpec::Kind::kKeyTuples;
  route.tuples = std::move(tuples);
  return route;
}

// True when every shard-key column of the (single) relation is a GROUP BY
// item: each group then lives on one shard and aggregates complete there.
bool GroupByCoversShardKey(const std::vector<Json>& group_by, const meta::TableDef* table, int rel,
                           Translator* tr) {
  if (table->replicated || table->shard_key.empty()) return false;
  for (int k : table->shard_key) {
    bool found = false;
    for (const auto& g : group_by) {
      if (!g.contains("ColumnRef")) continue;
      auto rc = tr->ResolveColumn(g);
      if (rc.ok() && rc->first == rel && rc->second == k) found = true;
    }
    if (!found) return false;
  }
  return true;
}

std::string SystemViewsHint() {
  std::string names;
  for (const auto& v : meta::SystemViews()) {
    names += (names.empty() ? "" : ", ") + std::string(meta::kSystemSchema) + "." + v.name;
  }
  return "The system views are " + names + ".";
}

// True when the statement names a table of schema sys anywhere: such
// queries run at the coordinator, where the views' rows are.
bool ReadsSystemView(const Json& node) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.key() == "RangeVar" && it.value().is_object() &&
          it.value().value("schemaname", "") == meta::kSystemSchema) {
        return true;
      }
      if (ReadsSystemView(it.value())) return true;
    }
  } else if (node.is_array()) {
    for (const auto& v : node) {
      if (ReadsSystemView(v)) return true;
    }
  }
  return false;
}

}  // namespace

// --- PlannedStatement ---

bool PlannedStatement::returns_rows() const {
  if (std::holds_alternative<exec::SelectPlan>(plan)) return true;
  if (auto* i = std::get_if<exec::InsertPlan>(&plan)) return !i->returning.empty();
  if (auto* m = std::get_if<exec::ModifyPlan>(&plan)) return !m->returning.empty();
  if (std::holds_alternative<ShowCommand>(plan) || std::holds_alternative<ExplainCommand>(plan)) {
    return true;
  }
  return false;
}

std::vector<exec::OutputColumn> PlannedStatement::columns() const {
  if (auto* s = std::get_if<exec::SelectPlan>(&plan)) return s->output;
  if (auto* i = std::get_if<exec::InsertPlan>(&plan)) return i->returning;
  if (auto* m = std::get_if<exec::ModifyPlan>(&plan)) return m->returning;
  if (auto* sh = std::get_if<ShowCommand>(&plan)) {
    if (sh->name == "all") {
      return {{"name", SqlType::Of(TypeId::kText)},
              {"setting", SqlType::Of(TypeId::kText)},
              {"description", SqlType::Of(TypeId::kText)}};
    }
    return {{sh->name, SqlType::Of(TypeId::kText)}};
  }
  if (std::holds_alternative<ExplainCommand>(plan))
    return {{"QUERY PLAN", SqlType::Of(TypeId::kText)}};
  return {};
}

bool PlannedStatement::is_write() const {
  return std::holds_alternative<exec::InsertPlan>(plan) ||
         std::holds_alternative<exec::ModifyPlan>(plan) ||
         std::holds_alternative<exec::CopyPlan>(plan);
}

// --- Planner ---

Result<const meta::TableDef*> Planner::LookupTable(const Json& range_var) const {
  const Json& rv = range_var.contains("RangeVar") ? Get(range_var, "RangeVar") : range_var;
  std::string schema = rv.value("schemaname", "");
  std::string name = rv.value("relname", "");
  if (schema == meta::kSystemSchema) {
    if (const meta::TableDef* view = meta::FindSystemView(name)) return view;
    return Status(sqlstate::kUndefinedTable,
                  fmt::format("relation \"{}.{}\" does not exist", schema, name), SystemViewsHint(),
                  Loc(rv));
  }
  if (!schema.empty() && schema != "public") {
    if (schema == "pg_catalog" || schema == "information_schema") {
      return Status(sqlstate::kFeatureNotSupported,
                    fmt::format("system catalog {}.{} is not available", schema, name),
                    "ScratchBird exposes cluster metadata through the sys.* views (sys.nodes, "
                    "sys.shards, sys.epochs); the PostgreSQL system catalogs are not emulated.",
                    Loc(rv));
    }
    return Status(sqlstate::kUndefinedTable, fmt::format("schema \"{}\" does not exist", schema),
                  "ScratchBird has one schema, \"public\".", Loc(rv));
  }
  const meta::TableDef* t = catalog_->FindTable(name);
  if (t == nullptr) {
    if (name.rfind("pg_", 0) == 0) {
      return Status(sqlstate::kFeatureNotSupported,
                    fmt::format("system catalog {} is not available", name),
                    "The PostgreSQL system catalogs are not emulated.", Loc(rv));
    }
    return Status(sqlstate::kUndefinedTable, fmt::format("relation \"{}\" does not exist", name),
                  {}, Loc(rv));
  }
  return t;
}

Result<const meta::TableDef*> Planner::LookupWritableTable(const Json& range_var,
                                                           const char* action) const {
  SB_ASSIGN_OR_RETURN(const meta::TableDef* t, LookupTable(range_var));
  if (t->system_view) {
    const Json& rv = range_var.contains("RangeVar") ? Get(range_var, "RangeVar") : range_var;
    return Status(
        sqlstate::kWrongObjectType,
        fmt::format("cannot {} system view \"{}.{}\"", action, meta::kSystemSchema, t->name),
        "The sys.* views are read-only: they show the cluster's state.", Loc(rv));
  }
  return t;
}

namespace {

// True when the statement needs more than one table's rows in one place.
bool NeedsCoordinator(const Json& s) {
  if (s.contains("withClause") || s.value("op", "SETOP_NONE") != "SETOP_NONE") return true;
  if (s.contains("valuesLists") || s.contains("windowClause")) return true;
  if (s.contains("fromClause")) {
    const Json& from = Get(s, "fromClause");
    if (from.size() != 1 || !from[0].contains("RangeVar")) return true;
  }
  return ContainsKey(s, "SubLink") || ContainsKey(s, "over");
}

}  // namespace

namespace {

// Walks a JoinExpr tree of INNER/LEFT joins over plain tables. Returns false
// when the tree has any other shape. `anchored`: every row of the subtree
// contains a row of a sharded table (so it exists on exactly one shard).
bool WalkJoin(const Json& node, bool nullable, std::vector<const Json*>* leaves,
              std::vector<bool>* leaf_nullable, std::vector<const Json*>* quals,
              const std::function<const meta::TableDef*(const Json&)>& lookup, bool* anchored) {
  if (node.contains("RangeVar")) {
    const Json& rv = Get(node, "RangeVar");
    if (rv.contains("alias") && Get(rv, "alias").contains("colnames")) return false;
    const meta::TableDef* t = lookup(node);
    if (t == nullptr) return false;
    leaves->push_back(&node);
    leaf_nullable->push_back(nullable);
    *anchored = !t->replicated;
    return true;
  }
  if (!node.contains("JoinExpr")) return false;
  const Json& j = Get(node, "JoinExpr");
  const std::string type = j.value("jointype", "");
  if ((type != "JOIN_INNER" && type != "JOIN_LEFT") || j.value("isNatural", false) ||
      j.contains("usingClause") || j.contains("alias")) {
    return false;
  }
  bool left_anchored = false, right_anchored = false;
  if (!WalkJoin(Get(j, "larg"), nullable, leaves, leaf_nullable, quals, lookup, &left_anchored) ||
      !WalkJoin(Get(j, "rarg"), nullable || type == "JOIN_LEFT", leaves, leaf_nullable, quals,
                lookup, &right_anchored)) {
    return false;
  }
  if (j.contains("quals")) quals->push_back(&Get(j, "quals"));
  *anchored = type == "JOIN_LEFT" ? left_anchored : (left_anchored || right_anchored);
  return true;
}

}  // namespace

std::optional<Planner::CoLocatedJoin> Planner::AnalyzeCoLocation(const Json& s,
                                                                 std::string_view text) {
  if (s.contains("withClause") || s.value("op", "SETOP_NONE") != "SETOP_NONE" ||
      s.contains("windowClause") || ContainsKey(s, "SubLink") || ContainsKey(s, "over")) {
    return std::nullopt;
  }
  const Json& from = Get(s, "fromClause");
  if (from.size() != 1 || !At(from, 0).contains("JoinExpr")) return std::nullopt;
  std::vector<const Json*> leaves, quals;
  std::vector<bool> nullable;
  bool anchored = false;
  auto lookup = [this](const Json& rv) -> const meta::TableDef* {
    auto t = LookupTable(rv);
    // A system view is read at the coordinator, never on the shards.
    return t.ok() && !(*t)->system_view ? *t : nullptr;
  };
  if (!WalkJoin(At(from, 0), false, &leaves, &nullable, &quals, lookup, &anchored)) {
    return std::nullopt;
  }
  CoLocatedJoin out;
  std::vector<int> sharded;
  for (size_t i = 0; i < leaves.size(); ++i) {
    const Json& rv = Get(*leaves[i], "RangeVar");
    const meta::TableDef* t = lookup(*leaves[i]);
    std::string alias = t->name;
    if (rv.contains("alias")) alias = Get(rv, "alias").value("aliasname", t->name);
    for (const auto& r : out.scope) {
      if (r.alias == alias) return std::nullopt;  // the coordinator path reports it
    }
    out.scope.push_back({alias, t});
    if (!t->replicated) {
      // One shard-key column, so an equality on it pins both rows to a shard.
      if (t->shard_key.size() != 1) return std::nullopt;
      sharded.push_back(static_cast<int>(i));
    }
  }
  if (!sharded.empty() && !anchored) return std::nullopt;
  // Union-find over the sharded relations, joined by equalities of their
  // shard-key columns (of the same type: equal values, equal hashes).
  std::vector<int> parent(out.scope.size());
  for (size_t i = 0; i < parent.size(); ++i) parent[i] = static_cast<int>(i);
  std::function<int(int)> find = [&](int x) {
    return parent[x] == x ? x : parent[x] = find(parent[x]);
  };
  ParamTypes scratch;
  Translator tr(out.scope, text, &scratch);
  std::vector<const Json*> conjuncts;
  for (const Json* q : quals) Conjuncts(*q, &conjuncts);
  if (s.contains("whereClause")) Conjuncts(Get(s, "whereClause"), &conjuncts);
  for (const Json* c : conjuncts) {
    if (!c->contains("A_Expr")) continue;
    const Json& e = Get(*c, "A_Expr");
    auto op = NameList(Get(e, "name"));
    if (e.value("kind", "") != "AEXPR_OP" || op.empty() || op.back() != "=") continue;
    if (!Get(e, "lexpr").contains("ColumnRef") || !Get(e, "rexpr").contains("ColumnRef")) continue;
    auto l = tr.ResolveColumn(Get(e, "lexpr"));
    auto r = tr.ResolveColumn(Get(e, "rexpr"));
    if (!l.ok() || !r.ok()) continue;
    const meta::TableDef* lt = out.scope[l->first].table;
    const meta::TableDef* rt = out.scope[r->first].table;
    if (lt->replicated || rt->replicated) continue;
    if (lt->shard_key[0] != l->second || rt->shard_key[0] != r->second) continue;
    const SqlType& ltype = lt->columns[l->second].type;
    const SqlType& rtype = rt->columns[r->second].type;
    if (ltype.id != rtype.id || ltype.scale != rtype.scale) continue;
    parent[find(l->first)] = find(r->first);
  }
  for (int i : sharded) {
    if (find(i) != find(sharded[0])) return std::nullopt;
  }
  out.key_rel = 0;
  for (int i : sharded) {
    if (!nullable[i]) {
      out.key_rel = i;
      break;
    }
  }
  return out;
}

Result<std::string> Planner::JoinSql(const Json& node, Translator* tr) {
  if (node.contains("RangeVar")) {
    SB_ASSIGN_OR_RETURN(const meta::TableDef* t, LookupTable(node));
    const Json& rv = Get(node, "RangeVar");
    std::string alias =
        rv.contains("alias") ? Get(rv, "alias").value("aliasname", t->name) : t->name;
    return QuoteIdent(t->name) + " AS " + QuoteIdent(alias);
  }
  const Json& j = Get(node, "JoinExpr");
  SB_ASSIGN_OR_RETURN(std::string l, JoinSql(Get(j, "larg"), tr));
  SB_ASSIGN_OR_RETURN(std::string r, JoinSql(Get(j, "rarg"), tr));
  if (Get(j, "rarg").contains("JoinExpr")) r = "(" + r + ")";
  const bool left = j.value("jointype", "") == "JOIN_LEFT";
  std::string sql = l + (left ? " LEFT JOIN " : " JOIN ") + r;
  if (j.contains("quals")) {
    if (ContainsAggregate(Get(j, "quals"))) {
      return Status(sqlstate::kGroupingError,
                    "aggregate functions are not allowed in JOIN "
                    "conditions");
    }
    SB_ASSIGN_OR_RETURN(Translated on, tr->Condition(Get(j, "quals")));
    sql += " ON " + on.sql;
  } else if (left) {
    sql += " ON 1";
  }
  return sql;
}

Result<SelectPlan> Planner::PlanCoordinatorSelect(const Json& s, std::string_view text,
                                                  ParamTypes* params) {
  QueryTranslator qt([this](const Json& rv) { return LookupTable(rv); }, text, params);
  SB_ASSIGN_OR_RETURN(QueryOutput q, qt.Select(s, nullptr));
  SelectPlan plan;
  plan.route.kind = RouteSpec::Kind::kCoordinator;
  plan.merge = SelectPlan::Merge::kCoordinator;
  plan.coordinator_sql = q.sql;
  plan.output = q.columns;
  for (const BaseInput& in : qt.inputs()) {
    exec::CoordinatorInput ci;
    ci.name = in.temp_name;
    Translator single({{in.alias, in.table}}, text, params);
    std::string cols;
    // Only the columns the query reads travel; count(*) alone still needs one.
    const bool none_used = std::none_of(in.used.begin(), in.used.end(), [](bool u) { return u; });
    for (size_t i = 0; i < in.table->columns.size(); ++i) {
      const auto& c = in.table->columns[i];
      if (c.hidden || (!in.used[i] && !(none_used && ci.width == 0))) continue;
      cols += (ci.width ? ", " : "") + QuoteIdent(in.alias) + "." + QuoteIdent(c.name);
      ci.columns_sql +=
          (ci.width ? ", " : "") + QuoteIdent(c.name) + " " + std::string(c.type.StorageClass());
      ++ci.width;
    }
    std::string where;
    std::string pushed_text;
    for (const Json& c : in.pushed) {
      SB_ASSIGN_OR_RETURN(Translated t, single.Condition(c));
      where += (where.empty() ? " WHERE " : " AND ") + t.sql;
    }
    Json conjunction;
    if (in.pushed.size() == 1) {
      conjunction = in.pushed[0];
    } else if (!in.pushed.empty()) {
      conjunction = {{"BoolExpr", {{"boolop", "AND_EXPR"}, {"args", in.pushed}}}};
    }
    if (in.table->system_view) {
      // Rows from the node answering, filtered at the coordinator.
      ci.system_view = in.table->name;
      ci.route.kind = RouteSpec::Kind::kCoordinator;
      ci.route.table = in.table;
      ci.shard_sql = "SELECT " + cols + " FROM " + std::string(meta::kSystemSchema) + "." +
                     QuoteIdent(in.table->name) + " AS " + QuoteIdent(in.alias) + where;
      ci.description = std::string(meta::kSystemSchema) + "." + in.table->name +
                       (in.alias != in.table->name ? " AS " + in.alias : "") + " (system view" +
                       (in.pushed.empty() ? "" : fmt::format(", {} filter(s)", in.pushed.size())) +
                       ")";
      plan.inputs.push_back(std::move(ci));
      continue;
    }
    ci.route = AnalyzeRoute(in.pushed.empty() ? nullptr : &conjunction, in.table, 0, &single);
    ci.shard_sql = "SELECT " + cols + " FROM " + QuoteIdent(in.table->name) + " AS " +
                   QuoteIdent(in.alias) + where;
    ci.description =
        in.table->name + (in.alias != in.table->name ? " AS " + in.alias : "") +
        (in.pushed.empty() ? ""
                           : fmt::format(" ({} filter(s) pushed to the shards)", in.pushed.size()));
    plan.inputs.push_back(std::move(ci));
  }
  plan.merge_description = "COORDINATOR";
  if (plan.inputs.empty()) {  // no table at all: evaluate where we are
    plan.shard_sql = plan.coordinator_sql;
    plan.merge = SelectPlan::Merge::kConcat;
  }
  return plan;
}

Result<SelectPlan> Planner::PlanSelect(const Json& s, Translator*, std::string_view text,
                                       ParamTypes* params) {
  std::optional<CoLocatedJoin> colocated;
  // Grouping sets become a UNION ALL of grouped queries, run at the coordinator.
  if (ReadsSystemView(s) || HasGroupingSets(s)) return PlanCoordinatorSelect(s, text, params);
  if (NeedsCoordinator(s)) {
    colocated = AnalyzeCoLocation(s, text);
    if (!colocated) return PlanCoordinatorSelect(s, text, params);
  }
  if (s.contains("valuesLists")) return NotSupported("a VALUES list as a query", 0);
  if (s.contains("lockingClause")) return NotSupported("SELECT ... FOR UPDATE/SHARE", 0);
  if (s.contains("intoClause")) return NotSupported("SELECT INTO", 0);
  if (s.contains("windowClause")) return NotSupported("WINDOW clauses", 0);
  bool distinct = false;
  if (s.contains("distinctClause")) {
    for (const auto& d : Get(s, "distinctClause")) {
      // Each group's first row needs all of them in one place.
      if (!d.empty()) return PlanCoordinatorSelect(s, text, params);
    }
    distinct = true;
  }

  // FROM: no table, one table, or a co-located join (whose rows all live on
  // the shard of their shard key; key_rel is a relation whose key decides).
  std::vector<Relation> scope;
  int key_rel = 0;
  if (colocated) {
    scope = colocated->scope;
    key_rel = colocated->key_rel;
  } else if (s.contains("fromClause")) {
    const Json& from = Get(s, "fromClause");
    if (from.size() != 1 || !from[0].contains("RangeVar")) {
      int pos = 0;
      for (const auto& f : from) {
        if (!f.contains("RangeVar")) {
          pos = Loc(f.begin().value());
          break;
        }
      }
      if (from.size() > 1) pos = Loc(from[1].begin().value());
      return NotSupported("a FROM clause with joins, subqueries or several tables", pos,
                          "This release runs single-table queries; joins are planned next.");
    }
    SB_ASSIGN_OR_RETURN(const meta::TableDef* table, LookupTable(from[0]));
    const Json& rv = Get(At(from, 0), "RangeVar");
    // The parse tree spells an alias {"alias": {"aliasname": "x"}}.
    std::string alias = table->name;
    if (rv.contains("alias") && Get(rv, "alias").is_object() &&
        Get(rv, "alias").contains("aliasname")) {
      alias = Get(rv, "alias").value("aliasname", table->name);
    }
    scope.push_back({alias, table});
  }

  SB_ASSIGN_OR_RETURN(std::vector<Target> targets, ExpandTargets(Get(s, "targetList"), scope));
  if (targets.empty()) return NotSupported("SELECT with an empty target list", 0);
  Translator tr(scope, text, params);

  const Json* where = s.contains("whereClause") ? &Get(s, "whereClause") : nullptr;
  std::string where_sql;
  if (where != nullptr) {
    if (ContainsAggregate(*where)) {
      return Status(sqlstate::kGroupingError, "aggregate functions are not allowed in WHERE", {},
                    0);
    }
    SB_ASSIGN_OR_RETURN(Translated w, tr.Condition(*where));
    where_sql = " WHERE " + w.sql;
  }

  std::vector<Json> group_by;
  if (s.contains("groupClause")) {
    SB_ASSIGN_OR_RETURN(group_by, ResolveGroupBy(Get(s, "groupClause"), targets, &tr, text));
  }
  const Json* having = s.contains("havingClause") ? &Get(s, "havingClause") : nullptr;
  bool aggregated = !group_by.empty() || having != nullptr;
  for (const auto& t : targets) aggregated = aggregated || ContainsAggregate(t.expr);

  std::vector<SortItem> sorts;
  if (s.contains("sortClause")) {
    SB_ASSIGN_OR_RETURN(sorts, ResolveSort(Get(s, "sortClause"), targets, text));
    for (const auto& si : sorts) aggregated = aggregated || ContainsAggregate(si.expr);
  }
  if (!group_by.empty()) AddFunctionallyDependentColumns(targets, having, sorts, &tr, &group_by);
  const Json* limit_node = s.contains("limitCount") ? &Get(s, "limitCount") : nullptr;
  const Json* offset_node = s.contains("limitOffset") ? &Get(s, "limitOffset") : nullptr;
  if (s.value("limitOption", "") == "LIMIT_OPTION_WITH_TIES")
    return NotSupported("FETCH ... WITH TIES", 0);

  SelectPlan plan;
  plan.colocated_join = colocated.has_value();
  if (scope.empty()) {
    plan.route.kind = RouteSpec::Kind::kCoordinator;
  } else {
    plan.route = AnalyzeRoute(where, scope[key_rel].table, key_rel, &tr);
  }
  std::string from_sql;
  if (colocated) {
    SB_ASSIGN_OR_RETURN(from_sql, JoinSql(At(Get(s, "fromClause"), 0), &tr));
    from_sql = " FROM " + from_sql;
  } else if (!scope.empty()) {
    from_sql = " FROM " + QuoteIdent(scope[0].table->name) + " AS " + QuoteIdent(scope[0].alias);
  }
  bool one_place =
      plan.route.kind == RouteSpec::Kind::kCoordinator ||
      plan.route.kind == RouteSpec::Kind::kAnyOneShard ||
      (plan.route.kind == RouteSpec::Kind::kKeyTuples && plan.route.tuples.size() == 1);

  if (one_place) {
    // The whole statement runs where the data is.
    tr.set_allow_aggregates(true);
    std::string sql = distinct ? "SELECT DISTINCT " : "SELECT ";
    const bool marker = NeedsAggregateMarker(targets, group_by, having);
    for (size_t i = 0; i < targets.size(); ++i) {
      SB_ASSIGN_OR_RETURN(Translated t, tr.Expr(targets[i].expr));
      if (t.type.id == TypeId::kUnknown) {
        SB_ASSIGN_OR_RETURN(t, tr.Coerce(std::move(t), SqlType::Of(TypeId::kText)));
      }
      sql += (i ? ", " : "") + OutputSql(t, distinct, marker && i == 0);
      plan.output.push_back({targets[i].name, t.type});
    }
    sql += from_sql + where_sql;
    SB_ASSIGN_OR_RETURN(std::string grouping,
                        GroupHavingSql(&tr, targets, group_by, having, aggregated));
    sql += grouping;
    if (!sorts.empty()) {
      sql += " ORDER BY ";
      for (size_t i = 0; i < sorts.size(); ++i) {
        SB_ASSIGN_OR_RETURN(Translated o, tr.Expr(sorts[i].expr));
        sql += (i ? ", " : "") + SortSql(o, sorts[i]);
      }
    }
    SB_ASSIGN_OR_RETURN(auto lim, LimitValue(limit_node, &tr));
    SB_ASSIGN_OR_RETURN(auto off, LimitValue(offset_node, &tr));
    if (lim || off) sql += " LIMIT " + (lim ? ValueSql(*lim) : std::string("-1"));
    if (off) sql += " OFFSET " + ValueSql(*off);
    plan.shard_sql = sql;
    plan.shard_width = static_cast<int>(plan.output.size());
    plan.merge = SelectPlan::Merge::kConcat;
    plan.single_shard = true;
    plan.merge_description = "none (single shard)";
    return plan;
  }

  // Grouped on the shard key: groups never span shards, so the whole
  // aggregation (and HAVING, ORDER BY ... LIMIT l+o) runs on the shards.
  const bool group_local = aggregated && !distinct && !group_by.empty() &&
                           GroupByCoversShardKey(group_by, scope[key_rel].table, key_rel, &tr);
  if ((!aggregated && !distinct) || group_local) {
    // Scatter: push WHERE, projection and ORDER BY ... LIMIT l+o down; merge.
    if (group_local) {
      tr.set_allow_aggregates(true);
      SB_RETURN_IF_ERROR(CheckGrouped(targets, group_by, &tr));
    }
    std::string sql = "SELECT ";
    int width = 0;
    for (size_t i = 0; i < targets.size(); ++i) {
      SB_ASSIGN_OR_RETURN(Translated t, tr.Expr(targets[i].expr));
      if (t.type.id == TypeId::kUnknown) {
        SB_ASSIGN_OR_RETURN(t, tr.Coerce(std::move(t), SqlType::Of(TypeId::kText)));
      }
      sql += (width++ ? ", " : "") + t.sql;
      plan.output.push_back({targets[i].name, t.type});
    }
    std::string order_sql;
    for (auto& si : sorts) {
      SB_ASSIGN_OR_RETURN(Translated o, tr.Expr(si.expr));
      int col = si.target;
      if (col < 0) {  // a sort expression not in the select list: hidden column
        sql += ", " + o.sql;
        col = width++;
      }
      plan.sort_keys.push_back({col, si.descending, si.nulls_first, IsDecimalText(o.type),
                                o.type.id == TypeId::kInterval});
      order_sql += (order_sql.empty() ? " ORDER BY " : ", ") + SortSql(o, si);
    }
    std::string group_sql;
    if (group_local) {
      group_sql = " GROUP BY ";
      for (size_t i = 0; i < group_by.size(); ++i) {
        SB_ASSIGN_OR_RETURN(Translated g, tr.Expr(group_by[i]));
        group_sql += (i ? ", " : "") + Translator::KeySql(g);
      }
      if (having != nullptr) {
        SB_ASSIGN_OR_RETURN(Translated h, tr.Condition(*having));
        group_sql += " HAVING " + h.sql;
      }
    }
    sql += from_sql + where_sql + group_sql + order_sql;
    SB_ASSIGN_OR_RETURN(plan.limit, LimitValue(limit_node, &tr));
    SB_ASSIGN_OR_RETURN(plan.offset, LimitValue(offset_node, &tr));
    if (plan.limit) {
      // Each shard returns at most limit + offset rows (R06-16).
      std::string l = ValueSql(*plan.limit);
      if (plan.offset) l = "(" + l + " + " + ValueSql(*plan.offset) + ")";
      sql += " LIMIT " + l;
    }
    plan.shard_sql = sql;
    plan.shard_width = width;
    plan.merge = sorts.empty() ? SelectPlan::Merge::kConcat : SelectPlan::Merge::kSortMerge;
    plan.merge_description = sorts.empty() ? "CONCAT" : "MERGE_SORT";
    if (group_local)
      plan.merge_description =
          "AGGREGATE on shards (grouped by the shard key) + " + plan.merge_description;
    if (plan.limit || plan.offset)
      plan.merge_description += sorts.empty() ? " + LIMIT" : " + TOP_N";
    return plan;
  }

  // Two-phase: shards compute groups and partial aggregates, the coordinator
  // merges them in an in-memory SQLite table _p(c0, c1, ...).
  std::vector<std::string> shard_cols;
  std::vector<SqlType> shard_types;
  std::vector<Json> group_exprs = group_by;
  if (!aggregated) {  // plain DISTINCT: every target is a group
    for (const auto& t : targets) group_exprs.push_back(t.expr);
  }
  for (const auto& g : group_exprs) {
    SB_ASSIGN_OR_RETURN(Translated t, tr.Expr(g));
    if (t.type.id == TypeId::kUnknown) {
      SB_ASSIGN_OR_RETURN(t, tr.Coerce(std::move(t), SqlType::Of(TypeId::kText)));
    }
    shard_cols.push_back(t.sql);
    shard_types.push_back(t.type);
  }
  const size_t n_groups = shard_cols.size();

  struct AggMerge {
    Json call;
    std::string merge_sql;
    SqlType type;
  };
  std::vector<AggMerge> merges;
  std::vector<Json> calls;
  for (const auto& t : targets) CollectAggregates(t.expr, &calls);
  if (having != nullptr) CollectAggregates(*having, &calls);
  for (const auto& si : sorts) CollectAggregates(si.expr, &calls);
  tr.set_allow_aggregates(true);
  for (const auto& call : calls) {
    SB_ASSIGN_OR_RETURN(Translated whole, tr.Expr(call));  // validates and types the call
    const Json& f = Get(call, "FuncCall");
    std::string name = Lower(NameList(Get(f, "funcname")).back());
    // FILTER and ordered-set aggregates (WITHIN GROUP) have no partial form.
    if (f.contains("agg_filter") || f.value("agg_within_group", false)) {
      return PlanCoordinatorSelect(s, text, params);
    }
    bool star = f.value("agg_star", false);
    bool dist = f.value("agg_distinct", false);
    Translated arg;
    if (!star) {
      SB_ASSIGN_OR_RETURN(arg, tr.Expr(At(Get(f, "args"), 0)));
      if (arg.type.id == TypeId::kUnknown) {
        SB_ASSIGN_OR_RETURN(arg, tr.Coerce(std::move(arg), SqlType::Of(TypeId::kText)));
      }
    }
    auto col = [&](const std::string& sql, SqlType type) {
      shard_cols.push_back(sql);
      shard_types.push_back(type);
      return "c" + std::to_string(shard_cols.size() - 1);
    };
    AggMerge m{call, {}, whole.type};
    if (dist) {
      // Per-shard distinct counts add up only when the argument is the
      // shard key: equal values then never meet on two shards.
      bool on_key = !star && name == "count" && At(Get(f, "args"), 0).contains("ColumnRef") &&
                    scope[key_rel].table->shard_key.size() == 1;
      if (on_key) {
        auto rc = tr.ResolveColumn(At(Get(f, "args"), 0));
        on_key =
            rc.ok() && rc->first == key_rel && rc->second == scope[key_rel].table->shard_key[0];
      }
      if (!on_key) {
        // Equal values may sit on several shards: count them where they meet.
        return PlanCoordinatorSelect(s, text, params);
      }
      m.merge_sql =
          "sum(" +
          col("count(DISTINCT " + Translator::KeySql(arg) + ")", SqlType::Of(TypeId::kInt8)) + ")";
    } else if (name == "count") {
      m.merge_sql = "sum(" +
                    col(star ? "count(*)" : "count(" + arg.sql + ")", SqlType::Of(TypeId::kInt8)) +
                    ")";
    } else if (name == "sum") {
      const std::string fn = SumFunction(arg.type);
      m.merge_sql = fn + col(fn + arg.sql + ")", whole.type) + ")";
    } else if (name == "min" || name == "max") {
      // Decimal text compares under its collation on the shards and here.
      auto by_value = [&](const std::string& sql) {
        return IsDecimalText(arg.type) ? Translator::KeySql(sql, arg.type) : sql;
      };
      m.merge_sql =
          name + "(" + by_value(col(name + "(" + by_value(arg.sql) + ")", whole.type)) + ")";
    } else if (name == "bool_and" || name == "every") {
      m.merge_sql = "min(" + col("min(" + arg.sql + ")", whole.type) + ")";
    } else if (name == "bool_or") {
      m.merge_sql = "max(" + col("max(" + arg.sql + ")", whole.type) + ")";
    } else if (name == "avg") {
      const std::string fn = SumFunction(arg.type);
      std::string sc = col(fn + arg.sql + ")", arg.type);
      std::string cc = col("count(" + arg.sql + ")", SqlType::Of(TypeId::kInt8));
      if (IsDecimalText(arg.type)) {
        m.merge_sql = fmt::format("sb_decop('/', sb_decsum({}), sum({}))", sc, cc);
      } else if (arg.type.id == TypeId::kInterval) {
        m.merge_sql = fmt::format("sb_iv_div(sb_ivsum({}), sum({}))", sc, cc);
      } else if (whole.type.id == TypeId::kFloat8) {
        m.merge_sql = fmt::format("(sum({}) * 1.0 / sum({}))", sc, cc);
      } else {
        int scale = arg.type.id == TypeId::kNumeric ? arg.type.scale : 0;
        m.merge_sql = fmt::format("sb_numavg({}{}), sum({}), {})", fn, sc, cc, scale);
      }
    } else if (auto kind = DispersionFromName(name); kind && arg.type.IsNumber()) {
      // Count, sum and sum of squares add up across shards.
      SB_ASSIGN_OR_RETURN(DispersionSums sums, tr.DispersionInputs(arg, false));
      const bool exact = sums.function == "sb_numvar";
      std::string cc = col("count(" + arg.sql + ")", SqlType::Of(TypeId::kInt8));
      std::string sc = col(sums.sum, sums.result);
      std::string qc = col(sums.sum_of_squares, sums.result);
      const char* add = exact ? "sb_decsum" : "sum";
      m.merge_sql = fmt::format("{}(sum({}), {}({}), {}({}), '{}')", sums.function, cc, add, sc,
                                add, qc, DispersionName(*kind));
    } else {
      // No partial form (string_agg, ...): aggregate the rows at the coordinator.
      return PlanCoordinatorSelect(s, text, params);
    }
    merges.push_back(std::move(m));
  }

  std::string shard_sql = "SELECT " + std::string(!aggregated ? "DISTINCT " : "");
  for (size_t i = 0; i < shard_cols.size(); ++i) {
    shard_sql += (i ? ", " : "") +
                 (!aggregated ? Translator::KeySql(shard_cols[i], shard_types[i]) : shard_cols[i]);
  }
  shard_sql += from_sql + where_sql;
  if (aggregated && n_groups > 0) {
    shard_sql += " GROUP BY ";
    for (size_t i = 0; i < n_groups; ++i) {
      shard_sql += (i ? ", " : "") + Translator::KeySql(shard_cols[i], shard_types[i]);
    }
  }

  // Coordinator stage.
  ParamTypes* ptypes = params;
  Translator coord({}, text, ptypes);
  coord.set_allow_aggregates(true);
  // o.status and status name the same group column.
  std::vector<Json> canonical_groups;
  for (const auto& g : group_exprs) canonical_groups.push_back(tr.Canonical(g));
  coord.set_override([&](const Json& node) -> std::optional<Result<Translated>> {
    const Json canonical = tr.Canonical(node);
    for (size_t i = 0; i < n_groups; ++i) {
      if (SameExpression(canonical, canonical_groups[i])) {
        Translated t;
        t.sql = "c" + std::to_string(i);
        t.type = shard_types[i];
        return Result<Translated>(t);
      }
    }
    if (Translator::IsAggregateCall(node)) {
      for (const auto& m : merges) {
        if (SameExpression(node, m.call)) {
          Translated t;
          t.sql = m.merge_sql;
          t.type = m.type;
          t.contains_aggregate = true;
          return Result<Translated>(t);
        }
      }
    }
    if (node.contains("ColumnRef")) {
      auto f = NameList(Get(Get(node, "ColumnRef"), "fields"));
      if (!aggregated) {
        return Result<Translated>(
            Status(sqlstate::kInvalidColumnReference,
                   "for SELECT DISTINCT, ORDER BY expressions must appear in select list", {},
                   Loc(Get(node, "ColumnRef"))));
      }
      return Result<Translated>(Status(sqlstate::kGroupingError,
                                       fmt::format("column \"{}\" must appear in the GROUP BY "
                                                   "clause or be used in an aggregate function",
                                                   fmt::join(f, ".")),
                                       {}, Loc(Get(node, "ColumnRef"))));
    }
    return std::nullopt;
  });
  std::string csql = std::string(distinct ? "SELECT DISTINCT " : "SELECT ");
  const bool marker = NeedsAggregateMarker(targets, group_by, having);
  for (size_t i = 0; i < targets.size(); ++i) {
    SB_ASSIGN_OR_RETURN(Translated t, coord.Expr(targets[i].expr));
    if (t.type.id == TypeId::kUnknown) {
      SB_ASSIGN_OR_RETURN(t, coord.Coerce(std::move(t), SqlType::Of(TypeId::kText)));
    }
    csql += (i ? ", " : "") + OutputSql(t, distinct, marker && i == 0);
    plan.output.push_back({targets[i].name, t.type});
  }
  csql += " FROM _p";
  if (aggregated && n_groups > 0) {
    csql += " GROUP BY ";
    for (size_t i = 0; i < n_groups; ++i) {
      csql += (i ? ", " : "") + Translator::KeySql("c" + std::to_string(i), shard_types[i]);
    }
  }
  if (having != nullptr) {
    SB_ASSIGN_OR_RETURN(Translated h, coord.Condition(*having));
    csql += " HAVING " + h.sql;
  }
  if (!sorts.empty()) {
    csql += " ORDER BY ";
    for (size_t i = 0; i < sorts.size(); ++i) {
      SB_ASSIGN_OR_RETURN(Translated o, coord.Expr(sorts[i].expr));
      csql += (i ? ", " : "") + SortSql(o, sorts[i]);
    }
  }
  SB_ASSIGN_OR_RETURN(auto lim, LimitValue(limit_node, &coord));
  SB_ASSIGN_OR_RETURN(auto off, LimitValue(offset_node, &coord));
  if (lim || off) csql += " LIMIT " + (lim ? ValueSql(*lim) : std::string("-1"));
  if (off) csql += " OFFSET " + ValueSql(*off);

  plan.shard_sql = shard_sql;
  plan.shard_width = static_cast<int>(shard_cols.size());
  plan.merge = SelectPlan::Merge::kCoordinator;
  plan.coordinator_sql = csql;
  plan.merge_description = aggregated ? "AGGREGATE" : "DISTINCT";
  if (!sorts.empty()) plan.merge_description += " + SORT";
  if (lim || off) plan.merge_description += " + LIMIT";
  return plan;
}

namespace {

// Values of an INSERT row: constants or parameters, coerced to the column type.
Result<ValueSource> InsertValue(const Json& node, const meta::ColumnDef& col, Translator* tr) {
  SB_ASSIGN_OR_RETURN(Translated t, tr->Expr(node));
  ValueSource vs;
  vs.type = col.type;
  if (t.param > 0) {
    if (t.type.id == TypeId::kUnknown) tr->params()->Set(t.param, col.type);
    vs.param = t.param;
    vs.param_type = t.type.id == TypeId::kUnknown ? col.type : t.type;
    return vs;
  }
  if (t.is_constant) {
    auto c = tr->Coerce(std::move(t), col.type);
    if (!c.ok()) {
      Status st = c.status();
      return st.WithPosition(Loc(node.begin().value()));
    }
    vs.constant = c->constant;
    return vs;
  }
  if (t.contains_aggregate) {
    return Status(sqlstate::kGroupingError, "aggregate functions are not allowed in VALUES", {},
                  Loc(node.begin().value()));
  }
  SB_ASSIGN_OR_RETURN(Translated c, tr->Coerce(std::move(t), col.type));
  vs.expression_sql = c.sql;
  return vs;
}

Result<std::pair<std::string, std::vector<OutputColumn>>> Returning(const Json& stmt,
                                                                    Translator* tr) {
  std::pair<std::string, std::vector<OutputColumn>> out;
  if (!stmt.contains("returningList")) return out;
  SB_ASSIGN_OR_RETURN(std::vector<Target> targets,
                      ExpandTargets(Get(stmt, "returningList"), tr->scope()));
  out.first = " RETURNING ";
  for (size_t i = 0; i < targets.size(); ++i) {
    if (ContainsAggregate(targets[i].expr)) {
      return Status(sqlstate::kGroupingError, "aggregate functions are not allowed in RETURNING");
    }
    SB_ASSIGN_OR_RETURN(Translated t, tr->Expr(targets[i].expr));
    if (t.type.id == TypeId::kUnknown) {
      SB_ASSIGN_OR_RETURN(t, tr->Coerce(std::move(t), SqlType::Of(TypeId::kText)));
    }
    out.first += (i ? ", " : "") + t.sql;
    out.second.push_back({targets[i].name, t.type});
  }
  return out;
}

}  // namespace

Result<exec::InsertPlan> Planner::PlanInsert(const Json& ins, std::string_view text,
                                             ParamTypes* params) {
  SB_ASSIGN_OR_RETURN(const meta::TableDef* table,
                      LookupWritableTable(Get(ins, "relation"), "insert into"));
  if (ins.contains("onConflictClause")) return NotSupported("INSERT ... ON CONFLICT", 0);
  if (ins.contains("withClause")) return NotSupported("WITH (common table expressions)", 0);
  exec::InsertPlan plan;
  plan.table = table;
  if (ins.contains("cols")) {
    for (const auto& c : Get(ins, "cols")) {
      std::string name = Get(c, "ResTarget").value("name", "");
      int idx = table->FindColumn(name);
      if (idx < 0 || table->columns[idx].hidden) {
        return Status(
            sqlstate::kUndefinedColumn,
            fmt::format("column \"{}\" of relation \"{}\" does not exist", name, table->name), {},
            Loc(Get(c, "ResTarget")));
      }
      if (std::find(plan.columns.begin(), plan.columns.end(), idx) != plan.columns.end()) {
        return Status(sqlstate::kDuplicateColumn,
                      fmt::format("column \"{}\" specified more than once", name), {},
                      Loc(Get(c, "ResTarget")));
      }
      plan.columns.push_back(idx);
    }
  } else {
    for (size_t i = 0; i < table->columns.size(); ++i) {
      if (!table->columns[i].hidden) plan.columns.push_back(static_cast<int>(i));
    }
  }
  if (!ins.contains("selectStmt")) {  // INSERT ... DEFAULT VALUES
    plan.rows.push_back({});
  } else {
    const Json& sel = Get(Get(ins, "selectStmt"), "SelectStmt");
    if (!sel.contains("valuesLists")) {
      return NotSupported("INSERT ... SELECT", 0, "Insert rows with VALUES or COPY.");
    }
    Translator tr({}, text, params);
    for (const auto& list : Get(sel, "valuesLists")) {
      const Json& items = Get(Get(list, "List"), "items");
      if (items.size() > plan.columns.size()) {
        return Status(sqlstate::kSyntaxError, "INSERT has more expressions than target columns", {},
                      Loc(items[plan.columns.size()].begin().value()));
      }
      if (items.size() < plan.columns.size() && ins.contains("cols")) {
        return Status(sqlstate::kSyntaxError, "INSERT has more target columns than expressions");
      }
      std::vector<ValueSource> row;
      for (size_t i = 0; i < items.size(); ++i) {
        const auto& col = table->columns[plan.columns[i]];
        if (items[i].contains("SetToDefault")) {
          ValueSource vs;
          vs.type = col.type;
          vs.constant = Value{};
          vs.param = -1;  // marker: DEFAULT
          row.push_back(vs);
          continue;
        }
        SB_ASSIGN_OR_RETURN(ValueSource vs, InsertValue(items[i], col, &tr));
        row.push_back(std::move(vs));
      }
      plan.rows.push_back(std::move(row));
    }
  }
  Translator rtr({{table->name, table}}, text, params);
  SB_ASSIGN_OR_RETURN(auto ret, Returning(ins, &rtr));
  plan.returning_sql = ret.first;
  plan.returning = ret.second;
  return plan;
}

Result<exec::ModifyPlan> Planner::PlanModify(const Json& stmt, bool is_update,
                                             std::string_view text, ParamTypes* params) {
  SB_ASSIGN_OR_RETURN(
      const meta::TableDef* table,
      LookupWritableTable(Get(stmt, "relation"), is_update ? "update" : "delete from"));
  if (stmt.contains("fromClause") || stmt.contains("usingClause")) {
    return NotSupported(is_update ? "UPDATE ... FROM" : "DELETE ... USING", 0);
  }
  if (stmt.contains("withClause")) return NotSupported("WITH (common table expressions)", 0);
  const Json& rv = Get(stmt, "relation");
  std::string alias = table->name;
  if (rv.contains("alias")) alias = Get(rv, "alias").value("aliasname", table->name);
  Translator tr({{alias, table}}, text, params);
  exec::ModifyPlan plan;
  plan.table = table;
  plan.is_update = is_update;
  std::string sql = (is_update ? "UPDATE " : "DELETE FROM ") + QuoteIdent(table->name) + " AS " +
                    QuoteIdent(alias);
  if (is_update) {
    sql += " SET ";
    size_t n = 0;
    for (const auto& item : Get(stmt, "targetList")) {
      const Json& rt = Get(item, "ResTarget");
      std::string name = rt.value("name", "");
      if (rt.contains("indirection"))
        return NotSupported("assignment to a subfield or array element", Loc(rt));
      int idx = table->FindColumn(name);
      if (idx < 0 || table->columns[idx].hidden) {
        return Status(
            sqlstate::kUndefinedColumn,
            fmt::format("column \"{}\" of relation \"{}\" does not exist", name, table->name), {},
            Loc(rt));
      }
      if (table->IsShardKeyColumn(idx)) {
        return Status(
            sqlstate::kFeatureNotSupported,
            fmt::format("updating shard key column \"{}\" of table \"{}\" is not supported", name,
                        table->name),
            "A new key value may belong to another shard. DELETE the row and INSERT it with "
            "the new key instead.",
            Loc(rt));
      }
      std::string value_sql;
      if (Get(rt, "val").contains("SetToDefault")) {
        const auto& col = table->columns[idx];
        if (col.default_now) {
          value_sql = "sb_setting('statement_timestamp')";
        } else if (col.default_text) {
          SB_ASSIGN_OR_RETURN(Value v, ParseTextValue(col.type, *col.default_text));
          value_sql = SqlLiteral(v);
        } else {
          value_sql = "NULL";
        }
      } else {
        if (ContainsAggregate(Get(rt, "val"))) {
          return Status(sqlstate::kGroupingError, "aggregate functions are not allowed in UPDATE",
                        {}, Loc(rt));
        }
        SB_ASSIGN_OR_RETURN(Translated v, tr.ExprAs(Get(rt, "val"), table->columns[idx].type));
        value_sql = v.sql;
      }
      sql += (n++ ? ", " : "") + QuoteIdent(name) + " = " + value_sql;
    }
  }
  const Json* where = stmt.contains("whereClause") ? &Get(stmt, "whereClause") : nullptr;
  if (where != nullptr) {
    if (ContainsAggregate(*where)) {
      return Status(sqlstate::kGroupingError, "aggregate functions are not allowed in WHERE");
    }
    SB_ASSIGN_OR_RETURN(Translated w, tr.Condition(*where));
    sql += " WHERE " + w.sql;
  }
  plan.route = AnalyzeRoute(where, table, 0, &tr);
  if (table->replicated) plan.route.kind = RouteSpec::Kind::kAllShards;
  SB_ASSIGN_OR_RETURN(auto ret, Returning(stmt, &tr));
  sql += ret.first;
  plan.returning = ret.second;
  plan.shard_sql = sql;
  return plan;
}

Result<exec::CopyPlan> Planner::PlanCopy(const Json& c) {
  if (!c.value("is_from", false)) {
    return NotSupported("COPY ... TO", 0, "Use SELECT to read data.");
  }
  if (c.contains("filename") || c.value("is_program", false)) {
    return NotSupported("COPY FROM a server file or program", 0,
                        "Use COPY ... FROM STDIN (psql's \\copy sends a client-side file).");
  }
  if (c.contains("query")) return NotSupported("COPY (query)", 0);
  SB_ASSIGN_OR_RETURN(const meta::TableDef* table,
                      LookupWritableTable(Get(c, "relation"), "copy into"));
  exec::CopyPlan plan;
  plan.table = table;
  if (c.contains("attlist")) {
    for (const auto& a : NameList(Get(c, "attlist"))) {
      int idx = table->FindColumn(a);
      if (idx < 0 || table->columns[idx].hidden) {
        return Status(
            sqlstate::kUndefinedColumn,
            fmt::format("column \"{}\" of relation \"{}\" does not exist", a, table->name));
      }
      plan.columns.push_back(idx);
    }
  } else {
    for (size_t i = 0; i < table->columns.size(); ++i) {
      if (!table->columns[i].hidden) plan.columns.push_back(static_cast<int>(i));
    }
  }
  bool delimiter_set = false, null_set = false;
  for (const auto& o : Get(c, "options")) {
    const Json& d = Get(o, "DefElem");
    std::string name = Lower(d.value("defname", ""));
    std::string val;
    if (d.contains("arg")) {
      if (Get(d, "arg").contains("String")) val = Get(Get(d, "arg"), "String").value("sval", "");
      if (Get(d, "arg").contains("Boolean"))
        val = Get(Get(d, "arg"), "Boolean").value("boolval", false) ? "true" : "false";
      if (Get(d, "arg").contains("Integer"))
        val = std::to_string(Get(Get(d, "arg"), "Integer").value("ival", 0));
    }
    if (name == "format") {
      val = Lower(val);
      if (val == "csv") {
        plan.csv = true;
      } else if (val != "text") {
        return NotSupported("COPY format \"" + val + "\"", Loc(d));
      }
    } else if (name == "delimiter") {
      if (val.size() != 1)
        return Status(sqlstate::kFeatureNotSupported,
                      "COPY delimiter must be a single one-byte character");
      plan.delimiter = val[0];
      delimiter_set = true;
    } else if (name == "null") {
      plan.null_string = val;
      null_set = true;
    } else if (name == "header") {
      plan.header =
          d.contains("arg") ? (Lower(val) == "true" || val == "1" || Lower(val) == "on") : true;
    } else if (name == "quote") {
      if (val.size() != 1)
        return Status(sqlstate::kFeatureNotSupported,
                      "COPY quote must be a single one-byte character");
      plan.quote = val[0];
    } else {
      return NotSupported("COPY option \"" + name + "\"", Loc(d));
    }
  }
  if (plan.csv) {
    if (!delimiter_set) plan.delimiter = ',';
    if (!null_set) plan.null_string = "";
  }
  return plan;
}

Result<PlannedStatement> Planner::Plan(const ParsedStatement& stmt, std::string_view text,
                                       const std::vector<SqlType>& declared_params) {
  ParamTypes params(declared_params);
  PlannedStatement out;
  const std::string kind = stmt.kind();
  const Json& b = stmt.body();
  if (kind == "SelectStmt") {
    SB_ASSIGN_OR_RETURN(exec::SelectPlan p, PlanSelect(b, nullptr, text, &params));
    out.plan = std::move(p);
  } else if (kind == "InsertStmt") {
    SB_ASSIGN_OR_RETURN(exec::InsertPlan p, PlanInsert(b, text, &params));
    out.plan = std::move(p);
  } else if (kind == "UpdateStmt" || kind == "DeleteStmt") {
    SB_ASSIGN_OR_RETURN(exec::ModifyPlan p, PlanModify(b, kind == "UpdateStmt", text, &params));
    out.plan = std::move(p);
  } else if (kind == "CreateStmt") {
    SB_ASSIGN_OR_RETURN(exec::DdlPlan p, PlanCreateTable(stmt, text));
    out.plan = std::move(p);
  } else if (kind == "DropStmt") {
    SB_ASSIGN_OR_RETURN(exec::DdlPlan p, PlanDrop(b));
    out.plan = std::move(p);
  } else if (kind == "IndexStmt") {
    SB_ASSIGN_OR_RETURN(exec::DdlPlan p, PlanCreateIndex(b));
    out.plan = std::move(p);
  } else if (kind == "AlterTableStmt") {
    SB_ASSIGN_OR_RETURN(exec::DdlPlan p, PlanAlterTable(b, text));
    out.plan = std::move(p);
  } else if (kind == "CopyStmt") {
    SB_ASSIGN_OR_RETURN(exec::CopyPlan p, PlanCopy(b));
    out.plan = std::move(p);
  } else if (kind == "TransactionStmt") {
    std::string k = b.value("kind", "");
    if (k == "TRANS_STMT_BEGIN" || k == "TRANS_STMT_START") {
      out.plan = TransactionCommand{TransactionCommand::Op::kBegin};
    } else if (k == "TRANS_STMT_COMMIT") {
      out.plan = TransactionCommand{TransactionCommand::Op::kCommit};
    } else if (k == "TRANS_STMT_ROLLBACK") {
      out.plan = TransactionCommand{TransactionCommand::Op::kRollback};
    } else {
      return NotSupported("SAVEPOINT, PREPARE TRANSACTION and two-phase commit", 0,
                          "Transactions are shard-local; see docs/sql.md.");
    }
  } else if (kind == "VariableSetStmt") {
    SetCommand sc;
    std::string k = b.value("kind", "");
    sc.name = Lower(b.value("name", ""));
    if (k == "VAR_SET_VALUE") {
      std::vector<std::string> parts;
      for (const auto& a : Get(b, "args")) {
        if (a.contains("A_Const")) {
          const Json& c = Get(a, "A_Const");
          if (c.contains("sval"))
            parts.push_back(Get(c, "sval").value("sval", ""));
          else if (c.contains("ival"))
            parts.push_back(std::to_string(ConstIntValue(c, text)));
          else if (c.contains("fval"))
            parts.push_back(Get(c, "fval").value("fval", ""));
          else if (c.contains("boolval"))
            parts.push_back(Get(c, "boolval").value("boolval", false) ? "on" : "off");
        } else if (a.contains("TypeCast") && Get(Get(a, "TypeCast"), "arg").contains("A_Const")) {
          parts.push_back(
              Get(Get(Get(Get(a, "TypeCast"), "arg"), "A_Const"), "sval").value("sval", ""));
        } else {
          return NotSupported("this SET value", 0);
        }
      }
      std::string joined;
      for (size_t i = 0; i < parts.size(); ++i) joined += (i ? ", " : "") + parts[i];
      sc.value = joined;
    } else if (k == "VAR_SET_DEFAULT" || k == "VAR_RESET") {
      sc.is_reset = true;
    } else if (k == "VAR_RESET_ALL") {
      sc.is_reset = true;
      sc.reset_all = true;
    } else if (k == "VAR_SET_MULTI") {
      out.plan = EmptyCommand{"SET"};  // SET TRANSACTION ...: shard transactions are serializable
      return out;
    } else {
      return NotSupported("this form of SET", 0);
    }
    out.plan = sc;
  } else if (kind == "VariableShowStmt") {
    out.plan = ShowCommand{Lower(b.value("name", ""))};
  } else if (kind == "ExplainStmt") {
    ExplainCommand ec;
    for (const auto& o : Get(b, "options")) {
      std::string name = Lower(Get(o, "DefElem").value("defname", ""));
      if (name == "analyze") {
        const Json& d = Get(o, "DefElem");
        ec.analyze = !d.contains("arg") ||
                     !(Get(d, "arg").contains("String") &&
                       (Lower(Get(Get(d, "arg"), "String").value("sval", "")) == "false" ||
                        Lower(Get(Get(d, "arg"), "String").value("sval", "")) == "off"));
      } else if (name == "format") {
        std::string f = Lower(Get(Get(Get(o, "DefElem"), "arg"), "String").value("sval", "text"));
        if (f != "text") return NotSupported("EXPLAIN (FORMAT " + f + ")", 0);
      }
    }
    ParsedStatement inner;
    inner.node = Get(b, "query");
    inner.text = stmt.text;
    inner.location = stmt.location;
    SB_ASSIGN_OR_RETURN(PlannedStatement ip, Plan(inner, text, declared_params));
    if (ip.is_write() && ec.analyze) {
      return NotSupported("EXPLAIN ANALYZE of a write", 0, "Use EXPLAIN without ANALYZE.");
    }
    ec.inner = std::make_shared<PlannedStatement>(std::move(ip));
    out.param_types = ec.inner->param_types;
    out.plan = std::move(ec);
    return out;
  } else if (kind == "DiscardStmt") {
    out.plan = EmptyCommand{"DISCARD ALL"};
  } else if (kind == "DeallocateStmt") {
    DeallocateCommand dc;
    dc.name = b.value("name", std::string());
    dc.all = dc.name.empty() || b.value("isall", false);
    out.plan = std::move(dc);
  } else {
    std::string name = kind;
    if (name.size() > 4 && name.substr(name.size() - 4) == "Stmt")
      name = name.substr(0, name.size() - 4);
    return Status(sqlstate::kFeatureNotSupported, "statement " + name + " is not supported",
                  "See docs/sql.md for the statements ScratchBird supports.");
  }
  // Unreferenced or unresolved parameters default to text, as PostgreSQL's unknown.
  std::vector<SqlType> types = params.types();
  if (static_cast<int>(types.size()) < params.max_referenced())
    types.resize(params.max_referenced());
  for (auto& t : types) {
    if (t.id == TypeId::kUnknown) t = SqlType::Of(TypeId::kText);
  }
  out.param_types = std::move(types);
  return out;
}

}  // namespace sb::sql
