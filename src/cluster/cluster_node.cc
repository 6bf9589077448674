#include "cluster/cluster_node.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "meta/epoch.h"
#include "raft/raft.h"
#include "rpc/client.h"
#include "rpc/wire.h"

namespace sb::cluster {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kNotRunning = "55000";  // object_not_in_prerequisite_state
constexpr milliseconds kProposeTimeout{10000};
constexpr milliseconds kConfTimeout{10000};
constexpr milliseconds kPingTimeout{700};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <typename Pred>
bool WaitUntil(Pred pred, milliseconds limit, const std::atomic<bool>* stop = nullptr) {
  auto deadline = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() >= deadline || (stop && stop->load())) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

void ToProto(const meta::MemberInfo& m, rpc::MemberAddress* out) {
  out->set_node_uuid(rpc::UuidToBytes(m.node_uuid));
  out->set_raft_id(m.raft_id);
  out->set_rpc_address(m.rpc_address);
  out->set_sql_address(m.sql_address);
  out->set_http_address(m.http_address);
  out->set_signing_public_key(std::string(Ed25519PublicKeyBytes(m.signing_key)));
}

Result<meta::MemberInfo> FromProto(const rpc::MemberAddress& in) {
  meta::MemberInfo m;
  SB_ASSIGN_OR_RETURN(m.node_uuid, rpc::UuidFromBytes(in.node_uuid()));
  m.raft_id = in.raft_id();
  m.rpc_address = in.rpc_address();
  m.sql_address = in.sql_address();
  m.http_address = in.http_address();
  SB_ASSIGN_OR_RETURN(m.signing_key, Ed25519PublicKeyFromBytes(in.signing_public_key()));
  return m;
}

}  // namespace

uint64_t RaftIdFor(const Uuid& node) {
  uint64_t id = 0;
  for (size_t i = 8; i < 16; ++i) id = (id << 8) | node.bytes()[i];
  id &= ~(uint64_t{1} << 63);
  return id == 0 ? 1 : id;
}

// --- ClusterStateMachine ---------------------------------------------------

std::string ClusterStateMachine::EncodeRejection(const Status& reason) {
  return reason.code() + "\n" + reason.message();
}

Status ClusterStateMachine::DecodeResult(std::string_view result) {
  if (result.empty()) return Status::Ok();
  size_t nl = result.find('\n');
  if (nl == std::string_view::npos) return Status::Internal(std::string(result));
  return Status::Error(std::string(result.substr(0, nl)), std::string(result.substr(nl + 1)));
}

std::string ClusterStateMachine::Apply(uint64_t index, std::string_view command) {
  meta::ApplyResult result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    result = state_.Apply(index, command);
  }
  if (observer_) observer_(&result, command, state_);
  return result.rejected ? EncodeRejection(result.reason) : std::string();
}

std::string ClusterStateMachine::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_.Snapshot();
}

Status ClusterStateMachine::Restore(std::string_view snapshot) {
  SB_ASSIGN_OR_RETURN(meta::ClusterState restored, meta::ClusterState::Restore(snapshot));
  {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = std::move(restored);
  }
  if (observer_) observer_(nullptr, {}, state_);
  return Status::Ok();
}

// --- RPC handler -----------------------------------------------------------

class ClusterNode::Handler : public rpc::NodeTransportHandler {
 public:
  explicit Handler(ClusterNode* node) : node_(node) {}

  Status OnRaft(const Uuid& from, const std::vector<std::string>& messages) override {
    std::shared_ptr<RaftBatchReceiver> receiver;
    {
      std::lock_guard<std::mutex> lock(node_->mu_);
      receiver = node_->receiver_;
    }
    if (!receiver)
      return Status::Error(kNotRunning, "this node has not joined a Raft group yet",
                           "run `scratchbird cluster init` or start it with --join");
    return receiver->OnRaft(from, messages);
  }
  Result<uint64_t> OnPing(const Uuid&, uint64_t) override { return node_->applied_epoch(); }
  uint64_t AppliedSchemaVersion() const override {
    return node_->options_.applied_schema_version ? node_->options_.applied_schema_version() : 0;
  }
  Status OnExecuteSubplan(const Uuid&, const rpc::SubplanRequest& request,
                          rpc::RowBatchSink& sink) override {
    SB_ASSIGN_OR_RETURN(ShardService * service, Service());
    return service->ExecuteSubplan(request, sink);
  }
  Status OnShardTransaction(const Uuid&, rpc::ShardTxnStream& stream) override {
    SB_ASSIGN_OR_RETURN(ShardService * service, Service());
    return service->ShardTransaction(stream);
  }
  Result<ShardService*> Service() const {
    ShardService* service = node_->shard_service_.load();
    if (service == nullptr)
      return Status::Error(sqlstate::kStaleShardVersion,
                           "this node has not opened its shards yet (it is starting or not in an "
                           "initialised cluster)");
    return service;
  }
  Status OnRemoveNode(const Uuid& from, const rpc::RemoveRequest& request,
                      rpc::RemoveReply* reply) override {
    SB_ASSIGN_OR_RETURN(Uuid node, rpc::UuidFromBytes(request.node_uuid()));
    spdlog::info("removal of node {} requested by {}", node.ToString(), from.ToString());
    SB_ASSIGN_OR_RETURN(*reply, node_->HandleRemove(node));
    return Status::Ok();
  }
  Status OnInjectFault(const Uuid& from, const rpc::FaultRequest& request,
                       rpc::FaultReply* reply) override {
    spdlog::warn("fault injection '{}' requested by {}", request.kind(), from.ToString());
    SB_ASSIGN_OR_RETURN(std::string rejection, node_->InjectFault(request.kind()));
    reply->set_rejection(rejection);
    return Status::Ok();
  }
  Status OnInitCluster(const Uuid& from, const rpc::InitRequest& request,
                       rpc::InitReply* reply) override {
    spdlog::info("cluster init requested by {}", from.ToString());
    SB_ASSIGN_OR_RETURN(*reply, node_->Init(request.shards()));
    return Status::Ok();
  }
  Status OnJoin(const Uuid& from, const rpc::JoinRequest& request, rpc::JoinReply* reply) override {
    SB_ASSIGN_OR_RETURN(*reply, node_->HandleJoin(from, request));
    return Status::Ok();
  }
  Status OnClusterStatus(const Uuid&, const rpc::StatusRequest&, rpc::StatusReply* reply) override {
    SB_ASSIGN_OR_RETURN(*reply, node_->ClusterStatus());
    return Status::Ok();
  }

 private:
  ClusterNode* node_;
};

// --- ClusterNode -------------------------------------------------------------

Result<std::unique_ptr<ClusterNode>> ClusterNode::Start(ClusterNodeOptions options) {
  std::unique_ptr<ClusterNode> node(new ClusterNode());
  node->options_ = std::move(options);
  ClusterNodeOptions& o = node->options_;
  if (o.data_dir.empty() || o.certs_dir.empty())
    return Status::InvalidArgument("a cluster node needs --data-dir and --certs-dir");
  SB_ASSIGN_OR_RETURN(node->creds_, security::LoadNodeCredentials(o.certs_dir));
  SB_ASSIGN_OR_RETURN(Ed25519PrivateKey key,
                      Ed25519PrivateKey::FromPem(node->creds_.signing_key.private_pem));
  node->signing_key_.emplace(std::move(key));
  node->node_id_ = node->creds_.identity.node_id;
  node->raft_id_ = RaftIdFor(node->node_id_);

  std::error_code ec;
  fs::create_directories(o.data_dir, ec);
  if (ec)
    return Status::Error("58030",
                         "cannot create data directory " + o.data_dir + ": " + ec.message());
  // Read what a previous start left before deciding how to run Raft.
  bool raft_started = false;
  std::vector<std::string> stored_join;
  {
    std::ifstream in(fs::path(o.data_dir) / kClusterFile);
    if (in) {
      nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
      if (j.is_discarded() || !j.is_object())
        return Status::Error(sqlstate::kDataCorrupted,
                             std::string(kClusterFile) + " in " + o.data_dir + " is not JSON");
      if (j.value("node_uuid", "") != node->node_id_.ToString())
        return Status::Error(sqlstate::kDataCorrupted,
                             "data directory " + o.data_dir + " belongs to node " +
                                 j.value("node_uuid", "?") + ", not to " +
                                 node->node_id_.ToString(),
                             "start each node with its own --data-dir and --certs-dir");
      raft_started = j.value("raft_started", false);
      if (j.contains("join") && j["join"].is_array())
        for (const auto& a : j["join"])
          if (a.is_string()) stored_join.push_back(a.get<std::string>());
    }
  }
  if (o.join.empty()) o.join = stored_join;

  if (o.registry == nullptr) {
    node->own_registry_ = std::make_unique<observability::Registry>();
    o.registry = node->own_registry_.get();
  }
  node->registry_ = o.registry;
  rpc::DeclareRpcMetrics(*node->registry_);
  node->registry_->DeclareCounter(
      kRejectedClusterEntriesMetric,
      "Committed cluster state entries applied as rejected no-ops (alert on any increase).");

  ClusterNode* self = node.get();
  node->machine_ = std::make_unique<ClusterStateMachine>(
      [self](const meta::ApplyResult* r, std::string_view command,
             const meta::ClusterState& state) { self->OnApplied(r, command, state); });

  rpc::PeerAuthOptions ao;
  ao.ca_cert_pem = node->creds_.tls.ca_cert_pem;
  ao.registry = node->registry_;
  // Before this node has applied InitCluster it has no configuration to
  // check against, so any node of the cluster's CA may talk to it.
  ao.is_member = [self](const Uuid& peer) {
    return self->machine_->Read([&](const meta::ClusterState& s) {
      if (!s.initialized()) return true;
      const meta::Member* m = s.FindMember(peer);
      return m != nullptr && m->state != meta::MemberState::kRemoved;
    });
  };
  node->auth_ = std::make_shared<rpc::PeerAuthenticator>(std::move(ao));

  GrpcRaftTransportOptions to;
  to.identity = node->creds_.tls;
  to.auth = node->auth_;
  node->transport_ = std::make_unique<GrpcRaftTransport>(to, std::map<raft::NodeId, RaftPeer>{});
  node->handler_ = std::make_unique<Handler>(self);

  rpc::RpcServerOptions so;
  so.listen_address = o.rpc_listen;
  so.identity = node->creds_.tls;
  so.auth = node->auth_;
  so.handler = node->handler_.get();
  so.open_to_non_members = {"InitCluster", "Join", "ClusterStatus"};
  SB_ASSIGN_OR_RETURN(node->server_, rpc::RpcServer::Start(std::move(so)));
  if (!o.rpc_advertise.empty()) {
    node->rpc_address_ = o.rpc_advertise;
  } else {
    std::string host = o.rpc_listen.substr(0, o.rpc_listen.rfind(':'));
    node->rpc_address_ = host + ":" + std::to_string(node->server_->port());
  }

  if (raft_started || !o.join.empty()) {
    SB_RETURN_IF_ERROR(node->SaveClusterFile(true));
    SB_RETURN_IF_ERROR(node->StartHost(false));
    node->join_thread_ = std::thread([self] { self->JoinLoop(); });
  }
  spdlog::info("cluster node {} (raft id {}) listening for nodes on {}", node->node_id_.ToString(),
               node->raft_id_, node->rpc_address_);
  return node;
}

ClusterNode::~ClusterNode() {
  Stop();
}

void ClusterNode::Stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  join_wait_cv_.notify_all();
  if (join_thread_.joinable()) join_thread_.join();
  if (server_) server_->Stop(milliseconds(200));
  std::shared_ptr<RaftHost> host;
  {
    std::lock_guard<std::mutex> lock(mu_);
    host = host_;
    receiver_.reset();
  }
  if (host) host->Stop();
  if (transport_) transport_->Stop();
}

int ClusterNode::rpc_port() const {
  return server_ ? server_->port() : 0;
}

Status ClusterNode::SaveClusterFile(bool raft_started) const {
  nlohmann::json j;
  j["node_uuid"] = node_id_.ToString();
  j["cluster_uuid"] = creds_.identity.cluster_id.ToString();
  j["raft_id"] = raft_id_;
  j["raft_started"] = raft_started;
  j["join"] = options_.join;
  fs::path dir(options_.data_dir);
  fs::path tmp = dir / (std::string(kClusterFile) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.flush();
    if (!out) return Status::Error("58030", "cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, dir / kClusterFile, ec);
  if (ec) return Status::Error("58030", "cannot write " + (dir / kClusterFile).string());
  return Status::Ok();
}

Status ClusterNode::StartHost(bool fresh) {
  RaftHostOptions ho;
  ho.id = raft_id_;
  ho.dir = (fs::path(options_.data_dir) / "raft").string();
  ho.fresh = fresh;
  if (fresh) ho.initial_voters = {raft_id_};
  ho.tick_interval = options_.tick_interval;
  auto host = std::make_shared<RaftHost>(ho, machine_.get(), transport_.get());
  SB_RETURN_IF_ERROR(host->Start());
  auto receiver = std::make_shared<RaftBatchReceiver>(host.get(), transport_.get());
  std::lock_guard<std::mutex> lock(mu_);
  host_ = std::move(host);
  receiver_ = std::move(receiver);
  return Status::Ok();
}

std::shared_ptr<RaftHost> ClusterNode::host() const {
  std::lock_guard<std::mutex> lock(mu_);
  return host_;
}

void ClusterNode::OnApplied(const meta::ApplyResult* result, std::string_view command,
                            const meta::ClusterState& state) {
  if (options_.on_applied) options_.on_applied(result, command, state);
  if (result && result->rejected) {
    rejected_.fetch_add(1);
    registry_->Increment(kRejectedClusterEntriesMetric);
    spdlog::error("cluster state entry rejected ({}): {} [{}]",
                  result->type ? meta::CommandTypeName(*result->type) : "undecodable",
                  result->reason.message(), result->reason.code());
  }
  RefreshPeers();
}

void ClusterNode::RefreshPeers() {
  std::lock_guard<std::mutex> serial(peers_mu_);
  std::map<raft::NodeId, RaftPeer> peers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    peers = seed_peers_;
  }
  machine_->Read([&](const meta::ClusterState& s) {
    for (const meta::Member& m : s.Members()) {
      if (m.state == meta::MemberState::kRemoved) {
        peers.erase(m.info.raft_id);
        continue;
      }
      peers[m.info.raft_id] = RaftPeer{m.info.rpc_address, m.info.node_uuid};
    }
    return 0;
  });
  peers.erase(raft_id_);
  transport_->SetPeers(std::move(peers));
}

meta::MemberInfo ClusterNode::SelfInfo() const {
  meta::MemberInfo m;
  m.node_uuid = node_id_;
  m.raft_id = raft_id_;
  m.rpc_address = rpc_address_;
  m.sql_address = options_.sql_address;
  m.http_address = options_.http_address;
  m.signing_key = signing_key_->public_key();
  return m;
}

bool ClusterNode::IsVoter() const {
  return machine_->Read([&](const meta::ClusterState& s) {
    const meta::Member* m = s.FindMember(node_id_);
    return m != nullptr && m->role == meta::MemberRole::kVoter;
  });
}

uint64_t ClusterNode::applied_epoch() const {
  return machine_->Read([](const meta::ClusterState& s) { return uint64_t{s.Epochs().size()}; });
}

Status ClusterNode::ProposeCommand(meta::Command command, std::string description) {
  std::lock_guard<std::mutex> lock(propose_mu_);
  std::shared_ptr<RaftHost> h = host();
  if (!h) return Status::Error(kNotRunning, "this node runs no Raft group");
  Status last;
  for (int attempt = 0; attempt < 4; ++attempt) {
    // A new leader may not have applied everything committed yet; an entry
    // built on older state would be refused for its epoch number.
    WaitUntil([&] { return h->applied() >= h->commit(); }, milliseconds(2000), &stopping_);
    auto entry = machine_->Read([&](const meta::ClusterState& s) {
      return meta::BuildSignedEntry(s, command, node_id_, *signing_key_, NowNs(), description);
    });
    if (!entry.ok()) return entry.status();
    auto result = h->Propose(std::move(*entry), kProposeTimeout);
    if (!result.ok()) return result.status();
    last = ClusterStateMachine::DecodeResult(*result);
    if (last.ok()) return last;
    // Another entry raced ours (an epoch gap); rebuild on the newer state.
    spdlog::warn("proposal '{}' rejected, retrying: {}", description, last.message());
  }
  return last;
}

Status ClusterNode::ProposeCatalog(const meta::CatalogDdl& ddl, std::chrono::milliseconds timeout) {
  std::shared_ptr<RaftHost> h = host();
  if (!h)
    return Status::Error(meta::cluster_sqlstate::kNotInitialized,
                         "this node is not in an initialised cluster",
                         "run `scratchbird cluster init` on one node");
  meta::ClusterEntry entry{ddl, {}};
  SB_ASSIGN_OR_RETURN(std::string result, h->Propose(meta::EncodeClusterEntry(entry), timeout));
  return ClusterStateMachine::DecodeResult(result);
}

std::vector<Uuid> ClusterNode::WaitForSchemaEverywhere(uint64_t version,
                                                       std::chrono::milliseconds timeout) {
  struct Peer {
    Uuid id;
    std::string address;
  };
  std::vector<Peer> peers = machine_->Read([&](const meta::ClusterState& s) {
    std::vector<Peer> out;
    for (const meta::Member& m : s.Members())
      if (m.state != meta::MemberState::kRemoved && m.info.node_uuid != node_id_)
        out.push_back({m.info.node_uuid, m.info.rpc_address});
    return out;
  });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::future<bool>> done;
  for (const Peer& p : peers) {
    done.push_back(std::async(std::launch::async, [this, p, version, deadline] {
      auto client = Dial(p.address, p.id);
      if (!client.ok()) return true;
      while (!stopping_ && std::chrono::steady_clock::now() < deadline) {
        auto pong = (*client)->Ping(applied_epoch(), kPingTimeout);
        if (!pong.ok()) return true;  // unreachable: it catches up when it returns
        if (pong->schema_version >= version) return true;
        std::this_thread::sleep_for(milliseconds(2));
      }
      return false;
    }));
  }
  std::vector<Uuid> behind;
  for (size_t i = 0; i < peers.size(); ++i)
    if (!done[i].get()) behind.push_back(peers[i].id);
  return behind;
}

Result<rpc::InitReply> ClusterNode::Init(uint32_t shards) {
  std::lock_guard<std::mutex> lock(init_mu_);
  if (stopping_) return Status::Error(sqlstate::kAdminShutdown, "node is stopping");
  if (machine_->Read([](const meta::ClusterState& s) { return s.initialized(); }))
    return Status::Error(meta::cluster_sqlstate::kAlreadyInitialized,
                         "CLUSTER_ALREADY_INITIALIZED: this node already belongs to cluster " +
                             creds_.identity.cluster_id.ToString());
  std::shared_ptr<RaftHost> h = host();
  if (h) {
    // Only a group this node bootstrapped alone may still be initialised (a
    // retry after an init that failed half-way); a joining node may not.
    raft::ConfState conf = h->conf();
    if (!(conf.voters.size() == 1 && conf.voters[0] == raft_id_) || !conf.learners.empty())
      return Status::Error(meta::cluster_sqlstate::kAlreadyInitialized,
                           "CLUSTER_ALREADY_INITIALIZED: this node is joining a cluster",
                           "run cluster init on a node started without --join");
  } else {
    SB_RETURN_IF_ERROR(SaveClusterFile(true));
    SB_RETURN_IF_ERROR(StartHost(true));
    h = host();
  }
  if (!WaitUntil([&] { return h->leader() == raft_id_; }, milliseconds(10000), &stopping_))
    return Status::Error(raft::kNotLeaderCode, "the new one-node Raft group elected no leader");

  meta::InitCluster init;
  init.cluster_uuid = creds_.identity.cluster_id;
  init.shard_count = shards == 0 ? kDefaultShards : shards;
  init.members = {SelfInfo()};
  SB_RETURN_IF_ERROR(ProposeCommand(init, "cluster init"));
  rpc::InitReply reply;
  reply.set_cluster_uuid(rpc::UuidToBytes(init.cluster_uuid));
  reply.set_epoch(applied_epoch());
  spdlog::info("cluster {} initialised: {} shards, epoch {}", init.cluster_uuid.ToString(),
               init.shard_count, reply.epoch());
  return reply;
}

Result<std::unique_ptr<rpc::PeerClient>> ClusterNode::Dial(const std::string& address,
                                                           std::optional<Uuid> expected) const {
  rpc::PeerClientOptions po;
  po.address = address;
  po.expected_node = expected;
  po.identity = creds_.tls;
  po.auth = auth_;
  return rpc::PeerClient::Create(std::move(po));
}

std::optional<std::string> ClusterNode::LeaderAddress() const {
  std::shared_ptr<RaftHost> h = host();
  if (!h || h->leader() == raft::kNone) return std::nullopt;
  raft::NodeId leader = h->leader();
  return machine_->Read([&](const meta::ClusterState& s) -> std::optional<std::string> {
    for (const meta::Member& m : s.Members())
      if (m.info.raft_id == leader) return m.info.rpc_address;
    return std::nullopt;
  });
}

Result<std::string> ClusterNode::InjectFault(const std::string& kind) {
  const char* enabled = std::getenv("SB_FAULT_INJECTION");
  if (enabled == nullptr || std::string(enabled) != "1")
    return Status::NotSupported("fault injection is disabled on this node",
                                "it is for tests: start the node with SB_FAULT_INJECTION=1");
  std::shared_ptr<RaftHost> h = host();
  if (!h) return Status::Error(kNotRunning, "this node runs no Raft group");
  std::string entry;
  if (kind == "malformed_entry") {
    entry = "\x07not a cluster entry";
  } else if (kind == "tampered_epoch_signature") {
    // A policy epoch exactly as the leader would sign it, then one byte of
    // the signature (the entry's last bytes) flipped in transit.
    std::lock_guard<std::mutex> lock(propose_mu_);
    auto built = machine_->Read([&](const meta::ClusterState& s) -> Result<std::string> {
      const meta::ClusterConfigEpoch* current = s.epoch_chain().Current();
      if (current == nullptr) return Status::Error(kNotRunning, "no epoch yet");
      meta::PublishEpoch publish;
      publish.policies = {current->ca_policy_hash,          current->security_bundle_hash,
                          current->replication_policy_hash, current->backup_policy_hash,
                          current->scheduler_policy_hash,   current->capability_matrix_hash};
      publish.min_node_version = current->min_node_version;
      return meta::BuildSignedEntry(s, publish, node_id_, *signing_key_, NowNs(),
                                    "fault injection: tampered signature");
    });
    if (!built.ok()) return built.status();
    entry = std::move(*built);
    entry.back() = static_cast<char>(entry.back() ^ 0x01);
  } else {
    return Status::InvalidArgument("unknown fault kind '" + kind + "'",
                                   "kinds: tampered_epoch_signature, malformed_entry");
  }
  SB_ASSIGN_OR_RETURN(std::string result, h->Propose(std::move(entry), kProposeTimeout));
  Status outcome = ClusterStateMachine::DecodeResult(result);
  if (outcome.ok()) return Status::Internal("the injected entry was not rejected");
  return outcome.code() + " " + outcome.message();
}

Result<rpc::RemoveReply> ClusterNode::HandleRemove(const Uuid& node) {
  std::shared_ptr<RaftHost> h = host();
  bool initialized = machine_->Read([](const meta::ClusterState& s) { return s.initialized(); });
  if (!h || !initialized)
    return Status::Error(meta::cluster_sqlstate::kNotInitialized,
                         "CLUSTER_NOT_INITIALIZED: this node is not in an initialised cluster");
  if (h->leader() != raft_id_) {
    auto leader = LeaderAddress();
    return Status::Error(raft::kNotLeaderCode, "this node is not the Raft leader",
                         leader ? "send the removal to the leader at " + *leader
                                : std::string("no leader known; retry"));
  }
  std::lock_guard<std::mutex> lock(join_mu_);
  auto member = machine_->Read([&](const meta::ClusterState& s) -> std::optional<meta::Member> {
    const meta::Member* m = s.FindMember(node);
    return m ? std::optional<meta::Member>(*m) : std::nullopt;
  });
  if (!member)
    return Status::Error(meta::cluster_sqlstate::kMembershipRefused,
                         "MEMBERSHIP_REFUSED: node " + node.ToString() + " is not a member",
                         "see `scratchbird node ls`");
  if (member->info.raft_id == raft_id_)
    return Status::Error(meta::cluster_sqlstate::kMembershipRefused,
                         "MEMBERSHIP_REFUSED: node " + node.ToString() + " is the Raft leader",
                         "stop it first (another node takes over as leader), then remove it "
                         "through any other node");
  if (member->state != meta::MemberState::kRemoved) {
    SB_RETURN_IF_ERROR(ProposeCommand(meta::RemoveMember{node}, "remove " + node.ToString()));
    spdlog::info("node {} removed from the membership", node.ToString());
  }
  // The membership first: it refuses a node that still owns shards, and the
  // Raft configuration must not lose a voter the membership keeps.
  if (h->conf().Contains(member->info.raft_id))
    SB_RETURN_IF_ERROR(h->RemoveNode(member->info.raft_id, kConfTimeout));
  RefreshPeers();
  rpc::RemoveReply reply;
  reply.set_epoch(applied_epoch());
  return reply;
}

Result<rpc::JoinReply> ClusterNode::HandleJoin(const Uuid& from, const rpc::JoinRequest& request) {
  SB_ASSIGN_OR_RETURN(meta::MemberInfo info, FromProto(request.member()));
  if (info.node_uuid != from)
    return Status::Error("28000", "a node can only join as itself (" + from.ToString() + ")");
  if (info.raft_id != RaftIdFor(from))
    return Status::Error(meta::cluster_sqlstate::kMembershipRefused,
                         "MEMBERSHIP_REFUSED: raft id " + std::to_string(info.raft_id) +
                             " is not the one derived from node " + from.ToString());
  std::shared_ptr<RaftHost> h = host();
  bool initialized = machine_->Read([](const meta::ClusterState& s) { return s.initialized(); });
  if (!h || !initialized)
    return Status::Error(meta::cluster_sqlstate::kNotInitialized,
                         "CLUSTER_NOT_INITIALIZED: this node is not in an initialised cluster",
                         "run `scratchbird cluster init` on one node first");
  if (h->leader() != raft_id_) {
    auto leader = LeaderAddress();
    return Status::Error(
        raft::kNotLeaderCode, "this node is not the Raft leader",
        leader ? "join through the leader at " + *leader : std::string("no leader known; retry"));
  }

  std::lock_guard<std::mutex> lock(join_mu_);
  auto find = [&] {
    return machine_->Read([&](const meta::ClusterState& s) -> std::optional<meta::Member> {
      const meta::Member* m = s.FindMember(from);
      return m ? std::optional<meta::Member>(*m) : std::nullopt;
    });
  };
  std::optional<meta::Member> member = find();
  if (!member) {
    spdlog::info("node {} (raft id {}) at {} joins as a learner", from.ToString(), info.raft_id,
                 info.rpc_address);
    SB_RETURN_IF_ERROR(ProposeCommand(meta::AddLearner{info}, "add learner " + from.ToString()));
    member = find();
    if (!member) return Status::Internal("the added learner is missing from the membership");
  } else if (member->info != info) {
    return Status::Error(meta::cluster_sqlstate::kMembershipRefused,
                         "MEMBERSHIP_REFUSED: node " + from.ToString() +
                             " is already a member with other addresses or another key",
                         "start it with the addresses it joined with");
  }
  if (member->state == meta::MemberState::kRemoved)
    return Status::Error(meta::cluster_sqlstate::kMembershipRefused,
                         "MEMBERSHIP_REFUSED: node " + from.ToString() + " was removed");

  raft::ConfState conf = h->conf();
  if (!conf.Contains(info.raft_id)) SB_RETURN_IF_ERROR(h->AddLearner(info.raft_id, kConfTimeout));
  if (member->role == meta::MemberRole::kLearner) {
    // Caught up = it applied the epoch that made it a learner (or newer).
    uint64_t ours = applied_epoch();
    uint64_t theirs = 0;
    if (auto client = Dial(info.rpc_address, from); client.ok()) {
      if (auto pong = (*client)->Ping(ours, kPingTimeout); pong.ok()) theirs = pong->epoch;
    }
    if (theirs >= ours) {
      if (!h->conf().IsVoter(info.raft_id))
        SB_RETURN_IF_ERROR(h->PromoteVoter(info.raft_id, kConfTimeout));
      SB_RETURN_IF_ERROR(
          ProposeCommand(meta::PromoteVoter{from}, "promote voter " + from.ToString()));
      spdlog::info("node {} promoted to voter", from.ToString());
      member = find();
    }
  } else if (!h->conf().IsVoter(info.raft_id)) {
    // The membership says voter but Raft did not get there (a leader change
    // between the two steps): finish the Raft side.
    SB_RETURN_IF_ERROR(h->PromoteVoter(info.raft_id, kConfTimeout));
  }

  rpc::JoinReply reply;
  reply.set_leader_raft_id(raft_id_);
  reply.set_voter(member && member->role == meta::MemberRole::kVoter);
  machine_->Read([&](const meta::ClusterState& s) {
    reply.set_cluster_uuid(rpc::UuidToBytes(s.cluster_uuid()));
    for (const meta::Member& m : s.Members())
      if (m.state != meta::MemberState::kRemoved) ToProto(m.info, reply.add_members());
    return 0;
  });
  return reply;
}

void ClusterNode::JoinLoop() {
  bool announced = false;
  while (!stopping_) {
    if (IsVoter()) {
      if (announced) spdlog::info("joined the cluster as a voter");
      return;
    }
    Status st = TryJoinOnce();
    if (!st.ok() && !announced) {
      spdlog::info("joining the cluster: {}", st.message());
      announced = true;
    }
    std::unique_lock<std::mutex> lock(join_wait_mu_);
    join_wait_cv_.wait_for(lock, options_.join_retry, [&] { return stopping_.load(); });
  }
}

Status ClusterNode::TryJoinOnce() {
  std::vector<std::string> candidates = options_.join;
  machine_->Read([&](const meta::ClusterState& s) {
    for (const meta::Member& m : s.Members())
      if (m.info.node_uuid != node_id_ && m.state != meta::MemberState::kRemoved)
        candidates.push_back(m.info.rpc_address);
    return 0;
  });
  Status last = Status::Error(kNotRunning, "no node to join through", "pass --join HOST:PORT");
  for (const std::string& address : candidates) {
    if (stopping_) break;
    if (address == rpc_address_) continue;
    auto client = Dial(address, std::nullopt);
    if (!client.ok()) {
      last = client.status();
      continue;
    }
    auto status = (*client)->ClusterStatus(milliseconds(2000));
    if (!status.ok()) {
      last = status.status();
      continue;
    }
    if (!status->initialized()) {
      last = Status::Error(meta::cluster_sqlstate::kNotInitialized,
                           "the node at " + address + " is not initialised yet");
      continue;
    }
    std::optional<rpc::MemberAddress> leader;
    for (const auto& ms : status->members())
      if (ms.member().raft_id() == status->leader_raft_id()) leader = ms.member();
    if (!leader) {
      last = Status::Error(raft::kNotLeaderCode, "the node at " + address + " knows no leader");
      continue;
    }
    auto leader_uuid = rpc::UuidFromBytes(leader->node_uuid());
    if (!leader_uuid.ok()) continue;
    auto lc = Dial(leader->rpc_address(), *leader_uuid);
    if (!lc.ok()) {
      last = lc.status();
      continue;
    }
    rpc::JoinRequest req;
    ToProto(SelfInfo(), req.mutable_member());
    auto reply = (*lc)->Join(req, milliseconds(15000));
    if (!reply.ok()) {
      last = reply.status();
      continue;
    }
    // Answer the leader's Raft traffic before our own state names it.
    std::map<raft::NodeId, RaftPeer> seeds;
    for (const auto& m : reply->members()) {
      auto id = rpc::UuidFromBytes(m.node_uuid());
      if (id.ok() && m.raft_id() != raft_id_) seeds[m.raft_id()] = RaftPeer{m.rpc_address(), *id};
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      seed_peers_ = std::move(seeds);
    }
    RefreshPeers();
    if (reply->voter()) return Status::Ok();
    return Status::Error(kNotRunning, "added as a learner; catching up before promotion");
  }
  return last;
}

Result<rpc::StatusReply> ClusterNode::ClusterStatus() {
  rpc::StatusReply reply;
  reply.set_reporter(rpc::UuidToBytes(node_id_));
  std::shared_ptr<RaftHost> h = host();
  if (h) {
    reply.set_leader_raft_id(h->leader());
    reply.set_term(h->term());
    reply.set_commit_index(h->commit());
    reply.set_applied_index(h->applied());
  }
  reply.set_rejected_entries(rejected_.load());
  std::vector<meta::Member> members;
  machine_->Read([&](const meta::ClusterState& s) {
    reply.set_initialized(s.initialized());
    if (s.initialized()) reply.set_cluster_uuid(rpc::UuidToBytes(s.cluster_uuid()));
    reply.set_epoch(s.Epochs().size());
    if (!s.Epochs().empty()) {
      const Sha256Digest& hash = s.epoch_chain().current_hash();
      reply.set_epoch_hash(std::string(reinterpret_cast<const char*>(hash.data()), hash.size()));
    }
    reply.set_shard_map_version(s.ShardMapVersion());
    for (uint32_t i = 0; i < s.ShardCount(); ++i)
      reply.add_shard_owner(rpc::UuidToBytes(s.ShardOwner(i).value_or(Uuid())));
    members = s.Members();
    for (const meta::Member& m : members) {
      rpc::MemberStatus* ms = reply.add_members();
      ToProto(m.info, ms->mutable_member());
      ms->set_role(meta::MemberRoleName(m.role));
      ms->set_state(meta::MemberStateName(m.state));
      ms->set_shards_owned(static_cast<uint32_t>(s.ShardsOf(m.info.node_uuid).size()));
    }
    return 0;
  });
  // Health: ping every other member at once, so one dead node costs one
  // ping timeout, not one per node.
  uint64_t ours = reply.epoch();
  std::vector<std::future<std::pair<bool, uint64_t>>> pings;
  for (const meta::Member& m : members) {
    if (m.info.node_uuid == node_id_ || m.state == meta::MemberState::kRemoved) {
      bool self = m.info.node_uuid == node_id_;
      pings.push_back(std::async(std::launch::deferred, [self, ours] {
        return std::make_pair(self, self ? ours : uint64_t{0});
      }));
      continue;
    }
    pings.push_back(std::async(std::launch::async, [this, m, ours] {
      auto client = Dial(m.info.rpc_address, m.info.node_uuid);
      if (!client.ok()) return std::make_pair(false, uint64_t{0});
      auto pong = (*client)->Ping(ours, kPingTimeout);
      if (!pong.ok()) return std::make_pair(false, uint64_t{0});
      return std::make_pair(true, pong->epoch);
    }));
  }
  for (size_t i = 0; i < pings.size(); ++i) {
    auto [reachable, epoch] = pings[i].get();
    reply.mutable_members(static_cast<int>(i))->set_reachable(reachable);
    reply.mutable_members(static_cast<int>(i))->set_epoch(epoch);
  }
  return reply;
}

}  // namespace sb::cluster
