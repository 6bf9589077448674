// PostgreSQL's variance and standard deviation of numeric values
// (var_samp, var_pop, stddev_samp, stddev_pop over integers and numeric),
// computed exactly from a group's count, sum and sum of squares, with
// PostgreSQL's result scale and rounding. Those three add up across shards,
// so a distributed aggregate merges them and calls this once per group.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sb {

enum class Dispersion { kVarSamp, kVarPop, kStddevSamp, kStddevPop };

// "var_samp", "variance", "var_pop", "stddev", "stddev_samp", "stddev_pop".
std::optional<Dispersion> DispersionFromName(std::string_view name);
const char* DispersionName(Dispersion d);

// count, sum and sum_of_squares (decimal text of any size) -> the result as
// decimal text, or nullopt for NULL (no rows; one row for the sample forms).
// As in PostgreSQL: numerator = count * sum_of_squares - sum^2; zero or less
// gives "0"; the variance is numerator / (count * (count - 1)) (sample) or
// / count^2 (population) at select_div_scale's scale, rounded half away from
// zero; the standard deviation is its square root at that scale, rounded.
Result<std::optional<std::string>> NumericDispersion(int64_t count, std::string_view sum,
                                                     std::string_view sum_of_squares,
                                                     Dispersion kind);

}  // namespace sb
