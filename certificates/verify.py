"""Verification of VC-JWTs (and, through the same steps, QR tokens and status list credentials).

Every verification runs these steps in order and reports each one:

    format     three base64url segments; JSON header and payload; alg allowed; typ; kid
    issuer     the issuer and the kid are in the trust list; the key's alg matches; the issuer may issue the kind
    key        the key is not compromised and the signing instant (iat) lies in the key's window
    signature  cryptography checks the JWS signature with the trust list's key object and only that key's algorithm
    claims     the verified payload has the shape we sign and its JWT claims mirror the credential
    dates      validFrom <= now < validUntil
    status     the Bitstring Status List bits for revocation and suspension

A failure stops the chain (the later steps are SKIPPED), except that dates and status are both
evaluated once the claims pass. The overall `outcome` is one of:

    VALID                  every step passed
    MALFORMED              not a compact JWS with JSON header and payload, or a header we refuse (crit, b64, no kid)
    WRONG_TYPE             typ is not the one expected (vc+jwt for a credential): a token minted for something else
    UNSUPPORTED_ALGORITHM  alg outside {ES256, EdDSA} (none, HS256 ...), or not the algorithm of the trusted key
    UNKNOWN_ISSUER         the issuer named in the credential is not in the trust list
    UNKNOWN_KEY            the kid is not a key of that issuer in the trust list
    NOT_AUTHORISED         the issuer is trusted but may not issue this kind of certificate
    KEY_COMPROMISED        the key is flagged compromised: nothing it signed is trusted until re-signed
    KEY_OUTSIDE_WINDOW     the credential was signed (iat) outside the key's validity window
    INVALID_SIGNATURE      the signature does not verify (a tampered payload, header or signature)
    INVALID_CLAIMS         authentic, but the payload is not a well-formed credential (vc claim, iss mismatch ...)
    REVOKED                authentic, and the revocation bit is set
    SUSPENDED              authentic, and the suspension bit is set
    EXPIRED                authentic, and now >= validUntil
    NOT_YET_VALID          authentic, and now < validFrom
    STATUS_UNKNOWN         authentic and in date, but a status list could not be obtained or trusted

When several of the last five hold, the first in that order is reported. `payload` is set only
once the signature has verified under a trusted, uncompromised key in its window; it is the data
from the token, the only data a verification page may show.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol, runtime_checkable

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from certificates.credentials import (
    CertificateKind,
    StatusRef,
    check_credential,
    credential_kind,
    issuer_id,
    signed_at,
)
from certificates.jose import EDDSA, ES256, SUPPORTED_ALGORITHMS, b64url_decode
from certificates.status_list import StatusPurpose
from certificates.trust import TrustedIssuer, TrustedKey, TrustList, as_trust_list
from certificates.w3c import VC_JWT_TYP

# A status list of 131,072 random bits is about 22 KB encoded; nothing legitimate comes near this.
MAX_TOKEN_CHARS = 256 * 1024


class Outcome(enum.StrEnum):
    """The overall result of a verification; see the module docstring for each meaning."""

    VALID = "VALID"
    MALFORMED = "MALFORMED"
    WRONG_TYPE = "WRONG_TYPE"
    UNSUPPORTED_ALGORITHM = "UNSUPPORTED_ALGORITHM"
    UNKNOWN_ISSUER = "UNKNOWN_ISSUER"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    NOT_AUTHORISED = "NOT_AUTHORISED"
    KEY_COMPROMISED = "KEY_COMPROMISED"
    KEY_OUTSIDE_WINDOW = "KEY_OUTSIDE_WINDOW"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    INVALID_CLAIMS = "INVALID_CLAIMS"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    STATUS_UNKNOWN = "STATUS_UNKNOWN"


class StepName(enum.StrEnum):
    FORMAT = "format"
    ISSUER = "issuer"
    KEY = "key"
    SIGNATURE = "signature"
    CLAIMS = "claims"
    DATES = "dates"
    STATUS = "status"


class StepState(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class Step(NamedTuple):
    """One step's verdict; `outcome` names the failure when state is FAILED.

    A named tuple rather than a frozen dataclass: as immutable, and a bulk verification makes seven per token.
    """

    name: StepName
    state: StepState
    detail: str
    outcome: Outcome | None = None

    def to_dict(self) -> dict[str, Any]:
        # _value_ is what .value returns; the property costs a descriptor call per member, 28 per response.
        outcome = self.outcome
        return {
            "name": self.name._value_,
            "state": self.state._value_,
            "detail": self.detail,
            "outcome": outcome._value_ if outcome is not None else None,
        }


_ORDER = tuple(StepName)
_SKIPPED = {name: Step(name, StepState.SKIPPED, "") for name in StepName}


@dataclass(frozen=True)
class VerificationResult:
    """The overall outcome, every step, and (once the signature verified) the verified header and payload."""

    outcome: Outcome
    steps: tuple[Step, ...]
    payload: dict[str, Any] | None = field(default=None, repr=False)
    header: dict[str, Any] | None = None
    issuer: TrustedIssuer | None = None
    kid: str | None = None

    @property
    def valid(self) -> bool:
        return self.outcome is Outcome.VALID

    @property
    def authentic(self) -> bool:
        """The signature verified under a trusted key: the payload may be shown, whatever its status."""
        return self.payload is not None

    def step(self, name: StepName | str) -> Step:
        return next(step for step in self.steps if step.name == name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the API and the CLI."""
        return {
            "outcome": self.outcome._value_,
            "valid": self.outcome is Outcome.VALID,
            "steps": [step.to_dict() for step in self.steps],
            "issuer": None
            if self.issuer is None
            else {"id": self.issuer.id, "name": self.issuer.name, "member_state": self.issuer.member_state},
            "kid": self.kid,
            "payload": self.payload,
        }


class StatusLookup(Protocol):
    """Answers "is bit `index` of the status list at `status_list_url` set?": True, False, or None (unknown)."""

    def __call__(self, status_list_url: str, index: int) -> bool | None: ...


# A lookup may also offer `many(entries: list[tuple[str, int]]) -> list[bool | None]`, the answers for several
# (url, index) entries at once, in order; the status step then asks once per credential.


@dataclass(frozen=True)
class StatusListInfo:
    """What a verified status list credential says about itself."""

    url: str
    issuer_id: str
    purpose: StatusPurpose


@runtime_checkable
class DescribedStatusLookup(Protocol):
    """A lookup that can also say who issued each list and for what purpose (see `offline.StatusListSet`).

    When the lookup offers this, an entry is only trusted if its list was issued by the credential's
    own issuer for the entry's purpose.
    """

    def __call__(self, status_list_url: str, index: int) -> bool | None: ...

    def list_info(self, status_list_url: str) -> StatusListInfo | None: ...


@dataclass(frozen=True)
class Profile:
    """What differs between the token kinds that share the verification steps."""

    typ: str
    # The issuer id the payload claims; None when the token names its issuer only through its kid.
    claimed_issuer: Callable[[Mapping[str, Any]], str | None] | None
    # The kind the issuer must be authorised for; None when no authorisation applies (status lists).
    kind: Callable[[Mapping[str, Any]], str | None]
    signed_at: Callable[[Mapping[str, Any]], datetime | None]
    # One pass over the verified payload: its faults, its validity window and its status entries.
    examine: Callable[[Mapping[str, Any], TrustedIssuer, TrustList], Examined]


class Examined(NamedTuple):
    """What a profile reads from a verified payload, once, for the claims, dates and status steps."""

    problems: list[str]
    valid_from: datetime | None
    valid_until: datetime | None
    status: list[StatusRef]
    # Why the status entries cannot be resolved (the status is then unknown), or None.
    status_error: str | None = None


class _Fail(Exception):
    def __init__(self, outcome: Outcome, detail: str):
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        twice = next(name for name, _value in pairs if name in seen or seen.add(name))
        raise ValueError(f"the member {twice!r} appears twice in one object")
    return result


# One decoder for every token: json.loads with a hook builds a new decoder (and its scanner) on each call.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates)


def _loads_object(data: bytes, what: str) -> dict[str, Any]:
    # Fast path: orjson reads the bytes, and writes the value back. When that gives the same bytes, the text is
    # plain compact JSON (the form every issuer here signs) without a duplicate member: a duplicate would have
    # been dropped, and the text written back be shorter. The json module would read the same value from it.
    # Anything else (whitespace, escapes, a number orjson writes another way, text orjson refuses) goes to the
    # json module, which decides and names a duplicate member. Same verdicts, a quarter of the cost.
    try:
        value = orjson.loads(data)
        plain = type(value) is dict and orjson.dumps(value) == data
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):  # orjson writes less deep a nesting than it reads
        plain = False
    if not plain:
        try:
            value = _DECODER.decode(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise _Fail(Outcome.MALFORMED, f"the {what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _Fail(Outcome.MALFORMED, f"the {what} is not a JSON object")
    return value


def _typ_matches(typ: Any, expected: str) -> bool:
    # RFC 7515 section 4.1.9: "application/" may be omitted; media types compare case-insensitively.
    if not isinstance(typ, str):
        return False
    typ = typ.lower()
    return typ == expected or typ == "application/" + expected


class _Parsed(NamedTuple):
    """A compact JWS read once: its header and payload objects, the signing input and the raw signature."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    format_step: Step  # the format step passed, with the header's alg and typ


# Parsed, checked protected headers (and their passed format step) by (segment, expected typ). Every certificate
# a key signs carries the same header segment, so a bulk verification decodes and checks it once. Bounded: cleared
# when it fills up.
_HEADERS: dict[tuple[str, str], tuple[dict[str, Any], Step]] = {}
_HEADERS_MAX = 256
# Only headers of this size are remembered: a real one is about 150 characters, and a public verifier must not
# let anyone fill its memory with 256 remembered headers of 256 KiB each.
HEADER_CACHE_CHARS = 512


def _parse_header(segment: str, profile: Profile) -> tuple[dict[str, Any], Step]:
    cached = _HEADERS.get((segment, profile.typ))
    if cached is not None:
        return dict(cached[0]), cached[1]
    try:
        raw = b64url_decode(segment)
    except ValueError:
        raise _Fail(Outcome.MALFORMED, "a segment is not base64url without padding") from None
    header = _loads_object(raw, "header")
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise _Fail(Outcome.MALFORMED, "the header has no alg")
    if alg not in SUPPORTED_ALGORITHMS:
        allowed = ", ".join(SUPPORTED_ALGORITHMS)
        raise _Fail(Outcome.UNSUPPORTED_ALGORITHM, f"alg {alg!r} is not accepted; only {allowed}")
    if not _typ_matches(header.get("typ"), profile.typ):
        raise _Fail(Outcome.WRONG_TYPE, f"typ is {header.get('typ')!r}, expected {profile.typ!r}")
    if "crit" in header or "b64" in header:
        raise _Fail(Outcome.MALFORMED, "critical or b64 header parameters are not supported")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise _Fail(Outcome.MALFORMED, "the header has no kid")
    step = Step(StepName.FORMAT, StepState.PASSED, f"compact JWS, alg {header['alg']}, typ {header['typ']}")
    if len(segment) <= HEADER_CACHE_CHARS:
        if len(_HEADERS) >= _HEADERS_MAX:
            _HEADERS.clear()
        _HEADERS[(segment, profile.typ)] = header, step
    return dict(header), step


def _parse(token: Any, profile: Profile) -> _Parsed:
    if not isinstance(token, str):
        raise _Fail(Outcome.MALFORMED, "the token is not a string")
    if len(token) > MAX_TOKEN_CHARS:
        raise _Fail(Outcome.MALFORMED, f"the token is longer than {MAX_TOKEN_CHARS} characters")
    segments = token.split(".")
    if len(segments) != 3:
        raise _Fail(Outcome.MALFORMED, f"a compact JWS has 3 segments, this has {len(segments)}")
    try:
        # All three are decoded before anything is judged, so a bad segment anywhere is MALFORMED first.
        payload_raw, signature = b64url_decode(segments[1]), b64url_decode(segments[2])
    except ValueError:
        raise _Fail(Outcome.MALFORMED, "a segment is not base64url without padding") from None
    header, format_step = _parse_header(segments[0], profile)
    payload = _loads_object(payload_raw, "payload")
    return _Parsed(header, payload, f"{segments[0]}.{segments[1]}".encode("ascii"), signature, format_step)


def _find_key(
    header: Mapping[str, Any], payload: Mapping[str, Any], trust: TrustList, profile: Profile
) -> tuple[TrustedIssuer, TrustedKey]:
    kid = header["kid"]
    if profile.claimed_issuer is not None:
        claimed = profile.claimed_issuer(payload)
        issuer = trust.issuer(claimed) if claimed else None
        if issuer is None:
            raise _Fail(Outcome.UNKNOWN_ISSUER, f"issuer {claimed!r} is not in the trust list")
        key = issuer.key(kid)
        if key is None:
            holder = trust.find_key(kid)
            elsewhere = f" (it belongs to {holder[0].id})" if holder else ""
            raise _Fail(Outcome.UNKNOWN_KEY, f"key {kid} is not a key of {issuer.id}{elsewhere}")
    else:
        found = trust.find_key(kid)
        if found is None:
            raise _Fail(Outcome.UNKNOWN_KEY, f"key {kid} is not in the trust list")
        issuer, key = found
    # The trust list fixes each key's algorithm; the header may not choose another.
    if header["alg"] != key.alg:
        raise _Fail(Outcome.UNSUPPORTED_ALGORITHM, f"alg {header['alg']} does not match key {kid} ({key.alg})")
    kind = profile.kind(payload)
    if kind is not None and kind not in issuer.kinds:
        raise _Fail(Outcome.NOT_AUTHORISED, f"{issuer.name} may not issue {kind} certificates")
    return issuer, key


def _check_key(key: TrustedKey, instant: datetime | None) -> str:
    """The key step, given the signing instant the payload claims (iat, or t in a QR token)."""
    if key.compromised:
        raise _Fail(Outcome.KEY_COMPROMISED, f"key {key.kid} is marked compromised")
    if instant is None:
        raise _Fail(Outcome.INVALID_CLAIMS, "no signing instant (iat) to place in the key's window")
    if not key.covers(instant):
        until = key.not_after.isoformat() if key.not_after else "now"
        raise _Fail(
            Outcome.KEY_OUTSIDE_WINDOW,
            f"signed at {instant.isoformat()}, outside the key's window {key.not_before.isoformat()} .. {until}",
        )
    return f"key {key.kid} ({key.alg}) was valid when it signed, at {instant.isoformat()}"


def _check_signature(parsed: _Parsed, key: TrustedKey) -> None:
    """The signature over the exact bytes _parse decoded (strict base64url, so the header and payload read there
    are the signed ones), checked by `cryptography` with the trust list's key object and that key's algorithm,
    never one the token names. Decoding and parsing a second time through a JOSE library cost more than the
    signature itself."""
    signature, public_key = parsed.signature, key.public_key
    try:
        if key.alg == ES256:
            # JWS carries the raw R || S (RFC 7518 section 3.4); cryptography takes DER.
            if len(signature) != 64:
                raise _Fail(Outcome.INVALID_SIGNATURE, f"an ES256 signature is 64 bytes, this is {len(signature)}")
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            public_key.verify(encode_dss_signature(r, s), parsed.signing_input, _ECDSA_SHA256)
        elif key.alg == EDDSA:
            public_key.verify(signature, parsed.signing_input)
        else:  # pragma: no cover - a trust list key is always one of the two
            raise _Fail(Outcome.UNSUPPORTED_ALGORITHM, f"alg {key.alg} is not accepted")
    except InvalidSignature:
        raise _Fail(Outcome.INVALID_SIGNATURE, "the signature does not match the header and payload") from None
    except (ValueError, TypeError) as exc:
        raise _Fail(Outcome.INVALID_SIGNATURE, f"the signature could not be verified: {exc}") from None


def _check_dates(examined: Examined, now: datetime, leeway: timedelta) -> Step:
    valid_from, valid_until = examined.valid_from, examined.valid_until
    if valid_from is not None and now + leeway < valid_from:
        return Step(StepName.DATES, StepState.FAILED, f"valid from {valid_from.isoformat()}", Outcome.NOT_YET_VALID)
    if valid_until is not None and now - leeway >= valid_until:
        return Step(StepName.DATES, StepState.FAILED, f"expired at {valid_until.isoformat()}", Outcome.EXPIRED)
    until = valid_until.isoformat() if valid_until else "no end date"
    start = valid_from.isoformat() if valid_from else "issuance"
    return Step(StepName.DATES, StepState.PASSED, f"valid from {start} until {until}")


_NEITHER = Step(StepName.STATUS, StepState.PASSED, "neither revoked nor suspended")
_NO_ENTRIES = Step(StepName.STATUS, StepState.PASSED, "no status entries")


def _check_status(examined: Examined, lookup: StatusLookup | None, issuer: TrustedIssuer) -> Step:
    if examined.status_error is not None:
        return Step(StepName.STATUS, StepState.FAILED, examined.status_error, Outcome.STATUS_UNKNOWN)
    refs = examined.status
    if not refs:
        return _NO_ENTRIES
    if lookup is None:
        return Step(StepName.STATUS, StepState.FAILED, "no status source was given", Outcome.STATUS_UNKNOWN)
    # What isinstance(lookup, DescribedStatusLookup) asks, without the protocol check's cost on every token.
    describe = getattr(lookup, "list_info", None)
    unknown: list[str] = []
    if callable(describe):
        trusted = []
        for ref in refs:
            info = describe(ref.list_url)
            if info is None or info.issuer_id != issuer.id or info.purpose != ref.purpose:
                unknown.append(f"{ref.list_url} is not a trusted {ref.purpose} list of {issuer.id}")
            else:
                trusted.append(ref)
    else:
        trusted = refs
    # A lookup may answer several entries at once (the database reads a credential's two bytes in one statement).
    many = getattr(lookup, "many", None)
    if callable(many):
        bits = many([(ref.list_url, ref.index) for ref in trusted])
    else:
        bits = [lookup(ref.list_url, ref.index) for ref in trusted]
    revoked = suspended = False
    for ref, bit in zip(trusted, bits, strict=True):
        if bit is None:
            unknown.append(f"{ref.purpose} list {ref.list_url} is unavailable")
        elif bit:
            if ref.purpose is StatusPurpose.REVOCATION:
                revoked = True
            else:
                suspended = True
    if revoked:
        return Step(StepName.STATUS, StepState.FAILED, "revoked", Outcome.REVOKED)
    if suspended:
        return Step(StepName.STATUS, StepState.FAILED, "suspended", Outcome.SUSPENDED)
    if unknown:
        return Step(StepName.STATUS, StepState.FAILED, "; ".join(unknown), Outcome.STATUS_UNKNOWN)
    return _NEITHER


# The passed issuer and signature steps by issuer and key: their details are the same for every token a key signed.
# Bounded: cleared when it fills up.
_PASSED_STEPS: dict[tuple[str, str, str, str, str], tuple[Step, Step]] = {}


def _passed_steps(issuer: TrustedIssuer, key: TrustedKey) -> tuple[Step, Step]:
    memo = (issuer.id, issuer.name, issuer.member_state, key.kid, key.alg)
    steps = _PASSED_STEPS.get(memo)
    if steps is None:
        steps = (
            Step(StepName.ISSUER, StepState.PASSED, f"{issuer.name} ({issuer.member_state}), key {key.kid}"),
            Step(StepName.SIGNATURE, StepState.PASSED, f"verified with {key.alg} key {key.kid}"),
        )
        if len(_PASSED_STEPS) >= _HEADERS_MAX:
            _PASSED_STEPS.clear()
        _PASSED_STEPS[memo] = steps
    return steps


_FINAL_PRECEDENCE = (Outcome.REVOKED, Outcome.SUSPENDED, Outcome.EXPIRED, Outcome.NOT_YET_VALID, Outcome.STATUS_UNKNOWN)


def _stopped(steps: list[Step], name: StepName, failure: _Fail, **found: Any) -> VerificationResult:
    """The result when step `name` failed: that step FAILED, every later one SKIPPED."""
    steps.append(Step(name, StepState.FAILED, failure.detail, failure.outcome))
    steps.extend(_SKIPPED[later] for later in _ORDER[_ORDER.index(name) + 1 :])
    return VerificationResult(failure.outcome, tuple(steps), **found)


_FUTURE_IAT_GRACE = timedelta(minutes=5)
_WELL_FORMED = Step(StepName.CLAIMS, StepState.PASSED, "well-formed")


class _Begun(NamedTuple):
    """A token through the steps before the signature (format, issuer, key): what the rest needs."""

    parsed: _Parsed
    profile: Profile
    issuer: TrustedIssuer
    key: TrustedKey
    instant: datetime | None
    steps: list[Step]


def _begin(token: Any, profile: Profile, trust: TrustList) -> VerificationResult | _Begun:
    """The format, issuer and key steps: a result when one of them failed, else what the signature step needs."""
    if isinstance(token, bytes):
        token = token.decode("ascii", "replace")  # a non-ASCII byte then fails the base64url check
    if isinstance(token, str):
        token = token.strip()
    steps: list[Step] = []

    try:
        parsed = _parse(token, profile)
    except _Fail as failure:
        return _stopped(steps, StepName.FORMAT, failure)
    header, unverified = parsed.header, parsed.payload
    steps.append(parsed.format_step)
    kid = header["kid"]

    try:
        issuer, key = _find_key(header, unverified, trust, profile)
    except _Fail as failure:
        return _stopped(steps, StepName.ISSUER, failure, kid=kid)
    steps.append(_passed_steps(issuer, key)[0])

    instant = profile.signed_at(unverified)
    try:
        steps.append(Step(StepName.KEY, StepState.PASSED, _check_key(key, instant)))
    except _Fail as failure:
        return _stopped(steps, StepName.KEY, failure, kid=kid)
    return _Begun(parsed, profile, issuer, key, instant, steps)


def _signature_failure(begun: _Begun) -> _Fail | None:
    try:
        _check_signature(begun.parsed, begun.key)
    except _Fail as failure:
        return failure
    return None


def _finish(
    begun: _Begun,
    failure: _Fail | None,
    trust: TrustList,
    status_lookup: StatusLookup | None,
    now: datetime,
    leeway: timedelta,
) -> VerificationResult:
    """The signature step's verdict (`failure`, None when it verified), then the claims, dates and status steps."""
    parsed, issuer, steps = begun.parsed, begun.issuer, begun.steps
    header, kid = parsed.header, parsed.header["kid"]
    if failure is not None:
        return _stopped(steps, StepName.SIGNATURE, failure, kid=kid)
    payload = parsed.payload  # verified now
    steps.append(_passed_steps(issuer, begun.key)[1])

    examined = begun.profile.examine(payload, issuer, trust)
    problems = examined.problems
    # iat comes from the issuer, but a signing instant in the future is a fault all the same.
    if begun.instant is not None and begun.instant > now + leeway + _FUTURE_IAT_GRACE:
        problems.append("iat is in the future")
    if problems:
        failure = _Fail(Outcome.INVALID_CLAIMS, "; ".join(problems))
        return _stopped(steps, StepName.CLAIMS, failure, payload=payload, header=header, issuer=issuer, kid=kid)
    steps.append(_WELL_FORMED)

    dates = _check_dates(examined, now, leeway)
    status = _check_status(examined, status_lookup, issuer)
    steps.append(dates)
    steps.append(status)
    outcome = Outcome.VALID
    if dates.outcome is not None or status.outcome is not None:
        failed = {dates.outcome, status.outcome}
        outcome = next(candidate for candidate in _FINAL_PRECEDENCE if candidate in failed)
    return VerificationResult(outcome, tuple(steps), payload, header, issuer, kid)


def _instant_now(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


def run_verification(
    token: str | bytes,
    profile: Profile,
    trust_list: TrustList | Mapping[str, Any],
    status_lookup: StatusLookup | None,
    *,
    now: datetime | None,
    leeway: timedelta = timedelta(0),
) -> VerificationResult:
    """Run the seven steps for `profile`; the building block of verify_credential and its siblings."""
    now = _instant_now(now)
    trust = as_trust_list(trust_list)
    begun = _begin(token, profile, trust)
    if type(begun) is not _Begun:
        return begun
    return _finish(begun, _signature_failure(begun), trust, status_lookup, now, leeway)


def run_verifications(
    items: Iterable[tuple[str | bytes, Profile]],
    trust_list: TrustList | Mapping[str, Any],
    status_lookup: StatusLookup | None,
    *,
    now: datetime | None,
    leeway: timedelta = timedelta(0),
) -> list[VerificationResult]:
    """run_verification for many (token, profile) pairs, with the same results, in three passes: the steps before
    the signature for every token, then every signature, then the steps after it.

    The signature checks run back to back. Interleaved with the Python steps, each one ran slower (an ES256
    check followed by one JSON parse took 8 µs more than the two apart): the steps push the elliptic-curve
    code and its tables out of the processor's caches, and the signature pushes the interpreter's out.
    """
    now = _instant_now(now)
    trust = as_trust_list(trust_list)
    items = list(items)
    results: list[VerificationResult] = []
    # In chunks, so that what the passes hand on (decoded segments, signing inputs) is freed and its memory reused.
    for first in range(0, len(items), _CHUNK):
        begun = [_begin(token, profile, trust) for token, profile in items[first : first + _CHUNK]]
        failures = [_signature_failure(item) if type(item) is _Begun else None for item in begun]
        results.extend(
            _finish(item, failure, trust, status_lookup, now, leeway) if type(item) is _Begun else item
            for item, failure in zip(begun, failures, strict=True)
        )
    return results


_CHUNK = 1024


# --- The VC-JWT profile -------------------------------------------------------------------------


def _examine_vc(payload: Mapping[str, Any], issuer: TrustedIssuer, *, status_list: bool) -> Examined:
    check = check_credential(payload, status_list=status_list, jwt=True)
    problems = check.problems
    if not problems and issuer_id(payload) != issuer.id:  # pragma: no cover - _find_key selected the issuer by it
        problems.append("the issuer is not the key's holder")
    # A status list has no status of its own.
    return Examined(problems, check.valid_from, check.valid_until, [] if status_list else check.status)


def _kind_or_unknown(payload: Mapping[str, Any]) -> str | None:
    kind = credential_kind(payload)
    return kind.value if isinstance(kind, CertificateKind) else None


VC_PROFILE = Profile(
    typ=VC_JWT_TYP,
    claimed_issuer=lambda payload: issuer_id(payload) or payload.get("iss"),
    kind=_kind_or_unknown,
    signed_at=signed_at,
    examine=lambda payload, issuer, trust: _examine_vc(payload, issuer, status_list=False),
)

STATUS_LIST_PROFILE = Profile(
    typ=VC_JWT_TYP,
    claimed_issuer=lambda payload: issuer_id(payload) or payload.get("iss"),
    kind=lambda payload: None,  # any trusted issuer publishes the lists for its own credentials
    signed_at=signed_at,
    examine=lambda payload, issuer, trust: _examine_vc(payload, issuer, status_list=True),
)


def verify_credential(
    token: str | bytes,
    trust_list: TrustList | Mapping[str, Any],
    status_lookup: StatusLookup | None = None,
    *,
    now: datetime | None = None,
    leeway: timedelta = timedelta(0),
) -> VerificationResult:
    """Verify a certificate VC-JWT against a trust list, asking `status_lookup` for its status bits.

    `status_lookup(url, index)` returns True (bit set), False, or None (list unavailable); without
    a lookup a credential with status entries verifies as STATUS_UNKNOWN at best. `now` defaults to
    the current instant and must be timezone-aware.
    """
    return run_verification(token, VC_PROFILE, trust_list, status_lookup, now=now, leeway=leeway)
