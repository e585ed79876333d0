"""Issuer keys: JWKs, RFC 7638 thumbprints, RFC 8037 Appendix A reproduced exactly, encryption at rest."""

import base64
import hashlib
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from certificates.jose import EDDSA, ES256, UnsupportedKey, b64url_decode, b64url_encode, sign_compact
from certificates.keys import (
    InvalidJwk,
    KeyDecryptionError,
    decrypt_private_key,
    encrypt_private_key,
    generate_key,
    jwk_thumbprint,
    jwks,
    public_jwk,
    public_key_from_jwk,
)

# RFC 8037 Appendix A.1 (the key), A.3 (its thumbprint) and A.4 (the signature).
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)
KEK = "a-long-random-key-encryption-key-for-tests-0123456789"


def rfc8037_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D))


def test_rfc8037_public_key_and_thumbprint():
    jwk = public_jwk(rfc8037_key())
    assert jwk["x"] == RFC8037_X
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
    assert jwk["kid"] == RFC8037_THUMBPRINT
    assert jwk_thumbprint({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}) == RFC8037_THUMBPRINT


def test_rfc8037_signature_is_reproduced_byte_for_byte():
    token = sign_compact({"alg": "EdDSA"}, b"Example of Ed25519 signing", rfc8037_key())
    assert token == RFC8037_JWS
    # And the RFC's JWS verifies with pyjwt given only the public JWK.
    public = jwt.PyJWK({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})
    decoded = jwt.api_jws.decode_complete(RFC8037_JWS, key=public, algorithms=["EdDSA"])
    assert decoded["payload"] == b"Example of Ed25519 signing"


def test_ec_thumbprint_matches_one_computed_by_hand():
    key, jwk = generate_key(ES256)
    numbers = key.public_key().public_numbers()
    x = base64.urlsafe_b64encode(numbers.x.to_bytes(32, "big")).rstrip(b"=").decode()
    y = base64.urlsafe_b64encode(numbers.y.to_bytes(32, "big")).rstrip(b"=").decode()
    # RFC 7638 section 3: required members only, lexicographic order, no whitespace.
    canonical = '{"crv":"P-256","kty":"EC","x":"' + x + '","y":"' + y + '"}'
    by_hand = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    assert jwk == {"kid": by_hand, "alg": "ES256", "use": "sig", "kty": "EC", "crv": "P-256", "x": x, "y": y}
    # Optional members (alg, use, kid) do not change the thumbprint.
    assert jwk_thumbprint(jwk) == by_hand


def test_ec_coordinates_keep_leading_zeros():
    # Private scalar 49350 gives a P-256 public point whose x and y both start with a zero byte.
    key = ec.derive_private_key(49350, ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    assert numbers.x < 2**248 and numbers.y < 2**248
    jwk = public_jwk(key)
    assert len(b64url_decode(jwk["x"])) == 32 and len(b64url_decode(jwk["y"])) == 32
    assert b64url_decode(jwk["x"])[0] == 0
    assert public_key_from_jwk(jwk).public_numbers() == numbers


def test_eddsa_key_generation():
    key, jwk = generate_key(EDDSA)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    assert set(jwk) == {"kid", "alg", "use", "kty", "crv", "x"}
    assert jwk["alg"] == "EdDSA" and jwk["use"] == "sig"
    assert public_key_from_jwk(jwk).public_bytes_raw() == key.public_key().public_bytes_raw()


def test_unsupported_algorithms_and_keys_are_refused():
    with pytest.raises(UnsupportedKey):
        generate_key("HS256")
    with pytest.raises(UnsupportedKey):
        public_jwk(ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(UnsupportedKey):
        sign_compact({"alg": "none"}, b"x", rfc8037_key())
    with pytest.raises(UnsupportedKey):
        sign_compact({"alg": "ES256"}, b"x", rfc8037_key())


def test_public_jwk_parsing_refuses_private_and_invalid_keys():
    key, jwk = generate_key(ES256)
    with pytest.raises(InvalidJwk, match="private"):
        public_key_from_jwk({**jwk, "d": "AAAA"})
    with pytest.raises(InvalidJwk, match="private"):
        jwks([{**jwk, "d": "AAAA"}])
    # A point that is not on the curve.
    with pytest.raises(InvalidJwk):
        public_key_from_jwk({**jwk, "y": b64url_encode(b"\x01" * 32)})
    with pytest.raises(InvalidJwk):
        public_key_from_jwk({**jwk, "alg": "EdDSA"})
    with pytest.raises(InvalidJwk):
        public_key_from_jwk({"kty": "RSA", "n": "AQAB", "e": "AQAB"})
    assert jwks([jwk]) == {"keys": [jwk]}


@pytest.mark.parametrize("alg", [ES256, EDDSA])
def test_encrypted_private_key_round_trip(alg):
    key, jwk = generate_key(alg)
    blob = encrypt_private_key(key, KEK, jwk["kid"])
    assert blob.startswith("v1.")
    opened = decrypt_private_key(blob, KEK, jwk["kid"])
    assert public_jwk(opened) == jwk
    # A fresh nonce every time: the same key never gives the same blob.
    assert encrypt_private_key(key, KEK, jwk["kid"]) != blob


def test_blob_holds_no_key_material_in_clear():
    key, jwk = generate_key(EDDSA)
    blob = encrypt_private_key(key, KEK, jwk["kid"])
    raw_private = key.private_bytes_raw()
    assert raw_private not in b64url_decode(blob[3:])
    assert b64url_encode(raw_private) not in blob
    assert b64url_encode(raw_private) not in repr(key)


def test_wrong_kek_fails_clearly():
    key, jwk = generate_key(ES256)
    blob = encrypt_private_key(key, KEK, jwk["kid"])
    with pytest.raises(KeyDecryptionError, match="wrong key-encryption key"):
        decrypt_private_key(blob, KEK + "x", jwk["kid"])


def test_blob_is_bound_to_its_kid():
    key, jwk = generate_key(ES256)
    _, other = generate_key(ES256)
    blob = encrypt_private_key(key, KEK, jwk["kid"])
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(blob, KEK, other["kid"])
    with pytest.raises(ValueError, match="thumbprint"):
        encrypt_private_key(key, KEK, other["kid"])


@pytest.mark.parametrize("position", [0, 11, 12, 40, -1])
def test_tampered_blob_fails(position):
    key, jwk = generate_key(ES256)
    raw = bytearray(b64url_decode(encrypt_private_key(key, KEK, jwk["kid"])[3:]))
    raw[position] ^= 0x01
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key("v1." + b64url_encode(bytes(raw)), KEK, jwk["kid"])


@pytest.mark.parametrize(
    "blob",
    ["", "v2.AAAA", "v1.not*base64", "v1." + b64url_encode(b"short"), json.dumps({"d": "x"})],
)
def test_malformed_blobs_fail(blob):
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(blob, KEK, "kid")


def test_empty_kek_is_refused():
    key, jwk = generate_key(ES256)
    with pytest.raises(ValueError):
        encrypt_private_key(key, "", jwk["kid"])


@pytest.mark.parametrize("length", range(0, 40))
def test_base64url_round_trips_every_length(length):
    data = bytes((7 * i + length) % 256 for i in range(length))
    assert b64url_decode(b64url_encode(data)) == data
    assert b64url_decode(b64url_encode(data).encode()) == data


@pytest.mark.parametrize("text", [
    "QUJD+A", "QUJD/A", "QUJDRA==", "QUJDRA=", "QU JD", "QUJD\n", "QUJDé", "Q", "QUJDR", "*UJD", "=QUJD",
    "QR",  # a non-canonical tail: the unused low bits of R are not zero ("QQ" is the one encoding of b"A")
    "QUJ",  # likewise for a tail of three ("QUI" encodes b"AB")
])
def test_base64url_decoding_is_strict(text):
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_base64url_decoding_refuses_what_is_not_text():
    with pytest.raises(ValueError):
        b64url_decode(42)
    assert b64url_decode("QQ") == b"A" and b64url_decode("QUI") == b"AB" and b64url_decode("-_8") == b"\xfb\xff"
