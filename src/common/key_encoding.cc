#include "common/key_encoding.h"

#include <cstdint>

#include "common/datetime.h"
#include "common/decimal.h"
#include "common/value_codec.h"

namespace sb {
namespace {

void AppendBigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void AppendLengthPrefixed(std::string* out, char tag, std::string_view bytes) {
  out->push_back(tag);
  AppendBigEndian(out, static_cast<uint32_t>(bytes.size()), 4);
  out->append(bytes);
}

Status Mismatch(const SqlType& type, std::string_view column_name) {
  return Status::Internal("shard key column \"" + std::string(column_name) +
                          "\": stored value does not match type " + type.Name());
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string NormalizedNumericText(std::string_view decimal_text) {
  std::string s(decimal_text);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0" || s.empty()) s = "0";
  return s;
}

Result<std::string> EncodeKeyValue(const SqlType& type, const Value& stored,
                                   std::string_view column_name) {
  if (IsNull(stored)) {
    return Status(sqlstate::kNotNullViolation,
                  "shard key column \"" + std::string(column_name) + "\" must not be null");
  }
  std::string out;
  switch (type.id) {
    case TypeId::kInt2:
    case TypeId::kInt4:
    case TypeId::kInt8:
    case TypeId::kBool: {
      const auto* i = std::get_if<int64_t>(&stored);
      if (i == nullptr) return Mismatch(type, column_name);
      if (type.id == TypeId::kBool) {
        out.push_back(kKeyTagBool);
        out.push_back(static_cast<char>(*i != 0 ? 1 : 0));
      } else {
        out.push_back(kKeyTagInt);
        AppendBigEndian(&out, static_cast<uint64_t>(*i), 8);
      }
      return out;
    }
    case TypeId::kText:
    case TypeId::kVarchar: {
      const auto* s = std::get_if<std::string>(&stored);
      if (s == nullptr) return Mismatch(type, column_name);
      AppendLengthPrefixed(&out, kKeyTagText, *s);
      return out;
    }
    case TypeId::kUuid: {
      const auto* s = std::get_if<std::string>(&stored);
      if (s == nullptr) return Mismatch(type, column_name);
      out.push_back(kKeyTagUuid);
      std::string hex;
      for (char c : *s) {
        if (c != '-') hex.push_back(c);
      }
      if (hex.size() != 32) return Mismatch(type, column_name);
      for (size_t i = 0; i < 32; i += 2) {
        int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
        if (hi < 0 || lo < 0) return Mismatch(type, column_name);
        out.push_back(static_cast<char>(hi * 16 + lo));
      }
      return out;
    }
    case TypeId::kDate: {
      const auto* s = std::get_if<std::string>(&stored);
      if (s == nullptr) return Mismatch(type, column_name);
      SB_ASSIGN_OR_RETURN(int32_t days, DateToDays(*s));
      out.push_back(kKeyTagDate);
      AppendBigEndian(&out, static_cast<uint32_t>(days), 4);
      return out;
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestamptz: {
      const auto* s = std::get_if<std::string>(&stored);
      if (s == nullptr) return Mismatch(type, column_name);
      SB_ASSIGN_OR_RETURN(int64_t micros, TimestampToMicros(*s));
      out.push_back(kKeyTagTimestamp);
      AppendBigEndian(&out, static_cast<uint64_t>(micros), 8);
      return out;
    }
    case TypeId::kBytea: {
      const auto* b = std::get_if<Blob>(&stored);
      if (b == nullptr) return Mismatch(type, column_name);
      AppendLengthPrefixed(&out, kKeyTagBytea, b->bytes);
      return out;
    }
    case TypeId::kNumeric: {
      if (!std::holds_alternative<int64_t>(stored) &&
          !std::holds_alternative<std::string>(stored)) {
        return Mismatch(type, column_name);
      }
      SB_ASSIGN_OR_RETURN(Decimal d, StoredToDecimal(type, stored));
      AppendLengthPrefixed(&out, kKeyTagNumeric, NormalizedNumericText(FormatDecimal(d)));
      return out;
    }
    case TypeId::kFloat4:
    case TypeId::kFloat8:
      return Status::NotSupported(
          "column \"" + std::string(column_name) + "\" of type " + type.Name() +
              " cannot be a shard key",
          "Floating-point values do not compare exactly; use numeric, integer or text.");
    case TypeId::kInterval:  // not a column type
    case TypeId::kUnknown:
      break;
  }
  return Status::Internal("shard key column \"" + std::string(column_name) +
                          "\" has no resolved type");
}

}  // namespace sb
