// Runs generated cases against the cluster (and the SQLite oracle), counts
// them per category, and turns a failure into a shrunk, self-contained
// reproduction. Shared by sb_differential_test (fixed seeds) and
// sb_fuzz_sql (random seeds, `make fuzz-sql`).
//
// Rules: a query of category "single" must run and match. A join or subquery
// query the cluster refuses with 0A000 is counted as unsupported for its
// category and does not fail; once the cluster runs it, it is compared. A
// wrong answer always fails.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "diff_harness.h"
#include "query_gen.h"

namespace sbtest {

struct CategoryCounts {
  int64_t run = 0;
  int64_t compared = 0;
  int64_t unsupported = 0;
  int64_t mismatches = 0;
};

struct Outcome {
  enum class Kind { kPass, kUnsupported, kMismatch };
  Kind kind = Kind::kPass;
  std::string report;  // kMismatch: what differs, both dialects, both results
  bool mismatch() const { return kind == Kind::kMismatch; }
};

class Checker {
 public:
  Checker(std::string conninfo, Oracle* oracle);
  ~Checker();
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  // The query against the oracle.
  Outcome Differential(const QuerySpec& q);
  // The base query against its three partitions, on the cluster only.
  Outcome Tlp(const TlpCase& c);

  // Shrinking runs at most this many candidate queries per failure (0: off).
  void set_shrink_budget(int n) { shrink_budget_ = n; }

  // Keyed "diff <category>" / "tlp <category>".
  const std::map<std::string, CategoryCounts>& counts() const { return counts_; }
  void Merge(const std::map<std::string, CategoryCounts>& other);
  // SQL statements sent to the cluster (shrinking included).
  int64_t statements() const { return statements_; }
  CategoryCounts Total() const;
  // A table of the counts, one line per key.
  std::string Summary() const;
  // "join-colocated 12, subquery-in 3" (unsupported, summed over both oracles).
  std::string UnsupportedLine() const;

 private:
  struct DiffRun;
  struct TlpRun;
  ResultSet Cluster(const DiffQuery& q);
  DiffRun RunDiff(const QuerySpec& q);
  TlpRun RunTlp(const TlpCase& c);
  std::string TlpReport(const TlpCase& c, const TlpRun& r);

  std::string conninfo_;
  std::unique_ptr<PgClient> pg_;
  Oracle* oracle_;
  int shrink_budget_ = 150;
  int64_t statements_ = 0;
  std::map<std::string, CategoryCounts> counts_;
};

// Prints a summary of counts (as Checker::Summary does) for merged totals.
std::string SummaryOf(const std::map<std::string, CategoryCounts>& counts);

}  // namespace sbtest
