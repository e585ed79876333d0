"""DOMAIN.md "Certificates": a revoked licence revokes its good-standing certificates (the suspension case is in
test_cascades.py), observed through POST /api/v1/verify by token and by code."""

from __future__ import annotations

from tests.conftest import count

from .conftest import day


def good_standing(issuing, licence_id: int, who: str = "board_ie") -> dict:
    r = issuing.client.post(f"/api/v1/licences/{licence_id}/good-standing-certificate", json={},
                            headers=issuing.h(who))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def decide(issuing, licence_id: int, who: str = "board_ie", **body):
    r = issuing.client.post(f"/api/v1/licences/{licence_id}/events", json=body, headers=issuing.h(who))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_licence_revocation_revokes_its_good_standing_certificate(issuing, app):
    world = issuing.world
    cert = good_standing(issuing, world.licence)
    token = issuing.credential(cert["id"])
    assert issuing.verify(token=token)["outcome"] == "VALID"
    assert issuing.verify(code=cert["verification_code"])["outcome"] == "VALID"

    decide(issuing, world.licence, action="revoke", decided_on=day(0), reason="struck off the register")

    assert issuing.verify(token=token)["outcome"] == "REVOKED"
    by_code = issuing.verify(who="board_fr", code=cert["verification_code"])
    assert by_code["outcome"] == "REVOKED" and by_code["valid"] is False
    item = issuing.client.get(f"/api/v1/certificates/{cert['id']}", headers=issuing.h("clinician")).get_json()
    assert item["status"] == "revoked" and item["revoked_at"]
    assert item["revocation_reason"] == "licence revoke: struck off the register"
    # Each verification was logged with its outcome.
    outcomes = [v["outcome"] for v in issuing.client.get("/api/v1/me/verifications",
                                                        headers=issuing.h("clinician")).get_json()]
    assert outcomes == ["REVOKED", "REVOKED", "VALID", "VALID"]
    # Revoked is final: no new good standing, today or later, and nothing written trying.
    before = count(app, "certificates")
    for on in (day(0), day(30)):
        r = issuing.client.post(f"/api/v1/licences/{world.licence}/good-standing-certificate", json={"on": on},
                                headers=issuing.h("board_ie"))
        assert r.status_code == 409, r.get_json()
    assert count(app, "certificates") == before


def test_revoking_a_suspended_licence_keeps_the_suspensions_revocation(issuing):
    """The suspension already revoked the certificate; the revocation then finds nothing left to revoke and
    succeeds (no 409 for an already revoked certificate), and the certificate keeps its first reason."""
    world = issuing.world
    cert = good_standing(issuing, world.licence)
    token = issuing.credential(cert["id"])
    decide(issuing, world.licence, action="suspend", decided_on=day(-1), reason="inquiry")
    assert issuing.verify(token=token)["outcome"] == "REVOKED"
    decide(issuing, world.licence, action="revoke", decided_on=day(0), reason="struck off")
    assert issuing.verify(token=token)["outcome"] == "REVOKED"
    item = issuing.client.get(f"/api/v1/certificates/{cert['id']}", headers=issuing.h("board_ie")).get_json()
    assert item["revocation_reason"] == "licence suspend: inquiry"


def test_a_revocation_leaves_the_good_standing_of_another_licence_valid(issuing):
    world = issuing.world
    fr_licence = world.make_licence(world.clinician, "FR-B", number="FR-2221-0042")
    ie_cert, fr_cert = good_standing(issuing, world.licence), good_standing(issuing, fr_licence, who="board_fr")
    decide(issuing, world.licence, action="revoke", decided_on=day(0), reason="struck off")
    assert issuing.verify(token=issuing.credential(ie_cert["id"]))["outcome"] == "REVOKED"
    assert issuing.verify(token=issuing.credential(fr_cert["id"]))["outcome"] == "VALID"
    assert issuing.verify(code=fr_cert["verification_code"])["outcome"] == "VALID"
