"""Issuer keys: generation, public JWKs, RFC 7638 thumbprints, and encryption at rest under a KEK.

A private key leaves this module only as a cryptography key object (whose repr names the type,
never the material) or as an encrypted blob. Nothing here logs.

The encrypted blob is ``"v1." + base64url(nonce || ciphertext)``: AES-256-GCM with a random
96-bit nonce, the PKCS#8 DER private key as plaintext and the key's kid as associated data, under
a 256-bit key derived from the configured key-encryption key (REGISTRY_KEY_ENCRYPTION_KEY) with
HKDF-SHA256. HKDF does no stretching: the KEK must be a long random secret (production refuses
anything shorter than 32 characters).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from certificates.jose import (
    EDDSA,
    ES256,
    SUPPORTED_ALGORITHMS,
    PrivateKey,
    PublicKey,
    UnsupportedKey,
    algorithm_for_key,
    b64url_decode,
    b64url_encode,
    compact_json,
)

BLOB_VERSION = "v1."
_NONCE_BYTES = 12
_TAG_BYTES = 16
# Fixed domain separation: the same KEK used elsewhere derives a different key.
_HKDF_SALT = b"workforce-registry"
_HKDF_INFO = b"certificates/issuer-private-key/aes-256-gcm/v1"

# RFC 7638 section 3.2: the required members of each key type, the only ones hashed.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


class KeyDecryptionError(Exception):
    """An encrypted private key could not be opened: wrong KEK, wrong kid, or a damaged blob."""


class InvalidJwk(ValueError):
    """A JWK that is not a usable EC P-256 or Ed25519 public key."""


def generate_key(alg: str = ES256) -> tuple[PrivateKey, dict[str, str]]:
    """A new signing key for `alg` (ES256 or EdDSA) and its public JWK (kid, alg, use, kty, crv, x[, y])."""
    if alg == ES256:
        key: PrivateKey = ec.generate_private_key(ec.SECP256R1())
    elif alg == EDDSA:
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise UnsupportedKey(f"unsupported algorithm {alg!r}; supported: {', '.join(SUPPORTED_ALGORITHMS)}")
    return key, public_jwk(key)


def public_jwk(key: PrivateKey | PublicKey) -> dict[str, str]:
    """The public JWK of a key (private or public), with `kid` = its RFC 7638 thumbprint."""
    alg = algorithm_for_key(key)
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) else key
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        members = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    else:
        numbers = public.public_numbers()
        # Coordinates are fixed-length (32 bytes for P-256), leading zeros kept (RFC 7518 section 6.2.1.2).
        members = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(32, "big")),
            "y": b64url_encode(numbers.y.to_bytes(32, "big")),
        }
    return {"kid": jwk_thumbprint(members), "alg": alg, "use": "sig", **members}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint: SHA-256 over the required members, sorted, no whitespace; base64url."""
    kty = jwk.get("kty")
    if kty not in _THUMBPRINT_MEMBERS:
        raise InvalidJwk(f"unsupported kty {kty!r}")
    try:
        required = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[kty]}
    except KeyError as exc:
        raise InvalidJwk(f"{kty} JWK lacks the member {exc.args[0]!r}") from None
    if not all(isinstance(value, str) for value in required.values()):
        raise InvalidJwk("JWK members must be strings")
    canonical = compact_json(dict(sorted(required.items())))
    return b64url_encode(hashlib.sha256(canonical).digest())


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """A public key object from an EC P-256 or Ed25519 JWK; refuses JWKs carrying private members."""
    if "d" in jwk:
        raise InvalidJwk("a public JWK must not carry the private member 'd'")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "OKP" and crv == "Ed25519":
            raw = b64url_decode(jwk["x"])
            if len(raw) != 32:
                raise InvalidJwk("Ed25519 x must be 32 bytes")
            key: PublicKey = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        elif kty == "EC" and crv == "P-256":
            x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
            if len(x) != 32 or len(y) != 32:
                raise InvalidJwk("P-256 coordinates must be 32 bytes each")
            # from_encoded_point checks the point lies on the curve.
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
        else:
            raise InvalidJwk(f"unsupported key kty={kty!r} crv={crv!r}; use EC P-256 or OKP Ed25519")
    except KeyError as exc:
        raise InvalidJwk(f"JWK lacks the member {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InvalidJwk):
            raise
        raise InvalidJwk(f"JWK is not a valid public key: {exc}") from None
    if "alg" in jwk and jwk["alg"] != algorithm_for_key(key):
        raise InvalidJwk(f"JWK alg {jwk['alg']!r} does not match its key type")
    return key


def jwks(public_jwks: list[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A JWK Set document (as served at /.well-known/jwks.json) from public JWKs; private members refused."""
    for jwk in public_jwks:
        if "d" in jwk:
            raise InvalidJwk("refusing to publish a JWK carrying the private member 'd'")
    return {"keys": [dict(jwk) for jwk in public_jwks]}


def _wrapping_key(kek: str) -> AESGCM:
    if not isinstance(kek, str) or not kek:
        raise ValueError("the key-encryption key must be a non-empty string")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(kek.encode("utf-8"))
    return AESGCM(derived)


def encrypt_private_key(key: PrivateKey, kek: str, kid: str) -> str:
    """Encrypt a private key for storage: an opaque "v1." blob bound to `kid` (which must be the key's own)."""
    if public_jwk(key)["kid"] != kid:
        raise ValueError("kid is not the thumbprint of this key")
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = _wrapping_key(kek).encrypt(nonce, pkcs8, kid.encode("utf-8"))
    return BLOB_VERSION + b64url_encode(nonce + ciphertext)


def decrypt_private_key(blob: str, kek: str, kid: str) -> PrivateKey:
    """Open a blob from `encrypt_private_key`; raises KeyDecryptionError, never returns a wrong key."""
    if not isinstance(blob, str) or not blob.startswith(BLOB_VERSION):
        raise KeyDecryptionError("not an encrypted private key (expected a 'v1.' blob)")
    try:
        raw = b64url_decode(blob[len(BLOB_VERSION) :])
    except ValueError:
        raise KeyDecryptionError("encrypted private key is not valid base64url") from None
    if len(raw) <= _NONCE_BYTES + _TAG_BYTES:
        raise KeyDecryptionError("encrypted private key is truncated")
    nonce, ciphertext = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    try:
        pkcs8 = _wrapping_key(kek).decrypt(nonce, ciphertext, kid.encode("utf-8"))
    except InvalidTag:
        raise KeyDecryptionError(
            "cannot decrypt the private key: wrong key-encryption key, wrong kid, or a tampered blob"
        ) from None
    try:
        key = serialization.load_der_private_key(pkcs8, password=None)
    except (TypeError, ValueError):  # pragma: no cover - only reachable with a forged blob under the right KEK
        raise KeyDecryptionError("decrypted data is not a PKCS#8 private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise KeyDecryptionError("decrypted key is not an EC P-256 or Ed25519 key")
    try:
        matches = public_jwk(key)["kid"] == kid
    except UnsupportedKey:
        matches = False
    if not matches:
        raise KeyDecryptionError("decrypted key does not match its kid")
    return key
