// Linearizability checker for histories of operations on independent keys
// (Wing & Gong search with Lowe's memoization, as popularised by Porcupine).
//
// A history is partitioned by key; each partition is searched separately
// for an order of the operations that (a) respects real time — an operation
// that returned before another was called comes first — and (b) is legal for
// the sequential model. Operations that never returned (client timed out)
// have ret = kPending: they may take effect at any point after their call,
// or never.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sb::sim {

inline constexpr uint64_t kPending = UINT64_MAX;

struct Op {
  int client = 0;
  std::string key;
  int kind = 0;         // model-defined
  uint64_t input = 0;   // model-defined (e.g. value written)
  uint64_t output = 0;  // model-defined (e.g. value read)
  uint64_t call = 0;    // invocation time
  uint64_t ret = kPending;
  uint64_t id = 0;  // for reports
};

// A sequential model over a 64-bit state. Step returns false when `op` with
// its recorded output is impossible in `state`; else sets *next.
struct Model {
  uint64_t init = 0;
  std::function<bool(uint64_t state, const Op& op, uint64_t* next)> step;
  std::function<std::string(const Op& op)> describe;
};

// Register model: kind 0 = put(input) (output ignored), kind 1 = get -> output.
// State 0 means "absent".
inline constexpr int kPut = 0;
inline constexpr int kGet = 1;
Model RegisterModel();

enum class LinResult { kOk, kViolation, kUnknown };

struct LinReport {
  LinResult result = LinResult::kOk;
  std::string key;     // first failing key
  std::string detail;  // human-readable explanation
  uint64_t steps = 0;
};

LinReport CheckLinearizable(const std::vector<Op>& history, const Model& model,
                            uint64_t max_steps_per_key = 5'000'000);

}  // namespace sb::sim
