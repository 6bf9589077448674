// Conversions between PostgreSQL binary wire format (format code 1) and the
// text format the Session speaks. Binary parameters are turned into text before
// they reach the engine; text results are encoded to binary when the client
// asks for binary result columns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sb::pgwire {

inline constexpr int16_t kFormatText = 0;
inline constexpr int16_t kFormatBinary = 1;

// pg_type.typname for an OID ("int4", "text", ...) or "type <oid>" if unknown.
std::string TypeName(uint32_t oid);

// True if values of this type can be sent/received in binary format:
// bool, bytea, int2, int4, int8, oid, float4, float8, numeric, date,
// timestamp, timestamptz, uuid, and the text-like types (text, varchar,
// bpchar, name, char, json, unknown).
bool SupportsBinary(uint32_t oid);

// Decodes a binary-format parameter of type oid into PostgreSQL text format.
// param_index is 1-based and only used in error messages. Errors: 22P03 for a
// wrong length or invalid bytes, 0A000 for a type without binary support.
Status BinaryToText(uint32_t oid, std::string_view binary, int param_index, std::string* text);

// Appends the binary encoding of a text-format value of type oid to *out.
// Errors: 22P02 when the text is not a valid value of the type, 0A000 for a
// type without binary support.
Status TextToBinary(uint32_t oid, std::string_view text, std::string* out);

}  // namespace sb::pgwire
