// generate_series(start, stop [, step]) in FROM, as a derived table over a
// recursive CTE (a parse-tree rewrite; SQLite has no table functions here).
// Numbers step by 1 unless told; timestamps (and dates, which PostgreSQL
// turns into timestamptz) step by an interval. A zero step is 22023, as in
// PostgreSQL. The column is named after the alias's column list, the alias,
// or "generate_series".
#pragma once

#include <string>

#include "common/status.h"
#include "sql/parser.h"
#include "sql/translator.h"

namespace sb::sql {

// `range_function` is a FROM item {"RangeFunction": ...}; `tr` types the
// arguments. Returns the equivalent {"RangeSubselect": ...} item; 0A000 for
// other functions, WITH ORDINALITY, LATERAL and ROWS FROM.
Result<Json> SeriesAsSubselect(const Json& range_function, Translator* tr);

}  // namespace sb::sql
