// The SQL users expect (req-05-06-11.md §5.1 items 1-15) through libpq against
// a real 16-shard node: routing (EXPLAIN), the extended protocol with
// per-Bind routing, RETURNING, multi-row INSERT split across shards,
// aggregates, DISTINCT, ORDER BY/LIMIT/OFFSET, GROUP BY/HAVING, IN lists and
// reference tables. Expected answers are computed here from the generated
// rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace sb::e2e {
namespace {

constexpr int kShards = 16;
constexpr int kCustomers = 48;
const char* const kStatuses[] = {"CANCELLED", "NEW", "PAID", "SHIPPED"};
const char* const kRegions[] = {"EAST", "NORTH", "SOUTH", "WEST"};

struct Order {
  std::string customer_id;
  int64_t order_id;
  std::string order_date;        // YYYY-MM-DD
  std::optional<int64_t> cents;  // total_amount in cents, NULL when absent
  std::string status;
};

std::string Cents(int64_t c) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld", c < 0 ? "-" : "",
                static_cast<long long>(std::llabs(c) / 100),
                static_cast<long long>(std::llabs(c) % 100));
  return buf;
}

std::string DateAfter(int days_after_2025_12_01) {
  using namespace std::chrono;
  year_month_day d{sys_days{year{2025} / December / 1} + days{days_after_2025_12_01}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

std::string Customer(int i) {
  return UuidFor(static_cast<uint64_t>(i) + 1000);
}

class SqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start({"--synchronous", "OFF"})) << server_.log();
    conn_ = std::make_unique<Conn>(server_.conninfo());
    ASSERT_TRUE(conn_->ok()) << conn_->error();
    for (const char* ddl : {
             "CREATE TABLE customers (customer_id uuid PRIMARY KEY, name text NOT NULL, region "
             "text) SHARD BY HASH (customer_id)",
             "CREATE TABLE orders (customer_id uuid NOT NULL, order_id bigint NOT NULL, "
             "order_date date, total_amount numeric(10,2), status varchar(16), PRIMARY KEY "
             "(customer_id, order_id)) SHARD BY HASH (customer_id)",
             "CREATE TABLE order_items (customer_id uuid NOT NULL, order_id bigint NOT NULL, "
             "product_id int NOT NULL, qty int, price numeric(10,2), PRIMARY KEY (customer_id, "
             "order_id, product_id)) SHARD BY HASH (customer_id)",
             "CREATE TABLE products (product_id int PRIMARY KEY, category text NOT NULL, price "
             "numeric(10,2)) REPLICATED",
         }) {
      Result r = conn_->Exec(ddl);
      ASSERT_TRUE(r.ok()) << ddl << ": " << r.error();
    }
    // Customers with one multi-row INSERT (split across shards in autocommit).
    std::string ins = "INSERT INTO customers VALUES ";
    for (int i = 0; i < kCustomers; ++i) {
      ins += (i ? "," : "") + std::string("('") + Customer(i) + "','cust_" + std::to_string(i) +
             "','" + kRegions[i % 4] + "')";
    }
    Result r = conn_->Exec(ins);
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r.tag(), "INSERT 0 " + std::to_string(kCustomers));
    // Orders through COPY (CSV): customer i has i % 7 orders; some totals are
    // NULL, many tie.
    int64_t next_id = 1;
    std::string csv;
    for (int i = 0; i < kCustomers; ++i) {
      for (int k = 0; k < i % 7; ++k) {
        Order o;
        o.customer_id = Customer(i);
        o.order_id = next_id++;
        o.order_date = DateAfter(static_cast<int>((o.order_id * 7) % 90));
        if (o.order_id % 11 != 0) {
          o.cents = o.order_id % 5 == 0 ? 50000 : (o.order_id * 7919) % 200000 + 1;
        }
        o.status = kStatuses[o.order_id % 4];
        csv += o.customer_id + "," + std::to_string(o.order_id) + "," + o.order_date + "," +
               (o.cents ? Cents(*o.cents) : "") + "," + o.status + "\n";
        orders_.push_back(o);
      }
    }
    Result c = conn_->CopyIn("COPY orders FROM STDIN WITH (FORMAT csv)", csv);
    ASSERT_TRUE(c.ok()) << c.error();
    ASSERT_EQ(c.tag(), "COPY " + std::to_string(orders_.size()));
  }

  // EXPLAIN's first line, e.g. "Distributed Query (type=ALL_SHARDS, ...)".
  std::string ExplainHead(const std::string& sql,
                          const std::vector<std::optional<std::string>>& params = {}) {
    Result r = conn_->Params("EXPLAIN " + sql, params);
    if (!r.ok() || r.rows() == 0) return "<error: " + r.error() + ">";
    return r.at(0, 0);
  }
  std::string ExplainAll(const std::string& sql) {
    Result r = conn_->Exec("EXPLAIN " + sql);
    std::string s;
    for (const auto& l : r.column(0)) s += l + "\n";
    return r.ok() ? s : "<error: " + r.error() + ">";
  }

  TempDir dir_;
  ServerProcess server_{dir_.path() + "/data"};
  std::unique_ptr<Conn> conn_;
  std::vector<Order> orders_;
};

std::string Shards(int n) {
  return "shards=" + std::to_string(n) + "/" + std::to_string(kShards);
}

// Items 1 and 2: a point INSERT and SELECT each touch one shard, the one the
// routing function names.
TEST_F(SqlTest, PointInsertAndSelectRouteToOneShard) {
  std::string id = UuidFor(1);
  Result ins = conn_->Exec("INSERT INTO customers VALUES ('" + id + "','Ann','NORTH')");
  ASSERT_TRUE(ins.ok()) << ins.error();
  EXPECT_EQ(ins.tag(), "INSERT 0 1");
  Result sel = conn_->Exec("SELECT * FROM customers WHERE customer_id='" + id + "'");
  ASSERT_TRUE(sel.ok()) << sel.error();
  EXPECT_EQ(sel.lines(), std::vector<std::string>{id + "|Ann|NORTH"});
  std::string head = ExplainHead("SELECT * FROM customers WHERE customer_id='" + id + "'");
  EXPECT_NE(head.find("SINGLE_SHARD"), std::string::npos) << head;
  EXPECT_NE(head.find(Shards(1) + ": " + ShardName(ShardOfUuid(id, kShards))), std::string::npos)
      << head;
}

// Item 3: one prepared statement, several Binds with different customer_id
// values; each Bind routes to that customer's shard and returns its row.
TEST_F(SqlTest, PreparedStatementRoutesPerBind) {
  Result p =
      conn_->Prepare("by_id", "SELECT name, region FROM customers WHERE customer_id = $1", 1);
  ASSERT_TRUE(p.ok()) << p.error();
  std::set<int> shards;
  for (int i : {0, 5, 11, 17, 23, 29, 35, 47}) {
    shards.insert(ShardOfUuid(Customer(i), kShards));
    Result r = conn_->ExecPrepared("by_id", {Customer(i)});
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r.lines(),
              std::vector<std::string>{"cust_" + std::to_string(i) + "|" + kRegions[i % 4]})
        << "customer " << i;
  }
  EXPECT_GT(shards.size(), 3u) << "the customers should span several shards";
  // An unknown key: no rows, still fine.
  Result none = conn_->ExecPrepared("by_id", {UuidFor(999999)});
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_EQ(none.rows(), 0);

  // EXPLAIN with a bound parameter: exactly the parameter's shard.
  for (int i : {0, 5, 11}) {
    std::string head =
        ExplainHead("SELECT name FROM customers WHERE customer_id = $1", {Customer(i)});
    EXPECT_NE(head.find(Shards(1) + ": " + ShardName(ShardOfUuid(Customer(i), kShards))),
              std::string::npos)
        << head;
  }
  std::string scatter = ExplainHead("SELECT * FROM orders WHERE status = 'X'");
  EXPECT_NE(scatter.find(Shards(16)), std::string::npos) << scatter;
  EXPECT_NE(scatter.find("ALL_SHARDS"), std::string::npos) << scatter;
  std::string scatter_param = ExplainHead("SELECT * FROM orders WHERE status = $1", {"X"});
  EXPECT_NE(scatter_param.find(Shards(16)), std::string::npos) << scatter_param;
}

// Item 4: UPDATE ... WHERE <full key> RETURNING * through the extended protocol.
TEST_F(SqlTest, UpdateReturningWithParameters) {
  const Order& o = orders_[3];
  Result r = conn_->Params(
      "UPDATE orders SET status='SHIPPED' WHERE customer_id=$1 AND order_id=$2 RETURNING *",
      {o.customer_id, std::to_string(o.order_id)});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.tag(), "UPDATE 1");
  ASSERT_EQ(r.rows(), 1);
  ASSERT_EQ(r.cols(), 5);
  EXPECT_EQ(r.at(0, 0), o.customer_id);
  EXPECT_EQ(r.at(0, 1), std::to_string(o.order_id));
  EXPECT_EQ(r.at(0, 2), o.order_date);
  EXPECT_EQ(r.at(0, 3), o.cents ? Cents(*o.cents) : "NULL");
  EXPECT_EQ(r.at(0, 4), "SHIPPED");
  EXPECT_EQ(conn_->Scalar("SELECT status FROM orders WHERE customer_id='" + o.customer_id +
                          "' AND order_id=" + std::to_string(o.order_id)),
            "SHIPPED");
  // RETURNING a subset of columns on INSERT and DELETE too.
  Result ins = conn_->Params(
      "INSERT INTO orders (customer_id, order_id, status) VALUES ($1, $2, 'NEW') RETURNING "
      "order_id, status",
      {o.customer_id, "900001"});
  ASSERT_TRUE(ins.ok()) << ins.error();
  EXPECT_EQ(ins.lines(), std::vector<std::string>{"900001|NEW"});
  Result del = conn_->Params(
      "DELETE FROM orders WHERE customer_id = $1 AND order_id = $2 RETURNING order_id",
      {o.customer_id, "900001"});
  ASSERT_TRUE(del.ok()) << del.error();
  EXPECT_EQ(del.tag(), "DELETE 1");
  EXPECT_EQ(del.lines(), std::vector<std::string>{"900001"});
}

// A multi-row INSERT whose rows belong to many shards is split per shard in
// autocommit; every row is visible afterwards, RETURNING gives every row.
TEST_F(SqlTest, MultiRowInsertSplitAcrossShards) {
  std::string sql = "INSERT INTO customers VALUES ";
  std::set<int> shards;
  std::set<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    std::string id = UuidFor(5000 + i);
    ids.insert(id);
    shards.insert(ShardOfUuid(id, kShards));
    sql += (i ? "," : "") + std::string("('") + id + "','multi','WEST')";
  }
  ASSERT_GT(shards.size(), 8u);
  Result r = conn_->Exec(sql + " RETURNING customer_id");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.tag(), "INSERT 0 40");
  auto returned = r.column(0);
  EXPECT_EQ(std::set<std::string>(returned.begin(), returned.end()), ids);
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM customers WHERE name = 'multi'"), "40");
  Result all = conn_->Exec("SELECT customer_id FROM customers WHERE name = 'multi'");
  auto got = all.column(0);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), ids);
  for (const auto& id : {*ids.begin(), *ids.rbegin()}) {
    EXPECT_EQ(conn_->Scalar("SELECT name FROM customers WHERE customer_id = '" + id + "'"),
              "multi");
  }
}

// Items 8 and 9: count over every shard; a scalar aggregate over no rows is
// one row (0, NULL, NULL, NULL, NULL).
TEST_F(SqlTest, CountAndEmptyScalarAggregate) {
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders"), std::to_string(orders_.size()));
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM customers"), std::to_string(kCustomers));
  Result r = conn_->Exec(
      "SELECT count(*), sum(total_amount), avg(total_amount), min(order_date), max(order_date) "
      "FROM orders WHERE status='NONE'");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.lines(), std::vector<std::string>{"0|NULL|NULL|NULL|NULL"});
  // And on a table with no rows at all.
  Result e = conn_->Exec("SELECT count(*), sum(qty), max(price) FROM order_items");
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e.lines(), std::vector<std::string>{"0|NULL|NULL"});
  // A grouped aggregate over no rows has no rows.
  Result g = conn_->Exec("SELECT status, count(*) FROM orders WHERE status='NONE' GROUP BY status");
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_EQ(g.rows(), 0);
}

// Whole-table aggregates merged exactly (numeric sums are exact; AVG is
// SUM/COUNT over non-NULL values).
TEST_F(SqlTest, ScalarAggregatesAreExact) {
  int64_t sum = 0, n = 0, mn = INT64_MAX, mx = INT64_MIN;
  std::string dmin = "9999", dmax = "0000";
  for (const auto& o : orders_) {
    dmin = std::min(dmin, o.order_date);
    dmax = std::max(dmax, o.order_date);
    if (!o.cents) continue;
    sum += *o.cents;
    ++n;
    mn = std::min(mn, *o.cents);
    mx = std::max(mx, *o.cents);
  }
  Result r = conn_->Exec(
      "SELECT count(*), count(total_amount), sum(total_amount), min(total_amount), "
      "max(total_amount), min(order_date), max(order_date), avg(total_amount) FROM orders");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r.rows(), 1);
  EXPECT_EQ(r.at(0, 0), std::to_string(orders_.size()));
  EXPECT_EQ(r.at(0, 1), std::to_string(n));
  EXPECT_EQ(r.at(0, 2), Cents(sum));
  EXPECT_EQ(r.at(0, 3), Cents(mn));
  EXPECT_EQ(r.at(0, 4), Cents(mx));
  EXPECT_EQ(r.at(0, 5), dmin);
  EXPECT_EQ(r.at(0, 6), dmax);
  // avg = sum / n, printed with many fraction digits: compare the leading
  // digits exactly (integer part and the two cents digits, truncated).
  std::string avg = r.at(0, 7);
  int64_t avg_cents_trunc = sum / n;
  EXPECT_EQ(avg.substr(0, Cents(avg_cents_trunc).size()), Cents(avg_cents_trunc)) << avg;
}

// Item 10: GROUP BY with a WHERE on a date, ordered.
TEST_F(SqlTest, GroupByStatusWithDateFilter) {
  std::map<std::string, std::pair<int64_t, int64_t>> expect;  // status -> count, cents
  std::map<std::string, bool> has_sum;
  for (const auto& o : orders_) {
    if (o.order_date < "2026-01-01") continue;
    auto& e = expect[o.status];
    e.first++;
    if (o.cents) {
      e.second += *o.cents;
      has_sum[o.status] = true;
    }
  }
  std::vector<std::string> want;
  for (const auto& [status, e] : expect) {
    want.push_back(status + "|" + std::to_string(e.first) + "|" +
                   (has_sum[status] ? Cents(e.second) : "NULL"));
  }
  Result r = conn_->Exec(
      "SELECT status, count(*), sum(total_amount) FROM orders WHERE order_date >= '2026-01-01' "
      "GROUP BY status ORDER BY status");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.lines(), want);
  EXPECT_NE(ExplainHead("SELECT status, count(*) FROM orders GROUP BY status").find(Shards(16)),
            std::string::npos);
}

// Item 11 and DISTINCT without ORDER BY.
TEST_F(SqlTest, Distinct) {
  std::set<std::string> statuses;
  for (const auto& o : orders_) statuses.insert(o.status);
  Result r = conn_->Exec("SELECT DISTINCT status FROM orders ORDER BY 1");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.column(0), std::vector<std::string>(statuses.begin(), statuses.end()));
  Result d = conn_->Exec("SELECT DISTINCT region FROM customers");
  ASSERT_TRUE(d.ok()) << d.error();
  auto regions = d.column(0);
  std::sort(regions.begin(), regions.end());
  EXPECT_EQ(regions, (std::vector<std::string>{"EAST", "NORTH", "SOUTH", "WEST"}));
  // DISTINCT over two columns.
  std::set<std::string> pairs;
  for (const auto& o : orders_) {
    if (o.cents && *o.cents == 50000) pairs.insert(o.status + "|500.00");
  }
  Result two = conn_->Exec(
      "SELECT DISTINCT status, total_amount FROM orders WHERE total_amount = 500.00 ORDER BY 1");
  ASSERT_TRUE(two.ok()) << two.error();
  std::vector<std::string> want(pairs.begin(), pairs.end());
  EXPECT_EQ(two.lines(), want);
}

// Item 12: top-N with OFFSET across shards; NULLs and ties ordered as
// PostgreSQL orders them.
TEST_F(SqlTest, OrderByLimitOffset) {
  auto sorted = orders_;
  // total_amount DESC NULLS LAST, order_id ASC.
  std::sort(sorted.begin(), sorted.end(), [](const Order& a, const Order& b) {
    if (a.cents.has_value() != b.cents.has_value()) return a.cents.has_value();
    if (a.cents && *a.cents != *b.cents) return *a.cents > *b.cents;
    return a.order_id < b.order_id;
  });
  auto line = [](const Order& o) {
    return std::to_string(o.order_id) + "|" + (o.cents ? Cents(*o.cents) : "NULL");
  };
  std::vector<std::string> want;
  for (size_t i = 20; i < 30 && i < sorted.size(); ++i) want.push_back(line(sorted[i]));
  Result r = conn_->Exec(
      "SELECT order_id, total_amount FROM orders ORDER BY total_amount DESC NULLS LAST, order_id "
      "LIMIT 10 OFFSET 20");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.lines(), want);

  // DESC puts NULLs first by default; ASC puts them last.
  std::stable_sort(sorted.begin(), sorted.end(), [](const Order& a, const Order& b) {
    if (a.cents.has_value() != b.cents.has_value()) return !a.cents.has_value();
    if (a.cents && *a.cents != *b.cents) return *a.cents > *b.cents;
    return a.order_id < b.order_id;
  });
  want.clear();
  for (size_t i = 0; i < 12; ++i) want.push_back(line(sorted[i]));
  Result nf = conn_->Exec(
      "SELECT order_id, total_amount FROM orders ORDER BY total_amount DESC, order_id LIMIT 12");
  ASSERT_TRUE(nf.ok()) << nf.error();
  EXPECT_EQ(nf.lines(), want);

  std::sort(sorted.begin(), sorted.end(), [](const Order& a, const Order& b) {
    if (a.cents.has_value() != b.cents.has_value()) return a.cents.has_value();
    if (a.cents && *a.cents != *b.cents) return *a.cents < *b.cents;
    return a.order_id > b.order_id;
  });
  want.clear();
  for (size_t i = sorted.size() - 8; i < sorted.size(); ++i) want.push_back(line(sorted[i]));
  Result tail = conn_->Exec(
      "SELECT order_id, total_amount FROM orders ORDER BY total_amount, "
      "order_id DESC OFFSET " +
      std::to_string(sorted.size() - 8));
  ASSERT_TRUE(tail.ok()) << tail.error();
  EXPECT_EQ(tail.lines(), want);

  // OFFSET past the end: no rows.
  Result past = conn_->Exec("SELECT order_id FROM orders ORDER BY order_id LIMIT 5 OFFSET 100000");
  ASSERT_TRUE(past.ok()) << past.error();
  EXPECT_EQ(past.rows(), 0);
}

// Item 13: a single customer's latest orders run whole on its shard.
TEST_F(SqlTest, SingleShardOrderByLimitPushesDown) {
  const std::string cust = Customer(6);  // 6 orders
  std::vector<Order> mine;
  for (const auto& o : orders_) {
    if (o.customer_id == cust) mine.push_back(o);
  }
  ASSERT_EQ(mine.size(), 6u);
  std::sort(mine.begin(), mine.end(),
            [](const Order& a, const Order& b) { return a.order_date > b.order_date; });
  std::vector<std::string> want;
  for (size_t i = 0; i < 4; ++i) {
    want.push_back(std::to_string(mine[i].order_id) + "|" + mine[i].order_date + "|" +
                   (mine[i].cents ? Cents(*mine[i].cents) : "NULL"));
  }
  const std::string q =
      "SELECT order_id, order_date, total_amount FROM orders WHERE customer_id='" + cust +
      "' ORDER BY order_date DESC LIMIT 4";
  Result r = conn_->Exec(q);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.lines(), want);
  std::string plan = ExplainAll(q);
  EXPECT_NE(plan.find(Shards(1)), std::string::npos) << plan;
  EXPECT_NE(plan.find("LIMIT 4"), std::string::npos) << "LIMIT runs on the shard:\n" << plan;
  EXPECT_NE(plan.find("ORDER BY"), std::string::npos) << plan;
}

// Item 14: an IN list on the shard key goes to at most the keys' shards and
// returns the same rows either way.
TEST_F(SqlTest, InListRoutesToKeyShards) {
  std::vector<int> picks = {6, 13, 20};
  std::set<int> shards;
  std::set<std::string> want;
  std::string in;
  for (int i : picks) {
    shards.insert(ShardOfUuid(Customer(i), kShards));
    in += (in.empty() ? "'" : ",'") + Customer(i) + "'";
  }
  for (const auto& o : orders_) {
    for (int i : picks) {
      if (o.customer_id == Customer(i)) want.insert(std::to_string(o.order_id));
    }
  }
  const std::string q = "SELECT * FROM orders WHERE customer_id IN (" + in + ")";
  Result r = conn_->Exec(q);
  ASSERT_TRUE(r.ok()) << r.error();
  auto ids = r.column(1);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), want);
  EXPECT_EQ(ids.size(), want.size());
  std::string head = ExplainHead(q);
  EXPECT_NE(head.find(Shards(static_cast<int>(shards.size()))), std::string::npos)
      << head << " (expected the " << shards.size() << " shards of the keys)";
  // With parameters.
  Result p = conn_->Params("SELECT count(*) FROM orders WHERE customer_id IN ($1, $2, $3)",
                           {Customer(6), Customer(13), Customer(20)});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p.at(0, 0), std::to_string(want.size()));
}

// Item 15: GROUP BY the shard key with HAVING, ORDER BY the aggregate, LIMIT.
TEST_F(SqlTest, GroupByShardKeyHavingOrderLimit) {
  std::map<std::string, int64_t> sums;
  std::map<std::string, bool> any;
  for (const auto& o : orders_) {
    if (!o.cents) continue;
    sums[o.customer_id] += *o.cents;
    any[o.customer_id] = true;
  }
  std::vector<std::pair<int64_t, std::string>> big;
  for (const auto& [c, s] : sums) {
    if (s > 100000) big.push_back({s, c});
  }
  std::sort(big.rbegin(), big.rend());
  ASSERT_GE(big.size(), 5u);
  Result r = conn_->Exec(
      "SELECT customer_id, sum(total_amount) s FROM orders GROUP BY customer_id HAVING "
      "sum(total_amount) > 1000 ORDER BY s DESC LIMIT 5");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r.rows(), 5) << r.dump();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(r.at(i, 1), Cents(big[static_cast<size_t>(i)].first)) << "row " << i;
    EXPECT_EQ(r.at(i, 1), Cents(sums[r.at(i, 0)])) << "customer " << r.at(i, 0);
  }
  // HAVING on a non-key group with count.
  std::map<std::string, int> per_status;
  for (const auto& o : orders_) per_status[o.status]++;
  int threshold = per_status.begin()->second;  // drop the first status's group or more
  std::vector<std::string> want;
  for (const auto& [s, n] : per_status) {
    if (n > threshold) want.push_back(s + "|" + std::to_string(n));
  }
  Result h = conn_->Exec("SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > " +
                         std::to_string(threshold) + " ORDER BY status");
  ASSERT_TRUE(h.ok()) << h.error();
  EXPECT_EQ(h.lines(), want);
}

// Reference (REPLICATED) tables: one logical copy for reads and writes; a
// write inside a transaction block is refused.
TEST_F(SqlTest, ReferenceTable) {
  Result ins = conn_->Exec(
      "INSERT INTO products VALUES (1,'books',10.00),(2,'books',12.50),(3,'games',59.99),"
      "(4,'games',NULL),(5,'music',7.25)");
  ASSERT_TRUE(ins.ok()) << ins.error();
  EXPECT_EQ(ins.tag(), "INSERT 0 5");
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM products"), "5");
  Result agg = conn_->Exec(
      "SELECT category, count(*), sum(price), max(price) FROM products GROUP BY category "
      "ORDER BY category");
  ASSERT_TRUE(agg.ok()) << agg.error();
  EXPECT_EQ(agg.lines(), (std::vector<std::string>{"books|2|22.50|12.50", "games|2|59.99|59.99",
                                                   "music|1|7.25|7.25"}));
  EXPECT_EQ(conn_->Scalar("SELECT category FROM products WHERE product_id = 3"), "games");
  std::string head = ExplainHead("SELECT count(*) FROM products");
  EXPECT_NE(head.find(Shards(1)), std::string::npos) << head;

  Result upd = conn_->Exec("UPDATE products SET price = 11.00 WHERE product_id = 1");
  ASSERT_TRUE(upd.ok()) << upd.error();
  EXPECT_EQ(upd.tag(), "UPDATE 1");
  Result del = conn_->Exec("DELETE FROM products WHERE category = 'music'");
  ASSERT_TRUE(del.ok()) << del.error();
  EXPECT_EQ(del.tag(), "DELETE 1");
  EXPECT_EQ(conn_->Scalar("SELECT sum(price) FROM products"), "83.49");
  // Every read sees the same copy: a scatter over a sharded table does not
  // change what the reference table returns through a second connection.
  Conn other(server_.conninfo());
  ASSERT_TRUE(other.ok()) << other.error();
  EXPECT_EQ(other.Scalar("SELECT count(*) FROM products"), "4");

  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  Result w = conn_->Exec("INSERT INTO products VALUES (9,'toys',1.00)");
  EXPECT_EQ(w.sqlstate(), "0A000") << w.error();
  EXPECT_TRUE(conn_->Exec("ROLLBACK").ok());
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM products WHERE product_id = 9"), "0");
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  Result u = conn_->Exec("UPDATE products SET price = 0 WHERE product_id = 2");
  EXPECT_EQ(u.sqlstate(), "0A000") << u.error();
  EXPECT_TRUE(conn_->Exec("ROLLBACK").ok());
  EXPECT_EQ(conn_->Scalar("SELECT price FROM products WHERE product_id = 2"), "12.50");
}

// A join, a subquery and a window over the sample data, checked against
// answers computed from the rows the test loaded.
TEST_F(SqlTest, JoinsSubqueriesAndWindowsRunAtTheCoordinator) {
  // Orders per region: customer i has i % 7 orders and region kRegions[i % 4].
  std::map<std::string, int> per_region;
  int with_orders = 0;
  for (int i = 0; i < kCustomers; ++i) {
    per_region[kRegions[i % 4]] += i % 7;
    with_orders += i % 7 > 0 ? 1 : 0;
  }
  Result j = conn_->Exec(
      "SELECT c.region, count(o.order_id) FROM customers c LEFT JOIN orders o "
      "ON o.customer_id = c.customer_id GROUP BY c.region ORDER BY c.region");
  ASSERT_TRUE(j.ok()) << j.error();
  std::vector<std::string> expected;
  for (const auto& [region, n] : per_region) expected.push_back(region + "|" + std::to_string(n));
  EXPECT_EQ(j.lines(), expected);
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM customers c WHERE EXISTS "
                          "(SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id)"),
            std::to_string(with_orders));
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM customers WHERE customer_id NOT IN "
                          "(SELECT customer_id FROM orders)"),
            std::to_string(kCustomers - with_orders));
  EXPECT_EQ(conn_->Scalar("SELECT max(rn) FROM (SELECT row_number() OVER (PARTITION BY "
                          "customer_id ORDER BY order_id) AS rn FROM orders) t"),
            "6");
  // A scalar subquery with two rows is PostgreSQL's 21000, not the first row.
  EXPECT_EQ(conn_->Exec("SELECT (SELECT region FROM customers)").sqlstate(), "21000");

  // EXPLAIN names every input, where it is read from, and the coordinator SQL.
  Result ex = conn_->Exec(
      "EXPLAIN SELECT c.name, o.order_id FROM customers c JOIN orders o USING (customer_id) "
      "WHERE c.customer_id = '" +
      Customer(5) + "'");
  ASSERT_TRUE(ex.ok()) << ex.error();
  std::string plan;
  for (const auto& l : ex.lines()) plan += l + "\n";
  EXPECT_NE(plan.find("Coordinator Query"), std::string::npos) << plan;
  EXPECT_NE(plan.find("Input _r0: customers"), std::string::npos) << plan;
  EXPECT_NE(plan.find(Shards(1)), std::string::npos) << plan;  // the filter routes customers
  EXPECT_NE(plan.find("Coordinator SQL"), std::string::npos) << plan;

  // The rows gathered at the coordinator are capped: 53200 with a hint, and
  // the connection keeps working.
  ASSERT_TRUE(conn_->Exec("SET scratchbird.join_memory_limit = '4kB'").ok());
  Result big = conn_->Exec("SELECT count(*) FROM customers c JOIN orders o USING (customer_id)");
  EXPECT_EQ(big.sqlstate(), "53200") << big.error();
  EXPECT_NE(big.hint().find("Co-locate"), std::string::npos) << big.hint();
  EXPECT_EQ(conn_->Exec("SET scratchbird.join_memory_limit = 'lots'").sqlstate(), "22023");
  ASSERT_TRUE(conn_->Exec("RESET scratchbird.join_memory_limit").ok());
  // So are the rows a scatter holds for its merge; one shard's rows are not.
  ASSERT_TRUE(conn_->Exec("SET scratchbird.max_merge_memory = '4kB'").ok());
  Result scatter = conn_->Exec("SELECT * FROM orders ORDER BY total_amount");
  EXPECT_EQ(scatter.sqlstate(), "53200") << scatter.error();
  EXPECT_NE(scatter.message().find("scratchbird.max_merge_memory"), std::string::npos)
      << scatter.error();
  EXPECT_NE(conn_->Scalar("SELECT count(*) FROM orders WHERE customer_id = '" + Customer(6) + "'"),
            "");
  ASSERT_TRUE(conn_->Exec("RESET scratchbird.max_merge_memory").ok());
  EXPECT_EQ(conn_->Scalar("SHOW scratchbird.max_merge_memory"), "512MB");
  EXPECT_EQ(conn_->Scalar("SHOW scratchbird.join_memory_limit"), "256MB");
  EXPECT_NE(conn_->Scalar("SELECT count(*) FROM customers c JOIN orders o USING (customer_id)"),
            "");
}

// Inside a transaction, a join sees the transaction's own uncommitted write.
TEST_F(SqlTest, JoinInsideATransactionSeesItsOwnWrites) {
  const std::string c = Customer(3);
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  ASSERT_TRUE(
      conn_->Exec("INSERT INTO orders VALUES ('" + c + "', 999999, '2025-12-01', 1.00, 'pending')")
          .ok());
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM customers c JOIN orders o USING (customer_id) "
                          "WHERE o.order_id = 999999"),
            "1");
  ASSERT_TRUE(conn_->Exec("ROLLBACK").ok());
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM customers c JOIN orders o USING (customer_id) "
                          "WHERE o.order_id = 999999"),
            "0");
}

// Read-only statements inside a transaction may span shards and see the
// transaction's own writes (R05-16, R06-18).
TEST_F(SqlTest, TransactionReadsSpanShardsAndSeeOwnWrites) {
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  Result ins = conn_->Exec("INSERT INTO orders VALUES ('" + Customer(1) +
                           "', 777001, '2026-02-02', 1.00, 'NEW')");
  ASSERT_TRUE(ins.ok()) << ins.error();
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM orders"), std::to_string(orders_.size() + 1));
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM customers"), std::to_string(kCustomers));
  Conn other(server_.conninfo());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other.Scalar("SELECT count(*) FROM orders"), std::to_string(orders_.size()))
      << "uncommitted rows are invisible to other sessions";
  ASSERT_TRUE(conn_->Exec("COMMIT").ok());
  EXPECT_EQ(other.Scalar("SELECT count(*) FROM orders"), std::to_string(orders_.size() + 1));
}

// Item 15: when the GROUP BY key is the shard key every group lives on one
// shard, so HAVING and ORDER BY ... LIMIT run on the shards.
TEST_F(SqlTest, GroupByShardKeyPushesHavingAndLimitDown) {
  std::string plan = ExplainAll(
      "SELECT customer_id, sum(total_amount) s FROM orders GROUP BY customer_id HAVING "
      "sum(total_amount) > 1000 ORDER BY s DESC LIMIT 5");
  size_t subplan = plan.find("Subplan");
  ASSERT_NE(subplan, std::string::npos) << plan;
  EXPECT_NE(plan.find("HAVING", subplan), std::string::npos) << plan;
  EXPECT_NE(plan.find("LIMIT 5", subplan), std::string::npos) << plan;
}

// Tables without a primary key get a hidden row id as shard key: duplicates
// are allowed, the hidden column never shows, COPY spreads rows over shards.
TEST_F(SqlTest, TableWithoutPrimaryKey) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE events (kind text, n int)").ok());
  Result i = conn_->Exec("INSERT INTO events VALUES ('a', 1), ('a', 1), ('b', 2)");
  ASSERT_TRUE(i.ok()) << i.error();
  std::string data;
  for (int k = 0; k < 100; ++k) data += "c\t" + std::to_string(k) + "\n";
  Result c = conn_->CopyIn("COPY events FROM STDIN", data);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.tag(), "COPY 100");
  Result star = conn_->Exec("SELECT * FROM events WHERE kind <> 'c' ORDER BY kind");
  ASSERT_TRUE(star.ok()) << star.error();
  EXPECT_EQ(star.cols(), 2);
  EXPECT_EQ(star.lines(), (std::vector<std::string>{"a|1", "a|1", "b|2"}));
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM events"), "103");
  EXPECT_EQ(conn_->Scalar("SELECT sum(n) FROM events WHERE kind = 'c'"), "4950");
  std::string head = ExplainHead("SELECT * FROM events");
  EXPECT_NE(head.find(Shards(16)), std::string::npos) << head;
  Result r = conn_->Exec("SELECT count(*) FROM events WHERE kind = 'c'");
  EXPECT_EQ(r.at(0, 0), "100");
}

// COPY into a reference table: one logical copy.
TEST_F(SqlTest, CopyIntoReferenceTable) {
  Result c = conn_->CopyIn("COPY products FROM STDIN WITH (FORMAT csv)",
                           "1,books,1.00\n2,games,2.50\n3,games,\n");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.tag(), "COPY 3");
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM products"), "3");
  EXPECT_EQ(conn_->Scalar("SELECT sum(price) FROM products"), "3.50");
  Result dup = conn_->CopyIn("COPY products FROM STDIN WITH (FORMAT csv)", "4,toys,1\n1,dup,1\n");
  EXPECT_EQ(dup.sqlstate(), "23505") << dup.error();
  EXPECT_EQ(conn_->Scalar("SELECT count(*) FROM products"), "3");
}

}  // namespace
}  // namespace sb::e2e
