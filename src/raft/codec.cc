#include "raft/codec.h"

#include <array>
#include <cstring>

namespace sb::raft {

namespace {
std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (0x82F63B78u ^ (c >> 1)) : (c >> 1);
    t[i] = c;
  }
  return t;
}
}  // namespace

uint32_t Crc32c(std::string_view data, uint32_t seed) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  uint32_t c = ~seed;
  for (unsigned char ch : data) c = table[(c ^ ch) & 0xFF] ^ (c >> 8);
  return ~c;
}

void Writer::U32(uint32_t v) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void Writer::U64(uint64_t v) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void Writer::Bytes(std::string_view v) {
  U32(static_cast<uint32_t>(v.size()));
  out_.append(v);
}

bool Reader::U8(uint8_t* v) {
  if (pos_ + 1 > in_.size()) return false;
  *v = static_cast<uint8_t>(in_[pos_++]);
  return true;
}
bool Reader::U32(uint32_t* v) {
  if (pos_ + 4 > in_.size()) return false;
  uint32_t x = 0;
  for (int i = 0; i < 4; ++i) x |= uint32_t(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
  pos_ += 4;
  *v = x;
  return true;
}
bool Reader::U64(uint64_t* v) {
  if (pos_ + 8 > in_.size()) return false;
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x |= uint64_t(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
  pos_ += 8;
  *v = x;
  return true;
}
bool Reader::Bytes(std::string* v) {
  uint32_t n = 0;
  if (!U32(&n) || pos_ + n > in_.size()) return false;
  v->assign(in_.substr(pos_, n));
  pos_ += n;
  return true;
}

void EncodeEntry(Writer& w, const Entry& e) {
  w.U64(e.term);
  w.U64(e.index);
  w.U8(static_cast<uint8_t>(e.type));
  w.Bytes(e.data);
}
bool DecodeEntry(Reader& r, Entry* e) {
  uint8_t t = 0;
  if (!r.U64(&e->term) || !r.U64(&e->index) || !r.U8(&t) || !r.Bytes(&e->data)) return false;
  if (t > 1) return false;
  e->type = static_cast<EntryType>(t);
  return true;
}
void EncodeHardState(Writer& w, const HardState& hs) {
  w.U64(hs.term);
  w.U64(hs.vote);
  w.U64(hs.commit);
}
bool DecodeHardState(Reader& r, HardState* hs) {
  return r.U64(&hs->term) && r.U64(&hs->vote) && r.U64(&hs->commit);
}
void EncodeConfState(Writer& w, const ConfState& cs) {
  w.U32(static_cast<uint32_t>(cs.voters.size()));
  for (NodeId id : cs.voters) w.U64(id);
  w.U32(static_cast<uint32_t>(cs.learners.size()));
  for (NodeId id : cs.learners) w.U64(id);
}
bool DecodeConfState(Reader& r, ConfState* cs) {
  uint32_t n = 0;
  cs->voters.clear();
  cs->learners.clear();
  if (!r.U32(&n) || n > 4096) return false;
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    if (!r.U64(&id)) return false;
    cs->voters.push_back(id);
  }
  if (!r.U32(&n) || n > 4096) return false;
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    if (!r.U64(&id)) return false;
    cs->learners.push_back(id);
  }
  return true;
}
void EncodeSnapshotMeta(Writer& w, const SnapshotMeta& m) {
  w.U64(m.index);
  w.U64(m.term);
  EncodeConfState(w, m.conf);
}
bool DecodeSnapshotMeta(Reader& r, SnapshotMeta* m) {
  return r.U64(&m->index) && r.U64(&m->term) && DecodeConfState(r, &m->conf);
}

std::string EncodeConfStateString(const ConfState& cs) {
  Writer w;
  EncodeConfState(w, cs);
  return w.Take();
}
Result<ConfState> DecodeConfStateString(std::string_view data) {
  Reader r(data);
  ConfState cs;
  if (!DecodeConfState(r, &cs) || !r.done())
    return Status::Error(sqlstate::kDataCorrupted, "raft: malformed configuration entry");
  return cs;
}

}  // namespace sb::raft

namespace sb::raft {

namespace {
// Smallest encoding of one entry: term, index, type, data length.
constexpr size_t kMinEntryBytes = 8 + 8 + 1 + 4;

bool DecodeBool(Reader& r, bool* v) {
  uint8_t b = 0;
  if (!r.U8(&b) || b > 1) return false;
  *v = b == 1;
  return true;
}

Status Malformed(std::string_view what) {
  return Status::Error(sqlstate::kProtocolViolation,
                       "raft: malformed message from peer (" + std::string(what) + ")",
                       "the peer may run an incompatible version; check `scratchbird version` "
                       "on every node");
}
}  // namespace

std::string EncodeMessage(const Message& m) {
  Writer w;
  w.U8(kMessageCodecVersion);
  w.U8(static_cast<uint8_t>(m.type));
  w.U64(m.from);
  w.U64(m.to);
  w.U64(m.term);
  w.U64(m.log_term);
  w.U64(m.index);
  w.U32(static_cast<uint32_t>(m.entries.size()));
  for (const Entry& e : m.entries) EncodeEntry(w, e);
  w.U64(m.commit);
  w.U8(m.reject ? 1 : 0);
  w.U64(m.reject_hint);
  w.U64(m.ctx);
  EncodeSnapshotMeta(w, m.snap_meta);
  w.U64(m.snap_offset);
  w.Bytes(m.snap_data);
  w.U8(m.snap_done ? 1 : 0);
  return w.Take();
}

Result<Message> DecodeMessage(std::string_view data) {
  Reader r(data);
  uint8_t version = 0;
  if (!r.U8(&version)) return Malformed("empty");
  if (version != kMessageCodecVersion)
    return Malformed("unknown format version " + std::to_string(version));
  Message m;
  uint8_t type = 0;
  if (!r.U8(&type)) return Malformed("truncated header");
  if (type > static_cast<uint8_t>(MsgType::kTimeoutNow))
    return Malformed("unknown message type " + std::to_string(type));
  m.type = static_cast<MsgType>(type);
  uint32_t n = 0;
  if (!r.U64(&m.from) || !r.U64(&m.to) || !r.U64(&m.term) || !r.U64(&m.log_term) ||
      !r.U64(&m.index) || !r.U32(&n))
    return Malformed("truncated header");
  // Bound the count by what the input could hold so a corrupt count cannot
  // make us reserve gigabytes.
  if (n > data.size() / kMinEntryBytes) return Malformed("entry count exceeds message size");
  m.entries.resize(n);
  for (Entry& e : m.entries)
    if (!DecodeEntry(r, &e)) return Malformed("truncated or invalid entry");
  if (!r.U64(&m.commit) || !DecodeBool(r, &m.reject) || !r.U64(&m.reject_hint) || !r.U64(&m.ctx) ||
      !DecodeSnapshotMeta(r, &m.snap_meta) || !r.U64(&m.snap_offset) || !r.Bytes(&m.snap_data) ||
      !DecodeBool(r, &m.snap_done))
    return Malformed("truncated or invalid trailer");
  if (!r.done()) return Malformed("trailing bytes");
  return m;
}

}  // namespace sb::raft
