// Fixed-seed simulator runs (the CI share of `make sim-soak`) and the proof
// that the simulator catches known Raft bugs.
#include <gtest/gtest.h>

#include <sstream>

#include "sim.h"

namespace sb::sim {
namespace {

constexpr uint64_t kSeedsPerShard = 25;

class SimSeeds : public ::testing::TestWithParam<uint64_t> {};

TEST_P(SimSeeds, SafetyLivenessAndLinearizabilityHold) {
  for (uint64_t s = GetParam() * kSeedsPerShard + 1; s <= (GetParam() + 1) * kSeedsPerShard; ++s) {
    SimOptions o;
    o.seed = s;
    SimResult r = RunSimulation(o);
    ASSERT_TRUE(r.ok) << "seed " << s << ": " << r.failure << "\n  replay: sb_sim --seed " << s
                      << " --trace";
    EXPECT_GT(r.commits, 0u) << "seed " << s;
  }
}
INSTANTIATE_TEST_SUITE_P(Default, SimSeeds, ::testing::Range<uint64_t>(0, 8));

class ChaosSeeds : public ::testing::TestWithParam<uint64_t> {};

TEST_P(ChaosSeeds, SafetyHoldsUnderFaultStorms) {
  for (uint64_t s = 10000 + GetParam() * 50; s < 10000 + (GetParam() + 1) * 50; ++s) {
    SimOptions o;
    o.seed = s;
    o.chaos = true;
    o.slow_disks = (s % 2) == 0;
    o.fault_seconds = 10;
    o.settle_seconds = 8;
    SimResult r = RunSimulation(o);
    ASSERT_TRUE(r.ok) << "seed " << s << ": " << r.failure << "\n  replay: sb_sim --seed " << s
                      << " --chaos" << (o.slow_disks ? " --slow-disks" : "")
                      << " --fault-seconds 10 --settle-seconds 8 --trace";
  }
}
INSTANTIATE_TEST_SUITE_P(Storm, ChaosSeeds, ::testing::Range<uint64_t>(0, 4));

TEST(Sim, WithoutPreVoteSafetyStillHolds) {
  for (uint64_t s = 500; s < 560; ++s) {
    SimOptions o;
    o.seed = s;
    o.pre_vote = false;
    o.fault_seconds = 10;
    o.settle_seconds = 8;
    SimResult r = RunSimulation(o);
    // Without pre-vote a removed or lagging node may keep disrupting
    // elections, so only safety is asserted here.
    ASSERT_TRUE(r.ok || !r.safety) << "seed " << s << ": " << r.failure;
  }
}

TEST(Sim, FixedSeedsExerciseEveryFeature) {
  // Guards against a vacuous simulator: the CI seeds must actually drive
  // every mechanism the invariants are meant to cover.
  SimResult sum;
  uint64_t lin_ops = 0;
  for (uint64_t s = 1; s <= 25; ++s) {
    SimOptions o;
    o.seed = s;
    SimResult r = RunSimulation(o);
    ASSERT_TRUE(r.ok) << r.failure;
    sum.elections += r.elections;
    sum.crashes += r.crashes;
    sum.torn_writes += r.torn_writes;
    sum.partitions += r.partitions;
    sum.conf_changes += r.conf_changes;
    sum.transfers += r.transfers;
    sum.snapshots_sent += r.snapshots_sent;
    sum.reads_ok += r.reads_ok;
    sum.ops_timeout += r.ops_timeout;
    lin_ops += r.ops_ok;
  }
  EXPECT_GT(sum.elections, 50u);
  EXPECT_GT(sum.crashes, 25u);
  EXPECT_GT(sum.torn_writes, 0u);
  EXPECT_GT(sum.partitions, 25u);
  EXPECT_GT(sum.conf_changes, 25u);
  EXPECT_GT(sum.transfers, 25u);
  EXPECT_GT(sum.snapshots_sent, 5u);
  EXPECT_GT(sum.reads_ok, 1000u);
  EXPECT_GT(sum.ops_timeout, 10u);
  EXPECT_GT(lin_ops, 10000u);
}

TEST(Sim, SameSeedReplaysIdentically) {
  auto run = [](uint64_t seed) {
    std::ostringstream trace;
    SimOptions o;
    o.seed = seed;
    o.fault_seconds = 6;
    o.settle_seconds = 6;
    o.trace = &trace;
    SimResult r = RunSimulation(o);
    EXPECT_TRUE(r.ok) << r.failure;
    return trace.str();
  };
  std::string a = run(77), b = run(77), c = run(78);
  EXPECT_GT(a.size(), 1000u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a.find("deliver Append"), std::string::npos);
}

TEST(Sim, FaultFreeClustersMakeSteadyProgress) {
  for (int voters : {3, 5, 7}) {
    SimOptions o;
    o.seed = 1000 + voters;
    o.voters = voters;
    o.crashes = o.partitions = o.membership = o.transfers = false;
    o.drop = 0;
    o.fault_seconds = 5;
    o.settle_seconds = 10;
    SimResult r = RunSimulation(o);
    ASSERT_TRUE(r.ok) << r.failure;
    EXPECT_GT(r.ops_ok, 500u) << voters << " voters";
    EXPECT_EQ(r.elections, 1u) << "no faults: exactly one election";
  }
}

// Runs seeds first..first+bound-1 and returns the first seed whose run reports
// a safety violation, or 0.
uint64_t FirstCaught(SimOptions base, uint64_t first, uint64_t bound, std::string* why) {
  for (uint64_t s = first; s < first + bound; ++s) {
    base.seed = s;
    SimResult r = RunSimulation(base);
    if (!r.ok && r.safety) {
      *why = r.failure;
      return s;
    }
  }
  return 0;
}

TEST(SimFindsBugs, VoteWithoutLogUpToDateCheck) {
  SimOptions o;
  o.bugs.vote_without_log_check = true;
  std::string why;
  uint64_t s = FirstCaught(o, 1, 40, &why);
  EXPECT_NE(s, 0u) << "not caught within 40 seeds";
  EXPECT_NE(why.find("leader completeness"), std::string::npos) << why;
}

TEST(SimFindsBugs, FollowerTruncatesMatchingEntriesOnStaleAppend) {
  SimOptions o;
  o.bugs.truncate_on_append = true;
  std::string why;
  uint64_t s = FirstCaught(o, 1, 60, &why);
  EXPECT_NE(s, 0u) << "not caught within 60 seeds";
}

TEST(SimFindsBugs, VoteNotPersistedBeforeReply) {
  SimOptions o;
  o.bugs.vote_not_persisted = true;
  o.chaos = true;
  o.pre_vote = false;
  o.slow_disks = true;
  o.fault_seconds = 10;
  o.settle_seconds = 6;
  std::string why;
  // First caught at seed 267 since commit indexes reach followers at once.
  uint64_t s = FirstCaught(o, 1, 600, &why);
  EXPECT_NE(s, 0u) << "not caught within 600 seeds";
  EXPECT_NE(why.find("election safety"), std::string::npos) << why;
}

TEST(SimFindsBugs, FollowerAcknowledgesAppendsBeforeTheyAreDurable) {
  // Caught through the crash model: an acknowledged but unsynced entry is
  // lost on a crash, and a quorum without it elects a leader.
  SimOptions o;
  o.bugs.ack_before_persist = true;
  o.slow_disks = true;
  o.fault_seconds = 10;
  o.settle_seconds = 6;
  std::string why;
  // The leader sends a new commit index to the followers at once (not with
  // the next heartbeat), which narrows the window in which a lost unsynced
  // entry matters: the first catching seed moved from below 400 to 1318.
  uint64_t s = FirstCaught(o, 1, 2000, &why);
  EXPECT_NE(s, 0u) << "not caught within 2000 seeds";
}

TEST(SimFindsBugs, ReadIndexWithoutQuorumConfirmationServesStaleReads) {
  // Caught by the linearizability checker: a deposed leader that has not
  // noticed yet answers reads from its old state.
  SimOptions o;
  o.bugs.read_index_without_quorum = true;
  o.fault_seconds = 10;
  o.settle_seconds = 6;
  std::string why;
  uint64_t s = FirstCaught(o, 1, 250, &why);
  EXPECT_NE(s, 0u) << "not caught within 250 seeds";
  EXPECT_NE(why.find("linearizability violated"), std::string::npos) << why;
}

// Figure 8 of the Raft paper. The leader's no-op hides the bug almost
// completely (tens of thousands of default seeds do not hit it), so this
// profile runs the no-op-free variant of Raft — still safe, see below — with
// one entry per append and a nemesis that crashes leaders right after their
// commit index advances.
SimOptions Figure8Profile() {
  SimOptions o;
  o.leader_noop = false;
  o.max_msg_entries = 1;
  o.crash_after_commit = 0.5;
  o.slow_disks = true;
  o.voters = 3;
  o.fault_seconds = 10;
  o.settle_seconds = 6;
  return o;
}

TEST(SimFindsBugs, CommitOfOldTermEntryByCounting) {
  SimOptions o = Figure8Profile();
  o.bugs.commit_old_term_by_count = true;
  std::string why;
  uint64_t s = FirstCaught(o, 1, 3000, &why);
  EXPECT_NE(s, 0u) << "not caught within 3000 seeds";
  EXPECT_NE(why.find("leader completeness"), std::string::npos) << why;
}

TEST(SimFindsBugs, CorrectCoreUnderTheFigure8ProfileIsSafe) {
  // Without the no-op a leader elected after the clients stopped cannot
  // commit older entries, so only safety is asserted.
  std::string why;
  EXPECT_EQ(FirstCaught(Figure8Profile(), 1, 300, &why), 0u) << why;
}

TEST(SimFindsBugs, CorrectCoreUnderTheSameProfilesPasses) {
  // The bug profiles themselves are not what fails: the same seeds pass
  // with the switches off (safety only; no-pre-vote may hurt liveness).
  SimOptions o;
  o.chaos = true;
  o.pre_vote = false;
  o.slow_disks = true;
  o.fault_seconds = 10;
  o.settle_seconds = 6;
  std::string why;
  EXPECT_EQ(FirstCaught(o, 1, 60, &why), 0u) << why;
  o.chaos = false;
  o.pre_vote = true;
  EXPECT_EQ(FirstCaught(o, 1, 60, &why), 0u) << why;
}

}  // namespace
}  // namespace sb::sim
