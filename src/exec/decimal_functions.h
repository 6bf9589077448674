// SQLite functions over unconstrained numeric values (decimal text, the form
// avg(), numeric division and numeric columns wider than 18 digits take).
// Each value keeps its own display scale, as PostgreSQL's numeric does:
//   sb_decop(op, a, b)  a op b for op in + - * / %, PostgreSQL's result
//                       scale (max for + - %, the sum for *, select_div_scale
//                       for /); a and b are decimal text or integers
//   sb_decfn(fn, x)     abs(x) (same scale) or sign(x) (-1, 0, 1) for fn
//                       'abs' / 'sign'
//   sb_decsum(x)        sum() as an aggregate; the result scale is the
//                       largest input scale
//   sb_decsum_w(x)      the same as a window function: a row leaving the
//                       frame is taken back out, and the scale is the
//                       largest among the rows still in the frame
//   sb_greatest_dec(...), sb_least_dec(...)  GREATEST/LEAST by value
//   sb_numvar(count, sum, sum_of_squares, kind)  variance/stddev of numeric
//                       (kind 'var_samp', 'var_pop', 'stddev_samp', 'stddev_pop')
//   sb_fltvar(count, sum, sum_of_squares, kind)  the same for double precision
// Comparison and grouping use the sb_decimal collation (exec/sql_functions.h).
#pragma once

#include <sqlite3.h>

namespace sb::exec {

void RegisterDecimalFunctions(sqlite3* db);

}  // namespace sb::exec
