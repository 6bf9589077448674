#include "sql/scalar_functions.h"

#include <fmt/format.h>

#include <algorithm>
#include <numbers>

#include "common/decimal.h"
#include "common/value_codec.h"
#include "exec/interval_functions.h"
#include "exec/pg_functions.h"

namespace sb::sql {
namespace {

int Loc(const Json& node) {
  if (!node.is_object() || node.empty()) return 0;
  const Json& body = node.begin().value();
  return body.is_object() ? body.value("location", -1) + 1 : 0;
}

SqlType T(TypeId id) {
  return SqlType::Of(id);
}
bool IsTextLike(const SqlType& t) {
  return t.id == TypeId::kText || t.id == TypeId::kVarchar;
}
bool IsFloat(const SqlType& t) {
  return t.id == TypeId::kFloat4 || t.id == TypeId::kFloat8;
}
bool IsTextNumeric(const SqlType& t) {
  return t.id == TypeId::kNumeric && !NumericIsScaled(t);
}
bool IsUnknown(const SqlType& t) {
  return t.id == TypeId::kUnknown;
}
// Scaled numeric wide enough for any value of `scale` fraction digits.
SqlType ScaledNumeric(int scale) {
  return SqlType::Numeric(kMaxScaledNumericPrecision, scale);
}
int IntBits(const SqlType& t) {
  return t.id == TypeId::kInt2 ? 16 : t.id == TypeId::kInt4 ? 32 : 64;
}

// Type names as PostgreSQL's function-resolution errors print them.
std::string ErrorTypeName(const SqlType& t) {
  if (t.id == TypeId::kNumeric) return "numeric";
  if (t.id == TypeId::kVarchar) return "character varying";
  return t.Name();
}

const char* const kNoFunctionHint =
    "No function matches the given name and argument types. You might need to add explicit type "
    "casts.";

// One function call being translated: its arguments, already translated,
// and conversions to the parameter types of the chosen PostgreSQL function.
class Call {
 public:
  Call(Translator& tr, std::string name, std::string display, int loc)
      : tr_(tr), name_(std::move(name)), display_(std::move(display)), loc_(loc) {}

  Status Load(const Json& args_json) {
    for (const auto& a : args_json) {
      SB_ASSIGN_OR_RETURN(Translated t, tr_.Expr(a));
      original_.push_back(t.type);
      agg_ = agg_ || t.contains_aggregate;
      args.push_back(std::move(t));
    }
    return Status::Ok();
  }

  size_t n() const { return args.size(); }
  const SqlType& type(size_t i) const { return args[i].type; }
  const std::string& name() const { return name_; }
  int loc() const { return loc_; }

  std::string TypeList() const {
    std::string list;
    for (size_t i = 0; i < original_.size(); ++i) {
      list += (i ? ", " : "") + ErrorTypeName(original_[i]);
    }
    return list;
  }
  Status NoFunction() const {
    return Status(sqlstate::kUndefinedFunction,
                  fmt::format("function {}({}) does not exist", display_, TypeList()),
                  kNoFunctionHint, loc_);
  }
  Status NotUnique() const {
    return Status("42725", fmt::format("function {}({}) is not unique", display_, TypeList()),
                  "Could not choose a best candidate function. You might need to add explicit "
                  "type casts.",
                  loc_);
  }
  Status Unsupported(const std::string& what, const std::string& hint = {}) const {
    return Status(sqlstate::kFeatureNotSupported, what + " is not supported", hint, loc_);
  }
  Translated Out(std::string sql, SqlType type) const {
    Translated t;
    t.sql = std::move(sql);
    t.type = type;
    t.contains_aggregate = agg_;
    return t;
  }

  // Conversions to a parameter type; false when PostgreSQL has no implicit
  // cast from the argument's type.
  Result<bool> ToText(size_t i) {
    const SqlType t = args[i].type;
    if (t.id == TypeId::kText) return true;
    if (t.id == TypeId::kVarchar) {
      args[i].type = T(TypeId::kText);
      return true;
    }
    if (IsUnknown(t)) return Convert(i, T(TypeId::kText));
    return false;
  }
  Result<bool> ToInt4(size_t i) {
    const SqlType t = args[i].type;
    if (t.id == TypeId::kInt4) return true;
    if (t.id == TypeId::kInt2) {
      args[i].type = T(TypeId::kInt4);
      return true;
    }
    if (IsUnknown(t)) return Convert(i, T(TypeId::kInt4));
    return false;
  }
  Result<bool> ToFloat8(size_t i) {
    const SqlType t = args[i].type;
    if (t.IsNumber() || IsUnknown(t)) return Convert(i, T(TypeId::kFloat8));
    return false;
  }
  Result<bool> ToBytea(size_t i) {
    const SqlType t = args[i].type;
    if (t.id == TypeId::kBytea) return true;
    if (IsUnknown(t)) return Convert(i, T(TypeId::kBytea));
    return false;
  }
  Result<bool> Convert(size_t i, const SqlType& to) {
    SB_ASSIGN_OR_RETURN(args[i], tr_.Coerce(std::move(args[i]), to));
    return true;
  }

  // The argument as text the way PostgreSQL's output function prints it
  // (concat, concat_ws): booleans are t/f, not true/false as in a cast.
  Result<std::string> OutputText(size_t i) {
    Translated& a = args[i];
    if (a.type.id == TypeId::kBool) {
      if (a.is_constant) {
        if (IsNull(a.constant)) return std::string("NULL");
        return std::string(std::get<int64_t>(a.constant) != 0 ? "'t'" : "'f'");
      }
      return "(CASE " + a.sql + " WHEN 1 THEN 't' WHEN 0 THEN 'f' END)";
    }
    if (IsTextLike(a.type)) return a.sql;
    SB_ASSIGN_OR_RETURN(Translated t, tr_.Coerce(a, T(TypeId::kText), /*explicit_cast=*/true));
    return t.sql;
  }

  // The digits argument of round/trunc(numeric, int): a constant.
  Result<std::optional<int>> ConstantInt(size_t i) {
    SB_ASSIGN_OR_RETURN(bool ok, ToInt4(i));
    if (!ok) return Status(NoFunction());
    const Translated& a = args[i];
    if (!a.is_constant) return std::optional<int>();
    if (IsNull(a.constant)) return std::optional<int>(std::nullopt);
    return std::optional<int>(static_cast<int>(std::get<int64_t>(a.constant)));
  }

  std::vector<Translated> args;

 private:
  Translator& tr_;
  std::string name_;
  std::string display_;
  int loc_;
  bool agg_ = false;
  std::vector<SqlType> original_;
};

#define SB_REQUIRE(call, expr)                  \
  do {                                          \
    auto _sb_req = (expr);                      \
    if (!_sb_req.ok()) return _sb_req.status(); \
    if (!*_sb_req) return (call).NoFunction();  \
  } while (0)

std::string Join(const std::vector<Translated>& args, size_t from = 0) {
  std::string s;
  for (size_t i = from; i < args.size(); ++i) s += (i > from ? ", " : "") + args[i].sql;
  return s;
}

// A numeric argument for round/trunc/ceil/floor: integers become numeric
// with scale 0 and a numeric literal in quotes keeps its own scale.
Result<bool> ToNumeric(Call& c, size_t i) {
  const Translated& a = c.args[i];
  if (a.type.id == TypeId::kNumeric) return true;
  if (a.type.IsInteger()) return c.Convert(i, ScaledNumeric(0));
  if (IsUnknown(a.type)) {
    if (a.param > 0) {
      return Status(sqlstate::kIndeterminateDatatype,
                    fmt::format("could not determine the scale of parameter ${} used with {}()",
                                a.param, c.name()),
                    fmt::format("Give the parameter a type, e.g. ${}::numeric(12,3).", a.param),
                    c.loc());
    }
    int scale = 0;
    if (a.is_constant && !IsNull(a.constant)) {
      SB_ASSIGN_OR_RETURN(Decimal d, ParseDecimal(std::get<std::string>(a.constant)));
      scale = d.scale;
    }
    if (scale > kMaxScaledNumericPrecision) return c.Unsupported("numeric with this scale");
    return c.Convert(i, ScaledNumeric(scale));
  }
  return false;
}

// SQL text of a numeric argument's scale for sb_numround (ignored for
// decimal text).
int NumericScale(const SqlType& t) {
  return NumericIsScaled(t) ? t.scale : 0;
}

// The float8 functions and their numeric counterparts, chosen as PostgreSQL
// does: a numeric argument selects the numeric variant.
enum class Variant { kFloat, kNumeric, kNone };
Variant MathVariant(const SqlType& t) {
  if (t.id == TypeId::kNumeric) return Variant::kNumeric;
  if (t.IsNumber() || IsUnknown(t)) return Variant::kFloat;
  return Variant::kNone;
}

Result<Translated> FloatCall(Call& c, const char* udf) {
  SB_REQUIRE(c, c.ToFloat8(0));
  return c.Out(std::string(udf) + "(" + c.args[0].sql + ")", T(TypeId::kFloat8));
}

Result<Translated> Power(Call& c) {
  if (c.n() != 2) return c.NoFunction();
  bool any_float = false, any_numeric = false;
  for (size_t i = 0; i < 2; ++i) {
    const SqlType& t = c.type(i);
    if (!t.IsNumber() && !IsUnknown(t)) return c.NoFunction();
    any_float = any_float || IsFloat(t);
    any_numeric = any_numeric || t.id == TypeId::kNumeric;
  }
  if (any_numeric && !any_float) {
    return c.Unsupported(c.name() + "(numeric, numeric)",
                         "Cast an argument to double precision for a floating-point result.");
  }
  SB_REQUIRE(c, c.ToFloat8(0));
  SB_REQUIRE(c, c.ToFloat8(1));
  return c.Out("sb_pow(" + c.args[0].sql + ", " + c.args[1].sql + ")", T(TypeId::kFloat8));
}

// round/trunc/ceil/floor. mode: 0 round, 1 trunc, 2 ceil, 3 floor.
Result<Translated> Rounding(Call& c, int mode) {
  static const char* const kFloatUdf[] = {"sb_fround", "sb_ftrunc", "sb_fceil", "sb_ffloor"};
  const bool two_args = c.n() == 2 && mode <= 1;
  if (c.n() != 1 && !two_args) return c.NoFunction();
  if (!two_args) {
    switch (MathVariant(c.type(0))) {
      case Variant::kNumeric:
        return c.Out(
            fmt::format("sb_numround({}, {}, 0, {})", c.args[0].sql, NumericScale(c.type(0)), mode),
            ScaledNumeric(0));
      case Variant::kFloat:
        return FloatCall(c, kFloatUdf[mode]);
      case Variant::kNone:
        return c.NoFunction();
    }
  }
  SB_REQUIRE(c, ToNumeric(c, 0));
  SB_ASSIGN_OR_RETURN(std::optional<int> digits, c.ConstantInt(1));
  if (c.args[1].is_constant && IsNull(c.args[1].constant)) {
    return c.Out("NULL", ScaledNumeric(0));
  }
  if (!digits) {
    return c.Unsupported(c.name() + "(numeric, integer) with a non-constant number of digits",
                         "The result's scale must be known when the statement is planned.");
  }
  if (*digits > kMaxScaledNumericPrecision) {
    return c.Unsupported(c.name() + "() to more than 18 fraction digits");
  }
  return c.Out(fmt::format("sb_numround({}, {}, {}, {})", c.args[0].sql, NumericScale(c.type(0)),
                           *digits, mode),
               ScaledNumeric(std::max(*digits, 0)));
}

Result<Translated> Mod(Call& c) {
  if (c.n() != 2) return c.NoFunction();
  const SqlType a = c.type(0), b = c.type(1);
  for (const SqlType& t : {a, b}) {
    if (!(t.IsInteger() || t.id == TypeId::kNumeric || IsUnknown(t))) return c.NoFunction();
  }
  if (IsUnknown(a) && IsUnknown(b)) return c.NotUnique();
  if (a.id == TypeId::kNumeric || b.id == TypeId::kNumeric) {
    if (IsTextNumeric(a) || IsTextNumeric(b)) {
      SB_REQUIRE(c, c.Convert(0, SqlType::Numeric(-1, 0)));
      SB_REQUIRE(c, c.Convert(1, SqlType::Numeric(-1, 0)));
      return c.Out("sb_decop('%', " + c.args[0].sql + ", " + c.args[1].sql + ")",
                   SqlType::Numeric(-1, 0));
    }
    SB_REQUIRE(c, ToNumeric(c, 0));
    SB_REQUIRE(c, ToNumeric(c, 1));
    int s = std::max(c.type(0).scale, c.type(1).scale);
    SB_REQUIRE(c, c.Convert(0, ScaledNumeric(s)));
    SB_REQUIRE(c, c.Convert(1, ScaledNumeric(s)));
    return c.Out("sb_mod(" + c.args[0].sql + ", " + c.args[1].sql + ")", ScaledNumeric(s));
  }
  SqlType common = IsUnknown(a) ? b : IsUnknown(b) ? a : (a.id >= b.id ? a : b);
  SB_REQUIRE(c, c.Convert(0, common));
  SB_REQUIRE(c, c.Convert(1, common));
  return c.Out("sb_mod(" + c.args[0].sql + ", " + c.args[1].sql + ")", common);
}

Result<Translated> Abs(Call& c) {
  if (c.n() != 1) return c.NoFunction();
  const SqlType t = c.type(0);
  const std::string& x = c.args[0].sql;
  if (t.IsInteger()) return c.Out(fmt::format("sb_iabs({}, {})", x, IntBits(t)), t);
  if (IsFloat(t)) return c.Out("abs(" + x + ")", t);
  if (NumericIsScaled(t)) return c.Out("abs(" + x + ")", ScaledNumeric(t.scale));
  if (IsTextNumeric(t)) return c.Out("sb_decfn('abs', " + x + ")", t);
  if (IsUnknown(t)) return FloatCall(c, "abs");
  return c.NoFunction();
}

// The value argument of extract/date_part/date_trunc.
Result<exec::DateKind> DateArg(Call& c, size_t i, bool date_as_timestamptz) {
  const SqlType t = c.type(i);
  if (IsUnknown(t)) return Status(c.NotUnique());
  if (t.id == TypeId::kDate) {
    if (!date_as_timestamptz) return exec::DateKind::kDate;
    SB_REQUIRE(c, c.Convert(i, T(TypeId::kTimestamptz)));
    return exec::DateKind::kTimestamptz;
  }
  if (t.id == TypeId::kTimestamp) return exec::DateKind::kTimestamp;
  if (t.id == TypeId::kTimestamptz) return exec::DateKind::kTimestamptz;
  return Status(c.NoFunction());
}

Result<Translated> Extract(Call& c) {
  if (c.n() != 2) return c.NoFunction();
  SB_REQUIRE(c, c.ToText(0));
  if (c.type(1).id == TypeId::kInterval) {
    const Translated& field = c.args[0];
    if (!field.is_constant || IsNull(field.constant)) {
      return c.Unsupported("extract() with a non-constant field");
    }
    const int scale = exec::IntervalExtractScale(std::get<std::string>(field.constant));
    return c.Out(fmt::format("sb_iv_extract({}, {})", field.sql, c.args[1].sql),
                 ScaledNumeric(std::max(scale, 0)));
  }
  SB_ASSIGN_OR_RETURN(exec::DateKind kind, DateArg(c, 1, false));
  const Translated& unit = c.args[0];
  if (!unit.is_constant || IsNull(unit.constant)) {
    return c.Unsupported("extract() with a non-constant field");
  }
  int scale = exec::ExtractScale(std::get<std::string>(unit.constant), kind);
  if (scale == -2) {
    return c.Unsupported("extract(julian from timestamp)",
                         "Use date_part('julian', ...) for a double precision result.");
  }
  return c.Out(
      fmt::format("sb_extract({}, {}, {})", unit.sql, c.args[1].sql, static_cast<int>(kind)),
      ScaledNumeric(std::max(scale, 0)));
}

Result<Translated> DatePart(Call& c) {
  if (c.n() != 2) return c.NoFunction();
  SB_REQUIRE(c, c.ToText(0));
  if (c.type(1).id == TypeId::kInterval) {
    return c.Out(fmt::format("sb_iv_part({}, {})", c.args[0].sql, c.args[1].sql),
                 T(TypeId::kFloat8));
  }
  SB_ASSIGN_OR_RETURN(exec::DateKind kind, DateArg(c, 1, false));
  return c.Out(
      fmt::format("sb_date_part({}, {}, {})", c.args[0].sql, c.args[1].sql, static_cast<int>(kind)),
      T(TypeId::kFloat8));
}

// age(a, b) and age(b) (from midnight of the current date), of dates or
// timestamps: an interval.
Result<Translated> Age(Call& c) {
  if (c.n() != 1 && c.n() != 2) return c.NoFunction();
  for (size_t i = 0; i < c.n(); ++i) {
    if (IsUnknown(c.type(i))) SB_REQUIRE(c, c.Convert(i, T(TypeId::kTimestamptz)));
    const TypeId t = c.type(i).id;
    if (t != TypeId::kDate && t != TypeId::kTimestamp && t != TypeId::kTimestamptz) {
      return c.NoFunction();
    }
  }
  const std::string from =
      c.n() == 2 ? c.args[0].sql : "substr(sb_setting('statement_timestamp'), 1, 10)";
  return c.Out("sb_age(" + from + ", " + c.args[c.n() - 1].sql + ")", T(TypeId::kInterval));
}

Result<Translated> DateTruncCall(Call& c) {
  if (c.n() == 3) return c.Unsupported("date_trunc() with a time zone");
  if (c.n() != 2) return c.NoFunction();
  SB_REQUIRE(c, c.ToText(0));
  SB_ASSIGN_OR_RETURN(exec::DateKind kind, DateArg(c, 1, true));
  return c.Out(
      fmt::format("sb_date_trunc({}, {}, {})", c.args[0].sql, c.args[1].sql,
                  static_cast<int>(kind)),
      kind == exec::DateKind::kTimestamp ? T(TypeId::kTimestamp) : T(TypeId::kTimestamptz));
}

// All arguments text; `sqlname(args)` of type `result`.
Result<Translated> TextCall(Call& c, size_t nargs, const std::string& sqlname, TypeId result) {
  if (c.n() != nargs) return c.NoFunction();
  for (size_t i = 0; i < nargs; ++i) SB_REQUIRE(c, c.ToText(i));
  return c.Out(sqlname + "(" + Join(c.args) + ")", T(result));
}

Result<Translated> Substr(Call& c, bool sql_syntax) {
  if (c.n() != 2 && c.n() != 3) return c.NoFunction();
  if (sql_syntax) {
    const SqlType t1 = c.type(1);
    if (IsTextLike(t1) || IsUnknown(t1)) {
      return c.Unsupported("substring() with a regular expression (FROM pattern or SIMILAR)");
    }
  }
  const bool bytea = c.type(0).id == TypeId::kBytea;
  if (bytea) {
    SB_REQUIRE(c, c.ToBytea(0));
  } else {
    SB_REQUIRE(c, c.ToText(0));
  }
  for (size_t i = 1; i < c.n(); ++i) SB_REQUIRE(c, c.ToInt4(i));
  return c.Out("sb_substr(" + Join(c.args) + ")", T(bytea ? TypeId::kBytea : TypeId::kText));
}

Result<Translated> Trim(Call& c, const char* sqlname) {
  if (c.n() != 1 && c.n() != 2) return c.NoFunction();
  if (c.type(0).id == TypeId::kBytea) return c.Unsupported(c.name() + "(bytea)");
  for (size_t i = 0; i < c.n(); ++i) SB_REQUIRE(c, c.ToText(i));
  return c.Out(std::string(sqlname) + "(" + Join(c.args) + ")", T(TypeId::kText));
}

Result<Translated> Pad(Call& c, const char* udf) {
  if (c.n() != 2 && c.n() != 3) return c.NoFunction();
  SB_REQUIRE(c, c.ToText(0));
  SB_REQUIRE(c, c.ToInt4(1));
  if (c.n() == 3) SB_REQUIRE(c, c.ToText(2));
  std::string fill = c.n() == 3 ? c.args[2].sql : "' '";
  return c.Out(fmt::format("{}({}, {}, {})", udf, c.args[0].sql, c.args[1].sql, fill),
               T(TypeId::kText));
}

// Text or bytea argument: `sqlname(x)` of type `result`.
Result<Translated> TextOrBytea(Call& c, const std::string& sqlname, TypeId result,
                               const std::string& suffix = {}) {
  if (c.n() != 1) return c.NoFunction();
  if (c.type(0).id == TypeId::kBytea) {
    SB_REQUIRE(c, c.ToBytea(0));
  } else {
    SB_REQUIRE(c, c.ToText(0));
  }
  return c.Out(sqlname + "(" + c.args[0].sql + ")" + suffix, T(result));
}

Result<Translated> Concat(Call& c, bool with_separator) {
  if (c.n() == 0 || (with_separator && c.n() < 2)) return c.NoFunction();
  std::string sql = with_separator ? "sb_concat_ws(" : "sb_concat(";
  for (size_t i = 0; i < c.n(); ++i) {
    if (with_separator && i == 0) {
      SB_REQUIRE(c, c.ToText(0));
      sql += c.args[0].sql;
      continue;
    }
    if (IsUnknown(c.type(i))) SB_REQUIRE(c, c.ToText(i));
    SB_ASSIGN_OR_RETURN(std::string s, c.OutputText(i));
    sql += (i ? ", " : "") + s;
  }
  return c.Out(sql + ")", T(TypeId::kText));
}

Result<Translated> Dispatch(Call& c) {
  const std::string& name = c.name();
  const size_t n = c.n();
  // ---- text ----
  if (name == "lower" || name == "upper") return TextCall(c, 1, name, TypeId::kText);
  if (name == "initcap") return TextCall(c, 1, "sb_initcap", TypeId::kText);
  if (name == "reverse") return TextCall(c, 1, "sb_reverse", TypeId::kText);
  if (name == "length") return TextOrBytea(c, "length", TypeId::kInt4);
  if (name == "char_length" || name == "character_length") {
    return TextCall(c, 1, "length", TypeId::kInt4);
  }
  if (name == "octet_length") return TextOrBytea(c, "sb_octet_length", TypeId::kInt4);
  if (name == "bit_length") return TextOrBytea(c, "(sb_octet_length", TypeId::kInt4, " * 8)");
  if (name == "md5") return TextOrBytea(c, "sb_md5", TypeId::kText);
  if (name == "substr") return Substr(c, false);
  if (name == "substring") return Substr(c, true);
  if (name == "position" || name == "strpos") {
    if (n == 2 && (c.type(0).id == TypeId::kBytea || c.type(1).id == TypeId::kBytea)) {
      return c.Unsupported(name + "(bytea, bytea)");
    }
    // position(needle IN haystack) arrives as position(haystack, needle).
    return TextCall(c, 2, "instr", TypeId::kInt4);
  }
  if (name == "btrim") return Trim(c, "trim");
  if (name == "ltrim") return Trim(c, "ltrim");
  if (name == "rtrim") return Trim(c, "rtrim");
  if (name == "replace") return TextCall(c, 3, "replace", TypeId::kText);
  if (name == "split_part") {
    if (n != 3) return c.NoFunction();
    SB_REQUIRE(c, c.ToText(0));
    SB_REQUIRE(c, c.ToText(1));
    SB_REQUIRE(c, c.ToInt4(2));
    return c.Out("sb_split_part(" + Join(c.args) + ")", T(TypeId::kText));
  }
  if (name == "starts_with") return TextCall(c, 2, "sb_starts_with", TypeId::kBool);
  if (name == "left" || name == "right" || name == "repeat") {
    if (n != 2) return c.NoFunction();
    SB_REQUIRE(c, c.ToText(0));
    SB_REQUIRE(c, c.ToInt4(1));
    return c.Out("sb_" + name + "(" + Join(c.args) + ")", T(TypeId::kText));
  }
  if (name == "lpad") return Pad(c, "sb_lpad");
  if (name == "rpad") return Pad(c, "sb_rpad");
  if (name == "concat") return Concat(c, false);
  if (name == "concat_ws") return Concat(c, true);

  // ---- math ----
  if (name == "abs") return Abs(c);
  if (name == "round") return Rounding(c, 0);
  if (name == "trunc") return Rounding(c, 1);
  if (name == "ceil" || name == "ceiling") return Rounding(c, 2);
  if (name == "floor") return Rounding(c, 3);
  if (name == "mod") return Mod(c);
  if (name == "power" || name == "pow") return Power(c);
  if (name == "pi") {
    if (n != 0) return c.NoFunction();
    return c.Out(SqlLiteral(Value(std::numbers::pi)), T(TypeId::kFloat8));
  }
  if (name == "sign") {
    if (n != 1) return c.NoFunction();
    switch (MathVariant(c.type(0))) {
      case Variant::kNumeric:
        if (IsTextNumeric(c.type(0))) {
          return c.Out("sb_decfn('sign', " + c.args[0].sql + ")", ScaledNumeric(0));
        }
        return c.Out("sb_sign(" + c.args[0].sql + ")", ScaledNumeric(0));
      case Variant::kFloat:
        return FloatCall(c, "sb_fsign");
      case Variant::kNone:
        return c.NoFunction();
    }
  }
  if (name == "cbrt") {
    if (n != 1) return c.NoFunction();
    return FloatCall(c, "sb_cbrt");
  }
  if (name == "sqrt" || name == "exp" || name == "ln" || name == "log" || name == "log10") {
    if (name == "log" && n == 2) {
      return c.Unsupported("log(b, x)",
                           "log with a base is a numeric function; use ln(x) / ln(b).");
    }
    if (n != 1) return c.NoFunction();
    switch (MathVariant(c.type(0))) {
      case Variant::kNumeric:
        return c.Unsupported(
            name + "(numeric)",
            fmt::format("Cast the argument to double precision: {}(x::float8).", name));
      case Variant::kFloat:
        return FloatCall(c, name == "sqrt"  ? "sb_sqrt"
                            : name == "exp" ? "sb_exp"
                            : name == "ln"  ? "sb_ln"
                                            : "sb_log10");
      case Variant::kNone:
        return c.NoFunction();
    }
  }

  // ---- date/time ----
  if (name == "extract") return Extract(c);
  if (name == "date_part") return DatePart(c);
  if (name == "date_trunc") return DateTruncCall(c);
  if (name == "age") return Age(c);
  if (name == "to_char") {
    if (c.n() != 2) return c.NoFunction();
    const TypeId t = c.type(0).id;
    if (t != TypeId::kDate && t != TypeId::kTimestamp && t != TypeId::kTimestamptz) {
      return c.Unsupported(
          "to_char() of " +
              (IsUnknown(c.type(0)) ? std::string("an untyped value") : c.type(0).Name()),
          "to_char formats dates and timestamps; cast numbers to text or round() them.");
    }
    SB_REQUIRE(c, c.ToText(1));
    const auto kind = t == TypeId::kDate        ? exec::DateKind::kDate
                      : t == TypeId::kTimestamp ? exec::DateKind::kTimestamp
                                                : exec::DateKind::kTimestamptz;
    return c.Out(
        fmt::format("sb_to_char({}, {}, {})", c.args[0].sql, c.args[1].sql, static_cast<int>(kind)),
        T(TypeId::kText));
  }
  if (name == "justify_hours" || name == "justify_days" || name == "justify_interval") {
    if (c.n() != 1) return c.NoFunction();
    if (IsUnknown(c.type(0))) SB_REQUIRE(c, c.Convert(0, T(TypeId::kInterval)));
    if (c.type(0).id != TypeId::kInterval) return c.NoFunction();
    return c.Out(fmt::format("sb_justify('{}', {})", name.substr(8), c.args[0].sql),
                 T(TypeId::kInterval));
  }
  if (name == "now" || name == "transaction_timestamp" || name == "statement_timestamp") {
    if (n != 0) return c.NoFunction();
    return c.Out("sb_setting('statement_timestamp')", T(TypeId::kTimestamptz));
  }

  // ---- system information ----
  if (name == "version" && n == 0) {
    return c.Out("sb_setting('server_version_full')", T(TypeId::kText));
  }
  if (name == "current_database" && n == 0) return c.Out("'scratchbird'", T(TypeId::kText));
  if (name == "current_schema" && n == 0) return c.Out("'public'", T(TypeId::kText));
  if (name == "current_setting" && n == 1) {
    SB_REQUIRE(c, c.ToText(0));
    return c.Out("sb_setting(" + c.args[0].sql + ")", T(TypeId::kText));
  }
  return Status(sqlstate::kFeatureNotSupported, fmt::format("function {}() is not supported", name),
                "See docs/sql.md for the functions ScratchBird supports.", c.loc());
}

}  // namespace

// make_interval(years, months, weeks, days, hours, mins, secs), by position
// or by name (days => 10), each 0 when not given.
Result<Translated> MakeInterval(Translator& tr, const Json& func_call, int location) {
  static const char* const kParams[] = {"years", "months", "weeks", "days",
                                        "hours", "mins",   "secs"};
  std::vector<std::string> sql(7, "0");
  std::vector<bool> given(7, false);
  size_t position = 0;
  for (const auto& a : Get(func_call, "args")) {
    size_t i = position++;
    const Json* value = &a;
    if (a.contains("NamedArgExpr")) {
      const Json& n = Get(a, "NamedArgExpr");
      const std::string name = n.value("name", "");
      auto it = std::find_if(std::begin(kParams), std::end(kParams),
                             [&](const char* p) { return name == p; });
      if (it == std::end(kParams)) {
        return Status(sqlstate::kUndefinedFunction,
                      fmt::format("function make_interval({} => ...) does not exist", name),
                      "No function matches the given name and argument types.", location);
      }
      i = static_cast<size_t>(it - std::begin(kParams));
      value = &Get(n, "arg");
    }
    if (i >= 7 || given[i]) {
      return Status(sqlstate::kUndefinedFunction,
                    "function make_interval with these arguments does not exist",
                    "No function matches the given name and argument types.", location);
    }
    given[i] = true;
    SB_ASSIGN_OR_RETURN(Translated t,
                        tr.ExprAs(*value, SqlType::Of(i == 6 ? TypeId::kFloat8 : TypeId::kInt4)));
    sql[i] = t.sql;
  }
  Translated out;
  out.sql = "sb_make_interval(" + fmt::format("{}", fmt::join(sql, ", ")) + ")";
  out.type = SqlType::Of(TypeId::kInterval);
  return out;
}

Result<Translated> TranslateScalarFunction(Translator& tr, const std::string& name,
                                           const std::string& display_name, const Json& func_call,
                                           int location) {
  if (name == "make_interval") return MakeInterval(tr, func_call, location);
  Call c(tr, name, display_name, location);
  SB_RETURN_IF_ERROR(c.Load(Get(func_call, "args")));
  return Dispatch(c);
}

Result<Translated> TranslateMinMax(Translator& tr, const Json& node) {
  const Json& m = Get(node, "MinMaxExpr");
  const bool greatest = m.value("op", "") == "IS_GREATEST";
  const char* what = greatest ? "GREATEST" : "LEAST";
  std::vector<Translated> items;
  bool agg = false;
  SqlType common;
  for (const auto& a : Get(m, "args")) {
    SB_ASSIGN_OR_RETURN(Translated t, tr.Expr(a));
    agg = agg || t.contains_aggregate;
    if (!IsUnknown(t.type)) {
      if (IsUnknown(common)) {
        common = t.type;
      } else {
        auto r = CommonType(common, t.type, what);
        if (!r.ok()) {
          return Status(sqlstate::kDatatypeMismatch,
                        fmt::format("{} types {} and {} cannot be matched", what,
                                    ErrorTypeName(common), ErrorTypeName(t.type)),
                        {}, Loc(a));
        }
        common = *r;
      }
    }
    items.push_back(std::move(t));
  }
  SB_ASSIGN_OR_RETURN(items, tr.UnifyValues(std::move(items), what));
  const char* suffix = IsTextNumeric(items.front().type) ? "_dec(" : "(";
  Translated out;
  out.sql = std::string(greatest ? "sb_greatest" : "sb_least") + suffix + Join(items) + ")";
  out.type = items.front().type;
  out.contains_aggregate = agg;
  return out;
}

Result<Translated> TranslatePowerOperator(Translator& tr, const Json& l, const Json& r,
                                          int location) {
  Call c(tr, "power", "power", location);
  Json args = Json::array({l, r});
  SB_RETURN_IF_ERROR(c.Load(args));
  for (size_t i = 0; i < 2; ++i) {
    if (!c.type(i).IsNumber() && !IsUnknown(c.type(i))) {
      return Status(sqlstate::kUndefinedFunction,
                    fmt::format("operator does not exist: {} ^ {}", ErrorTypeName(c.type(0)),
                                ErrorTypeName(c.type(1))),
                    "No operator matches the given name and argument types. You might need to "
                    "add explicit type casts.",
                    location);
    }
  }
  return Power(c);
}

}  // namespace sb::sql
