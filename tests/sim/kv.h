// The replicated key-value state machine driven by the simulator.
// Commands are text: "P <op_id> <key> <value>" (put). Reads use ReadIndex and
// never enter the log. Duplicate commands (a forwarded proposal delivered
// twice) are applied once, by op id.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace sb::sim {

struct KvCommand {
  uint64_t op_id = 0;
  std::string key;
  uint64_t value = 0;
};

std::string EncodePut(const KvCommand& c);
bool DecodePut(const std::string& data, KvCommand* c);

class KvStore {
 public:
  // Applies a committed command; returns the op id (0 for no-ops).
  uint64_t Apply(const std::string& data);
  uint64_t Get(const std::string& key) const;
  bool HasApplied(uint64_t op_id) const { return applied_ops_.count(op_id) > 0; }
  std::string Serialize() const;
  bool Restore(const std::string& data);
  size_t size() const { return kv_.size(); }

 private:
  std::map<std::string, uint64_t> kv_;
  std::set<uint64_t> applied_ops_;
};

}  // namespace sb::sim
