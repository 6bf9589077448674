// The node's group-commit log: one append-only file sequence shared by every
// shard of a data directory. A shard transaction's changeset is appended here
// and made durable before the shard's SQLite COMMIT, which then runs without
// its own fsync (synchronous=NORMAL). Concurrent commits to different shards
// share one fdatasync instead of paying one each, the way PostgreSQL's group
// commit shares one WAL flush. After a crash the records a shard lost (SQLite
// keeps a prefix of its commits under NORMAL) are re-applied from here.
//
// On disk: DIR/<20-digit segment number>.log, each starting with an 8-byte
// magic; then records of
//   u32 body length | u64 XXH64(body) | body
//   body = u8 kind (1 commit, 2 abort) | u32 shard | u64 lsn | u64 generation
//          | u64 hlc | changeset bytes (commit only)
// little-endian. An abort record cancels a logged commit whose SQLite COMMIT
// then failed or was rolled back (the LSN is reused by the next commit).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

namespace sb::storage {

struct CommitLogRecord {
  enum class Kind : uint8_t { kCommit = 1, kAbort = 2 };
  Kind kind = Kind::kCommit;
  uint32_t shard = 0;
  uint64_t lsn = 0;
  uint64_t generation = 0;
  uint64_t hlc = 0;
  std::string payload;  // SQLite changeset (commit records)
};

struct CommitLogOptions {
  std::string dir;
  // A segment is closed once it grows past this; closed segments are deleted
  // by Trim once every shard has made their records durable itself.
  uint64_t segment_bytes = 16ull << 20;
};

struct CommitLogStats {
  uint64_t records = 0;   // appended since open
  uint64_t flushes = 0;   // fdatasync calls since open
  uint64_t segments = 0;  // on disk now
};

class CommitLog {
 public:
  // Opens DIR (created when missing), reads every record of every segment,
  // cuts a torn or corrupt tail off the newest segment (a crash during an
  // append leaves one; those records were never acknowledged) and appends to
  // a fresh segment. A bad record in an older segment is corruption: XX001.
  static Result<std::unique_ptr<CommitLog>> Open(const CommitLogOptions& options);
  ~CommitLog();
  CommitLog(const CommitLog&) = delete;
  CommitLog& operator=(const CommitLog&) = delete;

  // The records found by Open, in log order (recovery input).
  const std::vector<CommitLogRecord>& recovered() const { return recovered_; }
  void ClearRecovered() {
    recovered_.clear();
    recovered_.shrink_to_fit();
  }

  // Queues a record; returns its ticket for WaitDurable. Cheap: no I/O.
  Result<uint64_t> Append(const CommitLogRecord& record);
  // Returns once every record up to `ticket` is on disk. The caller that
  // finds no flush running writes and syncs everything queued so far, for
  // every waiter (group commit). After a failed write or sync the log refuses
  // all further work (58030): whether the tail reached the disk is unknown,
  // and retrying fsync after a failure is not safe on Linux.
  Status WaitDurable(uint64_t ticket);
  Status AppendDurable(const CommitLogRecord& record);

  // Deletes the closed segments (the one being appended to stays).
  // `make_shards_durable` runs first and must return only when every record
  // in them is durable in its shard. Serialised with other Trim calls;
  // appends continue meanwhile.
  Status Trim(const std::function<Status()>& make_shards_durable);
  // Bytes in closed segments waiting for Trim.
  uint64_t closed_bytes() const;

  CommitLogStats stats() const;

  static Status DecodeRecord(const std::string& body, CommitLogRecord* out);
  static std::string EncodeRecord(const CommitLogRecord& record);

 private:
  explicit CommitLog(CommitLogOptions options) : options_(std::move(options)) {}
  // Creates, zero-fills and switches to a new segment; called by the caller
  // that owns fd_ (flushing_ set).
  Status OpenNewSegment(uint64_t number);
  Status FailedStatus() const;

  CommitLogOptions options_;
  std::vector<CommitLogRecord> recovered_;

  mutable std::mutex mu_;
  std::condition_variable flushed_;
  std::string pending_;    // encoded records not yet written
  uint64_t queued_ = 0;    // tickets handed out
  uint64_t durable_ = 0;   // tickets on disk
  bool flushing_ = false;  // a caller owns fd_ and is writing/syncing
  std::string failure_;    // non-empty once an I/O error poisoned the log
  int fd_ = -1;
  uint64_t segment_number_ = 0;                        // the one fd_ appends to
  uint64_t segment_size_ = 0;                          // bytes of records (and header) written
  uint64_t segment_filled_ = 0;                        // bytes zero-filled ahead of them
  std::vector<std::pair<uint64_t, uint64_t>> closed_;  // (number, bytes)
  uint64_t records_ = 0;
  uint64_t flushes_ = 0;
  std::mutex trim_mu_;
};

}  // namespace sb::storage
