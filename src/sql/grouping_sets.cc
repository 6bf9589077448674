#include "sql/grouping_sets.h"

#include <algorithm>
#include <string>
#include <vector>

#include "sql/select_clauses.h"
#include "sql/translator.h"

namespace sb::sql {
namespace {

using Set = std::vector<Json>;  // the grouping expressions of one grouping set

// The expressions of one ROLLUP/CUBE unit: (a, b) is two, a is one.
Set Unit(const Json& e) {
  if (e.contains("RowExpr")) {
    Set s;
    for (const auto& a : Get(Get(e, "RowExpr"), "args")) s.push_back(a);
    return s;
  }
  return {e};
}

Set Concat(const Set& a, const Set& b) {
  Set s = a;
  s.insert(s.end(), b.begin(), b.end());
  return s;
}

Result<std::vector<Set>> SetsOf(const Json& item) {
  if (!item.contains("GroupingSet")) return std::vector<Set>{Unit(item)};
  const Json& g = Get(item, "GroupingSet");
  const std::string kind = g.value("kind", "");
  std::vector<Json> content;
  if (g.contains("content")) {
    for (const auto& c : Get(g, "content")) content.push_back(c);
  }
  std::vector<Set> out;
  if (kind == "GROUPING_SET_EMPTY") return std::vector<Set>{Set{}};
  if (kind == "GROUPING_SET_ROLLUP") {
    for (size_t n = content.size() + 1; n-- > 0;) {
      Set s;
      for (size_t i = 0; i < n; ++i) s = Concat(s, Unit(content[i]));
      out.push_back(std::move(s));
    }
    return out;
  }
  if (kind == "GROUPING_SET_CUBE") {
    if (content.size() > 6) return NotSupported("CUBE of more than 6 elements");
    const size_t n = content.size();
    for (size_t mask = (size_t{1} << n); mask-- > 0;) {
      Set s;
      for (size_t i = 0; i < n; ++i) {
        if ((mask & (size_t{1} << (n - 1 - i))) != 0) s = Concat(s, Unit(content[i]));
      }
      out.push_back(std::move(s));
    }
    return out;
  }
  if (kind == "GROUPING_SET_SETS") {
    for (const auto& c : content) {
      SB_ASSIGN_OR_RETURN(std::vector<Set> inner, SetsOf(c));
      out.insert(out.end(), inner.begin(), inner.end());
    }
    return out;
  }
  return NotSupported("grouping set kind " + kind);
}

// a and b name the same thing: equal trees, or column references that
// differ only by a table qualifier on one side (o.status and status).
bool SameGroupingExpr(const Json& a, const Json& b) {
  if (SameExpression(a, b)) return true;
  if (!a.contains("ColumnRef") || !b.contains("ColumnRef")) return false;
  const auto fa = NameList(Get(Get(a, "ColumnRef"), "fields"));
  const auto fb = NameList(Get(Get(b, "ColumnRef"), "fields"));
  if (fa.empty() || fb.empty() || fa.back() != fb.back()) return false;
  return fa.size() == 1 || fb.size() == 1;
}

bool In(const Json& e, const Set& s) {
  return std::any_of(s.begin(), s.end(), [&](const Json& x) { return SameGroupingExpr(e, x); });
}

Json NullConst() {
  return Json{{"A_Const", Json{{"isnull", true}}}};
}

Json IntConst(int64_t v) {
  return Json{{"A_Const", Json{{"ival", Json{{"ival", v}}}}}};
}

// Rewrites `node` for the branch of set `s`: rolled-up grouping expressions
// become NULL outside aggregate arguments, grouping() becomes its mask.
Result<Json> ForSet(const Json& node, const Set& all, const Set& s) {
  if (node.is_array()) {
    Json out = Json::array();
    for (const auto& e : node) {
      SB_ASSIGN_OR_RETURN(Json r, ForSet(e, all, s));
      out.push_back(std::move(r));
    }
    return out;
  }
  if (!node.is_object()) return node;
  if (node.contains("GroupingFunc")) {
    const Json& args = Get(Get(node, "GroupingFunc"), "args");
    if (args.size() > 31) return NotSupported("grouping() with more than 31 arguments");
    int64_t mask = 0;
    for (const auto& a : args) {
      if (!In(a, all)) {
        return Status(sqlstate::kGroupingError,
                      "arguments to GROUPING must be grouping expressions of the associated "
                      "query level");
      }
      mask = (mask << 1) | (In(a, s) ? 0 : 1);
    }
    return IntConst(mask);
  }
  if (Translator::IsAggregateCall(node)) return node;  // aggregates see every row's values
  if (node.contains("SubLink")) return node;
  if (In(node, all) && !In(node, s)) return NullConst();
  Json out = Json::object();
  for (auto it = node.begin(); it != node.end(); ++it) {
    SB_ASSIGN_OR_RETURN(Json r, ForSet(it.value(), all, s));
    out[it.key()] = std::move(r);
  }
  return out;
}

}  // namespace

bool HasGroupingSets(const Json& select_body) {
  if (!select_body.is_object() || !select_body.contains("groupClause")) return false;
  for (const auto& g : Get(select_body, "groupClause")) {
    if (g.contains("GroupingSet")) return true;
  }
  return false;
}

Result<Json> ExpandGroupingSets(const Json& s) {
  if (s.contains("distinctClause")) return NotSupported("DISTINCT with grouping sets");
  if (s.contains("windowClause") || ContainsKey(Get(s, "targetList"), "over")) {
    return NotSupported("window functions with grouping sets");
  }
  // The cross product of the GROUP BY items' grouping sets.
  std::vector<Set> sets{Set{}};
  for (const auto& item : Get(s, "groupClause")) {
    SB_ASSIGN_OR_RETURN(std::vector<Set> mine, SetsOf(item));
    std::vector<Set> product;
    for (const Set& a : sets) {
      for (const Set& b : mine) product.push_back(Concat(a, b));
      if (product.size() > kMaxGroupingSets) {
        return NotSupported("more than " + std::to_string(kMaxGroupingSets) + " grouping sets");
      }
    }
    sets = std::move(product);
  }
  Set all;
  for (const Set& set : sets) {
    for (const Json& e : set) {
      if (!In(e, all)) all.push_back(e);
    }
  }

  // Output names as the original query would have them.
  const Json& targets = Get(s, "targetList");
  std::vector<std::string> names;
  for (const auto& t : targets) {
    const Json& rt = Get(t, "ResTarget");
    names.push_back(rt.contains("name") ? rt.value("name", "")
                                        : Translator::ColumnName(Get(rt, "val")));
  }

  Json branches = Json::array();
  for (const Set& set : sets) {
    Json b = s;
    b.erase("sortClause");
    b.erase("limitCount");
    b.erase("limitOffset");
    b.erase("limitOption");
    b.erase("withClause");
    b.erase("groupClause");
    if (!set.empty()) {
      Json group = Json::array();
      for (const Json& e : set) group.push_back(e);
      b["groupClause"] = std::move(group);
    }
    Json new_targets = Json::array();
    for (size_t i = 0; i < targets.size(); ++i) {
      Json rt = Get(targets[i], "ResTarget");
      if (Get(rt, "val").contains("ColumnRef") &&
          Get(Get(rt, "val"), "ColumnRef").contains("fields") &&
          ContainsKey(Get(Get(rt, "val"), "ColumnRef"), "A_Star")) {
        return NotSupported("SELECT * with grouping sets");
      }
      SB_ASSIGN_OR_RETURN(rt["val"], ForSet(Get(rt, "val"), all, set));
      rt["name"] = names[i];
      new_targets.push_back(Json{{"ResTarget", std::move(rt)}});
    }
    b["targetList"] = std::move(new_targets);
    if (s.contains("havingClause")) {
      SB_ASSIGN_OR_RETURN(b["havingClause"], ForSet(Get(s, "havingClause"), all, set));
    } else if (set.empty()) {
      // One group over all rows, as GROUP BY () (one row even without rows).
      b["havingClause"] = Json{{"A_Const", Json{{"boolval", Json{{"boolval", true}}}}}};
    }
    b["op"] = "SETOP_NONE";
    branches.push_back(std::move(b));
  }

  Json u = branches[0];
  for (size_t i = 1; i < branches.size(); ++i) {
    Json next = Json::object();
    next["op"] = "SETOP_UNION";
    next["all"] = true;
    next["larg"] = std::move(u);
    next["rarg"] = branches[i];
    next["limitOption"] = "LIMIT_OPTION_DEFAULT";
    u = std::move(next);
  }
  if (branches.size() == 1) {
    // One grouping set is a plain grouped query: ORDER BY and LIMIT as written.
    for (const char* k : {"sortClause", "limitCount", "limitOffset", "limitOption"}) {
      if (s.contains(k)) u[k] = Get(s, k);
    }
    return u;
  }

  // ORDER BY over the union: output positions and names; an expression of
  // the select list becomes its position.
  if (s.contains("sortClause")) {
    Json sorts = Json::array();
    for (const auto& item : Get(s, "sortClause")) {
      Json sb = Get(item, "SortBy");
      const Json& node = Get(sb, "node");
      bool ok = node.contains("A_Const") && Get(node, "A_Const").contains("ival");
      if (!ok && node.contains("ColumnRef")) {
        const auto f = NameList(Get(Get(node, "ColumnRef"), "fields"));
        ok = f.size() == 1 && std::find(names.begin(), names.end(), f[0]) != names.end();
      }
      if (!ok) {
        for (size_t i = 0; i < targets.size(); ++i) {
          if (SameGroupingExpr(node, Get(Get(targets[i], "ResTarget"), "val"))) {
            sb["node"] = IntConst(static_cast<int64_t>(i + 1));
            ok = true;
            break;
          }
        }
      }
      if (!ok) {
        return NotSupported("ORDER BY an expression outside the select list with grouping sets", 0,
                            "Add it to the select list, or order by output columns.");
      }
      sorts.push_back(Json{{"SortBy", std::move(sb)}});
    }
    u["sortClause"] = std::move(sorts);
  }
  for (const char* k : {"limitCount", "limitOffset", "limitOption"}) {
    if (s.contains(k)) u[k] = Get(s, k);
  }
  return u;
}

}  // namespace sb::sql
