// The PostgreSQL-oracle test (issue 3): the sqllogictest-style corpus
// tests/sql/*.test runs on a 16-shard ScratchBird node and on a throwaway
// PostgreSQL 15 server, and every result must be the same (format and
// annotations: tests/sql/README.md). Files named 00_*.test are the shared
// setup (schema and rows); they run first, once, whatever the filter.
//
//   sb_pg_oracle_test                         all files
//   sb_pg_oracle_test --gtest_filter='*joins*' one file (plus the setup)
//   sb_pg_oracle_test --annotate              rewrite the expect-unsupported /
//                                             known-mismatch annotations to match
//                                             what happens now
//   sb_pg_oracle_test --verbose               one line per record
//   SB_SLT_ALLOW_KNOWN=1                      known mismatches do not fail
//   SB_SLT_DIR=DIR                            another corpus directory
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "diff_harness.h"
#include "pg_server.h"
#include "slt_runner.h"

namespace sbtest {
namespace {

SltOptions g_opts;

std::string CorpusDir() {
  const char* env = std::getenv("SB_SLT_DIR");
  return env != nullptr && *env != '\0' ? env : SB_SLT_DIR;
}

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(CorpusDir(), ec)) {
    if (e.is_regular_file() && e.path().extension() == ".test") {
      files.push_back(e.path().filename().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool IsSetupFile(const std::string& name) {
  return name.rfind("00_", 0) == 0;
}

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, PgConnDeleter>;

// Both servers, started by the first test, stopped by the environment's
// TearDown (and by the destructors on any exit path).
struct Env {
  std::string skip;   // PostgreSQL missing
  std::string error;  // startup failed
  PgServer pg_server;
  ClusterProcess cluster;
  Conn sb;
  Conn pg;
  std::vector<std::pair<std::string, SltFileReport>> setup_reports;
  SltCounts total;
  std::vector<std::string> known;
  std::vector<std::string> deliberate;
  std::vector<std::string> failures;
};

Env* g_env = nullptr;

std::string Connect(const std::string& conninfo, Conn* out) {
  out->reset(PQconnectdb(conninfo.c_str()));
  if (PQstatus(out->get()) != CONNECTION_OK) return PQerrorMessage(out->get());
  // A runaway query fails instead of hanging the test.
  RawResult r = Execute(out->get(), "SET statement_timeout = '20s'");
  return r.ok ? "" : r.error;
}

void Record(Env* env, const std::string& name, const SltFileReport& rep) {
  env->total.Add(rep.counts);
  env->known.insert(env->known.end(), rep.known.begin(), rep.known.end());
  env->deliberate.insert(env->deliberate.end(), rep.deliberate.begin(), rep.deliberate.end());
  for (const auto& f : rep.failures) env->failures.push_back(f);
  if (rep.rewritten) std::cout << "[annotate] rewrote " << name << "\n";
}

Env* GetEnv() {
  if (g_env != nullptr) return g_env;
  g_env = new Env;
  g_env->skip = PgServer::Unavailable();
  if (!g_env->skip.empty()) return g_env;
  g_env->error = g_env->pg_server.Start();
  if (!g_env->error.empty()) return g_env;
  g_env->error = g_env->cluster.Start(16);
  if (!g_env->error.empty()) return g_env;
  if (std::string e = Connect(g_env->pg_server.conninfo(), &g_env->pg); !e.empty()) {
    g_env->error = "cannot connect to PostgreSQL: " + e;
    return g_env;
  }
  if (std::string e = Connect(g_env->cluster.conninfo(), &g_env->sb); !e.empty()) {
    g_env->error = "cannot connect to ScratchBird: " + e;
    return g_env;
  }
  for (const auto& name : CorpusFiles()) {
    if (!IsSetupFile(name)) continue;
    SltFile f;
    if (std::string e = ParseSltFile(CorpusDir() + "/" + name, &f); !e.empty()) {
      g_env->error = e;
      return g_env;
    }
    SltFileReport rep = RunSltFile(&f, g_env->sb.get(), g_env->pg.get(), g_opts);
    Record(g_env, name, rep);
    g_env->setup_reports.emplace_back(name, rep);
  }
  return g_env;
}

std::string Summary(const Env& env) {
  const SltCounts& c = env.total;
  std::string s = "\n==== PostgreSQL oracle summary ====\n";
  s += "files " + std::to_string(c.files) + ", setup statements " + std::to_string(c.statements) +
       ", checked records (queries and expected errors) " + std::to_string(c.queries) + "\n";
  s += "  compared with PostgreSQL: " + std::to_string(c.compared) + ", matched " +
       std::to_string(c.matched) + ", known mismatches " + std::to_string(c.known) + "\n";
  s += "  expected unsupported (0A000): " + std::to_string(c.unsupported) + "\n";
  std::vector<std::pair<int, std::string>> reasons;
  for (const auto& [k, v] : c.unsupported_by_reason) reasons.emplace_back(v, k);
  std::sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (const auto& [n, why] : reasons) s += "    " + std::to_string(n) + "  " + why + "\n";
  s += "  deliberate differences: " + std::to_string(c.deliberate) + "\n";
  s += "  failures: " + std::to_string(c.failures) + "\n";
  if (!env.known.empty()) {
    s += "---- known mismatches (bugs; annotated '# known-mismatch:') ----\n";
    for (const auto& k : env.known) s += k;
  }
  if (g_opts.verbose && !env.deliberate.empty()) {
    s += "---- deliberate differences ----\n";
    for (const auto& d : env.deliberate) s += d;
  }
  return s;
}

class EnvCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    if (g_env == nullptr) return;
    if (g_env->skip.empty() && g_env->error.empty()) std::cout << Summary(*g_env) << std::flush;
    g_env->sb.reset();
    g_env->pg.reset();
    g_env->cluster.Stop();
    g_env->pg_server.Stop();
    delete g_env;
    g_env = nullptr;
  }
};

// The runner's own pieces, without servers.
TEST(SltRunner, StripDistribution) {
  EXPECT_EQ(StripDistribution("CREATE TABLE t (a int, b int) SHARD BY HASH (a, b)"),
            "CREATE TABLE t (a int, b int)");
  EXPECT_EQ(StripDistribution("create table t (a int)\nshard by hash(a)"),
            "create table t (a int)");
  EXPECT_EQ(StripDistribution("CREATE TABLE r (a int PRIMARY KEY) REPLICATED"),
            "CREATE TABLE r (a int PRIMARY KEY)");
  EXPECT_EQ(StripDistribution("CREATE TABLE t (a int) WITH (shard_key = 'a')"),
            "CREATE TABLE t (a int) ");
  EXPECT_EQ(StripDistribution("SELECT 'x) REPLICATED'"), "SELECT 'x) REPLICATED'");
}

TEST(SltRunner, ParsesRecordsAndAnnotations) {
  std::string path = ::testing::TempDir() + "slt_parse_test.test";
  {
    std::ofstream o(path);
    o << "# a comment\n\nstatement ok\nCREATE TABLE t (a int)\n\n"
         "# expect-unsupported: joins\nquery IT rowsort\nSELECT 1,\n  'x'\n\n"
         "# known-mismatch: scale\nquery 3\nSELECT 1, 2, 3\n----\n1 2 3\n\n"
         "statement error 22012\nSELECT 1/0\n";
  }
  SltFile f;
  ASSERT_EQ(ParseSltFile(path, &f), "");
  ASSERT_EQ(f.records.size(), 4u);
  EXPECT_EQ(f.records[0].kind, SltRecord::Kind::kStatementOk);
  EXPECT_EQ(f.records[1].kind, SltRecord::Kind::kQuery);
  EXPECT_EQ(f.records[1].sql, "SELECT 1,\n  'x'");
  EXPECT_EQ(f.records[1].columns, 2);
  EXPECT_TRUE(f.records[1].rowsort);
  EXPECT_TRUE(f.records[1].has_unsupported);
  EXPECT_EQ(f.records[1].unsupported, "joins");
  EXPECT_EQ(f.records[1].line, 7);
  EXPECT_EQ(f.records[2].columns, 3);
  EXPECT_EQ(f.records[2].sql, "SELECT 1, 2, 3");
  EXPECT_EQ(f.records[2].known, "scale");
  EXPECT_EQ(f.records[3].kind, SltRecord::Kind::kStatementError);
  EXPECT_EQ(f.records[3].error_state, "22012");
  {
    std::ofstream o(path);
    o << "query I\nSELECT 1\n\n# expect-unsupported: dangling\n";
  }
  EXPECT_NE(ParseSltFile(path, &f), "");
  std::remove(path.c_str());
}

TEST(SltRunner, ComparesTextExactlyAndFloatsWithTolerance) {
  RawResult a, b;
  a.names = b.names = {"x", "y"};
  a.types = b.types = {1700, 701};
  a.rows = {{std::string("1.50"), std::string("0.30000000000000004")}};
  b.rows = {{std::string("1.50"), std::string("0.3")}};
  EXPECT_EQ(CompareRaw(a, b, false), "");
  b.rows = {{std::string("1.5"), std::string("0.3")}};
  EXPECT_NE(CompareRaw(a, b, false), "");
  b.rows = {{std::string("1.50"), std::nullopt}};
  EXPECT_NE(CompareRaw(a, b, false), "");
  a.rows = {{std::string("1"), std::nullopt}, {std::string("2"), std::nullopt}};
  b.rows = {{std::string("2"), std::nullopt}, {std::string("1"), std::nullopt}};
  EXPECT_NE(CompareRaw(a, b, false), "");
  EXPECT_EQ(CompareRaw(a, b, true), "");
  b.types = {20, 701};
  EXPECT_NE(CompareRaw(a, b, true), "");
}

class PgOracle : public ::testing::TestWithParam<std::string> {};

TEST_P(PgOracle, Corpus) {
  Env* env = GetEnv();
  if (!env->skip.empty()) GTEST_SKIP() << env->skip;
  ASSERT_TRUE(env->error.empty()) << env->error;
  const std::string name = GetParam();
  SltFileReport rep;
  if (IsSetupFile(name)) {
    for (const auto& [n, r] : env->setup_reports) {
      if (n == name) rep = r;
    }
  } else {
    SltFile f;
    std::string e = ParseSltFile(CorpusDir() + "/" + name, &f);
    ASSERT_TRUE(e.empty()) << e;
    rep = RunSltFile(&f, env->sb.get(), env->pg.get(), g_opts);
    Record(env, name, rep);
  }
  std::cout << name << ": " << rep.counts.queries << " checked, " << rep.counts.matched
            << " matched, " << rep.counts.unsupported << " expected-unsupported, "
            << rep.counts.deliberate << " deliberate, " << rep.counts.known << " known mismatches, "
            << rep.counts.failures << " failures\n";
  for (const auto& f : rep.failures) ADD_FAILURE() << f;
  if (!rep.failures.empty() && PQstatus(env->sb.get()) != CONNECTION_OK) {
    ADD_FAILURE() << "ScratchBird connection lost; node log:\n" << env->cluster.LogTail();
  }
}

std::string ParamName(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param.substr(0, info.param.size() - 5);  // minus ".test"
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(Files, PgOracle, ::testing::ValuesIn(CorpusFiles()), ParamName);

}  // namespace
}  // namespace sbtest

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--annotate") == 0) {
      sbtest::g_opts.annotate = true;
    } else if (std::strcmp(argv[i], "--verbose") == 0) {
      sbtest::g_opts.verbose = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  const char* allow = std::getenv("SB_SLT_ALLOW_KNOWN");
  sbtest::g_opts.allow_known = allow != nullptr && std::strcmp(allow, "1") == 0;
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  ::testing::InitGoogleTest(&n, args.data());
  ::testing::AddGlobalTestEnvironment(new sbtest::EnvCleanup);
  return RUN_ALL_TESTS();
}
