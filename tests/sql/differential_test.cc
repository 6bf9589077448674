// The differential test (issue 2, "Tests"): the same rows are loaded into a
// 16-shard cluster (a real `scratchbird start-single-node` process, through
// libpq) and into one plain SQLite database; every query must return the same
// result from both, order-insensitive unless its ORDER BY fully determines the
// order. Hand-written queries cover req-05-06-11.md §5.1 items 1-15 and chosen
// shapes; the random tests run a few hundred generated queries per fixed seed.
// Generated joins and subqueries the cluster refuses with 0A000 are counted
// per category as unsupported; once it runs them they are compared too.
// A second oracle, ternary logic partitioning (TLP), runs on the cluster
// alone: the rows of a query equal the rows of its three partitions by a
// predicate p (p, NOT p, p IS NULL), recombined in the test.
//
// Reproduce one seed:   sb_differential_test --gtest_filter='Seeds/RandomDiff.*seed7'
// Another seed:         SB_DIFF_SEED=12345 sb_differential_test --gtest_filter='*FromEnvironment'
// Unbounded, random:    make fuzz-sql [SECONDS=600]   (tests/sql/fuzz_sql.cc)
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>

#include "dataset.h"
#include "diff_harness.h"
#include "query_gen.h"
#include "tlp_oracle.h"
#include "tlp_runner.h"

namespace sbtest {
namespace {

constexpr uint64_t kDataSeed = 20261126;
constexpr int kQueriesPerSeed = 300;
constexpr int kJoinQueriesPerSeed = 250;
constexpr int kTlpCasesPerSeed = 150;
constexpr int kMaxReportedMismatches = 8;

// One cluster process and one oracle per test binary run, started by the
// first test that needs them (listing the tests starts nothing).
struct Env {
  Dataset ds = MakeDataset(kDataSeed);
  ClusterProcess cluster;
  std::unique_ptr<PgClient> pg;
  Oracle oracle;
  std::string error;
};

Env* g_env = nullptr;

// Counts per oracle and category over every generated case of this run.
std::map<std::string, CategoryCounts>& Totals() {
  static std::map<std::string, CategoryCounts> totals;
  return totals;
}

class EnvCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    if (!Totals().empty()) {
      std::cout << "generated cases, all seeds:\n" << SummaryOf(Totals());
    }
    delete g_env;
    g_env = nullptr;
  }
};
[[maybe_unused]] ::testing::Environment* const g_cleanup =
    ::testing::AddGlobalTestEnvironment(new EnvCleanup);

Env* GetEnv() {
  if (g_env != nullptr) return g_env;
  g_env = new Env;
  g_env->error = g_env->cluster.Start(16);
  if (!g_env->error.empty()) return g_env;
  g_env->pg = std::make_unique<PgClient>(g_env->cluster.conninfo());
  if (!g_env->pg->connected()) {
    g_env->error = "cannot connect: " + g_env->pg->connect_error();
    return g_env;
  }
  g_env->error = LoadDataset(g_env->ds, g_env->pg.get(), &g_env->oracle);
  if (!g_env->error.empty()) g_env->error += "\nnode log:\n" + g_env->cluster.LogTail();
  return g_env;
}

std::string ParamsText(const std::vector<Param>& params) {
  std::string s;
  for (size_t i = 0; i < params.size(); ++i) {
    s += (i ? ", $" : "$") + std::to_string(i + 1) + " = " +
         (params[i].pg_text ? "'" + *params[i].pg_text + "'" : "NULL");
  }
  return s;
}

std::string Report(const DiffQuery& q, const ResultSet& c, const ResultSet& o,
                   const std::string& why) {
  std::string s = "MISMATCH [" + q.label + "]: " + why + "\n";
  s += "  PostgreSQL dialect (cluster): " + q.pg + "\n";
  s += "  SQLite dialect (oracle):      " + q.lite + "\n";
  if (!q.params.empty()) s += "  parameters: " + ParamsText(q.params) + "\n";
  s += std::string("  compared ") + (q.ordered ? "in order" : "as multisets") + "\n";
  s += "  cluster: " + c.Describe();
  s += "  oracle:  " + o.Describe();
  return s;
}

class Differential : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = GetEnv();
    ASSERT_TRUE(env_->error.empty()) << env_->error;
  }

  // Runs `q` on both sides; the mismatch report, or empty.
  std::string Run(const DiffQuery& q) {
    if (!env_->pg->connected()) {  // a previous query lost the connection: report, go on
      env_->pg = std::make_unique<PgClient>(env_->cluster.conninfo());
    }
    ResultSet c = env_->pg->Query(q.pg, q.params);
    ResultSet o = env_->oracle.Query(q.lite, q.params);
    std::string why = CompareResults(c, o, q.ordered);
    return why.empty() ? why : Report(q, c, o, why);
  }

  void Check(const DiffQuery& q) {
    std::string r = Run(q);
    EXPECT_TRUE(r.empty()) << r;
  }

  // `n_diff` differential queries (with `join_pct`% joins and `subquery_pct`%
  // subqueries), then `n_tlp` TLP cases, all from `seed`.
  void RunSeed(uint64_t seed, int n_diff, int n_tlp, int join_pct = 20, int subquery_pct = 10) {
    QueryGen gen(seed, &ds());
    gen.set_mix(join_pct, subquery_pct);
    Checker checker(env_->cluster.conninfo(), &oracle());
    int mismatches = 0, ordered = 0, with_params = 0;
    const bool verbose = std::getenv("SB_DIFF_VERBOSE") != nullptr;
    auto report = [&](const Outcome& o) {
      if (o.mismatch() && ++mismatches <= kMaxReportedMismatches) ADD_FAILURE() << o.report;
    };
    for (int i = 0; i < n_diff; ++i) {
      QuerySpec q = gen.NextSpec();
      q.label = "seed " + std::to_string(seed) + " " + q.label;
      DiffQuery rendered = q.Render();
      ordered += rendered.ordered;
      with_params += !rendered.params.empty();
      if (verbose) std::cout << q.label << ": " << rendered.pg << "\n";
      report(checker.Differential(q));
    }
    for (int i = 0; i < n_tlp; ++i) {
      TlpCase c = gen.NextTlp();
      c.label = "seed " + std::to_string(seed) + " " + c.label;
      if (verbose)
        std::cout << c.label << ": " << c.base.Render().pg << " / p = " << c.p.pg << "\n";
      report(checker.Tlp(c));
    }
    EXPECT_EQ(mismatches, 0) << "of " << n_diff << " queries and " << n_tlp
                             << " TLP cases from seed " << seed;
    std::cout << "seed " << seed << ": " << n_diff << " queries (" << ordered << " ordered, "
              << with_params << " with parameters), " << n_tlp << " TLP cases, " << mismatches
              << " mismatches; unsupported: " << checker.UnsupportedLine() << "\n"
              << checker.Summary();
    for (const auto& [k, v] : checker.counts()) {
      CategoryCounts& t = Totals()[k];
      t.run += v.run;
      t.compared += v.compared;
      t.unsupported += v.unsupported;
      t.mismatches += v.mismatches;
    }
  }

  const Dataset& ds() const { return env_->ds; }
  PgClient& pg() { return *env_->pg; }
  Oracle& oracle() { return env_->oracle; }

  Env* env_ = nullptr;
};

// Renders a neutral query: "{{A||B}}" is A for PostgreSQL and B for SQLite.
DiffQuery Q(std::string label, const std::string& neutral, bool ordered = false,
            std::vector<Param> params = {}) {
  DiffQuery q;
  q.label = std::move(label);
  q.ordered = ordered;
  q.params = std::move(params);
  size_t pos = 0;
  while (pos < neutral.size()) {
    size_t open = neutral.find("{{", pos);
    if (open == std::string::npos) {
      q.pg += neutral.substr(pos);
      q.lite += neutral.substr(pos);
      break;
    }
    size_t mid = neutral.find("||", open + 2);
    size_t close = neutral.find("}}", mid + 2);
    q.pg += neutral.substr(pos, open - pos) + neutral.substr(open + 2, mid - open - 2);
    q.lite += neutral.substr(pos, open - pos) + neutral.substr(mid + 2, close - mid - 2);
    pos = close + 2;
  }
  return q;
}

// sum() over numeric(10,2): the oracle sums doubles; rounded to the scale it
// is the exact decimal sum (as the nearest double).
std::string SumN(const std::string& e, int scale = 2) {
  return "{{sum(" + e + ")||round(sum(" + e + "), " + std::to_string(scale) + ")}}";
}

Param TextParam(const std::string& s) {
  return Param{s, NVal::Text(s)};
}
Param IntParam(int64_t v) {
  return Param{std::to_string(v), NVal::Int(v)};
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string NoHyphens(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
  return s;
}

std::string Uuid(const Dataset& ds, size_t customer) {
  return ds.Table("customers").rows[customer][0].s;
}

// A customer with at most `max_orders` orders (and at least one).
std::string CustomerWithFewOrders(const Dataset& ds, int max_orders) {
  std::map<std::string, int> counts;
  for (const auto& r : ds.Table("orders").rows) counts[r[1].s]++;
  for (const auto& [c, n] : counts) {
    if (n >= 2 && n <= max_orders) return c;
  }
  return counts.begin()->first;
}

// --- req-05-06-11.md §5.1, the read queries (items 2, 3, 8-15) ---

TEST_F(Differential, Section51Reads) {
  const std::string c0 = Uuid(ds(), 0), c1 = Uuid(ds(), 1), c2 = Uuid(ds(), 2);
  const std::string no_orders = Uuid(ds(), 60);
  std::vector<DiffQuery> qs = {
      // 2
      Q("5.1#2 point select", "SELECT * FROM customers WHERE customer_id = '" + c0 + "'"),
      // 8
      Q("5.1#8", "SELECT count(*) FROM orders"),
      // 9: a scalar aggregate over no rows is one row (0, NULL x4)
      Q("5.1#9", "SELECT count(*), " + SumN("total_amount") +
                     ", avg(total_amount), min(order_date), max(order_date) FROM orders "
                     "WHERE status = 'NONE'"),
      // 10
      Q("5.1#10",
        "SELECT status, count(*), " + SumN("total_amount") +
            " FROM orders WHERE order_date >= '2026-01-01' GROUP BY status "
            "ORDER BY status{{|| ASC NULLS LAST}}",
        true),
      // 11
      Q("5.1#11", "SELECT DISTINCT status FROM orders ORDER BY 1{{|| ASC NULLS LAST}}", true),
      // 12
      Q("5.1#12",
        "SELECT order_id, total_amount FROM orders ORDER BY total_amount DESC NULLS LAST, "
        "order_id{{|| ASC}} LIMIT 10 OFFSET 20",
        true),
      // 13 as written (ties on order_date: this customer has at most 10 orders, so
      // LIMIT 10 keeps all of them and the set is determined) ...
      Q("5.1#13", "SELECT order_id, order_date, total_amount FROM orders WHERE customer_id = '" +
                      CustomerWithFewOrders(ds(), 10) +
                      "' ORDER BY order_date DESC{{|| NULLS FIRST}} LIMIT 10"),
      // ... and with a tiebreaker, compared in order, cutting inside the customer.
      Q("5.1#13 ordered",
        "SELECT order_id, order_date, total_amount FROM orders WHERE customer_id = '" +
            CustomerWithFewOrders(ds(), 30) +
            "' ORDER BY order_date DESC{{|| NULLS FIRST}}, order_id{{|| ASC NULLS LAST}} LIMIT 3",
        true),
      // 14
      Q("5.1#14",
        "SELECT * FROM orders WHERE customer_id IN ('" + c0 + "', '" + c1 + "', '" + c2 + "')"),
      Q("5.1#14 with a key without rows",
        "SELECT * FROM orders WHERE customer_id IN ('" + c0 + "', '" + no_orders + "')"),
      // 15
      Q("5.1#15",
        "SELECT customer_id, " + SumN("total_amount") +
            " s FROM orders GROUP BY customer_id HAVING " + SumN("total_amount") +
            " > 1000 ORDER BY s DESC{{|| NULLS FIRST}} LIMIT 5",
        true),
      Q("5.1#15 tighter",
        "SELECT customer_id, " + SumN("total_amount") +
            " s FROM orders GROUP BY customer_id HAVING " + SumN("total_amount") +
            " > 15000.005 ORDER BY s{{|| ASC NULLS LAST}}, customer_id{{|| ASC NULLS LAST}} "
            "LIMIT 7 OFFSET 2",
        true),
  };
  for (const auto& q : qs) Check(q);

  // 3: extended protocol, one prepared statement, several Binds routed per Bind.
  const std::string missing = "00000000-0000-0000-0000-000000000000";
  ASSERT_EQ(pg().Prepare("by_customer", "SELECT * FROM customers WHERE customer_id = $1"), "");
  ASSERT_EQ(pg().Prepare("orders_of",
                         "SELECT order_id, total_amount, status FROM orders "
                         "WHERE customer_id = $1 ORDER BY order_id"),
            "");
  for (const std::string& id : {c0, c1, c2, no_orders, missing}) {
    DiffQuery q = Q("5.1#3 bind " + id, "SELECT * FROM customers WHERE customer_id = ?1", false,
                    {TextParam(id)});
    ResultSet c = pg().ExecPrepared("by_customer", q.params);
    ResultSet o = oracle().Query(q.lite, q.params);
    std::string why = CompareResults(c, o, false);
    EXPECT_TRUE(why.empty()) << Report(q, c, o, why);

    DiffQuery q2 = Q("5.1#3 orders bind " + id,
                     "SELECT order_id, total_amount, status FROM orders WHERE customer_id = ?1 "
                     "ORDER BY order_id",
                     true, {TextParam(id)});
    c = pg().ExecPrepared("orders_of", q2.params);
    o = oracle().Query(q2.lite, q2.params);
    why = CompareResults(c, o, true);
    EXPECT_TRUE(why.empty()) << Report(q2, c, o, why);
  }
}

// --- §5.1 items 1, 4, 5 (writes applied to both sides) and 6, 7 (refused
// writes leave the data as the oracle has it) ---

TEST_F(Differential, Section51Writes) {
  // 1
  const std::string ann = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  const std::string ins = "INSERT INTO customers VALUES ('" + ann + "', 'Ann', 'NORTH')";
  ResultSet c = pg().Query(ins);
  ResultSet o = oracle().Query(ins);
  ASSERT_TRUE(c.ok && o.ok) << c.Describe() << o.Describe();
  Check(Q("5.1#1 read back", "SELECT * FROM customers WHERE customer_id = '" + ann + "'"));

  // 4: UPDATE ... RETURNING * with parameters, several Binds.
  ASSERT_EQ(pg().Prepare("ship",
                         "UPDATE orders SET status = 'SHIPPED' WHERE customer_id = $1 AND "
                         "order_id = $2 RETURNING *"),
            "");
  const auto& orders = ds().Table("orders").rows;
  for (size_t i : {size_t{0}, size_t{17}, size_t{333}}) {
    DiffQuery q = Q("5.1#4 ship order " + std::to_string(orders[i][0].i),
                    "UPDATE orders SET status = 'SHIPPED' WHERE customer_id = ?1 AND "
                    "order_id = ?2 RETURNING *",
                    false, {TextParam(orders[i][1].s), IntParam(orders[i][0].i)});
    c = pg().ExecPrepared("ship", q.params);
    o = oracle().Query(q.lite, q.params);
    std::string why = CompareResults(c, o, false);
    EXPECT_TRUE(why.empty()) << Report(q, c, o, why);
    EXPECT_EQ(c.rows.size(), 1u);
  }
  // A Bind that matches no row returns no row on both sides.
  {
    DiffQuery q = Q("5.1#4 no such order",
                    "UPDATE orders SET status = 'SHIPPED' WHERE customer_id = ?1 AND "
                    "order_id = ?2 RETURNING *",
                    false, {TextParam(orders[0][1].s), IntParam(999999)});
    c = pg().ExecPrepared("ship", q.params);
    o = oracle().Query(q.lite, q.params);
    std::string why = CompareResults(c, o, false);
    EXPECT_TRUE(why.empty()) << Report(q, c, o, why);
  }

  // 5: one transaction writing an order and its item (same customer, one shard).
  const std::string x = Uuid(ds(), 5);
  const std::vector<std::string> txn = {
      "BEGIN",
      "INSERT INTO orders VALUES (9001, '" + x + "', '2026-02-01', 10.50, 'NEW')",
      "INSERT INTO order_items VALUES (9001, '" + x + "', 3, 2, 5.25)",
      "COMMIT",
  };
  for (const auto& s : txn) {
    c = pg().Query(s);
    ASSERT_TRUE(c.ok) << s << ": " << c.error;
    o = oracle().Query(s);
    ASSERT_TRUE(o.ok) << s << ": " << o.error;
  }
  Check(
      Q("5.1#5 order", "SELECT * FROM orders WHERE customer_id = '" + x + "' AND order_id = 9001"));
  Check(Q("5.1#5 items", "SELECT * FROM order_items WHERE order_id = 9001"));
  Check(Q("5.1#5 customer's orders", "SELECT count(*), " + SumN("total_amount") +
                                         " FROM orders WHERE customer_id = '" + x + "'"));

  // 6: the second customer's update lands on another shard: 0A000, and after
  // ROLLBACK neither row changed (the oracle never ran the updates).
  const std::string a = Uuid(ds(), 10);
  bool refused = false;
  std::string b;
  for (size_t cand = 11; cand < 40 && !refused; ++cand) {
    b = Uuid(ds(), cand);
    ASSERT_TRUE(pg().Query("BEGIN").ok);
    ResultSet u1 =
        pg().Query("UPDATE customers SET name = 'changed' WHERE customer_id = '" + a + "'");
    ASSERT_TRUE(u1.ok) << u1.error;
    ResultSet u2 =
        pg().Query("UPDATE customers SET name = 'changed' WHERE customer_id = '" + b + "'");
    refused = !u2.ok;
    if (refused) {
      EXPECT_EQ(u2.sqlstate, "0A000") << u2.error;
    }
    ASSERT_TRUE(pg().Query("ROLLBACK").ok);
  }
  ASSERT_TRUE(refused) << "no customer on another shard than " << a;
  Check(Q("5.1#6 both unchanged",
          "SELECT * FROM customers WHERE customer_id IN ('" + a + "', '" + b + "')"));

  // 7: a keyless UPDATE and a shard-key UPDATE are refused; nothing changed.
  c = pg().Query("UPDATE orders SET status = 'X' WHERE status = 'PAID'");
  EXPECT_EQ(c.sqlstate, "0A000") << c.Describe();
  c = pg().Query("UPDATE orders SET customer_id = '" + a + "' WHERE customer_id = '" + x +
                 "' AND order_id = 9001");
  EXPECT_EQ(c.sqlstate, "0A000") << c.Describe();
  Check(Q("5.1#7 unchanged",
          "SELECT status, count(*), " + SumN("total_amount") +
              " FROM orders GROUP BY status ORDER BY status{{|| ASC}} NULLS FIRST",
          true));
  Check(Q("5.1#7 unchanged row",
          "SELECT * FROM orders WHERE customer_id = '" + x + "' AND order_id = 9001"));
}

// --- Writes through the cluster, applied to the oracle too: the reference
// table (copied to every shard), multi-shard INSERT in autocommit, RETURNING ---

TEST_F(Differential, Writes) {
  const std::vector<std::string> writes = {
      "INSERT INTO r VALUES (101, 'violet', 12.34, 7, true, '2026-03-03'), "
      "(102, NULL, NULL, NULL, NULL, NULL)",
      "UPDATE r SET c = c + 100, grp = 'changed' WHERE rk = 5",
      "DELETE FROM r WHERE rk = 7",
      "INSERT INTO t VALUES (90001, 1, 2, 3, 'new', 4.56, 7.25, false, '2026-01-02'), "
      "(90002, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
      "(90003, 9, -9, -99, 'Apple', -0.01, -0.25, true, '2025-12-31')",
      "UPDATE t SET a = a + 1, s = s || '+' WHERE id = 1007",
      "DELETE FROM t WHERE id = 1014",
  };
  for (const auto& w : writes) {
    ResultSet c = pg().Query(w);
    ASSERT_TRUE(c.ok) << w << ": " << c.error;
    ResultSet o = oracle().Query(w);
    ASSERT_TRUE(o.ok) << w << ": " << o.error;
  }
  // Reads of the reference table go round-robin over the shards: read it
  // more often than there are shards, so that every copy is compared.
  for (int i = 0; i < 20; ++i) {
    Check(Q("reference table after writes, read " + std::to_string(i),
            "SELECT * FROM r ORDER BY rk{{|| ASC NULLS LAST}}", true));
  }
  Check(Q("reference table aggregate after writes",
          "SELECT grp, count(*), " + SumN("w") + " FROM r GROUP BY grp"));
  Check(Q("sharded table after writes",
          "SELECT * FROM t WHERE id IN (1007, 1014, 90001, 90002, 90003)"));
  Check(Q("sharded count after writes", "SELECT count(*), sum(a), count(s) FROM t"));
  Check(Q("update returning",
          "UPDATE t SET k = 5 WHERE id = 90001 RETURNING id, k, a, s, n, x, flag, d"));
  Check(Q("delete returning", "DELETE FROM t WHERE id = 90002 RETURNING *"));
  Check(Q("insert returning",
          "INSERT INTO t VALUES (90004, 4, 4, 4, 'four', 4.00, 4.5, true, '2026-04-04') "
          "RETURNING id, n, x, flag, d"));
  Check(Q("multi-shard insert returning",
          "INSERT INTO t (id, k, a, s) VALUES (90010, 1, 10, 'p'), (90011, 2, 11, 'q'), "
          "(90012, 3, NULL, NULL), (90013, NULL, 13, 'r') RETURNING id, k, a, s, n"));

  // Multi-shard UPDATE and DELETE, allowed by the session setting (per shard).
  ResultSet c = pg().Query("SET scratchbird.allow_multi_shard_writes = on");
  ASSERT_TRUE(c.ok) << c.error;
  Check(
      Q("multi-shard update returning",
        "UPDATE t SET a = a * 2 + 1, s = coalesce(s, 'was null') WHERE k = 3 RETURNING id, a, s"));
  Check(
      Q("multi-shard delete returning", "DELETE FROM t WHERE k = 4 AND a < 0 RETURNING id, k, a"));
  c = pg().Query("SET scratchbird.allow_multi_shard_writes = off");
  ASSERT_TRUE(c.ok) << c.error;
  Check(Q("after multi-shard writes",
          "SELECT k, count(*), sum(a), min(s), max(s) FROM t GROUP BY k"));
}

// --- Hand-written shapes: NULL semantics, every type, every merge strategy ---

TEST_F(Differential, HandWritten) {
  std::vector<DiffQuery> qs = {
      // Counting and scalar aggregates (AGGREGATE merge with no groups).
      Q("counts",
        "SELECT count(*), count(k), count(a), count(b), count(s), count(n), count(x), "
        "count(flag), count(d) FROM t"),
      Q("scalar aggregates",
        "SELECT sum(a), sum(b), " + SumN("n") +
            ", sum(x), min(a), max(a), min(b), max(b), min(s), max(s), min(n), max(n), min(x), "
            "max(x), min(d), max(d) FROM t"),
      Q("averages", "SELECT avg(a), avg(b), avg(n), avg(x), avg(k) FROM t"),
      Q("aggregates over no rows", "SELECT count(*), count(a), sum(a), " + SumN("n") +
                                       ", avg(n), avg(a), min(s), max(d) FROM t WHERE a > 1000"),
      Q("count distinct shard key", "SELECT count(DISTINCT id) FROM t WHERE a > 0"),
      Q("count distinct shard key (orders)",
        "SELECT status, count(DISTINCT customer_id) FROM orders GROUP BY status"),
      Q("bool_and / bool_or",
        "SELECT k, {{bool_and(flag)||min(flag)}}, {{bool_or(flag)||max(flag)}}, "
        "{{bool_and(a > 0)||min(a > 0)}} FROM t GROUP BY k"),
      // GROUP BY with NULL groups, HAVING, ORDER BY on aggregates.
      Q("group by k",
        "SELECT k, count(*), sum(a), " + SumN("n") +
            ", min(s), max(d) FROM t GROUP BY k ORDER BY k NULLS FIRST",
        true),
      Q("group by flag", "SELECT flag, count(*), avg(x) FROM t GROUP BY flag"),
      Q("group by text",
        "SELECT s, count(*), max(a) FROM t GROUP BY s ORDER BY s{{|| ASC NULLS LAST}}", true),
      Q("group by two keys, having",
        "SELECT k, flag, count(*) FROM t GROUP BY k, flag HAVING count(*) > 8 "
        "ORDER BY 3 DESC{{|| NULLS FIRST}}, 1{{|| ASC NULLS LAST}}, 2{{|| ASC NULLS LAST}}",
        true),
      Q("having without the aggregate in the list",
        "SELECT s FROM t GROUP BY s HAVING sum(a) > 50 AND min(d) < '2025-03-01'"),
      Q("having on a group column",
        "SELECT k, count(*) FROM t GROUP BY k HAVING k > 4 OR k IS NULL"),
      Q("group by expression",
        "SELECT a % 3, count(*), sum(b) FROM t GROUP BY a % 3 ORDER BY 1{{|| ASC NULLS LAST}}",
        true),
      Q("group by ordinal of expression",
        "SELECT lower(s), count(*) FROM t GROUP BY 1 ORDER BY 2 DESC{{|| NULLS FIRST}}, "
        "1{{|| ASC NULLS LAST}}",
        true),
      Q("order by aggregate not selected",
        "SELECT k FROM t GROUP BY k ORDER BY count(*) DESC{{|| NULLS FIRST}}, k{{|| ASC}} "
        "NULLS FIRST",
        true),
      // Unconstrained numeric (avg, numeric division) sorts by value, not as text.
      Q("order by avg of integer",
        "SELECT k, avg(a) FROM t GROUP BY k ORDER BY avg(a) DESC NULLS LAST, k{{|| ASC}} NULLS "
        "FIRST",
        true),
      Q("order by avg of numeric",
        "SELECT k, avg(n) FROM t GROUP BY k ORDER BY 2{{|| ASC NULLS LAST}}, k{{|| ASC}} NULLS "
        "FIRST",
        true),
      Q("order by avg, one shard",
        "SELECT grp, avg(c) FROM r GROUP BY grp ORDER BY 2 DESC{{|| NULLS FIRST}}, 1{{|| ASC}} "
        "NULLS LAST",
        true),
      Q("order by numeric division, merge sort",
        "SELECT id, n / 3 AS q FROM t ORDER BY q{{|| ASC NULLS LAST}}, id{{|| ASC NULLS LAST}} "
        "LIMIT 50 OFFSET 200",
        true),
      Q("order by hidden numeric division",
        "SELECT id FROM t ORDER BY n / 4 DESC{{|| NULLS FIRST}}, id{{|| ASC NULLS LAST}} LIMIT 30",
        true),
      Q("scalar having", "SELECT count(*) FROM t HAVING count(*) > 10"),
      Q("scalar having false", "SELECT count(*) FROM t HAVING count(*) > 100000"),
      Q("aggregate arithmetic",
        "SELECT k, max(a) - min(a), count(*) * 2 + 1, sum(a) / 7 FROM t GROUP BY k"),
      Q("group limit offset",
        "SELECT d, count(*) FROM t GROUP BY d ORDER BY d DESC{{|| NULLS FIRST}} LIMIT 5 OFFSET 3",
        true),
      // DISTINCT.
      Q("distinct", "SELECT DISTINCT k, flag FROM t"),
      Q("distinct ordered", "SELECT DISTINCT s FROM t ORDER BY 1 DESC{{|| NULLS FIRST}} LIMIT 6",
        true),
      Q("distinct expression", "SELECT DISTINCT a / 10, flag IS NULL FROM t"),
      // Sort-merge, top-N, NULL ordering.
      Q("order by text, C collation",
        "SELECT id, s FROM t WHERE s IS NOT NULL ORDER BY s{{|| ASC NULLS LAST}}, id{{|| ASC}} "
        "NULLS LAST LIMIT 40",
        true),
      Q("nulls first ascending",
        "SELECT id, a FROM t ORDER BY a NULLS FIRST, id DESC{{|| NULLS FIRST}} LIMIT 30", true),
      Q("nulls last descending",
        "SELECT id, n FROM t ORDER BY n DESC NULLS LAST, id{{|| ASC NULLS LAST}} LIMIT 25 OFFSET 5",
        true),
      Q("default nulls descending",
        "SELECT id, d FROM t ORDER BY d DESC{{|| NULLS FIRST}}, id{{|| ASC NULLS LAST}} LIMIT 20",
        true),
      Q("order by float",
        "SELECT id, x, x * 2 FROM t ORDER BY x{{|| ASC NULLS LAST}}, id{{|| ASC}} "
        "NULLS LAST LIMIT 20 OFFSET 100",
        true),
      Q("order by boolean",
        "SELECT id, flag FROM t ORDER BY flag DESC{{|| NULLS FIRST}}, id{{|| ASC NULLS LAST}} "
        "LIMIT 30 OFFSET 120",
        true),
      Q("order by hidden column",
        "SELECT id FROM t ORDER BY b{{|| ASC NULLS LAST}}, id{{|| ASC NULLS LAST}} LIMIT 15", true),
      Q("offset past the end",
        "SELECT id FROM t ORDER BY id{{|| ASC NULLS LAST}} LIMIT 10 OFFSET 695", true),
      Q("limit 0", "SELECT id FROM t ORDER BY id{{|| ASC NULLS LAST}} LIMIT 0", true),
      Q("offset only",
        "SELECT id FROM t ORDER BY id DESC{{|| NULLS FIRST}} {{||LIMIT -1 }}OFFSET 690", true),
      // Predicates and NULL semantics.
      Q("not in with null", "SELECT id FROM t WHERE a NOT IN (1, 2, NULL)"),
      Q("in with null", "SELECT id FROM t WHERE a IN (1, 2, NULL)"),
      Q("not of null comparison", "SELECT id FROM t WHERE NOT (a > 0)"),
      Q("equals null", "SELECT id FROM t WHERE a = NULL"),
      Q("is distinct from null", "SELECT id FROM t WHERE a IS {{DISTINCT FROM||NOT}} NULL"),
      Q("is not distinct from",
        "SELECT id FROM t WHERE k IS {{NOT DISTINCT FROM||}} 3 OR s IS {{NOT DISTINCT FROM||}} "
        "NULL"),
      Q("three-valued or", "SELECT id FROM t WHERE a > 40 OR flag"),
      Q("three-valued and not", "SELECT id FROM t WHERE NOT (a > 0 AND flag)"),
      Q("coalesce", "SELECT id, coalesce(a, k, -1), coalesce(s, 'none') FROM t WHERE id < 1300"),
      Q("between", "SELECT id FROM t WHERE n BETWEEN -10.50 AND 250.00"),
      Q("not between dates", "SELECT id FROM t WHERE d NOT BETWEEN '2025-03-01' AND '2026-06-30'"),
      Q("between reversed bounds", "SELECT id FROM t WHERE a BETWEEN 10 AND -10"),
      Q("like prefix", "SELECT id, s FROM t WHERE s LIKE 'a%'"),
      Q("like underscore", "SELECT id, s FROM t WHERE s LIKE 'a_b'"),
      Q("like escaped underscore", "SELECT id, s FROM t WHERE s LIKE '%\\_%'{{|| ESCAPE '\\'}}"),
      Q("like escaped percent", "SELECT id, s FROM t WHERE s LIKE '%\\%%'{{|| ESCAPE '\\'}}"),
      Q("like is case-sensitive", "SELECT id FROM t WHERE s LIKE 'A%'"),
      Q("not like", "SELECT id FROM t WHERE s NOT LIKE '%a%'"),
      Q("ilike", "SELECT id FROM t WHERE {{s ILIKE 'apple%'||lower(s) LIKE 'apple%'}}"),
      Q("like non-ascii", "SELECT id FROM t WHERE s LIKE '\xC3\xA9%'"),
      Q("empty string is not null", "SELECT count(*) FROM t WHERE s = ''"),
      Q("boolean tests",
        "SELECT id, flag IS TRUE, flag IS NOT FALSE, flag IS {{UNKNOWN||NULL}}, NOT flag FROM t "
        "WHERE id < 1400"),
      Q("boolean column as predicate", "SELECT count(*) FROM t WHERE flag"),
      Q("boolean equals", "SELECT count(*) FROM t WHERE flag = false"),
      Q("date comparison", "SELECT id, d FROM t WHERE d >= '2026-01-01'"),
      Q("date typed literal", "SELECT count(*) FROM t WHERE d < {{DATE ||}}'2025-04-15'"),
      Q("date arithmetic",
        "SELECT id, {{d + 30||date(d, '+30 days')}}, {{d - 1||date(d, '-1 days')}} FROM t "
        "WHERE {{d + 30||date(d, '+30 days')}} > '2026-12-01'"),
      Q("date plus nullable integer",
        "SELECT id, {{d + k||date(d, k || ' days')}}, {{k + d||date(d, k || ' days')}}, "
        "{{d - a||date(d, (- a) || ' days')}} FROM t WHERE id < 2500"),
      Q("date minus negative constant",
        "SELECT id, {{d - (-5)||date(d, '+5 days')}}, {{d + (-3)||date(d, '-3 days')}} FROM t "
        "WHERE d < '2025-03-01'"),
      Q("text functions",
        "SELECT id, lower(s), upper(s), length(s), s || '!' FROM t WHERE id < 1500"),
      Q("text concat integer", "SELECT id, s || '-' || k FROM t WHERE id < 1500"),
      Q("case",
        "SELECT CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero or null' END AS "
        "sign, count(*) FROM t GROUP BY 1 ORDER BY 1{{|| ASC NULLS LAST}}",
        true),
      Q("simple case", "SELECT id, CASE k WHEN 1 THEN 'one' WHEN 2 THEN 'two' END FROM t"),
      Q("simple case, mixed integer and numeric values",
        "SELECT id, CASE k WHEN 1.5 THEN 'x' WHEN 3 THEN 'three' WHEN 4.0 THEN 'four' END, "
        "CASE n WHEN 0.5 THEN 'half' WHEN 10 THEN 'ten' ELSE 'other' END FROM t"),
      Q("nullif", "SELECT id, nullif(k, 3), nullif(s, ''), nullif(n, 0) FROM t WHERE id < 2500"),
      // Arithmetic.
      Q("integer arithmetic",
        "SELECT id, a + b, a * 3, a / 3, a % 3, -a, abs(a), b - a FROM t ORDER BY id{{|| ASC}} "
        "NULLS LAST LIMIT 100",
        true),
      Q("integer division negative", "SELECT id, a / 7, a % 7, (a - 60) / 4 FROM t WHERE a < 0"),
      Q("numeric arithmetic",
        "SELECT id, n + 1, n * 2, n - a, n * 1.5, abs(n), -n FROM t WHERE id < 2000"),
      Q("numeric division", "SELECT id, n / 3, n / 2.5, a / 2.0 FROM t WHERE id < 2000"),
      Q("numeric comparison with scale", "SELECT id FROM t WHERE n * 1.5 > 100.005"),
      Q("numeric equality", "SELECT id FROM t WHERE n = 0 OR n IN (10.00, -0.01)"),
      Q("integer vs numeric", "SELECT id FROM t WHERE a > 2.5 AND a < 30.25"),
      Q("float arithmetic", "SELECT id, x + 1, x * 0.5, x + a, x / 4 FROM t WHERE x > 100"),
      Q("float vs numeric", "SELECT id, x + n FROM t WHERE x > n"),
      Q("bigint", "SELECT id, b, b + 1, b * 2 FROM t WHERE b > 500000000000"),
      Q("sum bigint", "SELECT k, sum(b), avg(b) FROM t GROUP BY k"),
      // Shard-key routing: equality, IN lists, parameters.
      Q("key equality", "SELECT * FROM t WHERE id = 1007"),
      Q("key equality no row", "SELECT * FROM t WHERE id = 1001"),
      Q("key in list", "SELECT id, a FROM t WHERE id IN (1000, 1007, 1014, 99999)"),
      Q("key in list aggregate",
        "SELECT count(*), sum(a) FROM t WHERE id IN (1000, 1007, 1014, 1021, 1028)"),
      Q("key and predicate", "SELECT id FROM t WHERE id = 1014 AND a IS NOT NULL"),
      Q("key parameter", "SELECT id, s FROM t WHERE id = {{$1||?1}}", false, {IntParam(1021)}),
      Q("key equality single shard aggregate",
        "SELECT count(DISTINCT s), sum(DISTINCT a), avg(a) FROM t WHERE id = 1035"),
      Q("key range is a scatter", "SELECT count(*) FROM t WHERE id > 2000 AND id < 3000"),
      Q("key on the right", "SELECT id, a FROM t WHERE 1008 = id"),
      Q("key as numeric literal", "SELECT id FROM t WHERE id = 1008.0"),
      Q("key as non-integral literal", "SELECT id FROM t WHERE id = 1007.5"),
      Q("key as text literal", "SELECT id, s FROM t WHERE id = '1008'"),
      Q("key in two lists", "SELECT id FROM t WHERE id IN (1008, 1014) AND id IN (1014, 2000)"),
      Q("key or key", "SELECT id FROM t WHERE id = 1008 OR id = 1014"),
      Q("contradicting keys", "SELECT id FROM t WHERE id = 1008 AND id = 1014"),
      Q("key expression is a scatter", "SELECT id FROM t WHERE id = 1000 + 8"),
      Q("key parameter with a cast", "SELECT id, b FROM t WHERE id = {{$1::bigint||?1}}", false,
        {IntParam(1008)}),
      Q("uuid key in upper case", "SELECT order_id FROM orders WHERE customer_id = '{{" +
                                      Upper(Uuid(ds(), 3)) + "||" + Uuid(ds(), 3) + "}}'"),
      Q("uuid key without hyphens", "SELECT count(*) FROM orders WHERE customer_id = '{{" +
                                        NoHyphens(Uuid(ds(), 4)) + "||" + Uuid(ds(), 4) + "}}'"),
      // No table: the coordinator evaluates.
      Q("no table",
        "SELECT 7 / 2, -7 / 2, 7 % -3, 7.0 / 2, 1.0 / 3, 'a' || 'b', length('h\xC3\xA9llo'), "
        "abs(-3), coalesce(NULL, 5), 1 = 1, NULL IS NULL, 2.5 * 2, 'B' < 'a'"),
      // Identifiers.
      Q("case-folded and quoted identifiers",
        "SELECT ID, \"a\", T.s FROM T WHERE Id < 1100 AND t.K IS NOT NULL"),
      Q("table alias", "SELECT x.id, x.a FROM t AS x WHERE x.a > 45"),
      Q("alias of an expression in ORDER BY",
        "SELECT id, -a AS neg FROM t WHERE a IS NOT NULL ORDER BY neg{{|| ASC NULLS LAST}}, "
        "id{{|| ASC NULLS LAST}} LIMIT 12",
        true),
      // Aggregates in other positions.
      Q("distinct over aggregates", "SELECT DISTINCT count(*) FROM t GROUP BY k"),
      Q("expression of a group key", "SELECT k + 1, k * k, count(*) FROM t GROUP BY k"),
      Q("order by a group key not selected",
        "SELECT count(*) FROM t GROUP BY k ORDER BY k{{|| ASC}} NULLS FIRST", true),
      Q("integer division of aggregates", "SELECT sum(a) / count(a), sum(a) % 7 FROM t"),
      Q("scalar aggregate with limit 0", "SELECT count(*) FROM t LIMIT 0"),
      Q("scalar aggregate with offset", "SELECT count(*) FROM t {{||LIMIT -1 }}OFFSET 1"),
      Q("not of is null", "SELECT count(*) FROM t WHERE NOT flag IS NULL"),
      // The replicated table runs whole on one shard.
      Q("replicated group",
        "SELECT grp, count(*), " + SumN("w") +
            ", min(d), max(c) FROM r GROUP BY grp ORDER BY grp NULLS FIRST",
        true),
      Q("replicated distinct count", "SELECT count(DISTINCT grp), count(DISTINCT c) FROM r"),
      Q("replicated order limit",
        "SELECT rk, w FROM r ORDER BY w DESC{{|| NULLS FIRST}}, rk{{|| ASC NULLS LAST}} LIMIT 7",
        true),
      // The §5.1 schema beyond the listed items.
      Q("order items by product",
        "SELECT product_id, sum(qty), " + SumN("qty * price") +
            " FROM order_items GROUP BY product_id ORDER BY 3 DESC{{|| NULLS FIRST}}, "
            "1{{|| ASC NULLS LAST}}",
        true),
      Q("items without quantity", "SELECT count(*) FROM order_items WHERE qty IS NULL"),
      Q("products",
        "SELECT category, count(*), " + SumN("price") + " FROM products GROUP BY category"),
      Q("customers per region",
        "SELECT region, count(*) FROM customers GROUP BY region ORDER BY 2 DESC{{|| NULLS "
        "FIRST}}, 1 NULLS FIRST",
        true),
      Q("orders by month",
        "SELECT status, min(order_date), max(order_date), avg(total_amount) FROM orders "
        "WHERE order_date BETWEEN '2025-09-01' AND '2025-12-31' GROUP BY status"),
  };
  for (const auto& q : qs) Check(q);
}

// --- Parameters (extended protocol): typed by their context ---

TEST_F(Differential, Parameters) {
  const auto& t = ds().Table("t");
  // A numeric(10,2) value present in the data, and one a third of a cent below it.
  int64_t cents = 0;
  for (const auto& row : t.rows) {
    if (!row[5].null && row[5].i > 1000) {
      cents = row[5].i;
      break;
    }
  }
  const std::string below = FormatCents(cents - 1) + "7";  // e.g. 12.347 for 12.35
  auto num = [](const std::string& s) {
    return Param{s, NVal::Real(std::strtod(s.c_str(), nullptr))};
  };
  std::vector<DiffQuery> qs = {
      Q("limit and offset parameters",
        "SELECT id FROM t ORDER BY id{{|| ASC NULLS LAST}} LIMIT {{$1||?1}} OFFSET {{$2||?2}}",
        true, {IntParam(7), IntParam(30)}),
      Q("integer parameter", "SELECT id FROM t WHERE a > {{$1||?1}}", false, {IntParam(17)}),
      Q("text parameter", "SELECT id FROM t WHERE s = {{$1||?1}}", false, {TextParam("apple")}),
      Q("date parameter", "SELECT id FROM t WHERE d >= {{$1||?1}}", false,
        {TextParam("2026-06-01")}),
      Q("numeric parameter with more digits than the column",
        "SELECT id, n FROM t WHERE n > {{$1||?1}} AND n < {{$2||?2}}", false,
        {num(below), num(FormatCents(cents + 100))}),
      Q("numeric parameter equality", "SELECT id FROM t WHERE n = {{$1||?1}}", false,
        {num(FormatCents(cents))}),
      Q("parameter in an aggregate", "SELECT k, sum(a + {{$1||?1}}) FROM t GROUP BY k", false,
        {IntParam(3)}),
      Q("parameters in an IN list of the shard key",
        "SELECT id, a FROM t WHERE id IN ({{$1||?1}}, {{$2||?2}}, {{$3||?3}})", false,
        {IntParam(1000), IntParam(1007), IntParam(5)}),
      Q("numeric parameters in an IN list", "SELECT id FROM t WHERE n IN ({{$1||?1}}, {{$2||?2}})",
        false, {num(below), num(FormatCents(cents))}),
      Q("numeric parameters in BETWEEN",
        "SELECT id FROM t WHERE n BETWEEN {{$1||?1}} AND {{$2||?2}}", false,
        {num(FormatCents(cents) + "1"), num(FormatCents(cents + 500))}),
      Q("parameter in HAVING", "SELECT k, count(*) FROM t GROUP BY k HAVING count(*) > {{$1||?1}}",
        false, {IntParam(60)}),
      // Untyped beside numeric(10,2): unconstrained numeric, never rounded to 2 digits.
      Q("numeric parameter in arithmetic", "SELECT id, n + {{$1||?1}} FROM t", false,
        {num("0.125")}),
      Q("numeric parameter in COALESCE", "SELECT id, COALESCE(n, {{$1||?1}}) FROM t", false,
        {num("-1.005")}),
  };
  for (const auto& q : qs) Check(q);
}

// --- Random queries from fixed seeds ---

class RandomDiff : public Differential, public ::testing::WithParamInterface<uint64_t> {};

TEST_P(RandomDiff, Queries) {
  RunSeed(GetParam(), kQueriesPerSeed, 0);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomDiff, ::testing::Values(1, 7, 42, 2026),
                         [](const ::testing::TestParamInfo<uint64_t>& info) {
                           return "seed" + std::to_string(info.param);
                         });

// Mostly joins and subqueries: unsupported (0A000) is counted, not failed;
// any answer the cluster gives must match.
class JoinDiff : public RandomDiff {};

TEST_P(JoinDiff, Queries) {
  RunSeed(GetParam(), kJoinQueriesPerSeed, 0, 60, 30);
}

INSTANTIATE_TEST_SUITE_P(Seeds, JoinDiff, ::testing::Values(3, 11),
                         [](const ::testing::TestParamInfo<uint64_t>& info) {
                           return "seed" + std::to_string(info.param);
                         });

// Ternary logic partitioning, on the cluster alone.
class Tlp : public RandomDiff {};

TEST_P(Tlp, Cases) {
  RunSeed(GetParam(), 0, kTlpCasesPerSeed);
}

INSTANTIATE_TEST_SUITE_P(Seeds, Tlp, ::testing::Values(5, 99, 2027),
                         [](const ::testing::TestParamInfo<uint64_t>& info) {
                           return "seed" + std::to_string(info.param);
                         });

// The TLP merge itself, without a cluster.
TEST(TlpCombine, FoldsAggregatesAndMergesSets) {
  using C = TlpCase::Combine;
  auto rs = [](std::vector<std::vector<NVal>> rows) {
    ResultSet r;
    r.columns.assign(rows.empty() ? 0 : rows[0].size(), "c");
    r.rows = std::move(rows);
    return r;
  };
  const NVal null = NVal::Null();
  TlpCase c;
  c.kind = TlpCase::Kind::kAggregate;
  c.n_keys = 1;
  c.combine = {C::kSum, C::kMin, C::kMax, C::kAnd, C::kSum};
  ResultSet got = CombineTlp(
      c, {rs({{NVal::Int(1), NVal::Int(2), NVal::Text("b"), NVal::Int(5), NVal::Int(1), null},
              {null, NVal::Int(1), null, NVal::Int(3), null, NVal::Real(1.5)}}),
          rs({{NVal::Int(1), NVal::Int(3), NVal::Text("a"), NVal::Int(4), NVal::Int(0),
               NVal::Int(7)}}),
          rs({{null, NVal::Int(2), NVal::Text("z"), null, NVal::Int(1), NVal::Real(2.25)}})});
  ResultSet want =
      rs({{NVal::Int(1), NVal::Int(5), NVal::Text("a"), NVal::Int(5), NVal::Int(0), NVal::Int(7)},
          {null, NVal::Int(3), NVal::Text("z"), NVal::Int(3), NVal::Int(1), NVal::Real(3.75)}});
  EXPECT_EQ(CompareResults(got, want, false), "") << got.Describe();

  // A scalar aggregate: one row per partition, empty partitions add nothing.
  c.n_keys = 0;
  c.combine = {C::kSum, C::kMax};
  got = CombineTlp(c, {rs({{NVal::Int(0), null}}), rs({{NVal::Int(4), NVal::Text("2025-01-02")}}),
                       rs({{NVal::Int(1), NVal::Text("2025-01-01")}})});
  EXPECT_EQ(CompareResults(got, rs({{NVal::Int(5), NVal::Text("2025-01-02")}}), false), "")
      << got.Describe();

  // DISTINCT: a set union; WHERE: a multiset union.
  ResultSet a = rs({{NVal::Int(1), NVal::Text("x")}, {NVal::Int(1), NVal::Text("x")}});
  ResultSet b = rs({{NVal::Int(1), NVal::Text("x")}, {NVal::Int(2), null}});
  c.kind = TlpCase::Kind::kDistinct;
  got = CombineTlp(c, {a, b, rs({})});
  EXPECT_EQ(got.rows.size(), 2u) << got.Describe();
  c.kind = TlpCase::Kind::kWhere;
  got = CombineTlp(c, {a, b, rs({})});
  EXPECT_EQ(got.rows.size(), 4u) << got.Describe();
}

// SB_DIFF_SEED=<n> [SB_DIFF_QUERIES=<m>] [SB_DIFF_TLP=<k>] runs one more seed
// (skipped otherwise).
TEST_F(Differential, FromEnvironment) {
  const char* seed = std::getenv("SB_DIFF_SEED");
  if (seed == nullptr) GTEST_SKIP() << "set SB_DIFF_SEED to run a seed of your choice";
  const char* n = std::getenv("SB_DIFF_QUERIES");
  const char* k = std::getenv("SB_DIFF_TLP");
  RunSeed(std::strtoull(seed, nullptr, 10), n ? std::atoi(n) : kQueriesPerSeed,
          k ? std::atoi(k) : kTlpCasesPerSeed);
}

}  // namespace
}  // namespace sbtest
