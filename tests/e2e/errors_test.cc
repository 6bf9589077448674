// Error paths through libpq: unsupported SQL (0A000, the connection keeps
// working), syntax errors with a position, undefined objects, constraint and
// data errors with PostgreSQL's SQLSTATEs, and the database name check.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace sb::e2e {
namespace {

class ErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start({"--synchronous", "OFF"})) << server_.log();
    conn_ = std::make_unique<Conn>(server_.conninfo());
    ASSERT_TRUE(conn_->ok()) << conn_->error();
    for (const char* ddl : {
             "CREATE TABLE customers (customer_id uuid PRIMARY KEY, name varchar(8), region "
             "text) SHARD BY HASH (customer_id)",
             "CREATE TABLE orders (customer_id uuid NOT NULL, order_id bigint NOT NULL, total "
             "numeric(6,2), qty int, PRIMARY KEY (customer_id, order_id)) SHARD BY HASH "
             "(customer_id)",
         }) {
      Result r = conn_->Exec(ddl);
      ASSERT_TRUE(r.ok()) << ddl << ": " << r.error();
    }
    ASSERT_TRUE(conn_
                    ->Exec("INSERT INTO customers VALUES ('" + UuidFor(1) + "','Ann','N'),('" +
                           UuidFor(2) + "','Bob','S')")
                    .ok());
    ASSERT_TRUE(conn_
                    ->Exec("INSERT INTO orders VALUES ('" + UuidFor(1) + "', 1, 10.00, 2), ('" +
                           UuidFor(2) + "', 2, 20.00, 0)")
                    .ok());
  }

  // The connection still answers after an error.
  void ExpectAlive(const std::string& context) {
    EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders"), "2") << "after " << context;
    EXPECT_EQ(conn_->txn_status(), 'I') << "after " << context;
  }

  TempDir dir_;
  ServerProcess server_{dir_.path() + "/data"};
  std::unique_ptr<Conn> conn_;
};

TEST_F(ErrorsTest, UnsupportedSqlIsFeatureNotSupported) {
  // statement -> a word the message must contain (naming the construct).
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"SELECT * FROM orders o, LATERAL (SELECT o.total) x", "LATERAL"},
      {"SELECT array_agg(total) FROM orders", "array_agg"},
      {"SELECT * FROM orders WHERE (total, total) > ANY (SELECT total, total FROM orders)",
       "subquery"},
      {"SELECT o.order_id FROM orders o, LATERAL (SELECT o.total) t", "LATERAL"},
  };
  for (const auto& [sql, word] : cases) {
    Result r = conn_->Exec(sql);
    EXPECT_EQ(r.sqlstate(), "0A000") << sql << ": " << r.error();
    EXPECT_NE(r.message().find(word), std::string::npos) << sql << ": " << r.error();
    ExpectAlive(sql);
  }
  // Through the extended protocol too (fails at Parse).
  Result p = conn_->Params("SELECT o.order_id FROM orders o, LATERAL (SELECT $1::int) t", {"1"});
  EXPECT_EQ(p.sqlstate(), "0A000") << p.error();
  ExpectAlive("extended-protocol unsupported");
}

TEST_F(ErrorsTest, SyntaxErrorHasPosition) {
  Result r = conn_->Exec("SELEC 1");
  EXPECT_EQ(r.sqlstate(), "42601") << r.error();
  EXPECT_EQ(r.position(), "1") << r.error();
  Result r2 = conn_->Exec("SELECT order_id FROM orders WHERE");
  EXPECT_EQ(r2.sqlstate(), "42601") << r2.error();
  EXPECT_EQ(r2.position(), "34") << r2.error();  // at the end of the input
  Result r3 = conn_->Params("SELECT * FRM orders WHERE order_id = $1", {"1"});
  EXPECT_EQ(r3.sqlstate(), "42601") << r3.error();
  EXPECT_FALSE(r3.position().empty()) << r3.error();
  ExpectAlive("syntax errors");
}

TEST_F(ErrorsTest, UndefinedObjects) {
  Result t = conn_->Exec("SELECT * FROM nope");
  EXPECT_EQ(t.sqlstate(), "42P01") << t.error();
  EXPECT_EQ(t.position(), "15") << t.error();
  EXPECT_EQ(conn_->Exec("INSERT INTO nope VALUES (1)").sqlstate(), "42P01");
  EXPECT_EQ(conn_->Exec("DROP TABLE nope").sqlstate(), "42P01");
  Result c = conn_->Exec("SELECT nope FROM orders");
  EXPECT_EQ(c.sqlstate(), "42703") << c.error();
  EXPECT_EQ(c.position(), "8") << c.error();
  EXPECT_EQ(
      conn_->Exec("UPDATE orders SET nope = 1 WHERE customer_id = '" + UuidFor(1) + "'").sqlstate(),
      "42703");
  EXPECT_EQ(conn_->Exec("SELECT * FROM orders WHERE nope = 1").sqlstate(), "42703");
  EXPECT_EQ(conn_->Exec("CREATE TABLE orders (x int)").sqlstate(), "42P07");
  ExpectAlive("undefined objects");
}

TEST_F(ErrorsTest, ConstraintAndDataErrors) {
  const std::string a = UuidFor(1);
  struct Case {
    std::string sql;
    std::string sqlstate;
  };
  const std::vector<Case> cases = {
      {"INSERT INTO orders VALUES ('" + a + "', 1, 1.00, 1)", "23505"},
      {"INSERT INTO customers VALUES ('" + a + "', 'Dup', 'N')", "23505"},
      {"INSERT INTO orders VALUES (NULL, 5, 1.00, 1)", "23502"},
      {"INSERT INTO orders (order_id) VALUES (6)", "23502"},
      {"INSERT INTO orders VALUES ('" + a + "', NULL, 1.00, 1)", "23502"},
      {"INSERT INTO orders VALUES ('" + a + "', 7, 10000.00, 1)", "22003"},       // numeric(6,2)
      {"INSERT INTO orders VALUES ('" + a + "', 8, 1.00, 3000000000)", "22003"},  // int
      {"INSERT INTO customers VALUES ('" + UuidFor(3) + "', 'much too long', 'N')", "22001"},
      {"UPDATE customers SET name = 'much too long' WHERE customer_id = '" + a + "'", "22001"},
      {"SELECT 1/0", "22012"},
      {"SELECT total / qty FROM orders", "22012"},  // one row has qty = 0, on its shard
      {"SELECT qty / 0 FROM orders WHERE customer_id = '" + a + "'", "22012"},
      {"INSERT INTO orders VALUES ('not-a-uuid', 9, 1.00, 1)", "22P02"},
      {"SELECT * FROM orders WHERE qty = 'abc'", "22P02"},
  };
  for (const auto& c : cases) {
    Result r = conn_->Exec(c.sql);
    EXPECT_EQ(r.sqlstate(), c.sqlstate) << c.sql << ": " << r.error();
    ExpectAlive(c.sql);
  }
  // The same through parameters.
  Result p = conn_->Params("INSERT INTO orders VALUES ($1, $2, $3, 1)", {a, "10", "99999.99"});
  EXPECT_EQ(p.sqlstate(), "22003") << p.error();
  Result n = conn_->Params("INSERT INTO orders VALUES ($1, 11, 1.00, 1)", {std::nullopt});
  EXPECT_EQ(n.sqlstate(), "23502") << n.error();
  Result d = conn_->Params("SELECT qty / $1 FROM orders", {"0"});
  EXPECT_EQ(d.sqlstate(), "22012") << d.error();
  // Nothing was written by the failed statements.
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM customers"), "2");
  EXPECT_EQ(conn_->Scalar("SELECT name FROM customers WHERE customer_id = '" + a + "'"), "Ann");
}

// Integer arithmetic in expressions is range-checked for its result type.
TEST_F(ErrorsTest, IntegerOverflowInExpressions) {
  ASSERT_TRUE(
      conn_->Exec("CREATE TABLE ints (id int PRIMARY KEY, s smallint, i int, b bigint)").ok());
  ASSERT_TRUE(
      conn_->Exec("INSERT INTO ints VALUES (1, -32768, 2147483647, 9223372036854775807)").ok());
  for (const char* sql : {
           "SELECT i + 1 FROM ints WHERE id = 1",
           "SELECT s - 1::smallint FROM ints WHERE id = 1",
           "SELECT s * s FROM ints WHERE id = 1",
           "SELECT b + 1 FROM ints WHERE id = 1",
           "SELECT b * 2 FROM ints",
           "SELECT 1::int2 + 32767::int2",
           "SELECT 2147483647 + 1",
       }) {
    Result r = conn_->Exec(sql);
    EXPECT_EQ(r.sqlstate(), "22003") << sql << ": " << r.dump();
  }
  // Mixed widths promote, as in PostgreSQL: smallint - integer is integer.
  EXPECT_EQ(conn_->Scalar("SELECT s - 1 FROM ints WHERE id = 1"), "-32769");
  EXPECT_EQ(conn_->Scalar("SELECT i + 1::bigint FROM ints WHERE id = 1"), "2147483648");
}

// Unary minus of the most negative value overflows its type.
TEST_F(ErrorsTest, UnaryMinusOverflow) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE ints (id int PRIMARY KEY, s smallint, i int)").ok());
  ASSERT_TRUE(conn_->Exec("INSERT INTO ints VALUES (1, -32768, -2147483648)").ok());
  EXPECT_EQ(conn_->Exec("SELECT -s FROM ints WHERE id = 1").sqlstate(), "22003");
  EXPECT_EQ(conn_->Exec("SELECT -i FROM ints WHERE id = 1").sqlstate(), "22003");
}

// sum(bigint) is numeric in PostgreSQL and cannot overflow; avg's result
// scale follows PostgreSQL's division rule (values checked against PostgreSQL 15).
TEST_F(ErrorsTest, SumOfBigintsBeyondInt64) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE big (id int PRIMARY KEY, b bigint)").ok());
  ASSERT_TRUE(conn_
                  ->Exec("INSERT INTO big VALUES (1, 9223372036854775807), "
                         "(2, 9223372036854775807)")
                  .ok());
  EXPECT_EQ(conn_->Scalar("SELECT sum(b) FROM big"), "18446744073709551614");
  EXPECT_EQ(conn_->Scalar("SELECT sum(b) FROM big WHERE id = 1 OR id = 2"), "18446744073709551614");
  EXPECT_EQ(conn_->Scalar("SELECT avg(b) FROM big"), "9223372036854775807");
}

// Reads one backend message from a raw socket's buffered output: returns
// the message type and fills `fields` for ErrorResponse ('E').
char FirstMessage(const std::string& raw, std::map<char, std::string>* fields) {
  if (raw.size() < 5) return 0;
  char type = raw[0];
  if (type == 'E' || type == 'N') {
    size_t i = 5;
    while (i < raw.size() && raw[i] != 0) {
      char code = raw[i++];
      size_t end = raw.find('\0', i);
      if (end == std::string::npos) break;
      (*fields)[code] = raw.substr(i, end - i);
      i = end + 1;
    }
  }
  return type;
}

std::string StartupPacket(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string body;
  body += std::string("\x00\x03\x00\x00", 4);  // protocol 3.0
  for (const auto& [k, v] : params) body += k + '\0' + v + '\0';
  body += '\0';
  uint32_t len = static_cast<uint32_t>(body.size() + 4);
  std::string msg;
  for (int sh = 24; sh >= 0; sh -= 8) msg.push_back(static_cast<char>(len >> sh));
  return msg + body;
}

TEST_F(ErrorsTest, DatabaseNames) {
  // Wrong name: libpq reports the server's FATAL error.
  Conn wrong(server_.conninfo("nosuchdb"));
  EXPECT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().find("nosuchdb"), std::string::npos) << wrong.error();
  EXPECT_NE(wrong.error().find("does not exist"), std::string::npos) << wrong.error();
  // The same on the wire: SQLSTATE 3D000 and a hint naming "scratchbird".
  int fd = ConnectTcp(server_.sql_port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, StartupPacket({{"user", "tester"}, {"database", "nosuchdb"}})));
  bool closed = false;
  std::string raw = ReadUntilClose(fd, 10s, &closed);
  ::close(fd);
  std::map<char, std::string> fields;
  ASSERT_EQ(FirstMessage(raw, &fields), 'E') << raw.size() << " bytes";
  EXPECT_EQ(fields['C'], "3D000");
  EXPECT_EQ(fields['S'], "FATAL");
  EXPECT_NE(fields['H'].find("scratchbird"), std::string::npos) << fields['H'];
  EXPECT_TRUE(closed) << "the server closes the connection after FATAL";

  // "postgres" is accepted as an alias for tools that assume it.
  Conn alias(server_.conninfo("postgres"));
  ASSERT_TRUE(alias.ok()) << alias.error();
  EXPECT_EQ(alias.Scalar("SELECT count(*) FROM customers"), "2");
  EXPECT_EQ(alias.Scalar("SELECT current_database()"), "scratchbird");
  Conn named(server_.conninfo("scratchbird"));
  ASSERT_TRUE(named.ok()) << named.error();
  EXPECT_EQ(named.Scalar("SELECT current_database()"), "scratchbird");
  ExpectAlive("database names");
}

// What drivers send on connect.
TEST_F(ErrorsTest, DriverStartupQueries) {
  EXPECT_NE(conn_->Scalar("SELECT version()").find("PostgreSQL"), std::string::npos);
  EXPECT_EQ(conn_->Scalar("SELECT current_user"), "tester");
  EXPECT_EQ(conn_->Scalar("SHOW server_version"),
            PQparameterStatus(conn_->get(), "server_version"));
  EXPECT_TRUE(conn_->Exec("SET application_name = 'e2e'").ok());
  EXPECT_EQ(conn_->Scalar("SHOW application_name"), "e2e");
  EXPECT_TRUE(conn_->Exec("SET extra_float_digits = 3").ok());
  Result bad = conn_->Exec("SET no_such_setting = 1");
  EXPECT_EQ(bad.sqlstate(), "42704") << bad.error();
  EXPECT_STREQ(PQparameterStatus(conn_->get(), "client_encoding"), "UTF8");
  EXPECT_STREQ(PQparameterStatus(conn_->get(), "standard_conforming_strings"), "on");
  ExpectAlive("driver startup queries");
}

}  // namespace
}  // namespace sb::e2e
