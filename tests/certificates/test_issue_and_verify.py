"""Issuing a completion certificate through the API and verifying it every way a user would."""

from __future__ import annotations

from certificates.codes import is_valid_code
from tests.conftest import audit_count, count, problem


def test_issue_download_and_verify(issuing, app):
    cert = issuing.certificate()
    assert cert["kind"] == "course_completion" and cert["status"] == "active" and cert["issuer"] == "IE-HUB"
    assert is_valid_code(cert["verification_code"]) and len(cert["pdf_sha256"]) == 64
    token = issuing.credential(cert["id"])
    result = issuing.verify(token=token)
    assert result["outcome"] == "VALID", result
    assert [s["name"] for s in result["steps"]] == ["format", "issuer", "key", "signature", "claims", "dates",
                                                   "status"]
    assert result["data"]["subject"]["course"]["code"] == "TRAUMA-ITLS"
    assert issuing.verify(code=cert["verification_code"].lower().replace("-", " "))["outcome"] == "VALID"
    pdf = issuing.pdf(cert["id"])
    result = issuing.verify_pdf(pdf)
    assert result["outcome"] == "VALID" and result["pdf"] == {"identical_to_issued": True}


def test_issued_once(issuing, app):
    completion = issuing.complete()
    assert issuing.issue_completion(completion).status_code == 201
    before = audit_count(app)
    r = issuing.issue_completion(completion)
    assert r.status_code == 409
    assert problem(r)["existing_id"]
    assert audit_count(app) == before and count(app, "certificates") == 1
