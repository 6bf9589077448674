#include "meta/epoch_chain.h"

#include <algorithm>

namespace sb::meta {
namespace {

// Snapshot layout (docs/epochs.md):
//   "SBCCS" 0x01 | u8 has_cluster | [16-byte cluster_uuid] | u64 count |
//   count × (u32 n | n-byte EpochPublish entry | u8 state | i64 effective_at_ns)
constexpr std::string_view kSnapshotTag{"SBCCS\x01", 6};

const Sha256Digest kZeroHash{};

void PutUint(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// Reads `bytes` big-endian bytes at *pos if they are there.
bool GetUint(std::string_view in, size_t* pos, int bytes, uint64_t* v) {
  if (in.size() - *pos < static_cast<size_t>(bytes)) return false;
  *v = 0;
  for (int i = 0; i < bytes; ++i) *v = (*v << 8) | static_cast<uint8_t>(in[(*pos)++]);
  return true;
}

Status BadSnapshot(const std::string& what) {
  return Status::Error(sqlstate::kDataCorrupted, "epoch snapshot: " + what,
                       "restore from another node's snapshot");
}

}  // namespace

const Sha256Digest& EpochChain::current_hash() const {
  return hashes_.empty() ? kZeroHash : hashes_.back();
}

const ClusterConfigEpoch* EpochChain::Current() const {
  return epochs_.empty() ? nullptr : &epochs_.back();
}

const ClusterConfigEpoch* EpochChain::Get(uint64_t number) const {
  if (number == 0 || number > epochs_.size()) return nullptr;
  return &epochs_[number - 1];
}

const Sha256Digest* EpochChain::HashOf(uint64_t number) const {
  if (number == 0 || number > hashes_.size()) return nullptr;
  return &hashes_[number - 1];
}

ApplyOutcome EpochChain::Apply(std::string_view entry, const SignerRegistry& signers,
                               uint32_t min_signatures) {
  ApplyOutcome outcome;
  Result<ClusterConfigEpoch> decoded = DecodeEpochEntry(entry, max_entry_bytes_);
  Status st =
      decoded.ok() ? ValidateNext(*this, *decoded, signers, min_signatures) : decoded.status();
  if (!st.ok()) {
    ++rejected_epochs_;
    outcome.reason = std::move(st);
    return outcome;
  }
  ClusterConfigEpoch epoch = std::move(decoded).value();
  epoch.state = EpochState::kConverging;
  epoch.effective_at_ns = 0;
  Sha256Digest hash = EpochHash(epoch);
  if (!epochs_.empty()) epochs_.back().state = EpochState::kSuperseded;
  if (!cluster_uuid_) cluster_uuid_ = epoch.cluster_uuid;
  epochs_.push_back(std::move(epoch));
  hashes_.push_back(hash);
  outcome.applied = true;
  outcome.number = epochs_.size();
  return outcome;
}

Status EpochChain::MarkEffective(uint64_t number, int64_t effective_at_ns) {
  ClusterConfigEpoch* cur = epochs_.empty() ? nullptr : &epochs_.back();
  if (cur == nullptr || cur->number != number) {
    return Status::InvalidArgument("epoch " + std::to_string(number) +
                                   " cannot become EFFECTIVE: the current epoch is " +
                                   std::to_string(current_number()));
  }
  if (cur->state != EpochState::kConverging) {
    return Status::InvalidArgument("epoch " + std::to_string(number) + " is " +
                                   EpochStateName(cur->state) + ", not CONVERGING");
  }
  if (effective_at_ns < cur->published_at_ns) {
    return Status::InvalidArgument("epoch " + std::to_string(number) +
                                   ": effective_at precedes published_at");
  }
  cur->state = EpochState::kEffective;
  cur->effective_at_ns = effective_at_ns;
  return Status::Ok();
}

std::string EpochChain::Snapshot() const {
  std::string out(kSnapshotTag);
  out.push_back(cluster_uuid_ ? 1 : 0);
  if (cluster_uuid_) {
    out.append(reinterpret_cast<const char*>(cluster_uuid_->bytes().data()), 16);
  }
  PutUint(&out, epochs_.size(), 8);
  for (const ClusterConfigEpoch& e : epochs_) {
    std::string entry = EncodeEpochEntry(e);
    PutUint(&out, entry.size(), 4);
    out.append(entry);
    out.push_back(static_cast<char>(e.state));
    PutUint(&out, static_cast<uint64_t>(e.effective_at_ns), 8);
  }
  return out;
}

Result<EpochChain> EpochChain::Restore(std::string_view in, size_t max_entry_bytes) {
  if (in.substr(0, kSnapshotTag.size()) != kSnapshotTag) {
    return BadSnapshot("missing the SBCCS v1 tag");
  }
  size_t pos = kSnapshotTag.size();
  uint64_t has_cluster;
  if (!GetUint(in, &pos, 1, &has_cluster) || has_cluster > 1) {
    return BadSnapshot("bad cluster flag");
  }
  EpochChain chain(std::nullopt, max_entry_bytes);
  if (has_cluster == 1) {
    if (in.size() - pos < 16) return BadSnapshot("truncated cluster_uuid");
    Uuid::Bytes b;
    std::copy_n(in.begin() + pos, 16, b.begin());
    pos += 16;
    chain.cluster_uuid_ = Uuid(b);
  }
  uint64_t count;
  if (!GetUint(in, &pos, 8, &count)) return BadSnapshot("truncated epoch count");
  // Each epoch takes at least 13 bytes besides its entry; a count that cannot
  // fit the input is refused before anything is reserved.
  if (count > (in.size() - pos) / 13) return BadSnapshot("epoch count exceeds the snapshot");
  for (uint64_t i = 0; i < count; ++i) {
    const std::string at = "epoch " + std::to_string(i + 1) + ": ";
    uint64_t len, state, effective_at;
    if (!GetUint(in, &pos, 4, &len) || in.size() - pos < len) {
      return BadSnapshot(at + "truncated entry");
    }
    Result<ClusterConfigEpoch> e = DecodeEpochEntry(in.substr(pos, len), max_entry_bytes);
    if (!e.ok()) return BadSnapshot(at + e.status().message());
    pos += len;
    if (!GetUint(in, &pos, 1, &state) || !GetUint(in, &pos, 8, &effective_at)) {
      return BadSnapshot(at + "truncated state");
    }
    ClusterConfigEpoch& epoch = *e;
    if (epoch.number != i + 1) {
      return BadSnapshot(at + "numbered " + std::to_string(epoch.number));
    }
    if (epoch.cluster_uuid.is_nil() ||
        (chain.cluster_uuid_ && *chain.cluster_uuid_ != epoch.cluster_uuid)) {
      return BadSnapshot(at + "wrong cluster_uuid");
    }
    if (epoch.prev_epoch_hash != chain.current_hash()) {
      return BadSnapshot(at + "prev_epoch_hash does not match epoch " + std::to_string(i));
    }
    const bool last = i + 1 == count;
    const auto s = static_cast<EpochState>(state);
    const bool state_ok = last ? (s == EpochState::kConverging || s == EpochState::kEffective)
                               : s == EpochState::kSuperseded;
    if (!state_ok) return BadSnapshot(at + "impossible state " + std::to_string(state));
    epoch.state = s;
    epoch.effective_at_ns = static_cast<int64_t>(effective_at);
    if (!chain.cluster_uuid_) chain.cluster_uuid_ = epoch.cluster_uuid;
    chain.hashes_.push_back(EpochHash(epoch));
    chain.epochs_.push_back(std::move(epoch));
  }
  if (pos != in.size()) return BadSnapshot("trailing bytes");
  return chain;
}

}  // namespace sb::meta
