#include "storage/shard_set.h"

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
  set->shards_.reserve(static_cast<size_t>(shard_count));
  for (int i = 0; i < shard_count; ++i) {
    ShardOptions options = base;
    options.path = ShardPath(dir, i);
    SB_ASSIGN_OR_RETURN(auto store, ShardStore::Open(i, std::move(options)));
    set->shards_.push_back(std::move(store));
  }
  return set;
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
