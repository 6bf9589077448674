#include "common/datetime.h"

#include <cctype>
#include <cstdio>

namespace sb {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Reads 1..max_len digits at s[*pos]; false if none.
bool ReadNumber(std::string_view s, size_t* pos, int max_len, int* out, int* len_out = nullptr) {
  int v = 0, n = 0;
  while (*pos < s.size() && IsDigit(s[*pos]) && n < max_len) {
    v = v * 10 + (s[*pos] - '0');
    ++*pos;
    ++n;
  }
  if (n == 0) return false;
  *out = v;
  if (len_out != nullptr) *len_out = n;
  return true;
}

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

Status SyntaxError(std::string_view type_name, std::string_view text) {
  return Status(sqlstate::kInvalidDatetimeFormat, "invalid input syntax for type " +
                                                      std::string(type_name) + ": \"" +
                                                      std::string(text) + "\"");
}

Status RangeError(std::string_view text) {
  return Status(sqlstate::kDatetimeFieldOverflow,
                "date/time field value out of range: \"" + std::string(text) + "\"");
}

// Parses "Y-M-D" at s[*pos]. Returns 0 ok, 1 syntax error, 2 range error.
int ParseDatePart(std::string_view s, size_t* pos, CivilDate* out) {
  int y, m, d, ylen;
  if (!ReadNumber(s, pos, 9, &y, &ylen) || ylen < 4) return 1;
  if (*pos >= s.size() || s[*pos] != '-') return 1;
  ++*pos;
  if (!ReadNumber(s, pos, 2, &m)) return 1;
  if (*pos >= s.size() || s[*pos] != '-') return 1;
  ++*pos;
  if (!ReadNumber(s, pos, 2, &d)) return 1;
  if (*pos < s.size() && IsDigit(s[*pos])) return 1;
  if (y < kMinYear || y > kMaxYear || !IsValidCivil(y, m, d)) return 2;
  out->year = y;
  out->month = m;
  out->day = d;
  return 0;
}

}  // namespace

bool IsLeapYear(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

bool IsValidCivil(int year, int month, int day) {
  return month >= 1 && month <= 12 && day >= 1 && day <= DaysInMonth(year, month);
}

// Count days in 400-year eras starting on March 1st, so the leap day is the
// last day of each shifted year.
int64_t DaysFromCivil(int year, int month, int day) {
  int64_t y = year - (month <= 2 ? 1 : 0);
  int64_t era = FloorDiv(y, 400);
  int64_t year_of_era = y - era * 400;                            // 0..399
  int64_t shifted_month = month > 2 ? month - 3 : month + 9;      // March = 0
  int64_t day_of_year = (153 * shifted_month + 2) / 5 + day - 1;  // 0..365
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;  // 719468 = days from 0000-03-01 to 1970-01-01
}

CivilDate CivilFromDays(int64_t days) {
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t day_of_era = z - era * 146097;  // 0..146096
  int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t shifted_month = (5 * day_of_year + 2) / 153;
  CivilDate c;
  c.day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  c.month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  c.year = static_cast<int>(year_of_era + era * 400 + (c.month <= 2 ? 1 : 0));
  return c;
}

int32_t MinStorableDays() {
  return static_cast<int32_t>(DaysFromCivil(kMinYear, 1, 1));
}
int32_t MaxStorableDays() {
  return static_cast<int32_t>(DaysFromCivil(kMaxYear, 12, 31));
}
int64_t MinStorableMicros() {
  return int64_t{MinStorableDays()} * kMicrosPerDay;
}
int64_t MaxStorableMicros() {
  return (int64_t{MaxStorableDays()} + 1) * kMicrosPerDay - 1;
}

std::string DaysToDate(int32_t days) {
  CivilDate c = CivilFromDays(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", c.year, c.month, c.day);
  return buf;
}

std::string MicrosToTimestamp(int64_t micros) {
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t rest = micros - days * kMicrosPerDay;
  CivilDate c = CivilFromDays(days);
  int64_t secs = rest / kMicrosPerSecond;
  int64_t frac = rest % kMicrosPerSecond;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d", c.year, c.month, c.day,
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60), static_cast<int>(frac));
  return buf;
}

std::string FormatTimestampOutput(int64_t micros) {
  std::string s = MicrosToTimestamp(micros);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

Result<int32_t> DateToDays(std::string_view canonical) {
  if (canonical.size() != 10 || canonical[4] != '-' || canonical[7] != '-') {
    return SyntaxError("date", canonical);
  }
  size_t pos = 0;
  CivilDate c;
  int rc = ParseDatePart(canonical, &pos, &c);
  if (rc == 1 || pos != canonical.size()) return SyntaxError("date", canonical);
  if (rc == 2) return RangeError(canonical);
  return static_cast<int32_t>(DaysFromCivil(c.year, c.month, c.day));
}

Result<int64_t> TimestampToMicros(std::string_view canonical) {
  if (canonical.size() < 19 || canonical[10] != ' ') return SyntaxError("timestamp", canonical);
  SB_ASSIGN_OR_RETURN(int32_t days, DateToDays(canonical.substr(0, 10)));
  std::string_view t = canonical.substr(11);
  if (t[2] != ':' || t[5] != ':') return SyntaxError("timestamp", canonical);
  int64_t fields[3];
  for (int i = 0; i < 3; ++i) {
    char a = t[i * 3], b = t[i * 3 + 1];
    if (!IsDigit(a) || !IsDigit(b)) return SyntaxError("timestamp", canonical);
    fields[i] = (a - '0') * 10 + (b - '0');
  }
  if (fields[0] > 23 || fields[1] > 59 || fields[2] > 59) return RangeError(canonical);
  int64_t frac = 0;
  if (t.size() > 8) {
    if (t[8] != '.' || t.size() == 9 || t.size() > 15) return SyntaxError("timestamp", canonical);
    int digits = 0;
    for (size_t i = 9; i < t.size(); ++i, ++digits) {
      if (!IsDigit(t[i])) return SyntaxError("timestamp", canonical);
      frac = frac * 10 + (t[i] - '0');
    }
    for (; digits < 6; ++digits) frac *= 10;
  }
  return int64_t{days} * kMicrosPerDay +
         (fields[0] * 3600 + fields[1] * 60 + fields[2]) * kMicrosPerSecond + frac;
}

Result<int32_t> ParseDateInput(std::string_view text) {
  std::string_view s = Trim(text);
  size_t pos = 0;
  CivilDate c;
  int rc = ParseDatePart(s, &pos, &c);
  if (rc == 1 || pos != s.size()) return SyntaxError("date", text);
  if (rc == 2) return RangeError(text);
  return static_cast<int32_t>(DaysFromCivil(c.year, c.month, c.day));
}

Result<int64_t> ParseTimestampInput(std::string_view text, bool with_time_zone) {
  const char* type_name = with_time_zone ? "timestamp with time zone" : "timestamp";
  std::string_view s = Trim(text);
  size_t pos = 0;
  CivilDate c;
  int rc = ParseDatePart(s, &pos, &c);
  if (rc == 1) return SyntaxError(type_name, text);
  if (rc == 2) return RangeError(text);
  int64_t hour = 0, minute = 0, second = 0, micros = 0;
  if (pos < s.size() && (s[pos] == ' ' || s[pos] == 'T' || s[pos] == 't')) {
    size_t p = pos + 1;
    while (p < s.size() && s[p] == ' ') ++p;
    if (p < s.size() && IsDigit(s[p])) {
      int h, m, len;
      if (!ReadNumber(s, &p, 2, &h) || p >= s.size() || s[p] != ':') {
        return SyntaxError(type_name, text);
      }
      ++p;
      if (!ReadNumber(s, &p, 2, &m, &len) || len != 2) return SyntaxError(type_name, text);
      hour = h;
      minute = m;
      if (p < s.size() && s[p] == ':') {
        ++p;
        int sec;
        if (!ReadNumber(s, &p, 2, &sec, &len) || len != 2) return SyntaxError(type_name, text);
        second = sec;
        if (p < s.size() && s[p] == '.') {
          ++p;
          int digits = 0;
          int64_t frac = 0;
          bool round_up = false;
          while (p < s.size() && IsDigit(s[p])) {
            if (digits < 6) {
              frac = frac * 10 + (s[p] - '0');
            } else if (digits == 6) {
              round_up = s[p] >= '5';
            }
            ++digits;
            ++p;
          }
          for (int d = digits; d < 6; ++d) frac *= 10;
          micros = frac + (round_up ? 1 : 0);
        }
      }
      if (hour > 23 || minute > 59 || second > 59) return RangeError(text);
      pos = p;
    }
  }
  // Optional time zone.
  int64_t offset_seconds = 0;
  size_t p = pos;
  while (p < s.size() && s[p] == ' ') ++p;
  if (p < s.size()) {
    std::string_view zone = s.substr(p);
    std::string upper;
    for (char ch : zone)
      upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
    if (upper == "Z" || upper == "UTC" || upper == "GMT" || upper == "ZULU") {
      offset_seconds = 0;
    } else if (zone[0] == '+' || zone[0] == '-') {
      int sign = zone[0] == '-' ? -1 : 1;
      size_t q = 1;
      int hh = 0, mm = 0, ss = 0, len;
      if (!ReadNumber(zone, &q, 2, &hh, &len)) return SyntaxError(type_name, text);
      if (q < zone.size()) {
        if (zone[q] == ':') ++q;
        if (!ReadNumber(zone, &q, 2, &mm, &len) || len != 2) return SyntaxError(type_name, text);
        if (q < zone.size() && zone[q] == ':') {
          ++q;
          if (!ReadNumber(zone, &q, 2, &ss, &len) || len != 2) return SyntaxError(type_name, text);
        }
      }
      if (q != zone.size()) return SyntaxError(type_name, text);
      if (mm > 59 || ss > 59) return RangeError(text);
      if (hh > 15) {
        return Status("22009",
                      "time zone displacement out of range: \"" + std::string(text) + "\"");
      }
      offset_seconds = sign * (hh * 3600 + mm * 60 + ss);
    } else {
      return SyntaxError(type_name, text);
    }
  }
  int64_t result = DaysFromCivil(c.year, c.month, c.day) * kMicrosPerDay +
                   (hour * 3600 + minute * 60 + second) * kMicrosPerSecond + micros;
  if (with_time_zone) result -= offset_seconds * kMicrosPerSecond;
  if (result < MinStorableMicros() || result > MaxStorableMicros()) {
    return Status(sqlstate::kDatetimeFieldOverflow,
                  "timestamp out of range: \"" + std::string(text) + "\"");
  }
  return result;
}

}  // namespace sb
