// PostgreSQL v3 wire-protocol message codec: framing of frontend messages,
// bounds-checked parsing of their bodies, and building of backend messages.
// Pure functions over byte buffers; no I/O. Every parse error is a Status with
// SQLSTATE 08P01 (protocol violation) and a message naming what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "pgwire/session.h"

namespace sb::pgwire {

// Protocol constants.
inline constexpr int32_t kProtocolVersion3 = 196608;  // 3.0
inline constexpr int32_t kSslRequestCode = 80877103;
inline constexpr int32_t kGssEncRequestCode = 80877104;
inline constexpr int32_t kCancelRequestCode = 80877102;
// Largest startup packet accepted (as PostgreSQL's MAX_STARTUP_PACKET_LENGTH).
inline constexpr size_t kMaxStartupPacketBytes = 10000;

// Frontend message type bytes.
namespace fe {
inline constexpr char kBind = 'B';
inline constexpr char kClose = 'C';
inline constexpr char kCopyData = 'd';
inline constexpr char kCopyDone = 'c';
inline constexpr char kCopyFail = 'f';
inline constexpr char kDescribe = 'D';
inline constexpr char kExecute = 'E';
inline constexpr char kFlush = 'H';
inline constexpr char kFunctionCall = 'F';
inline constexpr char kParse = 'P';
inline constexpr char kPasswordMessage = 'p';
inline constexpr char kQuery = 'Q';
inline constexpr char kSync = 'S';
inline constexpr char kTerminate = 'X';
}  // namespace fe

// True for the message types a client may send after startup.
bool IsFrontendMessageType(char type);

// One framed frontend message; body views into the caller's buffer.
struct Frame {
  char type = 0;
  std::string_view body;
};

enum class DecodeState { kNeedMore, kFrame, kError };

// Examines the start of buf for one complete typed message (type byte, int32
// length including itself, body). On kFrame fills *frame and *consumed. On
// kError fills *error: unknown type byte, length < 4, or a body larger than
// max_body_bytes (detected from the header alone, before the body arrives).
DecodeState DecodeFrame(std::string_view buf, size_t max_body_bytes, Frame* frame, size_t* consumed,
                        Status* error);

// Same for the untyped startup-phase packet (int32 length, then body). The
// body starts with the int32 protocol/request code.
DecodeState DecodeStartupFrame(std::string_view buf, std::string_view* body, size_t* consumed,
                               Status* error);

// Startup-phase packets.
struct StartupPacket {
  enum class Kind { kSslRequest, kGssEncRequest, kCancelRequest, kStartup };
  Kind kind = Kind::kStartup;
  int32_t version = 0;  // protocol version for kStartup (major << 16 | minor)
  int32_t cancel_pid = 0;
  int32_t cancel_secret = 0;
  std::vector<std::pair<std::string, std::string>> params;  // kStartup only

  // Looks up a startup parameter; nullptr if absent.
  const std::string* Param(std::string_view key) const;
};
// Parses a startup-phase body (without the length word). Protocol versions
// other than 3.x parse fine (version is reported); the caller decides.
Result<StartupPacket> ParseStartupPacket(std::string_view body);

struct ParseMessage {
  std::string_view statement;
  std::string_view query;
  std::vector<uint32_t> param_types;
};
struct BindMessage {
  std::string_view portal;
  std::string_view statement;
  std::vector<int16_t> param_formats;
  std::vector<std::optional<std::string_view>> params;  // nullopt = NULL
  std::vector<int16_t> result_formats;
};
struct DescribeMessage {
  char kind = 0;  // 'S' statement or 'P' portal
  std::string_view name;
};
using CloseMessage = DescribeMessage;
struct ExecuteMessage {
  std::string_view portal;
  int32_t max_rows = 0;  // 0 = no limit
};

// Body parsers. Bodies must be consumed exactly; trailing bytes are an error.
Result<std::string_view> ParseQueryMessage(std::string_view body);  // the SQL text
Result<ParseMessage> ParseParseMessage(std::string_view body);
Result<BindMessage> ParseBindMessage(std::string_view body);
Result<DescribeMessage> ParseDescribeMessage(std::string_view body);
Result<CloseMessage> ParseCloseMessage(std::string_view body);
Result<ExecuteMessage> ParseExecuteMessage(std::string_view body);
Result<std::string_view> ParseCopyFailMessage(std::string_view body);  // the reason
// Sync, Flush, Terminate and CopyDone carry no body.
Status ParseEmptyMessage(char type, std::string_view body);

// Builds backend messages by appending to a string (the connection's output
// buffer). Lengths are patched in when a message ends.
class BackendWriter {
 public:
  explicit BackendWriter(std::string* out) : out_(out) {}

  // Low-level building blocks.
  void Begin(char type);
  void End();
  void Int8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void Int16(int16_t v);
  void Int32(int32_t v);
  void Bytes(std::string_view v) { out_->append(v); }
  void CString(std::string_view v);  // appends v and a NUL (v must hold none)

  // Complete messages.
  void AuthenticationOk();
  void ParameterStatus(std::string_view name, std::string_view value);
  void BackendKeyData(int32_t pid, int32_t secret);
  void ReadyForQuery(char status);
  // formats: empty = all text; one entry = applies to all; else one per column.
  void RowDescription(const std::vector<ColumnDesc>& columns,
                      const std::vector<int16_t>& formats = {});
  void NoData();
  void ParameterDescription(const std::vector<uint32_t>& oids);
  void DataRowText(const TextRow& row);
  void CommandComplete(std::string_view tag);
  void EmptyQueryResponse();
  void ParseComplete();
  void BindComplete();
  void CloseComplete();
  void PortalSuspended();
  void CopyInResponse(int columns);
  // newest_version is the full version word (3 << 16 | minor), as PostgreSQL
  // and libpq use it.
  void NegotiateProtocolVersion(int32_t newest_version,
                                const std::vector<std::string>& unrecognized_options);
  // ErrorResponse ('E') with S/V/C/M and D/H/P when present. severity is
  // "ERROR" or "FATAL".
  void ErrorResponse(const Status& status, std::string_view severity = "ERROR");
  // NoticeResponse ('N') with severity NOTICE, SQLSTATE 00000.
  void NoticeResponse(std::string_view message);

 private:
  std::string* out_;
  size_t start_ = 0;  // offset of the current message's type byte
};

// Big-endian helpers (also used by the binary format code).
inline void PutInt16(std::string* out, int16_t v) {
  auto u = static_cast<uint16_t>(v);
  out->push_back(static_cast<char>(u >> 8));
  out->push_back(static_cast<char>(u));
}
inline void PutInt32(std::string* out, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(u >> shift));
}
inline void PutInt64(std::string* out, int64_t v) {
  auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(u >> shift));
}
inline uint32_t GetUint32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}
inline uint16_t GetUint16(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((b[0] << 8) | b[1]);
}
inline uint64_t GetUint64(const char* p) {
  return (uint64_t{GetUint32(p)} << 32) | GetUint32(p + 4);
}

// A protocol-violation status (SQLSTATE 08P01).
Status ProtocolViolation(std::string message);

}  // namespace sb::pgwire
