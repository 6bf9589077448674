// On-disk Raft storage: a write-ahead log of checksummed records in segment
// files plus snapshot files, all in one directory.
//
// Record framing: u32 payload length, u32 CRC-32C of (type byte + payload),
// u8 type, payload. Types: entry, hard state, snapshot marker (the log was
// replaced by an installed snapshot). Replay applies records in order; an
// entry record at index i discards any entries >= i first.
//
// Durability: every Save() is one write followed by one fdatasync (group
// commit); new files and renames are followed by an fsync of the directory.
// Snapshots are written to a temporary file, synced, renamed, and the
// directory synced.
//
// Recovery: a torn record at the tail of the newest segment (short, or bad
// checksum followed only by zeros/EOF) is truncated away. Any other damage is
// corruption and Load() fails with SQLSTATE XX001 naming the file and offset.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raft/storage.h"

namespace sb::raft {

struct DiskStorageOptions {
  uint64_t segment_bytes = 64ull << 20;  // rotate the log after this size
  bool sync = true;                      // tests may disable to go faster; never in production
};

class DiskStorage : public Storage {
 public:
  explicit DiskStorage(std::string dir, DiskStorageOptions opts = {});
  ~DiskStorage() override;
  DiskStorage(const DiskStorage&) = delete;
  DiskStorage& operator=(const DiskStorage&) = delete;

  // Creates the directory if needed. Must be called (once) before Save().
  Result<InitialState> Load() override;
  Status Save(const HardState* hs, const std::vector<Entry>& entries, const Snapshot* installed,
              bool sync = true) override;
  Status Compact(const Snapshot& snap) override;

  // Statistics.
  uint64_t syncs() const { return syncs_; }
  uint64_t truncated_tail_bytes() const { return truncated_tail_bytes_; }
  const std::string& dir() const { return dir_; }

 private:
  struct Segment {
    uint64_t seq = 0;
    Index max_index = 0;
    std::string path;
  };
  Status OpenNewSegment();
  Status WriteAndSync(const std::string& buf, bool sync = true);
  Status SyncDir();
  Status WriteSnapshotFile(const Snapshot& snap);
  void AppendRecord(std::string& buf, uint8_t type, const std::string& payload);

  std::string dir_;
  DiskStorageOptions opts_;
  int fd_ = -1;  // current segment
  uint64_t fd_size_ = 0;
  std::vector<Segment> segments_;
  HardState hs_;
  Index snap_index_ = 0;
  uint64_t syncs_ = 0;
  uint64_t truncated_tail_bytes_ = 0;
  bool loaded_ = false;
};

}  // namespace sb::raft
