#include "sql/series_function.h"

#include <fmt/format.h>

#include "common/decimal.h"
#include "common/interval.h"
#include "sql/select_clauses.h"

namespace sb::sql {
namespace {

// Replaces each ParamRef $n (n >= 9901) by args[n - 9901].
Json Splice(const Json& node, const std::vector<Json>& args) {
  if (node.is_array()) {
    Json out = Json::array();
    for (const auto& e : node) out.push_back(Splice(e, args));
    return out;
  }
  if (!node.is_object()) return node;
  if (node.contains("ParamRef")) {
    const int n = Get(node, "ParamRef").value("number", 0) - 9901;
    if (n >= 0 && n < static_cast<int>(args.size())) return args[static_cast<size_t>(n)];
  }
  Json out = Json::object();
  for (auto it = node.begin(); it != node.end(); ++it) out[it.key()] = Splice(it.value(), args);
  return out;
}

}  // namespace

Result<Json> SeriesAsSubselect(const Json& item, Translator* tr) {
  const Json& rf = Get(item, "RangeFunction");
  if (rf.value("lateral", false)) return NotSupported("LATERAL");
  if (rf.value("ordinality", false)) return NotSupported("WITH ORDINALITY");
  if (rf.value("is_rowsfrom", false) || Get(rf, "functions").size() != 1) {
    return NotSupported("ROWS FROM");
  }
  const Json& call = Get(Get(At(Get(rf, "functions"), 0), "List"), "items");
  const Json& func = At(call, 0);
  if (!func.contains("FuncCall")) return NotSupported("this function in FROM");
  const Json& f = Get(func, "FuncCall");
  const auto names = NameList(Get(f, "funcname"));
  const std::string name = names.empty() ? "" : Lower(names.back());
  if (name != "generate_series") return NotSupported("the function " + name + "() in FROM");
  std::vector<Json> args;
  for (const auto& a : Get(f, "args")) args.push_back(a);
  if (args.size() != 2 && args.size() != 3) {
    return Status(sqlstate::kUndefinedFunction,
                  "function generate_series with this argument list does not exist",
                  "No function matches the given name and argument types.");
  }
  // The arguments decide the kind of series.
  SB_ASSIGN_OR_RETURN(Translated start, tr->Expr(args[0]));
  const bool timestamps = start.type.id == TypeId::kDate || start.type.id == TypeId::kTimestamp ||
                          start.type.id == TypeId::kTimestamptz;
  if (timestamps && args.size() != 3) {
    return Status(sqlstate::kUndefinedFunction,
                  "function generate_series(timestamp, timestamp) does not exist",
                  "Give the step as an interval: generate_series(a, b, interval '1 day').");
  }
  if (args.size() == 2) args.push_back(Json{{"A_Const", Json{{"ival", Json{{"ival", 1}}}}}});
  // The step decides the direction and must not be zero; it is checked here,
  // so it must be a constant.
  SB_ASSIGN_OR_RETURN(Translated step, tr->Expr(args[2]));
  if (timestamps) {
    SB_ASSIGN_OR_RETURN(step, tr->Coerce(std::move(step), SqlType::Of(TypeId::kInterval)));
  }
  if (!step.is_constant || IsNull(step.constant)) {
    return NotSupported("generate_series with a step that is not a constant");
  }
  bool zero_step = false;
  if (const auto* i = std::get_if<int64_t>(&step.constant)) zero_step = *i == 0;
  if (const auto* d = std::get_if<double>(&step.constant)) zero_step = *d == 0;
  if (const auto* text = std::get_if<std::string>(&step.constant)) {
    if (auto iv = DecodeStoredInterval(*text); iv.ok()) {
      zero_step = iv->months == 0 && iv->days == 0 && iv->micros == 0;
    } else if (auto dec = ParseDecimal(*text); dec.ok()) {
      zero_step = dec->unscaled == 0;
    }
  }
  if (zero_step) return Status(sqlstate::kInvalidParameterValue, "step size cannot equal zero");
  const Json& alias = rf.contains("alias") ? Get(rf, "alias") : Json::object();
  const std::string table = alias.value("aliasname", "generate_series");
  std::string column = table;
  if (alias.contains("colnames") && !Get(alias, "colnames").empty()) {
    column = Get(At(Get(alias, "colnames"), 0), "String").value("sval", "");
  }
  // A date start is a timestamptz series, as PostgreSQL resolves it.
  const std::string first = start.type.id == TypeId::kDate ? "CAST($9901 AS timestamptz)" : "$9901";
  const std::string zero = timestamps ? "interval '0'" : "0";
  const std::string sql = fmt::format(
      "SELECT * FROM (WITH RECURSIVE _sb_series(v) AS ("
      "SELECT {0} WHERE ($9903 > {1} AND {0} <= $9902) OR "
      "($9903 < {1} AND {0} >= $9902) "
      "UNION ALL SELECT v + $9903 FROM _sb_series WHERE ($9903 > {1} AND v + $9903 <= $9902) OR "
      "($9903 < {1} AND v + $9903 >= $9902)) "
      "SELECT v AS {2} FROM _sb_series) AS {3}",
      first, zero, QuoteIdent(column), QuoteIdent(table));
  SB_ASSIGN_OR_RETURN(ParsedScript parsed, Parse(sql));
  const Json& from = At(Get(parsed.statements.at(0).body(), "fromClause"), 0);
  return Splice(from, args);
}

}  // namespace sb::sql
