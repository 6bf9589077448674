// GROUP BY ROLLUP / CUBE / GROUPING SETS as a UNION ALL of one plain
// grouped SELECT per grouping set (a parse-tree rewrite; the query then runs
// at the coordinator like any set operation).
//
// In the branch of grouping set S, the grouping expressions that are not in
// S read as NULL outside aggregate arguments (as PostgreSQL's rolled-up
// columns do), grouping(...) is a constant bit mask (1 = not grouped), and
// the empty set is one group over all rows. Output names are the original
// query's; ORDER BY (output names, positions, or expressions of the select
// list) and LIMIT/OFFSET apply to the union.
#pragma once

#include <optional>

#include "common/status.h"
#include "sql/parser.h"

namespace sb::sql {

// At most this many grouping sets (CUBE of 6 columns); more is 0A000.
inline constexpr size_t kMaxGroupingSets = 64;

// True if the SELECT's GROUP BY uses ROLLUP, CUBE or GROUPING SETS.
bool HasGroupingSets(const Json& select_body);

// The UNION ALL body that replaces `select_body` (without its WITH clause,
// which stays with the caller). 0A000 for DISTINCT, window functions, and
// ORDER BY items that are not output columns.
Result<Json> ExpandGroupingSets(const Json& select_body);

}  // namespace sb::sql
