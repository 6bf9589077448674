// sb_sim: runs the deterministic Raft simulator over many seeds, prints the
// failing ones, and replays one seed with a readable trace.
//
//   sb_sim --seeds 1000                 # seeds 1..1000
//   sb_sim --seeds 500 --start 10000    # seeds 10000..10499
//   sb_sim --seed 42 --trace            # replay seed 42 with a full trace
//   sb_sim --seeds 200 --bug old-term-commit   # show the simulator finds a bug
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sim.h"

namespace {
void Usage() {
  std::fprintf(
      stderr,
      "usage: sb_sim [--seeds N] [--start S] [--jobs J] [--seed S [--trace]] [--bug NAME]\n"
      "              [--fault-seconds F] [--settle-seconds F] [--voters N]\n"
      "              [--chaos] [--no-pre-vote] [--max-entries N] [--drop P]\n"
      "              [--no-leader-noop] [--slow-disks]\n"
      "              [--crash-after-commit P]\n"
      "bugs: old-term-commit, vote-no-log-check, vote-not-persisted, truncate-on-append,\n      "
      "stale-read\n");
}
}  // namespace

int main(int argc, char** argv) {
  uint64_t seeds = 100, start = 1;
  bool single = false, trace = false;
  sb::sim::SimOptions base;
  int jobs = static_cast<int>(std::thread::hardware_concurrency());
  std::string flags;  // run-shaping flags, repeated in replay hints
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a != "--seeds" && a != "--start" && a != "--seed" && a != "--trace" && a != "--jobs") {
      flags += " " + a;
      if (i + 1 < argc && argv[i + 1][0] != '-') flags += std::string(" ") + argv[i + 1];
    }
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        Usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seeds") {
      seeds = std::strtoull(next(), nullptr, 10);
    } else if (a == "--jobs") {
      jobs = std::atoi(next());
    } else if (a == "--start") {
      start = std::strtoull(next(), nullptr, 10);
    } else if (a == "--seed") {
      start = std::strtoull(next(), nullptr, 10);
      single = true;
    } else if (a == "--max-entries") {
      base.max_msg_entries = std::atoi(next());
    } else if (a == "--drop") {
      base.drop = std::atof(next());
    } else if (a == "--no-leader-noop") {
      base.leader_noop = false;
    } else if (a == "--slow-disks") {
      base.slow_disks = true;
    } else if (a == "--crash-after-commit") {
      base.crash_after_commit = std::atof(next());
    } else if (a == "--chaos") {
      base.chaos = true;
    } else if (a == "--no-pre-vote") {
      base.pre_vote = false;
    } else if (a == "--trace") {
      trace = true;
    } else if (a == "--fault-seconds") {
      base.fault_seconds = std::atof(next());
    } else if (a == "--settle-seconds") {
      base.settle_seconds = std::atof(next());
    } else if (a == "--voters") {
      base.voters = std::atoi(next());
    } else if (a == "--bug") {
      std::string b = next();
      if (b == "old-term-commit") {
        base.bugs.commit_old_term_by_count = true;
      } else if (b == "vote-no-log-check") {
        base.bugs.vote_without_log_check = true;
      } else if (b == "ack-before-persist") {
        base.bugs.ack_before_persist = true;
      } else if (b == "stale-read") {
        base.bugs.read_index_without_quorum = true;
      } else if (b == "truncate-on-append") {
        base.bugs.truncate_on_append = true;
      } else if (b == "vote-not-persisted") {
        base.bugs.vote_not_persisted = true;
      } else {
        Usage();
        return 2;
      }
    } else {
      Usage();
      return 2;
    }
  }
  if (single) seeds = 1;
  if (jobs < 1) jobs = 1;
  std::atomic<uint64_t> next{start}, failures{0}, events{0};
  std::mutex out;
  auto t0 = std::chrono::steady_clock::now();
  auto worker = [&]() {
    for (;;) {
      uint64_t s = next++;
      if (s >= start + seeds) return;
      sb::sim::SimOptions o = base;
      o.seed = s;
      if (single && trace) o.trace = &std::cout;
      sb::sim::SimResult r = sb::sim::RunSimulation(o);
      events += r.events;
      std::lock_guard<std::mutex> g(out);
      if (single) {
        std::printf(
            "seed %llu: %s\n  %s\n  events=%llu messages=%llu commits=%llu ops_ok=%llu "
            "ops_timeout=%llu crashes=%llu elections=%llu conf_changes=%llu "
            "transfers=%llu snapshots=%llu old_term_commits=%llu\n",
            static_cast<unsigned long long>(s), r.ok ? "OK" : "FAIL", r.summary.c_str(),
            (unsigned long long)r.events, (unsigned long long)r.messages,
            (unsigned long long)r.commits, (unsigned long long)r.ops_ok,
            (unsigned long long)r.ops_timeout, (unsigned long long)r.crashes,
            (unsigned long long)r.elections, (unsigned long long)r.conf_changes,
            (unsigned long long)r.transfers, (unsigned long long)r.snapshots_sent,
            (unsigned long long)r.old_term_commits);
      }
      if (!r.ok) {
        ++failures;
        std::printf("FAIL seed %llu: %s\n  replay: sb_sim --seed %llu --trace%s\n",
                    static_cast<unsigned long long>(s), r.failure.c_str(),
                    static_cast<unsigned long long>(s), flags.c_str());
        std::fflush(stdout);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs && !single; ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%llu seeds, %llu failed, %.1fs (%.0f seeds/min, %.0f sim steps/s)\n",
              static_cast<unsigned long long>(seeds),
              static_cast<unsigned long long>(failures.load()), secs,
              secs > 0 ? seeds / secs * 60 : 0.0, secs > 0 ? events.load() / secs : 0.0);
  return failures == 0 ? 0 : 1;
}
