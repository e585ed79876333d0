"""Certificate rules (DOMAIN.md "Certificates"): issuer keys, trust list, status lists, issuing, cascades, verifying.

Services flush and never commit. The cascades subscribe to the domain signals and flip status bits in
the transaction of their cause. Private keys leave the database only decrypted in memory, to sign.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context

from certificates import render
from certificates.codes import InvalidCode, new_verification_code, normalise_code
from certificates.compact import (
    compact_claims,
    describe_compact,
    is_qr_token,
    sign_compact_token,
    token_from_url,
    verification_url,
    verify_compact_token,
)
from certificates.credentials import CertificateKind, build_credential, sign_credential
from certificates.jose import ES256, PrivateKey, compact_json, sign_compact
from certificates.keys import decrypt_private_key, encrypt_private_key, generate_key, jwks
from certificates.models import (
    Certificate,
    CertificateKindColumn,
    IssuerKey,
    KeyAlgorithm,
    ListPurpose,
    StatusList,
    TrustListVersion,
    Verification,
)
from certificates.pdffile import PdfError, attachment
from certificates.status_list import (
    MIN_ENTRIES,
    StatusListFull,
    StatusPurpose,
    allocate_index,
    get_bit,
    new_bitstring,
    set_bit,
    status_entry,
    status_list_credential,
)
from certificates.trust import TrustList
from certificates.verify import (
    Outcome,
    StatusListInfo,
    Step,
    StepName,
    StepState,
    VerificationResult,
    verify_credential,
)
from certificates.w3c import format_instant
from curricula.models import Completion
from curricula.models import Outcome as CompletionOutcome
from curricula.services import add_months
from registry.core import audit
from registry.core.auth import Account
from registry.core.db import db, is_postgres, utcnow, writes_expected
from registry.core.errors import Conflict, Invalid, NotFound
from registry.core.events import completion_withdrawn, licence_event_recorded, recognition_event_recorded
from registry.core.prepared import commit_log_row, fetch_first
from registry.licensing.models import Licence, LicenceAction, LicenceEvent, LicenceStatus
from registry.licensing.services import state_on
from registry.people.models import Clinician, MemberState, Organisation, OrganisationKind, Profession
from registry.recognition.models import Recognition, RecognitionAction, RecognitionEvent, RecognitionStatus
from registry.recognition.services import status_on as recognition_status_on

KINDS_OF: dict[OrganisationKind, list[str]] = {
    OrganisationKind.TRAINING_HUB: [CertificateKind.COURSE_COMPLETION.value],
    OrganisationKind.LICENSING_BOARD: [CertificateKind.RECOGNITION.value, CertificateKind.GOOD_STANDING.value],
    OrganisationKind.SECRETARIAT: [],
}
GOOD_STANDING_MONTHS = 3
STATUS_LIST_VALIDITY = timedelta(hours=48)  # a downloaded list verifies offline for two days
STATUS_LIST_REFRESH = timedelta(hours=12)  # the served list is re-signed when older than this
STATEMENT_SECONDS = 600
STATEMENT_TYP = "rtp+jwt"
TRUST_LIST_TYP = "trust-list+jwt"
_PURPOSES = {ListPurpose.REVOCATION: StatusPurpose.REVOCATION, ListPurpose.SUSPENSION: StatusPurpose.SUSPENSION}


def _now() -> datetime:
    """Now, to the whole second: JWT instants are whole seconds, so key windows are too."""
    return utcnow().replace(microsecond=0)


def base_url() -> str:
    return current_app._get_current_object().config["BASE_URL"].rstrip("/")  # type: ignore[attr-defined]


def issuer_url(org: Organisation) -> str:
    return f"{base_url()}/issuers/{org.code}"


_STATUS_LISTS_PATH = "/api/v1/status-lists/"


def status_list_base() -> str:
    return f"{base_url()}{_STATUS_LISTS_PATH}"


def status_list_url(status_list: StatusList) -> str:
    return f"{status_list_base()}{status_list.id}"


def _kek() -> str:
    return current_app.config["KEY_ENCRYPTION_KEY"]


# --- keys ------------------------------------------------------------------------------------------------------


def current_key(org: Organisation) -> IssuerKey | None:
    """The key an organisation signs with now, if it has one."""
    return db.session.scalar(
        sa.select(IssuerKey)
        .where(IssuerKey.organisation_id == org.id, IssuerKey.not_after.is_(None), IssuerKey.compromised_at.is_(None))
        .order_by(IssuerKey.id.desc())
        .limit(1)
    )


def keys_of(org: Organisation) -> list[IssuerKey]:
    return list(db.session.scalars(sa.select(IssuerKey).where(IssuerKey.organisation_id == org.id)
                                   .order_by(IssuerKey.id)))


def get_key(kid: str) -> IssuerKey:
    key = db.session.scalar(sa.select(IssuerKey).where(IssuerKey.kid == kid)) if len(kid) <= 64 else None
    if key is None:
        raise NotFound(f"no issuer key {kid[:64]}")
    return key


def rotate_key(org: Organisation, *, alg: str = ES256, actor: Account | None = None) -> IssuerKey:
    """A new key signs for `org` from now on; the previous one is retired and still verifies what it signed."""
    now = _now()
    previous = current_key(org)
    if previous is not None:
        previous.not_after = now
    private, jwk = generate_key(alg)
    key = IssuerKey(organisation=org, kid=jwk["kid"], alg=KeyAlgorithm(alg), public_jwk=jwk,
                    encrypted_private_key=encrypt_private_key(private, _kek(), jwk["kid"]), not_before=now)
    db.session.add(key)
    db.session.flush()
    audit.record("issuer_key.create" if previous is None else "issuer_key.rotate", "issuer_key", key.kid,
                 {"organisation": org.code, "alg": alg, "retired": previous.kid if previous else None})
    return key


def ensure_key(org: Organisation, *, actor: Account | None = None) -> IssuerKey:
    """The organisation's current key, created on first use."""
    return current_key(org) or rotate_key(org, actor=actor)


def compromise_key(key: IssuerKey, *, reason: str, actor: Account | None = None) -> IssuerKey:
    """Everything this key signed stops verifying until re-signed; a new key takes over at once."""
    if key.compromised_at is not None:
        raise Conflict(f"key {key.kid} is already marked compromised")
    now = _now()
    was_current = key.not_after is None
    key.compromised_at = now
    key.not_after = key.not_after or now
    db.session.flush()
    audit.record("issuer_key.compromise", "issuer_key", key.kid,
                 {"organisation": key.organisation.code, "reason": reason})
    if was_current:
        rotate_key(key.organisation, alg=key.alg.value, actor=actor)
    for status_list in db.session.scalars(sa.select(StatusList).where(StatusList.signed_kid == key.kid)):
        status_list.signed = None
    db.session.flush()
    return key


def private_key(key: IssuerKey) -> PrivateKey:
    return decrypt_private_key(key.encrypted_private_key, _kek(), key.kid)


def registry_organisation() -> Organisation:
    """The secretariat: it holds the registry key that signs the trust list and right-to-practise statements."""
    org = db.session.scalar(sa.select(Organisation).where(Organisation.kind == OrganisationKind.SECRETARIAT)
                            .order_by(Organisation.id).limit(1))
    if org is None:
        raise NotFound("the registry has no secretariat organisation to hold its key")
    return org


def key_entry(key: IssuerKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "jwk": dict(key.public_jwk),
        "not_before": format_instant(key.not_before),
        "not_after": format_instant(key.not_after) if key.not_after else None,
        "compromised": key.compromised_at is not None,
    }


def _all_keys() -> list[IssuerKey]:
    return list(db.session.scalars(sa.select(IssuerKey).order_by(IssuerKey.organisation_id, IssuerKey.id)))


# --- publication -----------------------------------------------------------------------------------------------


def jwks_document() -> dict[str, Any]:
    """Every issuer's and the registry's public keys, retired ones included; compromised keys are withdrawn."""
    return jwks([key.public_jwk for key in _all_keys() if key.compromised_at is None])


def trust_list_document() -> dict[str, Any]:
    """The trust list: each issuer, its member state, the kinds it may issue, and its keys with their windows."""
    by_org: dict[int, list[IssuerKey]] = {}
    for key in _all_keys():
        by_org.setdefault(key.organisation_id, []).append(key)
    issuers, registry = [], None
    for org_id, keys in by_org.items():
        org = db.session.get(Organisation, org_id)
        entry = {"id": issuer_url(org), "name": org.name, "member_state": org.member_state_code,
                 "kinds": KINDS_OF[org.kind], "keys": [key_entry(key) for key in keys]}
        if org.kind is OrganisationKind.SECRETARIAT:
            registry = entry
        else:
            issuers.append(entry)
    return {"issued_at": format_instant(_now()), "status_list_base": status_list_base(), "issuers": issuers,
            "registry": registry}


def signed_trust_list() -> dict[str, Any]:
    """The trust list, with `jws`: the same document signed by the registry key (typ trust-list+jwt)."""
    key = ensure_key(registry_organisation())
    document = trust_list_document()
    document["registry"] = document["registry"] or {}
    header = {"alg": key.alg.value, "kid": key.kid, "typ": TRUST_LIST_TYP}
    return {**document, "jws": sign_compact(header, compact_json(document), private_key(key))}


def sign_statement(payload: Mapping[str, Any]) -> str:
    """A short-lived statement signed by the registry key (typ rtp+jwt), verifiable with the JWKS."""
    key = ensure_key(registry_organisation())
    now = _now()
    org = key.organisation
    claims = {"iss": issuer_url(org), "iat": int(now.timestamp()),
              "exp": int((now + timedelta(seconds=STATEMENT_SECONDS)).timestamp()), "jti": uuid.uuid4().hex,
              **_plain(payload)}
    return sign_compact({"alg": key.alg.value, "kid": key.kid, "typ": STATEMENT_TYP}, compact_json(claims),
                        private_key(key))


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --- status lists ----------------------------------------------------------------------------------------------


def _open_list(org: Organisation, purpose: ListPurpose) -> StatusList:
    """The organisation's list for `purpose` with room left, locked for this transaction (created when needed)."""
    stmt = (sa.select(StatusList)
            .where(StatusList.organisation_id == org.id, StatusList.purpose == purpose)
            .order_by(StatusList.number.desc()).limit(1))
    if is_postgres():
        stmt = stmt.with_for_update(of=StatusList)
    status_list = db.session.scalar(stmt)
    if status_list is None or status_list.allocated >= status_list.size:
        status_list = StatusList(organisation=org, purpose=purpose, number=(status_list.number + 1) if status_list
                                 else 1, size=MIN_ENTRIES, bits=bytes(new_bitstring()), allocated=0)
        db.session.add(status_list)
        db.session.flush()
    return status_list


class _UsedIndexes(Collection[int]):
    """The indexes already taken in one status list, asked one at a time.

    `allocate_index` tries random indexes while a list is sparse, so membership is one indexed query
    (the unique (list, index) constraint's index) instead of loading every taken index of a list that
    may hold 131,072; only a dense list is read whole.
    """

    def __init__(self, status_list: StatusList, column_list: Any, column_index: Any):
        self.status_list, self.column_list, self.column_index = status_list, column_list, column_index

    def __contains__(self, index: object) -> bool:
        return db.session.scalar(sa.select(sa.literal(1)).where(
            self.column_list == self.status_list.id, self.column_index == index)) is not None

    def __len__(self) -> int:
        return self.status_list.allocated

    def __iter__(self) -> Iterator[int]:
        return iter(set(db.session.scalars(sa.select(self.column_index)
                                           .where(self.column_list == self.status_list.id))))


def _allocate(org: Organisation, purpose: ListPurpose) -> tuple[StatusList, int]:
    """A random unused index of the organisation's open list; the list row lock (PostgreSQL) or SQLite's
    write lock serialises allocators, and the unique (list, index) constraints back that up."""
    status_list = _open_list(org, purpose)
    column_list, column_index = (
        (Certificate.revocation_list_id, Certificate.revocation_index) if purpose is ListPurpose.REVOCATION
        else (Certificate.suspension_list_id, Certificate.suspension_index))
    try:
        index = allocate_index(_UsedIndexes(status_list, column_list, column_index), status_list.size)
    except StatusListFull:  # pragma: no cover - allocated counts every index, so the list was opened anew
        status_list.allocated = status_list.size
        return _allocate(org, purpose)
    status_list.allocated += 1
    return status_list, index


def _flip(status_list: StatusList, index: int, value: bool) -> None:
    bits = bytearray(status_list.bits)
    set_bit(bits, index, value)
    status_list.bits = bytes(bits)
    status_list.signed = None
    status_list.updated_at = utcnow()


def get_status_list(list_id: int) -> StatusList:
    status_list = db.session.get(StatusList, list_id)
    if status_list is None:
        raise NotFound(f"no status list {list_id}")
    return status_list


def signed_status_list(status_list: StatusList) -> str:
    """The list's signed BitstringStatusListCredential, re-signed when its bits changed, it aged or its key went."""
    now = _now()
    key = ensure_key(status_list.organisation)
    if (status_list.signed and status_list.signed_at and status_list.signed_kid == key.kid
            and now - status_list.signed_at < STATUS_LIST_REFRESH):
        return status_list.signed
    org = status_list.organisation
    credential = status_list_credential(
        list_url=status_list_url(status_list), issuer={"id": issuer_url(org), "name": org.name},
        purpose=_PURPOSES[status_list.purpose], bits=status_list.bits, valid_from=now,
        valid_until=now + STATUS_LIST_VALIDITY)
    status_list.signed = sign_credential(credential, private_key(key), key.kid, issued_at=now)
    status_list.signed_at = now
    status_list.signed_kid = key.kid
    db.session.flush()
    return status_list.signed


# A status list's size, purpose and issuer never change once it exists, and lists are never deleted:
# cached per worker process.
_LIST_HEADERS: dict[int, Any] = {}
# What the status step asks of each entry's list URL (its issuer and purpose), by (status list base, URL), for the
# same reason. Only URLs naming an existing list are kept, and the table is cleared when it fills up.
_LIST_INFOS: dict[tuple[str, str], StatusListInfo] = {}
_LIST_INFOS_MAX = 1024


def forget_cached_lists() -> None:
    """Drop the per-process caches (after a database is emptied, as between tests; never needed in service)."""
    _LIST_HEADERS.clear()
    _LIST_INFOS.clear()
    _TRUST_CACHE.clear()


_LISTS = StatusList.__table__
_LIST_HEADER = (
    sa.select(_LISTS.c.id, _LISTS.c.size, _LISTS.c.purpose, Organisation.__table__.c.code)
    .join(Organisation.__table__, Organisation.__table__.c.id == _LISTS.c.organisation_id)
    .where(_LISTS.c.id == sa.bindparam("list_id"))
)
# Statements on the verification path are built once: building one per call cost more than running it.
_STATUS_BYTE = (sa.select(sa.func.substr(_LISTS.c.bits, sa.bindparam("at", type_=sa.Integer), 1))
                .where(_LISTS.c.id == sa.bindparam("list_id")))


# A credential carries two entries (revocation, suspension): both bytes in one statement, with the certificate
# whose revocation entry the first one is (the verification log names it and its clinician), and the trust list
# version (check_token verifies with the worker's cached trust list, then checks it was current).
_LIST_A, _LIST_B = _LISTS.alias("list_a"), _LISTS.alias("list_b")
_CERTIFICATES = Certificate.__table__
_STATUS_BYTE_PAIR = (
    sa.select(sa.func.substr(_LIST_A.c.bits, sa.bindparam("at_a", type_=sa.Integer), 1).label("byte_a"),
              sa.func.substr(_LIST_B.c.bits, sa.bindparam("at_b", type_=sa.Integer), 1).label("byte_b"),
              _CERTIFICATES.c.id, _CERTIFICATES.c.clinician_id, _CERTIFICATES.c.credential_id,
              sa.select(TrustListVersion.__table__.c.version).where(TrustListVersion.__table__.c.id == 1)
              .scalar_subquery().label("trust_version"))
    .select_from(
        _LIST_A.join(_LIST_B, _LIST_B.c.id == sa.bindparam("list_b"))
        .outerjoin(_CERTIFICATES, sa.and_(_CERTIFICATES.c.revocation_list_id == _LIST_A.c.id,
                                          _CERTIFICATES.c.revocation_index == sa.bindparam("index_a"))))
    .where(_LIST_A.c.id == sa.bindparam("list_a"))
)


class DatabaseStatusLookup:
    """Status bits straight from the database, for the lists this registry publishes.

    Reads the one byte that holds the bit, never the whole 16 KiB bitstring. Reading a credential's pair of
    entries, it also reads the certificate holding the first one: `certificate(credential_id)` then needs no
    statement of its own.
    """

    def __init__(self, base: str | None = None) -> None:
        """`base` is the registry's base URL, when the caller has it at hand."""
        self._base = f"{base}{_STATUS_LISTS_PATH}" if base is not None else status_list_base()
        self._holder: Any = None  # the certificate row read with the last pair of entries, if any
        self.trust_version: int | None = None  # the trust list version read with the last pair, if any

    def _list(self, url: str) -> Any:
        base = self._base
        if not (url.startswith(base) and url[len(base):].isdigit() and len(url) - len(base) < 10):
            return None
        list_id = int(url[len(base):])
        header = _LIST_HEADERS.get(list_id)
        if header is None:
            header = fetch_first(_LIST_HEADER, {"list_id": list_id})
            if header is not None:
                _LIST_HEADERS[list_id] = header
        return header

    def __call__(self, status_list_url: str, index: int) -> bool | None:
        found = self._list(status_list_url)
        if found is None or not 0 <= index < found.size:
            return None
        byte = fetch_first(_STATUS_BYTE, {"list_id": found.id, "at": index // 8 + 1})[0]
        return get_bit(bytes(byte), index % 8)

    def many(self, entries: list[tuple[str, int]]) -> list[bool | None]:
        """The bits of several (url, index) entries, as __call__ gives each; a pair in one statement."""
        if len(entries) != 2:
            return [self(url, index) for url, index in entries]
        (url_a, index_a), (url_b, index_b) = entries
        list_a, list_b = self._list(url_a), self._list(url_b)
        if list_a is None or list_b is None or not 0 <= index_a < list_a.size or not 0 <= index_b < list_b.size:
            return [self(url, index) for url, index in entries]
        row = fetch_first(_STATUS_BYTE_PAIR, {"list_a": list_a.id, "at_a": index_a // 8 + 1, "index_a": index_a,
                                              "list_b": list_b.id, "at_b": index_b // 8 + 1})
        self._holder = row if row.id is not None else None
        self.trust_version = row.trust_version
        return [get_bit(bytes(row.byte_a), index_a % 8), get_bit(bytes(row.byte_b), index_b % 8)]

    def list_info(self, status_list_url: str) -> StatusListInfo | None:
        key = (self._base, status_list_url)
        info = _LIST_INFOS.get(key)
        if info is None:
            found = self._list(status_list_url)
            if found is None:
                return None
            info = StatusListInfo(status_list_url, f"{self._base[:-len(_STATUS_LISTS_PATH)]}/issuers/{found.code}",
                                  _PURPOSES[found.purpose])
            if len(_LIST_INFOS) >= _LIST_INFOS_MAX:
                _LIST_INFOS.clear()
            _LIST_INFOS[key] = info
        return info

    def certificate(self, credential_id: Any) -> Any:
        """id and clinician_id of the certificate a credential id names, or None: the row read with
        the status bits when it is that certificate, else one statement."""
        holder = self._holder
        if holder is not None and holder.credential_id == credential_id:
            return holder
        return _certificate_by_credential_id(credential_id)


# --- issuing ---------------------------------------------------------------------------------------------------


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _holder(clinician: Clinician) -> dict[str, Any]:
    return {"name": clinician.full_name, "native_name": clinician.native_name,
            "registry_number": clinician.registry_number}


def _subject(clinician: Clinician, **facts: Any) -> dict[str, Any]:
    return {"id": f"urn:registry:clinician:{clinician.registry_number}", "name": clinician.full_name,
            "registryNumber": clinician.registry_number, **{k: v for k, v in facts.items() if v is not None}}


@dataclass
class Draft:
    """What a certificate will say: everything but the signature, gathered from the database once."""

    kind: CertificateKind
    issuer: Organisation
    clinician: Clinician
    current_key: str
    subject: dict[str, Any]
    facts: list[dict[str, Any]]
    valid_from: datetime
    valid_until: datetime | None
    description: str
    completion_id: int | None = None
    recognition_id: int | None = None
    licence_id: int | None = None


def completion_draft(completion: Completion) -> Draft:
    """A course completion certificate: the hub's own passed, not withdrawn, completion."""
    if completion.withdrawn_at is not None:
        raise Conflict(f"completion {completion.reference} was withdrawn; it cannot be certified")
    if completion.outcome is not CompletionOutcome.PASSED:
        raise Conflict(f"completion {completion.reference} was not passed; only passed completions are certified")
    hub, course = completion.hub, completion.course
    title = course.title_in(hub.language)
    english = course.title_in("en")
    shown = title if title == english else f"{title} / {english}"
    facts = [{"label": "course", "value": f"{course.code} · {shown}"},
             {"label": "completed_on", "value": completion.completed_on.isoformat(), "date": True},
             {"label": "outcome", "value": "passed", "translate": True}]
    if completion.score is not None:
        facts.append({"label": "score", "value": f"{completion.score:g}"})
    facts.append({"label": "credits", "value": f"{completion.credits:g}"})
    subject = _subject(completion.clinician, course={"code": course.code, "title": title,
                                                     "cpdHours": course.cpd_hours},
                       completedOn=completion.completed_on.isoformat(), outcome="passed",
                       score=completion.score, credits=completion.credits)
    return Draft(CertificateKind.COURSE_COMPLETION, hub, completion.clinician, f"completion:{completion.id}",
                 subject, facts, _midnight(completion.completed_on),
                 _midnight(completion.valid_until + timedelta(days=1)) if completion.valid_until else None,
                 f"{course.code} {title}", completion_id=completion.id)


def recognition_draft(recognition: Recognition, board: Organisation, today: date) -> Draft:
    """A recognition certificate: a recognition granted today, issued by a board of the host state."""
    status = recognition_status_on(recognition, today)
    if status is not RecognitionStatus.GRANTED or recognition.granted_on is None:
        raise Conflict(f"recognition {recognition.id} is {status.value if status else 'not applied for'} on "
                       f"{today.isoformat()}; only a granted recognition is certified")
    licence = recognition.licence
    profession = db.session.get(Profession, recognition.profession_code)
    host = db.session.get(MemberState, recognition.host_state_code)
    facts = [{"label": "profession", "value": f"{profession.code} {profession.title}"},
             {"label": "host_state", "value": host.name},
             {"label": "home_licence", "value": f"{licence.number} ({licence.board.name})"},
             {"label": "granted_on", "value": recognition.granted_on.isoformat(), "date": True}]
    if recognition.conditions:
        facts.append({"label": "conditions", "value": recognition.conditions})
    subject = _subject(recognition.clinician, profession={"code": profession.code, "title": profession.title},
                       hostState=host.code, homeLicence={"number": licence.number, "board": licence.board.code},
                       grantedOn=recognition.granted_on.isoformat(), conditions=recognition.conditions)
    return Draft(CertificateKind.RECOGNITION, board, recognition.clinician, f"recognition:{recognition.id}", subject,
                 facts, _midnight(recognition.granted_on),
                 _midnight(recognition.valid_until + timedelta(days=1)) if recognition.valid_until else None,
                 f"{profession.title}, {host.name}", recognition_id=recognition.id)


# The licence decisions that end good standing: recording one revokes the licence's good-standing certificates.
_ENDED_BY = {LicenceAction.SUSPEND: "suspended", LicenceAction.REVOKE: "revoked", LicenceAction.RESTRICT: "restricted",
             LicenceAction.SURRENDER: "surrendered"}
_ENDS_GOOD_STANDING = frozenset(_ENDED_BY)


def good_standing_draft(licence: Licence, on: date) -> Draft:
    """A good-standing certificate: the licence is active and unrestricted on `on`; valid three months."""
    state = state_on(licence, on)
    if state.status is not LicenceStatus.ACTIVE or state.restricted:
        what = "restricted" if state.status is LicenceStatus.ACTIVE else state.status.value
        raise Conflict(f"licence {licence.number} is {what} on {on.isoformat()}; good standing needs an active, "
                       "unrestricted licence")
    # A later decision that ends good standing revoked every good-standing certificate of the licence when it was
    # recorded (the cascade below); one certifying an earlier date must not be issued, or re-issued, after it.
    later = next((event for event in licence.events
                  if event.effective_on > on and event.action in _ENDS_GOOD_STANDING), None)
    if later is not None:
        raise Conflict(f"licence {licence.number} was {_ENDED_BY[later.action]} with effect from "
                       f"{later.effective_on.isoformat()}; good standing on {on.isoformat()} is no longer certified")
    profession = licence.profession
    facts = [{"label": "profession", "value": f"{profession.code} {profession.title}"},
             {"label": "licence", "value": f"{licence.number} ({licence.board.name})"},
             {"label": "status_on", "value": on.isoformat(), "date": True},
             {"label": "standing", "value": "active_unrestricted", "translate": True}]
    subject = _subject(licence.clinician, profession={"code": profession.code, "title": profession.title},
                       licence={"number": licence.number, "board": licence.board.code}, statusOn=on.isoformat(),
                       status="active", restrictions=[])
    return Draft(CertificateKind.GOOD_STANDING, licence.board, licence.clinician,
                 f"good_standing:{licence.id}:{on.isoformat()}", subject, facts, _midnight(on),
                 _midnight(add_months(on, GOOD_STANDING_MONTHS)), f"{profession.title}, {licence.number}",
                 licence_id=licence.id)


def _unused_code() -> str:
    while True:
        code = new_verification_code()
        if db.session.scalar(sa.select(Certificate.id).where(Certificate.verification_code == code)) is None:
            return code


@dataclass
class Signed:
    credential: str
    token: str
    url: str


def _sign(certificate: Certificate, key: IssuerKey, now: datetime) -> Signed:
    """Sign the certificate's credential and its QR token with `key` at `now`."""
    org = certificate.issuer
    snapshot = certificate.snapshot
    status = [status_entry(status_list_url(certificate.revocation_list), certificate.revocation_index,
                           StatusPurpose.REVOCATION),
              status_entry(status_list_url(certificate.suspension_list), certificate.suspension_index,
                           StatusPurpose.SUSPENSION)]
    credential = build_credential(
        credential_id=certificate.credential_id, kind=CertificateKind(certificate.kind.value),
        issuer={"id": issuer_url(org), "name": snapshot["issuer"]["name"]}, subject=snapshot["credential_subject"],
        valid_from=certificate.valid_from, valid_until=certificate.valid_until, status=status,
        name=render.LABELS["en"][certificate.kind.value], description=snapshot.get("description"))
    secret = private_key(key)
    jws = sign_credential(credential, secret, key.kid, issued_at=now)
    claims = compact_claims(credential, subject_name=snapshot["holder"]["name"][:120],
                            registry_number=snapshot["holder"]["registry_number"],
                            description=(snapshot.get("description") or "")[:120] or None, issued_at=now,
                            status_list_base=status_list_base())
    token = sign_compact_token(claims, secret, key.kid)
    return Signed(jws, token, verification_url(base_url(), token, in_query=True))


def _prepare(draft: Draft, *, actor: Account | None, replaces: Certificate | None = None) -> tuple[Certificate, Signed]:
    """Insert the certificate (its PDF still to render), with its status indexes, signed by the issuer's key."""
    existing = db.session.scalar(sa.select(Certificate).where(Certificate.current_key == draft.current_key))
    if existing is not None:
        raise Conflict(f"a certificate was already issued for this ({existing.credential_id}); a correction is a "
                       "re-issue", existing_id=existing.id)
    key = ensure_key(draft.issuer, actor=actor)
    now = _now()
    revocation_list, revocation_index = _allocate(draft.issuer, ListPurpose.REVOCATION)
    suspension_list, suspension_index = _allocate(draft.issuer, ListPurpose.SUSPENSION)
    credential_id = uuid.uuid4().urn
    code = _unused_code()
    org = draft.issuer
    snapshot = {
        "kind": draft.kind.value,
        "language": org.language,
        "credential_id": credential_id,
        "verification_code": code,
        "issuer": {"id": issuer_url(org), "code": org.code, "name": org.name, "member_state": org.member_state_code},
        "holder": _holder(draft.clinician),
        "facts": draft.facts,
        "valid_from": draft.valid_from.date().isoformat(),
        "valid_until": (draft.valid_until - timedelta(days=1)).date().isoformat() if draft.valid_until else None,
        "issued_on": now.date().isoformat(),
        "replaces": replaces.credential_id if replaces else None,
        "description": draft.description,
        "credential_subject": draft.subject,
    }
    certificate = Certificate(
        credential_id=credential_id, kind=CertificateKindColumn(draft.kind.value), issuer=org, key=key,
        clinician_id=draft.clinician.id, completion_id=draft.completion_id, recognition_id=draft.recognition_id,
        licence_id=draft.licence_id, current_key=draft.current_key, verification_code=code,
        language=org.language, snapshot=snapshot, credential="", compact_token="", valid_from=draft.valid_from,
        valid_until=draft.valid_until, issued_at=now, signed_at=now, issued_by_id=actor.id if actor else None,
        revocation_list=revocation_list, revocation_index=revocation_index, suspension_list=suspension_list,
        suspension_index=suspension_index, replaces=replaces, pdf=b"", pdf_sha256="")
    db.session.add(certificate)
    db.session.flush()
    signed = _sign(certificate, key, now)
    certificate.credential, certificate.compact_token = signed.credential, signed.token
    return certificate, signed


def _store_pdf(certificate: Certificate, pdf: bytes, *, action: str, changes: dict[str, Any] | None = None) -> None:
    certificate.pdf = pdf
    certificate.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    db.session.flush()
    audit.record(action, "certificate", certificate.credential_id,
                 {"kind": certificate.kind, "issuer": certificate.issuer.code, "kid": certificate.key.kid,
                  "clinician": certificate.snapshot["holder"]["registry_number"],
                  "pdf_sha256": certificate.pdf_sha256} | (changes or {}))


def issue(draft: Draft, *, actor: Account | None, replaces: Certificate | None = None) -> Certificate:
    """Issue one certificate: sign, render once, store the PDF and its SHA-256."""
    certificate, signed = _prepare(draft, actor=actor, replaces=replaces)
    pdf = render.render_pdf(certificate.snapshot, signed.credential, signed.url)
    _store_pdf(certificate, pdf, action="certificate.issue",
               changes={"replaces": replaces.credential_id if replaces else None})
    return certificate


def issue_many(drafts: Iterable[Draft], *, actor: Account | None) -> list[Certificate]:
    """Issue a batch: sign each, then render the PDFs in worker processes (render.render_many)."""
    prepared = [_prepare(draft, actor=actor) for draft in drafts]
    pdfs = render.render_many([(dict(c.snapshot), s.credential, s.url) for c, s in prepared])
    for (certificate, _), pdf in zip(prepared, pdfs, strict=True):
        _store_pdf(certificate, pdf, action="certificate.issue")
    return [certificate for certificate, _ in prepared]


def offering_completions(offering_id: int) -> list[Completion]:
    """Passed, not withdrawn completions of an offering that have no certificate yet."""
    certified = sa.select(Certificate.completion_id).where(Certificate.completion_id.is_not(None))
    return list(db.session.scalars(
        sa.select(Completion).where(Completion.offering_id == offering_id, Completion.outcome == "passed",
                                    Completion.withdrawn_at.is_(None), Completion.id.not_in(certified))
        .order_by(Completion.id)))


def reissue(certificate: Certificate, draft: Draft, *, reason: str, actor: Account | None) -> Certificate:
    """A correction: a new certificate from today's data that names the old one, which is revoked."""
    if certificate.current_key is None:
        raise Conflict(f"certificate {certificate.credential_id} was already replaced")
    certificate.current_key = None
    db.session.flush()
    if certificate.revoked_at is None:
        revoke(certificate, reason=f"replaced by a corrected certificate: {reason}", actor=actor)
    return issue(draft, actor=actor, replaces=certificate)


_PDF = (
    sa.select(Certificate.__table__.c.id, Certificate.__table__.c.issuer_id, Certificate.__table__.c.pdf,
              Certificate.__table__.c.pdf_sha256)
    .where(Certificate.__table__.c.id == sa.bindparam("certificate_id"))
)


def pdf_of(certificate_id: int) -> Any:
    """id, issuer_id, pdf and pdf_sha256 of a certificate, in one prepared read (no ORM object), or None."""
    return fetch_first(_PDF, {"certificate_id": certificate_id})


def get_certificate(certificate_id: int) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        raise NotFound(f"no certificate {certificate_id}")
    return certificate


def certificates_of(clinician_id: int) -> list[Certificate]:
    return list(db.session.scalars(sa.select(Certificate).where(Certificate.clinician_id == clinician_id)
                                   .order_by(Certificate.issued_at.desc(), Certificate.id.desc())))


# --- status changes --------------------------------------------------------------------------------------------


def revoke(certificate: Certificate, *, reason: str, actor: Account | None) -> Certificate:
    """Revoke for good (a reason is required): the revocation bit is set in this transaction."""
    if not reason:
        raise Invalid("a revocation needs a reason", errors={"reason": ["is required"]})
    if certificate.revoked_at is not None:
        raise Conflict(f"certificate {certificate.credential_id} is already revoked")
    certificate.revoked_at = utcnow()
    certificate.revocation_reason = reason
    _flip(certificate.revocation_list, certificate.revocation_index, True)
    db.session.flush()
    audit.record("certificate.revoke", "certificate", certificate.credential_id, {"reason": reason})
    return certificate


def suspend(certificate: Certificate, *, reason: str | None, actor: Account | None) -> Certificate:
    if certificate.revoked_at is not None:
        raise Conflict(f"certificate {certificate.credential_id} is revoked")
    if certificate.suspended:
        raise Conflict(f"certificate {certificate.credential_id} is already suspended")
    certificate.suspended = True
    _flip(certificate.suspension_list, certificate.suspension_index, True)
    db.session.flush()
    audit.record("certificate.suspend", "certificate", certificate.credential_id, {"reason": reason})
    return certificate


def unsuspend(certificate: Certificate, *, reason: str | None, actor: Account | None) -> Certificate:
    if not certificate.suspended:
        raise Conflict(f"certificate {certificate.credential_id} is not suspended")
    certificate.suspended = False
    _flip(certificate.suspension_list, certificate.suspension_index, False)
    db.session.flush()
    audit.record("certificate.unsuspend", "certificate", certificate.credential_id, {"reason": reason})
    return certificate


def _live(**where: Any) -> list[Certificate]:
    stmt = sa.select(Certificate).where(Certificate.revoked_at.is_(None))
    for column, value in where.items():
        stmt = stmt.where(getattr(Certificate, column) == value)
    return list(db.session.scalars(stmt.order_by(Certificate.id)))


@completion_withdrawn.connect
def _on_completion_withdrawn(sender: Any, completion: Completion, actor: Account | None = None, **_: Any) -> None:
    """A withdrawn completion revokes its certificate, in the withdrawal's transaction."""
    for certificate in _live(completion_id=completion.id):
        revoke(certificate, reason=f"completion withdrawn: {completion.withdrawal_reason}", actor=actor)


@recognition_event_recorded.connect
def _on_recognition_event(sender: Any, recognition: Recognition, event: RecognitionEvent,
                          actor: Account | None = None, **_: Any) -> None:
    """Suspension suspends the recognition certificate, reinstatement lifts it, revocation revokes it."""
    for certificate in _live(recognition_id=recognition.id):
        if event.action is RecognitionAction.SUSPEND and not certificate.suspended:
            suspend(certificate, reason=f"recognition suspended: {event.reason}", actor=actor)
        elif event.action is RecognitionAction.REINSTATE and certificate.suspended:
            unsuspend(certificate, reason=f"recognition reinstated: {event.reason}", actor=actor)
        elif event.action is RecognitionAction.REVOKE:
            revoke(certificate, reason=f"recognition revoked: {event.reason}", actor=actor)



@licence_event_recorded.connect
def _on_licence_event(sender: Any, event: LicenceEvent, actor: Account | None = None, **_: Any) -> None:
    """A suspended, restricted, revoked or surrendered licence revokes its good-standing certificates."""
    if event.action not in _ENDS_GOOD_STANDING:
        return
    for certificate in _live(licence_id=event.licence_id, kind=CertificateKindColumn.GOOD_STANDING):
        revoke(certificate, reason=f"licence {event.action.value}: {event.reason}", actor=actor)


# --- re-signing ------------------------------------------------------------------------------------------------


def resign(*, everything: bool = False) -> list[Certificate]:
    """Re-sign from the database every certificate signed by a compromised key (or all with everything=True).

    The credential and the QR token are signed again by the issuer's current key and the PDF is rendered
    again from the stored snapshot: the same data, a new signature.
    """
    stmt = sa.select(Certificate).join(IssuerKey, Certificate.key_id == IssuerKey.id)
    if not everything:
        stmt = stmt.where(IssuerKey.compromised_at.is_not(None))
    certificates = list(db.session.scalars(stmt.order_by(Certificate.id)))
    jobs = []
    for certificate in certificates:
        key = ensure_key(certificate.issuer)
        now = _now()
        old_kid = certificate.key.kid
        signed = _sign(certificate, key, now)
        certificate.key, certificate.signed_at = key, now
        certificate.credential, certificate.compact_token = signed.credential, signed.token
        jobs.append((certificate, signed, old_kid))
    pdfs = render.render_many([(dict(c.snapshot), s.credential, s.url) for c, s, _ in jobs])
    for (certificate, _, old_kid), pdf in zip(jobs, pdfs, strict=True):
        _store_pdf(certificate, pdf, action="certificate.resign", changes={"previous_kid": old_kid})
    for status_list in db.session.scalars(sa.select(StatusList)):
        signed_status_list(status_list)
    return certificates


# --- verifying -------------------------------------------------------------------------------------------------


# The parsed trust list, per worker process, keyed by (base URL, trust list version). The database raises the
# version (triggers, migration 0007) whenever an issuer key or an organisation is written, so a cached list is
# current exactly while the version read from the database is the one it was built at.
_TRUST_CACHE: dict[tuple[str, int], TrustList] = {}
_VERSION = TrustListVersion.__table__
_TRUST_VERSION = sa.select(_VERSION.c.version).where(_VERSION.c.id == 1)


def trust_version() -> int | None:
    """The trust list version, as committed (or as this transaction sees it); None if its row is missing."""
    row = fetch_first(_TRUST_VERSION)
    return row.version if row is not None else None


def _cacheable() -> bool:
    """Whether a trust list built now may be cached: only in a read-only request, whose reads see committed data.
    A transaction that writes sees its own uncommitted version bump, which a rollback would give back."""
    return has_request_context() and not writes_expected()


def _trust_at(version: int | None) -> TrustList:
    """The trust list as of `version` (read before this is called: the list built now is at least that new)."""
    key = (base_url(), version)
    cached = _TRUST_CACHE.get(key)
    if cached is None:
        cached = TrustList.from_dict(trust_list_document())
        if version is not None and _cacheable():
            _TRUST_CACHE.clear()
            _TRUST_CACHE[key] = cached
    return cached


def trust_list() -> TrustList:
    """The current trust list, parsed; rebuilt only when a key or an issuer changed (one row read per request)."""
    cached = g.get("_certificates_trust") if has_app_context() else None
    if cached is None:
        cached = _trust_at(trust_version())
        if has_app_context():
            g._certificates_trust = cached
    return cached


def _last_trust(base: str) -> tuple[int, TrustList] | None:
    """This worker's cached trust list and its version, when a read-only request may use it before checking."""
    entries = list(_TRUST_CACHE.items())  # one step: another thread may replace the entry meanwhile
    if not entries or not _cacheable():
        return None
    (cached_base, version), trust = entries[0]
    return (version, trust) if cached_base == base else None


@dataclass
class Checked:
    """A verification result with the certificate it concerns (when the registry knows it) and the shown data."""

    result: VerificationResult
    certificate: Any  # the Certificate, or a row with its id and clinician_id
    method: str
    data: dict[str, Any] | None
    pdf_identical: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        body = self.result.to_dict()
        body["method"] = self.method
        body["data"] = self.data
        if self.method == "pdf":
            body["pdf"] = {"identical_to_issued": bool(self.pdf_identical)}
        return body


# Not pdf_sha256: a certificate row ends with its PDF and then the hash, and SQLite reaches a column stored after
# a 20 KB value only by walking that value's overflow pages. check_pdf, which needs the hash, reads it itself.
_CERTIFICATE_REF = (
    sa.select(Certificate.__table__.c.id, Certificate.__table__.c.clinician_id)
    .where(Certificate.__table__.c.credential_id == sa.bindparam("credential_id"))
)


def _certificate_by_credential_id(credential_id: Any) -> Any:
    """id and clinician_id of the certificate a credential id names, or None."""
    if not isinstance(credential_id, str) or len(credential_id) > 45:
        return None
    return fetch_first(_CERTIFICATE_REF, {"credential_id": credential_id})


def _shown(result: VerificationResult, compact: bool) -> dict[str, Any] | None:
    """What a verification page may show: only data from the verified token."""
    payload = result.payload
    if payload is None:
        return None
    if compact:
        described = describe_compact(payload)
        return {k: (format_instant(v) if isinstance(v, datetime) else v) for k, v in described.items()}
    subject = dict(payload.get("credentialSubject") or {})
    return {"credential_id": payload.get("id"), "kind": next((t for t in payload.get("type", [])
                                                              if t != "VerifiableCredential"), None),
            "name": payload.get("name"), "issuer": payload.get("issuer"), "subject": subject,
            "valid_from": payload.get("validFrom"), "valid_until": payload.get("validUntil")}


def check_token(token: str, *, method: str = "token") -> Checked:
    """Verify a VC-JWT or a QR token (or a verification URL holding one) against the registry's own lists.

    In a read-only request the worker's cached trust list is used first, and the version it was built at is
    compared with the one read alongside the status bits (or on its own, when verification stopped before them).
    If a key or an issuer changed meanwhile, the token is verified again with the list rebuilt.
    """
    try:
        token = token_from_url(token) if isinstance(token, str) else token
    except ValueError:
        pass
    compact = isinstance(token, str) and is_qr_token(token.strip())
    verify = verify_compact_token if compact else verify_credential
    base = base_url()
    last = _last_trust(base)
    lookup = DatabaseStatusLookup(base)
    result = verify(token, last[1] if last else trust_list(), lookup)
    if last is not None:
        current = lookup.trust_version if lookup.trust_version is not None else trust_version()
        trust = last[1] if current == last[0] else _trust_at(current)
        g._get_current_object()._certificates_trust = trust  # type: ignore[attr-defined]
        if trust is not last[1]:
            lookup = DatabaseStatusLookup(base)
            result = verify(token, trust, lookup)
    certificate = None
    if result.payload is not None:
        if compact:
            certificate = lookup.certificate(describe_compact(result.payload)["credential_id"])
        else:
            certificate = lookup.certificate(result.payload.get("id"))
    return Checked(result, certificate, method, _shown(result, compact))


UNKNOWN_CERTIFICATE = "UNKNOWN_CERTIFICATE"  # the logged outcome of a well-formed code that names no certificate


class UnknownCode(NotFound):
    """A well-formed verification code that names no certificate (404). It was a verification all the same:
    whoever catches it logs it with `log_unknown_code` (a malformed code, 422, is bad input and is not logged)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"no certificate has the verification code {code}")
        self.code = code


def check_code(code: str) -> Checked:
    """Verify the certificate a typed verification code names (its stored, signed credential).

    Raises Invalid (422) for a malformed code and UnknownCode (404) for one that names no certificate.
    """
    try:
        normal = normalise_code(code)
    except InvalidCode as exc:
        raise Invalid(str(exc), errors={"code": [str(exc)]}) from exc
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.verification_code == normal))
    if certificate is None:
        raise UnknownCode(normal)
    checked = check_token(certificate.credential, method="code")
    checked.certificate = certificate
    return checked


def _failed(outcome: Outcome, detail: str) -> VerificationResult:
    steps = [Step(StepName.FORMAT, StepState.FAILED, detail, outcome)]
    steps += [Step(name, StepState.SKIPPED, "") for name in list(StepName)[1:]]
    return VerificationResult(outcome, tuple(steps))


def check_pdf(pdf: bytes) -> Checked:
    """Verify the credential attached to an uploaded PDF, and say whether the file is the one issued."""
    try:
        credential = attachment(pdf, render.ATTACHMENT_NAME).decode("ascii")
    except (PdfError, UnicodeDecodeError) as exc:
        return Checked(_failed(Outcome.MALFORMED, f"no readable {render.ATTACHMENT_NAME} in the PDF: {exc}"), None,
                       "pdf", None, False)
    checked = check_token(credential, method="pdf")
    checked.method = "pdf"
    digest = hashlib.sha256(pdf).hexdigest()
    if checked.certificate is not None:
        issued = db.session.scalar(sa.select(Certificate.pdf_sha256).where(Certificate.id == checked.certificate.id))
        checked.pdf_identical = issued == digest
    else:
        # An unverifiable attachment may still be a copy of an issued file that was altered.
        checked.pdf_identical = db.session.scalar(
            sa.select(Certificate.id).where(Certificate.pdf_sha256 == digest)) is not None
    return checked


_VERIFICATIONS = Verification.__table__


def log_verification(checked: Checked, caller: Any) -> None:
    """Record who verified what, and the result (the clinician sees this log), and commit it.

    `caller` is the signed-in Account or Caller, or None. Every verification writes this one row, so it goes in
    the cheapest safe way (`commit_log_row`); the verification itself only read.
    """
    certificate = checked.certificate
    commit_log_row(_VERIFICATIONS, {
        "occurred_at": utcnow(), "method": checked.method, "outcome": checked.result.outcome._value_,
        "certificate_id": certificate.id if certificate else None,
        "clinician_id": certificate.clinician_id if certificate else None,
        "organisation_id": caller.organisation_id if caller else None,
        "account_id": caller.id if caller else None, "pdf_identical": checked.pdf_identical,
    })


def log_unknown_code(caller: Any) -> None:
    """Log a verification by a well-formed code that names no certificate, and commit it (as log_verification):
    no certificate, no clinician, the signed-in organisation and account if any. The request then ends in a 404,
    whose rollback finds the row already committed."""
    commit_log_row(_VERIFICATIONS, {
        "occurred_at": utcnow(), "method": "code", "outcome": UNKNOWN_CERTIFICATE, "certificate_id": None,
        "clinician_id": None, "organisation_id": caller.organisation_id if caller else None,
        "account_id": caller.id if caller else None, "pdf_identical": None,
    })


def verifications_of(clinician_id: int) -> list[Verification]:
    return list(db.session.scalars(sa.select(Verification).where(Verification.clinician_id == clinician_id)
                                   .order_by(Verification.occurred_at.desc(), Verification.id.desc())))

