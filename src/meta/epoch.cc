#include "meta/epoch.h"

#include <algorithm>
#include <limits>
#include <set>

#include "meta/epoch_chain.h"

namespace sb::meta {
namespace {

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

template <size_t N>
void PutBytes(std::string* out, const std::array<uint8_t, N>& bytes) {
  out->append(reinterpret_cast<const char*>(bytes.data()), N);
}

// Bounds-checked big-endian reader: every read first checks what is left, so a
// length field can never send it past the end, and a failed read leaves the
// position alone.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  size_t remaining() const { return in_.size() - pos_; }
  bool done() const { return pos_ == in_.size(); }

  bool Raw(size_t n, std::string_view* out) {
    if (n > remaining()) return false;
    *out = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool U8(uint8_t* v) {
    std::string_view b;
    if (!Raw(1, &b)) return false;
    *v = static_cast<uint8_t>(b[0]);
    return true;
  }
  bool U32(uint32_t* v) {
    std::string_view b;
    if (!Raw(4, &b)) return false;
    *v = 0;
    for (char c : b) *v = (*v << 8) | static_cast<uint8_t>(c);
    return true;
  }
  bool U64(uint64_t* v) {
    std::string_view b;
    if (!Raw(8, &b)) return false;
    *v = 0;
    for (char c : b) *v = (*v << 8) | static_cast<uint8_t>(c);
    return true;
  }
  bool I64(int64_t* v) {
    uint64_t u;
    if (!U64(&u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  template <size_t N>
  bool Array(std::array<uint8_t, N>* out) {
    std::string_view b;
    if (!Raw(N, &b)) return false;
    std::copy(b.begin(), b.end(), out->begin());
    return true;
  }
  bool Id(Uuid* out) {
    Uuid::Bytes b;
    if (!Array(&b)) return false;
    *out = Uuid(b);
    return true;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

Status Malformed(const std::string& what) {
  return Status::Error(epoch_sqlstate::kEpochMalformed, "EPOCH_MALFORMED: " + what,
                       "the entry was not produced by EncodeEpochEntry; it is ignored");
}

Status Truncated(const char* field) {
  return Malformed(std::string("truncated at ") + field);
}

// Strict UTF-8 (RFC 3629, Unicode Table 3-7): no overlong forms, no
// surrogates, nothing above U+10FFFF. Two nodes must agree on what a valid
// description is, so this does not lean on a locale.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    uint8_t c1 = static_cast<uint8_t>(s[i + 1]);
    if (c1 < lo || c1 > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      uint8_t ck = static_cast<uint8_t>(s[i + k]);
      if (ck < 0x80 || ck > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

Status SignatureInvalid(const std::string& what) {
  return Status::Error(epoch_sqlstate::kSignatureInvalid, "SIGNATURE_INVALID: " + what,
                       "re-sign the epoch with registered signer keys");
}

Status CheckSignatures(const ClusterConfigEpoch& proposed, const SignerRegistry& signers,
                       uint32_t min_signatures) {
  const uint32_t required = std::max<uint32_t>(min_signatures, 1);
  const Sha256Digest hash = EpochHash(proposed);
  std::set<Uuid> seen_signers;
  std::set<Ed25519PublicKey> seen_keys;
  for (const EpochSignature& sig : proposed.signatures) {
    if (!seen_signers.insert(sig.signer).second) {
      return SignatureInvalid("signer " + sig.signer.ToString() + " signed more than once");
    }
    const Ed25519PublicKey* key = signers.Find(sig.signer);
    if (key == nullptr) {
      return SignatureInvalid("signer " + sig.signer.ToString() + " is not an authorized signer");
    }
    if (!seen_keys.insert(*key).second) {
      return SignatureInvalid("signer " + sig.signer.ToString() +
                              " shares a key with another signer");
    }
    if (!Ed25519Verify(*key, DigestBytes(hash), sig.signature)) {
      return SignatureInvalid("signature by " + sig.signer.ToString() +
                              " does not verify over epoch " + std::to_string(proposed.number) +
                              " hash " + Sha256Hex(hash));
    }
  }
  if (seen_signers.size() < required) {
    return SignatureInvalid("epoch " + std::to_string(proposed.number) + " has " +
                            std::to_string(seen_signers.size()) + " signature(s), " +
                            std::to_string(required) + " required");
  }
  return Status::Ok();
}

Result<ClusterConfigEpoch> ParseCanonical(std::string_view bytes) {
  Reader r(bytes);
  ClusterConfigEpoch e;
  std::string_view tag;
  if (!r.Raw(kEpochCanonicalTag.size(), &tag) || tag != kEpochCanonicalTag) {
    return Malformed("canonical form does not start with the SBCCE v1 tag");
  }
  if (!r.U64(&e.number)) return Truncated("number");
  if (!r.Id(&e.cluster_uuid)) return Truncated("cluster_uuid");
  if (!r.Array(&e.prev_epoch_hash)) return Truncated("prev_epoch_hash");
  for (Sha256Digest* h :
       {&e.ca_policy_hash, &e.security_bundle_hash, &e.shard_map_hash, &e.replication_policy_hash,
        &e.backup_policy_hash, &e.scheduler_policy_hash, &e.capability_matrix_hash}) {
    if (!r.Array(h)) return Truncated("config hashes");
  }
  if (!r.I64(&e.created_at_ns)) return Truncated("created_at");
  uint32_t admins;
  if (!r.U32(&admins)) return Truncated("admin count");
  if (admins > kMaxEpochAdmins) {
    return Malformed(std::to_string(admins) + " admin UUIDs, limit " +
                     std::to_string(kMaxEpochAdmins));
  }
  if (size_t{admins} * 16 > r.remaining()) return Truncated("admin UUIDs");
  e.admin_uuids.resize(admins);
  for (uint32_t i = 0; i < admins; ++i) {
    r.Id(&e.admin_uuids[i]);
    // Canonical means one encoding per record: sorted and without repeats.
    if (i > 0 && !(e.admin_uuids[i - 1] < e.admin_uuids[i])) {
      return Malformed("admin UUIDs are not strictly ascending");
    }
  }
  uint32_t desc_len;
  if (!r.U32(&desc_len)) return Truncated("description length");
  if (desc_len > kMaxEpochDescriptionBytes) {
    return Malformed("description of " + std::to_string(desc_len) + " bytes, limit " +
                     std::to_string(kMaxEpochDescriptionBytes));
  }
  std::string_view desc;
  if (!r.Raw(desc_len, &desc)) return Truncated("description");
  if (!IsValidUtf8(desc)) return Malformed("description is not valid UTF-8");
  e.description.assign(desc);
  if (!r.U32(&e.min_node_version)) return Truncated("min_node_version");
  if (!r.done()) return Malformed("trailing bytes after the canonical form");
  return e;
}

}  // namespace

const char* EpochStateName(EpochState state) {
  switch (state) {
    case EpochState::kDrafted:
      return "DRAFTED";
    case EpochState::kPublished:
      return "PUBLISHED";
    case EpochState::kConverging:
      return "CONVERGING";
    case EpochState::kEffective:
      return "EFFECTIVE";
    case EpochState::kSuperseded:
      return "SUPERSEDED";
  }
  return "UNKNOWN";
}

std::string CanonicalBytes(const ClusterConfigEpoch& e) {
  std::vector<Uuid> admins = e.admin_uuids;
  std::sort(admins.begin(), admins.end());
  std::string out;
  out.reserve(306 + 16 * admins.size() + e.description.size());
  out.append(kEpochCanonicalTag);
  PutU64(&out, e.number);
  PutBytes(&out, e.cluster_uuid.bytes());
  PutBytes(&out, e.prev_epoch_hash);
  for (const Sha256Digest* h :
       {&e.ca_policy_hash, &e.security_bundle_hash, &e.shard_map_hash, &e.replication_policy_hash,
        &e.backup_policy_hash, &e.scheduler_policy_hash, &e.capability_matrix_hash}) {
    PutBytes(&out, *h);
  }
  PutU64(&out, static_cast<uint64_t>(e.created_at_ns));
  PutU32(&out, static_cast<uint32_t>(admins.size()));
  for (const Uuid& a : admins) PutBytes(&out, a.bytes());
  PutU32(&out, static_cast<uint32_t>(e.description.size()));
  out.append(e.description);
  PutU32(&out, e.min_node_version);
  return out;
}

Sha256Digest EpochHash(const ClusterConfigEpoch& epoch) {
  return Sha256(CanonicalBytes(epoch));
}

Status SignEpoch(ClusterConfigEpoch* epoch, const Uuid& signer, const Ed25519PrivateKey& key) {
  const Sha256Digest hash = EpochHash(*epoch);
  SB_ASSIGN_OR_RETURN(Ed25519Signature sig, Ed25519Sign(key, DigestBytes(hash)));
  for (EpochSignature& existing : epoch->signatures) {
    if (existing.signer == signer) {
      existing.signature = sig;
      return Status::Ok();
    }
  }
  epoch->signatures.push_back({signer, sig});
  return Status::Ok();
}

Status CheckEpochWellFormed(const ClusterConfigEpoch& e) {
  if (e.description.size() > kMaxEpochDescriptionBytes) {
    return Malformed("description of " + std::to_string(e.description.size()) + " bytes, limit " +
                     std::to_string(kMaxEpochDescriptionBytes));
  }
  if (!IsValidUtf8(e.description)) return Malformed("description is not valid UTF-8");
  if (e.admin_uuids.size() > kMaxEpochAdmins) {
    return Malformed(std::to_string(e.admin_uuids.size()) + " admin UUIDs, limit " +
                     std::to_string(kMaxEpochAdmins));
  }
  std::vector<Uuid> admins = e.admin_uuids;
  std::sort(admins.begin(), admins.end());
  if (std::adjacent_find(admins.begin(), admins.end()) != admins.end()) {
    return Malformed("an admin UUID is listed twice");
  }
  if (e.signatures.size() > kMaxEpochSignatures) {
    return Malformed(std::to_string(e.signatures.size()) + " signatures, limit " +
                     std::to_string(kMaxEpochSignatures));
  }
  return Status::Ok();
}

std::string EncodeEpochEntry(const ClusterConfigEpoch& e) {
  std::string canonical = CanonicalBytes(e);
  std::string out;
  out.reserve(kEpochEntryTag.size() + 4 + canonical.size() + 8 + 4 + 80 * e.signatures.size());
  out.append(kEpochEntryTag);
  PutU32(&out, static_cast<uint32_t>(canonical.size()));
  out.append(canonical);
  PutU64(&out, static_cast<uint64_t>(e.published_at_ns));
  PutU32(&out, static_cast<uint32_t>(e.signatures.size()));
  for (const EpochSignature& s : e.signatures) {
    PutBytes(&out, s.signer.bytes());
    PutBytes(&out, s.signature);
  }
  return out;
}

Result<ClusterConfigEpoch> DecodeEpochEntry(std::string_view bytes, size_t max_bytes) {
  if (bytes.size() > max_bytes) {
    return Status::Error(epoch_sqlstate::kEpochTooLarge,
                         "EPOCH_TOO_LARGE: epoch entry of " + std::to_string(bytes.size()) +
                             " bytes, limit " + std::to_string(max_bytes),
                         "move large bundles by hash instead of inside the epoch (C-04)");
  }
  Reader r(bytes);
  std::string_view tag;
  if (!r.Raw(kEpochEntryTag.size(), &tag) || tag != kEpochEntryTag) {
    return Malformed("not an epoch entry (missing the SBCCR v1 tag)");
  }
  uint32_t canonical_len;
  std::string_view canonical;
  if (!r.U32(&canonical_len)) return Truncated("canonical length");
  if (!r.Raw(canonical_len, &canonical)) return Truncated("canonical form");
  SB_ASSIGN_OR_RETURN(ClusterConfigEpoch e, ParseCanonical(canonical));
  if (!r.I64(&e.published_at_ns)) return Truncated("published_at");
  uint32_t sigs;
  if (!r.U32(&sigs)) return Truncated("signature count");
  if (sigs > kMaxEpochSignatures) {
    return Malformed(std::to_string(sigs) + " signatures, limit " +
                     std::to_string(kMaxEpochSignatures));
  }
  if (size_t{sigs} * (16 + kEd25519SignatureSize) > r.remaining()) return Truncated("signatures");
  e.signatures.resize(sigs);
  for (EpochSignature& s : e.signatures) {
    r.Id(&s.signer);
    r.Array(&s.signature);
  }
  if (!r.done()) return Malformed("trailing bytes after the signatures");
  return e;
}

Status SignerRegistry::Add(const Uuid& signer, const Ed25519PublicKey& key) {
  for (const auto& [id, existing] : keys_) {
    if (existing == key && id != signer) {
      return Status::Error(
          sqlstate::kDuplicateObject,
          "signer " + signer.ToString() + " would share its key with signer " + id.ToString(),
          "every signer needs its own Ed25519 key pair");
    }
  }
  keys_[signer] = key;
  return Status::Ok();
}

void SignerRegistry::Remove(const Uuid& signer) {
  keys_.erase(signer);
}

const Ed25519PublicKey* SignerRegistry::Find(const Uuid& signer) const {
  auto it = keys_.find(signer);
  return it == keys_.end() ? nullptr : &it->second;
}

Status ValidateNext(const EpochChain& current, const ClusterConfigEpoch& proposed,
                    const SignerRegistry& signers, uint32_t min_signatures) {
  SB_RETURN_IF_ERROR(CheckEpochWellFormed(proposed));

  if (proposed.cluster_uuid.is_nil()) {
    return Status::Error(
        epoch_sqlstate::kWrongCluster,
        "WRONG_CLUSTER: epoch " + std::to_string(proposed.number) + " has a nil cluster_uuid");
  }
  if (current.cluster_uuid() && *current.cluster_uuid() != proposed.cluster_uuid) {
    return Status::Error(epoch_sqlstate::kWrongCluster,
                         "WRONG_CLUSTER: epoch " + std::to_string(proposed.number) +
                             " is for cluster " + proposed.cluster_uuid.ToString() +
                             ", this is cluster " + current.cluster_uuid()->ToString());
  }

  const uint64_t cur = current.current_number();
  if (cur == std::numeric_limits<uint64_t>::max() || proposed.number != cur + 1) {
    std::string msg = "EPOCH_NUMBER_GAP: epoch " + std::to_string(proposed.number) +
                      " proposed, current is " + std::to_string(cur) + ", expected " +
                      std::to_string(cur + 1);
    if (proposed.number <= cur) msg += " (an epoch at or below the current one is never applied)";
    return Status::Error(epoch_sqlstate::kEpochNumberGap, std::move(msg),
                         "draft the epoch again from the current one");
  }

  if (proposed.prev_epoch_hash != current.current_hash()) {
    return Status::Error(epoch_sqlstate::kInvalidHashChain,
                         "INVALID_HASH_CHAIN: epoch " + std::to_string(proposed.number) +
                             " names prev_epoch_hash " + Sha256Hex(proposed.prev_epoch_hash) +
                             ", the hash of epoch " + std::to_string(cur) + " is " +
                             Sha256Hex(current.current_hash()),
                         "the epoch was drafted on another history or was altered");
  }

  return CheckSignatures(proposed, signers, min_signatures);
}

}  // namespace sb::meta
