#include "pgwire/format.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "common/datetime.h"
#include "common/interval.h"
#include "pgwire/messages.h"
#include "pgwire/session.h"

namespace sb::pgwire {

namespace {

// OIDs beyond the ones session.h lists that behave like text or integers.
constexpr uint32_t kCharOid = 18;
constexpr uint32_t kNameOid = 19;
constexpr uint32_t kOidOid = 26;
constexpr uint32_t kJsonOid = 114;
constexpr uint32_t kUnknownOid = 705;
constexpr uint32_t kBpcharOid = 1042;

bool IsTextLike(uint32_t oid) {
  switch (oid) {
    case oid::kText:
    case oid::kVarchar:
    case kBpcharOid:
    case kNameOid:
    case kCharOid:
    case kJsonOid:
    case kUnknownOid:
      return true;
    default:
      return false;
  }
}

Status BadBinary(uint32_t oid, int index, const std::string& why) {
  return Status("22P03", "incorrect binary data format in bind parameter " + std::to_string(index) +
                             " (" + TypeName(oid) + "): " + why);
}

Status BadText(uint32_t oid, std::string_view text) {
  std::string shown(text.substr(0, 64));
  if (text.size() > 64) shown += "...";
  return Status(sqlstate::kInvalidTextRepresentation,
                "cannot encode value \"" + shown + "\" as binary " + TypeName(oid));
}

Status Unsupported(uint32_t oid, const char* what) {
  return Status::NotSupported(
      std::string("binary format ") + what + " type " + TypeName(oid) + " is not supported",
      "Use text format (format code 0) for this column or parameter.");
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

template <typename Int>
bool ParseInt(std::string_view text, Int* v) {
  text = Trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *v);
  return ec == std::errc() && ptr == text.data() + text.size();
}

template <typename Float>
bool ParseFloat(std::string_view text, Float* v) {
  text = Trim(text);
  if (EqualsIgnoreCase(text, "nan")) {
    *v = std::numeric_limits<Float>::quiet_NaN();
    return true;
  }
  bool negative = false;
  std::string_view body = text;
  if (!body.empty() && (body.front() == '-' || body.front() == '+')) {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (EqualsIgnoreCase(body, "infinity") || EqualsIgnoreCase(body, "inf")) {
    *v =
        negative ? -std::numeric_limits<Float>::infinity() : std::numeric_limits<Float>::infinity();
    return true;
  }
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *v);
  // Out-of-range values are rejected, as PostgreSQL's float input does.
  return ec == std::errc() && ptr == text.data() + text.size();
}

template <typename Float>
void FormatFloat(Float v, std::string* out) {
  if (std::isnan(v)) {
    *out = "NaN";
  } else if (std::isinf(v)) {
    *out = v > 0 ? "Infinity" : "-Infinity";
  } else {
    char buf[64];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // shortest exact form
    out->assign(buf, ec == std::errc() ? ptr : buf);
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kHexDigits[] = "0123456789abcdef";

// Decodes bytea text output (hex "\x..." or the legacy escape format).
bool DecodeByteaText(std::string_view text, std::string* out) {
  if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') {
    int high = -1;
    for (size_t i = 2; i < text.size(); ++i) {
      char c = text[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        if (high >= 0) return false;
        continue;
      }
      int h = HexValue(c);
      if (h < 0) return false;
      if (high < 0) {
        high = h;
      } else {
        out->push_back(static_cast<char>((high << 4) | h));
        high = -1;
      }
    }
    return high < 0;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out->push_back(text[i]);
    } else if (i + 1 < text.size() && text[i + 1] == '\\') {
      out->push_back('\\');
      ++i;
    } else if (i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3' &&
               text[i + 2] >= '0' && text[i + 2] <= '7' && text[i + 3] >= '0' &&
               text[i + 3] <= '7') {
      out->push_back(static_cast<char>(((text[i + 1] - '0') << 6) | ((text[i + 2] - '0') << 3) |
                                       (text[i + 3] - '0')));
      i += 3;
    } else {
      return false;
    }
  }
  return true;
}

bool DecodeUuidText(std::string_view text, std::string* out) {
  text = Trim(text);
  if (!text.empty() && text.front() == '{' && text.back() == '}' && text.size() >= 2) {
    text = text.substr(1, text.size() - 2);
  }
  std::string bytes;
  int high = -1;
  for (char c : text) {
    if (c == '-') {
      if (high >= 0) return false;
      continue;
    }
    int h = HexValue(c);
    if (h < 0) return false;
    if (high < 0) {
      high = h;
    } else {
      bytes.push_back(static_cast<char>((high << 4) | h));
      high = -1;
    }
  }
  if (high >= 0 || bytes.size() != 16) return false;
  out->append(bytes);
  return true;
}

// --- date / timestamp -------------------------------------------------------
// Binary dates are days and timestamps microseconds since 2000-01-01 (UTC for
// timestamptz); +/-infinity are the extreme integer values.
constexpr int64_t kPgEpochDays = 10957;  // 2000-01-01 minus 1970-01-01
constexpr int64_t kPgEpochMicros = kPgEpochDays * kMicrosPerDay;

bool IsInfinity(std::string_view t, bool* negative) {
  t = Trim(t);
  *negative = !t.empty() && t.front() == '-';
  if (!t.empty() && (t.front() == '-' || t.front() == '+')) t.remove_prefix(1);
  return EqualsIgnoreCase(t, "infinity");
}

Status DateBinaryToText(std::string_view bin, int index, std::string* text) {
  auto d = static_cast<int32_t>(GetUint32(bin.data()));
  if (d == std::numeric_limits<int32_t>::max()) {
    *text = "infinity";
    return Status::Ok();
  }
  if (d == std::numeric_limits<int32_t>::min()) {
    *text = "-infinity";
    return Status::Ok();
  }
  int64_t days = int64_t{d} + kPgEpochDays;
  if (days < MinStorableDays() || days > MaxStorableDays()) {
    return Status(sqlstate::kDatetimeFieldOverflow,
                  "date out of range in bind parameter " + std::to_string(index));
  }
  *text = DaysToDate(static_cast<int32_t>(days));
  return Status::Ok();
}

Status TimestampBinaryToText(std::string_view bin, bool tz, int index, std::string* text) {
  auto v = static_cast<int64_t>(GetUint64(bin.data()));
  if (v == std::numeric_limits<int64_t>::max()) {
    *text = "infinity";
    return Status::Ok();
  }
  if (v == std::numeric_limits<int64_t>::min()) {
    *text = "-infinity";
    return Status::Ok();
  }
  if (v < MinStorableMicros() - kPgEpochMicros || v > MaxStorableMicros() - kPgEpochMicros) {
    return Status(sqlstate::kDatetimeFieldOverflow,
                  "timestamp out of range in bind parameter " + std::to_string(index));
  }
  *text = FormatTimestampOutput(v + kPgEpochMicros);
  if (tz) text->append("+00");
  return Status::Ok();
}

bool DateTextToBinary(std::string_view text, std::string* out) {
  bool negative = false;
  if (IsInfinity(text, &negative)) {
    PutInt32(out,
             negative ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int32_t>::max());
    return true;
  }
  Result<int32_t> days = ParseDateInput(text);
  if (!days.ok()) return false;
  PutInt32(out, static_cast<int32_t>(*days - kPgEpochDays));
  return true;
}

bool TimestampTextToBinary(std::string_view text, bool tz, std::string* out) {
  bool negative = false;
  if (IsInfinity(text, &negative)) {
    PutInt64(out,
             negative ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max());
    return true;
  }
  Result<int64_t> micros = ParseTimestampInput(text, tz);
  if (!micros.ok()) return false;
  PutInt64(out, *micros - kPgEpochMicros);
  return true;
}

// --- numeric ----------------------------------------------------------------
// Binary numeric: int16 ndigits, int16 weight, uint16 sign, int16 dscale, then
// ndigits base-10000 digits; value = sum(digit[i] * 10000^(weight - i)).
constexpr uint16_t kNumericPos = 0x0000;
constexpr uint16_t kNumericNeg = 0x4000;
constexpr uint16_t kNumericNaN = 0xC000;
constexpr uint16_t kNumericPInf = 0xD000;
constexpr uint16_t kNumericNInf = 0xF000;
constexpr int kNumericMaxDscale = 0x3FFF;

void PutNumericHeader(std::string* out, size_t ndigits, int weight, uint16_t sign, int dscale) {
  PutInt16(out, static_cast<int16_t>(ndigits));
  PutInt16(out, static_cast<int16_t>(weight));
  PutInt16(out, static_cast<int16_t>(sign));
  PutInt16(out, static_cast<int16_t>(dscale));
}

bool NumericTextToBinary(std::string_view text, std::string* out) {
  text = Trim(text);
  if (EqualsIgnoreCase(text, "nan")) {
    PutNumericHeader(out, 0, 0, kNumericNaN, 0);
    return true;
  }
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (EqualsIgnoreCase(text, "infinity") || EqualsIgnoreCase(text, "inf")) {
    PutNumericHeader(out, 0, 0, negative ? kNumericNInf : kNumericPInf, 0);
    return true;
  }
  size_t dot = text.find('.');
  std::string_view int_part = text.substr(0, dot);
  std::string_view frac_part =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (int_part.empty() && frac_part.empty()) return false;
  for (std::string_view part : {int_part, frac_part}) {
    for (char c : part) {
      if (c < '0' || c > '9') return false;
    }
  }
  while (!int_part.empty() && int_part.front() == '0') int_part.remove_prefix(1);
  if (frac_part.size() > static_cast<size_t>(kNumericMaxDscale)) return false;
  const int dscale = static_cast<int>(frac_part.size());
  // Digits padded to whole base-10000 groups around the decimal point.
  std::string digits((4 - int_part.size() % 4) % 4, '0');
  digits.append(int_part);
  const int int_groups = static_cast<int>(digits.size() / 4);
  if (int_groups > 0x7FFF) return false;
  digits.append(frac_part);
  digits.append((4 - frac_part.size() % 4) % 4, '0');
  std::vector<int16_t> groups;
  groups.reserve(digits.size() / 4);
  for (size_t i = 0; i < digits.size(); i += 4) {
    groups.push_back(static_cast<int16_t>((digits[i] - '0') * 1000 + (digits[i + 1] - '0') * 100 +
                                          (digits[i + 2] - '0') * 10 + (digits[i + 3] - '0')));
  }
  int weight = int_groups - 1;
  size_t first = 0;
  while (first < groups.size() && groups[first] == 0) {
    ++first;
    --weight;
  }
  size_t last = groups.size();
  while (last > first && groups[last - 1] == 0) --last;
  if (first == last) {
    PutNumericHeader(out, 0, 0, kNumericPos, dscale);
    return true;
  }
  if (weight < -0x8000) return false;
  PutNumericHeader(out, last - first, weight, negative ? kNumericNeg : kNumericPos, dscale);
  for (size_t i = first; i < last; ++i) PutInt16(out, groups[i]);
  return true;
}

Status NumericBinaryToText(std::string_view bin, int index, std::string* text) {
  auto bad = [&](const std::string& why) { return BadBinary(oid::kNumeric, index, why); };
  if (bin.size() < 8) return bad("expected at least 8 bytes, got " + std::to_string(bin.size()));
  auto ndigits = static_cast<int16_t>(GetUint16(bin.data()));
  auto weight = static_cast<int16_t>(GetUint16(bin.data() + 2));
  uint16_t sign = GetUint16(bin.data() + 4);
  auto dscale = static_cast<int16_t>(GetUint16(bin.data() + 6));
  if (ndigits < 0 || bin.size() != 8 + 2 * static_cast<size_t>(ndigits)) {
    return bad("digit count does not match length");
  }
  if (dscale < 0 || dscale > kNumericMaxDscale) return bad("invalid scale");
  switch (sign) {
    case kNumericNaN:
      *text = "NaN";
      return Status::Ok();
    case kNumericPInf:
      *text = "Infinity";
      return Status::Ok();
    case kNumericNInf:
      *text = "-Infinity";
      return Status::Ok();
    case kNumericPos:
    case kNumericNeg:
      break;
    default:
      return bad("invalid sign");
  }
  std::vector<int> digits(ndigits);
  for (int i = 0; i < ndigits; ++i) {
    digits[i] = GetUint16(bin.data() + 8 + 2 * i);
    if (digits[i] > 9999) return bad("invalid digit");
  }
  auto digit_at = [&](int i) { return i >= 0 && i < ndigits ? digits[i] : 0; };
  text->clear();
  if (sign == kNumericNeg && ndigits > 0) text->push_back('-');
  char buf[8];
  if (weight < 0) {
    text->push_back('0');
  } else {
    for (int i = 0; i <= weight; ++i) {
      if (i == 0) {
        text->append(std::to_string(digit_at(i)));
      } else {
        std::snprintf(buf, sizeof(buf), "%04d", digit_at(i));
        text->append(buf);
      }
    }
  }
  if (dscale > 0) {
    text->push_back('.');
    size_t frac_start = text->size();
    for (int i = weight + 1; static_cast<int>(text->size() - frac_start) < dscale; ++i) {
      std::snprintf(buf, sizeof(buf), "%04d", digit_at(i));
      text->append(buf);
    }
    text->resize(frac_start + dscale);
  }
  return Status::Ok();
}

}  // namespace

std::string TypeName(uint32_t type_oid) {
  switch (type_oid) {
    case oid::kBool:
      return "boolean";
    case oid::kBytea:
      return "bytea";
    case kCharOid:
      return "char";
    case kNameOid:
      return "name";
    case oid::kInt8:
      return "bigint";
    case oid::kInt2:
      return "smallint";
    case oid::kInt4:
      return "integer";
    case oid::kText:
      return "text";
    case kOidOid:
      return "oid";
    case kJsonOid:
      return "json";
    case oid::kFloat4:
      return "real";
    case oid::kFloat8:
      return "double precision";
    case kUnknownOid:
      return "unknown";
    case kBpcharOid:
      return "character";
    case oid::kVarchar:
      return "character varying";
    case oid::kDate:
      return "date";
    case oid::kTimestamp:
      return "timestamp without time zone";
    case oid::kTimestamptz:
      return "timestamp with time zone";
    case oid::kNumeric:
      return "numeric";
    case oid::kUuid:
      return "uuid";
    case oid::kInterval:
      return "interval";
    default:
      return "type with OID " + std::to_string(type_oid);
  }
}

bool SupportsBinary(uint32_t type_oid) {
  switch (type_oid) {
    case oid::kBool:
    case oid::kBytea:
    case oid::kInt2:
    case oid::kInt4:
    case oid::kInt8:
    case kOidOid:
    case oid::kFloat4:
    case oid::kFloat8:
    case oid::kUuid:
    case oid::kDate:
    case oid::kTimestamp:
    case oid::kTimestamptz:
    case oid::kNumeric:
    case oid::kInterval:
      return true;
    default:
      return IsTextLike(type_oid);
  }
}

Status BinaryToText(uint32_t type_oid, std::string_view bin, int index, std::string* text) {
  auto want = [&](size_t n) -> Status {
    if (bin.size() != n) {
      return BadBinary(
          type_oid, index,
          "expected " + std::to_string(n) + " bytes, got " + std::to_string(bin.size()));
    }
    return Status::Ok();
  };
  switch (type_oid) {
    case oid::kBool:
      SB_RETURN_IF_ERROR(want(1));
      *text = bin[0] != 0 ? "t" : "f";
      return Status::Ok();
    case oid::kInt2:
      SB_RETURN_IF_ERROR(want(2));
      *text = std::to_string(static_cast<int16_t>(GetUint16(bin.data())));
      return Status::Ok();
    case oid::kInt4:
      SB_RETURN_IF_ERROR(want(4));
      *text = std::to_string(static_cast<int32_t>(GetUint32(bin.data())));
      return Status::Ok();
    case kOidOid:
      SB_RETURN_IF_ERROR(want(4));
      *text = std::to_string(GetUint32(bin.data()));
      return Status::Ok();
    case oid::kInt8:
      SB_RETURN_IF_ERROR(want(8));
      *text = std::to_string(static_cast<int64_t>(GetUint64(bin.data())));
      return Status::Ok();
    case oid::kFloat4:
      SB_RETURN_IF_ERROR(want(4));
      FormatFloat(std::bit_cast<float>(GetUint32(bin.data())), text);
      return Status::Ok();
    case oid::kFloat8:
      SB_RETURN_IF_ERROR(want(8));
      FormatFloat(std::bit_cast<double>(GetUint64(bin.data())), text);
      return Status::Ok();
    case oid::kBytea:
      text->clear();
      text->reserve(2 + bin.size() * 2);
      text->append("\\x");
      for (char c : bin) {
        auto b = static_cast<unsigned char>(c);
        text->push_back(kHexDigits[b >> 4]);
        text->push_back(kHexDigits[b & 15]);
      }
      return Status::Ok();
    case oid::kUuid: {
      SB_RETURN_IF_ERROR(want(16));
      text->clear();
      for (size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text->push_back('-');
        auto b = static_cast<unsigned char>(bin[i]);
        text->push_back(kHexDigits[b >> 4]);
        text->push_back(kHexDigits[b & 15]);
      }
      return Status::Ok();
    }
    case oid::kDate:
      SB_RETURN_IF_ERROR(want(4));
      return DateBinaryToText(bin, index, text);
    case oid::kTimestamp:
    case oid::kTimestamptz:
      SB_RETURN_IF_ERROR(want(8));
      return TimestampBinaryToText(bin, type_oid == oid::kTimestamptz, index, text);
    case oid::kNumeric:
      return NumericBinaryToText(bin, index, text);
    case oid::kInterval: {
      // PostgreSQL's interval_send: int64 microseconds, int32 days, int32 months.
      SB_RETURN_IF_ERROR(want(16));
      Interval iv;
      iv.micros = static_cast<int64_t>(GetUint64(bin.data()));
      iv.days = static_cast<int32_t>(GetUint32(bin.data() + 8));
      iv.months = static_cast<int32_t>(GetUint32(bin.data() + 12));
      *text = FormatIntervalOutput(iv);
      return Status::Ok();
    }
    default:
      break;
  }
  if (IsTextLike(type_oid)) {
    if (bin.find('\0') != std::string_view::npos) {
      return BadBinary(type_oid, index, "text values cannot contain NUL bytes");
    }
    text->assign(bin);
    return Status::Ok();
  }
  return Unsupported(type_oid, "for parameters of");
}

Status TextToBinary(uint32_t type_oid, std::string_view text, std::string* out) {
  switch (type_oid) {
    case oid::kBool: {
      std::string_view t = Trim(text);
      if (EqualsIgnoreCase(t, "t") || EqualsIgnoreCase(t, "true") || EqualsIgnoreCase(t, "on") ||
          EqualsIgnoreCase(t, "yes") || EqualsIgnoreCase(t, "y") || t == "1") {
        out->push_back(1);
      } else if (EqualsIgnoreCase(t, "f") || EqualsIgnoreCase(t, "false") ||
                 EqualsIgnoreCase(t, "off") || EqualsIgnoreCase(t, "no") ||
                 EqualsIgnoreCase(t, "n") || t == "0") {
        out->push_back(0);
      } else {
        return BadText(type_oid, text);
      }
      return Status::Ok();
    }
    case oid::kInt2: {
      int16_t v;
      if (!ParseInt(text, &v)) return BadText(type_oid, text);
      PutInt16(out, v);
      return Status::Ok();
    }
    case oid::kInt4: {
      int32_t v;
      if (!ParseInt(text, &v)) return BadText(type_oid, text);
      PutInt32(out, v);
      return Status::Ok();
    }
    case kOidOid: {
      uint32_t v;
      if (!ParseInt(text, &v)) return BadText(type_oid, text);
      PutInt32(out, static_cast<int32_t>(v));
      return Status::Ok();
    }
    case oid::kInt8: {
      int64_t v;
      if (!ParseInt(text, &v)) return BadText(type_oid, text);
      PutInt64(out, v);
      return Status::Ok();
    }
    case oid::kFloat4: {
      float v;
      if (!ParseFloat(text, &v)) return BadText(type_oid, text);
      PutInt32(out, static_cast<int32_t>(std::bit_cast<uint32_t>(v)));
      return Status::Ok();
    }
    case oid::kFloat8: {
      double v;
      if (!ParseFloat(text, &v)) return BadText(type_oid, text);
      PutInt64(out, static_cast<int64_t>(std::bit_cast<uint64_t>(v)));
      return Status::Ok();
    }
    case oid::kBytea:
      if (!DecodeByteaText(text, out)) return BadText(type_oid, text);
      return Status::Ok();
    case oid::kUuid:
      if (!DecodeUuidText(text, out)) return BadText(type_oid, text);
      return Status::Ok();
    case oid::kDate:
      if (!DateTextToBinary(text, out)) return BadText(type_oid, text);
      return Status::Ok();
    case oid::kTimestamp:
    case oid::kTimestamptz:
      if (!TimestampTextToBinary(text, type_oid == oid::kTimestamptz, out)) {
        return BadText(type_oid, text);
      }
      return Status::Ok();
    case oid::kNumeric:
      if (!NumericTextToBinary(text, out)) return BadText(type_oid, text);
      return Status::Ok();
    case oid::kInterval: {
      auto iv = ParseIntervalInput(text);
      if (!iv.ok()) return BadText(type_oid, text);
      PutInt64(out, iv->micros);
      PutInt32(out, iv->days);
      PutInt32(out, iv->months);
      return Status::Ok();
    }
    default:
      break;
  }
  if (IsTextLike(type_oid)) {
    out->append(text);
    return Status::Ok();
  }
  return Unsupported(type_oid, "for result columns of");
}

}  // namespace sb::pgwire
