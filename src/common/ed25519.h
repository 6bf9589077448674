// Ed25519 (RFC 8032) keys and signatures through OpenSSL 3's EVP interface.
// Epochs, attestations and observations are signed with these. Keys move as
// strings (PEM or raw bytes); reading and writing key files is the caller's
// job, so this stays usable from the deterministic layers (signing and
// verifying are deterministic; only Generate draws randomness).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header.

namespace sb {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

using Ed25519PublicKey = std::array<uint8_t, kEd25519PublicKeySize>;
using Ed25519Signature = std::array<uint8_t, kEd25519SignatureSize>;

// An Ed25519 private key. Move-only: the secret lives inside OpenSSL, which
// wipes it on free, and is never copied into our own buffers.
class Ed25519PrivateKey {
 public:
  // A fresh key from OpenSSL's CSPRNG.
  static Result<Ed25519PrivateKey> Generate();
  // The key whose 32-byte RFC 8032 seed is `seed` (test vectors, key import).
  static Result<Ed25519PrivateKey> FromSeed(std::string_view seed);
  // PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). Encrypted PEM is refused
  // rather than prompting for a passphrase on the terminal.
  static Result<Ed25519PrivateKey> FromPem(std::string_view pem);

  Ed25519PrivateKey(Ed25519PrivateKey&&) noexcept = default;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&&) noexcept = default;
  ~Ed25519PrivateKey() = default;

  // Unencrypted PKCS#8 PEM; the caller stores it with mode 0600 (R02-15).
  Result<std::string> ToPem() const;
  const Ed25519PublicKey& public_key() const { return public_key_; }

 private:
  struct Deleter {
    void operator()(evp_pkey_st* key) const;
  };
  static Result<Ed25519PrivateKey> Adopt(evp_pkey_st* key);
  explicit Ed25519PrivateKey(std::unique_ptr<evp_pkey_st, Deleter> key) : key_(std::move(key)) {}

  std::unique_ptr<evp_pkey_st, Deleter> key_;
  Ed25519PublicKey public_key_{};

  friend Result<Ed25519Signature> Ed25519Sign(const Ed25519PrivateKey& key,
                                              std::string_view message);
};

// Signs `message` (pure Ed25519, no pre-hash). Deterministic for a given key
// and message.
Result<Ed25519Signature> Ed25519Sign(const Ed25519PrivateKey& key, std::string_view message);

// True only for a valid signature of `message` under `public_key`. Malformed
// keys and signatures are simply invalid, never an error.
bool Ed25519Verify(const Ed25519PublicKey& public_key, std::string_view message,
                   const Ed25519Signature& signature);

// Raw 32-byte public key import: the size is checked and OpenSSL must accept
// the bytes as an Ed25519 key.
Result<Ed25519PublicKey> Ed25519PublicKeyFromBytes(std::string_view raw);
inline std::string_view Ed25519PublicKeyBytes(const Ed25519PublicKey& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

// SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
Result<Ed25519PublicKey> Ed25519PublicKeyFromPem(std::string_view pem);
Result<std::string> Ed25519PublicKeyToPem(const Ed25519PublicKey& public_key);

}  // namespace sb
