// Exact decimal arithmetic for numeric values (up to 38 significant digits),
// with PostgreSQL's result-scale and rounding rules.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace sb {

struct Decimal {
  __int128 unscaled = 0;  // value = unscaled / 10^scale
  int scale = 0;          // >= 0
};

// Largest number of significant digits a Decimal holds.
inline constexpr int kDecimalMaxDigits = 38;

// Parses PostgreSQL numeric input: surrounding whitespace, sign, digits with
// optional '.', optional exponent ("1.5e3"). The result keeps the input's
// display scale (PG dscale: "3.50" -> scale 2). 22P02 on bad input (message
// 'invalid input syntax for type numeric: "<text>"'); 22003 when the value
// needs more than 38 significant digits; 0A000 for NaN/Infinity.
Result<Decimal> ParseDecimal(std::string_view text);
// Exactly `scale` fraction digits ("-0.05", "12", "3.50"); never "-0".
std::string FormatDecimal(const Decimal& d);
// Round half away from zero (or extend with zeros) to new_scale; 22003 on overflow.
Result<Decimal> Rescale(const Decimal& d, int new_scale);
Result<Decimal> DecimalAdd(const Decimal& a, const Decimal& b);  // scale = max
Result<Decimal> DecimalSub(const Decimal& a, const Decimal& b);
Result<Decimal> DecimalMul(const Decimal& a, const Decimal& b);  // scale = sum
// PostgreSQL's numeric %: a - trunc(a / b) * b at the larger scale, with
// a's sign; b == 0 -> 22012 "division by zero".
Result<Decimal> DecimalMod(const Decimal& a, const Decimal& b);
// PostgreSQL numeric division: result scale as PG's select_div_scale
// (at least 16 significant digits, at least max(dscale1, dscale2), at most
// 1000), rounded half away from zero. b == 0 -> 22012 "division by zero".
Result<Decimal> DecimalDivLikePostgres(const Decimal& a, const Decimal& b);
int CompareDecimal(const Decimal& a, const Decimal& b);

// Helpers.
// The result scale PostgreSQL's numeric division picks for a / b.
int PostgresDivScale(const Decimal& a, const Decimal& b);
// Number of decimal digits of |unscaled| (0 for zero).
int DecimalDigitCount(const Decimal& d);
// Checks numeric(precision, scale) after rounding to `scale`; 22003 "numeric
// field overflow" with PostgreSQL's detail when |value| >= 10^(precision-scale).
Result<Decimal> ApplyNumericTypmod(const Decimal& d, int precision, int scale);
// Removes trailing fraction zeros (scale shrinks, never below 0).
Decimal NormalizeDecimal(const Decimal& d);

}  // namespace sb
