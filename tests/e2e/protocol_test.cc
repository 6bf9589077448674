// Protocol robustness with raw sockets (garbage, truncated and oversized
// messages: an error or a closed connection, never a crash, while other
// connections keep answering), statement_timeout and CancelRequest.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "e2e_util.h"

namespace sb::e2e {
namespace {

std::string BE32(uint32_t v) {
  std::string s;
  for (int sh = 24; sh >= 0; sh -= 8) s.push_back(static_cast<char>(v >> sh));
  return s;
}

std::string Startup() {
  std::string body = BE32(196608) + std::string("user\0tester\0database\0scratchbird\0\0", 34);
  return BE32(static_cast<uint32_t>(body.size() + 4)) + body;
}

class ProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start({"--synchronous", "OFF"})) << server_.log();
    conn_ = std::make_unique<Conn>(server_.conninfo());
    ASSERT_TRUE(conn_->ok()) << conn_->error();
    ASSERT_TRUE(conn_->Exec("CREATE TABLE t (id int PRIMARY KEY, v text)").ok());
    ASSERT_TRUE(conn_->Exec("INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c')").ok());
  }

  // The server process is up and both an old and a new connection answer.
  void ExpectServing(const std::string& context) {
    EXPECT_TRUE(server_.running()) << context;
    EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM t"), "3") << "old connection, after " << context;
    Conn fresh(server_.conninfo());
    EXPECT_TRUE(fresh.ok()) << fresh.error() << " after " << context;
    EXPECT_EQ(fresh.Scalar("SELECT v FROM t WHERE id = 2"), "b") << "new connection, " << context;
  }

  // Sends `bytes` on a new raw connection (after a valid startup when
  // `after_startup`), then expects an ErrorResponse and/or a close in bounded
  // time. Returns what the server sent after the startup exchange.
  std::string SendExpectingClose(const std::string& bytes, bool after_startup,
                                 bool shutdown_write = false) {
    int fd = ConnectTcp(server_.sql_port());
    EXPECT_GE(fd, 0);
    if (fd < 0) return "";
    bool closed = false;
    if (after_startup) {
      SendAll(fd, Startup());
      // Read up to ReadyForQuery ('Z' 00000005 'I').
      const std::string ready("Z\0\0\0\x05I", 6);
      std::string got;
      auto deadline = std::chrono::steady_clock::now() + 10s;
      while (got.find(ready) == std::string::npos && !closed &&
             std::chrono::steady_clock::now() < deadline) {
        got += ReadUntilClose(fd, 50ms, &closed, 4096);
      }
      EXPECT_NE(got.find(ready), std::string::npos) << "startup failed";
    }
    SendAll(fd, bytes);
    if (shutdown_write) ::shutdown(fd, SHUT_WR);
    std::string reply = ReadUntilClose(fd, 15s, &closed);
    ::close(fd);
    EXPECT_TRUE(closed) << "the server should close the connection";
    return reply;
  }

  TempDir dir_;
  ServerProcess server_{dir_.path() + "/data"};
  std::unique_ptr<Conn> conn_;
};

TEST_F(ProtocolTest, GarbageStartupIsRefused) {
  std::string reply = SendExpectingClose(std::string(64, '\xAB') + "GET / HTTP/1.1\r\n\r\n", false);
  // Either an ErrorResponse or nothing, then a close.
  EXPECT_TRUE(reply.empty() || reply[0] == 'E') << reply;
  ExpectServing("garbage startup");
}

TEST_F(ProtocolTest, TruncatedStartupIsRefused) {
  // Announces 100 bytes, sends 12, then half-closes.
  int fd = ConnectTcp(server_.sql_port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, BE32(100) + BE32(196608) + std::string("user", 4)));
  // While that connection is stuck mid-message, the server answers others.
  ExpectServing("a pending truncated startup");
  ::shutdown(fd, SHUT_WR);
  bool closed = false;
  ReadUntilClose(fd, 15s, &closed);
  ::close(fd);
  EXPECT_TRUE(closed);
  ExpectServing("truncated startup");
}

TEST_F(ProtocolTest, HugeLengthsAreRefused) {
  std::string reply = SendExpectingClose(BE32(0x7fffffff) + BE32(196608), false);
  EXPECT_TRUE(reply.empty() || reply[0] == 'E') << reply;
  // Negative / too short startup length.
  SendExpectingClose(BE32(2) + BE32(196608), false);
  // After startup: a Query claiming 1 GiB, and a message with a length below 4.
  std::string q = SendExpectingClose(std::string("Q") + BE32(1u << 30) + "SELECT 1", true);
  ASSERT_FALSE(q.empty()) << "an ErrorResponse is expected before the close";
  EXPECT_EQ(q[0], 'E');
  EXPECT_NE(q.find("08P01"), std::string::npos) << "protocol_violation SQLSTATE";
  SendExpectingClose(std::string("Q") + BE32(2), true);
  // An unknown message type after startup.
  std::string u = SendExpectingClose(std::string("\x01") + BE32(4), true);
  EXPECT_TRUE(u.empty() || u[0] == 'E') << u;
  ExpectServing("oversized messages");
}

TEST_F(ProtocolTest, UnsupportedProtocolVersionIsRefused) {
  std::string body = BE32(2 << 16) + std::string("user\0tester\0\0", 13);  // protocol 2.0
  std::string reply =
      SendExpectingClose(BE32(static_cast<uint32_t>(body.size() + 4)) + body, false);
  EXPECT_TRUE(reply.empty() || reply[0] == 'E') << reply;
  ExpectServing("protocol 2.0 startup");
}

TEST_F(ProtocolTest, ManyAbruptDisconnects) {
  for (int i = 0; i < 20; ++i) {
    int fd = ConnectTcp(server_.sql_port());
    ASSERT_GE(fd, 0);
    std::string s = Startup();
    SendAll(fd, s.substr(0, static_cast<size_t>(i) % s.size()));
    ::close(fd);
  }
  // Mid-query disconnect: a query in flight whose client goes away.
  {
    Conn c(server_.conninfo());
    ASSERT_TRUE(c.ok());
    PQsendQuery(c.get(), "SELECT * FROM t");
  }
  ExpectServing("abrupt disconnects");
}

// libpq's SSL and GSS negotiation: the server declines encryption, so
// "prefer" falls back to plain text and "require" fails cleanly.
TEST_F(ProtocolTest, EncryptionNegotiation) {
  Conn prefer(server_.conninfo() + " sslmode=prefer gssencmode=prefer");
  ASSERT_TRUE(prefer.ok()) << prefer.error();
  EXPECT_EQ(prefer.Scalar("SELECT count(*) FROM t"), "3");
  Conn require(server_.conninfo() + " sslmode=require");
  EXPECT_FALSE(require.ok());
  EXPECT_NE(require.error().find("SSL"), std::string::npos) << require.error();
  ExpectServing("encryption negotiation");
}

// Queries that run for seconds: each row of `pads` holds a run of 'a' and the
// pattern is '%' + a run of 'a' + 'b', so SQLite's LIKE does O(text x
// pattern) work per row and never matches. `many` has many cheap-ish rows
// (SQLite's progress handler, every 1000 VM steps, runs every ~100 rows);
// `few` has few rows that each take milliseconds.
class LongQueryTest : public ProtocolTest {
 protected:
  // Loads `rows` rows of `len` 'a's into table `name` with COPY; returns the
  // slow query over it.
  std::string LoadPads(const std::string& name, int rows, int len, int pattern_len) {
    Result t = conn_->Exec("CREATE TABLE " + name + " (id int PRIMARY KEY, pad text)");
    EXPECT_TRUE(t.ok()) << t.error();
    const std::string pad(static_cast<size_t>(len), 'a');
    std::string data;
    for (int i = 0; i < rows; ++i) data += std::to_string(i) + "\t" + pad + "\n";
    Result c = conn_->CopyIn("COPY " + name + " FROM STDIN", data);
    EXPECT_EQ(c.tag(), "COPY " + std::to_string(rows)) << c.error();
    return "SELECT count(*) FROM " + name + " WHERE pad LIKE '%" +
           std::string(static_cast<size_t>(pattern_len), 'a') + "b'";
  }
};

TEST_F(LongQueryTest, StatementTimeout) {
  const std::string slow = LoadPads("many", 12000, 400, 250);
  // The query is valid and answers when it touches few rows.
  EXPECT_EQ(conn_->Scalar(slow + " AND id < 2"), "0");
  ASSERT_TRUE(conn_->Exec("SET statement_timeout = '200ms'").ok());
  EXPECT_EQ(conn_->Scalar("SHOW statement_timeout"), "200");
  Result r = conn_->Exec(slow);
  EXPECT_EQ(r.sqlstate(), "57014") << r.dump();
  EXPECT_NE(r.message().find("statement timeout"), std::string::npos) << r.error();
  // The session goes on; the timeout applies per statement.
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM t"), "3");
  EXPECT_EQ(conn_->Scalar(slow + " AND id < 3"), "0");
  // Through the extended protocol too.
  Result p = conn_->Params(slow + " AND id >= $1", {"0"});
  EXPECT_EQ(p.sqlstate(), "57014") << p.dump();
  // Inside a transaction the timeout aborts the transaction.
  ASSERT_TRUE(conn_->Exec("SET statement_timeout = '100ms'").ok());
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  EXPECT_EQ(conn_->Exec(slow).sqlstate(), "57014");
  EXPECT_EQ(conn_->txn_status(), 'E');
  ASSERT_TRUE(conn_->Exec("ROLLBACK").ok());
  ASSERT_TRUE(conn_->Exec("SET statement_timeout = 0").ok());
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM many WHERE id < 10"), "10");
}

// A statement over few rows whose per-row work is expensive (~25 rows per
// shard, ~15 ms each) must still stop at the deadline: the timeout watchdog
// interrupts it even between SQLite's progress-handler calls.
TEST_F(LongQueryTest, StatementTimeoutStopsExpensiveRows) {
  const std::string slow = LoadPads("few", 400, 5000, 600);
  ASSERT_TRUE(conn_->Exec("SET statement_timeout = '200ms'").ok());
  Result r = conn_->Exec(slow);
  EXPECT_EQ(r.sqlstate(), "57014") << r.dump();
  EXPECT_NE(r.message().find("statement timeout"), std::string::npos) << r.error();
}

TEST_F(LongQueryTest, CancelRequest) {
  const std::string slow = LoadPads("few", 400, 5000, 600);
  ASSERT_EQ(PQsendQuery(conn_->get(), slow.c_str()), 1) << conn_->error();
  PGcancel* cancel = PQgetCancel(conn_->get());
  ASSERT_NE(cancel, nullptr);
  // Send CancelRequest until the query ends: a request that arrives before
  // the statement starts is not required to stop it, so repeat (bounded).
  std::vector<Result> results;
  auto deadline = std::chrono::steady_clock::now() + 40s;
  bool done = false;
  int cancels = 0;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(150ms);
    char err[256];
    if (PQcancel(cancel, err, sizeof err) == 1) ++cancels;
    // Poll without blocking.
    if (PQconsumeInput(conn_->get()) == 0) break;
    while (!PQisBusy(conn_->get())) {
      PGresult* r = PQgetResult(conn_->get());
      if (r == nullptr) {
        done = true;
        break;
      }
      results.emplace_back(r);
    }
  }
  PQfreeCancel(cancel);
  ASSERT_TRUE(done) << "the query did not end";
  EXPECT_GE(cancels, 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].sqlstate(), "57014") << results[0].dump();
  EXPECT_NE(results[0].message().find("user request"), std::string::npos) << results[0].error();
  // The connection is usable afterwards, and a cancel with nothing running
  // does nothing.
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM t"), "3");
  PGcancel* idle = PQgetCancel(conn_->get());
  char err[256];
  EXPECT_EQ(PQcancel(idle, err, sizeof err), 1) << err;
  PQfreeCancel(idle);
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM few WHERE id < 5"), "5");
}

// SIGTERM while a statement runs: the statement fails (no result rows), the
// process exits 0, and it restarts on the same directory.
TEST_F(LongQueryTest, SigtermDuringStatement) {
  const std::string slow = LoadPads("few", 400, 5000, 600);
  ASSERT_EQ(PQsendQuery(conn_->get(), slow.c_str()), 1) << conn_->error();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(server_.Stop(), 0) << server_.log();
  bool got_rows = false, got_error = false;
  while (PGresult* r = PQgetResult(conn_->get())) {
    got_rows = got_rows || PQresultStatus(r) == PGRES_TUPLES_OK;
    got_error = got_error || PQresultStatus(r) == PGRES_FATAL_ERROR;
    PQclear(r);
  }
  EXPECT_FALSE(got_rows);
  EXPECT_TRUE(got_error);
  ASSERT_TRUE(server_.Start()) << server_.log();
  Conn c(server_.conninfo());
  EXPECT_EQ(c.Scalar("SELECT count(*) FROM few"), "400");
}

}  // namespace
}  // namespace sb::e2e
