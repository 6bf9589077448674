#include "linearizability.h"

#include <gtest/gtest.h>

namespace sb::sim {
namespace {

Op Put(int client, const std::string& key, uint64_t v, uint64_t call, uint64_t ret) {
  Op o;
  o.client = client;
  o.key = key;
  o.kind = kPut;
  o.input = v;
  o.call = call;
  o.ret = ret;
  return o;
}
Op Get(int client, const std::string& key, uint64_t out, uint64_t call, uint64_t ret) {
  Op o;
  o.client = client;
  o.key = key;
  o.kind = kGet;
  o.output = out;
  o.call = call;
  o.ret = ret;
  return o;
}

LinResult Check(const std::vector<Op>& h) {
  return CheckLinearizable(h, RegisterModel()).result;
}

TEST(Linearizability, EmptyHistoryIsLinearizable) {
  EXPECT_EQ(Check({}), LinResult::kOk);
}

TEST(Linearizability, SequentialHistory) {
  EXPECT_EQ(Check({Put(0, "x", 1, 0, 10), Get(1, "x", 1, 20, 30), Put(0, "x", 2, 40, 50),
                   Get(1, "x", 2, 60, 70)}),
            LinResult::kOk);
}

TEST(Linearizability, ReadOfInitialValue) {
  EXPECT_EQ(Check({Get(0, "x", 0, 0, 10), Put(1, "x", 5, 20, 30)}), LinResult::kOk);
}

TEST(Linearizability, StaleReadAfterWriteCompletedIsViolation) {
  auto r = CheckLinearizable(
      {Put(0, "x", 1, 0, 10), Put(0, "x", 2, 20, 30), Get(1, "x", 1, 40, 50)}, RegisterModel());
  EXPECT_EQ(r.result, LinResult::kViolation);
  EXPECT_EQ(r.key, "x");
  EXPECT_NE(r.detail.find("no linearization"), std::string::npos) << r.detail;
}

TEST(Linearizability, ConcurrentWritesEitherOrder) {
  // put 1 and put 2 overlap; reads may see 2 then... but not flip back.
  EXPECT_EQ(Check({Put(0, "x", 1, 0, 100), Put(1, "x", 2, 10, 90), Get(2, "x", 1, 95, 110),
                   Get(2, "x", 1, 120, 130)}),
            LinResult::kOk);
  EXPECT_EQ(Check({Put(0, "x", 1, 0, 100), Put(1, "x", 2, 10, 90), Get(2, "x", 2, 101, 110),
                   Get(2, "x", 1, 120, 130)}),
            LinResult::kViolation);
}

TEST(Linearizability, ReadsMustNotFlipFlop) {
  // Two concurrent reads during one write may see old and new; but a read that
  // starts after another read returned the new value must not see the old.
  EXPECT_EQ(Check({Put(0, "x", 1, 0, 5), Put(0, "x", 2, 10, 100), Get(1, "x", 2, 20, 30),
                   Get(2, "x", 1, 40, 50)}),
            LinResult::kViolation);
  EXPECT_EQ(Check({Put(0, "x", 1, 0, 5), Put(0, "x", 2, 10, 100), Get(1, "x", 1, 20, 30),
                   Get(2, "x", 2, 40, 50)}),
            LinResult::kOk);
}

TEST(Linearizability, PendingWriteMayTakeEffectLate) {
  EXPECT_EQ(Check({Put(0, "x", 7, 0, kPending), Get(1, "x", 0, 10, 20), Get(1, "x", 7, 500, 510)}),
            LinResult::kOk);
}

TEST(Linearizability, PendingWriteMayNeverTakeEffect) {
  EXPECT_EQ(Check({Put(0, "x", 7, 0, kPending), Get(1, "x", 0, 500, 510)}), LinResult::kOk);
}

TEST(Linearizability, ReadOfNeverWrittenValueIsViolation) {
  EXPECT_EQ(Check({Put(0, "x", 1, 0, 10), Get(1, "x", 9, 20, 30)}), LinResult::kViolation);
}

TEST(Linearizability, KeysArePartitioned) {
  // Each key alone is fine; the checker must not mix them.
  EXPECT_EQ(Check({Put(0, "x", 1, 0, 10), Put(0, "y", 2, 20, 30), Get(1, "x", 1, 40, 50),
                   Get(1, "y", 2, 40, 50)}),
            LinResult::kOk);
  auto r = CheckLinearizable({Put(0, "x", 1, 0, 10), Put(0, "y", 2, 20, 30), Get(1, "x", 1, 40, 50),
                              Get(1, "y", 0, 40, 50)},
                             RegisterModel());
  EXPECT_EQ(r.result, LinResult::kViolation);
  EXPECT_EQ(r.key, "y");
}

TEST(Linearizability, LargeConcurrentHistoryIsFast) {
  // 8 clients, 400 ops on one key, each read returns the latest completed write
  // or a concurrent one: linearizable by construction.
  std::vector<Op> h;
  uint64_t t = 0;
  uint64_t last = 0;
  for (int i = 0; i < 400; ++i) {
    int c = i % 8;
    if (i % 2 == 0) {
      h.push_back(Put(c, "k", i + 1, t, t + 15));
      last = i + 1;
    } else {
      h.push_back(Get(c, "k", last, t + 16, t + 30));
    }
    t += 10;
  }
  auto r = CheckLinearizable(h, RegisterModel());
  EXPECT_EQ(r.result, LinResult::kOk) << r.detail;
}

// Random histories produced by a real (atomic) register with overlapping
// client intervals are always linearizable; corrupting one read's result to a
// value never written makes them non-linearizable.
TEST(Linearizability, RandomAtomicHistoriesAndCorruptions) {
  uint64_t x = 12345;
  auto rnd = [&x](uint64_t n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x % n;
  };
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Op> h;
    uint64_t state = 0, t = 0;
    int n = 5 + static_cast<int>(rnd(40));
    for (int i = 0; i < n; ++i) {
      // The operation takes effect at time t; its interval is widened around t.
      t += 1 + rnd(10);
      uint64_t call = t - std::min<uint64_t>(t, rnd(25));
      uint64_t ret = t + rnd(25);
      if (rnd(2) == 0) {
        state = static_cast<uint64_t>(i) + 1;
        h.push_back(Put(static_cast<int>(rnd(4)), "k", state, call, rnd(10) == 0 ? kPending : ret));
      } else {
        h.push_back(Get(static_cast<int>(rnd(4)), "k", state, call, ret));
      }
    }
    ASSERT_EQ(Check(h), LinResult::kOk) << "trial " << trial;
    for (auto& op : h) {
      if (op.kind == kGet) {
        op.output = 999999;
        EXPECT_EQ(Check(h), LinResult::kViolation) << "trial " << trial;
        break;
      }
    }
  }
}

TEST(Linearizability, BudgetExhaustionIsUnknownNotViolation) {
  std::vector<Op> h;
  for (int i = 0; i < 30; ++i) h.push_back(Put(i, "k", i + 1, 0, 1000));
  h.push_back(Get(99, "k", 12345, 2000, 2010));
  auto r = CheckLinearizable(h, RegisterModel(), 100);
  EXPECT_EQ(r.result, LinResult::kUnknown);
}

}  // namespace
}  // namespace sb::sim
