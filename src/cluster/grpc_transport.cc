#include "cluster/grpc_transport.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "rpc/wire.h"

namespace sb::cluster {

// One peer's queue and the thread that drains it onto a RaftStream.
class GrpcRaftTransport::PeerSender {
 public:
  PeerSender(raft::NodeId id, RaftPeer peer, const GrpcRaftTransportOptions& options)
      : id_(id), peer_(std::move(peer)), options_(options) {
    thread_ = std::thread([this] { Run(); });
  }
  ~PeerSender() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      // A Write may be blocked on a peer that stopped reading (SIGSTOP).
      if (live_stream_ != nullptr) live_stream_->Cancel();
    }
    cv_.notify_all();
    thread_.join();
  }

  void Enqueue(std::string encoded) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.size() >= options_.max_queue) {
        ++dropped_;
        return;
      }
      queue_.push_back(std::move(encoded));
    }
    cv_.notify_one();
  }

  uint64_t dropped() const {
    std::lock_guard<std::mutex> lock(mu_);
    return dropped_;
  }
  uint64_t sent() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

 private:
  void Run() {
    for (;;) {
      std::vector<std::string> batch;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_) break;
        while (!queue_.empty() && batch.size() < options_.max_batch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      Status st = Deliver(batch);
      std::unique_lock<std::mutex> lock(mu_);
      if (st.ok()) {
        sent_ += batch.size();
        continue;
      }
      dropped_ += batch.size();
      spdlog::debug("raft transport: to raft node {} at {}: {}", id_, peer_.address, st.ToString());
      if (cv_.wait_for(lock, options_.retry_pause, [this] { return stop_; })) break;
    }
    (void)CloseStream();  // shutting down: the outcome no longer matters
  }

  Status Deliver(const std::vector<std::string>& batch) {
    if (!client_) {
      rpc::PeerClientOptions o;
      o.address = peer_.address;
      o.expected_node = peer_.node;
      o.identity = options_.identity;
      o.auth = options_.auth;
      o.default_timeout = options_.call_timeout;
      auto created = rpc::PeerClient::Create(std::move(o));
      if (!created.ok()) return created.status();
      client_ = std::move(*created);
    }
    if (unary_) return client_->SendRaft(batch);
    // A stream that broke since its last write (the peer restarted, the
    // stream outlived its deadline) gets one fresh stream at once; only a
    // fresh stream failing counts as the peer being unreachable.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool fresh = stream_ == nullptr;
      if (fresh) OpenStream();
      if (stream_->Write(batch)) return Status::Ok();
      Status why = CloseStream();
      if (why.code() == sqlstate::kFeatureNotSupported) {
        spdlog::info("raft transport: {} does not serve RaftStream; using one call per batch",
                     peer_.address);
        unary_ = true;
        return client_->SendRaft(batch);
      }
      if (fresh)
        return why.ok() ? Status::Error(rpc::kSqlstateConnectionFailure,
                                        "raft stream to " + peer_.address + " closed")
                        : why;
    }
    return Status::Error(rpc::kSqlstateConnectionFailure,
                         "raft stream to " + peer_.address + " failed twice");
  }

  void OpenStream() {
    stream_ = client_->OpenRaftStream(options_.stream_lifetime);
    std::lock_guard<std::mutex> lock(mu_);
    live_stream_ = stream_.get();
    // Retiring may have begun before this stream existed; its Cancel missed it.
    if (stop_) stream_->Cancel();
  }

  // Ends the current stream (if any) and returns its outcome.
  Status CloseStream() {
    if (!stream_) return Status::Ok();
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_stream_ = nullptr;
      if (stop_) stream_->Cancel();  // do not wait for a peer's ack at shutdown
    }
    Status st = stream_->Finish();
    stream_.reset();
    return st;
  }

  const raft::NodeId id_;
  const RaftPeer peer_;
  const GrpcRaftTransportOptions& options_;
  // Sender thread only.
  std::unique_ptr<rpc::PeerClient> client_;
  std::unique_ptr<rpc::RaftStreamCall> stream_;
  bool unary_ = false;  // the peer does not serve RaftStream
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  rpc::RaftStreamCall* live_stream_ = nullptr;  // stream_, for Cancel from ~PeerSender
  bool stop_ = false;
  uint64_t dropped_ = 0;
  uint64_t sent_ = 0;
  std::thread thread_;  // last: starts after everything above exists
};

GrpcRaftTransport::GrpcRaftTransport(GrpcRaftTransportOptions options,
                                     std::map<raft::NodeId, RaftPeer> peers)
    : options_(std::move(options)) {
  SetPeers(std::move(peers));
}

GrpcRaftTransport::~GrpcRaftTransport() {
  Stop();
}

void GrpcRaftTransport::Send(uint64_t to, std::string encoded) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = senders_.find(to);
  if (it == senders_.end()) {
    ++dropped_unknown_;
    return;
  }
  it->second->Enqueue(std::move(encoded));
}

void GrpcRaftTransport::SetPeers(std::map<raft::NodeId, RaftPeer> peers) {
  // Senders are destroyed outside the lock: joining one may wait for a call
  // in flight, and Send must not wait for that.
  std::vector<std::unique_ptr<PeerSender>> retired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = senders_.begin(); it != senders_.end();) {
      auto np = peers.find(it->first);
      if (np == peers.end() || !(np->second == peers_[it->first])) {
        retired_dropped_ += it->second->dropped();
        retired_sent_ += it->second->sent();
        retired.push_back(std::move(it->second));
        it = senders_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [id, peer] : peers)
      if (!senders_.contains(id)) senders_[id] = std::make_unique<PeerSender>(id, peer, options_);
    peers_ = std::move(peers);
  }
  retired.clear();
}

std::optional<raft::NodeId> GrpcRaftTransport::RaftIdOf(const Uuid& node) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, peer] : peers_)
    if (peer.node == node) return id;
  return std::nullopt;
}

void GrpcRaftTransport::Stop() {
  SetPeers({});
}

uint64_t GrpcRaftTransport::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = dropped_unknown_ + retired_dropped_;
  for (const auto& [id, s] : senders_) n += s->dropped();
  return n;
}

uint64_t GrpcRaftTransport::sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = retired_sent_;
  for (const auto& [id, s] : senders_) n += s->sent();
  return n;
}

RaftBatchReceiver::RaftBatchReceiver(RaftHost* host, const GrpcRaftTransport* peers)
    : host_(host), peers_(peers) {}

Status RaftBatchReceiver::OnRaft(const Uuid& from, const std::vector<std::string>& messages) {
  auto raft_id = peers_->RaftIdOf(from);
  if (!raft_id)
    return Status::Error("28000",
                         "raft: node " + from.ToString() + " is not a peer of this raft group",
                         "add the node to the cluster before it sends raft traffic");
  for (const std::string& m : messages) {
    // Binding the claimed sender to the certificate's node keeps one member
    // from speaking for another.
    if (Status s = host_->Step(*raft_id, m); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace sb::cluster
