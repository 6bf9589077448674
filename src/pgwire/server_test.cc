// End-to-end tests of the pgwire server, driven by real libpq and by raw
// sockets, against a fake Session: a tiny engine that knows a handful of
// statements ("SELECT n", "FAIL", "SLEEP", "COPY ... FROM STDIN", "ECHO types").
#include "pgwire/server.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "pgwire/wire_test_util.h"

namespace sb::pgwire {
namespace {

using testing::BackendMessage;
using testing::BE32;
using testing::Body;
using testing::ErrorFields;
using testing::Msg;
using testing::RawClient;
using testing::StartupPacketBytes;
using testing::StartupV3;

using Clock = std::chrono::steady_clock;

// Polls cond every millisecond for up to timeout_ms.
template <typename F>
bool WaitFor(F cond, int timeout_ms = 5000) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return cond();
}

std::string Trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// ---------------------------------------------------------------------------
// The fake engine.

struct EngineState {
  std::mutex mu;
  std::string last_user, last_database;
  std::vector<TextValue> last_params;
  std::string last_copy_data;
  bool last_copy_csv = false;
  std::atomic<int> copy_aborts{0};
  std::atomic<int> on_error_calls{0};
  std::atomic<int> open_sessions{0};
  std::atomic<int> sleeping{0};
};

constexpr uint32_t kTimeOid = 1083;  // a type without binary support

const std::vector<std::pair<std::string, uint32_t>> kTypeNames = {
    {"int2", oid::kInt2},
    {"int4", oid::kInt4},
    {"int8", oid::kInt8},
    {"float4", oid::kFloat4},
    {"float8", oid::kFloat8},
    {"bool", oid::kBool},
    {"text", oid::kText},
    {"varchar", oid::kVarchar},
    {"bytea", oid::kBytea},
    {"uuid", oid::kUuid},
    {"numeric", oid::kNumeric},
    {"date", oid::kDate},
    {"timestamptz", oid::kTimestamptz}};

class FakePrepared : public PreparedStatement {
 public:
  FakePrepared(std::string sql, PreparedInfo info) : sql_(std::move(sql)), info_(std::move(info)) {}
  const PreparedInfo& info() const override { return info_; }
  const std::string& sql() const { return sql_; }

 private:
  std::string sql_;
  PreparedInfo info_;
};

std::vector<ColumnDesc> SelectColumns() {
  return {{"n", oid::kInt4, 4, -1}, {"label", oid::kText, -1, -1}, {"even", oid::kBool, 1, -1}};
}

class FakeSession : public Session {
 public:
  explicit FakeSession(EngineState* st) : st_(st) { st_->open_sessions.fetch_add(1); }
  ~FakeSession() override { st_->open_sessions.fetch_sub(1); }

  std::vector<std::pair<std::string, std::string>> StartupParameters() override {
    return {{"server_version", "16.0 (ScratchBird fake)"},
            {"client_encoding", "UTF8"},
            {"DateStyle", "ISO, MDY"},
            {"integer_datetimes", "on"},
            {"standard_conforming_strings", "on"}};
  }

  std::vector<StatementResult> ExecuteSimple(std::string_view sql, Status* error) override {
    std::vector<StatementResult> out;
    std::stringstream ss{std::string(sql)};
    std::string stmt;
    while (std::getline(ss, stmt, ';')) {
      stmt = Trim(stmt);
      if (stmt.empty()) continue;
      Result<StatementResult> r = Run(stmt, {});
      if (!r.ok()) {
        *error = r.status();
        if (tx_ == 'T') tx_ = 'E';
        return out;
      }
      out.push_back(std::move(r).value());
    }
    return out;
  }

  Result<std::shared_ptr<PreparedStatement>> Prepare(
      std::string_view sql, const std::vector<uint32_t>& param_type_oids) override {
    std::string s(sql);
    PreparedInfo info;
    if (s.rfind("ECHO", 0) == 0) {
      std::stringstream ss(s.substr(4));
      std::string type;
      while (ss >> type) {
        uint32_t t = 0;
        for (const auto& [name, o] : kTypeNames) {
          if (name == type) t = o;
        }
        if (t == 0) return Status(sqlstate::kUndefinedObject, "type \"" + type + "\" unknown");
        size_t i = info.param_type_oids.size();
        if (i < param_type_oids.size() && param_type_oids[i] != 0) t = param_type_oids[i];
        info.param_type_oids.push_back(t);
        info.columns.push_back({"p" + std::to_string(i + 1), t, -1, -1});
      }
      info.returns_rows = true;
    } else if (s.rfind("SELECT", 0) == 0) {
      info.columns = SelectColumns();
      info.returns_rows = true;
    } else if (s == "TIME") {
      info.columns = {{"x", kTimeOid, -1, -1}};
      info.returns_rows = true;
    } else if (s == "FAIL") {
      return Status(sqlstate::kSyntaxError, "syntax error at or near \"FAIL\"");
    }
    return std::shared_ptr<PreparedStatement>(std::make_shared<FakePrepared>(s, info));
  }

  Result<StatementResult> ExecutePrepared(const PreparedStatement& stmt,
                                          const std::vector<TextValue>& params) override {
    const auto& p = static_cast<const FakePrepared&>(stmt);
    {
      std::lock_guard lock(st_->mu);
      st_->last_params = params;
    }
    if (p.sql().rfind("ECHO", 0) == 0) {
      StatementResult r;
      r.columns = p.info().columns;
      r.returns_rows = true;
      r.rows.push_back(params);
      r.command_tag = "SELECT 1";
      return r;
    }
    return Run(p.sql(), params);
  }

  Result<StatementResult> CopyIn(uint64_t handle, std::string_view data) override {
    if (handle != copy_handle_) return Status::Internal("bad copy handle");
    {
      std::lock_guard lock(st_->mu);
      st_->last_copy_data = std::string(data);
      st_->last_copy_csv = copy_csv_;
    }
    if (data.find("BAD") != std::string_view::npos) {
      return Status(sqlstate::kInvalidTextRepresentation, "invalid input syntax for type integer");
    }
    size_t lines = 0;
    for (char c : data) lines += c == '\n';
    StatementResult r;
    r.command_tag = "COPY " + std::to_string(lines);
    return r;
  }
  void CopyAbort(uint64_t) override { st_->copy_aborts.fetch_add(1); }

  char TransactionStatus() const override { return tx_; }
  void OnError() override {
    st_->on_error_calls.fetch_add(1);
    if (tx_ == 'T') tx_ = 'E';
  }
  void Cancel() override { cancel_.store(true); }

 private:
  Result<StatementResult> Run(const std::string& s, const std::vector<TextValue>&) {
    StatementResult r;
    cancel_.store(false);
    if (s.rfind("SELECT ", 0) == 0) {
      if (s == "SELECT NULL") {
        r.columns = {{"x", oid::kText, -1, -1}};
        r.returns_rows = true;
        r.rows.push_back({std::nullopt});
        r.command_tag = "SELECT 1";
        return r;
      }
      int n = std::stoi(s.substr(7));
      r.columns = SelectColumns();
      r.returns_rows = true;
      for (int i = 1; i <= n; ++i) {
        r.rows.push_back({std::to_string(i), "row " + std::to_string(i), i % 2 == 0 ? "t" : "f"});
      }
      r.command_tag = "SELECT " + std::to_string(n);
      return r;
    }
    if (s == "TIME") {
      r.columns = {{"x", kTimeOid, -1, -1}};
      r.returns_rows = true;
      r.rows.push_back({std::string("10:00:00")});
      r.command_tag = "SELECT 1";
      return r;
    }
    if (s == "FAIL") {
      Status st(sqlstate::kSyntaxError, "syntax error at or near \"FAIL\"", "Did you mean SELECT?",
                1);
      st.WithDetail("FAIL is not a statement");
      return st;
    }
    if (s == "SLEEP") {
      st_->sleeping.fetch_add(1);
      auto deadline = Clock::now() + std::chrono::seconds(10);
      while (!cancel_.load() && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      st_->sleeping.fetch_sub(1);
      if (cancel_.load()) {
        return Status(sqlstate::kQueryCanceled, "canceling statement due to user request");
      }
      r.command_tag = "SLEEP";
      return r;
    }
    if (s == "BEGIN") {
      tx_ = 'T';
      r.command_tag = "BEGIN";
      return r;
    }
    if (s == "COMMIT" || s == "ROLLBACK") {
      tx_ = 'I';
      r.command_tag = s;
      return r;
    }
    if (s == "INSERT") {
      r.command_tag = "INSERT 0 1";
      return r;
    }
    if (s == "NOTICE") {
      r.notices.push_back("hello notice");
      r.command_tag = "DO";
      return r;
    }
    if (s.rfind("COPY t FROM STDIN", 0) == 0) {
      r.copy_in = true;
      r.copy_column_count = 2;
      r.copy_csv = s.find("CSV") != std::string::npos;
      r.copy_handle = ++copy_handle_;
      copy_csv_ = r.copy_csv;
      return r;
    }
    return Status(sqlstate::kSyntaxError, "syntax error at or near \"" + s + "\"");
  }

  EngineState* st_;
  char tx_ = 'I';
  std::atomic<bool> cancel_{false};
  uint64_t copy_handle_ = 0;
  bool copy_csv_ = false;
};

class FakeFactory : public SessionFactory {
 public:
  explicit FakeFactory(EngineState* st) : st_(st) {}
  Result<std::unique_ptr<Session>> Open(const std::string& user,
                                        const std::string& database) override {
    {
      std::lock_guard lock(st_->mu);
      st_->last_user = user;
      st_->last_database = database;
    }
    if (database == "nodb") {
      return Status(sqlstate::kInvalidCatalogName, "database \"nodb\" does not exist");
    }
    return std::unique_ptr<Session>(std::make_unique<FakeSession>(st_));
  }

 private:
  EngineState* st_;
};

// ---------------------------------------------------------------------------
// Fixture.

struct PGconnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, PGconnDeleter>;
struct PGresultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Res = std::unique_ptr<PGresult, PGresultDeleter>;

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions opts = {}) {
    opts.host = "127.0.0.1";
    opts.port = 0;
    factory_ = std::make_unique<FakeFactory>(&state_);
    server_ = std::make_unique<Server>(opts, factory_.get());
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_NE(server_->port(), 0);
  }
  void SetUp() override { StartServer(); }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::string ConnInfo(const std::string& extra = "") {
    return "host=127.0.0.1 port=" + std::to_string(server_->port()) +
           " user=alice dbname=db connect_timeout=5 sslmode=disable " + extra;
  }
  Conn Connect(const std::string& extra = "") {
    Conn c(PQconnectdb(ConnInfo(extra).c_str()));
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
    return c;
  }
  static std::string ErrField(const PGresult* r, int field) {
    const char* v = PQresultErrorField(r, field);
    return v ? v : "";
  }

  EngineState state_;
  std::unique_ptr<FakeFactory> factory_;
  std::unique_ptr<Server> server_;
};

// ---------------------------------------------------------------------------
// Startup.

TEST_F(ServerTest, StartupReportsParametersBackendKeyAndIdleStatus) {
  Conn c = Connect();
  ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK);
  EXPECT_STREQ(PQparameterStatus(c.get(), "server_version"), "16.0 (ScratchBird fake)");
  EXPECT_STREQ(PQparameterStatus(c.get(), "client_encoding"), "UTF8");
  EXPECT_GT(PQbackendPID(c.get()), 0);
  EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_IDLE);
  EXPECT_EQ(PQprotocolVersion(c.get()), 3);
  std::lock_guard lock(state_.mu);
  EXPECT_EQ(state_.last_user, "alice");
  EXPECT_EQ(state_.last_database, "db");
  EXPECT_EQ(server_->active_connections(), 1);
}

TEST_F(ServerTest, DatabaseDefaultsToUserName) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Startup("bob", ""));
  std::lock_guard lock(state_.mu);
  EXPECT_EQ(state_.last_user, "bob");
  EXPECT_EQ(state_.last_database, "bob");
}

TEST_F(ServerTest, SslRequestWithPreferFallsBackToPlaintext) {
  Conn c(PQconnectdb(("host=127.0.0.1 port=" + std::to_string(server_->port()) +
                      " user=alice dbname=db connect_timeout=5 sslmode=prefer")
                         .c_str()));
  ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
  EXPECT_EQ(PQsslInUse(c.get()), 0);
}

TEST_F(ServerTest, SslAndGssEncRequestsAreAnsweredWithN) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Send(StartupPacketBytes(Body().I32(80877104).str())));  // GSSENC
  std::string b;
  ASSERT_TRUE(raw.ReadExact(1, &b));
  EXPECT_EQ(b, "N");
  ASSERT_TRUE(raw.Send(StartupPacketBytes(Body().I32(80877103).str())));  // SSL
  ASSERT_TRUE(raw.ReadExact(1, &b));
  EXPECT_EQ(b, "N");
  EXPECT_TRUE(raw.Startup());
}

TEST_F(ServerTest, UnknownDatabaseIsFatal3D000FromFactory) {
  Conn c(PQconnectdb(ConnInfo("dbname=nodb").c_str()));
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(c.get())).find("database \"nodb\" does not exist"),
            std::string::npos)
      << PQerrorMessage(c.get());

  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Send(StartupV3("alice", "nodb")));
  BackendMessage m;
  ASSERT_TRUE(raw.Read(&m));
  ASSERT_EQ(m.type, 'E');
  auto f = ErrorFields(m.body);
  EXPECT_EQ(f['S'], "FATAL");
  EXPECT_EQ(f['C'], "3D000");
  EXPECT_TRUE(raw.WaitForClose());
}

TEST_F(ServerTest, UnsupportedProtocolVersionIsRejected) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Send(StartupPacketBytes(Body().I32(2 << 16).Str("user").Str("a").I8(0).str())));
  BackendMessage m;
  ASSERT_TRUE(raw.Read(&m));
  ASSERT_EQ(m.type, 'E');
  auto f = ErrorFields(m.body);
  EXPECT_EQ(f['C'], "0A000");
  EXPECT_NE(f['M'].find("unsupported frontend protocol 2.0"), std::string::npos);
  EXPECT_TRUE(raw.WaitForClose());
}

TEST_F(ServerTest, NewerMinorVersionGetsNegotiateProtocolVersion) {
  RawClient raw(server_->port());
  Body b;
  b.I32((3 << 16) | 2).Str("user").Str("alice").Str("_pq_.future").Str("x").I8(0);
  ASSERT_TRUE(raw.Send(StartupPacketBytes(b.str())));
  BackendMessage m;
  ASSERT_TRUE(raw.Read(&m));
  ASSERT_EQ(m.type, 'v');
  EXPECT_EQ(m.body.substr(0, 8), BE32(196608) + BE32(1));
  EXPECT_EQ(m.body.substr(8), std::string("_pq_.future\0", 12));
  ASSERT_TRUE(raw.ReadUntil('Z', &m));
}

TEST_F(ServerTest, MissingUserIsFatal28000) {
  RawClient raw(server_->port());
  ASSERT_TRUE(
      raw.Send(StartupPacketBytes(Body().I32(196608).Str("database").Str("db").I8(0).str())));
  BackendMessage m;
  ASSERT_TRUE(raw.Read(&m));
  ASSERT_EQ(m.type, 'E');
  EXPECT_EQ(ErrorFields(m.body)['C'], "28000");
}

// ---------------------------------------------------------------------------
// Simple query.

TEST_F(ServerTest, SimpleQueryReturnsRowsTypesAndTag) {
  Conn c = Connect();
  Res r(PQexec(c.get(), "SELECT 3"));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
  ASSERT_EQ(PQntuples(r.get()), 3);
  ASSERT_EQ(PQnfields(r.get()), 3);
  EXPECT_STREQ(PQfname(r.get(), 1), "label");
  EXPECT_EQ(PQftype(r.get(), 0), oid::kInt4);
  EXPECT_EQ(PQfformat(r.get(), 0), 0);
  EXPECT_STREQ(PQgetvalue(r.get(), 2, 0), "3");
  EXPECT_STREQ(PQgetvalue(r.get(), 1, 1), "row 2");
  EXPECT_STREQ(PQgetvalue(r.get(), 1, 2), "t");
  EXPECT_STREQ(PQcmdStatus(r.get()), "SELECT 3");
  EXPECT_STREQ(PQcmdTuples(r.get()), "3");
}

TEST_F(ServerTest, NullValuesArriveAsNull) {
  Conn c = Connect();
  Res r(PQexec(c.get(), "SELECT NULL"));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  EXPECT_EQ(PQgetisnull(r.get(), 0, 0), 1);
}

TEST_F(ServerTest, MultiStatementQueryReturnsEveryResult) {
  Conn c = Connect();
  ASSERT_EQ(PQsendQuery(c.get(), "SELECT 1; INSERT; SELECT 2"), 1);
  std::vector<std::string> tags;
  while (PGresult* r = PQgetResult(c.get())) {
    tags.push_back(PQcmdStatus(r));
    PQclear(r);
  }
  EXPECT_EQ(tags, (std::vector<std::string>{"SELECT 1", "INSERT 0 1", "SELECT 2"}));
}

TEST_F(ServerTest, ErrorCarriesSqlstateHintDetailAndPosition) {
  Conn c = Connect();
  Res r(PQexec(c.get(), "FAIL"));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(ErrField(r.get(), PG_DIAG_SQLSTATE), "42601");
  EXPECT_EQ(ErrField(r.get(), PG_DIAG_SEVERITY), "ERROR");
  EXPECT_EQ(ErrField(r.get(), PG_DIAG_SEVERITY_NONLOCALIZED), "ERROR");
  EXPECT_EQ(ErrField(r.get(), PG_DIAG_MESSAGE_PRIMARY), "syntax error at or near \"FAIL\"");
  EXPECT_EQ(ErrField(r.get(), PG_DIAG_MESSAGE_HINT), "Did you mean SELECT?");
  EXPECT_EQ(ErrField(r.get(), PG_DIAG_MESSAGE_DETAIL), "FAIL is not a statement");
  EXPECT_EQ(ErrField(r.get(), PG_DIAG_STATEMENT_POSITION), "1");
  // The connection stays usable.
  Res ok(PQexec(c.get(), "SELECT 1"));
  EXPECT_EQ(PQresultStatus(ok.get()), PGRES_TUPLES_OK);
}

TEST_F(ServerTest, ErrorInMultiStatementSendsEarlierResultsThenError) {
  Conn c = Connect();
  ASSERT_EQ(PQsendQuery(c.get(), "SELECT 1; FAIL; SELECT 2"), 1);
  std::vector<ExecStatusType> statuses;
  while (PGresult* r = PQgetResult(c.get())) {
    statuses.push_back(PQresultStatus(r));
    PQclear(r);
  }
  EXPECT_EQ(statuses, (std::vector<ExecStatusType>{PGRES_TUPLES_OK, PGRES_FATAL_ERROR}));
}

TEST_F(ServerTest, EmptyQueryGetsEmptyQueryResponse) {
  Conn c = Connect();
  Res r(PQexec(c.get(), ""));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_EMPTY_QUERY);
  Res r2(PQexec(c.get(), "  ;  "));
  EXPECT_EQ(PQresultStatus(r2.get()), PGRES_EMPTY_QUERY);
}

void CollectNotice(void* arg, const PGresult* r) {
  static_cast<std::vector<std::string>*>(arg)->push_back(
      PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
}

TEST_F(ServerTest, NoticesAreDeliveredBeforeTheResult) {
  Conn c = Connect();
  std::vector<std::string> notices;
  PQsetNoticeReceiver(c.get(), CollectNotice, &notices);
  Res r(PQexec(c.get(), "NOTICE"));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK);
  EXPECT_EQ(notices, (std::vector<std::string>{"hello notice"}));
}

TEST_F(ServerTest, TransactionStatusFollowsSession) {
  Conn c = Connect();
  Res b(PQexec(c.get(), "BEGIN"));
  EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_INTRANS);
  Res f(PQexec(c.get(), "FAIL"));
  EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_INERROR);
  Res r(PQexec(c.get(), "ROLLBACK"));
  EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_IDLE);
}

TEST_F(ServerTest, LargeResultStreamsCompletely) {
  Conn c = Connect();
  Res r(PQexec(c.get(), "SELECT 100000"));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  EXPECT_EQ(PQntuples(r.get()), 100000);
  EXPECT_STREQ(PQgetvalue(r.get(), 99999, 1), "row 100000");
}

TEST_F(ServerTest, PipelinedSimpleQueriesInOneWriteAreAllAnswered) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  std::string batch = Msg('Q', Body().Str("SELECT 1").str()) +
                      Msg('Q', Body().Str("INSERT").str()) + Msg('Q', Body().Str("FAIL").str()) +
                      Msg('Q', Body().Str("SELECT 2").str());
  ASSERT_TRUE(raw.Send(batch));
  std::vector<std::string> seen;
  BackendMessage m;
  for (int z = 0; z < 4;) {
    ASSERT_TRUE(raw.Read(&m));
    if (m.type == 'C') seen.push_back(m.body.substr(0, m.body.size() - 1));
    if (m.type == 'E') seen.push_back("E" + ErrorFields(m.body)['C']);
    if (m.type == 'Z') ++z;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"SELECT 1", "INSERT 0 1", "E42601", "SELECT 2"}));
}

// ---------------------------------------------------------------------------
// Extended protocol.

TEST_F(ServerTest, PreparedStatementWithTextParams) {
  Conn c = Connect();
  Res p(PQprepare(c.get(), "echo", "ECHO int4 text", 0, nullptr));
  ASSERT_EQ(PQresultStatus(p.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(p.get());
  const char* values[] = {"42", "hello"};
  Res r(PQexecPrepared(c.get(), "echo", 2, values, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "42");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 1), "hello");
  EXPECT_EQ(PQftype(r.get(), 0), oid::kInt4);
  // NULL parameter.
  const char* with_null[] = {nullptr, "x"};
  Res r2(PQexecPrepared(c.get(), "echo", 2, with_null, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(r2.get()), PGRES_TUPLES_OK);
  EXPECT_EQ(PQgetisnull(r2.get(), 0, 0), 1);
}

TEST_F(ServerTest, BinaryParamsAreConvertedToTextForTheSession) {
  Conn c = Connect();
  Res p(PQprepare(c.get(), "s", "ECHO int2 int4 int8 float4 float8 bool bytea uuid text varchar", 0,
                  nullptr));
  ASSERT_EQ(PQresultStatus(p.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(p.get());
  std::vector<std::string> bin = {
      std::string("\xFF\xFE", 2),
      std::string("\x00\x00\x01\x00", 4),
      std::string("\x00\x00\x00\x00\x00\x00\x00\x07", 8),
      std::string("\x3F\xC0\x00\x00", 4),                  // 1.5f
      std::string("\xC0\x04\x00\x00\x00\x00\x00\x00", 8),  // -2.5
      std::string("\x01", 1),
      std::string("\x00\xFF", 2),
      std::string("\x12\x34\x56\x78\x9a\xbc\xde\xf0\x01\x23\x45\x67\x89\xab\xcd\xef", 16),
      "plain",
      "vc"};
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const auto& b : bin) {
    values.push_back(b.data());
    lengths.push_back(static_cast<int>(b.size()));
    formats.push_back(1);
  }
  Res r(PQexecPrepared(c.get(), "s", 10, values.data(), lengths.data(), formats.data(), 0));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
  std::vector<TextValue> expected = {
      "-2",    "256", "7", "1.5", "-2.5", "t", "\\x00ff", "12345678-9abc-def0-0123-456789abcdef",
      "plain", "vc"};
  std::lock_guard lock(state_.mu);
  EXPECT_EQ(state_.last_params, expected);
}

TEST_F(ServerTest, BinaryParamWithWrongLengthIs22P03) {
  Conn c = Connect();
  Res p(PQprepare(c.get(), "s", "ECHO int4", 0, nullptr));
  ASSERT_EQ(PQresultStatus(p.get()), PGRES_COMMAND_OK);
  const char* v[] = {"\x01\x02"};
  int len[] = {2};
  int fmt[] = {1};
  Res r(PQexecPrepared(c.get(), "s", 1, v, len, fmt, 0));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(ErrField(r.get(), PG_DIAG_SQLSTATE), "22P03");
  EXPECT_GE(state_.on_error_calls.load(), 1);
}

TEST_F(ServerTest, BinaryResultsAreEncodedPerType) {
  Conn c = Connect();
  Res p(PQprepare(c.get(), "s", "ECHO int2 int4 int8 float8 bool text bytea uuid", 0, nullptr));
  ASSERT_EQ(PQresultStatus(p.get()), PGRES_COMMAND_OK);
  const char* values[] = {"-2", "256", "-1",      "1.5",
                          "t",  "abc", "\\x0a0b", "12345678-9abc-def0-0123-456789abcdef"};
  Res r(PQexecPrepared(c.get(), "s", 8, values, nullptr, nullptr, 1));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
  auto val = [&](int col) {
    return std::string(PQgetvalue(r.get(), 0, col), PQgetlength(r.get(), 0, col));
  };
  EXPECT_EQ(PQfformat(r.get(), 0), 1);
  EXPECT_EQ(val(0), std::string("\xFF\xFE", 2));
  EXPECT_EQ(val(1), std::string("\x00\x00\x01\x00", 4));
  EXPECT_EQ(val(2), std::string(8, '\xFF'));
  EXPECT_EQ(val(3), std::string("\x3F\xF8\x00\x00\x00\x00\x00\x00", 8));
  EXPECT_EQ(val(4), std::string("\x01", 1));
  EXPECT_EQ(val(5), "abc");
  EXPECT_EQ(val(6), std::string("\x0a\x0b", 2));
  EXPECT_EQ(val(7),
            std::string("\x12\x34\x56\x78\x9a\xbc\xde\xf0\x01\x23\x45\x67\x89\xab\xcd\xef", 16));
}

TEST_F(ServerTest, BinaryNumericDateAndTimestamptzRoundTrip) {
  Conn c = Connect();
  Res p(PQprepare(c.get(), "s", "ECHO numeric date timestamptz", 0, nullptr));
  ASSERT_EQ(PQresultStatus(p.get()), PGRES_COMMAND_OK);
  std::vector<std::string> bin = {
      std::string("\x00\x02\x00\x00\x00\x00\x00\x01\x00\x01\x13\x88", 12),  // 1.5
      std::string("\x00\x00\x00\x01", 4),                                   // 2000-01-02
      std::string("\x00\x00\x00\x00\x00\x0F\x42\x40", 8)};                  // +1 s
  const char* values[] = {bin[0].data(), bin[1].data(), bin[2].data()};
  int lengths[] = {12, 4, 8};
  int formats[] = {1, 1, 1};
  Res r(PQexecPrepared(c.get(), "s", 3, values, lengths, formats, 1));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, i), PQgetlength(r.get(), 0, i)), bin[i]) << i;
  }
  std::lock_guard lock(state_.mu);
  EXPECT_EQ(state_.last_params,
            (std::vector<TextValue>{"1.5", "2000-01-02", "2000-01-01 00:00:01+00"}));
}

TEST_F(ServerTest, BinaryResultForUnsupportedTypeIs0A000) {
  Conn c = Connect();
  Res r(PQexecParams(c.get(), "TIME", 0, nullptr, nullptr, nullptr, nullptr, 1));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(ErrField(r.get(), PG_DIAG_SQLSTATE), "0A000");
  EXPECT_NE(ErrField(r.get(), PG_DIAG_MESSAGE_PRIMARY).find("OID 1083"), std::string::npos);
  // Text format works for the same statement.
  Res ok(PQexecParams(c.get(), "TIME", 0, nullptr, nullptr, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(ok.get()), PGRES_TUPLES_OK);
  EXPECT_STREQ(PQgetvalue(ok.get(), 0, 0), "10:00:00");
}

TEST_F(ServerTest, NamedStatementRedefinitionIs42P05ButUnnamedIsReplaced) {
  Conn c = Connect();
  Res a(PQprepare(c.get(), "s1", "SELECT 1", 0, nullptr));
  ASSERT_EQ(PQresultStatus(a.get()), PGRES_COMMAND_OK);
  Res b(PQprepare(c.get(), "s1", "SELECT 2", 0, nullptr));
  ASSERT_EQ(PQresultStatus(b.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(ErrField(b.get(), PG_DIAG_SQLSTATE), "42P05");
  Res u1(PQprepare(c.get(), "", "SELECT 1", 0, nullptr));
  ASSERT_EQ(PQresultStatus(u1.get()), PGRES_COMMAND_OK);
  Res u2(PQprepare(c.get(), "", "SELECT 2", 0, nullptr));
  ASSERT_EQ(PQresultStatus(u2.get()), PGRES_COMMAND_OK);
  Res r(PQexecPrepared(c.get(), "", 0, nullptr, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  EXPECT_EQ(PQntuples(r.get()), 2);
  // The named one still runs its original text.
  Res s(PQexecPrepared(c.get(), "s1", 0, nullptr, nullptr, nullptr, 0));
  EXPECT_EQ(PQntuples(s.get()), 1);
}

TEST_F(ServerTest, UnknownStatementIs26000AndConnectionRecovers) {
  Conn c = Connect();
  Res r(PQexecPrepared(c.get(), "nosuch", 0, nullptr, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(ErrField(r.get(), PG_DIAG_SQLSTATE), "26000");
  Res d(PQdescribePrepared(c.get(), "nosuch"));
  EXPECT_EQ(ErrField(d.get(), PG_DIAG_SQLSTATE), "26000");
  Res ok(PQexec(c.get(), "SELECT 1"));
  EXPECT_EQ(PQresultStatus(ok.get()), PGRES_TUPLES_OK);
}

TEST_F(ServerTest, PrepareErrorIsReportedAndDescribeWorks) {
  Conn c = Connect();
  Res bad(PQprepare(c.get(), "f", "FAIL", 0, nullptr));
  ASSERT_EQ(PQresultStatus(bad.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(ErrField(bad.get(), PG_DIAG_SQLSTATE), "42601");
  Res p(PQprepare(c.get(), "e", "ECHO int8 text", 0, nullptr));
  ASSERT_EQ(PQresultStatus(p.get()), PGRES_COMMAND_OK);
  Res d(PQdescribePrepared(c.get(), "e"));
  ASSERT_EQ(PQresultStatus(d.get()), PGRES_COMMAND_OK);
  EXPECT_EQ(PQnparams(d.get()), 2);
  EXPECT_EQ(PQparamtype(d.get(), 0), oid::kInt8);
  EXPECT_EQ(PQnfields(d.get()), 2);
  EXPECT_EQ(PQftype(d.get(), 1), oid::kText);
  Res ins(PQprepare(c.get(), "i", "INSERT", 0, nullptr));
  Res di(PQdescribePrepared(c.get(), "i"));
  EXPECT_EQ(PQnfields(di.get()), 0);
}

TEST_F(ServerTest, ClientSpecifiedParamTypesOverrideInference) {
  Conn c = Connect();
  Oid types[] = {oid::kInt8};
  Res p(PQprepare(c.get(), "s", "ECHO int4", 1, types));
  ASSERT_EQ(PQresultStatus(p.get()), PGRES_COMMAND_OK);
  Res d(PQdescribePrepared(c.get(), "s"));
  EXPECT_EQ(PQparamtype(d.get(), 0), oid::kInt8);
}

// Raw extended-protocol helpers.
std::string ParseMsg(const std::string& name, const std::string& sql) {
  return Msg('P', Body().Str(name).Str(sql).I16(0).str());
}
std::string BindMsg(const std::string& portal, const std::string& stmt) {
  return Msg('B', Body().Str(portal).Str(stmt).I16(0).I16(0).I16(0).str());
}
std::string ExecuteMsg(const std::string& portal, int32_t max_rows) {
  return Msg('E', Body().Str(portal).I32(max_rows).str());
}
std::string SyncMsg() {
  return Msg('S');
}

// Reads messages up to and including the next one of type `until`, returning
// the type letters seen (DataRows included).
std::string ReadTypes(RawClient& raw, char until, std::vector<BackendMessage>* all = nullptr) {
  std::string types;
  BackendMessage m;
  for (int i = 0; i < 10000; ++i) {
    if (!raw.Read(&m)) return types + "<eof>";
    types.push_back(m.type);
    if (all) all->push_back(m);
    if (m.type == until) break;
  }
  return types;
}

TEST_F(ServerTest, PortalWithRowLimitSuspendsAndResumes) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send(ParseMsg("", "SELECT 5") + BindMsg("p", "") +
                       Msg('D', Body().I8('P').Str("p").str()) + ExecuteMsg("p", 2) +
                       ExecuteMsg("p", 2) + ExecuteMsg("p", 2) + ExecuteMsg("p", 2) + SyncMsg()));
  std::vector<BackendMessage> msgs;
  EXPECT_EQ(ReadTypes(raw, 'Z', &msgs), "12TDDsDDsDCCZ");
  std::vector<std::string> tags;
  for (const auto& m : msgs) {
    if (m.type == 'C') tags.push_back(m.body.substr(0, m.body.size() - 1));
  }
  // The final batch reports its own row count; a finished portal reports 0.
  EXPECT_EQ(tags, (std::vector<std::string>{"SELECT 1", "SELECT 0"}));
}

TEST_F(ServerTest, ExecuteWithoutLimitUsesEngineTag) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send(ParseMsg("", "SELECT 3") + BindMsg("", "") + ExecuteMsg("", 0) + SyncMsg()));
  std::vector<BackendMessage> msgs;
  EXPECT_EQ(ReadTypes(raw, 'Z', &msgs), "12DDDCZ");
  EXPECT_EQ(msgs[5].body, std::string("SELECT 3\0", 9));
}

TEST_F(ServerTest, NamedPortalsAreIndependentAndClosable) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send(Msg('Q', Body().Str("BEGIN").str())));
  ASSERT_EQ(ReadTypes(raw, 'Z'), "CZ");
  ASSERT_TRUE(raw.Send(ParseMsg("s", "SELECT 3") + BindMsg("a", "s") + BindMsg("b", "s") +
                       ExecuteMsg("a", 1) + ExecuteMsg("b", 3) + ExecuteMsg("a", 5) + SyncMsg()));
  EXPECT_EQ(ReadTypes(raw, 'Z'), "122DsDDDCDDCZ");
  // In a transaction block the portals survive Sync; Close removes one.
  ASSERT_TRUE(raw.Send(Msg('C', Body().I8('P').Str("a").str()) + ExecuteMsg("a", 0) + SyncMsg()));
  std::vector<BackendMessage> msgs;
  EXPECT_EQ(ReadTypes(raw, 'Z', &msgs), "3EZ");
  EXPECT_EQ(ErrorFields(msgs[1].body)['C'], "34000");
}

TEST_F(ServerTest, LibpqPipelineAbortsAfterErrorUntilSync) {
  Conn c = Connect();
  ASSERT_EQ(PQenterPipelineMode(c.get()), 1);
  ASSERT_EQ(PQsendQueryParams(c.get(), "SELECT 2", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQsendQueryParams(c.get(), "BOGUS", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQsendQueryParams(c.get(), "SELECT 3", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQpipelineSync(c.get()), 1);
  ASSERT_EQ(PQsendQueryParams(c.get(), "SELECT 4", 0, nullptr, nullptr, nullptr, nullptr, 1), 1);
  ASSERT_EQ(PQpipelineSync(c.get()), 1);
  std::vector<ExecStatusType> statuses;
  std::vector<int> rows;
  // Each query's result is followed by a NULL; each sync by PGRES_PIPELINE_SYNC.
  int syncs = 0;
  for (int i = 0; i < 100 && syncs < 2; ++i) {
    PGresult* r = PQgetResult(c.get());
    if (r == nullptr) continue;
    statuses.push_back(PQresultStatus(r));
    if (PQresultStatus(r) == PGRES_TUPLES_OK) rows.push_back(PQntuples(r));
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) ++syncs;
    PQclear(r);
  }
  EXPECT_EQ(statuses, (std::vector<ExecStatusType>{PGRES_TUPLES_OK, PGRES_FATAL_ERROR,
                                                   PGRES_PIPELINE_ABORTED, PGRES_PIPELINE_SYNC,
                                                   PGRES_TUPLES_OK, PGRES_PIPELINE_SYNC}));
  EXPECT_EQ(rows, (std::vector<int>{2, 4}));
  EXPECT_EQ(PQexitPipelineMode(c.get()), 1);
}

TEST_F(ServerTest, FailedPortalCannotBeRunAgain) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send(Msg('Q', Body().Str("BEGIN").str())));
  ASSERT_EQ(ReadTypes(raw, 'Z'), "CZ");
  ASSERT_TRUE(raw.Send(ParseMsg("", "BOGUS") + BindMsg("f", "") + ExecuteMsg("f", 0) + SyncMsg()));
  std::vector<BackendMessage> msgs;
  EXPECT_EQ(ReadTypes(raw, 'Z', &msgs), "12EZ");
  EXPECT_EQ(ErrorFields(msgs[2].body)['C'], "42601");
  msgs.clear();
  ASSERT_TRUE(raw.Send(ExecuteMsg("f", 0) + SyncMsg()));
  EXPECT_EQ(ReadTypes(raw, 'Z', &msgs), "EZ");
  EXPECT_EQ(ErrorFields(msgs[0].body)['C'], "55000");
}

TEST_F(ServerTest, ErrorDiscardsMessagesUntilSyncAndCallsOnError) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(
      raw.Send(BindMsg("", "missing") + ParseMsg("x", "SELECT 1") + ExecuteMsg("", 0) + SyncMsg()));
  std::vector<BackendMessage> msgs;
  EXPECT_EQ(ReadTypes(raw, 'Z', &msgs), "EZ");
  EXPECT_EQ(ErrorFields(msgs[0].body)['C'], "26000");
  EXPECT_EQ(state_.on_error_calls.load(), 1);
  // The skipped Parse did not define "x".
  ASSERT_TRUE(raw.Send(BindMsg("", "x") + SyncMsg()));
  msgs.clear();
  EXPECT_EQ(ReadTypes(raw, 'Z', &msgs), "EZ");
  EXPECT_EQ(ErrorFields(msgs[0].body)['C'], "26000");
}

TEST_F(ServerTest, ErrorInsideTransactionMarksItFailedAtSync) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send(Msg('Q', Body().Str("BEGIN").str())));
  ASSERT_EQ(ReadTypes(raw, 'Z'), "CZ");
  ASSERT_TRUE(raw.Send(ExecuteMsg("nope", 0) + SyncMsg()));
  std::vector<BackendMessage> msgs;
  EXPECT_EQ(ReadTypes(raw, 'Z', &msgs), "EZ");
  EXPECT_EQ(ErrorFields(msgs[0].body)['C'], "34000");
  EXPECT_EQ(msgs[1].body, "E");
}

TEST_F(ServerTest, FlushSendsPendingOutputWithoutSync) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send(ParseMsg("", "SELECT 1") + Msg('H')));
  EXPECT_EQ(ReadTypes(raw, '1'), "1");
  ASSERT_TRUE(raw.Send(SyncMsg()));
  EXPECT_EQ(ReadTypes(raw, 'Z'), "Z");
}

TEST_F(ServerTest, EmptyPreparedQueryGivesEmptyQueryResponse) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send(ParseMsg("", "") + BindMsg("", "") + Msg('D', Body().I8('P').Str("").str()) +
                       ExecuteMsg("", 0) + SyncMsg()));
  EXPECT_EQ(ReadTypes(raw, 'Z'), "12nIZ");
}

TEST_F(ServerTest, TextParamWithNulByteIs22021) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  std::string bind = Msg(
      'B', Body().Str("").Str("").I16(0).I16(1).I32(3).Raw(std::string("a\0b", 3)).I16(0).str());
  ASSERT_TRUE(raw.Send(ParseMsg("", "ECHO text") + bind + SyncMsg()));
  std::vector<BackendMessage> msgs;
  EXPECT_EQ(ReadTypes(raw, 'Z', &msgs), "1EZ");
  EXPECT_EQ(ErrorFields(msgs[1].body)['C'], "22021");
}

TEST_F(ServerTest, BindParameterCountMismatchIsProtocolError) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send(ParseMsg("", "ECHO int4") + BindMsg("", "") + SyncMsg()));
  std::vector<BackendMessage> msgs;
  EXPECT_EQ(ReadTypes(raw, 'Z', &msgs), "1EZ");
  EXPECT_EQ(ErrorFields(msgs[1].body)['C'], "08P01");
  EXPECT_NE(ErrorFields(msgs[1].body)['M'].find("supplies 0 parameters"), std::string::npos);
}

// ---------------------------------------------------------------------------
// COPY FROM STDIN.

TEST_F(ServerTest, CopyFromStdinTextCountsRows) {
  Conn c = Connect();
  Res r(PQexec(c.get(), "COPY t FROM STDIN"));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COPY_IN) << PQresultErrorMessage(r.get());
  EXPECT_EQ(PQnfields(r.get()), 2);
  EXPECT_EQ(PQbinaryTuples(r.get()), 0);
  std::string data = "1\tone\n2\ttwo\n";
  ASSERT_EQ(PQputCopyData(c.get(), data.data(), 5), 1);  // split mid-row on purpose
  ASSERT_EQ(PQputCopyData(c.get(), data.data() + 5, static_cast<int>(data.size() - 5)), 1);
  ASSERT_EQ(PQputCopyData(c.get(), "3\tthree\n", 8), 1);
  ASSERT_EQ(PQputCopyEnd(c.get(), nullptr), 1);
  Res done(PQgetResult(c.get()));
  ASSERT_EQ(PQresultStatus(done.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(done.get());
  EXPECT_STREQ(PQcmdTuples(done.get()), "3");
  while (PGresult* extra = PQgetResult(c.get())) PQclear(extra);
  std::lock_guard lock(state_.mu);
  EXPECT_EQ(state_.last_copy_data, "1\tone\n2\ttwo\n3\tthree\n");
  EXPECT_FALSE(state_.last_copy_csv);
}

TEST_F(ServerTest, LargeMessagesWithinTheLimitAreAccepted) {
  Conn c = Connect();
  Res r(PQexec(c.get(), "COPY t FROM STDIN"));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COPY_IN);
  std::string line(99, 'x');
  line += '\n';
  std::string data;
  for (int i = 0; i < 30000; ++i) data += line;  // 3 MB in one CopyData message
  ASSERT_EQ(PQputCopyData(c.get(), data.data(), static_cast<int>(data.size())), 1);
  ASSERT_EQ(PQputCopyEnd(c.get(), nullptr), 1);
  Res done(PQgetResult(c.get()));
  ASSERT_EQ(PQresultStatus(done.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(done.get());
  EXPECT_STREQ(PQcmdTuples(done.get()), "30000");
  while (PGresult* extra = PQgetResult(c.get())) PQclear(extra);
  // And a 2 MB query string.
  std::string sql = "SELECT 2" + std::string(2 << 20, ' ');
  Res q(PQexec(c.get(), sql.c_str()));
  ASSERT_EQ(PQresultStatus(q.get()), PGRES_TUPLES_OK);
  EXPECT_EQ(PQntuples(q.get()), 2);
}

TEST_F(ServerTest, CopyFromStdinCsv) {
  Conn c = Connect();
  Res r(PQexec(c.get(), "COPY t FROM STDIN CSV"));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COPY_IN);
  std::string data = "1,\"a,b\"\n2,c\n";
  ASSERT_EQ(PQputCopyData(c.get(), data.data(), static_cast<int>(data.size())), 1);
  ASSERT_EQ(PQputCopyEnd(c.get(), nullptr), 1);
  Res done(PQgetResult(c.get()));
  ASSERT_EQ(PQresultStatus(done.get()), PGRES_COMMAND_OK);
  EXPECT_STREQ(PQcmdStatus(done.get()), "COPY 2");
  while (PGresult* extra = PQgetResult(c.get())) PQclear(extra);
  std::lock_guard lock(state_.mu);
  EXPECT_EQ(state_.last_copy_data, data);
  EXPECT_TRUE(state_.last_copy_csv);
}

TEST_F(ServerTest, CopyFailAbortsWith57014AndConnectionRecovers) {
  Conn c = Connect();
  Res r(PQexec(c.get(), "COPY t FROM STDIN"));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COPY_IN);
  ASSERT_EQ(PQputCopyData(c.get(), "1\tx\n", 4), 1);
  ASSERT_EQ(PQputCopyEnd(c.get(), "client gave up"), 1);
  Res done(PQgetResult(c.get()));
  ASSERT_EQ(PQresultStatus(done.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(ErrField(done.get(), PG_DIAG_SQLSTATE), "57014");
  EXPECT_NE(ErrField(done.get(), PG_DIAG_MESSAGE_PRIMARY).find("client gave up"),
            std::string::npos);
  while (PGresult* extra = PQgetResult(c.get())) PQclear(extra);
  EXPECT_EQ(state_.copy_aborts.load(), 1);
  Res ok(PQexec(c.get(), "SELECT 1"));
  EXPECT_EQ(PQresultStatus(ok.get()), PGRES_TUPLES_OK);
}

TEST_F(ServerTest, CopyEngineErrorIsReported) {
  Conn c = Connect();
  Res r(PQexec(c.get(), "COPY t FROM STDIN"));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COPY_IN);
  ASSERT_EQ(PQputCopyData(c.get(), "BAD\n", 4), 1);
  ASSERT_EQ(PQputCopyEnd(c.get(), nullptr), 1);
  Res done(PQgetResult(c.get()));
  ASSERT_EQ(PQresultStatus(done.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(ErrField(done.get(), PG_DIAG_SQLSTATE), "22P02");
}

TEST_F(ServerTest, CopyOverLimitIs54000AndLeftoverDataIsIgnored) {
  server_->Stop();
  ServerOptions o;
  o.max_copy_bytes = 10;
  StartServer(o);
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send(Msg('Q', Body().Str("COPY t FROM STDIN").str())));
  EXPECT_EQ(ReadTypes(raw, 'G'), "G");
  ASSERT_TRUE(raw.Send(Msg('d', "0123456789abc") + Msg('d', "more") + Msg('c')));
  std::vector<BackendMessage> msgs;
  EXPECT_EQ(ReadTypes(raw, 'Z', &msgs), "EZ");
  EXPECT_EQ(ErrorFields(msgs[0].body)['C'], "54000");
  ASSERT_TRUE(raw.Send(Msg('Q', Body().Str("SELECT 1").str())));
  EXPECT_EQ(ReadTypes(raw, 'Z'), "TDCZ");
}

TEST_F(ServerTest, CopyThroughExtendedProtocol) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(
      raw.Send(ParseMsg("", "COPY t FROM STDIN") + BindMsg("", "") + ExecuteMsg("", 0) + Msg('H')));
  EXPECT_EQ(ReadTypes(raw, 'G'), "12G");
  ASSERT_TRUE(raw.Send(Msg('d', "a\n") + Msg('c') + SyncMsg()));
  std::vector<BackendMessage> msgs;
  EXPECT_EQ(ReadTypes(raw, 'Z', &msgs), "CZ");
  EXPECT_EQ(msgs[0].body, std::string("COPY 1\0", 7));
}

// ---------------------------------------------------------------------------
// Cancel.

TEST_F(ServerTest, CancelRequestStopsSlowStatementWith57014) {
  Conn c = Connect();
  ASSERT_EQ(PQsendQuery(c.get(), "SLEEP"), 1);
  ASSERT_TRUE(WaitFor([&] { return state_.sleeping.load() == 1; }));
  PGcancel* cancel = PQgetCancel(c.get());
  char err[256];
  auto start = Clock::now();
  EXPECT_EQ(PQcancel(cancel, err, sizeof(err)), 1) << err;
  PQfreeCancel(cancel);
  Res r(PQgetResult(c.get()));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(server_->stats().cancel_requests, 1u);
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(ErrField(r.get(), PG_DIAG_SQLSTATE), "57014");
  while (PGresult* extra = PQgetResult(c.get())) PQclear(extra);
  Res ok(PQexec(c.get(), "SELECT 1"));
  EXPECT_EQ(PQresultStatus(ok.get()), PGRES_TUPLES_OK);
}

TEST_F(ServerTest, CancelWithWrongSecretIsIgnored) {
  Conn c = Connect();
  ASSERT_EQ(PQsendQuery(c.get(), "SLEEP"), 1);
  ASSERT_TRUE(WaitFor([&] { return state_.sleeping.load() == 1; }));
  RawClient raw(server_->port());
  // Wrong secret: guess 0 and 1 (the real one is random).
  for (int32_t guess : {0, 1}) {
    ASSERT_TRUE(raw.Send(
        StartupPacketBytes(Body().I32(80877102).I32(PQbackendPID(c.get())).I32(guess).str())));
  }
  EXPECT_TRUE(raw.WaitForClose());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(state_.sleeping.load(), 1);
  // Clean up with a real cancel.
  PGcancel* cancel = PQgetCancel(c.get());
  char err[256];
  EXPECT_EQ(PQcancel(cancel, err, sizeof(err)), 1);
  PQfreeCancel(cancel);
  while (PGresult* r = PQgetResult(c.get())) PQclear(r);
}

// ---------------------------------------------------------------------------
// Limits and robustness.

TEST_F(ServerTest, MaxConnectionsRefusesWith53300) {
  server_->Stop();
  ServerOptions o;
  o.max_connections = 2;
  StartServer(o);
  Conn a = Connect();
  Conn b = Connect();
  Conn c(PQconnectdb(ConnInfo().c_str()));
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(c.get())).find("sorry, too many clients already"),
            std::string::npos)
      << PQerrorMessage(c.get());
  EXPECT_TRUE(WaitFor([&] { return server_->connections_rejected() == 1; }));
  EXPECT_EQ(server_->active_connections(), 2);

  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Send(StartupV3("alice", "db")));
  BackendMessage m;
  ASSERT_TRUE(raw.Read(&m));
  ASSERT_EQ(m.type, 'E');
  EXPECT_EQ(ErrorFields(m.body)['C'], "53300");
  EXPECT_EQ(ErrorFields(m.body)['S'], "FATAL");

  a.reset();
  ASSERT_TRUE(WaitFor([&] { return server_->active_connections() == 1; }));
  Conn d = Connect();
  EXPECT_EQ(PQstatus(d.get()), CONNECTION_OK);
}

TEST_F(ServerTest, CancelStillWorksAtConnectionLimit) {
  server_->Stop();
  ServerOptions o;
  o.max_connections = 1;
  StartServer(o);
  Conn c = Connect();
  ASSERT_EQ(PQsendQuery(c.get(), "SLEEP"), 1);
  ASSERT_TRUE(WaitFor([&] { return state_.sleeping.load() == 1; }));
  PGcancel* cancel = PQgetCancel(c.get());
  char err[256];
  EXPECT_EQ(PQcancel(cancel, err, sizeof(err)), 1);
  PQfreeCancel(cancel);
  Res r(PQgetResult(c.get()));
  EXPECT_EQ(ErrField(r.get(), PG_DIAG_SQLSTATE), "57014");
  while (PGresult* extra = PQgetResult(c.get())) PQclear(extra);
}

// Sends bytes after a successful startup, expects FATAL 08P01 and a close,
// and checks that another connection is unaffected.
class MalformedTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.max_message_bytes = 1 << 20;
    StartServer(o);
    other_ = Connect();
  }
  void ExpectProtocolErrorAndClose(RawClient& raw, const std::string& message_part) {
    BackendMessage m;
    ASSERT_TRUE(raw.ReadUntil('E', &m));
    auto f = ErrorFields(m.body);
    EXPECT_EQ(f['C'], "08P01");
    EXPECT_EQ(f['S'], "FATAL");
    EXPECT_NE(f['M'].find(message_part), std::string::npos) << f['M'];
    EXPECT_TRUE(raw.WaitForClose());
    Res r(PQexec(other_.get(), "SELECT 2"));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  }
  Conn other_;
};

TEST_F(MalformedTest, GarbageMessageLengthClosesOnlyThatConnection) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send("Q" + BE32(2)));
  ExpectProtocolErrorAndClose(raw, "invalid message length");
  EXPECT_TRUE(WaitFor([&] { return server_->stats().protocol_errors == 1; }));
  Server::Stats st = server_->stats();
  EXPECT_EQ(st.sessions_opened, 2u);  // other_ and raw
  EXPECT_EQ(st.connections_accepted, 2u);
  EXPECT_EQ(st.connections_rejected, 0u);
}

TEST_F(MalformedTest, HugeMessageLengthIsRejectedBeforeReadingBody) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send("Q" + BE32(0x7ffffff0u) + "SELECT"));
  ExpectProtocolErrorAndClose(raw, "exceeds the limit");
}

TEST_F(MalformedTest, UnknownMessageTypeIsRejected) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send(Msg('z', "junk")));
  ExpectProtocolErrorAndClose(raw, "invalid frontend message type");
}

TEST_F(MalformedTest, QueryWithoutTerminatorIsRejected) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send(Msg('Q', "SELECT 1")));
  ExpectProtocolErrorAndClose(raw, "missing string terminator");
}

TEST_F(MalformedTest, TruncatedBindIsRejected) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  ASSERT_TRUE(raw.Send(ParseMsg("", "SELECT 1") +
                       Msg('B', Body().Str("").Str("").I16(0).I16(3).I32(50).str())));
  ExpectProtocolErrorAndClose(raw, "Bind");
}

TEST_F(MalformedTest, GarbageStartupLengthIsRejected) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Send(BE32(0xFFFFFFFFu) + "garbage"));
  ExpectProtocolErrorAndClose(raw, "invalid length of startup packet");
}

TEST_F(MalformedTest, StartupWithoutTerminatorIsRejected) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Send(StartupPacketBytes(Body().I32(196608).Str("user").Raw("alice").str())));
  ExpectProtocolErrorAndClose(raw, "missing string terminator");
}

TEST_F(MalformedTest, TruncatedStartupThenDisconnectIsHarmless) {
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Send(BE32(100) + "abc"));
    shutdown(raw.fd(), SHUT_WR);
    EXPECT_TRUE(raw.WaitForClose());
  }
  ASSERT_TRUE(WaitFor([&] { return server_->active_connections() == 1; }));
  Res r(PQexec(other_.get(), "SELECT 2"));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
}

TEST_F(MalformedTest, DisconnectMidMessageAndMidResultIsHarmless) {
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Startup());
    ASSERT_TRUE(raw.Send("Q" + BE32(100) + "SELE"));  // then vanish
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Startup());
    ASSERT_TRUE(raw.Send(Msg('Q', Body().Str("SELECT 200000").str())));
    BackendMessage m;
    ASSERT_TRUE(raw.Read(&m));  // RowDescription; leave with the rest unread
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Startup());
    ASSERT_TRUE(raw.Send(Msg('Q', Body().Str("COPY t FROM STDIN").str()) + Msg('d', "1\t2\n")));
    EXPECT_EQ(ReadTypes(raw, 'G'), "G");
  }
  ASSERT_TRUE(WaitFor([&] { return server_->active_connections() == 1; }));
  EXPECT_TRUE(WaitFor([&] { return state_.copy_aborts.load() == 1; }));
  EXPECT_EQ(state_.open_sessions.load(), 1);
  Res r(PQexec(other_.get(), "SELECT 2"));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
}

TEST_F(MalformedTest, RandomGarbageAfterStartupNeverHurtsTheServer) {
  uint64_t seed = 777;
  auto next = [&] {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  const char types[] = {'Q', 'P', 'B', 'D', 'E', 'C', 'S', 'H', 'd', 'c', 'f', 'F', 'x'};
  for (int i = 0; i < 40; ++i) {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Startup());
    std::string bytes;
    for (int m = 0; m < 5; ++m) {
      std::string body(next() % 24, '\0');
      for (char& c : body) c = static_cast<char>(next() % 4 == 0 ? next() : next() % 3);
      bytes += Msg(types[next() % sizeof(types)], body);
    }
    if (i % 3 == 0) bytes = bytes.substr(0, next() % (bytes.size() + 1));  // cut anywhere
    raw.Send(bytes);
    if (i % 2 == 0) raw.Send(Msg('S'));
    // Whatever the server answered, the connection ends or stays usable.
    BackendMessage m;
    while (raw.Read(&m, 200)) {
    }
  }
  ASSERT_TRUE(WaitFor([&] { return server_->active_connections() == 1; }));
  EXPECT_EQ(state_.open_sessions.load(), 1);
  Res r(PQexec(other_.get(), "SELECT 2"));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
}

TEST_F(ServerTest, TerminateDestroysTheSession) {
  {
    Conn c = Connect();
    EXPECT_EQ(state_.open_sessions.load(), 1);
  }
  EXPECT_TRUE(WaitFor([&] { return state_.open_sessions.load() == 0; }));
  EXPECT_TRUE(WaitFor([&] { return server_->active_connections() == 0; }));
}

TEST_F(ServerTest, StopClosesConnectionsAndCancelsRunningStatements) {
  Conn idle = Connect();
  Conn busy = Connect();
  ASSERT_EQ(PQsendQuery(busy.get(), "SLEEP"), 1);
  ASSERT_TRUE(WaitFor([&] { return state_.sleeping.load() == 1; }));
  auto start = Clock::now();
  server_->Stop();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(state_.open_sessions.load(), 0);
  EXPECT_EQ(server_->active_connections(), 0);
  Res r(PQexec(idle.get(), "SELECT 1"));
  EXPECT_NE(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  server_->Stop();  // idempotent
}

TEST_F(ServerTest, StopTellsIdleClientsWhy57P01) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Startup());
  server_->Stop();
  BackendMessage m;
  ASSERT_TRUE(raw.Read(&m));
  ASSERT_EQ(m.type, 'E');
  auto f = ErrorFields(m.body);
  EXPECT_EQ(f['S'], "FATAL");
  EXPECT_EQ(f['C'], "57P01");
  EXPECT_TRUE(raw.WaitForClose());
  // No new connections after Stop.
  RawClient late(server_->port());
  EXPECT_FALSE(late.connected() && late.Startup());
}

TEST_F(ServerTest, StartFailsCleanlyWhenPortIsTaken) {
  ServerOptions o;
  o.port = server_->port();
  Server second(o, factory_.get());
  Status st = second.Start();
  EXPECT_EQ(st.code(), "58030");
  EXPECT_NE(st.message().find("could not listen"), std::string::npos);
}

TEST_F(ServerTest, ListensOnEveryAddressOfAHostName) {
  ServerOptions o;
  o.host = "localhost";
  o.port = 0;
  Server named(o, factory_.get());
  ASSERT_TRUE(named.Start().ok());
  EXPECT_EQ(named.Start().code(), "XX000");  // a second Start is refused
  // libpq tries every address of "localhost"; any of them must answer.
  Conn c(PQconnectdb(("host=localhost port=" + std::to_string(named.port()) +
                      " user=alice dbname=db connect_timeout=5 sslmode=disable")
                         .c_str()));
  ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
  Res r(PQexec(c.get(), "SELECT 1"));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  c.reset();
  named.Stop();
}

TEST_F(ServerTest, ManyConcurrentClientsEachGetTheirOwnResults) {
  constexpr int kClients = 8;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      Conn c(PQconnectdb(ConnInfo().c_str()));
      if (PQstatus(c.get()) != CONNECTION_OK) return;
      int ok = 0;
      for (int j = 0; j < 20; ++j) {
        int n = 1 + (i + j) % 7;
        Res r(PQexecParams(c.get(), ("SELECT " + std::to_string(n)).c_str(), 0, nullptr, nullptr,
                           nullptr, nullptr, j % 2));
        if (PQresultStatus(r.get()) == PGRES_TUPLES_OK && PQntuples(r.get()) == n) ++ok;
      }
      if (ok == 20) good.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kClients);
}

}  // namespace
}  // namespace sb::pgwire
