"""W3C Bitstring Status List v1.0: the bitstring, its encoding, index allocation, and the documents.

Index 0 is the most significant bit of the first byte. A set bit means the status applies
(revoked, for a revocation list; suspended, for a suspension list). The encoded list is the
multibase base64url ("u" prefix, no padding) of the GZIP-compressed bitstring.
"""

from __future__ import annotations

import enum
import gzip
import secrets
import zlib
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from certificates.jose import b64url_decode, b64url_encode
from certificates.w3c import VC_CONTEXT_V2, VERIFIABLE_CREDENTIAL, format_instant

MIN_ENTRIES = 131_072  # the spec's minimum (16 KiB), for group privacy
# Decompression cap: 16 MiB of bitstring is 134 million entries, far beyond any real list.
MAX_DECODED_BYTES = 16 * 1024 * 1024
# The same bound before decompression, so a huge string is refused before any work.
MAX_ENCODED_CHARS = 4 * 1024 * 1024
_RANDOM_TRIES = 64

STATUS_LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
STATUS_LIST_TYPE = "BitstringStatusList"
STATUS_ENTRY_TYPE = "BitstringStatusListEntry"


class StatusPurpose(enum.StrEnum):
    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class StatusListError(ValueError):
    """An encoded status list that cannot be decoded, or a bitstring misused."""


class StatusListFull(Exception):
    """No free index is left in a status list; open a new list."""


def new_bitstring(size: int = MIN_ENTRIES) -> bytearray:
    """An all-clear bitstring of `size` entries (a multiple of 8, at least 131,072)."""
    if size < MIN_ENTRIES or size % 8:
        raise StatusListError(f"a status list has at least {MIN_ENTRIES} entries, in whole bytes; got {size}")
    return bytearray(size // 8)


def _locate(bits: bytes | bytearray, index: int) -> tuple[int, int]:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(bits) * 8:
        raise IndexError(f"status list index {index!r} is outside 0..{len(bits) * 8 - 1}")
    return index // 8, 0x80 >> (index % 8)


def get_bit(bits: bytes | bytearray, index: int) -> bool:
    """Whether entry `index` is set."""
    byte, mask = _locate(bits, index)
    return bool(bits[byte] & mask)


def set_bit(bits: bytearray, index: int, value: bool = True) -> None:
    """Set (or, with value=False, clear) entry `index` in place."""
    byte, mask = _locate(bits, index)
    if value:
        bits[byte] |= mask
    else:
        bits[byte] &= ~mask & 0xFF


def encode_list(bits: bytes | bytearray) -> str:
    """The encodedList value: "u" + base64url (no padding) of the GZIP of the bitstring."""
    if len(bits) * 8 < MIN_ENTRIES:
        raise StatusListError(f"a status list has at least {MIN_ENTRIES} entries")
    # mtime=0 keeps the encoding a function of the bits alone.
    return "u" + b64url_encode(gzip.compress(bytes(bits), compresslevel=9, mtime=0))


def decode_list(encoded: str, *, min_entries: int = MIN_ENTRIES, max_bytes: int = MAX_DECODED_BYTES) -> bytearray:
    """Decode an encodedList; raises StatusListError for a missing "u", bad base64url, bad GZIP, or a bad size."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListError("encodedList must start with the multibase prefix 'u' (base64url, no padding)")
    if len(encoded) > MAX_ENCODED_CHARS:
        raise StatusListError("encodedList is too long")
    try:
        compressed = b64url_decode(encoded[1:])
    except ValueError:
        raise StatusListError("encodedList is not base64url without padding") from None
    # Stream with a cap: a few kilobytes of GZIP can inflate to gigabytes (a zip bomb).
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        bits = inflater.decompress(compressed, max_bytes)
    except zlib.error:
        raise StatusListError("encodedList is not valid GZIP data") from None
    if inflater.unconsumed_tail:
        raise StatusListError(f"encodedList decompresses to more than {max_bytes} bytes")
    if not inflater.eof:
        raise StatusListError("encodedList GZIP data is truncated")
    if inflater.unused_data:
        raise StatusListError("encodedList has data after the GZIP stream")
    if len(bits) * 8 < min_entries:
        raise StatusListError(f"status list has {len(bits) * 8} entries; at least {min_entries} are required")
    return bytearray(bits)


def allocate_index(used: Collection[int], size: int = MIN_ENTRIES) -> int:
    """A random index in [0, size) not in `used`, so that neighbouring entries reveal nothing.

    Raises StatusListFull when every index is taken.
    """
    if len(used) < size:
        # Cheap while the list is sparse, which it nearly always is.
        for _ in range(_RANDOM_TRIES):
            candidate = secrets.randbelow(size)
            if candidate not in used:
                return candidate
    used_set = used if isinstance(used, set | frozenset) else set(used)
    free_count = size - sum(1 for index in used_set if 0 <= index < size)
    if free_count <= 0:
        raise StatusListFull(f"all {size} indexes of the status list are allocated")
    # Dense list: pick uniformly among the free indexes.
    target = secrets.randbelow(free_count)
    for index in range(size):
        if index not in used_set:
            if target == 0:
                return index
            target -= 1
    raise StatusListFull(f"all {size} indexes of the status list are allocated")  # pragma: no cover


def status_entry(list_url: str, index: int, purpose: StatusPurpose | str) -> dict[str, str]:
    """A credentialStatus entry pointing at `index` of the list credential published at `list_url`."""
    purpose = StatusPurpose(purpose)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise StatusListError(f"status list index must be a non-negative integer, got {index!r}")
    return {
        "id": f"{list_url}#{index}",
        "type": STATUS_ENTRY_TYPE,
        "statusPurpose": purpose.value,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    *,
    list_url: str,
    issuer: Mapping[str, Any],
    purpose: StatusPurpose | str,
    bits: bytes | bytearray,
    valid_from: datetime,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """The BitstringStatusListCredential (unsigned) published at `list_url`; sign it with `sign_credential`."""
    purpose = StatusPurpose(purpose)
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2],
        "id": list_url,
        "type": [VERIFIABLE_CREDENTIAL, STATUS_LIST_CREDENTIAL_TYPE],
        "issuer": dict(issuer),
        "validFrom": format_instant(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = format_instant(valid_until)
    credential["credentialSubject"] = {
        "id": f"{list_url}#list",
        "type": STATUS_LIST_TYPE,
        "statusPurpose": purpose.value,
        "encodedList": encode_list(bits),
    }
    return credential
