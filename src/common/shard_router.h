// Hash routing (R05-02/04/08): XXH64 (seed 0) of the canonical key bytes,
// a ring of V virtual nodes over [0, 2^64), and the initial vnode -> shard map.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace sb {

// XXH64 with seed 0 of the encoded key (key_encoding.h; multi-column keys are
// the concatenation of the columns' encodings).
uint64_t HashShardKey(std::string_view encoded_key);

class VnodeRing {
 public:
  explicit VnodeRing(uint32_t vnode_count = 256);
  uint32_t vnode_count() const;
  // i * floor(UINT64_MAX / V).
  uint64_t RangeStart(uint32_t vnode) const;
  // The vnode whose [start, next start) range holds hash; the last vnode ends
  // at UINT64_MAX inclusive.
  uint32_t VnodeOf(uint64_t hash) const;

 private:
  std::vector<uint64_t> starts_;
};

// Initial map (R05-08): vnode i belongs to shard index (i mod shard_count),
// 0-based (index 0 = shard_001).
uint32_t InitialShardOfVnode(uint32_t vnode, uint32_t shard_count);

}  // namespace sb
