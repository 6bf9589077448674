// Ternary logic partitioning (TLP), an oracle that needs no second engine:
// every row of a query satisfies exactly one of p, NOT p and p IS NULL, so
// the rows of the query are the multiset union of the rows of the query
// restricted by each of them. Aggregates are recombined from the three
// partitions (count and sum add up, min/max/bool_and/bool_or fold), DISTINCT
// and GROUP BY keys are merged as sets, and a predicate in HAVING partitions
// the groups. The merge is done here, not in SQL.
#pragma once

#include <vector>

#include "diff_harness.h"
#include "query_gen.h"

namespace sbtest {

// The rows the base query of `c` must return, from the rows of its three
// partitions (p, NOT p, p IS NULL), in that order.
ResultSet CombineTlp(const TlpCase& c, const std::vector<ResultSet>& partitions);

// Exact total order on normalised values (NULL first, numbers by value, then
// text by bytes), for merging results of one engine.
int CompareExact(const NVal& a, const NVal& b);

}  // namespace sbtest
