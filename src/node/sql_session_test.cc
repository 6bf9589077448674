#include "node/sql_session.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "node/node.h"

namespace sb::node {
namespace {

namespace fs = std::filesystem;

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sb_session_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    storage::ShardOptions so;
    so.synchronous = "OFF";
    so.on_open = [](sqlite3* db) { exec::RegisterSqlFunctions(db); };
    auto set = storage::ShardSet::Open(dir_.string(), 4, so);
    ASSERT_TRUE(set.ok());
    engine_ = std::make_unique<Engine>(std::move(*set), 4);
    ASSERT_TRUE(engine_->Open().ok());
    factory_ = std::make_unique<SqlSessionFactory>(engine_.get());
    auto s = factory_->Open("tester", "scratchbird");
    ASSERT_TRUE(s.ok());
    session_ = std::move(*s);
    Ok("CREATE TABLE kv (k bigint PRIMARY KEY, v text)");
  }
  void TearDown() override {
    session_.reset();
    factory_.reset();
    engine_.reset();
    fs::remove_all(dir_);
  }

  std::vector<pgwire::StatementResult> Ok(const std::string& sql) {
    Status st;
    auto r = session_->ExecuteSimple(sql, &st);
    EXPECT_TRUE(st.ok()) << sql << ": " << st.ToString();
    return r;
  }
  Status Err(const std::string& sql) {
    Status st;
    session_->ExecuteSimple(sql, &st);
    EXPECT_FALSE(st.ok()) << sql;
    return st;
  }
  std::string Value(const std::string& sql) {
    auto r = Ok(sql);
    if (r.empty() || r.back().rows.empty() || !r.back().rows[0][0]) return "<null>";
    return *r.back().rows[0][0];
  }

  fs::path dir_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<SqlSessionFactory> factory_;
  std::unique_ptr<pgwire::Session> session_;
};

TEST_F(SessionTest, CommandTagsFollowPostgres) {
  auto r =
      Ok("INSERT INTO kv VALUES (1, 'a'), (2, 'b'); UPDATE kv SET v = 'c' WHERE k = 1; "
         "DELETE FROM kv WHERE k = 2; SELECT * FROM kv");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].command_tag, "INSERT 0 2");
  EXPECT_EQ(r[1].command_tag, "UPDATE 1");
  EXPECT_EQ(r[2].command_tag, "DELETE 1");
  EXPECT_EQ(r[3].command_tag, "SELECT 1");
  EXPECT_EQ(r[3].columns[0].type_oid, 20u);
  EXPECT_EQ(r[3].columns[1].type_oid, 25u);
}

TEST_F(SessionTest, ErrorInsideATransactionBlockAbortsItUntilRollback) {
  Ok("BEGIN");
  EXPECT_EQ(session_->TransactionStatus(), 'T');
  (void)Err("SELECT nope FROM kv");
  EXPECT_EQ(session_->TransactionStatus(), 'E');
  EXPECT_EQ(Err("SELECT 1").code(), "25P02");
  auto r = Ok("COMMIT");
  EXPECT_EQ(r[0].command_tag, "ROLLBACK");  // COMMIT of a failed transaction rolls back
  EXPECT_EQ(session_->TransactionStatus(), 'I');
}

TEST_F(SessionTest, RolledBackWritesAreGone) {
  Ok("BEGIN; INSERT INTO kv VALUES (10, 'x'); ROLLBACK");
  EXPECT_EQ(Value("SELECT count(*) FROM kv"), "0");
  Ok("BEGIN; INSERT INTO kv VALUES (10, 'x'); COMMIT");
  EXPECT_EQ(Value("SELECT v FROM kv WHERE k = 10"), "x");
}

TEST_F(SessionTest, SetAndShowSettings) {
  Ok("SET statement_timeout = '5s'");
  EXPECT_EQ(Value("SHOW statement_timeout"), "5000");
  Ok("SET scratchbird.allow_multi_shard_writes = on");
  EXPECT_EQ(Value("SHOW scratchbird.allow_multi_shard_writes"), "on");
  EXPECT_EQ(Err("SET TimeZone = 'Europe/Paris'").code(), "0A000");
  EXPECT_EQ(Err("SET no_such_setting = 1").code(), "42704");
  Ok("RESET statement_timeout");
  EXPECT_EQ(Value("SHOW statement_timeout"), "0");
}

TEST_F(SessionTest, DriverStartupQueriesWork) {
  EXPECT_NE(Value("SELECT version()").find("PostgreSQL 15"), std::string::npos);
  EXPECT_EQ(Value("SELECT current_database()"), "scratchbird");
  EXPECT_EQ(Value("SELECT current_user"), "tester");
}

TEST_F(SessionTest, MultiShardUpdateNeedsTheSetting) {
  Ok("INSERT INTO kv VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')");
  EXPECT_EQ(Err("UPDATE kv SET v = 'z'").code(), "0A000");
  Ok("SET scratchbird.allow_multi_shard_writes = on");
  auto r = Ok("UPDATE kv SET v = 'z'");
  EXPECT_EQ(r[0].command_tag, "UPDATE 5");
}

TEST_F(SessionTest, PreparedStatementIsReplannedAfterASchemaChange) {
  auto narrow = session_->Prepare("SELECT v FROM kv WHERE k = $1", {});
  auto star = session_->Prepare("SELECT * FROM kv WHERE k = $1", {});
  ASSERT_TRUE(narrow.ok() && star.ok());
  EXPECT_EQ((*narrow)->info().param_type_oids, (std::vector<uint32_t>{20}));
  Ok("INSERT INTO kv VALUES (7, 'seven')");
  Ok("ALTER TABLE kv ADD COLUMN extra integer DEFAULT 42");
  auto r = session_->ExecutePrepared(**narrow, {std::string("7")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(*r->rows[0][0], "seven");
  // Like PostgreSQL, a prepared statement whose result columns changed fails.
  auto s = session_->ExecutePrepared(**star, {std::string("7")});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), "0A000");
  EXPECT_EQ(Value("SELECT extra FROM kv WHERE k = 7"), "42");
}

TEST_F(SessionTest, BadParameterTextIsAnInputError) {
  auto p = session_->Prepare("SELECT * FROM kv WHERE k = $1", {});
  ASSERT_TRUE(p.ok());
  auto r = session_->ExecutePrepared(**p, {std::string("seven")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "22P02");
}

TEST_F(SessionTest, UnknownDatabaseIsRefusedWithAHint) {
  auto s = factory_->Open("u", "other");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), "3D000");
  EXPECT_NE(s.status().hint().find("scratchbird"), std::string::npos);
  EXPECT_TRUE(factory_->Open("u", "postgres").ok());
}

TEST_F(SessionTest, DdlInsideATransactionBlockIsRefused) {
  Ok("BEGIN");
  EXPECT_EQ(Err("CREATE TABLE t2 (a int PRIMARY KEY)").code(), "25001");
  Ok("ROLLBACK");
}

TEST_F(SessionTest, MetricsCountStatements) {
  Ok("SELECT 1");
  (void)Err("SELECT nope");
  auto& m = engine_->metrics();
  EXPECT_GE(m.Value("scratchbird_queries_total", {{"type", "select"}, {"status", "ok"}}), 1);
  EXPECT_GE(m.Value("scratchbird_queries_total", {{"type", "select"}, {"status", "error"}}), 1);
}

TEST(ParseListenTest, AcceptsHostPortAndRejectsGarbage) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(ParseListen("--sql-listen", "127.0.0.1:4050", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 4050);
  EXPECT_FALSE(ParseListen("--sql-listen", "4050", &host, &port).ok());
  EXPECT_FALSE(ParseListen("--sql-listen", "h:99999", &host, &port).ok());
  EXPECT_FALSE(ParseListen("--sql-listen", "h:x", &host, &port).ok());
}

}  // namespace
}  // namespace sb::node
