"""The trust list version (migration 0007): the database raises it whenever an issuer key or an organisation is
written, and a worker's cached trust list is only used while the version is the one it was built at."""

from __future__ import annotations

import sqlalchemy as sa

from certificates import services
from certificates.models import IssuerKey
from certificates.verify import Outcome
from registry.core.db import db, expect_writes, utcnow

from .conftest import Issuing


def _version(app) -> int:
    with app.app_context():
        return db.session.execute(sa.text("SELECT version FROM trust_list_version WHERE id = 1")).scalar_one()


def _write(app, statement, **params) -> None:
    """A change made beside the registry's services, as another process or a hand-run statement would make it."""
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text(statement) if isinstance(statement, str) else statement, params)


def _compromise_every_key():
    now = utcnow()
    return IssuerKey.__table__.update().values(not_after=now, compromised_at=now)


def test_every_write_to_keys_or_organisations_raises_the_version(issuing: Issuing):
    app = issuing.app
    issuing.certificate()  # the hub has a key now
    seen = [_version(app)]
    _write(app, "UPDATE organisations SET name = name || ' (renamed)' WHERE code = 'IE-HUB'")
    seen.append(_version(app))
    _write(app, "UPDATE issuer_keys SET not_after = not_after")
    seen.append(_version(app))
    _write(app, "UPDATE clinicians SET given_names = given_names")  # neither keys nor organisations
    seen.append(_version(app))
    assert seen[1] > seen[0] and seen[2] > seen[1] and seen[3] == seen[2]


def test_a_cached_trust_list_is_not_used_once_a_key_changed_elsewhere(issuing: Issuing):
    app = issuing.app
    certificate = issuing.certificate()
    token = issuing.credential(certificate["id"])
    assert issuing.verify(token=token)["outcome"] == Outcome.VALID  # this worker has cached the trust list
    assert issuing.verify(token=token)["outcome"] == Outcome.VALID
    _write(app, _compromise_every_key())
    assert issuing.verify(token=token)["outcome"] == Outcome.KEY_COMPROMISED


def test_a_renamed_issuer_is_shown_by_its_new_name_at_once(issuing: Issuing):
    app = issuing.app
    certificate = issuing.certificate()
    token = issuing.credential(certificate["id"])
    before = issuing.verify(token=token)["issuer"]["name"]
    _write(app, "UPDATE organisations SET name = :name WHERE code = 'IE-HUB'", name="Renamed hub")
    answer = issuing.verify(token=token)
    assert answer["outcome"] == Outcome.VALID and answer["issuer"]["name"] == "Renamed hub" != before


def test_a_rolled_back_change_leaves_no_trust_list_behind(issuing: Issuing):
    """A writing transaction sees its own raised version; a list built there is not cached, so once it rolls
    back, and another change takes that same number, the worker still builds the list it should."""
    app = issuing.app
    certificate = issuing.certificate()
    token = issuing.credential(certificate["id"])
    assert issuing.verify(token=token)["outcome"] == Outcome.VALID
    with app.test_request_context("/", method="POST"):
        expect_writes(True)  # as before_request declares for a POST
        db.session.execute(_compromise_every_key())
        assert services.verify_credential(token, services.trust_list()).outcome is Outcome.KEY_COMPROMISED
        db.session.rollback()
    _write(app, "UPDATE organisations SET name = name WHERE code = 'IE-HUB'")  # takes the rolled-back number
    assert issuing.verify(token=token)["outcome"] == Outcome.VALID
