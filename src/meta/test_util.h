// Helpers shared by the meta tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "common/ed25519.h"
#include "common/uuid.h"

namespace sb::meta::testing {

// A UUID from its text form (a test failure if it does not parse).
inline Uuid U(std::string_view text) {
  Result<Uuid> u = Uuid::Parse(text);
  EXPECT_TRUE(u.ok()) << text;
  return u.ok() ? *u : Uuid();
}

// A deterministic Ed25519 key: the 32-byte seed is `seed` repeated.
inline Ed25519PrivateKey Key(char seed) {
  Result<Ed25519PrivateKey> k = Ed25519PrivateKey::FromSeed(std::string(32, seed));
  EXPECT_TRUE(k.ok());
  return std::move(k).value();
}

}  // namespace sb::meta::testing
