#include "common/ed25519.h"

#include <gtest/gtest.h>

#include <string>

namespace sb {
namespace {

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

template <size_t N>
std::string Hex(const std::array<uint8_t, N>& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

// RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte).
TEST(Ed25519Test, Rfc8032Vectors) {
  struct Vector {
    const char* seed;
    const char* public_key;
    const char* message;
    const char* signature;
  } vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
       "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
       "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  for (const Vector& v : vectors) {
    Result<Ed25519PrivateKey> key = Ed25519PrivateKey::FromSeed(Unhex(v.seed));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(Hex(key->public_key()), v.public_key);
    std::string message = Unhex(v.message);
    Result<Ed25519Signature> sig = Ed25519Sign(*key, message);
    ASSERT_TRUE(sig.ok()) << sig.status().ToString();
    EXPECT_EQ(Hex(*sig), v.signature);
    EXPECT_TRUE(Ed25519Verify(key->public_key(), message, *sig));
  }
}

TEST(Ed25519Test, GeneratedKeySignsAndVerifies) {
  Result<Ed25519PrivateKey> a = Ed25519PrivateKey::Generate();
  Result<Ed25519PrivateKey> b = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->public_key(), b->public_key());
  Result<Ed25519Signature> sig = Ed25519Sign(*a, "epoch hash");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Ed25519Verify(a->public_key(), "epoch hash", *sig));
  EXPECT_FALSE(Ed25519Verify(b->public_key(), "epoch hash", *sig));
  EXPECT_FALSE(Ed25519Verify(a->public_key(), "epoch hasH", *sig));
  Ed25519Signature bad = *sig;
  bad[10] ^= 0x01;
  EXPECT_FALSE(Ed25519Verify(a->public_key(), "epoch hash", bad));
  // An all-zero signature and an all-0xff key are rejected, not errors.
  EXPECT_FALSE(Ed25519Verify(a->public_key(), "epoch hash", Ed25519Signature{}));
  Ed25519PublicKey junk;
  junk.fill(0xff);
  EXPECT_FALSE(Ed25519Verify(junk, "epoch hash", *sig));
}

TEST(Ed25519Test, PrivateKeyPemRoundTrip) {
  Result<Ed25519PrivateKey> key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  Result<std::string> pem = key->ToPem();
  ASSERT_TRUE(pem.ok()) << pem.status().ToString();
  EXPECT_EQ(pem->rfind("-----BEGIN PRIVATE KEY-----", 0), 0u) << *pem;
  Result<Ed25519PrivateKey> back = Ed25519PrivateKey::FromPem(*pem);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->public_key(), key->public_key());
  Result<Ed25519Signature> s1 = Ed25519Sign(*key, "m");
  Result<Ed25519Signature> s2 = Ed25519Sign(*back, "m");
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(*s1, *s2);  // Ed25519 signing is deterministic
}

TEST(Ed25519Test, PublicKeyPemAndRawRoundTrip) {
  Result<Ed25519PrivateKey> key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  Result<std::string> pem = Ed25519PublicKeyToPem(key->public_key());
  ASSERT_TRUE(pem.ok()) << pem.status().ToString();
  EXPECT_EQ(pem->rfind("-----BEGIN PUBLIC KEY-----", 0), 0u) << *pem;
  Result<Ed25519PublicKey> back = Ed25519PublicKeyFromPem(*pem);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, key->public_key());

  Result<Ed25519PublicKey> raw = Ed25519PublicKeyFromBytes(Ed25519PublicKeyBytes(*back));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, key->public_key());
  EXPECT_FALSE(Ed25519PublicKeyFromBytes(std::string(31, 'x')).ok());
  EXPECT_FALSE(Ed25519PublicKeyFromBytes(std::string(33, 'x')).ok());
}

TEST(Ed25519Test, RejectsBadInputWithoutCrashing) {
  EXPECT_FALSE(Ed25519PrivateKey::FromSeed("short").ok());
  EXPECT_FALSE(Ed25519PrivateKey::FromPem("").ok());
  EXPECT_FALSE(Ed25519PrivateKey::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n").ok());
  EXPECT_FALSE(Ed25519PublicKeyFromPem("garbage").ok());
  // A private key PEM is not a public key PEM.
  Result<Ed25519PrivateKey> key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  Result<std::string> priv_pem = key->ToPem();
  ASSERT_TRUE(priv_pem.ok());
  EXPECT_FALSE(Ed25519PublicKeyFromPem(*priv_pem).ok());
}

// An EC P-256 key in valid PEM is refused: the cluster signs only with Ed25519.
TEST(Ed25519Test, RefusesOtherKeyTypes) {
  static constexpr char kP256[] =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPYvh3YJUk/fU5obt\n"
      "bKRHBunBO9RGgDA0u59YNfLcLVChRANCAASr9yn3qyELJb8KTFa/BAlWekg+5NKx\n"
      "6N9v4PRhTwS9ScPfsQTGFFgp9uFAfKplBEumVwarsIrqj7lyFz8mxDAT\n"
      "-----END PRIVATE KEY-----\n";
  Result<Ed25519PrivateKey> key = Ed25519PrivateKey::FromPem(kP256);
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("not an Ed25519"), std::string::npos)
      << key.status().ToString();
}

}  // namespace
}  // namespace sb
