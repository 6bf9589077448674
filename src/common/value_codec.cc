#include "common/value_codec.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <type_traits>

#include "common/datetime.h"
#include "common/interval.h"

namespace sb {
namespace {

std::string_view TrimSpace(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status InvalidSyntax(const std::string& type_name, std::string_view text) {
  return Status(sqlstate::kInvalidTextRepresentation,
                "invalid input syntax for type " + type_name + ": \"" + std::string(text) + "\"");
}

void IntRange(TypeId id, int64_t* lo, int64_t* hi) {
  switch (id) {
    case TypeId::kInt2:
      *lo = std::numeric_limits<int16_t>::min();
      *hi = std::numeric_limits<int16_t>::max();
      return;
    case TypeId::kInt4:
      *lo = std::numeric_limits<int32_t>::min();
      *hi = std::numeric_limits<int32_t>::max();
      return;
    default:
      *lo = std::numeric_limits<int64_t>::min();
      *hi = std::numeric_limits<int64_t>::max();
  }
}

Status IntOutOfRange(const SqlType& t) {
  return Status(sqlstate::kNumericValueOutOfRange, t.Name() + " out of range");
}

Result<Value> ParseInt(const SqlType& type, std::string_view text) {
  std::string_view s = TrimSpace(text);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  if (i >= s.size()) return InvalidSyntax(type.Name(), text);
  int64_t lo, hi;
  IntRange(type.id, &lo, &hi);
  // Accumulate negatively so INT64_MIN parses.
  int64_t acc = 0;
  bool overflow = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return InvalidSyntax(type.Name(), text);
    if (!overflow) {
      if (__builtin_mul_overflow(acc, int64_t{10}, &acc) ||
          __builtin_sub_overflow(acc, int64_t{c - '0'}, &acc)) {
        overflow = true;
      }
    }
  }
  if (!overflow && !negative) {
    if (acc == std::numeric_limits<int64_t>::min()) {
      overflow = true;
    } else {
      acc = -acc;
    }
  }
  if (overflow || acc < lo || acc > hi) {
    return Status(sqlstate::kNumericValueOutOfRange,
                  "value \"" + std::string(text) + "\" is out of range for type " + type.Name());
  }
  return Value(acc);
}

// Recognises NaN / Infinity spellings; true if matched.
bool ParseFloatSpecial(std::string_view s, double* out) {
  std::string l = Lower(s);
  if (l == "nan" || l == "+nan" || l == "-nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (l == "infinity" || l == "+infinity" || l == "inf" || l == "+inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (l == "-infinity" || l == "-inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  return false;
}

Result<Value> ParseFloat(const SqlType& type, std::string_view text) {
  const bool is4 = type.id == TypeId::kFloat4;
  std::string_view s = TrimSpace(text);
  if (s.empty()) return InvalidSyntax(type.Name(), text);
  double special;
  if (ParseFloatSpecial(s, &special)) {
    // The shard engine (SQLite) stores NaN as NULL, which would silently
    // change the value: refuse it instead.
    if (std::isnan(special)) {
      return Status(sqlstate::kFeatureNotSupported, "floating-point NaN values are not supported",
                    "Store NULL or a sentinel value instead.");
    }
    return Value(special);
  }
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  double v;
  if (is4) {
    float f = std::strtof(buf.c_str(), &end);
    v = f;
  } else {
    v = std::strtod(buf.c_str(), &end);
  }
  if (end == buf.c_str() || *end != '\0') return InvalidSyntax(type.Name(), text);
  if (errno == ERANGE && (v == 0.0 || std::isinf(v))) {
    return Status(sqlstate::kNumericValueOutOfRange,
                  "\"" + std::string(text) + "\" is out of range for type " + type.Name());
  }
  return Value(v);
}

Result<Value> ParseBool(std::string_view text) {
  std::string s = Lower(TrimSpace(text));
  auto prefix_of = [&](const char* word, size_t min_len) {
    std::string_view w(word);
    return s.size() >= min_len && s.size() <= w.size() && w.substr(0, s.size()) == s;
  };
  if (!s.empty()) {
    if (prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || s == "1") {
      return Value(int64_t{1});
    }
    if (prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || s == "0") {
      return Value(int64_t{0});
    }
  }
  return InvalidSyntax("boolean", text);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Value> ParseUuid(std::string_view text) {
  std::string_view s = text;
  size_t i = 0;
  bool braces = false;
  if (i < s.size() && s[i] == '{') {
    braces = true;
    ++i;
  }
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (int byte = 0; byte < 16; ++byte) {
    if (i + 2 > s.size()) return InvalidSyntax("uuid", text);
    int hi = HexValue(s[i]), lo = HexValue(s[i + 1]);
    if (hi < 0 || lo < 0) return InvalidSyntax("uuid", text);
    hex.push_back(kHex[hi]);
    hex.push_back(kHex[lo]);
    i += 2;
    if (i < s.size() && s[i] == '-' && byte % 2 == 1 && byte < 15) ++i;
  }
  if (braces) {
    if (i >= s.size() || s[i] != '}') return InvalidSyntax("uuid", text);
    ++i;
  }
  if (i != s.size()) return InvalidSyntax("uuid", text);
  return Value(hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
               hex.substr(16, 4) + "-" + hex.substr(20, 12));
}

Result<Value> ParseBytea(std::string_view text) {
  Blob out;
  if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') {
    size_t i = 2;
    while (i < text.size()) {
      char c = text[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
        continue;
      }
      int hi = HexValue(c);
      if (hi < 0) {
        return Status(sqlstate::kInvalidParameterValue,
                      "invalid hexadecimal digit: \"" + std::string(1, c) + "\"");
      }
      if (i + 1 >= text.size()) {
        return Status(sqlstate::kInvalidParameterValue,
                      "invalid hexadecimal data: odd number of digits");
      }
      int lo = HexValue(text[i + 1]);
      if (lo < 0) {
        return Status(sqlstate::kInvalidParameterValue,
                      "invalid hexadecimal digit: \"" + std::string(1, text[i + 1]) + "\"");
      }
      out.bytes.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
    return Value(std::move(out));
  }
  // Escape format: "\\" is a backslash, "\ooo" an octal byte, other bytes as is.
  for (size_t i = 0; i < text.size();) {
    if (text[i] != '\\') {
      out.bytes.push_back(text[i++]);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\\') {
      out.bytes.push_back('\\');
      i += 2;
      continue;
    }
    if (i + 3 < text.size()) {
      char a = text[i + 1], b = text[i + 2], c = text[i + 3];
      if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
        out.bytes.push_back(static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0')));
        i += 4;
        continue;
      }
    }
    return Status(sqlstate::kInvalidTextRepresentation, "invalid input syntax for type bytea");
  }
  return Value(std::move(out));
}

// Truncates s to at most n UTF-8 characters.
std::string Utf8Prefix(std::string_view s, size_t n) {
  size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (chars == n) break;
      ++chars;
    }
  }
  return std::string(s.substr(0, i));
}

Result<Value> ParseVarchar(const SqlType& type, std::string_view text) {
  if (type.precision < 0) return Value(std::string(text));
  size_t n = static_cast<size_t>(type.precision);
  if (Utf8Length(text) <= n) return Value(std::string(text));
  std::string prefix = Utf8Prefix(text, n);
  std::string_view rest = text.substr(prefix.size());
  for (char c : rest) {
    if (c != ' ') {
      return Status(sqlstate::kStringDataRightTruncation, "value too long for type " + type.Name());
    }
  }
  return Value(std::move(prefix));
}

std::string HexBytes(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// Shortest round-trip digits and decimal exponent -> PostgreSQL layout.
std::string LayoutShortest(const char* sci, int fixed_limit) {
  // sci looks like "-d.ddde+XX" or "de-XX".
  std::string_view s(sci);
  std::string out;
  if (!s.empty() && s[0] == '-') {
    out.push_back('-');
    s.remove_prefix(1);
  }
  size_t epos = s.find('e');
  std::string digits;
  for (char c : s.substr(0, epos)) {
    if (c != '.') digits.push_back(c);
  }
  int exp = std::atoi(std::string(s.substr(epos + 1)).c_str());
  if (exp < -4 || exp >= fixed_limit) {
    out.push_back(digits[0]);
    if (digits.size() > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += buf;
    return out;
  }
  if (exp < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exp - 1), '0');
    out += digits;
    return out;
  }
  size_t int_digits = static_cast<size_t>(exp) + 1;
  if (digits.size() <= int_digits) {
    out += digits;
    out.append(int_digits - digits.size(), '0');
  } else {
    out.append(digits, 0, int_digits);
    out.push_back('.');
    out.append(digits, int_digits, std::string::npos);
  }
  return out;
}

std::string FormatIntValue(int64_t v) {
  return std::to_string(v);
}

// Generic output when the stored alternative does not match the type.
std::string FormatAny(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return FormatFloat8(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<Blob>(&v)) return HexBytes(b->bytes);
  return "";
}

bool IsStringType(TypeId id) {
  return id == TypeId::kText || id == TypeId::kVarchar || id == TypeId::kUnknown;
}

Status CannotCast(const SqlType& from, const SqlType& to) {
  return Status("42846", "cannot cast type " + from.Name() + " to " + to.Name());
}

Status StoredMismatch(const SqlType& t) {
  return Status::Internal("stored value does not match type " + t.Name());
}

Result<double> StoredToDouble(const SqlType& from, const Value& stored) {
  if (const auto* d = std::get_if<double>(&stored)) return *d;
  if (from.id == TypeId::kNumeric) {
    SB_ASSIGN_OR_RETURN(Decimal dec, StoredToDecimal(from, stored));
    return std::strtod(FormatDecimal(dec).c_str(), nullptr);
  }
  if (const auto* i = std::get_if<int64_t>(&stored)) return static_cast<double>(*i);
  return StoredMismatch(from);
}

Result<Value> FloatToInt(double v, const SqlType& to) {
  double r = std::nearbyint(v);  // round half to even, like rint()
  int64_t lo, hi;
  IntRange(to.id, &lo, &hi);
  // Exclusive upper bound 2^63 for int64 (hi + 1 is not representable).
  if (std::isnan(r) || r < static_cast<double>(lo) ||
      r >= static_cast<double>(hi) + (to.id == TypeId::kInt8 ? 0.0 : 1.0)) {
    return IntOutOfRange(to);
  }
  return Value(static_cast<int64_t>(r));
}

}  // namespace

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

// PostgreSQL's float output (Ryu without STRICTLY_SHORTEST) wants the shortest
// digits strictly inside the rounding interval of v; std::to_chars also accepts
// a digit string lying exactly on the interval's boundary (for even
// mantissas). Such a tie is detected by comparing against the exact midpoints,
// computed in a wider type (long double for double, double for float), and
// then the shortest correctly rounded representation strictly inside is used.
template <typename F, typename Wide>
std::string ShortestScientific(F v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf - 1, v, std::chars_format::scientific);
  *res.ptr = '\0';
  auto on_boundary = [v](const char* text) {
    Wide x;
    if constexpr (std::is_same_v<Wide, long double>) {
      x = std::strtold(text, nullptr);
    } else {
      x = std::strtod(text, nullptr);
    }
    Wide lo = (static_cast<Wide>(v) +
               static_cast<Wide>(std::nextafter(v, -std::numeric_limits<F>::infinity()))) /
              2;
    Wide hi = (static_cast<Wide>(v) +
               static_cast<Wide>(std::nextafter(v, std::numeric_limits<F>::infinity()))) /
              2;
    return x == lo || x == hi;
  };
  if (!on_boundary(buf)) return buf;
  size_t digits = 0;
  for (const char* c = buf; *c != '\0' && *c != 'e'; ++c) {
    if (*c >= '0' && *c <= '9') ++digits;
  }
  const int max_digits = std::numeric_limits<F>::max_digits10;
  for (int p = static_cast<int>(digits) + 1; p <= max_digits; ++p) {
    char cand[64];
    auto r = std::to_chars(cand, cand + sizeof cand - 1, v, std::chars_format::scientific, p - 1);
    *r.ptr = '\0';
    F back;
    if constexpr (std::is_same_v<F, float>) {
      back = std::strtof(cand, nullptr);
    } else {
      back = std::strtod(cand, nullptr);
    }
    if (back == v && !on_boundary(cand)) {
      // Drop trailing zeros of the mantissa.
      std::string s(cand);
      size_t e = s.find('e');
      size_t last = e;
      while (last > 0 && s[last - 1] == '0') --last;
      if (last > 0 && s[last - 1] == '.') --last;
      return s.substr(0, last) + s.substr(e);
    }
  }
  return buf;
}

std::string FormatFloat8(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  return LayoutShortest(ShortestScientific<double, long double>(v).c_str(), 15);
}

std::string FormatFloat4(float v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  return LayoutShortest(ShortestScientific<float, double>(v).c_str(), 6);
}

Result<Decimal> StoredToDecimal(const SqlType& numeric_type, const Value& stored) {
  if (const auto* i = std::get_if<int64_t>(&stored)) {
    Decimal d;
    d.unscaled = *i;
    d.scale = NumericIsScaled(numeric_type) ? numeric_type.scale : 0;
    return d;
  }
  if (const auto* s = std::get_if<std::string>(&stored)) return ParseDecimal(*s);
  return StoredMismatch(numeric_type);
}

Result<Value> DecimalToStored(const SqlType& numeric_type, const Decimal& d) {
  if (numeric_type.precision < 1) return Value(FormatDecimal(d));
  SB_ASSIGN_OR_RETURN(Decimal r, ApplyNumericTypmod(d, numeric_type.precision, numeric_type.scale));
  if (NumericIsScaled(numeric_type)) return Value(static_cast<int64_t>(r.unscaled));
  return Value(FormatDecimal(r));
}

Result<Value> ParseTextValue(const SqlType& type, std::string_view text) {
  switch (type.id) {
    case TypeId::kInt2:
    case TypeId::kInt4:
    case TypeId::kInt8:
      return ParseInt(type, text);
    case TypeId::kFloat4:
    case TypeId::kFloat8:
      return ParseFloat(type, text);
    case TypeId::kNumeric: {
      SB_ASSIGN_OR_RETURN(Decimal d, ParseDecimal(text));
      return DecimalToStored(type, d);
    }
    case TypeId::kUnknown:
    case TypeId::kText:
      return Value(std::string(text));
    case TypeId::kVarchar:
      return ParseVarchar(type, text);
    case TypeId::kBool:
      return ParseBool(text);
    case TypeId::kDate: {
      SB_ASSIGN_OR_RETURN(int32_t days, ParseDateInput(text));
      return Value(DaysToDate(days));
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestamptz: {
      SB_ASSIGN_OR_RETURN(int64_t micros,
                          ParseTimestampInput(text, type.id == TypeId::kTimestamptz));
      return Value(MicrosToTimestamp(micros));
    }
    case TypeId::kUuid:
      return ParseUuid(text);
    case TypeId::kBytea:
      return ParseBytea(text);
    case TypeId::kInterval: {
      SB_ASSIGN_OR_RETURN(Interval iv, ParseIntervalInput(text));
      return Value(EncodeStoredInterval(iv));
    }
  }
  return Status::Internal("unhandled type in ParseTextValue");
}

std::string FormatTextValue(const SqlType& type, const Value& stored) {
  switch (type.id) {
    case TypeId::kInt2:
    case TypeId::kInt4:
    case TypeId::kInt8:
      if (const auto* i = std::get_if<int64_t>(&stored)) return FormatIntValue(*i);
      break;
    case TypeId::kBool:
      if (const auto* i = std::get_if<int64_t>(&stored)) return *i != 0 ? "t" : "f";
      break;
    case TypeId::kNumeric:
      if (std::holds_alternative<int64_t>(stored)) {
        Result<Decimal> d = StoredToDecimal(type, stored);
        if (d.ok()) return FormatDecimal(*d);
      }
      break;
    case TypeId::kFloat4:
      if (const auto* d = std::get_if<double>(&stored)) return FormatFloat4(static_cast<float>(*d));
      break;
    case TypeId::kFloat8:
      if (const auto* d = std::get_if<double>(&stored)) return FormatFloat8(*d);
      break;
    case TypeId::kTimestamp:
    case TypeId::kTimestamptz:
      if (const auto* s = std::get_if<std::string>(&stored)) {
        Result<int64_t> micros = TimestampToMicros(*s);
        if (!micros.ok()) return *s;
        std::string out = FormatTimestampOutput(*micros);
        if (type.id == TypeId::kTimestamptz) out += "+00";
        return out;
      }
      break;
    case TypeId::kInterval:
      if (const auto* s = std::get_if<std::string>(&stored)) {
        Result<Interval> iv = DecodeStoredInterval(*s);
        if (iv.ok()) return FormatIntervalOutput(*iv);
      }
      break;
    default:
      break;
  }
  return FormatAny(stored);
}

Result<Value> CastValue(const Value& stored, const SqlType& from, const SqlType& to) {
  if (IsNull(stored)) return Value();
  if (from == to) return stored;
  const TypeId f = from.id, t = to.id;

  // Anything -> string types.
  if (IsStringType(t)) {
    std::string s;
    if (f == TypeId::kBool) {
      const auto* i = std::get_if<int64_t>(&stored);
      if (i == nullptr) return StoredMismatch(from);
      s = *i != 0 ? "true" : "false";
    } else {
      s = FormatTextValue(from, stored);
    }
    if (t == TypeId::kVarchar && to.precision >= 0) {
      s = Utf8Prefix(s, static_cast<size_t>(to.precision));  // explicit cast truncates
    }
    return Value(std::move(s));
  }
  // String types -> anything: text input.
  if (IsStringType(f)) {
    const auto* s = std::get_if<std::string>(&stored);
    if (s == nullptr) return StoredMismatch(from);
    return ParseTextValue(to, *s);
  }

  const bool f_int = from.IsInteger(), t_int = to.IsInteger();
  const bool f_float = f == TypeId::kFloat4 || f == TypeId::kFloat8;
  const bool t_float = t == TypeId::kFloat4 || t == TypeId::kFloat8;

  if (f_int && t_int) {
    const auto* i = std::get_if<int64_t>(&stored);
    if (i == nullptr) return StoredMismatch(from);
    int64_t lo, hi;
    IntRange(t, &lo, &hi);
    if (*i < lo || *i > hi) return IntOutOfRange(to);
    return Value(*i);
  }
  if ((f_int || f == TypeId::kNumeric) && t == TypeId::kNumeric) {
    Decimal d;
    if (f_int) {
      const auto* i = std::get_if<int64_t>(&stored);
      if (i == nullptr) return StoredMismatch(from);
      d.unscaled = *i;
    } else {
      SB_ASSIGN_OR_RETURN(d, StoredToDecimal(from, stored));
    }
    return DecimalToStored(to, d);
  }
  if (f == TypeId::kNumeric && t_int) {
    SB_ASSIGN_OR_RETURN(Decimal d, StoredToDecimal(from, stored));
    SB_ASSIGN_OR_RETURN(Decimal r, Rescale(d, 0));
    int64_t lo, hi;
    IntRange(t, &lo, &hi);
    if (r.unscaled < lo || r.unscaled > hi) return IntOutOfRange(to);
    return Value(static_cast<int64_t>(r.unscaled));
  }
  if ((f_int || f == TypeId::kNumeric || f_float) && t_float) {
    SB_ASSIGN_OR_RETURN(double v, StoredToDouble(from, stored));
    if (t == TypeId::kFloat4) {
      float r = static_cast<float>(v);
      if (std::isinf(r) && !std::isinf(v)) {
        return Status(sqlstate::kNumericValueOutOfRange, "value out of range: overflow");
      }
      if (r == 0.0f && v != 0.0) {
        return Status(sqlstate::kNumericValueOutOfRange, "value out of range: underflow");
      }
      return Value(static_cast<double>(r));
    }
    return Value(v);
  }
  if (f_float && t_int) {
    const auto* d = std::get_if<double>(&stored);
    if (d == nullptr) return StoredMismatch(from);
    return FloatToInt(*d, to);
  }
  if (f_float && t == TypeId::kNumeric) {
    const auto* d = std::get_if<double>(&stored);
    if (d == nullptr) return StoredMismatch(from);
    if (std::isinf(*d) && to.precision >= 1) {
      Status st(sqlstate::kNumericValueOutOfRange, "numeric field overflow");
      st.WithDetail("A field with precision " + std::to_string(to.precision) + ", scale " +
                    std::to_string(to.scale) + " cannot hold an infinite value.");
      return st;
    }
    if (std::isnan(*d) || std::isinf(*d)) {
      return Status::NotSupported("cannot convert " + FormatFloat8(*d) + " to numeric",
                                  "numeric NaN and Infinity are not supported.");
    }
    char buf[64];
    // PostgreSQL prints DBL_DIG / FLT_DIG significant digits, then parses.
    std::snprintf(buf, sizeof buf, "%.*g", f == TypeId::kFloat4 ? 6 : 15, *d);
    SB_ASSIGN_OR_RETURN(Decimal dec, ParseDecimal(buf));
    return DecimalToStored(to, dec);
  }
  if (f == TypeId::kBool && t == TypeId::kInt4) return stored;
  if (f == TypeId::kInt4 && t == TypeId::kBool) {
    const auto* i = std::get_if<int64_t>(&stored);
    if (i == nullptr) return StoredMismatch(from);
    return Value(int64_t{*i != 0 ? 1 : 0});
  }
  if (f == TypeId::kDate && (t == TypeId::kTimestamp || t == TypeId::kTimestamptz)) {
    const auto* s = std::get_if<std::string>(&stored);
    if (s == nullptr) return StoredMismatch(from);
    SB_ASSIGN_OR_RETURN(int32_t days, DateToDays(*s));
    return Value(MicrosToTimestamp(int64_t{days} * kMicrosPerDay));
  }
  if ((f == TypeId::kTimestamp || f == TypeId::kTimestamptz) && t == TypeId::kDate) {
    const auto* s = std::get_if<std::string>(&stored);
    if (s == nullptr) return StoredMismatch(from);
    SB_ASSIGN_OR_RETURN(int64_t micros, TimestampToMicros(*s));
    int64_t days = micros / kMicrosPerDay;
    if (micros % kMicrosPerDay < 0) --days;
    return Value(DaysToDate(static_cast<int32_t>(days)));
  }
  if ((f == TypeId::kTimestamp || f == TypeId::kTimestamptz) &&
      (t == TypeId::kTimestamp || t == TypeId::kTimestamptz)) {
    return stored;  // session time zone is UTC
  }
  if (f == t &&
      (f == TypeId::kBool || f == TypeId::kDate || f == TypeId::kUuid || f == TypeId::kBytea)) {
    return stored;
  }
  return CannotCast(from, to);
}

}  // namespace sb
