"""The compact QR token: a short signed summary of a certificate, for `<base_url>/verify#<token>`.

A compact JWS with protected header {alg, kid, typ: "wr-qr+jwt"} and a payload of short claims:

    c   credential id: the 16 bytes of its UUID, base64url (22 characters)
    k   kind: "cc" course completion, "rc" recognition, "gs" good standing
    n   the subject's name, as printed
    r   registry number (optional)
    d   a short description such as the course or the profession (optional)
    t   signing instant (seconds), placed in the key's window like a VC-JWT's iat
    f   validFrom (seconds)
    u   validUntil (seconds; optional)
    s   status: {"r": "<revocation list>#<index>", "s": "<suspension list>#<index>"}, each list
        given by its URL, or by its path under the trust list's `status_list_base`

The issuer is not repeated: the kid names exactly one issuer in the trust list. The token is
verified with the same steps and outcomes as a VC-JWT (see `certificates.verify`).

Size: a QR code of version 20 at error correction level M holds 666 bytes. `sign_compact_token`
keeps tokens within MAX_TOKEN_CHARS (590), which leaves 76 bytes for `<base_url>/verify#` or
`?t=`, by shortening the description `d` if it must (the full wording is in the credential; the
QR only has to find and confirm it); `verification_url` refuses any URL over 666 bytes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from certificates.credentials import CertificateKind, StatusRef, credential_kind, status_refs
from certificates.jose import PrivateKey, algorithm_for_key, b64url_decode, b64url_encode, compact_json, sign_compact
from certificates.keys import public_jwk
from certificates.status_list import StatusPurpose
from certificates.trust import TrustedIssuer, TrustList
from certificates.verify import (
    HEADER_CACHE_CHARS,
    Examined,
    Profile,
    StatusLookup,
    VerificationResult,
    run_verification,
)
from certificates.w3c import instant_from_seconds, parse_instant

COMPACT_TYP = "wr-qr+jwt"
KIND_CODES: dict[CertificateKind, str] = {
    CertificateKind.COURSE_COMPLETION: "cc",
    CertificateKind.RECOGNITION: "rc",
    CertificateKind.GOOD_STANDING: "gs",
}
_KIND_OF_CODE = {code: kind for kind, code in KIND_CODES.items()}
_PURPOSE_CODES = {StatusPurpose.REVOCATION: "r", StatusPurpose.SUSPENSION: "s"}
_PURPOSE_OF_CODE = {code: purpose for purpose, code in _PURPOSE_CODES.items()}
_KNOWN_CLAIMS = frozenset("ckndrtfus")
_MAX_LENGTHS = {"n": 120, "r": 40, "d": 120}
_MIN_DESCRIPTION = 12
_MIN_NAME = 24
QR_MAX_BYTES = 666  # version 20, level M, byte mode
MAX_TOKEN_CHARS = 590


class TokenTooLong(ValueError):
    """The token or its URL would not fit a version 20 QR code at level M."""


def compact_claims(
    credential: Mapping[str, Any],
    *,
    subject_name: str,
    registry_number: str | None = None,
    description: str | None = None,
    issued_at: datetime | None = None,
    status_list_base: str | None = None,
) -> dict[str, Any]:
    """The short claims for a credential (an unsigned credential dict or a verified VC-JWT payload).

    Status list URLs under `status_list_base` (the trust list's) are written relative to it.
    """
    kind = credential_kind(credential)
    if kind is None:
        raise ValueError("the credential names no certificate kind")
    credential_id = uuid.UUID(str(credential["id"]).removeprefix("urn:uuid:"))
    claims: dict[str, Any] = {
        "c": b64url_encode(credential_id.bytes),
        "k": KIND_CODES[kind],
        "n": subject_name,
    }
    if registry_number:
        claims["r"] = registry_number
    if description:
        claims["d"] = description
    claims["t"] = int((issued_at or datetime.now(UTC)).timestamp())
    claims["f"] = int(parse_instant(credential["validFrom"], "validFrom").timestamp())
    if "validUntil" in credential:
        claims["u"] = int(parse_instant(credential["validUntil"], "validUntil").timestamp())
    refs = status_refs(credential)
    if refs:
        claims["s"] = {
            _PURPOSE_CODES[ref.purpose]: f"{_relative(ref.list_url, status_list_base)}#{ref.index}" for ref in refs
        }
    return claims


def _relative(url: str, base: str | None) -> str:
    if base and url.startswith(base) and len(url) > len(base):
        return url[len(base) :]
    return url


def _token_length(header: Mapping[str, Any], claims: Mapping[str, Any]) -> int:
    # Both ES256 and EdDSA signatures are 64 bytes: 86 base64url characters.
    return len(b64url_encode(compact_json(dict(header)))) + len(b64url_encode(compact_json(dict(claims)))) + 88


def _fit(header: Mapping[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
    """Shorten the description `d` until the token fits, dropping it if need be; then, for a name that takes
    more bytes than the code holds (120 Greek or Cyrillic letters are 240 bytes of UTF-8), the name `n`, never
    below _MIN_NAME characters. What is cut ends in "…"; the full name is in the credential itself."""
    while _token_length(header, claims) > MAX_TOKEN_CHARS and "d" in claims:
        description = claims["d"].removesuffix("…")
        shorter = description[:-1].rstrip(" ,;:-–")
        if len(shorter) < _MIN_DESCRIPTION:
            del claims["d"]
        else:
            claims["d"] = shorter + "…"
    while _token_length(header, claims) > MAX_TOKEN_CHARS and len(claims["n"].removesuffix("…")) > _MIN_NAME:
        claims["n"] = claims["n"].removesuffix("…")[:-1].rstrip(" ,-") + "…"
    return claims


def sign_compact_token(claims: Mapping[str, Any], private_key: PrivateKey, kid: str) -> str:
    """Sign compact claims (from `compact_claims`) with the issuer's key; the header is {alg, kid, typ}.

    A description `d` too long for the QR code is shortened (ending in "…") or dropped; if the
    token still exceeds MAX_TOKEN_CHARS, TokenTooLong is raised.
    """
    if public_jwk(private_key)["kid"] != kid:
        raise ValueError("kid is not the thumbprint of the signing key")
    problems = compact_claim_problems(claims)
    if problems:
        raise ValueError("; ".join(problems))
    header = {"alg": algorithm_for_key(private_key), "kid": kid, "typ": COMPACT_TYP}
    fitted = _fit(header, dict(claims))
    if _token_length(header, fitted) > MAX_TOKEN_CHARS:
        raise TokenTooLong(f"the QR token would be {_token_length(header, fitted)} characters; {MAX_TOKEN_CHARS} fit")
    token = sign_compact(header, compact_json(fitted), private_key)
    if len(token) != _token_length(header, fitted):  # pragma: no cover - the size formula guarantees the fit
        raise RuntimeError("QR token length differs from its computed length")
    return token


def verification_url(base_url: str, token: str, *, in_query: bool = False) -> str:
    """`<base_url>/verify#<token>` (the token never reaches a server log) or `<base_url>/verify?t=<token>`.

    Raises TokenTooLong when the URL would not fit a version 20 QR code at level M.
    """
    url = f"{base_url.rstrip('/')}/verify{'?t=' if in_query else '#'}{token}"
    if len(url.encode("utf-8")) > QR_MAX_BYTES:
        raise TokenTooLong(f"the verification URL is {len(url.encode('utf-8'))} bytes; a QR code holds {QR_MAX_BYTES}")
    return url


_QR_HEADERS: dict[str, bool] = {}


def is_qr_token(token: str) -> bool:
    """Whether a token's protected header says typ wr-qr+jwt: which verifier to hand it to. Remembered per header
    segment (every token one key signs shares it); the verifier chosen still checks the header itself."""
    segment = token.split(".", 1)[0]
    known = _QR_HEADERS.get(segment)
    if known is None:
        try:
            header = json.loads(b64url_decode(segment))
        except (ValueError, UnicodeDecodeError, RecursionError):
            header = None
        known = isinstance(header, dict) and header.get("typ") == COMPACT_TYP
        if len(segment) <= HEADER_CACHE_CHARS:  # anyone may send a token: only a header of sane size is kept
            if len(_QR_HEADERS) >= 256:
                _QR_HEADERS.clear()
            _QR_HEADERS[segment] = known
    return known


def token_from_url(text: str) -> str:
    """The token from a verification URL (fragment or ?t=), or `text` itself when it is a bare token."""
    text = text.strip()
    if "/" not in text:
        return text
    parts = urlsplit(text)
    if parts.fragment:
        return parts.fragment
    values = parse_qs(parts.query).get("t")
    if values:
        return values[0]
    raise ValueError("the URL holds no token (expected #<token> or ?t=<token>)")


def _int_claim(claims: Mapping[str, Any], name: str) -> bool:
    return instant_from_seconds(claims.get(name)) is not None


def compact_claim_problems(claims: Mapping[str, Any]) -> list[str]:
    """Every fault in a compact claim set (empty when it is fine)."""
    problems = []
    unknown = set(claims) - _KNOWN_CLAIMS
    if unknown:
        problems.append("unknown claims: " + ", ".join(sorted(unknown)))
    try:
        if not isinstance(claims.get("c"), str) or len(b64url_decode(claims["c"])) != 16:
            raise ValueError
    except ValueError:
        problems.append("c must be the 16 bytes of the credential's UUID, base64url")
    if _kind(claims) is None:
        problems.append("k must be one of " + ", ".join(_KIND_OF_CODE))
    if not isinstance(claims.get("n"), str) or not claims["n"]:
        problems.append("n must be the subject's name")
    for name in ("r", "d"):
        if name in claims and not isinstance(claims[name], str):
            problems.append(f"{name} must be a string")
    for name in ("t", "f"):
        if not _int_claim(claims, name):
            problems.append(f"{name} must be an integer number of seconds")
    if "u" in claims and (not _int_claim(claims, "u") or (_int_claim(claims, "f") and claims["u"] <= claims["f"])):
        problems.append("u must be an integer number of seconds after f")
    for name, limit in _MAX_LENGTHS.items():
        if isinstance(claims.get(name), str) and len(claims[name]) > limit:
            problems.append(f"{name} is longer than {limit} characters")
    if "s" in claims:
        try:
            _pointers(claims)
        except ValueError as exc:
            problems.append(str(exc))
    return problems


def _pointers(claims: Mapping[str, Any]) -> list[tuple[StatusPurpose, str, int]]:
    status = claims.get("s", {})
    if not isinstance(status, Mapping):
        raise ValueError("s must be an object")
    pointers = []
    for code, pointer in status.items():
        ref, _, index = pointer.rpartition("#") if isinstance(pointer, str) else ("", "", "")
        well_formed = bool(ref) and ref.isprintable() and " " not in ref and index.isascii() and index.isdigit()
        if code not in _PURPOSE_OF_CODE or not well_formed:
            raise ValueError("s must map r / s to '<status list>#<index>'")
        pointers.append((_PURPOSE_OF_CODE[code], ref, int(index)))
    return pointers


def _status(claims: Mapping[str, Any], trust: TrustList) -> list[StatusRef]:
    refs = []
    for purpose, ref, index in _pointers(claims):
        if ref.startswith(("https://", "http://")):
            url = ref
        elif trust.status_list_base:
            url = trust.status_list_base + ref
        else:
            raise ValueError(f"status list {ref!r} is relative and the trust list has no status_list_base")
        refs.append(StatusRef(purpose, url, index))
    return refs


def _instant(claims: Mapping[str, Any], name: str) -> datetime | None:
    return instant_from_seconds(claims.get(name))


def _kind(claims: Mapping[str, Any]) -> str | None:
    code = claims.get("k")
    kind = _KIND_OF_CODE.get(code) if isinstance(code, str) else None
    return kind.value if kind else None


def _examine(claims: Mapping[str, Any], issuer: TrustedIssuer, trust: TrustList) -> Examined:
    problems = compact_claim_problems(claims)
    if problems:
        return Examined(problems, None, None, [])
    try:
        refs, error = _status(claims, trust), None
    except ValueError as exc:
        refs, error = [], str(exc)
    return Examined(problems, _instant(claims, "f"), _instant(claims, "u"), refs, error)


COMPACT_PROFILE = Profile(
    typ=COMPACT_TYP,
    claimed_issuer=None,  # the kid names the issuer
    kind=_kind,
    signed_at=lambda claims: _instant(claims, "t"),
    examine=_examine,
)


def verify_compact_token(
    token: str,
    trust_list: TrustList | Mapping[str, Any],
    status_lookup: StatusLookup | None = None,
    *,
    now: datetime | None = None,
    leeway: timedelta = timedelta(0),
) -> VerificationResult:
    """Verify a QR token with the same steps and outcomes as a VC-JWT (its typ must be wr-qr+jwt)."""
    return run_verification(token, COMPACT_PROFILE, trust_list, status_lookup, now=now, leeway=leeway)


def describe_compact(claims: Mapping[str, Any]) -> dict[str, Any]:
    """Readable names for verified compact claims, for a verification page."""
    credential_id = uuid.UUID(bytes=b64url_decode(claims["c"]))
    return {
        "credential_id": credential_id.urn,
        "kind": _kind(claims),
        "subject_name": claims["n"],
        "registry_number": claims.get("r"),
        "description": claims.get("d"),
        "valid_from": _instant(claims, "f"),
        "valid_until": _instant(claims, "u"),
    }
