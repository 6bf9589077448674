#include "common/ed25519.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <climits>

namespace sb {
namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// OpenSSL keeps failures on a per-thread queue that later TLS calls consult
// (SSL_get_error), so every failure here drains it into the message.
std::string DrainErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

Status OpenSslError(std::string what, bool invalid_input) {
  std::string reason = DrainErrors();
  if (!reason.empty()) what += " (" + reason + ")";
  return invalid_input ? Status::InvalidArgument(std::move(what))
                       : Status::Internal(std::move(what));
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// A passphrase callback that supplies none, so encrypted PEM fails instead of
// OpenSSL's default of prompting on the controlling terminal.
int NoPassphrase(char*, int, int, void*) {
  return 0;
}

Result<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len < 0 || (len > 0 && data == nullptr)) return OpenSslError("PEM buffer", false);
  return std::string(data, static_cast<size_t>(len));
}

Result<BioPtr> ReadBio(std::string_view pem) {
  if (pem.size() > INT_MAX) return Status::InvalidArgument("PEM text too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslError("allocating PEM buffer", false);
  return bio;
}

Result<Ed25519PublicKey> RawPublicKey(EVP_PKEY* key) {
  Ed25519PublicKey out{};
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key, out.data(), &len) != 1 || len != out.size()) {
    return OpenSslError("reading Ed25519 public key", false);
  }
  return out;
}

Status CheckIsEd25519(EVP_PKEY* key) {
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    return Status::InvalidArgument("key is not an Ed25519 key",
                                   "generate one with: openssl genpkey -algorithm ed25519");
  }
  return Status::Ok();
}

}  // namespace

void Ed25519PrivateKey::Deleter::operator()(evp_pkey_st* key) const {
  EVP_PKEY_free(key);
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::Adopt(evp_pkey_st* raw) {
  Ed25519PrivateKey key{std::unique_ptr<evp_pkey_st, Deleter>(raw)};
  SB_RETURN_IF_ERROR(CheckIsEd25519(raw));
  SB_ASSIGN_OR_RETURN(key.public_key_, RawPublicKey(raw));
  return key;
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::Generate() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    EVP_PKEY_free(raw);
    return OpenSslError("generating Ed25519 key", false);
  }
  return Adopt(raw);
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(std::string_view seed) {
  if (seed.size() != kEd25519SeedSize) {
    return Status::InvalidArgument("Ed25519 seed must be 32 bytes, got " +
                                   std::to_string(seed.size()));
  }
  EVP_PKEY* raw = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(seed), seed.size());
  if (raw == nullptr) return OpenSslError("importing Ed25519 seed", true);
  return Adopt(raw);
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromPem(std::string_view pem) {
  SB_ASSIGN_OR_RETURN(BioPtr bio, ReadBio(pem));
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (raw == nullptr) return OpenSslError("reading Ed25519 private key PEM", true);
  return Adopt(raw);
}

Result<std::string> Ed25519PrivateKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("writing Ed25519 private key PEM", false);
  }
  return BioContents(bio.get());
}

Result<Ed25519Signature> Ed25519Sign(const Ed25519PrivateKey& key, std::string_view message) {
  if (!key.key_) return Status::InvalidArgument("signing with a moved-from Ed25519 key");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  Ed25519Signature sig{};
  size_t len = sig.size();
  // Ed25519 takes no digest: the message goes in whole (one-shot DigestSign).
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, Bytes(message), message.size()) != 1 ||
      len != sig.size()) {
    return OpenSslError("Ed25519 signing", false);
  }
  return sig;
}

bool Ed25519Verify(const Ed25519PublicKey& public_key, std::string_view message,
                   const Ed25519Signature& signature) {
  PkeyPtr key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = key && ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), Bytes(message),
                             message.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

Result<Ed25519PublicKey> Ed25519PublicKeyFromBytes(std::string_view raw) {
  if (raw.size() != kEd25519PublicKeySize) {
    return Status::InvalidArgument("Ed25519 public key must be 32 bytes, got " +
                                   std::to_string(raw.size()));
  }
  PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(raw), raw.size()));
  if (!key) return OpenSslError("importing Ed25519 public key", true);
  return RawPublicKey(key.get());
}

Result<Ed25519PublicKey> Ed25519PublicKeyFromPem(std::string_view pem) {
  SB_ASSIGN_OR_RETURN(BioPtr bio, ReadBio(pem));
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) return OpenSslError("reading Ed25519 public key PEM", true);
  SB_RETURN_IF_ERROR(CheckIsEd25519(key.get()));
  return RawPublicKey(key.get());
}

Result<std::string> Ed25519PublicKeyToPem(const Ed25519PublicKey& public_key) {
  PkeyPtr key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!key || !bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) {
    return OpenSslError("writing Ed25519 public key PEM", false);
  }
  return BioContents(bio.get());
}

}  // namespace sb
