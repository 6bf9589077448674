// Transactions and DML distribution rules (R05-14, R06-07) through libpq:
// one shard per transaction, a failed transaction until ROLLBACK, multi-shard
// UPDATE/DELETE refused unless scratchbird.allow_multi_shard_writes is on.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "e2e_util.h"

namespace sb::e2e {
namespace {

constexpr int kShards = 16;

class TxnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start({"--synchronous", "OFF"})) << server_.log();
    conn_ = std::make_unique<Conn>(server_.conninfo());
    ASSERT_TRUE(conn_->ok()) << conn_->error();
    for (const char* ddl : {
             "CREATE TABLE customers (customer_id uuid PRIMARY KEY, name text, region text) "
             "SHARD BY HASH (customer_id)",
             "CREATE TABLE orders (customer_id uuid NOT NULL, order_id bigint NOT NULL, status "
             "text, PRIMARY KEY (customer_id, order_id)) SHARD BY HASH (customer_id)",
             "CREATE TABLE order_items (customer_id uuid NOT NULL, order_id bigint NOT NULL, "
             "product_id int NOT NULL, qty int, PRIMARY KEY (customer_id, order_id, product_id)) "
             "SHARD BY HASH (customer_id)",
         }) {
      Result r = conn_->Exec(ddl);
      ASSERT_TRUE(r.ok()) << ddl << ": " << r.error();
    }
    // Two customers on different shards, a third on a's shard.
    a_ = UuidFor(1);
    for (uint64_t n = 2; b_.empty() || c_.empty(); ++n) {
      std::string id = UuidFor(n);
      int s = ShardOfUuid(id, kShards);
      if (b_.empty() && s != ShardOfUuid(a_, kShards)) b_ = id;
      if (c_.empty() && s == ShardOfUuid(a_, kShards)) c_ = id;
      ASSERT_LT(n, 10000u);
    }
    Result ins = conn_->Exec("INSERT INTO customers VALUES ('" + a_ + "','A','NORTH'),('" + b_ +
                             "','B','SOUTH'),('" + c_ + "','C','NORTH')");
    ASSERT_TRUE(ins.ok()) << ins.error();
    Result o = conn_->Exec("INSERT INTO orders VALUES ('" + a_ + "',1,'Y'),('" + a_ +
                           "',2,'Y'),('" + b_ + "',3,'Y'),('" + c_ + "',4,'N')");
    ASSERT_TRUE(o.ok()) << o.error();
  }

  std::string Name(const std::string& id) {
    return conn_->Scalar("SELECT name FROM customers WHERE customer_id = '" + id + "'");
  }

  TempDir dir_;
  ServerProcess server_{dir_.path() + "/data"};
  std::unique_ptr<Conn> conn_;
  std::string a_, b_, c_;
};

// Item 6: a write to a second shard fails with 0A000, the transaction is
// aborted (25P02 until ROLLBACK), and after ROLLBACK neither row changed.
TEST_F(TxnTest, CrossShardWriteAbortsTransaction) {
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  Result first = conn_->Exec("UPDATE customers SET name = 'A2' WHERE customer_id = '" + a_ + "'");
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ(first.tag(), "UPDATE 1");
  Result second = conn_->Exec("UPDATE customers SET name = 'B2' WHERE customer_id = '" + b_ + "'");
  EXPECT_EQ(second.sqlstate(), "0A000") << second.error();
  EXPECT_NE(second.message().find("cross-shard"), std::string::npos) << second.error();
  EXPECT_FALSE(second.hint().empty()) << "the error says what to do";
  EXPECT_EQ(conn_->txn_status(), 'E');
  for (const char* sql : {"SELECT 1", "SELECT count(*) FROM customers",
                          "UPDATE customers SET name = 'A3' WHERE customer_id = 'x'"}) {
    Result r = conn_->Exec(sql);
    EXPECT_EQ(r.sqlstate(), "25P02") << sql << ": " << r.error();
  }
  Result end = conn_->Exec("ROLLBACK");
  ASSERT_TRUE(end.ok()) << end.error();
  EXPECT_EQ(conn_->txn_status(), 'I');
  EXPECT_EQ(Name(a_), "A");
  EXPECT_EQ(Name(b_), "B");
  // The session works normally afterwards.
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM customers"), "3");
}

// The same through INSERTs, ended by COMMIT (which reports ROLLBACK).
TEST_F(TxnTest, CrossShardInsertThenCommitRollsBack) {
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  ASSERT_TRUE(conn_->Exec("INSERT INTO orders VALUES ('" + a_ + "', 10, 'NEW')").ok());
  Result bad = conn_->Exec("INSERT INTO orders VALUES ('" + b_ + "', 11, 'NEW')");
  EXPECT_EQ(bad.sqlstate(), "0A000") << bad.error();
  Result commit = conn_->Exec("COMMIT");
  ASSERT_TRUE(commit.ok()) << commit.error();
  EXPECT_EQ(commit.tag(), "ROLLBACK");
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders WHERE order_id IN (10, 11)"), "0");
}

// Item 5: several statements on one shard (two tables, two co-located
// customers) commit together; ROLLBACK discards them together.
TEST_F(TxnTest, SameShardTransactionCommitsAll) {
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  EXPECT_EQ(conn_->txn_status(), 'T');
  ASSERT_TRUE(conn_->Exec("INSERT INTO orders VALUES ('" + a_ + "', 20, 'NEW')").ok());
  Result item = conn_->Exec("INSERT INTO order_items VALUES ('" + a_ + "', 20, 7, 3)");
  ASSERT_TRUE(item.ok()) << item.error();
  Result other = conn_->Exec("UPDATE customers SET name = 'C2' WHERE customer_id = '" + c_ + "'");
  ASSERT_TRUE(other.ok()) << "a co-located key is the same shard: " << other.error();
  // Prepared statements inside the transaction route the same way.
  Result p = conn_->Params("UPDATE orders SET status = $1 WHERE customer_id = $2 AND order_id = $3",
                           {"PAID", a_, "20"});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p.tag(), "UPDATE 1");
  Result commit = conn_->Exec("COMMIT");
  ASSERT_TRUE(commit.ok()) << commit.error();
  EXPECT_EQ(commit.tag(), "COMMIT");
  Conn fresh(server_.conninfo());
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(
      fresh.Scalar("SELECT status FROM orders WHERE customer_id = '" + a_ + "' AND order_id = 20"),
      "PAID");
  EXPECT_EQ(fresh.Scalar("SELECT qty FROM order_items WHERE customer_id = '" + a_ + "'"), "3");
  EXPECT_EQ(fresh.Scalar("SELECT name FROM customers WHERE customer_id = '" + c_ + "'"), "C2");

  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  ASSERT_TRUE(conn_->Exec("DELETE FROM orders WHERE customer_id = '" + a_ + "'").ok());
  ASSERT_TRUE(conn_->Exec("INSERT INTO order_items VALUES ('" + a_ + "', 20, 8, 1)").ok());
  ASSERT_TRUE(conn_->Exec("ROLLBACK").ok());
  EXPECT_EQ(fresh.Scalar("SELECT count(*) FROM orders WHERE customer_id = '" + a_ + "'"), "3");
  EXPECT_EQ(fresh.Scalar("SELECT count(*) FROM order_items"), "1");
}

// Item 7: UPDATE/DELETE without the shard key, and updates of the shard key,
// are refused with 0A000 and change nothing; with
// scratchbird.allow_multi_shard_writes = on they run on every shard.
TEST_F(TxnTest, MultiShardWritesRefusedUnlessAllowed) {
  Result keyless = conn_->Exec("UPDATE orders SET status = 'X' WHERE status = 'Y'");
  EXPECT_EQ(keyless.sqlstate(), "0A000") << keyless.error();
  EXPECT_NE(keyless.hint().find("scratchbird.allow_multi_shard_writes"), std::string::npos)
      << keyless.error();
  Result del = conn_->Exec("DELETE FROM orders WHERE order_id > 0");
  EXPECT_EQ(del.sqlstate(), "0A000") << del.error();
  Result key =
      conn_->Exec("UPDATE orders SET customer_id = '" + b_ + "' WHERE customer_id = '" + a_ + "'");
  EXPECT_EQ(key.sqlstate(), "0A000") << key.error();
  Result key_all = conn_->Exec("UPDATE customers SET customer_id = '" + UuidFor(77) + "'");
  EXPECT_EQ(key_all.sqlstate(), "0A000") << key_all.error();
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders WHERE status = 'Y'"), "3");
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders"), "4");

  ASSERT_TRUE(conn_->Exec("SET scratchbird.allow_multi_shard_writes = on").ok());
  EXPECT_EQ(conn_->Scalar("SHOW scratchbird.allow_multi_shard_writes"), "on");
  Result upd = conn_->Exec("UPDATE orders SET status = 'X' WHERE status = 'Y'");
  ASSERT_TRUE(upd.ok()) << upd.error();
  EXPECT_EQ(upd.tag(), "UPDATE 3");
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders WHERE status = 'X'"), "3");
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders WHERE status = 'Y'"), "0");
  // Shard-key updates stay refused even then.
  Result key2 =
      conn_->Exec("UPDATE orders SET customer_id = '" + b_ + "' WHERE customer_id = '" + a_ + "'");
  EXPECT_EQ(key2.sqlstate(), "0A000") << key2.error();
  Result d = conn_->Exec("DELETE FROM orders WHERE status = 'X'");
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d.tag(), "DELETE 3");
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders"), "1");
  // Another session still has the default.
  Conn other(server_.conninfo());
  Result o = other.Exec("UPDATE orders SET status = 'Z' WHERE status = 'N'");
  EXPECT_EQ(o.sqlstate(), "0A000") << o.error();
}

// Inside an explicit transaction a multi-shard statement is refused even with
// the setting on, and a multi-row INSERT spanning shards too.
TEST_F(TxnTest, MultiShardStatementsRefusedInsideTransaction) {
  ASSERT_TRUE(conn_->Exec("SET scratchbird.allow_multi_shard_writes = on").ok());
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  Result upd = conn_->Exec("UPDATE orders SET status = 'X'");
  EXPECT_EQ(upd.sqlstate(), "0A000") << upd.error();
  ASSERT_TRUE(conn_->Exec("ROLLBACK").ok());
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  Result ins =
      conn_->Exec("INSERT INTO orders VALUES ('" + a_ + "', 30, 'NEW'), ('" + b_ + "', 31, 'NEW')");
  EXPECT_EQ(ins.sqlstate(), "0A000") << ins.error();
  ASSERT_TRUE(conn_->Exec("ROLLBACK").ok());
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders WHERE status <> 'X' AND order_id < 30"),
            "4");
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders WHERE order_id >= 30"), "0");
  // Same-shard multi-row INSERT inside a transaction is fine.
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  Result same =
      conn_->Exec("INSERT INTO orders VALUES ('" + a_ + "', 32, 'NEW'), ('" + c_ + "', 33, 'NEW')");
  EXPECT_TRUE(same.ok()) << same.error();
  ASSERT_TRUE(conn_->Exec("COMMIT").ok());
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders WHERE order_id >= 30"), "2");
}

// A failed statement inside a transaction (any error) aborts it too, and
// errors in autocommit leave no transaction behind.
TEST_F(TxnTest, ErrorInTransactionNeedsRollback) {
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  ASSERT_TRUE(conn_->Exec("INSERT INTO orders VALUES ('" + a_ + "', 40, 'NEW')").ok());
  Result dup = conn_->Exec("INSERT INTO orders VALUES ('" + a_ + "', 40, 'NEW')");
  EXPECT_EQ(dup.sqlstate(), "23505") << dup.error();
  EXPECT_EQ(conn_->Exec("SELECT 1").sqlstate(), "25P02");
  ASSERT_TRUE(conn_->Exec("ROLLBACK").ok());
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders WHERE order_id = 40"), "0");
  Result again = conn_->Exec("INSERT INTO orders VALUES ('" + a_ + "', 1, 'dup')");
  EXPECT_EQ(again.sqlstate(), "23505");
  EXPECT_EQ(conn_->txn_status(), 'I');
  EXPECT_EQ(conn_->Scalar("SELECT 1"), "1");
}

// COPY inside a transaction: rows of one shard join the transaction; rows
// for several shards are refused; in autocommit COPY is split per shard.
TEST_F(TxnTest, CopyInsideTransaction) {
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  ASSERT_TRUE(conn_->Exec("INSERT INTO orders VALUES ('" + a_ + "', 50, 'NEW')").ok());
  Result same = conn_->CopyIn("COPY orders FROM STDIN WITH (FORMAT csv)",
                              a_ + ",51,NEW\n" + c_ + ",52,NEW\n");
  ASSERT_TRUE(same.ok()) << same.error();
  EXPECT_EQ(same.tag(), "COPY 2");
  ASSERT_TRUE(conn_->Exec("ROLLBACK").ok());
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders WHERE order_id >= 50"), "0");

  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  Result multi = conn_->CopyIn("COPY orders FROM STDIN WITH (FORMAT csv)",
                               a_ + ",53,NEW\n" + b_ + ",54,NEW\n");
  EXPECT_EQ(multi.sqlstate(), "0A000") << multi.error();
  EXPECT_EQ(conn_->txn_status(), 'E');
  ASSERT_TRUE(conn_->Exec("ROLLBACK").ok());

  Result split = conn_->CopyIn("COPY orders FROM STDIN WITH (FORMAT csv)",
                               a_ + ",55,NEW\n" + b_ + ",56,NEW\n" + c_ + ",57,NEW\n");
  ASSERT_TRUE(split.ok()) << split.error();
  EXPECT_EQ(split.tag(), "COPY 3");
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders WHERE order_id >= 50"), "3");
}

}  // namespace
}  // namespace sb::e2e
