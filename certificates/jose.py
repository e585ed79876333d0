"""JOSE building blocks: strict base64url, compact JSON, and compact JWS signing (RFC 7515).

Signing is done here rather than through a library so that the protected header's bytes are
exactly what we serialise (RFC 8037 Appendix A.4 is reproduced byte for byte). Verification
lives in `certificates.verify`: an explicit algorithm allow-list, then `cryptography` with the trust
list's key. The tests check that pyjwt, a standard JOSE library, verifies our tokens from the JWKS alone.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ES256 = "ES256"
EDDSA = "EdDSA"
# The only algorithms this registry signs or accepts. Never "none", never HMAC, never RSA.
SUPPORTED_ALGORITHMS: tuple[str, ...] = (ES256, EDDSA)

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

_B64URL_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class UnsupportedKey(ValueError):
    """A key that is neither EC P-256 (ES256) nor Ed25519 (EdDSA)."""


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# base64url's "-" and "_" become the standard alphabet's "+" and "/"; the standard "+", "/" and "=" become "*",
# which binascii's strict mode rejects along with every other foreign byte. One translate and one C call.
_URL_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/***")
_PADDING = (b"", None, b"==", b"=")


def b64url_decode(text: str | bytes) -> bytes:
    """Strict base64url without padding: any other character, padding or a non-canonical tail raises ValueError."""
    if isinstance(text, str):
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("not base64url without padding") from None
    elif isinstance(text, bytes | bytearray):
        raw = bytes(text)
    else:
        raise ValueError("base64url input must be text")
    tail = len(raw) % 4
    if tail == 1:
        raise ValueError("not base64url without padding")
    try:
        decoded = binascii.a2b_base64(raw.translate(_URL_TO_STANDARD) + _PADDING[tail], strict_mode=True)
    except binascii.Error:
        raise ValueError("not base64url without padding") from None
    # Unused low bits in the last character must be zero, so each value has exactly one encoding: a tail of
    # 2 characters carries 4 unused bits, a tail of 3 carries 2.
    if tail and _B64URL_BYTES.index(raw[-1]) & (0b1111 if tail == 2 else 0b11):
        raise ValueError("not canonical base64url")
    return decoded


def compact_json(value: Any) -> bytes:
    """JSON with no whitespace, UTF-8, insertion order kept (the form we sign)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def algorithm_for_key(key: PrivateKey | PublicKey) -> str:
    """The JOSE algorithm a key is used with: ES256 for EC P-256, EdDSA for Ed25519."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return EDDSA
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return ES256
    raise UnsupportedKey(f"unsupported key type {type(key).__name__}; use EC P-256 or Ed25519")


def sign_compact(header: Mapping[str, Any], payload: bytes, private_key: PrivateKey) -> str:
    """Sign `payload` as a compact JWS whose protected header is exactly `compact_json(header)`.

    The header's `alg` must match the key: ES256 with a P-256 key, EdDSA with an Ed25519 key.
    """
    alg = header.get("alg")
    if alg not in SUPPORTED_ALGORITHMS:
        raise UnsupportedKey(f"refusing to sign with alg {alg!r}; supported: {', '.join(SUPPORTED_ALGORITHMS)}")
    if algorithm_for_key(private_key) != alg:
        raise UnsupportedKey(f"alg {alg} does not match the key type {type(private_key).__name__}")
    signing_input = (b64url_encode(compact_json(dict(header))) + "." + b64url_encode(payload)).encode("ascii")
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        signature = private_key.sign(signing_input)
    else:
        # JWS wants the raw 64-byte R || S, not the DER that cryptography produces (RFC 7518 section 3.4).
        r, s = decode_dss_signature(private_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return signing_input.decode("ascii") + "." + b64url_encode(signature)
