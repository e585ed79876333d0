"""Fixtures for the pages: passwords for the world's accounts, signed-in test clients, a course with a cohort."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from registry.core.auth import Account
from registry.core.db import db

PASSWORD = "web-test-password"
T = date.today()


def d(days: int) -> date:
    return T + timedelta(days=days)


def text(response) -> str:
    """The body of a page, as the browser gets it."""
    return response.get_data(as_text=True)


def scalar(app, sql: str, **params):
    """One value read straight from the database: what a form did or did not write."""
    with app.app_context():
        return db.session.execute(sa.text(sql), params).scalar()


def field_error(page: str, field_id: str) -> str:
    """The message shown next to a field (its id is `<prefix>e-<name>`)."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}">([^<]*)</p>', page)
    assert match, f"no error next to {field_id}"
    return match.group(1)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


@dataclass
class Pages:
    app: Any
    world: Any
    offering_id: int | None = None
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, who: str | None = None):
        """A fresh test client, signed in through the sign-in form when `who` names an account."""
        client = self.app.test_client()
        if who is not None:
            token = csrf_of(client.get("/sign-in").get_data(as_text=True))
            r = client.post("/sign-in", data={"email": f"{who}@test.example", "password": PASSWORD,
                                              "csrf_token": token})
            assert r.status_code == 302, r.get_data(as_text=True)
        return client

    @staticmethod
    def token(client, path: str) -> str:
        return csrf_of(client.get(path).get_data(as_text=True))


@pytest.fixture
def pages(world, app, tmp_path):
    """The world with a password on every account, TRAUMA-ITLS accredited at IE-HUB and a past IE-HUB cohort."""
    from curricula import services as curricula

    with app.app_context():
        for account in db.session.query(Account).all():
            account.set_password(PASSWORD)
        hub = curricula.get_hub("IE-HUB")
        course = curricula.create_course(
            code="TRAUMA-ITLS", titles={"en": "Joint trauma life support", "pt": "Suporte de vida em trauma"},
            fallback_language="en", description=None, competencies=["haemorrhage control"], cpd_hours=8,
            validity_months=24, professions=["2221"], owners=[{"hub": "IE-HUB"}], actor=None)
        curricula.grant_accreditation(course, hub=hub, granted_by="IE", valid_from=d(-400), valid_until=None,
                                      actor=None)
        offering = curricula.create_offering(hub, course=course, starts_on=d(-20), ends_on=d(-18), language="en",
                                             place="Dublin", capacity=10, actor=None)
        db.session.commit()
        offering_id = offering.id
    app.config["WEB_UPLOAD_DIR"] = str(tmp_path / "uploads")  # files kept between dry run and commit
    yield Pages(app=app, world=world, offering_id=offering_id)
    app.config.pop("WEB_UPLOAD_DIR", None)
