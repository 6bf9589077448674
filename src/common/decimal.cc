#include "common/decimal.h"

#include <algorithm>
#include <cctype>

namespace sb {
namespace {

using u128 = unsigned __int128;

// 10^0 .. 10^38.
const __int128* Pow10Table() {
  static const auto* table = [] {
    static __int128 t[kDecimalMaxDigits + 1];
    t[0] = 1;
    for (int i = 1; i <= kDecimalMaxDigits; ++i) t[i] = t[i - 1] * 10;
    return t;
  }();
  return table;
}

__int128 Pow10(int n) {
  return Pow10Table()[n];
}

// Largest magnitude a Decimal holds: 10^38 - 1.
__int128 MaxUnscaled() {
  return Pow10(kDecimalMaxDigits) - 1;
}

Status Overflow() {
  return Status(sqlstate::kNumericValueOutOfRange, "value overflows numeric format");
}

u128 Abs(__int128 v) {
  return v < 0 ? -static_cast<u128>(v) : static_cast<u128>(v);
}

std::string DigitsOf(u128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v != 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

int FloorDiv(int a, int b) {
  int q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// PostgreSQL NumericVar facts: weight of the first non-zero base-10000 digit
// and that digit's value (0 and 0 for zero).
void Base10000Lead(const Decimal& d, int* weight, int* first_digit) {
  if (d.unscaled == 0) {
    *weight = 0;
    *first_digit = 0;
    return;
  }
  std::string digits = DigitsOf(Abs(d.unscaled));
  int e10 = static_cast<int>(digits.size()) - 1 - d.scale;  // power of ten of the lead digit
  int w = FloorDiv(e10, 4);
  int group_digits = e10 - 4 * w + 1;  // 1..4
  int fd = 0;
  for (int i = 0; i < group_digits; ++i) {
    fd = fd * 10 + (i < static_cast<int>(digits.size()) ? digits[i] - '0' : 0);
  }
  *weight = w;
  *first_digit = fd;
}

}  // namespace

int DecimalDigitCount(const Decimal& d) {
  if (d.unscaled == 0) return 0;
  return static_cast<int>(DigitsOf(Abs(d.unscaled)).size());
}

Result<Decimal> ParseDecimal(std::string_view text) {
  auto syntax = [&] {
    return Status(sqlstate::kInvalidTextRepresentation,
                  "invalid input syntax for type numeric: \"" + std::string(text) + "\"");
  };
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  std::string_view s = text.substr(b, e - b);
  {
    std::string low;
    for (char c : s) low.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (!low.empty() && (low[0] == '+' || low[0] == '-')) low.erase(0, 1);
    if (low == "nan" || low == "infinity" || low == "inf") {
      return Status::NotSupported("numeric NaN and Infinity are not supported",
                                  "Use double precision for non-finite values.");
    }
  }
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  __int128 u = 0;
  int sig_digits = 0;
  int frac_digits = 0;
  bool any_digit = false, seen_dot = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      any_digit = true;
      if (seen_dot) ++frac_digits;
      if (sig_digits > 0 || c != '0') {
        if (++sig_digits > kDecimalMaxDigits) return Overflow();
      }
      u = u * 10 + (c - '0');
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      break;
    }
  }
  if (!any_digit) return syntax();
  long exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_neg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      exp_neg = s[i] == '-';
      ++i;
    }
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return syntax();
    for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
      exponent = exponent * 10 + (s[i] - '0');
      if (exponent > 100000) return Overflow();
    }
    if (exp_neg) exponent = -exponent;
  }
  if (i != s.size()) return syntax();
  long scale = frac_digits - exponent;
  if (scale < 0) {
    if (u != 0) {
      if (sig_digits - scale > kDecimalMaxDigits) return Overflow();
      u *= Pow10(static_cast<int>(-scale));
    }
    scale = 0;
  }
  if (scale > 1000) return Overflow();
  Decimal d;
  d.unscaled = negative ? -u : u;
  d.scale = static_cast<int>(scale);
  return d;
}

std::string FormatDecimal(const Decimal& d) {
  std::string digits = DigitsOf(Abs(d.unscaled));
  if (d.scale > 0) {
    if (static_cast<int>(digits.size()) < d.scale + 1) {
      digits.insert(0, static_cast<size_t>(d.scale + 1) - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(d.scale), ".");
  }
  if (d.unscaled < 0) digits.insert(0, "-");
  return digits;
}

Result<Decimal> Rescale(const Decimal& d, int new_scale) {
  if (new_scale < 0) return Status::InvalidArgument("negative numeric scale");
  Decimal r;
  r.scale = new_scale;
  if (d.unscaled == 0) return r;
  if (new_scale >= d.scale) {
    int diff = new_scale - d.scale;
    if (DecimalDigitCount(d) + diff > kDecimalMaxDigits) return Overflow();
    r.unscaled = d.unscaled * Pow10(diff);
    return r;
  }
  int diff = d.scale - new_scale;
  if (diff > kDecimalMaxDigits) return r;  // |d| < 10^38 / 10^39: rounds to zero
  __int128 p = Pow10(diff);
  __int128 q = d.unscaled / p;
  __int128 rem = d.unscaled % p;
  __int128 arem = rem < 0 ? -rem : rem;
  if (arem >= p - arem) q += d.unscaled < 0 ? -1 : 1;  // half away from zero
  if (q > MaxUnscaled() || q < -MaxUnscaled()) return Overflow();
  r.unscaled = q;
  return r;
}

Result<Decimal> DecimalAdd(const Decimal& a, const Decimal& b) {
  int scale = std::max(a.scale, b.scale);
  SB_ASSIGN_OR_RETURN(Decimal x, Rescale(a, scale));
  SB_ASSIGN_OR_RETURN(Decimal y, Rescale(b, scale));
  Decimal r;
  r.scale = scale;
  r.unscaled = x.unscaled + y.unscaled;  // |x|,|y| < 10^38: no __int128 overflow
  if (r.unscaled > MaxUnscaled() || r.unscaled < -MaxUnscaled()) return Overflow();
  return r;
}

Result<Decimal> DecimalSub(const Decimal& a, const Decimal& b) {
  Decimal nb = b;
  nb.unscaled = -b.unscaled;
  return DecimalAdd(a, nb);
}

Result<Decimal> DecimalMul(const Decimal& a, const Decimal& b) {
  Decimal r;
  r.scale = a.scale + b.scale;
  if (__builtin_mul_overflow(a.unscaled, b.unscaled, &r.unscaled)) return Overflow();
  if (r.unscaled > MaxUnscaled() || r.unscaled < -MaxUnscaled()) return Overflow();
  if (r.scale > 1000) return Rescale(r, 1000);
  return r;
}

Result<Decimal> DecimalMod(const Decimal& a, const Decimal& b) {
  const int scale = std::max(a.scale, b.scale);
  SB_ASSIGN_OR_RETURN(Decimal x, Rescale(a, scale));
  SB_ASSIGN_OR_RETURN(Decimal y, Rescale(b, scale));
  if (y.unscaled == 0) return Status(sqlstate::kDivisionByZero, "division by zero");
  return Decimal{x.unscaled % y.unscaled, scale};  // C++'s % keeps the dividend's sign
}

int PostgresDivScale(const Decimal& a, const Decimal& b) {
  int w1, f1, w2, f2;
  Base10000Lead(a, &w1, &f1);
  Base10000Lead(b, &w2, &f2);
  int qweight = w1 - w2;
  if (f1 <= f2) --qweight;
  int rscale = 16 - qweight * 4;  // NUMERIC_MIN_SIG_DIGITS - qweight * DEC_DIGITS
  rscale = std::max(rscale, a.scale);
  rscale = std::max(rscale, b.scale);
  rscale = std::max(rscale, 0);
  rscale = std::min(rscale, 1000);
  return rscale;
}

Result<Decimal> DecimalDivLikePostgres(const Decimal& a, const Decimal& b) {
  if (b.unscaled == 0) return Status(sqlstate::kDivisionByZero, "division by zero");
  int rscale = PostgresDivScale(a, b);
  Decimal r;
  r.scale = rscale;
  if (a.unscaled == 0) return r;
  // |a| / |b| * 10^rscale = |a.u| * 10^(rscale - a.scale + b.scale) / |b.u|.
  int zeros = rscale - a.scale + b.scale;
  std::string numerator = DigitsOf(Abs(a.unscaled));
  if (zeros < 0) {
    // Cannot happen (rscale >= a.scale), kept for safety: drop digits (truncate).
    int keep = static_cast<int>(numerator.size()) + zeros;
    numerator = keep > 0 ? numerator.substr(0, static_cast<size_t>(keep)) : "0";
    zeros = 0;
  }
  const u128 divisor = Abs(b.unscaled);
  const u128 max_q = static_cast<u128>(MaxUnscaled());
  u128 q = 0, rem = 0;
  size_t total = numerator.size() + static_cast<size_t>(zeros);
  for (size_t i = 0; i < total; ++i) {
    int digit = i < numerator.size() ? numerator[i] - '0' : 0;
    // rem = rem * 10 + digit, reduced modulo divisor without overflowing.
    u128 t = 0;
    int qd = 0;
    for (int k = 0; k < 10; ++k) {
      t += rem;  // t < divisor, rem < divisor < 2^127
      if (t >= divisor) {
        t -= divisor;
        ++qd;
      }
    }
    t += static_cast<u128>(digit);
    while (t >= divisor) {
      t -= divisor;
      ++qd;
    }
    rem = t;
    if (q > (max_q - static_cast<u128>(qd)) / 10) return Overflow();
    q = q * 10 + static_cast<u128>(qd);
  }
  if (rem >= divisor - rem) {
    if (q >= max_q) return Overflow();
    ++q;
  }
  bool negative = (a.unscaled < 0) != (b.unscaled < 0);
  r.unscaled = negative ? -static_cast<__int128>(q) : static_cast<__int128>(q);
  return r;
}

int CompareDecimal(const Decimal& a, const Decimal& b) {
  auto sign = [](__int128 v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); };
  int sa = sign(a.unscaled), sb = sign(b.unscaled);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  int scale = std::max(a.scale, b.scale);
  Result<Decimal> x = Rescale(a, scale);
  Result<Decimal> y = Rescale(b, scale);
  // Upscaling overflows only for the value of larger magnitude.
  if (!x.ok()) return sa;
  if (!y.ok()) return -sa;
  if (x->unscaled == y->unscaled) return 0;
  return x->unscaled < y->unscaled ? -1 : 1;
}

Result<Decimal> ApplyNumericTypmod(const Decimal& d, int precision, int scale) {
  auto overflow = [&] {
    int maxdigits = precision - scale;
    Status s(sqlstate::kNumericValueOutOfRange, "numeric field overflow");
    s.WithDetail("A field with precision " + std::to_string(precision) + ", scale " +
                 std::to_string(scale) + " must round to an absolute value less than " +
                 (maxdigits > 0 ? "10^" + std::to_string(maxdigits) : std::string("1")) + ".");
    return s;
  };
  Result<Decimal> r = Rescale(d, scale);
  if (!r.ok()) return overflow();
  if (DecimalDigitCount(*r) > precision) return overflow();
  return r;
}

Decimal NormalizeDecimal(const Decimal& d) {
  Decimal r = d;
  if (r.unscaled == 0) {
    r.scale = 0;
    return r;
  }
  while (r.scale > 0 && r.unscaled % 10 == 0) {
    r.unscaled /= 10;
    --r.scale;
  }
  return r;
}

}  // namespace sb
