// All shards of one node's data directory: dir/shard_000.db ... opened together.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/shard_store.h"

namespace sb::storage {

class ShardSet {
 public:
  // Opens (creating when missing) dir/shard_000.db .. shard_<n-1>.db; the
  // directory is created too. base.path is ignored; everything else applies
  // to every shard.
  static Result<std::unique_ptr<ShardSet>> Open(const std::string& dir, int shard_count,
                                                const ShardOptions& base);

  int size() const { return static_cast<int>(shards_.size()); }
  ShardStore& shard(int i) { return *shards_.at(static_cast<size_t>(i)); }

  // Runs statements (DDL) on every shard inside one BEGIN IMMEDIATE transaction
  // per shard and commits them only if they succeeded on all shards; otherwise
  // every shard is rolled back and the error is annotated "shard <i>". Not
  // logged in _sb_wal. Atomic across shards except for a COMMIT that fails
  // after earlier shards committed (an I/O error); that error says which
  // shards committed.
  Status ApplyDdlEverywhere(const std::vector<std::string>& statements);

  // Path of shard i's database file inside dir.
  static std::string ShardPath(const std::string& dir, int i);

 private:
  ShardSet() = default;
  std::vector<std::unique_ptr<ShardStore>> shards_;
};

}  // namespace sb::storage
