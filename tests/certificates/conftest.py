"""Factories for the pure certificate tests: issuers with keys, trust lists, credentials. No app, no database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
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


# --- fixtures for the certificate API (app, database, the world of tests/conftest.py) -------------------------

TODAY = date.today()


def day(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


@pytest.fixture(autouse=True)
def _fresh_verify_limiter(request):
    """Each test starts with full rate-limit buckets (the limiter is per process, the app per session)."""
    if "app" in request.fixturenames:
        request.getfixturevalue("app").extensions.pop("certificates_verify_limiter", None)
    yield


@dataclass
class Issuing:
    """The world of tests/conftest.py plus a course the IE hub is accredited for and helpers to issue and verify."""

    world: Any
    client: Any
    app: Any

    @property
    def runner(self):
        return self.app.test_cli_runner()

    def h(self, who: str) -> dict[str, str]:
        return self.world.h(who)

    def complete(self, reference: str = "IE-0001", clinician=None, *, completed_on: str | None = None,
                 outcome: str = "passed", offering: int | None = None, who: str = "hub_ie", hub: str = "IE-HUB"):
        body = {"reference": reference, "clinician": (clinician or self.world.clinician).registry_number,
                "course": "TRAUMA-ITLS", "completed_on": completed_on or day(-10), "outcome": outcome}
        if outcome == "passed":
            body["score"] = 91
        if offering is not None:
            body["offering"] = offering
        r = self.client.post(f"/api/v1/hubs/{hub}/completions", json=body, headers=self.h(who))
        assert r.status_code == 201, r.get_json()
        return r.get_json()["id"]

    def issue_completion(self, completion_id: int, who: str = "hub_ie"):
        return self.client.post(f"/api/v1/completions/{completion_id}/certificate", headers=self.h(who))

    def certificate(self, reference: str = "IE-0001", **kwargs) -> dict[str, Any]:
        r = self.issue_completion(self.complete(reference, **kwargs))
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def credential(self, certificate_id: int, who: str = "clinician") -> str:
        r = self.client.get(f"/api/v1/certificates/{certificate_id}/credential", headers=self.h(who))
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_data(as_text=True)

    def pdf(self, certificate_id: int, who: str = "clinician") -> bytes:
        r = self.client.get(f"/api/v1/certificates/{certificate_id}/pdf", headers=self.h(who))
        assert r.status_code == 200 and r.mimetype == "application/pdf", r.get_data(as_text=True)
        return r.get_data()

    def verify(self, who: str = "anonymous", **body: Any) -> dict[str, Any]:
        r = self.client.post("/api/v1/verify", json=body, headers=self.h(who))
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()

    def verify_pdf(self, pdf: bytes, who: str = "anonymous") -> dict[str, Any]:
        import io

        r = self.client.post("/api/v1/verify", data={"file": (io.BytesIO(pdf), "certificate.pdf")},
                             content_type="multipart/form-data", headers=self.h(who))
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()

    def status(self, certificate_id: int, action: str, reason: str | None = "test", who: str = "hub_ie"):
        body = {"action": action} | ({"reason": reason} if reason else {})
        return self.client.post(f"/api/v1/certificates/{certificate_id}/status", json=body, headers=self.h(who))


@pytest.fixture
def issuing(world, app, client) -> Issuing:
    from curricula import services as curricula
    from registry.core.db import db

    with app.app_context():
        course = curricula.create_course(
            code="TRAUMA-ITLS", titles={"en": "Joint trauma life support", "pt": "Suporte de vida em trauma",
                                        "fr": "Soins conjoints en traumatologie"},
            fallback_language="en", description=None, competencies=["airway management"], cpd_hours=8,
            validity_months=24, professions=["2221"], owners=[{"hub": "IE-HUB"}], actor=None)
        for hub, state in (("IE-HUB", "IE"), ("PT-HUB", "PT")):
            curricula.grant_accreditation(course, hub=curricula.get_hub(hub), granted_by=state,
                                          valid_from=TODAY - timedelta(days=1000), valid_until=None, actor=None)
        db.session.commit()
    return Issuing(world, client, app)
