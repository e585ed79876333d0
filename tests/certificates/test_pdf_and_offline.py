"""The PDF (A4 landscape, attachment, QR, same bytes), the renderer's refusals, and offline verification by CLI."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import segno

from certificates import render
from certificates.compact import verify_compact_token
from certificates.pdffile import attachment, link_uris, page_sizes
from registry.core.db import db
from tests.conftest import count

from .conftest import day


def test_the_pdf(issuing, app):
    cert = issuing.certificate()
    pdf = issuing.pdf(cert["id"])
    assert issuing.pdf(cert["id"]) == pdf  # downloading twice gives the same bytes
    assert hashlib.sha256(pdf).hexdigest() == cert["pdf_sha256"]
    width, height = page_sizes(pdf)[0]
    assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
    assert attachment(pdf, "credential.vc.jwt").decode() == issuing.credential(cert["id"])
    # The QR links to the verification page with the compact token, and fits version 20 at level M.
    url = next(u for u in link_uris(pdf) if "/verify?t=" in u)
    assert url.startswith("http://registry.test/verify?t=")
    qr = segno.make(url, error="m", boost_error=False)
    assert qr.version <= 20 and qr.error == "M"
    token = parse_qs(urlsplit(url).query)["t"][0]
    trust = issuing.client.get("/api/v1/trust-list").get_json()
    result = verify_compact_token(token, trust, lambda url, index: False)
    assert result.outcome.value == "VALID" and result.payload["n"] == issuing.world.clinician.full_name
    # The QR's link opens the public page, which verifies without script.
    page = issuing.client.get(url.removeprefix("http://registry.test"))
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert ">VALID<" in html.replace("\n", "").replace("  ", "") and "<script" not in html
    assert issuing.world.clinician.full_name in html and "http" not in html.split("<body>")[0].replace(
        "http-equiv", "")


def test_issued_pdfs_never_change_with_the_data(issuing, app):
    from curricula.models import Course
    from registry.people.models import Clinician

    cert = issuing.certificate()
    pdf = issuing.pdf(cert["id"])
    with app.app_context():
        db.session.get(Clinician, issuing.world.clinician.id).family_name = "Renamed"
        db.session.query(Course).one().titles = {"en": "Another title"}
        db.session.commit()
    assert issuing.pdf(cert["id"]) == pdf
    result = issuing.verify_pdf(pdf)
    assert result["outcome"] == "VALID" and result["pdf"]["identical_to_issued"]
    assert "Renamed" not in json.dumps(result)


def test_renderer_refuses_file_and_remote_urls(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    for html in (f'<img src="file://{secret}">', '<img src="http://example.com/x.png">',
                 '<link rel="stylesheet" href="https://example.com/x.css"><p>x</p>',
                 f'<style>@import url("file://{secret}");</style><p>x</p>'):
        with pytest.raises(render.RenderRefused):
            render.html_to_pdf(html)
    assert render.html_to_pdf('<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">').startswith(b"%PDF-")


def test_labels_in_the_issuers_language_and_english(issuing, app):
    snapshot = {"kind": "course_completion", "language": "pt", "credential_id": "urn:uuid:x",
                "verification_code": "AAAA-BBBB-CCCC", "issuer": {"id": "i", "name": "Hub", "member_state": "PT"},
                "holder": {"name": "Maria Silva", "registry_number": "R1"}, "facts": [],
                "valid_from": "2026-01-01", "valid_until": None, "issued_on": "2026-01-02"}
    html = render.certificate_html(snapshot, "http://registry.test/verify?t=abc")
    assert "Certificado de conclusão de curso / Certificate of course completion" in html
    assert "01.01.2026" in html and "sem data de fim / no end date" in html


def test_a_cohort_in_one_call(issuing, app):
    client, world = issuing.client, issuing.world
    r = client.post("/api/v1/hubs/IE-HUB/offerings", headers=world.h("hub_ie"), json={
        "course": "TRAUMA-ITLS", "starts_on": day(-20), "ends_on": day(-15), "language": "en", "place": "Dublin",
        "capacity": 10})
    assert r.status_code == 201, r.get_json()
    offering = r.get_json()["id"]
    people = [world.clinician, world.other_clinician, world.make_clinician("IE")]
    for n, clinician in enumerate(people):
        issuing.complete(f"C-{n}", clinician, offering=offering)
    issuing.complete("C-F", world.make_clinician("IE"), offering=offering, outcome="failed")
    assert client.post(f"/api/v1/offerings/{offering}/certificates", headers=world.h("hub_pt")).status_code == 403
    r = client.post(f"/api/v1/offerings/{offering}/certificates", headers=world.h("hub_ie"))
    assert r.status_code == 201, r.get_json()
    issued = r.get_json()["issued"]
    assert len(issued) == 3  # the failed completion is not certified
    for cert in issued:
        assert issuing.verify_pdf(issuing.pdf(cert["id"], who="hub_ie"))["outcome"] == "VALID"
    # Again: nothing left to issue.
    assert client.post(f"/api/v1/offerings/{offering}/certificates", headers=world.h("hub_ie")).get_json()[
        "issued"] == []
    assert count(app, "certificates") == 3


def test_offline_cli_verifies_a_downloaded_pdf(issuing, app, tmp_path):
    cert = issuing.certificate()
    pdf_path = tmp_path / "certificate.pdf"
    pdf_path.write_bytes(issuing.pdf(cert["id"]))
    trust_path = tmp_path / "trust.json"
    trust_path.write_text(issuing.client.get("/api/v1/trust-list").get_data(as_text=True))
    lists = tmp_path / "lists"
    lists.mkdir()
    token = issuing.credential(cert["id"])
    import jwt as pyjwt

    for n, entry in enumerate(pyjwt.decode(token, options={"verify_signature": False})["credentialStatus"]):
        path = entry["statusListCredential"].removeprefix("http://registry.test")
        (lists / f"list-{n}.vc.jwt").write_text(issuing.client.get(path).get_data(as_text=True))

    from click.testing import CliRunner

    from certificates.cli import verify_command

    runner = CliRunner()
    # No app, no database: the command runs on files alone.
    result = runner.invoke(verify_command, [str(pdf_path), "--trust-list", str(trust_path), "--status-list",
                                            str(lists)])
    assert result.exit_code == 0 and result.output.startswith("VALID"), result.output
    result = runner.invoke(verify_command, [str(pdf_path), "--trust-list", str(trust_path)])
    assert result.exit_code == 1 and result.output.startswith("STATUS_UNKNOWN")
    # The QR token verifies offline too, and a revocation shows once the newer list is downloaded.
    issuing.status(cert["id"], "revoke", reason="error")
    for n, entry in enumerate(pyjwt.decode(token, options={"verify_signature": False})["credentialStatus"]):
        path = entry["statusListCredential"].removeprefix("http://registry.test")
        (lists / f"list-{n}.vc.jwt").write_text(issuing.client.get(path).get_data(as_text=True))
    with app.app_context():
        from certificates.models import Certificate

        qr_token = db.session.get(Certificate, cert["id"]).compact_token
    result = runner.invoke(verify_command, [qr_token, "--trust-list", str(trust_path), "--status-list", str(lists),
                                            "--json"])
    assert result.exit_code == 1 and json.loads(result.output)["outcome"] == "REVOKED"
    # A trust list whose signed content was altered is refused.
    document = json.loads(trust_path.read_text())
    document["jws"] = document["jws"][:-4] + ("AAAA" if not document["jws"].endswith("AAAA") else "BBBB")
    trust_path.write_text(json.dumps(document))
    result = runner.invoke(verify_command, [str(pdf_path), "--trust-list", str(trust_path)])
    assert result.exit_code != 0 and "does not verify" in result.output
