"""Who may issue, change, read and download certificates (403 and nothing written otherwise); corrections;
the clinician's list and standing; the verification rate limit; bad verification input."""

from __future__ import annotations

import pytest

from tests.conftest import audit_count, count, problem

from .conftest import day

ROLES = ["anonymous", "secretariat", "board_ie", "board_fr", "board_pt", "hub_ie", "hub_pt", "clinician",
         "other_clinician"]


def snapshot(app):
    return {t: count(app, t) for t in ("certificates", "issuer_keys", "status_lists", "audit_events",
                                       "verifications")}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_recording_hub_issues_a_completion_certificate(issuing, app, role):
    completion = issuing.complete()
    before = snapshot(app)
    r = issuing.issue_completion(completion, who=role)
    if role == "hub_ie":
        assert r.status_code == 201
        return
    assert r.status_code == (401 if role == "anonymous" else 403)
    problem(r)
    assert snapshot(app) == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_licensing_board_certifies_good_standing(issuing, app, role):
    before = snapshot(app)
    r = issuing.client.post(f"/api/v1/licences/{issuing.world.licence}/good-standing-certificate", json={},
                            headers=issuing.h(role))
    if role == "board_ie":
        assert r.status_code == 201
        return
    assert r.status_code == (401 if role == "anonymous" else 403)
    assert snapshot(app) == before


@pytest.mark.parametrize("role", ROLES)
def test_who_reads_downloads_and_changes(issuing, app, role):
    cert = issuing.certificate()
    before = snapshot(app)
    readers = {"hub_ie", "secretariat", "board_ie", "board_fr", "board_pt", "clinician"}
    expected = 200 if role in readers else (401 if role == "anonymous" else 403)
    for what in ("", "/pdf", "/credential"):
        assert issuing.client.get(f"/api/v1/certificates/{cert['id']}{what}",
                                  headers=issuing.h(role)).status_code == expected
    r = issuing.status(cert["id"], "suspend", who=role)
    assert r.status_code == (200 if role == "hub_ie" else 401 if role == "anonymous" else 403)
    if role != "hub_ie":
        assert snapshot(app) == before


def test_a_hub_issues_only_its_own_completions(issuing, app):
    pt_completion = issuing.complete("PT-1", who="hub_pt", hub="PT-HUB")
    before = snapshot(app)
    assert issuing.issue_completion(pt_completion, who="hub_ie").status_code == 403
    assert snapshot(app) == before
    assert issuing.issue_completion(pt_completion, who="hub_pt").status_code == 201


def test_only_passed_current_completions_are_certified(issuing, app):
    failed = issuing.complete("F-1", outcome="failed")
    assert issuing.issue_completion(failed).status_code == 409
    completion = issuing.complete("W-1")
    issuing.client.post(f"/api/v1/completions/{completion}/withdrawal", json={"reason": "x"},
                        headers=issuing.h("hub_ie"))
    assert issuing.issue_completion(completion).status_code == 409
    assert count(app, "certificates") == 0


def test_a_correction_links_to_and_revokes_the_old_one(issuing, app):
    cert = issuing.certificate()
    old_token = issuing.credential(cert["id"])
    assert issuing.client.post(f"/api/v1/certificates/{cert['id']}/reissue", json={"reason": "typo"},
                               headers=issuing.h("hub_pt")).status_code == 403
    r = issuing.client.post(f"/api/v1/certificates/{cert['id']}/reissue", json={"reason": "name corrected"},
                            headers=issuing.h("hub_ie"))
    assert r.status_code == 201, r.get_json()
    new = r.get_json()
    assert new["replaces"] == cert["credential_id"] and new["credential_id"] != cert["credential_id"]
    assert issuing.verify(token=old_token)["outcome"] == "REVOKED"
    assert issuing.verify(token=issuing.credential(new["id"]))["outcome"] == "VALID"
    assert issuing.client.post(f"/api/v1/certificates/{cert['id']}/reissue", json={"reason": "again"},
                               headers=issuing.h("hub_ie")).status_code == 409
    assert issuing.issue_completion(cert["completion_id"]).status_code == 409


def test_clinicians_list_their_certificates_and_standing_shows_them(issuing, app):
    cert = issuing.certificate()
    number = issuing.world.clinician.registry_number
    mine = issuing.client.get("/api/v1/me/certificates", headers=issuing.h("clinician")).get_json()
    assert [c["id"] for c in mine] == [cert["id"]] and mine[0]["links"]["pdf"].endswith("/pdf")
    assert issuing.client.get("/api/v1/me/certificates", headers=issuing.h("other_clinician")).get_json() == []
    assert issuing.client.get(f"/api/v1/clinicians/{number}/certificates",
                              headers=issuing.h("other_clinician")).status_code == 403
    issuing.status(cert["id"], "suspend")
    standing = issuing.client.get(f"/api/v1/clinicians/{number}/standing", headers=issuing.h("board_fr")).get_json()
    assert [(c["id"], c["status"]) for c in standing["certificates"]] == [(cert["id"], "suspended")]


def test_verification_is_rate_limited_per_client(issuing, app):
    cert = issuing.certificate()
    app.config.update(VERIFY_RATE_PER_MINUTE=6, VERIFY_BURST=2)
    app.extensions.pop("certificates_verify_limiter", None)
    try:
        for _ in range(2):
            issuing.verify(code=cert["verification_code"])
        before = count(app, "verifications")
        r = issuing.client.post("/api/v1/verify", json={"code": cert["verification_code"]})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert problem(r)["type"].endswith("/rate-limited")
        page = issuing.client.get(f"/verify?code={cert['verification_code']}")
        assert page.status_code == 429 and "Retry-After" in page.headers
        assert count(app, "verifications") == before
        other = issuing.client.post("/api/v1/verify", json={"code": cert["verification_code"]},
                                    environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert other.status_code == 200
    finally:
        app.config.pop("VERIFY_RATE_PER_MINUTE")
        app.config.pop("VERIFY_BURST")
        app.extensions.pop("certificates_verify_limiter", None)


@pytest.mark.parametrize("body, status, field", [
    ({}, 422, "token"),
    ({"token": "a", "code": "b"}, 422, "token"),
    ({"code": "not a code"}, 422, "code"),
    ({"code": "0000-0000-0000", "extra": 1}, 422, "extra"),
])
def test_bad_verification_input(issuing, app, body, status, field):
    before = audit_count(app)
    r = issuing.client.post("/api/v1/verify", json=body)
    assert r.status_code == status
    assert field in problem(r)["errors"]
    assert audit_count(app) == before and count(app, "verifications") == 0


def test_verification_media_types_and_unknown_codes(issuing, app):
    r = issuing.client.post("/api/v1/verify", data="token=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415
    assert issuing.client.post("/api/v1/verify", data=b"{", content_type="application/json").status_code == 400
    r = issuing.client.post("/api/v1/verify", json={"code": "AAAA-AAAA-AAA1"})
    assert r.status_code in (404, 422)
    assert issuing.verify(token="not a token")["outcome"] == "MALFORMED"
    page = issuing.client.get("/verify?t=garbage")
    assert page.status_code == 200 and "MALFORMED" in page.get_data(as_text=True)
    assert issuing.client.get("/verify").status_code == 200


def test_recognition_certificate_needs_a_granted_recognition_and_the_host_board(issuing, app):
    from .test_cascades import granted_recognition

    recognition = granted_recognition(issuing)
    before = snapshot(app)
    for role in ("board_ie", "board_fr", "hub_ie", "clinician"):
        assert issuing.client.post(f"/api/v1/recognitions/{recognition}/certificate",
                                   headers=issuing.h(role)).status_code == 403
    assert snapshot(app) == before
    r = issuing.client.post(f"/api/v1/recognitions/{recognition}/certificate", headers=issuing.h("board_pt"))
    assert r.status_code == 201
    assert issuing.client.post(f"/api/v1/recognitions/{recognition}/certificate",
                               headers=issuing.h("board_pt")).status_code == 409
    assert day(0)


def test_the_issuer_and_the_clinician_download_the_same_bytes(issuing):
    """The issuing hub's officers are answered from one prepared read; the clinician through the full check."""
    import hashlib

    cert = issuing.certificate()
    by_hub = issuing.client.get(f"/api/v1/certificates/{cert['id']}/pdf", headers=issuing.h("hub_ie"))
    by_clinician = issuing.client.get(f"/api/v1/certificates/{cert['id']}/pdf", headers=issuing.h("clinician"))
    assert by_hub.status_code == by_clinician.status_code == 200
    assert by_hub.get_data() == by_clinician.get_data() and by_hub.get_data().startswith(b"%PDF-")
    digest = hashlib.sha256(by_hub.get_data()).hexdigest()
    assert by_hub.headers["ETag"] == by_clinician.headers["ETag"] == f'"{digest}"'
    assert by_hub.headers["Content-Disposition"] == by_clinician.headers["Content-Disposition"]
    missing = issuing.client.get(f"/api/v1/certificates/{cert['id'] + 1000}/pdf", headers=issuing.h("hub_ie"))
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
