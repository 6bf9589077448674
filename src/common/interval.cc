#include "common/interval.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "common/datetime.h"

namespace sb {
namespace {

constexpr int64_t kMicrosPerHour = 3600LL * kMicrosPerSecond;
constexpr int64_t kMicrosPerMinute = 60LL * kMicrosPerSecond;
constexpr int kDaysPerMonth = 30;

Status BadInput(std::string_view text) {
  return Status("22007", "invalid input syntax for type interval: \"" + std::string(text) + "\"");
}

Status OutOfRange() {
  return Status("22008", "interval out of range");
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Words of the input; "1day" and "-2.5hours" are split into number and unit.
std::vector<std::string> Tokens(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (start == i) break;
    std::string word = Lower(text.substr(start, i - start));
    if (word.find(':') != std::string::npos) {
      out.push_back(word);
      continue;
    }
    size_t k = 0;
    while (k < word.size() && (std::isdigit(static_cast<unsigned char>(word[k])) ||
                               word[k] == '.' || word[k] == '-' || word[k] == '+'))
      ++k;
    if (k > 0 && k < word.size()) {
      out.push_back(word.substr(0, k));
      out.push_back(word.substr(k));
    } else {
      out.push_back(word);
    }
  }
  return out;
}

bool IsNumber(const std::string& t, long double* v) {
  if (t.empty() || std::isalpha(static_cast<unsigned char>(t[0]))) return false;
  char* end = nullptr;
  *v = std::strtold(t.c_str(), &end);
  return end != nullptr && *end == '\0' && std::isfinite(static_cast<double>(*v));
}

// Accumulates fields in wide types; checked against the interval's range
// at the end.
struct Fields {
  long double months = 0;
  long double days = 0;
  long double micros = 0;
};

bool ApplyUnit(const std::string& unit, long double v, Fields* f) {
  auto whole_days = [&](long double d) {
    long double w = std::trunc(d);
    f->days += w;
    f->micros += std::rint((d - w) * static_cast<long double>(kMicrosPerDay));
  };
  if (unit == "microsecond" || unit == "microseconds" || unit == "us" || unit == "usec" ||
      unit == "usecs" || unit == "useconds") {
    f->micros += std::rint(v);
  } else if (unit == "millisecond" || unit == "milliseconds" || unit == "ms" || unit == "msec" ||
             unit == "msecs" || unit == "mseconds") {
    f->micros += std::rint(v * 1000);
  } else if (unit == "second" || unit == "seconds" || unit == "sec" || unit == "secs" ||
             unit == "s") {
    f->micros += std::rint(v * kMicrosPerSecond);
  } else if (unit == "minute" || unit == "minutes" || unit == "min" || unit == "mins" ||
             unit == "m") {
    f->micros += std::rint(v * kMicrosPerMinute);
  } else if (unit == "hour" || unit == "hours" || unit == "hr" || unit == "hrs" || unit == "h") {
    f->micros += std::rint(v * kMicrosPerHour);
  } else if (unit == "day" || unit == "days" || unit == "d") {
    whole_days(v);
  } else if (unit == "week" || unit == "weeks" || unit == "w") {
    whole_days(v * 7);
  } else if (unit == "month" || unit == "months" || unit == "mon" || unit == "mons") {
    long double w = std::trunc(v);
    f->months += w;
    whole_days((v - w) * kDaysPerMonth);
  } else if (unit == "year" || unit == "years" || unit == "yr" || unit == "yrs" || unit == "y") {
    f->months += std::rint(v * 12);
  } else if (unit == "decade" || unit == "decades") {
    f->months += std::rint(v * 120);
  } else if (unit == "century" || unit == "centuries") {
    f->months += std::rint(v * 1200);
  } else if (unit == "millennium" || unit == "millennia" || unit == "millenniums") {
    f->months += std::rint(v * 12000);
  } else {
    return false;
  }
  return true;
}

// "[-+]H:M[:S[.f]]".
bool ParseTimeToken(const std::string& t, Fields* f) {
  size_t i = 0;
  bool negative = false;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) negative = t[i++] == '-';
  std::vector<std::string> parts;
  size_t start = i;
  for (; i <= t.size(); ++i) {
    if (i == t.size() || t[i] == ':') {
      parts.push_back(t.substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() < 2 || parts.size() > 3) return false;
  long double total = 0;
  const long double unit[] = {kMicrosPerHour, kMicrosPerMinute, kMicrosPerSecond};
  for (size_t k = 0; k < parts.size(); ++k) {
    const std::string& p = parts[k];
    if (p.empty()) return false;
    for (char c : p) {
      if (!std::isdigit(static_cast<unsigned char>(c)) &&
          !(c == '.' && k == parts.size() - 1 && k == 2))
        return false;
    }
    total += std::strtold(p.c_str(), nullptr) * unit[k];
  }
  f->micros += std::rint(negative ? -total : total);
  return true;
}

std::string TwoDigits(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld", static_cast<long long>(v));
  return buf;
}

__int128 Span(const Interval& iv) {
  return static_cast<__int128>(iv.months) * kDaysPerMonth * kMicrosPerDay +
         static_cast<__int128>(iv.days) * kMicrosPerDay + iv.micros;
}

bool FitsInt32(long double v) {
  return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
}

bool FitsInt64(long double v) {
  return v >= -9.2233720368547758e18L && v <= 9.2233720368547758e18L;
}

}  // namespace

Result<Interval> ParseIntervalInput(std::string_view text) {
  std::vector<std::string> t = Tokens(text);
  size_t i = 0, n = t.size();
  if (i < n && t[i] == "@") ++i;
  bool ago = false;
  if (n > i && t[n - 1] == "ago") {
    ago = true;
    --n;
  }
  if (i >= n) return BadInput(text);
  Fields f;
  while (i < n) {
    long double v = 0;
    if (t[i].find(':') != std::string::npos) {
      if (!ParseTimeToken(t[i], &f)) return BadInput(text);
      ++i;
    } else if (IsNumber(t[i], &v)) {
      if (i + 1 < n && std::isalpha(static_cast<unsigned char>(t[i + 1][0]))) {
        if (!ApplyUnit(t[i + 1], v, &f)) return BadInput(text);
        i += 2;
      } else {
        f.micros += std::rint(v * kMicrosPerSecond);  // a bare number is seconds
        ++i;
      }
    } else {
      return BadInput(text);
    }
  }
  if (ago) {
    f.months = -f.months;
    f.days = -f.days;
    f.micros = -f.micros;
  }
  if (!FitsInt32(f.months) || !FitsInt32(f.days) || !FitsInt64(f.micros)) {
    return Status("22015", "interval field value out of range: \"" + std::string(text) + "\"");
  }
  return Interval{static_cast<int32_t>(f.months), static_cast<int32_t>(f.days),
                  static_cast<int64_t>(f.micros)};
}

std::string FormatIntervalOutput(const Interval& iv) {
  std::string out;
  bool is_before = false, is_zero = true;
  auto add = [&](int64_t value, const char* unit) {
    if (value == 0) return;
    if (!is_zero) out += " ";
    if (is_before && value > 0) out += "+";
    out += std::to_string(value) + " " + unit + (value != 1 ? "s" : "");
    is_before = value < 0;
    is_zero = false;
  };
  add(iv.months / 12, "year");
  add(iv.months % 12, "mon");
  add(iv.days, "day");
  if (is_zero || iv.micros != 0) {
    const bool minus = iv.micros < 0;
    // |INT64_MIN| does not fit; unsigned arithmetic does.
    const uint64_t t =
        minus ? 0 - static_cast<uint64_t>(iv.micros) : static_cast<uint64_t>(iv.micros);
    if (!is_zero) out += " ";
    out += minus ? "-" : (is_before ? "+" : "");
    out += TwoDigits(static_cast<int64_t>(t / kMicrosPerHour)) + ":" +
           TwoDigits(static_cast<int64_t>(t / kMicrosPerMinute % 60)) + ":" +
           TwoDigits(static_cast<int64_t>(t / kMicrosPerSecond % 60));
    uint64_t frac = t % kMicrosPerSecond;
    if (frac != 0) {
      char buf[16];
      std::snprintf(buf, sizeof buf, ".%06llu", static_cast<unsigned long long>(frac));
      std::string f = buf;
      while (f.back() == '0') f.pop_back();
      out += f;
    }
  }
  return out;
}

std::string EncodeStoredInterval(const Interval& iv) {
  // 10^30 lifts every span (|span| < 6e24) to a positive number of 31 digits.
  __int128 key = Span(iv);
  __int128 offset = 1;
  for (int k = 0; k < 30; ++k) offset *= 10;
  key += offset;
  std::string digits(31, '0');
  for (int k = 30; k >= 0 && key > 0; --k) {
    digits[static_cast<size_t>(k)] = static_cast<char>('0' + static_cast<int>(key % 10));
    key /= 10;
  }
  return digits + " " + std::to_string(iv.months) + " " + std::to_string(iv.days) + " " +
         std::to_string(iv.micros);
}

Result<Interval> DecodeStoredInterval(std::string_view stored) {
  Interval iv;
  long long months = 0, days = 0, micros = 0;
  int used = 0;
  std::string s(stored);
  if (s.size() < 32 || s[31] != ' ' ||
      std::sscanf(s.c_str() + 32, "%lld %lld %lld%n", &months, &days, &micros, &used) != 3 ||
      static_cast<size_t>(used) + 32 != s.size())
    return Status("22007", "not a stored interval: \"" + s + "\"");
  iv.months = static_cast<int32_t>(months);
  iv.days = static_cast<int32_t>(days);
  iv.micros = micros;
  return iv;
}

Result<int64_t> AddIntervalToTimestamp(int64_t micros, const Interval& iv) {
  int64_t day = micros >= 0 ? micros / kMicrosPerDay : -((-micros - 1) / kMicrosPerDay) - 1;
  const int64_t time_of_day = micros - day * kMicrosPerDay;
  if (iv.months != 0) {
    CivilDate c = CivilFromDays(day);
    const int64_t total = static_cast<int64_t>(c.year) * 12 + (c.month - 1) + iv.months;
    const int64_t year = total >= 0 ? total / 12 : -((-total - 1) / 12) - 1;
    const int month = static_cast<int>(total - year * 12) + 1;
    if (year < kMinYear || year > kMaxYear) return Status("22008", "timestamp out of range");
    const int dim = DaysInMonth(static_cast<int>(year), month);
    day = DaysFromCivil(static_cast<int>(year), month, c.day > dim ? dim : c.day);
  }
  day += iv.days;
  __int128 result = static_cast<__int128>(day) * kMicrosPerDay + time_of_day + iv.micros;
  if (result < MinStorableMicros() || result > MaxStorableMicros())
    return Status("22008", "timestamp out of range");
  return static_cast<int64_t>(result);
}

Interval TimestampDifference(int64_t a_micros, int64_t b_micros) {
  const int64_t diff = a_micros - b_micros;  // both within years 1..9999: no overflow
  Interval iv;
  iv.days = static_cast<int32_t>(diff / kMicrosPerDay);
  iv.micros = diff - static_cast<int64_t>(iv.days) * kMicrosPerDay;
  return iv;
}

int CompareIntervalSpans(std::string_view a, std::string_view b) {
  const int c = a.substr(0, kIntervalSpanKeyLength).compare(b.substr(0, kIntervalSpanKeyLength));
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

Interval AgeBetween(int64_t a_micros, int64_t b_micros) {
  const DateTimeFields a = BreakDownTimestamp(a_micros), b = BreakDownTimestamp(b_micros);
  const bool negative = a_micros < b_micros;
  const int sign = negative ? -1 : 1;
  int64_t micros = sign * (a.micros - b.micros);
  int64_t second = sign * (a.second - b.second);
  int64_t minute = sign * (a.minute - b.minute);
  int64_t hour = sign * (a.hour - b.hour);
  int64_t day = sign * (a.date.day - b.date.day);
  int64_t month = sign * (a.date.month - b.date.month);
  int64_t year = sign * (a.date.year - b.date.year);
  // Borrow from the next larger field, as PostgreSQL's timestamp_age.
  while (micros < 0) {
    micros += 1'000'000;
    --second;
  }
  while (second < 0) {
    second += 60;
    --minute;
  }
  while (minute < 0) {
    minute += 60;
    --hour;
  }
  while (hour < 0) {
    hour += 24;
    --day;
  }
  const CivilDate& earlier = negative ? a.date : b.date;
  while (day < 0) {
    day += DaysInMonth(earlier.year, earlier.month);
    --month;
  }
  while (month < 0) {
    month += 12;
    --year;
  }
  Interval iv;
  iv.months = static_cast<int32_t>(sign * (year * 12 + month));
  iv.days = static_cast<int32_t>(sign * day);
  iv.micros = sign * (((hour * 60 + minute) * 60 + second) * 1'000'000 + micros);
  return iv;
}

namespace {

Status IntervalOutOfRange() {
  return Status("22008", "interval out of range");
}

// Moves whole days of `micros` into `days` (truncating toward zero).
Status HoursToDays(int64_t* micros, int64_t* days) {
  const int64_t whole = *micros / kMicrosPerDay;
  *micros -= whole * kMicrosPerDay;
  if (__builtin_add_overflow(*days, whole, days)) return IntervalOutOfRange();
  return Status::Ok();
}

Status DaysToMonths(int64_t* days, int64_t* months) {
  const int64_t whole = *days / kDaysPerMonth;
  *days -= whole * kDaysPerMonth;
  if (__builtin_add_overflow(*months, whole, months)) return IntervalOutOfRange();
  return Status::Ok();
}

// A smaller unit whose sign differs from the larger one's borrows one larger
// unit (PostgreSQL's justify rules): 1 day -3 hours is 21:00:00.
void AlignSigns(int64_t* larger, int64_t* smaller, int64_t per_larger) {
  if (*larger > 0 && *smaller < 0) {
    *smaller += per_larger;
    --*larger;
  } else if (*larger < 0 && *smaller > 0) {
    *smaller -= per_larger;
    ++*larger;
  }
}

Result<Interval> Narrow(int64_t months, int64_t days, int64_t micros) {
  if (months < INT32_MIN || months > INT32_MAX || days < INT32_MIN || days > INT32_MAX) {
    return IntervalOutOfRange();
  }
  return Interval{static_cast<int32_t>(months), static_cast<int32_t>(days), micros};
}

}  // namespace

Result<Interval> MakeInterval(int64_t years, int64_t months, int64_t weeks, int64_t days,
                              int64_t hours, int64_t minutes, double seconds) {
  int64_t m = 0, d = 0, micros = 0;
  const double sec_micros = std::rint(seconds * 1e6);
  if (__builtin_mul_overflow(years, 12, &m) || __builtin_add_overflow(m, months, &m) ||
      __builtin_mul_overflow(weeks, 7, &d) || __builtin_add_overflow(d, days, &d) ||
      __builtin_mul_overflow(hours, int64_t{3'600'000'000}, &micros) ||
      __builtin_add_overflow(micros, minutes * int64_t{60'000'000}, &micros) ||
      !std::isfinite(sec_micros) || std::fabs(sec_micros) > 9.2e18 ||
      __builtin_add_overflow(micros, static_cast<int64_t>(sec_micros), &micros)) {
    return IntervalOutOfRange();
  }
  return Narrow(m, d, micros);
}

Result<Interval> JustifyHours(const Interval& iv) {
  int64_t days = iv.days, micros = iv.micros;
  SB_RETURN_IF_ERROR(HoursToDays(&micros, &days));
  AlignSigns(&days, &micros, kMicrosPerDay);
  return Narrow(iv.months, days, micros);
}

Result<Interval> JustifyDays(const Interval& iv) {
  int64_t months = iv.months, days = iv.days;
  SB_RETURN_IF_ERROR(DaysToMonths(&days, &months));
  AlignSigns(&months, &days, kDaysPerMonth);
  return Narrow(months, days, iv.micros);
}

Result<Interval> JustifyInterval(const Interval& iv) {
  int64_t months = iv.months, days = iv.days, micros = iv.micros;
  // Days first when they and the time agree in sign, as PostgreSQL does to
  // avoid an overflow.
  if ((days > 0 && micros > 0) || (days < 0 && micros < 0)) {
    SB_RETURN_IF_ERROR(DaysToMonths(&days, &months));
  }
  SB_RETURN_IF_ERROR(HoursToDays(&micros, &days));
  SB_RETURN_IF_ERROR(DaysToMonths(&days, &months));
  if (months > 0 && (days < 0 || (days == 0 && micros < 0))) {
    days += kDaysPerMonth;
    --months;
  } else if (months < 0 && (days > 0 || (days == 0 && micros > 0))) {
    days -= kDaysPerMonth;
    ++months;
  }
  AlignSigns(&days, &micros, kMicrosPerDay);
  return Narrow(months, days, micros);
}

Result<Interval> AddIntervals(const Interval& a, const Interval& b) {
  Interval r;
  if (__builtin_add_overflow(a.months, b.months, &r.months) ||
      __builtin_add_overflow(a.days, b.days, &r.days) ||
      __builtin_add_overflow(a.micros, b.micros, &r.micros))
    return OutOfRange();
  return r;
}

Result<Interval> NegateInterval(const Interval& a) {
  if (a.months == std::numeric_limits<int32_t>::min() ||
      a.days == std::numeric_limits<int32_t>::min() ||
      a.micros == std::numeric_limits<int64_t>::min())
    return OutOfRange();
  return Interval{-a.months, -a.days, -a.micros};
}

namespace {

// PostgreSQL 15's interval_mul / interval_div, step by step: whole months and
// days first, their fractions spilled into days (30 per month) and seconds,
// each rounded to microseconds (TSROUND).
Result<Interval> ScaleInterval(const Interval& iv, double factor, bool divide) {
  auto op = [&](double x) { return divide ? x / factor : x * factor; };
  auto tsround = [](double x) { return std::rint(x * 1e6) / 1e6; };
  const double months = op(iv.months);
  const double days = op(iv.days);
  if (std::isnan(months) || !FitsInt32(months) || !FitsInt32(days)) return OutOfRange();
  Interval r;
  r.months = static_cast<int32_t>(months);
  r.days = static_cast<int32_t>(days);
  double month_remainder_days = tsround((months - r.months) * kDaysPerMonth);
  double sec_remainder = tsround(
      (days - r.days + month_remainder_days - static_cast<int>(month_remainder_days)) * 86400.0);
  if (std::fabs(sec_remainder) >= 86400.0) {
    r.days += static_cast<int32_t>(sec_remainder / 86400.0);
    sec_remainder -= static_cast<int>(sec_remainder / 86400.0) * 86400.0;
  }
  r.days += static_cast<int32_t>(month_remainder_days);
  const double micros = std::rint(op(static_cast<double>(iv.micros)) + sec_remainder * 1e6);
  if (std::isnan(micros) || !FitsInt64(micros)) return OutOfRange();
  r.micros = static_cast<int64_t>(micros);
  return r;
}

}  // namespace

Result<Interval> MultiplyInterval(const Interval& iv, double factor) {
  return ScaleInterval(iv, factor, false);
}

Result<Interval> DivideInterval(const Interval& iv, double divisor) {
  if (divisor == 0) return Status("22012", "division by zero");
  return ScaleInterval(iv, divisor, true);
}

}  // namespace sb
