#include "storage/commit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace sb::storage {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'S', 'B', 'C', 'L', 'O', 'G', '0', '1'};
constexpr size_t kHeaderSize = 4 + 8;                 // length, checksum
constexpr size_t kFixedBodySize = 1 + 4 + 8 + 8 + 8;  // kind .. hlc
constexpr uint32_t kMaxBodySize = 1u << 30;           // a sanity bound, not a limit users meet

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetLE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string SegmentName(uint64_t number) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.log", static_cast<unsigned long long>(number));
  return name;
}

Status Errno(const std::string& what) {
  return Status(sqlstate::kIoError, what + ": " + std::strerror(errno));
}

Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open commit log directory " + dir);
  const int rc = ::fsync(fd);
  Status st = rc == 0 ? Status::Ok() : Errno("cannot sync commit log directory " + dir);
  ::close(fd);
  return st;
}

Status WriteAll(int fd, const char* data, size_t size, uint64_t offset, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write commit log " + path);
    }
    data += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Segments are zero-filled ahead of the records, a step at a time, as
// PostgreSQL fills its WAL segments: an fdatasync after writing into blocks
// that already exist flushes only data, where one after growing the file must
// also commit the new size and blocks through the filesystem journal. Growing
// in steps makes that extra cost rare without writing a whole segment at
// every start.
constexpr uint64_t kZeroFillStep = 1 << 20;

// Writes zeros from *filled up to `to`, rounded up to a step.
Status ZeroFill(int fd, uint64_t* filled, uint64_t to, const std::string& path) {
  to = (to + kZeroFillStep - 1) / kZeroFillStep * kZeroFillStep;
  static const std::string zeros(kZeroFillStep, '\0');
  while (*filled < to) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), to - *filled));
    SB_RETURN_IF_ERROR(WriteAll(fd, zeros.data(), n, *filled, path));
    *filled += n;
  }
  return Status::Ok();
}

// Segments in DIR by number, ascending.
Result<std::vector<uint64_t>> ListSegments(const std::string& dir) {
  std::vector<uint64_t> numbers;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 24 || name.substr(20) != ".log") continue;
    uint64_t number = 0;
    const auto [end, err] = std::from_chars(name.data(), name.data() + 20, number);
    if (err != std::errc() || end != name.data() + 20) continue;  // not one of ours
    numbers.push_back(number);
  }
  if (ec) {
    return Status(sqlstate::kIoError,
                  "cannot list commit log directory " + dir + ": " + ec.message());
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

}  // namespace

std::string CommitLog::EncodeRecord(const CommitLogRecord& r) {
  std::string body;
  body.reserve(kFixedBodySize + r.payload.size());
  body.push_back(static_cast<char>(r.kind));
  PutU32(&body, r.shard);
  PutU64(&body, r.lsn);
  PutU64(&body, r.generation);
  PutU64(&body, r.hlc);
  if (r.kind == CommitLogRecord::Kind::kCommit) body += r.payload;
  std::string out;
  out.reserve(kHeaderSize + body.size());
  PutU32(&out, static_cast<uint32_t>(body.size()));
  PutU64(&out, XXH64(body.data(), body.size(), 0));
  out += body;
  return out;
}

Status CommitLog::DecodeRecord(const std::string& body, CommitLogRecord* out) {
  if (body.size() < kFixedBodySize) {
    return Status(sqlstate::kDataCorrupted, "commit log record is too short");
  }
  const auto kind = static_cast<uint8_t>(body[0]);
  if (kind != 1 && kind != 2) {
    return Status(sqlstate::kDataCorrupted,
                  "commit log record has unknown kind " + std::to_string(kind));
  }
  out->kind = static_cast<CommitLogRecord::Kind>(kind);
  out->shard = static_cast<uint32_t>(GetLE(body.data() + 1, 4));
  out->lsn = GetLE(body.data() + 5, 8);
  out->generation = GetLE(body.data() + 13, 8);
  out->hlc = GetLE(body.data() + 21, 8);
  out->payload = body.substr(kFixedBodySize);
  if (out->kind == CommitLogRecord::Kind::kAbort && !out->payload.empty()) {
    return Status(sqlstate::kDataCorrupted, "commit log abort record carries a payload");
  }
  return Status::Ok();
}

Result<std::unique_ptr<CommitLog>> CommitLog::Open(const CommitLogOptions& options) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) {
    return Status(sqlstate::kIoError,
                  "cannot create commit log directory " + options.dir + ": " + ec.message());
  }
  std::unique_ptr<CommitLog> log(new CommitLog(options));
  SB_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(options.dir));
  for (size_t i = 0; i < segments.size(); ++i) {
    const bool newest = i + 1 == segments.size();
    const std::string path = (fs::path(options.dir) / SegmentName(segments[i])).string();
    std::ifstream in(path, std::ios::binary);
    if (!in) return Errno("cannot open commit log segment " + path);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return Errno("cannot read commit log segment " + path);
    // Where the intact part of the segment ends; only the newest segment may
    // have a torn tail.
    size_t good = 0;
    std::string problem;
    if (data.size() < sizeof(kMagic)) {
      problem = "it is shorter than its header";
    } else if (std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
      problem = "its header is not a ScratchBird commit log header";
    } else {
      good = sizeof(kMagic);
      while (good < data.size()) {
        if (data.size() - good < kHeaderSize) {
          problem = "it ends inside a record header";
          break;
        }
        const uint32_t length = static_cast<uint32_t>(GetLE(data.data() + good, 4));
        const uint64_t sum = GetLE(data.data() + good + 4, 8);
        if (length == 0 && sum == 0) {
          // The zero-filled, never written part of the segment. (No record has
          // an empty body, and a torn write that left a zero header is
          // followed only by records never acknowledged.)
          break;
        }
        if (length > kMaxBodySize || data.size() - good - kHeaderSize < length) {
          problem = "it ends inside a record";
          break;
        }
        std::string body = data.substr(good + kHeaderSize, length);
        if (XXH64(body.data(), body.size(), 0) != sum) {
          problem = "a record's checksum does not match";
          break;
        }
        CommitLogRecord record;
        if (Status st = DecodeRecord(body, &record); !st.ok()) {
          problem = st.message();
          break;
        }
        log->recovered_.push_back(std::move(record));
        good += kHeaderSize + length;
      }
    }
    if (!problem.empty()) {
      if (newest && good == 0) {
        // A crash while a new segment was being created: it holds nothing.
        if (::unlink(path.c_str()) != 0) return Errno("cannot remove empty segment " + path);
        continue;
      }
      if (!newest) {
        return Status(sqlstate::kDataCorrupted,
                      "commit log segment " + path + " is corrupt at byte " + std::to_string(good) +
                          ": " + problem,
                      "Restore the data directory from a backup; the shards may be missing "
                      "acknowledged commits that only this segment holds.");
      }
      // A crash in the middle of an append: the records cut off here were
      // never acknowledged. Cut them so later appends follow intact records.
      if (::truncate(path.c_str(), static_cast<off_t>(good)) != 0) {
        return Errno("cannot cut the torn tail of commit log segment " + path);
      }
    }
    log->closed_.emplace_back(segments[i], good);
  }
  log->flushing_ = true;  // Open owns the file descriptor, as a flusher would
  Status st = log->OpenNewSegment(segments.empty() ? 1 : segments.back() + 1);
  log->flushing_ = false;
  if (!st.ok()) return st;
  return log;
}

CommitLog::~CommitLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status CommitLog::OpenNewSegment(uint64_t number) {
  const std::string path = (fs::path(options_.dir) / SegmentName(number)).string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create commit log segment " + path);
  Status st = WriteAll(fd, kMagic, sizeof(kMagic), 0, path);
  uint64_t filled = sizeof(kMagic);
  if (st.ok()) st = ZeroFill(fd, &filled, kZeroFillStep, path);
  if (st.ok() && ::fdatasync(fd) != 0) st = Errno("cannot sync commit log segment " + path);
  if (st.ok()) st = SyncDirectory(options_.dir);
  if (!st.ok()) {
    ::close(fd);
    return st;
  }
  const int old_fd = fd_;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (old_fd >= 0) closed_.emplace_back(segment_number_, segment_size_);
    fd_ = fd;
    segment_number_ = number;
    segment_size_ = sizeof(kMagic);
    segment_filled_ = filled;
  }
  if (old_fd >= 0) ::close(old_fd);
  return Status::Ok();
}

Status CommitLog::FailedStatus() const {
  return Status(sqlstate::kIoError, "the commit log cannot be written: " + failure_,
                "Commits are refused until the node restarts, because it is unknown whether "
                "the last commits reached the disk. Check the disk, then restart the node.");
}

Result<uint64_t> CommitLog::Append(const CommitLogRecord& record) {
  std::string encoded = EncodeRecord(record);
  std::lock_guard<std::mutex> l(mu_);
  if (!failure_.empty()) return FailedStatus();
  pending_ += encoded;
  ++records_;
  return ++queued_;
}

Status CommitLog::WaitDurable(uint64_t ticket) {
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    if (!failure_.empty()) return FailedStatus();
    if (durable_ >= ticket) return Status::Ok();
    if (flushing_) {
      flushed_.wait(l);
      continue;
    }
    flushing_ = true;
    std::string batch;
    batch.swap(pending_);
    const uint64_t target = queued_;
    l.unlock();
    const std::string path = (fs::path(options_.dir) / SegmentName(segment_number_)).string();
    Status st =
        segment_size_ + batch.size() > segment_filled_
            ? ZeroFill(fd_, &segment_filled_, segment_size_ + batch.size() + kZeroFillStep, path)
            : Status::Ok();
    if (st.ok()) st = WriteAll(fd_, batch.data(), batch.size(), segment_size_, path);
    if (st.ok() && ::fdatasync(fd_) != 0) st = Errno("cannot sync commit log " + path);
    segment_size_ += batch.size();
    if (st.ok() && segment_size_ > options_.segment_bytes) {
      st = OpenNewSegment(segment_number_ + 1);
    }
    l.lock();
    flushing_ = false;
    ++flushes_;
    if (st.ok()) {
      durable_ = target;
    } else {
      failure_ = st.message();
    }
    flushed_.notify_all();
  }
}

Status CommitLog::AppendDurable(const CommitLogRecord& record) {
  SB_ASSIGN_OR_RETURN(uint64_t ticket, Append(record));
  return WaitDurable(ticket);
}

uint64_t CommitLog::closed_bytes() const {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t total = 0;
  for (const auto& [number, bytes] : closed_) total += bytes;
  return total;
}

CommitLogStats CommitLog::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return CommitLogStats{records_, flushes_, closed_.size() + 1};
}

Status CommitLog::Trim(const std::function<Status()>& make_shards_durable) {
  std::lock_guard<std::mutex> trim_lock(trim_mu_);
  std::vector<std::pair<uint64_t, uint64_t>> closed;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!failure_.empty()) return FailedStatus();
    closed = closed_;
  }
  if (closed.empty()) return Status::Ok();
  SB_RETURN_IF_ERROR(make_shards_durable());
  for (const auto& [number, bytes] : closed) {
    const std::string path = (fs::path(options_.dir) / SegmentName(number)).string();
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Errno("cannot delete commit log segment " + path);
    }
  }
  SB_RETURN_IF_ERROR(SyncDirectory(options_.dir));
  std::lock_guard<std::mutex> l(mu_);
  closed_.erase(closed_.begin(), closed_.begin() + static_cast<ptrdiff_t>(closed.size()));
  return Status::Ok();
}

}  // namespace sb::storage
