"""Bitstring Status List: size, bit order, encoding, decoding limits, random indexes, and the documents."""

import base64
import gzip
import json
from datetime import timedelta

import jwt
import pytest

from certificates.credentials import sign_credential
from certificates.keys import jwks
from certificates.status_list import (
    MIN_ENTRIES,
    StatusListError,
    StatusListFull,
    allocate_index,
    decode_list,
    encode_list,
    get_bit,
    new_bitstring,
    set_bit,
    status_entry,
    status_list_credential,
)

from .conftest import NOW


def test_a_new_list_has_131072_clear_entries():
    bits = new_bitstring()
    assert len(bits) * 8 == MIN_ENTRIES == 131_072
    assert not any(bits)
    with pytest.raises(StatusListError):
        new_bitstring(1024)
    with pytest.raises(StatusListError):
        new_bitstring(MIN_ENTRIES + 3)


def test_index_zero_is_the_most_significant_bit_of_the_first_byte():
    bits = new_bitstring()
    set_bit(bits, 0)
    assert bits[0] == 0x80
    set_bit(bits, 7)
    assert bits[0] == 0x81
    set_bit(bits, 8)
    assert bits[1] == 0x80
    set_bit(bits, MIN_ENTRIES - 1)
    assert bits[-1] == 0x01
    assert get_bit(bits, 0) and get_bit(bits, 7) and get_bit(bits, 8) and not get_bit(bits, 1)
    set_bit(bits, 0, False)
    assert bits[0] == 0x01 and not get_bit(bits, 0)


@pytest.mark.parametrize("index", [-1, MIN_ENTRIES, True, "3"])
def test_out_of_range_indexes_are_refused(index):
    with pytest.raises(IndexError):
        get_bit(new_bitstring(), index)


def test_encode_decode_round_trip_and_format():
    bits = new_bitstring()
    for index in (0, 9041, 77120, MIN_ENTRIES - 1):
        set_bit(bits, index)
    encoded = encode_list(bits)
    assert encoded.startswith("u") and "=" not in encoded
    # Independently: multibase "u" = base64url without padding, of GZIP.
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw == bytes(bits)
    assert decode_list(encoded) == bits
    assert encode_list(bits) == encoded  # deterministic
    assert len(encode_list(new_bitstring())) < 200  # an empty list compresses to almost nothing


def _u(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        (_u(gzip.compress(bytes(16384)))[1:], "prefix"),
        ("z" + _u(gzip.compress(bytes(16384)))[1:], "prefix"),
        ("u!!!!", "base64url"),
        (_u(gzip.compress(bytes(16384))) + "=", "base64url"),
        (_u(b"definitely not gzip"), "GZIP"),
        (_u(gzip.compress(bytes(16384))[:-10]), "truncated"),
        (_u(gzip.compress(bytes(1024))), "at least"),
        (_u(gzip.compress(bytes(16384)) + b"junk"), "after"),
    ],
)
def test_bad_encoded_lists_fail_clearly(encoded, message):
    with pytest.raises(StatusListError, match=message):
        decode_list(encoded)


def test_zip_bombs_are_refused():
    bomb = _u(gzip.compress(bytes(64 * 1024 * 1024)))  # 64 MiB of zeros in about 64 KB
    assert len(bomb) < 100_000
    with pytest.raises(StatusListError, match="more than"):
        decode_list(bomb)


def test_random_indexes_avoid_used_ones():
    used = {allocate_index(set()) for _ in range(50)}
    assert len(used) > 45  # random, not sequential
    assert used != set(range(min(used), min(used) + 50))
    small_used = set(range(MIN_ENTRIES)) - {4242, 99_999}
    assert {allocate_index(small_used) for _ in range(20)} <= {4242, 99_999}
    with pytest.raises(StatusListFull):
        allocate_index(set(range(MIN_ENTRIES)))
    for _ in range(200):
        assert allocate_index(used) not in used


def test_status_entry_shape():
    url = "https://registry.example/status/ie-hpb/revocation/1"
    assert status_entry(url, 123, "revocation") == {
        "id": f"{url}#123",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "123",
        "statusListCredential": url,
    }
    with pytest.raises(ValueError):
        status_entry(url, 1, "message")
    with pytest.raises(StatusListError):
        status_entry(url, -1, "suspension")


def test_status_list_credential_is_signed_and_interoperable(issuer):
    url = issuer.status_url("suspension")
    bits = new_bitstring()
    set_bit(bits, 77120)
    credential = status_list_credential(
        list_url=url,
        issuer={"id": issuer.id, "name": issuer.name},
        purpose="suspension",
        bits=bits,
        valid_from=NOW - timedelta(hours=1),
        valid_until=NOW + timedelta(days=1),
    )
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["id"] == url
    assert credential["credentialSubject"]["type"] == "BitstringStatusList"
    assert credential["credentialSubject"]["statusPurpose"] == "suspension"
    token = sign_credential(credential, issuer.key, issuer.kid, issued_at=NOW - timedelta(hours=1))
    # Read with a standard JOSE library given only the published JWKS, then decode the list.
    published = jwks([issuer.jwk])
    decoded = jwt.api_jws.decode_complete(token, key=jwt.PyJWK(published["keys"][0]), algorithms=["ES256"])
    subject = json.loads(decoded["payload"])["credentialSubject"]
    assert get_bit(decode_list(subject["encodedList"]), 77120)
    assert not get_bit(decode_list(subject["encodedList"]), 9041)
