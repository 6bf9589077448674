// PostgreSQL's ordered-set aggregates as one SQLite aggregate,
//   sb_ordered_set(kind, fraction, value, flags)
// for percentile_cont(fraction) / percentile_disc(fraction) / mode()
// WITHIN GROUP (ORDER BY value [DESC]) (kind 'cont', 'disc', 'mode'). The
// group's non-NULL values are kept and sorted at the end with the
// coordinator merge's order (exec/merge.h); `flags` are the
// kOrderedAgg* bits of exec/sql_functions.h (DESC, decimal text).
//   cont: the value at position fraction * (n - 1), interpolated between its
//         neighbours (values are double precision)
//   disc: the first value whose position reaches fraction * n
//   mode: the most frequent value, the first in sort order among ties
// A fraction outside [0, 1] is 22003; no values, or a NULL fraction, NULL.
#pragma once

#include <sqlite3.h>

namespace sb::exec {

void RegisterOrderedSetAggregates(sqlite3* db);

}  // namespace sb::exec
