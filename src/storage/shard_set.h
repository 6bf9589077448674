// All shards of one node's data directory: dir/shard_000.db ... opened together.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "storage/shard_store.h"

namespace sb::storage {

class ShardSet {
 public:
  // Opens (creating when missing) dir/shard_000.db .. shard_<n-1>.db; the
  // directory is created too. base.path and base.commit_log are ignored;
  // everything else applies to every shard. With base.group_commit and
  // synchronous FULL or EXTRA the shards share the commit log in
  // dir/commitlog: commits it holds that a shard lost in a crash are
  // re-applied here, before Open returns.
  static Result<std::unique_ptr<ShardSet>> Open(const std::string& dir, int shard_count,
                                                const ShardOptions& base);
  ~ShardSet();

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

  // Null without group commit.
  CommitLog* commit_log() { return commit_log_.get(); }
  // Commits re-applied from the commit log by Open.
  uint64_t recovered_commits() const { return recovered_commits_; }
  // Syncs every shard, then deletes the commit log's closed segments. Runs by
  // itself in the background whenever a segment has been closed.
  Status TrimCommitLog();

 private:
  ShardSet() = default;
  Status Recover();
  void TrimLoop();

  std::vector<std::unique_ptr<ShardStore>> shards_;
  // Declared after the shards: destroyed first, while no shard can commit.
  std::unique_ptr<CommitLog> commit_log_;
  uint64_t recovered_commits_ = 0;
  std::mutex trim_mu_;
  std::condition_variable trim_cv_;
  bool stopping_ = false;
  std::thread trimmer_;
};

}  // namespace sb::storage
