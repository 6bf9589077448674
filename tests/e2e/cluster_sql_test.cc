// SQL across the nodes of a three-process cluster (`scratchbird start` ×3,
// `cluster init`, shards spread over the voters as they join):
//  - DDL through node 1, writes (multi-row INSERT, UPDATE/DELETE by key,
//    COPY, an explicit transaction on a remotely owned shard and a rolled
//    back one) through node 2, reads through every node, each compared with
//    the same statements run on a plain SQLite database (the oracle).
//  - ALTER TABLE ADD COLUMN through node 3 visible at once on nodes 1 and 2
//    (skipped: known bug, see the test).
//  - The Raft leader killed with SIGKILL: a new leader within the bound, DDL
//    through a survivor, SB002 (and no rows) for statements that need the
//    dead node's shards, point selects on live shards still answered; the
//    killed node restarted from its data directory catches up.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cluster_process.h"
#include "e2e_util.h"

namespace sb::e2e {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> Tokens(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "  " + x + "\n";
  return s;
}

// `cluster status` as seen by one node: the leader's node UUID (the row
// with `*` in the LEADER column; empty when none) and the summary lines.
struct StatusView {
  bool ok = false;
  std::string leader_uuid;
  std::string output;
};

StatusView ClusterStatus(const ClusterProcess& n) {
  StatusView v;
  ProgramResult r = Cli({"cluster", "status", "--host", n.rpc(), "--certs-dir", n.certs()});
  v.output = r.output;
  v.ok = r.exited && r.exit_code == 0;
  if (!v.ok) return v;
  bool table = false;
  for (const auto& line : Lines(r.output)) {
    auto t = Tokens(line);
    if (!t.empty() && t[0] == "NODE") {
      table = true;
      continue;
    }
    // uuid raft-id role state [*] health epoch shards rpc sql http
    if (table && t.size() == 11 && t[4] == "*") v.leader_uuid = t[0];
  }
  return v;
}

// `node ls`: node UUID -> RPC address.
std::map<std::string, std::string> NodeRpcs(const ClusterProcess& n, std::string* out) {
  std::map<std::string, std::string> m;
  ProgramResult r = Cli({"node", "ls", "--host", n.rpc(), "--certs-dir", n.certs()});
  *out = r.output;
  if (!r.exited || r.exit_code != 0) return m;
  for (const auto& line : Lines(r.output)) {
    // NODE RAFT-ID ROLE STATE SHARDS RPC SQL HTTP
    auto t = Tokens(line);
    if (t.size() == 8 && t[0] != "NODE") m[t[0]] = t[5];
  }
  return m;
}

// `shard ls`: shard name -> owner RPC address.
std::map<std::string, std::string> ShardOwners(const ClusterProcess& n, std::string* out) {
  std::map<std::string, std::string> m;
  ProgramResult r = Cli({"shard", "ls", "--host", n.rpc(), "--certs-dir", n.certs()});
  *out = r.output;
  if (!r.exited || r.exit_code != 0) return m;
  for (const auto& line : Lines(r.output)) {
    auto t = Tokens(line);
    if (t.size() == 3 && t[0].rfind("shard_", 0) == 0) m[t[0]] = t[2];
  }
  return m;
}

// The shard a point select runs on, from its EXPLAIN
// ("Distributed Query (type=SINGLE_SHARD, ..., shards=1/16: shard_007)").
std::string ShardOfPointSelect(const Conn& c, const std::string& select) {
  Result r = c.Exec("EXPLAIN " + select);
  if (!r.ok() || r.rows() < 1) return "<" + r.error() + ">";
  std::string first = r.at(0, 0);
  size_t at = first.find("shards=1/");
  if (at == std::string::npos) return "<" + first + ">";
  at = first.find("shard_", at);
  if (at == std::string::npos) return "<" + first + ">";
  return first.substr(at, 9);
}

// A query run in single-row mode, so that rows sent before an error are
// counted (PQexec would drop them).
struct Streamed {
  int rows_before_end = 0;
  std::vector<std::string> lines;
  Result last;  // the last result (PGRES_TUPLES_OK or the error)
};

Streamed StreamQuery(const Conn& c, const std::string& sql) {
  Streamed s;
  if (PQsendQuery(c.get(), sql.c_str()) != 1) return s;
  PQsetSingleRowMode(c.get());
  while (PGresult* pr = PQgetResult(c.get())) {
    Result r(pr);
    if (r.status() == PGRES_SINGLE_TUPLE) {
      ++s.rows_before_end;
      for (const auto& l : r.lines()) s.lines.push_back(l);
    } else {
      s.last = r;
    }
  }
  return s;
}

// A plain SQLite database that runs the same statements (the oracle).
class Oracle {
 public:
  Oracle() { sqlite3_open(":memory:", &db_); }
  ~Oracle() { sqlite3_close(db_); }
  Oracle(const Oracle&) = delete;
  Oracle& operator=(const Oracle&) = delete;

  // Runs `sql`; returns its rows as "v1|v2|..." (NULL as "NULL") or, on
  // error, one line "<error: ...>".
  std::vector<std::string> Query(const std::string& sql) {
    std::vector<std::string> rows;
    char* err = nullptr;
    int rc = sqlite3_exec(
        db_, sql.c_str(),
        [](void* arg, int n, char** values, char**) {
          auto* out = static_cast<std::vector<std::string>*>(arg);
          std::string line;
          for (int i = 0; i < n; ++i)
            line += (i ? "|" : "") + std::string(values[i] ? values[i] : "NULL");
          out->push_back(line);
          return 0;
        },
        &rows, &err);
    if (rc != SQLITE_OK) {
      std::string e = err ? err : "?";
      sqlite3_free(err);
      return {"<error: " + e + ">"};
    }
    return rows;
  }
  bool Exec(const std::string& sql, std::string* error) {
    auto r = Query(sql);
    if (r.size() == 1 && r[0].rfind("<error:", 0) == 0) {
      *error = r[0];
      return false;
    }
    return true;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Three cluster processes with certificates under one temp directory.
class ClusterSqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    admin_ = dir_.path() + "/certs";
    ProgramResult ca = Cli({"cert", "create-ca", "--certs-dir", admin_});
    ASSERT_EQ(ca.exit_code, 0) << ca.output;
    for (int i = 1; i <= 3; ++i) {
      nodes_.push_back(std::make_unique<ClusterProcess>(dir_.path(), i));
      ProgramResult n = Cli({"cert", "create-node", "--certs-dir", admin_, "--host", "127.0.0.1",
                             "--out", nodes_.back()->certs()});
      ASSERT_EQ(n.exit_code, 0) << n.output;
    }
  }

  void TearDown() override {
    for (auto& n : nodes_) {
      if (n->running() && n->Stop() != 0)
        ADD_FAILURE() << "node " << n->index() << " log:\n" << n->log();
    }
    if (HasFailure())
      for (auto& n : nodes_)
        std::printf("---- node %d log (tail) ----\n%s\n", n->index(), Tail(n->log()).c_str());
  }

  static std::string Tail(const std::string& s) {
    return s.size() > 6000 ? s.substr(s.size() - 6000) : s;
  }

  // Starts node 1, joins nodes 2 and 3, runs `cluster init` and waits
  // (bounded) until every node reports 3 voters, 3 reachable, and the shards
  // are spread over 3 owners.
  void FormCluster() {
    ASSERT_TRUE(nodes_[0]->Start("")) << nodes_[0]->log();
    ASSERT_TRUE(nodes_[1]->Start(nodes_[0]->rpc())) << nodes_[1]->log();
    ASSERT_TRUE(nodes_[2]->Start(nodes_[0]->rpc() + "," + nodes_[1]->rpc())) << nodes_[2]->log();
    ProgramResult init = Cli({"cluster", "init", "--host", nodes_[0]->rpc(), "--certs-dir",
                              nodes_[0]->certs(), "--shards", "16"});
    ASSERT_EQ(init.exit_code, 0) << init.output;

    std::string last;
    auto deadline = Clock::now() + 40s;
    bool formed = false;
    while (!formed && Clock::now() < deadline) {
      formed = true;
      for (auto& n : nodes_) {
        StatusView s = ClusterStatus(*n);
        last = s.output;
        if (!s.ok || s.output.find("3 (3 voters), 3 reachable") == std::string::npos ||
            s.leader_uuid.empty()) {
          formed = false;
          break;
        }
      }
      if (formed) {
        owners_ = ShardOwners(*nodes_[0], &last);
        std::set<std::string> distinct;
        for (const auto& [shard, rpc] : owners_) distinct.insert(rpc);
        formed = owners_.size() == 16 && distinct.size() == 3;
      }
      if (!formed) std::this_thread::sleep_for(200ms);
    }
    ASSERT_TRUE(formed) << "cluster did not form with 3 voters and 3 shard owners:\n" << last;
    std::set<std::string> rpcs;
    for (auto& n : nodes_) rpcs.insert(n->rpc());
    for (const auto& [shard, rpc] : owners_)
      ASSERT_EQ(rpcs.count(rpc), 1u) << shard << " owned by unknown " << rpc;
    for (auto& n : nodes_) {
      conns_.push_back(std::make_unique<Conn>(n->conninfo()));
      ASSERT_TRUE(conns_.back()->ok()) << conns_.back()->error();
    }
  }

  // Runs `sql` on every listed node and on the oracle and expects the same
  // rows (sorted unless `ordered`).
  void ExpectSameAsOracle(const std::string& sql, bool ordered, std::vector<int> on = {0, 1, 2},
                          const std::string& oracle_sql = "") {
    std::vector<std::string> want = oracle_.Query(oracle_sql.empty() ? sql : oracle_sql);
    ASSERT_FALSE(!want.empty() && want[0].rfind("<error:", 0) == 0) << sql << ": " << want[0];
    if (!ordered) std::sort(want.begin(), want.end());
    for (int i : on) {
      Result r = conns_[i]->Exec(sql);
      ASSERT_TRUE(r.ok()) << "node " << i + 1 << ": " << sql << "\n"
                          << r.sqlstate() << " " << r.error();
      std::vector<std::string> got = r.lines();
      if (!ordered) std::sort(got.begin(), got.end());
      EXPECT_EQ(got, want) << "node " << i + 1 << ": " << sql << "\ngot:\n"
                           << Join(got) << "oracle:\n"
                           << Join(want);
    }
  }

  // Runs a statement on node `i` (0-based) and on the oracle; both must succeed.
  void Both(int i, const std::string& sql, const std::string& oracle_sql = "") {
    Result r = conns_[i]->Exec(sql);
    ASSERT_TRUE(r.ok()) << "node " << i + 1 << ": " << sql << "\n"
                        << r.sqlstate() << " " << r.error();
    std::string err;
    ASSERT_TRUE(oracle_.Exec(oracle_sql.empty() ? sql : oracle_sql, &err)) << sql << ": " << err;
  }

  TempDir dir_;
  std::string admin_;
  std::vector<std::unique_ptr<ClusterProcess>> nodes_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::map<std::string, std::string> owners_;  // shard name -> owner RPC
  Oracle oracle_;
};

std::string Quote(const std::string& s) {
  return "'" + s + "'";
}

TEST_F(ClusterSqlTest, EveryNodeAnswersLikeTheOracle) {
  ASSERT_NO_FATAL_FAILURE(FormCluster());

  // DDL through node 1.
  Both(0,
       "CREATE TABLE customers (id uuid PRIMARY KEY, name text NOT NULL, region_id int, "
       "score int)",
       "CREATE TABLE customers (id text PRIMARY KEY, name text NOT NULL, region_id int, "
       "score int)");
  Both(0,
       "CREATE TABLE orders (customer_id uuid, order_id bigint, amount int, status text, "
       "PRIMARY KEY (customer_id, order_id)) SHARD BY HASH (customer_id)",
       "CREATE TABLE orders (customer_id text, order_id bigint, amount int, status text, "
       "PRIMARY KEY (customer_id, order_id))");
  Both(0, "CREATE TABLE regions (region_id int PRIMARY KEY, name text) REPLICATED",
       "CREATE TABLE regions (region_id int PRIMARY KEY, name text)");
  Both(0, "CREATE INDEX orders_status_idx ON orders (status)");
  if (HasFatalFailure()) return;

  // Writes through node 2: multi-row INSERTs across shards.
  const int kCustomers = 40;
  std::vector<std::string> ids;
  for (int i = 1; i <= kCustomers; ++i) ids.push_back(UuidFor(static_cast<uint64_t>(i)));
  {
    std::string values;
    for (int i = 0; i < kCustomers; ++i) {
      values += (i ? ", " : "") + std::string("(") + Quote(ids[i]) + ", 'c" +
                std::to_string(i + 1) + "', " + std::to_string(i % 4 + 1) + ", " +
                std::to_string((i * 37) % 101) + ")";
    }
    Both(1, "INSERT INTO customers VALUES " + values);
    std::string ovalues;
    for (int i = 0; i < kCustomers; ++i) {
      for (int o = 1; o <= 2; ++o) {
        ovalues += (ovalues.empty() ? "" : ", ") + std::string("(") + Quote(ids[i]) + ", " +
                   std::to_string(o) + ", " + std::to_string(i * 10 + o) + ", " +
                   (o == 1 ? "'NEW'" : "'PAID'") + ")";
      }
    }
    Both(1, "INSERT INTO orders VALUES " + ovalues);
    Both(1,
         "INSERT INTO regions VALUES (1, 'north'), (2, 'south'), (3, 'east'), (4, 'west'), "
         "(5, 'empty')");
  }
  if (HasFatalFailure()) return;

  // Which shards hold which customers, and which node owns them.
  std::map<std::string, std::string> shard_of;  // id -> shard
  std::set<std::string> shards_used;
  for (const auto& id : ids) {
    shard_of[id] =
        ShardOfPointSelect(*conns_[1], "SELECT * FROM customers WHERE id = " + Quote(id));
    ASSERT_EQ(owners_.count(shard_of[id]), 1u) << id << " -> " << shard_of[id];
    shards_used.insert(shard_of[id]);
  }
  std::set<std::string> owners_used;
  for (const auto& s : shards_used) owners_used.insert(owners_.at(s));
  ASSERT_EQ(owners_used.size(), 3u) << "the customers should live on every node's shards";
  // Keys whose shard another node than node 2 owns.
  std::vector<std::string> remote_ids;
  for (const auto& id : ids)
    if (owners_.at(shard_of[id]) != nodes_[1]->rpc()) remote_ids.push_back(id);
  ASSERT_GE(remote_ids.size(), 2u);

  // UPDATE / DELETE by key (on shards of every owner).
  for (int i : {0, 5, 11, 23}) {
    Both(1, "UPDATE customers SET score = score + 1000 WHERE id = " + Quote(ids[i]));
    Both(1, "UPDATE orders SET status = 'SHIPPED' WHERE customer_id = " + Quote(ids[i]) +
                " AND order_id = 2");
  }
  for (int i : {3, 17, 30}) {
    Both(1, "DELETE FROM orders WHERE customer_id = " + Quote(ids[i]) + " AND order_id = 1");
    Both(1, "DELETE FROM customers WHERE id = " + Quote(ids[i]));
  }
  {
    Result r =
        conns_[1]->Exec("UPDATE customers SET name = 'renamed' WHERE id = " + Quote(remote_ids[0]) +
                        " RETURNING name");
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r.tag(), "UPDATE 1");
    EXPECT_EQ(r.lines(), std::vector<std::string>{"renamed"});
    std::string err;
    ASSERT_TRUE(oracle_.Exec(
        "UPDATE customers SET name = 'renamed' WHERE id = " + Quote(remote_ids[0]), &err))
        << err;
  }

  // COPY FROM STDIN through node 2 (rows on several shards).
  {
    std::string data;
    std::string oracle_rows;
    for (int i = 0; i < kCustomers; i += 3) {
      if (i == 3 || i == 30) continue;
      data += ids[i] + "\t3\t" + std::to_string(500 + i) + "\t" + (i % 2 ? "NEW" : "\\N") + "\n";
      oracle_rows += (oracle_rows.empty() ? "" : ", ") + std::string("(") + Quote(ids[i]) +
                     ", 3, " + std::to_string(500 + i) + ", " + (i % 2 ? "'NEW'" : "NULL") + ")";
    }
    Result r = conns_[1]->CopyIn("COPY orders FROM STDIN", data);
    ASSERT_TRUE(r.ok()) << r.error();
    std::string err;
    ASSERT_TRUE(oracle_.Exec("INSERT INTO orders VALUES " + oracle_rows, &err)) << err;
  }

  // An explicit transaction through node 2 on a key whose shard another
  // node owns: it reads its own writes, others do not see them before
  // COMMIT, everyone sees them after.
  {
    const std::string k = remote_ids[0];
    const Conn& c = *conns_[1];
    ASSERT_TRUE(c.Exec("BEGIN").ok());
    Result u = c.Exec("UPDATE customers SET score = 4242 WHERE id = " + Quote(k));
    ASSERT_TRUE(u.ok()) << u.error();
    EXPECT_EQ(u.tag(), "UPDATE 1");
    Result ins = c.Exec("INSERT INTO orders VALUES (" + Quote(k) + ", 9, 77, 'NEW')");
    ASSERT_TRUE(ins.ok()) << ins.error();
    EXPECT_EQ(c.Scalar("SELECT score FROM customers WHERE id = " + Quote(k)), "4242");
    EXPECT_EQ(c.Scalar("SELECT count(*) FROM orders WHERE customer_id = " + Quote(k)), "3");
    EXPECT_EQ(conns_[2]->Scalar("SELECT count(*) FROM orders WHERE customer_id = " + Quote(k)), "2")
        << "node 3 sees an uncommitted row";
    Result commit = c.Exec("COMMIT");
    ASSERT_TRUE(commit.ok()) << commit.error();
    EXPECT_EQ(commit.tag(), "COMMIT");
    std::string err;
    ASSERT_TRUE(oracle_.Exec("UPDATE customers SET score = 4242 WHERE id = " + Quote(k), &err));
    ASSERT_TRUE(oracle_.Exec("INSERT INTO orders VALUES (" + Quote(k) + ", 9, 77, 'NEW')", &err));
  }
  // And one rolled back: nothing of it stays (the oracle does not run it).
  {
    const std::string k = remote_ids[1];
    const Conn& c = *conns_[1];
    ASSERT_TRUE(c.Exec("BEGIN").ok());
    Result u = c.Exec("UPDATE customers SET score = -1 WHERE id = " + Quote(k));
    ASSERT_TRUE(u.ok()) << u.error();
    Result d = c.Exec("DELETE FROM orders WHERE customer_id = " + Quote(k));
    ASSERT_TRUE(d.ok()) << d.error();
    EXPECT_EQ(c.Scalar("SELECT score FROM customers WHERE id = " + Quote(k)), "-1");
    Result rb = c.Exec("ROLLBACK");
    ASSERT_TRUE(rb.ok()) << rb.error();
    EXPECT_EQ(rb.tag(), "ROLLBACK");
    EXPECT_EQ(c.txn_status(), 'I');
  }
  if (HasFatalFailure()) return;

  // Reads through node 3 — and through nodes 1 and 2 as well — against the
  // oracle.
  const std::vector<std::pair<std::string, bool>> reads = {
      {"SELECT count(*) FROM customers", false},
      {"SELECT count(*) FROM orders", false},
      {"SELECT sum(score) FROM customers", false},
      {"SELECT sum(amount), min(amount), max(amount) FROM orders", false},
      {"SELECT region_id, count(*), sum(score) FROM customers GROUP BY region_id", false},
      {"SELECT status, count(*), sum(amount) FROM orders GROUP BY status", false},
      {"SELECT count(*) FROM orders WHERE status = 'SHIPPED'", false},
      {"SELECT id, name, score FROM customers ORDER BY score DESC, id LIMIT 7", true},
      {"SELECT customer_id, order_id, amount FROM orders ORDER BY amount, customer_id, order_id "
       "LIMIT 5",
       true},
      {"SELECT c.name, r.name FROM customers c JOIN regions r ON c.region_id = r.region_id", false},
      {"SELECT r.name, count(*) FROM customers c JOIN regions r ON c.region_id = r.region_id "
       "GROUP BY r.name",
       false},
      {"SELECT r.region_id, r.name FROM regions r ORDER BY r.region_id", true},
      {"SELECT o.status, sum(o.amount) FROM orders o JOIN customers c ON o.customer_id = c.id "
       "WHERE c.region_id = 2 GROUP BY o.status",
       false},
  };
  for (const auto& [sql, ordered] : reads) ExpectSameAsOracle(sql, ordered);
  for (int i : {0, 3, 5, 17, 39}) {
    ExpectSameAsOracle("SELECT name, region_id, score FROM customers WHERE id = " + Quote(ids[i]),
                       false);
    ExpectSameAsOracle(
        "SELECT order_id, amount, status FROM orders WHERE customer_id = " + Quote(ids[i]), false);
  }
  for (const auto& k : {remote_ids[0], remote_ids[1]})
    ExpectSameAsOracle("SELECT name, score FROM customers WHERE id = " + Quote(k), false);
}

// ALTER TABLE ADD COLUMN through node 3, then at once (no waiting) the new
// column through nodes 1 and 2, and a scatter query through them.
//
// A schema change returns once every reachable node applied it, so the
// next statement on any node plans with it; and a multi-shard statement that
// reaches a shard on a node at another schema version is planned again and
// retried (SB003 never reaches the client).
TEST_F(ClusterSqlTest, AlterTableAddColumnIsVisibleAtOnceOnOtherNodes) {
  ASSERT_NO_FATAL_FAILURE(FormCluster());
  Both(0, "CREATE TABLE customers (id uuid PRIMARY KEY, name text, score int)",
       "CREATE TABLE customers (id text PRIMARY KEY, name text, score int)");
  std::string values;
  for (int i = 1; i <= 40; ++i)
    values += (i > 1 ? ", " : "") + std::string("(") + Quote(UuidFor(static_cast<uint64_t>(i))) +
              ", 'c" + std::to_string(i) + "', " + std::to_string(i * 7 % 31) + ")";
  Both(0, "INSERT INTO customers VALUES " + values);
  if (HasFatalFailure()) return;
  for (int k = 1; k <= 8; ++k) {
    const std::string col = "c" + std::to_string(k);
    Both(2, "ALTER TABLE customers ADD COLUMN " + col + " int DEFAULT " + std::to_string(k));
    if (HasFatalFailure()) return;
    if (k % 2 == 1) {
      // (a) the new column, first thing after the ALTER returned.
      ExpectSameAsOracle("SELECT " + col + ", count(*) FROM customers GROUP BY " + col, false,
                         {0, 1});
    } else {
      // (b) a scatter query that does not name the new column.
      ExpectSameAsOracle("SELECT count(*), sum(score) FROM customers", false, {0, 1});
    }
  }
  Both(0, "UPDATE customers SET c1 = 0 WHERE id = " + Quote(UuidFor(1)));
  ExpectSameAsOracle("SELECT * FROM customers ORDER BY id", true);
}

TEST_F(ClusterSqlTest, LeaderKilledSurvivorsServeLiveShardsAndItCatchesUp) {
  ASSERT_NO_FATAL_FAILURE(FormCluster());

  const int kKeys = 48;
  std::vector<std::string> keys;
  std::string values;
  for (int i = 1; i <= kKeys; ++i) {
    keys.push_back(UuidFor(static_cast<uint64_t>(1000 + i)));
    values += (i > 1 ? ", " : "") + std::string("(") + Quote(keys.back()) + ", " +
              std::to_string(i) + ")";
  }
  Result created = conns_[0]->Exec("CREATE TABLE kv (k uuid PRIMARY KEY, v int)");
  ASSERT_TRUE(created.ok()) << created.error();
  Result inserted = conns_[0]->Exec("INSERT INTO kv VALUES " + values);
  ASSERT_TRUE(inserted.ok()) << inserted.error();
  ASSERT_EQ(conns_[2]->Scalar("SELECT count(*) FROM kv"), std::to_string(kKeys));
  std::map<std::string, std::string> shard_of;
  for (const auto& k : keys) {
    shard_of[k] = ShardOfPointSelect(*conns_[0], "SELECT v FROM kv WHERE k = " + Quote(k));
    ASSERT_EQ(owners_.count(shard_of[k]), 1u) << k << " -> " << shard_of[k];
  }

  // The leader, by `cluster status` (LEADER `*`) and `node ls` (its RPC address).
  StatusView before = ClusterStatus(*nodes_[0]);
  ASSERT_FALSE(before.leader_uuid.empty()) << before.output;
  std::string ls_out;
  auto rpc_of = NodeRpcs(*nodes_[0], &ls_out);
  ASSERT_EQ(rpc_of.size(), 3u) << ls_out;
  ASSERT_EQ(rpc_of.count(before.leader_uuid), 1u) << ls_out;
  int dead = -1;
  for (int i = 0; i < 3; ++i)
    if (nodes_[i]->rpc() == rpc_of[before.leader_uuid]) dead = i;
  ASSERT_GE(dead, 0) << before.output << ls_out;
  const std::string dead_uuid = before.leader_uuid;
  std::vector<int> alive;
  for (int i = 0; i < 3; ++i)
    if (i != dead) alive.push_back(i);

  nodes_[dead]->Kill9();
  const auto killed_at = Clock::now();

  // A survivor reports a new leader.
  std::string new_leader, last;
  auto deadline = killed_at + 30s;
  while (new_leader.empty() && Clock::now() < deadline) {
    StatusView s = ClusterStatus(*nodes_[alive[0]]);
    last = s.output;
    if (s.ok && !s.leader_uuid.empty() && s.leader_uuid != dead_uuid)
      new_leader = s.leader_uuid;
    else
      std::this_thread::sleep_for(50ms);
  }
  const double election_s = std::chrono::duration<double>(Clock::now() - killed_at).count();
  ASSERT_FALSE(new_leader.empty()) << "no new leader 30 s after the kill:\n" << last;
  std::printf("[ leader ] node %d killed; node %s leads after %.2f s\n", dead + 1,
              new_leader.c_str(), election_s);
  EXPECT_LE(election_s, 5.0) << "new leader elected only " << election_s << " s after the kill";

  const Conn& survivor = *conns_[alive[0]];
  const Conn& other = *conns_[alive[1]];

  // DDL through a survivor.
  Result ddl = survivor.Exec("CREATE TABLE later (id int PRIMARY KEY, v text)");
  ASSERT_TRUE(ddl.ok()) << ddl.error();
  EXPECT_EQ(ddl.tag(), "CREATE TABLE");

  // A scatter query needs the dead node's shards: SB002 naming a shard and
  // the node, and not a single row before the error.
  for (const std::string sql : {"SELECT count(*) FROM kv", "SELECT k, v FROM kv"}) {
    for (const Conn* c : {&survivor, &other}) {
      Streamed s = StreamQuery(*c, sql);
      EXPECT_EQ(s.last.status(), PGRES_FATAL_ERROR) << sql << "\n" << s.last.dump();
      EXPECT_EQ(s.last.sqlstate(), "SB002") << sql << "\n" << s.last.error();
      EXPECT_NE(s.last.message().find("shard_"), std::string::npos) << s.last.message();
      EXPECT_NE(s.last.message().find(dead_uuid), std::string::npos) << s.last.message();
      EXPECT_EQ(s.rows_before_end, 0) << sql << " sent rows before the error:\n" << Join(s.lines);
      EXPECT_EQ(c->txn_status(), 'I');
    }
  }

  // Point selects: answered when the key's shard lives on a survivor, SB002
  // when it lived on the dead node.
  int answered = 0, refused = 0;
  for (int i = 0; i < kKeys; ++i) {
    const std::string& k = keys[i];
    const bool on_dead = owners_.at(shard_of[k]) == nodes_[dead]->rpc();
    Result r = other.Exec("SELECT v FROM kv WHERE k = " + Quote(k));
    if (on_dead) {
      ++refused;
      EXPECT_EQ(r.sqlstate(), "SB002") << k << " on " << shard_of[k] << ": " << r.dump();
      EXPECT_NE(r.message().find(shard_of[k]), std::string::npos) << r.message();
      EXPECT_EQ(r.rows(), 0);
    } else {
      ++answered;
      ASSERT_TRUE(r.ok()) << k << " on " << shard_of[k] << ": " << r.error();
      EXPECT_EQ(r.lines(), std::vector<std::string>{std::to_string(i + 1)}) << k;
    }
  }
  std::printf("[ keys   ] %d point selects answered, %d refused with SB002\n", answered, refused);
  EXPECT_GT(answered, 0);
  EXPECT_GT(refused, 0);

  // The killed node comes back from its data directory (no --join) and
  // catches up: the table created while it was down works through it.
  ASSERT_TRUE(nodes_[dead]->Start("")) << nodes_[dead]->log();
  std::unique_ptr<Conn> back;
  Result later;
  deadline = Clock::now() + 30s;
  while (Clock::now() < deadline) {
    back = std::make_unique<Conn>(nodes_[dead]->conninfo());
    if (back->ok()) {
      later = back->Exec("SELECT count(*) FROM later");
      if (later.ok()) break;
    }
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(back && back->ok()) << back->error();
  ASSERT_TRUE(later.ok()) << "table `later` not usable through the restarted node: "
                          << later.error();
  EXPECT_EQ(later.lines(), std::vector<std::string>{"0"});
  std::string rows;
  for (int i = 1; i <= 32; ++i)
    rows += (i > 1 ? ", " : "") + std::string("(") + std::to_string(i) + ", 'r" +
            std::to_string(i) + "')";
  Result ins = back->Exec("INSERT INTO later VALUES " + rows);
  ASSERT_TRUE(ins.ok()) << ins.error();
  EXPECT_EQ(ins.tag(), "INSERT 0 32");

  // The scatter count works again, on every node, and is right.
  conns_[dead] = std::move(back);
  Result count;
  deadline = Clock::now() + 30s;
  while (Clock::now() < deadline) {
    count = survivor.Exec("SELECT count(*) FROM kv");
    if (count.ok()) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(count.ok()) << count.error();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(conns_[i]->Scalar("SELECT count(*) FROM kv"), std::to_string(kKeys))
        << "node " << i + 1;
    EXPECT_EQ(conns_[i]->Scalar("SELECT sum(v) FROM kv"), std::to_string(kKeys * (kKeys + 1) / 2))
        << "node " << i + 1;
    EXPECT_EQ(conns_[i]->Scalar("SELECT count(*) FROM later"), "32") << "node " << i + 1;
  }
}

}  // namespace
}  // namespace sb::e2e
