// Which shard owns each vnode (R05-04/08). On a single node every shard is
// local; the multi-node issue adds owners, versions and signatures.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/shard_router.h"

namespace sb::meta {

class ShardMap {
 public:
  // The initial map: vnode i → shard (i mod shard_count).
  static ShardMap Initial(uint32_t shard_count, uint32_t vnode_count = 256);

  uint32_t shard_count() const { return shard_count_; }
  uint32_t vnode_count() const { return ring_.vnode_count(); }
  uint64_t version() const { return version_; }
  uint32_t VnodeOfHash(uint64_t hash) const { return ring_.VnodeOf(hash); }
  uint32_t ShardOfVnode(uint32_t vnode) const { return vnode_to_shard_[vnode]; }
  // "shard_001" for index 0 (1-based names as the spec).
  static std::string ShardName(uint32_t index);

 private:
  ShardMap(uint32_t shard_count, uint32_t vnode_count)
      : shard_count_(shard_count), ring_(vnode_count) {}
  uint32_t shard_count_;
  VnodeRing ring_;
  std::vector<uint32_t> vnode_to_shard_;
  uint64_t version_ = 1;
};

}  // namespace sb::meta
