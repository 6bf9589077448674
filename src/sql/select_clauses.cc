#include "sql/select_clauses.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace sb::sql {

using exec::ValueSource;

int Loc(const Json& body) {
  return body.is_object() ? body.value("location", -1) + 1 : 0;
}

Status NotSupported(const std::string& what, int position, std::string hint) {
  return Status(sqlstate::kFeatureNotSupported, what + " is not supported", std::move(hint),
                position);
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ContainsKey(const Json& j, std::string_view key) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == key || ContainsKey(it.value(), key)) return true;
    }
  } else if (j.is_array()) {
    for (const auto& e : j) {
      if (ContainsKey(e, key)) return true;
    }
  }
  return false;
}

Result<SortItem> SortDirection(const Json& sort_by) {
  const Json& sb = Get(sort_by, "SortBy");
  SortItem item;
  item.expr = Get(sb, "node");
  const std::string dir = sb.value("sortby_dir", "SORTBY_DEFAULT");
  if (dir == "SORTBY_USING") return NotSupported("ORDER BY ... USING", Loc(sb));
  item.descending = dir == "SORTBY_DESC";
  const std::string nulls = sb.value("sortby_nulls", "SORTBY_NULLS_DEFAULT");
  item.nulls_first =
      nulls == "SORTBY_NULLS_FIRST" || (nulls == "SORTBY_NULLS_DEFAULT" && item.descending);
  return item;
}

bool ContainsAggregate(const Json& j) {
  if (j.is_object()) {
    if (j.contains("SubLink")) return false;
    if (Translator::IsAggregateCall(j)) return true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (ContainsAggregate(it.value())) return true;
    }
  } else if (j.is_array()) {
    for (const auto& e : j) {
      if (ContainsAggregate(e)) return true;
    }
  }
  return false;
}

void CollectAggregates(const Json& j, std::vector<Json>* out) {
  if (j.is_object()) {
    if (j.contains("SubLink")) return;
    if (Translator::IsAggregateCall(j)) {
      for (const auto& e : *out) {
        if (SameExpression(e, j)) return;
      }
      out->push_back(j);
      return;
    }
    for (auto it = j.begin(); it != j.end(); ++it) CollectAggregates(it.value(), out);
  } else if (j.is_array()) {
    for (const auto& e : j) CollectAggregates(e, out);
  }
}

void Conjuncts(const Json& where, std::vector<const Json*>* out) {
  if (where.contains("BoolExpr") && Get(where, "BoolExpr").value("boolop", "") == "AND_EXPR") {
    for (const auto& a : Get(Get(where, "BoolExpr"), "args")) Conjuncts(a, out);
    return;
  }
  out->push_back(&where);
}
Result<std::vector<Target>> ExpandTargets(const Json& target_list,
                                          const std::vector<Relation>& scope) {
  std::vector<Target> out;
  for (const auto& item : target_list) {
    const Json& rt = Get(item, "ResTarget");
    const Json& val = Get(rt, "val");
    if (val.contains("ColumnRef")) {
      auto fields = NameList(Get(Get(val, "ColumnRef"), "fields"));
      if (!fields.empty() && fields.back() == "*") {
        if (scope.empty()) {
          return Status(sqlstate::kSyntaxError, "SELECT * with no tables specified is not valid",
                        {}, Loc(Get(val, "ColumnRef")));
        }
        bool matched = false;
        for (const auto& rel : scope) {
          if (fields.size() == 2 && rel.alias != fields[0]) continue;
          matched = true;
          for (const auto& col : rel.table->columns) {
            if (col.hidden) continue;
            Json ref = {{"ColumnRef",
                         {{"fields", Json::array({Json{{"String", {{"sval", rel.alias}}}},
                                                  Json{{"String", {{"sval", col.name}}}}})},
                          {"location", -1}}}};
            out.push_back({ref, col.name});
          }
        }
        if (!matched) {
          return Status(sqlstate::kUndefinedTable,
                        fmt::format("missing FROM-clause entry for table \"{}\"", fields[0]), {},
                        Loc(Get(val, "ColumnRef")));
        }
        continue;
      }
    }
    out.push_back({val, rt.contains("name") ? Get(rt, "name").get<std::string>()
                                            : Translator::ColumnName(val)});
  }
  return out;
}

// ORDER BY items: ordinals and output-column names refer to targets.
Result<std::vector<SortItem>> ResolveSort(const Json& sort_clause,
                                          const std::vector<Target>& targets,
                                          std::string_view text) {
  std::vector<SortItem> out;
  for (const auto& s : sort_clause) {
    SB_ASSIGN_OR_RETURN(SortItem item, SortDirection(s));
    if (item.expr.contains("A_Const") && Get(item.expr, "A_Const").contains("ival")) {
      int64_t k = ConstIntValue(Get(item.expr, "A_Const"), text);
      if (k < 1 || k > static_cast<int64_t>(targets.size())) {
        return Status(sqlstate::kInvalidColumnReference,
                      fmt::format("ORDER BY position {} is not in select list", k), {},
                      Loc(Get(item.expr, "A_Const")));
      }
      item.target = static_cast<int>(k - 1);
      item.expr = targets[item.target].expr;
    } else if (item.expr.contains("ColumnRef")) {
      auto f = NameList(Get(Get(item.expr, "ColumnRef"), "fields"));
      if (f.size() == 1) {
        for (size_t i = 0; i < targets.size(); ++i) {
          if (targets[i].name == f[0]) {
            item.target = static_cast<int>(i);
            item.expr = targets[i].expr;
            break;
          }
        }
      }
    }
    if (item.target < 0) {
      for (size_t i = 0; i < targets.size(); ++i) {
        if (SameExpression(targets[i].expr, item.expr)) {
          item.target = static_cast<int>(i);
          break;
        }
      }
    }
    out.push_back(std::move(item));
  }
  return out;
}

bool NeedsAggregateMarker(const std::vector<Target>& targets, const std::vector<Json>& group_by,
                          const Json* having) {
  if (having == nullptr || !group_by.empty()) return false;
  return std::none_of(targets.begin(), targets.end(),
                      [](const Target& t) { return ContainsAggregate(t.expr); });
}

std::string OutputSql(const Translated& t, bool distinct, bool aggregate_marker) {
  // DISTINCT compares like PostgreSQL ('1.5' = '1.50', '1 mon' = '30 days').
  std::string sql = distinct ? Translator::KeySql(t) : t.sql;
  if (aggregate_marker) sql = "(CASE WHEN count(*) >= 0 THEN " + sql + " END)";
  return sql;
}

// Unconstrained numeric values are decimal text: they sort by value under
// the sb_decimal collation (exec/sql_functions.h), not bytewise.
bool IsDecimalText(const SqlType& t) {
  return t.id == TypeId::kNumeric && !NumericIsScaled(t);
}

std::string SortSql(const Translated& expr, const SortItem& s) {
  // By value: decimal text numerically, intervals by span (ties go on to the next key).
  return Translator::KeySql(expr) + (s.descending ? " DESC" : " ASC") +
         (s.nulls_first ? " NULLS FIRST" : " NULLS LAST");
}

Result<std::optional<ValueSource>> LimitValue(const Json* node, Translator* tr) {
  if (node == nullptr || node->is_null()) return std::optional<ValueSource>();
  SB_ASSIGN_OR_RETURN(Translated t, tr->ExprAs(*node, SqlType::Of(TypeId::kInt8)));
  ValueSource vs;
  vs.type = SqlType::Of(TypeId::kInt8);
  if (t.is_constant) {
    if (IsNull(t.constant)) return std::optional<ValueSource>();  // LIMIT ALL / NULL
    vs.constant = t.constant;
    if (std::get<int64_t>(t.constant) < 0) {
      return Status(sqlstate::kInvalidRowCountInLimit, "LIMIT/OFFSET must not be negative");
    }
  } else if (t.param > 0) {
    vs.param = t.param;
    vs.param_type = SqlType::Of(TypeId::kInt8);
  } else {
    return NotSupported("a LIMIT/OFFSET expression other than a constant or parameter");
  }
  return std::optional<ValueSource>(vs);
}

std::string ValueSql(const ValueSource& v) {
  return v.constant ? SqlLiteral(*v.constant) : "?" + std::to_string(v.param);
}

Result<std::vector<Json>> ResolveGroupBy(const Json& group_clause,
                                         const std::vector<Target>& targets, Translator* tr,
                                         std::string_view text) {
  std::vector<Json> out;
  for (const auto& g : group_clause) {
    if (g.contains("GroupingSet")) return NotSupported("GROUPING SETS, ROLLUP and CUBE", 0);
    Json e = g;
    if (g.contains("A_Const") && Get(g, "A_Const").contains("ival")) {
      int64_t k = ConstIntValue(Get(g, "A_Const"), text);
      if (k < 1 || k > static_cast<int64_t>(targets.size())) {
        return Status(sqlstate::kInvalidColumnReference,
                      fmt::format("GROUP BY position {} is not in select list", k), {},
                      Loc(Get(g, "A_Const")));
      }
      e = targets[k - 1].expr;
    } else if (g.contains("ColumnRef")) {
      auto f = NameList(Get(Get(g, "ColumnRef"), "fields"));
      if (f.size() == 1 && !tr->ResolveColumn(g).ok()) {
        for (const auto& t : targets) {
          if (t.name == f[0]) {
            e = t.expr;
            break;
          }
        }
      }
    }
    if (ContainsAggregate(e)) {
      return Status(sqlstate::kGroupingError, "aggregate functions are not allowed in GROUP BY", {},
                    0);
    }
    out.push_back(e);
  }
  return out;
}

namespace {

// Column references outside aggregate calls and subqueries.
void CollectUngroupedColumnRefs(const Json& e, std::vector<const Json*>* out) {
  if (e.is_array()) {
    for (const auto& item : e) CollectUngroupedColumnRefs(item, out);
    return;
  }
  if (!e.is_object() || e.contains("SubLink")) return;
  if (Translator::IsAggregateCall(e)) return;
  if (e.contains("ColumnRef")) {
    out->push_back(&e);
    return;
  }
  for (const auto& [key, value] : e.items()) CollectUngroupedColumnRefs(value, out);
}

}  // namespace

void AddFunctionallyDependentColumns(const std::vector<Target>& targets, const Json* having,
                                     const std::vector<SortItem>& sorts, Translator* tr,
                                     std::vector<Json>* group_by) {
  std::set<std::pair<int, int>> grouped;
  for (const auto& g : *group_by) {
    if (!g.contains("ColumnRef")) continue;
    if (auto rc = tr->ResolveColumn(g); rc.ok()) grouped.insert(*rc);
  }
  const auto& scope = tr->scope();
  std::vector<bool> key_grouped(scope.size(), false);
  bool any = false;
  for (size_t r = 0; r < scope.size(); ++r) {
    const meta::TableDef* t = scope[r].table;
    if (t == nullptr || t->primary_key.empty() || t->system_view) continue;
    key_grouped[r] = std::all_of(t->primary_key.begin(), t->primary_key.end(), [&](int c) {
      return grouped.contains({static_cast<int>(r), c});
    });
    any = any || key_grouped[r];
  }
  if (!any) return;
  std::vector<const Json*> refs;
  for (const auto& t : targets) CollectUngroupedColumnRefs(t.expr, &refs);
  if (having != nullptr) CollectUngroupedColumnRefs(*having, &refs);
  for (const auto& si : sorts) CollectUngroupedColumnRefs(si.expr, &refs);
  for (const Json* ref : refs) {
    auto rc = tr->ResolveColumn(*ref);
    if (!rc.ok() || rc->first < 0 || static_cast<size_t>(rc->first) >= scope.size() ||
        !key_grouped[static_cast<size_t>(rc->first)] || grouped.contains(*rc))
      continue;
    grouped.insert(*rc);
    group_by->push_back(*ref);
  }
}

// PostgreSQL's rule: outside aggregates, a selected column must be grouped
// (SQLite would silently pick a value from the group).
Status CheckGrouped(const std::vector<Target>& targets, const std::vector<Json>& group_by,
                    Translator* tr) {
  std::vector<Json> groups;
  for (const auto& g : group_by) groups.push_back(tr->Canonical(g));
  for (const auto& t : targets) {
    if (ContainsAggregate(t.expr)) continue;
    const Json e = tr->Canonical(t.expr);
    bool grouped = std::any_of(groups.begin(), groups.end(),
                               [&](const Json& g) { return SameExpression(g, e); });
    if (!grouped && t.expr.contains("ColumnRef")) {
      auto f = NameList(Get(Get(t.expr, "ColumnRef"), "fields"));
      return Status(sqlstate::kGroupingError,
                    fmt::format("column \"{}\" must appear in the GROUP BY clause or be used in an "
                                "aggregate function",
                                fmt::join(f, ".")),
                    {}, Loc(Get(t.expr, "ColumnRef")));
    }
  }
  return Status::Ok();
}
namespace {

// A column outside aggregates that is not (part of) a GROUP BY expression.
Status CheckUngrouped(const Json& e, const std::vector<Json>& group_by) {
  if (e.is_array()) {
    for (const auto& item : e) SB_RETURN_IF_ERROR(CheckUngrouped(item, group_by));
    return Status::Ok();
  }
  if (!e.is_object() || e.contains("SubLink")) return Status::Ok();
  if (std::any_of(group_by.begin(), group_by.end(),
                  [&](const Json& g) { return SameExpression(g, e); })) {
    return Status::Ok();
  }
  if (e.contains("FuncCall") && !Get(e, "FuncCall").contains("over") &&
      Translator::IsAggregateCall(e)) {
    return Status::Ok();
  }
  if (e.contains("ColumnRef")) {
    auto f = NameList(Get(Get(e, "ColumnRef"), "fields"));
    // t.c and c may name the same grouped column: rather miss the error than
    // refuse a valid query.
    for (const auto& g : group_by) {
      if (!g.contains("ColumnRef")) continue;
      auto gf = NameList(Get(Get(g, "ColumnRef"), "fields"));
      if (!f.empty() && !gf.empty() && f.back() == gf.back()) return Status::Ok();
    }
    return Status(sqlstate::kGroupingError,
                  fmt::format("column \"{}\" must appear in the GROUP BY clause or be used in an "
                              "aggregate function",
                              fmt::join(f, ".")),
                  {}, Loc(Get(e, "ColumnRef")));
  }
  for (const auto& [key, value] : e.items()) SB_RETURN_IF_ERROR(CheckUngrouped(value, group_by));
  return Status::Ok();
}

}  // namespace

Status CheckGroupedWindows(const Json& tree, const std::vector<Json>& group_by) {
  if (tree.is_array()) {
    for (const auto& item : tree) SB_RETURN_IF_ERROR(CheckGroupedWindows(item, group_by));
    return Status::Ok();
  }
  if (!tree.is_object() || tree.contains("SubLink")) return Status::Ok();
  const Json* over = nullptr;
  if (tree.contains("FuncCall") && Get(tree, "FuncCall").contains("over")) {
    over = &Get(Get(tree, "FuncCall"), "over");
    SB_RETURN_IF_ERROR(CheckUngrouped(Get(Get(tree, "FuncCall"), "args"), group_by));
  } else if (tree.contains("partitionClause") || tree.contains("orderClause")) {
    over = &tree;  // a window definition itself
  }
  if (over != nullptr) {
    SB_RETURN_IF_ERROR(CheckUngrouped(Get(*over, "partitionClause"), group_by));
    for (const auto& o : Get(*over, "orderClause")) {
      SB_RETURN_IF_ERROR(CheckUngrouped(Get(Get(o, "SortBy"), "node"), group_by));
    }
    return Status::Ok();
  }
  for (const auto& [key, value] : tree.items()) {
    SB_RETURN_IF_ERROR(CheckGroupedWindows(value, group_by));
  }
  return Status::Ok();
}

Result<std::string> GroupHavingSql(Translator* tr, const std::vector<Target>& targets,
                                   const std::vector<Json>& group_by, const Json* having,
                                   bool aggregated) {
  std::string sql;
  if (!group_by.empty()) {
    sql += " GROUP BY ";
    for (size_t i = 0; i < group_by.size(); ++i) {
      SB_ASSIGN_OR_RETURN(Translated g, tr->Expr(group_by[i]));
      sql += (i ? ", " : "") + Translator::KeySql(g);
    }
  }
  if (having != nullptr) {
    SB_ASSIGN_OR_RETURN(Translated h, tr->Condition(*having));
    sql += " HAVING " + h.sql;
  }
  if (aggregated) SB_RETURN_IF_ERROR(CheckGrouped(targets, group_by, tr));
  return sql;
}

}  // namespace sb::sql
