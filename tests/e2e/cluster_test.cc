// Three real `scratchbird start` processes on 127.0.0.1 form one cluster
// through the admin CLI: cert create-ca/create-node, start ×3 (two with
// --join), cluster init, cluster status / node ls / shard ls, a node
// restarted from its data directory alone, SQL on every node.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include "cluster_process.h"
#include "e2e_util.h"
#include "proto/node.grpc.pb.h"
#include "rpc/test_pki.h"
#include "security/certificates.h"
#include "security/certs_dir.h"

namespace sb::e2e {
namespace {

using Clock = std::chrono::steady_clock;

int CountOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Runs `sql` on a node over libpq: "ok:<first value or empty>" on success,
// "error:<message>" otherwise.
std::string RunSql(const ClusterProcess& n, const std::string& sql) {
  std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(n.sql_port()) + " dbname=scratchbird";
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string e = "error:" + std::string(PQerrorMessage(conn));
    PQfinish(conn);
    return e;
  }
  PGresult* r = PQexec(conn, sql.c_str());
  std::string out;
  const ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_TUPLES_OK)
    out = "ok:" + std::string(PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
  else if (st == PGRES_COMMAND_OK)
    out = "ok:";
  else
    out = "error:" + std::string(PQresultErrorMessage(r));
  PQclear(r);
  PQfinish(conn);
  return out;
}

// Polls `cluster status` on `host` until its output contains every needle.
bool StatusShows(const std::string& host, const std::string& certs,
                 const std::vector<std::string>& needles, std::string* last) {
  auto deadline = Clock::now() + 30s;
  while (Clock::now() < deadline) {
    ProgramResult r = Cli({"cluster", "status", "--host", host, "--certs-dir", certs});
    *last = r.output;
    bool all = r.exited && r.exit_code == 0;
    for (const auto& n : needles) all = all && r.output.find(n) != std::string::npos;
    if (all) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

TEST(ClusterE2eTest, ThreeProcessesFormAClusterAndReportIt) {
  TempDir dir;
  const std::string admin = dir.path() + "/certs";
  ProgramResult ca = Cli({"cert", "create-ca", "--certs-dir", admin});
  ASSERT_EQ(ca.exit_code, 0) << ca.output;
  std::vector<std::unique_ptr<ClusterProcess>> nodes;
  for (int i = 1; i <= 3; ++i) {
    nodes.push_back(std::make_unique<ClusterProcess>(dir.path(), i));
    ProgramResult n = Cli({"cert", "create-node", "--certs-dir", admin, "--host", "127.0.0.1",
                           "--out", nodes.back()->certs()});
    ASSERT_EQ(n.exit_code, 0) << n.output;
  }

  ASSERT_TRUE(nodes[0]->Start("")) << nodes[0]->log();
  ASSERT_TRUE(nodes[1]->Start(nodes[0]->rpc())) << nodes[1]->log();
  ASSERT_TRUE(nodes[2]->Start(nodes[0]->rpc() + "," + nodes[1]->rpc())) << nodes[2]->log();

  ProgramResult init = Cli({"cluster", "init", "--host", nodes[0]->rpc(), "--certs-dir",
                            nodes[0]->certs(), "--shards", "16"});
  ASSERT_EQ(init.exit_code, 0) << init.output;
  EXPECT_NE(init.output.find("initialised cluster"), std::string::npos) << init.output;

  std::string out;
  const std::vector<std::string> formed = {"epoch      5 ", "3 (3 voters), 3 reachable",
                                           "shard map  version 3, 16 shards"};
  for (auto& n : nodes)
    EXPECT_TRUE(StatusShows(n->rpc(), n->certs(), formed, &out)) << out << nodes[2]->log();

  ProgramResult ls = Cli({"node", "ls", "--host", nodes[1]->rpc(), "--certs-dir", admin + "/.."});
  // --certs-dir must name a node directory (or a certs dir with nodes/).
  EXPECT_EQ(ls.exit_code, 1) << ls.output;
  EXPECT_NE(ls.output.find("scratchbird cluster:"), std::string::npos) << ls.output;
  ls = Cli({"node", "ls", "--host", nodes[1]->rpc(), "--certs-dir", nodes[1]->certs()});
  ASSERT_EQ(ls.exit_code, 0) << ls.output;
  EXPECT_EQ(CountOf(ls.output, "VOTER  ACTIVE"), 3) << ls.output;
  ProgramResult shards =
      Cli({"shard", "ls", "--host", nodes[2]->rpc(), "--certs-dir", nodes[2]->certs()});
  ASSERT_EQ(shards.exit_code, 0) << shards.output;
  EXPECT_EQ(CountOf(shards.output, "shard_0"), 16) << shards.output;

  ProgramResult again =
      Cli({"cluster", "init", "--host", nodes[1]->rpc(), "--certs-dir", nodes[1]->certs()});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("CLUSTER_ALREADY_INITIALIZED"), std::string::npos) << again.output;

  // Node 2 stops; the others still report (it is unreachable), then it
  // restarts without --join and is back.
  EXPECT_EQ(nodes[1]->Stop(), 0);
  EXPECT_TRUE(StatusShows(nodes[0]->rpc(), nodes[0]->certs(), {"3 (3 voters), 2 reachable"}, &out))
      << out;
  ASSERT_TRUE(nodes[1]->Start("")) << nodes[1]->log();
  EXPECT_TRUE(StatusShows(nodes[1]->rpc(), nodes[1]->certs(), formed, &out)) << out;

  // SQL keeps working on every node.
  for (auto& n : nodes) EXPECT_EQ(RunSql(*n, "SELECT 40 + 2"), "ok:42");

  // One /metrics per process: the cluster's counters are on it too.
  const std::string& http = nodes[0]->http();
  HttpResponse m = HttpGet(std::stoi(http.substr(http.rfind(':') + 1)), "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("# TYPE scratchbird_rejected_cluster_entries_total counter"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("# TYPE scratchbird_rpc_rejected_connections_total counter"),
            std::string::npos)
      << m.body;

  for (auto& n : nodes) EXPECT_EQ(n->Stop(), 0) << n->log();
}

// The value of an unlabelled counter in a /metrics text, -1 when absent.
double MetricValue(const std::string& body, const std::string& name) {
  size_t at = 0;
  while ((at = body.find(name + " ", at)) != std::string::npos) {
    if (at == 0 || body[at - 1] == '\n') return std::stod(body.substr(at + name.size() + 1));
    at += name.size();
  }
  return -1;
}

// Starts three nodes (node 1 first, then two joiners) and initialises the
// cluster on node 1; waits until all three are voters.
void FormThreeNodeCluster(TempDir& dir, std::vector<std::unique_ptr<ClusterProcess>>* nodes,
                          int count, bool fault_injection) {
  const std::string admin = dir.path() + "/certs";
  ProgramResult ca = Cli({"cert", "create-ca", "--certs-dir", admin});
  ASSERT_EQ(ca.exit_code, 0) << ca.output;
  for (int i = 1; i <= count; ++i) {
    nodes->push_back(std::make_unique<ClusterProcess>(dir.path(), i));
    if (fault_injection) nodes->back()->EnableFaultInjection();
    ProgramResult n = Cli({"cert", "create-node", "--certs-dir", admin, "--host", "127.0.0.1",
                           "--out", nodes->back()->certs()});
    ASSERT_EQ(n.exit_code, 0) << n.output;
  }
  auto& n = *nodes;
  ASSERT_TRUE(n[0]->Start("")) << n[0]->log();
  for (int i = 1; i < 3; ++i) ASSERT_TRUE(n[i]->Start(n[0]->rpc())) << n[i]->log();
  ProgramResult init =
      Cli({"cluster", "init", "--host", n[0]->rpc(), "--certs-dir", n[0]->certs()});
  ASSERT_EQ(init.exit_code, 0) << init.output;
  std::string out;
  ASSERT_TRUE(StatusShows(n[0]->rpc(), n[0]->certs(), {"3 (3 voters), 3 reachable"}, &out)) << out;
}

TEST(ClusterE2eTest, TamperedEpochEntryIsRejectedByEveryNodeWithoutACrash) {
  TempDir dir;
  std::vector<std::unique_ptr<ClusterProcess>> nodes;
  FormThreeNodeCluster(dir, &nodes, 3, /*fault_injection=*/true);
  std::string out;
  ASSERT_TRUE(StatusShows(nodes[0]->rpc(), nodes[0]->certs(), {"epoch      5 "}, &out)) << out;

  // A policy epoch signed by node 1 with one signature byte flipped: every
  // node re-verifies on apply and turns it into a rejected no-op.
  ProgramResult tampered = Cli({"cluster", "inject-fault", "--kind", "tampered_epoch_signature",
                                "--host", nodes[1]->rpc(), "--certs-dir", nodes[1]->certs()});
  ASSERT_EQ(tampered.exit_code, 0) << tampered.output;
  EXPECT_NE(tampered.output.find("SB022"), std::string::npos) << tampered.output;
  EXPECT_NE(tampered.output.find("SIGNATURE_INVALID"), std::string::npos) << tampered.output;
  ProgramResult garbage = Cli({"cluster", "inject-fault", "--kind", "malformed_entry", "--host",
                               nodes[2]->rpc(), "--certs-dir", nodes[2]->certs()});
  ASSERT_EQ(garbage.exit_code, 0) << garbage.output;
  EXPECT_NE(garbage.output.find("SB030"), std::string::npos) << garbage.output;

  // Every node counted both rejections (the alert metric), none crashed, the
  // epoch did not move, and the cluster still commits valid changes.
  for (auto& n : nodes) {
    auto deadline = Clock::now() + 10s;
    double rejected = -1;
    while (Clock::now() < deadline) {
      HttpResponse m = HttpGet(n->http_port(), "/metrics");
      rejected = MetricValue(m.body, "scratchbird_rejected_cluster_entries_total");
      if (rejected >= 2) break;
      std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(rejected, 2) << n->log();
    EXPECT_TRUE(n->running()) << n->log();
    EXPECT_NE(n->log().find("cluster state entry rejected"), std::string::npos);
  }
  EXPECT_TRUE(StatusShows(nodes[2]->rpc(), nodes[2]->certs(),
                          {"epoch      5 ", "rejected entries 2", "3 reachable"}, &out))
      << out;
  ProgramResult disabled = Cli({"cluster", "inject-fault", "--kind", "nonsense", "--host",
                                nodes[0]->rpc(), "--certs-dir", nodes[0]->certs()});
  EXPECT_EQ(disabled.exit_code, 1) << disabled.output;

  EXPECT_EQ(RunSql(*nodes[2], "CREATE TABLE after_fault (id int PRIMARY KEY)"), "ok:");
  for (auto& n : nodes) EXPECT_EQ(n->Stop(), 0) << n->log();
}

TEST(ClusterE2eTest, FourthNodeJoinsAsLearnerBecomesVoterAndIsRemovedGracefully) {
  TempDir dir;
  std::vector<std::unique_ptr<ClusterProcess>> nodes;
  FormThreeNodeCluster(dir, &nodes, 4, /*fault_injection=*/false);
  // A table exists, so the fourth node's arrival does not move shards: it
  // owns none and may leave.
  EXPECT_EQ(RunSql(*nodes[0], "CREATE TABLE kv (k int PRIMARY KEY, v text)"), "ok:");
  ASSERT_TRUE(nodes[3]->Start(nodes[1]->rpc())) << nodes[3]->log();
  std::string out;
  ASSERT_TRUE(StatusShows(nodes[0]->rpc(), nodes[0]->certs(), {"4 (4 voters), 4 reachable"}, &out))
      << out << nodes[3]->log();
  // It went through the learner stage (the leader's log says so).
  std::string leader_logs;
  for (int i = 0; i < 3; ++i) leader_logs += nodes[i]->log();
  EXPECT_NE(leader_logs.find("joins as a learner"), std::string::npos) << leader_logs;
  EXPECT_NE(leader_logs.find("promoted to voter"), std::string::npos) << leader_logs;

  // SQL through the new node reaches every shard.
  EXPECT_EQ(RunSql(*nodes[3], "INSERT INTO kv VALUES (1,'a'),(2,'b'),(3,'c'),(4,'d'),(5,'e')"),
            "ok:");
  EXPECT_EQ(RunSql(*nodes[3], "SELECT count(*) FROM kv"), "ok:5");

  // The node's UUID from node ls (the row with its RPC address).
  ProgramResult ls =
      Cli({"node", "ls", "--host", nodes[0]->rpc(), "--certs-dir", nodes[0]->certs()});
  ASSERT_EQ(ls.exit_code, 0) << ls.output;
  std::string fourth, owner_of_shards;
  {
    std::istringstream lines(ls.output);
    std::string line;
    while (std::getline(lines, line)) {
      std::string id = line.substr(0, line.find(' '));
      if (line.find(nodes[3]->rpc()) != std::string::npos) fourth = id;
      if (line.find(nodes[1]->rpc()) != std::string::npos) owner_of_shards = id;
    }
  }
  ASSERT_FALSE(fourth.empty()) << ls.output;
  ASSERT_FALSE(owner_of_shards.empty()) << ls.output;

  // A node that owns shards cannot leave; the error names the shards.
  ProgramResult refused = Cli({"node", "remove", owner_of_shards, "--host", nodes[0]->rpc(),
                               "--certs-dir", nodes[0]->certs()});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("still owns"), std::string::npos) << refused.output;

  ProgramResult removed =
      Cli({"node", "remove", fourth, "--host", nodes[2]->rpc(), "--certs-dir", nodes[2]->certs()});
  ASSERT_EQ(removed.exit_code, 0) << removed.output;
  EXPECT_NE(removed.output.find("removed node " + fourth), std::string::npos) << removed.output;
  EXPECT_TRUE(StatusShows(nodes[1]->rpc(), nodes[1]->certs(), {"REMOVED", "(3 voters)"}, &out))
      << out;
  // Removing it again is a no-op success; the others keep committing.
  ProgramResult again =
      Cli({"node", "remove", fourth, "--host", nodes[0]->rpc(), "--certs-dir", nodes[0]->certs()});
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(nodes[3]->Stop(), 0) << nodes[3]->log();
  EXPECT_EQ(RunSql(*nodes[1], "ALTER TABLE kv ADD COLUMN w int"), "ok:");
  EXPECT_EQ(RunSql(*nodes[1], "SELECT count(*) FROM kv"), "ok:5");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(nodes[i]->Stop(), 0) << nodes[i]->log();
}

// A labelled sample ("name{reason=\"wrong_ca\"} 3") in a /metrics text, 0
// when absent.
double LabelledMetric(const std::string& body, const std::string& sample) {
  size_t at = body.find(sample + " ");
  return at == std::string::npos ? 0 : std::stod(body.substr(at + sample.size() + 1));
}

TEST(ClusterE2eTest, ForeignCaNodesAndPlaintextAreRefusedAndCounted) {
  TempDir dir;
  const std::string admin = dir.path() + "/certs";
  const std::string foreign_admin = dir.path() + "/foreign-certs";
  ASSERT_EQ(Cli({"cert", "create-ca", "--certs-dir", admin}).exit_code, 0);
  ASSERT_EQ(Cli({"cert", "create-ca", "--certs-dir", foreign_admin}).exit_code, 0);
  ClusterProcess member(dir.path(), 1);
  ClusterProcess intruder(dir.path(), 2);
  ASSERT_EQ(Cli({"cert", "create-node", "--certs-dir", admin, "--host", "127.0.0.1", "--out",
                 member.certs()})
                .exit_code,
            0);
  // Same host, another cluster's CA.
  ASSERT_EQ(Cli({"cert", "create-node", "--certs-dir", foreign_admin, "--host", "127.0.0.1",
                 "--out", intruder.certs()})
                .exit_code,
            0);
  ASSERT_TRUE(member.Start("")) << member.log();
  ASSERT_EQ(
      Cli({"cluster", "init", "--host", member.rpc(), "--certs-dir", member.certs()}).exit_code, 0);

  // The foreign node tries to join: its handshake is refused every time.
  ASSERT_TRUE(intruder.Start(member.rpc())) << intruder.log();
  const std::string metric = "scratchbird_rpc_rejected_connections_total";
  auto deadline = Clock::now() + 15s;
  double wrong_ca = 0;
  while (Clock::now() < deadline && wrong_ca < 1) {
    wrong_ca = LabelledMetric(HttpGet(member.http_port(), "/metrics").body,
                              metric + "{reason=\"wrong_ca\"}");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(wrong_ca, 1) << HttpGet(member.http_port(), "/metrics").body;
  // The admin CLI with the foreign certificate is refused too.
  ProgramResult foreign_status =
      Cli({"cluster", "status", "--host", member.rpc(), "--certs-dir", intruder.certs()});
  EXPECT_EQ(foreign_status.exit_code, 1) << foreign_status.output;

  // Plaintext: an HTTP/2 preface where a TLS ClientHello belongs.
  const int rpc_port = std::stoi(member.rpc().substr(member.rpc().rfind(':') + 1));
  int fd = ConnectTcp(rpc_port);
  ASSERT_GE(fd, 0);
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  ASSERT_EQ(::write(fd, preface.data(), preface.size()), static_cast<ssize_t>(preface.size()));
  char buf[256];
  // The server closes the connection without a single HTTP/2 frame.
  ssize_t n = ::read(fd, buf, sizeof buf);
  EXPECT_LE(n, 7) << "the server answered plaintext";
  ::close(fd);
  deadline = Clock::now() + 10s;
  double plaintext = 0;
  while (Clock::now() < deadline && plaintext < 1) {
    plaintext = LabelledMetric(HttpGet(member.http_port(), "/metrics").body,
                               metric + "{reason=\"plaintext\"}");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(plaintext, 1);

  // The member is alone, healthy and still serving.
  std::string out;
  EXPECT_TRUE(
      StatusShows(member.rpc(), member.certs(), {"members    1 (1 voters), 1 reachable"}, &out))
      << out;
  EXPECT_EQ(RunSql(member, "SELECT 1"), "ok:1");
  EXPECT_TRUE(member.running());
  intruder.Stop();
  EXPECT_EQ(member.Stop(), 0) << member.log();
}

// A Ping to a running node presenting `identity`, trusting any server: only
// the node's own checks can refuse it.
grpc::Status PingPresenting(const std::string& address, const security::TlsIdentity& identity) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto stub = rpc::NodeTransport::NewStub(
      grpc::CreateCustomChannel(address, rpc::testing::RogueCredentials(identity), args));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  rpc::PingRequest req;
  rpc::PingReply reply;
  return stub->Ping(&ctx, req, &reply);
}

// Certificates signed by the cluster's own CA that must still be refused:
// expired, naming another cluster in the node SAN, and a user's client
// certificate where a node's belongs.
TEST(ClusterE2eTest, ExpiredWrongSanAndClientCertificatesAreRefusedByARunningNode) {
  TempDir dir;
  const std::string admin = dir.path() + "/certs";
  ASSERT_EQ(Cli({"cert", "create-ca", "--certs-dir", admin}).exit_code, 0);
  ClusterProcess member(dir.path(), 1);
  ASSERT_EQ(Cli({"cert", "create-node", "--certs-dir", admin, "--host", "127.0.0.1", "--out",
                 member.certs()})
                .exit_code,
            0);
  ASSERT_TRUE(member.Start("")) << member.log();
  ASSERT_EQ(
      Cli({"cluster", "init", "--host", member.rpc(), "--certs-dir", member.certs()}).exit_code, 0);

  auto ca = security::LoadCertificateAuthority(admin);
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  auto identity_of = [&](const sb::Result<security::CertifiedKey>& c) {
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return security::TlsIdentity{ca->cert_pem, c->cert_pem, c->key_pem};
  };
  const auto now = std::chrono::system_clock::now();
  const auto expired = identity_of(security::IssueNodeCertificate(
      *ca, rpc::testing::NewUuid(), {"127.0.0.1"},
      security::Validity{now - std::chrono::hours(48), now - std::chrono::hours(24)}));
  security::CertificateAuthority same_key_other_cluster = *ca;
  same_key_other_cluster.cluster_id = rpc::testing::NewUuid();
  const auto wrong_cluster = identity_of(
      security::IssueNodeCertificate(same_key_other_cluster, rpc::testing::NewUuid(), {"127.0.0.1"},
                                     security::Validity::Starting(now, security::kNodeLifetime)));
  const auto user = identity_of(security::IssueClientCertificate(
      *ca, "alice", security::Validity::Starting(now, security::kClientLifetime)));

  const std::string metric = "scratchbird_rpc_rejected_connections_total";
  auto count = [&](const std::string& reason) {
    return LabelledMetric(HttpGet(member.http_port(), "/metrics").body,
                          metric + "{reason=\"" + reason + "\"}");
  };
  // Refusals are counted on the node's gRPC threads, possibly just after the
  // client saw the failure.
  auto await_count = [&](const std::string& reason, double at_least) {
    const auto deadline = Clock::now() + 10s;
    double n = count(reason);
    while (n < at_least && Clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
      n = count(reason);
    }
    return n;
  };

  EXPECT_FALSE(PingPresenting(member.rpc(), expired).ok());
  EXPECT_GE(await_count("expired", 1), 1);
  EXPECT_FALSE(PingPresenting(member.rpc(), wrong_cluster).ok());
  EXPECT_GE(await_count("bad_san", 1), 1);
  EXPECT_FALSE(PingPresenting(member.rpc(), user).ok());
  EXPECT_GE(await_count("bad_san", 2), 2);
  EXPECT_EQ(count("wrong_ca"), 0);

  // Still one healthy member serving SQL and admin calls.
  std::string out;
  EXPECT_TRUE(
      StatusShows(member.rpc(), member.certs(), {"members    1 (1 voters), 1 reachable"}, &out))
      << out;
  EXPECT_EQ(RunSql(member, "SELECT 1"), "ok:1");
  EXPECT_EQ(member.Stop(), 0) << member.log();
}

}  // namespace
}  // namespace sb::e2e
