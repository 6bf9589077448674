#include "storage/shard_set.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>

namespace sb::storage {

std::string ShardSet::ShardPath(const std::string& dir, int i) {
  char name[32];
  std::snprintf(name, sizeof(name), "shard_%03d.db", i);
  return (std::filesystem::path(dir) / name).string();
}

Result<std::unique_ptr<ShardSet>> ShardSet::Open(const std::string& dir, int shard_count,
                                                 const ShardOptions& base) {
  if (shard_count <= 0) {
    return Status::InvalidArgument("shard count must be positive, got " +
                                   std::to_string(shard_count));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status::IoError("could not create shard directory \"" + dir + "\": " + ec.message());
  }
  std::unique_ptr<ShardSet> set(new ShardSet());
  const std::string sync = SynchronousMode(base);
  const bool group_commit = base.group_commit && (sync == "FULL" || sync == "EXTRA");
  CommitLogOptions log_options;
  log_options.dir = (std::filesystem::path(dir) / "commitlog").string();
  // Without group commit now but with a log from an earlier start, its
  // records are still recovered; then the log is removed.
  const bool leftover_log = !group_commit && std::filesystem::exists(log_options.dir, ec);
  if (group_commit || leftover_log) {
    SB_ASSIGN_OR_RETURN(set->commit_log_, CommitLog::Open(log_options));
  }
  set->shards_.reserve(static_cast<size_t>(shard_count));
  for (int i = 0; i < shard_count; ++i) {
    ShardOptions options = base;
    options.path = ShardPath(dir, i);
    options.commit_log = group_commit ? set->commit_log_.get() : nullptr;
    SB_ASSIGN_OR_RETURN(auto store, ShardStore::Open(i, std::move(options)));
    set->shards_.push_back(std::move(store));
  }
  if (leftover_log) {
    // The shards run at their own synchronous setting, so what Recover
    // re-applies is as durable as that makes it before the log goes.
    SB_RETURN_IF_ERROR(set->Recover());
    set->commit_log_.reset();
    std::filesystem::remove_all(log_options.dir, ec);
    if (ec) {
      return Status(sqlstate::kIoError,
                    "cannot remove the commit log " + log_options.dir + ": " + ec.message());
    }
  } else if (set->commit_log_) {
    SB_RETURN_IF_ERROR(set->Recover());
    // Start from a short log: what recovery re-applied is synced now.
    SB_RETURN_IF_ERROR(set->TrimCommitLog());
    set->trimmer_ = std::thread([s = set.get()] { s->TrimLoop(); });
  }
  return set;
}

ShardSet::~ShardSet() {
  {
    std::lock_guard<std::mutex> l(trim_mu_);
    stopping_ = true;
  }
  trim_cv_.notify_all();
  if (trimmer_.joinable()) trimmer_.join();
}

Status ShardSet::Recover() {
  // Per shard, the commits still standing at the end of the log, in LSN
  // order: an abort record, or a later commit reusing an LSN (after a failed
  // COMMIT), cancels what was logged for that LSN and above.
  std::vector<std::vector<const CommitLogRecord*>> standing(shards_.size());
  for (const CommitLogRecord& record : commit_log_->recovered()) {
    if (record.shard >= shards_.size()) {
      return Status(sqlstate::kDataCorrupted, "the commit log has a record for shard " +
                                                  std::to_string(record.shard) +
                                                  " but the data directory has " +
                                                  std::to_string(shards_.size()) + " shards");
    }
    auto& list = standing[record.shard];
    while (!list.empty() && list.back()->lsn >= record.lsn) list.pop_back();
    if (record.kind == CommitLogRecord::Kind::kCommit) list.push_back(&record);
  }
  for (size_t shard = 0; shard < shards_.size(); ++shard) {
    if (standing[shard].empty()) continue;
    SB_ASSIGN_OR_RETURN(uint64_t last, shards_[shard]->LastLsn());
    for (const CommitLogRecord* record : standing[shard]) {
      if (record->lsn <= last) continue;
      if (record->lsn != last + 1) {
        return Status(sqlstate::kDataCorrupted,
                      "shard " + std::to_string(shard) + " ends at LSN " + std::to_string(last) +
                          " but the commit log continues at LSN " + std::to_string(record->lsn),
                      "Commits between the two are missing; restore the data directory from a "
                      "backup.");
      }
      SB_RETURN_IF_ERROR(shards_[shard]->ApplyLoggedCommit(*record));
      last = record->lsn;
      ++recovered_commits_;
    }
  }
  commit_log_->ClearRecovered();
  return Status::Ok();
}

Status ShardSet::TrimCommitLog() {
  if (!commit_log_) return Status::Ok();
  return commit_log_->Trim([this]() -> Status {
    for (auto& shard : shards_) SB_RETURN_IF_ERROR(shard->SyncToDisk());
    return Status::Ok();
  });
}

void ShardSet::TrimLoop() {
  std::unique_lock<std::mutex> l(trim_mu_);
  while (!stopping_) {
    // Polling is enough: a segment closes after tens of megabytes of commits.
    trim_cv_.wait_for(l, std::chrono::seconds(1));
    if (stopping_ || commit_log_->closed_bytes() == 0) continue;
    l.unlock();
    // A failure (say, a reader keeping a shard busy) leaves the segments for
    // the next round; the log is only longer meanwhile.
    (void)TrimCommitLog();
    l.lock();
  }
}

Status ShardSet::ApplyDdlEverywhere(const std::vector<std::string>& statements) {
  std::vector<std::unique_ptr<ShardConnection>> conns;
  conns.reserve(shards_.size());
  // Roll back everything begun so far (connection destructors would too; this
  // makes the order explicit and releases the write locks promptly).
  auto abort_all = [&](const Status& st, int shard) {
    for (auto& c : conns) (void)c->Rollback();
    conns.clear();
    return st.Annotate("shard " + std::to_string(shard));
  };
  // Locks are taken in shard order, so concurrent callers cannot deadlock.
  for (int i = 0; i < size(); ++i) {
    auto conn = shards_[static_cast<size_t>(i)]->Acquire();
    if (!conn.ok()) return abort_all(conn.status(), i);
    conns.push_back(std::move(conn).value());
    Status st = conns.back()->BeginDdl();
    if (!st.ok()) return abort_all(st, i);
    for (const std::string& sql : statements) {
      st = conns.back()->Execute(sql, {}, nullptr);
      if (!st.ok()) return abort_all(st, i);
    }
  }
  for (int i = 0; i < size(); ++i) {
    Status st = conns[static_cast<size_t>(i)]->CommitDdl();
    if (!st.ok()) {
      Status out = abort_all(st, i);
      if (i > 0) {
        out.WithDetail("shards 0.." + std::to_string(i - 1) +
                       " already committed the change; shards " + std::to_string(i) + ".." +
                       std::to_string(size() - 1) + " did not");
      }
      return out;
    }
  }
  return Status::Ok();
}

}  // namespace sb::storage
