// The applied epoch history of one node: what committed EpochPublish entries
// produced, all of it kept (R01-10), validated again here at apply so a bad
// committed entry turns into the same rejected no-op on every node instead of
// a crash loop (R01-04, C-33).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/sha256.h"
#include "common/status.h"
#include "common/uuid.h"
#include "meta/epoch.h"

namespace sb::meta {

struct ApplyOutcome {
  bool applied = false;
  uint64_t number = 0;  // the epoch now current when applied, 0 when rejected
  Status reason;        // OK when applied, else why the entry was rejected
};

class EpochChain {
 public:
  // `cluster_uuid` is the cluster this node belongs to; when unset, genesis
  // pins it. `max_entry_bytes` is the C-04 entry cap.
  explicit EpochChain(std::optional<Uuid> cluster_uuid = std::nullopt,
                      size_t max_entry_bytes = kDefaultMaxEpochEntryBytes)
      : cluster_uuid_(cluster_uuid), max_entry_bytes_(max_entry_bytes) {}

  const std::optional<Uuid>& cluster_uuid() const { return cluster_uuid_; }
  size_t max_entry_bytes() const { return max_entry_bytes_; }
  bool empty() const { return epochs_.empty(); }
  // 0 before genesis.
  uint64_t current_number() const { return epochs_.size(); }
  // Hash of the current epoch; 32 zero bytes before genesis, which is what
  // genesis names as its prev_epoch_hash.
  const Sha256Digest& current_hash() const;

  // nullptr before genesis.
  const ClusterConfigEpoch* Current() const;
  // Epoch `number`, or nullptr if it has not been applied.
  const ClusterConfigEpoch* Get(uint64_t number) const;
  // Hash of epoch `number`, or nullptr.
  const Sha256Digest* HashOf(uint64_t number) const;
  // Epochs 1..current in order: History()[i].number == i + 1.
  const std::vector<ClusterConfigEpoch>& History() const { return epochs_; }

  // Applies one committed EpochPublish entry (EncodeEpochEntry bytes). The
  // only way epochs enter the chain (R01-03). The entry is decoded and checked
  // with ValidateNext; on success it becomes current in state CONVERGING and
  // the previous epoch becomes SUPERSEDED. On any failure nothing changes
  // except rejected_epochs(), and the outcome says why; the caller logs it and
  // raises the alert. Safe for any input bytes.
  ApplyOutcome Apply(std::string_view entry, const SignerRegistry& signers,
                     uint32_t min_signatures = 1);

  // Committed entries refused by Apply since this object was built (restored
  // chains start at 0): the node exports it as an alert metric. Not part of
  // the replicated state, so not in the snapshot.
  uint64_t rejected_epochs() const { return rejected_epochs_; }

  // The EffectiveEpoch entry (R01-06): the current epoch, while CONVERGING,
  // becomes EFFECTIVE at effective_at_ns ≥ its published_at_ns. Anything else
  // is refused with nothing changed.
  Status MarkEffective(uint64_t number, int64_t effective_at_ns);

  // The whole history as bytes for a Raft snapshot (C-49), and back. Restore
  // re-checks numbering, the hash chain, the cluster and the states, so a
  // corrupt snapshot fails with a Status. Signatures are not re-verified: they
  // were checked against the registry in force when each epoch was applied,
  // and that registry may since have changed.
  std::string Snapshot() const;
  static Result<EpochChain> Restore(std::string_view bytes,
                                    size_t max_entry_bytes = kDefaultMaxEpochEntryBytes);

 private:
  std::optional<Uuid> cluster_uuid_;
  size_t max_entry_bytes_;
  std::vector<ClusterConfigEpoch> epochs_;
  std::vector<Sha256Digest> hashes_;  // hashes_[i] == EpochHash(epochs_[i])
  uint64_t rejected_epochs_ = 0;
};

}  // namespace sb::meta
