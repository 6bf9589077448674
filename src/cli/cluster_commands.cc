#include "cli/cluster_commands.h"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/signals.h"
#include "cluster/cluster_node.h"
#include "node/engine.h"
#include "node/node.h"
#include "raft/raft.h"
#include "rpc/client.h"
#include "rpc/wire.h"
#include "security/certs_dir.h"

namespace sb::cli {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

int Fail(const Status& st) {
  std::string message = st.message();
  if (!st.hint().empty()) message += " (" + st.hint() + ")";
  std::fprintf(stderr, "scratchbird cluster: %s\n", message.c_str());
  return 1;
}

// A node directory holds node.crt; the admin's certs directory holds one
// per node under nodes/, and any of them will do to talk to the cluster.
Result<std::string> FindNodeDir(const std::string& certs_dir) {
  if (fs::exists(fs::path(certs_dir) / security::kNodeCertFile)) return certs_dir;
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(certs_dir) / security::kNodesSubdir, ec))
    if (fs::exists(e.path() / security::kNodeCertFile)) dirs.push_back(e.path().string());
  if (dirs.empty())
    return Status::InvalidArgument("no node certificate in " + certs_dir,
                                   "pass a node directory or the certs directory of "
                                   "`scratchbird cert create-node`");
  std::sort(dirs.begin(), dirs.end());
  return dirs.front();
}

Result<std::unique_ptr<rpc::PeerClient>> AdminClient(const std::string& host,
                                                     const std::string& certs_dir) {
  SB_ASSIGN_OR_RETURN(std::string node_dir, FindNodeDir(certs_dir));
  SB_ASSIGN_OR_RETURN(security::NodeCredentials creds, security::LoadNodeCredentials(node_dir));
  rpc::PeerAuthOptions ao;
  ao.ca_cert_pem = creds.tls.ca_cert_pem;
  rpc::PeerClientOptions po;
  po.address = host;
  po.identity = creds.tls;
  po.auth = std::make_shared<rpc::PeerAuthenticator>(std::move(ao));
  po.default_timeout = milliseconds(5000);
  return rpc::PeerClient::Create(std::move(po));
}

std::string UuidText(const std::string& bytes) {
  auto id = rpc::UuidFromBytes(bytes);
  return id.ok() ? id->ToString() : std::string("-");
}

std::string Hex(const std::string& bytes, size_t max_bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < max_bytes; ++i) {
    auto b = static_cast<uint8_t>(bytes[i]);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string OrDash(const std::string& s) {
  return s.empty() ? "-" : s;
}

// Left-aligned columns two spaces apart, header first.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

std::vector<std::vector<std::string>> NodeRows(const rpc::StatusReply& s, bool health) {
  std::vector<std::vector<std::string>> rows;
  if (health)
    rows.push_back({"NODE", "RAFT ID", "ROLE", "STATE", "LEADER", "HEALTH", "EPOCH", "SHARDS",
                    "RPC", "SQL", "HTTP"});
  else
    rows.push_back({"NODE", "RAFT ID", "ROLE", "STATE", "SHARDS", "RPC", "SQL", "HTTP"});
  for (const auto& m : s.members()) {
    const auto& a = m.member();
    std::string leader = a.raft_id() == s.leader_raft_id() ? "*" : "";
    if (health)
      rows.push_back({UuidText(a.node_uuid()), std::to_string(a.raft_id()), m.role(), m.state(),
                      leader, m.reachable() ? "ok" : "unreachable",
                      m.reachable() ? std::to_string(m.epoch()) : "-",
                      std::to_string(m.shards_owned()), a.rpc_address(), OrDash(a.sql_address()),
                      OrDash(a.http_address())});
    else
      rows.push_back({UuidText(a.node_uuid()), std::to_string(a.raft_id()), m.role(), m.state(),
                      std::to_string(m.shards_owned()), a.rpc_address(), OrDash(a.sql_address()),
                      OrDash(a.http_address())});
  }
  return rows;
}

std::vector<std::string> SplitList(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& item : in) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t comma = item.find(',', start);
      if (comma == std::string::npos) comma = item.size();
      if (comma > start) out.push_back(item.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace

struct ClusterCommands::State {
  CLI::App* start = nullptr;
  CLI::App* cluster = nullptr;
  CLI::App* init = nullptr;
  CLI::App* status = nullptr;
  CLI::App* inject = nullptr;
  CLI::App* node = nullptr;
  CLI::App* node_ls = nullptr;
  CLI::App* node_remove = nullptr;
  CLI::App* shard = nullptr;
  CLI::App* shard_ls = nullptr;

  // start
  std::string data_dir, certs_dir, rpc_listen = "127.0.0.1:7947", sql_listen = "127.0.0.1:4050",
                                   http_listen = "127.0.0.1:8947";
  std::string rpc_advertise;
  std::vector<std::string> join;
  bool group_commit = true;
  // admin
  std::string host = "127.0.0.1:7947";
  int shards = 16;
  std::string remove_node;
  std::string fault_kind;

  void AddAdminFlags(CLI::App* cmd) {
    cmd->add_option("--host", host, "RPC address HOST:PORT of a started node")
        ->capture_default_str();
    cmd->add_option("--certs-dir", certs_dir,
                    "A node directory, or the certs directory holding nodes/<uuid>/ "
                    "(its first node certificate authenticates the command)")
        ->required();
  }

  int Start() const {
    node::NodeOptions o;
    o.data_dir = data_dir;
    Status st = node::ParseListen("--sql-listen", sql_listen, &o.sql_host, &o.sql_port);
    if (st.ok()) st = node::ParseListen("--http-listen", http_listen, &o.http_host, &o.http_port);
    if (!st.ok()) return Fail(st);
    o.group_commit = group_commit;
    node::NodeOptions::Cluster c;
    c.certs_dir = certs_dir;
    c.rpc_listen = rpc_listen;
    c.rpc_advertise = rpc_advertise;
    c.join = SplitList(join);
    o.cluster = c;

    // Threads started below inherit the blocked mask, so only
    // WaitForShutdownSignal sees SIGINT/SIGTERM.
    BlockShutdownSignals();
    auto n = node::Node::Start(o);
    if (!n.ok()) return Fail(n.status());
    cluster::ClusterNode* cn = (*n)->cluster_node();
    spdlog::info("ScratchBird {} node {} started", node::kProductVersion, cn->node_id().ToString());
    spdlog::info("node RPC on {}, SQL on {}:{}, HTTP on {}:{}", cn->rpc_address(), o.sql_host,
                 (*n)->sql_port(), o.http_host, (*n)->http_port());
    std::fflush(stdout);
    int sig = WaitForShutdownSignal();
    spdlog::info("received signal {}, shutting down", sig);
    (*n)->Stop();
    spdlog::info("stopped cleanly");
    return 0;
  }

  int Init() const {
    auto client = AdminClient(host, certs_dir);
    if (!client.ok()) return Fail(client.status());
    rpc::InitRequest req;
    req.set_shards(static_cast<uint32_t>(shards));
    auto reply = (*client)->InitCluster(req, milliseconds(30000));
    if (!reply.ok()) return Fail(reply.status());
    std::printf("initialised cluster %s on %s: epoch %llu, %d shards\n",
                UuidText(reply->cluster_uuid()).c_str(), host.c_str(),
                static_cast<unsigned long long>(reply->epoch()), shards);
    return 0;
  }

  Result<rpc::StatusReply> FetchStatus() const {
    SB_ASSIGN_OR_RETURN(auto client, AdminClient(host, certs_dir));
    SB_ASSIGN_OR_RETURN(rpc::StatusReply reply, client->ClusterStatus());
    if (!reply.initialized())
      return Status::Error(meta::cluster_sqlstate::kNotInitialized,
                           "the node at " + host + " is not in an initialised cluster",
                           "run `scratchbird cluster init --host " + host + " --certs-dir ...`");
    return reply;
  }

  int ShowStatus() const {
    auto s = FetchStatus();
    if (!s.ok()) return Fail(s.status());
    std::string leader = "none";
    for (const auto& m : s->members())
      if (m.member().raft_id() == s->leader_raft_id())
        leader = UuidText(m.member().node_uuid()) + " (raft id " +
                 std::to_string(s->leader_raft_id()) + ")";
    size_t voters = 0, healthy = 0;
    for (const auto& m : s->members()) {
      if (m.role() == "VOTER" && m.state() != "REMOVED") ++voters;
      if (m.reachable()) ++healthy;
    }
    std::printf("cluster    %s (reported by %s)\n", UuidText(s->cluster_uuid()).c_str(),
                UuidText(s->reporter()).c_str());
    std::printf("leader     %s, term %llu\n", leader.c_str(),
                static_cast<unsigned long long>(s->term()));
    std::printf("epoch      %llu (hash %s)\n", static_cast<unsigned long long>(s->epoch()),
                Hex(s->epoch_hash(), 8).c_str());
    std::printf("shard map  version %llu, %d shards\n",
                static_cast<unsigned long long>(s->shard_map_version()), s->shard_owner_size());
    std::printf("raft log   commit %llu, applied %llu\n",
                static_cast<unsigned long long>(s->commit_index()),
                static_cast<unsigned long long>(s->applied_index()));
    std::printf("members    %d (%zu voters), %zu reachable; rejected entries %llu\n\n",
                s->members_size(), voters, healthy,
                static_cast<unsigned long long>(s->rejected_entries()));
    PrintTable(NodeRows(*s, true));
    return 0;
  }

  int NodeLs() const {
    auto s = FetchStatus();
    if (!s.ok()) return Fail(s.status());
    PrintTable(NodeRows(*s, false));
    return 0;
  }

  int InjectFault() const {
    auto client = AdminClient(host, certs_dir);
    if (!client.ok()) return Fail(client.status());
    rpc::FaultRequest req;
    req.set_kind(fault_kind);
    auto reply = (*client)->InjectFault(req, milliseconds(30000));
    if (!reply.ok()) return Fail(reply.status());
    std::printf("injected %s; rejected by the cluster: %s\n", fault_kind.c_str(),
                reply->rejection().c_str());
    return 0;
  }

  // Sends the removal to the leader (found through --host's status).
  int NodeRemove() const {
    auto target = Uuid::Parse(remove_node);
    if (!target.ok()) return Fail(target.status());
    auto s = FetchStatus();
    if (!s.ok()) return Fail(s.status());
    std::string leader;
    for (const auto& m : s->members())
      if (m.member().raft_id() == s->leader_raft_id()) leader = m.member().rpc_address();
    if (leader.empty())
      return Fail(Status::Error(raft::kNotLeaderCode, "the cluster has no leader right now",
                                "retry in a few seconds"));
    auto client = AdminClient(leader, certs_dir);
    if (!client.ok()) return Fail(client.status());
    rpc::RemoveRequest req;
    req.set_node_uuid(rpc::UuidToBytes(*target));
    auto reply = (*client)->RemoveNode(req, milliseconds(30000));
    if (!reply.ok()) return Fail(reply.status());
    std::printf("removed node %s from the cluster (epoch %llu); stop its process now\n",
                target->ToString().c_str(), static_cast<unsigned long long>(reply->epoch()));
    return 0;
  }

  int ShardLs() const {
    auto s = FetchStatus();
    if (!s.ok()) return Fail(s.status());
    std::map<std::string, std::string> rpc_of;
    for (const auto& m : s->members()) rpc_of[m.member().node_uuid()] = m.member().rpc_address();
    std::vector<std::vector<std::string>> rows = {{"SHARD", "OWNER", "OWNER RPC"}};
    char name[32];
    for (int i = 0; i < s->shard_owner_size(); ++i) {
      std::snprintf(name, sizeof name, "shard_%03d", i + 1);
      const std::string& owner = s->shard_owner(i);
      rows.push_back({name, UuidText(owner), rpc_of.count(owner) ? rpc_of[owner] : "-"});
    }
    std::printf("shard map version %llu\n",
                static_cast<unsigned long long>(s->shard_map_version()));
    PrintTable(rows);
    return 0;
  }
};

ClusterCommands::ClusterCommands(CLI::App& app) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.start = app.add_subcommand("start", "Run a cluster node (node RPC, SQL and HTTP)");
  s.start->add_option("--data-dir", s.data_dir, "Data directory (created on first start)")
      ->required();
  s.start->add_option("--certs-dir", s.certs_dir, "This node's directory from cert create-node")
      ->required();
  s.start->add_option("--rpc-listen", s.rpc_listen, "Node RPC address HOST:PORT (mTLS)")
      ->capture_default_str();
  s.start->add_option("--sql-listen", s.sql_listen, "PostgreSQL protocol address HOST:PORT")
      ->capture_default_str();
  s.start->add_option("--http-listen", s.http_listen, "HTTP address for /metrics and /healthz")
      ->capture_default_str();
  s.start->add_option("--rpc-advertise", s.rpc_advertise,
                      "RPC address HOST:PORT other nodes dial (default: --rpc-listen with the "
                      "bound port; set it when listening on 0.0.0.0)");
  s.start->add_option("--join", s.join,
                      "RPC addresses HOST:PORT,... of cluster members to join through "
                      "(first start only; restarts rejoin by themselves)");
  s.start
      ->add_option("--group-commit", s.group_commit,
                   "One group-commit log for all shards (see docs/storage.md)")
      ->capture_default_str();

  s.cluster = app.add_subcommand("cluster", "Initialise and inspect a cluster");
  s.cluster->require_subcommand(1);
  s.init = s.cluster->add_subcommand(
      "init", "Create the cluster on one started node: cluster UUID and first epoch");
  s.AddAdminFlags(s.init);
  s.init->add_option("--shards", s.shards, "Fixed shard count of the cluster")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  s.status = s.cluster->add_subcommand(
      "status", "Members, roles, leader, epoch, shard map version and per-node health");
  s.AddAdminFlags(s.status);
  // Hidden (empty group): for fault-injection tests only.
  s.inject = s.cluster->add_subcommand("inject-fault", "Test only: propose an invalid entry");
  s.inject->group("");
  s.inject->add_option("--kind", s.fault_kind, "tampered_epoch_signature | malformed_entry")
      ->required();
  s.AddAdminFlags(s.inject);

  s.node = app.add_subcommand("node", "Cluster members");
  s.node->require_subcommand(1);
  s.node_ls = s.node->add_subcommand("ls", "List the members");
  s.AddAdminFlags(s.node_ls);
  s.node_remove = s.node->add_subcommand(
      "remove", "Remove a member gracefully (refused while it owns shards or is the Raft leader)");
  s.node_remove->add_option("node", s.remove_node, "The node's UUID (see node ls)")->required();
  s.AddAdminFlags(s.node_remove);

  s.shard = app.add_subcommand("shard", "The shard map");
  s.shard->require_subcommand(1);
  s.shard_ls = s.shard->add_subcommand("ls", "List shards and their owners");
  s.AddAdminFlags(s.shard_ls);
}

ClusterCommands::~ClusterCommands() = default;

bool ClusterCommands::parsed() const {
  return state_->start->parsed() || state_->cluster->parsed() || state_->node->parsed() ||
         state_->shard->parsed();
}

int ClusterCommands::Run() const {
  const State& s = *state_;
  if (s.start->parsed()) return s.Start();
  if (s.init->parsed()) return s.Init();
  if (s.status->parsed()) return s.ShowStatus();
  if (s.inject->parsed()) return s.InjectFault();
  if (s.node_ls->parsed()) return s.NodeLs();
  if (s.node_remove->parsed()) return s.NodeRemove();
  if (s.shard_ls->parsed()) return s.ShardLs();
  return 2;
}

}  // namespace sb::cli
