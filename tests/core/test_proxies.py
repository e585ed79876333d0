"""Behind trusted reverse proxies the client is read from X-Forwarded-For; otherwise the header is ignored."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.app import create_app
from registry.config import check_proxies, from_environment
from registry.core.db import db
from tests.conftest import make_test_app


def _statuses(app, forwarded_for: list[str | None]) -> list[int]:
    """The status of one verification per entry, each sent with that X-Forwarded-For (None: no header), all
    from one connection address (the proxy's)."""
    client = app.test_client()
    statuses = []
    for value in forwarded_for:
        headers = {"X-Forwarded-For": value} if value is not None else {}
        r = client.post("/api/v1/verify", json={"token": "not.a.token"}, headers=headers,
                        environ_base={"REMOTE_ADDR": "10.1.1.1"})
        assert r.status_code == 429 or r.json["outcome"] == "MALFORMED"
        statuses.append(r.status_code)
    return statuses


def _logged(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.text("SELECT count(*) FROM verifications"))


LIMIT = {"VERIFY_RATE_PER_MINUTE": 1, "VERIFY_BURST": 1}


def test_without_trusted_proxies_the_header_is_ignored(app, backend):
    direct = make_test_app(backend[1], **LIMIT)
    try:
        # Each request claims another client, but all come from one address: the second is refused.
        assert _statuses(direct, ["203.0.113.1", "203.0.113.2"]) == [200, 429]
        assert _logged(direct) == 1
    finally:
        with direct.app_context():
            db.engine.dispose()


def test_behind_one_proxy_each_client_has_its_own_limit(app, backend):
    proxied = make_test_app(backend[1], TRUSTED_PROXIES=1, **LIMIT)
    try:
        assert _statuses(proxied, ["203.0.113.1", "203.0.113.2", "203.0.113.1"]) == [200, 200, 429]
        # An address the client wrote in front of the one the proxy appended changes nothing.
        assert _statuses(proxied, ["198.51.100.7, 203.0.113.2"]) == [429]
        # Without the header, the connection's address (the proxy's own) is the client.
        assert _statuses(proxied, [None, None]) == [200, 429]
        assert _logged(proxied) == 3
    finally:
        with proxied.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("value", [-1, 6, "1", 1.5, True])
def test_a_bad_proxy_count_is_refused_at_start_up(value):
    with pytest.raises(SystemExit, match="REGISTRY_TRUSTED_PROXIES must be a whole number from 0 to 5"):
        check_proxies({"TRUSTED_PROXIES": value})
    with pytest.raises(SystemExit, match="REGISTRY_TRUSTED_PROXIES"):
        create_app({"TESTING": True, "ENV_NAME": "test", "TRUSTED_PROXIES": value})


def test_the_environment_variable_sets_it():
    assert from_environment({"REGISTRY_TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
    with pytest.raises(SystemExit, match="REGISTRY_TRUSTED_PROXIES must be"):
        from_environment({"REGISTRY_TRUSTED_PROXIES": "two"})
