// The process and its data directory: acknowledged writes survive kill -9,
// SIGTERM exits 0 and reopens cleanly, the shard count is fixed at creation,
// one process per data directory; HTTP /healthz and /metrics; psql with
// \copy and COPY FROM STDIN in text and CSV.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e_util.h"

namespace sb::e2e {
namespace {

std::string InsertRow(int i) {
  return "INSERT INTO kv VALUES (" + std::to_string(i) + ", 'v" + std::to_string(i) + "')";
}

// Acknowledged autocommit writes, COPY rows and a committed transaction are
// all present after kill -9 and a restart; an uncommitted transaction is not.
TEST(LifecycleTest, AcknowledgedWritesSurviveKill9) {
  TempDir dir;
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.Start()) << server.log();  // default synchronous=FULL
  {
    Conn c(server.conninfo());
    ASSERT_TRUE(c.ok()) << c.error();
    ASSERT_TRUE(c.Exec("CREATE TABLE kv (k int PRIMARY KEY, v text)").ok());
    for (int i = 0; i < 40; ++i) {
      Result r = c.Exec(InsertRow(i));
      ASSERT_TRUE(r.ok()) << r.error();
    }
    std::string data;
    for (int i = 100; i < 300; ++i) data += std::to_string(i) + "\tcopy" + std::to_string(i) + "\n";
    Result copy = c.CopyIn("COPY kv FROM STDIN", data);
    ASSERT_TRUE(copy.ok()) << copy.error();
    ASSERT_EQ(copy.tag(), "COPY 200");
    ASSERT_TRUE(c.Exec("BEGIN").ok());
    ASSERT_TRUE(c.Exec(InsertRow(1000)).ok());
    ASSERT_TRUE(c.Exec("UPDATE kv SET v = 'updated' WHERE k = 1000").ok());
    ASSERT_TRUE(c.Exec("COMMIT").ok());
    Result del = c.Exec("DELETE FROM kv WHERE k = 5");
    ASSERT_EQ(del.tag(), "DELETE 1");
    // Left open and uncommitted at the crash.
    Conn open_txn(server.conninfo());
    ASSERT_TRUE(open_txn.Exec("BEGIN").ok());
    ASSERT_TRUE(open_txn.Exec(InsertRow(2000)).ok());
    server.Kill9();
  }
  ASSERT_TRUE(server.Start()) << server.log();
  Conn c(server.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.Scalar("SELECT count(*) FROM kv"), "240");
  EXPECT_EQ(c.Scalar("SELECT count(*) FROM kv WHERE k < 40"), "39");
  EXPECT_EQ(c.Scalar("SELECT count(*) FROM kv WHERE k = 5"), "0");
  EXPECT_EQ(c.Scalar("SELECT v FROM kv WHERE k = 39"), "v39");
  EXPECT_EQ(c.Scalar("SELECT v FROM kv WHERE k = 299"), "copy299");
  EXPECT_EQ(c.Scalar("SELECT v FROM kv WHERE k = 1000"), "updated");
  EXPECT_EQ(c.Scalar("SELECT count(*) FROM kv WHERE k = 2000"), "0");
  // Writable after recovery.
  Result more = c.Exec(InsertRow(2000));
  EXPECT_TRUE(more.ok()) << more.error();
  EXPECT_EQ(server.Stop(), 0);
}

// SIGTERM: exit code 0 with idle and in-transaction clients connected, then a
// clean restart on the same directory with the data.
TEST(LifecycleTest, SigtermExitsZeroAndRestarts) {
  TempDir dir;
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.Start({"--shards", "4"})) << server.log();
  Conn c(server.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_TRUE(c.Exec("CREATE TABLE kv (k int PRIMARY KEY, v text)").ok());
  ASSERT_TRUE(c.Exec("INSERT INTO kv VALUES (1,'a'),(2,'b'),(3,'c'),(4,'d'),(5,'e')").ok());
  Result plan = c.Exec("EXPLAIN SELECT * FROM kv");
  ASSERT_TRUE(plan.ok()) << plan.error();
  EXPECT_NE(plan.at(0, 0).find("shards=4/4"), std::string::npos) << plan.at(0, 0);
  Conn in_txn(server.conninfo());
  ASSERT_TRUE(in_txn.Exec("BEGIN").ok());
  ASSERT_TRUE(in_txn.Exec("INSERT INTO kv VALUES (6, 'f')").ok());

  EXPECT_EQ(server.Stop(), 0) << server.log();
  // The idle client learns that the server went away.
  EXPECT_FALSE(c.Exec("SELECT 1").ok());

  ASSERT_TRUE(server.Start()) << server.log();  // shard count read from the directory
  Conn again(server.conninfo());
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again.Scalar("SELECT count(*) FROM kv"), "5");
  EXPECT_EQ(again.Scalar("SELECT v FROM kv WHERE k = 4"), "d");
  Result plan2 = again.Exec("EXPLAIN SELECT * FROM kv");
  EXPECT_NE(plan2.at(0, 0).find("shards=4/4"), std::string::npos) << plan2.at(0, 0);
  // Same --shards again is fine too.
  EXPECT_EQ(server.Stop(), 0);
  ASSERT_TRUE(server.Start({"--shards", "4"})) << server.log();
  EXPECT_EQ(server.Stop(), 0);
}

TEST(LifecycleTest, DifferentShardCountOnReopenFails) {
  TempDir dir;
  std::string data = dir.path() + "/data";
  {
    ServerProcess server(data);
    ASSERT_TRUE(server.Start({"--shards", "8"})) << server.log();
    ASSERT_EQ(server.Stop(), 0);
  }
  ProgramResult r = RunProgram({SB_BINARY, "start-single-node", "--data-dir", data, "--sql-listen",
                                "127.0.0.1:" + std::to_string(FreePort()), "--http-listen",
                                "127.0.0.1:" + std::to_string(FreePort()), "--shards", "16"},
                               20s);
  ASSERT_TRUE(r.exited) << "the server must refuse to start, not run:\n" << r.output;
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("8 shards"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--shards"), std::string::npos) << r.output;
  // The directory is untouched: it still opens with its own count.
  ServerProcess server(data);
  ASSERT_TRUE(server.Start()) << server.log();
  Conn c(server.conninfo());
  ASSERT_TRUE(c.Exec("CREATE TABLE t (id int PRIMARY KEY)").ok());
  Result plan = c.Exec("EXPLAIN SELECT * FROM t");
  EXPECT_NE(plan.at(0, 0).find("shards=8/8"), std::string::npos) << plan.at(0, 0);
}

TEST(LifecycleTest, SecondProcessOnSameDataDirRefuses) {
  TempDir dir;
  ServerProcess first(dir.path() + "/data");
  ASSERT_TRUE(first.Start()) << first.log();
  Conn c(first.conninfo());
  ASSERT_TRUE(c.Exec("CREATE TABLE t (id int PRIMARY KEY)").ok());
  ASSERT_TRUE(c.Exec("INSERT INTO t VALUES (1), (2)").ok());
  ProgramResult r = RunProgram({SB_BINARY, "start-single-node", "--data-dir", first.data_dir(),
                                "--sql-listen", "127.0.0.1:" + std::to_string(FreePort()),
                                "--http-listen", "127.0.0.1:" + std::to_string(FreePort())},
                               20s);
  ASSERT_TRUE(r.exited) << "the second process must refuse to start:\n" << r.output;
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("in use"), std::string::npos) << r.output;
  // The first one is unaffected.
  EXPECT_EQ(c.Scalar("SELECT count(*) FROM t"), "2");
  ASSERT_TRUE(c.Exec("INSERT INTO t VALUES (3)").ok());
  EXPECT_EQ(first.Stop(), 0);
}

TEST(LifecycleTest, BadArgumentsFail) {
  TempDir dir;
  ProgramResult r = RunProgram(
      {SB_BINARY, "start-single-node", "--data-dir", dir.path() + "/d", "--sql-listen", "nonsense"},
      20s);
  ASSERT_TRUE(r.exited) << r.output;
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--sql-listen"), std::string::npos) << r.output;
  // A port in use.
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.Start()) << server.log();
  ProgramResult busy =
      RunProgram({SB_BINARY, "start-single-node", "--data-dir", dir.path() + "/other",
                  "--sql-listen", "127.0.0.1:" + std::to_string(server.sql_port()), "--http-listen",
                  "127.0.0.1:" + std::to_string(FreePort())},
                 20s);
  ASSERT_TRUE(busy.exited) << busy.output;
  EXPECT_NE(busy.exit_code, 0) << busy.output;
}

TEST(HttpTest, HealthzAndMetrics) {
  TempDir dir;
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.Start({"--synchronous", "OFF"})) << server.log();
  HttpResponse h = HttpGet(server.http_port(), "/healthz");
  EXPECT_EQ(h.status, 200) << h.body;
  EXPECT_NE(h.body.find("ok"), std::string::npos) << h.body;
  EXPECT_EQ(HttpGet(server.http_port(), "/no-such-page").status, 404);

  Conn c(server.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_TRUE(c.Exec("CREATE TABLE t (id int PRIMARY KEY, v text)").ok());
  ASSERT_TRUE(c.Exec("INSERT INTO t VALUES (1, 'a'), (2, 'b')").ok());
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(c.Exec("SELECT * FROM t").ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.Params("SELECT v FROM t WHERE id = $1", {"1"}).ok());
  EXPECT_EQ(c.Exec("SELECT * FROM nope").sqlstate(), "42P01");
  EXPECT_EQ(c.Exec("INSERT INTO t VALUES (1, 'dup')").sqlstate(), "23505");

  HttpResponse m = HttpGet(server.http_port(), "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("scratchbird_queries_total"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("scratchbird_query_duration_seconds"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("# TYPE scratchbird_queries_total counter"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("# TYPE scratchbird_query_duration_seconds histogram"), std::string::npos)
      << m.body;
  EXPECT_GE(MetricSample(m.body, "scratchbird_queries_total", {"type=\"select\"", "status=\"ok\""}),
            10)
      << m.body;
  EXPECT_GE(MetricSample(m.body, "scratchbird_queries_total", {"status=\"error\""}), 1) << m.body;
  EXPECT_GE(MetricSample(m.body, "scratchbird_query_errors_total", {"sqlstate=\"23505\""}), 1)
      << m.body;
  EXPECT_GE(MetricSample(m.body, "scratchbird_query_duration_seconds_count", {"type=\"select\""}),
            10)
      << m.body;
  EXPECT_GE(MetricSample(m.body, "scratchbird_query_duration_seconds_bucket",
                         {"type=\"select\"", "le=\"+Inf\""}),
            10)
      << m.body;
  EXPECT_EQ(MetricSample(m.body, "scratchbird_active_connections", {}), 1) << m.body;
}

// psql runs a script with \copy and COPY ... FROM STDIN in text and CSV
// formats under ON_ERROR_STOP; the row counts match.
TEST(PsqlTest, ScriptWithCopy) {
  TempDir dir;
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.Start({"--synchronous", "OFF"})) << server.log();
  const std::string text_file = dir.path() + "/rows.txt";
  const std::string csv_file = dir.path() + "/rows.csv";
  {
    std::ofstream t(text_file);
    for (int i = 1; i <= 50; ++i) t << i << "\tname " << i << "\t" << i << ".25\n";
    t << "51\t\\N\t\\N\n";
    t << "52\ttab\\there\t0.00\n";
    std::ofstream c(csv_file);
    c << "id,name,amount\n";
    for (int i = 101; i <= 130; ++i) c << i << ",\"csv, " << i << "\"," << i << ".50\n";
    c << "131,,\n";
    c << "132,\"say \"\"hi\"\"\",1.00\n";
  }
  const std::string script = dir.path() + "/script.sql";
  {
    std::ofstream s(script);
    s << "CREATE TABLE items (id int PRIMARY KEY, name text, amount numeric(8,2)) SHARD BY HASH "
         "(id);\n"
      << "\\copy items FROM '" << text_file << "'\n"
      << "\\copy items FROM '" << csv_file << "' WITH (FORMAT csv, HEADER true)\n"
      << "COPY items FROM STDIN;\n"
      << "201\tstdin text\t2.00\n"
      << "202\t\\N\t3.00\n"
      << "\\.\n"
      << "COPY items (id, name) FROM STDIN WITH (FORMAT csv);\n"
      << "301,\"stdin, csv\"\n"
      << "302,\n"
      << "303,plain\n"
      << "\\.\n"
      << "SELECT 'total', count(*) FROM items;\n"
      << "SELECT 'nulls', count(*) FROM items WHERE name IS NULL;\n"
      << "SELECT 'sum', sum(amount) FROM items;\n";
  }
  ProgramResult r = RunProgram({"psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-F", ",", "-d",
                                server.conninfo(), "-f", script},
                               30s);
  ASSERT_TRUE(r.exited) << r.output;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("COPY 52"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("COPY 32"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("COPY 2\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("COPY 3\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("total,89"), std::string::npos) << r.output;
  // NULL: 51 (text \N), 131 (CSV unquoted empty), 202 (\N), 302 (CSV empty).
  EXPECT_NE(r.output.find("nulls,4"), std::string::npos) << r.output;

  Conn c(server.conninfo());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.Scalar("SELECT name FROM items WHERE id = 52"), "tab\there");
  EXPECT_EQ(c.Scalar("SELECT name FROM items WHERE id = 105"), "csv, 105");
  EXPECT_EQ(c.Scalar("SELECT name FROM items WHERE id = 132"), "say \"hi\"");
  EXPECT_EQ(c.Scalar("SELECT amount FROM items WHERE id = 131"), "NULL");
  EXPECT_EQ(c.Scalar("SELECT name FROM items WHERE id = 301"), "stdin, csv");
  EXPECT_EQ(c.Scalar("SELECT amount FROM items WHERE id = 303"), "NULL");
  // sum: 1..50 + 50*0.25, 101..130 + 30*0.50, 1.00, 2.00, 3.00
  EXPECT_NE(r.output.find("sum,4773.50"), std::string::npos) << r.output;

  // ON_ERROR_STOP: a failing statement stops the script with exit code 3.
  const std::string bad = dir.path() + "/bad.sql";
  {
    std::ofstream s(bad);
    s << "INSERT INTO items VALUES (900, 'before', 1);\n"
      << "INSERT INTO items VALUES (1, 'duplicate', 1);\n"
      << "INSERT INTO items VALUES (901, 'after', 1);\n";
  }
  ProgramResult b =
      RunProgram({"psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", server.conninfo(), "-f", bad}, 30s);
  ASSERT_TRUE(b.exited) << b.output;
  EXPECT_EQ(b.exit_code, 3) << b.output;
  EXPECT_NE(b.output.find("duplicate key"), std::string::npos) << b.output;
  EXPECT_EQ(c.Scalar("SELECT count(*) FROM items WHERE id >= 900"), "1");
  // A COPY with a bad row loads nothing.
  const std::string badcopy = dir.path() + "/badcopy.sql";
  {
    std::ofstream s(badcopy);
    s << "COPY items FROM STDIN WITH (FORMAT csv);\n"
      << "1001,ok,1.00\n"
      << "1002,bad,notanumber\n"
      << "\\.\n";
  }
  ProgramResult bc = RunProgram(
      {"psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", server.conninfo(), "-f", badcopy}, 30s);
  ASSERT_TRUE(bc.exited) << bc.output;
  EXPECT_EQ(bc.exit_code, 3) << bc.output;
  EXPECT_EQ(c.Scalar("SELECT count(*) FROM items WHERE id > 1000"), "0");
}

// Two processes starting at the same moment on a new directory with
// different shard counts: one runs, the other refuses, and the directory
// keeps the winner's shard count across a restart.
TEST(LifecycleTest, RacingFirstStartsAgreeOnShardCount) {
  for (int round = 0; round < 2; ++round) {
    TempDir dir;
    std::string data = dir.path() + "/data";
    ServerProcess a(data), b(data);
    std::thread ta([&] { a.Start({"--shards", "4"}); });
    std::thread tb([&] { b.Start({"--shards", "8"}); });
    ta.join();
    tb.join();
    ASSERT_NE(a.running(), b.running()) << a.log() << b.log();
    ServerProcess& winner = a.running() ? a : b;
    const std::string want = a.running() ? "shards=4/4" : "shards=8/8";
    {
      Conn c(winner.conninfo());
      ASSERT_TRUE(c.Exec("CREATE TABLE t (id int PRIMARY KEY)").ok());
      ASSERT_TRUE(c.Exec("INSERT INTO t VALUES (1), (2), (3), (4), (5), (6), (7), (8)").ok());
      EXPECT_NE(c.Exec("EXPLAIN SELECT * FROM t").at(0, 0).find(want), std::string::npos);
    }
    ASSERT_EQ(winner.Stop(), 0);
    ServerProcess again(data);
    ASSERT_TRUE(again.Start()) << again.log();
    Conn c(again.conninfo());
    EXPECT_NE(c.Exec("EXPLAIN SELECT * FROM t").at(0, 0).find(want), std::string::npos)
        << "round " << round;
    for (int id = 1; id <= 8; ++id) {
      EXPECT_EQ(c.Scalar("SELECT count(*) FROM t WHERE id = " + std::to_string(id)), "1")
          << "round " << round << ": row " << id << " is not on the shard its key routes to";
    }
  }
}

// A non-empty directory that is not a data directory is refused and left as
// it was.
TEST(LifecycleTest, ForeignDirectoryIsRefused) {
  TempDir dir;
  { std::ofstream(dir.path() + "/notes.txt") << "mine\n"; }
  ProgramResult r = RunProgram({SB_BINARY, "start-single-node", "--data-dir", dir.path(),
                                "--sql-listen", "127.0.0.1:" + std::to_string(FreePort()),
                                "--http-listen", "127.0.0.1:" + std::to_string(FreePort())},
                               20s);
  ASSERT_TRUE(r.exited) << r.output;
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("not empty"), std::string::npos) << r.output;
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u) << "nothing was added to the directory";
}

// kill -9 while several clients insert: every row whose INSERT was
// acknowledged is there after the restart (rows in flight may or may not be).
TEST(LifecycleTest, Kill9DuringConcurrentInserts) {
  TempDir dir;
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.Start()) << server.log();  // synchronous=FULL
  {
    Conn c(server.conninfo());
    ASSERT_TRUE(c.Exec("CREATE TABLE kv (k int PRIMARY KEY, v text)").ok());
  }
  constexpr int kThreads = 4;
  std::vector<std::vector<int>> acked(kThreads);
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Conn c(server.conninfo());
      for (int i = 0; i < 300; ++i) {
        int k = t * 10000 + i;
        if (!c.Exec(InsertRow(k)).ok()) return;  // the server is gone
        acked[static_cast<size_t>(t)].push_back(k);
        total++;
      }
    });
  }
  // Kill once some rows are in (bounded wait), while the writers still run.
  for (int i = 0; i < 500 && total.load() < 40; ++i) std::this_thread::sleep_for(10ms);
  server.Kill9();
  for (auto& t : threads) t.join();
  ASSERT_GT(total.load(), 0);
  ASSERT_TRUE(server.Start()) << server.log();
  Conn c(server.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  Result r = c.Exec("SELECT k FROM kv");
  ASSERT_TRUE(r.ok()) << r.error();
  std::set<std::string> present;
  for (const auto& k : r.column(0)) present.insert(k);
  int missing = 0;
  for (const auto& list : acked) {
    for (int k : list) missing += present.count(std::to_string(k)) ? 0 : 1;
  }
  EXPECT_EQ(missing, 0) << "of " << total.load() << " acknowledged rows";
  EXPECT_LE(present.size(), static_cast<size_t>(total.load() + kThreads));
}

// A power loss can take back commits the shards had not synced yet (they run
// at synchronous=NORMAL behind the group-commit log). Here every shard loses
// all of them: the shard files are put back to a copy taken before the
// inserts, after kill -9. Every acknowledged row comes back from the commit
// log at the restart. A later start without group commit finds them too.
TEST(LifecycleTest, RowsTheShardsLostComeBackFromTheCommitLog) {
  TempDir dir;
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.Start()) << server.log();
  {
    Conn c(server.conninfo());
    ASSERT_TRUE(c.Exec("CREATE TABLE kv (k int PRIMARY KEY, v text)").ok());
  }
  ASSERT_EQ(server.Stop(), 0);
  const std::filesystem::path shards = dir.path() + "/data/shards";
  const std::filesystem::path saved = dir.path() + "/saved";
  std::filesystem::create_directories(saved);
  for (const auto& e : std::filesystem::directory_iterator(shards)) {
    if (e.path().extension() == ".db")
      std::filesystem::copy_file(e.path(), saved / e.path().filename());
  }
  ASSERT_TRUE(server.Start()) << server.log();
  constexpr int kRows = 200;
  {
    Conn c(server.conninfo());
    for (int i = 0; i < kRows; ++i) ASSERT_TRUE(c.Exec(InsertRow(i)).ok()) << i;
  }
  server.Kill9();
  for (const auto& e : std::filesystem::directory_iterator(saved)) {
    const std::filesystem::path shard = shards / e.path().filename();
    std::filesystem::remove(shard.string() + "-wal");
    std::filesystem::remove(shard.string() + "-shm");
    std::filesystem::copy_file(e.path(), shard, std::filesystem::copy_options::overwrite_existing);
  }
  ASSERT_TRUE(server.Start()) << server.log();
  {
    Conn c(server.conninfo());
    Result r = c.Exec("SELECT count(*), count(DISTINCT k), min(k), max(k) FROM kv");
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r.at(0, 0), std::to_string(kRows));
    EXPECT_EQ(r.at(0, 1), std::to_string(kRows));
    EXPECT_EQ(r.at(0, 3), std::to_string(kRows - 1));
    ASSERT_TRUE(c.Exec(InsertRow(kRows)).ok());  // LSNs continue
  }
  EXPECT_NE(server.log().find("re-applied"), std::string::npos) << server.log();
  HttpResponse m = HttpGet(server.http_port(), "/metrics");
  EXPECT_GE(MetricSample(m.body, "scratchbird_commit_log_records_total", {}), 1) << m.body;
  server.Kill9();
  ASSERT_TRUE(server.Start({"--group-commit", "false"})) << server.log();
  Conn c(server.conninfo());
  Result r = c.Exec("SELECT count(*) FROM kv");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.at(0, 0), std::to_string(kRows + 1));
  EXPECT_FALSE(std::filesystem::exists(shards / "commitlog"));
}

// `scratchbird demo --script FILE` (what `make demo` runs in CI) loads the
// sample schema, runs the script through psql and exits with its status.
TEST(DemoTest, ScriptRunsAndFailuresPropagate) {
  TempDir dir;
  const std::string ok_script = dir.path() + "/ok.sql";
  const std::string bad_script = dir.path() + "/bad.sql";
  std::ofstream(ok_script) << "SELECT 'products', count(*) FROM products;\n"
                           << "SELECT 'customers', count(*) FROM customers;\n";
  std::ofstream(bad_script) << "SELECT * FROM no_such_table;\nSELECT 'marker_after_error';\n";
  const std::vector<std::string> base = {
      SB_BINARY,     "demo",        "--sql-listen", "127.0.0.1:0", "--http-listen",
      "127.0.0.1:0", "--customers", "10",           "--script"};
  auto with = [&](const std::string& script) {
    auto v = base;
    v.push_back(script);
    return v;
  };
  ProgramResult ok = RunProgram(with(ok_script), 50s);
  ASSERT_TRUE(ok.exited) << ok.output;
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("products"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("customers |    10"), std::string::npos) << ok.output;
  ProgramResult bad = RunProgram(with(bad_script), 50s);
  ASSERT_TRUE(bad.exited) << bad.output;
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_NE(bad.output.find("no_such_table"), std::string::npos) << bad.output;
  EXPECT_EQ(bad.output.find("marker_after_error"), std::string::npos)
      << "the script stops at the error";
}

}  // namespace
}  // namespace sb::e2e
