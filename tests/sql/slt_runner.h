// A sqllogictest-style runner with PostgreSQL as the oracle. The corpus files
// (tests/sql/*.test, format in tests/sql/README.md) hold SQL only, no
// expected results: every record runs on ScratchBird and on a real
// PostgreSQL 15, and the two text-format results are compared.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

struct pg_conn;

namespace sbtest {

struct SltRecord {
  enum class Kind { kStatementOk, kStatementError, kQuery };
  Kind kind = Kind::kQuery;
  std::string sql;
  int line = 0;             // 1-based line of the record header
  int columns = -1;         // query: declared column count (-1: not declared)
  bool rowsort = false;     // query: compare rows as multisets
  std::string error_state;  // statement error: the expected SQLSTATE (optional)
  std::string unsupported;  // `# expect-unsupported: <reason>`
  std::string deliberate;   // `# deliberate-difference: <reason>`
  std::string known;        // `# known-mismatch: <description>`
  bool has_unsupported = false;
  bool has_deliberate = false;
  bool has_known = false;
  std::vector<int> annotation_lines;  // 0-based lines of the annotations above the header
};

struct SltFile {
  std::string path;
  std::string name;  // file name without directory
  std::vector<std::string> lines;
  std::vector<SltRecord> records;
};

// Parses `path`. Error text (with file:line) or empty.
std::string ParseSltFile(const std::string& path, SltFile* out);

// `CREATE TABLE … SHARD BY HASH (…)`, `… REPLICATED` and
// `WITH (shard_key = '…')` without the ScratchBird-only distribution clause.
std::string StripDistribution(const std::string& sql);

// One statement's result in PostgreSQL's text format.
struct RawResult {
  bool ok = true;
  std::string sqlstate;
  std::string error;  // primary message
  std::vector<std::string> names;
  std::vector<unsigned> types;  // type OIDs
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::string Describe(size_t max_rows = 25) const;
};

RawResult Execute(pg_conn* conn, const std::string& sql);

// Empty when equal: column count, names and type OIDs, then the rows (in
// order, or as sorted multisets when `rowsort`), values as text except
// float4/float8 columns, compared with a relative tolerance of 1e-9.
std::string CompareRaw(const RawResult& sb, const RawResult& pg, bool rowsort);

struct SltCounts {
  int files = 0;
  int statements = 0;
  int queries = 0;
  int compared = 0;  // queries compared (including known mismatches)
  int matched = 0;
  int unsupported = 0;  // expected 0A000, confirmed
  int deliberate = 0;
  int known = 0;  // known mismatches still mismatching
  int failures = 0;
  std::map<std::string, int> unsupported_by_reason;
  void Add(const SltCounts& o);
};

struct SltOptions {
  bool annotate = false;     // rewrite expect-unsupported / known-mismatch annotations
  bool allow_known = false;  // known mismatches are not failures (SB_SLT_ALLOW_KNOWN=1)
  bool verbose = false;      // print every record's outcome
};

struct SltFileReport {
  SltCounts counts;
  std::vector<std::string> failures;    // each a full, self-contained message
  std::vector<std::string> known;       // known mismatches (query + both results)
  std::vector<std::string> deliberate;  // deliberate differences (query + both results)
  bool rewritten = false;
};

// Runs every record of `file` on both connections (ScratchBird first). In
// annotate mode the file is rewritten on disk with annotations that describe
// what happened.
SltFileReport RunSltFile(SltFile* file, pg_conn* sb, pg_conn* pg, const SltOptions& opts);

}  // namespace sbtest
