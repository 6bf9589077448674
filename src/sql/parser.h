// SQL front end: the ScratchBird pre-parser for the clauses PostgreSQL's
// grammar does not know (CREATE TABLE ... SHARD BY HASH (...) / REPLICATED),
// then libpg_query for everything else. The parse tree is libpg_query's JSON
// form, walked with nlohmann::json.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sb::sql {

using Json = nlohmann::json;

// Distribution clause found by the pre-parser on a CREATE TABLE statement.
struct DistributionClause {
  std::vector<std::string> shard_by_hash;  // SHARD BY HASH (a, b)
  bool replicated = false;                 // REPLICATED
  bool shard_by_range = false;             // SHARD BY RANGE (...): always refused
};

struct ParsedStatement {
  Json node;         // {"SelectStmt": {...}} etc.
  std::string text;  // this statement's text (clauses blanked out)
  int location = 0;  // byte offset of the statement in the whole input
  DistributionClause distribution;
  std::string kind() const { return node.begin().key(); }
  const Json& body() const { return node.begin().value(); }
};

struct ParsedScript {
  std::string text;  // the whole input with pre-parsed clauses blanked out
  std::vector<ParsedStatement> statements;
};

// Parses one or more ';'-separated statements. Syntax errors carry SQLSTATE
// 42601 and the 1-based position of the error in `sql`.
Result<ParsedScript> Parse(std::string_view sql);

// Reads an A_Const integer. libpg_query 15's JSON output omits negative and
// zero integer values (they print as "ival": {}), so the value is recovered
// from the statement text at the constant's location.
int64_t ConstIntValue(const Json& a_const, std::string_view full_text);

// Safe navigation of the parse tree: a missing key, a non-object or an index
// out of range yields JSON null instead of undefined behaviour, so malformed
// or unexpected trees turn into clear errors, never crashes.
const Json& Get(const Json& j, std::string_view key);
const Json& At(const Json& j, size_t index);

// "String" node list (e.g. ColumnRef fields, TypeName names) to strings;
// A_Star becomes "*".
std::vector<std::string> NameList(const Json& list);

}  // namespace sb::sql
