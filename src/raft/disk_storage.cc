#include "raft/disk_storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "raft/codec.h"

namespace sb::raft {

namespace {
constexpr uint8_t kRecEntry = 1;
constexpr uint8_t kRecHardState = 2;
constexpr uint8_t kRecSnapshotMarker = 3;
constexpr size_t kHeader = 9;  // len(4) crc(4) type(1)
constexpr uint32_t kMaxRecord = 512u << 20;
constexpr const char* kSnapMagic = "SBSNAP01";

Status Errno(const std::string& what, const std::string& path) {
  return Status::IoError("raft storage: " + what + " " + path + ": " + std::strerror(errno))
      .WithHint("check the disk and the permissions of the data directory");
}
Status Corrupt(const std::string& path, uint64_t off, const std::string& why) {
  return Status::Error(
      sqlstate::kDataCorrupted,
      "raft storage: corruption in " + path + " at offset " + std::to_string(off) + ": " + why,
      "the node cannot start safely; restore this node from a peer (remove "
      "its data directory and re-add it) or from backup");
}

Status WriteAll(int fd, const char* p, size_t n, uint64_t off, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path);
    }
    p += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Errno("read", path);
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return out;
}

uint32_t Le32(const std::string& s, size_t off) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<uint8_t>(s[off + i])) << (8 * i);
  return v;
}

// True if some offset >= from starts a record whose checksum verifies.
bool IntactRecordAfter(const std::string& raw, size_t from) {
  for (size_t p = from; p + kHeader <= raw.size(); ++p) {
    uint32_t len = Le32(raw, p);
    if (len > raw.size() - p - kHeader) continue;
    uint8_t type = static_cast<uint8_t>(raw[p + 8]);
    if (type < 1 || type > 3) continue;
    if (Crc32c(std::string_view(raw).substr(p + 8, len + 1)) == Le32(raw, p + 4)) return true;
  }
  return false;
}

std::string SegName(uint64_t seq) {
  char b[64];
  std::snprintf(b, sizeof b, "wal-%016llx.log", static_cast<unsigned long long>(seq));
  return b;
}
std::string SnapName(Index idx) {
  char b[64];
  std::snprintf(b, sizeof b, "snap-%016llx.snap", static_cast<unsigned long long>(idx));
  return b;
}
}  // namespace

DiskStorage::DiskStorage(std::string dir, DiskStorageOptions opts)
    : dir_(std::move(dir)), opts_(opts) {}

DiskStorage::~DiskStorage() {
  if (fd_ >= 0) ::close(fd_);
}

Status DiskStorage::SyncDir() {
  if (!opts_.sync) return Status::Ok();
  int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open directory", dir_);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync directory", dir_);
  return Status::Ok();
}

void DiskStorage::AppendRecord(std::string& buf, uint8_t type, const std::string& payload) {
  std::string body;
  body.reserve(payload.size() + 1);
  body.push_back(static_cast<char>(type));
  body.append(payload);
  Writer w;
  w.U32(static_cast<uint32_t>(payload.size()));
  w.U32(Crc32c(body));
  buf.append(w.out());
  buf.append(body);
}

Result<InitialState> DiskStorage::Load() {
  if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", dir_);
  std::vector<std::string> names;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return Errno("opendir", dir_);
  while (dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());

  InitialState st;
  // Snapshots: the newest complete one wins (files appear only by rename).
  std::vector<std::string> snaps;
  for (auto& n : names) {
    if (n.ends_with(".tmp")) {
      ::unlink((dir_ + "/" + n).c_str());
    } else if (n.starts_with("snap-") && n.ends_with(".snap")) {
      snaps.push_back(n);
    }
  }
  if (!snaps.empty()) {
    std::string path = dir_ + "/" + snaps.back();
    SB_ASSIGN_OR_RETURN(std::string raw, ReadFile(path));
    size_t ml = std::strlen(kSnapMagic);
    if (raw.size() < ml + 4 || raw.compare(0, ml, kSnapMagic) != 0)
      return Corrupt(path, 0, "bad snapshot header");
    uint32_t crc = Le32(raw, ml);
    std::string body = raw.substr(ml + 4);
    if (Crc32c(body) != crc) return Corrupt(path, ml, "snapshot checksum mismatch");
    Reader r(body);
    if (!DecodeSnapshotMeta(r, &st.snapshot.meta) || !r.Bytes(&st.snapshot.data) || !r.done())
      return Corrupt(path, ml + 4, "malformed snapshot");
    snap_index_ = st.snapshot.meta.index;
  }

  // Log segments, oldest first.
  std::vector<Entry> log;  // log[0] has index base+1
  Index base = 0;
  for (auto& n : names) {
    if (!(n.starts_with("wal-") && n.ends_with(".log"))) continue;
    Segment seg;
    seg.seq = std::strtoull(n.c_str() + 4, nullptr, 16);
    seg.path = dir_ + "/" + n;
    segments_.push_back(seg);
  }
  for (size_t si = 0; si < segments_.size(); ++si) {
    Segment& seg = segments_[si];
    bool last_seg = si + 1 == segments_.size();
    SB_ASSIGN_OR_RETURN(std::string raw, ReadFile(seg.path));
    size_t off = 0;
    while (off < raw.size()) {
      std::string why;
      bool bad = false;
      uint32_t len = 0;
      if (raw.size() - off < kHeader) {
        bad = true;
        why = "short record header";
      } else {
        len = Le32(raw, off);
        uint32_t crc = Le32(raw, off + 4);
        if (len > kMaxRecord) {
          bad = true;
          why = "implausible record length";
        } else if (raw.size() - off - kHeader < len) {
          bad = true;
          why = "record extends past end of file";
        } else if (Crc32c(std::string_view(raw).substr(off + 8, len + 1)) != crc) {
          bad = true;
          why = "record checksum mismatch";
        }
      }
      if (bad) {
        // A torn tail: only in the newest segment, and only when no intact
        // record follows the damaged one (a crash interrupted the last write).
        // Anything else is corruption and stops the node.
        bool torn = last_seg && !IntactRecordAfter(raw, off + 1);
        if (!torn) return Corrupt(seg.path, off, why);
        int fd = ::open(seg.path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) return Errno("open", seg.path);
        if (::ftruncate(fd, static_cast<off_t>(off)) != 0 || (opts_.sync && ::fsync(fd) != 0)) {
          ::close(fd);
          return Errno("truncate torn tail of", seg.path);
        }
        ::close(fd);
        truncated_tail_bytes_ += raw.size() - off;
        raw.resize(off);
        break;
      }
      uint8_t type = static_cast<uint8_t>(raw[off + 8]);
      std::string_view payload = std::string_view(raw).substr(off + kHeader, len);
      Reader r(payload);
      if (type == kRecEntry) {
        Entry e;
        if (!DecodeEntry(r, &e) || !r.done()) return Corrupt(seg.path, off, "malformed entry");
        if (e.index <= base) {
          log.clear();
          base = e.index - 1;
        } else if (e.index <= base + log.size()) {
          log.resize(e.index - base - 1);
        } else if (e.index != base + log.size() + 1) {
          if (!log.empty() || base != 0)
            return Corrupt(seg.path, off, "gap in the log before index " + std::to_string(e.index));
          base = e.index - 1;
        }
        seg.max_index = std::max(seg.max_index, e.index);
        log.push_back(std::move(e));
      } else if (type == kRecHardState) {
        if (!DecodeHardState(r, &st.hard_state) || !r.done())
          return Corrupt(seg.path, off, "malformed hard state");
      } else if (type == kRecSnapshotMarker) {
        uint64_t idx = 0, term = 0;
        if (!r.U64(&idx) || !r.U64(&term)) return Corrupt(seg.path, off, "malformed marker");
        log.clear();
        base = idx;
        seg.max_index = std::max(seg.max_index, idx);
      } else {
        return Corrupt(seg.path, off, "unknown record type " + std::to_string(type));
      }
      off += kHeader + len;
    }
    if (last_seg) fd_size_ = raw.size();
  }
  // Keep only entries after the snapshot, and only if contiguous with it.
  // If the log holds the snapshot's own index with another term, the node
  // crashed after writing an installed snapshot but before the marker that
  // discards the old log: everything after it belongs to a divergent history.
  Index si = st.snapshot.meta.index;
  bool divergent = false;
  for (const Entry& e : log)
    if (e.index == si && e.term != st.snapshot.meta.term) divergent = true;
  for (Entry& e : log) {
    if (divergent) break;
    if (e.index <= si) continue;
    if (st.entries.empty() && e.index != si + 1) break;
    st.entries.push_back(std::move(e));
  }
  hs_ = st.hard_state;
  if (segments_.empty()) {
    SB_RETURN_IF_ERROR(OpenNewSegment());
  } else {
    const std::string& p = segments_.back().path;
    fd_ = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) return Errno("open", p);
  }
  loaded_ = true;
  return st;
}

Status DiskStorage::OpenNewSegment() {
  uint64_t seq = segments_.empty() ? 1 : segments_.back().seq + 1;
  Segment seg;
  seg.seq = seq;
  seg.path = dir_ + "/" + SegName(seq);
  int fd = ::open(seg.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", seg.path);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  fd_size_ = 0;
  segments_.push_back(seg);
  // Every segment starts with the current hard state, so older segments can be
  // deleted after compaction without losing it.
  std::string buf;
  Writer w;
  EncodeHardState(w, hs_);
  AppendRecord(buf, kRecHardState, w.Take());
  SB_RETURN_IF_ERROR(WriteAndSync(buf));
  return SyncDir();
}

Status DiskStorage::WriteAndSync(const std::string& buf, bool sync) {
  SB_RETURN_IF_ERROR(WriteAll(fd_, buf.data(), buf.size(), fd_size_, segments_.back().path));
  fd_size_ += buf.size();
  if (opts_.sync && sync) {
    if (::fdatasync(fd_) != 0) return Errno("fdatasync", segments_.back().path);
    ++syncs_;
  }
  return Status::Ok();
}

Status DiskStorage::Save(const HardState* hs, const std::vector<Entry>& entries,
                         const Snapshot* installed, bool sync) {
  if (!loaded_) return Status::Internal("raft storage: Save() before Load()");
  if (installed) {
    SB_RETURN_IF_ERROR(WriteSnapshotFile(*installed));
    std::string buf;
    Writer w;
    w.U64(installed->meta.index);
    w.U64(installed->meta.term);
    AppendRecord(buf, kRecSnapshotMarker, w.Take());
    SB_RETURN_IF_ERROR(WriteAndSync(buf));
    segments_.back().max_index = std::max(segments_.back().max_index, installed->meta.index);
    snap_index_ = installed->meta.index;
  }
  if (entries.empty() && !hs) return Status::Ok();
  if (fd_size_ >= opts_.segment_bytes) {
    // The new segment starts with the hard state as of before this batch; the
    // batch itself carries the new one after its entries.
    SB_RETURN_IF_ERROR(OpenNewSegment());
  }
  std::string buf;
  for (const Entry& e : entries) {
    Writer w;
    EncodeEntry(w, e);
    AppendRecord(buf, kRecEntry, w.Take());
    segments_.back().max_index = std::max(segments_.back().max_index, e.index);
  }
  if (hs) {
    Writer w;
    EncodeHardState(w, *hs);
    AppendRecord(buf, kRecHardState, w.Take());
    hs_ = *hs;
  }
  return WriteAndSync(buf, sync || installed != nullptr);
}

Status DiskStorage::WriteSnapshotFile(const Snapshot& snap) {
  Writer w;
  EncodeSnapshotMeta(w, snap.meta);
  w.Bytes(snap.data);
  std::string body = w.Take();
  Writer h;
  h.U32(Crc32c(body));
  std::string file = std::string(kSnapMagic) + h.Take() + body;
  std::string final_path = dir_ + "/" + SnapName(snap.meta.index);
  std::string tmp = final_path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", tmp);
  Status s = WriteAll(fd, file.data(), file.size(), 0, tmp);
  if (s.ok() && opts_.sync && ::fsync(fd) != 0) s = Errno("fsync", tmp);
  ::close(fd);
  SB_RETURN_IF_ERROR(s);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) return Errno("rename", tmp);
  SB_RETURN_IF_ERROR(SyncDir());
  // Older snapshots are now redundant.
  DIR* d = ::opendir(dir_.c_str());
  if (d) {
    std::vector<std::string> old;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.starts_with("snap-") && n.ends_with(".snap") && n < SnapName(snap.meta.index))
        old.push_back(n);
    }
    ::closedir(d);
    for (auto& n : old) ::unlink((dir_ + "/" + n).c_str());
  }
  return Status::Ok();
}

Status DiskStorage::Compact(const Snapshot& snap) {
  if (!loaded_) return Status::Internal("raft storage: Compact() before Load()");
  if (snap.meta.index <= snap_index_) return Status::Ok();
  SB_RETURN_IF_ERROR(WriteSnapshotFile(snap));
  snap_index_ = snap.meta.index;
  // Drop whole segments the snapshot covers (never the current one).
  bool removed = false;
  while (segments_.size() > 1 && segments_.front().max_index <= snap_index_) {
    ::unlink(segments_.front().path.c_str());
    segments_.erase(segments_.begin());
    removed = true;
  }
  if (removed) SB_RETURN_IF_ERROR(SyncDir());
  return Status::Ok();
}

}  // namespace sb::raft
