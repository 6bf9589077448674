#include "kv.h"

#include <sstream>

namespace sb::sim {

std::string EncodePut(const KvCommand& c) {
  return "P " + std::to_string(c.op_id) + " " + c.key + " " + std::to_string(c.value);
}

bool DecodePut(const std::string& data, KvCommand* c) {
  std::istringstream is(data);
  std::string tag;
  if (!(is >> tag) || tag != "P") return false;
  return static_cast<bool>(is >> c->op_id >> c->key >> c->value);
}

uint64_t KvStore::Apply(const std::string& data) {
  KvCommand c;
  if (data.empty() || !DecodePut(data, &c)) return 0;
  if (!applied_ops_.insert(c.op_id).second) return c.op_id;  // duplicate
  kv_[c.key] = c.value;
  return c.op_id;
}

uint64_t KvStore::Get(const std::string& key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? 0 : it->second;
}

std::string KvStore::Serialize() const {
  std::ostringstream os;
  os << kv_.size();
  for (auto& [k, v] : kv_) os << ' ' << k << ' ' << v;
  os << ' ' << applied_ops_.size();
  for (uint64_t id : applied_ops_) os << ' ' << id;
  return os.str();
}

bool KvStore::Restore(const std::string& data) {
  kv_.clear();
  applied_ops_.clear();
  if (data.empty()) return true;
  std::istringstream is(data);
  size_t n = 0;
  if (!(is >> n)) return false;
  for (size_t i = 0; i < n; ++i) {
    std::string k;
    uint64_t v = 0;
    if (!(is >> k >> v)) return false;
    kv_[k] = v;
  }
  if (!(is >> n)) return false;
  for (size_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    if (!(is >> id)) return false;
    applied_ops_.insert(id);
  }
  return true;
}

}  // namespace sb::sim
