"""The trust list: which issuers exist, what they may issue, and their keys with validity windows.

The dict form (what the registry publishes, signed, and what an offline verifier is given)::

    {
      "status_list_base": "https://registry.example/api/v1/status-lists/",   (optional)
      "issuers": [
        {
          "id": "https://registry.example/issuers/IE-HPB",
          "name": "Health Professions Board of Ireland",
          "member_state": "IE",
          "kinds": ["good_standing", "recognition"],
          "keys": [
            {
              "kid": "<RFC 7638 thumbprint of jwk>",
              "jwk": {"kty": "EC", "crv": "P-256", "x": "...", "y": "...", "alg": "ES256", ...},
              "not_before": "2026-01-01T00:00:00Z",
              "not_after": null,
              "compromised": false
            }
          ]
        }
      ]
    }

`status_list_base`, when present, lets a QR token name its status lists by a path relative to
it (see `certificates.compact`). `not_after` null means the key is still current. A retired key
keeps verifying what it signed inside its window; a compromised key verifies nothing. Parsing is
strict: a malformed entry raises TrustListError rather than being skipped, so a damaged trust list
never quietly trusts less (or more).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from certificates.jose import PublicKey, algorithm_for_key
from certificates.keys import InvalidJwk, jwk_thumbprint, public_key_from_jwk
from certificates.w3c import parse_instant


class TrustListError(ValueError):
    """The trust list document is malformed."""


@dataclass(frozen=True)
class TrustedKey:
    """One issuer key: its public key object (from the trust list, never from a token) and its window."""

    kid: str
    alg: str
    public_key: PublicKey = field(repr=False)
    jwk: Mapping[str, Any] = field(repr=False)
    not_before: datetime
    not_after: datetime | None
    compromised: bool

    def covers(self, instant: datetime) -> bool:
        """Whether `instant` falls inside the key's window [not_before, not_after]."""
        return self.not_before <= instant and (self.not_after is None or instant <= self.not_after)


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer (a board or a hub) named by the trust list."""

    id: str
    name: str
    member_state: str
    kinds: frozenset[str]
    keys: tuple[TrustedKey, ...]

    def key(self, kid: str) -> TrustedKey | None:
        """This issuer's key with `kid`, or None."""
        for key in self.keys:
            if key.kid == kid:
                return key
        return None


@dataclass(frozen=True)
class TrustList:
    """A parsed trust list; build it with `TrustList.from_dict`."""

    issuers: tuple[TrustedIssuer, ...]
    status_list_base: str | None = None
    # Lookups by issuer id and by kid, built once: a bulk verification asks both for every token.
    _by_id: dict[str, TrustedIssuer] = field(init=False, repr=False, compare=False)
    _by_kid: dict[str, tuple[TrustedIssuer, TrustedKey]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, TrustedIssuer] = {}
        by_kid: dict[str, tuple[TrustedIssuer, TrustedKey]] = {}
        for issuer in self.issuers:
            by_id.setdefault(issuer.id, issuer)
            for key in issuer.keys:
                by_kid.setdefault(key.kid, (issuer, key))
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_by_kid", by_kid)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> TrustList:
        """Parse and check the dict form; raises TrustListError naming the faulty entry."""
        if not isinstance(document, Mapping) or not isinstance(document.get("issuers"), list):
            raise TrustListError("a trust list is an object with an 'issuers' list")
        issuers = tuple(_parse_issuer(entry, n) for n, entry in enumerate(document["issuers"]))
        seen_ids: set[str] = set()
        seen_kids: set[str] = set()
        for issuer in issuers:
            if issuer.id in seen_ids:
                raise TrustListError(f"issuer {issuer.id} is listed twice")
            seen_ids.add(issuer.id)
            for key in issuer.keys:
                # A kid is a thumbprint: the same key under two issuers would let one sign as the other.
                if key.kid in seen_kids:
                    raise TrustListError(f"key {key.kid} is listed twice")
                seen_kids.add(key.kid)
        base = document.get("status_list_base")
        if base is not None and (not isinstance(base, str) or not base.startswith(("https://", "http://"))):
            raise TrustListError("status_list_base must be an http(s) URL")
        return cls(issuers, base)

    def issuer(self, issuer_id: str) -> TrustedIssuer | None:
        """The issuer with this id, or None."""
        return self._by_id.get(issuer_id)

    def find_key(self, kid: str) -> tuple[TrustedIssuer, TrustedKey] | None:
        """The issuer holding `kid` and the key, or None."""
        return self._by_kid.get(kid)


def as_trust_list(trust_list: TrustList | Mapping[str, Any]) -> TrustList:
    """Accept a parsed TrustList or its dict form."""
    return trust_list if isinstance(trust_list, TrustList) else TrustList.from_dict(trust_list)


def _parse_issuer(entry: Any, n: int) -> TrustedIssuer:
    if not isinstance(entry, Mapping):
        raise TrustListError(f"issuers[{n}] is not an object")
    for name in ("id", "name", "member_state"):
        if not isinstance(entry.get(name), str) or not entry[name]:
            raise TrustListError(f"issuers[{n}].{name} must be a non-empty string")
    kinds = entry.get("kinds")
    if not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds):
        raise TrustListError(f"issuers[{n}].kinds must be a list of strings")
    keys = entry.get("keys")
    if not isinstance(keys, list):
        raise TrustListError(f"issuers[{n}].keys must be a list")
    return TrustedIssuer(
        id=entry["id"],
        name=entry["name"],
        member_state=entry["member_state"],
        kinds=frozenset(kinds),
        keys=tuple(_parse_key(key, f"issuers[{n}].keys[{m}]") for m, key in enumerate(keys)),
    )


def _parse_key(entry: Any, where: str) -> TrustedKey:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("jwk"), Mapping):
        raise TrustListError(f"{where} must be an object with a 'jwk'")
    try:
        public_key = public_key_from_jwk(entry["jwk"])
        thumbprint = jwk_thumbprint(entry["jwk"])
        not_before = parse_instant(entry.get("not_before"), f"{where}.not_before")
        not_after = entry.get("not_after")
        not_after = None if not_after is None else parse_instant(not_after, f"{where}.not_after")
    except (InvalidJwk, ValueError) as exc:
        raise TrustListError(f"{where}: {exc}") from None
    if entry.get("kid") != thumbprint:
        raise TrustListError(f"{where}.kid is not the RFC 7638 thumbprint of its jwk")
    if entry.get("jwk", {}).get("kid", thumbprint) != thumbprint:
        raise TrustListError(f"{where}.jwk.kid differs from the key's thumbprint")
    if not_after is not None and not_after < not_before:
        raise TrustListError(f"{where}: not_after precedes not_before")
    compromised = entry.get("compromised", False)
    if not isinstance(compromised, bool):
        raise TrustListError(f"{where}.compromised must be true or false")
    return TrustedKey(
        kid=thumbprint,
        alg=algorithm_for_key(public_key),
        public_key=public_key,
        jwk=dict(entry["jwk"]),
        not_before=not_before,
        not_after=not_after,
        compromised=compromised,
    )


def trust_list_entry(
    *,
    issuer_id: str,
    name: str,
    member_state: str,
    kinds: list[str],
    keys: list[Mapping[str, Any]],
) -> dict[str, Any]:
    """One issuer's entry in the dict form; `keys` are {"kid", "jwk", "not_before", "not_after", "compromised"}."""
    return {
        "id": issuer_id,
        "name": name,
        "member_state": member_state,
        "kinds": list(kinds),
        "keys": [dict(key) for key in keys],
    }
