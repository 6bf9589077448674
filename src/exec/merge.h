// Coordinator-side merging of shard results: the k-way sort-merge with
// PostgreSQL's ordering (NULLS LAST for ASC by default, bytewise "C" text
// order), and OFFSET/LIMIT over the merged stream (R06-15/16).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/value.h"
#include "exec/plan.h"

namespace sb::exec {

// Orders two stored values as SQLite orders them within one column
// (NULLs are placed by the caller): numbers numerically, text and blobs bytewise.
int CompareValues(const Value& a, const Value& b);

// Orders two decimal texts ("-12.5", "3", "0.001") by numeric value; text
// that is not a plain decimal orders bytewise after every decimal. The
// collation "sb_decimal" (exec/sql_functions.h) uses the same order.
int CompareDecimalText(std::string_view a, std::string_view b);

// -1/0/1: a before, same as, after b under the sort keys.
int CompareRows(const Row& a, const Row& b, const std::vector<SortKey>& keys);

// Merges per-shard runs, each already sorted by `keys`, skipping `offset`
// rows and stopping after `limit` (nullopt = no limit).
std::vector<Row> MergeSorted(std::vector<std::vector<Row>> runs, const std::vector<SortKey>& keys,
                             int64_t offset, std::optional<int64_t> limit);

}  // namespace sb::exec
