// The extended protocol through libpq: Describe (parameter and column type
// OIDs), binary parameters and results for integers, prepared statements
// across schema changes, and every column type's text format on the wire.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace sb::e2e {
namespace {

class ExtendedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start({"--synchronous", "OFF"})) << server_.log();
    conn_ = std::make_unique<Conn>(server_.conninfo());
    ASSERT_TRUE(conn_->ok()) << conn_->error();
    Result r = conn_->Exec(
        "CREATE TABLE orders (customer_id uuid NOT NULL, order_id bigint NOT NULL, order_date "
        "date, total numeric(10,2), status varchar(16), note text, PRIMARY KEY (customer_id, "
        "order_id)) SHARD BY HASH (customer_id)");
    ASSERT_TRUE(r.ok()) << r.error();
    Result i = conn_->Exec("INSERT INTO orders VALUES ('" + UuidFor(1) +
                           "', 10, '2026-01-02', 12.50, 'NEW', 'first'), ('" + UuidFor(2) +
                           "', 20, '2026-01-03', 7.00, 'PAID', NULL)");
    ASSERT_TRUE(i.ok()) << i.error();
  }

  TempDir dir_;
  ServerProcess server_{dir_.path() + "/data"};
  std::unique_ptr<Conn> conn_;
};

TEST_F(ExtendedTest, DescribeReportsTypes) {
  Result p = conn_->Prepare(
      "q", "SELECT order_id, order_date, total, status, note FROM orders WHERE customer_id = $1",
      1);
  ASSERT_TRUE(p.ok()) << p.error();
  Result d(PQdescribePrepared(conn_->get(), "q"));
  ASSERT_TRUE(d.ok()) << d.error();
  ASSERT_EQ(PQnparams(d.get()), 1);
  EXPECT_EQ(PQparamtype(d.get(), 0), 2950u);  // uuid
  ASSERT_EQ(d.cols(), 5);
  const unsigned want[] = {20, 1082, 1700, 1043, 25};  // int8 date numeric varchar text
  for (int i = 0; i < 5; ++i) EXPECT_EQ(PQftype(d.get(), i), want[i]) << "column " << i;
  EXPECT_STREQ(PQfname(d.get(), 2), "total");
  EXPECT_EQ(PQfmod(d.get(), 2), ((10 << 16) | 2) + 4);  // numeric(10,2)
  EXPECT_EQ(PQfmod(d.get(), 3), 16 + 4);                // varchar(16)
  // The same types on an executed result.
  Result r = conn_->ExecPrepared("q", {UuidFor(1)});
  ASSERT_TRUE(r.ok()) << r.error();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(PQftype(r.get(), i), want[i]) << "column " << i;
  EXPECT_EQ(r.lines(), std::vector<std::string>{"10|2026-01-02|12.50|NEW|first"});
  // A statement without rows describes as such.
  Result u = conn_->Prepare("u", "UPDATE orders SET note = $2 WHERE customer_id = $1", 2);
  ASSERT_TRUE(u.ok()) << u.error();
  Result du(PQdescribePrepared(conn_->get(), "u"));
  ASSERT_TRUE(du.ok()) << du.error();
  EXPECT_EQ(du.cols(), 0);
  ASSERT_EQ(PQnparams(du.get()), 2);
  EXPECT_EQ(PQparamtype(du.get(), 0), 2950u);
  EXPECT_EQ(PQparamtype(du.get(), 1), 25u);
  Result ru = conn_->ExecPrepared("u", {UuidFor(2), "second"});
  ASSERT_TRUE(ru.ok()) << ru.error();
  EXPECT_EQ(ru.tag(), "UPDATE 1");
  // Parameters: NULL, and a wrong count.
  Result n = conn_->ExecPrepared("u", {UuidFor(2), std::nullopt});
  ASSERT_TRUE(n.ok()) << n.error();
  EXPECT_EQ(conn_->Scalar("SELECT note FROM orders WHERE order_id = 20"), "NULL");
  Result bad = conn_->ExecPrepared("u", {UuidFor(2)});
  EXPECT_EQ(bad.sqlstate(), "08P01") << bad.error();
  Result badval = conn_->ExecPrepared("q", {"not-a-uuid"});
  EXPECT_EQ(badval.sqlstate(), "22P02") << badval.error();
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders"), "2");
}

TEST_F(ExtendedTest, BinaryIntegers) {
  // int8 parameter in binary, int8 result in binary.
  int64_t id = 20;
  uint64_t be = 0;
  for (int i = 0; i < 8; ++i) be |= static_cast<uint64_t>((id >> (8 * (7 - i))) & 0xff) << (8 * i);
  const char* values[] = {reinterpret_cast<const char*>(&be)};
  int lengths[] = {8};
  int formats[] = {1};
  Oid types[] = {20};
  Result r(PQexecParams(conn_->get(), "SELECT order_id, status FROM orders WHERE order_id = $1", 1,
                        types, values, lengths, formats, 1));
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r.rows(), 1);
  ASSERT_EQ(PQfformat(r.get(), 0), 1);
  ASSERT_EQ(PQgetlength(r.get(), 0, 0), 8);
  const auto* bytes = reinterpret_cast<const unsigned char*>(PQgetvalue(r.get(), 0, 0));
  int64_t got = 0;
  for (int i = 0; i < 8; ++i) got = (got << 8) | bytes[i];
  EXPECT_EQ(got, 20);
  EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 1), static_cast<size_t>(PQgetlength(r.get(), 0, 1))),
            "PAID");
  // count(*) in binary.
  Result c(PQexecParams(conn_->get(), "SELECT count(*) FROM orders", 0, nullptr, nullptr, nullptr,
                        nullptr, 1));
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(PQgetlength(c.get(), 0, 0), 8);
  EXPECT_EQ(static_cast<unsigned char>(PQgetvalue(c.get(), 0, 0)[7]), 2);
}

// A prepared statement whose table changes shape fails cleanly (as
// PostgreSQL: "cached plan must not change result type") instead of sending
// rows the client cannot read; re-preparing works; unrelated schema changes
// do not disturb it.
TEST_F(ExtendedTest, PreparedStatementAcrossSchemaChanges) {
  ASSERT_TRUE(conn_->Prepare("star", "SELECT * FROM orders WHERE customer_id = $1", 1).ok());
  ASSERT_TRUE(conn_->Prepare("cnt", "SELECT count(*) FROM orders", 0).ok());
  ASSERT_TRUE(conn_->Exec("CREATE TABLE other (id int PRIMARY KEY)").ok());
  Result same = conn_->ExecPrepared("star", {UuidFor(1)});
  ASSERT_TRUE(same.ok()) << same.error();
  EXPECT_EQ(same.rows(), 1);

  ASSERT_TRUE(conn_->Exec("ALTER TABLE orders ADD COLUMN extra int").ok());
  Result changed = conn_->ExecPrepared("star", {UuidFor(1)});
  EXPECT_EQ(changed.sqlstate(), "0A000") << changed.error();
  EXPECT_NE(changed.message().find("cached plan must not change result type"), std::string::npos)
      << changed.error();
  // The connection is in sync and the unaffected statement still runs.
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders"), "2");
  Result cnt = conn_->ExecPrepared("cnt", {});
  ASSERT_TRUE(cnt.ok()) << cnt.error();
  EXPECT_EQ(cnt.at(0, 0), "2");
  ASSERT_TRUE(conn_->Prepare("star2", "SELECT * FROM orders WHERE customer_id = $1", 1).ok());
  Result again = conn_->ExecPrepared("star2", {UuidFor(1)});
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again.cols(), 7);
  EXPECT_EQ(again.at(0, 6), "NULL");

  ASSERT_TRUE(conn_->Exec("DROP TABLE orders").ok());
  Result gone = conn_->ExecPrepared("cnt", {});
  EXPECT_EQ(gone.sqlstate(), "42P01") << gone.error();
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM other"), "0");
}

// SQL DEALLOCATE closes the protocol-level statement: the name can be prepared
// again, an unknown name is 26000, DEALLOCATE ALL closes every statement.
// Drivers (e.g. pgjdbc, asyncpg) free statements this way.
TEST_F(ExtendedTest, DeallocateFreesTheName) {
  ASSERT_TRUE(conn_->Prepare("s", "SELECT count(*) FROM orders", 0).ok());
  Result d = conn_->Exec("DEALLOCATE s");
  ASSERT_TRUE(d.ok()) << d.error();
  Result p = conn_->Prepare("s", "SELECT count(*) FROM orders WHERE order_id > 10", 0);
  ASSERT_TRUE(p.ok()) << p.error();
  Result r = conn_->ExecPrepared("s", {});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.at(0, 0), "1");
  EXPECT_EQ(conn_->Exec("DEALLOCATE nosuch").sqlstate(), "26000");
  ASSERT_TRUE(conn_->Exec("DEALLOCATE ALL").ok());
  EXPECT_EQ(conn_->ExecPrepared("s", {}).sqlstate(), "26000");
}

// Every supported type's text output through libpq, and its type OID.
TEST_F(ExtendedTest, TypesRoundTrip) {
  Result t = conn_->Exec(
      "CREATE TABLE ty (id int PRIMARY KEY, s smallint, i int, b bigint, r real, d double "
      "precision, n numeric(12,3), t text, v varchar(5), bo boolean, dt date, ts timestamp, tz "
      "timestamptz, u uuid, by bytea)");
  ASSERT_TRUE(t.ok()) << t.error();
  Result ins = conn_->Exec(
      "INSERT INTO ty VALUES (1, -32768, 2147483647, -9223372036854775808, 1.5, 0.1, "
      "-123456789.125, 'h\xc3\xa9llo', 'abc', true, '2024-02-29', '2024-02-29 13:14:15.123456', "
      "'2024-02-29 13:14:15+02', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '\\xdeadbeef')");
  ASSERT_TRUE(ins.ok()) << ins.error();
  ASSERT_TRUE(conn_->Exec("INSERT INTO ty (id) VALUES (2)").ok());
  Result r = conn_->Exec("SELECT * FROM ty ORDER BY id");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r.rows(), 2);
  const std::vector<std::string> want = {"1",
                                         "-32768",
                                         "2147483647",
                                         "-9223372036854775808",
                                         "1.5",
                                         "0.1",
                                         "-123456789.125",
                                         "h\xc3\xa9llo",
                                         "abc",
                                         "t",
                                         "2024-02-29",
                                         "2024-02-29 13:14:15.123456",
                                         "2024-02-29 11:14:15+00",
                                         "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                                         "\\xdeadbeef"};
  const unsigned oids[] = {23,   21, 23,   20,   700,  701,  1700, 25,
                           1043, 16, 1082, 1114, 1184, 2950, 17};
  ASSERT_EQ(r.cols(), static_cast<int>(want.size()));
  for (int c = 0; c < r.cols(); ++c) {
    EXPECT_EQ(r.at(0, c), want[static_cast<size_t>(c)]) << "column " << PQfname(r.get(), c);
    EXPECT_EQ(PQftype(r.get(), c), oids[c]) << "column " << PQfname(r.get(), c);
    if (c > 0) {
      EXPECT_TRUE(r.null(1, c)) << "column " << PQfname(r.get(), c);
    }
  }
  // The same values as parameters find the row.
  Result p = conn_->Params(
      "SELECT id FROM ty WHERE s = $1 AND b = $2 AND n = $3 AND bo = $4 AND dt = $5 AND ts = $6 "
      "AND tz = $7 AND u = $8 AND by = $9",
      {"-32768", "-9223372036854775808", "-123456789.125", "true", "2024-02-29",
       "2024-02-29 13:14:15.123456", "2024-02-29 11:14:15Z", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
       "\\xdeadbeef"});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p.lines(), std::vector<std::string>{"1"});
}

}  // namespace
}  // namespace sb::e2e
