#include "exec/pg_functions.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "common/datetime.h"
#include "common/datetime_format.h"
#include "common/decimal.h"
#include "exec/sqlite_args.h"

namespace sb::exec {
namespace {

// ---- SQLite plumbing ----

std::string_view Bytes(sqlite3_value* v) {
  const void* p = sqlite3_value_blob(v);
  return p == nullptr ? std::string_view()
                      : std::string_view(static_cast<const char*>(p),
                                         static_cast<size_t>(sqlite3_value_bytes(v)));
}

void ResultText(sqlite3_context* ctx, std::string_view s) {
  // A null data pointer would make the result NULL, not ''.
  sqlite3_result_text64(ctx, s.empty() ? "" : s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

// Results longer than the connection's length limit: PostgreSQL's 1 GB
// allocation limit gives the same error.
bool TooLong(sqlite3_context* ctx, uint64_t bytes) {
  const uint64_t limit =
      static_cast<uint64_t>(sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1));
  if (bytes >= limit || bytes >= (uint64_t{1} << 30)) {
    SetError(ctx, "54000", "requested length too large");
    return true;
  }
  return false;
}

// ---- UTF-8 ----

size_t CharBytes(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Byte offset of character `n` (0-based) in s, clipped to s.size().
size_t CharOffset(std::string_view s, int64_t n) {
  size_t i = 0;
  for (int64_t c = 0; c < n && i < s.size(); ++c) i += CharBytes(static_cast<unsigned char>(s[i]));
  return std::min(i, s.size());
}

int64_t CharCount(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::vector<std::string_view> SplitChars(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = std::min(CharBytes(static_cast<unsigned char>(s[i])), s.size() - i);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// ---- Date/time helpers ----

constexpr int64_t kUnixEpochJulian = 2440588;  // julian day of 1970-01-01

struct Broken {
  int64_t days = 0;  // since 1970-01-01
  CivilDate date;
  int hour = 0, minute = 0, second = 0;
  int64_t fsec = 0;    // microseconds within the second
  int64_t micros = 0;  // since 1970-01-01 00:00:00
};

Result<Broken> BreakDown(std::string_view stored, DateKind kind) {
  Broken b;
  if (kind == DateKind::kDate) {
    SB_ASSIGN_OR_RETURN(int32_t days, DateToDays(stored));
    b.days = days;
    b.micros = int64_t{days} * kMicrosPerDay;
  } else {
    SB_ASSIGN_OR_RETURN(b.micros, TimestampToMicros(stored));
    b.days = b.micros / kMicrosPerDay;
    if (b.micros % kMicrosPerDay < 0) --b.days;
    int64_t tod = b.micros - b.days * kMicrosPerDay;
    b.hour = static_cast<int>(tod / (3600 * kMicrosPerSecond));
    b.minute = static_cast<int>(tod / (60 * kMicrosPerSecond) % 60);
    b.second = static_cast<int>(tod / kMicrosPerSecond % 60);
    b.fsec = tod % kMicrosPerSecond;
  }
  b.date = CivilFromDays(b.days);
  return b;
}

int64_t Date2J(int y, int m, int d) {
  return DaysFromCivil(y, m, d) + kUnixEpochJulian;
}

int J2Day(int64_t j) {  // 0 = Sunday
  int64_t d = (j + 1) % 7;
  if (d < 0) d += 7;
  return static_cast<int>(d);
}

// PostgreSQL's date2isoweek / date2isoyear.
void IsoWeek(int year, int mon, int mday, int* week, int* iso_year) {
  int64_t dayn = Date2J(year, mon, mday);
  int64_t day4 = Date2J(year, 1, 4);
  int64_t day0 = J2Day(day4 - 1);
  int y = year;
  if (dayn < day4 - day0) {
    day4 = Date2J(year - 1, 1, 4);
    day0 = J2Day(day4 - 1);
    --y;
  }
  int64_t result = (dayn - (day4 - day0)) / 7 + 1;
  if (result >= 52) {
    int64_t n4 = Date2J(y + 1, 1, 4);
    int64_t n0 = J2Day(n4 - 1);
    if (dayn >= n4 - n0) {
      result = (dayn - (n4 - n0)) / 7 + 1;
      ++y;
    }
  }
  *week = static_cast<int>(result);
  *iso_year = y;
}

const char* KindName(DateKind kind) {
  switch (kind) {
    case DateKind::kDate:
      return "date";
    case DateKind::kTimestamp:
      return "timestamp without time zone";
    case DateKind::kTimestamptz:
      return "timestamp with time zone";
  }
  return "?";
}

// downcase_truncate_identifier: ASCII lowercase, at most 63 bytes.
std::string LowerUnit(std::string_view text) {
  std::string s = AsciiLower(text);
  if (s.size() > 63) {
    size_t n = 0;
    while (n < s.size() && n + CharBytes(static_cast<unsigned char>(s[n])) <= 63) {
      n += CharBytes(static_cast<unsigned char>(s[n]));
    }
    s.resize(n);
  }
  return s;
}

Status UnitNotRecognized(const std::string& unit, DateKind kind) {
  return Status("22023", "unit \"" + unit + "\" not recognized for type " + KindName(kind));
}
Status UnitNotSupported(const std::string& unit, DateKind kind) {
  return Status("0A000", "unit \"" + unit + "\" not supported for type " + KindName(kind));
}

// Words of PostgreSQL's datetktbl that are "reserved" rather than units:
// extract() knows them but supports only epoch.
bool IsReservedWord(std::string_view u) {
  return u == "now" || u == "today" || u == "tomorrow" || u == "yesterday" || u == "infinity" ||
         u == "-infinity" || u == "allballs";
}

// DecodeUnits only (the deltatktbl), as date_trunc uses.
DateUnit DecodeDeltaUnit(std::string_view u) {
  std::string_view t = u.substr(0, std::min<size_t>(u.size(), 10));
  struct Entry {
    const char* name;
    DateUnit unit;
  };
  static const Entry kTable[] = {
      {"c", DateUnit::kCentury},
      {"cent", DateUnit::kCentury},
      {"centuries", DateUnit::kCentury},
      {"century", DateUnit::kCentury},
      {"d", DateUnit::kDay},
      {"day", DateUnit::kDay},
      {"days", DateUnit::kDay},
      {"dec", DateUnit::kDecade},
      {"decade", DateUnit::kDecade},
      {"decades", DateUnit::kDecade},
      {"decs", DateUnit::kDecade},
      {"h", DateUnit::kHour},
      {"hour", DateUnit::kHour},
      {"hours", DateUnit::kHour},
      {"hr", DateUnit::kHour},
      {"hrs", DateUnit::kHour},
      {"m", DateUnit::kMinute},
      {"microsecon", DateUnit::kMicroseconds},
      {"mil", DateUnit::kMillennium},
      {"millennia", DateUnit::kMillennium},
      {"millennium", DateUnit::kMillennium},
      {"millisecon", DateUnit::kMilliseconds},
      {"mils", DateUnit::kMillennium},
      {"min", DateUnit::kMinute},
      {"mins", DateUnit::kMinute},
      {"minute", DateUnit::kMinute},
      {"minutes", DateUnit::kMinute},
      {"mon", DateUnit::kMonth},
      {"mons", DateUnit::kMonth},
      {"month", DateUnit::kMonth},
      {"months", DateUnit::kMonth},
      {"ms", DateUnit::kMilliseconds},
      {"msec", DateUnit::kMilliseconds},
      {"msecs", DateUnit::kMilliseconds},
      {"mseconds", DateUnit::kMilliseconds},
      {"qtr", DateUnit::kQuarter},
      {"quarter", DateUnit::kQuarter},
      {"s", DateUnit::kSecond},
      {"sec", DateUnit::kSecond},
      {"second", DateUnit::kSecond},
      {"seconds", DateUnit::kSecond},
      {"secs", DateUnit::kSecond},
      {"timezone", DateUnit::kTimezone},
      {"timezone_h", DateUnit::kTimezoneHour},
      {"timezone_m", DateUnit::kTimezoneMinute},
      {"us", DateUnit::kMicroseconds},
      {"usec", DateUnit::kMicroseconds},
      {"usecs", DateUnit::kMicroseconds},
      {"useconds", DateUnit::kMicroseconds},
      {"w", DateUnit::kWeek},
      {"week", DateUnit::kWeek},
      {"weeks", DateUnit::kWeek},
      {"y", DateUnit::kYear},
      {"year", DateUnit::kYear},
      {"years", DateUnit::kYear},
      {"yr", DateUnit::kYear},
      {"yrs", DateUnit::kYear},
  };
  for (const auto& e : kTable) {
    if (t == e.name) return e.unit;
  }
  return DateUnit::kUnknown;
}

int64_t Pow10i(int n) {
  int64_t p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

// The integer-valued fields common to extract/date_part.
bool IntegerField(DateUnit u, const Broken& b, int64_t* out) {
  const int y = b.date.year, m = b.date.month, d = b.date.day;
  switch (u) {
    case DateUnit::kDay:
      *out = d;
      return true;
    case DateUnit::kMonth:
      *out = m;
      return true;
    case DateUnit::kQuarter:
      *out = (m - 1) / 3 + 1;
      return true;
    case DateUnit::kWeek: {
      int w, iy;
      IsoWeek(y, m, d, &w, &iy);
      *out = w;
      return true;
    }
    case DateUnit::kIsoyear: {
      int w, iy;
      IsoWeek(y, m, d, &w, &iy);
      *out = iy > 0 ? iy : iy - 1;
      return true;
    }
    case DateUnit::kYear:
      *out = y > 0 ? y : y - 1;
      return true;
    case DateUnit::kDecade:
      *out = y >= 0 ? y / 10 : -((8 - (y - 1)) / 10);
      return true;
    case DateUnit::kCentury:
      *out = y > 0 ? (y + 99) / 100 : -((99 - (y - 1)) / 100);
      return true;
    case DateUnit::kMillennium:
      *out = y > 0 ? (y + 999) / 1000 : -((999 - (y - 1)) / 1000);
      return true;
    case DateUnit::kDow:
      *out = J2Day(Date2J(y, m, d));
      return true;
    case DateUnit::kIsodow: {
      int dow = J2Day(Date2J(y, m, d));
      *out = dow == 0 ? 7 : dow;
      return true;
    }
    case DateUnit::kDoy:
      *out = Date2J(y, m, d) - Date2J(y, 1, 1) + 1;
      return true;
    case DateUnit::kHour:
      *out = b.hour;
      return true;
    case DateUnit::kMinute:
      *out = b.minute;
      return true;
    default:
      return false;
  }
}

// ---- SQL functions ----

// sb_like(text, pattern, case_insensitive): pattern in '\'-escaped form.
void LikeFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  std::string_view s = ArgText(argv[0]), p = ArgText(argv[1]);
  Result<bool> r = false;
  if (sqlite3_value_int(argv[2]) != 0) {
    r = LikeMatch(AsciiLower(s), AsciiLower(p));
  } else {
    r = LikeMatch(s, p);
  }
  if (!r.ok()) return SetError(ctx, r.status());
  sqlite3_result_int(ctx, *r ? 1 : 0);
}

// sb_like_escape(pattern, escape)
void LikeEscapeFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto r = LikeEscape(ArgText(argv[0]), ArgText(argv[1]));
  if (!r.ok()) return SetError(ctx, r.status());
  ResultText(ctx, *r);
}

// sb_substr(s, start [, count]) on text (characters) or bytea (bytes).
void SubstrFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  const bool blob = sqlite3_value_type(argv[0]) == SQLITE_BLOB;
  std::string_view s = blob ? Bytes(argv[0]) : ArgText(argv[0]);
  auto r = PgSubstr(s, sqlite3_value_int64(argv[1]), argc == 3,
                    argc == 3 ? sqlite3_value_int64(argv[2]) : 0, blob);
  if (!r.ok()) return SetError(ctx, r.status());
  if (blob) {
    sqlite3_result_blob64(ctx, r->data(), r->size(), SQLITE_TRANSIENT);
  } else {
    ResultText(ctx, *r);
  }
}

// sb_octet_length(x): bytes of text or bytea.
void OctetLengthFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  if (sqlite3_value_type(argv[0]) == SQLITE_BLOB) {
    return sqlite3_result_int64(ctx, static_cast<int64_t>(Bytes(argv[0]).size()));
  }
  sqlite3_result_int64(ctx, static_cast<int64_t>(ArgText(argv[0]).size()));
}

// sb_left(s, n) / sb_right(s, n)
void LeftRightFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  const bool right = sqlite3_user_data(ctx) != nullptr;
  std::string_view s = ArgText(argv[0]);
  int64_t n = sqlite3_value_int64(argv[1]);
  int64_t len = CharCount(s);
  if (!right) {
    int64_t keep = n >= 0 ? n : std::max<int64_t>(len + n, 0);
    return ResultText(ctx, s.substr(0, CharOffset(s, keep)));
  }
  int64_t skip = n < 0 ? -n : std::max<int64_t>(len - n, 0);
  ResultText(ctx, s.substr(CharOffset(s, skip)));
}

// sb_repeat(s, n)
void RepeatFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  std::string_view s = ArgText(argv[0]);
  int64_t n = std::max<int64_t>(sqlite3_value_int64(argv[1]), 0);
  if (TooLong(ctx, static_cast<uint64_t>(n) * s.size())) return;
  std::string out;
  out.reserve(static_cast<size_t>(n) * s.size());
  for (int64_t i = 0; i < n; ++i) out.append(s);
  ResultText(ctx, out);
}

// sb_reverse(s): by characters.
void ReverseFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto chars = SplitChars(ArgText(argv[0]));
  std::string out;
  for (auto it = chars.rbegin(); it != chars.rend(); ++it) out.append(*it);
  ResultText(ctx, out);
}

// sb_lpad(s, len, fill) / sb_rpad(s, len, fill)
void PadFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  const bool right = sqlite3_user_data(ctx) != nullptr;
  std::string_view s = ArgText(argv[0]), fill = ArgText(argv[2]);
  int64_t len = std::max<int64_t>(sqlite3_value_int64(argv[1]), 0);
  int64_t s_chars = std::min(CharCount(s), len);
  std::string_view head = s.substr(0, CharOffset(s, s_chars));
  if (fill.empty()) return ResultText(ctx, head);
  auto fill_chars = SplitChars(fill);
  const int64_t pad = len - s_chars;
  if (TooLong(ctx, head.size() + static_cast<uint64_t>(pad) * 4)) return;
  std::string padding;
  for (int64_t i = 0; i < pad; ++i) padding.append(fill_chars[i % fill_chars.size()]);
  std::string out = right ? std::string(head) + padding : padding + std::string(head);
  ResultText(ctx, out);
}

// sb_initcap(s): ASCII, as PostgreSQL with lc_ctype = C.
void InitcapFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  std::string s(ArgText(argv[0]));
  bool was_alnum = false;
  for (char& ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (was_alnum) {
      if (c >= 'A' && c <= 'Z') ch = static_cast<char>(c + 32);
    } else {
      if (c >= 'a' && c <= 'z') ch = static_cast<char>(c - 32);
    }
    was_alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }
  ResultText(ctx, s);
}

// sb_split_part(s, delimiter, n)
void SplitPartFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  std::string_view s = ArgText(argv[0]), delim = ArgText(argv[1]);
  int64_t n = sqlite3_value_int64(argv[2]);
  if (n == 0) return SetError(ctx, "22023", "field position must not be zero");
  if (s.empty()) return ResultText(ctx, "");
  if (delim.empty()) return ResultText(ctx, n == 1 || n == -1 ? s : std::string_view());
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t p = s.find(delim, start);
    if (p == std::string_view::npos) {
      fields.push_back(s.substr(start));
      break;
    }
    fields.push_back(s.substr(start, p - start));
    start = p + delim.size();
  }
  const int64_t count = static_cast<int64_t>(fields.size());
  int64_t idx = n > 0 ? n - 1 : count + n;
  if (idx < 0 || idx >= count) return ResultText(ctx, "");
  ResultText(ctx, fields[static_cast<size_t>(idx)]);
}

// sb_starts_with(s, prefix)
void StartsWithFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  std::string_view s = ArgText(argv[0]), p = ArgText(argv[1]);
  sqlite3_result_int(ctx, s.substr(0, std::min(s.size(), p.size())) == p ? 1 : 0);
}

// sb_md5(text or bytea): lowercase hex digest.
void Md5Fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  std::string_view data =
      sqlite3_value_type(argv[0]) == SQLITE_BLOB ? Bytes(argv[0]) : ArgText(argv[0]);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr) != 1) {
    return SetError(ctx, "XX000", "md5 computation failed");
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  ResultText(ctx, out);
}

// sb_concat(a, b, ...): text arguments, NULLs skipped, never NULL.
void ConcatFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    if (sqlite3_value_type(argv[i]) != SQLITE_NULL) out.append(ArgText(argv[i]));
  }
  if (TooLong(ctx, out.size())) return;
  ResultText(ctx, out);
}

// sb_concat_ws(sep, a, b, ...): NULL separator gives NULL; NULL arguments skipped.
void ConcatWsFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (argc < 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  std::string sep(ArgText(argv[0]));
  std::string out;
  bool first = true;
  for (int i = 1; i < argc; ++i) {
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) continue;
    if (!first) out.append(sep);
    out.append(ArgText(argv[i]));
    first = false;
  }
  if (TooLong(ctx, out.size())) return;
  ResultText(ctx, out);
}

// sb_bytea_concat(a, b)
void ByteaConcatFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  std::string out(Bytes(argv[0]));
  out.append(Bytes(argv[1]));
  if (TooLong(ctx, out.size())) return;
  sqlite3_result_blob64(ctx, out.data(), out.size(), SQLITE_TRANSIENT);
}

// Orders two non-NULL values of the same SQL type.
int CompareSame(sqlite3_value* a, sqlite3_value* b) {
  int ta = sqlite3_value_type(a), tb = sqlite3_value_type(b);
  auto rank = [](int t) {
    return t == SQLITE_INTEGER || t == SQLITE_FLOAT ? 0 : t == SQLITE_TEXT ? 1 : 2;
  };
  if (rank(ta) != rank(tb)) return rank(ta) < rank(tb) ? -1 : 1;
  if (ta == SQLITE_INTEGER && tb == SQLITE_INTEGER) {
    int64_t x = sqlite3_value_int64(a), y = sqlite3_value_int64(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (rank(ta) == 0) {
    double x = sqlite3_value_double(a), y = sqlite3_value_double(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  std::string_view x = ta == SQLITE_TEXT ? ArgText(a) : Bytes(a);
  std::string_view y = tb == SQLITE_TEXT ? ArgText(b) : Bytes(b);
  int c = x.compare(y);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

// sb_greatest(...) / sb_least(...): NULLs ignored; NULL only if all are.
// Among equal values the first wins, as in PostgreSQL.
void MinMaxFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  const bool greatest = sqlite3_user_data(ctx) != nullptr;
  sqlite3_value* best = nullptr;
  for (int i = 0; i < argc; ++i) {
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) continue;
    if (best == nullptr) {
      best = argv[i];
      continue;
    }
    int c = CompareSame(best, argv[i]);
    if (greatest ? c < 0 : c > 0) best = argv[i];
  }
  if (best == nullptr) return sqlite3_result_null(ctx);
  sqlite3_result_value(ctx, best);
}

// ---- math ----

enum class FloatOp { kSqrt, kCbrt, kLn, kLog10, kExp, kCeil, kFloor, kRound, kTrunc, kSign };

void Overflow(sqlite3_context* ctx) {
  SetError(ctx, "22003", "value out of range: overflow");
}
void Underflow(sqlite3_context* ctx) {
  SetError(ctx, "22003", "value out of range: underflow");
}

// sb_sqrt(x), sb_ln(x), ...: PostgreSQL's float8 functions and their errors.
void FloatFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  const auto op = static_cast<FloatOp>(reinterpret_cast<intptr_t>(sqlite3_user_data(ctx)));
  const double x = sqlite3_value_double(argv[0]);
  double r = 0;
  switch (op) {
    case FloatOp::kSqrt:
      if (x < 0) return SetError(ctx, "2201F", "cannot take square root of a negative number");
      r = std::sqrt(x);
      if (std::isinf(r) && !std::isinf(x)) return Overflow(ctx);
      if (r == 0 && x != 0) return Underflow(ctx);
      break;
    case FloatOp::kCbrt:
      r = std::cbrt(x);
      if (std::isinf(r) && !std::isinf(x)) return Overflow(ctx);
      if (r == 0 && x != 0) return Underflow(ctx);
      break;
    case FloatOp::kLn:
    case FloatOp::kLog10:
      if (x == 0) return SetError(ctx, "2201E", "cannot take logarithm of zero");
      if (x < 0) return SetError(ctx, "2201E", "cannot take logarithm of a negative number");
      r = op == FloatOp::kLn ? std::log(x) : std::log10(x);
      if (std::isinf(r) && !std::isinf(x)) return Overflow(ctx);
      if (r == 0 && x != 1) return Underflow(ctx);
      break;
    case FloatOp::kExp:
      if (std::isinf(x)) {
        r = x > 0 ? x : 0;
      } else {
        errno = 0;
        r = std::exp(x);
        if (errno == ERANGE) return r != 0 ? Overflow(ctx) : Underflow(ctx);
        if (std::isinf(r)) return Overflow(ctx);
        if (r == 0) return Underflow(ctx);
      }
      break;
    case FloatOp::kCeil:
      r = std::ceil(x);
      break;
    case FloatOp::kFloor:
      r = std::floor(x);
      break;
    case FloatOp::kRound:
      r = std::rint(x);
      break;
    case FloatOp::kTrunc:
      r = x >= 0 ? std::floor(x) : -std::floor(-x);
      break;
    case FloatOp::kSign:
      r = x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
      break;
  }
  sqlite3_result_double(ctx, r);
}

// sb_pow(x, y): PostgreSQL's dpow.
void PowFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  const double x = sqlite3_value_double(argv[0]), y = sqlite3_value_double(argv[1]);
  if (x == 0 && y < 0)
    return SetError(ctx, "2201F", "zero raised to a negative power is undefined");
  if (x < 0 && std::floor(y) != y) {
    return SetError(ctx, "2201F",
                    "a negative number raised to a non-integer power yields a complex result");
  }
  double r;
  if (std::isinf(y)) {
    double ax = std::fabs(x);
    if (ax == 1.0) {
      r = 1.0;
    } else if (y > 0) {
      r = ax > 1.0 ? y : 0.0;
    } else {
      r = ax > 1.0 ? 0.0 : -y;
    }
  } else if (std::isinf(x)) {
    if (y == 0) {
      r = 1.0;
    } else if (x > 0) {
      r = y > 0 ? x : 0.0;
    } else {
      double half = y / 2;
      bool odd = std::floor(half) != half;
      r = y > 0 ? (odd ? x : -x) : (odd ? -0.0 : 0.0);
    }
  } else {
    errno = 0;
    r = std::pow(x, y);
    if (errno == EDOM || std::isnan(r)) {
      if (x == 0) {
        r = 0;
      } else {
        double ax = std::fabs(x);
        if (ax == 1.0) {
          r = 1.0;
        } else if (y >= 0 ? ax > 1.0 : ax < 1.0) {
          return Overflow(ctx);
        } else {
          return Underflow(ctx);
        }
      }
    } else if (errno == ERANGE) {
      return r != 0 ? Overflow(ctx) : Underflow(ctx);
    } else {
      if (std::isinf(r)) return Overflow(ctx);
      if (r == 0 && x != 0) return Underflow(ctx);
    }
  }
  sqlite3_result_double(ctx, r);
}

// sb_iabs(x, bits): abs of an integer, range-checked for its type.
void IntAbsFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER) {
    return sqlite3_result_double(ctx, std::fabs(sqlite3_value_double(argv[0])));
  }
  const int64_t x = sqlite3_value_int64(argv[0]);
  const int bits = sqlite3_value_int(argv[1]);
  if (bits == 16 && x == std::numeric_limits<int16_t>::min()) {
    return SetError(ctx, "22003", "smallint out of range");
  }
  if (bits == 32 && x == std::numeric_limits<int32_t>::min()) {
    return SetError(ctx, "22003", "integer out of range");
  }
  if (x == std::numeric_limits<int64_t>::min())
    return SetError(ctx, "22003", "bigint out of range");
  sqlite3_result_int64(ctx, x < 0 ? -x : x);
}

// sb_sign(x): -1/0/1 as an integer (integers, scaled numerics) or a float.
void SignFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  switch (sqlite3_value_type(argv[0])) {
    case SQLITE_NULL:
      return sqlite3_result_null(ctx);
    case SQLITE_INTEGER: {
      int64_t x = sqlite3_value_int64(argv[0]);
      return sqlite3_result_int64(ctx, x > 0 ? 1 : x < 0 ? -1 : 0);
    }
    default: {
      double x = sqlite3_value_double(argv[0]);
      return sqlite3_result_double(ctx, x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0);
    }
  }
}

// sb_numround(v, scale, digits, mode): a numeric, either scaled (v /
// 10^scale) or decimal text (an unconstrained numeric such as avg()'s;
// `scale` is then ignored), rounded (mode 0: half away from zero, as
// PostgreSQL's numeric round), truncated (1), or taken to the ceiling (2) or
// floor (3) at `digits` fraction digits (may be negative). The result is
// scaled by 10^max(digits, 0); 0A000 when that needs more than 18 digits.
void NumRoundFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  __int128 v;
  int scale;
  if (sqlite3_value_type(argv[0]) == SQLITE_INTEGER) {
    v = sqlite3_value_int64(argv[0]);
    scale = sqlite3_value_int(argv[1]);
  } else {
    auto d = ParseDecimal(ArgText(argv[0]));
    if (!d.ok()) return SetError(ctx, d.status());
    v = d->unscaled;
    scale = d->scale;
  }
  const int digits = sqlite3_value_int(argv[2]);
  const int mode = sqlite3_value_int(argv[3]);
  auto too_wide = [&] {
    SetError(ctx, "0A000",
             "numeric result needs more than 18 digits, which ScratchBird does not support");
  };
  __int128 result;
  if (digits >= scale) {
    if (digits - scale > 18 ||
        __builtin_mul_overflow(v, static_cast<__int128>(Pow10i(digits - scale)), &result)) {
      return too_wide();
    }
  } else {
    const int drop = scale - digits;
    __int128 q = 0, r = v, p = 0;
    if (drop <= 38) {
      p = 1;
      for (int i = 0; i < drop; ++i) p *= 10;
      q = v / p;
      r = v % p;
    }
    switch (mode) {
      case 0:
        if (p != 0 && 2 * (r < 0 ? -r : r) >= p) q += v < 0 ? -1 : 1;
        break;
      case 2:
        if (r > 0) q += 1;
        break;
      case 3:
        if (r < 0) q -= 1;
        break;
      default:
        break;
    }
    result = q;
    if (digits < 0 && q != 0) {
      if (-digits > 18 ||
          __builtin_mul_overflow(q, static_cast<__int128>(Pow10i(-digits)), &result)) {
        return too_wide();
      }
    }
  }
  if (result > std::numeric_limits<int64_t>::max() ||
      result < std::numeric_limits<int64_t>::min()) {
    return too_wide();
  }
  sqlite3_result_int64(ctx, static_cast<int64_t>(result));
}

// ---- date/time ----

DateKind KindArg(sqlite3_value* v) {
  return static_cast<DateKind>(sqlite3_value_int(v));
}

// sb_extract(unit, value, kind): PostgreSQL 15 extract(), a scaled numeric.
void ExtractFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto r = ExtractNumeric(ArgText(argv[0]), ArgText(argv[1]), KindArg(argv[2]));
  if (!r.ok()) return SetError(ctx, r.status());
  sqlite3_result_int64(ctx, *r);
}

// sb_date_part(unit, value, kind): date_part(), double precision.
void DatePartFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto r = DatePartFloat(ArgText(argv[0]), ArgText(argv[1]), KindArg(argv[2]));
  if (!r.ok()) return SetError(ctx, r.status());
  sqlite3_result_double(ctx, *r);
}

// sb_date_trunc(unit, timestamp, kind)
void DateTruncFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto r = DateTrunc(ArgText(argv[0]), ArgText(argv[1]), KindArg(argv[2]));
  if (!r.ok()) return SetError(ctx, r.status());
  ResultText(ctx, *r);
}

// sb_to_char(value, format, kind): to_char of a date or timestamp
// (common/datetime_format.h).
void ToCharFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  const DateKind kind = KindArg(argv[2]);
  Result<int64_t> micros = Status::Ok();
  if (kind == DateKind::kDate) {
    auto days = DateToDays(ArgText(argv[0]));
    if (!days.ok()) return SetError(ctx, days.status());
    micros = int64_t{*days} * 86'400'000'000;
  } else {
    micros = TimestampToMicros(ArgText(argv[0]));
  }
  if (!micros.ok()) return SetError(ctx, micros.status());
  // A date is formatted as a timestamptz, as PostgreSQL casts it (TZ = UTC).
  auto r = FormatDateTimeTemplate(*micros, ArgText(argv[1]), kind != DateKind::kTimestamp);
  if (!r.ok()) return SetError(ctx, r.status());
  ResultText(ctx, *r);
}

// sb_date_add(date, days): date + integer, range-checked.
void DateAddFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto d = DateToDays(ArgText(argv[0]));
  if (!d.ok()) return SetError(ctx, d.status());
  int64_t days = int64_t{*d} + sqlite3_value_int64(argv[1]);
  if (days < MinStorableDays() || days > MaxStorableDays()) {
    return SetError(ctx, "22008", "date out of range");
  }
  ResultText(ctx, DaysToDate(static_cast<int32_t>(days)));
}

// sb_ts_round(timestamp, precision): PostgreSQL's AdjustTimestampForTypmod
// (rounding relative to 2000-01-01, half away from it).
void TsRoundFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  auto m = TimestampToMicros(ArgText(argv[0]));
  if (!m.ok()) return SetError(ctx, m.status());
  const int p = sqlite3_value_int(argv[1]);
  if (p >= 6 || p < 0) return ResultText(ctx, MicrosToTimestamp(*m));
  const int64_t scale = Pow10i(6 - p), offset = scale / 2;
  const int64_t pg_epoch = 946684800LL * kMicrosPerSecond;
  int64_t t = *m - pg_epoch;
  t = t >= 0 ? (t + offset) / scale * scale : -(((-t) + offset) / scale * scale);
  int64_t out = t + pg_epoch;
  if (out < MinStorableMicros() || out > MaxStorableMicros()) {
    return SetError(ctx, "22008", "timestamp out of range");
  }
  ResultText(ctx, MicrosToTimestamp(out));
}

}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

Result<bool> LikeMatch(std::string_view text, std::string_view pattern) {
  // A port of PostgreSQL's MatchText (like_match.c) for UTF-8, with its
  // three outcomes (ABORT stops the search for other '%' positions).
  enum { kFalse = 0, kTrue = 1, kAbort = -1 };
  Status error;
  auto next_char = [](const char*& t, size_t& tlen) {
    size_t n = std::min(CharBytes(static_cast<unsigned char>(*t)), tlen);
    t += n;
    tlen -= n;
  };
  auto ends_with_escape = [] {
    return Status("22025", "LIKE pattern must not end with escape character");
  };
  // Each '%' recurses once; PostgreSQL stops at max_stack_depth, and so
  // does this, well before a shard thread's stack runs out.
  int depth = 0;
  std::function<int(const char*, size_t, const char*, size_t)> match =
      [&](const char* t, size_t tlen, const char* p, size_t plen) -> int {
    if (plen == 1 && *p == '%') return kTrue;
    if (depth > 10000) {
      error = Status("54001", "stack depth limit exceeded");
      return kAbort;
    }
    while (tlen > 0 && plen > 0) {
      if (*p == '\\') {
        ++p;
        --plen;
        if (plen == 0) {
          error = ends_with_escape();
          return kAbort;
        }
        if (*p != *t) return kFalse;
      } else if (*p == '%') {
        ++p;
        --plen;
        while (plen > 0) {
          if (*p == '%') {
            ++p;
            --plen;
          } else if (*p == '_') {
            if (tlen == 0) return kAbort;
            next_char(t, tlen);
            ++p;
            --plen;
          } else {
            break;
          }
        }
        if (plen == 0) return kTrue;
        char first;
        if (*p == '\\') {
          if (plen < 2) {
            error = ends_with_escape();
            return kAbort;
          }
          first = p[1];
        } else {
          first = *p;
        }
        while (tlen > 0) {
          if (*t == first) {
            ++depth;
            int m = match(t, tlen, p, plen);
            --depth;
            if (m != kFalse) return m;
          }
          next_char(t, tlen);
        }
        return kAbort;
      } else if (*p == '_') {
        next_char(t, tlen);
        ++p;
        --plen;
        continue;
      } else if (*p != *t) {
        return kFalse;
      }
      ++t;
      --tlen;
      ++p;
      --plen;
    }
    if (tlen > 0) return kFalse;
    while (plen > 0 && *p == '%') {
      ++p;
      --plen;
    }
    return plen == 0 ? kTrue : kAbort;
  };
  int r = match(text.data(), text.size(), pattern.data(), pattern.size());
  if (!error.ok()) return error;
  return r == kTrue;
}

Result<std::string> LikeEscape(std::string_view pattern, std::string_view escape) {
  std::string out;
  if (escape.empty()) {
    // No escape character: backslashes become ordinary characters.
    for (char c : pattern) {
      if (c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out;
  }
  const size_t elen = CharBytes(static_cast<unsigned char>(escape[0]));
  if (elen != escape.size()) {
    return Status("22025", "invalid escape string",
                  "Escape string must be empty or one character.");
  }
  if (escape == "\\") return std::string(pattern);
  bool after_escape = false;
  for (size_t i = 0; i < pattern.size();) {
    size_t n = std::min(CharBytes(static_cast<unsigned char>(pattern[i])), pattern.size() - i);
    std::string_view ch = pattern.substr(i, n);
    if (ch == escape && !after_escape) {
      out.push_back('\\');
      after_escape = true;
    } else if (ch == "\\") {
      out.push_back('\\');
      if (!after_escape) out.push_back('\\');
      after_escape = false;
    } else {
      out.append(ch);
      after_escape = false;
    }
    i += n;
  }
  return out;
}

DateUnit DecodeDateUnit(std::string_view u) {
  DateUnit d = DecodeDeltaUnit(u);
  if (d != DateUnit::kUnknown) return d;
  std::string_view t = u.substr(0, std::min<size_t>(u.size(), 10));
  if (t == "epoch") return DateUnit::kEpoch;
  if (t == "j" || t == "jd" || t == "julian") return DateUnit::kJulian;
  if (t == "dow") return DateUnit::kDow;
  if (t == "doy") return DateUnit::kDoy;
  if (t == "isodow") return DateUnit::kIsodow;
  if (t == "isoyear") return DateUnit::kIsoyear;
  return DateUnit::kUnknown;
}

int ExtractScale(std::string_view unit_text, DateKind kind) {
  const std::string u = LowerUnit(unit_text);
  const DateUnit unit = DecodeDateUnit(u);
  if (kind == DateKind::kDate) {
    switch (unit) {
      case DateUnit::kDay:
      case DateUnit::kMonth:
      case DateUnit::kQuarter:
      case DateUnit::kWeek:
      case DateUnit::kYear:
      case DateUnit::kDecade:
      case DateUnit::kCentury:
      case DateUnit::kMillennium:
      case DateUnit::kJulian:
      case DateUnit::kIsoyear:
      case DateUnit::kDow:
      case DateUnit::kIsodow:
      case DateUnit::kDoy:
      case DateUnit::kEpoch:
        return 0;
      default:
        return -1;
    }
  }
  switch (unit) {
    case DateUnit::kMilliseconds:
      return 3;
    case DateUnit::kSecond:
    case DateUnit::kEpoch:
      return 6;
    case DateUnit::kJulian:
      return -2;
    case DateUnit::kUnknown:
      return -1;
    case DateUnit::kTimezone:
    case DateUnit::kTimezoneHour:
    case DateUnit::kTimezoneMinute:
      return kind == DateKind::kTimestamptz ? 0 : -1;
    default:
      return 0;
  }
}

Result<int64_t> ExtractNumeric(std::string_view unit_text, std::string_view stored, DateKind kind) {
  const std::string u = LowerUnit(unit_text);
  const DateUnit unit = DecodeDateUnit(u);
  if (unit == DateUnit::kUnknown) {
    if (IsReservedWord(u)) return UnitNotSupported(u, kind);
    return UnitNotRecognized(u, kind);
  }
  SB_ASSIGN_OR_RETURN(Broken b, BreakDown(stored, kind));
  int64_t v = 0;
  if (kind == DateKind::kDate) {
    if (unit == DateUnit::kJulian) return Date2J(b.date.year, b.date.month, b.date.day);
    if (unit == DateUnit::kEpoch) return b.days * 86400;
    if (unit == DateUnit::kHour || unit == DateUnit::kMinute || !IntegerField(unit, b, &v)) {
      return UnitNotSupported(u, kind);
    }
    return v;
  }
  switch (unit) {
    case DateUnit::kMicroseconds:
    case DateUnit::kMilliseconds:
    case DateUnit::kSecond:
      return b.second * kMicrosPerSecond + b.fsec;  // scale 0, 3 and 6
    case DateUnit::kEpoch:
      return b.micros;  // scale 6
    case DateUnit::kJulian:
      return Status("0A000",
                    "extract(julian from timestamp) is not supported: its result has 20 fraction "
                    "digits",
                    "Use date_part('julian', ...) for a double precision result.");
    case DateUnit::kTimezone:
    case DateUnit::kTimezoneHour:
    case DateUnit::kTimezoneMinute:
      if (kind == DateKind::kTimestamptz) return int64_t{0};  // sessions run in UTC
      return UnitNotSupported(u, kind);
    default:
      if (IntegerField(unit, b, &v)) return v;
      return UnitNotSupported(u, kind);
  }
}

Result<double> DatePartFloat(std::string_view unit_text, std::string_view stored, DateKind kind) {
  const std::string u = LowerUnit(unit_text);
  const DateUnit unit = DecodeDateUnit(u);
  if (kind == DateKind::kDate) {
    // date_part(text, date) is date_part(text, date::timestamp) in PostgreSQL.
    SB_ASSIGN_OR_RETURN(int32_t days, DateToDays(stored));
    return DatePartFloat(unit_text, MicrosToTimestamp(int64_t{days} * kMicrosPerDay),
                         DateKind::kTimestamp);
  }
  if (unit == DateUnit::kUnknown) {
    if (IsReservedWord(u)) return UnitNotSupported(u, kind);
    return UnitNotRecognized(u, kind);
  }
  SB_ASSIGN_OR_RETURN(Broken b, BreakDown(stored, kind));
  int64_t v = 0;
  switch (unit) {
    case DateUnit::kMicroseconds:
      return b.second * 1000000.0 + static_cast<double>(b.fsec);
    case DateUnit::kMilliseconds:
      return b.second * 1000.0 + static_cast<double>(b.fsec) / 1000.0;
    case DateUnit::kSecond:
      return b.second + static_cast<double>(b.fsec) / 1000000.0;
    case DateUnit::kEpoch:
      return static_cast<double>(b.micros) / 1000000.0;
    case DateUnit::kJulian:
      return static_cast<double>(Date2J(b.date.year, b.date.month, b.date.day)) +
             (((b.hour * 60 + b.minute) * 60) + b.second +
              static_cast<double>(b.fsec) / 1000000.0) /
                 86400.0;
    case DateUnit::kTimezone:
    case DateUnit::kTimezoneHour:
    case DateUnit::kTimezoneMinute:
      if (kind == DateKind::kTimestamptz) return 0.0;
      return UnitNotSupported(u, kind);
    default:
      if (IntegerField(unit, b, &v)) return static_cast<double>(v);
      return UnitNotSupported(u, kind);
  }
}

Result<std::string> DateTrunc(std::string_view unit_text, std::string_view stored, DateKind kind) {
  const std::string u = LowerUnit(unit_text);
  const DateUnit unit = DecodeDeltaUnit(u);
  if (unit == DateUnit::kUnknown) return UnitNotRecognized(u, kind);
  SB_ASSIGN_OR_RETURN(Broken b, BreakDown(stored, kind));
  int y = b.date.year, m = b.date.month, d = b.date.day;
  int64_t tod = b.micros - b.days * kMicrosPerDay;
  int64_t days = b.days;
  switch (unit) {
    case DateUnit::kMillennium:
    case DateUnit::kCentury:
    case DateUnit::kDecade:
    case DateUnit::kYear:
    case DateUnit::kQuarter:
    case DateUnit::kMonth:
      if (unit == DateUnit::kMillennium) y = ((y + 999) / 1000) * 1000 - 999;
      if (unit == DateUnit::kCentury) y = ((y + 99) / 100) * 100 - 99;
      if (unit == DateUnit::kDecade) y = (y / 10) * 10;
      if (unit == DateUnit::kMillennium || unit == DateUnit::kCentury ||
          unit == DateUnit::kDecade || unit == DateUnit::kYear) {
        m = 1;
      }
      if (unit == DateUnit::kQuarter) m = 3 * ((m - 1) / 3) + 1;
      if (y < kMinYear) return Status("22008", "timestamp out of range");
      days = DaysFromCivil(y, m, 1);
      tod = 0;
      break;
    case DateUnit::kWeek:
      days -= (J2Day(Date2J(y, m, d)) + 6) % 7;  // back to Monday
      tod = 0;
      break;
    case DateUnit::kDay:
      tod = 0;
      break;
    case DateUnit::kHour:
      tod -= tod % (3600 * kMicrosPerSecond);
      break;
    case DateUnit::kMinute:
      tod -= tod % (60 * kMicrosPerSecond);
      break;
    case DateUnit::kSecond:
      tod -= tod % kMicrosPerSecond;
      break;
    case DateUnit::kMilliseconds:
      tod -= tod % 1000;
      break;
    case DateUnit::kMicroseconds:
      break;
    default:
      return UnitNotSupported(u, kind);
  }
  int64_t out = days * kMicrosPerDay + tod;
  if (out < MinStorableMicros()) return Status("22008", "timestamp out of range");
  return MicrosToTimestamp(out);
}

Result<std::string> PgSubstr(std::string_view s, int64_t start, bool has_count, int64_t count,
                             bool by_bytes) {
  if (has_count && count < 0) return Status("22011", "negative substring length not allowed");
  const int64_t s1 = std::max<int64_t>(start, 1);
  int64_t length = -1;  // to the end
  if (has_count) {
    __int128 e = static_cast<__int128>(start) + count;
    if (e < 1) return std::string();
    length = static_cast<int64_t>(std::min<__int128>(e - s1, std::numeric_limits<int64_t>::max()));
  }
  if (by_bytes) {
    if (static_cast<uint64_t>(s1 - 1) >= s.size()) return std::string();
    std::string_view rest = s.substr(static_cast<size_t>(s1 - 1));
    if (length >= 0 && static_cast<uint64_t>(length) < rest.size()) {
      rest = rest.substr(0, static_cast<size_t>(length));
    }
    return std::string(rest);
  }
  size_t b = CharOffset(s, s1 - 1);
  std::string_view rest = s.substr(b);
  if (length >= 0) rest = rest.substr(0, CharOffset(rest, length));
  return std::string(rest);
}

void RegisterPgFunctions(sqlite3* db) {
  const int det = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  auto fn = [&](const char* name, int nargs, void (*f)(sqlite3_context*, int, sqlite3_value**),
                void* data = nullptr) {
    sqlite3_create_function(db, name, nargs, det, data, f, nullptr, nullptr);
  };
  void* const kFlag = reinterpret_cast<void*>(1);
  fn("sb_like", 3, LikeFn);
  fn("sb_like_escape", 2, LikeEscapeFn);
  fn("sb_substr", 2, SubstrFn);
  fn("sb_substr", 3, SubstrFn);
  fn("sb_octet_length", 1, OctetLengthFn);
  fn("sb_left", 2, LeftRightFn);
  fn("sb_right", 2, LeftRightFn, kFlag);
  fn("sb_repeat", 2, RepeatFn);
  fn("sb_reverse", 1, ReverseFn);
  fn("sb_lpad", 3, PadFn);
  fn("sb_rpad", 3, PadFn, kFlag);
  fn("sb_initcap", 1, InitcapFn);
  fn("sb_split_part", 3, SplitPartFn);
  fn("sb_starts_with", 2, StartsWithFn);
  fn("sb_md5", 1, Md5Fn);
  fn("sb_concat", -1, ConcatFn);
  fn("sb_concat_ws", -1, ConcatWsFn);
  fn("sb_bytea_concat", 2, ByteaConcatFn);
  fn("sb_greatest", -1, MinMaxFn, kFlag);
  fn("sb_least", -1, MinMaxFn);
  struct {
    const char* name;
    FloatOp op;
  } const float_fns[] = {
      {"sb_sqrt", FloatOp::kSqrt},    {"sb_cbrt", FloatOp::kCbrt},
      {"sb_ln", FloatOp::kLn},        {"sb_log10", FloatOp::kLog10},
      {"sb_exp", FloatOp::kExp},      {"sb_fceil", FloatOp::kCeil},
      {"sb_ffloor", FloatOp::kFloor}, {"sb_fround", FloatOp::kRound},
      {"sb_ftrunc", FloatOp::kTrunc}, {"sb_fsign", FloatOp::kSign},
  };
  for (const auto& f : float_fns) {
    fn(f.name, 1, FloatFn, reinterpret_cast<void*>(static_cast<intptr_t>(f.op)));
  }
  fn("sb_pow", 2, PowFn);
  fn("sb_iabs", 2, IntAbsFn);
  fn("sb_sign", 1, SignFn);
  fn("sb_numround", 4, NumRoundFn);
  fn("sb_extract", 3, ExtractFn);
  fn("sb_date_part", 3, DatePartFn);
  fn("sb_date_trunc", 3, DateTruncFn);
  fn("sb_to_char", 3, ToCharFn);
  fn("sb_date_add", 2, DateAddFn);
  fn("sb_ts_round", 2, TsRoundFn);
}

}  // namespace sb::exec
