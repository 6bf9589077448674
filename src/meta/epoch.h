// Cluster configuration epochs (SBCLUSTER-01, R01-01/02/11/12/14). Every
// change to membership, shard map or policies is one ClusterConfigEpoch: its
// number is the previous one + 1, it names the previous epoch's hash, and it is
// signed over the SHA-256 of its canonical bytes. Nodes re-check all of that
// when they apply the Raft entry (epoch_chain.h), so a bad entry is refused the
// same way everywhere.
//
// Canonical form (the bytes that are hashed), big-endian, no padding. It
// follows R01-11 with the C-02 resolution: a domain/version tag in front and
// published_at left out (it is set at commit, after the signers signed).
//
//   off  size  field
//     0     6  tag "SBCCE" 0x01
//     6     8  u64 number
//    14    16  cluster_uuid
//    30    32  prev_epoch_hash (zeros for genesis)
//    62    32  ca_policy_hash            -- each config hash: 32 zero
//    94    32  security_bundle_hash         bytes when the bundle is
//   126    32  shard_map_hash               absent (C-06)
//   158    32  replication_policy_hash
//   190    32  backup_policy_hash
//   222    32  scheduler_policy_hash
//   254    32  capability_matrix_hash
//   286     8  i64 created_at_ns (two's complement)
//   294     4  u32 A = number of admin UUIDs
//   298  16*A  admin UUIDs, ascending bytewise (so any input order hashes the same)
//     …     4  u32 L = description length in bytes
//     …     L  description, UTF-8
//     …     4  u32 min_node_version
//
// Not hashed: published_at, signatures, state, effective_at. docs/epochs.md
// has the layout of the Raft entry and the snapshot; tests/golden/
// cce_golden.py recomputes the golden vector from the table above.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/ed25519.h"
#include "common/sha256.h"
#include "common/status.h"
#include "common/uuid.h"

namespace sb::meta {

// SQLSTATEs of epoch validation; the message starts with the spec's name
// (EPOCH_NUMBER_GAP: …) so logs and alerts can be grepped for it.
namespace epoch_sqlstate {
inline constexpr const char* kEpochNumberGap = "SB020";
inline constexpr const char* kInvalidHashChain = "SB021";
inline constexpr const char* kSignatureInvalid = "SB022";
inline constexpr const char* kWrongCluster = "SB023";
inline constexpr const char* kEpochMalformed = "SB024";
inline constexpr const char* kEpochTooLarge = "SB025";
}  // namespace epoch_sqlstate

inline constexpr std::string_view kEpochCanonicalTag{"SBCCE\x01", 6};
inline constexpr std::string_view kEpochEntryTag{"SBCCR\x01", 6};

// C-04: the Raft entry cap, configurable per chain; bundles larger than this
// travel by hash, not inside the entry.
inline constexpr size_t kDefaultMaxEpochEntryBytes = size_t{16} << 20;
// Per-record limits, so any well-formed record fits far below the entry cap
// and every length fits its u32 prefix.
inline constexpr size_t kMaxEpochDescriptionBytes = 64 * 1024;
inline constexpr size_t kMaxEpochAdmins = 1024;
inline constexpr size_t kMaxEpochSignatures = 1024;

// R01-05. DRAFTED never reaches the log; an applied epoch starts CONVERGING
// (C-31: convergence starts at commit).
enum class EpochState : uint8_t {
  kDrafted = 0,
  kPublished = 1,
  kConverging = 2,
  kEffective = 3,
  kSuperseded = 4,
};
const char* EpochStateName(EpochState state);

struct EpochSignature {
  Uuid signer;
  Ed25519Signature signature{};
  friend bool operator==(const EpochSignature&, const EpochSignature&) = default;
};

struct ClusterConfigEpoch {
  uint64_t number = 0;
  Uuid cluster_uuid;
  Sha256Digest prev_epoch_hash{};
  Sha256Digest ca_policy_hash{};
  Sha256Digest security_bundle_hash{};
  Sha256Digest shard_map_hash{};
  Sha256Digest replication_policy_hash{};
  Sha256Digest backup_policy_hash{};
  Sha256Digest scheduler_policy_hash{};
  Sha256Digest capability_matrix_hash{};
  int64_t created_at_ns = 0;
  std::vector<Uuid> admin_uuids;  // any order; hashed sorted
  std::string description;        // UTF-8
  uint32_t min_node_version = 0;  // major*100000 + minor*1000 + patch (C-44)

  // In the Raft entry, not hashed.
  int64_t published_at_ns = 0;
  std::vector<EpochSignature> signatures;

  // Local to the applied chain: neither hashed nor in the Raft entry.
  EpochState state = EpochState::kDrafted;
  int64_t effective_at_ns = 0;

  friend bool operator==(const ClusterConfigEpoch&, const ClusterConfigEpoch&) = default;
};

// The canonical bytes above. Admin UUIDs are sorted here, so the caller's
// order does not matter.
std::string CanonicalBytes(const ClusterConfigEpoch& epoch);
// SHA-256 of CanonicalBytes: what prev_epoch_hash names and signers sign.
Sha256Digest EpochHash(const ClusterConfigEpoch& epoch);

// Signs EpochHash(*epoch) with `key` and records it under `signer`, replacing
// an earlier signature by the same signer (re-signing after an edit).
Status SignEpoch(ClusterConfigEpoch* epoch, const Uuid& signer, const Ed25519PrivateKey& key);

// Structural rules every record obeys, whatever the chain: description is
// UTF-8 within its limit, admin UUIDs are distinct, counts within limits.
// EPOCH_MALFORMED (SB024) otherwise.
Status CheckEpochWellFormed(const ClusterConfigEpoch& epoch);

// The EpochPublish Raft entry (docs/epochs.md):
//   "SBCCR" 0x01 | u32 n | n canonical bytes | i64 published_at_ns |
//   u32 S | S × (16-byte signer UUID, 64-byte Ed25519 signature)
// state and effective_at are not carried: a proposer cannot claim them.
std::string EncodeEpochEntry(const ClusterConfigEpoch& epoch);
// Parses an entry strictly: anything over max_bytes is EPOCH_TOO_LARGE
// (SB025) before it is read; a wrong tag, truncation, trailing bytes, admin
// UUIDs not strictly ascending, bad UTF-8 or counts over the limits are
// EPOCH_MALFORMED (SB024). Never reads out of bounds, whatever the input, and
// Encode(Decode(x)) == x for every accepted x. The result is DRAFTED.
Result<ClusterConfigEpoch> DecodeEpochEntry(std::string_view bytes,
                                            size_t max_bytes = kDefaultMaxEpochEntryBytes);

// Who may sign epochs and with which key (EpochSigningPolicy's
// authorized_signers with their registry keys, C-10). The caller builds it
// from replicated state, so every node holds the same registry at the same
// log index.
class SignerRegistry {
 public:
  // One key per signer and one signer per key: a key registered under two
  // UUIDs would let one holder count twice toward M-of-N.
  Status Add(const Uuid& signer, const Ed25519PublicKey& key);
  void Remove(const Uuid& signer);
  // nullptr for an unknown signer.
  const Ed25519PublicKey* Find(const Uuid& signer) const;
  size_t size() const { return keys_.size(); }

 private:
  std::map<Uuid, Ed25519PublicKey> keys_;
};

class EpochChain;

// May `proposed` follow the chain's current epoch? Deterministic, so the
// leader runs it before proposing and every node again at apply (R01-04).
// Checks, in this order, each with its own SQLSTATE:
//   well-formed record                      EPOCH_MALFORMED    SB024
//   cluster_uuid not nil, equal to chain's  WRONG_CLUSTER      SB023
//   number == current + 1 (1 for genesis);  EPOCH_NUMBER_GAP   SB020
//     ≤ current is a refused downgrade
//   prev_epoch_hash == hash of current      INVALID_HASH_CHAIN SB021
//     (zeros for genesis)
//   ≥ max(min_signatures, 1) signatures,    SIGNATURE_INVALID  SB022
//     each by a distinct registered signer and valid over EpochHash; one
//     unknown signer, bad signature or repeated signer fails the whole set
// An unsigned epoch never passes (R01-21: Beta rejects unsigned epochs).
Status ValidateNext(const EpochChain& current, const ClusterConfigEpoch& proposed,
                    const SignerRegistry& signers, uint32_t min_signatures);

}  // namespace sb::meta
