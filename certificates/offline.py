"""Offline verification: a token, the trust list and the status lists, and nothing else.

No network, no database. Each status list is itself a VC-JWT, verified against the same trust
list; a list that fails (bad signature, unknown issuer, expired, published under another URL)
is not used, and the credentials pointing at it verify as STATUS_UNKNOWN rather than VALID.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from certificates.compact import COMPACT_PROFILE, is_qr_token, verify_compact_token
from certificates.status_list import StatusListError, StatusPurpose, decode_list, get_bit
from certificates.trust import TrustList, as_trust_list
from certificates.verify import (
    STATUS_LIST_PROFILE,
    VC_PROFILE,
    StatusListInfo,
    VerificationResult,
    run_verification,
    run_verifications,
    verify_credential,
)

ENVELOPED_TYPE = "EnvelopedVerifiableCredential"
_ENVELOPE_PREFIX = "data:application/vc+jwt,"


@dataclass(frozen=True)
class VerifiedStatusList:
    """A status list whose credential verified: who issued it, its purpose, and its bits."""

    info: StatusListInfo
    bits: bytearray = field(repr=False)


def verify_status_list(
    token: str, trust_list: TrustList | Mapping[str, Any], *, now: datetime | None = None
) -> tuple[VerificationResult, VerifiedStatusList | None]:
    """Verify a BitstringStatusListCredential VC-JWT; the list is returned only when it verified VALID."""
    result = run_verification(token, STATUS_LIST_PROFILE, trust_list, None, now=now)
    if not result.valid or result.payload is None or result.issuer is None:
        return result, None
    subject = result.payload["credentialSubject"]
    try:
        bits = decode_list(subject["encodedList"])
    except StatusListError:
        return result, None
    info = StatusListInfo(
        url=result.payload["id"], issuer_id=result.issuer.id, purpose=StatusPurpose(subject["statusPurpose"])
    )
    return result, VerifiedStatusList(info, bits)


def _token_of(document: Any) -> str | None:
    """The VC-JWT in a status list as given: the compact string, or an EnvelopedVerifiableCredential."""
    if isinstance(document, str):
        return document.strip()
    if isinstance(document, Mapping) and document.get("type") == ENVELOPED_TYPE:
        envelope = document.get("id")
        if isinstance(envelope, str) and envelope.startswith(_ENVELOPE_PREFIX):
            return envelope[len(_ENVELOPE_PREFIX) :]
    return None  # an unsigned credential dict proves nothing


class StatusListSet:
    """Status lists keyed by the URL they were published at, each verified before use.

    Callable as a status lookup, and able to say who issued each list (see DescribedStatusLookup).
    `problems` explains, per URL, why a given list is not used.
    """

    def __init__(
        self,
        status_lists: Mapping[str, str | Mapping[str, Any]],
        trust_list: TrustList | Mapping[str, Any],
        *,
        now: datetime | None = None,
    ):
        trust = as_trust_list(trust_list)
        self.lists: dict[str, VerifiedStatusList] = {}
        self.problems: dict[str, str] = {}
        for url, document in status_lists.items():
            token = _token_of(document)
            if token is None:
                self.problems[url] = "not a signed status list credential (a VC-JWT)"
                continue
            result, verified = verify_status_list(token, trust, now=now)
            if verified is None:
                self.problems[url] = f"status list did not verify: {result.outcome}"
            elif verified.info.url != url:
                self.problems[url] = f"status list was published for {verified.info.url}, not {url}"
            else:
                self.lists[url] = verified

    def __call__(self, status_list_url: str, index: int) -> bool | None:
        verified = self.lists.get(status_list_url)
        if verified is None or not 0 <= index < len(verified.bits) * 8:
            return None
        return get_bit(verified.bits, index)

    def list_info(self, status_list_url: str) -> StatusListInfo | None:
        verified = self.lists.get(status_list_url)
        return verified.info if verified else None


def verify_offline(
    token: str,
    trust_list: TrustList | Mapping[str, Any],
    status_lists: Mapping[str, str | Mapping[str, Any]],
    *,
    now: datetime | None = None,
) -> VerificationResult:
    """Verify a certificate VC-JWT or a QR token with only a trust list and signed status lists.

    `status_lists` maps each status list URL to its credential: the compact VC-JWT, or an
    EnvelopedVerifiableCredential dict holding it. A QR token is recognised by its typ.
    """
    now = now or datetime.now(UTC)
    trust = as_trust_list(trust_list)
    lookup = StatusListSet(status_lists, trust, now=now)
    token = token.strip() if isinstance(token, str) else token
    if isinstance(token, str) and is_qr_token(token):
        return verify_compact_token(token, trust, lookup, now=now)
    return verify_credential(token, trust, lookup, now=now)


def verify_many(
    tokens: list[str],
    trust_list: TrustList | Mapping[str, Any],
    status_lists: Mapping[str, str | Mapping[str, Any]],
    *,
    now: datetime | None = None,
) -> list[VerificationResult]:
    """Verify many tokens offline in bulk: the trust list is parsed and the status lists verified once, and the
    signatures are checked back to back (see run_verifications).

    The cyclic garbage collector is paused for the loop. Each result holds a payload (a tree of JSON dicts and
    lists) and tuples of steps, all acyclic, so reference counting frees what is dropped; but the collector
    would rescan the growing list of results again and again (a quarter of the time for 10,000 tokens).
    """
    now = now or datetime.now(UTC)
    trust = as_trust_list(trust_list)
    lookup = StatusListSet(status_lists, trust, now=now)
    collecting = gc.isenabled()
    gc.disable()
    try:
        items = []
        for token in tokens:
            token = token.strip()
            items.append((token, COMPACT_PROFILE if is_qr_token(token) else VC_PROFILE))
        return run_verifications(items, trust, lookup, now=now)
    finally:
        if collecting:
            gc.enable()
