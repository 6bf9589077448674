#include "sql/query_translator.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/decimal.h"
#include "common/interval.h"
#include "sql/grouping_sets.h"
#include "sql/select_clauses.h"
#include "sql/series_function.h"

namespace sb::sql {

using exec::OutputColumn;

namespace {

Translated MakeExpr(std::string sql, SqlType type) {
  Translated t;
  t.sql = std::move(sql);
  t.type = type;
  return t;
}

Json ColumnRefJson(const std::string& name) {
  return {{"ColumnRef", {{"fields", Json::array({Json{{"String", {{"sval", name}}}}})}}}};
}

std::string StringValue(const Json& node) {
  return Get(node, "String").value("sval", "");
}

// A typed SelectStmt pointer is printed without the node name (larg, rarg),
// a Node pointer with it (subselect, ctequery).
const Json& SelectBody(const Json& node) {
  return node.contains("SelectStmt") ? Get(node, "SelectStmt") : node;
}

bool IsUnqualifiedStar(const Json& val) {
  if (!val.contains("ColumnRef")) return false;
  const Json& fields = Get(Get(val, "ColumnRef"), "fields");
  return fields.size() == 1 && At(fields, 0).contains("A_Star");
}

// PostgreSQL's frame option bits (nodes/parsenodes.h, FRAMEOPTION_*).
constexpr int kFrameRange = 0x2, kFrameRows = 0x4, kFrameGroups = 0x8, kFrameBetween = 0x10;
constexpr int kStartUnboundedPreceding = 0x20, kEndUnboundedFollowing = 0x100;
constexpr int kStartCurrentRow = 0x200, kEndCurrentRow = 0x400;
constexpr int kStartOffsetPreceding = 0x800, kEndOffsetPreceding = 0x1000;
constexpr int kStartOffsetFollowing = 0x2000, kEndOffsetFollowing = 0x4000;
constexpr int kExcludeCurrentRow = 0x8000, kExcludeGroup = 0x10000, kExcludeTies = 0x20000;

// A named window of a WINDOW clause, resolved to a plain inline WindowDef.
struct NamedWindow {
  std::string name;
  Json def;
};

Status WindowError(const std::string& message, int loc, const std::string& hint = {}) {
  return Status(sqlstate::kWindowingError, message, hint, loc);
}

// PostgreSQL's rules (transformWindowDefinitions, transformWindowFuncCall):
// OVER w uses window w as it is; OVER (w ...) and w2 AS (w ...) copy w's
// PARTITION BY and ORDER BY, may add an ORDER BY only when w has none, never
// a PARTITION BY, keep their own frame, and w must not have a frame.
Result<Json> ResolveWindow(const Json& wd, const std::vector<NamedWindow>& defs, bool in_clause) {
  auto find = [&](const std::string& name) -> const NamedWindow* {
    for (const auto& d : defs) {
      if (d.name == name) return &d;
    }
    return nullptr;
  };
  const int loc = wd.value("location", -1);
  if (!in_clause && wd.contains("name")) {
    const std::string name = wd.value("name", "");
    const NamedWindow* w = find(name);
    if (w == nullptr) {
      return Status(sqlstate::kUndefinedObject, fmt::format("window \"{}\" does not exist", name),
                    {}, loc);
    }
    return w->def;
  }
  Json out = wd;
  out.erase("name");
  out.erase("refname");
  if (!wd.contains("refname")) return out;
  const std::string refname = wd.value("refname", "");
  const NamedWindow* ref = find(refname);
  if (ref == nullptr) {
    return Status(sqlstate::kUndefinedObject, fmt::format("window \"{}\" does not exist", refname),
                  {}, loc);
  }
  if (wd.contains("partitionClause")) {
    return WindowError(fmt::format("cannot override PARTITION BY clause of window \"{}\"", refname),
                       loc);
  }
  if (ref->def.contains("partitionClause")) out["partitionClause"] = ref->def["partitionClause"];
  if (wd.contains("orderClause") && ref->def.contains("orderClause")) {
    return WindowError(fmt::format("cannot override ORDER BY clause of window \"{}\"", refname),
                       loc);
  }
  if (!wd.contains("orderClause") && ref->def.contains("orderClause")) {
    out["orderClause"] = ref->def["orderClause"];
  }
  if ((ref->def.value("frameOptions", 0) & 0x1) != 0) {
    const bool bare =
        !in_clause && !wd.contains("orderClause") && (wd.value("frameOptions", 0) & 0x1) == 0;
    return WindowError(
        fmt::format("cannot copy window \"{}\" because it has a frame clause", refname), loc,
        bare ? "Omit the parentheses in this OVER clause." : "");
  }
  return out;
}

// Replaces every OVER of a window function of this query level (not of its
// subqueries, which cannot see this level's windows) by its inline form.
Status InlineWindowRefs(Json* node, const std::vector<NamedWindow>& defs) {
  if (node->is_array()) {
    for (auto& item : *node) SB_RETURN_IF_ERROR(InlineWindowRefs(&item, defs));
    return Status::Ok();
  }
  if (!node->is_object() || node->contains("SubLink")) return Status::Ok();
  if (node->contains("FuncCall") && (*node)["FuncCall"].contains("over")) {
    Json& over = (*node)["FuncCall"]["over"];
    SB_ASSIGN_OR_RETURN(Json inline_def, ResolveWindow(over, defs, false));
    over = std::move(inline_def);
  }
  for (auto& [key, value] : node->items()) {
    if (key != "over") SB_RETURN_IF_ERROR(InlineWindowRefs(&value, defs));
  }
  return Status::Ok();
}

// Where a query refers to the WITH query `name` (RangeVars without a schema;
// a nested WITH of the same name is not told apart, which errs on the side
// of refusing).
struct SelfReferences {
  int count = 0;
  bool in_sublink = false;     // in a subquery in an expression
  bool in_subselect = false;   // in a derived table
  bool in_outer_join = false;  // on the nullable side of an outer join
};

void FindSelfReferences(const Json& node, const std::string& name, bool sublink, bool subselect,
                        bool outer_join, SelfReferences* out) {
  if (node.is_array()) {
    for (const auto& item : node) {
      FindSelfReferences(item, name, sublink, subselect, outer_join, out);
    }
    return;
  }
  if (!node.is_object()) return;
  if (node.contains("RangeVar")) {
    const Json& rv = Get(node, "RangeVar");
    if (!rv.contains("schemaname") && rv.value("relname", "") == name) {
      ++out->count;
      out->in_sublink = out->in_sublink || sublink;
      out->in_subselect = out->in_subselect || subselect;
      out->in_outer_join = out->in_outer_join || outer_join;
    }
    return;
  }
  if (node.contains("JoinExpr")) {
    const Json& j = Get(node, "JoinExpr");
    const std::string type = j.value("jointype", "");
    FindSelfReferences(Get(j, "larg"), name, sublink, subselect,
                       outer_join || type == "JOIN_RIGHT" || type == "JOIN_FULL", out);
    FindSelfReferences(Get(j, "rarg"), name, sublink, subselect,
                       outer_join || type == "JOIN_LEFT" || type == "JOIN_FULL", out);
    FindSelfReferences(Get(j, "quals"), name, true, subselect, outer_join, out);
    return;
  }
  for (const auto& [key, value] : node.items()) {
    FindSelfReferences(value, name, sublink || key == "SubLink",
                       subselect || key == "RangeSubselect", outer_join, out);
  }
}

// Output columns of a query are referenced by name in the SQL around it;
// SQLite renames a repeated name in a subquery, so two alike would read one
// column twice. `what` names the construct for the 0A000.
Status RequireDistinctNames(const std::vector<OutputColumn>& columns, const std::string& what) {
  for (size_t i = 0; i < columns.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (columns[i].name == columns[j].name) {
        return NotSupported(
            fmt::format("{} with two output columns named \"{}\"", what, columns[i].name), 0,
            "Give the columns distinct names with AS.");
      }
    }
  }
  return Status::Ok();
}

// "_c0", "_c1", ...: names for a query's columns that are unique whatever
// the query calls them (longer than any select list PostgreSQL allows).
const std::vector<std::string>& PositionalNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (int i = 0; i < 1664; ++i) n.push_back("_c" + std::to_string(i));
    return n;
  }();
  return names;
}

Status InvalidRecursion(const std::string& message, int loc = 0) {
  return Status("42P19", message, {}, loc);  // invalid_recursion
}

}  // namespace

struct QueryTranslator::Level {
  Translator* tr = nullptr;
  Translator* outer = nullptr;
  std::vector<size_t> filterable;   // inputs_ indices that may take pushed filters
  std::vector<std::string> merged;  // JOIN ... USING column names, in order
};

void QueryTranslator::Prepare(Translator* tr) {
  tr->set_subquery_handler([this](const Json& s, Translator* self) { return Subquery(s, self); });
  tr->set_window_handler([this](const Json& f, Translator* self) { return Window(f, self); });
  tr->set_column_observer([this](const Relation& rel, int column) {
    for (auto& in : inputs_) {
      if (in.table == rel.table && in.alias == rel.alias) in.used[column] = true;
    }
  });
}

Result<const meta::TableDef*> QueryTranslator::Synthesize(
    const std::string& name, const std::vector<OutputColumn>& columns) {
  SB_RETURN_IF_ERROR(
      RequireDistinctNames(columns, fmt::format("a derived table or WITH query (\"{}\")", name)));
  meta::TableDef d;
  d.name = name;
  d.replicated = true;
  for (const auto& c : columns) {
    meta::ColumnDef cd;
    cd.name = c.name;
    cd.type = c.type;
    d.columns.push_back(std::move(cd));
  }
  synthesized_.push_back(std::move(d));
  return &synthesized_.back();
}

const QueryTranslator::Cte* QueryTranslator::FindCte(const std::string& name) const {
  for (auto it = ctes_.rbegin(); it != ctes_.rend(); ++it) {
    if (it->name == name) return &*it;
  }
  return nullptr;
}

Result<QueryOutput> QueryTranslator::Select(const Json& s, Translator* outer,
                                            const std::vector<std::string>* names) {
  return SelectLevel(s, outer, names, nullptr);
}

// WITH RECURSIVE name(cols) AS (non-recursive term UNION [ALL] recursive
// term), run by SQLite's recursive CTE, which has PostgreSQL's semantics:
// UNION ALL appends every row each step produces; UNION keeps only rows not
// produced before (NULLs equal), which is what makes cycles terminate. The
// recursive term's columns take the types of the non-recursive term's.
Result<std::string> QueryTranslator::RecursiveCte(const Json& cte, const std::string& name,
                                                  const std::vector<std::string>& colnames,
                                                  Translator* outer) {
  const Json& body = Get(Get(cte, "ctequery"), "SelectStmt");
  const int loc = Loc(cte);
  const std::string op = body.value("op", "SETOP_NONE");
  if (op != "SETOP_UNION") {
    return InvalidRecursion(fmt::format("recursive query \"{}\" does not have the form "
                                        "non-recursive-term UNION [ALL] recursive-term",
                                        name),
                            loc);
  }
  if (body.contains("sortClause")) return NotSupported("ORDER BY in a recursive query", loc);
  if (body.contains("limitOffset")) return NotSupported("OFFSET in a recursive query", loc);
  if (body.contains("limitCount")) return NotSupported("LIMIT in a recursive query", loc);
  if (body.contains("lockingClause")) {
    return NotSupported("FOR UPDATE/SHARE in a recursive query", loc);
  }
  if (body.contains("withClause")) return NotSupported("WITH inside a recursive query", loc);
  const Json& larg = SelectBody(Get(body, "larg"));
  const Json& rarg = SelectBody(Get(body, "rarg"));
  SelfReferences in_left;
  FindSelfReferences(larg, name, false, false, false, &in_left);
  if (in_left.count > 0) {
    return InvalidRecursion(fmt::format("recursive reference to query \"{}\" must not appear "
                                        "within its non-recursive term",
                                        name),
                            loc);
  }
  SelfReferences refs;
  FindSelfReferences(rarg, name, false, false, false, &refs);
  // PostgreSQL's checks first, then what SQLite's recursive CTEs cannot run.
  if (refs.in_sublink) {
    return InvalidRecursion(
        fmt::format("recursive reference to query \"{}\" must not appear within a subquery", name),
        loc);
  }
  if (refs.in_outer_join) {
    return InvalidRecursion(
        fmt::format("recursive reference to query \"{}\" must not appear within an outer join",
                    name),
        loc);
  }
  if (refs.count > 1) {
    return InvalidRecursion(
        fmt::format("recursive reference to query \"{}\" must not appear more than once", name),
        loc);
  }
  if (rarg.value("op", "SETOP_NONE") != "SETOP_NONE" || rarg.contains("valuesLists")) {
    return NotSupported("a recursive term that is a set operation or VALUES", loc);
  }
  if (ContainsAggregate(Get(rarg, "targetList")) || ContainsAggregate(Get(rarg, "havingClause")) ||
      ContainsAggregate(Get(rarg, "sortClause"))) {
    return InvalidRecursion(
        "aggregate functions are not allowed in a recursive query's "
        "recursive term",
        loc);
  }
  if (rarg.contains("sortClause")) return NotSupported("ORDER BY in a recursive query", loc);
  if (rarg.contains("limitOffset")) return NotSupported("OFFSET in a recursive query", loc);
  if (rarg.contains("limitCount")) return NotSupported("LIMIT in a recursive query", loc);
  if (refs.in_subselect) {
    return NotSupported("a recursive reference inside a derived table", loc,
                        "Join the recursive query directly in the recursive term's FROM.");
  }
  if (rarg.contains("groupClause") || rarg.contains("havingClause") ||
      rarg.contains("distinctClause") || rarg.contains("windowClause") ||
      ContainsKey(Get(rarg, "targetList"), "over") || rarg.contains("withClause") ||
      rarg.contains("lockingClause")) {
    return NotSupported("GROUP BY, HAVING, DISTINCT, WITH or window functions in a recursive term",
                        loc);
  }

  SB_ASSIGN_OR_RETURN(QueryOutput base,
                      Select(larg, outer, colnames.empty() ? nullptr : &colnames));
  if (colnames.size() > base.columns.size()) {
    return Status(sqlstate::kInvalidColumnReference,
                  fmt::format("WITH query \"{}\" has {} columns available but {} columns "
                              "specified",
                              name, base.columns.size(), colnames.size()),
                  {}, loc);
  }
  SB_ASSIGN_OR_RETURN(const meta::TableDef* base_def, Synthesize(name, base.columns));
  ctes_.push_back({name, base_def});
  RecursiveTerm term{name, base.columns};
  SB_ASSIGN_OR_RETURN(QueryOutput step, SelectLevel(rarg, outer, nullptr, &term));
  if (step.columns.size() != base.columns.size()) {
    return Status(sqlstate::kSyntaxError, "each UNION query must have the same number of columns",
                  {}, loc);
  }
  std::string cols;
  for (size_t i = 0; i < base.columns.size(); ++i) {
    cols += (i ? ", " : "") + QuoteIdent(base.columns[i].name);
  }
  return QuoteIdent(name) + "(" + cols + ") AS (SELECT * FROM (" + base.sql + ")" +
         (body.value("all", false) ? " UNION ALL " : " UNION ") + step.sql + ")";
}

Result<QueryOutput> QueryTranslator::SelectLevel(const Json& s, Translator* outer,
                                                 const std::vector<std::string>* names,
                                                 const RecursiveTerm* recursive) {
  // A set operation's operand keeps untyped constants untyped: the other
  // operand decides their type (SELECT NULL UNION SELECT 1 is an integer).
  const bool keep_untyped = std::exchange(set_operand_, false);
  if (s.contains("valuesLists")) return Values(s, outer, names);
  if (s.contains("windowClause")) {
    // Named windows are resolved into the OVER clauses that use them; the
    // definitions are kept (as _sb_windows) to be checked even if unused.
    std::vector<NamedWindow> defs;
    for (const auto& w : Get(s, "windowClause")) {
      const Json& wd = Get(w, "WindowDef");
      const std::string name = wd.value("name", "");
      for (const auto& d : defs) {
        if (d.name == name) {
          return WindowError(fmt::format("window \"{}\" is already defined", name),
                             wd.value("location", -1));
        }
      }
      SB_ASSIGN_OR_RETURN(Json def, ResolveWindow(wd, defs, true));
      defs.push_back({name, std::move(def)});
    }
    Json inlined = s;
    inlined.erase("windowClause");
    for (const char* key :
         {"targetList", "sortClause", "whereClause", "havingClause", "groupClause"}) {
      if (inlined.contains(key)) SB_RETURN_IF_ERROR(InlineWindowRefs(&inlined[key], defs));
    }
    Json checks = Json::array();
    for (auto& d : defs) checks.push_back(std::move(d.def));
    inlined["_sb_windows"] = std::move(checks);
    return Select(inlined, outer, names);
  }
  if (s.contains("lockingClause")) return NotSupported("SELECT ... FOR UPDATE/SHARE", 0);
  if (s.contains("intoClause")) return NotSupported("SELECT INTO", 0);

  // Non-recursive CTEs: visible to the rest of this statement, inlined as a
  // SQLite WITH clause.
  const size_t cte_mark = ctes_.size();
  struct PopCtes {
    std::vector<Cte>* v;
    size_t mark;
    ~PopCtes() { v->resize(mark); }
  } pop{&ctes_, cte_mark};
  std::string with_sql;
  if (s.contains("withClause")) {
    const Json& w = Get(s, "withClause");
    const bool recursive = w.value("recursive", false);
    const Json& ctes = Get(w, "ctes");
    for (size_t ci = 0; ci < ctes.size(); ++ci) {
      const Json& cte = Get(At(ctes, ci), "CommonTableExpr");
      const std::string name = cte.value("ctename", "");
      if (!Get(cte, "ctequery").contains("SelectStmt")) {
        return NotSupported("a data-modifying statement in WITH", Loc(cte));
      }
      std::vector<std::string> colnames;
      for (const auto& n : Get(cte, "aliascolnames")) colnames.push_back(StringValue(n));
      const Json& body = Get(Get(cte, "ctequery"), "SelectStmt");
      if (recursive) {
        // WITH RECURSIVE lets a query see itself and the later queries too;
        // only self-reference is supported.
        for (size_t later = ci + 1; later < ctes.size(); ++later) {
          SelfReferences refs;
          const std::string other = Get(At(ctes, later), "CommonTableExpr").value("ctename", "");
          FindSelfReferences(body, other, false, false, false, &refs);
          if (refs.count > 0 && other != name) {
            return NotSupported(
                "a WITH RECURSIVE query that refers to a later WITH query (\"" + other + "\")",
                Loc(cte), "Define the WITH queries before the ones that use them.");
          }
        }
        SelfReferences refs;
        FindSelfReferences(body, name, false, false, false, &refs);
        if (refs.count > 0) {
          SB_ASSIGN_OR_RETURN(std::string sql, RecursiveCte(cte, name, colnames, outer));
          with_sql += (with_sql.empty() ? "WITH RECURSIVE " : ", ") + sql;
          continue;
        }
      }
      SB_ASSIGN_OR_RETURN(QueryOutput q,
                          Select(body, outer, colnames.empty() ? nullptr : &colnames));
      if (colnames.size() > q.columns.size()) {
        return Status(sqlstate::kInvalidColumnReference,
                      fmt::format("WITH query \"{}\" has {} columns available but {} columns "
                                  "specified",
                                  name, q.columns.size(), colnames.size()),
                      {}, Loc(cte));
      }
      with_sql += (with_sql.empty() ? (recursive ? "WITH RECURSIVE " : "WITH ") : ", ") +
                  QuoteIdent(name) + " AS (" + q.sql + ")";
      SB_ASSIGN_OR_RETURN(const meta::TableDef* def, Synthesize(name, q.columns));
      ctes_.push_back({name, def});
    }
    if (!with_sql.empty()) with_sql += " ";
  }
  if (s.value("op", "SETOP_NONE") != "SETOP_NONE") {
    SB_ASSIGN_OR_RETURN(QueryOutput q, SetOperation(s, outer, names));
    q.sql = with_sql + q.sql;
    return q;
  }
  if (HasGroupingSets(s)) {
    SB_ASSIGN_OR_RETURN(Json expanded, ExpandGroupingSets(s));
    SB_ASSIGN_OR_RETURN(QueryOutput q, expanded.value("op", "SETOP_NONE") != "SETOP_NONE"
                                           ? SetOperation(expanded, outer, names)
                                           : Select(expanded, outer, names));
    q.sql = with_sql + q.sql;
    return q;
  }
  bool distinct = false;
  Json distinct_on = Json::array();  // DISTINCT ON (...): its expressions as ORDER BY items
  if (s.contains("distinctClause")) {
    for (const auto& d : Get(s, "distinctClause")) {
      if (!d.empty()) distinct_on.push_back(Json{{"SortBy", Json{{"node", d}}}});
    }
    distinct = distinct_on.empty();
  }

  Translator tr({}, text_, params_);
  tr.set_outer(outer);
  Prepare(&tr);
  Level level;
  level.tr = &tr;
  level.outer = outer;
  std::string from_sql;
  std::vector<Target> from_columns;
  for (const auto& item : Get(s, "fromClause")) {
    SB_ASSIGN_OR_RETURN(std::string f, FromItem(item, &level, false, &from_columns));
    from_sql += (from_sql.empty() ? " FROM " : ", ") + f;
  }

  // SELECT list; with JOIN ... USING, an unqualified * lists each join's
  // merged columns once, before its sides' other columns, as PostgreSQL does.
  std::vector<Target> targets;
  for (const auto& item : Get(s, "targetList")) {
    const Json& val = Get(Get(item, "ResTarget"), "val");
    if (IsUnqualifiedStar(val) && !level.merged.empty()) {
      targets.insert(targets.end(), from_columns.begin(), from_columns.end());
      continue;
    }
    SB_ASSIGN_OR_RETURN(std::vector<Target> one, ExpandTargets(Json::array({item}), tr.scope()));
    for (auto& t : one) targets.push_back(std::move(t));
  }
  if (targets.empty()) return NotSupported("SELECT with an empty target list", 0);

  std::string where_sql;
  if (s.contains("whereClause")) {
    const Json& where = Get(s, "whereClause");
    if (ContainsAggregate(where)) {
      return Status(sqlstate::kGroupingError, "aggregate functions are not allowed in WHERE", {},
                    0);
    }
    SB_ASSIGN_OR_RETURN(Translated w, tr.Condition(where));
    where_sql = " WHERE " + w.sql;
    // Conditions on one base table alone are also applied on the shards.
    std::vector<const Json*> conjuncts;
    Conjuncts(where, &conjuncts);
    for (const Json* c : conjuncts) {
      if (ContainsKey(*c, "SubLink") || ContainsKey(*c, "over")) continue;
      for (size_t idx : level.filterable) {
        Translator single({{inputs_[idx].alias, inputs_[idx].table}}, text_, params_);
        if (single.Condition(*c).ok()) inputs_[idx].pushed.push_back(*c);
      }
    }
  }

  std::vector<Json> group_by;
  if (s.contains("groupClause")) {
    SB_ASSIGN_OR_RETURN(group_by, ResolveGroupBy(Get(s, "groupClause"), targets, &tr, text_));
  }
  const Json* having = s.contains("havingClause") ? &Get(s, "havingClause") : nullptr;
  bool aggregated = !group_by.empty() || having != nullptr;
  for (const auto& t : targets) aggregated = aggregated || ContainsAggregate(t.expr);
  std::vector<SortItem> sorts;
  if (s.contains("sortClause")) {
    SB_ASSIGN_OR_RETURN(sorts, ResolveSort(Get(s, "sortClause"), targets, text_));
    for (const auto& si : sorts) aggregated = aggregated || ContainsAggregate(si.expr);
  }
  if (!group_by.empty()) AddFunctionallyDependentColumns(targets, having, sorts, &tr, &group_by);
  if (s.value("limitOption", "") == "LIMIT_OPTION_WITH_TIES") {
    return NotSupported("FETCH ... WITH TIES", 0);
  }

  tr.set_allow_aggregates(true);
  QueryOutput out;
  std::string sql = distinct ? "SELECT DISTINCT " : "SELECT ";
  const bool marker = NeedsAggregateMarker(targets, group_by, having);
  for (size_t i = 0; i < targets.size(); ++i) {
    SB_ASSIGN_OR_RETURN(Translated t, tr.Expr(targets[i].expr));
    if (recursive != nullptr && i < recursive->columns.size()) {
      // The column type is the non-recursive term's; PostgreSQL requires the
      // UNION of both terms to resolve to it.
      const SqlType& want = recursive->columns[i].type;
      if (!(t.type == want)) {
        const SqlType got = t.type;
        auto unified = tr.Unify({MakeExpr("NULL", want), std::move(t)}, "UNION");
        if (!unified.ok()) {
          return Status(
              sqlstate::kDatatypeMismatch,
              fmt::format("UNION types {} and {} cannot be matched", want.Name(), got.Name()));
        }
        const SqlType overall = (*unified)[0].type;
        if (!(overall == want)) {
          return Status(sqlstate::kDatatypeMismatch,
                        fmt::format("recursive query \"{}\" column {} has type {} in "
                                    "non-recursive term but type {} overall",
                                    recursive->name, i + 1, want.Name(), overall.Name()),
                        "Cast the output of the non-recursive term to the correct type.");
        }
        if (want.id == TypeId::kNumeric || got.id == TypeId::kNumeric) {
          // Numeric scales are fixed per column here, but grow per value in
          // PostgreSQL: only identical numeric types are exact.
          return NotSupported(fmt::format("a recursive query column of type {} computed as {}",
                                          want.Name(), got.Name()),
                              0, "Cast both terms' column to the same numeric(p,s).");
        }
        t = (*unified)[1];
      }
    }
    if (t.type.id == TypeId::kUnknown && !(keep_untyped && t.is_constant)) {
      SB_ASSIGN_OR_RETURN(t, tr.Coerce(std::move(t), SqlType::Of(TypeId::kText)));
    }
    std::string name = names != nullptr && i < names->size() ? (*names)[i] : targets[i].name;
    sql += (i ? ", " : "") + OutputSql(t, distinct, marker && i == 0) + " AS " +
           (distinct_on.empty() ? QuoteIdent(name) : "_sb_c" + std::to_string(i));
    out.columns.push_back({name, t.type});
    out.source_names.push_back(targets[i].name);
  }
  const size_t targets_end = sql.size();
  for (const auto& def : Get(s, "_sb_windows")) {
    SB_RETURN_IF_ERROR(WindowSpec(def, &tr).status());  // errors of unused windows too
  }
  sql += from_sql + where_sql;
  SB_ASSIGN_OR_RETURN(std::string grouping,
                      GroupHavingSql(&tr, targets, group_by, having, aggregated));
  sql += grouping;
  if (aggregated) {
    for (const auto& t : targets) SB_RETURN_IF_ERROR(CheckGroupedWindows(t.expr, group_by));
    for (const auto& si : sorts) SB_RETURN_IF_ERROR(CheckGroupedWindows(si.expr, group_by));
    SB_RETURN_IF_ERROR(CheckGroupedWindows(Get(s, "_sb_windows"), group_by));
  }
  if (!distinct_on.empty()) {
    SB_ASSIGN_OR_RETURN(std::string wrapped,
                        DistinctOn(distinct_on, targets, sorts, out, sql, targets_end, &tr));
    sql = std::move(wrapped);
  } else if (!sorts.empty()) {
    sql += " ORDER BY ";
    for (size_t i = 0; i < sorts.size(); ++i) {
      if (distinct && sorts[i].target < 0) {
        return Status(sqlstate::kInvalidColumnReference,
                      "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
      }
      SB_ASSIGN_OR_RETURN(Translated o, tr.Expr(sorts[i].expr));
      sql += (i ? ", " : "") + SortSql(o, sorts[i]);
    }
  }
  const Json* limit_node = s.contains("limitCount") ? &Get(s, "limitCount") : nullptr;
  const Json* offset_node = s.contains("limitOffset") ? &Get(s, "limitOffset") : nullptr;
  SB_ASSIGN_OR_RETURN(auto lim, LimitValue(limit_node, &tr));
  SB_ASSIGN_OR_RETURN(auto off, LimitValue(offset_node, &tr));
  if (lim || off) sql += " LIMIT " + (lim ? ValueSql(*lim) : std::string("-1"));
  if (off) sql += " OFFSET " + ValueSql(*off);
  out.sql = with_sql + sql;
  return out;
}

// SELECT DISTINCT ON (keys) ... ORDER BY sorts: the first row of each group
// of equal keys in the ORDER BY order. `select_sql` computes the targets as
// _sb_c0, _sb_c1, ... up to after_targets; it gains the sort expressions and a
// row_number() per group, and an outer query keeps each group's first row,
// names the columns and sorts.
Result<std::string> QueryTranslator::DistinctOn(
    const Json& on_items, const std::vector<Target>& targets, const std::vector<SortItem>& sorts,
    const QueryOutput& out, const std::string& select_sql, size_t after_targets, Translator* tr) {
  // The keys follow ORDER BY's rules (output names and positions).
  SB_ASSIGN_OR_RETURN(std::vector<SortItem> keys, ResolveSort(on_items, targets, text_));
  // PostgreSQL: the keys must be the leading ORDER BY expressions (in any order).
  std::vector<bool> key_sorted(keys.size(), false);
  bool skipped = false;
  for (const SortItem& si : sorts) {
    auto key = std::find_if(keys.begin(), keys.end(), [&](const SortItem& k) {
      return SameExpression(tr->Canonical(k.expr), tr->Canonical(si.expr));
    });
    if (key == keys.end()) {
      skipped = true;
      continue;
    }
    const size_t k = static_cast<size_t>(key - keys.begin());
    if (skipped && !key_sorted[k]) {
      return Status(sqlstate::kInvalidColumnReference,
                    "SELECT DISTINCT ON expressions must match initial ORDER BY expressions", {},
                    0);
    }
    key_sorted[k] = true;
  }
  if (skipped) {
    for (size_t k = 0; k < keys.size(); ++k) {
      if (!key_sorted[k]) {
        return Status(sqlstate::kInvalidColumnReference,
                      "SELECT DISTINCT ON expressions must match initial ORDER BY expressions", {},
                      0);
      }
    }
  }
  // The window and the hidden sort columns go after the targets.
  std::string partition, window_order, hidden, outer_order;
  for (const SortItem& k : keys) {
    SB_ASSIGN_OR_RETURN(Translated t, tr->Expr(k.expr));
    partition += (partition.empty() ? "" : ", ") + Translator::KeySql(t);
  }
  for (size_t i = 0; i < sorts.size(); ++i) {
    SB_ASSIGN_OR_RETURN(Translated t, tr->Expr(sorts[i].expr));
    window_order += (i ? ", " : "") + SortSql(t, sorts[i]);
    const std::string col = "_sb_s" + std::to_string(i);
    hidden += ", " + t.sql + " AS " + col;
    Translated outer_key = t;
    outer_key.sql = "\"_sb_d\"." + col;
    outer_order += (i ? ", " : " ORDER BY ") + SortSql(outer_key, sorts[i]);
  }
  std::string inner = select_sql.substr(0, after_targets) + hidden +
                      ", row_number() OVER (PARTITION BY " + partition +
                      (window_order.empty() ? "" : " ORDER BY " + window_order) + ") AS _sb_rn" +
                      select_sql.substr(after_targets);
  std::string outer = "SELECT ";
  for (size_t i = 0; i < out.columns.size(); ++i) {
    outer += (i ? ", " : "") + std::string("\"_sb_d\"._sb_c") + std::to_string(i) + " AS " +
             QuoteIdent(out.columns[i].name);
  }
  return outer + " FROM (" + inner + ") AS \"_sb_d\" WHERE \"_sb_d\"._sb_rn = 1" + outer_order;
}

// VALUES (..), (..): every row the same length, each column converted to the
// common type of its values as for UNION; columns are column1, column2, ...
// as in PostgreSQL, or the names a derived table gives them.
Result<QueryOutput> QueryTranslator::Values(const Json& s, Translator* outer,
                                            const std::vector<std::string>* names) {
  if (s.contains("sortClause") || s.contains("limitCount") || s.contains("limitOffset") ||
      s.contains("withClause")) {
    return NotSupported("ORDER BY, LIMIT or WITH on a bare VALUES list", 0,
                        "Select from it: SELECT * FROM (VALUES ...) AS v(a, b) ORDER BY a.");
  }
  Translator tr({}, text_, params_);
  tr.set_outer(outer);
  Prepare(&tr);
  std::vector<std::vector<Translated>> rows;
  for (const auto& list : Get(s, "valuesLists")) {
    std::vector<Translated> row;
    for (const auto& item : Get(Get(list, "List"), "items")) {
      if (ContainsAggregate(item)) {
        return Status(sqlstate::kGroupingError, "aggregate functions are not allowed in VALUES");
      }
      SB_ASSIGN_OR_RETURN(Translated t, tr.Expr(item));
      row.push_back(std::move(t));
    }
    if (!rows.empty() && row.size() != rows.front().size()) {
      return Status(sqlstate::kSyntaxError, "VALUES lists must all be the same length", {},
                    Loc(Get(list, "List")));
    }
    rows.push_back(std::move(row));
  }
  const size_t width = rows.empty() ? 0 : rows.front().size();
  std::vector<SqlType> types(width);
  for (size_t c = 0; c < width; ++c) {
    std::vector<Translated> column;
    for (auto& row : rows) column.push_back(row[c]);
    auto unified = tr.UnifyValues(std::move(column), "VALUES");
    if (!unified.ok()) {
      return Status(
          sqlstate::kDatatypeMismatch,
          fmt::format("VALUES types of column {} cannot be matched", c + 1) +
              (unified.status().message().empty() ? "" : ": " + unified.status().message()));
    }
    for (size_t r = 0; r < rows.size(); ++r) rows[r][c] = (*unified)[r];
    types[c] = (*unified)[0].type;
  }
  // SQLite names the columns of VALUES column1, column2, ... too; the outer
  // SELECT gives them their final names.
  std::string values = "VALUES ";
  for (size_t r = 0; r < rows.size(); ++r) {
    values += r ? ", (" : "(";
    for (size_t c = 0; c < width; ++c) values += (c ? ", " : "") + rows[r][c].sql;
    values += ")";
  }
  QueryOutput out;
  std::string sql = "SELECT ";
  for (size_t c = 0; c < width; ++c) {
    const std::string own = "column" + std::to_string(c + 1);
    const std::string name = names != nullptr && c < names->size() ? (*names)[c] : own;
    sql += (c ? ", " : "") + QuoteIdent(own) + " AS " + QuoteIdent(name);
    out.columns.push_back({name, types[c]});
    out.source_names.push_back(own);
  }
  out.sql = sql + " FROM (" + values + ")";
  return out;
}

Result<QueryOutput> QueryTranslator::SetOperation(const Json& s, Translator* outer,
                                                  const std::vector<std::string>* names) {
  const std::string op = s.value("op", "");
  const bool all = s.value("all", false);
  std::string keyword;
  if (op == "SETOP_UNION") {
    keyword = all ? " UNION ALL " : " UNION ";
  } else if (op == "SETOP_INTERSECT" || op == "SETOP_EXCEPT") {
    // INTERSECT ALL / EXCEPT ALL are built from the plain forms below.
    keyword = op == "SETOP_INTERSECT" ? " INTERSECT " : " EXCEPT ";
  } else {
    return NotSupported("set operation " + op, 0);
  }
  const std::string word = keyword.substr(1, keyword.find(' ', 1) - 1);
  // The operands' columns are renamed by position, so that two columns of
  // one name (SELECT a, a ...) stay two columns; the result is named after
  // the left operand's own names.
  set_operand_ = true;
  SB_ASSIGN_OR_RETURN(QueryOutput left,
                      Select(SelectBody(Get(s, "larg")), outer, &PositionalNames()));
  set_operand_ = true;
  SB_ASSIGN_OR_RETURN(QueryOutput right,
                      Select(SelectBody(Get(s, "rarg")), outer, &PositionalNames()));
  if (left.columns.size() != right.columns.size()) {
    return Status(sqlstate::kSyntaxError,
                  "each " + word + " query must have the same number of columns");
  }
  // Both sides are read by position (c0, c1, ...) and converted to the
  // common type of each column.
  Translator types({}, text_, params_);
  std::string lsel, rsel;
  std::vector<SqlType> common;
  for (size_t i = 0; i < left.columns.size(); ++i) {
    std::vector<Translated> pair{
        MakeExpr("\"_l\"." + QuoteIdent(left.columns[i].name), left.columns[i].type),
        MakeExpr("\"_r\"." + QuoteIdent(right.columns[i].name), right.columns[i].type)};
    auto unified = types.UnifyValues(std::move(pair), word);
    if (!unified.ok()) {
      return Status(sqlstate::kDatatypeMismatch,
                    fmt::format("{} types {} and {} cannot be matched", word,
                                left.columns[i].type.Name(), right.columns[i].type.Name()));
    }
    const std::string c = "c" + std::to_string(i);
    // UNION, INTERSECT and EXCEPT compare like PostgreSQL ('1.5' = '1.50').
    lsel += (i ? ", " : "") + Translator::KeySql((*unified)[0]) + " AS " + c;
    rsel += (i ? ", " : "") + Translator::KeySql((*unified)[1]) + " AS " + c;
    common.push_back((*unified)[0].type);
  }
  std::string compound;
  if (all && op != "SETOP_UNION") {
    // Multiset semantics, which SQLite lacks: the k-th copy of a row on
    // each side is numbered k (equal rows, NULLs included, share a
    // partition), so that the plain INTERSECT / EXCEPT of (row, k) keeps
    // min(m, n) resp. max(m - n, 0) copies of a row that occurs m times on
    // the left and n times on the right, as PostgreSQL does.
    std::string cols;
    for (size_t i = 0; i < left.columns.size(); ++i) cols += (i ? ", c" : "c") + std::to_string(i);
    auto numbered = [&](const std::string& sel, const std::string& sql, const char* alias) {
      return "SELECT " + cols + ", row_number() OVER (PARTITION BY " + cols +
             ") AS \"_n\" FROM (SELECT " + sel + " FROM (" + sql + ") AS \"" + alias + "\") AS \"" +
             alias + "n\"";
    };
    compound = numbered(lsel, left.sql, "_l") + keyword + numbered(rsel, right.sql, "_r");
  } else {
    compound = "SELECT " + lsel + " FROM (" + left.sql + ") AS \"_l\"" + keyword + "SELECT " +
               rsel + " FROM (" + right.sql + ") AS \"_r\"";
  }

  QueryOutput out;
  std::string sql = "SELECT ";
  for (size_t i = 0; i < common.size(); ++i) {
    std::string name = names != nullptr && i < names->size() ? (*names)[i] : left.source_names[i];
    sql +=
        (i ? ", " : "") + std::string("\"_u\".c") + std::to_string(i) + " AS " + QuoteIdent(name);
    out.columns.push_back({name, common[i]});
    out.source_names.push_back(left.source_names[i]);
  }
  sql += " FROM (" + compound + ") AS \"_u\"";
  if (s.contains("sortClause")) {
    std::string order;
    for (const auto& item : Get(s, "sortClause")) {
      const Json& sb = Get(item, "SortBy");
      const Json& node = Get(sb, "node");
      int col = -1;
      if (node.contains("A_Const") && Get(node, "A_Const").contains("ival")) {
        int64_t k = ConstIntValue(Get(node, "A_Const"), text_);
        if (k >= 1 && k <= static_cast<int64_t>(common.size())) col = static_cast<int>(k - 1);
      } else if (node.contains("ColumnRef")) {
        auto f = NameList(Get(Get(node, "ColumnRef"), "fields"));
        for (size_t i = 0; f.size() == 1 && i < left.columns.size(); ++i) {
          if (left.source_names[i] == f[0]) col = static_cast<int>(i);
        }
      }
      if (col < 0) {
        return NotSupported("ORDER BY on a " + word + " result other than by output column",
                            Loc(sb), "Order by an output column name or position.");
      }
      SB_ASSIGN_OR_RETURN(SortItem si, SortDirection(item));
      order += (order.empty() ? " ORDER BY " : ", ") +
               SortSql(MakeExpr("\"_u\".c" + std::to_string(col), common[col]), si);
    }
    sql += order;
  }
  if (s.value("limitOption", "") == "LIMIT_OPTION_WITH_TIES") {
    return NotSupported("FETCH ... WITH TIES", 0);
  }
  const Json* limit_node = s.contains("limitCount") ? &Get(s, "limitCount") : nullptr;
  const Json* offset_node = s.contains("limitOffset") ? &Get(s, "limitOffset") : nullptr;
  SB_ASSIGN_OR_RETURN(auto lim, LimitValue(limit_node, &types));
  SB_ASSIGN_OR_RETURN(auto off, LimitValue(offset_node, &types));
  if (lim || off) sql += " LIMIT " + (lim ? ValueSql(*lim) : std::string("-1"));
  if (off) sql += " OFFSET " + ValueSql(*off);
  out.sql = sql;
  return out;
}

Result<std::string> QueryTranslator::FromItem(const Json& item, Level* level, bool nullable,
                                              std::vector<Target>* columns) {
  Translator* tr = level->tr;
  auto add_relation = [&](Relation r) {
    for (const auto& col : r.table->columns) {
      if (col.hidden) continue;
      Json ref = {{"ColumnRef",
                   {{"fields", Json::array({Json{{"String", {{"sval", r.alias}}}},
                                            Json{{"String", {{"sval", col.name}}}}})}}}};
      columns->push_back({ref, col.name});
    }
    tr->AddRelation(std::move(r));
  };
  auto check_alias = [&](const std::string& alias, int loc) -> Status {
    for (const auto& r : tr->scope()) {
      if (r.alias == alias) {
        return Status(sqlstate::kDuplicateAlias,
                      fmt::format("table name \"{}\" specified more than once", alias), {}, loc);
      }
    }
    return Status::Ok();
  };
  if (item.contains("RangeVar")) {
    const Json& rv = Get(item, "RangeVar");
    const std::string relname = rv.value("relname", "");
    std::string alias = relname;
    if (rv.contains("alias")) {
      const Json& a = Get(rv, "alias");
      if (a.contains("colnames")) return NotSupported("column aliases on a table", Loc(rv));
      alias = a.value("aliasname", relname);
    }
    SB_RETURN_IF_ERROR(check_alias(alias, Loc(rv)));
    if (!rv.contains("schemaname")) {
      if (const Cte* cte = FindCte(relname)) {
        add_relation({alias, cte->def});
        return QuoteIdent(relname) + " AS " + QuoteIdent(alias);
      }
    }
    SB_ASSIGN_OR_RETURN(const meta::TableDef* table, lookup_(item));
    BaseInput in;
    in.table = table;
    in.alias = alias;
    in.temp_name = "_r" + std::to_string(inputs_.size());
    in.used.assign(table->columns.size(), false);
    inputs_.push_back(in);
    if (!nullable) level->filterable.push_back(inputs_.size() - 1);
    add_relation({alias, table});
    return QuoteIdent(in.temp_name) + " AS " + QuoteIdent(alias);
  }
  if (item.contains("RangeSubselect")) {
    const Json& b = Get(item, "RangeSubselect");
    if (b.value("lateral", false)) return NotSupported("LATERAL", 0);
    const Json& a = Get(b, "alias");
    const std::string alias = a.value("aliasname", "");
    if (alias.empty()) {
      return Status(sqlstate::kSyntaxError, "subquery in FROM must have an alias", {}, 0);
    }
    SB_RETURN_IF_ERROR(check_alias(alias, 0));
    std::vector<std::string> colnames;
    for (const auto& n : Get(a, "colnames")) colnames.push_back(StringValue(n));
    SB_ASSIGN_OR_RETURN(QueryOutput q, Select(SelectBody(Get(b, "subquery")), level->outer,
                                              colnames.empty() ? nullptr : &colnames));
    if (colnames.size() > q.columns.size()) {
      return Status(sqlstate::kInvalidColumnReference,
                    fmt::format("table \"{}\" has {} columns available but {} columns specified",
                                alias, q.columns.size(), colnames.size()));
    }
    SB_ASSIGN_OR_RETURN(const meta::TableDef* def, Synthesize(alias, q.columns));
    add_relation({alias, def});
    return "(" + q.sql + ") AS " + QuoteIdent(alias);
  }
  if (item.contains("JoinExpr")) return Join(item, level, nullable, columns);
  if (item.contains("RangeFunction")) {
    SB_ASSIGN_OR_RETURN(Json series, SeriesAsSubselect(item, tr));
    return FromItem(series, level, nullable, columns);
  }
  return NotSupported("this FROM item (" + (item.empty() ? std::string("?") : item.begin().key()) +
                      ")");
}

Result<std::string> QueryTranslator::Join(const Json& node, Level* level, bool nullable,
                                          std::vector<Target>* columns) {
  const Json& b = Get(node, "JoinExpr");
  Translator* tr = level->tr;
  const std::string type = b.value("jointype", "JOIN_INNER");
  const bool natural = b.value("isNatural", false);
  if (b.contains("alias")) return NotSupported("an alias on a join", 0);
  std::string keyword;
  if (type == "JOIN_INNER") {
    keyword = " JOIN ";
  } else if (type == "JOIN_LEFT") {
    keyword = " LEFT JOIN ";
  } else if (type == "JOIN_RIGHT") {
    keyword = " RIGHT JOIN ";
  } else if (type == "JOIN_FULL") {
    keyword = " FULL JOIN ";
  } else {
    return NotSupported("join type " + type, 0);
  }
  const bool left_nullable = nullable || type == "JOIN_RIGHT" || type == "JOIN_FULL";
  const bool right_nullable = nullable || type == "JOIN_LEFT" || type == "JOIN_FULL";

  std::vector<Target> left_columns;
  SB_ASSIGN_OR_RETURN(std::string lsql,
                      FromItem(Get(b, "larg"), level, left_nullable, &left_columns));
  std::vector<std::string> using_names;
  for (const auto& n : Get(b, "usingClause")) using_names.push_back(StringValue(n));
  // The join keys are the sides' own output columns of each name (a
  // relation's qualified column, or a column a join on that side merged),
  // never a same-named column of an unrelated join elsewhere in FROM. A
  // merged column is named by its bare name, which a merge on the right side
  // may take over, so the left side's keys are read before the right side
  // is translated (NATURAL knows its keys only after: it reads left_merged).
  auto side_key = [&](const std::vector<Target>& cols, const std::string& name,
                      const char* side) -> Result<Translated> {
    const Target* found = nullptr;
    for (const Target& t : cols) {
      if (t.name != name) continue;
      if (found != nullptr) {
        return Status(sqlstate::kAmbiguousColumn,
                      fmt::format("common column name \"{}\" appears more than once in {} table",
                                  name, side));
      }
      found = &t;
    }
    if (found == nullptr) {
      return Status(sqlstate::kUndefinedColumn,
                    fmt::format("column \"{}\" specified in USING clause does not exist in {} "
                                "table",
                                name, side));
    }
    return tr->Expr(found->expr);
  };
  std::vector<Translated> left_keys;
  for (const auto& name : using_names) {
    SB_ASSIGN_OR_RETURN(Translated k, side_key(left_columns, name, "left"));
    left_keys.push_back(std::move(k));
  }
  std::vector<std::pair<std::string, Translated>> left_merged;
  for (const Target& t : left_columns) {
    if (NameList(Get(Get(t.expr, "ColumnRef"), "fields")).size() != 1) continue;
    SB_ASSIGN_OR_RETURN(Translated k, tr->Expr(t.expr));
    left_merged.emplace_back(t.name, std::move(k));
  }
  std::vector<Target> right_columns;
  SB_ASSIGN_OR_RETURN(std::string rsql,
                      FromItem(Get(b, "rarg"), level, right_nullable, &right_columns));
  if (Get(b, "rarg").contains("JoinExpr")) rsql = "(" + rsql + ")";
  if (natural) {
    // The columns both sides have, in the order of the left side's output
    // (PostgreSQL); each must be one column on each side.
    auto count = [](const std::vector<Target>& cols, const std::string& name) {
      return std::count_if(cols.begin(), cols.end(),
                           [&](const Target& t) { return t.name == name; });
    };
    for (const Target& lc : left_columns) {
      if (count(right_columns, lc.name) == 0 ||
          std::find(using_names.begin(), using_names.end(), lc.name) != using_names.end())
        continue;
      for (const auto& [side, cols] :
           {std::pair{"left", &left_columns}, {"right", &right_columns}}) {
        if (count(*cols, lc.name) > 1) {
          return Status(sqlstate::kAmbiguousColumn,
                        fmt::format("common column name \"{}\" appears more than once in {} table",
                                    lc.name, side));
        }
      }
      using_names.push_back(lc.name);
      auto merged = std::find_if(left_merged.begin(), left_merged.end(),
                                 [&](const auto& m) { return m.first == lc.name; });
      if (merged != left_merged.end()) {
        left_keys.push_back(merged->second);
      } else {
        SB_ASSIGN_OR_RETURN(Translated k, tr->Expr(lc.expr));
        left_keys.push_back(std::move(k));
      }
    }
  }

  std::string cond;
  if (!using_names.empty()) {
    for (size_t i = 0; i < using_names.size(); ++i) {
      auto rk = side_key(right_columns, using_names[i], "right");
      SB_RETURN_IF_ERROR(rk.status());
      SB_ASSIGN_OR_RETURN(auto pair, tr->UnifyForComparison({left_keys[i], std::move(rk).value()},
                                                            "JOIN USING", 0));
      cond += (i ? " AND " : "") + pair[0].sql + " = " + pair[1].sql;
      Translated merged = type == "JOIN_RIGHT" ? pair[1] : pair[0];
      if (type == "JOIN_FULL") {
        merged = MakeExpr("coalesce(" + pair[0].sql + ", " + pair[1].sql + ")", pair[0].type);
      }
      tr->SetMergedColumn(using_names[i], merged);
      if (std::find(level->merged.begin(), level->merged.end(), using_names[i]) ==
          level->merged.end()) {
        level->merged.push_back(using_names[i]);
      }
    }
  } else if (b.contains("quals")) {
    const Json& quals = Get(b, "quals");
    if (ContainsAggregate(quals)) {
      return Status(sqlstate::kGroupingError,
                    "aggregate functions are not allowed in JOIN "
                    "conditions");
    }
    SB_ASSIGN_OR_RETURN(Translated on, tr->Condition(quals));
    cond = on.sql;
  }
  if (cond.empty() && type != "JOIN_INNER") cond = "1";
  // Output columns: the merged ones, then each side's others.
  for (const auto& name : using_names) columns->push_back({ColumnRefJson(name), name});
  for (const auto* side : {&left_columns, &right_columns}) {
    std::vector<std::string> pending = using_names;  // each side drops one column per name
    for (const Target& t : *side) {
      auto it = std::find(pending.begin(), pending.end(), t.name);
      if (it != pending.end()) {
        pending.erase(it);
        continue;
      }
      columns->push_back(t);
    }
  }
  return lsql + keyword + rsql + (cond.empty() ? "" : " ON " + cond);
}

Result<Translated> QueryTranslator::Subquery(const Json& sublink, Translator* self) {
  const Json& b = Get(sublink, "SubLink");
  const std::string kind = b.value("subLinkType", "");
  const int loc = Loc(b);
  SB_ASSIGN_OR_RETURN(QueryOutput q,
                      Select(SelectBody(Get(b, "subselect")), self, &PositionalNames()));
  if (kind == "EXISTS_SUBLINK") {
    return MakeExpr("(EXISTS (" + q.sql + "))", SqlType::Of(TypeId::kBool));
  }
  const Json& test = Get(b, "testexpr");
  const bool row_test = test.contains("RowExpr");
  if (q.columns.size() != 1 && !row_test) {
    return Status(sqlstate::kSyntaxError,
                  kind == "EXPR_SUBLINK" ? "subquery must return only one column"
                                         : "subquery has too many columns",
                  {}, loc);
  }
  if (kind == "EXPR_SUBLINK") {
    const std::string col = "\"_s\"." + QuoteIdent(q.columns[0].name);
    // sb_single raises 21000 on a second row, where SQLite would silently
    // take the first.
    return MakeExpr("(SELECT sb_single(" + col + ") FROM (" + q.sql + ") AS \"_s\")",
                    q.columns[0].type);
  }
  if (kind == "ANY_SUBLINK" || kind == "ALL_SUBLINK") {
    std::string op = "=";
    if (b.contains("operName")) {
      auto names = NameList(Get(b, "operName"));
      op = names.empty() ? "=" : names.back();
    }
    const bool in = kind == "ANY_SUBLINK" && op == "=";
    const bool not_in = kind == "ALL_SUBLINK" && op == "<>";
    if (!in && !not_in) return QuantifiedComparison(kind == "ANY_SUBLINK", op, test, q, self, loc);
    // (a, b) IN (SELECT x, y ...) compares row values, as SQLite does too.
    std::vector<const Json*> tests;
    if (row_test) {
      for (const auto& a : Get(Get(test, "RowExpr"), "args")) tests.push_back(&a);
    } else {
      tests.push_back(&test);
    }
    if (tests.size() != q.columns.size()) {
      return Status(sqlstate::kSyntaxError,
                    tests.size() < q.columns.size() ? "subquery has too many columns"
                                                    : "subquery has too few columns",
                    {}, loc);
    }
    std::string lhs, rhs;
    bool agg = false;
    for (size_t i = 0; i < tests.size(); ++i) {
      SB_ASSIGN_OR_RETURN(Translated l, self->Expr(*tests[i]));
      agg = agg || l.contains_aggregate;
      SB_ASSIGN_OR_RETURN(
          auto pair,
          self->UnifyForComparison(
              {l, MakeExpr("\"_s\"." + QuoteIdent(q.columns[i].name), q.columns[i].type)}, "IN",
              loc));
      lhs += (i ? ", " : "") + pair[0].sql;
      rhs += (i ? ", " : "") + pair[1].sql;
    }
    if (tests.size() > 1) lhs = "(" + lhs + ")";
    Translated out = MakeExpr(std::string("(") + (not_in ? "NOT " : "") + "(" + lhs +
                                  " IN (SELECT " + rhs + " FROM (" + q.sql + ") AS \"_s\")))",
                              SqlType::Of(TypeId::kBool));
    out.contains_aggregate = agg;
    return out;
  }
  return NotSupported("this kind of subquery (" + kind + ")", loc);
}

// x op ANY (subquery) / x op ALL (subquery) with PostgreSQL's three-valued
// result. ANY: true if some comparison is true; else NULL if some is NULL
// (x is NULL, or a subquery value is); else false (also for no rows). ALL:
// false if some comparison is false; else NULL if some is NULL; else true.
Result<Translated> QueryTranslator::QuantifiedComparison(bool any, const std::string& op,
                                                         const Json& test, const QueryOutput& q,
                                                         Translator* self, int loc) {
  static const char* const kOperators[] = {"<", "<=", ">", ">=", "=", "<>"};
  if (std::find(std::begin(kOperators), std::end(kOperators), op) == std::end(kOperators)) {
    return NotSupported("operator " + op + (any ? " ANY" : " ALL") + " (subquery)", loc);
  }
  if (test.contains("RowExpr")) {
    return NotSupported("a row value with " + op + (any ? " ANY" : " ALL") + " (subquery)", loc,
                        "Compare one column, or use IN / NOT IN for rows.");
  }
  if (q.columns.size() != 1) {
    return Status(
        sqlstate::kSyntaxError,
        q.columns.size() > 1 ? "subquery has too many columns" : "subquery has too few columns", {},
        loc);
  }
  SB_ASSIGN_OR_RETURN(Translated l, self->Expr(test));
  SB_ASSIGN_OR_RETURN(
      auto pair, self->UnifyForComparison(
                     {l, MakeExpr("\"_s\"." + QuoteIdent(q.columns[0].name), q.columns[0].type)},
                     any ? "ANY" : "ALL", loc));
  const std::string from = " FROM (" + q.sql + ") AS \"_s\"";
  const std::string cmp = "(" + pair[0].sql + " " + op + " " + pair[1].sql + ")";
  const std::string decided = any ? cmp : "NOT " + cmp;
  const std::string unknown = "((" + pair[0].sql + ") IS NULL AND EXISTS (SELECT 1" + from +
                              ")) OR EXISTS (SELECT 1" + from + " WHERE (" + pair[1].sql +
                              ") IS NULL)";
  Translated out = MakeExpr("(CASE WHEN EXISTS (SELECT 1" + from + " WHERE " + decided + ") THEN " +
                                (any ? "1" : "0") + " WHEN " + unknown + " THEN NULL ELSE " +
                                (any ? "0" : "1") + " END)",
                            SqlType::Of(TypeId::kBool));
  out.contains_aggregate = l.contains_aggregate;
  return out;
}

namespace {

// The offset of RANGE n PRECEDING/FOLLOWING in the units SQLite compares:
// the ORDER BY column's own (a numeric(p,s) column holds value * 10^s).
// PostgreSQL allows numbers for number columns (intervals for dates and
// timestamps, which have no translation here).
bool IsDateOrTimestamp(const SqlType& t) {
  return t.id == TypeId::kDate || t.id == TypeId::kTimestamp || t.id == TypeId::kTimestamptz;
}

// The offset of a RANGE frame ordered by a date or timestamp: a constant
// interval, as microseconds (the ORDER BY key is sb_ts_micros). Months and
// years have no fixed length, so they are refused.
Result<std::string> IntervalRangeOffset(const Json& off, Translator* self) {
  SB_ASSIGN_OR_RETURN(Translated t, self->ExprAs(off, SqlType::Of(TypeId::kInterval)));
  const auto* stored = std::get_if<std::string>(&t.constant);
  if (!t.is_constant || stored == nullptr) {
    return NotSupported("a RANGE offset other than a constant interval");
  }
  SB_ASSIGN_OR_RETURN(Interval iv, DecodeStoredInterval(*stored));
  if (iv.months != 0) {
    return NotSupported("a RANGE offset in months or years for dates and timestamps", 0,
                        "Months have no fixed length; give the offset in days, e.g. '30 days'.");
  }
  __int128 micros = static_cast<__int128>(iv.days) * 86'400'000'000 + iv.micros;
  if (micros < 0) {
    return Status(sqlstate::kInvalidPrecedingOrFollowingSize,
                  "invalid preceding or following size in window function");
  }
  // Past any representable distance the frame reaches every row anyway.
  return std::to_string(static_cast<int64_t>(std::min<__int128>(micros, INT64_MAX)));
}

Result<std::string> RangeOffset(const Json& off, const SqlType& order_type) {
  const bool integer = order_type.id == TypeId::kInt2 || order_type.id == TypeId::kInt4 ||
                       order_type.id == TypeId::kInt8;
  const bool scaled = NumericIsScaled(order_type);
  const bool floating = order_type.id == TypeId::kFloat4 || order_type.id == TypeId::kFloat8;
  if (!integer && !scaled && !floating) {
    return NotSupported("RANGE with an offset for an ORDER BY column of type " + order_type.Name());
  }
  const Json* c = off.contains("A_Const") ? &Get(off, "A_Const") : nullptr;
  const Status not_constant =
      NotSupported(integer ? "a RANGE offset other than an integer constant"
                           : "a RANGE offset other than a numeric constant");
  if (c == nullptr || !(c->contains("ival") || c->contains("fval"))) return not_constant;
  Decimal d;
  if (c->contains("ival")) {
    d = Decimal{Get(*c, "ival").value("ival", 0), 0};
  } else {
    // Also integers past the int4 range, which the parser keeps as text.
    auto parsed = ParseDecimal(Get(*c, "fval").value("fval", ""));
    if (!parsed.ok() || (integer && parsed->scale != 0)) return not_constant;
    d = *parsed;
  }
  if (d.unscaled < 0) {
    return Status(sqlstate::kInvalidPrecedingOrFollowingSize,
                  "invalid preceding or following size in window function");
  }
  if (scaled) {
    // n in units of 10^-s: shift the decimal point right by s.
    const int s = order_type.scale;
    if (d.scale >= s) {
      d.scale -= s;
    } else {
      for (int i = d.scale; i < s; ++i) d.unscaled *= 10;
      d.scale = 0;
    }
  }
  return FormatDecimal(d);
}

}  // namespace

Result<std::string> QueryTranslator::WindowSpec(const Json& over, Translator* self) {
  if (over.contains("refname") || over.contains("name")) {
    // Named windows are inlined by Select; this one is not defined at this
    // query level.
    const std::string name = over.value(over.contains("name") ? "name" : "refname", "");
    return Status(sqlstate::kUndefinedObject, fmt::format("window \"{}\" does not exist", name), {},
                  over.value("location", -1));
  }
  std::string spec;
  if (over.contains("partitionClause")) {
    spec += "PARTITION BY ";
    bool first = true;
    for (const auto& p : Get(over, "partitionClause")) {
      SB_ASSIGN_OR_RETURN(Translated t, self->Expr(p));
      spec += (first ? "" : ", ") + t.sql;
      first = false;
    }
  }
  const int fo = over.value("frameOptions", 0);
  const bool range_offsets = (fo & 0x1) != 0 && (fo & kFrameRange) != 0 &&
                             (fo & (kStartOffsetPreceding | kStartOffsetFollowing |
                                    kEndOffsetPreceding | kEndOffsetFollowing)) != 0;
  std::vector<SqlType> order_types;
  if (over.contains("orderClause")) {
    spec += spec.empty() ? "ORDER BY " : " ORDER BY ";
    bool first = true;
    for (const auto& o : Get(over, "orderClause")) {
      SB_ASSIGN_OR_RETURN(SortItem si, SortDirection(o));
      SB_ASSIGN_OR_RETURN(Translated t, self->Expr(si.expr));
      order_types.push_back(t.type);
      if (range_offsets && IsDateOrTimestamp(t.type)) {
        // SQLite's RANGE offsets need a numeric key: microseconds since the
        // epoch sort like the dates and timestamps themselves.
        t = MakeExpr("sb_ts_micros(" + t.sql + ")", SqlType::Of(TypeId::kInt8));
      }
      spec += (first ? "" : ", ") + SortSql(t, si);
      first = false;
    }
  }
  if ((fo & 0x1) != 0) {  // an explicit frame
    if ((fo & kFrameGroups) != 0 && !over.contains("orderClause")) {
      return WindowError("GROUPS mode requires an ORDER BY clause", over.value("location", -1));
    }
    auto bound = [&](bool start) -> Result<std::string> {
      const int unbounded = start ? kStartUnboundedPreceding : kEndUnboundedFollowing;
      const int current = start ? kStartCurrentRow : kEndCurrentRow;
      const int preceding = start ? kStartOffsetPreceding : kEndOffsetPreceding;
      const int following = start ? kStartOffsetFollowing : kEndOffsetFollowing;
      if ((fo & unbounded) != 0)
        return std::string(start ? "UNBOUNDED PRECEDING" : "UNBOUNDED FOLLOWING");
      if ((fo & current) != 0) return std::string("CURRENT ROW");
      if ((fo & (preceding | following)) != 0) {
        const Json& off = Get(over, start ? "startOffset" : "endOffset");
        const char* direction = (fo & preceding) != 0 ? " PRECEDING" : " FOLLOWING";
        if ((fo & kFrameRange) != 0) {
          if (order_types.size() != 1) {
            return WindowError(
                "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column",
                over.value("location", -1));
          }
          if (IsDateOrTimestamp(order_types[0])) {
            SB_ASSIGN_OR_RETURN(std::string n, IntervalRangeOffset(off, self));
            return n + direction;
          }
          SB_ASSIGN_OR_RETURN(std::string n, RangeOffset(off, order_types[0]));
          return n + direction;
        }
        if (!off.contains("A_Const") || !Get(off, "A_Const").contains("ival")) {
          return Status(NotSupported("a window frame offset other than an integer constant", 0));
        }
        int64_t n = ConstIntValue(Get(off, "A_Const"), text_);
        if (n < 0) {
          return Status(sqlstate::kInvalidPrecedingOrFollowingSize,
                        start ? "frame starting offset must not be negative"
                              : "frame ending offset must not be negative");
        }
        return std::to_string(n) + direction;
      }
      // Not given: PostgreSQL's default end is CURRENT ROW.
      return std::string("CURRENT ROW");
    };
    // GROUPS and EXCLUDE have the same meaning in SQLite (3.28+).
    std::string frame = (fo & kFrameRows) != 0     ? " ROWS "
                        : (fo & kFrameGroups) != 0 ? " GROUPS "
                                                   : " RANGE ";
    SB_ASSIGN_OR_RETURN(std::string start, bound(true));
    if ((fo & kFrameBetween) != 0) {
      SB_ASSIGN_OR_RETURN(std::string end, bound(false));
      frame += "BETWEEN " + start + " AND " + end;
    } else {
      frame += start;
    }
    if ((fo & kExcludeCurrentRow) != 0) {
      frame += " EXCLUDE CURRENT ROW";
    } else if ((fo & kExcludeGroup) != 0) {
      frame += " EXCLUDE GROUP";
    } else if ((fo & kExcludeTies) != 0) {
      frame += " EXCLUDE TIES";
    }
    spec += frame;
  }
  return spec;
}

Result<Translated> QueryTranslator::Window(const Json& node, Translator* self) {
  const Json& f = Get(node, "FuncCall");
  auto names = NameList(Get(f, "funcname"));
  const std::string name = names.empty() ? "" : Lower(names.back());
  const int loc = Loc(f);
  if (!self->allow_aggregates()) {
    return Status(sqlstate::kWindowingError, "window functions are not allowed here", {}, loc);
  }
  if (f.value("agg_distinct", false)) return NotSupported("DISTINCT in a window function", loc);
  if (f.contains("agg_order")) {
    // PostgreSQL's own error, word for word.
    return Status(sqlstate::kFeatureNotSupported,
                  "aggregate ORDER BY is not implemented for window functions", {}, loc);
  }
  std::vector<const Json*> args;
  for (const auto& a : Get(f, "args")) args.push_back(&a);
  SB_ASSIGN_OR_RETURN(std::string spec, WindowSpec(Get(f, "over"), self));
  const std::string over = " OVER (" + spec + ")";

  auto no_args = [&](TypeId result) -> Result<Translated> {
    if (!args.empty()) return Status(NotSupported(name + " with arguments", loc));
    return MakeExpr(name + "()" + over, SqlType::Of(result));
  };
  if (name == "row_number" || name == "rank" || name == "dense_rank") return no_args(TypeId::kInt8);
  if (name == "percent_rank" || name == "cume_dist") return no_args(TypeId::kFloat8);
  if (name == "ntile") {
    if (args.size() != 1) return NotSupported("ntile with this argument list", loc);
    SB_ASSIGN_OR_RETURN(Translated n, self->ExprAs(*args[0], SqlType::Of(TypeId::kInt4)));
    return MakeExpr("ntile(" + n.sql + ")" + over, SqlType::Of(TypeId::kInt4));
  }
  if (name == "lag" || name == "lead" || name == "first_value" || name == "last_value" ||
      name == "nth_value") {
    if (args.empty() || args.size() > 3)
      return NotSupported(name + " with this argument list", loc);
    SB_ASSIGN_OR_RETURN(Translated v, self->Expr(*args[0]));
    if (v.type.id == TypeId::kUnknown) {
      SB_ASSIGN_OR_RETURN(v, self->Coerce(std::move(v), SqlType::Of(TypeId::kText)));
    }
    std::string offset;
    if (args.size() >= 2) {
      SB_ASSIGN_OR_RETURN(Translated n, self->ExprAs(*args[1], SqlType::Of(TypeId::kInt4)));
      offset = ", " + n.sql;
    }
    std::string default_value;
    if (args.size() == 3) {
      if (name != "lag" && name != "lead") return NotSupported(name + " with 3 arguments", loc);
      // PostgreSQL 15: the value and the default have a common type
      // (lead(amount, 1, 0) shows 0, not 0.00).
      SB_ASSIGN_OR_RETURN(Translated d, self->Expr(*args[2]));
      std::vector<Translated> both;
      both.push_back(std::move(v));
      both.push_back(std::move(d));
      SB_ASSIGN_OR_RETURN(both, self->UnifyValues(std::move(both), name));
      v = both[0];
      default_value = ", " + both[1].sql;
    }
    return MakeExpr(name + "(" + v.sql + offset + default_value + ")" + over, v.type);
  }
  Json plain = node;
  plain["FuncCall"].erase("over");
  if (Translator::IsAggregateCall(plain)) {
    // The plain aggregate with OVER on each aggregate call it becomes (our
    // exact sb_sumi is a SQLite window function too).
    const bool allowed = self->allow_aggregates();
    self->set_allow_aggregates(true);
    self->set_window_over(over);
    auto agg = self->Expr(plain);
    self->set_window_over("");
    self->set_allow_aggregates(allowed);
    SB_ASSIGN_OR_RETURN(Translated a, std::move(agg));
    a.contains_aggregate = false;
    return a;
  }
  return NotSupported("window function " + name, loc);
}

}  // namespace sb::sql
