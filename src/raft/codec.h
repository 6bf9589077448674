// Binary encoding of Raft values (little-endian, length-prefixed) and CRC-32C.
// Used by the on-disk storage and for configuration entries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "raft/types.h"

namespace sb::raft {

uint32_t Crc32c(std::string_view data, uint32_t seed = 0);

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v);
  void U64(uint64_t v);
  void Bytes(std::string_view v);  // u32 length + bytes
  std::string& out() { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U8(uint8_t* v);
  bool U32(uint32_t* v);
  bool U64(uint64_t* v);
  bool Bytes(std::string* v);
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

void EncodeEntry(Writer& w, const Entry& e);
bool DecodeEntry(Reader& r, Entry* e);
void EncodeHardState(Writer& w, const HardState& hs);
bool DecodeHardState(Reader& r, HardState* hs);
void EncodeConfState(Writer& w, const ConfState& cs);
bool DecodeConfState(Reader& r, ConfState* cs);
void EncodeSnapshotMeta(Writer& w, const SnapshotMeta& m);
bool DecodeSnapshotMeta(Reader& r, SnapshotMeta* m);

std::string EncodeConfStateString(const ConfState& cs);
Result<ConfState> DecodeConfStateString(std::string_view data);

}  // namespace sb::raft

namespace sb::raft {

// A raft::Message for the node transport (RaftBatch elements). The first
// byte is a format version so that nodes of different builds can refuse each
// other's traffic cleanly instead of misreading it during a rolling upgrade.
inline constexpr uint8_t kMessageCodecVersion = 1;

std::string EncodeMessage(const Message& m);
// Fails with SQLSTATE 08P01 on an unknown version, truncated or trailing
// bytes, or out-of-range enum/bool values; never reads past the input.
Result<Message> DecodeMessage(std::string_view data);

}  // namespace sb::raft
