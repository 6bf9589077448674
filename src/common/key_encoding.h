// Canonical shard-key bytes (req-05-06-11 §2.2): a tag byte and the value in
// a type-normalised form, so equal SQL values of different integer widths
// (5::int2, 5::int4, 5::int8) encode — and therefore hash and route —
// identically. A multi-column key is the concatenation of its columns.
//
// Tag | type          | value
// 0x01 | int2/4/8     | int64 big-endian
// 0x02 | text/varchar | u32 BE length + UTF-8 bytes
// 0x03 | uuid         | 16 raw bytes
// 0x04 | bool         | 1 byte (0/1)
// 0x05 | date         | int32 BE days since 1970-01-01
// 0x06 | timestamp(tz)| int64 BE microseconds since 1970-01-01 UTC
// 0x07 | bytea        | u32 BE length + bytes
// 0x08 | numeric      | u32 BE length + normalised decimal text
#pragma once

#include <string>
#include <string_view>

#include "common/sql_type.h"
#include "common/status.h"
#include "common/value.h"

namespace sb {

inline constexpr char kKeyTagInt = 0x01;
inline constexpr char kKeyTagText = 0x02;
inline constexpr char kKeyTagUuid = 0x03;
inline constexpr char kKeyTagBool = 0x04;
inline constexpr char kKeyTagDate = 0x05;
inline constexpr char kKeyTagTimestamp = 0x06;
inline constexpr char kKeyTagBytea = 0x07;
inline constexpr char kKeyTagNumeric = 0x08;

// Canonical shard-key bytes of one value in stored form (value_codec.h).
// NULL -> 23502 'shard key column "<col>" must not be null'; float types ->
// 0A000 (not allowed as shard key).
Result<std::string> EncodeKeyValue(const SqlType& type, const Value& stored,
                                   std::string_view column_name);

// Helper: the normalised numeric text used under tag 0x08 (no trailing
// fraction zeros, no trailing '.', "-0" -> "0").
std::string NormalizedNumericText(std::string_view decimal_text);

}  // namespace sb
