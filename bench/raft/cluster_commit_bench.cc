// Cluster-state commits per second and their latency on a 3-member group, for
// ScratchBird's Raft (three RaftHosts over the mTLS gRPC node transport, real
// fsync) or for a running 3-member etcd cluster (its HTTP/JSON gateway).
// bench/cluster_commit.sh runs both side by side.
//
// Every proposer sends its calls to the three members in turn, in both modes:
// a proposal made on a follower travels to the leader (forwarded by Raft
// here, by etcd's own forwarding there), and each call returns once the member
// it was sent to has the commit. Not a test; see bench/README.md.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/grpc_transport.h"
#include "cluster/raft_host.h"
#include "cluster/state_machine.h"
#include "common/uuid.h"
#include "rpc/client.h"
#include "rpc/peer_auth.h"
#include "rpc/server.h"
#include "security/certificates.h"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Options {
  std::string mode;  // scratchbird | etcd
  int proposers = 1;
  int seconds = 10;
  long max_ops = 200000;
  std::string dir = "/tmp/sb_cluster_commit_bench";
  std::vector<std::string> endpoints;  // etcd: host:port of each member's client URL
};

struct Outcome {
  long ops = 0;
  long errors = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
};

void Report(const Options& o, const Outcome& out) {
  std::vector<double> l = out.latencies_ms;
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) {
    if (l.empty()) return 0.0;
    return l[std::min(l.size() - 1, static_cast<size_t>(p * static_cast<double>(l.size())))];
  };
  std::printf(
      "mode=%s proposers=%d ops=%ld errors=%ld seconds=%.2f ops_per_sec=%.1f p50_ms=%.3f "
      "p99_ms=%.3f\n",
      o.mode.c_str(), o.proposers, out.ops, out.errors, out.seconds,
      static_cast<double>(out.ops) / out.seconds, pct(0.50), pct(0.99));
}

// Runs `call(proposer, seq)` from o.proposers threads until the time or the
// operation budget is used up.
template <typename Call>
Outcome Drive(const Options& o, Call call) {
  std::atomic<long> budget{o.max_ops};
  std::mutex mu;
  Outcome out;
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(o.seconds);
  std::vector<std::thread> threads;
  for (int p = 0; p < o.proposers; ++p) {
    threads.emplace_back([&, p] {
      std::vector<double> mine;
      long errors = 0;
      for (long seq = 0; Clock::now() < end && budget.fetch_sub(1) > 0; ++seq) {
        const auto t0 = Clock::now();
        if (call(p, seq)) {
          mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        } else {
          ++errors;
        }
      }
      std::lock_guard<std::mutex> l(mu);
      out.ops += static_cast<long>(mine.size());
      out.errors += errors;
      out.latencies_ms.insert(out.latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

// Which of the three members (0..2) a proposer sends its seq-th call to: each
// proposer goes round the members, so the leader and the followers serve the
// same share of calls in both modes, wherever the leader happens to be.
int MemberFor(int proposer, long seq) {
  return static_cast<int>((proposer + seq) % 3);
}

// ---- etcd -------------------------------------------------------------------

std::string Base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

int RunEtcd(const Options& o) {
  if (o.endpoints.size() != 3) {
    std::fprintf(stderr, "etcd mode needs --endpoints h:p,h:p,h:p\n");
    return 2;
  }
  // Per proposer, a kept-alive connection to each member.
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int p = 0; p < o.proposers; ++p) {
    for (const std::string& ep : o.endpoints) {
      auto c = std::make_unique<httplib::Client>("http://" + ep);
      c->set_keep_alive(true);
      // Headers and body go out in separate writes; without TCP_NODELAY the
      // second waits for the delayed ACK of the first (about 40 ms).
      c->set_tcp_nodelay(true);
      c->set_read_timeout(5, 0);
      clients.push_back(std::move(c));
    }
  }
  const std::string value = Base64("v");
  Outcome out = Drive(o, [&](int p, long seq) {
    const std::string key = Base64("k" + std::to_string(p) + "-" + std::to_string(seq % 1000));
    auto res = clients[static_cast<size_t>(p) * 3 + static_cast<size_t>(MemberFor(p, seq))]->Post(
        "/v3/kv/put", "{\"key\":\"" + key + "\",\"value\":\"" + value + "\"}", "application/json");
    return res && res->status == 200;
  });
  Report(o, out);
  return out.ops > 0 ? 0 : 1;
}

// ---- ScratchBird ------------------------------------------------------------

// The smallest state machine: counts applied commands (the cost under test is
// agreeing on them, not applying them).
class Counter : public sb::cluster::ReplicatedStateMachine {
 public:
  std::string Apply(uint64_t, std::string_view) override {
    ++applied_;
    return {};
  }
  std::string Snapshot() const override { return std::to_string(applied_.load()); }
  sb::Status Restore(std::string_view s) override {
    applied_ = std::atoll(std::string(s).c_str());
    return sb::Status::Ok();
  }

 private:
  std::atomic<long long> applied_{0};
};

class RaftOnlyHandler : public sb::rpc::NodeTransportHandler {
 public:
  void Set(sb::cluster::RaftBatchReceiver* r) {
    std::lock_guard<std::mutex> l(mu_);
    receiver_ = r;
  }
  sb::Status OnRaft(const sb::Uuid& from, const std::vector<std::string>& messages) override {
    std::lock_guard<std::mutex> l(mu_);
    if (receiver_ == nullptr) return sb::Status(sb::sqlstate::kAdminShutdown, "not running");
    return receiver_->OnRaft(from, messages);
  }
  sb::Result<uint64_t> OnPing(const sb::Uuid&, uint64_t) override { return uint64_t{0}; }
  sb::Status OnExecuteSubplan(const sb::Uuid&, const sb::rpc::SubplanRequest&,
                              sb::rpc::RowBatchSink&) override {
    return sb::Status(sb::sqlstate::kFeatureNotSupported, "not in this benchmark");
  }

 private:
  std::mutex mu_;
  sb::cluster::RaftBatchReceiver* receiver_ = nullptr;
};

struct Member {
  sb::Uuid uuid;
  sb::security::TlsIdentity identity;
  std::shared_ptr<sb::rpc::PeerAuthenticator> auth;
  RaftOnlyHandler handler;
  std::unique_ptr<sb::rpc::RpcServer> server;
  std::unique_ptr<sb::cluster::GrpcRaftTransport> transport;
  Counter machine;
  std::unique_ptr<sb::cluster::RaftHost> host;
  std::unique_ptr<sb::cluster::RaftBatchReceiver> receiver;
};

int RunScratchBird(const Options& o) {
  namespace fs = std::filesystem;
  using sb::security::Validity;
  std::error_code ec;
  fs::remove_all(o.dir, ec);
  fs::create_directories(o.dir);
  const auto now = std::chrono::system_clock::now();
  auto ca = sb::security::CreateCertificateAuthority(
      *sb::Uuid::GenerateV7(), Validity::Starting(now, sb::security::kCaLifetime));
  if (!ca.ok()) {
    std::fprintf(stderr, "CA: %s\n", ca.status().ToString().c_str());
    return 1;
  }
  std::map<uint64_t, std::unique_ptr<Member>> members;
  std::map<uint64_t, sb::cluster::RaftPeer> peers;
  for (uint64_t id = 1; id <= 3; ++id) {
    auto m = std::make_unique<Member>();
    m->uuid = *sb::Uuid::GenerateV7();
    auto cert = sb::security::IssueNodeCertificate(
        *ca, m->uuid, {"127.0.0.1"}, Validity::Starting(now, sb::security::kNodeLifetime));
    if (!cert.ok()) return 1;
    m->identity = sb::security::TlsIdentity{ca->cert_pem, cert->cert_pem, cert->key_pem};
    sb::rpc::PeerAuthOptions ao;
    ao.ca_cert_pem = ca->cert_pem;
    m->auth = std::make_shared<sb::rpc::PeerAuthenticator>(std::move(ao));
    sb::rpc::RpcServerOptions so;
    so.listen_address = "127.0.0.1:0";
    so.identity = m->identity;
    so.auth = m->auth;
    so.handler = &m->handler;
    auto server = sb::rpc::RpcServer::Start(std::move(so));
    if (!server.ok()) {
      std::fprintf(stderr, "server: %s\n", server.status().ToString().c_str());
      return 1;
    }
    m->server = std::move(*server);
    peers[id] = sb::cluster::RaftPeer{"127.0.0.1:" + std::to_string(m->server->port()), m->uuid};
    members[id] = std::move(m);
  }
  for (auto& [id, m] : members) {
    auto others = peers;
    others.erase(id);
    sb::cluster::GrpcRaftTransportOptions to;
    to.identity = m->identity;
    to.auth = m->auth;
    m->transport = std::make_unique<sb::cluster::GrpcRaftTransport>(to, others);
    sb::cluster::RaftHostOptions ho;
    ho.id = id;
    ho.dir = o.dir + "/node" + std::to_string(id);
    ho.fresh = true;
    ho.initial_voters = {1, 2, 3};
    ho.storage.sync = true;  // real fdatasync, as etcd's WAL
    m->host = std::make_unique<sb::cluster::RaftHost>(ho, &m->machine, m->transport.get());
    m->receiver =
        std::make_unique<sb::cluster::RaftBatchReceiver>(m->host.get(), m->transport.get());
    m->handler.Set(m->receiver.get());
  }
  for (auto& [id, m] : members) {
    if (sb::Status st = m->host->Start(); !st.ok()) {
      std::fprintf(stderr, "start: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (members[1]->host->leader() == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  if (members[1]->host->leader() == 0) {
    std::fprintf(stderr, "no leader within 10 s\n");
    return 1;
  }
  if (std::getenv("SB_BENCH_PING") != nullptr) {
    // Diagnostic: round trips of a bare call between two members.
    sb::rpc::PeerClientOptions po;
    po.address = peers[2].address;
    po.expected_node = peers[2].node;
    po.identity = members[1]->identity;
    po.auth = members[1]->auth;
    auto client = sb::rpc::PeerClient::Create(std::move(po));
    Outcome pings = Drive(o, [&](int, long) { return (*client)->Ping(0).ok(); });
    Report(o, pings);
  }
  const std::string command(16, 'c');  // about the size of etcd's small put
  // Diagnostic: SB_BENCH_ONLY=leader|follower sends every call to that role.
  const char* only = std::getenv("SB_BENCH_ONLY");
  const uint64_t leader = members[1]->host->leader();
  auto pick = [&](int p, long seq) -> uint64_t {
    if (only == nullptr) return static_cast<uint64_t>(MemberFor(p, seq)) + 1;
    if (std::string(only) == "leader") return leader;
    return leader == 1 ? 2 : 1;
  };
  Outcome out = Drive(o, [&](int p, long seq) {
    auto& m = members[pick(p, seq)];
    return m->host->Propose(command, milliseconds(5000)).ok();
  });
  Report(o, out);
  for (auto& [id, m] : members) {
    m->handler.Set(nullptr);
    m->server->Stop(milliseconds(200));
    m->host->Stop();
    m->transport->Stop();
  }
  fs::remove_all(o.dir, ec);
  return out.ops > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--mode") {
      o.mode = value;
    } else if (flag == "--proposers") {
      o.proposers = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--seconds") {
      o.seconds = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--max-ops") {
      o.max_ops = std::max(1L, std::atol(value.c_str()));
    } else if (flag == "--dir") {
      o.dir = value;
    } else if (flag == "--endpoints") {
      size_t start = 0;
      while (start <= value.size()) {
        const size_t comma = value.find(',', start);
        o.endpoints.push_back(value.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (o.mode == "etcd") return RunEtcd(o);
  if (o.mode == "scratchbird") return RunScratchBird(o);
  std::fprintf(stderr,
               "usage: sb_cluster_commit_bench --mode scratchbird|etcd [--proposers N] "
               "[--seconds S] [--max-ops M] [--dir D] [--endpoints h:p,h:p,h:p]\n");
  return 2;
}
