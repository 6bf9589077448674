#include "sql/translator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "common/decimal.h"
#include "common/decimal_dispersion.h"
#include "common/value_codec.h"
#include "exec/pg_functions.h"
#include "exec/sql_functions.h"
#include "sql/scalar_functions.h"
#include "sql/select_clauses.h"

namespace sb::sql {
namespace {

// Source position of a node given with its type wrapper ({"A_Const": {...}});
// select_clauses.h's Loc takes the body.
int NodeLoc(const Json& node) {
  if (!node.is_object() || node.empty()) return 0;
  const Json& body = node.begin().value();
  return body.is_object() ? body.value("location", -1) + 1 : 0;
}

std::string Pow10(int n) {
  std::string s = "1";
  s.append(static_cast<size_t>(std::max(n, 0)), '0');
  return s;
}

bool IsScaledNumeric(const SqlType& t) {
  return NumericIsScaled(t);
}
bool IsTextNumeric(const SqlType& t) {
  return t.id == TypeId::kNumeric && !NumericIsScaled(t);
}
bool IsFloat(const SqlType& t) {
  return t.id == TypeId::kFloat4 || t.id == TypeId::kFloat8;
}
bool IsTextLike(const SqlType& t) {
  return t.id == TypeId::kText || t.id == TypeId::kVarchar;
}

// Numeric literal type: scaled numeric wide enough for any literal that fits.
SqlType LiteralNumeric(int scale) {
  return SqlType::Numeric(kMaxScaledNumericPrecision, scale);
}

// CommonType gives numeric results no precision; within the scaled range we
// keep computing on scaled integers.
SqlType PreferScaled(SqlType t) {
  if (t.id == TypeId::kNumeric && t.precision < 0 && t.scale <= kMaxScaledNumericPrecision) {
    return LiteralNumeric(t.scale);
  }
  return t;
}

Translated Make(std::string sql, SqlType type) {
  Translated t;
  t.sql = std::move(sql);
  t.type = type;
  return t;
}

Translated MakeConst(const Value& v, SqlType type) {
  Translated t;
  t.sql = SqlLiteral(v);
  t.type = type;
  t.is_constant = true;
  t.constant = v;
  return t;
}

Json StripLocations(const Json& j) {
  if (j.is_object()) {
    Json out = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "location") continue;
      out[it.key()] = StripLocations(it.value());
    }
    return out;
  }
  if (j.is_array()) {
    Json out = Json::array();
    for (const auto& e : j) out.push_back(StripLocations(e));
    return out;
  }
  return j;
}

// The type Unify() would convert items to (unknowns adopt the others').
Result<SqlType> CommonOf(const std::vector<Translated>& items, std::string_view what) {
  SqlType common;
  for (const auto& t : items) {
    if (t.type.id == TypeId::kUnknown) continue;
    if (common.id == TypeId::kUnknown) {
      common = t.type;
    } else {
      SB_ASSIGN_OR_RETURN(common, CommonType(common, t.type, what));
    }
  }
  return common;
}

}  // namespace

bool SameExpression(const Json& a, const Json& b) {
  return StripLocations(a) == StripLocations(b);
}

SqlType ParamTypes::Get(int n) const {
  if (n < 1 || n > static_cast<int>(types_.size())) return SqlType();
  return types_[n - 1];
}

void ParamTypes::Set(int n, const SqlType& t) {
  if (n < 1) return;
  if (static_cast<int>(types_.size()) < n) types_.resize(n);
  types_[n - 1] = t;
}

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string SqlLiteral(const Value& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      if (std::isnan(d)) return "(0.0/0.0)";  // SQLite has no NaN literal; yields NULL
      if (std::isinf(d)) return d > 0 ? "9e999" : "-9e999";
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      std::string s = buf;
      if (s.find_first_of(".eE") == std::string::npos) s += ".0";
      return s;
    }
    std::string operator()(const std::string& s) const {
      std::string out = "'";
      for (char c : s) {
        if (c == '\'') out += '\'';
        out += c;
      }
      return out + "'";
    }
    std::string operator()(const Blob& b) const {
      static const char* hex = "0123456789abcdef";
      std::string out = "X'";
      for (unsigned char c : b.bytes) {
        out += hex[c >> 4];
        out += hex[c & 15];
      }
      return out + "'";
    }
  };
  return std::visit(Visitor{}, v);
}

Status Translator::NotSupported(const std::string& what, int location) const {
  return Status(sqlstate::kFeatureNotSupported, what + " is not supported", {}, location);
}

bool Translator::IsAggregateCall(const Json& node) {
  if (!node.contains("FuncCall")) return false;
  // With OVER it is a window function: it does not group the query.
  if (Get(node, "FuncCall").contains("over")) return false;
  auto names = NameList(Get(Get(node, "FuncCall"), "funcname"));
  if (names.empty()) return false;
  std::string n = Lower(names.back());
  return n == "count" || n == "sum" || n == "avg" || n == "min" || n == "max" || n == "bool_and" ||
         n == "bool_or" || n == "every" || n == "string_agg" || n == "array_agg" || n == "stddev" ||
         n == "variance" || n == "stddev_samp" || n == "stddev_pop" || n == "var_samp" ||
         n == "var_pop" || n == "percentile_cont" || n == "percentile_disc" || n == "mode";
}

namespace {

// PostgreSQL's FigureColnameInternal: a name and its strength (2: a column
// or function name, 1: a type name or "case", 0: none).
int FigureColname(const Json& node, std::string* name) {
  if (!node.is_object() || node.empty()) return 0;
  const std::string& kind = node.begin().key();
  const Json& b = node.begin().value();
  if (kind == "ColumnRef") {
    auto f = NameList(Get(b, "fields"));
    for (auto it = f.rbegin(); it != f.rend(); ++it) {
      if (*it != "*") {
        *name = *it;
        return 2;
      }
    }
    return 0;
  }
  if (kind == "FuncCall") {
    auto f = NameList(Get(b, "funcname"));
    if (f.empty()) return 0;
    *name = f.back();
    return 2;
  }
  if (kind == "TypeCast") {
    int strength = FigureColname(Get(b, "arg"), name);
    if (strength <= 1) {
      auto names = NameList(Get(Get(b, "typeName"), "names"));
      if (!names.empty()) {
        *name = names.back();
        return 1;
      }
    }
    return strength;
  }
  if (kind == "CollateClause") return FigureColname(Get(b, "arg"), name);
  if (kind == "CaseExpr") {
    int strength = FigureColname(Get(b, "defresult"), name);
    if (strength <= 1) {
      *name = "case";
      return 1;
    }
    return strength;
  }
  auto named = [&](const char* n) {
    *name = n;
    return 2;
  };
  if (kind == "CoalesceExpr") return named("coalesce");
  if (kind == "MinMaxExpr") return named(b.value("op", "") == "IS_GREATEST" ? "greatest" : "least");
  if (kind == "A_Expr" && b.value("kind", "") == "AEXPR_NULLIF") return named("nullif");
  if (kind == "A_ArrayExpr") return named("array");
  if (kind == "RowExpr") return named("row");
  if (kind == "GroupingFunc") return named("grouping");
  if (kind == "SubLink") {
    const std::string type = b.value("subLinkType", "");
    if (type == "EXISTS_SUBLINK") return named("exists");
    if (type == "ARRAY_SUBLINK") return named("array");
    if (type == "EXPR_SUBLINK") {
      // The subquery's single output column's name.
      const Json& target =
          Get(At(Get(Get(Get(b, "subselect"), "SelectStmt"), "targetList"), 0), "ResTarget");
      if (target.contains("name")) {
        *name = target.value("name", "");
      } else if (FigureColname(Get(target, "val"), name) == 0) {
        *name = "?column?";
      }
      return 2;
    }
    return 0;
  }
  if (kind == "SQLValueFunction") {
    std::string op = b.value("op", "");
    if (op == "SVFOP_CURRENT_USER" || op == "SVFOP_USER") return named("current_user");
    if (op == "SVFOP_SESSION_USER") return named("session_user");
    if (op == "SVFOP_CURRENT_ROLE") return named("current_role");
    if (op == "SVFOP_CURRENT_DATE") return named("current_date");
    if (op == "SVFOP_CURRENT_TIME" || op == "SVFOP_CURRENT_TIME_N") return named("current_time");
    if (op == "SVFOP_CURRENT_TIMESTAMP" || op == "SVFOP_CURRENT_TIMESTAMP_N") {
      return named("current_timestamp");
    }
    if (op == "SVFOP_LOCALTIME" || op == "SVFOP_LOCALTIME_N") return named("localtime");
    if (op == "SVFOP_LOCALTIMESTAMP" || op == "SVFOP_LOCALTIMESTAMP_N") {
      return named("localtimestamp");
    }
    if (op == "SVFOP_CURRENT_CATALOG") return named("current_catalog");
    if (op == "SVFOP_CURRENT_SCHEMA") return named("current_schema");
  }
  return 0;
}

}  // namespace

std::string Translator::ColumnName(const Json& node) {
  std::string name;
  return FigureColname(node, &name) > 0 ? name : "?column?";
}

Result<std::pair<int, int>> Translator::ResolveColumn(const Json& column_ref) {
  const Json& b = Get(column_ref, "ColumnRef");
  auto fields = NameList(Get(b, "fields"));
  int loc = b.value("location", -1) + 1;
  std::string qualifier, name;
  if (fields.size() == 1) {
    name = fields[0];
  } else if (fields.size() == 2) {
    qualifier = fields[0];
    name = fields[1];
  } else {
    return Status(sqlstate::kFeatureNotSupported,
                  "schema-qualified column references are not supported", {}, loc);
  }
  int found_rel = -1, found_col = -1;
  for (size_t r = 0; r < scope_.size(); ++r) {
    if (!qualifier.empty() && scope_[r].alias != qualifier) continue;
    int c = scope_[r].table->FindColumn(name);
    if (c < 0 || scope_[r].table->columns[c].hidden) continue;
    if (found_rel >= 0) {
      return Status(sqlstate::kAmbiguousColumn,
                    fmt::format("column reference \"{}\" is ambiguous", name), {}, loc);
    }
    found_rel = static_cast<int>(r);
    found_col = c;
  }
  if (found_rel < 0) {
    if (!qualifier.empty()) {
      bool rel_exists = std::any_of(scope_.begin(), scope_.end(),
                                    [&](const Relation& r) { return r.alias == qualifier; });
      if (!rel_exists) {
        return Status(sqlstate::kUndefinedTable,
                      fmt::format("missing FROM-clause entry for table \"{}\"", qualifier), {},
                      loc);
      }
      return Status(sqlstate::kUndefinedColumn,
                    fmt::format("column {}.{} does not exist", qualifier, name), {}, loc);
    }
    return Status(sqlstate::kUndefinedColumn, fmt::format("column \"{}\" does not exist", name), {},
                  loc);
  }
  return std::make_pair(found_rel, found_col);
}

Json Translator::Canonical(const Json& node) {
  if (node.is_array()) {
    Json out = Json::array();
    for (const auto& e : node) out.push_back(Canonical(e));
    return out;
  }
  if (!node.is_object() || node.contains("SubLink")) return node;
  if (node.contains("ColumnRef")) {
    auto fields = NameList(Get(Get(node, "ColumnRef"), "fields"));
    if (fields.empty() || fields.back() == "*") return node;
    auto qualified = [](const std::string& alias, const std::string& column) {
      return Json{{"ColumnRef",
                   {{"fields", Json::array({Json{{"String", {{"sval", alias}}}},
                                            Json{{"String", {{"sval", column}}}}})}}}};
    };
    if (fields.size() == 1) {
      for (const auto& m : merged_columns_) {
        if (m.first != fields[0]) continue;
        // A USING column of an inner, left or right join is one side's
        // column; the COALESCE of a full join stays a name of its own.
        for (const auto& rel : scope_) {
          for (const auto& col : rel.table->columns) {
            if (m.second.sql == QuoteIdent(rel.alias) + "." + QuoteIdent(col.name)) {
              return qualified(rel.alias, col.name);
            }
          }
        }
        return node;
      }
    }
    auto rc = ResolveColumn(node);
    if (!rc.ok()) return node;
    const Relation& rel = scope_[rc->first];
    return qualified(rel.alias, rel.table->columns[rc->second].name);
  }
  Json out = Json::object();
  for (auto it = node.begin(); it != node.end(); ++it) out[it.key()] = Canonical(it.value());
  return out;
}

void Translator::SetMergedColumn(const std::string& name, Translated expr) {
  for (auto& [n, e] : merged_columns_) {
    if (n == name) {
      e = std::move(expr);
      return;
    }
  }
  merged_columns_.emplace_back(name, std::move(expr));
}

Result<Translated> Translator::Column(const Json& node) {
  auto fields = NameList(Get(Get(node, "ColumnRef"), "fields"));
  if (!fields.empty() && fields.back() == "*") {
    return NotSupported("\"*\" in this position", NodeLoc(node));
  }
  if (fields.size() == 1) {
    for (const auto& [n, e] : merged_columns_) {
      if (n == fields[0]) return e;
    }
  }
  auto resolved = ResolveColumn(node);
  if (!resolved.ok() && outer_ != nullptr &&
      (resolved.status().code() == sqlstate::kUndefinedColumn ||
       resolved.status().code() == sqlstate::kUndefinedTable)) {
    // A correlated reference: the outer query's column, constant per outer row.
    auto outer = outer_->Column(node);
    if (outer.ok()) {
      Translated t = std::move(outer).value();
      t.contains_aggregate = false;
      return t;
    }
  }
  SB_ASSIGN_OR_RETURN(auto rc, std::move(resolved));
  const Relation& rel = scope_[rc.first];
  if (column_observer_) column_observer_(rel, rc.second);
  const auto& col = rel.table->columns[rc.second];
  return Make(QuoteIdent(rel.alias) + "." + QuoteIdent(col.name), col.type);
}

Result<Translated> Translator::Const(const Json& node) {
  const Json& c = Get(node, "A_Const");
  if (c.value("isnull", false)) {
    Translated t = MakeConst(std::monostate{}, SqlType());
    return t;
  }
  if (c.contains("ival")) {
    int64_t v = ConstIntValue(c, text_);
    SqlType type = SqlType::Of(v >= INT32_MIN && v <= INT32_MAX ? TypeId::kInt4 : TypeId::kInt8);
    return MakeConst(v, type);
  }
  if (c.contains("fval")) {
    std::string f = Get(c, "fval").value("fval", "0");
    // Integer literals beyond int4 arrive here too, and so does a negated
    // one such as -2147483648 (the grammar negates the digits): PostgreSQL
    // types them as integer or bigint when they fit, numeric otherwise.
    if (!f.empty() && f.find_first_not_of("-0123456789") == std::string::npos) {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(f.c_str(), &end, 10);
      if (errno == 0 && *end == '\0') {
        const bool int4 = v >= INT32_MIN && v <= INT32_MAX;
        return MakeConst(int64_t{v}, SqlType::Of(int4 ? TypeId::kInt4 : TypeId::kInt8));
      }
    }
    // Decimal literals are numeric.
    auto d = ParseDecimal(f);
    if (d.ok() && d->scale <= kMaxScaledNumericPrecision) {
      SqlType t = LiteralNumeric(d->scale);
      auto stored = ParseTextValue(t, f);
      if (stored.ok()) return MakeConst(*stored, t);
    }
    SqlType t = SqlType::Numeric(-1, 0);
    auto stored = ParseTextValue(t, f);
    if (!stored.ok() && stored.status().code() == sqlstate::kNumericValueOutOfRange) {
      // PostgreSQL's numeric has no such limit: refuse rather than fail.
      return NotSupported("numeric constants with more than 38 significant digits", NodeLoc(node));
    }
    if (!stored.ok()) return stored.status();
    return MakeConst(*stored, t);
  }
  if (c.contains("sval")) {
    Translated t = MakeConst(Get(c, "sval").value("sval", ""), SqlType());
    return t;
  }
  if (c.contains("boolval")) {
    bool b = Get(c, "boolval").value("boolval", false);
    return MakeConst(int64_t{b ? 1 : 0}, SqlType::Of(TypeId::kBool));
  }
  if (c.contains("bsval")) return NotSupported("bit-string constants", NodeLoc(node));
  return NotSupported("this constant", NodeLoc(node));
}

Result<Translated> Translator::Param(const Json& node) {
  int n = Get(node, "ParamRef").value("number", 0);
  if (n < 1) return NotSupported("this parameter reference", NodeLoc(node));
  params_->NoteReference(n);
  Translated t = Make("?" + std::to_string(n), params_->Get(n));
  t.param = n;
  return t;
}

Result<Translated> Translator::Coerce(Translated t, const SqlType& to, bool explicit_cast) {
  if (to.id == TypeId::kUnknown) return t;
  const SqlType from = t.type;
  if (t.is_constant) {
    if (IsNull(t.constant)) {
      t.type = to;
      return t;
    }
    Result<Value> v = from.id == TypeId::kUnknown
                          ? ParseTextValue(to, std::get<std::string>(t.constant))
                          : CastValue(t.constant, from, to);
    if (!v.ok()) return v.status();
    // varchar(n) assignment of a too-long constant is an error in PostgreSQL
    // (an explicit cast truncates); ParseTextValue already checks it.
    return MakeConst(*v, to);
  }
  if (t.param > 0 && from.id == TypeId::kUnknown) {
    params_->Set(t.param, to);
    t.type = to;
    return t;
  }
  if (from == to) return t;
  // Same storage, no conversion needed.
  if ((IsTextLike(from) && IsTextLike(to) && (to.id == TypeId::kText || to.precision < 0)) ||
      (from.IsInteger() && to.IsInteger() &&
       (static_cast<int>(to.id) >= static_cast<int>(from.id))) ||
      (IsFloat(from) && to.id == TypeId::kFloat8) ||
      ((from.id == TypeId::kTimestamp && to.id == TypeId::kTimestamptz) ||
       (from.id == TypeId::kTimestamptz && to.id == TypeId::kTimestamp))) {
    t.type = to;
    return t;
  }
  if (from.IsInteger() && IsScaledNumeric(to)) {
    t.sql = to.scale == 0 ? t.sql : "(" + t.sql + " * " + Pow10(to.scale) + ")";
    t.type = to;
    return t;
  }
  if (IsScaledNumeric(from) && IsScaledNumeric(to) && to.scale >= from.scale &&
      (explicit_cast || to.precision >= from.precision ||
       to.precision == kMaxScaledNumericPrecision)) {
    if (to.scale > from.scale) t.sql = "(" + t.sql + " * " + Pow10(to.scale - from.scale) + ")";
    t.type = to;
    return t;
  }
  if (from.IsInteger() && IsFloat(to)) {
    t.sql = "CAST(" + t.sql + " AS REAL)";
    t.type = to;
    return t;
  }
  if (from.id == TypeId::kDate && (to.id == TypeId::kTimestamp || to.id == TypeId::kTimestamptz)) {
    t.sql = "(" + t.sql + " || ' 00:00:00.000000')";
    t.type = to;
    return t;
  }
  // Everything else goes through the exact cast function, which applies
  // PostgreSQL's semantics (rounding, range checks, text formats).
  t.sql = fmt::format("sb_cast({}, {}, {})", t.sql, exec::TypeCode(from), exec::TypeCode(to));
  t.type = to;
  return t;
}

Result<Translated> Translator::ExprAs(const Json& node, const SqlType& to) {
  SB_ASSIGN_OR_RETURN(Translated t, Expr(node));
  return Coerce(std::move(t), to);
}

Result<Translated> Translator::Condition(const Json& node) {
  SB_ASSIGN_OR_RETURN(Translated t, Expr(node));
  if (t.type.id == TypeId::kUnknown) return Coerce(std::move(t), SqlType::Of(TypeId::kBool));
  if (t.type.id != TypeId::kBool) {
    return Status(sqlstate::kDatatypeMismatch,
                  fmt::format("argument of WHERE must be type boolean, not type {}", t.type.Name()),
                  {}, NodeLoc(node));
  }
  return t;
}

Result<std::vector<Translated>> Translator::Unify(std::vector<Translated> items,
                                                  std::string_view what) {
  SB_ASSIGN_OR_RETURN(SqlType common, CommonOf(items, what));
  // An unconstrained numeric (decimal text, e.g. avg()) keeps its full
  // precision: the others become decimal text too, never the reverse,
  // which would round it.
  const bool any_text_numeric = std::any_of(
      items.begin(), items.end(), [](const Translated& t) { return IsTextNumeric(t.type); });
  if (common.id == TypeId::kNumeric && any_text_numeric) {
    common = SqlType::Numeric(-1, 0);
    for (auto& t : items) {
      if (IsTextNumeric(t.type)) continue;
      if (t.param > 0 && t.type.id == TypeId::kUnknown) {
        params_->Set(t.param, common);
        t.type = common;
        continue;
      }
      SB_ASSIGN_OR_RETURN(t, Coerce(std::move(t), common));
    }
    return items;
  }
  common = PreferScaled(common);
  if (common.id == TypeId::kUnknown) common = SqlType::Of(TypeId::kText);
  // Comparisons are not bounded by a column's precision: widen to the full scaled range.
  if (IsScaledNumeric(common)) common = LiteralNumeric(common.scale);
  for (auto& t : items) {
    SB_ASSIGN_OR_RETURN(t, Coerce(std::move(t), common));
  }
  return items;
}

Result<std::vector<Translated>> Translator::UnifyValues(std::vector<Translated> items,
                                                        std::string_view what) {
  SB_ASSIGN_OR_RETURN(SqlType common, CommonOf(items, what));
  if (common.id == TypeId::kNumeric) {
    // In PostgreSQL each numeric value keeps its own scale, so COALESCE(price, 0)
    // is 0, not 0.00, for a NULL price. A scaled integer has one scale per
    // column: values of different scales, and an untyped parameter (which
    // would be rounded to the column's scale), become decimal text.
    std::optional<int> first_scale;
    bool as_text = false;
    for (const Translated& t : items) {
      if (t.param > 0 && t.type.id == TypeId::kUnknown) as_text = true;
      if (t.type.id == TypeId::kUnknown || IsTextNumeric(t.type)) continue;
      const int scale = t.type.id == TypeId::kNumeric ? t.type.scale : 0;
      if (first_scale && *first_scale != scale) as_text = true;
      first_scale = scale;
    }
    if (as_text) {
      const SqlType text_numeric = SqlType::Numeric(-1, 0);
      for (Translated& t : items) {
        if (t.param > 0 && t.type.id == TypeId::kUnknown) {
          params_->Set(t.param, text_numeric);
          t.type = text_numeric;
        } else if (t.type.id != TypeId::kUnknown && !IsTextNumeric(t.type)) {
          SB_ASSIGN_OR_RETURN(t, Coerce(std::move(t), text_numeric));
        }
      }
    }
  }
  return Unify(std::move(items), what);
}

std::string Translator::KeySql(const std::string& sql, const SqlType& type) {
  // Both collations leave the value as it is, so a DISTINCT or grouped
  // column keeps its own spelling ('1 mon' or '30 days', as PostgreSQL).
  if (type.id == TypeId::kInterval) return "(" + sql + " COLLATE sb_interval)";
  // CAST: the collation applies only when both sides are text.
  if (IsTextNumeric(type)) return "(CAST(" + sql + " AS TEXT) COLLATE sb_decimal)";
  return sql;
}

namespace {

void UseKeySql(std::vector<Translated>* items) {
  for (Translated& t : *items) {
    std::string key = Translator::KeySql(t);
    if (key == t.sql) continue;
    t.sql = std::move(key);
    t.is_constant = false;
  }
}

}  // namespace

Result<std::vector<Translated>> Translator::UnifyForComparison(std::vector<Translated> items,
                                                               std::string_view what, int) {
  SB_ASSIGN_OR_RETURN(items, Unify(std::move(items), what));
  UseKeySql(&items);
  return items;
}

Result<Translated> Translator::Comparison(const std::string& op, const Json& l, const Json& r,
                                          int location) {
  SB_ASSIGN_OR_RETURN(Translated lt, Expr(l));
  SB_ASSIGN_OR_RETURN(Translated rt, Expr(r));
  // numeric(p,s) vs an untyped parameter: PostgreSQL types the parameter
  // numeric (no scale), so "n > $1" with $1 = '12.347' must not round $1 to
  // the column's scale. Compare exactly with the decimal text instead.
  for (bool param_left : {true, false}) {
    const Translated& p = param_left ? lt : rt;
    const Translated& v = param_left ? rt : lt;
    if (p.param > 0 && p.type.id == TypeId::kUnknown && IsScaledNumeric(v.type)) {
      params_->Set(p.param, SqlType::Numeric(-1, 0));
      std::string sqlop = op == "!=" ? "<>" : op;
      std::string cmp = fmt::format("sb_numcmp({}, {}, {})", v.sql, v.type.scale, p.sql);
      Translated out =
          Make(param_left ? "(0 " + sqlop + " " + cmp + ")" : "(" + cmp + " " + sqlop + " 0)",
               SqlType::Of(TypeId::kBool));
      out.contains_aggregate = v.contains_aggregate;
      return out;
    }
  }
  std::vector<Translated> both;
  both.push_back(std::move(lt));
  both.push_back(std::move(rt));
  auto unified = Unify(std::move(both), op);
  if (!unified.ok())
    return unified.status().ok() ? unified.status()
                                 : Status(unified.status()).WithPosition(location);
  UseKeySql(&*unified);
  std::string sqlop = op == "!=" ? "<>" : op;
  Translated out = Make("(" + (*unified)[0].sql + " " + sqlop + " " + (*unified)[1].sql + ")",
                        SqlType::Of(TypeId::kBool));
  out.contains_aggregate = (*unified)[0].contains_aggregate || (*unified)[1].contains_aggregate;
  return out;
}

Result<std::optional<Translated>> Translator::IntervalArithmetic(const std::string& op,
                                                                 Translated* a, Translated* b,
                                                                 int location) {
  const SqlType interval = SqlType::Of(TypeId::kInterval);
  auto is_ts = [](const SqlType& t) {
    return t.id == TypeId::kTimestamp || t.id == TypeId::kTimestamptz;
  };
  auto literal = [](const Translated& t) { return t.type.id == TypeId::kUnknown && t.param == 0; };
  // An untyped literal beside an interval is an interval, and so is one added
  // to a timestamp; one subtracted from a timestamp is a timestamp, as in
  // PostgreSQL (timestamp - '1 day' is 22007).
  if (a->type.id == TypeId::kInterval && b->type.id == TypeId::kUnknown) {
    SB_ASSIGN_OR_RETURN(*b, Coerce(std::move(*b), interval));
  }
  if (b->type.id == TypeId::kInterval && a->type.id == TypeId::kUnknown) {
    SB_ASSIGN_OR_RETURN(*a, Coerce(std::move(*a), interval));
  }
  if (op == "+" && is_ts(a->type) && literal(*b)) {
    SB_ASSIGN_OR_RETURN(*b, Coerce(std::move(*b), interval));
  }
  if (op == "+" && is_ts(b->type) && literal(*a)) {
    SB_ASSIGN_OR_RETURN(*a, Coerce(std::move(*a), interval));
  }
  if (op == "-" && is_ts(a->type) && literal(*b)) {
    SB_ASSIGN_OR_RETURN(*b, Coerce(std::move(*b), a->type));
  }
  const bool ai = a->type.id == TypeId::kInterval, bi = b->type.id == TypeId::kInterval;
  const bool a_date = a->type.id == TypeId::kDate, b_date = b->type.id == TypeId::kDate;
  const bool a_time = is_ts(a->type) || a_date, b_time = is_ts(b->type) || b_date;
  // date ± interval is a timestamp (midnight of the date, then the interval).
  auto time_result = [](const SqlType& t) {
    return t.id == TypeId::kDate ? SqlType::Of(TypeId::kTimestamp) : t;
  };
  if ((op == "+" || op == "-") && a_time && bi) {
    return std::optional<Translated>(
        Make(fmt::format("sb_ts_add_iv({}, {}, {})", a->sql, b->sql, op == "-" ? -1 : 1),
             time_result(a->type)));
  }
  if (op == "+" && ai && b_time) {
    return std::optional<Translated>(
        Make(fmt::format("sb_ts_add_iv({}, {}, 1)", b->sql, a->sql), time_result(b->type)));
  }
  if (op == "-" && a_time && b_time && !(a_date && b_date)) {
    return std::optional<Translated>(
        Make(fmt::format("sb_ts_diff({}, {})", a->sql, b->sql), interval));
  }
  if ((op == "+" || op == "-") && ai && bi) {
    return std::optional<Translated>(
        Make(fmt::format("sb_iv_add({}, {}, {})", a->sql, b->sql, op == "-" ? -1 : 1), interval));
  }
  const bool scale = (op == "*" && ((ai && b->type.IsNumber()) || (bi && a->type.IsNumber()))) ||
                     (op == "/" && ai && b->type.IsNumber());
  if (scale) {
    Translated& iv = ai ? *a : *b;
    Translated& x = ai ? *b : *a;
    SB_ASSIGN_OR_RETURN(x, Coerce(std::move(x), SqlType::Of(TypeId::kFloat8)));
    return std::optional<Translated>(
        Make(fmt::format("sb_iv_{}({}, {})", op == "/" ? "div" : "mul", iv.sql, x.sql), interval));
  }
  if (ai || bi) {
    return Status(
        sqlstate::kUndefinedFunction,
        fmt::format("operator does not exist: {} {} {}", a->type.Name(), op, b->type.Name()),
        "No operator matches the given name and argument types. You might need to add "
        "explicit type casts.",
        location);
  }
  return std::optional<Translated>();
}

Result<DispersionSums> Translator::DispersionInputs(const Translated& x, bool window) {
  DispersionSums out;
  if (IsFloat(x.type)) {
    out.function = "sb_fltvar";
    out.sum = "sum(" + x.sql + ")";
    out.sum_of_squares = "sum((" + x.sql + ") * (" + x.sql + "))";
    out.result = SqlType::Of(TypeId::kFloat8);
    return out;
  }
  // Exact: the values as decimal text, summed by sb_decsum (any size).
  SB_ASSIGN_OR_RETURN(Translated t, Coerce(x, SqlType::Numeric(-1, 0)));
  const std::string sum = window ? "sb_decsum_w(" : "sb_decsum(";
  out.function = "sb_numvar";
  out.sum = sum + t.sql + ")";
  out.sum_of_squares = sum + "sb_decop('*', " + t.sql + ", " + t.sql + "))";
  out.result = SqlType::Numeric(-1, 0);
  return out;
}

Result<Translated> Translator::DecimalTextArithmetic(const std::string& op, Translated a,
                                                     Translated b, bool contains_aggregate,
                                                     int location) {
  if (op != "+" && op != "-" && op != "*" && op != "/" && op != "%") {
    return NotSupported("operator " + op + " on numeric", location);
  }
  // Decimal text is exact, so an untyped parameter needs no scale here.
  const SqlType text_numeric = SqlType::Numeric(-1, 0);
  for (Translated* t : {&a, &b}) {
    if (t->param > 0 && t->type.id == TypeId::kUnknown) {
      params_->Set(t->param, text_numeric);
      t->type = text_numeric;
    }
    SB_ASSIGN_OR_RETURN(*t, Coerce(std::move(*t), text_numeric));
  }
  Translated out = Make(fmt::format("sb_decop('{}', {}, {})", op, a.sql, b.sql), text_numeric);
  out.contains_aggregate = contains_aggregate;
  return out;
}

Result<Translated> Translator::Arithmetic(const std::string& op, const Json* l, const Json& r,
                                          int location) {
  if (l == nullptr) {  // unary
    SB_ASSIGN_OR_RETURN(Translated t, Expr(r));
    if (op == "+") return t;
    if (op != "-") return NotSupported("prefix operator " + op, location);
    if (t.is_constant && !IsNull(t.constant)) {
      if (auto* i = std::get_if<int64_t>(&t.constant)) return MakeConst(-*i, t.type);
      if (auto* d = std::get_if<double>(&t.constant)) return MakeConst(-*d, t.type);
    }
    if (t.type.id == TypeId::kUnknown) {
      SB_ASSIGN_OR_RETURN(t, Coerce(std::move(t), SqlType::Of(TypeId::kInt4)));
    }
    if (t.type.id == TypeId::kInterval) {
      t.sql = "sb_iv_neg(" + t.sql + ")";
      t.is_constant = false;
      return t;
    }
    if (IsTextNumeric(t.type)) {
      t.sql = "sb_decop('-', 0, " + t.sql + ")";
      t.type = SqlType::Numeric(-1, 0);
      t.is_constant = false;
      return t;
    }
    if (!t.type.IsNumber()) {
      return Status(sqlstate::kUndefinedFunction,
                    fmt::format("operator does not exist: - {}", t.type.Name()),
                    "No operator matches the given name and argument types.", location);
    }
    if (t.type.IsInteger()) {
      const int bits = t.type.id == TypeId::kInt2 ? 16 : t.type.id == TypeId::kInt4 ? 32 : 64;
      t.sql = fmt::format("sb_iarith('-', 0, {}, {})", t.sql, bits);
    } else {
      t.sql = "(- " + t.sql + ")";
    }
    t.is_constant = false;
    return t;
  }
  SB_ASSIGN_OR_RETURN(Translated a, Expr(*l));
  SB_ASSIGN_OR_RETURN(Translated b, Expr(r));
  bool agg = a.contains_aggregate || b.contains_aggregate;
  if (op == "||") {
    const SqlType bytea = SqlType::Of(TypeId::kBytea);
    const bool a_bytea = a.type.id == TypeId::kBytea, b_bytea = b.type.id == TypeId::kBytea;
    if ((a_bytea && (b_bytea || b.type.id == TypeId::kUnknown)) ||
        (b_bytea && a.type.id == TypeId::kUnknown)) {
      SB_ASSIGN_OR_RETURN(a, Coerce(std::move(a), bytea));
      SB_ASSIGN_OR_RETURN(b, Coerce(std::move(b), bytea));
      Translated out = Make("sb_bytea_concat(" + a.sql + ", " + b.sql + ")", bytea);
      out.contains_aggregate = agg;
      return out;
    }
    // text || anynonarray and anynonarray || text: the other side is cast to
    // text (true || 'x' is 'truex'); at least one side must be a string.
    auto texty = [](const SqlType& t) { return IsTextLike(t) || t.id == TypeId::kUnknown; };
    if (!texty(a.type) && !texty(b.type)) {
      return Status(sqlstate::kUndefinedFunction,
                    fmt::format("operator does not exist: {} || {}", a.type.Name(), b.type.Name()),
                    "No operator matches the given name and argument types. You might need to add "
                    "explicit type casts.",
                    location);
    }
    SB_ASSIGN_OR_RETURN(a, Coerce(std::move(a), SqlType::Of(TypeId::kText), true));
    SB_ASSIGN_OR_RETURN(b, Coerce(std::move(b), SqlType::Of(TypeId::kText), true));
    Translated out = Make("(" + a.sql + " || " + b.sql + ")", SqlType::Of(TypeId::kText));
    out.contains_aggregate = agg;
    return out;
  }
  auto is_datetime = [](const SqlType& t) {
    return t.id == TypeId::kDate || t.id == TypeId::kTimestamp || t.id == TypeId::kTimestamptz;
  };
  SB_ASSIGN_OR_RETURN(std::optional<Translated> with_interval,
                      IntervalArithmetic(op, &a, &b, location));
  if (with_interval) {
    with_interval->contains_aggregate = agg;
    return *with_interval;
  }
  // Date arithmetic: date ± integer, integer + date, date - date.
  if (a.type.id == TypeId::kDate || b.type.id == TypeId::kDate) {
    // date - 'literal' is date - date in PostgreSQL; date + 'literal' is
    // ambiguous (integer or interval).
    if (op == "-" && (a.type.id == TypeId::kUnknown || b.type.id == TypeId::kUnknown)) {
      SB_ASSIGN_OR_RETURN(a, Coerce(std::move(a), SqlType::Of(TypeId::kDate)));
      SB_ASSIGN_OR_RETURN(b, Coerce(std::move(b), SqlType::Of(TypeId::kDate)));
    }
    if (op == "+" && ((a.type.id == TypeId::kUnknown && a.param == 0) ||
                      (b.type.id == TypeId::kUnknown && b.param == 0))) {
      return Status("42725",
                    fmt::format("operator is not unique: {} + {}", a.type.Name(), b.type.Name()),
                    "Could not choose a best candidate operator. You might need to add explicit "
                    "type casts.",
                    location);
    }
    if (a.type.id == TypeId::kDate && b.type.id == TypeId::kDate && op == "-") {
      Translated out = Make("CAST(julianday(" + a.sql + ") - julianday(" + b.sql + ") AS INTEGER)",
                            SqlType::Of(TypeId::kInt4));
      out.contains_aggregate = agg;
      return out;
    }
    // The integer operand must be integer or smallint (date + bigint does
    // not exist in PostgreSQL); an untyped one becomes integer.
    auto as_days = [&](Translated& t) -> Result<bool> {
      if (t.type.id == TypeId::kInt2 || t.type.id == TypeId::kInt4) return true;
      if (t.type.id != TypeId::kUnknown) return false;
      SB_ASSIGN_OR_RETURN(t, Coerce(std::move(t), SqlType::Of(TypeId::kInt4)));
      return true;
    };
    std::optional<std::string> sql;
    if (a.type.id == TypeId::kDate && (op == "+" || op == "-")) {
      SB_ASSIGN_OR_RETURN(bool ok, as_days(b));
      if (ok) {
        sql = op == "+" ? fmt::format("sb_date_add({}, {})", a.sql, b.sql)
                        : fmt::format("sb_date_add({}, - ({}))", a.sql, b.sql);
      }
    } else if (b.type.id == TypeId::kDate && op == "+") {
      SB_ASSIGN_OR_RETURN(bool ok, as_days(a));
      if (ok) sql = fmt::format("sb_date_add({}, {})", b.sql, a.sql);
    }
    if (sql) {
      Translated out = Make(*sql, SqlType::Of(TypeId::kDate));
      out.contains_aggregate = agg;
      return out;
    }
    if (is_datetime(a.type) && is_datetime(b.type) && op == "+") {
      return Status(sqlstate::kUndefinedFunction,
                    fmt::format("operator does not exist: {} + {}", a.type.Name(), b.type.Name()),
                    "No operator matches the given name and argument types. You might need to "
                    "add explicit type casts.",
                    location);
    }
    if (a.type.id == TypeId::kUnknown || b.type.id == TypeId::kUnknown) {
      return NotSupported("date arithmetic with an untyped operand (possibly an interval)",
                          location);
    }
    return Status(
        sqlstate::kUndefinedFunction,
        fmt::format("operator does not exist: {} {} {}", a.type.Name(), op, b.type.Name()),
        "No operator matches the given name and argument types. You might need to add "
        "explicit type casts.",
        location);
  }
  if ((a.type.id == TypeId::kTimestamp || a.type.id == TypeId::kTimestamptz) &&
      (op == "+" || op == "-") && b.type.id == TypeId::kUnknown) {
    return NotSupported("timestamp " + op + " an untyped operand (possibly an interval)", location);
  }
  if (a.type.id == TypeId::kUnknown && b.type.id == TypeId::kUnknown) {
    // Two untyped operands ($1 + $2): bigint holds any integer a client sends.
    SB_ASSIGN_OR_RETURN(a, Coerce(std::move(a), SqlType::Of(TypeId::kInt8)));
  }
  Result<SqlType> common_r = CommonType(a.type.id == TypeId::kUnknown ? b.type : a.type,
                                        b.type.id == TypeId::kUnknown ? a.type : b.type, op);
  if (!common_r.ok()) return Status(common_r.status()).WithPosition(location);
  SqlType common = PreferScaled(*common_r);
  if (!common.IsNumber()) {
    return Status(
        sqlstate::kUndefinedFunction,
        fmt::format("operator does not exist: {} {} {}", a.type.Name(), op, b.type.Name()),
        "No operator matches the given name and argument types. You might need to add "
        "explicit type casts.",
        location);
  }
  Translated out;
  out.contains_aggregate = agg;
  if (common.id == TypeId::kNumeric &&
      (IsTextNumeric(common) || IsTextNumeric(a.type) || IsTextNumeric(b.type))) {
    return DecimalTextArithmetic(op, std::move(a), std::move(b), agg, location);
  }
  if (common.id == TypeId::kNumeric) {
    // An untyped parameter would take the other operand's scale and be
    // rounded to it; PostgreSQL types it numeric and keeps its precision,
    // as decimal text does.
    for (const Translated* t : {&a, &b}) {
      if (t->param > 0 && t->type.id == TypeId::kUnknown)
        return DecimalTextArithmetic(op, std::move(a), std::move(b), agg, location);
    }
    // Scaled integers: + and - align scales; * adds them; / is exact decimal
    // division with PostgreSQL's result scale.
    SqlType ta = a.type.id == TypeId::kUnknown ? common : a.type;
    SqlType tb = b.type.id == TypeId::kUnknown ? common : b.type;
    int sa = ta.id == TypeId::kNumeric ? ta.scale : 0;
    int sb_ = tb.id == TypeId::kNumeric ? tb.scale : 0;
    if (op == "+" || op == "-") {
      int s = std::max(sa, sb_);
      SB_ASSIGN_OR_RETURN(a, Coerce(std::move(a), LiteralNumeric(s)));
      SB_ASSIGN_OR_RETURN(b, Coerce(std::move(b), LiteralNumeric(s)));
      out = Make("(" + a.sql + " " + op + " " + b.sql + ")", LiteralNumeric(s));
    } else if (op == "*") {
      SB_ASSIGN_OR_RETURN(a, Coerce(std::move(a), LiteralNumeric(sa)));
      SB_ASSIGN_OR_RETURN(b, Coerce(std::move(b), LiteralNumeric(sb_)));
      // Past the scaled range, the product's scale needs decimal text.
      if (sa + sb_ > kMaxScaledNumericPrecision)
        return DecimalTextArithmetic(op, std::move(a), std::move(b), agg, location);
      out = Make("sb_mul(" + a.sql + ", " + b.sql + ")", LiteralNumeric(sa + sb_));
    } else if (op == "/") {
      SB_ASSIGN_OR_RETURN(a, Coerce(std::move(a), LiteralNumeric(sa)));
      SB_ASSIGN_OR_RETURN(b, Coerce(std::move(b), LiteralNumeric(sb_)));
      out = Make(fmt::format("sb_numdiv({}, {}, {}, {})", a.sql, sa, b.sql, sb_),
                 SqlType::Numeric(-1, 0));
    } else if (op == "%") {
      int s = std::max(sa, sb_);
      SB_ASSIGN_OR_RETURN(a, Coerce(std::move(a), LiteralNumeric(s)));
      SB_ASSIGN_OR_RETURN(b, Coerce(std::move(b), LiteralNumeric(s)));
      out = Make("sb_mod(" + a.sql + ", " + b.sql + ")", LiteralNumeric(s));
    } else {
      return NotSupported("operator " + op + " on numeric", location);
    }
    out.contains_aggregate = agg;
    return out;
  }
  // real op real is real in PostgreSQL (rounded to float4 after each
  // operation); real with any other number is double precision.
  const bool float4_result = common.id == TypeId::kFloat4 &&
                             (a.type.id == TypeId::kFloat4 || a.type.id == TypeId::kUnknown) &&
                             (b.type.id == TypeId::kFloat4 || b.type.id == TypeId::kUnknown);
  SB_ASSIGN_OR_RETURN(a, Coerce(std::move(a), common));
  SB_ASSIGN_OR_RETURN(b, Coerce(std::move(b), common));
  // Integer results are range-checked for their type (SQLite would widen to
  // 64 bits or silently switch to floating point on overflow).
  const int bits = common.id == TypeId::kInt2 ? 16 : common.id == TypeId::kInt4 ? 32 : 64;
  if (op == "+" || op == "-") {
    out.sql = common.IsInteger()
                  ? fmt::format("sb_iarith('{}', {}, {}, {})", op, a.sql, b.sql, bits)
                  : "(" + a.sql + " " + op + " " + b.sql + ")";
  } else if (op == "*") {
    out.sql = common.IsInteger() ? fmt::format("sb_iarith('*', {}, {}, {})", a.sql, b.sql, bits)
                                 : "(" + a.sql + " * " + b.sql + ")";
  } else if (op == "/") {
    out.sql = "sb_div(" + a.sql + ", " + b.sql + ")";
  } else if (op == "%") {
    if (!common.IsInteger()) {
      return Status(sqlstate::kUndefinedFunction,
                    fmt::format("operator does not exist: {} % {}", a.type.Name(), b.type.Name()),
                    "No operator matches the given name and argument types. You might need to add "
                    "explicit type casts.",
                    location);
    }
    out.sql = "sb_mod(" + a.sql + ", " + b.sql + ")";
  } else {
    return NotSupported("operator " + op, location);
  }
  out.type = common;
  if (out.type.id == TypeId::kFloat4) {
    out.type = SqlType::Of(TypeId::kFloat8);
    if (float4_result) {
      // Computed in double (exact before the rounding for + - * /), then
      // rounded to real with PostgreSQL's overflow/underflow errors.
      out = Make(
          fmt::format("sb_cast({}, {}, {})", out.sql, exec::TypeCode(SqlType::Of(TypeId::kFloat8)),
                      exec::TypeCode(SqlType::Of(TypeId::kFloat4))),
          SqlType::Of(TypeId::kFloat4));
      out.contains_aggregate = agg;
    }
  }
  return out;
}

Result<Translated> Translator::AExpr(const Json& node) {
  const Json& e = Get(node, "A_Expr");
  std::string kind = e.value("kind", "");
  auto names = NameList(Get(e, "name"));
  std::string op = names.empty() ? "" : names.back();
  int loc = e.value("location", -1) + 1;
  if (kind == "AEXPR_OP") {
    if (op == "=" || op == "<>" || op == "!=" || op == "<" || op == "<=" || op == ">" ||
        op == ">=") {
      if (!e.contains("lexpr")) return NotSupported("prefix operator " + op, loc);
      return Comparison(op, Get(e, "lexpr"), Get(e, "rexpr"), loc);
    }
    if (op == "+" || op == "-" || op == "*" || op == "/" || op == "%" || op == "||") {
      return Arithmetic(op, e.contains("lexpr") ? &Get(e, "lexpr") : nullptr, Get(e, "rexpr"), loc);
    }
    if (op == "^" && e.contains("lexpr")) {
      return TranslatePowerOperator(*this, Get(e, "lexpr"), Get(e, "rexpr"), loc);
    }
    return NotSupported("operator " + op, loc);
  }
  // numeric(p,s) against untyped parameters (as in Comparison): each
  // comparison on its own, the parameters compared exactly as decimals.
  auto untyped_param = [](const Translated& t) {
    return t.param > 0 && t.type.id == TypeId::kUnknown;
  };
  auto exact_compare = [&](const Translated& x, const Translated& v,
                           const std::string& cmp_op) -> Result<std::string> {
    if (untyped_param(v)) {
      params_->Set(v.param, SqlType::Numeric(-1, 0));
      return fmt::format("(sb_numcmp({}, {}, {}) {} 0)", x.sql, x.type.scale, v.sql, cmp_op);
    }
    std::vector<Translated> pair{x, v};
    SB_ASSIGN_OR_RETURN(pair, UnifyForComparison(std::move(pair), cmp_op, loc));
    return "(" + pair[0].sql + " " + cmp_op + " " + pair[1].sql + ")";
  };
  if (kind == "AEXPR_IN") {
    SB_ASSIGN_OR_RETURN(Translated l, Expr(Get(e, "lexpr")));
    if (!Get(e, "rexpr").contains("List")) return NotSupported("IN with a subquery", loc);
    std::vector<Translated> items;
    items.push_back(std::move(l));
    for (const auto& item : Get(Get(Get(e, "rexpr"), "List"), "items")) {
      SB_ASSIGN_OR_RETURN(Translated t, Expr(item));
      items.push_back(std::move(t));
    }
    const bool agg = std::any_of(items.begin(), items.end(),
                                 [](const Translated& t) { return t.contains_aggregate; });
    if (IsScaledNumeric(items[0].type) &&
        std::any_of(items.begin() + 1, items.end(), untyped_param)) {
      std::string sql;
      for (size_t i = 1; i < items.size(); ++i) {
        SB_ASSIGN_OR_RETURN(std::string c, exact_compare(items[0], items[i], "="));
        sql += (i > 1 ? " OR " : "") + c;
      }
      sql = "(" + sql + ")";
      Translated out = Make(op == "<>" ? "(NOT " + sql + ")" : sql, SqlType::Of(TypeId::kBool));
      out.contains_aggregate = agg;
      return out;
    }
    SB_ASSIGN_OR_RETURN(items, UnifyForComparison(std::move(items), "=", loc));
    std::string sql = "(" + items[0].sql + (op == "<>" ? " NOT IN (" : " IN (");
    for (size_t i = 1; i < items.size(); ++i) sql += (i > 1 ? ", " : "") + items[i].sql;
    Translated out = Make(sql + "))", SqlType::Of(TypeId::kBool));
    out.contains_aggregate = agg;
    return out;
  }
  if (kind == "AEXPR_BETWEEN" || kind == "AEXPR_NOT_BETWEEN" || kind == "AEXPR_BETWEEN_SYM" ||
      kind == "AEXPR_NOT_BETWEEN_SYM") {
    const bool negate = kind == "AEXPR_NOT_BETWEEN" || kind == "AEXPR_NOT_BETWEEN_SYM";
    const bool symmetric = kind == "AEXPR_BETWEEN_SYM" || kind == "AEXPR_NOT_BETWEEN_SYM";
    const auto& bounds = Get(Get(Get(e, "rexpr"), "List"), "items");
    std::vector<Translated> items;
    SB_ASSIGN_OR_RETURN(Translated x, Expr(Get(e, "lexpr")));
    items.push_back(std::move(x));
    for (const auto& b : bounds) {
      SB_ASSIGN_OR_RETURN(Translated t, Expr(b));
      items.push_back(std::move(t));
    }
    if (items.size() != 3) return NotSupported("this BETWEEN form", loc);
    const bool agg =
        items[0].contains_aggregate || items[1].contains_aggregate || items[2].contains_aggregate;
    std::string sql;
    if (IsScaledNumeric(items[0].type) && (untyped_param(items[1]) || untyped_param(items[2]))) {
      SB_ASSIGN_OR_RETURN(std::string lo, exact_compare(items[0], items[1], ">="));
      SB_ASSIGN_OR_RETURN(std::string hi, exact_compare(items[0], items[2], "<="));
      sql = "(" + lo + " AND " + hi + ")";
      if (symmetric) {
        SB_ASSIGN_OR_RETURN(std::string lo2, exact_compare(items[0], items[2], ">="));
        SB_ASSIGN_OR_RETURN(std::string hi2, exact_compare(items[0], items[1], "<="));
        sql = "(" + sql + " OR (" + lo2 + " AND " + hi2 + "))";
      }
    } else {
      SB_ASSIGN_OR_RETURN(items, UnifyForComparison(std::move(items), "BETWEEN", loc));
      sql = "(" + items[0].sql + " BETWEEN " + items[1].sql + " AND " + items[2].sql + ")";
      // BETWEEN SYMMETRIC: either order of the bounds.
      if (symmetric) {
        sql = "(" + sql + " OR (" + items[0].sql + " BETWEEN " + items[2].sql + " AND " +
              items[1].sql + "))";
      }
    }
    Translated out = Make(negate ? "(NOT " + sql + ")" : sql, SqlType::Of(TypeId::kBool));
    out.contains_aggregate = agg;
    return out;
  }
  if (kind == "AEXPR_LIKE" || kind == "AEXPR_ILIKE") return Like(node);
  if (kind == "AEXPR_SIMILAR") return NotSupported("SIMILAR TO", loc);
  if (kind == "AEXPR_NULLIF") {
    std::vector<Translated> items;
    SB_ASSIGN_OR_RETURN(Translated a, Expr(Get(e, "lexpr")));
    SB_ASSIGN_OR_RETURN(Translated b, Expr(Get(e, "rexpr")));
    items.push_back(std::move(a));
    items.push_back(std::move(b));
    SB_ASSIGN_OR_RETURN(items, UnifyForComparison(std::move(items), "=", loc));
    // The result has the type "=" compared in: varchar = varchar is text = text.
    SqlType type = IsTextLike(items[0].type) ? SqlType::Of(TypeId::kText) : items[0].type;
    Translated out = Make("nullif(" + items[0].sql + ", " + items[1].sql + ")", type);
    out.contains_aggregate = items[0].contains_aggregate || items[1].contains_aggregate;
    return out;
  }
  if (kind == "AEXPR_DISTINCT" || kind == "AEXPR_NOT_DISTINCT") {
    std::vector<Translated> items;
    SB_ASSIGN_OR_RETURN(Translated a, Expr(Get(e, "lexpr")));
    SB_ASSIGN_OR_RETURN(Translated b, Expr(Get(e, "rexpr")));
    items.push_back(std::move(a));
    items.push_back(std::move(b));
    SB_ASSIGN_OR_RETURN(items, UnifyForComparison(std::move(items), "IS DISTINCT FROM", loc));
    Translated out = Make(
        "(" + items[0].sql + (kind == "AEXPR_DISTINCT" ? " IS NOT " : " IS ") + items[1].sql + ")",
        SqlType::Of(TypeId::kBool));
    out.contains_aggregate = items[0].contains_aggregate || items[1].contains_aggregate;
    return out;
  }
  return NotSupported("expression kind " + kind, loc);
}

// x [NOT] LIKE/ILIKE p [ESCAPE e]. A constant pattern that cannot fail
// (no trailing escape) runs as SQLite's LIKE, which the shard connections
// make case-sensitive (PRAGMA case_sensitive_like) and which can use an
// index; anything else runs sb_like, a port of PostgreSQL's matcher with its
// errors. ILIKE lowers both sides (ASCII only, as lc_ctype = C).
Result<Translated> Translator::Like(const Json& node) {
  const Json& e = Get(node, "A_Expr");
  const bool ilike = e.value("kind", "") == "AEXPR_ILIKE";
  auto names = NameList(Get(e, "name"));
  const std::string op = names.empty() ? "" : names.back();
  const bool negate = op.rfind("!~", 0) == 0;
  const int loc = e.value("location", -1) + 1;
  SB_ASSIGN_OR_RETURN(Translated x, Expr(Get(e, "lexpr")));
  const Json& rexpr = Get(e, "rexpr");
  const auto rnames = NameList(Get(Get(rexpr, "FuncCall"), "funcname"));
  const bool has_escape = rexpr.contains("FuncCall") && !rnames.empty() &&
                          rnames.back() == "like_escape" &&
                          Get(Get(rexpr, "FuncCall"), "args").size() == 2;
  const Json& pattern_node = has_escape ? At(Get(Get(rexpr, "FuncCall"), "args"), 0) : rexpr;
  SB_ASSIGN_OR_RETURN(Translated p, Expr(pattern_node));
  std::optional<Translated> esc;
  if (has_escape) {
    SB_ASSIGN_OR_RETURN(Translated t, Expr(At(Get(Get(rexpr, "FuncCall"), "args"), 1)));
    esc = std::move(t);
  }
  auto texty = [](const SqlType& t) { return IsTextLike(t) || t.id == TypeId::kUnknown; };
  if (x.type.id == TypeId::kBytea || p.type.id == TypeId::kBytea) {
    return NotSupported("LIKE on bytea", loc);
  }
  if (!texty(x.type) || !texty(p.type) || (esc && !texty(esc->type))) {
    return Status(sqlstate::kUndefinedFunction,
                  fmt::format("operator does not exist: {} {} {}", x.type.Name(), op,
                              esc ? "text" : p.type.Name()),
                  "No operator matches the given name and argument types. You might need to add "
                  "explicit type casts.",
                  loc);
  }
  const SqlType text = SqlType::Of(TypeId::kText);
  SB_ASSIGN_OR_RETURN(x, Coerce(std::move(x), text));
  SB_ASSIGN_OR_RETURN(p, Coerce(std::move(p), text));
  if (esc) {
    SB_ASSIGN_OR_RETURN(*esc, Coerce(std::move(*esc), text));
  }
  const bool agg = x.contains_aggregate || p.contains_aggregate;
  std::string sql;
  const bool constant_pattern = p.is_constant && !IsNull(p.constant) &&
                                (!esc || (esc->is_constant && !IsNull(esc->constant)));
  if (constant_pattern) {
    std::string pat = std::get<std::string>(p.constant);
    if (esc) {
      // like_escape() of constants is folded when PostgreSQL plans, so its
      // errors come now too.
      auto r = exec::LikeEscape(pat, std::get<std::string>(esc->constant));
      if (!r.ok()) return Status(r.status()).WithPosition(loc);
      pat = *r;
    }
    if (ilike) pat = exec::AsciiLower(pat);
    bool can_fail = false;
    for (size_t i = 0; i < pat.size(); ++i) {
      if (pat[i] == '\\') {
        if (i + 1 == pat.size()) can_fail = true;
        ++i;
      }
    }
    if (!can_fail && pat.size() < 50000) {
      sql = "(" + (ilike ? "lower(" + x.sql + ")" : x.sql) + " LIKE " + SqlLiteral(Value(pat)) +
            " ESCAPE '\\')";
    } else {
      sql = fmt::format("sb_like({}, {}, {})", x.sql, SqlLiteral(Value(pat)), ilike ? 1 : 0);
    }
  } else {
    std::string pat_sql = esc ? fmt::format("sb_like_escape({}, {})", p.sql, esc->sql) : p.sql;
    sql = fmt::format("sb_like({}, {}, {})", x.sql, pat_sql, ilike ? 1 : 0);
  }
  Translated out = Make(negate ? "(NOT " + sql + ")" : sql, SqlType::Of(TypeId::kBool));
  out.contains_aggregate = agg;
  return out;
}

Result<Translated> Translator::BoolExpr(const Json& node) {
  const Json& e = Get(node, "BoolExpr");
  std::string op = e.value("boolop", "");
  std::vector<std::string> parts;
  bool agg = false;
  for (const auto& arg : Get(e, "args")) {
    SB_ASSIGN_OR_RETURN(Translated t, Expr(arg));
    SB_ASSIGN_OR_RETURN(t, Coerce(std::move(t), SqlType::Of(TypeId::kBool)));
    if (t.type.id != TypeId::kBool) {
      return Status(sqlstate::kDatatypeMismatch,
                    fmt::format("argument of {} must be type boolean, not type {}",
                                op == "AND_EXPR"  ? "AND"
                                : op == "OR_EXPR" ? "OR"
                                                  : "NOT",
                                t.type.Name()),
                    {}, NodeLoc(arg));
    }
    agg = agg || t.contains_aggregate;
    parts.push_back(t.sql);
  }
  Translated out;
  out.type = SqlType::Of(TypeId::kBool);
  out.contains_aggregate = agg;
  if (op == "NOT_EXPR") {
    out.sql = "(NOT " + parts.at(0) + ")";
    return out;
  }
  std::string sep = op == "AND_EXPR" ? " AND " : " OR ";
  out.sql = "(";
  for (size_t i = 0; i < parts.size(); ++i) out.sql += (i ? sep : "") + parts[i];
  out.sql += ")";
  return out;
}

Result<Translated> Translator::Case(const Json& node) {
  const Json& c = Get(node, "CaseExpr");
  std::optional<Translated> arg;
  if (c.contains("arg")) {
    SB_ASSIGN_OR_RETURN(Translated a, Expr(Get(c, "arg")));
    arg = std::move(a);
  }
  std::vector<Translated> conds, results;
  for (const auto& w : Get(c, "args")) {
    const Json& when = Get(w, "CaseWhen");
    if (arg) {
      // Each WHEN compares with the argument under its own common type
      // (CASE a WHEN 1.5 ... WHEN 3 ...), so it becomes "WHEN a = v".
      std::vector<Translated> pair{*arg};
      SB_ASSIGN_OR_RETURN(Translated v, Expr(Get(when, "expr")));
      pair.push_back(std::move(v));
      SB_ASSIGN_OR_RETURN(pair, UnifyForComparison(std::move(pair), "=", NodeLoc(w)));
      Translated cond =
          Make("(" + pair[0].sql + " = " + pair[1].sql + ")", SqlType::Of(TypeId::kBool));
      cond.contains_aggregate = pair[0].contains_aggregate || pair[1].contains_aggregate;
      conds.push_back(std::move(cond));
    } else {
      SB_ASSIGN_OR_RETURN(Translated cond, Condition(Get(when, "expr")));
      conds.push_back(std::move(cond));
    }
    SB_ASSIGN_OR_RETURN(Translated r, Expr(Get(when, "result")));
    results.push_back(std::move(r));
  }
  bool has_else = c.contains("defresult");
  if (has_else) {
    SB_ASSIGN_OR_RETURN(Translated d, Expr(Get(c, "defresult")));
    results.push_back(std::move(d));
  }
  SB_ASSIGN_OR_RETURN(results, UnifyValues(std::move(results), "CASE"));
  std::string sql = "(CASE";
  bool agg = false;
  for (size_t i = 0; i < conds.size(); ++i) {
    sql += " WHEN " + conds[i].sql + " THEN " + results[i].sql;
    agg = agg || conds[i].contains_aggregate || results[i].contains_aggregate;
  }
  if (has_else) sql += " ELSE " + results.back().sql;
  Translated out = Make(sql + " END)", results.front().type);
  out.contains_aggregate = agg;
  return out;
}

Result<Translated> Translator::Cast(const Json& node) {
  const Json& c = Get(node, "TypeCast");
  std::vector<int> typmods;
  for (const auto& m : Get(Get(c, "typeName"), "typmods")) {
    if (!m.contains("A_Const")) return NotSupported("this type modifier", NodeLoc(node));
    typmods.push_back(static_cast<int>(ConstIntValue(Get(m, "A_Const"), text_)));
  }
  if (Get(c, "typeName").contains("arrayBounds")) return NotSupported("array types", NodeLoc(node));
  auto tr = ResolveTypeName(NameList(Get(Get(c, "typeName"), "names")), typmods);
  if (!tr.ok())
    return Status(tr.status()).WithPosition(Get(c, "typeName").value("location", -1) + 1);
  SqlType to = *tr;
  SB_ASSIGN_OR_RETURN(Translated t, Expr(Get(c, "arg")));
  if (to.id == TypeId::kNumeric && to.precision < 0 && t.type.id != TypeId::kNumeric) {
    // ::numeric without a typmod: keep an exact scaled form when the input has one.
    if (t.type.IsInteger()) to = LiteralNumeric(0);
    if (t.type.id == TypeId::kUnknown && t.is_constant && !IsNull(t.constant)) {
      auto d = ParseDecimal(std::get<std::string>(t.constant));
      if (d.ok() && d->scale <= kMaxScaledNumericPrecision) to = LiteralNumeric(d->scale);
    }
  } else if (to.id == TypeId::kNumeric && to.precision < 0 && IsScaledNumeric(t.type)) {
    to = t.type;
  }
  if (t.param > 0 && t.type.id == TypeId::kUnknown) {
    params_->Set(t.param, to);
    t.type = to;
    return t;
  }
  if (to.id == TypeId::kVarchar && to.precision > 0 && t.is_constant && !IsNull(t.constant) &&
      t.type.id == TypeId::kUnknown) {
    // Explicit casts to varchar(n) truncate instead of failing.
    std::string s = std::get<std::string>(t.constant);
    t.constant = s;
    t.type = SqlType::Of(TypeId::kText);
  }
  return Coerce(std::move(t), to, /*explicit_cast=*/true);
}

Result<Translated> Translator::SqlValueFunction(const Json& node) {
  std::string op = Get(node, "SQLValueFunction").value("op", "");
  if (op == "SVFOP_CURRENT_USER" || op == "SVFOP_SESSION_USER" || op == "SVFOP_USER") {
    return Make("sb_setting('session_user')", SqlType::Of(TypeId::kText));
  }
  if (op == "SVFOP_CURRENT_CATALOG") return Make("'scratchbird'", SqlType::Of(TypeId::kText));
  if (op == "SVFOP_CURRENT_SCHEMA") return Make("'public'", SqlType::Of(TypeId::kText));
  // CURRENT_TIMESTAMP(p) / LOCALTIMESTAMP(p) round to p fraction digits.
  std::string now = "sb_setting('statement_timestamp')";
  if (op == "SVFOP_CURRENT_TIMESTAMP_N" || op == "SVFOP_LOCALTIMESTAMP_N") {
    // libpg_query leaves out zero fields: no typmod means (0).
    int p = Get(node, "SQLValueFunction").value("typmod", 0);
    if (p < 0) {
      return Status("22023", fmt::format("TIMESTAMP({}) precision must not be negative", p), {},
                    NodeLoc(node));
    }
    if (p < 6) now = fmt::format("sb_ts_round({}, {})", now, p);
  }
  if (op == "SVFOP_CURRENT_TIMESTAMP" || op == "SVFOP_CURRENT_TIMESTAMP_N") {
    return Make(now, SqlType::Of(TypeId::kTimestamptz));
  }
  if (op == "SVFOP_LOCALTIMESTAMP" || op == "SVFOP_LOCALTIMESTAMP_N") {
    return Make(now, SqlType::Of(TypeId::kTimestamp));
  }
  if (op == "SVFOP_CURRENT_DATE") {
    return Make("substr(sb_setting('statement_timestamp'), 1, 10)", SqlType::Of(TypeId::kDate));
  }
  return NotSupported("SQL value function " + op, NodeLoc(node));
}

// percentile_cont / percentile_disc (fraction) and mode() WITHIN GROUP
// (ORDER BY x): sb_ordered_set keeps the group's values and sorts them.
Result<Translated> Translator::OrderedSetAggregate(const Json& f, const std::string& name,
                                                   int loc) {
  if (name != "percentile_cont" && name != "percentile_disc" && name != "mode") {
    return NotSupported("ordered-set aggregate " + name, loc);
  }
  if (!allow_aggregates_) {
    return Status(sqlstate::kGroupingError, "aggregate functions are not allowed here", {}, loc);
  }
  if (!window_over_.empty()) return NotSupported("OVER on an ordered-set aggregate", loc);
  if (f.contains("agg_filter")) return NotSupported("FILTER on an ordered-set aggregate", loc);
  const Json& order = Get(f, "agg_order");
  const size_t nargs = Get(f, "args").size();
  if (order.size() != 1 || nargs != (name == "mode" ? 0u : 1u)) {
    return Status(sqlstate::kUndefinedFunction,
                  fmt::format("function {} with {} direct and {} ordered arguments does not exist",
                              name, nargs, order.size()),
                  "No function matches the given name and argument types.", loc);
  }
  SB_ASSIGN_OR_RETURN(SortItem si, SortDirection(At(order, 0)));
  SB_ASSIGN_OR_RETURN(Translated v, Expr(si.expr));
  std::string fraction = "NULL";
  if (name != "mode") {
    const Json& arg = At(Get(f, "args"), 0);
    if (arg.contains("A_ArrayExpr")) return NotSupported(name + " of an array of fractions", loc);
    SB_ASSIGN_OR_RETURN(Translated p, ExprAs(arg, SqlType::Of(TypeId::kFloat8)));
    if (p.contains_aggregate || v.contains_aggregate) {
      return Status(sqlstate::kGroupingError, "aggregate function calls cannot be nested", {}, loc);
    }
    fraction = p.sql;
  }
  if (v.contains_aggregate) {
    return Status(sqlstate::kGroupingError, "aggregate function calls cannot be nested", {}, loc);
  }
  if (v.type.id == TypeId::kUnknown) {
    SB_ASSIGN_OR_RETURN(v, Coerce(std::move(v), SqlType::Of(TypeId::kText)));
  }
  Translated out;
  out.contains_aggregate = true;
  out.type = v.type;
  if (name == "percentile_cont") {
    if (!v.type.IsNumber()) {
      return Status(sqlstate::kUndefinedFunction,
                    fmt::format("function percentile_cont(double precision ORDER BY {}) does not "
                                "exist",
                                v.type.Name()),
                    "No function matches the given name and argument types.", loc);
    }
    SB_ASSIGN_OR_RETURN(v, Coerce(std::move(v), SqlType::Of(TypeId::kFloat8)));
    out.type = SqlType::Of(TypeId::kFloat8);
  }
  const int flags = (si.descending ? exec::kOrderedAggDescending : 0) |
                    (IsTextNumeric(v.type) ? exec::kOrderedAggDecimalText : 0) |
                    (v.type.id == TypeId::kInterval ? exec::kOrderedAggInterval : 0);
  out.sql = fmt::format("sb_ordered_set('{}', {}, {}, {})",
                        name == "mode" ? "mode" : name.substr(11), fraction, v.sql, flags);
  return out;
}

Result<Translated> Translator::Func(const Json& node) {
  const Json& f = Get(node, "FuncCall");
  auto names = NameList(Get(f, "funcname"));
  int loc = f.value("location", -1) + 1;
  if (names.size() == 2 && names[0] != "pg_catalog") {
    return NotSupported(fmt::format("function {}.{}", names[0], names[1]), loc);
  }
  std::string name = Lower(names.back());
  if (f.contains("over")) {
    if (window_handler_) return window_handler_(node, this);
    return NotSupported("window function " + name, loc);
  }
  if (f.value("agg_within_group", false)) return OrderedSetAggregate(f, name, loc);
  if (f.contains("agg_order")) {
    if (!IsAggregateCall(node)) {
      return Status(sqlstate::kWrongObjectType,
                    fmt::format("ORDER BY specified, but {} is not an aggregate function", name),
                    {}, loc);
    }
    if (name == "array_agg") return NotSupported("array_agg", loc);
    // string_agg depends on the order: SQLite 3.40 has no ORDER BY in
    // aggregate calls (and an ordered subquery feeds an aggregate in order
    // only by accident), so sb_string_agg keeps the rows and sorts them
    // itself, as the coordinator's merge sorts (exec::CompareRows).
    std::string order_sql;
    // The other aggregates do not depend on the order of their input: check
    // the ORDER BY expressions as PostgreSQL does, then leave them out.
    for (const auto& item : Get(f, "agg_order")) {
      const Json& key = Get(Get(item, "SortBy"), "node");
      if (f.value("agg_distinct", false) &&
          std::none_of(Get(f, "args").begin(), Get(f, "args").end(),
                       [&](const Json& a) { return SameExpression(a, key); })) {
        return Status(sqlstate::kInvalidColumnReference,
                      "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument "
                      "list",
                      {}, NodeLoc(key));
      }
      std::string over = std::move(window_over_);
      window_over_.clear();
      auto k = Expr(key);
      window_over_ = std::move(over);
      SB_ASSIGN_OR_RETURN(Translated t, std::move(k));
      if (t.contains_aggregate) {
        return Status(sqlstate::kGroupingError, "aggregate function calls cannot be nested", {},
                      loc);
      }
      if (name != "string_agg") continue;
      SB_ASSIGN_OR_RETURN(SortItem dir, SortDirection(item));
      if (t.type.id == TypeId::kUnknown) {
        SB_ASSIGN_OR_RETURN(t, Coerce(std::move(t), SqlType::Of(TypeId::kText)));
      }
      const int flags = (dir.descending ? exec::kOrderedAggDescending : 0) |
                        (dir.nulls_first ? exec::kOrderedAggNullsFirst : 0) |
                        (IsTextNumeric(t.type) ? exec::kOrderedAggDecimalText : 0) |
                        (t.type.id == TypeId::kInterval ? exec::kOrderedAggInterval : 0);
      order_sql += ", " + t.sql + ", " + std::to_string(flags);
    }
    if (name == "string_agg") agg_order_sql_ = std::move(order_sql);
    Json plain = node;
    plain["FuncCall"].erase("agg_order");
    auto translated = Func(plain);
    agg_order_sql_.clear();  // used, or the translation failed before it
    return translated;
  }
  if (f.contains("agg_filter") && IsAggregateCall(node)) {
    // agg(x) FILTER (WHERE c) is agg(CASE WHEN c THEN x END): aggregates
    // skip NULLs, and count(*) counts the rows where c holds.
    Json rewritten = node;
    Json& rf = rewritten["FuncCall"];
    Json cond = rf["agg_filter"];
    rf.erase("agg_filter");
    std::function<bool(const Json&)> has_aggregate = [&](const Json& j) {
      if (j.is_object() && IsAggregateCall(j)) return true;
      if (j.is_object() || j.is_array()) {
        for (const auto& e : j) {
          if (has_aggregate(e)) return true;
        }
      }
      return false;
    };
    if (has_aggregate(cond)) {
      return Status(sqlstate::kGroupingError, "aggregate functions are not allowed in FILTER", {},
                    loc);
    }
    auto guarded = [&](Json value) {
      return Json{
          {"CaseExpr",
           {{"args", Json::array({Json{{"CaseWhen", {{"expr", cond}, {"result", value}}}}})},
            {"location", -1}}}};
    };
    if (rf.value("agg_star", false)) {
      rf.erase("agg_star");
      rf["args"] = Json::array({guarded(Json{{"A_Const", {{"ival", {{"ival", 1}}}}}})});
    } else if (rf.contains("args") && !rf["args"].empty()) {
      rf["args"][0] = guarded(rf["args"][0]);
    }
    return Func(rewritten);
  }
  std::vector<const Json*> args;
  for (const auto& a : Get(f, "args")) args.push_back(&a);

  if (IsAggregateCall(node)) {
    if (!allow_aggregates_) {
      return Status(sqlstate::kGroupingError, "aggregate functions are not allowed here", {}, loc);
    }
    // agg(...) OVER runs over the rows of a grouped query, so its argument
    // may hold that query's aggregates (sum(count(*)) OVER ()).
    const std::string over = std::move(window_over_);
    window_over_.clear();
    const bool in_window = !over.empty();
    auto nested = [&](const Translated& a) {
      return a.contains_aggregate && !in_window
                 ? Status(sqlstate::kGroupingError, "aggregate function calls cannot be nested", {},
                          loc)
                 : Status::Ok();
    };
    bool distinct = f.value("agg_distinct", false);
    Translated out;
    out.contains_aggregate = true;
    if (name == "count") {
      if (f.value("agg_star", false)) {
        out.sql = "count(*)" + over;
      } else {
        if (args.size() != 1) return NotSupported("count with several arguments", loc);
        SB_ASSIGN_OR_RETURN(Translated a, Expr(*args[0]));
        SB_RETURN_IF_ERROR(nested(a));
        out.sql =
            distinct ? "count(DISTINCT " + KeySql(a) + ")" + over : "count(" + a.sql + ")" + over;
      }
      out.type = SqlType::Of(TypeId::kInt8);
      return out;
    }
    if (name == "string_agg") {
      if (args.size() != 2) return NotSupported("string_agg with this argument list", loc);
      SB_ASSIGN_OR_RETURN(Translated v, ExprAs(*args[0], SqlType::Of(TypeId::kText)));
      SB_ASSIGN_OR_RETURN(Translated sep, ExprAs(*args[1], SqlType::Of(TypeId::kText)));
      SB_RETURN_IF_ERROR(nested(v));
      SB_RETURN_IF_ERROR(nested(sep));
      const std::string order = std::move(agg_order_sql_);
      agg_order_sql_.clear();
      if (!order.empty() || distinct) {
        // Not a window aggregate: Window() refuses DISTINCT and ORDER BY there.
        // DISTINCT: as PostgreSQL, sort by the ORDER BY keys, then by the
        // arguments, and drop adjacent duplicates.
        const std::string s = "coalesce(" + sep.sql + ", '')";
        out.sql = distinct ? "sb_string_agg_distinct(" + v.sql + ", " + s + order + ", " + v.sql +
                                 ", 0, " + s + ", 0)"
                           : "sb_string_agg(" + v.sql + ", " + s + order + ")";
      } else {
        out.sql = "group_concat(" + v.sql + ", coalesce(" + sep.sql + ", ''))" + over;
      }
      out.type = SqlType::Of(TypeId::kText);
      return out;
    }
    if (args.size() != 1) return NotSupported(name + " with this argument list", loc);
    SB_ASSIGN_OR_RETURN(Translated a, Expr(*args[0]));
    SB_RETURN_IF_ERROR(nested(a));
    if (a.type.id == TypeId::kUnknown) {
      SB_ASSIGN_OR_RETURN(a, Coerce(std::move(a), SqlType::Of(TypeId::kText)));
    }
    std::string d = distinct ? "DISTINCT " : "";
    if (name == "min" || name == "max") {
      if (a.type.id == TypeId::kBool) return NotSupported(name + "(" + a.type.Name() + ")", loc);
      // Stored intervals already sort by span; decimal text needs the collation.
      out.sql = name + "(" + d + (IsTextNumeric(a.type) ? KeySql(a) : a.sql) + ")" + over;
      out.type = a.type;
      return out;
    }
    if (name == "sum" || name == "avg") {
      if (a.type.id == TypeId::kInterval) {
        // Field by field; avg = sum / count with interval division's rounding.
        const std::string arg = distinct ? "DISTINCT " + KeySql(a) : a.sql;
        const std::string sum = "sb_ivsum(" + arg + ")" + over;
        out.sql = name == "sum" ? sum : "sb_iv_div(" + sum + ", count(" + arg + ")" + over + ")";
        out.type = a.type;
        return out;
      }
      if (!a.type.IsNumber()) {
        return Status(sqlstate::kUndefinedFunction,
                      fmt::format("function {}({}) does not exist", name, a.type.Name()),
                      "No function matches the given name and argument types.", loc);
      }
      if (IsTextNumeric(a.type)) {
        // Decimal text: each value keeps its scale; sum's is the largest,
        // avg is sum / count with PostgreSQL's division scale.
        const std::string arg = distinct ? "DISTINCT " + KeySql(a) : a.sql;
        const std::string sum = (in_window ? "sb_decsum_w(" : "sb_decsum(") + arg + ")" + over;
        out.sql =
            name == "sum" ? sum : "sb_decop('/', " + sum + ", count(" + arg + ")" + over + ")";
        out.type = SqlType::Numeric(-1, 0);
        return out;
      }
      // bigint sums are numeric in PostgreSQL and cannot overflow: sb_sumi
      // adds in 128 bits and returns decimal text past the int64 range.
      // A window sum of counts cannot leave the int64 range (it would take
      // 2^63 rows), so SQLite's built-in sum is exact there.
      const bool sum_of_counts =
          in_window && args[0]->contains("FuncCall") && IsAggregateCall(*args[0]) &&
          Lower(NameList(Get(Get(*args[0], "FuncCall"), "funcname")).back()) == "count";
      const std::string sum_fn = a.type.id == TypeId::kInt8 && !sum_of_counts ? "sb_sumi(" : "sum(";
      if (name == "sum") {
        out.sql = sum_fn + d + a.sql + ")" + over;
        if (a.type.id == TypeId::kInt2 || a.type.id == TypeId::kInt4) {
          out.type = SqlType::Of(TypeId::kInt8);
        } else if (a.type.id == TypeId::kInt8) {
          out.type = LiteralNumeric(0);
        } else if (IsFloat(a.type)) {
          out.type = a.type;
        } else {
          out.type = LiteralNumeric(a.type.scale);
        }
        return out;
      }
      if (IsFloat(a.type)) {
        out.sql = "avg(" + d + a.sql + ")" + over;
        out.type = SqlType::Of(TypeId::kFloat8);
      } else {
        int scale = a.type.id == TypeId::kNumeric ? a.type.scale : 0;
        out.sql = fmt::format("sb_numavg({3}{0}{1}){4}, count({0}{1}){4}, {2})", d, a.sql, scale,
                              sum_fn, over);
        out.type = SqlType::Numeric(-1, 0);
      }
      return out;
    }
    if (auto kind = DispersionFromName(name)) {
      if (!a.type.IsNumber()) {
        return Status(sqlstate::kUndefinedFunction,
                      fmt::format("function {}({}) does not exist", name, a.type.Name()),
                      "No function matches the given name and argument types.", loc);
      }
      if (distinct) return NotSupported(name + "(DISTINCT ...)", loc);
      SB_ASSIGN_OR_RETURN(DispersionSums sums, DispersionInputs(a, in_window));
      out.sql = fmt::format("{}(count({}){}, {}{}, {}{}, '{}')", sums.function, a.sql, over,
                            sums.sum, over, sums.sum_of_squares, over, DispersionName(*kind));
      out.type = sums.result;
      return out;
    }
    if (name == "bool_and" || name == "bool_or" || name == "every") {
      if (a.type.id != TypeId::kBool) return NotSupported(name + "(" + a.type.Name() + ")", loc);
      out.sql = (name == "bool_or" ? "max(" : "min(") + a.sql + ")" + over;
      out.type = SqlType::Of(TypeId::kBool);
      return out;
    }
    return NotSupported("aggregate function " + name, loc);
  }

  return TranslateScalarFunction(
      *this, name, names.size() == 2 ? "pg_catalog." + names[1] : names.back(), f, loc);
}

Result<Translated> Translator::Expr(const Json& node) {
  if (override_) {
    if (auto r = override_(node)) return std::move(*r);
  }
  if (!node.is_object() || node.empty()) return Status::Internal("empty expression node");
  const std::string& kind = node.begin().key();
  if (kind == "A_Const") return Const(node);
  if (kind == "ColumnRef") return Column(node);
  if (kind == "ParamRef") return Param(node);
  if (kind == "A_Expr") return AExpr(node);
  if (kind == "BoolExpr") return BoolExpr(node);
  if (kind == "FuncCall") return Func(node);
  if (kind == "CaseExpr") return Case(node);
  if (kind == "TypeCast") return Cast(node);
  if (kind == "SQLValueFunction") return SqlValueFunction(node);
  if (kind == "NullTest") {
    const Json& n = Get(node, "NullTest");
    SB_ASSIGN_OR_RETURN(Translated a, Expr(Get(n, "arg")));
    bool is_not = n.value("nulltesttype", "") == "IS_NOT_NULL";
    Translated out =
        Make("(" + a.sql + (is_not ? " IS NOT NULL)" : " IS NULL)"), SqlType::Of(TypeId::kBool));
    out.contains_aggregate = a.contains_aggregate;
    return out;
  }
  if (kind == "BooleanTest") {
    const Json& n = Get(node, "BooleanTest");
    SB_ASSIGN_OR_RETURN(Translated a, Expr(Get(n, "arg")));
    std::string t = n.value("booltesttype", "");
    if (a.type.id == TypeId::kUnknown) {
      SB_ASSIGN_OR_RETURN(a, Coerce(std::move(a), SqlType::Of(TypeId::kBool)));
    }
    if (a.type.id != TypeId::kBool) {
      std::string what = t == "IS_TRUE"        ? "IS TRUE"
                         : t == "IS_NOT_TRUE"  ? "IS NOT TRUE"
                         : t == "IS_FALSE"     ? "IS FALSE"
                         : t == "IS_NOT_FALSE" ? "IS NOT FALSE"
                         : t == "IS_UNKNOWN"   ? "IS UNKNOWN"
                                               : "IS NOT UNKNOWN";
      return Status(
          sqlstate::kDatatypeMismatch,
          fmt::format("argument of {} must be type boolean, not type {}", what, a.type.Name()), {},
          NodeLoc(node));
    }
    std::string suffix = t == "IS_TRUE"        ? " IS TRUE"
                         : t == "IS_NOT_TRUE"  ? " IS NOT TRUE"
                         : t == "IS_FALSE"     ? " IS FALSE"
                         : t == "IS_NOT_FALSE" ? " IS NOT FALSE"
                         : t == "IS_UNKNOWN"   ? " IS NULL"
                                               : " IS NOT NULL";
    Translated out = Make("(" + a.sql + suffix + ")", SqlType::Of(TypeId::kBool));
    out.contains_aggregate = a.contains_aggregate;
    return out;
  }
  if (kind == "CoalesceExpr") {
    std::vector<Translated> items;
    for (const auto& a : Get(Get(node, "CoalesceExpr"), "args")) {
      SB_ASSIGN_OR_RETURN(Translated t, Expr(a));
      items.push_back(std::move(t));
    }
    SB_ASSIGN_OR_RETURN(items, UnifyValues(std::move(items), "COALESCE"));
    std::string sql = "coalesce(";
    bool agg = false;
    for (size_t i = 0; i < items.size(); ++i) {
      sql += (i ? ", " : "") + items[i].sql;
      agg = agg || items[i].contains_aggregate;
    }
    if (items.size() == 1) sql += ", NULL";
    Translated out = Make(sql + ")", items.front().type);
    out.contains_aggregate = agg;
    return out;
  }
  if (kind == "MinMaxExpr") return TranslateMinMax(*this, node);
  if (kind == "CollateClause") {
    // Text compares bytewise everywhere (collation "C"), so "C" and its
    // equivalents change nothing; other collations are not available.
    const Json& c = Get(node, "CollateClause");
    auto coll = NameList(Get(c, "collname"));
    const std::string name = coll.empty() ? "" : coll.back();
    if ((coll.size() == 2 && coll[0] != "pg_catalog") ||
        (name != "C" && name != "POSIX" && name != "default" && name != "ucs_basic")) {
      return NotSupported(fmt::format("collation \"{}\"", name), NodeLoc(node));
    }
    SB_ASSIGN_OR_RETURN(Translated t, Expr(Get(c, "arg")));
    if (t.type.id == TypeId::kUnknown) {
      SB_ASSIGN_OR_RETURN(t, Coerce(std::move(t), SqlType::Of(TypeId::kText)));
    }
    if (!IsTextLike(t.type)) {
      return Status(sqlstate::kDatatypeMismatch,
                    fmt::format("collations are not supported by type {}", t.type.Name()), {},
                    NodeLoc(node));
    }
    return t;
  }
  if (kind == "SubLink") {
    if (subquery_handler_) return subquery_handler_(node, this);
    return NotSupported("subqueries", NodeLoc(node));
  }
  return NotSupported("expression " + kind, NodeLoc(node));
}

}  // namespace sb::sql
