"""Factories for the pure certificate tests: issuers with keys, trust lists, credentials. No app, no database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from certificates.credentials import CertificateKind, build_credential
from certificates.jose import ES256, PrivateKey
from certificates.keys import generate_key
from certificates.status_list import StatusPurpose, status_entry
from certificates.w3c import format_instant

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE_URL = "https://registry.example"


@dataclass
class IssuerFixture:
    """An issuer with one key, and everything needed to put it in a trust list."""

    code: str
    name: str
    member_state: str
    kinds: list[str]
    key: PrivateKey = field(repr=False)
    jwk: dict[str, str]
    not_before: datetime
    not_after: datetime | None = None
    compromised: bool = False

    @property
    def id(self) -> str:
        return f"{BASE_URL}/issuers/{self.code}"

    @property
    def kid(self) -> str:
        return self.jwk["kid"]

    def status_url(self, purpose: StatusPurpose | str) -> str:
        return f"{BASE_URL}/status/{self.code.lower()}/{purpose}/1"

    def key_entry(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "jwk": self.jwk,
            "not_before": format_instant(self.not_before),
            "not_after": None if self.not_after is None else format_instant(self.not_after),
            "compromised": self.compromised,
        }

    def trust_entry(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "member_state": self.member_state,
            "kinds": self.kinds,
            "keys": [self.key_entry()],
        }


def trust_list_of(*issuers: IssuerFixture) -> dict[str, Any]:
    return {"issuers": [issuer.trust_entry() for issuer in issuers]}


@pytest.fixture
def make_issuer():
    def make(code: str = "IE-HPB", alg: str = ES256, **overrides: Any) -> IssuerFixture:
        key, jwk = generate_key(alg)
        values: dict[str, Any] = {
            "code": code,
            "name": "Health Professions Board of Ireland",
            "member_state": "IE",
            "kinds": [kind.value for kind in CertificateKind],
            "key": key,
            "jwk": jwk,
            "not_before": NOW - timedelta(days=365),
        }
        values.update(overrides)
        return IssuerFixture(**values)

    return make


@pytest.fixture
def issuer(make_issuer) -> IssuerFixture:
    return make_issuer()


@pytest.fixture
def make_credential():
    def make(issuer: IssuerFixture, **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "credential_id": uuid.uuid4(),
            "kind": CertificateKind.GOOD_STANDING,
            "issuer": {"id": issuer.id, "name": issuer.name},
            "subject": {
                "id": "urn:registry:clinician:IE-N-104233",
                "name": "Aoife Murphy",
                "registryNumber": "IE-N-104233",
                "profession": "nurse",
            },
            "valid_from": NOW - timedelta(days=10),
            "valid_until": NOW + timedelta(days=80),
            "status": [
                status_entry(issuer.status_url(StatusPurpose.REVOCATION), 9041, StatusPurpose.REVOCATION),
                status_entry(issuer.status_url(StatusPurpose.SUSPENSION), 77120, StatusPurpose.SUSPENSION),
            ],
            "name": "Certificate of good standing",
        }
        values.update(overrides)
        return build_credential(**values)

    return make


def clear_status(url: str, index: int) -> bool:
    """A status lookup for which nothing is revoked or suspended."""
    return False
