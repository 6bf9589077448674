#include "common/datetime.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

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

// Result of parsing PostgreSQL date/time input.
struct ParsedDateTime {
  CivilDate date;
  int64_t time_micros = 0;  // since local midnight; may be 24:00:00 (= next midnight)
  int64_t offset_seconds = 0;
};

enum class ParseOutcome { kOk, kSyntax, kRange, kZoneRange };

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return !s.empty();
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// Date part: "Y-M-D" or "Y/M/D" (year of 4+ digits, 1-2 digit month and day) or
// "YYYYMMDD".
ParseOutcome ParseDatePart(std::string_view s, size_t* pos, CivilDate* out) {
  size_t start = *pos;
  size_t p = start;
  while (p < s.size() && IsDigit(s[p])) ++p;
  int y, m, d;
  if (p - start == 8 && (p == s.size() || !IsDigit(s[p]))) {
    std::string_view digits = s.substr(start, 8);
    y = ToInt(digits.substr(0, 4));
    m = ToInt(digits.substr(4, 2));
    d = ToInt(digits.substr(6, 2));
    *pos = p;
  } else {
    if (p - start < 4 || p - start > 9 || p >= s.size() || (s[p] != '-' && s[p] != '/')) {
      return ParseOutcome::kSyntax;
    }
    y = ToInt(s.substr(start, p - start));
    char sep = s[p++];
    if (!ReadNumber(s, &p, 2, &m) || p >= s.size() || s[p] != sep) return ParseOutcome::kSyntax;
    ++p;
    if (!ReadNumber(s, &p, 2, &d)) return ParseOutcome::kSyntax;
    if (p < s.size() && IsDigit(s[p])) return ParseOutcome::kSyntax;
    *pos = p;
  }
  if (y < kMinYear || y > kMaxYear || !IsValidCivil(y, m, d)) return ParseOutcome::kRange;
  out->year = y;
  out->month = m;
  out->day = d;
  return ParseOutcome::kOk;
}

// Zone: "Z", "UTC", "GMT", "+H", "+HH", "+HH:MM", "+HH:MM:SS", "+HHMM", "+HHMMSS" (or '-').
ParseOutcome ParseZone(std::string_view zone, int64_t* offset_seconds) {
  std::string upper;
  for (char ch : zone)
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  if (upper == "Z" || upper == "UTC" || upper == "GMT" || upper == "ZULU" || upper == "UT") {
    *offset_seconds = 0;
    return ParseOutcome::kOk;
  }
  if (zone.empty() || (zone[0] != '+' && zone[0] != '-')) return ParseOutcome::kSyntax;
  int sign = zone[0] == '-' ? -1 : 1;
  std::string_view rest = zone.substr(1);
  int hh = 0, mm = 0, ss = 0;
  if (AllDigits(rest) && (rest.size() == 4 || rest.size() == 6)) {
    hh = ToInt(rest.substr(0, 2));
    mm = ToInt(rest.substr(2, 2));
    if (rest.size() == 6) ss = ToInt(rest.substr(4, 2));
  } else {
    size_t q = 0;
    if (!ReadNumber(rest, &q, 2, &hh)) return ParseOutcome::kSyntax;
    if (q < rest.size()) {
      if (rest[q] != ':') return ParseOutcome::kSyntax;
      ++q;
      if (!ReadNumber(rest, &q, 2, &mm)) return ParseOutcome::kSyntax;
      if (q < rest.size()) {
        if (rest[q] != ':') return ParseOutcome::kSyntax;
        ++q;
        if (!ReadNumber(rest, &q, 2, &ss)) return ParseOutcome::kSyntax;
      }
    }
    if (q != rest.size()) return ParseOutcome::kSyntax;
  }
  if (mm > 59 || ss > 59) return ParseOutcome::kRange;
  if (hh > 15) return ParseOutcome::kZoneRange;
  *offset_seconds = sign * (hh * 3600 + mm * 60 + ss);
  return ParseOutcome::kOk;
}

// "DATE[( |T)H:M[:S[.fraction]]][ ][ZONE]", whitespace already trimmed.
ParseOutcome ParseDateTimeFields(std::string_view s, ParsedDateTime* out) {
  if (s.size() == 5) {
    std::string lower;
    for (char c : s)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower == "epoch") {
      *out = ParsedDateTime();
      return ParseOutcome::kOk;
    }
  }
  size_t pos = 0;
  ParseOutcome rc = ParseDatePart(s, &pos, &out->date);
  if (rc != ParseOutcome::kOk) return rc;
  bool has_time = false;
  if (pos < s.size() && (s[pos] == ' ' || s[pos] == 'T' || s[pos] == 't')) {
    size_t p = pos + 1;
    while (p < s.size() && s[p] == ' ') ++p;
    if (p < s.size() && IsDigit(s[p])) {
      int h, m, sec = 0;
      if (!ReadNumber(s, &p, 2, &h) || p >= s.size() || s[p] != ':') return ParseOutcome::kSyntax;
      ++p;
      if (!ReadNumber(s, &p, 2, &m)) return ParseOutcome::kSyntax;
      int64_t fsec = 0;
      if (p < s.size() && s[p] == ':') {
        ++p;
        if (!ReadNumber(s, &p, 2, &sec)) return ParseOutcome::kSyntax;
        if (p < s.size() && s[p] == '.') {
          // Like PostgreSQL: the fraction is read as a double and rounded with rint().
          size_t b = p++;
          while (p < s.size() && IsDigit(s[p])) ++p;
          std::string frac_text(s.substr(b, p - b));
          double frac = frac_text.size() > 1 ? std::strtod(frac_text.c_str(), nullptr) : 0.0;
          fsec = static_cast<int64_t>(std::nearbyint(frac * 1000000.0));
        }
      }
      if (p < s.size() && IsDigit(s[p])) return ParseOutcome::kSyntax;
      if (h > 24 || m > 59 || sec > 60 || fsec > kMicrosPerSecond ||
          (h == 24 && (m > 0 || sec > 0 || fsec > 0)) || (sec == 60 && fsec >= kMicrosPerSecond)) {
        return ParseOutcome::kRange;
      }
      out->time_micros = (int64_t{h} * 3600 + m * 60 + sec) * kMicrosPerSecond + fsec;
      pos = p;
      has_time = true;
    }
  }
  size_t p = pos;
  while (p < s.size() && s[p] == ' ') ++p;
  // "2026-01-05-02" is ambiguous with the date's own separators: PostgreSQL
  // rejects a '-' zone glued to a bare date.
  if (p == pos && p < s.size() && s[p] == '-' && !has_time) return ParseOutcome::kSyntax;
  if (p < s.size()) return ParseZone(s.substr(p), &out->offset_seconds);
  if (p != pos)
    return ParseOutcome::kSyntax;  // trailing blank without a zone cannot happen (trimmed)
  return ParseOutcome::kOk;
}

Status OutcomeStatus(ParseOutcome rc, std::string_view type_name, std::string_view text) {
  switch (rc) {
    case ParseOutcome::kSyntax:
      return SyntaxError(type_name, text);
    case ParseOutcome::kRange:
      return RangeError(text);
    case ParseOutcome::kZoneRange:
      return Status("22009", "time zone displacement out of range: \"" + std::string(text) + "\"");
    case ParseOutcome::kOk:
      break;
  }
  return Status::Ok();
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

DateTimeFields BreakDownTimestamp(int64_t micros) {
  DateTimeFields f;
  f.days = FloorDiv(micros, kMicrosPerDay);
  const int64_t rest = micros - f.days * kMicrosPerDay;
  f.date = CivilFromDays(f.days);
  const int64_t secs = rest / kMicrosPerSecond;
  f.micros = static_cast<int>(rest % kMicrosPerSecond);
  f.hour = static_cast<int>(secs / 3600);
  f.minute = static_cast<int>(secs / 60 % 60);
  f.second = static_cast<int>(secs % 60);
  return f;
}

std::string MicrosToTimestamp(int64_t micros) {
  const DateTimeFields f = BreakDownTimestamp(micros);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d", f.date.year, f.date.month,
                f.date.day, f.hour, f.minute, f.second, f.micros);
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
  ParseOutcome rc = ParseDatePart(canonical, &pos, &c);
  if (rc == ParseOutcome::kOk && pos != canonical.size()) rc = ParseOutcome::kSyntax;
  if (rc != ParseOutcome::kOk) return OutcomeStatus(rc, "date", canonical);
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
  ParsedDateTime f;
  ParseOutcome rc = ParseDateTimeFields(Trim(text), &f);
  if (rc != ParseOutcome::kOk) return OutcomeStatus(rc, "date", text);
  return static_cast<int32_t>(DaysFromCivil(f.date.year, f.date.month, f.date.day));
}

Result<int64_t> ParseTimestampInput(std::string_view text, bool with_time_zone) {
  const char* type_name = with_time_zone ? "timestamp with time zone" : "timestamp";
  ParsedDateTime f;
  ParseOutcome rc = ParseDateTimeFields(Trim(text), &f);
  if (rc != ParseOutcome::kOk) return OutcomeStatus(rc, type_name, text);
  int64_t result =
      DaysFromCivil(f.date.year, f.date.month, f.date.day) * kMicrosPerDay + f.time_micros;
  if (with_time_zone) result -= f.offset_seconds * kMicrosPerSecond;
  if (result < MinStorableMicros() || result > MaxStorableMicros()) {
    return Status(sqlstate::kDatetimeFieldOverflow,
                  "timestamp out of range: \"" + std::string(text) + "\"");
  }
  return result;
}

}  // namespace sb
