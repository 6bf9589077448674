// The differential test's fixed schema and deterministic rows, loaded the same
// way into the cluster (PostgreSQL types, through libpq) and into the oracle
// (plain SQLite types: numeric as REAL, boolean as 0/1, date and uuid as text).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "diff_harness.h"

namespace sbtest {

enum class CType { kInt, kBigint, kNumeric, kDouble, kText, kBool, kDate, kUuid };

struct ColumnSpec {
  std::string name;
  CType type;
  bool nullable = true;
};

// A stored value: integers, booleans (0/1) and numeric(10,2) (in cents) in
// `i`; double in `d`; text, date ("YYYY-MM-DD") and uuid in `s`.
struct DVal {
  bool null = true;
  int64_t i = 0;
  double d = 0;
  std::string s;
};

struct TableSpec {
  std::string name;
  std::vector<ColumnSpec> columns;
  std::vector<std::string> shard_key;  // empty for a replicated table
  std::string unique_key;              // a non-NULL unique column: the ORDER BY tiebreaker
  std::string pg_ddl;
  std::string lite_ddl;
  std::vector<std::vector<DVal>> rows;

  bool replicated() const { return shard_key.empty(); }
  int ColumnIndex(const std::string& name) const;
};

struct Dataset {
  std::vector<TableSpec> tables;
  const TableSpec& Table(const std::string& name) const;
};

// The rows are a pure function of `seed`.
Dataset MakeDataset(uint64_t seed);

// Creates the tables and inserts the rows on both sides. Error text or empty.
std::string LoadDataset(const Dataset& ds, PgClient* pg, Oracle* oracle);

// Literal of a value in each dialect, and the oracle's bound form.
std::string PgLiteral(CType type, const DVal& v);
std::string LiteLiteral(CType type, const DVal& v);
NVal OracleValue(CType type, const DVal& v);
std::string FormatCents(int64_t cents);
std::string DateFromDays(int64_t days_since_epoch);

}  // namespace sbtest
