#include "common/decimal_dispersion.h"

#include <gmp.h>

#include <algorithm>

namespace sb {
namespace {

// GMP integers: sums of squares of 38-digit values over many rows, and the
// square root's scaled argument, pass 128 bits.
class Mpz {
 public:
  Mpz() { mpz_init(v_); }
  ~Mpz() { mpz_clear(v_); }
  Mpz(const Mpz&) = delete;
  Mpz& operator=(const Mpz&) = delete;
  mpz_ptr get() { return v_; }
  mpz_srcptr get() const { return v_; }

 private:
  mpz_t v_;
};

// A decimal as unscaled * 10^-scale.
struct BigDecimal {
  Mpz unscaled;
  int scale = 0;
};

Status ParseBig(std::string_view text, BigDecimal* out) {
  std::string digits;
  bool negative = false, dot = false;
  int scale = 0;
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && !dot) {
      dot = true;
    } else if (c >= '0' && c <= '9') {
      digits.push_back(c);
      if (dot) ++scale;
    } else {
      return Status("22P02",
                    "invalid input syntax for type numeric: \"" + std::string(text) + "\"");
    }
  }
  if (digits.empty()) {
    return Status("22P02", "invalid input syntax for type numeric: \"" + std::string(text) + "\"");
  }
  mpz_set_str(out->unscaled.get(), digits.c_str(), 10);
  if (negative) mpz_neg(out->unscaled.get(), out->unscaled.get());
  out->scale = scale;
  return Status::Ok();
}

void MulPow10(mpz_ptr v, int n) {
  if (n <= 0) return;
  Mpz p;
  mpz_ui_pow_ui(p.get(), 10, static_cast<unsigned long>(n));
  mpz_mul(v, v, p.get());
}

// PostgreSQL's weight and leading digit of a positive value in base 10000
// (the decimal point falls between base-10000 digits).
void Base10000Lead(mpz_srcptr unscaled, int scale, int* weight, int* first_digit) {
  std::string digits(mpz_sizeinbase(unscaled, 10) + 2, '\0');
  mpz_get_str(digits.data(), 10, unscaled);
  digits.resize(std::char_traits<char>::length(digits.c_str()));
  const int msd_exponent = static_cast<int>(digits.size()) - scale - 1;  // of 10^e
  // floor(e / 4), also for negative e.
  const int w = msd_exponent >= 0 ? msd_exponent / 4 : -((-msd_exponent + 3) / 4);
  const int lead_digits = msd_exponent - 4 * w + 1;  // 1 to 4
  *weight = w;
  *first_digit = std::stoi(digits.substr(0, static_cast<size_t>(lead_digits)));
}

// select_div_scale for positive a / b: at least 16 significant digits, at
// least both scales, at most 1000.
int DivScale(const BigDecimal& a, const BigDecimal& b) {
  int w1, f1, w2, f2;
  Base10000Lead(a.unscaled.get(), a.scale, &w1, &f1);
  Base10000Lead(b.unscaled.get(), b.scale, &w2, &f2);
  int qweight = w1 - w2;
  if (f1 <= f2) --qweight;
  int rscale = 16 - qweight * 4;
  rscale = std::max({rscale, a.scale, b.scale, 0});
  return std::min(rscale, 1000);
}

std::string Format(mpz_srcptr unscaled, int scale) {
  std::string digits(mpz_sizeinbase(unscaled, 10) + 2, '\0');
  mpz_get_str(digits.data(), 10, unscaled);
  digits.resize(std::char_traits<char>::length(digits.c_str()));
  bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.erase(0, 1);
  if (scale > 0) {
    if (static_cast<int>(digits.size()) <= scale) {
      digits.insert(0, static_cast<size_t>(scale) - digits.size() + 1, '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return (negative ? "-" : "") + digits;
}

}  // namespace

std::optional<Dispersion> DispersionFromName(std::string_view name) {
  if (name == "var_samp" || name == "variance") return Dispersion::kVarSamp;
  if (name == "var_pop") return Dispersion::kVarPop;
  if (name == "stddev_samp" || name == "stddev") return Dispersion::kStddevSamp;
  if (name == "stddev_pop") return Dispersion::kStddevPop;
  return std::nullopt;
}

const char* DispersionName(Dispersion d) {
  switch (d) {
    case Dispersion::kVarSamp:
      return "var_samp";
    case Dispersion::kVarPop:
      return "var_pop";
    case Dispersion::kStddevSamp:
      return "stddev_samp";
    case Dispersion::kStddevPop:
      return "stddev_pop";
  }
  return "var_samp";
}

Result<std::optional<std::string>> NumericDispersion(int64_t count, std::string_view sum,
                                                     std::string_view sum_of_squares,
                                                     Dispersion kind) {
  const bool sample = kind == Dispersion::kVarSamp || kind == Dispersion::kStddevSamp;
  if (count <= 0 || (sample && count == 1)) return std::optional<std::string>();
  BigDecimal s, q;
  SB_RETURN_IF_ERROR(ParseBig(sum, &s));
  SB_RETURN_IF_ERROR(ParseBig(sum_of_squares, &q));
  // numerator = count * q - s^2, both at scale 2 * s.scale as PostgreSQL
  // computes them (q, a sum of squares, has at most that scale).
  BigDecimal numerator;
  numerator.scale = std::max(2 * s.scale, q.scale);
  Mpz s2;
  mpz_mul(s2.get(), s.unscaled.get(), s.unscaled.get());
  MulPow10(s2.get(), numerator.scale - 2 * s.scale);
  mpz_mul_si(numerator.unscaled.get(), q.unscaled.get(), static_cast<long>(count));
  MulPow10(numerator.unscaled.get(), numerator.scale - q.scale);
  mpz_sub(numerator.unscaled.get(), numerator.unscaled.get(), s2.get());
  // Rounding cannot make it negative here (the sums are exact), but
  // PostgreSQL guards the same way.
  if (mpz_sgn(numerator.unscaled.get()) <= 0) return std::optional<std::string>("0");
  BigDecimal denominator;
  mpz_set_si(denominator.unscaled.get(), static_cast<long>(count));
  mpz_mul_si(denominator.unscaled.get(), denominator.unscaled.get(),
             static_cast<long>(sample ? count - 1 : count));
  const int rscale = DivScale(numerator, denominator);
  // variance = round(numerator * 10^(rscale - scale) / denominator), half up.
  Mpz variance;
  mpz_set(variance.get(), numerator.unscaled.get());
  MulPow10(variance.get(), rscale - numerator.scale + 1);
  mpz_tdiv_q(variance.get(), variance.get(), denominator.unscaled.get());
  mpz_add_ui(variance.get(), variance.get(), 5);
  mpz_tdiv_q_ui(variance.get(), variance.get(), 10);
  if (kind == Dispersion::kVarSamp || kind == Dispersion::kVarPop) {
    return std::optional<std::string>(Format(variance.get(), rscale));
  }
  // sqrt at rscale, rounded: isqrt(variance * 10^(rscale + 2)) has one
  // digit more than needed, and rounding it is exact.
  Mpz root;
  mpz_set(root.get(), variance.get());
  MulPow10(root.get(), rscale + 2);
  mpz_sqrt(root.get(), root.get());
  mpz_add_ui(root.get(), root.get(), 5);
  mpz_tdiv_q_ui(root.get(), root.get(), 10);
  return std::optional<std::string>(Format(root.get(), rscale));
}

}  // namespace sb
