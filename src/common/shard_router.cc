#include "common/shard_router.h"

#include <xxhash.h>

#include <algorithm>
#include <limits>

namespace sb {

uint64_t HashShardKey(std::string_view encoded_key) {
  return XXH64(encoded_key.data(), encoded_key.size(), 0);
}

VnodeRing::VnodeRing(uint32_t vnode_count) {
  if (vnode_count == 0) vnode_count = 1;
  const uint64_t width = std::numeric_limits<uint64_t>::max() / vnode_count;
  starts_.reserve(vnode_count);
  for (uint32_t i = 0; i < vnode_count; ++i) starts_.push_back(uint64_t{i} * width);
}

uint32_t VnodeRing::vnode_count() const {
  return static_cast<uint32_t>(starts_.size());
}

uint64_t VnodeRing::RangeStart(uint32_t vnode) const {
  return starts_.at(vnode);
}

uint32_t VnodeRing::VnodeOf(uint64_t hash) const {
  // First start greater than hash; the vnode is the one before it.
  auto it = std::upper_bound(starts_.begin(), starts_.end(), hash);
  return static_cast<uint32_t>(it - starts_.begin()) - 1;
}

uint32_t InitialShardOfVnode(uint32_t vnode, uint32_t shard_count) {
  return shard_count == 0 ? 0 : vnode % shard_count;
}

}  // namespace sb
