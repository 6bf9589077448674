#include "pgwire/connection.h"

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <random>

#include <spdlog/spdlog.h>

#include "pgwire/format.h"

namespace sb::pgwire {

namespace {

constexpr size_t kInitialInputBytes = 16 * 1024;
constexpr size_t kMinReadBytes = 4 * 1024;
constexpr size_t kShrinkInputAbove = 1u << 20;
// Output is sent when this much is buffered even without Sync/Flush, so large
// results stream instead of piling up in memory.
constexpr size_t kFlushThreshold = 64 * 1024;

int32_t RandomSecret() {
  int32_t v = 0;
  ssize_t n = getrandom(&v, sizeof(v), 0);
  if (n != static_cast<ssize_t>(sizeof(v))) {
    std::random_device rd;  // kernel-backed on Linux
    v = static_cast<int32_t>(rd());
  }
  return v;
}

void SetReceiveTimeout(int fd, int ms) {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

// An empty query string (whitespace and semicolons only) gets
// EmptyQueryResponse without bothering the engine.
bool IsEmptyQuery(std::string_view sql) {
  for (char c : sql) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != ';') {
      return false;
    }
  }
  return true;
}

int16_t FormatFor(const std::vector<int16_t>& formats, size_t column) {
  if (formats.empty()) return kFormatText;
  if (formats.size() == 1) return formats[0];
  return column < formats.size() ? formats[column] : kFormatText;
}

// "SELECT n" tags report the rows of the final Execute of a suspended portal.
std::string BatchTag(const std::string& tag, size_t rows) {
  if (tag.rfind("SELECT", 0) == 0) return "SELECT " + std::to_string(rows);
  return tag;
}

Status CheckResultFormats(const std::vector<int16_t>& formats,
                          const std::vector<ColumnDesc>& columns) {
  if (formats.size() > 1 && formats.size() != columns.size()) {
    return ProtocolViolation("bind message has " + std::to_string(formats.size()) +
                             " result formats but query has " + std::to_string(columns.size()) +
                             " columns");
  }
  for (size_t i = 0; i < columns.size(); ++i) {
    if (FormatFor(formats, i) == kFormatBinary && !SupportsBinary(columns[i].type_oid)) {
      return Status::NotSupported("binary result format is not supported for column \"" +
                                      columns[i].name + "\" of type " +
                                      TypeName(columns[i].type_oid),
                                  "Request text format (format code 0) for this column.");
    }
  }
  return Status::Ok();
}

}  // namespace

Connection::Connection(int fd, int32_t pid, const ServerOptions& options, SessionFactory* factory,
                       ConnectionHost* host)
    : fd_(fd),
      pid_(pid),
      options_(options),
      factory_(factory),
      host_(host),
      in_(kInitialInputBytes),
      w_(&out_) {}

bool Connection::CloseStatement(std::string_view name) {
  auto it = statements_.find(name);
  if (it == statements_.end()) return false;
  // Portals keep their own reference to the statement, so a running one is safe.
  statements_.erase(it);
  return true;
}

void Connection::CloseAllStatements() {
  statements_.clear();
}

Connection::~Connection() {
  // Prepared statements may refer to engine state: drop them first.
  portals_.clear();
  statements_.clear();
  if (attached_) host_->DetachSession(pid_);
  session_.reset();
}

// ---------------------------------------------------------------------------
// I/O

bool Connection::Fill(size_t want_total) {
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
    if (in_.size() > kShrinkInputAbove) {
      in_.assign(kInitialInputBytes, 0);
      in_.shrink_to_fit();
    }
  } else if (in_begin_ > 0) {
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  // Make room for the whole pending message when its length is known (its
  // size was already checked against max_message_bytes), else grow by doubling.
  if (want_total > in_.size()) {
    in_.resize(want_total);
  } else if (in_.size() - in_end_ < kMinReadBytes) {
    in_.resize(in_.size() * 2);
  }
  while (true) {
    ssize_t n = recv(fd_, in_.data() + in_end_, in_.size() - in_end_, 0);
    if (n > 0) {
      in_end_ += static_cast<size_t>(n);
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;  // EOF, timeout (EAGAIN) or a socket error
  }
}

void Connection::Flush() {
  size_t off = 0;
  while (!broken_ && off < out_.size()) {
    ssize_t n = send(fd_, out_.data() + off, out_.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      broken_ = true;
    }
  }
  out_.clear();
  if (out_.capacity() > 4 * kFlushThreshold) out_.shrink_to_fit();
}

void Connection::MaybeFlush() {
  if (out_.size() >= kFlushThreshold) Flush();
}

void Connection::SendFatal(const Status& status) {
  sent_fatal_ = true;
  fatal_code_ = status.code();
  // Shutdown and refusals are logged by the server; everything else ends a
  // client's connection unexpectedly and is worth an operator's attention.
  if (fatal_code_ != sqlstate::kAdminShutdown && fatal_code_ != sqlstate::kTooManyConnections) {
    spdlog::info("pgwire: closing connection {} from {}: FATAL {} {}", pid_, peer_, fatal_code_,
                 status.message());
  }
  w_.ErrorResponse(status, "FATAL");
  Flush();
}

bool Connection::ReadFrame(Frame* frame) {
  while (!broken_) {
    Status error;
    size_t consumed = 0;
    std::string_view buf(in_.data() + in_begin_, in_end_ - in_begin_);
    switch (DecodeFrame(buf, options_.max_message_bytes, frame, &consumed, &error)) {
      case DecodeState::kFrame:
        in_begin_ += consumed;
        return true;
      case DecodeState::kError:
        SendFatal(error);
        return false;
      case DecodeState::kNeedMore:
        break;
    }
    // About to block: make sure the client has everything we produced.
    if (!out_.empty()) Flush();
    size_t want_total = 0;
    if (buf.size() >= 5) want_total = 1 + size_t{GetUint32(buf.data() + 1)};
    if (!Fill(want_total)) {
      if (host_->stopping()) {
        SendFatal(Status(sqlstate::kAdminShutdown,
                         "terminating connection due to administrator command"));
      }
      return false;
    }
  }
  return false;
}

bool Connection::ReadStartupBody(std::string_view* body) {
  while (!broken_) {
    Status error;
    size_t consumed = 0;
    std::string_view buf(in_.data() + in_begin_, in_end_ - in_begin_);
    switch (DecodeStartupFrame(buf, body, &consumed, &error)) {
      case DecodeState::kFrame:
        in_begin_ += consumed;
        return true;
      case DecodeState::kError:
        SendFatal(error);
        return false;
      case DecodeState::kNeedMore:
        break;
    }
    if (!out_.empty()) Flush();
    if (!Fill(0)) return false;  // incomplete startup packet: just close
  }
  return false;
}

// ---------------------------------------------------------------------------
// Startup

void Connection::Run() {
  try {
    bool refused = false;
    if (Startup(nullptr, &refused)) MainLoop();
  } catch (const std::exception& e) {
    out_.clear();  // may hold a partial message
    SendFatal(Status::Internal(std::string("internal error in protocol handler: ") + e.what()));
  } catch (...) {
    out_.clear();
    SendFatal(Status::Internal("internal error in protocol handler"));
  }
}

bool Connection::RunRefusal(const Status& reason) {
  bool refused = false;
  try {
    Startup(&reason, &refused);
  } catch (...) {
    // Nothing useful to tell a refused client.
  }
  return refused;
}

bool Connection::Startup(const Status* refusal, bool* refused) {
  // Refused clients get less time: they only occupy one of a few refusal slots.
  SetReceiveTimeout(fd_, refusal != nullptr ? std::min(options_.startup_timeout_ms, 5000)
                                            : options_.startup_timeout_ms);
  // A client may try SSL and GSS encryption before the real startup packet.
  for (int round = 0; round < 3; ++round) {
    std::string_view body;
    if (!ReadStartupBody(&body)) return false;
    Result<StartupPacket> packet = ParseStartupPacket(body);
    if (!packet.ok()) {
      SendFatal(packet.status());
      return false;
    }
    StartupPacket& p = packet.value();
    switch (p.kind) {
      case StartupPacket::Kind::kSslRequest:
      case StartupPacket::Kind::kGssEncRequest:
        // Encryption is not offered: 'N' and the client continues in plain text.
        out_.push_back('N');
        Flush();
        continue;
      case StartupPacket::Kind::kCancelRequest:
        host_->CancelBackend(p.cancel_pid, p.cancel_secret);
        return false;  // no reply, as PostgreSQL
      case StartupPacket::Kind::kStartup:
        break;
    }
    int major = p.version >> 16;
    int minor = p.version & 0xffff;
    if (major != 3) {
      SendFatal(Status::NotSupported("unsupported frontend protocol " + std::to_string(major) +
                                     "." + std::to_string(minor) + ": server supports 3.0 to 3.0"));
      return false;
    }
    if (refusal != nullptr) {
      *refused = true;
      SendFatal(*refusal);
      return false;
    }
    const std::string* user = p.Param("user");
    if (user == nullptr || user->empty()) {
      SendFatal(Status("28000", "no PostgreSQL user name specified in startup packet"));
      return false;
    }
    const std::string* db = p.Param("database");
    std::string database = (db == nullptr || db->empty()) ? *user : *db;
    std::vector<std::string> unknown_options;
    for (const auto& [k, v] : p.params) {
      if (k.rfind("_pq_.", 0) == 0) unknown_options.push_back(k);
    }
    if (minor > 0 || !unknown_options.empty()) {
      w_.NegotiateProtocolVersion(kProtocolVersion3, unknown_options);
    }
    Result<std::unique_ptr<Session>> session = factory_->Open(*user, database);
    if (!session.ok()) {
      SendFatal(session.status());
      return false;
    }
    if (session.value() == nullptr) {
      SendFatal(Status::Internal("session factory returned no session"));
      return false;
    }
    session_ = std::move(session).value();
    session_->set_statement_names(this);
    int32_t secret = RandomSecret();
    host_->AttachSession(pid_, secret, session_.get());
    attached_ = true;
    w_.AuthenticationOk();
    for (const auto& [name, value] : session_->StartupParameters()) {
      w_.ParameterStatus(name, value);
    }
    w_.BackendKeyData(pid_, secret);
    w_.ReadyForQuery(session_->TransactionStatus());
    Flush();
    SetReceiveTimeout(fd_, 0);
    return !broken_;
  }
  SendFatal(ProtocolViolation("too many encryption negotiation requests in startup"));
  return false;
}

// ---------------------------------------------------------------------------
// Main loop

void Connection::MainLoop() {
  while (!broken_) {
    Frame f;
    if (!ReadFrame(&f)) return;
    if (ignore_till_sync_ && f.type != fe::kSync && f.type != fe::kTerminate) continue;
    bool keep = true;
    switch (f.type) {
      case fe::kQuery:
        keep = HandleQuery(f.body);
        break;
      case fe::kParse:
        keep = HandleParse(f.body);
        break;
      case fe::kBind:
        keep = HandleBind(f.body);
        break;
      case fe::kDescribe:
        keep = HandleDescribe(f.body);
        break;
      case fe::kExecute:
        keep = HandleExecute(f.body);
        break;
      case fe::kClose:
        keep = HandleClose(f.body);
        break;
      case fe::kSync: {
        Status st = ParseEmptyMessage(f.type, f.body);
        if (!st.ok()) {
          SendFatal(st);
          return;
        }
        HandleSync();
        break;
      }
      case fe::kFlush: {
        Status st = ParseEmptyMessage(f.type, f.body);
        if (!st.ok()) {
          SendFatal(st);
          return;
        }
        Flush();
        break;
      }
      case fe::kTerminate:
        return;
      case fe::kCopyData:
      case fe::kCopyDone:
      case fe::kCopyFail:
        // Leftovers of a COPY that already failed: ignored, as PostgreSQL.
        break;
      case fe::kFunctionCall:
        w_.ErrorResponse(Status::NotSupported("the function call sub-protocol is not supported",
                                              "Call the function with a SELECT statement."));
        w_.ReadyForQuery(session_->TransactionStatus());
        Flush();
        break;
      default:
        SendFatal(ProtocolViolation("unexpected message type " +
                                    std::to_string(static_cast<unsigned char>(f.type)) +
                                    " after startup"));
        return;
    }
    if (!keep) return;
  }
}

void Connection::ExtendedError(const Status& status) {
  w_.ErrorResponse(status);
  ignore_till_sync_ = true;
  error_since_sync_ = true;
}

void Connection::HandleSync() {
  if (error_since_sync_) session_->OnError();
  ignore_till_sync_ = false;
  error_since_sync_ = false;
  char tx = session_->TransactionStatus();
  // Portals live until the end of their transaction.
  if (tx == 'I') portals_.clear();
  w_.ReadyForQuery(tx);
  Flush();
}

// ---------------------------------------------------------------------------
// Simple query

bool Connection::HandleQuery(std::string_view body) {
  Result<std::string_view> sql = ParseQueryMessage(body);
  if (!sql.ok()) {
    SendFatal(sql.status());
    return false;
  }
  // A simple query ends the unnamed statement and portal.
  if (auto it = statements_.find(std::string_view()); it != statements_.end()) {
    statements_.erase(it);
  }
  if (auto it = portals_.find(std::string_view()); it != portals_.end()) portals_.erase(it);

  if (IsEmptyQuery(*sql)) {
    w_.EmptyQueryResponse();
  } else {
    Status error;
    std::vector<StatementResult> results = session_->ExecuteSimple(*sql, &error);
    if (results.empty() && error.ok()) w_.EmptyQueryResponse();
    for (const StatementResult& r : results) {
      Status copy_error;
      if (!SendSimpleResult(r, &copy_error)) return false;
      if (!copy_error.ok()) {
        error = copy_error;
        break;
      }
      if (broken_) return false;
    }
    if (!error.ok()) w_.ErrorResponse(error);
  }
  char tx = session_->TransactionStatus();
  if (tx == 'I') portals_.clear();
  w_.ReadyForQuery(tx);
  Flush();
  return !broken_;
}

bool Connection::SendSimpleResult(const StatementResult& r, Status* error) {
  for (const std::string& n : r.notices) w_.NoticeResponse(n);
  if (r.copy_in) return RunCopyIn(r, error);
  if (r.returns_rows) {
    w_.RowDescription(r.columns);
    for (const TextRow& row : r.rows) {
      w_.DataRowText(row);
      MaybeFlush();
      if (broken_) return false;
    }
  }
  w_.CommandComplete(r.command_tag);
  return true;
}

bool Connection::RunCopyIn(const StatementResult& r, Status* error) {
  w_.CopyInResponse(r.copy_column_count);
  Flush();
  std::string data;
  while (true) {
    Frame f;
    if (!ReadFrame(&f)) {
      session_->CopyAbort(r.copy_handle);
      return false;
    }
    switch (f.type) {
      case fe::kCopyData:
        if (data.size() + f.body.size() > options_.max_copy_bytes) {
          session_->CopyAbort(r.copy_handle);
          *error = Status(sqlstate::kProgramLimitExceeded,
                          "COPY data exceeds the limit of " +
                              std::to_string(options_.max_copy_bytes) + " bytes",
                          "Split the data into several COPY commands.");
          return true;
        }
        data.append(f.body);
        break;
      case fe::kCopyDone: {
        Status st = ParseEmptyMessage(f.type, f.body);
        if (!st.ok()) {
          session_->CopyAbort(r.copy_handle);
          SendFatal(st);
          return false;
        }
        Result<StatementResult> done = session_->CopyIn(r.copy_handle, data);
        if (!done.ok()) {
          *error = done.status();
          return true;
        }
        for (const std::string& n : done->notices) w_.NoticeResponse(n);
        w_.CommandComplete(done->command_tag);
        return true;
      }
      case fe::kCopyFail: {
        Result<std::string_view> why = ParseCopyFailMessage(f.body);
        session_->CopyAbort(r.copy_handle);
        if (!why.ok()) {
          SendFatal(why.status());
          return false;
        }
        *error = Status(sqlstate::kQueryCanceled, "COPY from stdin failed: " + std::string(*why));
        return true;
      }
      case fe::kFlush:
      case fe::kSync:
        break;  // tolerated during COPY, as PostgreSQL
      default:
        session_->CopyAbort(r.copy_handle);
        *error = ProtocolViolation("unexpected message type " +
                                   std::to_string(static_cast<unsigned char>(f.type)) +
                                   " during COPY from stdin");
        return true;
    }
  }
}

// ---------------------------------------------------------------------------
// Extended query

bool Connection::HandleParse(std::string_view body) {
  Result<ParseMessage> m = ParseParseMessage(body);
  if (!m.ok()) {
    SendFatal(m.status());
    return false;
  }
  const bool unnamed = m->statement.empty();
  if (!unnamed && statements_.find(m->statement) != statements_.end()) {
    ExtendedError(Status("42P05",
                         "prepared statement \"" + std::string(m->statement) + "\" already exists",
                         "Close the statement first or use another name."));
    return true;
  }
  Statement stmt;
  if (!IsEmptyQuery(m->query)) {
    Result<std::shared_ptr<PreparedStatement>> prepared =
        session_->Prepare(m->query, m->param_types);
    if (!prepared.ok()) {
      ExtendedError(prepared.status());
      return true;
    }
    if (prepared.value() == nullptr) {
      ExtendedError(Status::Internal("engine returned no prepared statement"));
      return true;
    }
    stmt.prepared = std::move(prepared).value();
    stmt.param_types = stmt.prepared->info().param_type_oids;
  } else {
    stmt.param_types = m->param_types;
  }
  statements_.insert_or_assign(std::string(m->statement), std::move(stmt));
  w_.ParseComplete();
  return true;
}

bool Connection::HandleBind(std::string_view body) {
  Result<BindMessage> m = ParseBindMessage(body);
  if (!m.ok()) {
    SendFatal(m.status());
    return false;
  }
  auto sit = statements_.find(m->statement);
  if (sit == statements_.end()) {
    ExtendedError(
        Status(sqlstate::kInvalidSqlStatementName,
               "prepared statement \"" + std::string(m->statement) + "\" does not exist"));
    return true;
  }
  const Statement& stmt = sit->second;
  const size_t nparams = stmt.param_types.size();
  if (m->params.size() != nparams) {
    ExtendedError(ProtocolViolation("bind message supplies " + std::to_string(m->params.size()) +
                                    " parameters, but prepared statement \"" +
                                    std::string(m->statement) + "\" requires " +
                                    std::to_string(nparams)));
    return true;
  }
  if (m->param_formats.size() > 1 && m->param_formats.size() != nparams) {
    ExtendedError(ProtocolViolation("bind message has " + std::to_string(m->param_formats.size()) +
                                    " parameter formats but " + std::to_string(nparams) +
                                    " parameters"));
    return true;
  }
  for (int16_t f : m->param_formats) {
    if (f != kFormatText && f != kFormatBinary) {
      ExtendedError(Status(sqlstate::kInvalidParameterValue,
                           "unsupported format code: " + std::to_string(f)));
      return true;
    }
  }
  for (int16_t f : m->result_formats) {
    if (f != kFormatText && f != kFormatBinary) {
      ExtendedError(Status(sqlstate::kInvalidParameterValue,
                           "unsupported format code: " + std::to_string(f)));
      return true;
    }
  }
  if (stmt.prepared != nullptr) {
    Status st = CheckResultFormats(m->result_formats, stmt.prepared->info().columns);
    if (!st.ok()) {
      ExtendedError(st);
      return true;
    }
  }
  const bool unnamed_portal = m->portal.empty();
  if (!unnamed_portal && portals_.find(m->portal) != portals_.end()) {
    ExtendedError(Status("42P03", "portal \"" + std::string(m->portal) + "\" already exists",
                         "Close the portal first or use another name."));
    return true;
  }

  Portal portal;
  portal.prepared = stmt.prepared;
  portal.params.reserve(nparams);
  for (size_t i = 0; i < nparams; ++i) {
    const std::optional<std::string_view>& v = m->params[i];
    if (!v) {
      portal.params.emplace_back(std::nullopt);
      continue;
    }
    if (FormatFor(m->param_formats, i) == kFormatText) {
      if (v->find('\0') != std::string_view::npos) {
        ExtendedError(Status("22021",
                             "invalid byte sequence for encoding \"UTF8\": 0x00 in bind "
                             "parameter " +
                                 std::to_string(i + 1)));
        return true;
      }
      portal.params.emplace_back(std::string(*v));
      continue;
    }
    std::string text;
    Status st = BinaryToText(stmt.param_types[i], *v, static_cast<int>(i + 1), &text);
    if (!st.ok()) {
      ExtendedError(st);
      return true;
    }
    portal.params.emplace_back(std::move(text));
  }
  portal.result_formats = std::move(m->result_formats);
  portals_.insert_or_assign(std::string(m->portal), std::move(portal));
  w_.BindComplete();
  return true;
}

bool Connection::HandleDescribe(std::string_view body) {
  Result<DescribeMessage> m = ParseDescribeMessage(body);
  if (!m.ok()) {
    SendFatal(m.status());
    return false;
  }
  if (m->kind == 'S') {
    auto it = statements_.find(m->name);
    if (it == statements_.end()) {
      ExtendedError(Status(sqlstate::kInvalidSqlStatementName,
                           "prepared statement \"" + std::string(m->name) + "\" does not exist"));
      return true;
    }
    w_.ParameterDescription(it->second.param_types);
    const PreparedStatement* p = it->second.prepared.get();
    if (p != nullptr && p->info().returns_rows) {
      w_.RowDescription(p->info().columns);
    } else {
      w_.NoData();
    }
    return true;
  }
  auto it = portals_.find(m->name);
  if (it == portals_.end()) {
    ExtendedError(Status(sqlstate::kInvalidCursorName,
                         "portal \"" + std::string(m->name) + "\" does not exist"));
    return true;
  }
  const Portal& portal = it->second;
  if (portal.started && portal.result.returns_rows) {
    w_.RowDescription(portal.result.columns, portal.result_formats);
  } else if (portal.prepared != nullptr && portal.prepared->info().returns_rows) {
    w_.RowDescription(portal.prepared->info().columns, portal.result_formats);
  } else {
    w_.NoData();
  }
  return true;
}

Status Connection::WriteDataRow(const TextRow& row, const std::vector<ColumnDesc>& columns,
                                const std::vector<int16_t>& formats) {
  const size_t start = out_.size();
  w_.Begin('D');
  w_.Int16(static_cast<int16_t>(row.size()));
  for (size_t i = 0; i < row.size(); ++i) {
    const TextValue& v = row[i];
    if (!v) {
      w_.Int32(-1);
      continue;
    }
    if (FormatFor(formats, i) == kFormatText || i >= columns.size()) {
      w_.Int32(static_cast<int32_t>(v->size()));
      w_.Bytes(*v);
      continue;
    }
    const size_t len_at = out_.size();
    w_.Int32(0);
    Status st = TextToBinary(columns[i].type_oid, *v, &out_);
    if (!st.ok()) {
      out_.resize(start);
      return st.Annotate("column \"" + columns[i].name + "\"");
    }
    auto len = static_cast<uint32_t>(out_.size() - len_at - 4);
    out_[len_at] = static_cast<char>(len >> 24);
    out_[len_at + 1] = static_cast<char>(len >> 16);
    out_[len_at + 2] = static_cast<char>(len >> 8);
    out_[len_at + 3] = static_cast<char>(len);
  }
  w_.End();
  return Status::Ok();
}

bool Connection::HandleExecute(std::string_view body) {
  Result<ExecuteMessage> m = ParseExecuteMessage(body);
  if (!m.ok()) {
    SendFatal(m.status());
    return false;
  }
  auto it = portals_.find(m->portal);
  if (it == portals_.end()) {
    ExtendedError(Status(sqlstate::kInvalidCursorName,
                         "portal \"" + std::string(m->portal) + "\" does not exist"));
    return true;
  }
  const size_t max_rows = m->max_rows > 0 ? static_cast<size_t>(m->max_rows) : SIZE_MAX;
  Portal& portal = it->second;
  if (portal.prepared == nullptr) {
    w_.EmptyQueryResponse();
    return true;
  }
  if (!portal.started) {
    portal.started = true;
    Result<StatementResult> r = session_->ExecutePrepared(*portal.prepared, portal.params);
    if (!r.ok()) {
      portal.done = portal.unrunnable = true;
      ExtendedError(r.status());
      return true;
    }
    portal.result = std::move(r).value();
    for (const std::string& n : portal.result.notices) w_.NoticeResponse(n);
    if (portal.result.returns_rows) {
      Status st = CheckResultFormats(portal.result_formats, portal.result.columns);
      if (!st.ok()) {
        portal.done = portal.unrunnable = true;
        ExtendedError(st);
        return true;
      }
    }
    if (portal.result.copy_in) {
      // RunCopyIn only reads COPY messages, so `portal` stays valid.
      portal.done = portal.unrunnable = true;
      Status error;
      if (!RunCopyIn(portal.result, &error)) return false;
      if (!error.ok()) ExtendedError(error);
      return true;
    }
  } else if (portal.unrunnable) {
    ExtendedError(Status("55000", "portal \"" + it->first + "\" cannot be run"));
    return true;
  } else if (portal.done) {
    // Re-executing a finished portal returns no more rows.
    w_.CommandComplete(portal.result.returns_rows ? BatchTag(portal.result.command_tag, 0)
                                                  : portal.result.command_tag);
    return true;
  }

  StatementResult& res = portal.result;
  if (!res.returns_rows) {
    portal.done = true;
    w_.CommandComplete(res.command_tag);
    return true;
  }
  size_t sent = 0;
  while (portal.next_row < res.rows.size() && sent < max_rows) {
    Status st = WriteDataRow(res.rows[portal.next_row], res.columns, portal.result_formats);
    if (!st.ok()) {
      portal.done = portal.unrunnable = true;
      ExtendedError(st);
      return true;
    }
    ++portal.next_row;
    ++sent;
    MaybeFlush();
    if (broken_) return false;
  }
  if (portal.next_row < res.rows.size()) {
    portal.suspended = true;
    w_.PortalSuspended();
    return true;
  }
  portal.done = true;
  w_.CommandComplete(portal.suspended ? BatchTag(res.command_tag, sent) : res.command_tag);
  res.rows.clear();
  res.rows.shrink_to_fit();
  return true;
}

bool Connection::HandleClose(std::string_view body) {
  Result<CloseMessage> m = ParseCloseMessage(body);
  if (!m.ok()) {
    SendFatal(m.status());
    return false;
  }
  if (m->kind == 'S') {
    if (auto it = statements_.find(m->name); it != statements_.end()) statements_.erase(it);
  } else {
    if (auto it = portals_.find(m->name); it != portals_.end()) portals_.erase(it);
  }
  w_.CloseComplete();
  return true;
}

}  // namespace sb::pgwire
