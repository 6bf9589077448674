#include "meta/shard_map.h"

#include <cstdio>

namespace sb::meta {

ShardMap ShardMap::Initial(uint32_t shard_count, uint32_t vnode_count) {
  ShardMap m(shard_count, vnode_count);
  m.vnode_to_shard_.resize(vnode_count);
  for (uint32_t v = 0; v < vnode_count; ++v) {
    m.vnode_to_shard_[v] = InitialShardOfVnode(v, shard_count);
  }
  return m;
}

std::string ShardMap::ShardName(uint32_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "shard_%03u", index + 1);
  return buf;
}

}  // namespace sb::meta
