"""The cascades of DOMAIN.md flip status bits in the transaction of their cause, observed through /api/v1/verify."""

from __future__ import annotations

from .conftest import day


def granted_recognition(issuing) -> int:
    client, world = issuing.client, issuing.world
    r = client.post("/api/v1/agreements", headers=world.h("secretariat"), json={
        "code": "IE-PT-NURSING", "title": "Nursing recognition", "states": ["IE", "PT"], "professions": ["2221"],
        "in_force_from": day(-400), "validity_months": 36, "decision_deadline_days": 30})
    assert r.status_code == 201, r.get_json()
    r = client.post("/api/v1/recognitions", headers=world.h("clinician"),
                    json={"licence_id": world.licence, "host_state": "PT"})
    assert r.status_code == 201, r.get_json()
    recognition = r.get_json()["id"]
    r = client.post(f"/api/v1/recognitions/{recognition}/decision", headers=world.h("board_pt"),
                    json={"decision": "grant"})
    assert r.status_code == 200, r.get_json()
    return recognition


def test_withdrawn_completion_revokes_its_certificate(issuing):
    cert = issuing.certificate()
    token = issuing.credential(cert["id"])
    assert issuing.verify(token=token)["outcome"] == "VALID"
    r = issuing.client.post(f"/api/v1/completions/{cert['completion_id']}/withdrawal",
                            json={"reason": "assessment found to be invalid"}, headers=issuing.h("hub_ie"))
    assert r.status_code == 200, r.get_json()
    assert issuing.verify(token=token)["outcome"] == "REVOKED"
    item = issuing.client.get(f"/api/v1/certificates/{cert['id']}", headers=issuing.h("clinician")).get_json()
    assert item["status"] == "revoked" and "withdrawn" in item["revocation_reason"]


def test_home_licence_suspension_suspends_the_recognition_certificate(issuing):
    client, world = issuing.client, issuing.world
    recognition = granted_recognition(issuing)
    assert client.post(f"/api/v1/recognitions/{recognition}/certificate",
                       headers=world.h("board_fr")).status_code == 403  # not the host state
    r = client.post(f"/api/v1/recognitions/{recognition}/certificate", headers=world.h("board_pt"))
    assert r.status_code == 201, r.get_json()
    cert = r.get_json()
    assert cert["kind"] == "recognition" and cert["issuer"] == "PT-B"
    token = issuing.credential(cert["id"])
    assert issuing.verify(token=token)["outcome"] == "VALID"

    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                    json={"action": "suspend", "decided_on": day(0), "reason": "inquiry"})
    assert r.status_code == 201, r.get_json()
    assert issuing.verify(token=token)["outcome"] == "SUSPENDED"
    # The issuing board cannot lift a suspension the recognition's own suspension imposed.
    r = client.post(f"/api/v1/certificates/{cert['id']}/status", headers=world.h("board_pt"),
                    json={"action": "unsuspend", "reason": "lifted by hand"})
    assert r.status_code == 409, r.get_json()
    assert "reinstated" in r.get_json()["detail"]
    assert issuing.verify(token=token)["outcome"] == "SUSPENDED"

    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                    json={"action": "reinstate", "decided_on": day(0), "reason": "cleared"})
    assert r.status_code == 201, r.get_json()
    assert issuing.verify(token=token)["outcome"] == "VALID"

    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                    json={"action": "revoke", "decided_on": day(0), "reason": "struck off"})
    assert r.status_code == 201, r.get_json()
    assert issuing.verify(token=token)["outcome"] == "REVOKED"


def test_licence_measures_revoke_good_standing(issuing, app):
    from tests.conftest import count

    client, world = issuing.client, issuing.world
    r = client.post(f"/api/v1/licences/{world.licence}/good-standing-certificate", json={},
                    headers=world.h("board_ie"))
    assert r.status_code == 201, r.get_json()
    cert = r.get_json()
    assert cert["kind"] == "good_standing"
    token = issuing.credential(cert["id"])
    assert issuing.verify(token=token)["outcome"] == "VALID"
    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                    json={"action": "restrict", "decided_on": day(0), "reason": "review",
                          "scope": "no night shifts"})
    assert r.status_code == 201, r.get_json()
    assert issuing.verify(token=token)["outcome"] == "REVOKED"
    # Restricted: no new good standing either, today or for a later date (a future date is certified from the
    # decisions recorded so far, and the certificate is NOT_YET_VALID until then).
    before = count(app, "certificates")
    for on in (day(0), day(1)):
        r = client.post(f"/api/v1/licences/{world.licence}/good-standing-certificate", json={"on": on},
                        headers=world.h("board_ie"))
        assert r.status_code == 409, r.get_json()
    assert count(app, "certificates") == before


def test_no_good_standing_for_a_date_before_a_later_suspension(issuing, app):
    """The suspension revoked the licence's good-standing certificates; none certifying an earlier date may be
    issued or re-issued after it (one would verify VALID for three months while the licence is suspended)."""
    from tests.conftest import count

    client, world = issuing.client, issuing.world
    r = client.post(f"/api/v1/licences/{world.licence}/good-standing-certificate", json={"on": day(-5)},
                    headers=world.h("board_ie"))
    assert r.status_code == 201, r.get_json()
    first = r.get_json()
    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                    json={"action": "suspend", "decided_on": day(-2), "reason": "inquiry"})
    assert r.status_code == 201, r.get_json()
    assert issuing.verify(token=issuing.credential(first["id"]))["outcome"] == "REVOKED"
    before = count(app, "certificates")
    for on in (day(-5), day(-3)):
        r = client.post(f"/api/v1/licences/{world.licence}/good-standing-certificate", json={"on": on},
                        headers=world.h("board_ie"))
        assert r.status_code == 409, r.get_json()
        assert "suspended with effect from" in r.get_json()["detail"]
    r = client.post(f"/api/v1/certificates/{first['id']}/reissue", json={"reason": "typo in the name"},
                    headers=world.h("board_ie"))
    assert r.status_code == 409, r.get_json()
    assert count(app, "certificates") == before
    # Reinstated: good standing from then on is certified again.
    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                    json={"action": "reinstate", "decided_on": day(0), "reason": "cleared"})
    assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/v1/licences/{world.licence}/good-standing-certificate", json={"on": day(0)},
                    headers=world.h("board_ie"))
    assert r.status_code == 201, r.get_json()
    assert issuing.verify(token=issuing.credential(r.get_json()["id"]))["outcome"] == "VALID"


def test_a_failed_cascade_leaves_nothing_half_done(issuing, app, monkeypatch):
    """The bit flip runs in the withdrawal's transaction: if the cascade fails, the withdrawal is undone too."""
    from certificates import services
    from tests.conftest import count

    cert = issuing.certificate()
    token = issuing.credential(cert["id"])

    def broken(*args, **kwargs):
        raise services.Conflict("status list unavailable")

    monkeypatch.setattr(services, "revoke", broken)
    r = issuing.client.post(f"/api/v1/completions/{cert['completion_id']}/withdrawal",
                            json={"reason": "mistake"}, headers=issuing.h("hub_ie"))
    assert r.status_code == 409
    monkeypatch.undo()
    completion = issuing.client.get(f"/api/v1/completions/{cert['completion_id']}",
                                    headers=issuing.h("hub_ie")).get_json()
    assert completion["status"] == "current"
    assert issuing.verify(token=token)["outcome"] == "VALID"
    assert count(app, "certificates") == 1
