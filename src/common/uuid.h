// UUIDs (RFC 9562). New identifiers are version 7: the first 48 bits are the
// Unix time in milliseconds, so identifiers minted later sort later (useful
// for cluster, node and job identifiers that are listed and compared).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sb {

class Uuid {
 public:
  using Bytes = std::array<uint8_t, 16>;

  // The nil UUID (all zero).
  constexpr Uuid() = default;
  constexpr explicit Uuid(const Bytes& bytes) : bytes_(bytes) {}

  // A version 7 UUID for the current wall-clock time; the 74 non-time bits
  // come from OpenSSL's CSPRNG. Fails only if the CSPRNG does.
  static Result<Uuid> GenerateV7();
  // A version 7 UUID from explicit parts, for deterministic callers (the
  // simulator, tests). Only the low 48 bits of unix_ms are used; the version
  // and variant bits overwrite the corresponding bits of random.
  static Uuid V7FromParts(uint64_t unix_ms, const std::array<uint8_t, 10>& random);

  // Canonical 8-4-4-4-12 hex form; hex digits of either case are accepted
  // (RFC 9562 section 4), nothing else (no braces, no "urn:uuid:", no spaces).
  static Result<Uuid> Parse(std::string_view text);

  // Canonical form, lowercase.
  std::string ToString() const;

  const Bytes& bytes() const { return bytes_; }
  bool is_nil() const { return *this == Uuid(); }
  // The version field (bits 48..51); 7 for GenerateV7().
  int version() const { return bytes_[6] >> 4; }
  // True for the RFC 9562 variant (bits 64..65 are 10).
  bool is_rfc9562_variant() const { return (bytes_[8] & 0xC0) == 0x80; }
  // The 48-bit timestamp of a version 7 UUID (meaningless for other versions).
  uint64_t unix_ms() const;

  friend auto operator<=>(const Uuid&, const Uuid&) = default;
  friend bool operator==(const Uuid&, const Uuid&) = default;

 private:
  Bytes bytes_{};
};

}  // namespace sb

template <>
struct std::hash<sb::Uuid> {
  size_t operator()(const sb::Uuid& u) const noexcept {
    uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (uint8_t b : u.bytes()) h = (h ^ b) * 1099511628211ULL;
    return static_cast<size_t>(h);
  }
};
