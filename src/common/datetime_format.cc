#include "common/datetime_format.h"

#include <fmt/format.h>

#include <array>
#include <cctype>

#include "common/datetime.h"

namespace sb {
namespace {

constexpr std::array<const char*, 12> kMonths = {"January",   "February", "March",    "April",
                                                 "May",       "June",     "July",     "August",
                                                 "September", "October",  "November", "December"};
constexpr std::array<const char*, 7> kDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                              "Thursday", "Friday", "Saturday"};

struct Fields {
  int year, month, day;
  int hour, minute, second;
  int micros;
  int day_of_week;  // 0 = Sunday
  int day_of_year;  // 1..366
  int64_t days;     // since 1970-01-01
};

Fields Split(int64_t micros) {
  const DateTimeFields t = BreakDownTimestamp(micros);
  Fields f{};
  f.year = t.date.year;
  f.month = t.date.month;
  f.day = t.date.day;
  f.days = t.days;
  f.hour = t.hour;
  f.minute = t.minute;
  f.second = t.second;
  f.micros = t.micros;
  f.day_of_week = static_cast<int>(((t.days % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
  f.day_of_year = static_cast<int>(t.days - DaysFromCivil(t.date.year, 1, 1)) + 1;
  return f;
}

// ISO 8601 week-numbering year and week of a day.
void IsoWeek(const Fields& f, int* iso_year, int* iso_week) {
  const int iso_dow = f.day_of_week == 0 ? 7 : f.day_of_week;  // Monday = 1
  // The Thursday of this week decides the year.
  const int64_t thursday = f.days - iso_dow + 4;
  const CivilDate t = CivilFromDays(thursday);
  *iso_year = t.year;
  *iso_week = static_cast<int>((thursday - DaysFromCivil(t.year, 1, 1)) / 7) + 1;
}

std::string Cased(std::string_view name, int style) {  // 0 as is, 1 upper, 2 lower
  std::string s(name);
  for (char& c : s) {
    if (style == 1) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (style == 2) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::string Ordinal(int n, bool upper) {
  const int last2 = n % 100, last = n % 10;
  const char* s = (last2 >= 11 && last2 <= 13) ? "th"
                  : last == 1                  ? "st"
                  : last == 2                  ? "nd"
                  : last == 3                  ? "rd"
                                               : "th";
  return upper ? Cased(s, 1) : s;
}

enum class Key {
  kYCommaYYY,
  kYYYY,
  kYYY,
  kYY,
  kY,
  kIYYY,
  kIYY,
  kIY,
  kI,
  kCC,
  kMonthUpper,
  kMonth,
  kMonthLower,
  kMonUpper,
  kMon,
  kMonLower,
  kMM,
  kDayUpper,
  kDay,
  kDayLower,
  kDyUpper,
  kDy,
  kDyLower,
  kDDD,
  kDD,
  kD,
  kID,
  kHH24,
  kHH12,
  kHH,
  kMI,
  kSS,
  kMS,
  kUS,
  kFF1,
  kFF2,
  kFF3,
  kFF4,
  kFF5,
  kFF6,
  kAMUpper,
  kPMUpper,
  kAMLower,
  kPMLower,
  kAMDotsUpper,
  kPMDotsUpper,
  kAMDotsLower,
  kPMDotsLower,
  kADUpper,
  kBCUpper,
  kADLower,
  kBCLower,
  kADDotsUpper,
  kBCDotsUpper,
  kADDotsLower,
  kBCDotsLower,
  kQ,
  kWW,
  kW,
  kIW,
  kJ,
  kTZUpper,
  kTZLower,
  kOF,
  kFX,
  kUnsupported,
};

struct Keyword {
  const char* text;
  Key key;
  bool numeric;  // takes TH/th and FM's no-padding
};

// Longest first where one is a prefix of another (matching takes the first hit).
constexpr Keyword kKeywords[] = {
    {"Y,YYY", Key::kYCommaYYY, true},
    {"y,yyy", Key::kYCommaYYY, true},
    {"YYYY", Key::kYYYY, true},
    {"yyyy", Key::kYYYY, true},
    {"YYY", Key::kYYY, true},
    {"yyy", Key::kYYY, true},
    {"YY", Key::kYY, true},
    {"yy", Key::kYY, true},
    {"Y", Key::kY, true},
    {"y", Key::kY, true},
    {"IDDD", Key::kUnsupported, true},
    {"iddd", Key::kUnsupported, true},
    {"ID", Key::kID, true},
    {"id", Key::kID, true},
    {"IW", Key::kIW, true},
    {"iw", Key::kIW, true},
    {"IYYY", Key::kIYYY, true},
    {"iyyy", Key::kIYYY, true},
    {"IYY", Key::kIYY, true},
    {"iyy", Key::kIYY, true},
    {"IY", Key::kIY, true},
    {"iy", Key::kIY, true},
    {"I", Key::kI, true},
    {"i", Key::kI, true},
    {"CC", Key::kCC, true},
    {"cc", Key::kCC, true},
    {"MONTH", Key::kMonthUpper, false},
    {"Month", Key::kMonth, false},
    {"month", Key::kMonthLower, false},
    {"MON", Key::kMonUpper, false},
    {"Mon", Key::kMon, false},
    {"mon", Key::kMonLower, false},
    {"MM", Key::kMM, true},
    {"mm", Key::kMM, true},
    {"MI", Key::kMI, true},
    {"mi", Key::kMI, true},
    {"MS", Key::kMS, true},
    {"ms", Key::kMS, true},
    {"DAY", Key::kDayUpper, false},
    {"Day", Key::kDay, false},
    {"day", Key::kDayLower, false},
    {"DY", Key::kDyUpper, false},
    {"Dy", Key::kDy, false},
    {"dy", Key::kDyLower, false},
    {"DDD", Key::kDDD, true},
    {"ddd", Key::kDDD, true},
    {"DD", Key::kDD, true},
    {"dd", Key::kDD, true},
    {"D", Key::kD, true},
    {"d", Key::kD, true},
    {"HH24", Key::kHH24, true},
    {"hh24", Key::kHH24, true},
    {"HH12", Key::kHH12, true},
    {"hh12", Key::kHH12, true},
    {"HH", Key::kHH, true},
    {"hh", Key::kHH, true},
    {"SSSSS", Key::kUnsupported, true},
    {"sssss", Key::kUnsupported, true},
    {"SSSS", Key::kUnsupported, true},
    {"ssss", Key::kUnsupported, true},
    {"SS", Key::kSS, true},
    {"ss", Key::kSS, true},
    {"US", Key::kUS, true},
    {"us", Key::kUS, true},
    {"FF1", Key::kFF1, true},
    {"ff1", Key::kFF1, true},
    {"FF2", Key::kFF2, true},
    {"ff2", Key::kFF2, true},
    {"FF3", Key::kFF3, true},
    {"ff3", Key::kFF3, true},
    {"FF4", Key::kFF4, true},
    {"ff4", Key::kFF4, true},
    {"FF5", Key::kFF5, true},
    {"ff5", Key::kFF5, true},
    {"FF6", Key::kFF6, true},
    {"ff6", Key::kFF6, true},
    {"FX", Key::kFX, false},
    {"fx", Key::kFX, false},
    {"A.M.", Key::kAMDotsUpper, false},
    {"P.M.", Key::kPMDotsUpper, false},
    {"a.m.", Key::kAMDotsLower, false},
    {"p.m.", Key::kPMDotsLower, false},
    {"AM", Key::kAMUpper, false},
    {"PM", Key::kPMUpper, false},
    {"am", Key::kAMLower, false},
    {"pm", Key::kPMLower, false},
    {"A.D.", Key::kADDotsUpper, false},
    {"B.C.", Key::kBCDotsUpper, false},
    {"a.d.", Key::kADDotsLower, false},
    {"b.c.", Key::kBCDotsLower, false},
    {"AD", Key::kADUpper, false},
    {"BC", Key::kBCUpper, false},
    {"ad", Key::kADLower, false},
    {"bc", Key::kBCLower, false},
    {"Q", Key::kQ, true},
    {"q", Key::kQ, true},
    {"WW", Key::kWW, true},
    {"ww", Key::kWW, true},
    {"W", Key::kW, true},
    {"w", Key::kW, true},
    {"J", Key::kJ, true},
    {"j", Key::kJ, true},
    {"TZH", Key::kUnsupported, false},
    {"tzh", Key::kUnsupported, false},
    {"TZM", Key::kUnsupported, false},
    {"tzm", Key::kUnsupported, false},
    {"TZ", Key::kTZUpper, false},
    {"tz", Key::kTZLower, false},
    {"OF", Key::kOF, false},
    {"of", Key::kOF, false},
    {"RM", Key::kUnsupported, false},
    {"rm", Key::kUnsupported, false},
};

const Keyword* Match(std::string_view rest) {
  for (const Keyword& k : kKeywords) {
    if (rest.substr(0, std::char_traits<char>::length(k.text)) == k.text) return &k;
  }
  return nullptr;
}

std::string Padded(int value, int width, bool fill_mode) {
  return fill_mode ? std::to_string(value) : fmt::format("{:0{}d}", value, width);
}

std::string Name(const char* name, int style, bool abbreviate, bool fill_mode) {
  std::string s = Cased(abbreviate ? std::string_view(name, 3) : std::string_view(name), style);
  if (!abbreviate && !fill_mode && s.size() < 9) s.append(9 - s.size(), ' ');
  return s;
}

// The text of one pattern; `number` receives the numeric value for TH.
Result<std::string> Render(Key key, const Fields& f, bool fill, bool with_tz, int* number) {
  int iso_year = 0, iso_week = 0;
  IsoWeek(f, &iso_year, &iso_week);
  const int hour12 = f.hour % 12 == 0 ? 12 : f.hour % 12;
  const bool pm = f.hour >= 12;
  auto num = [&](int value, int width) {
    *number = value;
    return Padded(value, width, fill);
  };
  switch (key) {
    case Key::kYCommaYYY:
      *number = f.year;
      return fmt::format("{},{:03d}", f.year / 1000, f.year % 1000);
    case Key::kYYYY:
      return num(f.year, 4);
    case Key::kYYY:
      return num(f.year % 1000, 3);
    case Key::kYY:
      return num(f.year % 100, 2);
    case Key::kY:
      return num(f.year % 10, 1);
    case Key::kIYYY:
      return num(iso_year, 4);
    case Key::kIYY:
      return num(iso_year % 1000, 3);
    case Key::kIY:
      return num(iso_year % 100, 2);
    case Key::kI:
      return num(iso_year % 10, 1);
    case Key::kCC:
      return num((f.year + 99) / 100, 2);
    case Key::kMonthUpper:
      return Name(kMonths[f.month - 1], 1, false, fill);
    case Key::kMonth:
      return Name(kMonths[f.month - 1], 0, false, fill);
    case Key::kMonthLower:
      return Name(kMonths[f.month - 1], 2, false, fill);
    case Key::kMonUpper:
      return Name(kMonths[f.month - 1], 1, true, fill);
    case Key::kMon:
      return Name(kMonths[f.month - 1], 0, true, fill);
    case Key::kMonLower:
      return Name(kMonths[f.month - 1], 2, true, fill);
    case Key::kMM:
      return num(f.month, 2);
    case Key::kDayUpper:
      return Name(kDays[f.day_of_week], 1, false, fill);
    case Key::kDay:
      return Name(kDays[f.day_of_week], 0, false, fill);
    case Key::kDayLower:
      return Name(kDays[f.day_of_week], 2, false, fill);
    case Key::kDyUpper:
      return Name(kDays[f.day_of_week], 1, true, fill);
    case Key::kDy:
      return Name(kDays[f.day_of_week], 0, true, fill);
    case Key::kDyLower:
      return Name(kDays[f.day_of_week], 2, true, fill);
    case Key::kDDD:
      return num(f.day_of_year, 3);
    case Key::kDD:
      return num(f.day, 2);
    case Key::kD:
      return num(f.day_of_week + 1, 1);
    case Key::kID:
      return num(f.day_of_week == 0 ? 7 : f.day_of_week, 1);
    case Key::kHH24:
      return num(f.hour, 2);
    case Key::kHH12:
    case Key::kHH:
      return num(hour12, 2);
    case Key::kMI:
      return num(f.minute, 2);
    case Key::kSS:
      return num(f.second, 2);
    case Key::kMS:
      return num(f.micros / 1000, 3);
    case Key::kUS:
      return num(f.micros, 6);
    case Key::kFF1:
    case Key::kFF2:
    case Key::kFF3:
    case Key::kFF4:
    case Key::kFF5:
    case Key::kFF6: {
      const int digits = static_cast<int>(key) - static_cast<int>(Key::kFF1) + 1;
      int v = f.micros;
      for (int i = digits; i < 6; ++i) v /= 10;
      return num(v, digits);
    }
    case Key::kAMUpper:
    case Key::kPMUpper:
      return std::string(pm ? "PM" : "AM");
    case Key::kAMLower:
    case Key::kPMLower:
      return std::string(pm ? "pm" : "am");
    case Key::kAMDotsUpper:
    case Key::kPMDotsUpper:
      return std::string(pm ? "P.M." : "A.M.");
    case Key::kAMDotsLower:
    case Key::kPMDotsLower:
      return std::string(pm ? "p.m." : "a.m.");
    // Stored years are 1..9999: always AD.
    case Key::kADUpper:
    case Key::kBCUpper:
      return std::string("AD");
    case Key::kADLower:
    case Key::kBCLower:
      return std::string("ad");
    case Key::kADDotsUpper:
    case Key::kBCDotsUpper:
      return std::string("A.D.");
    case Key::kADDotsLower:
    case Key::kBCDotsLower:
      return std::string("a.d.");
    case Key::kQ:
      return num((f.month - 1) / 3 + 1, 1);
    case Key::kWW:
      return num((f.day_of_year - 1) / 7 + 1, 2);
    case Key::kW:
      return num((f.day - 1) / 7 + 1, 1);
    case Key::kIW:
      return num(iso_week, 2);
    case Key::kJ:
      *number = static_cast<int>(f.days + 2440588);
      return std::to_string(*number);
    case Key::kTZUpper:
      return std::string(with_tz ? "UTC" : "");
    case Key::kTZLower:
      return std::string(with_tz ? "utc" : "");
    case Key::kOF:
      return std::string("+00");
    case Key::kFX:
      return std::string();
    case Key::kUnsupported:
      break;
  }
  return Status(sqlstate::kFeatureNotSupported, "unsupported to_char pattern");
}

}  // namespace

Result<std::string> FormatDateTimeTemplate(int64_t micros, std::string_view format,
                                           bool with_time_zone) {
  const Fields f = Split(micros);
  std::string out;
  size_t i = 0;
  while (i < format.size()) {
    const std::string_view rest = format.substr(i);
    // "quoted text" is copied; inside it a backslash escapes the next character.
    if (rest[0] == '"') {
      size_t j = 1;
      while (j < rest.size() && rest[j] != '"') {
        if (rest[j] == '\\' && j + 1 < rest.size()) ++j;
        out.push_back(rest[j]);
        ++j;
      }
      i += std::min(j + 1, rest.size());
      continue;
    }
    if (rest[0] == '\\' && rest.size() > 1 && rest[1] == '"') {
      out.push_back('"');
      i += 2;
      continue;
    }
    bool fill = false;
    std::string_view body = rest;
    if (body.substr(0, 2) == "FM" || body.substr(0, 2) == "fm") {
      fill = true;
      body.remove_prefix(2);
    } else if (body.substr(0, 2) == "TM" || body.substr(0, 2) == "tm" ||
               body.substr(0, 2) == "SP" || body.substr(0, 2) == "sp") {
      if (Match(body.substr(2)) != nullptr) {
        return Status(sqlstate::kFeatureNotSupported,
                      fmt::format("the to_char modifier {} is not supported", body.substr(0, 2)));
      }
    }
    const Keyword* k = Match(body);
    if (k == nullptr) {
      // Not a pattern (a lone FM too): copied as it is.
      out.push_back(rest[0]);
      ++i;
      continue;
    }
    if (k->key == Key::kUnsupported) {
      return Status(sqlstate::kFeatureNotSupported,
                    fmt::format("the to_char pattern {} is not supported", k->text));
    }
    int number = 0;
    SB_ASSIGN_OR_RETURN(std::string text, Render(k->key, f, fill, with_time_zone, &number));
    out += text;
    size_t used = (rest.size() - body.size()) + std::char_traits<char>::length(k->text);
    const std::string_view suffix = rest.substr(used);
    if (k->numeric && (suffix.substr(0, 2) == "TH" || suffix.substr(0, 2) == "th")) {
      out += Ordinal(number, suffix[0] == 'T');
      used += 2;
    }
    i += used;
  }
  return out;
}

}  // namespace sb
