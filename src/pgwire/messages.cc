#include "pgwire/messages.h"

#include <cstring>

namespace sb::pgwire {

namespace {

const char* MessageName(char type) {
  switch (type) {
    case fe::kBind:
      return "Bind";
    case fe::kClose:
      return "Close";
    case fe::kCopyData:
      return "CopyData";
    case fe::kCopyDone:
      return "CopyDone";
    case fe::kCopyFail:
      return "CopyFail";
    case fe::kDescribe:
      return "Describe";
    case fe::kExecute:
      return "Execute";
    case fe::kFlush:
      return "Flush";
    case fe::kFunctionCall:
      return "FunctionCall";
    case fe::kParse:
      return "Parse";
    case fe::kPasswordMessage:
      return "PasswordMessage";
    case fe::kQuery:
      return "Query";
    case fe::kSync:
      return "Sync";
    case fe::kTerminate:
      return "Terminate";
    default:
      return "message";
  }
}

// Bounds-checked cursor over a message body. The first failure is sticky:
// later reads return zero values and error() names the first problem.
class Reader {
 public:
  Reader(std::string_view body, const char* what) : data_(body), what_(what) {}

  bool ok() const { return error_.empty(); }
  size_t remaining() const { return data_.size() - pos_; }

  int16_t Int16(const char* field) {
    if (!Need(2, field)) return 0;
    auto v = static_cast<int16_t>(GetUint16(data_.data() + pos_));
    pos_ += 2;
    return v;
  }
  int32_t Int32(const char* field) {
    if (!Need(4, field)) return 0;
    auto v = static_cast<int32_t>(GetUint32(data_.data() + pos_));
    pos_ += 4;
    return v;
  }
  char Byte(const char* field) {
    if (!Need(1, field)) return 0;
    return data_[pos_++];
  }
  std::string_view Bytes(size_t n, const char* field) {
    if (!Need(n, field)) return {};
    std::string_view v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  std::string_view CString(const char* field) {
    if (!ok()) return {};
    const void* nul = std::memchr(data_.data() + pos_, '\0', remaining());
    if (nul == nullptr) {
      Fail(std::string("missing string terminator in ") + field);
      return {};
    }
    size_t len = static_cast<const char*>(nul) - (data_.data() + pos_);
    std::string_view v = data_.substr(pos_, len);
    pos_ += len + 1;
    return v;
  }
  // Fails unless the whole body was consumed.
  void End() {
    if (ok() && remaining() != 0) {
      Fail("unexpected " + std::to_string(remaining()) + " trailing bytes");
    }
  }
  void Fail(std::string why) {
    if (ok()) error_ = std::move(why);
  }
  Status status() const {
    return ProtocolViolation(std::string("invalid ") + what_ + " message: " + error_);
  }

 private:
  bool Need(size_t n, const char* field) {
    if (!ok()) return false;
    if (remaining() < n) {
      Fail(std::string("truncated ") + field);
      return false;
    }
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
  const char* what_;
  std::string error_;
};

}  // namespace

Status ProtocolViolation(std::string message) {
  return Status(sqlstate::kProtocolViolation, std::move(message));
}

bool IsFrontendMessageType(char type) {
  switch (type) {
    case fe::kBind:
    case fe::kClose:
    case fe::kCopyData:
    case fe::kCopyDone:
    case fe::kCopyFail:
    case fe::kDescribe:
    case fe::kExecute:
    case fe::kFlush:
    case fe::kFunctionCall:
    case fe::kParse:
    case fe::kPasswordMessage:
    case fe::kQuery:
    case fe::kSync:
    case fe::kTerminate:
      return true;
    default:
      return false;
  }
}

DecodeState DecodeFrame(std::string_view buf, size_t max_body_bytes, Frame* frame, size_t* consumed,
                        Status* error) {
  if (buf.empty()) return DecodeState::kNeedMore;
  char type = buf[0];
  if (!IsFrontendMessageType(type)) {
    *error = ProtocolViolation("invalid frontend message type " +
                               std::to_string(static_cast<unsigned char>(type)));
    return DecodeState::kError;
  }
  if (buf.size() < 5) return DecodeState::kNeedMore;
  uint32_t len = GetUint32(buf.data() + 1);
  if (len < 4 || len > 0x7fffffffu) {
    *error = ProtocolViolation("invalid message length " + std::to_string(len) + " in " +
                               MessageName(type) + " message");
    return DecodeState::kError;
  }
  size_t body_len = len - 4;
  if (body_len > max_body_bytes) {
    *error = ProtocolViolation(std::string(MessageName(type)) + " message of " +
                               std::to_string(body_len) + " bytes exceeds the limit of " +
                               std::to_string(max_body_bytes) + " bytes");
    error->WithHint("Send smaller messages or raise the server's max_message_bytes.");
    return DecodeState::kError;
  }
  if (buf.size() - 5 < body_len) return DecodeState::kNeedMore;
  frame->type = type;
  frame->body = buf.substr(5, body_len);
  *consumed = 5 + body_len;
  return DecodeState::kFrame;
}

DecodeState DecodeStartupFrame(std::string_view buf, std::string_view* body, size_t* consumed,
                               Status* error) {
  if (buf.size() < 4) return DecodeState::kNeedMore;
  uint32_t len = GetUint32(buf.data());
  if (len < 8 || len > kMaxStartupPacketBytes) {
    *error = ProtocolViolation("invalid length of startup packet: " + std::to_string(len));
    return DecodeState::kError;
  }
  if (buf.size() < len) return DecodeState::kNeedMore;
  *body = buf.substr(4, len - 4);
  *consumed = len;
  return DecodeState::kFrame;
}

const std::string* StartupPacket::Param(std::string_view key) const {
  for (const auto& [k, v] : params) {
    if (k == key) return &v;
  }
  return nullptr;
}

Result<StartupPacket> ParseStartupPacket(std::string_view body) {
  Reader r(body, "startup");
  StartupPacket p;
  int32_t code = r.Int32("protocol version");
  if (!r.ok()) return r.status();
  switch (code) {
    case kSslRequestCode:
      p.kind = StartupPacket::Kind::kSslRequest;
      r.End();
      break;
    case kGssEncRequestCode:
      p.kind = StartupPacket::Kind::kGssEncRequest;
      r.End();
      break;
    case kCancelRequestCode:
      p.kind = StartupPacket::Kind::kCancelRequest;
      p.cancel_pid = r.Int32("process ID");
      p.cancel_secret = r.Int32("secret key");
      r.End();
      break;
    default: {
      p.kind = StartupPacket::Kind::kStartup;
      p.version = code;
      if ((code >> 16) != 3) break;  // caller reports the unsupported version
      // Name/value pairs terminated by an empty name.
      while (r.ok()) {
        std::string_view name = r.CString("parameter name");
        if (!r.ok()) break;
        if (name.empty()) break;
        std::string_view value = r.CString("parameter value");
        if (!r.ok()) break;
        p.params.emplace_back(std::string(name), std::string(value));
      }
      r.End();
      break;
    }
  }
  if (!r.ok()) return r.status();
  return p;
}

Result<std::string_view> ParseQueryMessage(std::string_view body) {
  Reader r(body, "Query");
  std::string_view sql = r.CString("query string");
  r.End();
  if (!r.ok()) return r.status();
  return sql;
}

Result<ParseMessage> ParseParseMessage(std::string_view body) {
  Reader r(body, "Parse");
  ParseMessage m;
  m.statement = r.CString("statement name");
  m.query = r.CString("query string");
  int16_t n = r.Int16("parameter type count");
  if (r.ok() && n < 0) r.Fail("negative parameter type count");
  if (r.ok() && static_cast<size_t>(n) * 4 > r.remaining()) r.Fail("truncated parameter types");
  if (r.ok()) {
    m.param_types.reserve(n);
    for (int i = 0; i < n; ++i) m.param_types.push_back(static_cast<uint32_t>(r.Int32("type")));
  }
  r.End();
  if (!r.ok()) return r.status();
  return m;
}

Result<BindMessage> ParseBindMessage(std::string_view body) {
  Reader r(body, "Bind");
  BindMessage m;
  m.portal = r.CString("portal name");
  m.statement = r.CString("statement name");
  int16_t nformats = r.Int16("parameter format count");
  if (r.ok() && nformats < 0) r.Fail("negative parameter format count");
  if (r.ok() && static_cast<size_t>(nformats) * 2 > r.remaining()) {
    r.Fail("truncated parameter format codes");
  }
  if (r.ok()) {
    m.param_formats.reserve(nformats);
    for (int i = 0; i < nformats; ++i) m.param_formats.push_back(r.Int16("format code"));
  }
  int16_t nparams = r.Int16("parameter count");
  if (r.ok() && nparams < 0) r.Fail("negative parameter count");
  if (r.ok() && static_cast<size_t>(nparams) * 4 > r.remaining()) r.Fail("truncated parameters");
  if (r.ok()) {
    m.params.reserve(nparams);
    for (int i = 0; i < nparams && r.ok(); ++i) {
      int32_t len = r.Int32("parameter length");
      if (!r.ok()) break;
      if (len == -1) {
        m.params.emplace_back(std::nullopt);
      } else if (len < 0) {
        r.Fail("invalid length " + std::to_string(len) + " of parameter " + std::to_string(i + 1));
      } else {
        std::string_view v = r.Bytes(static_cast<size_t>(len), "parameter value");
        if (r.ok()) m.params.emplace_back(v);
      }
    }
  }
  int16_t nresults = r.Int16("result format count");
  if (r.ok() && nresults < 0) r.Fail("negative result format count");
  if (r.ok() && static_cast<size_t>(nresults) * 2 > r.remaining()) {
    r.Fail("truncated result format codes");
  }
  if (r.ok()) {
    m.result_formats.reserve(nresults);
    for (int i = 0; i < nresults; ++i) m.result_formats.push_back(r.Int16("format code"));
  }
  r.End();
  if (!r.ok()) return r.status();
  return m;
}

namespace {
Result<DescribeMessage> ParseTargetMessage(std::string_view body, const char* what) {
  Reader r(body, what);
  DescribeMessage m;
  m.kind = r.Byte("target type");
  if (r.ok() && m.kind != 'S' && m.kind != 'P') {
    r.Fail("target type must be 'S' or 'P', got byte " +
           std::to_string(static_cast<unsigned char>(m.kind)));
  }
  m.name = r.CString("name");
  r.End();
  if (!r.ok()) return r.status();
  return m;
}
}  // namespace

Result<DescribeMessage> ParseDescribeMessage(std::string_view body) {
  return ParseTargetMessage(body, "Describe");
}

Result<CloseMessage> ParseCloseMessage(std::string_view body) {
  return ParseTargetMessage(body, "Close");
}

Result<ExecuteMessage> ParseExecuteMessage(std::string_view body) {
  Reader r(body, "Execute");
  ExecuteMessage m;
  m.portal = r.CString("portal name");
  m.max_rows = r.Int32("row limit");
  r.End();
  if (!r.ok()) return r.status();
  if (m.max_rows < 0) m.max_rows = 0;  // PostgreSQL treats <= 0 as "no limit"
  return m;
}

Result<std::string_view> ParseCopyFailMessage(std::string_view body) {
  Reader r(body, "CopyFail");
  std::string_view why = r.CString("error message");
  r.End();
  if (!r.ok()) return r.status();
  return why;
}

Status ParseEmptyMessage(char type, std::string_view body) {
  if (!body.empty()) {
    return ProtocolViolation(std::string("invalid ") + MessageName(type) +
                             " message: " + std::to_string(body.size()) + " unexpected bytes");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// BackendWriter

void BackendWriter::Begin(char type) {
  start_ = out_->size();
  out_->push_back(type);
  out_->append(4, '\0');
}

void BackendWriter::End() {
  size_t len = out_->size() - start_ - 1;
  auto u = static_cast<uint32_t>(len);
  char* p = out_->data() + start_ + 1;
  p[0] = static_cast<char>(u >> 24);
  p[1] = static_cast<char>(u >> 16);
  p[2] = static_cast<char>(u >> 8);
  p[3] = static_cast<char>(u);
}

void BackendWriter::Int16(int16_t v) {
  PutInt16(out_, v);
}
void BackendWriter::Int32(int32_t v) {
  PutInt32(out_, v);
}

void BackendWriter::CString(std::string_view v) {
  // An embedded NUL would corrupt framing; cut the string there.
  size_t nul = v.find('\0');
  if (nul != std::string_view::npos) v = v.substr(0, nul);
  out_->append(v);
  out_->push_back('\0');
}

void BackendWriter::AuthenticationOk() {
  Begin('R');
  Int32(0);
  End();
}

void BackendWriter::ParameterStatus(std::string_view name, std::string_view value) {
  Begin('S');
  CString(name);
  CString(value);
  End();
}

void BackendWriter::BackendKeyData(int32_t pid, int32_t secret) {
  Begin('K');
  Int32(pid);
  Int32(secret);
  End();
}

void BackendWriter::ReadyForQuery(char status) {
  Begin('Z');
  out_->push_back(status);
  End();
}

void BackendWriter::RowDescription(const std::vector<ColumnDesc>& columns,
                                   const std::vector<int16_t>& formats) {
  Begin('T');
  Int16(static_cast<int16_t>(columns.size()));
  for (size_t i = 0; i < columns.size(); ++i) {
    const ColumnDesc& c = columns[i];
    int16_t format = 0;
    if (formats.size() == 1) {
      format = formats[0];
    } else if (i < formats.size()) {
      format = formats[i];
    }
    CString(c.name);
    Int32(0);  // table OID
    Int16(0);  // column attribute number
    Int32(static_cast<int32_t>(c.type_oid));
    Int16(c.type_size);
    Int32(c.type_modifier);
    Int16(format);
  }
  End();
}

void BackendWriter::NoData() {
  Begin('n');
  End();
}

void BackendWriter::ParameterDescription(const std::vector<uint32_t>& oids) {
  Begin('t');
  Int16(static_cast<int16_t>(oids.size()));
  for (uint32_t oid : oids) Int32(static_cast<int32_t>(oid));
  End();
}

void BackendWriter::DataRowText(const TextRow& row) {
  Begin('D');
  Int16(static_cast<int16_t>(row.size()));
  for (const TextValue& v : row) {
    if (!v) {
      Int32(-1);
    } else {
      Int32(static_cast<int32_t>(v->size()));
      Bytes(*v);
    }
  }
  End();
}

void BackendWriter::CommandComplete(std::string_view tag) {
  Begin('C');
  CString(tag);
  End();
}

void BackendWriter::EmptyQueryResponse() {
  Begin('I');
  End();
}

void BackendWriter::ParseComplete() {
  Begin('1');
  End();
}

void BackendWriter::BindComplete() {
  Begin('2');
  End();
}

void BackendWriter::CloseComplete() {
  Begin('3');
  End();
}

void BackendWriter::PortalSuspended() {
  Begin('s');
  End();
}

void BackendWriter::CopyInResponse(int columns) {
  Begin('G');
  Int8(0);  // overall format: text
  Int16(static_cast<int16_t>(columns));
  for (int i = 0; i < columns; ++i) Int16(0);
  End();
}

void BackendWriter::NegotiateProtocolVersion(int32_t newest_version,
                                             const std::vector<std::string>& options) {
  Begin('v');
  Int32(newest_version);
  Int32(static_cast<int32_t>(options.size()));
  for (const std::string& o : options) CString(o);
  End();
}

void BackendWriter::ErrorResponse(const Status& status, std::string_view severity) {
  Begin('E');
  Int8('S');
  CString(severity);
  Int8('V');
  CString(severity);
  Int8('C');
  CString(status.ok() ? std::string_view(sqlstate::kInternalError) : status.code());
  Int8('M');
  CString(status.ok() ? std::string_view("unknown error") : std::string_view(status.message()));
  std::string detail = status.detail();
  if (!detail.empty()) {
    Int8('D');
    CString(detail);
  }
  if (!status.hint().empty()) {
    Int8('H');
    CString(status.hint());
  }
  if (status.position() > 0) {
    Int8('P');
    CString(std::to_string(status.position()));
  }
  Int8(0);
  End();
}

void BackendWriter::NoticeResponse(std::string_view message) {
  Begin('N');
  Int8('S');
  CString("NOTICE");
  Int8('V');
  CString("NOTICE");
  Int8('C');
  CString(sqlstate::kSuccess);
  Int8('M');
  CString(message);
  Int8(0);
  End();
}

}  // namespace sb::pgwire
