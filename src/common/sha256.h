// SHA-256 (FIPS 180-4) through OpenSSL's EVP interface. The one digest the
// cluster uses for content addressing, epoch chains and certificate pins.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb {

using Sha256Digest = std::array<uint8_t, 32>;

// Hashes `data` in one call. There is no error result: SHA-256 on the default
// provider fails only when the process cannot allocate or has no SHA-256 at
// all, and a node that cannot hash must not go on to compute chain hashes that
// differ from its peers', so that case aborts (it does not depend on input).
Sha256Digest Sha256(std::string_view data);

// Lowercase hex, 64 characters.
std::string Sha256Hex(const Sha256Digest& digest);

// The digest's bytes as a string_view, to feed it to a signer or an encoder.
inline std::string_view DigestBytes(const Sha256Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

}  // namespace sb
