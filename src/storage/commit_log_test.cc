#include "storage/commit_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/test_util.h"

namespace sb::storage {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

CommitLogRecord Commit(uint32_t shard, uint64_t lsn, const std::string& payload) {
  CommitLogRecord r;
  r.shard = shard;
  r.lsn = lsn;
  r.generation = 3;
  r.hlc = 1000 + lsn;
  r.payload = payload;
  return r;
}

std::unique_ptr<CommitLog> OpenLog(const std::string& dir, uint64_t segment_bytes = 1 << 20) {
  CommitLogOptions options;
  options.dir = dir;
  options.segment_bytes = segment_bytes;
  auto log = CommitLog::Open(options);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::move(log).value() : nullptr;
}

std::vector<fs::path> Segments(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Segments are zero-filled when created; records end where the bytes of the
// records written so far end, not at the end of the file.
uint64_t EndOfRecords(const std::vector<CommitLogRecord>& written) {
  uint64_t end = 8;  // the segment header
  for (const auto& r : written) end += CommitLog::EncodeRecord(r).size();
  return end;
}

void OverwriteAt(const fs::path& file, uint64_t offset, const std::string& bytes) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(CommitLog, RecordsSurviveAReopenInOrderWithEveryField) {
  TempDir tmp;
  {
    auto log = OpenLog(tmp.path());
    ASSERT_NE(log, nullptr);
    EXPECT_TRUE(log->recovered().empty());
    ASSERT_TRUE(log->AppendDurable(Commit(2, 1, "first")).ok());
    ASSERT_TRUE(log->AppendDurable(Commit(7, 1, std::string("\0bin\xff", 5))).ok());
    CommitLogRecord abort;
    abort.kind = CommitLogRecord::Kind::kAbort;
    abort.shard = 2;
    abort.lsn = 2;
    ASSERT_TRUE(log->AppendDurable(abort).ok());
  }
  auto log = OpenLog(tmp.path());
  ASSERT_NE(log, nullptr);
  const auto& r = log->recovered();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].shard, 2u);
  EXPECT_EQ(r[0].lsn, 1u);
  EXPECT_EQ(r[0].generation, 3u);
  EXPECT_EQ(r[0].hlc, 1001u);
  EXPECT_EQ(r[0].payload, "first");
  EXPECT_EQ(r[1].shard, 7u);
  EXPECT_EQ(r[1].payload, std::string("\0bin\xff", 5));
  EXPECT_EQ(r[2].kind, CommitLogRecord::Kind::kAbort);
  EXPECT_EQ(r[2].lsn, 2u);
}

TEST(CommitLog, ATornTailIsCutAndLaterAppendsFollowTheIntactRecords) {
  TempDir tmp;
  const std::vector<CommitLogRecord> written = {Commit(0, 1, "kept"), Commit(0, 2, "torn")};
  {
    auto log = OpenLog(tmp.path());
    for (const auto& r : written) ASSERT_TRUE(log->AppendDurable(r).ok());
  }
  // The end of the last record never reached the disk, as in a crash in the
  // middle of a write: its last bytes are still the segment's zero fill.
  const fs::path newest = Segments(tmp.path()).back();
  OverwriteAt(newest, EndOfRecords(written) - 3, std::string(3, '\0'));
  {
    auto log = OpenLog(tmp.path());
    ASSERT_NE(log, nullptr);
    ASSERT_EQ(log->recovered().size(), 1u);
    EXPECT_EQ(log->recovered()[0].payload, "kept");
    ASSERT_TRUE(log->AppendDurable(Commit(0, 2, "again")).ok());
  }
  auto log = OpenLog(tmp.path());
  ASSERT_EQ(log->recovered().size(), 2u);
  EXPECT_EQ(log->recovered()[1].payload, "again");
}

TEST(CommitLog, AFlippedByteInTheNewestSegmentEndsTheLogThere) {
  TempDir tmp;
  const std::vector<CommitLogRecord> written = {Commit(0, 1, "one"), Commit(0, 2, "two")};
  {
    auto log = OpenLog(tmp.path());
    for (const auto& r : written) ASSERT_TRUE(log->AppendDurable(r).ok());
  }
  const fs::path newest = Segments(tmp.path()).back();
  OverwriteAt(newest, EndOfRecords(written) - 1, "X");
  auto log = OpenLog(tmp.path());
  ASSERT_NE(log, nullptr);
  ASSERT_EQ(log->recovered().size(), 1u);
  EXPECT_EQ(log->recovered()[0].payload, "one");
}

TEST(CommitLog, CorruptionInAnOlderSegmentIsRefusedWithXX001) {
  TempDir tmp;
  {
    auto log = OpenLog(tmp.path());
    ASSERT_TRUE(log->AppendDurable(Commit(0, 1, "one")).ok());
  }
  {
    auto log = OpenLog(tmp.path());  // a second segment follows the first
    ASSERT_TRUE(log->AppendDurable(Commit(0, 2, "two")).ok());
  }
  const fs::path oldest = Segments(tmp.path()).front();
  OverwriteAt(oldest, EndOfRecords({Commit(0, 1, "one")}) - 1, "X");
  CommitLogOptions options;
  options.dir = tmp.path();
  auto log = CommitLog::Open(options);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), sqlstate::kDataCorrupted);
  EXPECT_NE(log.status().message().find(oldest.filename().string()), std::string::npos)
      << log.status().message();
}

TEST(CommitLog, ANewSegmentWithoutItsHeaderIsDropped) {
  TempDir tmp;
  {
    auto log = OpenLog(tmp.path());
    ASSERT_TRUE(log->AppendDurable(Commit(0, 1, "one")).ok());
  }
  // A crash while creating the next segment leaves an empty file.
  std::ofstream(tmp.File("00000000000000000099.log")).close();
  auto log = OpenLog(tmp.path());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->recovered().size(), 1u);
  EXPECT_FALSE(fs::exists(tmp.File("00000000000000000099.log")));
}

TEST(CommitLog, ConcurrentCommitsAreAllDurableExactlyOnce) {
  TempDir tmp;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  {
    auto log = OpenLog(tmp.path());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 1; i <= kPerThread; ++i) {
          ASSERT_TRUE(
              log->AppendDurable(Commit(static_cast<uint32_t>(t), static_cast<uint64_t>(i), "x"))
                  .ok());
        }
      });
    }
    for (auto& th : threads) th.join();
    const CommitLogStats stats = log->stats();
    EXPECT_EQ(stats.records, uint64_t{kThreads * kPerThread});
    // One flush can serve many commits, never the other way round.
    EXPECT_LE(stats.flushes, stats.records);
  }
  auto log = OpenLog(tmp.path());
  std::vector<uint64_t> next(kThreads, 1);
  for (const auto& r : log->recovered()) {
    ASSERT_LT(r.shard, static_cast<uint32_t>(kThreads));
    EXPECT_EQ(r.lsn, next[r.shard]) << "shard " << r.shard;  // each writer's order kept
    ++next[r.shard];
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], uint64_t{kPerThread + 1});
}

TEST(CommitLog, SegmentsRollAndTrimDeletesTheClosedOnesAfterTheShardsSync) {
  TempDir tmp;
  auto log = OpenLog(tmp.path(), /*segment_bytes=*/256);
  for (uint64_t lsn = 1; lsn <= 20; ++lsn) {
    ASSERT_TRUE(log->AppendDurable(Commit(0, lsn, std::string(64, 'p'))).ok());
  }
  EXPECT_GT(Segments(tmp.path()).size(), 2u);
  EXPECT_GT(log->closed_bytes(), 0u);
  // A failing sync keeps every segment.
  const size_t before = Segments(tmp.path()).size();
  Status st = log->Trim([] { return Status::IoError("disk gone"); });
  EXPECT_FALSE(st.ok());
  EXPECT_GE(Segments(tmp.path()).size(), before);
  int synced = 0;
  ASSERT_TRUE(log->Trim([&] {
                   ++synced;
                   return Status::Ok();
                 })
                  .ok());
  EXPECT_EQ(synced, 1);
  EXPECT_EQ(log->closed_bytes(), 0u);
  EXPECT_EQ(Segments(tmp.path()).size(), 1u);
  ASSERT_TRUE(log->AppendDurable(Commit(0, 21, "after")).ok());
  log.reset();
  // Only the segment being appended to is left: it ends with LSN 21, and what
  // it holds continues without gaps.
  auto reopened = OpenLog(tmp.path());
  const auto& left = reopened->recovered();
  ASSERT_FALSE(left.empty());
  EXPECT_LT(left.size(), 21u);
  EXPECT_EQ(left.back().lsn, 21u);
  for (size_t i = 1; i < left.size(); ++i) EXPECT_EQ(left[i].lsn, left[i - 1].lsn + 1);
}

TEST(CommitLog, DecodeRefusesGarbage) {
  CommitLogRecord out;
  EXPECT_EQ(CommitLog::DecodeRecord("", &out).code(), sqlstate::kDataCorrupted);
  std::string body(29, '\0');
  body[0] = 9;  // no such kind
  EXPECT_EQ(CommitLog::DecodeRecord(body, &out).code(), sqlstate::kDataCorrupted);
  body[0] = 2;  // an abort with a payload
  EXPECT_EQ(CommitLog::DecodeRecord(body + "x", &out).code(), sqlstate::kDataCorrupted);
  EXPECT_TRUE(CommitLog::DecodeRecord(body, &out).ok());
}

}  // namespace
}  // namespace sb::storage
