// sb_raft_bench: proposals committed per second and commit latency for a
// 3-node Raft group. Each node runs on its own thread with its own on-disk
// storage (DiskStorage, fdatasync per Ready = group commit) in a separate
// directory; the transport is in-memory mailboxes. Proposers submit to the
// leader and wait until their entry is committed and applied on the leader.
//
//   sb_raft_bench [--dir /tmp/x] [--seconds 3] [--proposers 1,64] [--payload 100]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "raft/disk_storage.h"
#include "raft/raft.h"

using namespace sb::raft;
using Clock = std::chrono::steady_clock;

namespace {

struct Proposal {
  uint64_t id;
  std::string data;
  std::promise<bool> done;
};

struct Mailbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Message> msgs;
  std::deque<std::shared_ptr<Proposal>> props;
  int ticks = 0;
  bool stop = false;
};

class Node {
 public:
  Node(NodeId id, const std::string& dir, std::vector<Mailbox*> boxes)
      : id_(id), storage_(dir), boxes_(std::move(boxes)) {}

  bool Start() {
    auto st = storage_.Load();
    if (!st.ok()) {
      std::fprintf(stderr, "load: %s\n", st.status().ToString().c_str());
      return false;
    }
    st->snapshot.meta.conf = ConfState{{1, 2, 3}, {}};
    Config c;
    c.id = id_;
    c.election_ticks = 20;
    c.heartbeat_ticks = 2;
    uint64_t x = id_ * 0x9E3779B97F4A7C15ull;
    c.random = [x]() mutable { return x = x * 6364136223846793005ull + 1; };
    raft_ = std::make_unique<Raft>(c, std::move(*st));
    thread_ = std::thread([this] { Loop(); });
    return true;
  }
  void Join() { thread_.join(); }
  Mailbox& box() { return *boxes_[id_ - 1]; }
  std::atomic<bool> is_leader{false};
  std::atomic<uint64_t> syncs{0};
  std::atomic<uint64_t> entries_synced{0};
  std::atomic<uint64_t> sync_ns{0};

 private:
  void Loop() {
    Mailbox& mb = box();
    for (;;) {
      std::deque<Message> msgs;
      std::deque<std::shared_ptr<Proposal>> props;
      int ticks = 0;
      {
        std::unique_lock<std::mutex> l(mb.mu);
        mb.cv.wait_for(l, std::chrono::milliseconds(5), [&] {
          return mb.stop || !mb.msgs.empty() || !mb.props.empty() || mb.ticks > 0 ||
                 raft_->HasReady();
        });
        if (mb.stop) break;
        msgs.swap(mb.msgs);
        props.swap(mb.props);
        ticks = mb.ticks;
        mb.ticks = 0;
      }
      for (int i = 0; i < ticks; ++i) raft_->Tick();
      for (auto& m : msgs) (void)raft_->Step(m);
      for (auto& p : props) {
        auto r = raft_->Propose(p->data);
        if (!r.ok()) {
          p->done.set_value(false);
        } else {
          pending_[p->id] = p;
        }
      }
      while (raft_->HasReady()) {
        Ready rd = raft_->GetReady();
        if (rd.soft_state) {
          is_leader = rd.soft_state->role == Role::kLeader;
          if (!is_leader) {
            for (auto& [id, p] : pending_) p->done.set_value(false);
            pending_.clear();
          }
        }
        auto send = [&](std::vector<Message>& list) {
          for (auto& m : list) {
            Mailbox& to = *boxes_[m.to - 1];
            {
              std::lock_guard<std::mutex> g(to.mu);
              to.msgs.push_back(std::move(m));
            }
            to.cv.notify_one();
          }
        };
        send(rd.early_messages);  // leader appends go out while we fsync
        if (rd.MustSync() || rd.hard_state) {
          auto ts = Clock::now();
          auto s = storage_.Save(rd.hard_state ? &*rd.hard_state : nullptr, rd.entries,
                                 rd.snapshot ? &*rd.snapshot : nullptr, rd.MustSync());
          if (!s.ok()) {
            std::fprintf(stderr, "node %llu: %s\n", (unsigned long long)id_, s.ToString().c_str());
            std::abort();
          }
          if (rd.MustSync()) {
            sync_ns +=
                std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - ts).count();
            ++syncs;
            entries_synced += rd.entries.size();
          }
        }
        send(rd.messages);
        for (auto& e : rd.committed_entries) {
          if (e.data.size() < 8) continue;
          uint64_t id = 0;
          std::memcpy(&id, e.data.data(), 8);
          auto it = pending_.find(id);
          if (it != pending_.end()) {
            it->second->done.set_value(true);
            pending_.erase(it);
          }
        }
        raft_->Advance(rd);
      }
    }
    for (auto& [id, p] : pending_) p->done.set_value(false);
  }

  NodeId id_;
  DiskStorage storage_;
  std::vector<Mailbox*> boxes_;
  std::unique_ptr<Raft> raft_;
  std::thread thread_;
  std::map<uint64_t, std::shared_ptr<Proposal>> pending_;
};

struct RunResult {
  double per_sec = 0, p50_ms = 0, p99_ms = 0;
  uint64_t n = 0;
  double entries_per_sync = 0;
  std::string sync_us;  // mean Save()+fdatasync per node
};

RunResult RunOnce(const std::string& root, int proposers, double seconds, size_t payload) {
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  std::vector<std::unique_ptr<Mailbox>> boxes;
  std::vector<Mailbox*> ptrs;
  for (int i = 0; i < 3; ++i) {
    boxes.push_back(std::make_unique<Mailbox>());
    ptrs.push_back(boxes.back().get());
  }
  std::vector<std::unique_ptr<Node>> nodes;
  for (NodeId id = 1; id <= 3; ++id) {
    nodes.push_back(std::make_unique<Node>(id, root + "/n" + std::to_string(id), ptrs));
    if (!nodes.back()->Start()) std::exit(1);
  }
  std::atomic<bool> stop_ticks{false};
  std::thread ticker([&] {
    while (!stop_ticks) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      for (auto* b : ptrs) {
        {
          std::lock_guard<std::mutex> g(b->mu);
          ++b->ticks;
        }
        b->cv.notify_one();
      }
    }
  });
  auto leader = [&]() -> int {
    for (int i = 0; i < 3; ++i)
      if (nodes[i]->is_leader) return i;
    return -1;
  };
  while (leader() < 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  std::atomic<uint64_t> next_id{1};
  std::atomic<bool> measuring{false}, done{false};
  std::vector<std::vector<double>> lat(proposers);
  std::vector<std::thread> ths;
  for (int p = 0; p < proposers; ++p) {
    ths.emplace_back([&, p] {
      while (!done) {
        int l = leader();
        if (l < 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          continue;
        }
        auto prop = std::make_shared<Proposal>();
        prop->id = next_id++;
        prop->data.assign(8 + payload, 'p');
        std::memcpy(prop->data.data(), &prop->id, 8);
        auto fut = prop->done.get_future();
        auto t0 = Clock::now();
        Mailbox& mb = *ptrs[l];
        {
          std::lock_guard<std::mutex> g(mb.mu);
          mb.props.push_back(prop);
        }
        mb.cv.notify_one();
        bool ok = fut.get();
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (ok && measuring) lat[p].push_back(ms);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // warm-up
  uint64_t syncs0 = 0, ents0 = 0;
  for (auto& n : nodes) syncs0 += n->syncs, ents0 += n->entries_synced;
  measuring = true;
  auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  measuring = false;
  double el = std::chrono::duration<double>(Clock::now() - t0).count();
  uint64_t syncs1 = 0, ents1 = 0;
  for (auto& n : nodes) syncs1 += n->syncs, ents1 += n->entries_synced;
  std::string sync_us;
  for (auto& n : nodes) {
    char b[32];
    std::snprintf(b, sizeof b, "%s%.0f", sync_us.empty() ? "" : "/",
                  n->syncs ? n->sync_ns / 1000.0 / n->syncs : 0.0);
    sync_us += b;
  }
  done = true;
  for (auto& t : ths) t.join();
  stop_ticks = true;
  ticker.join();
  for (auto* b : ptrs) {
    {
      std::lock_guard<std::mutex> g(b->mu);
      b->stop = true;
    }
    b->cv.notify_one();
  }
  for (auto& n : nodes) n->Join();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  RunResult r;
  r.n = all.size();
  r.per_sec = all.size() / el;
  if (!all.empty()) {
    r.p50_ms = all[all.size() / 2];
    r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  r.sync_us = sync_us;
  r.entries_per_sync = syncs1 > syncs0 ? double(ents1 - ents0) / double(syncs1 - syncs0) : 0;
  std::filesystem::remove_all(root);
  return r;
}

double FsyncMicros(const std::string& root) {
  std::filesystem::create_directories(root);
  DiskStorage d(root + "/probe");
  if (!d.Load().ok()) return 0;
  std::vector<Entry> e(1);
  e[0].term = 1;
  e[0].data.assign(100, 'x');
  auto t0 = Clock::now();
  const int n = 200;
  for (int i = 1; i <= n; ++i) {
    e[0].index = i;
    (void)d.Save(nullptr, e, nullptr);
  }
  double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n;
  std::filesystem::remove_all(root + "/probe");
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp/sb_raft_bench";
  double seconds = 3;
  size_t payload = 100;
  std::vector<int> proposers = {1, 64};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--dir") {
      dir = argv[i + 1];
    } else if (a == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else if (a == "--payload") {
      payload = std::strtoul(argv[i + 1], nullptr, 10);
    } else if (a == "--proposers") {
      proposers.clear();
      std::string s = argv[i + 1];
      size_t pos = 0;
      while (pos <= s.size()) {
        size_t c = s.find(',', pos);
        proposers.push_back(std::atoi(s.substr(pos, c - pos).c_str()));
        if (c == std::string::npos) break;
        pos = c + 1;
      }
    }
  }
  std::printf("3-node raft, DiskStorage with fdatasync, in-memory transport, payload %zu B\n",
              payload);
  std::printf("single-record append+fdatasync on %s: %.0f us\n", dir.c_str(), FsyncMicros(dir));
  for (int p : proposers) {
    RunResult r = RunOnce(dir, p, seconds, payload);
    std::printf(
        "proposers=%-3d  %8.0f proposals/s  p50 %.2f ms  p99 %.2f ms  (%llu commits, %.1f "
        "entries per fsync, mean fsync per node %s us)\n",
        p, r.per_sec, r.p50_ms, r.p99_ms, (unsigned long long)r.n, r.entries_per_sync,
        r.sync_us.c_str());
  }
  return 0;
}
