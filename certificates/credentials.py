"""Certificates as W3C Verifiable Credentials 2.0, secured as VC-JWT (compact JWS, typ vc+jwt).

The JWS payload is the credential JSON itself plus the registered JWT claims that mirror it:
`iss` = issuer id, `jti` = credential id, `iat` = signing instant, `nbf` = validFrom and
`exp` = validUntil (seconds since the epoch). There is no `vc` or `vp` claim (those belong to the
older VC 1.1 JWT encoding). `iat` is the signing instant, not the issuance date: a credential
re-signed after its key was compromised keeps its validFrom and gets a new iat under the new key.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from certificates.jose import PrivateKey, algorithm_for_key, compact_json, sign_compact
from certificates.keys import public_jwk
from certificates.status_list import (
    STATUS_ENTRY_TYPE,
    STATUS_LIST_CREDENTIAL_TYPE,
    STATUS_LIST_TYPE,
    StatusPurpose,
)
from certificates.w3c import (
    VC_CONTEXT_V2,
    VC_JWT_TYP,
    VERIFIABLE_CREDENTIAL,
    format_instant,
    instant_from_seconds,
    is_numeric_date,
    parse_instant,
)

# The registered claims a VC-JWT carries beside the credential; recomputed on every signing.
JWT_CLAIMS = ("iss", "jti", "iat", "nbf", "exp")
FORBIDDEN_CLAIMS = ("vc", "vp")


class CertificateKind(enum.StrEnum):
    """What a certificate attests; an issuer's trust list entry names the kinds it may issue."""

    COURSE_COMPLETION = "course_completion"
    RECOGNITION = "recognition"
    GOOD_STANDING = "good_standing"


# The credential `type` that marks each kind (beside "VerifiableCredential").
CREDENTIAL_TYPES: dict[CertificateKind, str] = {
    CertificateKind.COURSE_COMPLETION: "CourseCompletionCredential",
    CertificateKind.RECOGNITION: "RecognitionCredential",
    CertificateKind.GOOD_STANDING: "GoodStandingCredential",
}
_KIND_OF_TYPE = {type_name: kind for kind, type_name in CREDENTIAL_TYPES.items()}


class CredentialError(ValueError):
    """A credential that does not have the shape this registry signs; `problems` lists every fault."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class StatusRef(NamedTuple):
    """One credentialStatus entry: bit `index` of the list published at `list_url`, for `purpose`.

    A named tuple: as immutable as a frozen dataclass, and a bulk verification makes two per token.
    """

    purpose: StatusPurpose
    list_url: str
    index: int


class CredentialCheck(NamedTuple):
    """What one pass over a credential finds: every fault (empty when it is fine), its dates as parsed, and its
    status entries (those well-formed; a malformed entry is among the problems)."""

    problems: list[str]
    valid_from: datetime | None
    valid_until: datetime | None
    status: list[StatusRef]


def build_credential(
    *,
    credential_id: uuid.UUID | str,
    kind: CertificateKind | str,
    issuer: Mapping[str, Any],
    subject: Mapping[str, Any],
    valid_from: datetime,
    valid_until: datetime | None = None,
    status: Iterable[Mapping[str, Any]] = (),
    name: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """An unsigned credential of `kind`; `issuer` needs at least id and name, `status` are status_entry() dicts."""
    kind = CertificateKind(kind)
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2],
        "id": credential_id.urn if isinstance(credential_id, uuid.UUID) else str(credential_id),
        "type": [VERIFIABLE_CREDENTIAL, CREDENTIAL_TYPES[kind]],
        "issuer": dict(issuer),
    }
    if name is not None:
        credential["name"] = name
    if description is not None:
        credential["description"] = description
    credential["validFrom"] = format_instant(valid_from)
    if valid_until is not None:
        credential["validUntil"] = format_instant(valid_until)
    credential["credentialSubject"] = dict(subject)
    entries = [dict(entry) for entry in status]
    if entries:
        credential["credentialStatus"] = entries
    problems = credential_problems(credential)
    if problems:
        raise CredentialError(problems)
    return credential


def _is_mapping(value: Any) -> bool:
    # A parsed JSON object is a dict: checked first, as the Mapping ABC check costs several times more.
    return type(value) is dict or isinstance(value, Mapping)


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    """The issuer's id: `issuer` may be a URL string or an object with an `id`."""
    issuer = credential.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if _is_mapping(issuer) and isinstance(issuer.get("id"), str):
        return issuer["id"]
    return None


def credential_types(credential: Mapping[str, Any]) -> list[str]:
    """The `type` values as a list (a single string is allowed by the data model)."""
    types = credential.get("type")
    if isinstance(types, str):
        return [types]
    return [t for t in types if isinstance(t, str)] if isinstance(types, list) else []


def credential_kind(credential: Mapping[str, Any]) -> CertificateKind | None:
    """The certificate kind named by `type`, or None when there is none or more than one."""
    return _kind_of_types(credential_types(credential))


def _kind_of_types(types: list[str]) -> CertificateKind | None:
    found = None
    for type_name in types:
        kind = _KIND_OF_TYPE.get(type_name)
        if kind is not None:
            if found is not None and kind is not found:
                return None
            found = kind
    return found


def is_status_list_credential(credential: Mapping[str, Any]) -> bool:
    """Whether `type` names a BitstringStatusListCredential."""
    return STATUS_LIST_CREDENTIAL_TYPE in credential_types(credential)


def credential_problems(credential: Any, *, status_list: bool = False) -> list[str]:
    """Every way `credential` departs from the VC 2.0 shape we sign (empty when it is fine).

    With status_list=True the credential must be a BitstringStatusListCredential; otherwise it
    must be exactly one certificate kind.
    """
    return check_credential(credential, status_list=status_list).problems


def check_credential(credential: Any, *, status_list: bool = False, jwt: bool = False) -> CredentialCheck:
    """One pass over `credential`: its faults (those of credential_problems, and with jwt=True those of
    jwt_claims_problems after them), with validFrom, validUntil and the status entries read on the way.

    A verification needs all four; reading the dates and the entries once, not once per step, is most of what
    a bulk verification spends outside the signature.
    """
    if not _is_mapping(credential):
        return CredentialCheck(["the credential is not a JSON object"], None, None, [])
    problems: list[str] = []
    context = credential.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT_V2:
        problems.append(f"@context must be a list starting with {VC_CONTEXT_V2}")
    credential_id = credential.get("id")
    if status_list:
        if not isinstance(credential_id, str) or not credential_id.startswith(("https://", "http://")):
            problems.append("a status list credential's id must be the URL it is published at")
    elif not _is_urn_uuid(credential_id):
        problems.append("id must be a urn:uuid")
    types = credential_types(credential)
    if VERIFIABLE_CREDENTIAL not in types:
        problems.append("type must include VerifiableCredential")
    if status_list:
        if STATUS_LIST_CREDENTIAL_TYPE not in types:
            problems.append(f"type must include {STATUS_LIST_CREDENTIAL_TYPE}")
    elif _kind_of_types(types) is None:
        problems.append("type must name exactly one of " + ", ".join(CREDENTIAL_TYPES.values()))
    issuer = credential.get("issuer")
    the_issuer_id = issuer_id(credential)
    if the_issuer_id is None:
        problems.append("issuer must be a URL or an object with an id")
    elif _is_mapping(issuer) and "name" in issuer and not isinstance(issuer["name"], str):
        problems.append("issuer.name must be a string")
    valid_from = valid_until = None
    try:
        valid_from = parse_instant(credential.get("validFrom"), "validFrom")
    except ValueError as exc:
        problems.append(str(exc))
    has_until = "validUntil" in credential
    if has_until:
        try:
            valid_until = parse_instant(credential["validUntil"], "validUntil")
        except ValueError as exc:
            problems.append(str(exc))
    if valid_from and valid_until and valid_until <= valid_from:
        problems.append("validUntil must be after validFrom")
    subject = credential.get("credentialSubject")
    if not _is_mapping(subject) or not subject:
        problems.append("credentialSubject must be a non-empty object")
    elif status_list:
        problems.extend(_status_list_subject_problems(subject))
    refs: list[StatusRef] = []
    if "credentialStatus" in credential:
        refs, entry_problems = _status_entries(credential["credentialStatus"])
        problems.extend(entry_problems)
    if jwt:
        problems.extend(_jwt_problems(credential, the_issuer_id))
        # nbf and exp mirror the dates; a date that did not parse is reported above, and not again here.
        problems.extend(_mirror(credential, "nbf", "validFrom", "validFrom" in credential, valid_from))
        problems.extend(_mirror(credential, "exp", "validUntil", has_until, valid_until))
    return CredentialCheck(problems, valid_from, valid_until, refs)


_PURPOSES = frozenset(StatusPurpose)  # built once: a set per status entry showed up in bulk verification
_PURPOSE_OF = {purpose.value: purpose for purpose in StatusPurpose}


# A urn:uuid in canonical form once lower-cased (the form uuid.UUID(...).urn gives), of any version.
_URN_UUID = re.compile(r"urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _is_urn_uuid(value: Any) -> bool:
    return isinstance(value, str) and _URN_UUID.fullmatch(value) is not None


def _status_list_subject_problems(subject: Mapping[str, Any]) -> list[str]:
    problems = []
    if subject.get("type") != STATUS_LIST_TYPE:
        problems.append(f"credentialSubject.type must be {STATUS_LIST_TYPE}")
    purpose = subject.get("statusPurpose")
    if not isinstance(purpose, str) or purpose not in _PURPOSES:
        problems.append("credentialSubject.statusPurpose must be revocation or suspension")
    if not isinstance(subject.get("encodedList"), str):
        problems.append("credentialSubject.encodedList must be a string")
    return problems


def status_refs(credential: Mapping[str, Any]) -> list[StatusRef]:
    """The credential's BitstringStatusListEntry references; raises CredentialError for a malformed entry."""
    refs, problems = _status_entries(credential.get("credentialStatus", []))
    if problems:
        raise CredentialError(problems)
    return refs


def _status_entries(raw: Any) -> tuple[list[StatusRef], list[str]]:
    """The well-formed entries of a credentialStatus value (one entry or a list), and a fault per malformed one."""
    entries = raw if isinstance(raw, list) else [raw]
    refs: list[StatusRef] = []
    problems: list[str] = []
    for n, entry in enumerate(entries):
        if not _is_mapping(entry) or entry.get("type") != STATUS_ENTRY_TYPE:
            problems.append(f"credentialStatus[{n}] must be a {STATUS_ENTRY_TYPE}")
            continue
        purpose, index = entry.get("statusPurpose"), entry.get("statusListIndex")
        url = entry.get("statusListCredential")
        # The spec makes the index a string of decimal digits.
        index_ok = isinstance(index, str) and index.isascii() and index.isdigit() and len(index) <= 12
        url_ok = isinstance(url, str) and url.startswith(("https://", "http://"))
        known = _PURPOSE_OF.get(purpose) if isinstance(purpose, str) else None
        if index_ok and url_ok and known is not None:
            refs.append(StatusRef(known, url, int(index)))
            continue
        where = f"credentialStatus[{n}]"
        if known is None:
            problems.append(f"{where}.statusPurpose must be revocation or suspension")
        if not index_ok:
            problems.append(f"{where}.statusListIndex must be a string of decimal digits")
        if not url_ok:
            problems.append(f"{where}.statusListCredential must be a URL")
    return refs, problems


def jwt_claims_problems(payload: Mapping[str, Any]) -> list[str]:
    """Faults in the registered claims: iss/jti mirror issuer/id, nbf/exp mirror the dates, no vc/vp."""
    problems = _jwt_problems(payload, issuer_id(payload))
    for claim, field in (("nbf", "validFrom"), ("exp", "validUntil")):
        present = field in payload
        try:
            instant = parse_instant(payload[field], field) if present else None
        except ValueError:
            instant = None
        problems.extend(_mirror(payload, claim, field, present, instant))
    return problems


def _jwt_problems(payload: Mapping[str, Any], the_issuer_id: str | None) -> list[str]:
    problems = [f"the payload must not carry a '{name}' claim" for name in FORBIDDEN_CLAIMS if name in payload]
    if payload.get("iss") != the_issuer_id:
        problems.append("iss must equal the issuer id")
    if payload.get("jti") != payload.get("id"):
        problems.append("jti must equal the credential id")
    for name in _DATE_CLAIMS:
        if name in payload and not is_numeric_date(payload[name]):
            problems.append(f"{name} must be an integer number of seconds")
    if "iat" not in payload:
        problems.append("iat is missing")
    return problems


_DATE_CLAIMS = ("iat", "nbf", "exp")


def _mirror(payload: Mapping[str, Any], claim: str, field: str, present: bool, instant: datetime | None) -> list[str]:
    """The fault when JWT claim `claim` does not mirror date `field` (parsed as `instant`; None if it failed)."""
    if not present:
        return [f"{claim} present without {field}"] if claim in payload else []
    if instant is None:
        return []  # reported with the credential's own faults
    expected = int(instant.timestamp())
    return [] if payload.get(claim) == expected else [f"{claim} must equal {field} ({expected})"]


def signed_at(payload: Mapping[str, Any]) -> datetime | None:
    """The signing instant from `iat`, or None when absent or not an integer."""
    return instant_from_seconds(payload.get("iat"))


def sign_credential(
    credential: Mapping[str, Any],
    private_key: PrivateKey,
    kid: str,
    alg: str | None = None,
    *,
    issued_at: datetime | None = None,
) -> str:
    """Sign a credential as a VC-JWT: header {alg, kid, typ: vc+jwt}, payload = credential + JWT claims.

    `alg` defaults to the key's (ES256 for P-256, EdDSA for Ed25519); `kid` must be the key's
    thumbprint. Registered claims already present (a re-signing) are replaced. `issued_at`
    (default: now) becomes `iat` and must fall inside the key's window in the trust list.
    """
    key_alg = algorithm_for_key(private_key)
    if alg is not None and alg != key_alg:
        raise ValueError(f"alg {alg} does not match the key ({key_alg})")
    if public_jwk(private_key)["kid"] != kid:
        raise ValueError("kid is not the thumbprint of the signing key")
    content = {name: value for name, value in credential.items() if name not in JWT_CLAIMS}
    problems = [f"the credential must not carry a '{name}' member" for name in FORBIDDEN_CLAIMS if name in content]
    problems += credential_problems(content, status_list=is_status_list_credential(content))
    if problems:
        raise CredentialError(problems)
    instant = issued_at or datetime.now(UTC)
    payload = dict(content)
    payload["iss"] = issuer_id(content)
    payload["jti"] = content["id"]
    payload["iat"] = int(instant.timestamp())
    payload["nbf"] = int(parse_instant(content["validFrom"], "validFrom").timestamp())
    if "validUntil" in content:
        payload["exp"] = int(parse_instant(content["validUntil"], "validUntil").timestamp())
    header = {"alg": key_alg, "kid": kid, "typ": VC_JWT_TYP}
    return sign_compact(header, compact_json(payload), private_key)
