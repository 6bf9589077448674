#!/usr/bin/env python3
"""Golden vector for the cluster configuration epoch (CCE) canonical form.

Builds the bytes of one fixed epoch straight from the layout documented in
src/meta/epoch.h and docs/epochs.md, without using any project code, and
prints the canonical bytes, their SHA-256 and the EpochPublish entry bytes as
hex. src/meta/epoch_test.cc (GoldenVector*) asserts the same values, so a
change to the C++ encoder that is not a change to the documented layout fails
that test, and a layout change must be made here too.

Run: python3 tests/golden/cce_golden.py
"""

import hashlib
import struct
import uuid


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def i64(v):
    return struct.pack(">q", v)


def uuid_bytes(text):
    return uuid.UUID(text).bytes


# The fixed epoch (mirrored by GoldenEpoch() in src/meta/epoch_test.cc).
NUMBER = 7
CLUSTER = "0190f3a0-1b2c-7d4e-8f60-718293a4b5c6"
PREV = bytes(range(32))  # 00 01 02 .. 1f
CONFIG_HASHES = [  # ca, security bundle, shard map, replication, backup, scheduler, capability
    b"\x11" * 32,
    b"\x22" * 32,
    b"\x33" * 32,
    b"\x00" * 32,  # absent bundle: zeros (C-06)
    b"\x55" * 32,
    b"\x00" * 32,  # absent bundle
    b"\x77" * 32,
]
CREATED_AT_NS = 1767225600123456789  # 2026-01-01T00:00:00.123456789Z
PUBLISHED_AT_NS = 1767225601000000000  # in the entry, not hashed (C-02)
ADMINS = [  # deliberately not in sorted order
    "0190f3a0-0000-7000-8000-00000000000b",
    "0190f3a0-0000-7000-8000-00000000000a",
]
DESCRIPTION = "Add node n4 \u2014 caf\u00e9"  # em dash (3 bytes) and e-acute (2 bytes)
MIN_NODE_VERSION = 102003  # 1.2.3 as major*100000 + minor*1000 + patch (C-44)
SIGNER = "0190f3a0-0000-7000-8000-0000000000c1"
SIGNATURE = b"\xab" * 64  # placeholder bytes: only the entry layout is checked


def canonical():
    out = b"SBCCE\x01"
    out += u64(NUMBER)
    out += uuid_bytes(CLUSTER)
    out += PREV
    for h in CONFIG_HASHES:
        out += h
    out += i64(CREATED_AT_NS)
    admins = sorted(uuid_bytes(a) for a in ADMINS)
    out += u32(len(admins))
    for a in admins:
        out += a
    desc = DESCRIPTION.encode("utf-8")
    out += u32(len(desc))
    out += desc
    out += u32(MIN_NODE_VERSION)
    return out


def entry(canon):
    out = b"SBCCR\x01"
    out += u32(len(canon))
    out += canon
    out += i64(PUBLISHED_AT_NS)
    out += u32(1)
    out += uuid_bytes(SIGNER) + SIGNATURE
    return out


def cxx_literal(hexstr, width=80):
    return "\n".join('      "%s"' % hexstr[i:i + width] for i in range(0, len(hexstr), width))


def main():
    canon = canonical()
    print("canonical bytes: %d" % len(canon))
    print(cxx_literal(canon.hex()))
    print("sha256:")
    print(cxx_literal(hashlib.sha256(canon).hexdigest()))
    ent = entry(canon)
    print("entry bytes: %d" % len(ent))
    print(cxx_literal(ent.hex()))


if __name__ == "__main__":
    main()
