#include "common/sql_type.h"

#include <gtest/gtest.h>

namespace sb {
namespace {

TEST(SqlTypeTest, OidsMatchPostgres) {
  EXPECT_EQ(SqlType::Of(TypeId::kBool).oid(), 16u);
  EXPECT_EQ(SqlType::Of(TypeId::kBytea).oid(), 17u);
  EXPECT_EQ(SqlType::Of(TypeId::kInt8).oid(), 20u);
  EXPECT_EQ(SqlType::Of(TypeId::kInt2).oid(), 21u);
  EXPECT_EQ(SqlType::Of(TypeId::kInt4).oid(), 23u);
  EXPECT_EQ(SqlType::Of(TypeId::kText).oid(), 25u);
  EXPECT_EQ(SqlType::Of(TypeId::kFloat4).oid(), 700u);
  EXPECT_EQ(SqlType::Of(TypeId::kFloat8).oid(), 701u);
  EXPECT_EQ(SqlType::Varchar(5).oid(), 1043u);
  EXPECT_EQ(SqlType::Of(TypeId::kDate).oid(), 1082u);
  EXPECT_EQ(SqlType::Of(TypeId::kTimestamp).oid(), 1114u);
  EXPECT_EQ(SqlType::Of(TypeId::kTimestamptz).oid(), 1184u);
  EXPECT_EQ(SqlType::Numeric(10, 2).oid(), 1700u);
  EXPECT_EQ(SqlType::Of(TypeId::kUuid).oid(), 2950u);
  EXPECT_EQ(SqlType::Of(TypeId::kUnknown).oid(), 25u);
}

TEST(SqlTypeTest, TyplenMatchesPgType) {
  EXPECT_EQ(SqlType::Of(TypeId::kInt2).typlen(), 2);
  EXPECT_EQ(SqlType::Of(TypeId::kInt4).typlen(), 4);
  EXPECT_EQ(SqlType::Of(TypeId::kInt8).typlen(), 8);
  EXPECT_EQ(SqlType::Of(TypeId::kFloat4).typlen(), 4);
  EXPECT_EQ(SqlType::Of(TypeId::kFloat8).typlen(), 8);
  EXPECT_EQ(SqlType::Numeric(10, 2).typlen(), -1);
  EXPECT_EQ(SqlType::Of(TypeId::kText).typlen(), -1);
  EXPECT_EQ(SqlType::Varchar(3).typlen(), -1);
  EXPECT_EQ(SqlType::Of(TypeId::kBool).typlen(), 1);
  EXPECT_EQ(SqlType::Of(TypeId::kDate).typlen(), 4);
  EXPECT_EQ(SqlType::Of(TypeId::kTimestamp).typlen(), 8);
  EXPECT_EQ(SqlType::Of(TypeId::kTimestamptz).typlen(), 8);
  EXPECT_EQ(SqlType::Of(TypeId::kUuid).typlen(), 16);
  EXPECT_EQ(SqlType::Of(TypeId::kBytea).typlen(), -1);
}

TEST(SqlTypeTest, TypmodEncodesLengthAndPrecision) {
  EXPECT_EQ(SqlType::Varchar(20).typmod(), 24);
  EXPECT_EQ(SqlType::Varchar(-1).typmod(), -1);
  EXPECT_EQ(SqlType::Numeric(10, 2).typmod(), ((10 << 16) | 2) + 4);
  EXPECT_EQ(SqlType::Numeric(-1, 0).typmod(), -1);
  EXPECT_EQ(SqlType::Of(TypeId::kInt4).typmod(), -1);
}

TEST(SqlTypeTest, NamesMatchFormatType) {
  EXPECT_EQ(SqlType::Of(TypeId::kInt2).Name(), "smallint");
  EXPECT_EQ(SqlType::Of(TypeId::kInt4).Name(), "integer");
  EXPECT_EQ(SqlType::Of(TypeId::kInt8).Name(), "bigint");
  EXPECT_EQ(SqlType::Of(TypeId::kFloat4).Name(), "real");
  EXPECT_EQ(SqlType::Of(TypeId::kFloat8).Name(), "double precision");
  EXPECT_EQ(SqlType::Numeric(10, 2).Name(), "numeric(10,2)");
  EXPECT_EQ(SqlType::Numeric(-1, 0).Name(), "numeric");
  EXPECT_EQ(SqlType::Of(TypeId::kText).Name(), "text");
  EXPECT_EQ(SqlType::Varchar(20).Name(), "character varying(20)");
  EXPECT_EQ(SqlType::Varchar(-1).Name(), "character varying");
  EXPECT_EQ(SqlType::Of(TypeId::kBool).Name(), "boolean");
  EXPECT_EQ(SqlType::Of(TypeId::kDate).Name(), "date");
  EXPECT_EQ(SqlType::Of(TypeId::kTimestamp).Name(), "timestamp without time zone");
  EXPECT_EQ(SqlType::Of(TypeId::kTimestamptz).Name(), "timestamp with time zone");
  EXPECT_EQ(SqlType::Of(TypeId::kUuid).Name(), "uuid");
  EXPECT_EQ(SqlType::Of(TypeId::kBytea).Name(), "bytea");
}

TEST(SqlTypeTest, StorageClasses) {
  EXPECT_STREQ(SqlType::Of(TypeId::kInt2).StorageClass(), "INTEGER");
  EXPECT_STREQ(SqlType::Of(TypeId::kInt8).StorageClass(), "INTEGER");
  EXPECT_STREQ(SqlType::Of(TypeId::kBool).StorageClass(), "INTEGER");
  EXPECT_STREQ(SqlType::Numeric(18, 4).StorageClass(), "INTEGER");
  EXPECT_STREQ(SqlType::Numeric(-1, 0).StorageClass(), "TEXT");  // stored as decimal text
  EXPECT_STREQ(SqlType::Numeric(30, 2).StorageClass(), "TEXT");
  EXPECT_STREQ(SqlType::Of(TypeId::kFloat4).StorageClass(), "REAL");
  EXPECT_STREQ(SqlType::Of(TypeId::kFloat8).StorageClass(), "REAL");
  EXPECT_STREQ(SqlType::Varchar(4).StorageClass(), "TEXT");
  EXPECT_STREQ(SqlType::Of(TypeId::kDate).StorageClass(), "TEXT");
  EXPECT_STREQ(SqlType::Of(TypeId::kTimestamptz).StorageClass(), "TEXT");
  EXPECT_STREQ(SqlType::Of(TypeId::kUuid).StorageClass(), "TEXT");
  EXPECT_STREQ(SqlType::Of(TypeId::kBytea).StorageClass(), "BLOB");
}

TEST(SqlTypeTest, Predicates) {
  EXPECT_TRUE(SqlType::Of(TypeId::kInt2).IsInteger());
  EXPECT_TRUE(SqlType::Of(TypeId::kInt8).IsInteger());
  EXPECT_FALSE(SqlType::Numeric(5, 0).IsInteger());
  EXPECT_TRUE(SqlType::Numeric(5, 0).IsNumber());
  EXPECT_TRUE(SqlType::Of(TypeId::kFloat4).IsNumber());
  EXPECT_FALSE(SqlType::Of(TypeId::kText).IsNumber());
  EXPECT_FALSE(SqlType::Of(TypeId::kBool).IsNumber());
}

TEST(ResolveTypeNameTest, CatalogAndSqlSpellings) {
  struct Case {
    std::vector<std::string> names;
    TypeId id;
  } cases[] = {
      {{"pg_catalog", "int4"}, TypeId::kInt4},
      {{"int4"}, TypeId::kInt4},
      {{"INTEGER"}, TypeId::kInt4},
      {{"int"}, TypeId::kInt4},
      {{"smallint"}, TypeId::kInt2},
      {{"pg_catalog", "int2"}, TypeId::kInt2},
      {{"bigint"}, TypeId::kInt8},
      {{"int8"}, TypeId::kInt8},
      {{"real"}, TypeId::kFloat4},
      {{"float4"}, TypeId::kFloat4},
      {{"double precision"}, TypeId::kFloat8},
      {{"pg_catalog", "float8"}, TypeId::kFloat8},
      {{"text"}, TypeId::kText},
      {{"bool"}, TypeId::kBool},
      {{"Boolean"}, TypeId::kBool},
      {{"date"}, TypeId::kDate},
      {{"timestamp"}, TypeId::kTimestamp},
      {{"pg_catalog", "timestamptz"}, TypeId::kTimestamptz},
      {{"timestamp with time zone"}, TypeId::kTimestamptz},
      {{"uuid"}, TypeId::kUuid},
      {{"bytea"}, TypeId::kBytea},
      {{"character varying"}, TypeId::kVarchar},
      {{"pg_catalog", "varchar"}, TypeId::kVarchar},
  };
  for (const Case& c : cases) {
    Result<SqlType> r = ResolveTypeName(c.names, {});
    ASSERT_TRUE(r.ok()) << c.names.back() << ": " << r.status().ToString();
    EXPECT_EQ(r->id, c.id) << c.names.back();
  }
}

TEST(ResolveTypeNameTest, Typmods) {
  EXPECT_EQ(*ResolveTypeName({"pg_catalog", "varchar"}, {20}), SqlType::Varchar(20));
  EXPECT_EQ(*ResolveTypeName({"varchar"}, {}), SqlType::Varchar(-1));
  EXPECT_EQ(*ResolveTypeName({"pg_catalog", "numeric"}, {10, 2}), SqlType::Numeric(10, 2));
  EXPECT_EQ(*ResolveTypeName({"numeric"}, {10}), SqlType::Numeric(10, 0));
  SqlType unconstrained = *ResolveTypeName({"numeric"}, {});
  EXPECT_EQ(unconstrained.id, TypeId::kNumeric);
  EXPECT_EQ(unconstrained.precision, -1);
  EXPECT_EQ(unconstrained.scale, 0);
}

TEST(ResolveTypeNameTest, BadNumericTypmodIs22023) {
  EXPECT_EQ(ResolveTypeName({"numeric"}, {0}).status().code(), "22023");
  EXPECT_EQ(ResolveTypeName({"numeric"}, {1001}).status().code(), "22023");
  EXPECT_EQ(ResolveTypeName({"numeric"}, {5, 6}).status().code(), "22023");
  EXPECT_EQ(ResolveTypeName({"numeric"}, {5, -1}).status().code(), "22023");
  EXPECT_TRUE(ResolveTypeName({"numeric"}, {1000, 1000}).ok());
  EXPECT_EQ(ResolveTypeName({"varchar"}, {0}).status().code(), "22023");
}

TEST(ResolveTypeNameTest, UnsupportedTypesAre0A000WithHint) {
  for (const char* n : {"bpchar", "json", "jsonb", "serial", "money", "_int4", "time"}) {
    Result<SqlType> r = ResolveTypeName({"pg_catalog", n}, {});
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), "0A000") << n;
    EXPECT_EQ(r.status().message(), std::string("type \"") + n + "\" is not supported");
    EXPECT_NE(r.status().hint().find("varchar"), std::string::npos);
  }
}

TEST(ResolveTypeNameTest, IntervalIsAnExpressionTypeWithoutModifiers) {
  Result<SqlType> r = ResolveTypeName({"pg_catalog", "interval"}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id, TypeId::kInterval);
  EXPECT_EQ(r->oid(), 1186u);
  EXPECT_EQ(r->Name(), "interval");
  EXPECT_FALSE(ResolveTypeName({"interval"}, {2}).ok());
}

TEST(ResolveTypeNameTest, UnknownTypesAre42704) {
  Result<SqlType> r = ResolveTypeName({"frobnicator"}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "42704");
  EXPECT_EQ(r.status().message(), "type \"frobnicator\" does not exist");
  EXPECT_EQ(ResolveTypeName({"myschema", "int4"}, {}).status().code(), "42704");
}

TEST(ResolveTypeNameTest, TypmodOnPlainTypeIsRejected) {
  EXPECT_FALSE(ResolveTypeName({"int4"}, {3}).ok());
}

SqlType T(TypeId id) {
  return SqlType::Of(id);
}

TEST(CommonTypeTest, NumericPromotionLadder) {
  EXPECT_EQ(*CommonType(T(TypeId::kInt2), T(TypeId::kInt4), "="), T(TypeId::kInt4));
  EXPECT_EQ(*CommonType(T(TypeId::kInt8), T(TypeId::kInt4), "+"), T(TypeId::kInt8));
  EXPECT_EQ(*CommonType(T(TypeId::kInt8), SqlType::Numeric(10, 2), "+"), SqlType::Numeric(-1, 2));
  EXPECT_EQ(*CommonType(SqlType::Numeric(10, 2), SqlType::Numeric(12, 4), "+"),
            SqlType::Numeric(-1, 4));
  EXPECT_EQ(*CommonType(SqlType::Numeric(10, 2), T(TypeId::kFloat4), "="), T(TypeId::kFloat4));
  EXPECT_EQ(*CommonType(T(TypeId::kFloat4), T(TypeId::kFloat8), "="), T(TypeId::kFloat8));
  EXPECT_EQ(*CommonType(T(TypeId::kInt2), T(TypeId::kFloat8), "<"), T(TypeId::kFloat8));
}

TEST(CommonTypeTest, StringsUnknownAndDatetimes) {
  EXPECT_EQ(*CommonType(T(TypeId::kText), SqlType::Varchar(5), "="), T(TypeId::kText));
  EXPECT_EQ(*CommonType(T(TypeId::kUnknown), T(TypeId::kInt4), "="), T(TypeId::kInt4));
  EXPECT_EQ(*CommonType(T(TypeId::kDate), T(TypeId::kUnknown), "="), T(TypeId::kDate));
  EXPECT_EQ(*CommonType(T(TypeId::kUnknown), T(TypeId::kUnknown), "="), T(TypeId::kText));
  EXPECT_EQ(*CommonType(T(TypeId::kDate), T(TypeId::kTimestamp), "="), T(TypeId::kTimestamp));
  EXPECT_EQ(*CommonType(T(TypeId::kTimestamp), T(TypeId::kTimestamptz), "="),
            T(TypeId::kTimestamptz));
  EXPECT_EQ(*CommonType(T(TypeId::kUuid), T(TypeId::kUuid), "="), T(TypeId::kUuid));
  EXPECT_EQ(*CommonType(T(TypeId::kBool), T(TypeId::kBool), "="), T(TypeId::kBool));
}

TEST(CommonTypeTest, IncompatibleIs42883LikePostgres) {
  Result<SqlType> r = CommonType(T(TypeId::kInt4), T(TypeId::kText), "=");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "42883");
  EXPECT_EQ(r.status().message(), "operator does not exist: integer = text");
  EXPECT_EQ(r.status().hint(),
            "No operator matches the given name and argument types. You might need to add "
            "explicit type casts.");
  Result<SqlType> b = CommonType(T(TypeId::kBool), T(TypeId::kInt4), "=");
  EXPECT_EQ(b.status().message(), "operator does not exist: boolean = integer");
  EXPECT_FALSE(CommonType(T(TypeId::kUuid), T(TypeId::kText), "=").ok());
  EXPECT_FALSE(CommonType(T(TypeId::kDate), T(TypeId::kInt4), "<").ok());
}

}  // namespace
}  // namespace sb
