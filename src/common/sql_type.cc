#include "common/sql_type.h"

#include <algorithm>
#include <cctype>

namespace sb {
namespace {

constexpr const char* kSupportedTypesHint =
    "Supported types: smallint, integer, bigint, real, double precision, numeric(p,s), "
    "text, varchar(n), boolean, date, timestamp, timestamptz, uuid, bytea.";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Rank in the numeric promotion order; -1 if not a number.
int NumberRank(TypeId id) {
  switch (id) {
    case TypeId::kInt2:
      return 0;
    case TypeId::kInt4:
      return 1;
    case TypeId::kInt8:
      return 2;
    case TypeId::kNumeric:
      return 3;
    case TypeId::kFloat4:
      return 4;
    case TypeId::kFloat8:
      return 5;
    default:
      return -1;
  }
}

int DatetimeRank(TypeId id) {
  switch (id) {
    case TypeId::kDate:
      return 0;
    case TypeId::kTimestamp:
      return 1;
    case TypeId::kTimestamptz:
      return 2;
    default:
      return -1;
  }
}

bool IsString(TypeId id) {
  return id == TypeId::kText || id == TypeId::kVarchar;
}

Status NoTypmod(const std::string& name, const std::vector<int>& typmods) {
  if (typmods.empty()) return Status::Ok();
  return Status(sqlstate::kSyntaxError, "type modifier is not allowed for type \"" + name + "\"");
}

bool IsUnsupportedName(const std::string& n) {
  static const char* const kNames[] = {"bpchar",
                                       "char",
                                       "character",
                                       "\"char\"",
                                       "name",
                                       "json",
                                       "jsonb",
                                       "xml",
                                       "serial",
                                       "serial2",
                                       "serial4",
                                       "serial8",
                                       "smallserial",
                                       "bigserial",
                                       "money",
                                       "time",
                                       "timetz",
                                       "time without time zone",
                                       "time with time zone",
                                       "inet",
                                       "cidr",
                                       "macaddr",
                                       "macaddr8",
                                       "bit",
                                       "varbit",
                                       "bit varying",
                                       "oid",
                                       "regclass",
                                       "point",
                                       "line",
                                       "lseg",
                                       "box",
                                       "path",
                                       "polygon",
                                       "circle",
                                       "tsvector",
                                       "tsquery",
                                       "int4range",
                                       "int8range",
                                       "numrange",
                                       "tsrange",
                                       "tstzrange",
                                       "daterange",
                                       "record",
                                       "void",
                                       "pg_lsn",
                                       "txid_snapshot",
                                       "national character",
                                       "national character varying",
                                       "nchar",
                                       "citext",
                                       "hstore",
                                       "float"};
  for (const char* k : kNames) {
    if (n == k) return true;
  }
  return false;
}

}  // namespace

SqlType SqlType::Of(TypeId id) {
  SqlType t;
  t.id = id;
  return t;
}

SqlType SqlType::Numeric(int precision, int scale) {
  SqlType t;
  t.id = TypeId::kNumeric;
  t.precision = precision;
  t.scale = scale;
  return t;
}

SqlType SqlType::Varchar(int length) {
  SqlType t;
  t.id = TypeId::kVarchar;
  t.precision = length;
  return t;
}

uint32_t SqlType::oid() const {
  switch (id) {
    case TypeId::kUnknown:
      return 25;
    case TypeId::kInt2:
      return 21;
    case TypeId::kInt4:
      return 23;
    case TypeId::kInt8:
      return 20;
    case TypeId::kFloat4:
      return 700;
    case TypeId::kFloat8:
      return 701;
    case TypeId::kNumeric:
      return 1700;
    case TypeId::kText:
      return 25;
    case TypeId::kVarchar:
      return 1043;
    case TypeId::kBool:
      return 16;
    case TypeId::kDate:
      return 1082;
    case TypeId::kTimestamp:
      return 1114;
    case TypeId::kTimestamptz:
      return 1184;
    case TypeId::kUuid:
      return 2950;
    case TypeId::kBytea:
      return 17;
    case TypeId::kInterval:
      return 1186;
  }
  return 25;
}

int16_t SqlType::typlen() const {
  switch (id) {
    case TypeId::kInt2:
      return 2;
    case TypeId::kInt4:
      return 4;
    case TypeId::kInt8:
      return 8;
    case TypeId::kFloat4:
      return 4;
    case TypeId::kFloat8:
      return 8;
    case TypeId::kBool:
      return 1;
    case TypeId::kDate:
      return 4;
    case TypeId::kTimestamp:
      return 8;
    case TypeId::kTimestamptz:
      return 8;
    case TypeId::kUuid:
    case TypeId::kInterval:
      return 16;
    case TypeId::kUnknown:
    case TypeId::kNumeric:
    case TypeId::kText:
    case TypeId::kVarchar:
    case TypeId::kBytea:
      return -1;
  }
  return -1;
}

int32_t SqlType::typmod() const {
  if (id == TypeId::kVarchar && precision >= 0) return precision + 4;
  if (id == TypeId::kNumeric && precision >= 1) return ((precision << 16) | scale) + 4;
  return -1;
}

std::string SqlType::Name() const {
  switch (id) {
    case TypeId::kUnknown:
      return "unknown";
    case TypeId::kInt2:
      return "smallint";
    case TypeId::kInt4:
      return "integer";
    case TypeId::kInt8:
      return "bigint";
    case TypeId::kFloat4:
      return "real";
    case TypeId::kFloat8:
      return "double precision";
    case TypeId::kNumeric:
      if (precision >= 1) {
        return "numeric(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
      }
      return "numeric";
    case TypeId::kText:
      return "text";
    case TypeId::kVarchar:
      if (precision >= 0) return "character varying(" + std::to_string(precision) + ")";
      return "character varying";
    case TypeId::kBool:
      return "boolean";
    case TypeId::kDate:
      return "date";
    case TypeId::kTimestamp:
      return "timestamp without time zone";
    case TypeId::kTimestamptz:
      return "timestamp with time zone";
    case TypeId::kUuid:
      return "uuid";
    case TypeId::kBytea:
      return "bytea";
    case TypeId::kInterval:
      return "interval";
  }
  return "unknown";
}

const char* SqlType::StorageClass() const {
  switch (id) {
    case TypeId::kInt2:
    case TypeId::kInt4:
    case TypeId::kInt8:
    case TypeId::kBool:
      return "INTEGER";
    case TypeId::kNumeric:
      return NumericIsScaled(*this) ? "INTEGER" : "TEXT";
    case TypeId::kFloat4:
    case TypeId::kFloat8:
      return "REAL";
    case TypeId::kBytea:
      return "BLOB";
    case TypeId::kUnknown:
    case TypeId::kText:
    case TypeId::kVarchar:
    case TypeId::kDate:
    case TypeId::kTimestamp:
    case TypeId::kTimestamptz:
    case TypeId::kUuid:
    case TypeId::kInterval:
      return "TEXT";
  }
  return "TEXT";
}

bool SqlType::IsInteger() const {
  return id == TypeId::kInt2 || id == TypeId::kInt4 || id == TypeId::kInt8;
}

bool SqlType::IsNumber() const {
  return NumberRank(id) >= 0;
}

Result<SqlType> ResolveTypeName(const std::vector<std::string>& names,
                                const std::vector<int>& typmods) {
  if (names.empty()) return Status(sqlstate::kUndefinedObject, "type \"\" does not exist");
  std::string display;
  for (const std::string& n : names) {
    if (!display.empty()) display += ".";
    display += n;
  }
  if (names.size() > 2 || (names.size() == 2 && Lower(names[0]) != "pg_catalog")) {
    return Status(sqlstate::kUndefinedObject, "type \"" + display + "\" does not exist");
  }
  const std::string raw = names.back();
  const std::string n = Lower(raw);

  auto simple = [&](TypeId id) -> Result<SqlType> {
    SB_RETURN_IF_ERROR(NoTypmod(raw, typmods));
    return SqlType::Of(id);
  };

  if (n == "int2" || n == "smallint") return simple(TypeId::kInt2);
  if (n == "int4" || n == "integer" || n == "int") return simple(TypeId::kInt4);
  if (n == "int8" || n == "bigint") return simple(TypeId::kInt8);
  if (n == "float4" || n == "real") return simple(TypeId::kFloat4);
  if (n == "float8" || n == "double precision") return simple(TypeId::kFloat8);
  if (n == "text") return simple(TypeId::kText);
  if (n == "bool" || n == "boolean") return simple(TypeId::kBool);
  if (n == "date") return simple(TypeId::kDate);
  if (n == "uuid") return simple(TypeId::kUuid);
  if (n == "bytea") return simple(TypeId::kBytea);
  // interval(p) and field restrictions (interval '1' day) are not supported.
  if (n == "interval") return simple(TypeId::kInterval);
  if (n == "float" && typmods.size() <= 1) {
    // FLOAT(p): p 1..24 -> real, 25..53 -> double precision (PostgreSQL).
    if (typmods.empty()) return SqlType::Of(TypeId::kFloat8);
    int p = typmods[0];
    if (p < 1) {
      return Status(sqlstate::kInvalidParameterValue,
                    "precision for type float must be at least 1 bit");
    }
    if (p > 53) {
      return Status(sqlstate::kInvalidParameterValue,
                    "precision for type float must be less than 54 bits");
    }
    return SqlType::Of(p <= 24 ? TypeId::kFloat4 : TypeId::kFloat8);
  }
  if (n == "timestamp" || n == "timestamp without time zone" || n == "timestamptz" ||
      n == "timestamp with time zone") {
    TypeId id = (n == "timestamp" || n == "timestamp without time zone") ? TypeId::kTimestamp
                                                                         : TypeId::kTimestamptz;
    if (typmods.empty() || (typmods.size() == 1 && typmods[0] == 6)) return SqlType::Of(id);
    return Status::NotSupported(
        "timestamp precision other than 6 is not supported",
        "Timestamps are stored with microsecond precision; omit the precision.");
  }
  if (n == "varchar" || n == "character varying") {
    if (typmods.empty()) return SqlType::Varchar(-1);
    if (typmods.size() != 1) {
      return Status(sqlstate::kSyntaxError, "invalid type modifier");
    }
    int len = typmods[0];
    if (len < 1) {
      return Status(sqlstate::kInvalidParameterValue, "length for type varchar must be at least 1");
    }
    if (len > 10485760) {
      return Status(sqlstate::kInvalidParameterValue,
                    "length for type varchar cannot exceed 10485760");
    }
    return SqlType::Varchar(len);
  }
  if (n == "numeric" || n == "decimal") {
    if (typmods.empty()) return SqlType::Numeric(-1, 0);
    if (typmods.size() > 2) return Status(sqlstate::kSyntaxError, "invalid NUMERIC type modifier");
    int p = typmods[0];
    int s = typmods.size() == 2 ? typmods[1] : 0;
    if (p < 1 || p > 1000) {
      return Status(sqlstate::kInvalidParameterValue,
                    "NUMERIC precision " + std::to_string(p) + " must be between 1 and 1000");
    }
    if (s < 0 || s > p) {
      return Status(sqlstate::kInvalidParameterValue, "NUMERIC scale " + std::to_string(s) +
                                                          " must be between 0 and precision " +
                                                          std::to_string(p));
    }
    return SqlType::Numeric(p, s);
  }
  if (IsUnsupportedName(n) || (n.size() > 1 && n[0] == '_') ||
      (n.size() > 2 && n.compare(n.size() - 2, 2, "[]") == 0)) {
    return Status::NotSupported("type \"" + raw + "\" is not supported", kSupportedTypesHint);
  }
  return Status(sqlstate::kUndefinedObject, "type \"" + display + "\" does not exist");
}

Result<SqlType> CommonType(const SqlType& a, const SqlType& b, std::string_view op_for_error) {
  if (a.id == TypeId::kUnknown && b.id == TypeId::kUnknown) return SqlType::Of(TypeId::kText);
  if (a.id == TypeId::kUnknown) return b;
  if (b.id == TypeId::kUnknown) return a;

  int ra = NumberRank(a.id), rb = NumberRank(b.id);
  if (ra >= 0 && rb >= 0) {
    TypeId id = ra >= rb ? a.id : b.id;
    if (id == TypeId::kNumeric) {
      int sa = a.id == TypeId::kNumeric ? a.scale : 0;
      int sb = b.id == TypeId::kNumeric ? b.scale : 0;
      return SqlType::Numeric(-1, std::max(sa, sb));
    }
    return SqlType::Of(id);
  }
  if (IsString(a.id) && IsString(b.id)) {
    if (a.id == TypeId::kVarchar && b.id == TypeId::kVarchar) {
      return SqlType::Varchar(a.precision == b.precision ? a.precision : -1);
    }
    return SqlType::Of(TypeId::kText);
  }
  int da = DatetimeRank(a.id), db = DatetimeRank(b.id);
  if (da >= 0 && db >= 0) return SqlType::Of(da >= db ? a.id : b.id);
  if (a.id == b.id) return SqlType::Of(a.id);
  return Status(
      sqlstate::kUndefinedFunction,
      "operator does not exist: " + a.Name() + " " + std::string(op_for_error) + " " + b.Name(),
      "No operator matches the given name and argument types. You might need to add "
      "explicit type casts.");
}

}  // namespace sb
