// `scratchbird demo --nodes 3 --script FILE` (what `make demo` runs, as a
// script): three `scratchbird start` children form a cluster, the sample
// data loads through node 1, the showcase runs through node 2, the script
// runs through node 1, and every child is gone when the demo exits.
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace sb::e2e {
namespace {

// The PIDs the demo reported for its nodes ("Started node N (pid P)").
std::set<int> ChildPids(const std::string& output) {
  std::set<int> pids;
  static const std::regex started(R"(Started node \d+ \(pid (\d+)\))");
  for (std::sregex_iterator it(output.begin(), output.end(), started), end; it != end; ++it)
    pids.insert(std::stoi((*it)[1].str()));
  return pids;
}

int CountOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

void ExpectAllGone(const std::set<int>& pids) {
  for (int pid : pids) {
    errno = 0;
    EXPECT_EQ(::kill(pid, 0), -1) << "child " << pid << " still runs";
    EXPECT_EQ(errno, ESRCH) << pid;
  }
}

TEST(DemoClusterTest, ThreeNodesRunTheShowcaseAndTheScriptThenStopEveryChild) {
  TempDir dir;
  const std::string script = dir.path() + "/script.sql";
  std::string values;
  for (int k = 1; k <= 40; ++k)
    values += (k > 1 ? ", (" : "(") + std::to_string(k) + ", 'v" + std::to_string(k) + "')";
  std::ofstream(script) << "CREATE TABLE demo_kv (k bigint PRIMARY KEY, v text);\n"
                        << "INSERT INTO demo_kv VALUES " << values << ";\n"
                        << "INSERT INTO demo_kv VALUES (1000, 'marker_value');\n"
                        << "SELECT 'kv_rows', count(*) FROM demo_kv;\n"
                        << "SELECT v FROM demo_kv WHERE k = 1000;\n"
                        << "SELECT 'customers', count(*) FROM customers;\n";
  ProgramResult r =
      RunProgram({SB_BINARY, "demo", "--nodes", "3", "--sql-listen", "127.0.0.1:0", "--http-listen",
                  "127.0.0.1:0", "--customers", "20", "--script", script},
                 150s);
  const std::set<int> pids = ChildPids(r.output);
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(pids.size(), 3u);
  ExpectAllGone(pids);
  // Formed: three voters, the shards spread, shard ls printed.
  EXPECT_NE(r.output.find("node 3 sees 3 voter(s) of 3"), std::string::npos);
  EXPECT_EQ(CountOf(r.output, "\nshard_0"), 16);
  // The showcase ran through node 2 over every shard.
  EXPECT_NE(r.output.find("Querying through postgresql://demo@127.0.0.1:"), std::string::npos);
  EXPECT_NE(r.output.find("  20 customers"), std::string::npos);
  EXPECT_NE(r.output.find("node 3 (pid"), std::string::npos);
  // The script's results.
  EXPECT_NE(r.output.find(" kv_rows  |    41"), std::string::npos);
  EXPECT_NE(r.output.find("marker_value"), std::string::npos);
  EXPECT_NE(r.output.find("customers |    20"), std::string::npos);
  EXPECT_EQ(CountOf(r.output, ") stopped"), 3);
  if (HasFailure()) {
    std::printf("--- output of the 3-node demo ---\n%s\n", r.output.c_str());
    return;
  }

  // A failing script: non-zero exit, and still no child left behind.
  const std::string bad = dir.path() + "/bad.sql";
  std::ofstream(bad) << "SELECT * FROM no_such_table;\n";
  ProgramResult b =
      RunProgram({SB_BINARY, "demo", "--nodes", "2", "--sql-listen", "127.0.0.1:0", "--http-listen",
                  "127.0.0.1:0", "--customers", "10", "--script", bad},
                 150s);
  EXPECT_TRUE(b.exited);
  EXPECT_NE(b.exit_code, 0);
  EXPECT_NE(b.output.find("no_such_table"), std::string::npos);
  EXPECT_EQ(ChildPids(b.output).size(), 2u);
  ExpectAllGone(ChildPids(b.output));
  if (HasFailure()) std::printf("--- output of the 2-node demo ---\n%s\n", b.output.c_str());
}

}  // namespace
}  // namespace sb::e2e
